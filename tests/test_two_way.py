"""Two-way fit: the employer side trains where applications have outcomes, joins the one score, and falls back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from features.pairs import pair_features
from matcher import api
from matcher.engine.matching import MatchEngine
from matcher.offline.synthetic import generate
from matcher.offline.training import EMPLOYER_WEIGHTS, LabelledQueries, TrainConfig, _tune_employer_weight
from matcher.policy.explain import explain_pairs

pytestmark = pytest.mark.slow

FAST: dict[str, Any] = dict(n_candidates=60, n_random_negatives=20, text_dim=32, n_estimators=150,
                            early_stopping_rounds=40, smoothing_trees=10, refit=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, api.Dataset, dict[str, Any]]:
    root = tmp_path_factory.mktemp("two_way")
    generate(4000, 1500, seed=11, events_per_seeker=10.0, employer_selectivity=3.0).write(root / "data")
    data = api.load_data(root / "data")
    # The weight is set here, so the mechanics below hold whatever the tuning would pick on this small set.
    bundle, summary = api.train(data, TrainConfig(two_way=True, employer_weight=1.0, **FAST))
    api.save(bundle, root / "model", data)
    return root, data, summary


def test_employer_side_learns_acceptance_and_is_saved(trained: tuple[Path, api.Dataset, dict[str, Any]]) -> None:
    root, data, summary = trained
    side = summary["employer_side"]
    assert side["trained"] and side["n_accepted"] >= 20
    assert side["valid_auc"] > 0.6  # synthetic acceptance depends on the latent fit: better than chance
    bundle = api.load(root / "model")
    assert bundle.employer is not None and (root / "model" / "versions" / bundle.version / "employer.txt").is_file()


def test_mutual_score_is_the_one_score_everywhere(trained: tuple[Path, api.Dataset, dict[str, Any]]) -> None:
    root, data, _ = trained
    bundle = api.load(root / "model")
    assert bundle.employer is not None
    engine = MatchEngine(bundle, data)
    rows = np.arange(50)
    recs = engine.recommend(rows, 5)
    s, j = np.repeat(rows, 5), recs.job_idx.ravel()
    X = pair_features(engine.catalogue, engine.snapshot, s, j)
    mutual = bundle.ranker.predict(X) + np.log(np.clip(bundle.employer.predict_proba(X), 1e-3, 1.0))
    np.testing.assert_allclose(recs.scores.ravel(), mutual, atol=1e-9)
    assert (bundle.employer.log_acceptance(X) <= 0).all()
    explained = explain_pairs(bundle, engine, s[:10], j[:10], top_contributions=None)
    for e in explained:
        names = dict(e.contributions)
        assert "employer_side" in names
        assert sum(names.values()) + e.bias == pytest.approx(e.score, abs=1e-9)


class _Scores:
    """A ranker or employer model whose outputs are given: column 0 of X is the seeker score, column 1 log p."""

    def __init__(self, column: int) -> None:
        self.column = column

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X[:, self.column]

    def log_acceptance(self, X: np.ndarray) -> np.ndarray:
        return X[:, self.column]


def _valid(seeker: list[float], log_p: list[float], grades: list[int], n_queries: int = 50) -> LabelledQueries:
    one = len(grades)
    X = np.tile(np.column_stack([seeker, log_p]), (n_queries, 1))
    zeros = np.zeros(one * n_queries, dtype=np.int64)
    return LabelledQueries(seeker_idx=zeros, job_idx=zeros, label=np.tile(grades, n_queries),
                           group=np.full(n_queries, one), features=X)


def test_weight_tuning_known_answers() -> None:
    """Per query: a job the seeker applied to and was turned down (grade 2), one they were hired for (grade 4), and
    filler. The seeker side ranks the turn-down first; an employer side that knows better must get weight, one that
    knows worse must get 0 (and weight 0 wins ties, so an uninformative employer side gets 0 too)."""
    grades, seeker = [2, 4, 0, 0, 0], [3.0, 2.0, 1.0, 0.5, 0.0]
    helpful = _valid(seeker, [-3.0, -0.1, -1.0, -1.0, -1.0], grades)
    weight, table = _tune_employer_weight(_Scores(0), _Scores(1), helpful)
    assert weight > 0 and table[f"{weight:g}"]["ndcg@10_accepted"] == pytest.approx(1.0)
    assert table["0"]["ndcg@10_accepted"] < 1.0
    misleading = _valid(seeker, [-0.1, -3.0, -1.0, -1.0, -1.0], grades)
    assert _tune_employer_weight(_Scores(0), _Scores(1), misleading)[0] == 0.0
    flat = _valid(seeker, [-1.0] * 5, grades)
    assert _tune_employer_weight(_Scores(0), _Scores(1), flat)[0] == 0.0


def test_tuned_weight_is_the_best_on_validation(trained: tuple[Path, api.Dataset, dict[str, Any]]) -> None:
    _, data, set_summary = trained
    assert set_summary["employer_side"]["weight_source"] == "set"
    bundle, summary = api.train(data, TrainConfig(two_way=True, **{**FAST, "n_estimators": 60}))
    side = summary["employer_side"]
    table = side["validation_by_weight"]
    assert side["weight_source"] == "tuned on validation" and set(table) == {f"{w:g}" for w in EMPLOYER_WEIGHTS}
    best = max(row["ndcg@10_accepted"] for row in table.values())
    assert table[f"{side['weight']:g}"]["ndcg@10_accepted"] == best
    assert (bundle.employer is None) == (side["weight"] == 0.0)
    if bundle.employer is None:
        assert "weight 0" in side["reason"]
    else:
        assert bundle.employer.weight == side["weight"]


def test_views_only_data_falls_back_to_the_seeker_side(tmp_path: Path) -> None:
    generate(800, 300, seed=2, events_per_seeker=4.0).write(tmp_path / "data")
    data = api.load_data(tmp_path / "data")
    views = data.events["event"].isin(["exposed", "viewed"])
    data.events = data.events[views].reset_index(drop=True)
    bundle, summary = api.train(data, TrainConfig(two_way=True, holdout_days=0, **FAST))
    assert bundle.employer is None and not summary["employer_side"]["trained"]
    assert "seeker side alone" in summary["employer_side"]["reason"]


def test_evaluation_reports_the_mutual_score_and_the_seeker_side(trained: tuple[Path, api.Dataset, dict[str, Any]],
                                                                 tmp_path: Path) -> None:
    root, data, _ = trained
    result = api.evaluate(api.load(root / "model"), data, tmp_path / "report")
    assert {"lightgbm", "seeker_side_only"} <= set(result["results"])
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "seeker_side_only" in report and "Placements: interviews and hires only" in report
    placed = result["placements"]
    assert {"lightgbm", "seeker_side_only"} <= set(placed)
    assert 0 < placed["lightgbm"]["queries"] == placed["seeker_side_only"]["queries"] < result["n_queries"]
