"""ChemDraw-style: execution rate and Morgan-fingerprint Tanimoto (radius 2, 2048 bits), invalid answers = 0."""

from __future__ import annotations

import json

import pytest
from benchmark_test_helpers import FIXTURES

from vinci_rl.benchmarks import BenchmarkDataError, BenchmarkItem, MetricContext, get_benchmark

DRAW = "from rdkit import Chem\nfrom rdkit.Chem import Draw\nmol = Chem.MolFromSmiles({smiles!r})\nimg = Draw.MolToImage(mol)\n"


@pytest.fixture(scope="module")
def ctx():
    c = MetricContext()
    yield c
    c.close()


def item(smiles: str, language: str = "python") -> BenchmarkItem:
    return BenchmarkItem("m", FIXTURES / "chemdraw" / "images" / "phenol.png", "<image>", smiles, language, {})


def on_bits_tanimoto(a: str, b: str) -> float:
    """|A & B| / |A | B| over the on-bits of RDKit's Morgan (radius 2, 2048 bits) fingerprints."""
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fa, fb = (set(gen.GetFingerprint(Chem.MolFromSmiles(s)).GetOnBits()) for s in (a, b))
    return len(fa & fb) / len(fa | fb)


def test_identical_molecule_scores_one_whatever_the_smiles_spelling(ctx):
    bench = get_benchmark("chemdraw")
    assert bench.score(item("c1ccccc1O", "smiles"), "Oc1ccccc1", ctx) == {
        "Exec Rate": 1.0, "Tanimoto": 1.0, "Tanimoto@1.0": 1.0}


def test_a_known_pair_equals_rdkits_own_value(ctx):
    bench = get_benchmark("chemdraw")
    expected = on_bits_tanimoto("c1ccccc1O", "c1ccccc1N")  # phenol vs aniline
    assert 0 < expected < 1
    row = bench.score(item("c1ccccc1O", "smiles"), "c1ccccc1N", ctx)
    assert row == {"Exec Rate": 1.0, "Tanimoto": pytest.approx(expected), "Tanimoto@1.0": 0.0}


@pytest.mark.parametrize("answer", ["C1CC", "not a molecule", "", "   "])
def test_invalid_smiles_scores_zero(ctx, answer):
    row = get_benchmark("chemdraw").score(item("CCO", "smiles"), answer, ctx)
    assert row == {"Exec Rate": 0.0, "Tanimoto": 0.0, "Tanimoto@1.0": 0.0}


def test_rdkit_programs(ctx):
    bench = get_benchmark("chemdraw")
    good = bench.score(item("c1ccccc1O"), DRAW.format(smiles="Oc1ccccc1"), ctx)
    assert good == {"Exec Rate": 1.0, "Tanimoto": 1.0, "Tanimoto@1.0": 1.0}
    near = bench.score(item("c1ccccc1O"), DRAW.format(smiles="c1ccccc1N"), ctx)
    assert near["Exec Rate"] == 1.0 and near["Tanimoto"] == pytest.approx(on_bits_tanimoto("c1ccccc1O", "c1ccccc1N"))
    crash = bench.score(item("c1ccccc1O"), DRAW.format(smiles="c1ccccc1O") + "raise ValueError('boom')\n", ctx)
    assert crash == {"Exec Rate": 0.0, "Tanimoto": 0.0, "Tanimoto@1.0": 0.0}
    no_molecule = bench.score(item("c1ccccc1O"), "x = 1\n", ctx)  # it runs but names no molecule
    assert no_molecule == {"Exec Rate": 1.0, "Tanimoto": 0.0, "Tanimoto@1.0": 0.0}


def test_pass_criterion_is_an_exact_match():
    bench = get_benchmark("chemdraw")
    assert bench.passed({"Tanimoto": 1.0}) and not bench.passed({"Tanimoto": 0.99})


def test_layout(tmp_path):
    bench = get_benchmark("chemdraw")
    items = bench.load(FIXTURES / "chemdraw")
    assert [(it.id, it.language) for it in items] == [("phenol", "python"), ("aspirin", "python"), ("ethanol", "smiles")]
    assert all(it.prompt.count("<image>") == 1 and it.image.is_file() for it in items)
    with pytest.raises(BenchmarkDataError, match="test.jsonl not found"):
        bench.load(tmp_path)
    (tmp_path / "a.png").write_bytes(b"")
    rows = [{"id": "a", "image": "a.png", "smiles": "CCO"}, {"id": "b", "image": "a.png", "smiles": "C1CC"}]
    (tmp_path / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(BenchmarkDataError, match=r"test.jsonl:2: the reference SMILES 'C1CC' does not parse"):
        bench.load(tmp_path)
    (tmp_path / "test.jsonl").write_text(json.dumps({"id": "a", "image": "missing.png", "smiles": "CCO"}))
    with pytest.raises(BenchmarkDataError, match="image file not found: .*missing.png"):
        bench.load(tmp_path)
    (tmp_path / "test.jsonl").write_text(json.dumps({"id": "a", "smiles": "CCO"}))
    with pytest.raises(BenchmarkDataError, match="missing field 'image'"):
        bench.load(tmp_path)
