"""Datasets: verl's multimodal parquet rows, `vinci-rl prepare`, the bundled sample set.

    rows.py             make_row: THE row schema (prompt with <image>, images, reward_model, extra_info)
    sources.py          input shapes (folder of pairs / code alone, parquet / JSONL / datasets tables) -> Records
    filters.py          the checks prepare runs (render, near-white, colour entropy, token bounds, duplicates)
    prepare.py          PrepareConfig + prepare(): records -> filtered, split parquet + rejected.jsonl + summary.json
    sample_programs.py  seeded program generators per language
    sample_set.py       build_sample_set (rendered parquet for the demo/tests), write_programs (data/sample_set/)
"""
