"""`bench learn --refine`'s inputs: the shapes task's refinement rows (the task's own prompt, the render of a wrong
scene, only the fix trained) and the pipeline settings the variant runs with."""

from __future__ import annotations

import pandas as pd
from omegaconf import OmegaConf
import pytest

from vinci_rl.data.shapes_task import build_refine_rows, parse_scene, train_programs
from vinci_rl.learn.bench import refine_variant
from vinci_rl.learn.pipeline import LearnConfig, sft_train_files
from vinci_rl.train.recipe import compose_recipe


@pytest.fixture(scope="module")
def shapes_dir(tmp_path_factory):
    from vinci_rl.data.rows import make_row, write_rows
    from vinci_rl.render import Renderer

    out = tmp_path_factory.mktemp("shapes")
    programs, _ = train_programs(6, seed=0, exclude=set())
    with Renderer() as renderer:
        rows = [make_row(f"shapes-train-{i:05d}", i, "svg", code, renderer.render("svg", code, size=(128, 128)).image)
                for i, code in enumerate(programs)]  # fmt: skip
    write_rows(out / "train.parquet", rows)
    return out


def test_refinement_rows_carry_the_tasks_prompt_a_wrong_scene_and_only_the_fix_is_trained(shapes_dir):
    stats = build_refine_rows(shapes_dir, 8, seed=0)
    train = pd.read_parquet(shapes_dir / "train.parquet")
    refine = pd.read_parquet(shapes_dir / "refine.parquet")
    assert stats["built"] == len(refine) == 8 and sum(stats["kinds"].values()) == 8
    truth = {e["id"]: r["ground_truth"] for e, r in zip(train.extra_info, train.reward_model)}
    task_prompt = train.prompt[0][0]["content"]
    for msgs, images, info, rm in zip(refine.messages, refine.images, refine.extra_info, refine.reward_model):
        source = info["id"].split("~refine")[0]
        assert rm["ground_truth"] == truth[source]
        assert msgs[0]["content"] == task_prompt  # the prompt GRPO and the evaluation use, not prepare's default
        assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
        assert [int(m["loss_mask"]) for m in msgs] == [0, 0, 0, 1]
        assert truth[source] in msgs[3]["content"] and truth[source] not in msgs[1]["content"]
        assert parse_scene(msgs[1]["content"]) != parse_scene(truth[source])  # the first answer is a wrong scene
        assert len(images) == 2 and images[0]["bytes"] != images[1]["bytes"]


def test_the_variant_trains_sft_on_both_sets_and_grpo_with_the_refine_loop(tmp_path):
    base = LearnConfig(run_dir=tmp_path)
    cfg = refine_variant(base)
    assert cfg.turns == 2 and cfg.refine_examples > 0
    assert sft_train_files(base, tmp_path) == str(tmp_path / "train.parquet")
    assert sft_train_files(cfg, tmp_path) == f"[{tmp_path / 'train.parquet'},{tmp_path / 'refine.parquet'}]"
    grpo = compose_recipe(cfg.grpo_recipe)
    single = compose_recipe(base.grpo_recipe)
    assert grpo.actor_rollout_ref.rollout.agent.default_agent_loop == "vinci_refine_agent"
    assert grpo.vinci.refine.turns == cfg.turns and grpo.vinci.refine.reward == "final"  # the turns the recipe trains
    # everything else is the single-turn recipe's (one shared file): model, batch, KL, temperature, schedule, reward
    for key in ("actor_rollout_ref.actor.kl_loss_coef", "actor_rollout_ref.rollout.temperature", "actor_rollout_ref.rollout.n",
                "data.train_batch_size", "trainer.total_training_steps"):  # fmt: skip
        assert OmegaConf.select(grpo, key) == OmegaConf.select(single, key) is not None, key
    assert grpo.vinci.schedule == single.vinci.schedule and grpo.vinci.reward == single.vinci.reward
    assert grpo.data.max_response_length > 2 * single.data.max_response_length  # two answers and a feedback turn


def test_a_seed_finished_with_the_same_settings_is_read_back_not_run_again(tmp_path):
    from dataclasses import replace

    from vinci_rl.learn.bench import finished_seed
    from vinci_rl.learn.pipeline import config_record
    from vinci_rl.learn.report import write_learning_json

    cfg = refine_variant(LearnConfig(run_dir=tmp_path, seed=2))
    assert finished_seed(cfg) is None
    stages = {name: {"reward": 0.1, "samples": []} for name in ("base", "sft", "rl", "sft_longer")}
    times = {"sft_s": 420.0, "rl_s": 770.0, "sft_longer_s": 745.0, "total_s": 2000.0}
    # written by a checkout elsewhere: the recipes are compared by file name
    elsewhere = {**config_record(cfg), "grpo_recipe": "/other/checkout/recipes/refine_learn_tiny_cpu.yaml"}
    write_learning_json(tmp_path / "learning.json", elsewhere, stages, times)
    assert finished_seed(cfg) == (stages, {"sft": 420.0, "rl": 770.0, "sft_longer": 745.0})
    for changed in (replace(cfg, grpo_steps=31), replace(cfg, refine_examples=10), LearnConfig(run_dir=tmp_path, seed=2)):
        assert finished_seed(changed) is None  # other settings: the seed runs again
    without_control = {k: v for k, v in stages.items() if k != "sft_longer"}
    write_learning_json(tmp_path / "learning.json", config_record(cfg), without_control, times)  # a demo's run
    assert finished_seed(cfg) is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["bench", "reward", "--refine"], "--refine is a variant of `bench learn`"),
        (["bench", "learn", "--refine", "--seeds", "0"], "--seeds must be >= 1, got 0"),
        (["bench", "learn", "--refine", "--grpo-steps", "0"], "--grpo-steps must be >= 1, got 0"),
    ],
)
def test_bad_bench_options_are_named_before_anything_runs(args, message, tmp_path, capsys):
    from vinci_rl.cli import main

    assert main([*args, "--run-dir", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
