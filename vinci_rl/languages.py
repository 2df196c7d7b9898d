"""The languages vinci-rl trains: one frozen record per language, and the lookups everything else uses.

    from vinci_rl.languages import LANGUAGES, language, normalize
    language("svg").fence            # "svg": the fence tag the prompt asks for
    normalize("TikZ")                # "latex": a name as datasets and users write it -> the language key

Every fact about a language lives here and nowhere else: the fence tag and the other tags read as a lenient fence,
the names a dataset may use for it, its code file extensions, the default prompt, how an untagged block of it
starts (its signature: no two languages share one), the render timeout, the renderer backend, a tiny warm-up
program, and whether its layout depends on the canvas size. This module imports nothing of vinci_rl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    name: str  # the key everywhere: data_source "vinci/<name>", extra_info.language, the renderer's language
    title: str  # how prompts name it ({name} in a prompt template)
    fence: str  # the fence tag the prompt asks for (```<fence>)
    fence_aliases: tuple[str, ...]  # other fence tags read as a lenient fence (lower case)
    labels: tuple[str, ...]  # other names a dataset or a user may give it (--lang, --lang-col), lower case
    extensions: tuple[str, ...]  # code file extensions; the first is the one written
    prompt: str  # default prompt template: <image> once; placeholders {name} {fence} {language}
    signature: re.Pattern[str]  # how an untagged block of it starts (matched after leading blanks)
    timeout_s: float  # default wall-clock budget of one render
    backend: str  # "module:Class" of its renderer, imported on first use
    warmup: str  # a tiny program that starts the renderer's backend (browser, forkserver, TeX)
    native_size: bool  # its layout depends on the canvas size (a viewport, a figure in inches)


# Placeholders: {name} (Language.title), {fence} (Language.fence), {language} (the key); <image> exactly once.
GENERIC_PROMPT = "<image>Write {name} code that renders exactly this image. Answer with one ```{fence} code block."

_LANGUAGES = (
    Language(
        name="svg",
        title="SVG",
        fence="svg",
        fence_aliases=("xml", "svg+xml", "image/svg+xml"),
        labels=(),
        extensions=(".svg",),
        prompt=GENERIC_PROMPT,
        signature=re.compile(r"(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype\s+svg[^>]*>\s*)?<svg\b", re.I | re.S),
        timeout_s=5.0,
        backend="vinci_rl.render.svg:SvgBackend",
        warmup='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="2" height="2"/></svg>',
        native_size=False,
    ),
    Language(
        name="html",
        title="HTML/CSS",
        fence="html",
        fence_aliases=("htm", "xhtml", "html5"),
        labels=("htm", "css"),
        extensions=(".html", ".htm"),
        prompt="<image>Write HTML/CSS for a web page that renders exactly like this screenshot. "
        "Answer with one ```html code block.",
        signature=re.compile(
            r"(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|style|div|section|main|header|table)\b", re.I | re.S
        ),
        timeout_s=5.0,
        backend="vinci_rl.render.html:HtmlBackend",
        warmup="<html><body><div style='width:8px;height:8px;background:#000'></div></body></html>",
        native_size=True,
    ),
    Language(
        name="latex",
        title="LaTeX (TikZ)",
        fence="latex",
        fence_aliases=("tex", "tikz", "pgfplots", "latex2e"),
        labels=("tex", "tikz"),
        extensions=(".tex",),
        prompt="<image>Write LaTeX (TikZ or pgfplots) code that draws exactly this figure. "
        "Answer with one ```latex code block.",
        signature=re.compile(
            r"(%[^\n]*\n\s*)*\\(documentclass|usepackage|usetikzlibrary|begin\s*\{|tikz|draw|fill|node|pgfplotsset)"
        ),
        timeout_s=10.0,
        backend="vinci_rl.render.latex:LatexBackend",
        warmup="\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}",
        native_size=False,
    ),
    Language(
        name="python",
        title="Python (matplotlib)",
        fence="python",
        fence_aliases=("py", "python3", "py3"),
        labels=("py", "matplotlib"),
        extensions=(".py",),
        prompt="<image>Write Python (matplotlib) code that plots this chart. Answer with one ```python code block.",
        signature=re.compile(r"(#[^\n]*\n\s*)*(import\s+\w|from\s+[\w.]+\s+import\s)"),
        timeout_s=10.0,
        backend="vinci_rl.render.python_code:PythonBackend",
        warmup="import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()",
        native_size=True,
    ),
    Language(
        name="smiles",
        title="SMILES",
        fence="smiles",
        fence_aliases=("smi",),
        labels=("smi",),
        extensions=(".smi", ".smiles"),
        prompt="<image>Write the SMILES string of the molecule in this image. Answer with one ```smiles code block.",
        signature=re.compile(r"[A-Za-z0-9@+\-\[\]()=#$%/\\.:*~]+\s*\Z"),
        timeout_s=5.0,
        backend="vinci_rl.render.smiles:SmilesBackend",
        warmup="CCO",
        native_size=False,
    ),
    Language(
        name="mermaid",
        title="Mermaid",
        fence="mermaid",
        fence_aliases=("mmd",),
        labels=("mmd",),
        extensions=(".mmd",),
        prompt="<image>Write Mermaid code that renders exactly this diagram. Answer with one ```mermaid code block.",
        signature=re.compile(
            r"(%%[^\n]*\n\s*)*(graph|flowchart|sequenceDiagram|classDiagram|stateDiagram(-v2)?|erDiagram|gantt|pie|"
            r"journey|gitGraph|mindmap|timeline|quadrantChart|requirementDiagram|xychart-beta|sankey-beta|block-beta)\b"
        ),
        timeout_s=8.0,
        backend="vinci_rl.render.mermaid:MermaidBackend",
        warmup="graph LR\n  A --> B",
        native_size=False,
    ),
)

LANGUAGES: dict[str, Language] = {lang.name: lang for lang in _LANGUAGES}
NAMES: tuple[str, ...] = tuple(LANGUAGES)
_BY_LABEL = {label: lang.name for lang in _LANGUAGES for label in lang.labels}
_BY_EXTENSION = {ext: lang.name for lang in _LANGUAGES for ext in lang.extensions}


def language(name: str) -> Language:
    """The record of a language key; ValueError naming the known ones otherwise."""
    try:
        return LANGUAGES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown language {name!r}; known: {', '.join(NAMES)}") from None


def normalize(name: object) -> str | None:
    """A language name as written in data or on a command line -> its key: 'SVG' -> 'svg', 'TikZ' -> 'latex'.
    None for an empty value; an unknown name comes back lower-cased (callers report it)."""
    if name is None or (isinstance(name, float) and name != name) or not str(name).strip():
        return None
    key = str(name).strip().lower()
    return _BY_LABEL.get(key, key)


def is_relabel(name: object) -> bool:
    """Whether `name` is another language's label ('tikz', 'py'), not the key itself written in other case."""
    key = normalize(name)
    return key is not None and key != str(name).strip().lower()


def from_extension(suffix: str) -> str | None:
    """The language of a code file extension ('.tex' -> 'latex'), None when it is not one."""
    return _BY_EXTENSION.get(suffix.lower())


def looks_like(name: str, code: str) -> bool:
    """Whether code starts the way code of the language does; False for an unknown language."""
    lang = LANGUAGES.get(name.lower())
    return bool(lang and lang.signature.match(code.lstrip()))


def reads_as(code: str) -> str | None:
    """The one language whose signature the code starts with, or None (no signature, or an unknown one)."""
    found = [name for name in NAMES if looks_like(name, code)]
    return found[0] if len(found) == 1 else None
