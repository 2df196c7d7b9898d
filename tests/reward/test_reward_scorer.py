"""VisualScorer with a fake renderer: composite, failures as values, size policy, reference forms, batching."""

import io
import json
import pickle

import numpy as np
import pytest
from PIL import Image
from reward_helpers import FakeRenderer, canvas, fenced, other_shapes, shapes

from vinci_rl.render.result import BLANK, EMPTY, PARSE_ERROR, TIMEOUT, RenderResult
from vinci_rl.reward import RewardConfig, RewardResult, Sample, VisualScorer

PIXEL_ONLY = {"weights": {"pixel_l2": 1.0, "canny_l2": 1.0}}

LADDER = {
    "identical": shapes(),
    "small": shapes(dx=3, color=(190, 40, 40)),
    "large": other_shapes(),
    "blank": RenderResult(BLANK, canvas()),
}


def scorer(config=None, outcomes=None):
    return VisualScorer(config if config is not None else PIXEL_ONLY, renderer=FakeRenderer(outcomes or LADDER))


def test_synthetic_ladder_ranks_identical_small_large_blank():
    s = scorer()
    scores = {k: s.score(fenced("svg", k), "svg", shapes()).overall for k in LADDER}
    assert scores["identical"] == pytest.approx(1.0)
    assert scores["identical"] > scores["small"] > scores["large"] > scores["blank"] == -1.0


def test_blank_is_scored_when_not_a_failure():
    s = scorer({**PIXEL_ONLY, "blank_is_failure": False, "no_content_is_failure": False})
    r = s.score(fenced("svg", "blank"), "svg", shapes())
    # not a failure: status ok, the message says the render was blank; a flat map still scores -1 (RLRF's NaN)
    assert r.status == "ok" and "blank" in r.message
    assert r.terms["pixel_l2"] == -1.0 and r.overall == pytest.approx(-1.0)


FLAT = np.full((96, 128, 3), (223, 232, 241), np.uint8)  # a coloured background, nothing on it
RAMP = np.repeat(np.linspace(200, 250, 128).astype(np.uint8)[None, :, None], 96, axis=0).repeat(3, axis=2)


@pytest.mark.parametrize("image", [FLAT, RAMP, np.full((96, 128, 3), (40, 60, 90), np.uint8)])
def test_a_render_without_content_is_a_failure(image):
    s = scorer(outcomes={"empty": image, "dot": _dot(image)})
    r = s.score(fenced("svg", "empty"), "svg", shapes())
    assert r.status == "blank" and r.overall == -1.0 and "no detail" in r.message
    dot = s.score(fenced("svg", "dot"), "svg", shapes())
    assert dot.status == "ok" and dot.overall > r.overall  # the same canvas with one mark on it
    # off: scored like any render
    off = scorer({"no_content_is_failure": False}, {"empty": image}).score(fenced("svg", "empty"), "svg", shapes())
    assert off.status == "ok"


def _dot(image):
    out = image.copy()
    out[40:43, 60:63] = 0
    return out


def test_no_content_is_no_failure_when_the_reference_has_none():
    r = scorer(outcomes={"flat": FLAT}).score(fenced("svg", "flat"), "svg", FLAT)
    assert r.status == "ok" and r.overall == pytest.approx(1.0, abs=1e-6)


def test_near_white_ok_render_counts_as_blank():
    s = scorer(outcomes={"white": canvas()})
    r = s.score(fenced("svg", "white"), "svg", shapes())
    assert r.status == BLANK and r.overall == -1.0


def test_a_sparse_drawing_on_white_is_scored_unless_blank_is_a_failure():
    sparse = canvas()
    sparse[40:43, 60:63] = 0  # mean >= 254: RLRF's blank test calls it blank
    ours = scorer(outcomes={"sparse": sparse}).score(fenced("svg", "sparse"), "svg", shapes())
    assert ours.status == "ok" and ours.overall > -1.0 and "blank" in ours.message
    rlrf_like = scorer({**PIXEL_ONLY, "blank_is_failure": True}, {"sparse": sparse}).score(fenced("svg", "sparse"), "svg", shapes())
    assert rlrf_like.status == BLANK and rlrf_like.overall == -1.0


