"""`matcher train --cluster`: LambdaRank on a real local Dask cluster (two worker processes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher import api
from matcher.cli import main as cli_main
from matcher.offline.synthetic import generate
from matcher.offline.training import TrainConfig
from models.distributed import query_partitions

pytestmark = pytest.mark.slow


def test_partitions_cut_only_between_queries() -> None:
    group = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    starts = query_partitions(group, 3)
    assert starts[0] == 0 and np.all(np.diff(starts) > 0) and starts[-1] < len(group)
    rows = [int(group[a:b].sum()) for a, b in zip(starts, [*starts[1:], len(group)], strict=True)]
    assert sum(rows) == group.sum() and len(rows) == 3
    assert list(query_partitions(np.array([5]), 4)) == [0]


def test_training_on_a_dask_cluster_learns_the_known_answer(tmp_path: Path) -> None:
    from distributed import LocalCluster

    generate(800, 400, seed=5, events_per_seeker=4.0).write(tmp_path / "data")
    data = api.load_data(tmp_path / "data")
    config = dict(holdout_days=0, n_candidates=60, n_random_negatives=20, text_dim=32, n_estimators=60,
                  early_stopping_rounds=60, smoothing_trees=5, refit=False)
    local, local_summary = api.train(data, TrainConfig(**config))  # type: ignore[arg-type]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        bundle, summary = api.train(data, TrainConfig(**config, cluster=cluster.scheduler_address))  # type: ignore[arg-type]
        assert summary["trained_on"] == cluster.scheduler_address
        # The CLI path too: a model directory that loads and serves.
        assert cli_main(["train", "--data", str(tmp_path / "data"), "--model", str(tmp_path / "model"),
                         "--holdout-days", "0", "--candidates", "60", "--trees", "20",
                         "--cluster", cluster.scheduler_address]) == 0
    # All 60 trees grown (no early stopping on Dask) and the tree count picked from the recorded curve.
    assert bundle.ranker.booster_.current_iteration() == 60
    assert 1 <= summary["best_iteration"] <= 60
    # Synthetic data with a known answer: the distributed model ranks as well as the local one, far above chance.
    assert summary["valid_ndcg@10"] > 0.5
    assert abs(summary["valid_ndcg@10"] - local_summary["valid_ndcg@10"]) < 0.08
    loaded = api.load(tmp_path / "model")
    assert loaded.ranker.booster_.current_iteration() == 20
    matches = api.recommend(loaded, data, k=5, seeker_ids=list(data.seekers["seeker_id"][:20]))
    assert len(matches) == 100


def test_ndcg_curve_equals_lightgbms_own() -> None:
    import lightgbm as lgb

    from models.distributed import ndcg_curve

    rng = np.random.default_rng(0)

    def queries(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        group = rng.integers(5, 30, n)
        X = rng.normal(size=(int(group.sum()), 8))
        y = np.clip((X[:, 0] + rng.normal(size=len(X))).round(), 0, 4).astype(int)
        return X, y, group

    (X, y, g), (vx, vy, vg) = queries(300), queries(100)
    recorded: dict[str, dict[str, list[float]]] = {}
    booster = lgb.train({"objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "verbosity": -1},
                        lgb.Dataset(X, y, group=g), 30, valid_sets=[lgb.Dataset(vx, vy, group=vg)],
                        valid_names=["valid"], callbacks=[lgb.record_evaluation(recorded)])
    np.testing.assert_allclose(ndcg_curve(booster, vx, vy, vg), recorded["valid"]["ndcg@10"], atol=1e-12)
