"""HTML/CSS(/JS) -> screenshot with Debian Chromium through Playwright (sync API; one owner thread).

One long-lived browser, one recycled page (warm page ~50 ms vs a cold browser 1.7 s). The viewport is the requested
size and the screenshot is of the viewport, not the full page. Network: every request except `data:` is aborted,
and under bubblewrap Chromium runs in its own empty network namespace (route-abort alone leaks prefetch, beacons,
WebSocket, WebRTC) and sees only /usr, /lib*, fonts and a private /tmp, so `file:///...` reaches nothing.
Playwright talks to it over a pipe, so no network is needed. A JS infinite loop ends in `timeout`; the page (or the
browser) is then recreated for the next sample. JavaScript is on by default (plotly/mermaid); html_javascript=False
turns it off for HTML pages (plotly figures always get it).

CDN resources: a request for a framework, icon font or web font on a CDN host is answered from the offline mirror
(cdn_mirror.py) through Playwright's request interception: the bytes come from the mirror folder in this process,
Chromium still has no network. The screenshot waits for web fonts still loading (from the mirror or data: URLs) and,
when the page used the mirror, two more frames (the Tailwind Play CDN builds its stylesheet from the DOM); animations
and CSS transitions that end are then finished (the settled page, whatever the timing). Every request neither `data:`
nor mirrored is aborted and listed in the result: extra["missing_resources"] (also extra["cdn_served"], extra["cdn_substituted"]).

Library pages: plotly figures (from python code) and mermaid diagrams are drawn on dedicated pages that load their
JS bundle once (plotly.js from the `plotly` package; no CDN, no kaleido); each sample is one page.evaluate() call with
the figure/diagram passed as data, never as code. page.evaluate() has no timeout of its own, so a watchdog thread
SIGKILLs the browser (through the pid its launcher script recorded) when a sample overruns; it is restarted lazily.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import shlex
import signal
import tempfile
import threading
import time

from vinci_rl.render import sandbox
from vinci_rl.render.config import RenderConfig
from vinci_rl.render.raster import finish, png_to_rgb, resize_exact
from vinci_rl.render.result import PARSE_ERROR, RENDERER_CRASH, RESOURCE_LIMIT, TIMEOUT, RenderResult

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--disable-extensions",
    "--disable-default-apps", "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp", "--disable-features=NetworkPrediction,Prefetch",
    "--js-flags=--max-old-space-size=1024",  # a JS memory bomb crashes its tab at 1 GiB (Chromium ignores RLIMIT_AS)
]
LIBRARY_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>html,body{margin:0;padding:0;background:#fff;overflow:hidden}</style></head>
<body><div id="plot"></div><script>%s</script></body></html>"""
WATCHDOG_SLACK_S = 2.0
MAX_LISTED = 20  # missing resources / substitutions listed per render (the count is always exact)
# Before the screenshot: web fonts still loading are awaited, then two frames (also after any mirrored resource: the
# Tailwind Play CDN builds its stylesheet from the DOM). Then every animation or CSS transition that ends is finished:
# the picture is the settled page the author looked at, not a frame of a fade-in or of the transition Bootstrap's
# `.btn` runs when its stylesheet arrives after the first style pass (which frame was caught depended on timing).
# Endless animations (spinners) are left where they are.
SETTLE_JS = """async (mirrored) => {
  if (mirrored || document.fonts.status !== 'loaded') {
    await document.fonts.ready;
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  }
  for (const a of document.getAnimations()) {
    if (a.effect && Number.isFinite(a.effect.getComputedTiming().endTime)) a.finish();
  }
}"""
PLOTLY_DRAW = """async ([fig, w, h]) => {
  const div = document.getElementById('plot');
  div.style.width = w + 'px'; div.style.height = h + 'px';
  const layout = Object.assign({}, fig.layout || {}, {width: w, height: h, autosize: false});
  await Plotly.react(div, fig.data || [], layout, {staticPlot: true, displayModeBar: false});
}"""


