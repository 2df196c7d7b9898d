"""Generated code is hostile: one test per hole. Each attack must fail to get its way, end within its budget, and
leave the same Renderer able to render a normal sample of that language afterwards."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from render_helpers import SLACK_S, TEST_TIMEOUTS, assert_renders_normally, red_fraction

from vinci_rl.render.result import OK, PARSE_ERROR, RESOURCE_LIMIT, SANDBOX_VIOLATION, TIMEOUT

pytestmark = pytest.mark.usefixtures("bwrap_required")


# ---------------------------------------------------------------- files outside the job dir


SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
# name -> (language, code template); {ref} is a world-readable red PNG, {tex} a .tex file, both outside any job dir.
FILE_ATTACKS = {
    "svg_file_url": ("svg", SVG_OPEN + '<image href="file://{ref}" width="10" height="10"/></svg>'),
    "svg_abs_path": ("svg", SVG_OPEN + '<image xlink:href="{ref}" width="10" height="10"/></svg>'),
    "html_img": ("html", "<body style='margin:0'><img src='file://{ref}' style='width:100vw;height:100vh'></body>"),
    "html_iframe": ("html", "<body style='margin:0'><iframe src='file://{ref}' style='border:0;width:100vw;height:100vh'>"
                            "</iframe></body>"),
    "latex_includegraphics": ("latex", "\\includegraphics[width=5cm]{{{ref}}}"),
    "latex_input": ("latex", "\\input{{{tex}}}"),
    "python_imread": ("python", "import matplotlib.pyplot as plt\nplt.imshow(plt.imread('{ref}'))\nplt.axis('off')\n"),
    "python_pil_open": ("python", "from PIL import Image\nimg = Image.open('{ref}')\n"),
}


@pytest.mark.parametrize("attack", sorted(FILE_ATTACKS))
def test_reference_image_cannot_be_read(renderer, secret_dir, attack):
    lang, template = FILE_ATTACKS[attack]
    code = template.format(ref=os.path.join(secret_dir, "ref.png"), tex=os.path.join(secret_dir, "secret.tex"))
    res = renderer.render(lang, code, (256, 256))
    assert res.image is None or red_fraction(res.image) < 0.001, f"{lang} rendered the secret reference image"
    if lang in ("latex", "python"):
        assert res.status in (PARSE_ERROR, SANDBOX_VIOLATION), res.message
    assert_renders_normally(renderer, lang)


@pytest.fixture(scope="module")
def renderer_without_namespaces(config):
    """Rlimits-only mode: shows that TeX's own guards (openin_any=p, no shell escape) hold without bubblewrap."""
    import dataclasses

    from vinci_rl.render import Renderer

    with Renderer(dataclasses.replace(config, sandbox="none")) as r:
        yield r


@pytest.mark.parametrize("attack", ["latex_includegraphics", "latex_input"])
def test_tex_refuses_absolute_paths_even_without_namespaces(renderer_without_namespaces, secret_dir, attack):
    _, template = FILE_ATTACKS[attack]
    code = template.format(ref=os.path.join(secret_dir, "ref.png"), tex=os.path.join(secret_dir, "secret.tex"))
    res = renderer_without_namespaces.render("latex", code, (128, 128))
    assert res.extra["sandbox"] == "rlimits-only"
    assert res.status == PARSE_ERROR and "not found" in res.message, res.message


@pytest.mark.parametrize("path", ["secret.txt", "/etc/passwd"])
def test_python_cannot_put_a_file_into_its_plot(renderer, secret_dir, path):
    path = os.path.join(secret_dir, path)
    code = f"import matplotlib.pyplot as plt\nplt.title(open('{path}').read()[:30])\nplt.plot([1, 2])\n"
    res = renderer.render("python", code, (256, 256))
    assert res.status in (PARSE_ERROR, SANDBOX_VIOLATION), res.message
    assert "SECRET" not in res.message and "root:" not in res.message


