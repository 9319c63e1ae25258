"""The one scoring path: retrieve candidates, build pair features, rank with the model.

`matcher batch`, `matcher evaluate` and (later) the gRPC service all call `MatchEngine.recommend`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import Catalogue, build_catalogue
from features.history import Snapshot, build_snapshot
from features.pairs import FEATURE_NAMES, pair_features
from matcher.data import Dataset
from matcher.errors import ModelError
from matcher.retrieval import (
    DEFAULT_WEIGHTS,
    RetrievalWeights,
    Retriever,
    job_vectors,
    make_retriever,
    seeker_vectors,
    top_k_rows,
)
from models.registry import ModelBundle

__all__ = ["MatchEngine", "CandidateGenerator", "Recommendations", "open_job_mask"]

_log = logging.getLogger(__name__)


def open_job_mask(cat: Catalogue, start: pd.Timestamp, end: pd.Timestamp | None = None) -> np.ndarray:
    """Jobs open at some moment of [start, end] (end defaults to start): posted before end, expiring after start."""
    end = start if end is None else end
    return (cat.job_posted_ns <= end.value) & (cat.job_expires_ns > start.value)


@dataclass
class Recommendations:
    seeker_idx: np.ndarray  # (m,)
    job_idx: np.ndarray     # (m, k) int64, -1 where fewer than k jobs are open
    scores: np.ndarray      # (m, k) float64, NaN where job_idx is -1


class CandidateGenerator:
    """Retrieval over the open jobs of one snapshot."""

    def __init__(self, cat: Catalogue, snap: Snapshot, open_mask: np.ndarray, *, retriever: str = "exact",
                 weights: RetrievalWeights = DEFAULT_WEIGHTS) -> None:
        self.cat, self.snap, self.weights = cat, snap, weights
        self.open_idx = np.flatnonzero(open_mask)
        self.retriever: Retriever = make_retriever(retriever).fit(job_vectors(cat, snap, weights)[self.open_idx])

    def candidates(self, seeker_idx: np.ndarray, n: int) -> np.ndarray:
        """(m, min(n, n_open)) job indices, best retrieval score first."""
        local, _ = self.retriever.search(seeker_vectors(self.cat, self.snap, seeker_idx, self.weights), n)
        return self.open_idx[local]


class MatchEngine:
    """A model bound to one catalogue at one moment."""

    def __init__(self, bundle: ModelBundle, data: Dataset, *, as_of: pd.Timestamp | None = None,
                 n_candidates: int = 200, retriever: str = "exact") -> None:
        if list(bundle.feature_names) != list(FEATURE_NAMES):
            raise ModelError(f"model {bundle.version} expects features {bundle.feature_names}, "
                             f"this engine computes {list(FEATURE_NAMES)}: retrain the model")
        self.bundle = bundle
        self.data = data
        as_of = as_of if as_of is not None else (data.max_time or pd.Timestamp.now(tz="UTC"))
        self.as_of = as_of
        self.n_candidates = n_candidates
        started = time.perf_counter()
        self.catalogue = build_catalogue(data.seekers, data.jobs, bundle.encoder)
        self.snapshot = build_snapshot(self.catalogue, data.events, history_until=as_of, as_of=as_of)
        self.generator = CandidateGenerator(self.catalogue, self.snapshot, open_job_mask(self.catalogue, as_of),
                                            retriever=retriever)
        _log.info("engine ready in %.1fs: %d seekers, %d open of %d jobs, model %s",
                  time.perf_counter() - started, len(data.seekers), len(self.generator.open_idx),
                  len(data.jobs), bundle.version)

    @classmethod
    def score_pairs_with(cls, bundle: ModelBundle, cat: Catalogue, snap: Snapshot, seeker_idx: np.ndarray,
                         job_idx: np.ndarray) -> np.ndarray:
        return bundle.ranker.predict(pair_features(cat, snap, seeker_idx, job_idx))

    def score_pairs(self, seeker_idx: np.ndarray, job_idx: np.ndarray) -> np.ndarray:
        return self.score_pairs_with(self.bundle, self.catalogue, self.snapshot, seeker_idx, job_idx)

    def recommend(self, seeker_idx: np.ndarray, k: int, *, batch: int = 4096,
                  timings: dict[str, float] | None = None) -> Recommendations:
        return rank_candidates(self.bundle, self.catalogue, self.snapshot, self.generator,
                               np.asarray(seeker_idx, dtype=np.int64), k, self.n_candidates, batch=batch,
                               timings=timings)


def _tick(timings: dict[str, float] | None, stage: str, since: float) -> float:
    now = time.perf_counter()
    if timings is not None:
        timings[stage] = timings.get(stage, 0.0) + now - since
    return now


def rank_candidates(bundle: ModelBundle, cat: Catalogue, snap: Snapshot, generator: CandidateGenerator,
                    seeker_idx: np.ndarray, k: int, n_candidates: int, *, batch: int = 4096,
                    timings: dict[str, float] | None = None) -> Recommendations:
    """Top-k jobs per seeker: retrieve n_candidates, featurize the pairs, score with the model, keep the best k.

    `timings`, when given, accumulates seconds per stage (retrieval, features, trees, top_k) for benchmarks.
    """
    n_cand = max(n_candidates, k)
    width = min(k, len(generator.open_idx))
    job_out = np.full((len(seeker_idx), k), -1, dtype=np.int64)
    score_out = np.full((len(seeker_idx), k), np.nan, dtype=np.float64)
    for start in range(0, len(seeker_idx), batch):
        block = seeker_idx[start:start + batch]
        clock = time.perf_counter()
        cand = generator.candidates(block, n_cand)
        clock = _tick(timings, "retrieval", clock)
        m, n = cand.shape
        if n == 0:
            continue
        features = pair_features(cat, snap, np.repeat(block, n), cand.ravel())
        clock = _tick(timings, "features", clock)
        scores = bundle.ranker.predict(features).reshape(m, n)
        clock = _tick(timings, "trees", clock)
        top = top_k_rows(scores, width)
        job_out[start:start + m, :width] = np.take_along_axis(cand, top, axis=1)
        score_out[start:start + m, :width] = np.take_along_axis(scores, top, axis=1)
        _tick(timings, "top_k", clock)
    return Recommendations(seeker_idx=seeker_idx, job_idx=job_out, scores=score_out)
