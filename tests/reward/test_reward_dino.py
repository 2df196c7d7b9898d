"""DINO terms: InternVL tiling (pure) and the DinoEncoder with a tiny random-weight Dinov2 (no hub)."""

import pickle

import numpy as np
import pytest
from reward_helpers import FakeRenderer, fenced, noise, other_shapes, shapes

from vinci_rl.reward import RewardConfig, VisualScorer
from vinci_rl.reward.config import DinoConfig
from vinci_rl.reward.terms.dino import coarse_fine, crop_scores, dino_views, tile_grid

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from vinci_rl.reward.dino import DinoEncoder  # noqa: E402

TINY = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "patch_size": 14,
    "image_size": 28,
}


def tiny(**over):
    return DinoConfig(**{"config": TINY, "tile_size": 28, "max_tiles": 4, "dtype": "float32", "device": "cpu", **over})


# ---- tiling (pure) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "w,h,max_tiles,tile,expected",
    [
        (448, 448, 12, 448, (1, 1)),  # square, small: ties resolved to the smallest grid
        (1000, 1000, 12, 448, (3, 3)),  # square, large: ties go to bigger grids while area > half of it
        (600, 600, 12, 448, (1, 1)),  # 360000 < 0.5 * 448^2 * 4
        (896, 448, 12, 448, (2, 1)),
        (1344, 448, 12, 448, (3, 1)),
        (448, 1344, 12, 448, (1, 3)),
        (640, 480, 12, 448, (4, 3)),  # 4:3 exactly
        (1920, 1080, 12, 448, (4, 2)),  # 1.78: 2/1 is closest (3/2 is 0.28 off); big image -> the 4 x 2 tie
        (100, 1000, 12, 448, (1, 10)),
        (5000, 100, 12, 448, (12, 1)),  # beyond the widest grid
        (5000, 100, 6, 448, (6, 1)),
        (1000, 300, 1, 448, (1, 1)),  # one tile allowed
        (56, 28, 4, 28, (2, 1)),
    ],
)
def test_tile_grid_table(w, h, max_tiles, tile, expected):
    assert tile_grid(w, h, max_tiles, tile) == expected


@pytest.mark.parametrize("w,h,n_views", [(56, 28, 3), (28, 28, 1), (100, 30, 4), (30, 100, 4)])
def test_dino_views_are_thumbnail_plus_tiles(w, h, n_views):
    views = dino_views(noise(w, h), tile_size=28, max_tiles=4)
    assert len(views) == n_views
    assert all(v.shape == (28, 28, 3) and v.dtype == np.uint8 for v in views)


def test_tiles_cover_the_resized_image():
    img = noise(56, 28)
    _, left, right = dino_views(img, tile_size=28, max_tiles=4)
    assert np.array_equal(np.concatenate([left, right], axis=1), img)  # already 2 x 1 tiles: no resampling


@pytest.mark.parametrize(
    "p,r,expected",
    [
        ([[1.0, 0.0]], [[1.0, 0.0]], [1.0]),
        ([[1.0, 0.0]], [[0.0, 3.0]], [0.5]),  # orthogonal
        ([[1.0, 1.0]], [[-2.0, -2.0]], [0.0]),  # opposite
        ([[0.0, 0.0]], [[1.0, 0.0]], [0.5]),  # zero vector: cos 0, no NaN
    ],
)
def test_crop_scores_table(p, r, expected):
    assert crop_scores(np.array(p), np.array(r)) == pytest.approx(expected)


def test_coarse_is_thumbnail_fine_is_tile_mean():
    ref = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    pred = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # thumbnail 1, tiles 0.5 and 0
    assert coarse_fine(pred, ref) == pytest.approx((1.0, 0.25))
    assert coarse_fine(pred[:1], ref[:1]) == pytest.approx((1.0, 1.0))  # 1 x 1 grid: fine = coarse


# ---- encoder ---------------------------------------------------------------------------------------------


def test_identical_images_score_one_coarse_and_fine():
    enc = DinoEncoder(tiny())
    img = shapes(120, 50)
    a, b = enc.view_features([img, img.copy()])
    assert a.shape == (1 + 2, 32)  # 120 x 50: aspect 2.4 -> a 2 x 1 grid, plus the thumbnail
    coarse, fine = coarse_fine(a, b)
    assert coarse == pytest.approx(1.0, abs=1e-6) and fine == pytest.approx(1.0, abs=1e-6)


def test_different_images_score_below_one():
    enc = DinoEncoder(tiny())
    a, b = enc.view_features([shapes(), noise()])
    coarse, fine = coarse_fine(a, b)
    assert coarse < 1.0 - 1e-4 and fine < 1.0 - 1e-4


