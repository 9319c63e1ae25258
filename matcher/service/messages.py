"""Engine-side requests and results of the service, free of protobuf (matcher.service.convert maps them)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from matcher.schema import Reasons

__all__ = ["JobFilter", "SeekerFilter", "JobQuery", "SeekerQuery", "NearbyQuery", "NearbyMatch", "MarketQuery", "Match",
           "WriteResult", "ServingInfo"]

Record = dict[str, str]  # FORMAT.md column → cell text, as a CSV row holds it


@dataclass(frozen=True)
class JobFilter:
    cities: tuple[str, ...] = ()
    radius_km: float | None = None
    job_types: tuple[str, ...] = ()
    salary_floor: float | None = None
    exclude_applied: bool = False

    @property
    def active(self) -> bool:
        return bool(self.cities or self.radius_km is not None or self.job_types or self.salary_floor is not None
                    or self.exclude_applied)


@dataclass(frozen=True)
class SeekerFilter:
    cities: tuple[str, ...] = ()
    radius_km: float | None = None
    priority_groups: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.cities or self.radius_km is not None or self.priority_groups)


@dataclass(frozen=True)
class JobQuery:
    """Jobs for a registered seeker (seeker_id) or for an unregistered profile (one record)."""

    k: int
    seeker_id: str | None = None
    profile: Record | None = None
    filter: JobFilter = field(default_factory=JobFilter)
    deadline: float = math.inf   # time.monotonic() after which the engine stops working on the call


@dataclass(frozen=True)
class SeekerQuery:
    k: int
    job_id: str | None = None
    profile: Record | None = None
    filter: SeekerFilter = field(default_factory=SeekerFilter)
    deadline: float = math.inf   # time.monotonic() after which the engine stops working on the call


@dataclass(frozen=True)
class NearbyQuery:
    lat: float
    lon: float
    k: int
    radius_km: float = 5.0
    job_types: tuple[str, ...] = ("gig", "part_time")
    seeker_id: str | None = None
    deadline: float = math.inf   # time.monotonic() after which the engine stops working on the call


@dataclass(frozen=True)
class MarketQuery:
    by: tuple[str, ...] = ("city", "occupation")
    min_cell: int = 1
    totals: bool = False
    city: str = ""
    limit: int = 100


@dataclass(frozen=True)
class NearbyMatch:
    id: str
    distance_km: float
    score: float | None = None


@dataclass(frozen=True)
class Match:
    id: str
    score: float
    reasons: Reasons
    priority_groups: tuple[str, ...] = ()  # seeker matches: the seeker's priority groups
    policy_slot: bool = False              # seeker matches: added by the priority policy after the model's top k


@dataclass(frozen=True)
class WriteResult:
    written: int
    not_found: int
    sequence: int
    replayed: bool = False   # an idempotency key seen before: the first call's result, nothing applied again


@dataclass(frozen=True)
class ServingInfo:
    version: str
    feature_names: tuple[str, ...]
    created_at: str
    data_fingerprint: str
    n_trees: int
    loaded_at: str
    as_of: str
    n_seekers: int
    n_jobs: int
    n_open_jobs: int
    journal_sequence: int
    journal_quarantined: int = 0   # journal entries the last build could not replay and skipped (logged)
