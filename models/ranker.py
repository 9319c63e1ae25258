"""LightGBM LambdaRank behind the scikit-learn estimator contract (fit returns self, learned attributes end in _)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator

from matcher.errors import ModelError
from matcher.schema import protected_feature_names
from models.trees import LightGBMPredictor, TreePredictor, make_predictor

__all__ = ["LambdaRanker", "DEFAULT_PARAMS"]

_log = logging.getLogger(__name__)

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    # Small, heavily regularised trees: the one real labelled set has a few hundred profiled queries per window with
    # one or two views each. Measured on the forward protocol (US views, 2 origins): 15 leaves / 50 per leaf / 0.8
    # of the features gave profiled NDCG@10 0.211; 7 / 100 / 0.5 gave 0.228, and extremely randomised splits 0.229.
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.5,
    "extra_trees": True,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "lambdarank_truncation_level": 20,
    "verbosity": -1,
    "seed": 0,
    "deterministic": True,
    "num_threads": 2,
}


def _best_or_all(booster: lgb.Booster) -> int:
    """The early-stopping iteration, or every tree (a loaded booster reports best_iteration -1, not 0)."""
    return int(booster.best_iteration) if booster.best_iteration > 0 else int(booster.current_iteration())


class LambdaRanker(BaseEstimator):  # type: ignore[misc]  # get_params / set_params / clone from scikit-learn
    """Query = one seeker at one time split; labels are FORMAT.md grades (0..4)."""

    def __init__(self, params: dict[str, Any] | None = None, n_estimators: int = 600,
                 early_stopping_rounds: int = 50) -> None:
        self.params = params
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds

    def fit(self, X: np.ndarray, y: np.ndarray, group: np.ndarray, *, feature_names: Sequence[str],
            eval_set: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, client: Any = None,
            callbacks: Sequence[Callable[..., Any]] = ()) -> LambdaRanker:
        """`client` (a dask.distributed Client) trains on its cluster: all n_estimators trees, no early stopping
        (lightgbm.dask has none), the validation curve recorded in evals_result_ as here. `callbacks`: more
        LightGBM callbacks for a local fit (progress, see matcher.offline.training)."""
        forbidden = protected_feature_names(feature_names)
        if forbidden:
            raise ModelError(f"refusing to train on protected attributes: {', '.join(forbidden)}")
        params = {**DEFAULT_PARAMS, **(self.params or {})}
        self.evals_result_: dict[str, Any] = {}
        if client is not None:
            from models.distributed import fit_on_dask

            self.booster_, self.evals_result_ = fit_on_dask(client, params, self.n_estimators, X, y, group,
                                                            list(feature_names), eval_set)
            return self._fitted(params, self.booster_.current_iteration())
        train = lgb.Dataset(X, label=y, group=group, feature_name=list(feature_names), free_raw_data=True)
        valid_sets = [train]
        callbacks = [lgb.log_evaluation(period=0), *callbacks]
        if eval_set is not None:
            vx, vy, vg = eval_set
            valid_sets.append(lgb.Dataset(vx, label=vy, group=vg, reference=train))
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False))
        callbacks.append(lgb.record_evaluation(self.evals_result_))
        self.booster_ = lgb.train(params, train, num_boost_round=self.n_estimators, valid_sets=valid_sets,
                                  valid_names=["train", "valid"][: len(valid_sets)], callbacks=callbacks)
        return self._fitted(params, _best_or_all(self.booster_))

    def _fitted(self, params: dict[str, Any], best_iteration: int) -> LambdaRanker:
        self.best_iteration_ = best_iteration
        self.feature_names_ = list(self.booster_.feature_name())
        self.params_ = params
        self.predictor_: TreePredictor = LightGBMPredictor(self.booster_, self.best_iteration_)
        _log.info("trained %d trees (best iteration %d)", self.booster_.current_iteration(), self.best_iteration_)
        return self

    @classmethod
    def from_booster(cls, booster: lgb.Booster, params: dict[str, Any], model_file: Path | None = None
                     ) -> LambdaRanker:
        """A fitted ranker from a saved booster; with `model_file` its trees may be compiled (models.trees)."""
        ranker = cls(params=params)
        ranker.booster_ = booster
        ranker.best_iteration_ = _best_or_all(booster)
        ranker.feature_names_ = list(booster.feature_name())
        ranker.params_ = params
        ranker.predictor_ = make_predictor(booster, ranker.best_iteration_, model_file)
        return ranker

    def predict(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        predictor = getattr(self, "predictor_", None)
        if predictor is None:
            predictor = self.predictor_ = LightGBMPredictor(self.booster_, self.best_iteration_)
        return predictor.predict(X)
