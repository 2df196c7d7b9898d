"""`vinci-rl eval --turns K`: evaluation per turn of render and refine (does the model improve its own render?).

    from vinci_rl.eval.turns import evaluate_turns, refine_config
    result = evaluate_turns(EvalConfig(data="test.parquet", out_dir="runs/eval", local_model=LocalModelConfig(path)),
                            refine_config(3, reward="recipes/refine_chart.yaml"))
    result.turns["per_turn"][1]["reward"]; result.turns["improved_rate"]

Per test row, as the `vinci_refine_agent` agent loop does in training, with its rules (vinci_rl/refine/rules.py):
turn 1 answers the task; the answer is scored by the reward (the scorer and renders of single-turn evaluation);
unless the row stops there (its code repeats an earlier turn's, its reward reaches refine.stop_score, or it was
the last turn), the render the reward compared (a white canvas when nothing rendered) goes back as a new user turn
with the feedback text (refine.feedback; the scores with refine.show_scores), and the model answers again.

Turn t's numbers are over every row: a row that stopped earlier keeps its last answer, so turn K's are the final
answers' (the table, the samples and the gallery are the final turn's). Also reported: the rate of rows whose
final reward beats turn 1's, the mean final - first reward, the turns taken and why rows stopped. The replies go to
DIR/predictions.jsonl as {"id", "response" (final), "responses" (every turn), "stop"}: a predictions file with
"responses" is scored per turn again without the model (no generation and no stop rules: its turns are taken as
they are; a line's "stop" is kept).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from vinci_rl.data.rows import TaskRow, png_bytes
from vinci_rl.eval.conversation import Conversation, ServerChat
from vinci_rl.eval.evaluate import EvalConfig, EvalRun, finish_run, match_predictions, renderer_for, score_predictions, start_run
from vinci_rl.eval.local_model import local_chat
from vinci_rl.eval.predictions import Prediction, PredictionError, load_predictions
from vinci_rl.eval.results import EvalResult, SampleResult, aggregate_turns
from vinci_rl.refine.config import RefineConfig
from vinci_rl.refine.rules import feedback_image, feedback_text, stop_after_scoring, stop_before_scoring
from vinci_rl.reward.plan import read_answer

Chat = Callable[[list[Conversation]], list[str]]


def refine_config(turns: int, reward: str | None = None, **overrides: Any) -> RefineConfig:
    """The turn rules: a recipe's `vinci.refine` block when `reward` is a recipe with one (the feedback text and
    stop rules of training), turns and the given overrides (stop_score, show_scores, ...) on top."""
    from vinci_rl.train.vinci_block import read_vinci_block

    if not isinstance(turns, int) or isinstance(turns, bool) or turns < 1:
        raise ValueError(f"--turns {turns!r}: must be an integer >= 1")
    base: dict[str, Any] = {}
    source = "eval --turns"
    if reward and Path(reward).is_file():
        block = read_vinci_block(reward, "--reward") or {}
        if block.get("refine") is not None:
            base, source = dict(block["refine"]), f"{reward}: vinci.refine (with --turns)"
    return RefineConfig.from_dict({**base, "turns": turns, **{k: v for k, v in overrides.items() if v is not None}}, source)


def evaluate_turns(cfg: EvalConfig, refine: RefineConfig, renderer: Any = None) -> EvalResult:
    """Generate (or read) and score every turn; eval.json and report.html hold the final turn and the per-turn numbers."""
    if cfg.reward is None:
        raise PredictionError("--turns needs a reward (--reward): the render shown back and the improvement are the reward's")
    run = start_run(cfg)
    with renderer_for(cfg, renderer) as r:
        if cfg.predictions is not None:
            scored, pred_path = _score_file(cfg, run, refine, r), Path(cfg.predictions)
        else:
            scored = _generate_and_score(cfg, run, refine, r, _chat(cfg, run.notes))
            pred_path = _write_turns(run.out / "predictions.jsonl", run.rows, scored)
    samples = scored.per_turn[-1]
    for s, row in zip(samples, scored.rows, strict=True):
        s.turn_rewards, s.stop = list(row.rewards), row.stop or ""
    run.notes.append(_rules_note(refine, cfg.predictions is not None))
    turns = {**aggregate_turns(scored.per_turn, scored.answered), "rules": asdict(refine)}
    result = finish_run(cfg, run, samples, scored.thumbs, scored.unmatched, pred_path, turns)
    result.turn_samples = scored.per_turn
    return result


@dataclass
class _RowTurns:
    """One test row across turns: its conversation, the code and reward of each answer, why it stopped."""

    conv: Conversation
    codes: list[str | None] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    stop: str | None = None


@dataclass
class _Scored:
    rows: list[_RowTurns]
    per_turn: list[list[SampleResult]] = field(default_factory=list)  # every row's result after each turn
    answered: list[int] = field(default_factory=list)  # rows that answered at each turn
    thumbs: dict[str, Any] = field(default_factory=dict)  # id -> (reference, render) of the row's last answer
    unmatched: list[str] = field(default_factory=list)

    def add_turn(self, results: dict[int, SampleResult], thumbs: dict[str, Any]) -> None:
        """Turn t's results of the rows that answered; the others keep their result of the turn before."""
        last = self.per_turn[-1] if self.per_turn else [None] * len(self.rows)
        self.per_turn.append([results.get(i, prev) for i, prev in enumerate(last)])
        self.answered.append(len(results))
        self.thumbs.update(thumbs)


