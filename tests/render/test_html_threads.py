"""HTML renders on two threads of one process: a reward worker renders on a thread of its own while another
thread holds an HTML backend (Playwright's sync driver belongs to the thread that started it)."""

from __future__ import annotations

import threading

from vinci_rl.render import Renderer

HTML = "<html><body style='margin:0'><div style='width:40px;height:30px;background:#c00'></div></body></html>"


def test_a_second_thread_renders_html_while_this_one_holds_a_backend():
    statuses = {}
    with Renderer() as here:
        statuses["here"] = here.render("html", HTML, size=(64, 48)).status

        def other():
            with Renderer() as there:
                statuses["there"] = there.render("html", HTML, size=(64, 48)).status

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=120)
        statuses["here again"] = here.render("html", HTML, size=(64, 48)).status
    assert statuses == {"here": "ok", "there": "ok", "here again": "ok"}
