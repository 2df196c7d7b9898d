"""`vinci-rl eval --benchmark ... --server URL --samples N`: answers generated through vinci_rl.eval's server client
(a fake OpenAI-compatible server on 127.0.0.1), N per item, saved and scored with pass@k."""

from __future__ import annotations

import json

import pytest
from benchmark_test_helpers import FIXTURES
from fake_openai import chat_server

from vinci_rl.cli import main


@pytest.fixture()
def server():
    """Answers every chat request with the SMILES of ethanol."""
    with chat_server(lambda req: "```smiles\nCCO\n```", model="m") as srv:
        yield srv


def test_generated_samples_are_saved_and_scored(server, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["eval", "--benchmark", "chemdraw", str(FIXTURES / "chemdraw"), "--server", server.url, "--samples", "2",
               "--temperature", "0.7", "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    assert len(server.requests) == 6  # 3 items x 2 samples
    # requests arrive concurrently, in no fixed order: each is the item's image, then the item's prompt
    prompts = []
    for req in server.requests:
        parts = req["messages"][0]["content"]
        assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
        prompts.append(parts[1]["text"])
    assert sum(p.startswith("Write Python code with RDKit") for p in prompts) == 4  # aspirin, phenol x 2 samples
    assert sum(p.startswith("Write the SMILES string") for p in prompts) == 2  # ethanol x 2 samples
    saved = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in saved) == ["aspirin", "aspirin", "ethanol", "ethanol", "phenol", "phenol"]
    data = json.loads((out / "results.json").read_text())
    # only ethanol (a SMILES item) is answered right; for the RDKit items "CCO" is not a program that runs
    assert data["table"]["all"]["Tanimoto@1.0"] == pytest.approx(1 / 3)
    assert data["table"]["all"]["Exec Rate"] == pytest.approx(1 / 3)
    assert data["pass_at_k"] == {"pass@1": pytest.approx(1 / 3)} and data["n_samples"] == 6
    assert any("2 per item" in n for n in data["notes"])
