"""Language alignment: the last fenced block of the sample's target language is what gets scored."""

import pytest

from vinci_rl.reward.extract import NO_CODE, OK, WRONG_LANGUAGE, extract_code

SVG = "<svg xmlns='http://www.w3.org/2000/svg'/>"

CASES = [
    # (response, lang, on_missing, aliases, expected code, fence_ok, status)
    (f"```svg\n{SVG}\n```", "svg", "fail", None, SVG, True, OK),
    (f"text\n```svg\nfirst\n```\nmore\n```svg\n{SVG}\n```\nbye", "svg", "fail", None, SVG, True, OK),
    (f"```svg\n{SVG}\n```\n```html\n<p>x</p>\n```", "svg", "fail", None, SVG, True, OK),  # last *svg* block
    ("```tex\n\\draw (0,0);\n```", "latex", "fail", None, "\\draw (0,0);", True, OK),
    ("```LaTeX\nx\n```", "latex", "fail", None, "x", True, OK),
    ("```python title='plot'\nimport x\n```", "python", "fail", None, "import x", True, OK),
    ("```py\nprint(1)\n```", "python", "fail", None, "print(1)", True, OK),
    ("```smiles\nCCO\n```", "smiles", "fail", None, "CCO", True, OK),
    ("```mermaid\ngraph TD; A-->B\n```", "mermaid", "fail", None, "graph TD; A-->B", True, OK),
    ("  ```html\n<p>hi</p>\n  ```", "html", "fail", None, "<p>hi</p>", True, OK),
    # the target comes from the sample: valid html is the wrong language for an svg task
    ("```html\n<p>x</p>\n```", "svg", "fail", None, None, False, WRONG_LANGUAGE),
    (f"```xml\n{SVG}\n```", "svg", "fail", None, None, False, WRONG_LANGUAGE),
    (f"```\n{SVG}\n```", "svg", "fail", None, None, False, WRONG_LANGUAGE),  # untagged fence
    (SVG, "svg", "fail", None, None, False, NO_CODE),
    (f"```svg\n{SVG}", "svg", "fail", None, None, False, NO_CODE),  # unclosed (truncated) fence
    ("", "svg", "fail", None, None, False, NO_CODE),
    # configured aliases
    (f"```xml\n{SVG}\n```", "svg", "fail", {"svg": ["xml"]}, SVG, True, OK),
    # raw fallback: last block of any tag, else the whole text; the fence is still wrong
    (f"  {SVG}  \n", "svg", "raw", None, SVG, False, NO_CODE),
    (f"```xml\n{SVG}\n```", "svg", "raw", None, SVG, False, WRONG_LANGUAGE),
    ("```svg\n\n```", "svg", "fail", None, "", True, OK),  # empty block: the renderer says empty
    ("```svg\r\n<svg/>\r\n```\r\n", "svg", "fail", None, "<svg/>", True, OK),  # CRLF
    ("```svg\n<a/>\n```python\nx\n```", "svg", "fail", None, "<a/>\n```python\nx", True, OK),  # only a bare fence closes
]


@pytest.mark.parametrize("response,lang,on_missing,aliases,code,fence_ok,status", CASES)
def test_extract_code(response, lang, on_missing, aliases, code, fence_ok, status):
    ex = extract_code(response, lang, aliases=aliases, on_missing=on_missing)
    assert (ex.code, ex.fence_ok, ex.status) == (code, fence_ok, status)


def test_tags_are_reported():
    ex = extract_code("```html\na\n```\n```xml\nb\n```", "svg")
    assert ex.tags == ("html", "xml")


def test_bad_policy_raises():
    with pytest.raises(ValueError, match="on_missing"):
        extract_code("x", "svg", on_missing="guess")


def test_many_unclosed_fences_are_linear_time():
    import time

    t = time.perf_counter()
    assert extract_code("```a\n" * 20000, "svg").status == NO_CODE
    assert time.perf_counter() - t < 0.5