@pytest.mark.parametrize(
    "config,outcome,status,overall,terms",
    [
        # RLRF-style: any failure -> -1, image terms at their floor, text terms still computed
        ({}, RenderResult(PARSE_ERROR, message="bad xml"), PARSE_ERROR, -1.0,
         {"pixel_l2": -1.0, "canny_l2": -1.0, "ssim_structure": -1.0, "shape": -1.0, "pixel_coarse": -1.0, "format": 1.0}),
        ({"failure_rewards": {"timeout": -0.5}}, RenderResult(TIMEOUT), TIMEOUT, -0.5, {"pixel_l2": -1.0}),
        ({}, RenderResult(EMPTY), EMPTY, -1.0, {"pixel_l2": -1.0}),
        ({}, RuntimeError("boom"), "renderer_crash", -1.0, {"pixel_l2": -1.0}),
        # VinciCoder-style: visual terms 0, format still counts
        (
            {"weights": {"pixel_l2": 0.9, "format": 0.1}, "normalize_weights": False, "render_failure": "terms",
             "term_failure_values": {"pixel_l2": 0.0}},
            RenderResult(PARSE_ERROR), PARSE_ERROR, 0.1, {"pixel_l2": 0.0, "format": 1.0},
        ),
    ],
)
def test_render_failures_are_values(config, outcome, status, overall, terms):
    s = scorer(config, {"code": outcome})
    r = s.score(fenced("svg", "code"), "svg", shapes())
    assert r.status == status and r.overall == pytest.approx(overall)
    for k, v in terms.items():
        assert r.terms[k] == pytest.approx(v)
    assert status in r.message
    assert set(r.terms) <= set(s.config.weights)


@pytest.mark.parametrize(
    "response,config,status,overall",
    [
        (fenced("html", "identical"), {}, "wrong_language", -1.0),
        ("identical", {}, "no_code", -1.0),
        (fenced("html", "identical"), {"failure_rewards": {"wrong_language": 0.0}}, "wrong_language", 0.0),
        # raw fallback: the code is scored, the format term is 0
        ("identical", {"language": {"on_missing": "raw"}, "weights": {"pixel_l2": 1.0, "format": 1.0}}, "ok", 0.5),
    ],
)
def test_language_alignment(response, config, status, overall):
    s = scorer(config)
    r = s.score(response, "svg", shapes())
    assert r.overall == pytest.approx(overall)
    assert r.status == ("ok" if status == "ok" else status)
    if status != "ok":
        assert s.renderer.calls == []  # nothing rendered
        assert r.terms["format"] == 0.0 and r.terms["pixel_l2"] == -1.0


def test_composite_normalised_and_not():
    ref = shapes()
    both = {"weights": {"pixel_l2": 2.0, "canny_l2": 1.0}}
    rn = scorer({**both, "normalize_weights": True}).score(fenced("svg", "small"), "svg", ref)
    ru = scorer({**both, "normalize_weights": False}).score(fenced("svg", "small"), "svg", ref)
    expect = 2.0 * rn.terms["pixel_l2"] + rn.terms["canny_l2"]
    assert ru.overall == pytest.approx(expect) and rn.overall == pytest.approx(expect / 3.0)


def test_length_term_needs_ground_truth():
    cfg = {"weights": {"pixel_l2": 1.0, "length": 1.0}}
    code = "identical"
    r = scorer(cfg).score(fenced("svg", code), "svg", shapes())
    assert "length" not in r.terms and "length skipped" in r.message
    assert r.overall == pytest.approx(1.0)  # normalised over the terms present
    r = scorer(cfg).score(fenced("svg", code), "svg", shapes(), ground_truth=code)
    assert r.terms["length"] == pytest.approx(0.75)  # same length as GT
    r = scorer(cfg).score(fenced("svg", code), "svg", shapes(), gt_length=1000)
    assert r.terms["length"] == pytest.approx(-1.0)  # 9 chars < 0.1 * 1000: collapse floor
    # a fenced ground truth is measured on its code only
    r = scorer(cfg).score(fenced("svg", code), "svg", shapes(), ground_truth=fenced("svg", code + code))
    assert r.terms["length"] == pytest.approx(1.0)


def test_length_in_tokens_needs_lengths_or_tokenizer():
    cfg = {"weights": {"length": 1.0}, "length": {"unit": "tokens"}}
    r = scorer(cfg).score(fenced("svg", "identical"), "svg", shapes(), gt_length=10, pred_length=10)
    assert r.terms["length"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="tokenizer"):
        scorer(cfg).score(fenced("svg", "identical"), "svg", shapes(), ground_truth="abc")


