"""`vinci-rl sft` on refinement rows: verl's Ray SFT trainer (CPU) runs a few steps on `prepare --refine-examples`
output with the message-mask dataset, every step's loss is finite, and the exported model's weights changed."""

from __future__ import annotations

import fcntl
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from vinci_rl.data.prepare import PrepareConfig, prepare

E2E_LOCK = "/tmp/vinci-e2e.lock"
RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "sft_tiny_cpu.yaml"
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">{}</svg>'
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_sft_trains_on_refinement_rows(tmp_path, tiny_vlm):
    src = tmp_path / "src"
    src.mkdir()
    for i, colour in enumerate(["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e"]):
        (src / f"s{i}.svg").write_text(SVG.format(f'<rect x="{10 + 5 * i}" y="20" width="40" height="30" fill="{colour}"/>'))
    summary = prepare(PrepareConfig(source=src, out_dir=tmp_path / "data", size=(64, 64), refine_examples=8, progress=False))
    assert summary.rows == {"train": 4, "refine": 8}
    refine = str(tmp_path / "data" / "refine.parquet")
    cmd = [sys.executable, "-m", "vinci_rl", "sft", str(RECIPE), f"data.train_files={refine}", f"data.val_files={refine}",
           f"model.path={tiny_vlm}", "trainer.total_training_steps=2", "trainer.total_epochs=1", "data.train_batch_size=4",
           "data.micro_batch_size_per_gpu=4", "data.max_length=1024", "--run-dir", str(tmp_path / "run")]  # fmt: skip
    with open(E2E_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = tmp_path / "run"
    config = (run / "config.yaml").read_text()
    assert "pkg://vinci_rl.data.sft_dataset" in config and "MessageMaskSFTDataset" in config
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    losses = [r["data"]["train/loss"] for r in records if "train/loss" in r.get("data", {})]
    assert len(losses) == 2 and all(math.isfinite(v) and v > 0 for v in losses)
    before, after = load_file(str(Path(tiny_vlm) / "model.safetensors")), load_file(str(run / "model" / "model.safetensors"))
    assert any(not np.array_equal(before[k], after[k]) for k in before if k in after)
