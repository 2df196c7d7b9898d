"""vinci-rl: reinforcement learning for image-to-code vision-language models, rewarded by looking at the render."""

__version__ = "0.1.0"