def test_python_sees_only_the_package_and_venv_of_the_repository(renderer):
    import sys

    import vinci_rl

    repo = os.path.dirname(os.path.dirname(vinci_rl.__file__))
    visible_ok = {os.path.basename(os.path.dirname(vinci_rl.__file__)), os.path.basename(sys.prefix)}
    code = (f"import os\nassert set(os.listdir({repo!r})) <= {visible_ok!r}, os.listdir({repo!r})\n"
            "for p in ('/root/.bash_history', '/root/.ssh', '/work/shared', '/etc/shadow', '/etc/passwd'):\n"
            "    assert not os.path.exists(p), p\n"
            "import matplotlib.pyplot as plt\nplt.plot([0, 1], color='red', linewidth=20)\n")
    res = renderer.render("python", code, (128, 128))
    assert res.status == OK, res.message


# ---------------------------------------------------------------- network


# name -> (language, code template); {port} is a logging HTTP server on the host's 127.0.0.1.
NETWORK_ATTACKS = {
    "html_everything": ("html", "<link rel='prefetch' href='http://127.0.0.1:{port}/prefetch'>"
                        "<link rel='stylesheet' href='http://127.0.0.1:{port}/css'><img src='http://127.0.0.1:{port}/img'>"
                        "<script>fetch('http://127.0.0.1:{port}/fetch').catch(e => 0);"
                        "navigator.sendBeacon('http://127.0.0.1:{port}/beacon', 'x');"
                        "try {{ new WebSocket('ws://127.0.0.1:{port}/ws'); }} catch (e) {{}}"
                        "try {{ const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{port}'}}]}});"
                        " pc.createDataChannel('x'); pc.createOffer().then(o => pc.setLocalDescription(o)); }}"
                        " catch (e) {{}}</script><p>x</p>"),
    "python_urllib": ("python", "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/u', timeout=2)\n"),
    "python_socket": ("python", "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                                "s.sendall(b'GET /raw HTTP/1.0\\r\\n\\r\\n')\n"),
    "svg_image": ("svg", SVG_OPEN + '<image href="http://127.0.0.1:{port}/svg" width="10" height="10"/></svg>'),
}


@pytest.mark.parametrize("attack", sorted(NETWORK_ATTACKS))
def test_no_network(renderer, http_server, attack):
    lang, template = NETWORK_ATTACKS[attack]
    res = renderer.render(lang, template.format(port=http_server.server_address[1]), (256, 256))
    time.sleep(0.5)  # let a leaked beacon or prefetch arrive
    assert http_server.hits == [], f"{lang} reached the host network: {http_server.hits}"
    if lang == "python":
        assert res.status != OK and "Connection refused" in res.message, res.message  # refused, not an import error
    assert_renders_normally(renderer, lang)


# ---------------------------------------------------------------- shell escape


@pytest.mark.parametrize("namespaces", [True, False], ids=["bwrap", "rlimits-only"])
@pytest.mark.parametrize("template", [r"\immediate\write18{touch %s}hello", r"\write18{touch %s}hello"])
def test_latex_has_no_shell_escape(request, secret_dir, template, namespaces):
    r = request.getfixturevalue("renderer" if namespaces else "renderer_without_namespaces")
    target = os.path.join(secret_dir, "pwned")
    assert r.render("latex", template % target, (128, 128)).status == OK
    assert not os.path.exists(target)
    assert_renders_normally(r, "latex")


# ---------------------------------------------------------------- bounded time

TIME_ATTACKS = [
    ("html", "<script>while (true) {}</script>"),
    ("html", "<p>x</p><script>setTimeout(() => { while (true) {} }, 0)</script>"),
    ("latex", r"\def\x{\x}\x"),
    ("python", "while True:\n    pass\n"),
    ("python", "import time\ntime.sleep(3600)\n"),
]


@pytest.mark.slow
@pytest.mark.parametrize("lang,code", TIME_ATTACKS)
def test_infinite_loops_time_out(renderer, lang, code):
    t0 = time.monotonic()
    res = renderer.render(lang, code, (256, 256))
    assert res.status == TIMEOUT, res.message
    assert time.monotonic() - t0 < TEST_TIMEOUTS[lang] + SLACK_S
    assert_renders_normally(renderer, lang)


@pytest.mark.slow
def test_library_page_that_never_returns_is_killed_by_the_watchdog(renderer):
    html = renderer.backend("html")
    t0 = time.monotonic()
    res = html.render_library("spin", lambda: "", "async () => { while (true) {} }", None, (64, 64))
    assert res.status == TIMEOUT, res.message
    assert time.monotonic() - t0 < TEST_TIMEOUTS["html"] + SLACK_S
    assert_renders_normally(renderer, "html")


def test_html_sample_cannot_draw_into_the_next_one(renderer):
    painter = "<p>a</p><script>setInterval(() => { document.body.style.background = 'red'; }, 5)</script>"
    assert renderer.render("html", painter, (64, 64)).status == OK
    time.sleep(0.1)
    res = renderer.render("html", "<p>next sample</p>", (64, 64))
    assert red_fraction(res.image) == 0.0


# ---------------------------------------------------------------- bounded memory and output


def use_bomb(levels: int = 9) -> str:
    defs = '<rect id="l0" width="1" height="1"/>' + "".join(
        f'<g id="l{i}">' + f'<use href="#l{i - 1}"/>' * 10 + "</g>" for i in range(1, levels)
    )
    return f'<svg xmlns="http://www.w3.org/2000/svg"><defs>{defs}</defs><use href="#l{levels - 1}"/></svg>'


@pytest.mark.slow
def test_svg_use_bomb_is_stopped(renderer):
    t0 = time.monotonic()
    res = renderer.render("svg", use_bomb(), (256, 256))
    assert res.status in (TIMEOUT, RESOURCE_LIMIT), res.message
    assert time.monotonic() - t0 < TEST_TIMEOUTS["svg"] + SLACK_S
    assert_renders_normally(renderer, "svg")


def test_svg_huge_dimensions_still_render_at_requested_size(renderer):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="100000000" height="100000000" viewBox="0 0 10 10">' \
          '<rect width="5" height="5" fill="red"/></svg>'
    t0 = time.monotonic()
    res = renderer.render("svg", svg, (256, 256))
    assert res.status == OK and res.image.shape == (256, 256, 3)
    assert time.monotonic() - t0 < 2.0
    assert red_fraction(res.image[:128, :128]) > 0.9


def test_giant_embedded_data_is_capped(renderer):
    blob = "A" * (renderer.config.max_code_bytes + 10)
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/png;base64,{blob}"/></svg>'
    t0 = time.monotonic()
    assert renderer.render("svg", svg).status == RESOURCE_LIMIT
    assert time.monotonic() - t0 < 0.5


def test_svg_png_decompression_bomb_hits_the_memory_limit(renderer):
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (25000, 25000), 0).save(buf, "PNG", optimize=True)  # 76 kB that decode to 625 Mpixels
    href = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    res = renderer.render("svg", SVG_OPEN + f'<image href="{href}" width="10" height="10"/></svg>', (256, 256))
    assert res.status in (RESOURCE_LIMIT, TIMEOUT), res.message
    assert_renders_normally(renderer, "svg")


