"""Benchmarks and synthetic data: national-scale inputs with a known answer, to measure speed and quality."""

__all__ = ["synth"]
