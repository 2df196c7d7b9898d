"""Render and refine: a multi-turn rollout in which the model sees the render of its own code and corrects it."""
