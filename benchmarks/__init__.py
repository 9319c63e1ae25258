"""Benchmarks: speed and memory as ratios against named baselines measured in the same run (results/)."""

__all__: list[str] = []