XML_ATTACKS = {
    "billion_laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    + ']><svg xmlns="http://www.w3.org/2000/svg"><text y="10">&lol9;</text></svg>',
    "xxe_passwd": '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 20"><text y="15" font-size="20">&xxe;</text></svg>',
    "xxe_reference": '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file://%s">]>'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 20"><text y="15" font-size="20">&xxe;</text></svg>',
}


@pytest.mark.parametrize("case", sorted(XML_ATTACKS))
def test_xml_entities_are_not_expanded(renderer, secret_dir, case):
    code = XML_ATTACKS[case].replace("%s", os.path.join(secret_dir, "secret.txt"))
    t0 = time.monotonic()
    res = renderer.render("svg", code, (256, 256))
    assert res.status == PARSE_ERROR, res.message
    assert time.monotonic() - t0 < 2.0
    assert_renders_normally(renderer, "svg")


def test_js_memory_bomb_hits_the_heap_cap(renderer):
    res = renderer.render("html", "<script>let a = []; while (true) a.push(new Array(1e6).fill(1.5));</script>")
    assert res.status in (RESOURCE_LIMIT, TIMEOUT), res.message
    assert_renders_normally(renderer, "html")


@pytest.mark.parametrize("code", [
    "x = bytearray(10**11)\n",
    "x = []\nwhile True:\n    x.append(bytearray(10**8))\n",
])
def test_python_memory_bomb_hits_the_limit(renderer, code):
    res = renderer.render("python", code, (256, 256))
    assert res.status == RESOURCE_LIMIT, res.message
    assert_renders_normally(renderer, "python")


