"""Events: which jobs each seeker interacts with (top K of utility + Gumbel noise over stratified candidates) and
how far each pair walks the funnel exposed -> viewed -> applied -> interviewed -> hired.

The algorithm and its parameters are described in the package docstring (matcher/offline/synthetic/__init__.py).
The helpers below are called in a fixed order because they share one random stream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from .latent import Latent
from .vectorized import _take, _timestamps

# The event funnel (package docstring).
_FUNNEL = ("exposed", "viewed", "applied", "interviewed", "hired")
_FUNNEL_SHIFT = (2.0, 3.5, 5.0, 4.5)                  # p(stage | previous) = sigmoid(u - shift)
# Delay before each later stage: log-normal (median seconds, sigma).
_FUNNEL_DELAY_S = ((600.0, 1.0), (3600.0, 1.0), (2 * 86400.0, 0.6), (7 * 86400.0, 0.5))
_K_MAX = 20
_STRATA = (24, 12, 8, 8, 8)                           # candidates per stratum (package docstring)
_BLOCK = 25_000                                       # seekers scored at once


class _Stratum:
    """Jobs grouped by an integer key, for drawing uniform members of a group per query."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def bounds(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo = np.searchsorted(self.sorted, query, side="left")
        return lo, np.searchsorted(self.sorted, query, side="right") - lo


def _draw(rng: np.random.Generator, chain: Sequence[tuple[_Stratum, np.ndarray]], n_jobs: int,
          size: int) -> np.ndarray:
    """(b, size) job rows uniform within the finest non-empty stratum of each query row (else any job)."""
    b = len(chain[0][1])
    u = rng.random((b, size))
    out = (u * n_jobs).astype(np.int64)
    todo = np.ones(b, dtype=bool)
    for stratum, query in chain:
        lo, count = stratum.bounds(query)
        use = todo & (count > 0)
        if use.any():
            pos = lo[use, None] + (u[use] * count[use, None]).astype(np.int64)
            out[use] = stratum.order[pos]
        todo &= ~use
    return out


def _overqualification(latent: Latent, s_idx: np.ndarray, j_idx: np.ndarray) -> np.ndarray:
    """What employers weigh beyond the seeker's own utility: experience and education above what the post asks."""
    years = latent.seeker_experience[s_idx].astype(np.float64) - latent.job_experience_min[j_idx]
    levels = latent.seeker_education[s_idx].astype(np.float64) - np.maximum(latent.job_education_min[j_idx], 0)
    return np.clip(years, -3, 3) / 3 + np.clip(levels, -2, 2) / 2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _events(rng: np.random.Generator, latent: Latent, seeker_place: dict[str, np.ndarray],
            job_place: dict[str, np.ndarray], per_seeker: float, end_s: int, seeker_ids: pa.Array,
            job_ids: pa.Array, employer_selectivity: float = 0.0) -> pd.DataFrame:
    """The events frame, drawn from the utility as the package docstring describes, blocks of seekers at a
    time so memory stays bounded at any scale."""
    n, m = len(latent.seeker_family), len(latent.job_family)
    if per_seeker <= 0 or n == 0 or m == 0:
        return _no_events()
    k = np.minimum(_K_MAX, rng.poisson(per_seeker * rng.gamma(2.0, 0.5, n)))
    s_idx, j_idx, util = _pairs(rng, latent, seeker_place, job_place, k)
    pair, stage, when, dwell = _funnel(rng, latent, s_idx, j_idx, util, end_s, employer_selectivity)
    return pd.DataFrame({
        "seeker_id": _take(seeker_ids, s_idx[pair]).to_pandas(),
        "job_id": _take(job_ids, j_idx[pair]).to_pandas(),
        "event": _take(pa.array(_FUNNEL, pa.string()), stage).to_pandas(),
        "timestamp": _timestamps(when),
        "value": np.where(stage == 1, dwell[pair], np.nan),
    })


def _no_events() -> pd.DataFrame:
    """The events frame with no rows, typed as a full one is."""
    return pd.DataFrame({
        "seeker_id": pd.Series([], dtype="str"), "job_id": pd.Series([], dtype="str"),
        "event": pd.Series([], dtype="str"), "timestamp": _timestamps(np.zeros(0, np.int64)),
        "value": pd.Series([], dtype="float64"),
    })


