"""One naming scheme for the reward's step metrics (vinci_rl/reward/metrics.py) and one module that writes and reads
the sample log (vinci_rl/train/sample_log.py): real scores of a small batch go through the reward manager's
per-sample rows, the trainer's aggregation and record builder, the sample log, and the readers (run report, console).

Before, the step metrics were aggregated three ways under three names (reward/<term> and reward/fail_rate in
vinci_rl/reward/metrics.py, which nothing called; reward/<term>/mean and reward/status/<kind> in the trainer;
reward_pool/fail_rate/<kind> in the pool), and the sample-log keys were literals in the report and pictures."""

from __future__ import annotations

import numpy as np
import pytest

from vinci_rl.reward import RewardConfig, VisualScorer
from vinci_rl.reward.metrics import fail_rates, status_key, step_metrics, term_key, term_names
from vinci_rl.train.sample_log import SAMPLES_FILE, append_samples, read_samples, sample_record

RECT = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 48"><rect x="8" y="8" width="30" height="20" fill="#c00"/></svg>'
RESPONSES = [
    f"```svg\n{RECT}\n```",  # exact
    f"```svg\n{RECT.replace('#c00', '#00c')}\n```",  # wrong colour
    "```svg\n" + RECT.replace('x="8"', 'x="20"') + "\n```",  # shifted
    '```svg\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 48"></svg>\n```',  # blank
    "no code at all",  # no_code
]


@pytest.fixture(scope="module")
def rows():
    from vinci_rl.train.reward_manager import extra_info_row

    reference = np.full((48, 64, 3), 255, np.uint8)
    reference[8:28, 8:38] = (204, 0, 0)
    cfg = RewardConfig.from_dict({"weights": {"pixel_l2": 1.0, "ssim_structure": 0.5, "format": 0.1}})
    with VisualScorer(cfg) as scorer:
        results = [scorer.score(r, "svg", reference) for r in RESPONSES]
    names = list(cfg.weights)
    return results, [extra_info_row(r.overall, r.terms, names, r.status, 0.01, i) for i, r in enumerate(results)]


def test_step_metrics_one_scheme(rows):
    results, infos = rows
    assert [r.status for r in results] == ["ok", "ok", "ok", "blank", "no_code"]
    m = step_metrics(infos)
    assert m[status_key("blank")] == pytest.approx(1 / 5) and m[status_key("no_code")] == pytest.approx(1 / 5)
    assert 1.0 - m[status_key("ok")] == pytest.approx(2 / 5)
    assert sum(v for k, v in m.items() if k.startswith("reward/status/")) == pytest.approx(1.0)
    ok_pixel = [r.terms["pixel_l2"] for r in results if "pixel_l2" in r.terms and np.isfinite(r.terms["pixel_l2"])]
    assert m[term_key("pixel_l2")] == pytest.approx(np.mean(ok_pixel))
    assert m["reward/scored_samples"] == 5.0 and m["reward/samples"] == 5.0
    assert term_names(m) == ["format", "pixel_l2", "ssim_structure"]  # reward_time_s is not a term
    assert "reward_time_s" in term_names(m, with_time=True)
    # the pool's per-status block counts the same statuses the same way
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "blank", "no_code")}
    rates = fail_rates(counts, 5, ["ok", "blank", "no_code", "timeout"])
    assert rates == {"fail_rate": pytest.approx(2 / 5), "fail_rate/blank": pytest.approx(m[status_key("blank")]),
                     "fail_rate/no_code": pytest.approx(m[status_key("no_code")]), "fail_rate/timeout": 0.0}  # fmt: skip
    assert fail_rates({}, 0, ["ok", "blank"]) == {"fail_rate": 0.0, "fail_rate/blank": 0.0}


def test_the_sample_log_round_trips_and_its_readers_agree(rows, tmp_path):
    results, infos = rows
    records = [sample_record(3, f"k{i}", RESPONSES[i], 10 + i, 64, info) for i, info in enumerate(infos)]
    assert append_samples(tmp_path, records) == tmp_path / SAMPLES_FILE
    append_samples(tmp_path, records[:1])  # appended, as the trainer does each step
    back = read_samples(tmp_path)
    assert back[:5] == records and len(back) == 6
    assert [r.status for r in back[:5]] == [r.status for r in results]
    assert [r.index for r in back[:5]] == [0, 1, 2, 3, 4]
    assert [r.reward for r in back[:5]] == pytest.approx([r.overall for r in results])
    assert back[0].scored and back[0].terms(["pixel_l2", "nope"]) == {"pixel_l2": pytest.approx(results[0].terms["pixel_l2"])}
    assert read_samples(tmp_path / "elsewhere") == []
    (tmp_path / SAMPLES_FILE).write_text('{"step": 1}\n')
    with pytest.raises(ValueError, match=r"samples.jsonl:1: not a sample record"):
        read_samples(tmp_path)


def test_the_console_line_reads_the_same_names(rows):
    from vinci_rl.train.console import step_line

    m = step_metrics(rows[1]) | {"critic/score/mean": 0.25, "reward/weight/length": 0.3}
    line = step_line("grpo", 2, 10, m, None, None)
    assert "pixel_l2" in line and "ssim_structure" in line and "reward_time_s" not in line
    assert "ok 60%" in line and "length weight 0.300" in line


def test_the_run_report_reads_the_log_rows_and_renders_by_the_plan(rows, tmp_path):
    """A run folder as training leaves it: the report reads its sample log with read_samples, the training parquet
    with the row reader, and renders each rollout where the reward's render plan renders it."""
    import json

    import yaml

    from vinci_rl.data.rows import make_row, write_rows
    from vinci_rl.report.run_report import write_run_report

    results, infos = rows
    reference = np.full((48, 64, 3), 255, np.uint8)
    reference[8:28, 8:38] = (204, 0, 0)
    train = write_rows(tmp_path / "train.parquet", [make_row(f"r{i}", i, "svg", RECT, reference) for i in range(5)])
    reward = {"weights": {"pixel_l2": 1.0, "ssim_structure": 0.5, "format": 0.1}, "render_sizes": {"svg": [32, 24]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"data": {"train_files": [str(train)]}, "vinci": {"reward": reward}}))
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 1, "data": step_metrics(infos)}) + "\n")
    append_samples(tmp_path, [sample_record(1, f"k{i}", RESPONSES[i], 9, None, info) for i, info in enumerate(infos)])
    out = write_run_report(tmp_path)
    page = out["gallery"].read_text()
    assert out["reward_curves"].is_file() and "5 rollouts" in page
    for i in range(5):
        assert f"step 1 · svg · row {i}" in page
    assert page.count("no image") == 1  # the no-code answer: nothing rendered; the blank one still has its render

