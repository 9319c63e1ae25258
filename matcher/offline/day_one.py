"""Day one: ranked matches for a platform that has seekers and jobs but no (or too short an) event log.

Every new deployment starts here. The ranker cannot learn from this platform's clicks yet, so it is a LightGBM
LambdaRank model fitted on the synthetic Chinese funnel (matcher.offline.synthetic: known utilities over skills,
salary, distance, occupation and education) with every feature the event log feeds blanked as it is on day one
(features.pairs.HISTORY_FEATURES). What remains is content fit: text and title cosines read through this
platform's own encoder, skills, location, salary, education and experience, which mean the same on any platform
and in any language. The ranker ships in models/day_one (fitted by `python -m matcher.offline.day_one`
from the generator, deterministic; never downloaded).

`train_for` is what `matcher train` runs: it learns from the platform's events when they allow it, with windows
shortened to fit a short log, and falls back to the day-one model otherwise, saying which and why.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import lightgbm as lgb
import pandas as pd

from features.pairs import FEATURE_NAMES, HISTORY_FEATURES
from matcher.data import Dataset, load_folder
from matcher.errors import MatcherError, ModelError
from matcher.offline.synthetic import generate
from matcher.offline.training import TrainConfig, fit_encoder, time_windows, train
from models.ranker import DEFAULT_PARAMS, LambdaRanker
from models.registry import ModelBundle

__all__ = ["DAY_ONE", "LEARNED", "MIN_POSITIVE_EVENTS", "content_ranker", "fit_content_ranker", "train_day_one",
           "train_for"]

_log = logging.getLogger(__name__)

DAY_ONE = "day-one content ranker"
LEARNED = "learned from this platform's events"
# Below this a validation window has a handful of queries at best: the trees would fit noise, and the content
# ranker serves instead. Deliberately low: shortened windows and the query check below catch the rest.
MIN_POSITIVE_EVENTS = 30
# The synthetic platform the content ranker learns on: big enough for a stable fit, small enough to fit quickly.
_SYNTHETIC: dict[str, Any] = dict(n_seekers=3000, n_jobs=1500, events_per_seeker=4.0, days=60)
_MODEL_FILE, _SUMMARY_FILE = "content_ranker.txt", "content_ranker.json"


def fit_content_ranker(seed: int = 0) -> tuple[LambdaRanker, dict[str, Any]]:
    """LambdaRank on the synthetic funnel with the log's features blanked; and its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(**_SYNTHETIC, seed=seed).write(tmp)
        synthetic = load_folder(tmp)
    config = TrainConfig(holdout_days=0, n_candidates=100, n_random_negatives=50, text_dim=64, n_estimators=300,
                         early_stopping_rounds=50, smoothing_trees=20, params={"learning_rate": 0.1},
                         content_only=True, seed=seed)
    bundle, summary = train(synthetic, config)
    return bundle.ranker, {"source": "synthetic Chinese funnel (matcher.offline.synthetic)", **_SYNTHETIC,
                           "seed": seed, "valid_ndcg@10": summary["valid_ndcg@10"],
                           "best_iteration": summary["best_iteration"], "n_train_queries": summary["n_train_queries"]}


@lru_cache(maxsize=1)
def content_ranker() -> tuple[LambdaRanker, dict[str, Any]]:
    """The shipped content ranker (models/day_one, written by `python -m matcher.offline.day_one`): fitting it
    takes a minute on two cores, loading it milliseconds. A file that no longer fits FEATURE_NAMES is an error."""
    model_file = resources.files("models.day_one").joinpath(_MODEL_FILE)
    summary = json.loads(resources.files("models.day_one").joinpath(_SUMMARY_FILE).read_text(encoding="utf-8"))
    booster = lgb.Booster(model_str=model_file.read_text(encoding="utf-8"))
    if list(booster.feature_name()) != list(FEATURE_NAMES):
        raise ModelError(f"models/day_one/{_MODEL_FILE} was fitted on other features than this version computes: "
                         "rebuild it with `python -m matcher.offline.day_one`")
    ranker = LambdaRanker.from_booster(booster, dict(DEFAULT_PARAMS))
    return ranker, summary