def _pairs(rng: np.random.Generator, latent: Latent, seeker_place: dict[str, np.ndarray],
           job_place: dict[str, np.ndarray], k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seeker rows, job rows, utilities) of every (seeker, job) pair that interacts: k[i] jobs for seeker i,
    scored in blocks of _BLOCK seekers."""
    m = len(latent.job_family)
    n_city = int(max(seeker_place["city"].max(), job_place["city"].max())) + 1
    n_prov = int(max(seeker_place["province"].max(), job_place["province"].max())) + 1
    jf = latent.job_family.astype(np.int64)
    by_fam_city = _Stratum(jf * n_city + job_place["city"])
    by_fam_prov = _Stratum(jf * n_prov + job_place["province"])
    by_fam = _Stratum(jf)
    by_city = _Stratum(job_place["city"])
    by_prov = _Stratum(job_place["province"])
    pairs_s: list[np.ndarray] = []
    pairs_j: list[np.ndarray] = []
    pairs_u: list[np.ndarray] = []
    active = np.flatnonzero(k > 0)
    for lo in range(0, len(active), _BLOCK):
        rows = active[lo: lo + _BLOCK]
        fam = latent.seeker_family[rows].astype(np.int64)
        city, prov = seeker_place["city"][rows], seeker_place["province"][rows]
        fc, fp = (by_fam_city, fam * n_city + city), (by_fam_prov, fam * n_prov + prov)
        f, c, p = (by_fam, fam), (by_city, city), (by_prov, prov)
        cand = np.concatenate([
            _draw(rng, [fc, fp, f], m, _STRATA[0]), _draw(rng, [fp, f], m, _STRATA[1]),
            _draw(rng, [f], m, _STRATA[2]), _draw(rng, [c, p], m, _STRATA[3]),
            (rng.random((len(rows), _STRATA[4])) * m).astype(np.int64)], axis=1)
        u = latent.utility(rows[:, None], cand)
        rr, picked = _top_k(rng, u, cand, k[rows])
        pairs_s.append(rows[rr])
        pairs_j.append(cand[rr, picked])
        pairs_u.append(u[rr, picked])
    return np.concatenate(pairs_s), np.concatenate(pairs_j), np.concatenate(pairs_u)


def _top_k(rng: np.random.Generator, u: np.ndarray, cand: np.ndarray,
           k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(block rows, candidate columns) of the k[row] best distinct candidates by u + Gumbel noise: Gumbel-max
    sampling without replacement, proportional to exp(u)."""
    score = u + rng.gumbel(size=u.shape)
    # A job drawn twice for one seeker counts once.
    by_job = np.argsort(cand, axis=1, kind="stable")
    sorted_cand = np.take_along_axis(cand, by_job, axis=1)
    dup = np.zeros(cand.shape, dtype=bool)
    dup[:, 1:] = sorted_cand[:, 1:] == sorted_cand[:, :-1]
    by_job_score = np.take_along_axis(score, by_job, axis=1)
    np.put_along_axis(score, by_job, np.where(dup, -np.inf, by_job_score), axis=1)
    best = np.argsort(-score, axis=1, kind="stable")[:, :_K_MAX]
    keep = (np.arange(best.shape[1])[None, :] < k[:, None]) & np.isfinite(
        np.take_along_axis(score, best, axis=1))
    rr, cc = np.nonzero(keep)
    return rr, best[rr, cc]


def _funnel(rng: np.random.Generator, latent: Latent, s_idx: np.ndarray, j_idx: np.ndarray, util: np.ndarray,
            end_s: int, employer_selectivity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pair, stage, when, dwell): one row per funnel stage reached, sorted by time, seeker, job and stage;
    `pair` indexes s_idx / j_idx, `stage` _FUNNEL, and dwell (per pair) is the viewed row's value."""
    # Funnel: one row per stage reached, each later than the previous, all while the job is open.
    n_pairs = len(s_idx)
    opens = latent.job_posted_s[j_idx]
    closes = np.minimum(latent.job_expires_s[j_idx], end_s)
    t = opens + np.floor((closes - opens) * rng.random(n_pairs) ** 1.5).astype(np.int64)
    stage_rows = [np.arange(n_pairs)]
    stage_times = [t]
    alive = np.ones(n_pairs, dtype=bool)
    employer = util + employer_selectivity * _overqualification(latent, s_idx, j_idx) if employer_selectivity else util
    for level in range(1, len(_FUNNEL)):
        median, sigma = _FUNNEL_DELAY_S[level - 1]
        t = t + np.maximum(1, np.round(rng.lognormal(math.log(median), sigma, n_pairs))).astype(np.int64)
        side = employer if level >= _FUNNEL.index("interviewed") else util
        alive &= (rng.random(n_pairs) < _sigmoid(side - _FUNNEL_SHIFT[level - 1])) & (t < closes)
        stage_rows.append(np.flatnonzero(alive))
        stage_times.append(t[alive])
    dwell = np.round(rng.lognormal(math.log(30.0), 0.8, n_pairs) * np.exp(0.15 * np.clip(util, -5, 8)))
    pair = np.concatenate(stage_rows)
    stage = np.repeat(np.arange(len(_FUNNEL)), [len(r) for r in stage_rows])
    when = np.concatenate(stage_times)
    order = np.lexsort((stage, j_idx[pair], s_idx[pair], when))
    return pair[order], stage[order], when[order], dwell