class HtmlBackend:
    """Owns one Chromium (inside bubblewrap when available), one HTML page and one page per JS library.
    Single-threaded (the watchdog thread only ever sends a signal)."""

    def __init__(self, config: RenderConfig, mode: str, backends=None):
        self.config, self.mode = config, mode
        self.dir = tempfile.mkdtemp(prefix="vinci-html-")
        self._pw = self._browser = None
        self._pages: dict[str, object] = {}  # "html" | library name -> page (each in its own context)
        self._cdp: dict[str, object] = {}  # same keys -> CDP session of that page (fast screenshots)
        self._mirror = None  # the CDN mirror, loaded on the first page that asks for a resource
        self._requests = _RequestLog()

    # ------------------------------------------------------------ public

    def render(self, code: str, size: tuple[int, int]) -> RenderResult:
        return self._shoot("html", None, size, lambda page, ms: _load_fresh(page, code, ms))

    def render_full_page(self, code: str, size: tuple[int, int]) -> RenderResult:
        """The whole page, like Playwright's full_page screenshot: the viewport is `size`, the picture is the
        document's content size (at least the viewport; height capped at max_pixels), at that size (not resized)."""
        return self._shoot("html", None, size, lambda page, ms: _load_fresh(page, code, ms), full_page=True)

    def render_plotly(self, fig_json: str, size: tuple[int, int]) -> RenderResult:
        """Draw a plotly figure given as JSON (validated here: it is passed to the page as data, never as code)."""
        try:
            fig = json.loads(fig_json)
        except ValueError as e:
            return RenderResult(PARSE_ERROR, None, f"plotly figure is not JSON: {e}")
        if not isinstance(fig, dict):
            return RenderResult(PARSE_ERROR, None, "plotly figure JSON is not an object")
        return self.render_library("plotly", _plotly_js, PLOTLY_DRAW, fig, size)

    def render_library(self, name: str, load_script, draw_js: str, arg, size: tuple[int, int]) -> RenderResult:
        """Draw `arg` with `draw_js` (an async JS function of [arg, w, h]) on the page of library `name`, whose
        script `load_script()` is inlined once. A JS exception is parse_error; an overrun is timeout."""
        draw = lambda page, ms: self._guarded(lambda: page.evaluate(draw_js, [arg, size[0], size[1]]), ms)  # noqa: E731
        return self._shoot(name, load_script, size, draw)

    def close(self) -> None:
        import shutil

        try:
            self._stop_browser()
            if self._pw is not None:
                self._pw = None
                _release_playwright()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ one render

    def _shoot(self, kind: str, load_script, size: tuple[int, int], load, full_page: bool = False) -> RenderResult:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        t0 = time.monotonic()
        self._timed_out = False
        self._requests = log = _RequestLog()
        try:
            page = self._page(kind, load_script)  # (re)starting the browser or a library page is not charged
            deadline = time.monotonic() + self.config.timeout_for("html")
            page.set_viewport_size({"width": size[0], "height": size[1]})
            load(page, _ms_left(deadline))
            if kind == "html":
                self._guarded(lambda: page.evaluate(SETTLE_JS, log.served > 0), _ms_left(deadline))
            png = self._screenshot(kind, _ms_left(deadline), self._content_clip(kind, size) if full_page else None)
        except PlaywrightTimeout:
            self._drop_page(kind)
            return RenderResult(TIMEOUT, None, "page ran past its time budget", time.monotonic() - t0)
        except PlaywrightError as e:  # a JS exception, a crashed tab, a dead browser or the watchdog's kill
            alive = self._browser_alive()
            self._drop_page(kind, broken=self._timed_out or not alive)
            status = TIMEOUT if self._timed_out else (PARSE_ERROR if alive else RENDERER_CRASH)
            if alive and "crashed" in str(e):  # the tab died; in practice the JS heap cap (a memory bomb)
                status = RESOURCE_LIMIT
            return RenderResult(status, None, str(e)[:500], time.monotonic() - t0)
        image = png_to_rgb(png, self.config.max_pixels)
        image = image if full_page else resize_exact(image, size)
        return finish(image, time.monotonic() - t0, **log.extra())

    def _screenshot(self, kind: str, ms: float, clip: dict | None = None) -> bytes:
        """PNG of the viewport (or of `clip`, beyond the viewport) straight from CDP (16 ms vs 32-41 ms for
        page.screenshot, which adds waits and style injections); CDP calls have no timeout of their own, hence the
        watchdog."""
        params = {"format": "png"} if clip is None else {"format": "png", "clip": clip, "captureBeyondViewport": True}
        reply = self._guarded(lambda: self._cdp[kind].send("Page.captureScreenshot", params), ms)
        return base64.b64decode(reply["data"])

    def _content_clip(self, kind: str, size: tuple[int, int]) -> dict:
        """The document's content box (at least the viewport), as a CDP clip, height capped at max_pixels."""
        metrics = self._cdp[kind].send("Page.getLayoutMetrics")["cssContentSize"]
        width = max(size[0], int(math.ceil(metrics["width"])))
        height = max(size[1], min(int(math.ceil(metrics["height"])), self.config.max_pixels // width))
        return {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}

    def _guarded(self, call, ms: float):
        """Run a Playwright/CDP call that has no timeout of its own; past `ms` (+ slack) the browser is SIGKILLed."""
        timer = threading.Timer(ms / 1000 + WATCHDOG_SLACK_S, self._kill_browser_process)
        timer.start()
        try:
            return call()
        finally:
            timer.cancel()

    def _kill_browser_process(self) -> None:
        """Watchdog thread: SIGKILL the browser's launcher process (bwrap takes Chromium down with it)."""
        self._timed_out = True
        try:
            with open(os.path.join(self.dir, "browser.pid")) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass

    # ------------------------------------------------------------ browser and pages

    def _page(self, kind: str, load_script):
        page = self._pages.get(kind)
        if page is not None and not page.is_closed():
            return page
        if not self._browser_alive():
            self._start_browser()
        js = self.config.html_javascript or kind != "html"
        context = self._browser.new_context(java_script_enabled=js, device_scale_factor=1, service_workers="block",
                                            accept_downloads=False, viewport={"width": 64, "height": 64})
        context.route("**/*", self._route_request if kind == "html" else _data_urls_only)
        page = context.new_page()
        self._cdp[kind] = context.new_cdp_session(page)
        if load_script is not None:
            page.set_content(LIBRARY_PAGE % load_script().replace("</script", "<\\/script"), timeout=60_000)
        self._pages[kind] = page
        return page

    def _route_request(self, route) -> None:
        """HTML pages: data: URLs load, CDN URLs the mirror knows are answered from it, everything else is aborted
        and listed as missing."""
        url = route.request.url
        if url.startswith("data:"):
            route.continue_()
            return
        try:
            served = self._mirror_for().resolve(url)
        except Exception as e:  # an unreadable mirror file: the resource is missing, the render goes on
            served, url = None, f"{url} (mirror error: {type(e).__name__})"
        log = self._requests
        if served is None:
            log.missing.append(url[:300])
            route.abort()
            return
        log.served += 1
        if served.substituted and served.substituted not in log.substituted:
            log.substituted.append(served.substituted)
        if served.missing:
            log.missing.extend(f"{url[:200]} (font family {f!r})" for f in served.missing)
        route.fulfill(status=200, body=served.body, headers={
            "content-type": served.content_type, "access-control-allow-origin": "*", "cache-control": "max-age=86400"})

    def _mirror_for(self):
        if self._mirror is None:
            from vinci_rl.render.cdn_mirror import Mirror

            where = self.config.cdn_mirror
            self._mirror = Mirror(None if where == "" else where, enabled=where != "off")
        return self._mirror

    def _drop_page(self, kind: str, broken: bool = False) -> None:
        """Forget a page after a failure; close its context, or restart the whole browser if that fails too."""
        page = self._pages.pop(kind, None)
        self._cdp.pop(kind, None)
        if page is None or broken:
            if broken:
                self._stop_browser()
            return
        try:
            page.context.close()
        except Exception:  # a context that will not close means a wedged browser: restart it
            self._stop_browser()

    def _browser_alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def _start_browser(self) -> None:
        if self._pw is None:
            self._pw = _acquire_playwright()
        env = sandbox.scrubbed_env(home="/tmp", extra={"XDG_CONFIG_HOME": "/tmp/.config", "XDG_CACHE_HOME": "/tmp/.cache"})
        if self.mode != sandbox.BWRAP:
            env.update(HOME=self.dir, TMPDIR=self.dir, XDG_CONFIG_HOME=self.dir, XDG_CACHE_HOME=self.dir)
        self._browser = self._pw.chromium.launch(executable_path=self._launcher(), args=CHROMIUM_ARGS, headless=True,
                                                 env=env, timeout=60_000, chromium_sandbox=False)

    def _stop_browser(self) -> None:
        self._pages.clear()
        self._cdp.clear()
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                browser.close()
            except Exception:  # already dead; the driver reaps it
                pass

    def _launcher(self) -> str:
        """The executable Playwright starts: a script that records its pid (for the watchdog), then execs Chromium,
        inside bubblewrap (no network, private /tmp, system trees only) when the sandbox mode is bwrap."""
        path = os.path.join(self.dir, "chromium-launcher.sh")
        if not os.path.exists(path):
            real = self.config.chromium_path
            if real == "/usr/bin/chromium" and os.path.exists("/usr/lib/chromium/chromium"):
                real = "/usr/lib/chromium/chromium"  # the binary itself, not Debian's wrapper script
            argv = [real]
            if self.mode == sandbox.BWRAP:
                extra_ro = [p for p in ("/etc/chromium", "/usr/share/fonts") if os.path.exists(p)]
                argv = sandbox.bwrap_argv(ro=extra_ro, tmp_mb=1024) + argv
            pidfile = shlex.quote(os.path.join(self.dir, "browser.pid"))
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\necho $$ > {pidfile}\nexec " + " ".join(shlex.quote(a) for a in argv) + ' "$@"\n')
            os.chmod(path, 0o755)
        return path


# One Playwright driver per thread, shared by every HtmlBackend of that thread (the sync API allows one per thread
# and must stay on the thread that created it); each backend still has its own browser. A reward worker renders on
# its own thread while another thread of the process may hold a backend: each gets its own driver.
_pw = threading.local()


def _acquire_playwright():
    if getattr(_pw, "driver", None) is None:
        from playwright.sync_api import sync_playwright

        _pw.driver, _pw.users = sync_playwright().start(), 0
    _pw.users += 1
    return _pw.driver


def _release_playwright() -> None:
    """Called on the thread that acquired it (a backend closed elsewhere leaves that thread's driver to exit)."""
    if getattr(_pw, "driver", None) is None:
        return
    _pw.users -= 1
    if _pw.users == 0:
        driver, _pw.driver = _pw.driver, None
        driver.stop()


def _load_fresh(page, code: str, ms: float) -> None:
    """A new document for every sample: navigating away ends the previous sample's timers, workers and listeners
    (document.write into the old document would let them draw over this sample)."""
    page.goto("about:blank", timeout=ms, wait_until="commit")
    page.set_content(code, timeout=ms, wait_until="load")


class _RequestLog:
    """What one render's page asked for beyond data: URLs."""

    def __init__(self):
        self.served = 0
        self.missing: list[str] = []
        self.substituted: list[str] = []

    def extra(self) -> dict:
        out = {}
        if self.missing:
            out["missing_resources"] = self.missing[:MAX_LISTED]
        if self.served:
            out["cdn_served"] = self.served
        if self.substituted:
            out["cdn_substituted"] = self.substituted[:MAX_LISTED]
        return out


def _data_urls_only(route) -> None:
    if route.request.url.startswith("data:"):
        route.continue_()
    else:
        route.abort()


def _ms_left(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


_PLOTLY_JS: str | None = None


def _plotly_js() -> str:
    global _PLOTLY_JS
    if _PLOTLY_JS is None:
        import plotly

        with io.open(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js"), encoding="utf-8") as f:
            _PLOTLY_JS = f.read()
    return _PLOTLY_JS