@pytest.mark.slow
@pytest.mark.parametrize("doc", [
    "\\documentclass{article}\\begin{document}\\newcount\\n\\loop\\null\\newpage\\advance\\n by 1"
    "\\ifnum\\n<200000\\repeat\\end{document}",
    "\\documentclass{article}\\begin{document}\\loop\\shipout\\hbox{x}\\iftrue\\repeat\\end{document}",
    "\\documentclass{article}\\begin{document}\\newwrite\\f\\newcount\\n\\loop\\immediate\\openout\\f=f\\the\\n.txt"
    "\\immediate\\write\\f{\\romannumeral 1000000000}\\advance\\n 1 \\iftrue\\repeat\\end{document}",
])
def test_latex_page_and_file_floods_are_bounded(renderer, doc):
    t0 = time.monotonic()
    res = renderer.render("latex", doc, (256, 256))
    assert res.status in (RESOURCE_LIMIT, TIMEOUT), res.message
    assert time.monotonic() - t0 < TEST_TIMEOUTS["latex"] + SLACK_S
    backend = renderer.backend("latex")
    used = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(backend.root) for f in fs)
    assert used <= renderer.config.max_output_mb << 20
    assert_renders_normally(renderer, "latex")


# ---------------------------------------------------------------- processes


@pytest.mark.slow
@pytest.mark.parametrize("code", [
    "import os\nwhile True:\n    os.fork()\n",
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
])
def test_fork_bomb_is_contained(renderer, code):
    t0 = time.monotonic()
    res = renderer.render("python", code, (256, 256))
    assert res.status in (TIMEOUT, PARSE_ERROR), res.message
    assert time.monotonic() - t0 < TEST_TIMEOUTS["python"] + SLACK_S
    assert subprocess.run(["true"], timeout=10).returncode == 0  # the machine still forks
    assert_renders_normally(renderer, "python")


@pytest.mark.parametrize("code", [
    "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n",
    "import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\n",
])
def test_python_leaves_no_process_behind(renderer, code):
    import psutil

    draw = "import matplotlib.pyplot as plt\nplt.plot([0, 1], color='red', linewidth=20)\n"
    assert renderer.render("python", code + draw, (128, 128)).status == OK
    worker = psutil.Process(renderer.backend("python").worker.proc.pid)
    leftovers = [p for p in worker.children(recursive=True) if p.uids().real != os.getuid()]
    assert leftovers == []
    assert_renders_normally(renderer, "python")


def test_python_runs_as_nobody_with_a_scrubbed_env_and_no_capabilities(renderer):
    allowed = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "MPLBACKEND", "MPLCONFIGDIR", "FONTCONFIG_FILE"}
    code = (f"import os\nassert os.getuid() != 0 and os.getgid() != 0\nassert set(os.environ) <= {allowed!r}\n"
            "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm'))]\n"
            "assert set(caps) == {'0000000000000000'}, caps\n"
            "open('junk.bin', 'wb').write(b'x' * 1000)\n"
            "import matplotlib.pyplot as plt\nplt.plot([0, 1], color='red', linewidth=20)\n")
    for _ in range(2):
        res = renderer.render("python", code, (128, 128))
        assert res.status == OK, res.message
    jobs = "import os, glob\nassert len(glob.glob(os.path.dirname(os.getcwd()) + '/job-*')) == 1\n" + code
    assert renderer.render("python", jobs, (128, 128)).status == OK  # earlier job dirs were removed


def test_bwrap_sandboxes_run_without_capabilities(bwrap_required):
    from vinci_rl.render import sandbox

    out = subprocess.run(sandbox.bwrap_argv() + ["sh", "-c", "grep -E 'Cap(Eff|Prm)' /proc/self/status"],
                         capture_output=True, text=True, timeout=10).stdout
    assert out.split() == ["CapPrm:", "0000000000000000", "CapEff:", "0000000000000000"]
