"""`vinci-rl eval --turns K`: per-turn evaluation of render and refine. A fake vLLM server (real HTTP, scripted
answers per turn) shows that the image of turn 2 is the reward's render of turn 1's answer and that the agent loop's
stop rules apply; the tiny random VLM runs the in-process path with an image in a later turn; a per-turn
predictions file is scored turn by turn; bad options are named."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from fake_openai import chat_server
from PIL import Image

from vinci_rl.cli import main
from vinci_rl.eval import EvalConfig, PredictionError, ServerConfig
from vinci_rl.eval.local_model import LocalModelConfig
from vinci_rl.eval.turns import evaluate_turns, refine_config
from vinci_rl.refine.config import DEFAULT_FEEDBACK
from vinci_rl.render import RenderConfig, Renderer
from vinci_rl.reward import RewardConfig, VisualScorer

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">{}</svg>'
RED = SVG.format('<rect x="10" y="10" width="40" height="30" fill="#d62728"/>')
BLUE = SVG.format('<circle cx="50" cy="50" r="25" fill="#1f77b4"/>')
GREEN = SVG.format('<rect x="5" y="60" width="60" height="20" fill="#2ca02c"/><circle cx="70" cy="30" r="15" fill="#9467bd"/>')
TASKS = {"a_blue": BLUE, "b_red": RED, "c_green": GREEN}  # id -> ground truth (prepare sorts the folder by name)
BY_TURN = [RED, BLUE, GREEN]  # the scripted model answers this at turn 1, 2, 3 whatever the task


def fenced(code: str) -> str:
    return f"```svg\n{code}\n```"


@pytest.fixture(scope="module")
def renderer():
    with Renderer(RenderConfig(timeout_s={"svg": 10.0})) as r:
        yield r


@pytest.fixture(scope="module")
def tasks(tmp_path_factory, renderer):
    from vinci_rl.data.prepare import PrepareConfig, prepare

    src = tmp_path_factory.mktemp("turns_src")
    for name, code in TASKS.items():
        (src / f"{name}.svg").write_text(code)
    out = tmp_path_factory.mktemp("turns_data")
    prepare(PrepareConfig(source=src, out_dir=out, size=(96, 64), split_name="test", progress=False), renderer=renderer)
    return out / "test.parquet"


@pytest.fixture()
def server(monkeypatch):
    """A fake vLLM answering BY_TURN[number of assistant turns so far], or `server.always` when set."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    def answer(req: dict) -> str:
        return fenced(srv.always or BY_TURN[sum(m["role"] == "assistant" for m in req["messages"])])

    with chat_server(answer, model="scripted") as srv:
        srv.always = None
        yield srv


