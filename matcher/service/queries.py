"""Answer the service's read calls on a LiveCatalogue, many calls per pass.

Recommendation calls that arrive together are ranked together: one retrieval matrix product and one tree pass for
the whole group is what keeps p99 latency low under concurrent load. A call that fails (unknown id, bad filter)
fails alone: results come back per call, as a list of matches or the error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np
import pandas as pd

from features.catalogue import Catalogue, SideArrays, Vocabs
from features.geo import haversine_km, load_gazetteer
from features.history import Snapshot
from matcher.data import validate_jobs, validate_seekers
from matcher.engine.matching import Recommendations
from matcher.engine.reasons import Reasons, explain
from matcher.errors import DeadlineExceededError, InvalidRequestError, MatcherError, NotFoundError
from matcher.policy.priority import PriorityPolicy, append_priority_slots
from matcher.schema import JOB_TYPES
from matcher.service.live import Scratch
from matcher.service.messages import JobFilter, JobQuery, Match, NearbyMatch, NearbyQuery, SeekerFilter, SeekerQuery

__all__ = ["recommend_jobs", "recommend_seekers", "recommend_nearby", "score_pairs"]

_policy_log = logging.getLogger("matcher.policy.priority")


class LiveReads(Protocol):
    """What queries read of a live catalogue (matcher.service.live.LiveCatalogue implements it): rows by id and
    back, masks over rows, and the ranking and scoring of rows of a view; never its columns or dictionaries."""

    n_candidates: int

    def view(self) -> tuple[Catalogue, Snapshot]: ...
    def scratch_seeker(self, profile: pd.DataFrame) -> Scratch: ...
    def scratch_job(self, profile: pd.DataFrame) -> Scratch: ...
    def seeker_rows(self, ids: Sequence[str]) -> np.ndarray: ...
    def job_rows(self, ids: Sequence[str]) -> np.ndarray: ...
    def seeker_id_of(self, rows: np.ndarray) -> list[str]: ...
    def job_id_of(self, rows: np.ndarray) -> list[str]: ...
    def applied_jobs(self, seeker_row: int) -> list[int]: ...
    def in_groups(self, names: Sequence[str]) -> np.ndarray: ...
    def group_names(self, rows: np.ndarray) -> list[tuple[str, ...]]: ...
    def of_job_types(self, kinds: Sequence[str]) -> np.ndarray: ...
    def usable_jobs(self) -> np.ndarray: ...
    def rank_jobs(self, cat: Catalogue, snap: Snapshot, seeker_rows: np.ndarray, k: int,
                  allowed: Sequence[np.ndarray | None]) -> Recommendations: ...
    def rank_seekers(self, cat: Catalogue, snap: Snapshot, job_rows: np.ndarray, k: int,
                     allowed: Sequence[np.ndarray | None]) -> Recommendations: ...
    def score(self, cat: Catalogue, snap: Snapshot, seeker_rows: np.ndarray, job_rows: np.ndarray) -> np.ndarray: ...

Outcome = list[Match] | list[NearbyMatch] | MatcherError
_KM_PER_DEGREE = 111.0
_HALF_EARTH_KM = 20_038.0  # no two places on Earth are farther apart


def _places(vocabs: Vocabs, names: Sequence[str], field: str) -> tuple[np.ndarray, np.ndarray]:
    """City codes and region codes (for names that are a whole province or state) of filter places.

    A name that resolves to nothing is INVALID_ARGUMENT naming its index (never its text, which may be personal):
    neither the gazetteer's tables know it (a code, a Chinese name, a "City, ST" of the US table) nor any row of
    the catalogue writes it (an unknown string is its own city key, so rows that write it can still be found)."""
    places = load_gazetteer().resolve(pd.Series(list(names), dtype=object))
    city = vocabs.cities.encode(places.city_key, grow=False)
    for i, (code, region, lat) in enumerate(zip(city, places.region_key, places.lat, strict=True)):
        # US "City, ST" always gets keys from its spelling: only a coordinate says the US table has the place.
        known = region is not None and (not str(region).startswith("us:") or bool(np.isfinite(lat)))
        if code < 0 and not known:
            raise InvalidRequestError(f"{field}[{i}]: unknown place (expected a GB/T 2260 code, a place name such "
                                      f"as 北京 or 海淀区, or \"City, ST\")")
    region_only = np.array([c is None and r is not None for c, r in zip(places.city_key, places.region_key,
                                                                         strict=True)])
    region_keys = np.where(region_only, places.region_key, np.array(None, dtype=object))
    region = vocabs.regions.encode(region_keys, grow=False)
    return city[city >= 0], region[region >= 0]


def _in_places(vocabs: Vocabs, names: Sequence[str], city: np.ndarray, region: np.ndarray, field: str
               ) -> np.ndarray:
    cities, regions = _places(vocabs, names, field)
    return np.isin(city, cities) | np.isin(region, regions)


def _within(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray, radius_km: float, field: str) -> np.ndarray:
    if not (np.isfinite(radius_km) and 0 < radius_km <= _HALF_EARTH_KM):
        raise InvalidRequestError(f"{field}: must be a positive number of km, at most {_HALF_EARTH_KM:,.0f}")
    if np.isnan(lat0) or np.isnan(lon0):
        raise InvalidRequestError(f"{field}: the home location is unknown (no lat/lon and no city with coordinates)")
    # A latitude band first: the exact distance is then computed for the few rows inside it.
    band = np.abs(lat - lat0) <= radius_km / _KM_PER_DEGREE
    mask = np.zeros(len(lat), dtype=bool)
    rows = np.flatnonzero(band)
    mask[rows] = haversine_km(np.full(len(rows), lat0), np.full(len(rows), lon0), lat[rows], lon[rows]) <= radius_km
    return mask


def _place_mask(vocabs: Vocabs, side: SideArrays, cities: Sequence[str], radius_km: float | None,
                home: tuple[float, float]) -> np.ndarray:
    """Rows of `side` in one of `cities` and within `radius_km` of `home` (lat, lon), where those are given."""
    mask = np.ones(len(side.city), dtype=bool)
    if cities:
        mask &= _in_places(vocabs, cities, side.city, side.region, "filter.cities")
    if radius_km is not None:
        mask &= _within(home[0], home[1], side.lat, side.lon, radius_km, "filter.radius_km")
    return mask


def _job_type_mask(live: LiveReads, kinds: Sequence[str], field: str) -> np.ndarray:
    """Job rows of one of these FORMAT.md job types; an unknown type is INVALID_ARGUMENT naming its index."""
    for i, kind in enumerate(kinds):
        if kind not in JOB_TYPES:
            raise InvalidRequestError(f"{field}[{i}]: expected one of {sorted(JOB_TYPES)}")
    return live.of_job_types(kinds)


def _job_mask(live: LiveReads, cat: Catalogue, flt: JobFilter, s_cat: Catalogue, s_row: int,
              registered: bool) -> np.ndarray | None:
    if not flt.active:
        return None
    jobs = cat.jobs
    home = (float(s_cat.seekers.lat[s_row]), float(s_cat.seekers.lon[s_row]))
    mask = _place_mask(cat.vocabs, jobs, flt.cities, flt.radius_km, home)
    if flt.job_types:
        mask &= _job_type_mask(live, flt.job_types, "filter.job_types")
    if flt.salary_floor is not None:
        if not (np.isfinite(flt.salary_floor) and flt.salary_floor >= 0):
            raise InvalidRequestError("filter.salary_floor: must be a non-negative number")
        offered = np.where(np.isnan(jobs.salary_max), jobs.salary_min, jobs.salary_max)
        mask &= offered >= flt.salary_floor
    if flt.exclude_applied and registered:
        mask[live.applied_jobs(s_row)] = False
    return mask


def _seeker_mask(live: LiveReads, cat: Catalogue, flt: SeekerFilter, j_cat: Catalogue, j_row: int
                 ) -> np.ndarray | None:
    if not flt.active:
        return None
    workplace = (float(j_cat.jobs.lat[j_row]), float(j_cat.jobs.lon[j_row]))
    mask = _place_mask(cat.vocabs, cat.seekers, flt.cities, flt.radius_km, workplace)
    if flt.priority_groups:
        mask &= live.in_groups(flt.priority_groups)
    return mask


def _check_deadline(deadline: float) -> None:
    """Calls are checked before each piece of their own work, not only while queued: a caller that has given up
    costs the engine nothing more, and the calls behind it are not held up by it."""
    if time.monotonic() > deadline:
        raise DeadlineExceededError("deadline exceeded while the engine worked on the call")


def _profile(validate: Callable[[pd.DataFrame, str], pd.DataFrame], record: dict[str, str], what: str
             ) -> pd.DataFrame:
    return validate(pd.DataFrame([record], dtype=object), what)


def _matches(ids: list[str], scores: np.ndarray, k: int, reasons: list[Reasons]) -> list[Match]:
    return [Match(id=i, score=float(s), reasons=why)
            for i, s, why in zip(ids[:k], scores[:k], reasons[:k], strict=True)]


def recommend_jobs(live: LiveReads, queries: Sequence[JobQuery]) -> list[Outcome]:
    cat, snap = live.view()
    out: list[Outcome | None] = [None] * len(queries)
    rows, masks, where = [], [], []
    for i, q in enumerate(queries):
        try:
            _check_deadline(q.deadline)
            if q.seeker_id is not None:
                row = int(live.seeker_rows([q.seeker_id])[0])
                if row < 0:
                    raise NotFoundError("seeker_id: no such seeker")
                masks.append(_job_mask(live, cat, q.filter, cat, row, registered=True))
                rows.append(row)
                where.append(i)
            else:
                assert q.profile is not None
                scratch = live.scratch_seeker(_profile(validate_seekers, q.profile, "profile"))
                mask = _job_mask(live, cat, q.filter, scratch.cat, 0, registered=False)
                recs = live.rank_jobs(scratch.cat, scratch.snap, np.zeros(1, np.int64), q.k, [mask])
                found = recs.job_idx[0] >= 0
                jobs = recs.job_idx[0][found]
                out[i] = _matches(live.job_id_of(jobs[:q.k]), recs.scores[0][found], q.k,
                                  explain(scratch.cat, np.zeros(len(jobs), np.int64), jobs))
        except MatcherError as exc:
            out[i] = exc
    for r in reversed(range(len(where))):  # once more before the shared pass: the calls' own parts took time
        try:
            _check_deadline(queries[where[r]].deadline)
        except DeadlineExceededError as exc:
            out[where[r]] = exc
            del rows[r], masks[r], where[r]
    if rows:
        k = max(queries[i].k for i in where)
        recs = live.rank_jobs(cat, snap, np.asarray(rows, dtype=np.int64), k, masks)
        found = recs.job_idx >= 0
        why = explain(cat, np.repeat(recs.seeker_idx, k)[found.ravel()], recs.job_idx[found])
        start = 0
        for r, i in enumerate(where):
            n = int(found[r].sum())
            jobs = recs.job_idx[r][found[r]][:queries[i].k]
            out[i] = _matches(live.job_id_of(jobs), recs.scores[r][found[r]], queries[i].k, why[start:start + n])
            start += n
    return [o if o is not None else MatcherError("no result") for o in out]


def recommend_seekers(live: LiveReads, queries: Sequence[SeekerQuery],
                      policy: PriorityPolicy | None = None) -> list[Outcome]:
    """用人推荐. With a priority policy the whole candidate list is ranked and priority seekers beyond the model's
    top k are appended (matcher.policy.priority) until they hold the policy's share; those matches say `policy_slot`."""
    cat, snap = live.view()
    priority = None
    if policy is not None and policy.enabled:
        priority = live.in_groups(policy.groups)
    out: list[Outcome] = []
    for q in queries:  # seeker-side calls are rarer; each is one retrieval product and one tree pass
        try:
            _check_deadline(q.deadline)
            if q.job_id is not None:
                row = int(live.job_rows([q.job_id])[0])
                if row < 0:
                    raise NotFoundError("job_id: no such job")
                j_cat, j_snap, j_row = cat, snap, row
            else:
                assert q.profile is not None
                scratch = live.scratch_job(_profile(validate_jobs, q.profile, "profile"))
                j_cat, j_snap, j_row = scratch.cat, scratch.snap, 0
            mask = _seeker_mask(live, cat, q.filter, j_cat, j_row)
            job = np.array([j_row], dtype=np.int64)
            depth = q.k if priority is None else max(q.k, live.n_candidates)
            recs = live.rank_seekers(j_cat, j_snap, job, depth, [mask])
            rows, scores = recs.job_idx, recs.scores
            added = np.zeros(rows.shape, dtype=bool)
            if priority is not None:
                assert policy is not None
                rows, scores, added = append_priority_slots(rows, scores, priority, q.k, policy.min_share)
            found = rows[0] >= 0
            seekers = rows[0][found]
            matches = _matches(live.seeker_id_of(seekers), scores[0][found], len(seekers),
                               explain(j_cat, seekers, np.full(len(seekers), j_row)))
            groups = live.group_names(seekers)
            out.append([replace(m, priority_groups=g, policy_slot=bool(a))
                        for m, g, a in zip(matches, groups, added[0][found], strict=True)])
            if added[0].any():  # every adjustment is logged (ids only: no personal data in logs)
                _policy_log.info("RecommendSeekers job %s: %d priority seekers appended after the model's top %d "
                                 "(min share %g)", q.job_id or "(profile)", int(added[0].sum()), q.k,
                                 policy.min_share if policy is not None else 0.0)
        except MatcherError as exc:
            out.append(exc)
    return out


