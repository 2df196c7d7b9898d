"""Does training make the model better? The two-stage method (SFT warm start, then visual GRPO) run end to end
on a task a tiny model can learn on 2 CPU cores (`vinci_rl.data.shapes_task`), measured on held-out prompts:
`pipeline` (one seed: what `make demo` runs), `report` (learning.json, curves, gallery), `bench` (several seeds,
paired confidence intervals, and the "train SFT longer" control)."""
