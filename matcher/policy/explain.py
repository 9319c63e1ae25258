"""Explanations a counsellor can act on, per match and per seeker.

`matcher.engine.reasons` gives the two-second version of a match (shared skills, km, salary fit). A counsellor sitting
with a seeker needs more: which of the job's skills are missing, whether the offer is good *for that occupation
in that city* (not only against the seeker's hope), whether education and experience rule the seeker out, and
why the model put the job where it did (LightGBM's SHAP values, `pred_contrib`, which add up exactly to the raw
score the engine ranks with). `skill_gaps` turns the missing skills of a seeker's near matches into training
advice: the skills that most often stand between them and the jobs they almost fit.

Choices:
- Local median = `matcher.policy.market` salary_p50 of the job's (city, occupation) cell, keys normalised as there
  (gazetteer city key, NFKC case-folded occupation). A cell with fewer than `min_salaries` stated salaries falls
  back to the city's total row, then the national one (`labour_market(..., totals=True)`; a view without total
  rows just has fewer levels); `SalaryCheck.median_level` says which was used. The offer is the posting's
  midpoint (or its one stated bound), as in market.
- Education uses the ordinal scale of `features.parsing.EDUCATION_LEVELS`; a job's level 0 means 不限 (any).
  A job without a stated experience minimum asks for none (as `features.pairs` does).
- skill_gaps weighs a near job by the DCG discount of its rank, 1 / log2(rank + 2), normalised over the near
  jobs: scale-free (LambdaRank scores have no fixed scale, a softmax of them would depend on the tree count)
  and the weighting the model was trained to get right (NDCG). A weight of 1.0 = every near job asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.catalogue import Catalogue
from features.history import Snapshot
from features.parsing import EDUCATION_LEVELS
from matcher.data import Dataset
from matcher.engine.matching import MatchEngine, check_model
from matcher.engine.reasons import SALARY_ABOVE, SALARY_BELOW, SALARY_MEETS, _reason_arrays
from matcher.engine.scoring import score_pairs
from matcher.policy.market import KEYS, TOTAL, MarketView, labour_market, normalise_occupations, place_names
from models.registry import ModelBundle

__all__ = ["job_labels", "MatchExplanation", "SalaryCheck", "EducationCheck", "ExperienceCheck", "explain_pairs",
           "skill_gaps", "skill_gaps_many", "explanation_text", "MIN_SALARIES"]

MIN_SALARIES = 3  # fewer stated salaries than this: a cell's median is the posting itself, fall back a level
_FIT_WORDS = {SALARY_BELOW: "below", SALARY_MEETS: "meets", SALARY_ABOVE: "above"}
Source: TypeAlias = MatchEngine | tuple[Catalogue, Snapshot, Dataset | None]


@dataclass(frozen=True)
class SalaryCheck:
    offered_min: float | None      # CNY / month
    offered_max: float | None
    expected_min: float | None     # the seeker's expectation
    expected_max: float | None
    fit: str                       # offer vs expectation: "below" | "meets" | "above" | "unknown"
    local_median: float | None     # market salary_p50 at median_level
    median_level: str              # "city_occupation" | "city" | "national" (names of the view's keys) | "none"
    ratio_to_median: float | None  # offered midpoint / local_median


@dataclass(frozen=True)
class EducationCheck:
    required: int       # EDUCATION_LEVELS ordinal; 0 = 不限 (any)
    seeker: int | None  # None = unknown
    required_label: str
    seeker_label: str
    fit: str            # "meets" | "below" | "unknown" | "not required"


@dataclass(frozen=True)
class ExperienceCheck:
    required_years: float | None  # None = no minimum stated
    seeker_years: float | None
    fit: str                      # "meets" | "short" | "unknown" | "not required"
    short_by_years: float | None  # required - seeker when fit == "short"


@dataclass(frozen=True)
class MatchExplanation:
    seeker_idx: int
    job_idx: int
    score: float                         # the engine's ranking score (raw LambdaRank score)
    matched_skills: tuple[str, ...]      # vocabulary order
    missing_skills: tuple[str, ...]      # the job's skills the seeker lacks
    distance_km: float | None
    same_city: bool
    in_desired_city: bool
    salary: SalaryCheck
    education: EducationCheck
    experience: ExperienceCheck
    contributions: tuple[tuple[str, float], ...]  # (feature, SHAP value), largest |value| first
    bias: float                          # expected value: bias + all contributions = score


def _unpack(source: Source) -> tuple[Catalogue, Snapshot, Dataset | None]:
    if isinstance(source, MatchEngine):
        return source.catalogue, source.snapshot, source.data
    return source


def _rows(matrix: sp.csr_matrix, i: int, names: np.ndarray) -> tuple[str, ...]:
    return tuple(str(n) for n in names[matrix.indices[matrix.indptr[i]:matrix.indptr[i + 1]]])


def _opt(value: float, digits: int | None = None) -> float | None:
    return None if np.isnan(value) else float(value) if digits is None else round(float(value), digits)


def _job_occupations(data: Dataset | None, job_idx: np.ndarray) -> np.ndarray:
    """The dataset's occupation labels of these job rows; "" for rows it does not hold (live appends)."""
    out = np.full(len(job_idx), "", dtype=object)
    if data is not None:
        held = job_idx < len(data.jobs)
        out[held] = data.jobs["occupation"].to_numpy(dtype=object)[job_idx[held]]
    return out