@pytest.mark.parametrize(
    "size,max_pixels,ref_wh,expected",
    [
        ("reference", None, (128, 96), (128, 96)),
        ("reference", 128 * 96, (128, 96), (128, 96)),
        ("reference", 64 * 48, (128, 96), (64, 48)),  # capped, aspect kept
        ([64, 64], None, (128, 96), (64, 48)),  # fixed canvas (RLRF 512^2): the reference's aspect fitted in it
        ([64, 64], None, (96, 128), (48, 64)),
        ([64, 64], None, (128, 128), (64, 64)),
    ],
)
def test_size_policy(size, max_pixels, ref_wh, expected):
    s = scorer({**PIXEL_ONLY, "size": size, "max_pixels": max_pixels}, {"identical": shapes(*ref_wh)})
    r = s.score(fenced("svg", "identical"), "svg", shapes(*ref_wh))
    assert s.renderer.calls[-1][2] == expected
    assert r.overall > 0.95  # the fake renderer resizes with OpenCV, the reference side with PIL


def test_fixed_canvas_pads_both_sides_the_same_way():
    seen = {}

    def spy(name):
        def term(pred, ref):
            seen[name] = (pred.copy(), ref.copy())
            return 1.0

        return term

    s = scorer({"weights": {"pixel_l2": 1.0}, "size": [64, 64]}, {"wide": shapes(128, 32)})
    s._image_terms = {"pixel_l2": spy("pixel_l2")}
    s.score(fenced("svg", "wide"), "svg", shapes(128, 32))
    pred, ref = seen["pixel_l2"]
    assert pred.shape == ref.shape == (64, 64, 3)
    assert (pred[:24] == 255).all() and (ref[:24] == 255).all() and (ref[-24:] == 255).all()  # white bands
    assert not (ref[24:40] == 255).all()


def test_ground_truth_is_rendered_as_the_reference():
    outcomes = {"gt": shapes(), "pred": shapes(), "bad": RenderResult(PARSE_ERROR)}
    cfg = {**PIXEL_ONLY, "reference_source": "ground_truth"}
    s = scorer(cfg, outcomes)
    r = s.score(fenced("svg", "pred"), "svg", other_shapes(), ground_truth="gt")
    assert r.overall == pytest.approx(1.0, abs=1e-6)  # compared with the render of "gt", not the image
    assert [c[1] for c in s.renderer.calls] == ["gt", "pred"]
    s.score(fenced("svg", "pred"), "svg", other_shapes(), ground_truth="gt")
    assert [c[1] for c in s.renderer.calls].count("gt") == 1  # cached
    r = s.score(fenced("svg", "pred"), "svg", other_shapes(), ground_truth="bad")
    assert r.overall < 0.9 and "ground truth did not render" in r.message  # fell back to the image


def test_render_sizes_box_the_prediction():
    s = scorer({**PIXEL_ONLY, "render_sizes": {"svg": [40, 40]}})
    r = s.score(fenced("svg", "identical"), "svg", shapes(128, 96))
    assert s.renderer.calls[-1][2] == (40, 30) and r.overall > 0.8
    s.score(fenced("html", "identical"), "html", shapes(128, 96))
    assert s.renderer.calls[-1][2] == (128, 96)  # other languages at the scoring size


def test_reference_forms_agree(tmp_path):
    ref = shapes()
    png = io.BytesIO()
    Image.fromarray(ref).save(png, format="PNG")
    path = tmp_path / "ref.png"
    path.write_bytes(png.getvalue())
    rgba = np.concatenate([ref, np.full(ref.shape[:2] + (1,), 255, np.uint8)], axis=2)
    s = scorer()
    got = [s.score(fenced("svg", "small"), "svg", r).overall for r in (ref, Image.fromarray(ref), png.getvalue(), path, str(path), rgba)]
    assert max(got) - min(got) < 1e-12


def test_bad_reference_raises_naming_it(tmp_path):
    with pytest.raises(ValueError, match="absent.png"):
        scorer().score(fenced("svg", "identical"), "svg", tmp_path / "absent.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.png"):
        scorer().score(fenced("svg", "identical"), "svg", bad)