def train_day_one(data: Dataset, config: TrainConfig, why: str) -> tuple[ModelBundle, dict[str, Any]]:
    """A model for `data` that learns nothing from its events: this platform's encoder + the content ranker."""
    encoder = fit_encoder(data, config.text_dim, config.seed)
    ranker, source = content_ranker()
    positive = data.events.loc[data.events["grade"] > 0, "timestamp"]
    # Nothing of this platform's log was learnt from: `matcher evaluate` may score any window; default, the last
    # holdout_days of it, as for a learned model.
    test_start = None if positive.empty else (positive.max() - pd.Timedelta(days=config.holdout_days)).isoformat()
    summary = {"kind": DAY_ONE, "why": why, "test_start": test_start, "content_ranker": source,
               "blank_features": list(HISTORY_FEATURES),
               "replaced_by": "`matcher train` once events.csv holds enough positive events over enough days"}
    _log.info("%s: %s", DAY_ONE, why)
    return ModelBundle(ranker=ranker, encoder=encoder, meta={"kind": DAY_ONE, "training": summary}), summary


def _short_log_config(events: pd.DataFrame, config: TrainConfig) -> TrainConfig | None:
    """Windows shortened to fit the log after the hold-out (a third of it validates, the rest trains), or None
    when even those do not fit."""
    positive = events.loc[events["grade"] > 0, "timestamp"]
    span_days = (positive.max() - positive.min()).total_seconds() / 86400 - config.holdout_days
    if span_days < 2:
        return None
    window = span_days / 3
    short = replace(config, window_days=window, stride_days=window / 2, min_history_days=window / 2)
    try:
        time_windows(events, short)
    except MatcherError:
        return None
    return short


def train_for(data: Dataset, config: TrainConfig | None = None) -> tuple[ModelBundle, dict[str, Any]]:
    """Learn from the platform's events where they allow it, else the day-one model; the summary says which."""
    config = config or TrainConfig()
    n_positive = int((data.events["grade"] > 0).sum())
    if n_positive < MIN_POSITIVE_EVENTS:
        return train_day_one(data, config, f"events.csv has {n_positive} positive events (viewed or better), fewer "
                                           f"than the {MIN_POSITIVE_EVENTS} a learned ranker needs")
    note = None
    try:
        time_windows(data.events, config)
    except MatcherError as exc:
        short = _short_log_config(data.events, config)
        if short is None:
            return train_day_one(data, config, str(exc))
        note = (f"the log is short for {config.window_days:g}-day windows: trained on {short.window_days:.1f}-day "
                f"windows instead")
        config = short
    try:
        bundle, summary = train(data, config)
    except MatcherError as exc:  # e.g. no window with a query: nothing this platform's log can teach yet
        return train_day_one(data, config, str(exc))
    summary = {"kind": LEARNED, **({"windows_shortened": note} if note else {}), **summary}
    bundle.meta = {**bundle.meta, "kind": LEARNED, "training": summary}
    return bundle, summary


def main(argv: list[str] | None = None) -> int:
    """Refit the shipped content ranker: `python -m matcher.offline.day_one [--out models/day_one]`."""
    parser = argparse.ArgumentParser(prog="python -m matcher.offline.day_one", description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "models" / "day_one")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    ranker, summary = fit_content_ranker(args.seed)
    ranker.booster_.save_model(str(args.out / _MODEL_FILE), num_iteration=ranker.best_iteration_)
    (args.out / _SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"content ranker: {ranker.best_iteration_} trees, synthetic validation NDCG@10 "
          f"{summary['valid_ndcg@10']:.4f}; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