def _medians(market: MarketView, cities: np.ndarray, occupations: np.ndarray, min_salaries: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the finest salary_p50 with >= min_salaries salaries and the name of its level ("none": no row)."""
    table = market.table[(market.table["n_salaries"] >= max(min_salaries, 1)) & market.table["salary_p50"].notna()]
    n = len(cities)
    keys = {"city": cities, "occupation": occupations}
    joined = pd.Index(_joined([table[k].astype(str).to_numpy(dtype=object) for k in market.by], len(table)))
    median = np.full(n, np.nan)
    level = np.full(n, "none", dtype=object)
    for kept in range(len(market.by), -1, -1):  # (city, occupation) → (city, *) → (*, *)
        parts = [keys[k] if i < kept else np.full(n, TOTAL, dtype=object) for i, k in enumerate(market.by)]
        known = np.logical_and.reduce([p != "" for p in parts]) if parts else np.ones(n, dtype=bool)
        at = joined.get_indexer(_joined(parts, n))
        hit = (at >= 0) & known & (level == "none")
        median[hit] = table["salary_p50"].to_numpy(dtype=np.float64)[at[hit]]
        level[hit] = "_".join(market.by[:kept]) or "national"
    return median, level


def _joined(columns: list[np.ndarray], n: int) -> pd.Index:
    """One string key per row from several key columns (no key columns: the one national row)."""
    if not columns:
        return pd.Index([""] * n, dtype=object)
    out = pd.Series(columns[0], dtype=object)
    for column in columns[1:]:
        out = out.str.cat(pd.Series(column, dtype=object), sep="\x1f")
    return pd.Index(out, dtype=object)


def _edu_label(level: float, *, job: bool) -> str:
    if np.isnan(level):
        return "未知 unknown"
    return "不限 any" if job and level <= 0 else EDUCATION_LEVELS.get(int(level), str(int(level)))


def explain_pairs(bundle: ModelBundle, source: Source, seeker_idx: np.ndarray, job_idx: np.ndarray, *,
                  market: MarketView | None = None, occupations: np.ndarray | None = None,
                  top_contributions: int | None = 5, min_salaries: int = MIN_SALARIES) -> list[MatchExplanation]:
    """One explanation per pair (seeker_idx[i], job_idx[i]), rows of the source's catalogue.

    source: a MatchEngine, or (catalogue, snapshot, dataset) — e.g. a LiveCatalogue's `view()` plus its data.
    market: a `labour_market(data, as_of=..., totals=True)` view, computed once by a server; None computes one
    from the dataset (slow on a national catalogue), or gives no medians without a dataset.
    occupations: the jobs' occupation labels, one per pair, for rows the dataset does not hold (live upserts);
    default: the dataset's `occupation` column. top_contributions: SHAP values kept per pair (None: all).
    """
    check_model(bundle)
    cat, snap, data = _unpack(source)
    si, ji = np.asarray(seeker_idx, dtype=np.int64), np.asarray(job_idx, dtype=np.int64)
    n = len(si)
    if n == 0:
        return []
    shared, names, distance, fit, same_city, desired = _reason_arrays(cat, si, ji)
    job_skills = cat.jobs.skills.rows(ji).tocsr()
    missing = (job_skills - job_skills.multiply(cat.seekers.skills.rows(si))).tocsr()
    missing.eliminate_zeros()
    missing.sort_indices()

    s, j = cat.seekers, cat.jobs
    offer_lo, offer_hi = j.salary_min[ji], j.salary_max[ji]
    offer = np.where(np.isnan(offer_lo), offer_hi, np.where(np.isnan(offer_hi), offer_lo, (offer_lo + offer_hi) / 2))
    offer = np.where(offer > 0, offer, np.nan)  # as matcher.policy.market: midpoint or the one bound; 0 (面议) is none
    median, level = np.full(n, np.nan), np.full(n, "none", dtype=object)
    if market is None and data is not None:
        market = labour_market(data, as_of=snap.as_of, by=KEYS, totals=True)
    if market is not None:
        city_keys = np.asarray(cat.vocabs.cities.keys + [""], dtype=object)[j.city[ji]]  # -1 → ""
        if occupations is None:
            occupations = _job_occupations(data, ji)
        occ = normalise_occupations(pd.Series(occupations, dtype=object)).fillna("").to_numpy(dtype=object)
        median, level = _medians(market, city_keys, occ, min_salaries)
    ratio = offer / median

    need_edu, have_edu = np.nan_to_num(j.education[ji], nan=0.0), s.education[si]
    # "not required" rather than "meets" where the job asks nothing: a seeker whose education is unknown does not
    # "meet" anything, and a counsellor reads the difference (issue 16).
    edu_fit = np.select([need_edu <= 0, np.isnan(have_edu), have_edu >= need_edu],
                        ["not required", "unknown", "meets"], default="below")
    need_exp, have_exp = j.experience[ji], s.experience[si]
    short = np.nan_to_num(need_exp, nan=0.0) - have_exp
    exp_fit = np.select([np.nan_to_num(need_exp, nan=0.0) <= 0, np.isnan(have_exp), short <= 0],
                        ["not required", "unknown", "meets"], default="short")

    scored = score_pairs(bundle, cat, snap, si, ji, contributions=True)
    scores, contrib = scored.scores, scored.contributions
    assert contrib is not None
    feature = np.asarray(scored.terms, dtype=object)
    n_terms = contrib.shape[1] - 1
    width = n_terms if top_contributions is None else max(0, min(top_contributions, n_terms))
    order = np.argsort(-np.abs(contrib[:, :-1]), axis=1, kind="stable")[:, :width]
    top_values = np.take_along_axis(contrib, order, axis=1)

    out = []
    for i in range(n):
        sal = SalaryCheck(offered_min=_opt(offer_lo[i]), offered_max=_opt(offer_hi[i]),
                          expected_min=_opt(s.salary_min[si[i]]), expected_max=_opt(s.salary_max[si[i]]),
                          fit=_FIT_WORDS.get(int(fit[i]), "unknown"), local_median=_opt(median[i]),
                          median_level=str(level[i]), ratio_to_median=_opt(ratio[i]))
        edu = EducationCheck(required=int(need_edu[i]), seeker=None if np.isnan(have_edu[i]) else int(have_edu[i]),
                             required_label=_edu_label(need_edu[i], job=True),
                             seeker_label=_edu_label(have_edu[i], job=False), fit=str(edu_fit[i]))
        exp = ExperienceCheck(required_years=_opt(need_exp[i], 2), seeker_years=_opt(have_exp[i], 2),
                              fit=str(exp_fit[i]), short_by_years=_opt(short[i], 2) if exp_fit[i] == "short" else None)
        out.append(MatchExplanation(
            seeker_idx=int(si[i]), job_idx=int(ji[i]), score=float(scores[i]),
            matched_skills=_rows(shared, i, names), missing_skills=_rows(missing, i, names),
            distance_km=None if np.isnan(distance[i]) else round(float(distance[i]), 2),
            same_city=bool(same_city[i]), in_desired_city=bool(desired[i]), salary=sal, education=edu,
            experience=exp, bias=float(contrib[i, -1]),
            contributions=tuple((str(f), float(v)) for f, v in zip(feature[order[i]], top_values[i], strict=True))))
    return out


def skill_gaps_many(engine: MatchEngine, seeker_idx: np.ndarray, *, near: int = 50, top: int = 10,
                    batch: int = 4096) -> pd.DataFrame:
    """Missing skills of many seekers' `near` best-ranked jobs, `top` per seeker, as a long frame:
    seeker_idx, rank (0 = best), skill, n_jobs (near jobs asking for it), weight (DCG-weighted share of the near
    jobs asking for it, module docstring). Ties: more jobs first, then vocabulary order."""
    seeker_idx = np.asarray(seeker_idx, dtype=np.int64)
    cat = engine.catalogue
    names = np.asarray(cat.vocabs.skills.keys, dtype=object)
    parts = []
    for start in range(0, len(seeker_idx), batch):
        block = seeker_idx[start:start + batch]
        jobs = engine.recommend(block, near).job_idx
        valid = jobs >= 0
        discount = np.where(valid, 1.0 / np.log2(np.arange(jobs.shape[1]) + 2.0), 0.0)
        discount /= np.maximum(discount.sum(axis=1, keepdims=True), 1e-300)
        query, _ = np.nonzero(valid)
        pair_s, pair_j = block[query], jobs[valid]
        job_skills = cat.jobs.skills.rows(pair_j).tocsr()
        missing = (job_skills - job_skills.multiply(cat.seekers.skills.rows(pair_s))).tocsr()
        missing.eliminate_zeros()
        missing.data[:] = 1.0
        to_query = sp.csr_matrix((discount[valid], (query, np.arange(len(query)))), shape=(len(block), len(query)))
        weight = (to_query @ missing).tocsr()
        count = (to_query.astype(bool).astype(np.float64) @ missing).tocsr()
        weight.sort_indices()
        count.sort_indices()  # same pattern as weight: every valid job's discount is > 0
        row = np.repeat(np.arange(len(block)), np.diff(weight.indptr))
        order = np.lexsort((weight.indices, -count.data, -weight.data, row))
        row, col, w, c = row[order], weight.indices[order], weight.data[order], count.data[order]
        first = np.searchsorted(row, row)  # rows are sorted: index of each row's first entry
        rank = np.arange(len(row)) - first
        keep = rank < top
        parts.append(pd.DataFrame({"seeker_idx": block[row[keep]], "rank": rank[keep],
                                   "skill": names[col[keep]], "n_jobs": c[keep].astype(np.int64),
                                   "weight": w[keep]}))
    if not parts:
        return pd.DataFrame({"seeker_idx": np.zeros(0, np.int64), "rank": np.zeros(0, np.int64),
                             "skill": np.zeros(0, object), "n_jobs": np.zeros(0, np.int64),
                             "weight": np.zeros(0)})
    return pd.concat(parts, ignore_index=True)


def skill_gaps(engine: MatchEngine, seeker_idx: int, *, near: int = 50, top: int = 10
               ) -> list[tuple[str, int, float]]:
    """(skill, n_jobs, weight) for one seeker, best first: the input for a training recommendation."""
    frame = skill_gaps_many(engine, np.array([seeker_idx]), near=near, top=top)
    return [(str(s), int(c), float(w)) for s, c, w in zip(frame["skill"], frame["n_jobs"], frame["weight"],
                                                          strict=True)]


def explanation_text(e: MatchExplanation) -> str:
    """A few lines for a counsellor, Chinese then English."""
    sal = e.salary
    lines = [f"技能匹配 matched: {'、'.join(e.matched_skills) or '-'}",
             f"缺少技能 missing: {'、'.join(e.missing_skills) or '-'}",
             f"距离 distance: {'-' if e.distance_km is None else f'{e.distance_km:.1f} km'}",
             f"薪资 salary: {sal.fit} vs expectation"
             + (f", {sal.ratio_to_median:.2f}× {sal.median_level} median {sal.local_median:.0f}"
                if sal.ratio_to_median is not None and sal.local_median is not None else ""),
             f"学历 education: {e.education.fit} ({e.education.seeker_label} / 要求 {e.education.required_label})",
             f"经验 experience: {e.experience.fit}"
             + (f", 差 short by {e.experience.short_by_years:g} 年 years" if e.experience.short_by_years else ""),
             "模型 model: " + ", ".join(f"{f} {v:+.3f}" for f, v in e.contributions) + f" (bias {e.bias:+.3f})"]
    return "\n".join(lines)


def job_labels(jobs: pd.DataFrame) -> np.ndarray:
    """'title · employer · city (job id)' per job row, for a counsellor's reading."""
    employer = jobs["employer_name"] if "employer_name" in jobs else jobs["employer_id"]
    parts = [jobs["title"].fillna(""), employer.fillna(""), place_names(jobs["city"].fillna(""))]
    label = parts[0].astype(str)
    for part in parts[1:]:
        label = label.str.cat(part.astype(str), sep=" · ")
    return (label.str.replace(r"( · )+$", "", regex=True) + " (job " + jobs["job_id"].astype(str) + ")").to_numpy()
