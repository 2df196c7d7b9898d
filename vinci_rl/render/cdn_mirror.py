"""An offline mirror of the front-end frameworks and web fonts HTML pages load from CDNs.

Pages written for the web load Tailwind, Bootstrap, Font Awesome, Google Fonts, Chart.js, jQuery... from CDN hosts.
The HTML renderer has no network (its Chromium runs in an empty network namespace and every request is intercepted),
so without a mirror such a page renders unstyled and a correct answer scores as a wrong one. This module:

- PACKAGES: the npm packages mirrored (exact versions), which of their files are kept, and their cdnjs names.
  `install(dest)` fetches them with `npm pack` (launch/install.sh runs `python -m vinci_rl.render.cdn_mirror install`
  into `<venv>/share/vinci-rl/cdn`), keeps the listed files, and writes `manifest.json`.
- `Mirror.resolve(url)`: a CDN URL -> the local file that answers it, for the URL shapes pages use: jsDelivr
  (`cdn.jsdelivr.net/npm/PKG@VER/PATH`), unpkg, cdnjs (`cdnjs.cloudflare.com/ajax/libs/LIB/VER/PATH`),
  BootstrapCDN (stackpath / maxcdn / netdna), code.jquery.com, cdn.tailwindcss.com (the v3 Play CDN, `?plugins=`),
  use.fontawesome.com, kit.fontawesome.com, d3js.org, cdn.plot.ly; and Google Fonts (`fonts.googleapis.com/css`,
  `/css2`): a stylesheet generated from the mirrored Fontsource packages (the same font files Google serves; Latin
  and Latin Extended subsets) and, for Noto Sans/Serif SC/TC/JP/KR, the installed Noto CJK fonts.
- Versions: the exact version when it is mirrored; otherwise the mirrored release of the same major version (the
  substitution is reported); a version or package not mirrored is not served. Paths never leave the package folder.

The renderer reports what the mirror could not serve in the result (`extra["missing_resources"]`).
To add a package: append a Package to PACKAGES (or a family to GOOGLE_FONTS) and run `make install`.
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

MIRROR_HOST = "https://fonts.gstatic.com/vinci-mirror/"  # where generated font CSS points (served by the mirror)
FONTSOURCE_MAJOR = "5"
CONTENT_TYPES = {
    ".css": "text/css", ".js": "application/javascript", ".mjs": "application/javascript", ".json": "application/json",
    ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf", ".svg": "image/svg+xml",
    ".eot": "application/vnd.ms-fontobject", ".map": "application/json",
}


@dataclass(frozen=True)
class Package:
    npm: str  # npm name
    version: str  # the exact release mirrored
    keep: tuple[str, ...]  # package paths kept (fnmatch patterns)
    cdnjs: str = ""  # the library's name on cdnjs, when it has one


PACKAGES: tuple[Package, ...] = (
    Package("tailwindcss", "2.2.19", ("dist/tailwind.min.css", "dist/base.min.css", "dist/components.min.css",
                                      "dist/utilities.min.css"), "tailwindcss"),
    # cdn.tailwindcss.com (the v3 Play CDN) is not published on npm by Tailwind Labs; `tailwindcss-cdn` holds the
    # scripts fetched from it verbatim (its Makefile: `wget https://cdn.tailwindcss.com?plugins=...`).
    Package("tailwindcss-cdn", "3.4.10", ("tailwindcss.js", "tailwindcss-with-*.js")),
    Package("@tailwindcss/browser", "4.3.4", ("dist/index.global.js",)),
    Package("bootstrap", "5.3.8", ("dist/css/*.min.css", "dist/js/*.min.js"), "twitter-bootstrap"),
    Package("bootstrap", "4.6.2", ("dist/css/*.min.css", "dist/js/*.min.js"), "twitter-bootstrap"),
    Package("bootstrap", "3.4.1", ("dist/css/*.min.css", "dist/js/*.min.js", "dist/fonts/*"), "twitter-bootstrap"),
    Package("bootstrap-icons", "1.13.1", ("font/bootstrap-icons.min.css", "font/bootstrap-icons.css",
                                          "font/fonts/*.woff2", "font/fonts/*.woff"), "bootstrap-icons"),
    Package("@fortawesome/fontawesome-free", "6.7.2", ("css/*.css", "webfonts/*.woff2", "webfonts/*.ttf",
                                                       "js/all.min.js"), "font-awesome"),
    Package("@fortawesome/fontawesome-free", "5.15.4", ("css/*.css", "webfonts/*.woff2", "webfonts/*.woff",
                                                        "js/all.min.js"), "font-awesome"),
    Package("font-awesome", "4.7.0", ("css/font-awesome.min.css", "css/font-awesome.css", "fonts/*.woff2",
                                      "fonts/*.woff"), "font-awesome"),
    Package("jquery", "3.7.1", ("dist/jquery.min.js", "dist/jquery.slim.min.js"), "jquery"),
    Package("jquery", "1.12.4", ("dist/jquery.min.js",), "jquery"),
    Package("@popperjs/core", "2.11.8", ("dist/umd/popper.min.js",), "popper.js"),
    Package("popper.js", "1.16.1", ("dist/umd/popper.min.js", "dist/popper.min.js"), "popper.js"),
    Package("chart.js", "4.6.1", ("dist/chart.umd.js", "dist/chart.umd.min.js"), "Chart.js"),
    Package("chart.js", "3.9.1", ("dist/chart.min.js",), "Chart.js"),
    Package("chart.js", "2.9.4", ("dist/Chart.min.js", "dist/Chart.bundle.min.js", "dist/Chart.min.css"), "Chart.js"),
    Package("d3", "7.9.0", ("dist/d3.min.js",), "d3"),
    Package("d3", "5.16.0", ("dist/d3.min.js",), "d3"),
    Package("echarts", "5.6.0", ("dist/echarts.min.js",), "echarts"),
    Package("plotly.js-dist-min", "3.7.0", ("plotly.min.js",), "plotly.js"),
    Package("plotly.js-dist-min", "2.35.3", ("plotly.min.js",), "plotly.js"),
    Package("plotly.js-dist-min", "1.58.5", ("plotly.min.js",), "plotly.js"),
    Package("mermaid", "11.17.2", ("dist/mermaid.min.js",), "mermaid"),
    Package("alpinejs", "3.17.5", ("dist/cdn.min.js",), "alpinejs"),
    Package("animate.css", "4.1.1", ("animate.min.css", "animate.css"), "animate.css"),
    Package("normalize.css", "8.0.1", ("normalize.css",), "normalize"),
    Package("bulma", "1.0.4", ("css/bulma.min.css",), "bulma"),
    Package("bulma", "0.9.4", ("css/bulma.min.css",), "bulma"),
)
# Google Fonts families served from Fontsource (@fontsource/<slug>, latest 5.x release at install time).
GOOGLE_FONTS = (
    "Roboto", "Open Sans", "Lato", "Montserrat", "Poppins", "Inter", "Oswald", "Raleway", "Nunito", "Playfair Display",
    "Merriweather", "Source Sans 3", "Roboto Mono", "Ubuntu", "Noto Sans", "PT Sans", "Roboto Slab", "Work Sans",
    "Lora", "Rubik", "DM Sans", "Quicksand", "Fira Sans", "Space Grotesk", "Manrope", "Pacifico", "Dancing Script",
    "Bebas Neue",
)
GOOGLE_FONT_ALIASES = {"Source Sans Pro": "Source Sans 3"}
# Google's CJK families -> the installed Noto CJK family drawn for them (a local() face, no download).
GOOGLE_CJK = {"Noto Sans SC": "Noto Sans CJK SC", "Noto Sans TC": "Noto Sans CJK TC", "Noto Sans HK": "Noto Sans CJK HK",
              "Noto Sans JP": "Noto Sans CJK JP", "Noto Sans KR": "Noto Sans CJK KR", "Noto Serif SC": "Noto Serif CJK SC",
              "Noto Serif TC": "Noto Serif CJK TC", "Noto Serif JP": "Noto Serif CJK JP", "Noto Serif KR": "Noto Serif CJK KR"}
FONT_KEEP = ("*.css", "files/*-latin-[1-9]00-*.woff2", "files/*-latin-ext-[1-9]00-*.woff2")


def fontsource_slug(family: str) -> str:
    return "@fontsource/" + family.lower().replace(" ", "-")


def default_dir() -> str:
    return os.path.join(sys.prefix, "share", "vinci-rl", "cdn")


# ---------------------------------------------------------------- install (run by launch/install.sh)


def install(dest: str, npm: str = "npm") -> dict:
    """Fetch every package with `npm pack`, keep the listed files under dest/<npm>@<version>/, write
    dest/manifest.json. Idempotent: a package already complete is skipped. Returns the manifest."""
    os.makedirs(dest, exist_ok=True)
    manifest = _read_manifest(dest)
    wanted = [(p.npm, p.version, p.keep) for p in PACKAGES]
    wanted += [(fontsource_slug(f), FONTSOURCE_MAJOR, FONT_KEEP) for f in GOOGLE_FONTS]
    packages = {}
    for name, version, keep in wanted:
        key = next((k for k, v in manifest.get("packages", {}).items()
                    if v["npm"] == name and _same_release(v["version"], version)
                    and os.path.isdir(os.path.join(dest, k))), None)
        if key is None:
            key, info = _fetch(dest, name, version, keep, npm)
        else:
            info = manifest["packages"][key]
        packages[key] = info
    manifest = {"packages": packages}
    with open(os.path.join(dest, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    return manifest


def _same_release(have: str, want: str) -> bool:
    return have == want or (want.isdigit() and have.split(".")[0] == want)


def _fetch(dest: str, name: str, version: str, keep: tuple[str, ...], npm: str) -> tuple[str, dict]:
    with tempfile.TemporaryDirectory(prefix="vinci-cdn-") as tmp:
        out = subprocess.run([npm, "pack", "--silent", f"{name}@{version}"], cwd=tmp, check=True,
                             capture_output=True, text=True).stdout.split()
        if not out:
            raise RuntimeError(f"npm pack {name}@{version} produced no tarball")
        with tarfile.open(os.path.join(tmp, out[-1])) as tar:
            meta = json.load(tar.extractfile("package/package.json"))
            key = f"{name}@{meta['version']}"
            root = os.path.join(dest, key)
            shutil.rmtree(root, ignore_errors=True)
            files = []
            for member in tar.getmembers():
                rel = member.name[len("package/"):] if member.name.startswith("package/") else None
                if rel and member.isfile() and any(fnmatch.fnmatch(rel, k) for k in keep) and _safe(rel):
                    target = os.path.join(root, rel)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as f:
                        f.write(tar.extractfile(member).read())
                    files.append(rel)
    if not files:
        raise RuntimeError(f"{key}: none of {keep} is in the package")
    main = next((meta[k] for k in ("jsdelivr", "unpkg", "browser", "main") if isinstance(meta.get(k), str)), "")
    return key, {"npm": name, "version": meta["version"], "main": main.lstrip("./"), "files": sorted(files)}


def _safe(rel: str) -> bool:
    norm = posixpath.normpath(rel)
    return not (norm.startswith("../") or norm == ".." or norm.startswith("/"))


def _read_manifest(dest: str) -> dict:
    try:
        with open(os.path.join(dest, "manifest.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------- serving


@dataclass
class Served:
    """A mirror answer: the file's bytes and type, and the release it came from (`substituted`: asked another)."""

    body: bytes
    content_type: str
    source: str
    substituted: str = ""
    missing: list[str] = field(default_factory=list)  # Google Fonts families the stylesheet could not include


