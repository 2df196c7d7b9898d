"""A model path that is neither a local directory nor reachable fails in seconds with a message naming it and the
setting it came from: `eval --dino`, `prepare --tokenizer`, local-model loading, the reward's DINOv2 weights (the
vincicoder preset names a hub id) and its tokenizer. Before, these waited for the hub for 14-84 s or more, or
failed with "Repo id must be in the form ..." for a missing directory."""

from __future__ import annotations

import socket
import time

import pytest

from vinci_rl.models import locate
from vinci_rl.models.locate import ModelPathError, locate_pretrained

FAST_S = 5.0  # "in seconds": the hub probe's own bound is 3 s


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_local_directories_and_paths(tmp_path):
    assert locate_pretrained(str(tmp_path), "--dino") == str(tmp_path)
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ModelPathError, match=r"--dino '.*weights.bin' is a file, not a model directory"):
        locate_pretrained(str(tmp_path / "weights.bin"), "--dino")
    for missing in ("/nonexistent/dir", "./runs/nope", "~/no/such/model", "a/b/c"):
        with pytest.raises(ModelPathError, match="no such directory"):
            locate_pretrained(missing, "--dino")
    with pytest.raises(ModelPathError, match="neither a local directory nor a hub id"):
        locate_pretrained("not a model", "--tokenizer")


def test_hub_id_offline_without_a_cached_copy_fails_at_once(empty_hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    with pytest.raises(ModelPathError, match=r"reward.dino.model 'facebook/dinov2-large' .*HF_HUB_OFFLINE"):
        locate_pretrained("facebook/dinov2-large", "reward.dino.model")
    assert time.monotonic() - t0 < 1.0


def test_a_cached_hub_id_is_used_offline(empty_hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (empty_hub_cache / "models--owner--tiny" / "snapshots" / "abc123").mkdir(parents=True)
    assert locate_pretrained("owner/tiny") == "owner/tiny"


def test_hub_id_with_an_unreachable_hub_fails_in_seconds(empty_hub_cache, monkeypatch, closed_port):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    t0 = time.monotonic()
    with pytest.raises(ModelPathError, match=rf"--tokenizer 'Qwen/Qwen2.5-VL-7B-Instruct' .*127.0.0.1:{closed_port}"):
        locate_pretrained("Qwen/Qwen2.5-VL-7B-Instruct", "--tokenizer")
    assert time.monotonic() - t0 < FAST_S


def test_hub_id_is_passed_on_when_the_hub_answers(empty_hub_cache, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert locate.hub_reachable() and locate_pretrained("owner/model") == "owner/model"


def test_eval_dino_path_fails_before_any_work(tmp_path, capsys):
    from vinci_rl.cli import main

    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "a", "code": "x"}\n')
    test = tmp_path / "test.parquet"
    _one_row_parquet(test)
    t0 = time.monotonic()
    rc = main(["eval", str(test), "--predictions", str(preds), "--out", str(tmp_path / "o"), "--dino", "/nonexistent/dir", "--quiet"])
    assert rc == 2 and time.monotonic() - t0 < FAST_S
    assert "--dino (DINOv2 weights) '/nonexistent/dir': no such directory" in capsys.readouterr().err


def test_prepare_tokenizer_and_local_model_fail_fast_offline(tmp_path, empty_hub_cache, monkeypatch, capsys):
    from vinci_rl.cli import main
    from vinci_rl.models.loading import load_vlm

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "a.smi").write_text("CCO")
    t0 = time.monotonic()
    rc = main(["prepare", str(tmp_path), "--out", str(tmp_path / "out"), "--tokenizer", "Qwen/Qwen2.5-VL-7B-Instruct", "--quiet"])
    assert rc == 2 and "--tokenizer 'Qwen/Qwen2.5-VL-7B-Instruct' is not a local directory" in capsys.readouterr().err
    with pytest.raises(ModelPathError, match="model 'owner/no-such-vlm'"):
        load_vlm("owner/no-such-vlm")
    with pytest.raises(FileNotFoundError, match="no such directory"):  # as before: a missing directory
        load_vlm(str(tmp_path / "missing-model"))
    assert time.monotonic() - t0 < FAST_S


def test_the_vincicoder_preset_dino_hub_id_fails_fast_offline(empty_hub_cache, monkeypatch):
    from vinci_rl.reward import RewardConfig, VisualScorer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    scorer = VisualScorer(RewardConfig.from_preset("vincicoder"))
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="reward.dino.model 'facebook/dinov2-large' .*HF_HUB_OFFLINE") as e:
        _ = scorer.encoder.device
    assert isinstance(e.value.__cause__, ModelPathError)
    assert time.monotonic() - t0 < FAST_S


def _one_row_parquet(path):
    import numpy as np

    from vinci_rl.data.rows import make_row, write_rows

    write_rows(path, [make_row("a", 0, "svg", "<svg/>", np.full((8, 8, 3), 200, np.uint8))])
