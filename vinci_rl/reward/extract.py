"""Language alignment: which code in a model response gets rendered and scored.

The target language comes from the sample (the task / ground truth), never from the output. `on_missing` picks
the reading rule and what happens when it finds nothing:

"fail" / "raw" - read fences as models write them (our presets). Fenced blocks are found line by line: an
  opening line of three or more ``` or ~~~ (any indentation) with an optional info string, whose first word,
  lower-cased, is the tag; the block ends at a line holding only the same fence character, at least as many
  times; a block still open at the end of the response was cut off (by the length budget) and ends there.
  A block is read for language L when
    - its tag is L or one of `aliases[L]` (configured) and it is a closed ``` block: an *exact* fence;
    - its tag is L, a configured alias or a built-in alias of L (BUILTIN_ALIASES: xml for svg, tikz / tex for
      latex, py for python, ...), or it is untagged and its first line carries L's signature (SIGNATURES: an
      `<svg` element, `<!doctype html` / `<html` ..., a TeX command, a Python import, a Mermaid diagram keyword,
      a lone SMILES token; no two languages share one, so an untagged block is never ambiguous), with a ~~~
      fence, an alias or no tag, or cut off: a *lenient* fence.
  The scored block is the last read block in the response (a cut-off block can only be the last one), so a
  ```bash block after the ```svg one changes nothing. The format term is format.right_value for an exact
  fence and format.lenient_value for a lenient one. When no block is read: "fail" -> the sample scores
  failure_rewards[wrong_language | no_code]; "raw" -> the last block of any tag, else the whole response.
"vincicoder" - VinciCoder's released rule: the regex ```L\\s*(.*?)\\s*``` over the whole response (exact,
  case-sensitive tag L that may run into the code, inline fences allowed, the code ends at the next ```), the
  last match; none -> failure. Configured aliases are not read.
"rlrf" - RLRF's released rule for SVG: the last complete `<svg ...>...</svg>` span (case-insensitive) anywhere
  in the response, fenced or not, taken as is; none -> failure (no_code). Other languages read as "fail".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from vinci_rl.languages import LANGUAGES, looks_like

OK = "ok"
WRONG_LANGUAGE = "wrong_language"  # fenced blocks exist, none read for the target language
NO_CODE = "no_code"  # no fenced block at all (or, for "rlrf", no <svg> element)

ON_MISSING = ("fail", "raw", "vincicoder", "rlrf")

# Fence tags read (as lenient fences) besides the language name itself, and how an untagged block of a language
# starts: both are facts of the language table (vinci_rl/languages.py).
BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {name: lang.fence_aliases for name, lang in LANGUAGES.items()}
SIGNATURES: dict[str, re.Pattern[str]] = {name: lang.signature for name, lang in LANGUAGES.items()}

_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})([^`]*)")  # a fence line with an optional info string
_CLOSE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*")  # a bare fence line
_SVG_OPEN = re.compile(r"<svg\b", re.I)
_SVG_CLOSE = re.compile(r"</svg>", re.I)


@dataclass(frozen=True)
class Extraction:
    """code: what to render (None when nothing was read and the policy fails); fence_ok: read from an exact
    fence (or found by a reference system's rule); status: "ok", "wrong_language" or "no_code"; tags: the fence
    tags seen, in order; how: "fence", "lenient", "raw", "vincicoder", "rlrf" or "" (nothing read)."""

    code: str | None
    fence_ok: bool
    status: str
    tags: tuple[str, ...] = ()
    how: str = ""

    @property
    def lenient(self) -> bool:
        """Read from a fence written another way than asked (the format term's lenient value applies)."""
        return self.how == "lenient"


@dataclass(frozen=True)
class Block:
    tag: str
    code: str
    fence: str  # "`" or "~"
    closed: bool


def fenced_blocks(text: str) -> list[Block]:
    """All fenced blocks in order; the last one may be cut off (closed=False). One linear pass over the lines
    (a regex with backtracking is quadratic on many unclosed fences)."""
    blocks: list[Block] = []
    opening: tuple[str, str] | None = None  # (fence run, tag) of the open block
    body: list[str] = []
    for line in text.split("\n"):
        line = line.removesuffix("\r")  # CRLF responses
        if opening is None:
            m = _OPEN.fullmatch(line)
            if m:
                info = m.group(2).split()
                opening, body = (m.group(1), info[0].lower() if info else ""), []
            continue
        m = _CLOSE.fullmatch(line)
        run = opening[0]
        if m and m.group(1)[0] == run[0] and len(m.group(1)) >= len(run):
            blocks.append(Block(opening[1], "\n".join(body), run[0], True))
            opening = None
        else:
            body.append(line)
    if opening is not None:
        blocks.append(Block(opening[1], "\n".join(body), opening[0][0], False))
    return blocks


def aliases_for(lang: str, aliases: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """Tags read as an exact fence for lang: the language name and its configured aliases (lower case)."""
    tags = [lang.lower()]
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
    if on_missing == "vincicoder":
        return _vincicoder(response, lang)
    if on_missing == "rlrf" and lang.lower() == "svg":
        return _rlrf_svg(response)
    blocks = fenced_blocks(response)
    tags = tuple(b.tag for b in blocks)
    exact = aliases_for(lang, aliases)
    accepted = exact + BUILTIN_ALIASES.get(lang.lower(), ())
    for b in reversed(blocks):
        if b.tag in accepted or (b.tag == "" and looks_like(lang, b.code)):
            is_exact = b.closed and b.fence == "`" and b.tag in exact
            return Extraction(b.code.strip("\n"), is_exact, OK, tags, "fence" if is_exact else "lenient")
    status = WRONG_LANGUAGE if blocks else NO_CODE
    if on_missing == "raw":
        code = blocks[-1].code.strip("\n") if blocks else response.strip()
        return Extraction(code, False, status, tags, "raw")
    return Extraction(None, False, status, tags)


def _vincicoder(response: str, lang: str) -> Extraction:
    """Last match of ```{lang}\\s*(.*?)\\s*``` (re.DOTALL), in one linear scan."""
    opener, matches, pos = "```" + lang, [], 0
    while True:
        start = response.find(opener, pos)
        if start < 0:
            break
        end = response.find("```", start + len(opener))
        if end < 0:  # no later opener can be closed either
            break
        matches.append(response[start + len(opener) : end].strip())
        pos = end + 3
    tags = tuple(b.tag for b in fenced_blocks(response))
    if matches:
        return Extraction(matches[-1], True, OK, tags, "vincicoder")
    return Extraction(None, False, WRONG_LANGUAGE if "```" in response else NO_CODE, tags)


def _rlrf_svg(response: str) -> Extraction:
    """Last non-overlapping match of <svg\\b[^>]*>.*?</svg> (re.I | re.S), in one linear scan."""
    last, pos = None, 0
    while True:
        m = _SVG_OPEN.search(response, pos)
        if m is None:
            break
        tag_end = response.find(">", m.end())
        if tag_end < 0:
            break
        close = _SVG_CLOSE.search(response, tag_end + 1)
        if close is None:
            break
        last, pos = (m.start(), close.end()), close.end()
    tags = tuple(b.tag for b in fenced_blocks(response))
    if last is None:
        return Extraction(None, False, NO_CODE, tags)
    return Extraction(response[last[0] : last[1]], True, OK, tags, "rlrf")
