"""The nightly push ("services find people"): fresh matches for every active seeker.

Three steps, each deterministic, so a re-run, a resumed run and a Dask run write the same bytes:

1. plan: seekers sorted by region, cut into chunks of `chunk_size` (one region's seekers share jobs nearby);
2. match each chunk with the one scoring path (`rank_candidates`) over the open jobs, leaving out pairs the
   seeker was already pushed, applied to or rejected; keep a pool of `pool` jobs per seeker; a finished chunk is
   checkpointed (matcher.batch.checkpoint), so a killed run resumes where it stopped;
3. merge: cap pushes per job (`pushes_per_opening` x headcount), keep each seeker's best k of what is left,
   add reasons, write matches.csv atomically.

With `since`, seekers whose profile changed since then are matched against every open job and the others only
against jobs posted since then: a nightly delta instead of a full rematch.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from matcher.engine.matching import CandidateGenerator, MatchEngine, open_job_mask, pair_keys, rank_candidates
from matcher.errors import MatcherError

__all__ = ["PushConfig", "Chunk", "ChunkResult", "PushContext", "plan_chunks", "cap_and_select", "EXCLUDING_EVENTS"]

_log = logging.getLogger(__name__)

# A seeker is not pushed a job again once it was pushed, or once they applied to or were rejected for it.
EXCLUDING_EVENTS = ("pushed", "applied", "interviewed", "hired", "rejected")


@dataclass(frozen=True)
class PushConfig:
    k: int = 20                         # pushes per seeker
    n_candidates: int = 200             # retrieval depth re-ranked by the model (as the service)
    pool: int = 0                       # best jobs kept per seeker before the per-job cap; 0 = 3k
    pushes_per_opening: float = 50.0    # per-job cap = max(min_job_cap, ceil(headcount x this)); 0 = no cap
    min_job_cap: int = 10
    exclude_seen: bool = True           # leave out pairs with a pushed / applied / rejected event
    # Priority groups (就业援助对象, policy.priority): their seekers are exempt from the per-job caps and may get
    # priority_extra pushes beyond k; everyone else competes for the caps among themselves only.
    priority_groups: tuple[str, ...] = ()
    priority_extra: int = 0
    chunk_size: int = 8192
    since: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        checks = {"k": 1 <= self.k <= 1000, "n_candidates": 1 <= self.n_candidates <= 5000,
                  "pool": self.pool == 0 or self.k <= self.pool <= 5000,
                  "pushes_per_opening": self.pushes_per_opening >= 0, "min_job_cap": self.min_job_cap >= 1,
                  "chunk_size": 1 <= self.chunk_size <= 1_000_000, "priority_extra": 0 <= self.priority_extra <= 1000}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise MatcherError(f"push settings out of range: {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")

    @property
    def pool_size(self) -> int:
        return max(self.pool or 3 * self.k, self.k + self.priority_extra if self.priority_groups else 0)

    def key_fields(self) -> dict[str, Any]:
        """What decides the output (chunking is included: it decides the shape of the matrix products)."""
        fields = asdict(self)
        fields["since"] = None if self.since is None else self.since.isoformat()
        return fields


@dataclass(frozen=True)
class Chunk:
    id: str
    rows: np.ndarray  # seeker rows, ascending


@dataclass
class ChunkResult:
    seeker: np.ndarray  # (n,) int64 seeker rows
    job: np.ndarray     # (n,) int64 job rows
    score: np.ndarray   # (n,) float64
    timings: dict[str, float] = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"seeker": self.seeker, "job": self.job, "score": self.score}


def plan_chunks(engine: MatchEngine, chunk_size: int) -> list[Chunk]:
    """Seekers by region (unknown last), then by row; blocks of at most chunk_size, never spanning regions."""
    region = engine.catalogue.seekers.region.astype(np.int64)
    region = np.where(region >= 0, region, np.iinfo(np.int32).max)
    order = np.lexsort((np.arange(len(region)), region))
    keys = np.asarray(engine.catalogue.vocabs.regions.keys, dtype=object)
    chunks: list[Chunk] = []
    bounds = np.flatnonzero(np.diff(region[order])) + 1
    for group in np.split(order, bounds) if len(order) else []:
        code = int(region[group[0]])
        name = str(keys[code]) if code < len(keys) else "unknown"
        for b, start in enumerate(range(0, len(group), chunk_size)):
            rows = np.sort(group[start:start + chunk_size])
            chunks.append(Chunk(id=f"{len(chunks):05d}-{_safe(name)}-{b}", rows=rows))
    return chunks


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)[:24] or "region"


class PushContext:
    """What matching a chunk needs: the engine, the excluded pairs and, with `since`, a second index over the jobs
    posted since then. Built once per process (the driver, or once per Dask worker)."""

    def __init__(self, engine: MatchEngine, config: PushConfig) -> None:
        self.engine, self.config = engine, config
        cat = engine.catalogue
        self.n_jobs = len(cat.job_posted_ns)
        events = engine.data.events
        as_of = engine.as_of
        stamp = events["timestamp"]
        seen = events["event"].isin(EXCLUDING_EVENTS if config.exclude_seen else ())
        keep = (seen & (events["seeker_idx"] >= 0) & (events["job_idx"] >= 0)
                & (stamp.isna() | (stamp <= as_of))).to_numpy()
        self.excluded = np.unique(pair_keys(events["seeker_idx"].to_numpy()[keep],
                                            events["job_idx"].to_numpy()[keep], self.n_jobs))
        self.changed: np.ndarray | None = None
        self.fresh: CandidateGenerator | None = None
        if config.since is not None:
            updated = engine.data.seekers["updated_at"]
            self.changed = (updated.isna() | (updated >= config.since)).to_numpy()
            fresh_jobs = open_job_mask(cat, as_of) & (cat.job_posted_ns >= config.since.value)
            self.fresh = CandidateGenerator(cat, engine.snapshot, fresh_jobs) if fresh_jobs.any() else None

    def match(self, rows: np.ndarray) -> ChunkResult:
        """Each seeker's best `pool` jobs, flat, in seeker order then rank order."""
        timings: dict[str, float] = {}
        parts: list[tuple[np.ndarray, CandidateGenerator]] = []
        if self.changed is None:
            parts.append((rows, self.engine.generator))
        else:
            parts.append((rows[self.changed[rows]], self.engine.generator))
            if self.fresh is not None:
                parts.append((rows[~self.changed[rows]], self.fresh))
        seekers, jobs, scores = [], [], []
        for block, generator in parts:
            if not len(block):
                continue
            recs = rank_candidates(self.engine.bundle, self.engine.catalogue, self.engine.snapshot, generator,
                                   block, self.config.pool_size, self.config.n_candidates,
                                   exclude=self.excluded, timings=timings)
            found = recs.job_idx >= 0
            seekers.append(np.repeat(block, recs.job_idx.shape[1])[found.ravel()])
            jobs.append(recs.job_idx[found])
            scores.append(recs.scores[found])
        if not seekers:
            empty = np.empty(0, dtype=np.int64)
            return ChunkResult(empty, empty, np.empty(0), timings)
        seeker, job, score = np.concatenate(seekers), np.concatenate(jobs), np.concatenate(scores)
        order = np.argsort(seeker, kind="stable")  # changed and unchanged seekers interleave again
        return ChunkResult(seeker[order], job[order], score[order], timings)


