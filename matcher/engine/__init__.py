"""The scoring path: candidate retrieval (retrieval), pair features + model scores (matching) and the reasons shown
with each match.
"""

__all__: list[str] = []
