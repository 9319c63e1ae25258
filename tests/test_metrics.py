"""Ranking metrics against answers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
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


def test_paired_difference_finds_a_real_gain_and_no_gain_where_there_is_none() -> None:
    from models.metrics import paired_difference

    rng = np.random.default_rng(0)
    a = rng.random(400)
    better = paired_difference(a, np.clip(a + rng.normal(0.03, 0.05, 400), 0, 1), resamples=2000)
    assert better["ci_low"] > 0 and better["p_value"] < 0.01 and better["wins"] > better["losses"]
    assert better["ci_low"] < better["difference"] < better["ci_high"]
    noise = paired_difference(a, np.clip(a + rng.normal(0.0, 0.05, 400), 0, 1), resamples=2000)
    assert noise["ci_low"] < 0 < noise["ci_high"] and noise["p_value"] > 0.05
    worse = paired_difference(a + 0.02, a, resamples=2000)  # the same gain seen from the other side
    assert worse["ci_high"] < 0 and worse["difference"] == pytest.approx(-0.02)
    same = paired_difference(a, a)
    assert (same["difference"], same["p_value"], same["ties"]) == (0.0, 1.0, 400.0)
    with pytest.raises(ValueError):
        paired_difference(a, a[:10])


def test_a_challenger_is_promoted_only_past_the_margin_and_outside_the_noise() -> None:
    from matcher.offline.evaluation import challenger_wins

    clear = {"mean_a": 0.20, "mean_b": 0.23, "ci_low": 0.01, "ci_high": 0.05, "p_value": 0.001}
    assert challenger_wins(clear, 0.02)[0]
    assert not challenger_wins(clear, 0.20)[0] and "margin" in challenger_wins(clear, 0.20)[1]
    noisy = {**clear, "ci_low": -0.01}
    assert not challenger_wins(noisy, 0.0)[0] and "noise" in challenger_wins(noisy, 0.0)[1]
    assert not challenger_wins({**clear, "mean_b": 0.19, "ci_high": -0.001, "ci_low": -0.02}, 0.0)[0]


def test_per_query_ndcg_equals_scikit_learn_on_random_lists() -> None:
    """Checked against an established implementation: sklearn.metrics.ndcg_score (linear gain = 2^g - 1 for
    grades 0 / 1; every relevant job is in the ranked list so both ideal DCGs are the same)."""
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(3)
    n_queries, n_items = 40, 30
    relevant = rng.random((n_queries, n_items)) < 0.15
    relevant[:, 0] |= ~relevant.any(axis=1)  # every query has a relevant job
    scores = rng.random((n_queries, n_items))
    order = np.argsort(-scores, axis=1)
    recs = pd.DataFrame({"seeker_id": np.repeat(np.arange(n_queries), n_items), "job_id": order.ravel(),
                         "rank": np.tile(np.arange(1, n_items + 1), n_queries)})
    q, j = np.nonzero(relevant)
    truth = pd.DataFrame({"seeker_id": q, "job_id": j, "grade": 1})
    ours = per_query_ndcg(recs, truth, 10).sort_index().to_numpy()
    theirs = [ndcg_score(relevant[i:i + 1].astype(float), scores[i:i + 1], k=10) for i in range(n_queries)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
