"""Language alignment: which code in a model response gets rendered and scored.

The target language comes from the sample (the task / ground truth), never from the output. The scored
code is the last closed fenced block whose info tag is one of the language's aliases (VinciCoder). When
there is none, the policy decides: "fail" (VinciCoder: the sample scores the wrong-language / no-code
failure value) or "raw" (lenient: the last fenced block of any tag, else the whole response).
An unclosed fence (a truncated response) is not a block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

OK = "ok"
WRONG_LANGUAGE = "wrong_language"  # fenced blocks exist, none tagged with the target language
NO_CODE = "no_code"  # no fenced block at all

ON_MISSING = ("fail", "raw")

# target language -> fence tags accepted for it (lower case)
DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "svg": ("svg",),
    "html": ("html", "htm"),
    "latex": ("latex", "tex"),
    "python": ("python", "py"),
    "smiles": ("smiles",),
    "mermaid": ("mermaid",),
}

_OPEN = re.compile(r"[ \t]*```([^`]*)")  # a fence line with an optional info string (split below)
_CLOSE = re.compile(r"[ \t]*```[ \t]*")  # a bare fence line


@dataclass(frozen=True)
class Extraction:
    """code: what to render (None when the policy rejects the response); fence_ok: a block of the target
    language was found; status: "ok", "wrong_language" or "no_code"; tags: the fence tags seen, in order."""

    code: str | None
    fence_ok: bool
    status: str
    tags: tuple[str, ...] = ()


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """All closed fenced blocks as (tag, code); tag is the first word of the info string, lower case.

    One linear pass over the lines (a regex with backtracking is quadratic on many unclosed fences): an
    opening fence line starts a block, the next bare fence line closes it; an unclosed block is dropped.
    """
    blocks: list[tuple[str, str]] = []
    tag: str | None = None
    body: list[str] = []
    for line in text.split("\n"):
        line = line.removesuffix("\r")  # CRLF responses
        if tag is None:
            m = _OPEN.fullmatch(line)
            if m:
                info = m.group(1).split()
                tag, body = (info[0].lower() if info else ""), []
        elif _CLOSE.fullmatch(line):
            blocks.append((tag, "\n".join(body)))
            tag = None
        else:
            body.append(line)
    return blocks


def aliases_for(lang: str, aliases: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """Fence tags accepted for lang: the language name itself, the defaults, and configured extras."""
    tags = [lang.lower(), *DEFAULT_ALIASES.get(lang.lower(), ())]
    if aliases:
        tags.extend(a.lower() for a in aliases.get(lang, ()))
    return tuple(dict.fromkeys(tags))


def extract_code(
    response: str,
    lang: str,
    aliases: Mapping[str, Sequence[str]] | None = None,
    on_missing: str = "fail",
) -> Extraction:
    """The code to score for target language lang (see the module docstring for the rules)."""
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
    blocks = fenced_blocks(response)
    tags = tuple(t for t, _ in blocks)
    accepted = aliases_for(lang, aliases)
    for tag, code in reversed(blocks):
        if tag in accepted:
            return Extraction(code.strip("\n"), True, OK, tags)
    status = WRONG_LANGUAGE if blocks else NO_CODE
    if on_missing == "fail":
        return Extraction(None, False, status, tags)
    code = blocks[-1][1].strip("\n") if blocks else response.strip()
    return Extraction(code, False, status, tags)
