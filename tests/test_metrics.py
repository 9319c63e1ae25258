"""Ranking metrics against answers worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from models.metrics import per_query_ndcg, ranking_metrics, recall_curve

RECS = pd.DataFrame({
    "seeker_id": ["a", "a", "a", "b", "b", "b"],
    "job_id": ["x", "y", "z", "p", "q", "r"],
    "rank": [1, 2, 3, 1, 2, 3],
})
TRUTH = pd.DataFrame({
    "seeker_id": ["a", "a", "b", "c", "a"],
    "job_id": ["y", "w", "r", "x", "x"],
    "grade": [2, 1, 1, 1, 0],  # a/x grade 0: exposed, not relevant
})


def test_known_answers() -> None:
    m = ranking_metrics(RECS, TRUTH, catalogue_size=10, ks=(2, 3))
    assert m["queries"] == 3  # c counts although no method answered it
    # a: relevant y (grade 2) at rank 2, w (grade 1) nowhere. b: r at rank 3. c: nothing returned.
    ideal_a = 3 / math.log2(2) + 1 / math.log2(3)
    ndcg_a_at2 = (3 / math.log2(3)) / ideal_a
    assert m["ndcg@2"] == pytest.approx(ndcg_a_at2 / 3)
    ndcg_b_at3 = (1 / math.log2(4)) / 1.0
    assert m["ndcg@3"] == pytest.approx((ndcg_a_at2 + ndcg_b_at3) / 3)
    assert m["recall@2"] == pytest.approx((1 / 2) / 3)
    assert m["recall@3"] == pytest.approx((1 / 2 + 1) / 3)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 3) / 3)
    assert m["map@3"] == pytest.approx(((1 / 2) / 2 + (1 / 3) / 1) / 3)
    assert m["coverage@2"] == pytest.approx(4 / 10)


def test_perfect_ranking_scores_one() -> None:
    truth = pd.DataFrame({"seeker_id": ["a", "a"], "job_id": ["x", "y"], "grade": [3, 1]})
    recs = pd.DataFrame({"seeker_id": ["a", "a"], "job_id": ["x", "y"], "rank": [1, 2]})
    m = ranking_metrics(recs, truth, catalogue_size=2, ks=(10,))
    assert m["ndcg@10"] == pytest.approx(1.0) and m["recall@10"] == 1.0 and m["map@10"] == 1.0
    swapped = recs.assign(rank=[2, 1])
    assert per_query_ndcg(swapped, truth, 10)["a"] < 1.0


def test_recall_curve_is_monotone() -> None:
    curve = recall_curve(RECS, TRUTH, ks=[1, 2, 3])
    assert curve == pytest.approx({1: 0.0, 2: 1 / 6, 3: 1 / 2})