def _png_pixels(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def _reference(parquet, sample_id: str) -> np.ndarray:
    from vinci_rl.data.rows import read_rows

    return next(r for r in read_rows(parquet) if r.id == sample_id).decode()


def test_turn_two_shows_the_render_of_turn_one_and_the_agent_loops_stop_rules_apply(tasks, server, tmp_path, renderer):
    scorer = VisualScorer(RewardConfig.load("default"), renderer=renderer)
    perfect = scorer.score(fenced(BLUE), "svg", _reference(tasks, "a_blue"), ground_truth=BLUE).overall
    cfg = EvalConfig(data=tasks, out_dir=tmp_path, server=ServerConfig(server.url, concurrency=1), progress=False)
    result = evaluate_turns(cfg, refine_config(3, stop_score=perfect - 1e-6), renderer=renderer)

    # b_red is right at turn 1 (stop: score); a_blue at turn 2 (score); c_green takes all three turns
    turns = result.turns
    assert [row["answered"] for row in turns["per_turn"]] == [3, 2, 1]
    assert len(server.requests) == 6
    stops = {s.id: s.stop for s in result.samples}
    assert stops == {"a_blue": "score", "b_red": "score", "c_green": "max_turns"}
    assert turns["stops"] == {"max_turns": 1, "score": 2}
    rewards = [row["reward"] for row in turns["per_turn"]]
    assert rewards[0] < rewards[1] < rewards[2]
    assert turns["improved_rate"] == pytest.approx(2 / 3)
    first = {s.id: s.turn_rewards for s in result.samples}
    assert len(first["c_green"]) == 3 and first["c_green"][2] > first["c_green"][0]
    assert turns["mean_improvement"] == pytest.approx(np.mean([r[-1] - r[0] for r in first.values()]))

    second = [r for r in server.requests if len(r["messages"]) == 3]
    assert len(second) == 2
    for req in second:
        user, answer, feedback = req["messages"]
        assert answer == {"role": "assistant", "content": fenced(RED)}
        assert [p["type"] for p in feedback["content"]] == ["image_url", "text"]
        assert feedback["content"][1]["text"] == DEFAULT_FEEDBACK
        task_image = _png_pixels(user["content"][0]["image_url"]["url"])
        sample_id = next(k for k in TASKS if np.array_equal(task_image, _reference(tasks, k)))
        shown = _png_pixels(feedback["content"][0]["image_url"]["url"])
        expected = scorer.score(fenced(RED), "svg", _reference(tasks, sample_id)).render
        assert shown.shape == expected.shape and np.array_equal(shown, expected)

    lines = [json.loads(x) for x in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    by_id = {x["id"]: x for x in lines}
    assert by_id["c_green"]["responses"] == [fenced(c) for c in BY_TURN] and by_id["c_green"]["response"] == fenced(GREEN)
    saved = json.loads((tmp_path / "eval.json").read_text())
    assert saved["turns"]["per_turn"][2]["answered"] == 1 and saved["table"]["overall"]["reward"] == pytest.approx(rewards[2])
    assert "Per turn" in (tmp_path / "report.html").read_text()

    # the file it wrote scores the same per turn without the model
    again = evaluate_turns(EvalConfig(data=tasks, out_dir=tmp_path / "again", predictions=tmp_path / "predictions.jsonl",
                                      progress=False), refine_config(3), renderer=renderer)  # fmt: skip
    assert [r["reward"] for r in again.turns["per_turn"]] == pytest.approx(rewards)
    assert {s.id: s.stop for s in again.samples} == stops


def test_a_repeated_answer_ends_the_row_and_scores_appear_when_asked(tasks, server, tmp_path, renderer):
    server.always = RED
    cfg = EvalConfig(data=tasks, out_dir=tmp_path, server=ServerConfig(server.url), progress=False)
    result = evaluate_turns(cfg, refine_config(3, show_scores=True), renderer=renderer)
    assert [row["answered"] for row in result.turns["per_turn"]] == [3, 3, 0]  # turn 2 repeats turn 1: stop
    assert result.turns["stops"] == {"repeat": 3} and result.turns["improved_rate"] == 0.0
    # every row's result after each turn (a stopped row keeps its answer); eval.json keeps only the per-turn means
    assert len(result.turn_samples) == 3 and result.turn_samples[-1] == result.samples
    assert [s.metrics["reward"] for s in result.turn_samples[2]] == [s.metrics["reward"] for s in result.turn_samples[0]]
    assert "turn_samples" not in json.loads((tmp_path / "eval.json").read_text())
    feedback = next(r for r in server.requests if len(r["messages"]) == 3)["messages"][2]["content"][1]["text"]
    assert feedback.startswith(DEFAULT_FEEDBACK) and "Score " in feedback and "pixel_l2 " in feedback


def test_the_local_model_answers_again_after_seeing_a_render(tasks, tiny_vlm, tmp_path, renderer, monkeypatch):
    import vinci_rl.eval.turns as turns_module

    seen = []
    real = turns_module.local_chat

    def recording(cfg, progress=True):
        chat = real(cfg, progress)

        def replies(convs):
            seen.append([(list(c.images), list(c.feedback)) for c in convs])
            return chat(convs)

        return replies

    monkeypatch.setattr(turns_module, "local_chat", recording)
    cfg = EvalConfig(data=tasks, out_dir=tmp_path, local_model=LocalModelConfig(str(tiny_vlm), max_tokens=8, batch_size=2), progress=False)
    result = evaluate_turns(cfg, refine_config(2), renderer=renderer)
    # a random model writes no code: nothing repeats, every row is shown its (white) failed render and answers again
    assert [row["answered"] for row in result.turns["per_turn"]] == [3, 3]
    assert all(len(images) == 2 and "did not render cleanly (no_code" in text[0] for images, text in seen[1])
    white = np.asarray(Image.open(io.BytesIO(seen[1][0][0][1])))
    assert white.shape == _reference(tasks, "a_blue").shape and white.min() == 255
    lines = [json.loads(x) for x in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert all(len(x["responses"]) == 2 and x["stop"] == "max_turns" for x in lines)
    assert result.turns["per_turn"][1]["render_rate"] == 0.0 and result.turns["improved_rate"] == 0.0


def test_cli_prints_the_per_turn_table(tasks, server, tmp_path, capsys):
    rc = main(["eval", str(tasks), "--server", server.url, "--out", str(tmp_path), "--turns", "2", "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "answered" in out and "final turn beats turn 1: " in out and "stops: max_turns 3" in out
    turns = json.loads((tmp_path / "eval.json").read_text())["turns"]
    assert turns["turns"] == 2 and turns["rules"]["turns"] == 2 and turns["rules"]["stop_score"] is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--turns", "0"], "--turns 0: must be an integer >= 1"),
        (["--turns", "2", "--no-reward"], "--turns needs a reward"),
        (["--stop-score", "0.5"], "no line has per-turn answers"),  # a turn flag alone asks for per-turn evaluation
        (["--turns", "2", "--benchmark", "unisvg"], "not with --benchmark"),
    ],
)
def test_bad_turn_options_are_named(tasks, tmp_path, capsys, args, message):
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": "a_blue", "response": fenced(RED)}) + "\n")
    rc = main(["eval", str(tasks), "--predictions", str(preds), "--out", str(tmp_path / "o"), "--quiet", *args])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_a_predictions_file_without_turns_or_with_bad_turns_is_named(tasks, tmp_path):
    single = tmp_path / "single.jsonl"
    single.write_text(json.dumps({"id": "a_blue", "response": fenced(RED)}) + "\n")
    with pytest.raises(PredictionError, match="no line has per-turn answers"):
        evaluate_turns(EvalConfig(data=tasks, out_dir=tmp_path / "o", predictions=single, progress=False), refine_config(2))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a_blue", "responses": "not a list"}) + "\n")
    with pytest.raises(PredictionError, match=r"bad.jsonl:1: 'responses' must be a non-empty list"):
        evaluate_turns(EvalConfig(data=tasks, out_dir=tmp_path / "o", predictions=bad, progress=False), refine_config(2))


def test_the_turn_rules_come_from_a_recipes_refine_block(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("vinci:\n  refine:\n    turns: 5\n    stop_score: 0.8\n    feedback: Fix it.\n")
    cfg = refine_config(3, str(recipe), show_scores=True)
    assert (cfg.turns, cfg.stop_score, cfg.feedback, cfg.show_scores) == (3, 0.8, "Fix it.", True)
    assert refine_config(2, "default").feedback == DEFAULT_FEEDBACK  # a preset name has no block
