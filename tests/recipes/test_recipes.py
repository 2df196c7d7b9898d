"""Every recipe composes on verl's config, and every key in it is known to verl's schema or ours:
a typo in a recipe or an override fails here, not silently at training time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vinci_rl.train.recipe import RecipeError, base_config_name, check_recipe, compose_recipe, unknown_keys

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml"))
EXPECTED = {
    "chart_python", "chem", "html", "latex_tikz", "learn_tiny_cpu", "refine_chart", "refine_learn_tiny_cpu",
    "refine_tiny_cpu", "sft_tiny_cpu", "sft_warmstart", "svg_rlrf", "tiny_cpu", "unified_vincicoder",
}  # fmt: skip


def test_all_recipes_are_there():
    assert {p.stem for p in RECIPES} == EXPECTED


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipe_composes_with_only_known_keys(recipe):
    cfg = compose_recipe(recipe)
    assert unknown_keys(cfg, base_config_name(recipe)) == []


@pytest.mark.parametrize("recipe", [p for p in RECIPES if base_config_name(p) == "ppo_trainer"], ids=lambda p: p.stem)
def test_rl_recipes_use_the_vinci_reward_schedule_and_trainer(recipe):
    cfg = compose_recipe(recipe)
    assert cfg.reward.reward_manager.name == "vinci"
    refine = "refine" in cfg.vinci  # render-and-refine recipes use the multi-turn loop (it applies the budget too)
    assert cfg.actor_rollout_ref.rollout.agent.default_agent_loop == ("vinci_refine_agent" if refine else "vinci_budget_agent")
    assert cfg.trainer.v1.trainer_mode == "vinci_sync"
    assert cfg.algorithm.adv_estimator == "grpo"
    assert "reward" in cfg.vinci and "schedule" in cfg.vinci


@pytest.mark.parametrize(
    "overrides, bad_key",
    [
        (["+trainer.total_trainig_steps=3"], "trainer.total_trainig_steps"),
        (["+actor_rollout_ref.rollout.enable_sleep_mod=false"], "actor_rollout_ref.rollout.enable_sleep_mod"),
        (["+vinci.reward.wieghts.pixel_l2=1"], "wieghts"),
        (["+vinci.schedule.polcy=fixed"], "polcy"),
        (["+vinci.sheduler.policy=fixed"], "vinci.sheduler"),
    ],
)
def test_a_typo_in_an_override_is_named(overrides, bad_key):
    recipe = RECIPES[[p.stem for p in RECIPES].index("tiny_cpu")]
    cfg = compose_recipe(recipe, overrides)
    with pytest.raises(RecipeError, match="unknown config key"):
        check_recipe(cfg, str(recipe))
    assert any(bad_key in k for k in unknown_keys(cfg))


def test_overriding_a_missing_key_without_plus_is_a_clear_error():
    recipe = RECIPES[[p.stem for p in RECIPES].index("tiny_cpu")]
    with pytest.raises(RecipeError, match="total_trainig_steps"):
        compose_recipe(recipe, ["trainer.total_trainig_steps=3"])


def test_missing_recipe_file_is_named(tmp_path):
    with pytest.raises(RecipeError, match="does not exist"):
        compose_recipe(tmp_path / "nope.yaml")


def test_a_typo_inside_a_recipe_file_is_named(tmp_path):
    recipe = RECIPES[[p.stem for p in RECIPES].index("svg_rlrf")]
    shutil.copytree(recipe.parent / "common", tmp_path / "common")
    bad = tmp_path / "bad.yaml"
    bad.write_text(recipe.read_text().replace("temperature: 1.1", "temprature: 1.1"))
    with pytest.raises(RecipeError, match="actor_rollout_ref.rollout.temprature"):
        check_recipe(compose_recipe(bad), str(bad))