class Mirror:
    """Resolves CDN URLs against an installed mirror folder (none when `enabled` is False: nothing is served).
    Cheap to build; files are read (and cached) on use."""

    def __init__(self, root: str | None = None, cache_bytes: int = 64 << 20, enabled: bool = True):
        self.root = root or default_dir()
        self.packages: dict[str, dict] = _read_manifest(self.root).get("packages", {}) if enabled else {}
        self._by_name: dict[str, list[dict]] = {}
        for key, info in self.packages.items():
            info = {**info, "key": key, "file_set": set(info["files"])}
            self._by_name.setdefault(info["npm"], []).append(info)
        self._cdnjs: dict[str, list[str]] = {}  # cdnjs name -> npm names (font-awesome: v5+ and v4 differ)
        for p in PACKAGES:
            if p.cdnjs and p.npm not in self._cdnjs.setdefault(p.cdnjs.lower(), []):
                self._cdnjs[p.cdnjs.lower()].append(p.npm)
        self._cache: dict[str, bytes] = {}
        self._cache_left = cache_bytes

    @property
    def available(self) -> bool:
        return bool(self.packages)

    def resolve(self, url: str) -> Served | None:
        """The local answer to a URL, or None when the mirror cannot serve it."""
        parts = urlsplit(url)
        host, path = (parts.hostname or ""), unquote(parts.path)
        if host == "fonts.googleapis.com":
            css, missing = self.google_fonts_css(url)
            return Served(css.encode(), "text/css", "google-fonts", missing=missing) if css else None
        found = _route(self, host, path, parts.query)
        if found is None:
            return None
        name, version, file = found
        return self._serve(name, version, file)

    def _serve(self, name: str, version: str, file: str) -> Served | None:
        info, substituted = self._release(name, version)
        if info is None:
            return None
        file = file.lstrip("/") or info["main"]
        if not file or not _safe(file):
            return None
        candidates = [file, _toggle_min(file)]
        candidates += ["dist/" + c for c in candidates if not c.startswith("dist/")]
        hit = next((c for c in candidates if c in info["file_set"]), None)
        if hit is None:
            return None
        body = self._read(os.path.join(self.root, info["key"], hit))
        ext = os.path.splitext(hit)[1].lower()
        return Served(body, CONTENT_TYPES.get(ext, "application/octet-stream"), f"{info['key']}/{hit}", substituted)

    def _release(self, name: str, version: str) -> tuple[dict | None, str]:
        """The mirrored release of `name` answering `version`: the newest one it matches ("" / "latest": newest;
        "5" or "5.3": a release starting so; "5.3.2": exactly), else the newest of the same major, reported as a
        substitution ("bootstrap@5.2.3 -> 5.3.8")."""
        releases = sorted(self._by_name.get(name, []), key=lambda i: _version_key(i["version"]), reverse=True)
        want = version.lstrip("v^~=").strip()
        if want in ("", "latest"):
            return (releases[0] if releases else None), ""
        for info in releases:
            if info["version"] == want or info["version"].startswith(want + "."):
                return info, ""
        for info in releases:
            if info["version"].split(".")[0] == want.split(".")[0]:
                return info, f"{name}@{want} -> {info['version']}"
        return None, ""

    def _read(self, path: str) -> bytes:
        body = self._cache.get(path)
        if body is None:
            with open(path, "rb") as f:
                body = f.read()
            if len(body) <= self._cache_left:
                self._cache[path] = body
                self._cache_left -= len(body)
        return body

    # ------------------------------------------------------------ Google Fonts

    def google_fonts_css(self, url: str) -> tuple[str, list[str]]:
        """(stylesheet, families not mirrored) for a fonts.googleapis.com/css or /css2 URL."""
        parts = urlsplit(url)
        requests = _google_families(parts.path, parts.query)
        blocks, missing = [], []
        for family, faces in requests:
            css = self._family_css(family, faces)
            if css is None:
                missing.append(family)
            else:
                blocks.append(css)
        return "\n".join(blocks), missing

    def _family_css(self, family: str, faces: set[tuple[str, int | tuple[int, int]]]) -> str | None:
        if family in GOOGLE_CJK:
            return "\n".join(_local_face(family, GOOGLE_CJK[family], style, w) for style, w in sorted(faces, key=str))
        source = GOOGLE_FONT_ALIASES.get(family, family)
        info, _ = self._release(fontsource_slug(source), "")
        if info is None:
            return None
        out = []
        for style, weight in sorted(faces, key=str):
            for w in _weights(info, weight):
                name = f"{w}.css" if style == "normal" else f"{w}-italic.css"
                if name in info["file_set"]:
                    out.append(self._rewrite(info, name, family))
        return "\n".join(out)

    def _rewrite(self, info: dict, css_name: str, family: str) -> str:
        """A Fontsource stylesheet with its faces renamed to the requested family, pointing at mirrored files only."""
        css = self._read(os.path.join(self.root, info["key"], css_name)).decode()
        kept = []
        for block in re.findall(r"@font-face\s*\{[^}]*\}", css):
            m = re.search(r"url\(\./(files/[^)]+\.woff2)\)", block)
            if m is None or m.group(1) not in info["file_set"]:
                continue
            block = re.sub(r"src:[^;]*;", f"src: url({MIRROR_HOST}{info['key']}/{m.group(1)}) format('woff2');", block)
            kept.append(re.sub(r"font-family:[^;]*;", f"font-family: '{family}';", block))
        return "\n".join(kept)

    def listing(self) -> list[tuple[str, str]]:
        """(package, version) of everything installed, for the README and `python -m vinci_rl.render.cdn_mirror list`."""
        return sorted(((i["npm"], i["version"]) for i in self.packages.values()), key=lambda t: (t[0], _version_key(t[1])))


