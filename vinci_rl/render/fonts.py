"""Fonts every renderer can use: which installed families cover CJK text, the names chart code asks for, and the
matplotlib fallback chain.

The fonts themselves are Debian packages installed by launch/install.sh (launch/apt-packages.txt): DejaVu and
Liberation (Latin, metric-compatible with Arial / Times New Roman / Courier New), Carlito (Calibri), Noto Sans/Serif
CJK (Chinese, Japanese, Korean), Noto Color Emoji and Symbola (emoji; Symbola is the outline one that matplotlib and
cairo can draw). Every sandbox binds /usr (so /usr/share/fonts), /etc/fonts and the fontconfig cache read-only.

Chromium (HTML, Mermaid) falls back glyph by glyph through fontconfig by itself. matplotlib does not consult
fontconfig: `install_matplotlib_fonts()` (run once in the Python forkserver, before any job is forked) appends the
CJK and symbol families to every font lookup and maps the names CJK chart code sets (SimHei, Microsoft YaHei,
PingFang SC, MS Gothic, Malgun Gothic, ...) and the common Windows/macOS Latin names (Arial, Times New Roman, ...)
to installed faces, as the author's own machine would have resolved them. cairosvg draws a text run with one font:
`cairo_family()` picks a CJK family for a run that needs one. LaTeX switches to xelatex + xeCJK (latex.py).
"""

from __future__ import annotations

import dataclasses
import os
import re

# Installed CJK families, best first (fonts-noto-cjk; the WenQuanYi ones when only fonts-wqy-* is there).
CJK_SANS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback")
CJK_SERIF = ("Noto Serif CJK SC", "Noto Serif CJK JP")
# Outline fonts for symbols and emoji that matplotlib/cairo can draw (colour bitmap emoji they cannot).
SYMBOL_FAMILIES = ("DejaVu Sans", "Symbola")

# Names CJK code asks for (Windows, macOS, Adobe/Google, Linux distributions) -> sans or serif CJK.
CJK_SANS_ALIASES = (
    "SimHei", "Microsoft YaHei", "Microsoft YaHei UI", "Microsoft JhengHei", "DengXian", "PingFang SC", "PingFang TC",
    "PingFang HK", "Heiti SC", "Heiti TC", "STHeiti", "STXihei", "Hiragino Sans GB", "Hiragino Sans",
    "Hiragino Kaku Gothic Pro", "Hiragino Kaku Gothic ProN", "Source Han Sans", "Source Han Sans SC",
    "Source Han Sans CN", "Source Han Sans TC", "Source Han Sans JP", "Source Han Sans K", "Noto Sans SC",
    "Noto Sans TC", "Noto Sans HK", "Noto Sans JP", "Noto Sans KR", "Arial Unicode MS", "MS Gothic", "MS PGothic",
    "Yu Gothic", "Meiryo", "IPAGothic", "IPAexGothic", "IPAPGothic", "TakaoGothic", "VL Gothic", "Malgun Gothic",
    "Apple SD Gothic Neo", "AppleGothic", "NanumGothic", "Nanum Gothic", "Gulim", "Dotum", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Droid Sans Fallback", "Noto Sans CJK",
)
CJK_SERIF_ALIASES = (
    "SimSun", "NSimSun", "STSong", "Songti SC", "Songti TC", "FangSong", "STFangsong", "KaiTi", "STKaiti", "Kaiti SC",
    "MingLiU", "PMingLiU", "Source Han Serif", "Source Han Serif SC", "Source Han Serif CN", "Source Han Serif TC",
    "Source Han Serif JP", "Source Han Serif K", "Noto Serif SC", "Noto Serif TC", "Noto Serif JP", "Noto Serif KR",
    "MS Mincho", "MS PMincho", "Yu Mincho", "Hiragino Mincho Pro", "Hiragino Mincho ProN", "IPAMincho",
    "IPAexMincho", "Batang", "NanumMyeongjo", "AR PL UMing CN", "AR PL UKai CN", "Noto Serif CJK",
)
# Windows/macOS Latin names -> the installed metric-compatible family (same advance widths, so the same layout).
LATIN_ALIASES = {
    "Arial": "Liberation Sans", "Helvetica": "Liberation Sans", "Helvetica Neue": "Liberation Sans",
    "Times New Roman": "Liberation Serif", "Times": "Liberation Serif", "Courier New": "Liberation Mono",
    "Courier": "Liberation Mono", "Calibri": "Carlito", "Cambria": "Caladea",
}

# The size at which font files are looked up (see _with_fallbacks): matplotlib's default font size.
LOOKUP_SIZE_PT = 10.0

# What matplotlib's findfont cache keys on besides the font properties: these rcParams and this variable.
_IGNORE_SYSTEM_FONTS = "MPL_IGNORE_SYSTEM_FONTS"
_RC_FONT = tuple(f"font.{k}" for k in ("family", "style", "variant", "weight", "stretch", "size", "serif", "sans-serif",
                                      "cursive", "fantasy", "monospace"))

