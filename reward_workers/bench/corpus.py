"""The benchmark corpus: per language, GRPO-like groups of rollouts (one reference image per prompt, `group`
responses each), with failures and hostile cases in realistic proportion:

    ~55% a different valid program (the common case: close, not equal), ~15% the ground truth itself (identical
    programs in a group), ~12% truncated code (parse errors), ~10% no code fence (no_code), ~8% other valid
    programs, and one hostile sample per 32 (an infinite loop / `<use>` bomb / TeX loop: it ends in `timeout`).

References are rendered once with a warm renderer while the corpus is built (not timed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from vinci_rl.data.sample_programs import GENERATORS

LANGUAGES = ("svg", "html", "python", "latex", "smiles")
HOSTILE_EVERY = 32

# One hostile program per language: each only ends through the render timeout (or a resource guard).
HOSTILE = {
    "svg": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100">'
    '<defs><g id="a"><rect width="1" height="1"/></g>'
    + "".join(
        f'<g id="{chr(98 + i)}">' + "".join(f'<use xlink:href="#{chr(97 + i)}"/>' for _ in range(10)) + "</g>"
        for i in range(7)
    )
    + '</defs><use xlink:href="#h"/></svg>',
    "html": "<html><body><div style='background:red;width:50px;height:50px'></div><script>while(true){}</script></body></html>",
    "python": "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nwhile True:\n    pass\n",
    "latex": "\\def\\x{\\x}\\x",
    "smiles": "C" * 6000,
}


@dataclass
class BenchSample:
    response: str
    lang: str
    reference: np.ndarray
    ground_truth: str
    kind: str  # valid | exact | truncated | no_fence | hostile


def _fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code}\n```"


def build_corpus(languages: list[str], n_per_language: int, size: tuple[int, int] = (256, 256), group: int = 4,
                 seed: int = 0, renderer=None) -> dict[str, list[BenchSample]]:  # fmt: skip
    """language -> samples (n_per_language each, in groups of `group` sharing a reference)."""
    from vinci_rl.render import Renderer

    own = renderer is None
    renderer = renderer or Renderer()
    try:
        corpus = {}
        for lang in languages:
            rng = random.Random(f"{seed}-{lang}")
            samples: list[BenchSample] = []
            k = 0
            while len(samples) < n_per_language:
                truth = GENERATORS[lang](rng)
                res = renderer.render(lang, truth, size)
                if not res.ok:
                    continue
                for _ in range(min(group, n_per_language - len(samples))):
                    k += 1
                    samples.append(_response(lang, truth, res.image, rng, hostile=(k % HOSTILE_EVERY == HOSTILE_EVERY // 2)))
            corpus[lang] = samples
        return corpus
    finally:
        if own:
            renderer.close()


def _response(lang: str, truth: str, ref: np.ndarray, rng: random.Random, hostile: bool) -> BenchSample:
    if hostile:
        return BenchSample(_fence(lang, HOSTILE[lang]), lang, ref, truth, "hostile")
    r = rng.random()
    if r < 0.15:
        code, kind = truth, "exact"
    elif r < 0.27:
        code, kind = truth[: max(1, len(truth) // 2)], "truncated"
        if lang == "smiles":
            code = truth + "(("  # a cut SMILES string is often still valid: unbalanced brackets are not
    elif r < 0.37:
        return BenchSample(f"Here is the picture:\n{GENERATORS[lang](rng)}", lang, ref, truth, "no_fence")
    else:
        code, kind = GENERATORS[lang](rng), "valid"
    return BenchSample(_fence(lang, code), lang, ref, truth, kind)
