"""Perturbations of a ground-truth program: the wrong first answers of refinement examples (refine_examples.py).

Each perturbation is a pure function (code, rng) -> the changed code, or None when it finds nothing to change in
this code; the same rng state gives the same change. Kinds, per language (PERTURBATIONS):

  recolour   one colour (#rgb / #rrggbb, or a colour name such as red or blue) becomes another
  resize     one number (a coordinate, a size, a data value) is scaled by 0.5-0.8 or 1.25-1.6
  drop       one element goes: an SVG shape, an HTML leaf element, a TikZ path or node, a plotting call, a
             Mermaid line, a SMILES branch or last atom
  extra      one element is added: a shifted copy of an SVG shape / TikZ path, a repeated HTML element, a new
             Mermaid node, a methyl branch in SMILES
  retext     one piece of text changes: a label, a title, a word; in SMILES one atom becomes another element

Whether the render really changes (and still renders) is checked by rendering, in refine_examples.py: a
perturbation is only a candidate.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Iterator

Perturbation = Callable[[str, random.Random], "str | None"]

PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#000000", "#bcbd22"]
COLOUR_NAMES = ["red", "blue", "green", "orange", "purple", "black", "yellow", "cyan", "magenta", "gray", "brown", "pink"]
WORDS = ["Total", "North", "Index", "Other", "Value", "Level", "Omega", "Series", "Delta", "Beta"]

HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
NAMED = re.compile(r"\b(" + "|".join(COLOUR_NAMES + ["grey", "violet", "teal", "navy", "olive"]) + r")\b")
# A number that is not part of a word, a hex colour, a path or a URL (xmlns="http://www.w3.org/2000/svg").
NUMBER = re.compile(r"(?<![\w.#/\\])(\d+(?:\.\d+)?)(?![\w./])")
SVG_SHAPE = re.compile(r"<(rect|circle|ellipse|line|polyline|polygon|path|text|use|image)\b[^>]*?(?:/>|>.*?</\1\s*>)", re.S)
HTML_LEAF = re.compile(
    r"<(img|input|hr)\b[^>]*>|<(li|p|h[1-6]|span|a|button|td|th|label|b|strong|em|div|tr)\b[^>]*>[^<]*</\2\s*>", re.S | re.I
)
HTML_SKIP = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.S | re.I)
TIKZ_STATEMENT = re.compile(r"\\(?:draw|fill|filldraw|node|path|shade|shadedraw|addplot\+?|pic)\b[^;]*;", re.S)
LATEX_TEXT = re.compile(
    r"(\\(?:node\b[^;{]*|section\*?|subsection\*?|textbf|textit|caption|title)\{|\b(?:title|xlabel|ylabel)\s*=\s*\{)"
    r"([^{}]*[A-Za-z][^{}]*)(\})"
)
PLOT_CALL = re.compile(r"^[ \t]*(?:\w+\s*=\s*)?(?:ax\w*|axes?\[[^\]]*\]|plt|fig\w*|sns|px|go)\.(\w+)\(.*\)[ \t]*$", re.M)
KEEP_CALLS = {"subplots", "figure", "show", "savefig", "tight_layout", "close", "subplot", "add_subplot", "use"}
PY_STRING = re.compile(r"(['\"])([A-Za-z][^'\"\n]{1,40})\1")
STYLE_KEYS = re.compile(r"(?:color|c|marker|linestyle|ls|fontweight|weight|ha|va|loc|cmap|edgecolor|facecolor|kind|style|family|fontfamily|mode|template|orientation|align|hatch)\s*=\s*$")  # noqa: E501
MERMAID_LABEL = re.compile(r"([\[\(\{]+)([^\[\]\(\)\{\}\n|]*[A-Za-z][^\[\]\(\)\{\}\n|]*)([\]\)\}]+)")
SMILES_ATOM = re.compile(r"Cl|Br|[CNOcn]")
SMILES_SWAP = {"C": "N", "N": "C", "O": "S", "c": "n", "n": "c"}


def _replace(code: str, span: tuple[int, int], new: str) -> str:
    return code[: span[0]] + new + code[span[1] :]


def _pick(rng: random.Random, matches: list[re.Match]) -> re.Match | None:
    return rng.choice(matches) if matches else None


def _other(rng: random.Random, options: list[str], current: str) -> str:
    return rng.choice([o for o in options if o.lower() != current.lower()])


def recolour(code: str, rng: random.Random) -> str | None:
    m = _pick(rng, list(HEX.finditer(code)) + list(NAMED.finditer(code)))
    if m is None:
        return None
    options = PALETTE if m.group(0).startswith("#") else COLOUR_NAMES
    return _replace(code, m.span(), _other(rng, options, m.group(0)))


def resize(code: str, rng: random.Random) -> str | None:
    m = _pick(rng, [m for m in NUMBER.finditer(code) if float(m.group(1)) != 0])
    if m is None:
        return None
    text = m.group(1)
    factor = rng.uniform(0.5, 0.8) if rng.random() < 0.5 else rng.uniform(1.25, 1.6)
    if "." in text:
        decimals = min(2, len(text.split(".")[1]))
        new = f"{float(text) * factor:.{decimals}f}"
    else:
        value = round(int(text) * factor)
        new = str(value if value != int(text) else int(text) + 1)
    return _replace(code, m.span(1), new)


def _elements(code: str, language: str) -> list[re.Match]:
    if language == "svg":
        return [m for m in SVG_SHAPE.finditer(code)]
    if language == "html":
        skip = [m.span() for m in HTML_SKIP.finditer(code)]
        return [m for m in HTML_LEAF.finditer(code) if not any(a <= m.start() < b for a, b in skip)]
    if language == "latex":
        return list(TIKZ_STATEMENT.finditer(code))
    return []


def _drop_element(language: str) -> Perturbation:
    def drop(code: str, rng: random.Random) -> str | None:
        m = _pick(rng, _elements(code, language))
        return None if m is None else _replace(code, m.span(), "")

    return drop


def _shift(code: str) -> int:
    """A visible shift in user units: 12 % of the SVG viewBox or width (20 without either)."""
    m = re.search(r'viewBox\s*=\s*["\'][-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)', code) or re.search(r'\bwidth\s*=\s*["\']([\d.]+)', code)
    return max(1, round(0.12 * float(m.group(1)))) if m else 20


def _extra_element(language: str) -> Perturbation:
    def extra(code: str, rng: random.Random) -> str | None:
        m = _pick(rng, _elements(code, language))
        if m is None:
            return None
        element = m.group(0)
        if language == "svg":
            d = _shift(code)
            copy = f'<g transform="translate({d},{d})">{element}</g>'
        elif language == "latex":
            copy = "\\begin{scope}[shift={(0.5,-0.4)}]" + element + "\\end{scope}"
        else:
            copy = element
        return code[: m.end()] + copy + code[m.end() :]

    return extra


def _new_text(rng: random.Random, text: str) -> str:
    words = [w for w in re.finditer(r"[A-Za-z]{2,}", text)]
    if not words:
        return _other(rng, WORDS, text)
    w = rng.choice(words)
    return _replace(text, w.span(), _other(rng, WORDS, w.group(0)))


def _retext(pattern: re.Pattern, group: int, keep: Callable[[str, re.Match], bool] = lambda code, m: True) -> Perturbation:
    def retext(code: str, rng: random.Random) -> str | None:
        m = _pick(rng, [m for m in pattern.finditer(code) if keep(code, m)])
        return None if m is None else _replace(code, m.span(group), _new_text(rng, m.group(group)))

    return retext


def _html_text(code: str, m: re.Match) -> bool:
    return not any(a <= m.start() < b for a, b in (s.span() for s in HTML_SKIP.finditer(code)))


def _python_label(code: str, m: re.Match) -> bool:
    """A string that reads as a label or title: not a style value, a colour, a file name or an import."""
    line_start = code.rfind("\n", 0, m.start()) + 1
    before = code[line_start : m.start()]
    text = m.group(2)
    if before.lstrip().startswith(("import", "from")) or STYLE_KEYS.search(before) or re.search(r"\.\w{2,4}$", text):
        return False
    return text.lower() not in COLOUR_NAMES and not re.fullmatch(r"[a-z]{1,2}|[-:.o^sv*+x]+", text)


def _drop_plot_call(code: str, rng: random.Random) -> str | None:
    calls = [m for m in PLOT_CALL.finditer(code) if m.group(1) not in KEEP_CALLS and m.group(0).count("(") == m.group(0).count(")")]
    m = _pick(rng, calls)
    return None if m is None else _replace(code, m.span(), "")


def _mermaid_lines(code: str) -> list[re.Match]:
    lines = list(re.finditer(r"^[^\n]*\S[^\n]*$", code, re.M))
    return lines[1:]  # the first line is the diagram type


def _drop_mermaid_line(code: str, rng: random.Random) -> str | None:
    m = _pick(rng, _mermaid_lines(code))
    return None if m is None else _replace(code, (m.start(), min(len(code), m.end() + 1)), "")


def _extra_mermaid_node(code: str, rng: random.Random) -> str | None:
    ids = sorted(set(re.findall(r"^\s*([A-Za-z]\w*)\s*(?:[\[\(\{]|--|==|-\.)", code, re.M)))
    if not ids:
        return None
    return code.rstrip("\n") + f"\n  {rng.choice(ids)} --> Extra{rng.randint(1, 99)}[{rng.choice(WORDS)}]\n"


def _drop_smiles_part(code: str, rng: random.Random) -> str | None:
    branches = list(re.finditer(r"\([^()]*\)", code))
    if branches and rng.random() < 0.7:
        return _replace(code, rng.choice(branches).span(), "")
    m = re.search(r"(?:Cl|Br|[BCNOSPFI]|[bcnops]|\[[^\]]+\])\d*$", code.strip())
    return None if m is None or m.start() == 0 else code.strip()[: m.start()]


def _extra_smiles_branch(code: str, rng: random.Random) -> str | None:
    m = _pick(rng, [m for m in re.finditer(r"C(?![lr])", code)])
    return None if m is None else code[: m.end()] + "(C)" + code[m.end() :]


def _swap_smiles_atom(code: str, rng: random.Random) -> str | None:
    m = _pick(rng, [m for m in SMILES_ATOM.finditer(code) if m.group(0) in SMILES_SWAP])
    return None if m is None else _replace(code, m.span(), SMILES_SWAP[m.group(0)])


PERTURBATIONS: dict[str, dict[str, Perturbation]] = {
    "svg": {"recolour": recolour, "resize": resize, "drop": _drop_element("svg"), "extra": _extra_element("svg"),
            "retext": _retext(re.compile(r"(<text\b[^>]*>)([^<]*[A-Za-z][^<]*)(</text>)"), 2)},
    "html": {"recolour": recolour, "resize": resize, "drop": _drop_element("html"), "extra": _extra_element("html"),
             "retext": _retext(re.compile(r"(>)([^<>]*[A-Za-z]{2,}[^<>]*)(<)"), 2, _html_text)},
    "latex": {"recolour": recolour, "resize": resize, "drop": _drop_element("latex"), "extra": _extra_element("latex"),
              "retext": _retext(LATEX_TEXT, 2)},
    "python": {"recolour": recolour, "resize": resize, "drop": _drop_plot_call,
               "retext": _retext(PY_STRING, 2, _python_label)},
    "smiles": {"drop": _drop_smiles_part, "extra": _extra_smiles_branch, "retext": _swap_smiles_atom},
    "mermaid": {"recolour": recolour, "drop": _drop_mermaid_line, "extra": _extra_mermaid_node,
                "retext": _retext(MERMAID_LABEL, 2)},
}  # fmt: skip


def candidates(code: str, language: str, rng: random.Random, tries: int) -> Iterator[tuple[str, str]]:
    """Distinct perturbed programs (kind, code), kinds drawn at random (seeded by rng), from `tries` draws; a draw
    that finds nothing to change, or gives back the code or an earlier candidate, yields nothing."""
    kinds = PERTURBATIONS.get(language)
    if not kinds:
        raise ValueError(f"no perturbations for language {language!r}; known: {', '.join(PERTURBATIONS)}")
    names = sorted(kinds)
    seen = {code}
    for _ in range(tries):
        kind = rng.choice(names)
        new = kinds[kind](code, rng)
        if new is not None and new not in seen:
            seen.add(new)
            yield kind, new