# Han, kana, Hangul, CJK punctuation / compatibility / fullwidth forms, Bopomofo.
_CJK = re.compile("[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u30ff\u3100-\u31ff\u3200-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
                  "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]")


def has_cjk(text: str) -> bool:
    """Whether the text holds a Chinese, Japanese or Korean character (or CJK punctuation / fullwidth form)."""
    return _CJK.search(text) is not None


def cairo_family(family: str, text: str, installed: set[str]) -> str:
    """The family cairosvg should select for one text run: the requested one, unless the run holds CJK text that
    it cannot draw (one font per run there: no glyph fallback), then the installed CJK family of the same kind."""
    if not has_cjk(text) or family in CJK_SANS + CJK_SERIF:
        return family
    serif = family in CJK_SERIF_ALIASES or family.lower() in ("serif", "times", "times new roman", "georgia")
    for name in (CJK_SERIF if serif else ()) + CJK_SANS:
        if name in installed:
            return name
    return family


# ---------------------------------------------------------------- matplotlib


def install_matplotlib_fonts() -> dict[str, str | None]:
    """Aliases and glyph fallbacks in matplotlib's font manager (this process and every process forked after).
    Returns the installed families picked: {"cjk_sans", "cjk_serif"} (None when no CJK font is installed)."""
    from matplotlib import font_manager as fm

    manager = fm.fontManager
    names = {f.name for f in manager.ttflist}
    sans = next((n for n in CJK_SANS if n in names), None)
    serif = next((n for n in CJK_SERIF if n in names), sans)
    for aliases, target in ((CJK_SANS_ALIASES, sans), (CJK_SERIF_ALIASES, serif)):
        _alias(manager, names, {alias: target for alias in aliases})
    _alias(manager, names, LATIN_ALIASES)
    fallbacks = [n for n in (sans, *SYMBOL_FAMILIES) if n in names]
    serif_fallbacks = [n for n in (serif, *SYMBOL_FAMILIES) if n in names]
    if fallbacks and not getattr(manager, "_vinci_fallbacks", None):
        manager._vinci_fallbacks = (fallbacks, serif_fallbacks)
        manager._find_fonts_by_props = _with_fallbacks(manager, manager._find_fonts_by_props)
    return {"cjk_sans": sans, "cjk_serif": serif}


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _alias(manager, names: set[str], mapping: dict[str, str | None]) -> None:
    """Font entries named `alias` for every face of `target` (an alias never hides a font that is installed)."""
    for alias, target in mapping.items():
        if target is None or alias in names or target not in names:
            continue
        faces = [f for f in manager.ttflist if f.name == target]
        manager.ttflist.extend(dataclasses.replace(f, name=alias) for f in faces)
        names.add(alias)


def _with_fallbacks(manager, find):
    """Wrap FontManager._find_fonts_by_props: after the families the text asks for, the CJK and symbol families
    (serif CJK for serif text), so a glyph missing from the chosen font is drawn from them, not as a box.

    Every lookup is made at one size (LOOKUP_SIZE_PT) when every installed face is scalable: the size then never
    changes which file is chosen (matplotlib scores scalable faces 0 for size), but matplotlib caches lookups per
    size, and a forked job would otherwise redo the lookup, for each fallback family, at every size it uses."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    all_scalable = all(f.size == "scalable" for f in manager.ttflist)
    found: dict[tuple, list] = {}  # answers so far, keyed like matplotlib's findfont cache (+ fonts added since)

    def find_with_fallbacks(prop, fontext="ttf", directory=None, fallback_to_default=True, rebuild_if_missing=True):
        if fontext != "ttf":
            return find(prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        prop = FontProperties._from_any(prop)
        if all_scalable:
            prop = prop.copy()
            prop.set_size(LOOKUP_SIZE_PT)
        rc = tuple(_hashable(matplotlib.rcParams[k]) for k in _RC_FONT)
        key = (prop, directory, fallback_to_default, rc, len(manager.ttflist), os.environ.get(_IGNORE_SYSTEM_FONTS))
        if key not in found:
            found[key] = lookup(prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        return list(found[key])

    def lookup(prop, fontext, directory, fallback_to_default, rebuild_if_missing):
        paths = find(prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        sans, serif = manager._vinci_fallbacks
        families = serif if any("serif" == f or f in CJK_SERIF_ALIASES for f in prop.get_family()) else sans
        for family in families:
            extra = prop.copy()
            extra.set_family(family)
            try:
                path = manager.findfont(extra, fontext, directory, fallback_to_default=False,
                                        rebuild_if_missing=rebuild_if_missing)
            except ValueError:
                continue
            if path not in paths:
                paths.append(path)
        return paths

    return find_with_fallbacks
