"""Score these pairs: the one place that turns (seeker row, job row) pairs into the numbers every path ranks by.

Ranking (batch, service, both directions), explanations, evaluation and ScorePairs all come through
`score_pairs`, so the feature set, the model and the two-way combination cannot drift apart between them.
`build_view` is the one way a dataset becomes the Catalogue and Snapshot those pairs are read from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import Catalogue, build_catalogue
from features.history import Snapshot, build_snapshot
from features.pairs import pair_features
from features.text import TextEncoder
from matcher.data import Dataset
from models.registry import ModelBundle

__all__ = ["ScoredPairs", "score_pairs", "build_view", "tick"]


@dataclass(frozen=True)
class ScoredPairs:
    scores: np.ndarray                  # (n,) float64: seeker side, plus the employer side in a two-way fit
    features: np.ndarray                # (n, n_features) float32, FEATURE_NAMES order, NaN = unknown
    contributions: np.ndarray | None    # (n, len(terms) + 1): each term's share of the score, the bias last
    terms: tuple[str, ...] = ()         # names of the contribution columns (features, then "employer_side")


def tick(timings: dict[str, float] | None, stage: str, since: float) -> float:
    """Add the seconds since `since` to timings[stage] (when timings are kept); returns now."""
    now = time.perf_counter()
    if timings is not None:
        timings[stage] = timings.get(stage, 0.0) + now - since
    return now


def score_pairs(bundle: ModelBundle, cat: Catalogue, snap: Snapshot, seeker_idx: np.ndarray, job_idx: np.ndarray,
                *, contributions: bool = False, timings: dict[str, float] | None = None) -> ScoredPairs:
    """Features, model scores and (on request) their SHAP split for the pairs (seeker_idx[i], job_idx[i]).

    `timings`, when given, accumulates seconds spent on "features" and "trees" (benchmarks, rank_candidates)."""
    clock = time.perf_counter()
    features = pair_features(cat, snap, seeker_idx, job_idx)
    clock = tick(timings, "features", clock)
    scores = bundle.score(features)
    split, terms = bundle.contributions(features) if contributions else (None, ())
    tick(timings, "trees", clock)
    return ScoredPairs(scores=scores, features=features, contributions=split, terms=tuple(terms))


def build_view(data: Dataset, encoder: TextEncoder, *, history_until: pd.Timestamp,
               as_of: pd.Timestamp | None = None) -> tuple[Catalogue, Snapshot]:
    """The Catalogue of `data` under `encoder` and the Snapshot of its events before `history_until`."""
    cat = build_catalogue(data.seekers, data.jobs, encoder)
    return cat, build_snapshot(cat, data.events, history_until=history_until, as_of=as_of)
