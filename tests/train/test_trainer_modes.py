"""vinci's trainer modes without a run: each mode name picks vinci's class for verl's mode (one mixin, verl's mode
hooks untouched); separate_async is refused on CPU and misconfigured GPU recipes with errors naming the keys; the
exposed reward time and the per-sample schedule metrics are computed right from their inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from vinci_rl.train.recipe import RecipeError, check_recipe, compose_recipe
from vinci_rl.train.reward_timing import (
    COMPUTE_METRIC,
    EXPOSED_METRIC,
    GENERATED_AT_KEY,
    SampleTiming,
    exposed_seconds,
    mark_generated,
    reward_timing_metrics,
    sample_timing,
)
from vinci_rl.train.trainer_modes import MODES, TrainerModeError, check_mode_config

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
TINY = RECIPES / "tiny_cpu.yaml"
GPU = RECIPES / "unified_vincicoder.yaml"
SEPARATE = ["+common@_global_=separate_async"]


@pytest.fixture(scope="module")
def registry():
    from verl.trainer.ppo.v1 import get_trainer_cls

    import vinci_rl.train.trainer as trainer

    return get_trainer_cls, trainer


@pytest.mark.parametrize("mode", sorted(MODES))
def test_each_mode_name_picks_vincis_class_for_verls_mode(registry, mode):
    get_trainer_cls, trainer = registry
    cls, verl_cls = get_trainer_cls(mode), get_trainer_cls(MODES[mode])
    assert issubclass(cls, trainer.VinciTrainerAdditions) and issubclass(cls, verl_cls)
    assert cls.verl_mode == MODES[mode]
    # vinci's named steps come from the one mixin; the mode's own hooks stay verl's
    for step in ("_next_train_batch", "_compute_metrics", "__init__"):
        assert getattr(cls, step) is getattr(trainer.VinciTrainerAdditions, step), step
    for hook in ("on_step_end", "on_sample_end", "get_llm_client", "on_train_begin"):
        assert getattr(cls, hook) is getattr(verl_cls, hook), hook


def test_the_mixin_copies_no_part_of_the_loop(registry):
    _, trainer = registry
    own = {k for k in vars(trainer.VinciTrainerAdditions) if not k.startswith("__")}
    assert own.isdisjoint({"fit", "step", "_step_once", "prepare_step", "on_step_end", "on_sample_end"})


@pytest.mark.parametrize("mode", ["vinci_sync", "vinci_colocate_async"])
def test_a_cpu_recipe_switches_mode_with_one_key(mode):
    cfg = compose_recipe(TINY, [f"trainer.v1.trainer_mode={mode}"])
    check_recipe(cfg, str(TINY))
    assert check_mode_config(cfg) == MODES[mode]


def test_separate_async_on_cpu_names_what_is_missing():
    cfg = compose_recipe(TINY, ["trainer.v1.trainer_mode=vinci_separate_async"])
    with pytest.raises(RecipeError) as err:
        check_recipe(cfg, str(TINY))
    msg = str(err.value)
    assert "tiny_cpu.yaml" in msg and "needs a GPU" in msg
    assert "actor_rollout_ref.rollout.checkpoint_engine.backend" in msg and "nccl" in msg
    assert "vinci_colocate_async" in msg  # what to use instead


def test_the_gpu_separate_async_recipe_passes_vincis_and_verls_checks(monkeypatch):
    monkeypatch.delenv("VINCI_RL_CPU", raising=False)
    cfg = compose_recipe(GPU, SEPARATE)
    check_recipe(cfg, str(GPU))
    assert cfg.trainer.v1.trainer_mode == "vinci_separate_async"
    assert cfg.actor_rollout_ref.rollout.checkpoint_engine.backend == "nccl"
    # verl's own conditions (asserted inside PPOTrainerSeparateAsync.__init__) hold for the recipe
    sync_step = cfg.trainer.v1.separate_async.parameter_sync_step
    assert cfg.data.train_batch_size == sync_step * cfg.actor_rollout_ref.actor.ppo_mini_batch_size
    assert cfg.actor_rollout_ref.rollout.nnodes > 0 and cfg.actor_rollout_ref.rollout.n_gpus_per_node > 0


def test_vincis_separate_async_trainer_is_built_from_the_gpu_recipe(registry, monkeypatch):
    """What of separate_async runs without GPUs: the recipe composes, verl's constructor accepts it (its own
    asserts on batch sizes, rollout GPUs and the weight transport) and vinci's additions are set up; starting the
    rollout pool needs the GPUs and the NCCL transport."""
    from omegaconf import OmegaConf

    monkeypatch.delenv("VINCI_RL_CPU", raising=False)
    get_trainer_cls, trainer = registry
    cfg = compose_recipe(GPU, SEPARATE)
    OmegaConf.resolve(cfg)
    t = get_trainer_cls(cfg.trainer.v1.trainer_mode)(cfg)
    assert isinstance(t, trainer.VinciSeparateAsyncTrainer)
    assert t.trainer_mode == "separate_async" and t.parameter_sync_step == 4
    assert type(t.replay_buffer).__name__ == "ReplayBufferAsync"
    assert t.schedule is not None and t.schedule.policy == "linear"


@pytest.mark.parametrize(
    "overrides, named",
    [
        (["actor_rollout_ref.rollout.checkpoint_engine.backend=naive"], "checkpoint_engine.backend=naive"),
        (["actor_rollout_ref.rollout.nnodes=0"], "actor_rollout_ref.rollout.nnodes=0"),
        (["trainer.v1.separate_async.parameter_sync_step=3"], "data.train_batch_size (256)"),
    ],
)
def test_a_misconfigured_separate_async_gpu_recipe_is_named(monkeypatch, overrides, named):
    monkeypatch.delenv("VINCI_RL_CPU", raising=False)
    cfg = compose_recipe(GPU, SEPARATE + overrides)
    with pytest.raises(TrainerModeError, match="vinci_separate_async") as err:
        check_mode_config(cfg)
    assert named in str(err.value)


def test_an_unknown_vinci_mode_is_named():
    with pytest.raises(TrainerModeError, match="vinci_colocate_asnyc"):
        check_mode_config({"trainer": {"v1": {"trainer_mode": "vinci_colocate_asnyc"}}})


# ---- exposed reward time ----


def _t(gen, wait, compute=0.1):
    return SampleTiming(generated_at=gen, wait_s=wait, compute_s=compute)


@pytest.mark.parametrize(
    "samples, exposed",
    [
        # rewards of earlier rollouts hidden behind later generations; the last one's 0.5 s is exposed
        ([_t(100.0, 1.0), _t(102.0, 0.5), _t(105.0, 0.5)], 0.5),
        # an early sample stuck in a queue finishes last: 3 s after the last generation ended
        ([_t(100.0, 8.0), _t(104.0, 0.5), _t(105.0, 0.5)], 3.0),
        # all generations end together: the slowest reward is exposed whole
        ([_t(100.0, 0.2), _t(100.0, 1.5), _t(100.0, 0.7)], 1.5),
        # unstamped samples are left out
        ([_t(None, 9.0), _t(100.0, 0.25)], 0.25),
    ],
)
def test_exposed_seconds_from_timestamps(samples, exposed):
    assert exposed_seconds(samples) == pytest.approx(exposed)


def test_no_stamp_means_no_exposed_metric_but_the_compute_total_stays():
    metrics = reward_timing_metrics([_t(None, 1.0, 0.3), _t(None, 2.0, 0.2)])
    assert EXPOSED_METRIC not in metrics
    assert metrics[COMPUTE_METRIC] == pytest.approx(0.5)
    full = reward_timing_metrics([_t(10.0, 1.0, 0.3), _t(11.0, 2.0, 0.2)])
    assert full == {COMPUTE_METRIC: pytest.approx(0.5), EXPOSED_METRIC: pytest.approx(2.0)}


def test_sample_timing_reads_what_verl_stores_per_sample():
    t = sample_timing({GENERATED_AT_KEY: 50.0}, {"compute_score": 1.25}, {"reward_time_s": 0.4}, "reward_time_s")
    assert (t.generated_at, t.ready_at, t.compute_s) == (50.0, 51.25, 0.4)
    bad = sample_timing({GENERATED_AT_KEY: "x"}, None, {"reward_time_s": float("nan")}, "reward_time_s")
    assert (bad.generated_at, bad.ready_at, bad.compute_s) == (None, None, None)


def test_the_generation_stamp_reaches_the_stored_output():
    from verl.experimental.agent_loop.agent_loop import AgentLoopMetrics, AgentLoopOutput

    out = AgentLoopOutput(prompt_ids=[1], response_ids=[2], response_mask=[1], metrics=AgentLoopMetrics())
    mark_generated(out, now=123.5)
    out.metrics.compute_score = 0.75  # what verl's agent-loop worker records after scoring
    stored = out.as_dict()  # what verl puts into TransferQueue
    t = sample_timing(stored["extra_fields"], stored["metrics"], {}, "reward_time_s")
    assert (t.generated_at, t.ready_at) == (123.5, 124.25)


# ---- schedule metrics from each sample's own budget ----


def test_schedule_metrics_use_each_samples_budget(registry):
    _, trainer = registry
    m = trainer.schedule_metrics([8, 8, 30, 64], [8, 8, 64, 64])  # two batches queued at different steps
    assert m["schedule/max_tokens"] == 64
    assert m["schedule/truncation_rate"] == pytest.approx(0.75)  # 30 of 64 finished early
    assert m["schedule/response_length_max"] == 64
    assert trainer.schedule_metrics([5, 6], [None, None]) == {}


# ---- bench modes: the numbers it reports ----


def test_bench_summary_leaves_out_step_1_and_ratios_are_against_sync():
    from types import SimpleNamespace

    from vinci_rl.train.bench_modes import ratios, summarize

    def row(step, step_s, exposed):
        return {"training/global_step": step, "timing_s/step": step_s, "timing_s/gen": step_s / 2,
                "reward_pool/exposed_s": exposed, "reward_pool/compute_s": 1.0}  # fmt: skip

    samples = [SimpleNamespace(step=s, response_tokens=t) for s, t in [(1, 999), (2, 40), (2, 40), (3, 20)]]
    sync = summarize([row(1, 60.0, 9.0), row(2, 4.0, 1.0), row(3, 6.0, 2.0)], samples, wall_s=100.0)
    assert sync["steps_measured"] == 2 and sync["step_s"] == 5.0 and sync["exposed_s"] == 1.5
    assert sync["tokens_per_s"] == pytest.approx(100 / 10.0)
    fast = {**sync, "step_s": 2.5, "exposed_s": 0.5, "tokens_per_s": 20.0}
    r = ratios({"vinci_sync": sync, "vinci_colocate_async": fast})
    assert r == {"step_s_vinci_colocate_async_vs_vinci_sync": 0.5, "exposed_s_vinci_colocate_async_vs_vinci_sync": 0.333,
                 "tokens_per_s_vinci_colocate_async_vs_vinci_sync": 2.0}  # fmt: skip