def test_cache_hit_avoids_re_encoding():
    enc = DinoEncoder(tiny(batch_size=64))
    ref = shapes()
    enc.view_features([ref], cache=True)
    calls, crops = enc.forward_calls, enc.crops_encoded
    again = enc.view_features([ref.copy()], cache=True)
    assert (enc.forward_calls, enc.crops_encoded) == (calls, crops) and enc.cache_hits == 1
    assert again[0].shape[0] >= 1
    enc.view_features([ref], cache=False)  # uncached side is always encoded
    assert enc.forward_calls == calls + 1


def test_cache_is_lru_bounded():
    enc = DinoEncoder(tiny(cache_size=2))
    imgs = [noise(40, 40, seed=s) for s in range(3)]
    enc.view_features(imgs, cache=True)
    assert len(enc._cache) == 2
    before = enc.crops_encoded
    enc.view_features([imgs[0]], cache=True)  # evicted: encoded again
    assert enc.crops_encoded > before


def test_identical_images_in_one_call_are_encoded_once():
    enc = DinoEncoder(tiny(batch_size=64))
    ref = shapes(56, 28)  # 2 x 1 grid: 3 views
    enc.view_features([ref, ref, ref, noise(56, 28)])
    assert enc.crops_encoded == 6 and enc.forward_calls == 1


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_dtype_paths_run_and_agree(dtype):
    ref = DinoEncoder(tiny()).encode([shapes()])
    got = DinoEncoder(tiny(dtype=dtype)).encode([shapes()])
    assert got.dtype == np.float32 and got.shape == ref.shape
    cos = float((got * ref).sum() / np.linalg.norm(got) / np.linalg.norm(ref))
    assert cos > 0.99


@pytest.mark.parametrize("feature", ["cls_prenorm", "cls", "mean"])
def test_feature_choices(feature):
    enc = DinoEncoder(tiny(feature=feature))
    f = enc.encode([shapes(), other_shapes()])
    assert f.shape == (2, 32) and np.isfinite(f).all()


def test_feature_definitions_match_the_model():
    enc = DinoEncoder(tiny(feature="cls_prenorm"))
    model = enc._ensure_model()
    x = torch.randn(2, 3, 28, 28)
    out = model(pixel_values=x, output_hidden_states=True)
    assert torch.allclose(enc._features(model, x), out.hidden_states[-1][:, 0])
    assert torch.allclose(model.layernorm(out.hidden_states[-1])[:, 0], out.last_hidden_state[:, 0], atol=1e-5)
    enc.config.feature = "mean"
    assert torch.allclose(enc._features(model, x), out.last_hidden_state[:, 1:].mean(1), atol=1e-6)


def test_random_weights_are_the_same_in_every_process():
    a = DinoEncoder(tiny()).encode([shapes()])
    b = DinoEncoder(tiny()).encode([shapes()])
    assert np.array_equal(a, b)


def test_load_by_path_round_trip(tmp_path):
    from vinci_rl.reward.dino import load_dinov2

    model = load_dinov2(tiny())
    model.save_pretrained(tmp_path / "dino")
    by_path = DinoEncoder(tiny(config=None, model=str(tmp_path / "dino")))
    in_memory = DinoEncoder(tiny())
    assert np.allclose(by_path.encode([shapes()]), in_memory.encode([shapes()]), atol=1e-6)


def test_bad_model_path_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = DinoEncoder(tiny(config=None, model=str(tmp_path / "no-such-model")))
    with pytest.raises(RuntimeError, match="no-such-model"):
        enc.encode([shapes()])


def test_encoder_needs_a_source():
    with pytest.raises(ValueError, match="reward.dino.model"):
        DinoEncoder(DinoConfig())


def test_encoder_is_lazy_and_pickles_as_config():
    enc = DinoEncoder.from_config({"config": TINY, "tile_size": 28, "max_tiles": 4, "dtype": "float32"})
    assert enc._model is None  # nothing loaded yet
    before = enc.encode([shapes()])
    clone = pickle.loads(pickle.dumps(enc))
    assert clone._model is None and clone.config == enc.config
    assert np.array_equal(clone.encode([shapes()]), before)


def test_device_auto_resolves():
    enc = DinoEncoder(tiny(device="auto"))
    assert enc.device == ("cuda" if torch.cuda.is_available() else "cpu")


# ---- through the scorer ------------------------------------------------------------------------------------


