"""Adapters from public data sets to the interchange format (docs/FORMAT.md)."""

from matcher.adapters.cn_postings import ImportSummary, convert_cn_postings, read_cn_postings

__all__: list[str] = ["ImportSummary", "convert_cn_postings", "read_cn_postings"]