def _local_face(family: str, local: str, style: str, weight) -> str:
    """@font-face rules drawing a Google CJK family with the installed Noto CJK faces (regular and bold)."""
    weights = [weight] if isinstance(weight, int) else [w for w in (400, 700) if weight[0] <= w <= weight[1]]
    return "\n".join(
        f"@font-face {{ font-family: '{family}'; font-style: {style}; font-weight: {w}; "
        f"src: local('{local}{' Bold' if w >= 600 else ''}'), local('{local}'); }}" for w in weights)


def _weights(info: dict, weight) -> list[int]:
    have = sorted(int(f.split(".")[0].split("-")[0]) for f in info["files"]
                  if re.fullmatch(r"[1-9]00(-italic)?\.css", f))
    if isinstance(weight, tuple):  # a variable range 100..900
        return sorted({w for w in have if weight[0] <= w <= weight[1]})
    return [weight] if weight in have else []


def _google_families(path: str, query: str) -> list[tuple[str, set]]:
    """[(family, {(style, weight | (lo, hi))})] from a Google Fonts CSS URL (css: `Roboto:400,700i|Lato`;
    css2: `family=Roboto:ital,wght@0,400;1,700`)."""
    q = parse_qs(query, keep_blank_values=True)
    specs = q.get("family", [])
    if not path.rstrip("/").endswith("css2"):
        specs = [s for spec in specs for s in spec.split("|")]
    out = []
    for spec in specs:
        name, _, axes = spec.partition(":")
        name = name.replace("+", " ").strip()
        if name:
            out.append((name, _faces_css2(axes) if path.rstrip("/").endswith("css2") else _faces_css1(axes)))
    return out


