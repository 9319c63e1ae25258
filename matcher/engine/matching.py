"""The one scoring path: retrieve candidates, build pair features, rank with the model.

`matcher batch`, `matcher evaluate`, training and the gRPC service all call `rank_candidates`; the service does so
on a live catalogue (matcher.service.live) that it updates in place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import Catalogue
from features.history import Snapshot, known_seekers
from features.pairs import FEATURE_NAMES
from matcher.data import Dataset
from matcher.engine.retrieval import (
    DEFAULT_WEIGHTS,
    RetrievalWeights,
    Retriever,
    is_usable_score,
    job_vectors,
    make_retriever,
    seeker_regions,
    seeker_vectors,
)
from matcher.engine.scoring import build_view, score_pairs, tick
from matcher.errors import ModelError
from models.registry import ModelBundle

__all__ = ["MatchEngine", "CandidateGenerator", "Recommendations", "open_job_mask", "rank_candidates", "rank_seekers",
           "rank_order", "check_model", "pair_keys"]

_log = logging.getLogger(__name__)


def open_job_mask(cat: Catalogue, start: pd.Timestamp, end: pd.Timestamp | None = None,
                  job_idx: np.ndarray | None = None) -> np.ndarray:
    """Jobs open at some moment of [start, end] (end defaults to start): posted before end, expiring after start."""
    end = start if end is None else end
    posted = cat.job_posted_ns if job_idx is None else cat.job_posted_ns[job_idx]
    expires = cat.job_expires_ns if job_idx is None else cat.job_expires_ns[job_idx]
    return (posted <= end.value) & (expires > start.value)


def check_model(bundle: ModelBundle) -> None:
    if list(bundle.feature_names) != list(FEATURE_NAMES):
        raise ModelError(f"model {bundle.version} expects features {bundle.feature_names}, "
                         f"this engine computes {list(FEATURE_NAMES)}: retrain the model")


@dataclass
class Recommendations:
    seeker_idx: np.ndarray  # (m,)
    job_idx: np.ndarray     # (m, k) int64, -1 where fewer than k jobs are open
    scores: np.ndarray      # (m, k) float64, NaN where job_idx is -1


class CandidateGenerator:
    """Retrieval over the open jobs of one snapshot. Index slots map to job rows through `open_idx`; live writes
    (`put_jobs`, `drop_jobs`) overwrite or append slots, so a catalogue never has to be re-indexed to change."""

    def __init__(self, cat: Catalogue, snap: Snapshot, open_mask: np.ndarray, *, retriever: str = "exact",
                 weights: RetrievalWeights = DEFAULT_WEIGHTS) -> None:
        self.weights = weights
        self.open_idx = np.flatnonzero(open_mask)
        pop = np.log1p(snap.job_popularity)
        self.popularity_max = float(pop.max()) if len(pop) else 0.0
        self._slot = {int(j): i for i, j in enumerate(self.open_idx)}
        vectors = self.item_vectors(cat, snap, self.open_idx)
        self.dim = vectors.shape[1]
        self.retriever: Retriever = make_retriever(retriever, group_bonus=weights.geo).fit(
            vectors, groups=cat.jobs.region[self.open_idx])

    def item_vectors(self, cat: Catalogue, snap: Snapshot, job_idx: np.ndarray) -> np.ndarray:
        """Index vectors of these job rows (also the queries of the reverse, job → seekers, search)."""
        return job_vectors(cat, snap, job_idx, popularity_max=self.popularity_max, weights=self.weights)

    def query_vectors(self, cat: Catalogue, snap: Snapshot, seeker_idx: np.ndarray) -> np.ndarray:
        return seeker_vectors(cat, snap, seeker_idx, weights=self.weights)

    def seeker_items(self, cat: Catalogue, snap: Snapshot, seeker_idx: np.ndarray) -> np.ndarray:
        """Rows of the reverse (job -> seekers) index: each seeker's query vector, so that a job's `job_queries`
        row scores against it as the forward search does."""
        return self.query_vectors(cat, snap, seeker_idx)

    def job_queries(self, cat: Catalogue, snap: Snapshot, job_idx: np.ndarray) -> np.ndarray:
        """Queries of these job rows against `seeker_index`."""
        return self.item_vectors(cat, snap, job_idx)

    def seeker_index(self, cat: Catalogue, snap: Snapshot, seeker_idx: np.ndarray, *,
                     retriever: str = "exact") -> Retriever:
        """The reverse index over these seeker rows (item i = seeker_idx[i]), for `rank_seekers`."""
        return make_retriever(retriever, group_bonus=self.weights.geo).fit(self.seeker_items(cat, snap, seeker_idx),
                                             groups=seeker_regions(cat, snap, seeker_idx))

    def candidates(self, cat: Catalogue, snap: Snapshot, seeker_idx: np.ndarray, n: int,
                   allowed: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """(m, min(n, slots)) job rows, best retrieval score first; -1 where fewer jobs are usable / allowed.

        `allowed[i]` is a bool mask over job rows (the catalogue's, not the index's) for query i, or None."""
        slot_masks = None if allowed is None else [None if a is None else a[self.open_idx] for a in allowed]
        local, scores = self.retriever.search(self.query_vectors(cat, snap, seeker_idx), n, slot_masks,
                                              query_groups=seeker_regions(cat, snap, seeker_idx),
                                              group_bonus=self.weights.geo)
        return np.where(is_usable_score(scores), self.open_idx[local], -1)

    def put_jobs(self, cat: Catalogue, snap: Snapshot, job_idx: np.ndarray) -> None:
        """Index (or re-index) these job rows as open."""
        slots = np.array([self._slot.get(int(j), -1) for j in job_idx], dtype=np.int64)
        new = slots < 0
        slots[new] = len(self.open_idx) + np.arange(int(new.sum()))
        self.open_idx = np.concatenate([self.open_idx, job_idx[new]])
        self._slot.update({int(j): int(s) for j, s in zip(job_idx[new], slots[new], strict=True)})
        self.retriever.set_items(slots, self.item_vectors(cat, snap, job_idx), groups=cat.jobs.region[job_idx])

    def drop_jobs(self, job_idx: np.ndarray) -> None:
        """Stop returning these job rows (deleted or closed); unknown rows are ignored."""
        slots = np.array([self._slot.pop(int(j), -1) for j in job_idx], dtype=np.int64)
        slots = slots[slots >= 0]
        if len(slots):
            self.retriever.delete(slots)

    @property
    def n_usable(self) -> int:
        return len(self._slot)

    def usable_rows(self) -> np.ndarray:
        """Job rows retrieval may return now (open, not dropped)."""
        return np.fromiter(self._slot.keys(), dtype=np.int64, count=len(self._slot))


class MatchEngine:
    """A model bound to one catalogue at one moment."""

    def __init__(self, bundle: ModelBundle, data: Dataset, *, as_of: pd.Timestamp | None = None,
                 n_candidates: int = 200, retriever: str = "exact") -> None:
        check_model(bundle)
        self.bundle = bundle
        self.data = data
        as_of = as_of if as_of is not None else (data.max_time or pd.Timestamp.now(tz="UTC"))
        self.as_of = as_of
        self.n_candidates = n_candidates
        started = time.perf_counter()
        self.catalogue, self.snapshot = build_view(data, bundle.encoder, history_until=as_of, as_of=as_of)
        self.generator = CandidateGenerator(self.catalogue, self.snapshot, open_job_mask(self.catalogue, as_of),
                                            retriever=retriever)
        _log.info("engine ready in %.1fs: %d seekers, %d open of %d jobs, model %s",
                  time.perf_counter() - started, len(data.seekers), len(self.generator.open_idx),
                  len(data.jobs), bundle.version)

    def recommend(self, seeker_idx: np.ndarray, k: int, *, batch: int = 4096,
                  timings: dict[str, float] | None = None) -> Recommendations:
        return rank_candidates(self.bundle, self.catalogue, self.snapshot, self.generator,
                               np.asarray(seeker_idx, dtype=np.int64), k, self.n_candidates, batch=batch,
                               timings=timings)


def rank_order(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Column order of each row: best score first, equal scores by catalogue row.

    Trees give many exactly equal scores (duplicate postings, profile-less seekers); ordering ties by row makes
    the ranking independent of the order retrieval returned the candidates in, which rounding can change with the
    number of queries in a matrix product (one online call vs the nightly batch)."""
    return np.lexsort((rows, -scores), axis=1)