def job_caps(headcount: pd.Series, config: PushConfig) -> np.ndarray:
    """Pushes allowed per job: a vacancy is not pushed to far more seekers than its openings can absorb."""
    if config.pushes_per_opening == 0:
        return np.full(len(headcount), np.iinfo(np.int64).max, dtype=np.int64)
    openings = pd.to_numeric(headcount, errors="coerce").to_numpy(dtype=np.float64)
    openings = np.where(np.isnan(openings) | (openings < 1), 1.0, openings)
    return np.maximum(config.min_job_cap, np.ceil(openings * config.pushes_per_opening)).astype(np.int64)


def cap_and_select(seeker: np.ndarray, job: np.ndarray, score: np.ndarray, caps: np.ndarray,
                   k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each seeker's best k jobs under the per-job caps. Returns (seeker, rank 1.., job, score) by seeker and rank.

    Caps are filled rank by rank: every seeker's first choice is placed before anyone's second, so a popular
    vacancy goes to the seekers for whom it ranks highest, and a seeker loses a job only to others who ranked it at
    least as high. Within a round, a job short of room keeps the seekers it scores highest (ties by seeker row).
    A seeker whose whole pool is taken gets fewer than k."""
    by_seeker = np.lexsort((job, -score, seeker))
    seeker, job, score = seeker[by_seeker], job[by_seeker], score[by_seeker]
    position = _position_in_runs(seeker)
    n_seekers = int(seeker.max()) + 1 if len(seeker) else 0
    placed = np.zeros(n_seekers, dtype=np.int64)
    room = caps.astype(np.int64).copy()
    accepted = np.zeros(len(seeker), dtype=bool)
    by_round = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[by_round], np.arange(int(position.max()) + 2 if len(position) else 1))
    for r in range(len(bounds) - 1):
        idx = by_round[bounds[r]:bounds[r + 1]]
        idx = idx[placed[seeker[idx]] < k]
        if not len(idx):
            continue
        idx = idx[np.lexsort((seeker[idx], -score[idx], job[idx]))]
        j = job[idx]
        take = idx[_position_in_runs(j) < room[j]]
        accepted[take] = True
        np.subtract.at(room, job[take], 1)
        np.add.at(placed, seeker[take], 1)
    seeker, job, score = seeker[accepted], job[accepted], score[accepted]
    return seeker, _position_in_runs(seeker) + 1, job, score


def _position_in_runs(sorted_keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of an array sorted by those values."""
    if not len(sorted_keys):
        return np.empty(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_keys)) + 1]
    return np.arange(len(sorted_keys)) - np.repeat(starts, np.diff(np.r_[starts, len(sorted_keys)]))
