"""Datasets: verl's multimodal parquet rows, the bundled sample set."""
