"""Training: the verl reward manager, the `train` command, CPU-run wiring."""