def score_pairs(live: LiveReads, seeker_ids: Sequence[str], job_ids: Sequence[str]) -> list[float]:
    if len(seeker_ids) != len(job_ids):
        raise InvalidRequestError("seeker_ids and job_ids must have the same length")
    s, j = live.seeker_rows(seeker_ids), live.job_rows(job_ids)
    for name, rows in (("seeker_ids", s), ("job_ids", j)):
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            raise NotFoundError(f"{name}[{int(missing[0])}]: not in the catalogue")
    if len(s) == 0:
        return []
    cat, snap = live.view()
    return [float(x) for x in live.score(cat, snap, s, j)]


MAX_NEARBY_KM = 200.0


def recommend_nearby(live: LiveReads, queries: Sequence[NearbyQuery]) -> list[Outcome]:
    """Nearest open jobs of the asked kinds: a distance scan over the job coordinates (one vectorized haversine on
    a latitude band), no retrieval product, so a location alone answers in milliseconds."""
    cat, snap = live.view()
    jobs = cat.jobs
    usable = live.usable_jobs()
    out: list[Outcome] = []
    for q in queries:
        try:
            _check_deadline(q.deadline)
            if not (np.isfinite(q.lat) and -90 <= q.lat <= 90):
                raise InvalidRequestError("lat: must be within -90..90 degrees")
            if not (np.isfinite(q.lon) and -180 <= q.lon <= 180):
                raise InvalidRequestError("lon: must be within -180..180 degrees")
            if not (0 < q.radius_km <= MAX_NEARBY_KM):
                raise InvalidRequestError(f"radius_km: must be in (0, {MAX_NEARBY_KM:g}]")
            kinds = _job_type_mask(live, q.job_types, "job_types")
            s_row = -1
            if q.seeker_id:
                s_row = int(live.seeker_rows([q.seeker_id])[0])
                if s_row < 0:
                    raise NotFoundError("seeker_id: no such seeker")
            mask = usable & kinds
            mask &= _within(q.lat, q.lon, jobs.lat, jobs.lon, q.radius_km, "radius_km")
            rows = np.flatnonzero(mask)
            distance = haversine_km(np.full(len(rows), q.lat), np.full(len(rows), q.lon), jobs.lat[rows],
                                    jobs.lon[rows])
            order = np.lexsort((rows, distance))[:q.k]
            rows, distance = rows[order], distance[order]
            scores: list[float | None] = [None] * len(rows)
            if s_row >= 0 and len(rows):
                scores = [float(v) for v in live.score(cat, snap, np.full(len(rows), s_row), rows)]
            out.append([NearbyMatch(id=jid, distance_km=round(float(d), 3), score=sc)
                        for jid, d, sc in zip(live.job_id_of(rows), distance, scores, strict=True)])
        except MatcherError as exc:
            out.append(exc)
    return out
