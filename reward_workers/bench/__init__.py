"""Benchmarks of the reward pool against the reference systems' scoring paths (`vinci-rl bench reward`)."""
