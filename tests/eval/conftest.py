"""Fixtures for the eval tests: a warm real Renderer and a small prepared test set (SVG + SMILES, real renders)."""

from __future__ import annotations

import pytest
from eval_helpers import TEST_SET

from vinci_rl.render import RenderConfig, Renderer


@pytest.fixture(scope="session")
def eval_renderer():
    with Renderer(RenderConfig(timeout_s={"svg": 10.0, "smiles": 10.0})) as r:
        yield r


@pytest.fixture(scope="session")
def test_parquet(tmp_path_factory, eval_renderer):
    """TEST_SET prepared with `vinci-rl prepare`'s code path (code alone -> rendered references, 96 x 64)."""
    from vinci_rl.data.prepare import PrepareConfig, prepare

    src = tmp_path_factory.mktemp("eval_src")
    for sample_id, (lang, code) in TEST_SET.items():
        (src / f"{sample_id}.{'svg' if lang == 'svg' else 'smi'}").write_text(code)
    out = tmp_path_factory.mktemp("eval_data")
    s = prepare(PrepareConfig(source=src, out_dir=out, size=(96, 64), split_name="test", progress=False), renderer=eval_renderer)
    assert s.rows == {"test": len(TEST_SET)}, s.rejected_rows
    return out / "test.parquet"
