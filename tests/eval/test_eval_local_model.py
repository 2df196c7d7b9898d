"""`vinci-rl eval --local-model`: the model generates in this process (transformers), and the replies go through
the same scoring path as a file or a server's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vinci_rl.eval import EvalConfig, evaluate
from vinci_rl.eval.local_model import LocalModelConfig
from vinci_rl.eval.predictions import PredictionError


def test_a_local_model_generates_for_every_row(tiny_vlm, test_parquet, tmp_path, eval_renderer):
    cfg = EvalConfig(
        data=test_parquet, out_dir=tmp_path, local_model=LocalModelConfig(str(tiny_vlm), max_tokens=12, batch_size=3),
        progress=False,
    )  # fmt: skip
    result = evaluate(cfg, renderer=eval_renderer)
    preds = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == result.table["overall"]["n"] > 3  # several batches, one reply per row
    assert all(isinstance(p["response"], str) for p in preds)
    assert any("transformers, greedy" in n for n in result.notes)
    # a random model writes no valid program: every row is scored, as a failure
    assert result.table["overall"]["render_rate"] == 0.0
    assert all(s.metrics["reward"] == -1.0 for s in result.samples)


def test_greedy_generation_is_deterministic(tiny_vlm, test_parquet, tmp_path, eval_renderer):
    outs = []
    for k in range(2):
        cfg = EvalConfig(
            data=test_parquet, out_dir=tmp_path / str(k), local_model=LocalModelConfig(str(tiny_vlm), max_tokens=8),
            reward=None, progress=False,
        )  # fmt: skip
        evaluate(cfg, renderer=eval_renderer)
        outs.append((tmp_path / str(k) / "predictions.jsonl").read_text())
    assert outs[0] == outs[1]


def test_a_missing_model_directory_is_named(test_parquet, tmp_path):
    cfg = EvalConfig(data=test_parquet, out_dir=tmp_path, local_model=LocalModelConfig(str(tmp_path / "nope")))
    with pytest.raises(PredictionError, match=f"{tmp_path / 'nope'}"):
        evaluate(cfg)


def test_cli_flag(tiny_vlm, test_parquet, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "vinci_rl", "eval", str(test_parquet), "--local-model", str(tiny_vlm),
         "--max-tokens", "8", "--out", str(tmp_path), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "render_rate" in proc.stdout and (tmp_path / "eval.json").exists()