def _faces_css1(axes: str) -> set:
    faces = set()
    for token in filter(None, (t.strip().lower() for t in axes.split(","))):
        style = "italic" if token.endswith(("italic", "i")) else "normal"
        digits = re.match(r"\d+", token)
        weight = int(digits.group()) if digits else (700 if token.startswith("bold") else 400)
        faces.add((style, weight))
    return faces or {("normal", 400)}


def _faces_css2(axes: str) -> set:
    names, _, values = axes.partition("@")
    names = names.split(",") if names else []
    faces = set()
    for tup in filter(None, values.split(";")):
        vals = dict(zip(names, tup.split(",")))
        style = "italic" if vals.get("ital") == "1" else "normal"
        w = vals.get("wght", "400")
        weight = tuple(int(x) for x in w.split("..")) if ".." in w else int(float(w))
        faces.add((style, weight))
    return faces or {("normal", 400)}


def _route(mirror: Mirror, host: str, path: str, query: str) -> tuple[str, str, str] | None:
    """(npm name, requested version, file path) for a CDN URL; None when no rule matches."""
    if host in ("cdn.jsdelivr.net", "fastly.jsdelivr.net", "unpkg.com"):
        rest = path[len("/npm/"):] if path.startswith("/npm/") else (path.lstrip("/") if host == "unpkg.com" else None)
        return _npm_spec(rest) if rest else None
    if host == "cdnjs.cloudflare.com":
        m = re.match(r"/ajax/libs/([^/]+)/([^/]+)/(.+)", path)
        if m is None:
            return None
        names = mirror._cdnjs.get(m.group(1).lower(), [])
        npm = next((n for n in names if mirror._release(n, m.group(2).split(".")[0])[0] is not None), None)
        return (npm, m.group(2), m.group(3)) if npm else None
    if host.endswith("bootstrapcdn.com"):
        m = re.match(r"/(bootstrap|font-awesome|bootstrap-icons)/([^/]+)/(.+)", path)
        if m is None:
            return None
        name, version, file = m.groups()
        return (name, version, ("dist/" + file) if name == "bootstrap" else file)
    if host == "code.jquery.com":
        m = re.fullmatch(r"/jquery-(\d+\.\d+\.\d+)((?:\.slim)?(?:\.min)?)\.js", path)
        return ("jquery", m.group(1), f"dist/jquery{m.group(2)}.js") if m else None
    if host == "cdn.tailwindcss.com":
        plugins = sorted(p for p in ",".join(parse_qs(query).get("plugins", [])).split(",") if p)
        plugins = [p.split("@")[0] for p in plugins]
        file = "tailwindcss.js" if not plugins else (
            f"tailwindcss-with-{plugins[0]}.js" if len(plugins) == 1 else "tailwindcss-with-all-plugins.js")
        version = path.strip("/") or "3"
        return ("tailwindcss-cdn", version, file)
    if host == "use.fontawesome.com":
        m = re.match(r"/releases/v([\d.]+)/(.+)", path)
        return ("@fortawesome/fontawesome-free", m.group(1), m.group(2)) if m else None
    if host == "kit.fontawesome.com":  # an account's kit: the free set's SVG + JS build (a kit loads that by default)
        return ("@fortawesome/fontawesome-free", "6", "js/all.min.js") if path.endswith(".js") else None
    if host == "d3js.org":
        m = re.fullmatch(r"/d3\.v(\d+)(?:\.min)?\.js", path)
        return ("d3", m.group(1), "dist/d3.min.js") if m else None
    if host == "cdn.plot.ly":
        m = re.fullmatch(r"/plotly-(latest|[\d.]+)(?:\.min)?\.js", path)
        if m is None:
            return None
        return ("plotly.js-dist-min", "1.58.5" if m.group(1) == "latest" else m.group(1), "plotly.min.js")
    if host == "fonts.gstatic.com" and path.startswith("/vinci-mirror/"):
        return _npm_spec(path[len("/vinci-mirror/"):])
    return None


