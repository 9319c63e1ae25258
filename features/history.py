"""What the event log says about each seeker and job as of one moment (strictly earlier events only).

Training builds one Snapshot per time split so that no feature ever sees the window it is labelled on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import Catalogue
from features.text import normalize_rows

__all__ = ["Snapshot", "PairCounts", "build_snapshot", "slot_lookup", "known_seekers"]

_POPULARITY_DAYS = 30


@dataclass
class PairCounts:
    """Sparse (row, column) → count table answered by binary search: vectorized lookups for millions of pairs."""

    keys: np.ndarray    # sorted int64 row * width + column
    counts: np.ndarray  # float32
    width: int

    @classmethod
    def build(cls, rows: np.ndarray, cols: np.ndarray, width: int, weights: np.ndarray | None = None) -> PairCounts:
        width = max(width, 1)
        ok = (rows >= 0) & (cols >= 0)
        keys = rows[ok].astype(np.int64) * width + cols[ok]
        w = np.ones(len(keys), dtype=np.float32) if weights is None else weights[ok].astype(np.float32)
        uniq, inverse = np.unique(keys, return_inverse=True)
        return cls(keys=uniq, counts=np.bincount(inverse, weights=w, minlength=len(uniq)).astype(np.float32),
                   width=width)

    def lookup(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), dtype=np.float32)
        if len(self.keys) == 0:
            return out
        q = rows.astype(np.int64) * self.width + cols
        pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        # Codes at or beyond the width were added after the table was built (live rows): they have no counts,
        # and without this guard row * width + col would alias the next row's entries.
        hit = (self.keys[pos] == q) & (cols >= 0) & (cols < self.width)
        out[hit] = self.counts[pos[hit]]
        return out


def _mean_per_row(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Mean of the finite `values` per row index (n rows), NaN for a row with none."""
    ok = np.isfinite(values)
    total = np.bincount(rows[ok], weights=values[ok], minlength=n)
    count = np.bincount(rows[ok], minlength=n)
    return np.divide(total, count, out=np.full(n, np.nan), where=count > 0)


def _totals(codes: np.ndarray, n: int) -> np.ndarray:
    """Counts per code with a trailing 'unknown' slot that stays 0 (for slot_lookup)."""
    out = np.zeros(n + 1, dtype=np.float32)
    out[:n] = np.bincount(codes[codes >= 0], minlength=n)[:n]
    return out


