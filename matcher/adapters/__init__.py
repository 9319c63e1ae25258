"""Adapters from public data sets to the interchange format (docs/FORMAT.md)."""

__all__: list[str] = []