def pair_keys(seeker_idx: np.ndarray, job_idx: np.ndarray, n_jobs: int) -> np.ndarray:
    """One int64 per (seeker row, job row): set operations on pairs become operations on sorted integers."""
    return np.asarray(seeker_idx, dtype=np.int64) * max(n_jobs, 1) + np.asarray(job_idx, dtype=np.int64)


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def rank_candidates(bundle: ModelBundle, cat: Catalogue, snap: Snapshot, generator: CandidateGenerator,
                    seeker_idx: np.ndarray, k: int, n_candidates: int, *, batch: int = 4096,
                    allowed: Sequence[np.ndarray | None] | None = None,
                    exclude: np.ndarray | None = None,
                    timings: dict[str, float] | None = None) -> Recommendations:
    """Top-k jobs per seeker: retrieve n_candidates, featurize the pairs, score with the model, keep the best k.

    `allowed` (per seeker: a bool mask over job rows, or None) restricts what may be retrieved, for filters.
    `exclude` (sorted int64 `pair_keys` of (seeker row, job row)) drops those pairs after retrieval: the nightly
    push leaves out jobs already pushed to, applied to or rejected by a seeker without a mask per seeker.
    `timings`, when given, accumulates seconds per stage (retrieval, features, trees, top_k) for benchmarks.
    """
    n_cand = max(n_candidates, k)
    job_out = np.full((len(seeker_idx), k), -1, dtype=np.int64)
    score_out = np.full((len(seeker_idx), k), np.nan, dtype=np.float64)
    for start in range(0, len(seeker_idx), batch):
        block = seeker_idx[start:start + batch]
        clock = time.perf_counter()
        cand = generator.candidates(cat, snap, block, n_cand,
                                    None if allowed is None else allowed[start:start + batch])
        if exclude is not None and len(exclude) and cand.size:
            cand = np.where(_contains(exclude, pair_keys(np.repeat(block, cand.shape[1]), cand.ravel(),
                                                         len(cat.job_posted_ns)).reshape(cand.shape)), -1, cand)
        clock = tick(timings, "retrieval", clock)
        m, n = cand.shape
        if n == 0:
            continue
        valid = cand >= 0
        pairs_s, pairs_j = np.repeat(block, n)[valid.ravel()], cand[valid]
        scores = np.full((m, n), -np.inf)
        scores[valid] = score_pairs(bundle, cat, snap, pairs_s, pairs_j, timings=timings).scores
        clock = time.perf_counter()
        width = min(k, n)
        top = rank_order(scores, cand)[:, :width]
        picked = np.take_along_axis(cand, top, axis=1)
        picked_scores = np.take_along_axis(scores, top, axis=1)
        found = picked >= 0
        job_out[start:start + m, :width] = np.where(found, picked, -1)
        score_out[start:start + m, :width] = np.where(found, picked_scores, np.nan)
        tick(timings, "top_k", clock)
    return Recommendations(seeker_idx=seeker_idx, job_idx=job_out, scores=score_out)