def test_score_many_matches_score_and_accepts_dicts():
    s = scorer()
    samples = [Sample(fenced("svg", k), "svg", shapes()) for k in LADDER]
    many = s.score_many(samples + [{"response": fenced("svg", "small"), "lang": "svg", "reference": shapes()}])
    single = [s.score(x.response, x.lang, x.reference).overall for x in samples]
    assert [r.overall for r in many[:-1]] == pytest.approx(single)
    assert many[-1].overall == pytest.approx(many[1].overall)


def test_result_to_dict_is_json_and_pickles():
    r = scorer().score(fenced("svg", "small"), "svg", shapes())
    d = json.loads(json.dumps(r.to_dict()))
    assert set(d) == {"overall", "terms", "status", "message", "timings"}
    assert {"extract_s", "render_s", "terms_s", "total_s"} <= set(d["timings"])
    assert pickle.loads(pickle.dumps(r)) == r
    assert isinstance(r, RewardResult) and r.ok


def test_scorer_pickles_as_config():
    s = scorer()
    clone = pickle.loads(pickle.dumps(s))
    assert clone.config == s.config and clone._renderer is None


def test_owned_renderer_is_closed_and_injected_one_is_not(monkeypatch):
    injected = FakeRenderer(LADDER)
    with VisualScorer(PIXEL_ONLY, renderer=injected) as s:
        s.score(fenced("svg", "identical"), "svg", shapes())
    assert not injected.closed

    import vinci_rl.render as render_pkg

    made = []

    class Spy(FakeRenderer):
        def __init__(self, cfg):
            super().__init__(LADDER)
            made.append(self)

    monkeypatch.setattr(render_pkg, "Renderer", Spy, raising=False)
    with VisualScorer(PIXEL_ONLY) as s:
        s.score(fenced("svg", "identical"), "svg", shapes())
    assert len(made) == 1 and made[0].closed


def test_only_weighted_terms_are_reported():
    r = scorer({"weights": {"ssim": 0.0, "pixel_l2": 1.0}}).score(fenced("svg", "small"), "svg", shapes())
    assert set(r.terms) == {"ssim", "pixel_l2"}
    assert r.overall == pytest.approx(r.terms["pixel_l2"])  # weight 0: logged, not counted


def test_lenient_fences_get_the_lenient_format_value():
    s = scorer({"weights": {"pixel_l2": 1.0, "format": 1.0}, "format": {"lenient_value": 0.25}})
    exact = s.score(fenced("svg", "identical"), "svg", shapes())
    alias = s.score(fenced("xml", "identical"), "svg", shapes())
    cut = s.score("```svg\nidentical", "svg", shapes())
    assert exact.terms["format"] == 1.0 and alias.terms["format"] == cut.terms["format"] == 0.25
    assert alias.status == cut.status == "ok" and "fence other than" in alias.message


def test_presets_build_scorers():
    code = "<svg>identical</svg>"  # RLRF reads the <svg> span
    for name in ("default", "rlrf", "coarse_fine"):
        cfg = RewardConfig.from_preset(name)
        if name == "coarse_fine":
            cfg = RewardConfig.from_dict({"preset": name, "dino": {"model": None, "config": {"hidden_size": 32, "num_hidden_layers": 1,
                                          "num_attention_heads": 2, "intermediate_size": 64}, "tile_size": 28, "dtype": "float32"}})  # fmt: skip
        s = VisualScorer(cfg, renderer=FakeRenderer({code: shapes()}))
        r = s.score(fenced("svg", code), "svg", shapes(), ground_truth=code)
        assert r.status == "ok" and r.overall > 0.9, (name, r)
    assert RewardConfig.from_preset("rlrf").size == [512, 512]


def test_length_in_tokens_with_a_tokenizer_loaded_by_path(tmp_path):
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1, "b": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(tmp_path / "tok")
    cfg = {"weights": {"length": 1.0}, "length": {"unit": "tokens", "tokenizer": str(tmp_path / "tok")}}
    s = scorer(cfg, {"a b a b": shapes()})
    r = s.score(fenced("svg", "a b a b"), "svg", shapes(), ground_truth="a b a b")  # 4 tokens vs 4
    assert r.terms["length"] == pytest.approx(0.75)
    r = s.score(fenced("svg", "a b a b"), "svg", shapes(), ground_truth="a b a b a b a b")  # 4 vs 8: half
    assert r.terms["length"] == pytest.approx(1.0)
