"""Language alignment: which code gets scored, under our reading ("fail" / "raw") and the reference systems'
("vincicoder": its regex; "rlrf": its <svg> span), each checked against the rule as stated."""

import re

import pytest

from vinci_rl.reward.extract import NO_CODE, OK, WRONG_LANGUAGE, extract_code, fenced_blocks, looks_like

SVG = "<svg xmlns='http://www.w3.org/2000/svg'/>"
TIKZ = "\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}"

CASES = [
    # (response, lang, on_missing, aliases, expected code, fence_ok, status, how)
    (f"```svg\n{SVG}\n```", "svg", "fail", None, SVG, True, OK, "fence"),
    (f"text\n```svg\nfirst\n```\nmore\n```svg\n{SVG}\n```\nbye", "svg", "fail", None, SVG, True, OK, "fence"),
    (f"```svg\n{SVG}\n```\n```html\n<p>x</p>\n```", "svg", "fail", None, SVG, True, OK, "fence"),  # last *svg* block
    (f"```svg\n{SVG}\n```\nRun:\n```bash\nrsvg-convert a.svg\n```", "svg", "fail", None, SVG, True, OK, "fence"),
    ("```LaTeX\nx\n```", "latex", "fail", None, "x", True, OK, "fence"),  # tags are case-insensitive
    ("```python title='plot'\nimport x\n```", "python", "fail", None, "import x", True, OK, "fence"),
    ("```smiles\nCCO\n```", "smiles", "fail", None, "CCO", True, OK, "fence"),
    ("```mermaid\ngraph TD; A-->B\n```", "mermaid", "fail", None, "graph TD; A-->B", True, OK, "fence"),
    ("  ```html\n<p>hi</p>\n  ```", "html", "fail", None, "<p>hi</p>", True, OK, "fence"),
    # lenient fences: read, format term at its lenient value
    (f"```xml\n{SVG}\n```", "svg", "fail", None, SVG, False, OK, "lenient"),
    (f"```tikz\n{TIKZ}\n```", "latex", "fail", None, TIKZ, False, OK, "lenient"),
    ("```tex\n\\draw (0,0);\n```", "latex", "fail", None, "\\draw (0,0);", False, OK, "lenient"),
    ("```py\nprint(1)\n```", "python", "fail", None, "print(1)", False, OK, "lenient"),
    (f"```\n{SVG}\n```", "svg", "fail", None, SVG, False, OK, "lenient"),  # untagged, svg signature
    (f"```\n<?xml version='1.0'?>\n{SVG}\n```", "svg", "fail", None, f"<?xml version='1.0'?>\n{SVG}", False, OK, "lenient"),
    ("```\nimport matplotlib\n```", "python", "fail", None, "import matplotlib", False, OK, "lenient"),
    ("```\ngraph LR\nA-->B\n```", "mermaid", "fail", None, "graph LR\nA-->B", False, OK, "lenient"),
    (f"~~~svg\n{SVG}\n~~~", "svg", "fail", None, SVG, False, OK, "lenient"),  # tilde fence
    (f"~~~\n{SVG}\n~~~", "svg", "fail", None, SVG, False, OK, "lenient"),
    (f"````svg\n```\n{SVG}\n````", "svg", "fail", None, f"```\n{SVG}", True, OK, "fence"),  # a longer fence nests ```
    (f"```svg\n{SVG}", "svg", "fail", None, SVG, False, OK, "lenient"),  # cut off by the length budget
    (f"```svg\n{SVG[:20]}", "svg", "fail", None, SVG[:20], False, OK, "lenient"),  # cut off mid-code: the render decides
    (f"```svg\nA\n```\nthen\n```svg\n{SVG[:9]}", "svg", "fail", None, SVG[:9], False, OK, "lenient"),  # last block wins
    (f"```svg\n{SVG}\n```\n```", "svg", "fail", None, SVG, True, OK, "fence"),  # a stray cut-off untagged block
    # not read: the target comes from the sample
    ("```html\n<p>x</p>\n```", "svg", "fail", None, None, False, WRONG_LANGUAGE, ""),
    ("```\n<p>untagged html</p>\n```", "svg", "fail", None, None, False, WRONG_LANGUAGE, ""),  # untagged, not svg
    (f"```\n{SVG}\n```", "html", "fail", None, None, False, WRONG_LANGUAGE, ""),  # an svg document is not html
    ("```text\n<svg/>\n```", "svg", "fail", None, None, False, WRONG_LANGUAGE, ""),  # unknown tags are not untagged
    (SVG, "svg", "fail", None, None, False, NO_CODE, ""),
    ("", "svg", "fail", None, None, False, NO_CODE, ""),
    # configured aliases are exact
    ("```image\nX\n```", "svg", "fail", {"svg": ["image"]}, "X", True, OK, "fence"),
    # raw fallback: last block of any tag, else the whole text; the fence is still wrong
    (f"  {SVG}  \n", "svg", "raw", None, SVG, False, NO_CODE, "raw"),
    (f"```html\n{SVG}\n```", "svg", "raw", None, SVG, False, WRONG_LANGUAGE, "raw"),
    (f"```xml\n{SVG}\n```", "svg", "raw", None, SVG, False, OK, "lenient"),
    ("```svg\n\n```", "svg", "fail", None, "", True, OK, "fence"),  # empty block: the renderer says empty
    ("```svg\r\n<svg/>\r\n```\r\n", "svg", "fail", None, "<svg/>", True, OK, "fence"),  # CRLF
    ("```svg\n<a/>\n```python\nx\n```", "svg", "fail", None, "<a/>\n```python\nx", True, OK, "fence"),  # only a bare fence closes
]