def rank_seekers(bundle: ModelBundle, cat: Catalogue, snap: Snapshot, index: Retriever, queries: np.ndarray,
                 job_idx: np.ndarray, k: int, n_candidates: int,
                 allowed: Sequence[np.ndarray | None] | None = None,
                 weights: RetrievalWeights = DEFAULT_WEIGHTS) -> Recommendations:
    """Top-k seekers per job (用人推荐): the same pair features and model as `rank_candidates`, retrieval reversed.

    `index` holds one row per seeker (service.live); `queries[i]` is job_idx[i]'s vector against it. The returned
    Recommendations has one row per job: `job_idx` holds *seeker* rows there."""
    local, scores = index.search(queries, max(n_candidates, k), allowed, query_groups=cat.jobs.region[job_idx],
                                 group_bonus=weights.geo)
    valid = is_usable_score(scores)
    m, n = local.shape
    out = np.full((m, k), -1, dtype=np.int64)
    out_scores = np.full((m, k), np.nan, dtype=np.float64)
    if n == 0:
        return Recommendations(seeker_idx=job_idx, job_idx=out, scores=out_scores)
    model_scores = np.full((m, n), -np.inf)
    model_scores[valid] = score_pairs(bundle, cat, snap, local[valid], np.repeat(job_idx, n)[valid.ravel()]).scores
    width = min(k, n)
    rows = np.where(valid, local, -1)
    # Seekers with nothing to match on (no text, wishes, skills or history) come after every seeker who has
    # something, whatever their score: the trees score them on priors alone, and tied blank rows headed employer
    # lists (issue 16). They stay in the list when nobody else is there.
    tier = np.where(valid, ~known_seekers(cat, snap, np.maximum(local, 0)), 2)  # 0 known, 1 blank, 2 no candidate
    top = np.lexsort((rows, -model_scores, tier), axis=1)[:, :width]
    picked = np.take_along_axis(rows, top, axis=1)
    out[:, :width] = picked
    out_scores[:, :width] = np.where(picked >= 0, np.take_along_axis(model_scores, top, axis=1), np.nan)
    return Recommendations(seeker_idx=job_idx, job_idx=out, scores=out_scores)
