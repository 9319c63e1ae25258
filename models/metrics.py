"""Ranking metrics over whole recommendation tables (one merge, no loop per query).

`recs`: columns seeker_id, job_id, rank (1 = best). `truth`: seeker_id, job_id, grade (> 0 = relevant).
Every seeker in `truth` is a query; a query the method returned nothing for scores 0, so methods that cannot
answer some seekers are not flattered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["top_k_rows", "ranking_metrics", "recall_curve", "per_query_ndcg", "grouped_ndcg", "paired_difference"]


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k best scores, best first (deterministic, but ties in no promised order)."""
    k = min(k, scores.shape[1])
    if k == 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
        np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)



def _hits(recs: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    relevant = truth[truth["grade"] > 0]
    return recs.merge(relevant[["seeker_id", "job_id", "grade"]], on=["seeker_id", "job_id"], how="inner")


def _ideal_dcg(truth: pd.DataFrame, k: int) -> pd.Series:
    relevant = truth[truth["grade"] > 0].sort_values(["seeker_id", "grade"], ascending=[True, False])
    pos = relevant.groupby("seeker_id").cumcount() + 1
    top = relevant[pos <= k]
    gains: pd.Series = (2.0 ** top["grade"] - 1) / np.log2(pos[pos <= k] + 1)
    return gains.groupby(top["seeker_id"]).sum()


def per_query_ndcg(recs: pd.DataFrame, truth: pd.DataFrame, k: int = 10) -> pd.Series:
    """NDCG@k per query seeker (gain 2^grade - 1), indexed by seeker_id; 0 for queries with no answer."""
    hits = _hits(recs[recs["rank"] <= k], truth)
    dcg = ((2.0 ** hits["grade"] - 1) / np.log2(hits["rank"] + 1)).groupby(hits["seeker_id"]).sum()
    ideal = _ideal_dcg(truth, k)
    return (dcg.reindex(ideal.index, fill_value=0.0) / ideal).rename(f"ndcg@{k}")


def ranking_metrics(recs: pd.DataFrame, truth: pd.DataFrame, *, catalogue_size: int,
                    ks: Sequence[int] = (10, 100)) -> dict[str, float]:
    """Mean NDCG@k, Recall@k, MAP@max(k), MRR over query seekers; coverage@k over the catalogue."""
    queries = pd.Index(truth.loc[truth["grade"] > 0, "seeker_id"].unique())
    n_relevant = truth[truth["grade"] > 0].groupby("seeker_id").size().reindex(queries)
    hits = _hits(recs, truth)
    out: dict[str, float] = {"queries": float(len(queries))}
    for k in ks:
        out[f"ndcg@{k}"] = float(per_query_ndcg(recs, truth, k).reindex(queries, fill_value=0.0).mean())
        found = hits[hits["rank"] <= k].groupby("seeker_id").size().reindex(queries, fill_value=0)
        out[f"recall@{k}"] = float((found / n_relevant).mean())
        shown = recs.loc[recs["rank"] <= k, "job_id"].nunique()
        out[f"coverage@{k}"] = float(shown / catalogue_size) if catalogue_size else 0.0
    depth = max(ks)
    deep = hits[hits["rank"] <= depth].sort_values(["seeker_id", "rank"])
    precision_at_hit = (deep.groupby("seeker_id").cumcount() + 1) / deep["rank"]
    found_precision = precision_at_hit.groupby(deep["seeker_id"]).sum().reindex(queries, fill_value=0.0)
    out[f"map@{depth}"] = float((found_precision / np.minimum(n_relevant, depth)).mean())
    first = hits.groupby("seeker_id")["rank"].min()
    out["mrr"] = float((1.0 / first).reindex(queries, fill_value=0.0).mean())
    return out


def recall_curve(recs: pd.DataFrame, truth: pd.DataFrame, ks: Sequence[int]) -> dict[int, float]:
    """Recall@k for each k: the curve plotted in reports."""
    queries = pd.Index(truth.loc[truth["grade"] > 0, "seeker_id"].unique())
    n_relevant = truth[truth["grade"] > 0].groupby("seeker_id").size().reindex(queries)
    hits = _hits(recs, truth)
    curve = {}
    for k in ks:
        found = hits[hits["rank"] <= k].groupby("seeker_id").size().reindex(queries, fill_value=0)
        curve[int(k)] = float((found / n_relevant).mean())
    return curve


def grouped_ndcg(y: np.ndarray, group: np.ndarray, at: int = 10, *, empty: float | None = 1.0
                 ) -> Callable[[np.ndarray], float]:
    """Mean NDCG@at of scores over LightGBM-style query groups (consecutive rows, sizes `group`), as a function of
    the scores: the ideal DCG is computed once for many score vectors (one per tree, one per mixing weight).
    Gain 2^label - 1; queries without a positive count `empty` (LightGBM: 1.0), or are left out when it is None.
    Equal scores keep row order, as LightGBM's stable sort does."""
    query = np.repeat(np.arange(len(group)), group)
    starts = np.r_[0, np.cumsum(group)[:-1]].astype(np.int64)
    discount = 1.0 / np.log2(np.arange(len(y)) + 2.0)
    gain = np.exp2(np.asarray(y, dtype=np.float64)) - 1.0
    rows = np.arange(len(y))

    def dcg(order: np.ndarray) -> np.ndarray:
        position = rows - starts[query[order]]
        top = position < at
        return np.bincount(query[order][top], weights=(gain[order] * discount[position])[top], minlength=len(group))

    ideal = dcg(np.lexsort((-gain, query)))
    has = ideal > 0

    def score(scores: np.ndarray) -> float:
        got = dcg(np.lexsort((rows, -np.asarray(scores, dtype=np.float64), query)))
        ratio = got[has] / ideal[has]
        if empty is None:
            return float(ratio.mean()) if len(ratio) else float("nan")
        return float((ratio.sum() + empty * (~has).sum()) / len(group)) if len(group) else float("nan")

    return score


def _mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(b - a, axis=axis)


def paired_difference(a: np.ndarray, b: np.ndarray, *, resamples: int = 10_000, seed: int = 0
                      ) -> dict[str, float]:
    """How sure is "B ranks better than A"? `a`, `b`: one metric value per query, the same queries in the same
    order. The mean difference b - a, its 95% bootstrap interval (queries resampled, pairs kept together) and
    the two-sided p-value of a paired sign-flip permutation test (no difference: each query's pair is equally
    likely either way round), both from scipy.stats; wins / losses / ties count queries."""
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("a and b must be 1-d arrays of the same queries")
    diff = b - a
    out = {"queries": float(len(a)), "mean_a": float(a.mean()) if len(a) else float("nan"),
           "mean_b": float(b.mean()) if len(b) else float("nan"), "difference": float(diff.mean()) if len(a) else 0.0,
           "wins": float((diff > 0).sum()), "losses": float((diff < 0).sum()), "ties": float((diff == 0).sum())}
    if len(a) < 2 or not diff.any():  # nothing to resample: no evidence either way
        return {**out, "ci_low": out["difference"], "ci_high": out["difference"], "p_value": 1.0}
    rng = np.random.default_rng(seed)
    interval = stats.bootstrap((a, b), _mean_difference, paired=True, vectorized=True, n_resamples=resamples,
                               confidence_level=0.95, method="percentile", rng=rng).confidence_interval
    test = stats.permutation_test((a, b), _mean_difference, permutation_type="samples", vectorized=True,
                                  n_resamples=resamples, alternative="two-sided", rng=rng)
    return {**out, "ci_low": float(interval.low), "ci_high": float(interval.high), "p_value": float(test.pvalue)}
