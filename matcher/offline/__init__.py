"""What data scientists run: training, the time-split and forward evaluations, and the synthetic data generator."""

__all__: list[str] = []