@pytest.mark.parametrize("response,lang,on_missing,aliases,code,fence_ok,status,how", CASES)
def test_extract_code(response, lang, on_missing, aliases, code, fence_ok, status, how):
    ex = extract_code(response, lang, aliases=aliases, on_missing=on_missing)
    assert (ex.code, ex.fence_ok, ex.status, ex.how) == (code, fence_ok, status, how)
    assert ex.lenient == (how == "lenient")


@pytest.mark.parametrize(
    "lang,code,expected",
    [
        ("svg", "<svg width='1'/>", True),
        ("svg", "<!-- logo -->\n<svg>", True),
        ("svg", "<html><svg/></html>", False),
        ("html", "<!DOCTYPE html><html>", True),
        ("html", "<div>hi</div>", True),
        ("html", "<svg/>", False),
        ("latex", "% a picture\n\\begin{tikzpicture}", True),
        ("latex", "import tikz", False),
        ("python", "# plot\nimport numpy as np", True),
        ("python", "from matplotlib import pyplot", True),
        ("python", "graph LR", False),
        ("mermaid", "%% comment\nflowchart TD", True),
        ("mermaid", "import x", False),
        ("smiles", "c1ccccc1C(=O)O", True),
        ("smiles", "graph LR\nA-->B", False),
        ("klingon", "anything", False),
    ],
)
def test_signatures(lang, code, expected):
    assert looks_like(lang, code) is expected


def test_no_two_languages_claim_the_same_untagged_block():
    samples = {"svg": SVG, "html": "<!doctype html><p>x</p>", "latex": TIKZ, "python": "import matplotlib",
               "mermaid": "graph LR\n A-->B", "smiles": "CC(=O)O"}  # fmt: skip
    for lang, code in samples.items():
        claimed = [other for other in samples if looks_like(other, code)]
        assert claimed == [lang], (lang, claimed)


def test_tags_and_cut_off_blocks_are_reported():
    ex = extract_code("```html\na\n```\n```xml\nb\n```", "svg")
    assert ex.tags == ("html", "xml")
    blocks = fenced_blocks("```svg\nx\n```\n~~~py\ny")
    assert [(b.tag, b.code, b.fence, b.closed) for b in blocks] == [("svg", "x", "`", True), ("py", "y", "~", False)]


def test_bad_policy_raises():
    with pytest.raises(ValueError, match="on_missing"):
        extract_code("x", "svg", on_missing="guess")


@pytest.mark.parametrize("on_missing", ["fail", "vincicoder", "rlrf"])
def test_adversarial_responses_are_linear_time(on_missing):
    import time

    for response in ("```a\n" * 20000, "```svg " * 20000, "<svg " * 20000 + ">", "<svg>" * 20000):
        t = time.perf_counter()
        extract_code(response, "svg", on_missing=on_missing)
        assert time.perf_counter() - t < 0.5, (on_missing, response[:10])


# ---- VinciCoder's rule: its regex, as its released code states it ----------------------------------------------

VINCI_RESPONSES = [
    f"```svg\n{SVG}\n```",
    f"Sure! ```svg {SVG} ``` done",  # inline
    f"```svg\nfirst\n```\n```svg\n{SVG}\n```",  # last match
    f"```SVG\n{SVG}\n```",  # case-sensitive: no match
    f"```xml\n{SVG}\n```",
    f"```\n{SVG}\n```",
    f"```svgxml\n{SVG}\n```",  # the tag may run into the code
    f"```svg\n{SVG}",  # unclosed: no match
    "```svg```",  # empty
    f"```svg\n  {SVG}  \n\n```trailing",
    "```svg\nA ``` B\n```",  # the code ends at the next ```
    "no code at all",
    f"```html\n<p/>\n```\n```svg\n{SVG}\n```\n```svg\n",
]


@pytest.mark.parametrize("response", VINCI_RESPONSES)
def test_vincicoder_reading_is_its_regex(response):
    matches = re.compile(r"```svg\s*(.*?)\s*```", re.DOTALL).findall(response)
    ex = extract_code(response, "svg", on_missing="vincicoder")
    if matches:
        assert (ex.code, ex.fence_ok, ex.status) == (matches[-1], True, OK)
    else:
        assert ex.code is None and not ex.fence_ok
        assert ex.status == (WRONG_LANGUAGE if "```" in response else NO_CODE)


# ---- RLRF's rule: the last <svg ...>...</svg> span ---------------------------------------------------------------

RLRF_RESPONSES = [
    SVG.replace("/>", "></svg>"),
    "Here:\n```svg\n<svg width='2'><rect/></svg>\n```\n",
    "<svg>a</svg> and <SVG viewBox='0 0 1 1'>b</Svg>",  # last, case-insensitive
    "<svg><svg>inner</svg>outer</svg>",  # non-greedy: ends at the first </svg>
    "<svgfoo>x</svg>",  # \b: not an svg element
    "<svg>never closed",
    "  \n<svg>\n  <rect/>\n</svg>\n\n",  # the span only: surrounding blanks are not scored
    "",
]


@pytest.mark.parametrize("response", RLRF_RESPONSES)
def test_rlrf_reading_is_its_regex(response):
    matches = list(re.finditer(r"<svg\b[^>]*>.*?</svg>", response, flags=re.DOTALL | re.IGNORECASE))
    ex = extract_code(response, "svg", on_missing="rlrf")
    if matches:
        assert (ex.code, ex.status) == (matches[-1].group(0), OK)
    else:
        assert (ex.code, ex.status) == (None, NO_CODE)


def test_rlrf_reading_of_other_languages_is_ours():
    assert extract_code("```tikz\n\\draw;\n```", "latex", on_missing="rlrf").code == "\\draw;"
