"""Exact retrieval equals brute force; the factory names its backends."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.retrieval import ExactRetriever, make_retriever


def test_exact_retriever_matches_full_sort() -> None:
    rng = np.random.default_rng(0)
    items = rng.normal(size=(3000, 32)).astype(np.float32)
    queries = rng.normal(size=(257, 32)).astype(np.float32)
    idx, scores = ExactRetriever(block=100).fit(items).search(queries, 50)
    brute = np.argsort(-(queries @ items.T), axis=1, kind="stable")[:, :50]
    assert idx.shape == (257, 50)
    assert (idx == brute).mean() > 0.999  # only exact float ties may swap
    assert np.all(np.diff(scores, axis=1) <= 0)


def test_n_larger_than_catalogue_returns_everything_sorted() -> None:
    items = np.eye(4, dtype=np.float32)
    idx, scores = ExactRetriever().fit(items).search(np.array([[0, 0, 1, 0.5]], dtype=np.float32), 10)
    assert idx.tolist() == [[2, 3, 0, 1]]
    assert scores[0, 0] == pytest.approx(1.0)


def test_factory_rejects_unknown_backend() -> None:
    assert isinstance(make_retriever("exact"), ExactRetriever)
    with pytest.raises(ValueError, match="unknown retriever 'annoy'"):
        make_retriever("annoy")
