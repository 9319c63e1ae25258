"""Exact retrieval equals brute force; the factory names its backends."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine.retrieval import ExactRetriever, make_retriever


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


def _one_hot_scores(items: np.ndarray, groups: np.ndarray, queries: np.ndarray, q_groups: np.ndarray,
                    bonus: float) -> np.ndarray:
    same = (q_groups[:, None] == groups[None, :]) & (groups[None, :] >= 0)
    return queries @ items.T + bonus * same


def test_group_bonus_equals_a_one_hot_block_and_survives_updates() -> None:
    rng = np.random.default_rng(3)
    items = rng.standard_normal((3000, 8)).astype(np.float32)
    groups = rng.integers(-1, 6, 3000).astype(np.int32)
    queries = rng.standard_normal((40, 8)).astype(np.float32)
    q_groups = rng.integers(-1, 6, 40).astype(np.int32)
    retriever = ExactRetriever(block=16).fit(items, groups)
    # Live writes: overwrite some rows (moving them between groups) and append new ones.
    rows = np.array([5, 17, 2999, 3000, 3001])
    new_items = rng.standard_normal((5, 8)).astype(np.float32)
    new_groups = np.array([2, -1, 4, 1, 5], dtype=np.int32)
    retriever.set_items(rows, new_items, new_groups)
    items = np.vstack([items, np.zeros((2, 8), dtype=np.float32)])
    groups = np.concatenate([groups, [-1, -1]]).astype(np.int32)
    items[rows], groups[rows] = new_items, new_groups
    idx, scores = retriever.search(queries, 50, query_groups=q_groups, group_bonus=0.3)
    expected = _one_hot_scores(items, groups, queries, q_groups, 0.3)
    best = -np.sort(-expected, axis=1)[:, :50]
    np.testing.assert_allclose(scores, best, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(expected, idx, axis=1), best, rtol=1e-5, atol=1e-5)


def test_block_max_top_n_equals_a_full_partition() -> None:
    from matcher.engine.retrieval import top_n_exact
    from models.metrics import top_k_rows

    scores = np.random.default_rng(4).standard_normal((7, 100_003)).astype(np.float32)
    fast, full = top_n_exact(scores, 200), top_k_rows(scores, 200)
    np.testing.assert_array_equal(np.take_along_axis(scores, fast, axis=1), np.take_along_axis(scores, full, axis=1))
