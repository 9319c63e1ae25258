"""LambdaRank training on a Dask cluster (`lightgbm.dask`), for training sets that outgrow one machine.

Queries are never split: the rows are cut into partitions at query boundaries, one per worker (or more), and
each partition carries its own group sizes, as `DaskLGBMRanker` requires. lightgbm.dask has no early stopping, so
the ranker trains all `n_estimators` trees; the validation curve is then computed here, tree by tree, because
lightgbm.dask reports only the evaluation of the worker its model came from, which may hold no validation rows.
The caller picks the tree count from that curve exactly as in local training (matcher.offline.training).
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from models.metrics import grouped_ndcg

__all__ = ["fit_on_dask", "query_partitions", "ndcg_curve"]


def query_partitions(group: np.ndarray, n_parts: int) -> np.ndarray:
    """Indices into `group` where partitions start: about equal rows each, cut only between queries."""
    rows = np.cumsum(group)
    if len(group) == 0:
        return np.zeros(1, dtype=np.int64)
    targets = rows[-1] * np.arange(1, n_parts) / n_parts
    cuts = np.unique(np.searchsorted(rows, targets, side="left") + 1)
    cuts = cuts[(cuts > 0) & (cuts < len(group))]
    return np.concatenate([[0], cuts]).astype(np.int64)


def _dask_arrays(X: np.ndarray, y: np.ndarray, group: np.ndarray, n_parts: int) -> tuple[Any, Any, Any]:
    import dask.array as da

    starts = query_partitions(group, n_parts)
    groups_per_part = np.diff(np.r_[starts, len(group)])
    rows_per_part = [int(group[a:a + n].sum()) for a, n in zip(starts, groups_per_part, strict=True)]
    return (da.from_array(X, chunks=(tuple(rows_per_part), X.shape[1])),
            da.from_array(y, chunks=(tuple(rows_per_part),)),
            da.from_array(group, chunks=(tuple(int(n) for n in groups_per_part),)))


def ndcg_curve(booster: lgb.Booster, X: np.ndarray, y: np.ndarray, group: np.ndarray, at: int = 10) -> np.ndarray:
    """Mean NDCG@at (LightGBM's definition: gain 2^label - 1, queries without positives count 1) after each tree."""
    ndcg = grouped_ndcg(y, group, at)
    scores = np.zeros(len(y))
    curve = np.empty(booster.current_iteration())
    for t in range(len(curve)):
        scores += booster.predict(X, start_iteration=t, num_iteration=1, raw_score=True)
        curve[t] = ndcg(scores)
    return curve


def fit_on_dask(client: Any, params: dict[str, Any], n_estimators: int, X: np.ndarray, y: np.ndarray,
                group: np.ndarray, feature_names: list[str],
                eval_set: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> tuple[lgb.Booster, dict[str, Any]]:
    """Train on the cluster behind `client`; returns the (local) booster and {"valid": {"ndcg@10": curve}}."""
    from lightgbm.dask import DaskLGBMRanker

    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    params = {k: v for k, v in params.items() if k not in ("num_threads", "n_jobs")}  # workers use their own
    eval_at = params.pop("eval_at", [10])
    model = DaskLGBMRanker(client=client, n_estimators=n_estimators, **params)
    Xd, yd, gd = _dask_arrays(X, y, group, n_workers)
    model.fit(Xd, yd, group=gd, eval_at=eval_at, feature_name=feature_names)
    booster = model.booster_
    evals: dict[str, Any] = {}
    if eval_set is not None:
        evals["valid"] = {f"ndcg@{eval_at[0]}": list(ndcg_curve(booster, *eval_set, at=int(eval_at[0])))}
    return booster, evals