def vinci_config(preset="vincicoder", **over):
    dino = {"model": None, "config": TINY, "tile_size": 28, "max_tiles": 4, "dtype": "float32"}
    return RewardConfig.from_dict({"preset": preset, "dino": dino, **over})


def test_vincicoder_identical_render_scores_one():
    ref = shapes(336, 336)  # VinciCoder rasterises SVG at 336^2: a 336^2 reference needs no resampling
    s = VisualScorer(vinci_config(), renderer=FakeRenderer({"same": ref, "bad": noise()}))
    r = s.score(fenced("svg", "same"), "svg", ref)
    assert s.renderer.calls[-1][2] == (336, 336)
    assert r.terms == {"dino_crops": pytest.approx(1.0, abs=1e-6), "format": 1.0}
    assert r.overall == pytest.approx(1.0, abs=1e-6)  # 0.9 visual + 0.1 format
    assert "dino_batch_s" in r.timings
    assert s.score(fenced("svg", "bad"), "svg", ref).overall < r.overall


def test_vincicoder_failures():
    from vinci_rl.render.result import PARSE_ERROR, RenderResult

    s = VisualScorer(vinci_config(), renderer=FakeRenderer({"broken": RenderResult(PARSE_ERROR)}))
    r = s.score(fenced("svg", "broken"), "svg", shapes())
    assert r.status == PARSE_ERROR and r.overall == pytest.approx(0.1)  # visual 0, format 0.1
    assert r.terms == {"dino_crops": 0.0, "format": 1.0}
    r = s.score(fenced("html", "broken"), "svg", shapes())
    assert r.status == "wrong_language" and r.overall == 0.0
    r = s.score(fenced("SVG", "broken"), "svg", shapes())  # VinciCoder's tag is case-sensitive
    assert r.status == "wrong_language" and r.overall == 0.0


def test_vincicoder_scores_an_empty_canvas_and_coarse_fine_does_not():
    outcomes = {"white": np.full((96, 128, 3), 255, np.uint8), "flat": np.full((96, 128, 3), (223, 232, 241), np.uint8)}
    vinci = VisualScorer(vinci_config(), renderer=FakeRenderer(outcomes))
    ours = VisualScorer(vinci_config("coarse_fine"), renderer=FakeRenderer(dict(outcomes)))
    for code in list(outcomes):
        v = vinci.score(fenced("svg", code), "svg", shapes())
        assert v.status == "ok" and v.terms["dino_crops"] > 0.0  # no blank check: DINO scores it (weakness kept)
        o = ours.score(fenced("svg", code), "svg", shapes())
        assert o.status == "blank" and o.overall == pytest.approx(0.1)  # visual 0, format 0.1
        dot = outcomes[code].copy()
        dot[40:44, 60:64] = 0
        ours.renderer.outcomes["dot"] = dot
        assert ours.score(fenced("svg", "dot"), "svg", shapes()).overall > o.overall


def test_coarse_fine_weights_thumbnail_and_tiles_apart():
    ref, pred = shapes(56, 28), other_shapes(56, 28)  # 2 x 1 grid: thumbnail + 2 tiles
    s = VisualScorer(vinci_config("coarse_fine"), renderer=FakeRenderer({"p": pred}))
    r = s.score(fenced("svg", "p"), "svg", ref)
    fp, fr = s.encoder.view_features([pred, ref])
    sc = crop_scores(fp, fr)
    assert r.terms["dino_coarse"] == pytest.approx(sc[0]) and r.terms["dino_fine"] == pytest.approx(sc[1:].mean())
    assert r.overall == pytest.approx(0.45 * sc[0] + 0.45 * sc[1:].mean() + 0.1)


def test_score_many_encodes_a_shared_reference_once():
    ref = shapes(56, 28)  # 2 x 1 grid: 3 views per image
    cfg = vinci_config("coarse_fine")
    enc = DinoEncoder(cfg.dino)
    s = VisualScorer(cfg, renderer=FakeRenderer({"a": shapes(56, 28), "b": other_shapes(56, 28), "c": noise(56, 28)}), encoder=enc)
    results = s.score_many([{"response": fenced("svg", k), "lang": "svg", "reference": ref} for k in "abc"])
    assert [r.status for r in results] == ["ok"] * 3
    # one pass: 3 renders + the reference once ("a" is pixel-identical to the reference: encoded once too)
    assert enc.forward_calls == 1 and enc.crops_encoded == 3 * 3
    s.score_many([{"response": fenced("svg", "b"), "lang": "svg", "reference": ref}])
    assert enc.cache_hits == 1  # the reference came from the cache
