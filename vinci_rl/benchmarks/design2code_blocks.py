"""Design2Code's OCR-free text blocks: where each text of a page is drawn, found by colouring the texts.

Design2Code (metrics/ocr_free_utils.py) gives every text element (p, h1-h6, div, span, a, b, li, table, td, th, button,
footer, header, figcaption) its own text colour, `!important`, on a transparent background, screenshots the page
twice with two colour pools 50 apart, keeps the pixels whose colour moved by exactly +50 (mod 256, +-8 per channel),
and for each (text, colour) of the page's text tree takes the bounding box of the pixels within +-4 of that colour
(per channel, uint8 arithmetic) among them. A block: the text lower-cased, its box as fractions of the screenshot
(x, y, w, h), and the mean colour of those pixels in the plain screenshot.

Here the recolouring is applied to the page source's start tags (stdlib HTMLParser) and the text tree is read from
the same token stream, with BeautifulSoup's html.parser rules (void elements, an end tag closes up to its open
element, only text inside an explicit <body> counts).
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import numpy as np

TEXT_TAGS = frozenset(("p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "span", "a", "b", "li", "table", "td", "th",
                       "button", "footer", "header", "figcaption"))
VOID_TAGS = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "menuitem",
                       "meta", "param", "source", "track", "wbr", "basefont", "bgsound", "command", "frame", "image",
                       "isindex", "nextid", "spacer"))
POOL_VALUES = tuple(range(10, 251, 16))
SHIFT = 50


def color_pool(offset: int) -> list[str]:
    """Design2Code's ColorPool: every (r, g, b) of POOL_VALUES (+offset mod 256), handed out from the END."""
    pool = [f"#{(r + offset) % 256:02X}{(g + offset) % 256:02X}{(b + offset) % 256:02X}"
            for r in POOL_VALUES for g in POOL_VALUES for b in POOL_VALUES]
    return pool[::-1]


def _set_style(style: str, prop: str, value: str) -> str:
    kept = [s for s in style.split(";") if not s.strip().startswith(prop) and len(s.strip()) > 0]
    return "; ".join([*kept, f"{prop}: {value} !important"]).strip()


class _Recolour(HTMLParser):
    """One pass over the source: rewritten start tags, and the (text, colour) pairs of the text tree."""

    def __init__(self, offset: int):
        super().__init__(convert_charrefs=True)
        self.pool = iter(color_pool(offset))
        self.out: list[str] = []
        self.stack: list[tuple[str, str]] = []  # (tag, colour its texts get)
        self.in_body = 0
        self.texts: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs, closed=False):
        attrs = dict(attrs)
        style = _set_style(attrs.get("style") or "", "background-color", "rgba(255, 255, 255, 0.0)")
        if tag in TEXT_TAGS:
            try:
                style = _set_style(_set_style(style, "color", next(self.pool)), "opacity", "1.0")
            except StopIteration:
                raise ValueError("more text elements than colours in the pool (4096)") from None
        attrs["style"] = style
        text = "".join(f' {k}="{escape(v, quote=True)}"' if v is not None else f" {k}" for k, v in attrs.items())
        self.out.append(f"<{tag}{text}{' /' if closed else ''}>")
        if tag in VOID_TAGS or closed:
            return
        parent = self.stack[-1][1] if self.stack else "#000000"
        self.stack.append((tag, _style_color(style) or parent))
        if tag == "body":
            self.in_body += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs, closed=True)

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>")
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                if any(t == "body" for t, _ in self.stack[i:]):
                    self.in_body -= 1
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.out.append(escape(data, quote=False) if not self._raw() else data)
        if self.in_body > 0 and data.strip():
            self.texts.append((data.strip(), self.stack[-1][1] if self.stack else "#000000"))

    def _raw(self) -> bool:
        return bool(self.stack) and self.stack[-1][0] in ("script", "style")

    def handle_comment(self, data):
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data):
        self.out.append(f"<?{data}>")


def _style_color(style: str) -> str | None:
    """The colour a tag's style gives its texts, as Design2Code reads it (the last `color` entry)."""
    entries = [s for s in style.split(";") if "color" in s and "background-color" not in s]
    if not entries:
        return None
    value = entries[-1].split(":")[1].strip().replace(" !important", "")
    if value.startswith("#"):
        return value
    from PIL import ImageColor

    try:
        rgb = tuple(map(int, value[4:-1].split(","))) if value.startswith("rgb") else ImageColor.getrgb(value)[:3]
        return "#{:02x}{:02x}{:02x}".format(*rgb)
    except ValueError:
        return None


def recolour(html: str, offset: int) -> tuple[str, list[tuple[str, str]]]:
    """(the page with its texts coloured from the pool at `offset`, its (text, colour) pairs in document order)."""
    parser = _Recolour(offset)
    parser.feed(html)
    parser.close()
    return "".join(parser.out), parser.texts


def shifted_pixels(img1: np.ndarray, img2: np.ndarray) -> np.ndarray | None:
    """(row, col) of the pixels whose colour in img2 is img1's + 50 (mod 256), +-8 per channel; None when none or
    when the two screenshots differ in size."""
    if img1.shape != img2.shape:
        return None
    expected = (img1.astype(np.int32) + SHIFT) % 256
    hit = (np.abs(expected - img2.astype(np.int32)) <= 8).all(axis=2)
    coords = np.argwhere(hit)
    return coords if len(coords) else None


def blocks_from_screens(plain: np.ndarray, coloured: np.ndarray, texts: list[tuple[str, str]],
                        shifted: np.ndarray) -> list[dict]:
    """A block per (text, colour) whose colour (+-4, uint8 arithmetic) is found among the shifted pixels."""
    height, width = coloured.shape[:2]
    on = np.zeros((height, width), dtype=bool)
    on[shifted[:, 0], shifted[:, 1]] = True
    blocks = []
    for text, color in texts:
        try:
            rgb = np.array([int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)
        except ValueError:
            continue
        lower, upper = rgb - np.uint8(4), rgb + np.uint8(4)
        mask = ((coloured >= lower) & (coloured <= upper)).all(axis=2) & on
        rows, cols = np.nonzero(mask)
        if len(rows) == 0:
            continue
        if plain.shape[:2] != coloured.shape[:2]:
            raise ValueError("plain and coloured screenshots differ in size")
        r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
        mean = plain[rows, cols].astype(np.float64).mean(axis=0).astype(int)
        blocks.append({"text": text.lower(), "bbox": (c0 / width, r0 / height, (c1 - c0 + 1) / width,
                                                      (r1 - r0 + 1) / height), "color": tuple(int(v) for v in mean)})
    return blocks