def _chat(cfg: EvalConfig, notes: list[str]) -> Chat:
    if cfg.server is not None:
        chat = ServerChat(cfg.server, cfg.progress)
        notes.append(f"answers generated by {cfg.server.model} at {cfg.server.url}")
        return chat
    if cfg.local_model is not None:
        how = "greedy" if cfg.local_model.temperature <= 0 else f"temperature {cfg.local_model.temperature}"
        notes.append(f"answers generated by {cfg.local_model.path} (transformers, {how})")
        return local_chat(cfg.local_model, cfg.progress)
    raise PredictionError("--turns: give a predictions file with per-turn responses, a vLLM server URL or a local model")


def _generate_and_score(cfg: EvalConfig, run: EvalRun, refine: RefineConfig, renderer: Any, chat: Chat) -> _Scored:
    scored = _Scored([_RowTurns(Conversation(r.prompt, [r.image_png])) for r in run.rows])
    for turn in range(1, refine.turns + 1):
        active = [i for i, row in enumerate(scored.rows) if row.stop is None]
        if not active:  # every row stopped early: the later turns repeat the final answers
            scored.add_turn({}, {})
            continue
        replies = chat([scored.rows[i].conv for i in active])
        rewards: dict[str, Any] = {}
        preds = [Prediction(text, True) for text in replies]
        samples, thumbs = score_predictions(cfg, run, [run.rows[i] for i in active], preds, renderer, rewards)
        scored.add_turn(dict(zip(active, samples, strict=True)), thumbs)
        for i, text, s in zip(active, replies, samples, strict=True):
            _next_turn(turn, refine, run, run.rows[i], scored.rows[i], text, s, rewards.get(s.id))
    errors = getattr(chat, "errors", [])
    if errors:
        run.notes.append(f"{len(errors)} requests failed (empty answers, scored as failures); first: {errors[0]}")
    return scored


def _next_turn(turn: int, refine: RefineConfig, run: EvalRun, task: TaskRow, row: _RowTurns, text: str, s: SampleResult, result: Any) -> None:
    """Record turn `turn`'s answer; stop the row (the agent loop's rules) or add the feedback turn it is shown."""
    row.conv.replies.append(text)
    reward = float(s.metrics["reward"])
    row.rewards.append(reward)
    code = read_answer(text, task.language, run.reward_cfg).code
    row.stop = stop_before_scoring(turn, refine, code, row.codes, room=1) or stop_after_scoring(reward, refine)
    row.codes.append(code)
    if row.stop is None:
        image = feedback_image(result.render, task.decode())
        row.conv.add_feedback(png_bytes(image), feedback_text(refine, result.status, reward, result.terms, result.message))


def _write_turns(path: Path, tasks: list[TaskRow], scored: _Scored) -> Path:
    """predictions.jsonl of a multi-turn run: the final answer as "response", every turn's in "responses"."""
    lines = []
    for task, row in zip(tasks, scored.rows, strict=True):
        replies = row.conv.replies
        lines.append({"id": task.id, "response": replies[-1] if replies else "", "responses": replies, "stop": row.stop})
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return path


def _score_file(cfg: EvalConfig, run: EvalRun, refine: RefineConfig, renderer: Any) -> _Scored:
    """Every turn of a predictions file with "responses" lines, scored turn by turn (a row with fewer turns keeps its
    last answer; a row with more is scored up to refine.turns and counted in the notes)."""
    preds, unmatched = match_predictions(run.rows, *load_predictions(cfg.predictions))
    if not any(p is not None and p.turns for p in preds):
        raise PredictionError(
            f"--turns {refine.turns} with --predictions {cfg.predictions}: no line has per-turn answers "
            '({"id" or "index", "responses": [turn 1, turn 2, ...]}); without them, evaluate without --turns'
        )
    turns_of = [(p.turns or [p.text]) if p is not None else [] for p in preds]
    scored = _Scored([_RowTurns(Conversation(r.prompt, [r.image_png]), stop=p.stop if p else None) for r, p in zip(run.rows, preds, strict=True)])
    scored.unmatched = unmatched
    for t in range(refine.turns):
        active = [i for i, answers in enumerate(turns_of) if len(answers) > t or (t == 0 and not answers)]
        turn_preds = [(Prediction(turns_of[i][t], preds[i].is_response) if turns_of[i] else None) for i in active]
        samples, thumbs = score_predictions(cfg, run, [run.rows[i] for i in active], turn_preds, renderer)
        scored.add_turn(dict(zip(active, samples, strict=True)), thumbs)
        for i, s in zip(active, samples, strict=True):
            scored.rows[i].rewards.append(float(s.metrics["reward"]))
    longer = sum(len(answers) > refine.turns for answers in turns_of)
    if longer:
        run.notes.append(f"{longer} rows have more than {refine.turns} turns in {cfg.predictions}: later turns not scored")
    return scored


def _rules_note(refine: RefineConfig, from_file: bool) -> str:
    if from_file:
        return f"per-turn answers read from the predictions file (up to {refine.turns} turns; no stop rules applied)"
    stop = "never" if refine.stop_score is None else f"at reward >= {refine.stop_score}"
    return (
        f"up to {refine.turns} turns per row (vinci_refine_agent's rules: stop on repeated code, {stop}); the render "
        f"shown back is the reward's{', with the scores as text' if refine.show_scores else ''}"
    )
