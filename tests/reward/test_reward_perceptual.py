"""Optional LPIPS / DreamSim terms: weights only by path; clear errors when the package or path is missing."""

import importlib.util
import pickle

import pytest
from reward_helpers import FakeRenderer, fenced, shapes

from vinci_rl.reward import RewardConfig, VisualScorer
from vinci_rl.reward.config import DreamSimConfig, LpipsConfig
from vinci_rl.reward.terms.perceptual import DreamSimTerm, LpipsTerm

HAVE_LPIPS = importlib.util.find_spec("lpips") is not None
HAVE_DREAMSIM = importlib.util.find_spec("dreamsim") is not None


@pytest.mark.parametrize(
    "term,key",
    [(LpipsTerm(LpipsConfig(path="/nonexistent/lpips.pth")), "reward.lpips.path"),
     (DreamSimTerm(DreamSimConfig(path="/nonexistent/dreamsim")), "reward.dreamsim.path")],
)
def test_missing_weights_path_is_named(term, key):
    with pytest.raises(RuntimeError, match=key):
        term(shapes(), shapes())


@pytest.mark.skipif(HAVE_LPIPS, reason="lpips is installed: the missing-package error cannot be shown")
def test_missing_lpips_package_is_named(tmp_path):
    weights = tmp_path / "lpips.pth"
    weights.write_bytes(b"")
    with pytest.raises(RuntimeError, match="pip install lpips"):
        LpipsTerm(LpipsConfig(path=str(weights)))(shapes(), shapes())


@pytest.mark.skipif(HAVE_DREAMSIM, reason="dreamsim is installed: the missing-package error cannot be shown")
def test_missing_dreamsim_package_is_named(tmp_path):
    with pytest.raises(RuntimeError, match="pip install dreamsim"):
        DreamSimTerm(DreamSimConfig(path=str(tmp_path)))(shapes(), shapes())


def test_weighted_without_path_is_a_config_error():
    with pytest.raises(ValueError, match="reward.lpips.path"):
        RewardConfig.from_dict({"weights": {"lpips": 1.0}})
    with pytest.raises(ValueError, match="reward.dreamsim.path"):
        RewardConfig.from_dict({"weights": {"dreamsim": 1.0}})


def test_terms_pickle_as_config():
    t = LpipsTerm(LpipsConfig(path="/w/lpips.pth", net="vgg"))
    clone = pickle.loads(pickle.dumps(t))
    assert clone.config == t.config and clone._model is None


def test_scorer_reports_missing_package_or_weights(tmp_path):
    cfg = RewardConfig.from_dict({"weights": {"pixel_l2": 1.0, "lpips": 1.0}, "lpips": {"path": str(tmp_path / "none.pth")}})
    s = VisualScorer(cfg, renderer=FakeRenderer({"x": shapes()}))
    with pytest.raises(RuntimeError, match="none.pth"):
        s.score(fenced("svg", "x"), "svg", shapes())


@pytest.mark.skipif(
    not HAVE_LPIPS,
    reason="lpips is not installed and no LPIPS weights exist here (they need a torchvision/hub download); "
    "the term runs where `lpips` is installed and reward.lpips.path holds a state_dict",
)
def test_lpips_random_weights_round_trip(tmp_path):
    import lpips
    import torch

    model = lpips.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False)
    torch.save(model.state_dict(), tmp_path / "lpips.pth")
    term = LpipsTerm(LpipsConfig(path=str(tmp_path / "lpips.pth"), device="cpu"))
    assert term(shapes(), shapes()) == pytest.approx(1.0, abs=1e-5)
