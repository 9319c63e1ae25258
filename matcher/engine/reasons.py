"""Short, checkable reasons for a match: shared skills, distance, salary against expectation, place.

Computed for the final k pairs of a response only, with array operations over those pairs.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from features.catalogue import Catalogue
from features.geo import haversine_km
from matcher.schema import Reasons

__all__ = ["Reasons", "explain", "reasons_text", "reasons_from_text", "SALARY_UNKNOWN", "SALARY_BELOW", "SALARY_MEETS",
           "SALARY_ABOVE"]

SALARY_UNKNOWN, SALARY_BELOW, SALARY_MEETS, SALARY_ABOVE = 0, 1, 2, 3  # = matcher.v1.SalaryFit


def _reason_arrays(cat: Catalogue, seeker_idx: np.ndarray, job_idx: np.ndarray
                   ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shared skills (CSR, one row per pair), skill names, distance km, salary fit, same city, desired city."""
    s, j = cat.seekers, cat.jobs
    shared = s.skills.rows(seeker_idx).multiply(j.skills.rows(job_idx)).tocsr()
    shared.sort_indices()
    names = np.asarray(cat.vocabs.skills.keys, dtype=object)
    distance = haversine_km(s.lat[seeker_idx], s.lon[seeker_idx], j.lat[job_idx], j.lon[job_idx])
    want_lo, want_hi = s.salary_min[seeker_idx], s.salary_max[seeker_idx]
    want_hi = np.where(np.isnan(want_hi), want_lo, want_hi)
    offer_lo, offer_hi = j.salary_min[job_idx], j.salary_max[job_idx]
    offer_hi = np.where(np.isnan(offer_hi), offer_lo, offer_hi)
    offer_lo = np.where(np.isnan(offer_lo), offer_hi, offer_lo)
    known = ~np.isnan(want_lo) & ~np.isnan(offer_hi)
    fit = np.select([~known, offer_hi < want_lo, offer_lo > want_hi], [SALARY_UNKNOWN, SALARY_BELOW, SALARY_ABOVE],
                    default=SALARY_MEETS)
    city = j.city[job_idx]
    same_city = (s.city[seeker_idx] == city) & (city >= 0)
    desired = ((cat.desired_city[seeker_idx] == city[:, None]).any(axis=1)) & (city >= 0)
    return shared, names, distance, fit, same_city, desired


def explain(cat: Catalogue, seeker_idx: np.ndarray, job_idx: np.ndarray) -> list[Reasons]:
    """Reasons for the pairs (seeker_idx[i], job_idx[i])."""
    shared, names, distance, fit, same_city, desired = _reason_arrays(cat, seeker_idx, job_idx)
    out = []
    for i in range(len(seeker_idx)):
        row = shared.indices[shared.indptr[i]:shared.indptr[i + 1]]
        out.append(Reasons(matched_skills=tuple(str(n) for n in names[row]),
                           distance_km=None if np.isnan(distance[i]) else round(float(distance[i]), 2),
                           salary_fit=int(fit[i]), same_city=bool(same_city[i]),
                           in_desired_city=bool(desired[i])))
    return out


_SALARY_WORDS = np.array(["", "salary=below", "salary=meets", "salary=above"], dtype=object)


def reasons_text(cat: Catalogue, seeker_idx: np.ndarray, job_idx: np.ndarray) -> pa.Array:
    """The same reasons as one short string per pair, for files: built with Arrow string kernels (a nightly run
    writes tens of millions), e.g. `skills=电工证|焊接;km=3.2;salary=meets;same_city`."""
    shared, names, distance, fit, same_city, desired = _reason_arrays(cat, seeker_idx, job_idx)
    skill_lists = pa.ListArray.from_arrays(pa.array(shared.indptr.astype(np.int32)),
                                           pa.array(names[shared.indices], type=pa.string()))
    skills = pc.binary_join(skill_lists, "|")
    has_skills = np.diff(shared.indptr) > 0
    km = pc.cast(pa.array(np.round(distance, 1)), pa.string())
    parts = [
        pc.if_else(pa.array(has_skills), pc.binary_join_element_wise("skills=", skills, ""), pa.scalar("")),
        pc.if_else(pa.array(~np.isnan(distance)), pc.binary_join_element_wise("km=", pc.fill_null(km, ""), ""),
                   pa.scalar("")),
        pa.array(_SALARY_WORDS[fit], type=pa.string()),
        pa.array(np.where(same_city, "same_city", np.where(desired, "desired_city", "")), type=pa.string()),
    ]
    joined = pc.binary_join_element_wise(*parts, ";")
    # Drop the separators that unknown parts left behind.
    return pc.replace_substring_regex(pc.replace_substring_regex(joined, ";{2,}", ";"), "^;|;$", "")


_SALARY_FIT = {word: fit for fit, word in enumerate(_SALARY_WORDS) if word}  # "salary=meets" -> SALARY_MEETS


def reasons_from_text(text: str) -> Reasons:
    """A `reasons_text` cell of matches.csv back as `Reasons` (the demo's table reads the push this way); policy
    notes after the reasons are left out."""
    parts = [p.strip() for p in str(text).split(";")]
    skills = next((p[len("skills="):].split("|") for p in parts if p.startswith("skills=")), [])
    km = next((float(p[len("km="):]) for p in parts if p.startswith("km=") and p != "km="), None)
    fit = next((_SALARY_FIT[p] for p in parts if p in _SALARY_FIT), SALARY_UNKNOWN)
    return Reasons(matched_skills=tuple(skills), distance_km=km, salary_fit=fit,
                   same_city="same_city" in parts, in_desired_city="desired_city" in parts)
