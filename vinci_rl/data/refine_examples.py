"""Refinement examples for SFT (`vinci-rl prepare --refine-examples N`): the reference image, the render of a
perturbed ground truth, and the ground truth as the fix, in the turns the `vinci_refine_agent` agent loop shows the
model during render-and-refine training:

  [user]       the task and the reference image                                        loss_mask 0
  [assistant]  the perturbed program, fenced (a wrong first answer)                    loss_mask 0
  [user]       <image> the render of that program + the feedback text                   loss_mask 0
  [assistant]  the ground truth, fenced                                                 loss_mask 1 (trained)

    rows, stats = refine_rows(train_rows, n=200, seed=0, renderer=renderer, template_for=lambda lang: template)

For each example, a row of the set is taken in a seeded order (cycling through the rows when n exceeds them);
perturbed ground truths (perturb.py) are scored in turn by the reward's scorer with the given (sandboxed) renderer,
until one renders (status ok) and its render differs visibly from the ground truth's (at least MIN_CHANGED of the
pixels); the image shown is the render as the reward compared it, as the agent loop shows it. A row none of whose
MAX_TRIES candidates passes gives no example that time (counted). Same rows and seed: same examples.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from vinci_rl.data.perturb import candidates
from vinci_rl.data.rows import Attempt, TaskRow, answer_text, make_row, task_row
from vinci_rl.refine.config import DEFAULT_FEEDBACK, RefineConfig
from vinci_rl.refine.rules import feedback_text

MAX_TRIES = 12  # perturbation draws per example
MIN_CHANGED = 0.002  # share of pixels a perturbed render must change (a channel off by more than CHANGE_LEVEL)
CHANGE_LEVEL = 24
SUFFIX = "~refine"  # extra_info.id of an example: <row id>~refine<k>


@dataclass
class RefineStats:
    requested: int = 0
    built: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # perturbation kind -> examples
    # candidates turned down: the code failed to render, or rendered (nearly) like the ground truth
    rejected: dict[str, int] = field(default_factory=lambda: {"render_failed": 0, "render_unchanged": 0})
    # rows that gave no example (every candidate failed, or the ground truth itself did not render), once per try
    no_example: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def changed(render: np.ndarray, reference_render: np.ndarray) -> bool:
    """The two renders (same size) differ visibly: at least MIN_CHANGED of the pixels, by more than CHANGE_LEVEL."""
    if render.shape != reference_render.shape:
        return True
    diff = np.abs(render.astype(np.int16) - reference_render.astype(np.int16)).max(axis=-1)
    return float(np.mean(diff > CHANGE_LEVEL)) >= MIN_CHANGED


def refine_rows(
    rows: list[dict],
    n: int,
    seed: int,
    renderer: Any,
    template_for: Callable[[str], str],
    reward: str = "default",
    feedback: str = DEFAULT_FEEDBACK,
    progress: bool = False,
) -> tuple[list[dict], RefineStats]:
    """Up to n refinement rows (rows.make_row with an Attempt) from prepared rows (make_row dicts)."""
    from vinci_rl.reward import RewardConfig, VisualScorer

    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"refine_examples: {n!r} must be a whole number >= 0")
    stats = RefineStats(requested=n)
    if n == 0 or not rows:
        return [], stats
    tasks = [task_row(r, f"row {i}") for i, r in enumerate(rows)]
    order = list(range(len(tasks)))
    random.Random(seed).shuffle(order)
    scorer = VisualScorer(RewardConfig.load(reward), renderer=renderer)
    gt_renders: dict[int, np.ndarray | None] = {}
    out: list[dict] = []
    try:
        for k in tqdm(range(n), desc="refine examples", unit="row", disable=not progress):
            i = order[k % len(tasks)]
            task = tasks[i]
            if i not in gt_renders:
                gt_renders[i] = scorer.score(answer_text(task.language, task.ground_truth), task.language, task.decode(),
                                             ground_truth=task.ground_truth).render  # fmt: skip
            rng = random.Random(f"{seed}/{task.id}/{k // len(tasks)}")
            attempt = None if gt_renders[i] is None else _attempt(scorer, task, gt_renders[i], rng, stats, feedback)
            if attempt is None:
                stats.no_example.append(task.id)
                continue
            row = make_row(f"{task.id}{SUFFIX}{k // len(tasks)}", len(out), task.language, task.ground_truth,
                           task.decode(), task.gt_tokens, template_for(task.language), attempt=attempt)  # fmt: skip
            out.append(row)
            stats.kinds[attempt.kind] = stats.kinds.get(attempt.kind, 0) + 1
    finally:
        scorer.close()
    stats.built = len(out)
    return out, stats


def _attempt(scorer: Any, task: TaskRow, gt_render: np.ndarray, rng: random.Random, stats: RefineStats, feedback: str) -> Attempt | None:
    """The first candidate that renders and changes the render, as an Attempt; None when none does."""
    reference = task.decode()
    for kind, code in candidates(task.ground_truth, task.language, rng, MAX_TRIES):
        r = scorer.score(answer_text(task.language, code), task.language, reference, ground_truth=task.ground_truth)
        if not r.ok or r.render is None:
            stats.rejected["render_failed"] += 1
        elif not changed(r.render, gt_render):
            stats.rejected["render_unchanged"] += 1
        else:
            text = feedback_text(RefineConfig(feedback=feedback), r.status, r.overall, r.terms, r.message)
            return Attempt(code, r.render, text, kind)
    return None
