"""Constants shared by the eval tests: a tiny DINOv2 config and the small test set (SVG + SMILES)."""

from __future__ import annotations

# A tiny random-weight Dinov2Config (no hub): identical images still give cosine 1 -> DINO score 1.
TINY_DINO = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "patch_size": 14,
    "image_size": 28,
}

RED_RECT = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect x="10" y="10" width="40" height="30" fill="#d62728"/></svg>'
BLUE_CIRCLE = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><circle cx="50" cy="50" r="25" fill="#1f77b4"/></svg>'
GREEN_BOTH = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect x="5" y="60" width="60" height="20" fill="#2ca02c"/>'
    '<circle cx="70" cy="30" r="15" fill="#9467bd"/></svg>'
)
BLANK_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"></svg>'

# id -> (language, ground truth), in file order (prepare reads a folder sorted by name)
TEST_SET = {
    "a_red": ("svg", RED_RECT),
    "b_blue": ("svg", BLUE_CIRCLE),
    "c_green": ("svg", GREEN_BOTH),
    "d_phenol": ("smiles", "c1ccccc1O"),
    "e_aspirin": ("smiles", "CC(=O)Oc1ccccc1C(=O)O"),
    "f_unanswered": ("svg", GREEN_BOTH.replace("#2ca02c", "#ff7f0e")),
}