def slot_lookup(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """table[codes] for tables whose last slot means "none": unknown (-1) codes and codes added after the table was
    built (live rows) read that slot."""
    last = len(table) - 1
    return table[np.where((codes >= 0) & (codes < last), codes, last)]


@dataclass
class Snapshot:
    as_of: pd.Timestamp           # the moment scores are for (job age is measured to it)
    history_until: pd.Timestamp   # only events strictly before this are known
    hist_emb: np.ndarray          # (n_seekers, d) float32: grade-weighted mean of interacted jobs' text vectors
    n_hist: np.ndarray            # (n_seekers,) float32 positive events before as_of
    hist_city: PairCounts         # seeker x city
    hist_region: PairCounts       # seeker x region
    hist_employer: PairCounts     # seeker x employer
    hist_job: PairCounts          # seeker x job (re-visits)
    job_popularity: np.ndarray    # (n_jobs,) float32 positive events in the last 30 days
    employer_popularity: np.ndarray  # (n_employers + 1,) float32 same, summed over each employer's jobs; last = none
    region_share: np.ndarray      # (n_regions + 1,) float32 share of those events in each region; last = unknown
    hist_region_mode: np.ndarray  # (n_seekers,) int32 most frequent region in history, -1 none
    # Where seekers of one place look for work, learned from everyone's past interactions: seeker city x job
    # city and seeker region x job region counts, with the totals per seeker place (last slot = unknown place).
    # A same-city flag says nothing of the neighbouring city or state people commute to; these do.
    city_flow: PairCounts
    city_out: np.ndarray          # (n_cities + 1,) float32
    region_flow: PairCounts
    region_out: np.ndarray        # (n_regions + 1,) float32
    # Where a seeker's past interactions were: the mean point of the jobs they turned to (NaN: none located). A
    # seeker who viewed jobs around one town keeps looking there, whatever the home city on the profile says.
    hist_lat: np.ndarray          # (n_seekers,) float64
    hist_lon: np.ndarray


def build_snapshot(catalogue: Catalogue, events: pd.DataFrame, *, history_until: pd.Timestamp,
                   as_of: pd.Timestamp | None = None) -> Snapshot:
    """History from events before `history_until`; `as_of` (default: the same) is when the scores apply.

    Training scores a whole label window at once: history stops at the window start, as_of is its end.
    """
    as_of = history_until if as_of is None else as_of
    n_s = len(catalogue.seekers.city)
    n_j = len(catalogue.jobs.city)
    past = events[(events["timestamp"] < history_until) & (events["grade"] > 0)]
    s = past["seeker_idx"].to_numpy()
    j = past["job_idx"].to_numpy()
    known = (s >= 0) & (j >= 0)
    s, j = s[known], j[known]
    grade = past["grade"].to_numpy()[known].astype(np.float32)

    dim = catalogue.jobs.text_emb.shape[1]
    hist = np.zeros((n_s, dim), dtype=np.float32)
    np.add.at(hist, s, catalogue.jobs.text_emb[j] * grade[:, None])
    n_hist = np.bincount(s, minlength=n_s).astype(np.float32)

    since = (history_until - pd.Timedelta(days=_POPULARITY_DAYS)).tz_convert(None).to_datetime64()
    recent = past["timestamp"].dt.tz_convert(None).to_numpy()[known] >= since
    popularity = np.bincount(j[recent], minlength=n_j).astype(np.float32)
    # Employer and region priors carry over to jobs never seen before (most new postings): a big chain's new
    # vacancy or one in a busy region draws views before it has any of its own. Index -1 (unknown) lands on
    # the last slot, which stays 0.
    n_employers = len(catalogue.vocabs.employers)
    employer = catalogue.employer[j[recent]]
    employer_pop = np.zeros(n_employers + 1, dtype=np.float32)
    employer_pop[:n_employers] = np.bincount(employer[employer >= 0], minlength=n_employers)
    n_regions = len(catalogue.vocabs.regions)
    region = catalogue.jobs.region[j[recent]]
    region_share = np.zeros(n_regions + 1, dtype=np.float32)
    region_share[:n_regions] = np.bincount(region[region >= 0], minlength=n_regions) / max(int(recent.sum()), 1)

    j_city, j_region = catalogue.jobs.city[j], catalogue.jobs.region[j]
    region_counts = PairCounts.build(s, j_region, n_regions)
    mode = np.full(n_s, -1, dtype=np.int32)
    if len(region_counts.keys):
        rows = region_counts.keys // region_counts.width
        order = np.lexsort((-region_counts.counts, rows))
        first = np.unique(rows[order], return_index=True)[1]
        best = order[first]
        mode[rows[best]] = (region_counts.keys[best] % region_counts.width).astype(np.int32)
    seeker_city, seeker_region = catalogue.seekers.city[s], catalogue.seekers.region[s]
    n_cities = len(catalogue.vocabs.cities)
    return Snapshot(
        as_of=as_of,
        history_until=history_until,
        hist_emb=normalize_rows(hist),
        n_hist=n_hist,
        hist_city=PairCounts.build(s, j_city, len(catalogue.vocabs.cities)),
        hist_region=region_counts,
        hist_employer=PairCounts.build(s, catalogue.employer[j], n_employers),
        hist_job=PairCounts.build(s, j, n_j),
        job_popularity=popularity,
        employer_popularity=employer_pop,
        region_share=region_share,
        hist_region_mode=mode,
        city_flow=PairCounts.build(seeker_city, j_city, n_cities),
        city_out=_totals(seeker_city, n_cities),
        region_flow=PairCounts.build(seeker_region, j_region, n_regions),
        region_out=_totals(seeker_region, n_regions),
        hist_lat=_mean_per_row(catalogue.jobs.lat[j], s, n_s), hist_lon=_mean_per_row(catalogue.jobs.lon[j], s, n_s),
    )


def known_seekers(catalogue: Catalogue, snap: Snapshot, rows: np.ndarray) -> np.ndarray:
    """Per seeker row: is there anything to match on (resume text, wishes, skills or earlier events)? A seeker the
    engine knows nothing about ranks by priors alone: training leaves them out, employer lists put them last."""
    side = catalogue.seekers
    rows = np.asarray(rows, dtype=np.int64)
    n_hist = np.zeros(rows.shape, dtype=np.float32)
    inside = rows < len(snap.n_hist)  # rows added live after the snapshot was built have no history in it yet
    n_hist[inside] = snap.n_hist[rows[inside]]
    return np.asarray(side.has_text[rows] | side.has_aux[rows] | (side.n_skills[rows] > 0) | (n_hist > 0))
