"""The shipped day-one content ranker (content_ranker.txt, LightGBM text format) and its summary: written by
`python -m matcher.offline.day_one`, read by matcher.offline.day_one.content_ranker."""

__all__: list[str] = []
