"""The employer side of two-way fit: will the employer take this seeker further (interview / hire) once they apply?

The seeker-side ranker learns who applies; a public employment service also wants matches that lead to a job, so
the mutual score adds the employer side's log-probability: score = seeker score + weight x log p(employer accepts).
log p is at most 0, so the employer side can only lower a pair, and by how unlikely acceptance is. Labels exist only
where platforms log what follows an application (interviewed, hired vs rejected or nothing); where they do not
(e.g. a board that logs views only) no employer model is trained and the mutual score is the seeker score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from matcher.errors import ModelError
from matcher.schema import protected_feature_names

__all__ = ["EmployerModel", "EMPLOYER_PARAMS", "MIN_LABELS"]

MIN_LABELS = 20  # fewer accepted or fewer turned-down applications than this: no employer model

EMPLOYER_PARAMS: dict[str, Any] = {
    "objective": "binary", "metric": "auc", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 30,
    "feature_fraction": 0.8, "lambda_l2": 1.0, "verbosity": -1, "seed": 0, "deterministic": True, "num_threads": 2,
}


class EmployerModel:
    """Binary LightGBM on the same pair features, trained on applications only (scikit-learn estimator contract)."""

    def __init__(self, weight: float = 1.0, n_estimators: int = 300, early_stopping_rounds: int = 30) -> None:
        self.weight = weight
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds

    def fit(self, X: np.ndarray, accepted: np.ndarray, *, feature_names: Sequence[str],
            eval_set: tuple[np.ndarray, np.ndarray] | None = None) -> EmployerModel:
        forbidden = protected_feature_names(feature_names)
        if forbidden:
            raise ModelError(f"refusing to train on protected attributes: {', '.join(forbidden)}")
        train = lgb.Dataset(X, label=accepted.astype(np.float64), feature_name=list(feature_names))
        valid_sets = [train]
        callbacks: list[Callable[..., Any]] = [lgb.log_evaluation(period=0)]
        if eval_set is not None and len(np.unique(eval_set[1])) == 2:
            valid_sets.append(lgb.Dataset(eval_set[0], label=eval_set[1].astype(np.float64), reference=train))
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        self.evals_result_: dict[str, Any] = {}
        callbacks.append(lgb.record_evaluation(self.evals_result_))
        self.booster_ = lgb.train(EMPLOYER_PARAMS, train, num_boost_round=self.n_estimators, valid_sets=valid_sets,
                                  valid_names=["train", "valid"][:len(valid_sets)], callbacks=callbacks)
        best = self.booster_.best_iteration
        self.best_iteration_ = int(best) if best > 0 else int(self.booster_.current_iteration())
        return self

    @classmethod
    def from_booster(cls, booster: lgb.Booster, weight: float) -> EmployerModel:
        model = cls(weight=weight)
        model.booster_ = booster
        model.best_iteration_ = int(booster.current_iteration())
        return model

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        return np.asarray(self.booster_.predict(X, num_iteration=self.best_iteration_,
                                                num_threads=1 if len(X) < 20_000 else 2), dtype=np.float64)

    def log_acceptance(self, X: np.ndarray) -> np.ndarray:
        """weight x log p(accept), clipped so that a near-certain rejection does not swamp everything else."""
        return self.weight * np.log(np.clip(self.predict_proba(X), 1e-3, 1.0))
