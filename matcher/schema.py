"""The interchange format v1 (docs/FORMAT.md) as data: column kinds per file, event grades."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ColumnKind", "SEEKER_COLUMNS", "JOB_COLUMNS", "EVENT_COLUMNS", "REQUIRED", "EVENT_GRADES",
           "PROTECTED_COLUMNS", "JOB_TYPES", "protected_feature_names", "Reasons"]

ColumnKind = Literal["id", "str", "list", "float", "int", "time"]

SEEKER_COLUMNS: dict[str, ColumnKind] = {
    "seeker_id": "id", "text": "str", "skills": "list", "city": "str", "lat": "float", "lon": "float",
    "education": "str", "experience_years": "float", "expected_salary_min": "float",
    "expected_salary_max": "float", "desired_cities": "list", "desired_occupations": "list",
    "desired_industries": "list", "priority_groups": "list", "updated_at": "time",
}
JOB_COLUMNS: dict[str, ColumnKind] = {
    "job_id": "id", "employer_id": "str", "title": "str", "text": "str", "skills": "list",
    "occupation": "str", "industry": "str", "city": "str", "lat": "float", "lon": "float",
    "education_min": "str", "experience_min_years": "float", "salary_min": "float", "salary_max": "float",
    "headcount": "int", "job_type": "str", "posted_at": "time", "expires_at": "time",
}
EVENT_COLUMNS: dict[str, ColumnKind] = {
    "seeker_id": "id", "job_id": "id", "event": "str", "timestamp": "time", "value": "float",
}
REQUIRED = {"seekers.csv": ["seeker_id"], "jobs.csv": ["job_id"], "events.csv": ["seeker_id", "job_id", "event"]}

# FORMAT.md grades. Dwell time is kept in `value` but does not change the grade: on the one labelled set we
# have (US views) every event is a view, so a dwell-based refinement could not be validated.
EVENT_GRADES: dict[str, int] = {
    "exposed": 0, "rejected": 0, "pushed": 0, "viewed": 1, "applied": 2, "interviewed": 3, "hired": 4,
}

# Never model inputs: only the fairness audit may read them.
PROTECTED_COLUMNS = frozenset({
    "gender", "sex", "birth_year", "birth_date", "birthday", "age", "ethnicity", "nation", "religion",
    "marital_status", "childbearing_status", "pregnancy", "health", "disability", "hukou", "native_place",
    "photo", "photo_url",
})

# Name tokens that mark a feature as derived from a protected attribute ("seeker_age", "same_hukou"), matched per
# "_"-separated token so that skill_coverage or job_days_online are not mistaken for "age".
_PROTECTED_TOKENS = re.compile(
    r"^(gender|sex|age|birth\w*|ethnic\w*|nation|nationality|religio\w*|marital|marri\w*|child\w*|pregnan\w*|"
    r"health|disab\w*|hukou|native|photo\w*)$", re.IGNORECASE)


def protected_feature_names(names: Iterable[str]) -> list[str]:
    """The names among `names` that look derived from a protected attribute (FORMAT.md): never model inputs."""
    return [name for name in names if any(_PROTECTED_TOKENS.match(t) for t in re.split(r"[_\W]+", name))]


JOB_TYPES = frozenset({"full_time", "part_time", "gig", "internship", "public_welfare"})


@dataclass(frozen=True)
class Reasons:
    """Why a match was made, as every output carries it (batch files, gRPC, explain): plain values only, so that
    the gRPC client reads them without the engine's numeric stack."""

    matched_skills: tuple[str, ...]
    distance_km: float | None
    salary_fit: int      # matcher.engine.reasons.SALARY_* = matcher.v1.SalaryFit
    same_city: bool
    in_desired_city: bool