def _npm_spec(rest: str) -> tuple[str, str, str] | None:
    """`@scope/name@version/path` | `name@version/path` | `name/path` -> (name, version, path)."""
    m = re.match(r"((?:@[^/@]+/)?[^/@]+)(?:@([^/]*))?(?:/(.*))?$", rest)
    return (m.group(1), m.group(2) or "", m.group(3) or "") if m else None


def _toggle_min(file: str) -> str:
    """`x.min.js` <-> `x.js` (jsDelivr minifies on request; cdnjs lists both)."""
    for ext in (".js", ".css"):
        if file.endswith(".min" + ext):
            return file[: -len(".min" + ext)] + ext
        if file.endswith(ext):
            return file[: -len(ext)] + ".min" + ext
    return file


def _version_key(version: str) -> tuple:
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.+-]", version))


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m vinci_rl.render.cdn_mirror", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install", help="fetch every mirrored package with npm into DEST")
    p.add_argument("dest", nargs="?", default=default_dir())
    p.add_argument("--npm", default="npm")
    p = sub.add_parser("list", help="print the installed packages and versions")
    p.add_argument("dest", nargs="?", default=default_dir())
    p = sub.add_parser("resolve", help="show what the mirror answers for a URL")
    p.add_argument("url")
    p.add_argument("--dest", default=default_dir())
    args = ap.parse_args(argv)
    if args.cmd == "install":
        manifest = install(args.dest, args.npm)
        print(f"[cdn-mirror] {len(manifest['packages'])} packages in {args.dest}")
    elif args.cmd == "list":
        for name, version in Mirror(args.dest).listing():
            print(f"{name} {version}")
    else:
        served = Mirror(args.dest).resolve(args.url)
        print("not served" if served is None else f"{served.source} ({served.content_type}, {len(served.body)} bytes)"
              + (f"; {served.substituted}" if served.substituted else ""))
        return 0 if served else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
