"""Protobuf messages ↔ engine objects. The only module that imports the generated `*_pb2` code.

Profiles become FORMAT.md records (column → cell text) so that a row sent over gRPC is validated, stored and
replayed exactly like a row read from a CSV folder.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message

from matcher._gen import matcher_pb2 as pb
from matcher.errors import InvalidRequestError
from matcher.schema import EVENT_COLUMNS, JOB_COLUMNS, SEEKER_COLUMNS, Reasons
from matcher.service.messages import (
    JobFilter,
    JobQuery,
    MarketQuery,
    Match,
    NearbyMatch,
    NearbyQuery,
    Record,
    SeekerFilter,
    SeekerQuery,
    ServingInfo,
    WriteResult,
)

if TYPE_CHECKING:  # the client imports this module without the engine's numeric stack
    import pandas as pd

    from matcher.policy.market import MarketView

__all__ = ["pb", "seeker_records", "job_records", "event_records", "seeker_message", "job_message",
           "event_message", "job_query", "seeker_query", "recommend_jobs_response", "recommend_seekers_response",
           "score_pairs_response", "write_response", "model_info", "serving_info", "reasons_message",
           "reasons_from_message", "nearby_query", "recommend_nearby_request", "recommend_nearby_response",
           "nearby_matches", "market_query", "market_request", "market_response", "market_rows"]

_OPTIONAL_NUMBERS = {"lat", "lon", "experience_years", "expected_salary_min", "expected_salary_max",
                     "experience_min_years", "salary_min", "salary_max", "headcount", "value"}


def _cell(msg: Message, name: str, kind: str, where: str) -> str:
    value = getattr(msg, name)
    if kind == "list":
        items = list(value)
        for i, item in enumerate(items):
            if "|" in item:
                raise InvalidRequestError(f"{where}.{name}[{i}]: items must not contain '|'")
        return "|".join(items)
    if name in _OPTIONAL_NUMBERS:
        return repr(value) if msg.HasField(name) else ""
    return str(value)


def _records(msgs: Sequence[Message], columns: Mapping[str, str], field: str, with_extra: bool) -> list[Record]:
    out = []
    for i, msg in enumerate(msgs):
        where = f"{field}[{i}]"
        record = {name: _cell(msg, name, kind, where) for name, kind in columns.items()}
        if with_extra:
            for key, value in msg.extra.items():  # type: ignore[attr-defined]
                if key in columns or not key.isidentifier():
                    raise InvalidRequestError(f"{where}.extra: key {key!r} must be a new column name")
                record[key] = value
        out.append(record)
    return out


def seeker_records(msgs: Sequence[pb.Seeker], field: str = "seekers") -> list[Record]:
    return _records(msgs, SEEKER_COLUMNS, field, with_extra=True)


def job_records(msgs: Sequence[pb.Job], field: str = "jobs") -> list[Record]:
    return _records(msgs, JOB_COLUMNS, field, with_extra=True)


def event_records(msgs: Sequence[pb.Event], received_at: str) -> list[Record]:
    records = _records(msgs, EVENT_COLUMNS, "events", with_extra=False)
    for record in records:
        record["timestamp"] = record["timestamp"] or received_at
    return records


def _whole(cell: str) -> int:
    """A whole-number cell, exactly: through float, 2^63 - 1 would round up past int64."""
    try:
        return int(cell)
    except ValueError:
        return int(float(cell))


def _message(cls: Any, record: Record, columns: Mapping[str, str], with_extra: bool) -> Any:
    kwargs: dict[str, Any] = {}
    for name, kind in columns.items():
        cell = record.get(name, "")
        if kind == "list":
            kwargs[name] = [c for c in cell.split("|") if c] if cell else []
        elif name in _OPTIONAL_NUMBERS:
            if cell != "":
                kwargs[name] = _whole(cell) if name == "headcount" else float(cell)
        else:
            kwargs[name] = cell
    if with_extra:
        kwargs["extra"] = {k: v for k, v in record.items() if k not in columns}
    return cls(**kwargs)


def seeker_message(record: Record) -> pb.Seeker:
    return _message(pb.Seeker, record, SEEKER_COLUMNS, with_extra=True)


def job_message(record: Record) -> pb.Job:
    return _message(pb.Job, record, JOB_COLUMNS, with_extra=True)


def event_message(record: Record) -> pb.Event:
    return _message(pb.Event, record, EVENT_COLUMNS, with_extra=False)


def _optional(msg: Message, name: str) -> float | None:
    return float(getattr(msg, name)) if msg.HasField(name) else None


def job_query(req: pb.RecommendJobsRequest) -> JobQuery:
    which = req.WhichOneof("seeker")
    f = req.filter
    flt = JobFilter(cities=tuple(f.cities), radius_km=_optional(f, "radius_km"), job_types=tuple(f.job_types),
                    salary_floor=_optional(f, "salary_floor"), exclude_applied=f.exclude_applied)
    if which == "seeker_id":
        return JobQuery(k=req.k, seeker_id=req.seeker_id, filter=flt)
    if which == "profile":
        return JobQuery(k=req.k, profile=seeker_records([req.profile], "profile")[0], filter=flt)
    raise InvalidRequestError("seeker: give seeker_id or profile")


def seeker_query(req: pb.RecommendSeekersRequest) -> SeekerQuery:
    which = req.WhichOneof("job")
    f = req.filter
    flt = SeekerFilter(cities=tuple(f.cities), radius_km=_optional(f, "radius_km"),
                       priority_groups=tuple(f.priority_groups))
    if which == "job_id":
        return SeekerQuery(k=req.k, job_id=req.job_id, filter=flt)
    if which == "profile":
        return SeekerQuery(k=req.k, profile=job_records([req.profile], "profile")[0], filter=flt)
    raise InvalidRequestError("job: give job_id or profile")


def nearby_query(req: pb.RecommendNearbyRequest) -> NearbyQuery:
    return NearbyQuery(lat=req.lat, lon=req.lon, k=req.k, radius_km=req.radius_km or 5.0,
                       job_types=tuple(req.job_types) or ("gig", "part_time"), seeker_id=req.seeker_id or None)


def recommend_nearby_request(query: NearbyQuery) -> pb.RecommendNearbyRequest:
    return pb.RecommendNearbyRequest(lat=query.lat, lon=query.lon, k=query.k, radius_km=query.radius_km,
                                     job_types=list(query.job_types), seeker_id=query.seeker_id or "")


def recommend_nearby_response(matches: Iterable[NearbyMatch], version: str, request_id: str
                              ) -> pb.RecommendNearbyResponse:
    out = []
    for i, m in enumerate(matches, start=1):
        msg = pb.NearbyJob(rank=i, job_id=m.id, distance_km=m.distance_km)
        if m.score is not None:
            msg.score = m.score
        out.append(msg)
    return pb.RecommendNearbyResponse(matches=out, model_version=version, request_id=request_id)


def nearby_matches(response: pb.RecommendNearbyResponse) -> list[NearbyMatch]:
    return [NearbyMatch(id=m.job_id, distance_km=m.distance_km, score=_optional(m, "score"))
            for m in response.matches]


def market_query(req: pb.LabourMarketRequest) -> MarketQuery:
    return MarketQuery(by=tuple(req.by) or ("city", "occupation"), min_cell=req.min_cell or 1, totals=req.totals,
                       city=req.city, limit=req.limit or 100)


def market_request(query: MarketQuery) -> pb.LabourMarketRequest:
    return pb.LabourMarketRequest(by=list(query.by), min_cell=query.min_cell, totals=query.totals, city=query.city,
                                  limit=query.limit)


def market_response(view: MarketView, table: pd.DataFrame, limit: int, request_id: str) -> pb.LabourMarketResponse:
    cells = []
    for row in table.head(limit).to_dict(orient="records"):
        cell = pb.MarketCell(city=str(row.get("city", "")), city_name=str(row.get("city_name", "")),
                             occupation=str(row.get("occupation", "")), open_jobs=int(row["open_jobs"]),
                             openings=int(row["openings"]), active_seekers=int(row["active_seekers"]),
                             n_salaries=int(row["n_salaries"]))
        for name in ("ratio", "salary_p25", "salary_p50", "salary_p75"):
            if row[name] is not None and not math.isnan(float(row[name])):
                setattr(cell, name, float(row[name]))
        cells.append(cell)
    return pb.LabourMarketResponse(cells=cells, as_of="" if view.as_of is None else view.as_of.isoformat(),
                                   open_jobs=view.open_jobs, active_seekers=view.active_seekers,
                                   total_cells=len(table), request_id=request_id)


def market_rows(response: pb.LabourMarketResponse) -> list[dict[str, Any]]:
    """Cells as dicts (absent optional numbers = None), for clients."""
    out = []
    for c in response.cells:
        row: dict[str, Any] = {"city": c.city, "city_name": c.city_name, "occupation": c.occupation,
                               "open_jobs": c.open_jobs, "openings": c.openings, "active_seekers": c.active_seekers,
                               "n_salaries": c.n_salaries}
        row.update({name: _optional(c, name) for name in ("ratio", "salary_p25", "salary_p50", "salary_p75")})
        out.append(row)
    return out


def reasons_message(r: Reasons) -> pb.Reasons:
    msg = pb.Reasons(matched_skills=list(r.matched_skills), salary_fit=r.salary_fit, same_city=r.same_city,  # type: ignore[arg-type]
                     in_desired_city=r.in_desired_city)
    if r.distance_km is not None:
        msg.distance_km = r.distance_km
    return msg


def reasons_from_message(msg: pb.Reasons) -> Reasons:
    return Reasons(matched_skills=tuple(msg.matched_skills), distance_km=_optional(msg, "distance_km"),
                   salary_fit=int(msg.salary_fit), same_city=msg.same_city, in_desired_city=msg.in_desired_city)


def recommend_jobs_response(matches: Iterable[Match], version: str, request_id: str) -> pb.RecommendJobsResponse:
    return pb.RecommendJobsResponse(
        matches=[pb.JobMatch(rank=i, job_id=m.id, score=m.score, reasons=reasons_message(m.reasons))
                 for i, m in enumerate(matches, start=1)],
        model_version=version, request_id=request_id)


def recommend_seekers_response(matches: Iterable[Match], version: str, request_id: str
                               ) -> pb.RecommendSeekersResponse:
    return pb.RecommendSeekersResponse(
        matches=[pb.SeekerMatch(rank=i, seeker_id=m.id, score=m.score, reasons=reasons_message(m.reasons),
                                priority_groups=list(m.priority_groups), policy_slot=m.policy_slot)
                 for i, m in enumerate(matches, start=1)],
        model_version=version, request_id=request_id)


def score_pairs_response(scores: Sequence[float], version: str, request_id: str) -> pb.ScorePairsResponse:
    return pb.ScorePairsResponse(scores=list(scores), model_version=version, request_id=request_id)


def write_response(result: WriteResult, request_id: str) -> pb.WriteResponse:
    return pb.WriteResponse(written=result.written, not_found=result.not_found, sequence=result.sequence,
                            replayed=result.replayed, request_id=request_id)


def model_info(info: ServingInfo, request_id: str) -> pb.ModelInfo:
    return pb.ModelInfo(version=info.version, feature_names=list(info.feature_names), created_at=info.created_at,
                        data_fingerprint=info.data_fingerprint, n_trees=info.n_trees, loaded_at=info.loaded_at,
                        as_of=info.as_of, n_seekers=info.n_seekers, n_jobs=info.n_jobs,
                        n_open_jobs=info.n_open_jobs, journal_sequence=info.journal_sequence,
                        journal_quarantined=info.journal_quarantined, request_id=request_id)


def serving_info(msg: pb.ModelInfo) -> ServingInfo:
    return ServingInfo(version=msg.version, feature_names=tuple(msg.feature_names), created_at=msg.created_at,
                       data_fingerprint=msg.data_fingerprint, n_trees=msg.n_trees, loaded_at=msg.loaded_at,
                       as_of=msg.as_of, n_seekers=msg.n_seekers, n_jobs=msg.n_jobs, n_open_jobs=msg.n_open_jobs,
                       journal_sequence=msg.journal_sequence, journal_quarantined=msg.journal_quarantined)


def recommend_jobs_request(k: int, seeker_id: str | None = None, profile: Record | None = None,
                           flt: JobFilter | None = None) -> pb.RecommendJobsRequest:
    flt = flt or JobFilter()
    req = pb.RecommendJobsRequest(k=k, filter=pb.JobFilter(cities=list(flt.cities), job_types=list(flt.job_types),
                                                         exclude_applied=flt.exclude_applied))
    if flt.radius_km is not None:
        req.filter.radius_km = flt.radius_km
    if flt.salary_floor is not None:
        req.filter.salary_floor = flt.salary_floor
    if profile is not None:
        req.profile.CopyFrom(seeker_message(profile))
    elif seeker_id is not None:
        req.seeker_id = seeker_id
    return req


def recommend_seekers_request(k: int, job_id: str | None = None, profile: Record | None = None,
                              flt: SeekerFilter | None = None) -> pb.RecommendSeekersRequest:
    flt = flt or SeekerFilter()
    req = pb.RecommendSeekersRequest(k=k, filter=pb.SeekerFilter(cities=list(flt.cities),
                                                                 priority_groups=list(flt.priority_groups)))
    if flt.radius_km is not None:
        req.filter.radius_km = flt.radius_km
    if profile is not None:
        req.profile.CopyFrom(job_message(profile))
    elif job_id is not None:
        req.job_id = job_id
    return req


def matches(response: pb.RecommendJobsResponse | pb.RecommendSeekersResponse) -> list[Match]:
    out = []
    for m in response.matches:
        if isinstance(m, pb.JobMatch):
            out.append(Match(id=m.job_id, score=m.score, reasons=reasons_from_message(m.reasons)))
        else:
            out.append(Match(id=m.seeker_id, score=m.score, reasons=reasons_from_message(m.reasons),
                             priority_groups=tuple(m.priority_groups), policy_slot=m.policy_slot))
    return out


def write_result(msg: pb.WriteResponse) -> WriteResult:
    return WriteResult(written=msg.written, not_found=msg.not_found, sequence=msg.sequence, replayed=msg.replayed)
