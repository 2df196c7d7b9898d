"""RewardConfig: presets, YAML / recipe loading, unknown keys named with their file, validation."""

import pickle

import pytest
import yaml

from vinci_rl.reward.config import PRESETS_DIR, RewardConfig, presets

TINY_DINO = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


def write(tmp_path, data, name="reward.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return p


def test_presets_exist_and_load():
    assert set(presets()) >= {"default", "rlrf", "vincicoder", "coarse_fine"}
    for name in presets():
        RewardConfig.from_preset(name)


def test_default_preset_equals_dataclass_defaults():
    assert RewardConfig.from_preset("default") == RewardConfig()
    assert RewardConfig.load(None) == RewardConfig()


@pytest.mark.parametrize(
    "preset,expected",
    [
        (
            "rlrf",
            {
                "weights": {"pixel_l2": 1.0, "canny_l2": 1.0, "length": 0.1},
                "failure_reward": -1.0,
                "size": [512, 512],
                "reference_source": "ground_truth",
                "language": {"on_missing": "rlrf", "aliases": {}},
                "pixel": {"both_flat": -1.0},
                "render": {"svg_dpi": 128},
                "no_content_is_failure": False,
            },
        ),
        (
            "vincicoder",
            {
                "weights": {"dino_crops": 0.9, "format": 0.1},
                "failure_rewards": {"wrong_language": 0.0, "no_code": 0.0},
                "render_failure": "terms",
                "blank_is_failure": False,
                "no_content_is_failure": False,
                "render_sizes": {"svg": [336, 336]},
                "language": {"on_missing": "vincicoder", "aliases": {}},
            },
        ),
        (
            "coarse_fine",
            {
                "weights": {"dino_coarse": 0.45, "dino_fine": 0.45, "format": 0.1},
                "render_failure": "terms",
                "blank_is_failure": False,
                "no_content_is_failure": True,
                "language": {"on_missing": "fail", "aliases": {}},
            },
        ),
        ("default", {"failure_reward": -1.0, "size": "reference", "no_content_is_failure": True}),
    ],
)
def test_preset_values(preset, expected):
    d = RewardConfig.from_preset(preset).to_dict()
    for k, v in expected.items():
        assert d[k] == v


@pytest.mark.parametrize("name", ["vincicoder", "coarse_fine"])
def test_dino_preset_settings(name):
    c = RewardConfig.from_preset(name)
    assert (c.dino.feature, c.dino.tile_size, c.dino.max_tiles, c.dino.dtype) == ("cls_prenorm", 448, 12, "bfloat16")
    # 0.9 visual + 0.1 format
    assert sum(w for t, w in c.weights.items() if t.startswith("dino")) == pytest.approx(0.9)
    assert c.weights["format"] == pytest.approx(0.1)


def test_default_needs_no_dino_weights():
    c = RewardConfig()
    assert not {"dino_coarse", "dino_fine", "dino_crops"} & set(c.weights)
    assert {"pixel_l2", "canny_l2", "ssim_structure", "shape", "pixel_coarse", "colour", "length", "format"} == set(c.weights)


@pytest.mark.parametrize(
    "data,fragment",
    [
        ({"weigths": {"pixel_l2": 1}}, "reward.weigths"),
        ({"dino": {"modle": "x"}}, "reward.dino.modle"),
        ({"length": {"floor": 0.1}}, "reward.length.floor"),
        ({"weights": {"pixle_l2": 1.0}}, "reward.weights.pixle_l2"),
        ({"weights": {}}, "empty"),
        ({"weights": {"pixel_l2": "a lot"}}, "reward.weights.pixel_l2"),
        ({"render_failure": "sometimes"}, "reward.render_failure"),
        ({"size": "huge"}, "reward.size"),
        ({"size": [512]}, "reward.size"),
        ({"weights": {"dino_fine": 1.0}}, "reward.dino.model"),
        ({"weights": {"lpips": 1.0}}, "reward.lpips.path"),
        ({"dino": {"feature": "pooled"}}, "reward.dino.feature"),
        ({"language": {"on_missing": "guess"}}, "reward.language.on_missing"),
        ({"reference_source": "gt"}, "reward.reference_source"),
        ({"render_sizes": {"svg": 336}}, "reward.render_sizes.svg"),
        ({"pixel": {"flat": 1}}, "reward.pixel.flat"),
        ({"render": {"svg_dpi": "high"}}, "reward.render"),
        ({"length": {"unit": "words"}}, "reward.length.unit"),
        ({"preset": "nope"}, "unknown reward preset"),
        ({"dino": "facebook/dinov2-large"}, "reward.dino"),
        ({"render": {"timeout": 3}}, "reward.render"),  # RenderConfig's own keys are checked too
    ],
)
def test_bad_config_names_key_and_file(tmp_path, data, fragment):
    p = write(tmp_path, data)
    with pytest.raises(ValueError) as e:
        RewardConfig.from_yaml(p)
    assert fragment in str(e.value) and str(p) in str(e.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="invalid YAML"):
        RewardConfig.from_yaml(write(tmp_path, "weights: [unclosed"))
    with pytest.raises(ValueError, match="cannot read"):
        RewardConfig.from_yaml(tmp_path / "absent.yaml")


def test_recipe_file_with_vinci_reward_block(tmp_path):
    recipe = {
        "hydra": {"searchpath": ["pkg://verl.trainer.config"]},
        "reward": {"num_workers": 4},  # verl's own group: not ours, ignored
        "vinci": {"reward": {"preset": "rlrf", "weights": {"pixel_l2": 1.0, "ssim": 0.5}}, "other": 1},
    }
    c = RewardConfig.from_yaml(write(tmp_path, recipe, "recipe.yaml"))
    assert c.weights == {"pixel_l2": 1.0, "ssim": 0.5}  # weights replace the preset's
    assert c.size == [512, 512]  # the rest comes from the preset


def test_recipe_unknown_key_names_recipe(tmp_path):
    p = write(tmp_path, {"vinci": {"reward": {"wieghts": {}}}}, "recipe.yaml")
    with pytest.raises(ValueError, match=r"recipe\.yaml.*reward\.wieghts"):
        RewardConfig.from_yaml(p)


def test_preset_overrides_merge_nested_blocks():
    c = RewardConfig.from_dict({"preset": "vincicoder", "dino": {"model": None, "config": TINY_DINO, "tile_size": 28}})
    assert c.dino.config == TINY_DINO and c.dino.tile_size == 28 and c.dino.max_tiles == 12
    assert c.render_failure == "terms"


def test_load_accepts_each_form(tmp_path):
    p = write(tmp_path, {"preset": "rlrf"})
    assert RewardConfig.load("rlrf") == RewardConfig.load(str(p)) == RewardConfig.load(p)
    assert RewardConfig.load({"preset": "rlrf"}) == RewardConfig.from_preset("rlrf")


def test_round_trip_and_pickle():
    c = RewardConfig.from_preset("vincicoder")
    assert RewardConfig.from_dict(c.to_dict()) == c
    assert pickle.loads(pickle.dumps(c)) == c


def test_failure_values():
    c = RewardConfig.from_dict({"failure_rewards": {"timeout": -0.5}, "term_failure_values": {"ssim": 0.0}})
    assert c.failure_value("timeout") == -0.5 and c.failure_value("parse_error") == -1.0
    assert c.term_failure_value("ssim") == 0.0 and c.term_failure_value("pixel_l2") == -1.0


def test_presets_document_their_keys():
    for p in PRESETS_DIR.glob("*.yaml"):
        assert p.read_text().lstrip().startswith("#"), f"{p.name} needs a header comment"


def test_render_block_reaches_render_config():
    from vinci_rl.render.config import RenderConfig

    c = RewardConfig.from_dict({"render": {"sandbox": "none", "timeout_s": {"svg": 2.0}}})
    rc = RenderConfig.from_dict(c.render)
    assert rc.sandbox == "none" and rc.timeout_for("svg") == 2.0
