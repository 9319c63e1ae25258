"""Jobs: the jobs frame (employers, places, requirements, pay, dates, title and ad text) and its latent arrays.

Every column is drawn for all rows at once. The helpers below are called in a fixed order because they share one
random stream: reordering them (or the draws inside them) changes every frame a seed produces.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from .families import _GENERIC_SKILLS, _INDUSTRIES, _JOB_TYPES, _N_RANKS, EDUCATION_LABELS, _t
from .geography import _TIER_MIN_WAGE, _TIER_SALARY, _Geo, _locations
from .occupations import FAMILIES
from .vectorized import _cat, _categorical, _ids, _num, _round_to, _take, _timestamps, _when
from .vocabulary import _CN_NUM, _draw_skills, _duties, _join_skills, _skill_masks, _skill_phrase, _Vocab

_REQ_TRAITS = _t("责任心强 能吃苦耐劳 服从安排 有良好的沟通能力 身体健康 工作细致认真 有团队合作精神")
_BENEFITS = _t("五险一金 五险一金，包吃住 缴纳社保，月休四天 五险一金，双休，带薪年假 提供住宿，加班有补贴 "
               "五险，节日福利 包工作餐，年终奖 缴纳社保，提供工作餐")
_TITLE_PREFIX = pa.array(["", "急招", "诚聘", "高薪诚聘"], pa.string())
_TITLE_SUFFIX = pa.array(["", "（包吃住）", "（五险一金）", "（双休）", "（兼职）", "（实习）"], pa.string())
_TYPE_NOTE = pa.array(["", "兼职岗位，每天工作4小时左右。", "灵活用工，按单计酬，时间自由。", "实习岗位，"
    "表现优秀可转正。",
                       "公益性岗位，优先安置就业困难人员。"], pa.string())
_EXP_MIN_PROBS = np.array([                 # P(0, 1, 2, 3, 5, 8 years) by the occupation's education rank
    [0.5, 0.3, 0.12, 0.06, 0.02, 0.0],
    [0.35, 0.3, 0.18, 0.1, 0.06, 0.01],
    [0.3, 0.25, 0.2, 0.13, 0.09, 0.03],
    [0.2, 0.2, 0.25, 0.17, 0.13, 0.05],
])
_EXP_REQ = pa.array(["经验不限，", *(f"{_CN_NUM[k]}年以上相关工作经验，" for k in range(1, 11))], pa.string())


class _Placement(NamedTuple):
    """Who posts each ad, where, for which occupation, of which type and in which industry (one row per ad)."""

    n_emp: int
    employer: np.ndarray
    family: np.ndarray
    county: np.ndarray
    occ: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    city_code: np.ndarray
    job_type: np.ndarray
    industry: np.ndarray


def _jobs(rng: np.random.Generator, m: int, start_s: int, days: int, geo: _Geo,
          voc: _Vocab) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The jobs frame and its latent arrays. Employers tie ads together (same place, mostly the same family),
    as on a real board where a factory posts several vacancies."""
    at = _placement(rng, m, geo, voc)
    family, county, occ, job_type = at.family, at.county, at.occ, at.job_type
    rank, label, exp_min = _requirements(rng, m, voc, occ, job_type)
    sal_min, sal_max, salary_known = _pay(rng, m, geo, voc, occ, county, exp_min, job_type)
    headcount = np.minimum(20, rng.geometric(voc.headcount_p[family]))
    posted = start_s + (rng.integers(0, days * 86400 // 60, m) * 60)
    expires = posted + rng.integers(30, 91, m) * 86400
    skill_ids = _job_skills(rng, m, voc, family, occ)
    title = _title(rng, m, voc, occ, job_type)
    text = _ad_text(rng, m, geo, voc, family, occ, county, job_type, rank, label, exp_min, salary_known, sal_min,
                    sal_max, skill_ids)

    edu_label = pa.array(EDUCATION_LABELS, pa.string())
    frame = pd.DataFrame({
        "job_id": _ids("J", m).to_pandas(),
        "employer_id": _take(_ids("E", at.n_emp), at.employer).to_pandas(),
        "title": title.to_pandas(),
        "text": text.to_pandas(),
        "skills": _join_skills(voc, skill_ids).to_pandas(),
        "occupation": _take(voc.occupation_names, occ).to_pandas(),
        "industry": _take(pa.array(_INDUSTRIES, pa.string()), at.industry).to_pandas(),
        "city": _num(at.city_code).to_pandas(),
        "lat": at.lat,
        "lon": at.lon,
        "education_min": _when(rank >= 0, _take(edu_label, label)).to_pandas(),
        "experience_min_years": exp_min.astype(np.float64),
        "salary_min": np.where(salary_known, sal_min, np.nan),
        "salary_max": np.where(salary_known, sal_max, np.nan),
        "headcount": headcount.astype(np.int64),
        "job_type": _take(pa.array(_JOB_TYPES, pa.string()), job_type).to_pandas(),
        "posted_at": _timestamps(posted),
        "expires_at": _timestamps(expires),
    })
    truth = {
        "family": family.astype(np.int16), "occupation": occ.astype(np.int16), "lat": at.lat, "lon": at.lon,
        "education": rank.astype(np.int8), "experience": exp_min.astype(np.float32),
        "salary_max": np.where(salary_known, sal_max, np.nan).astype(np.float32),
        "skills": _skill_masks(skill_ids, voc.words),
        "n_skills": (skill_ids >= 0).sum(axis=1).astype(np.int16), "posted": posted.astype(np.int64),
        "expires": expires.astype(np.int64), "city": geo.city[county], "province": geo.province[county],
    }
    return frame, truth


def _placement(rng: np.random.Generator, m: int, geo: _Geo, voc: _Vocab) -> _Placement:
    """Employers first, then each ad: mostly its employer's family and county, else drawn on its own."""
    n_families = len(FAMILIES)
    # Employers: a few post many ads (Zipf-like), each with a home county, a main family and an industry.
    n_emp = max(1, m // 5)
    emp_family = rng.choice(n_families, size=n_emp, p=voc.job_p)
    emp_county = rng.choice(len(geo.code), size=n_emp, p=geo.job_p)
    emp_industry = _categorical(rng, voc.industry_probs, emp_family)
    emp_weight = rng.permutation(1.0 / (np.arange(n_emp) + 5.0) ** 1.1)
    employer = rng.choice(n_emp, size=m, p=emp_weight / emp_weight.sum())
    family = np.where(rng.random(m) < 0.6, emp_family[employer], rng.choice(n_families, size=m, p=voc.job_p))
    county = np.where(rng.random(m) < 0.75, emp_county[employer],
                      rng.choice(len(geo.code), size=m, p=geo.job_p))
    occ = voc.family_occ.offsets[family] + voc.family_occ.pick(rng, family)
    lat, lon = _locations(rng, geo, county, km=3.0)
    city_code = np.where(rng.random(m) < 0.85, geo.code[county], geo.city_level[county])
    job_type = _categorical(rng, voc.job_type_probs, family)
    own_industry = _categorical(rng, voc.industry_probs, family)
    industry = np.where(voc.any_industry[family] | (family == emp_family[employer]), emp_industry[employer],
                        own_industry)
    return _Placement(n_emp, employer, family, county, occ, lat, lon, city_code, job_type, industry)


def _requirements(rng: np.random.Generator, m: int, voc: _Vocab, occ: np.ndarray,
                  job_type: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rank, label, exp_min): the minimum education rank (-1 = 不限), its label index into EDUCATION_LABELS,
    and the minimum years of experience."""
    shift = rng.choice(np.array([-1, 0, 1]), size=m, p=[0.3, 0.6, 0.1])
    rank = np.clip(voc.occ_edu[occ] + shift, 0, _N_RANKS - 1)
    # 学历不限: 12% of ads, and most public-welfare posts (they are meant for people with few credentials).
    rank = np.where((rng.random(m) < 0.12) | ((job_type == 4) & (rng.random(m) < 0.7)), -1, rank)
    label = np.array([0, 1, 3, 4, 5])[np.maximum(rank, 0)]
    label = np.where((rank == 1) & (rng.random(m) < 0.4), 2, label)
    # Required years: low for elementary occupations, higher for graduate ones; none for gig, intern, welfare.
    seniority = np.clip(voc.occ_edu[occ], 0, 3)
    exp_min = np.array([0, 1, 2, 3, 5, 8])[_categorical(rng, _EXP_MIN_PROBS, seniority)]
    exp_min = np.where(np.isin(job_type, [2, 3, 4]), 0, exp_min)
    return rank, label, exp_min


def _pay(rng: np.random.Generator, m: int, geo: _Geo, voc: _Vocab, occ: np.ndarray, county: np.ndarray,
         exp_min: np.ndarray, job_type: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(minimum, maximum, known): the monthly pay range and whether the ad states it (else 面议)."""
    base = voc.occ_salary[occ] * _TIER_SALARY[geo.tier[county]] * rng.lognormal(0.0, 0.12, m)
    base = base * (1 + 0.05 * exp_min) * np.array([1.0, 0.5, 0.9, 0.55, 1.0])[job_type]
    base = np.where(job_type == 4, _TIER_MIN_WAGE[geo.tier[county]] * rng.uniform(1.0, 1.3, m), base)
    sal_min = _round_to(base, 100.0)
    sal_max = np.maximum(_round_to(sal_min * rng.uniform(1.15, 1.8, m), 500.0), sal_min + 500.0)
    sal_max = np.where(job_type == 4, sal_min + 300.0, sal_max)
    salary_known = rng.random(m) >= 0.03
    return sal_min, sal_max, salary_known


def _job_skills(rng: np.random.Generator, m: int, voc: _Vocab, family: np.ndarray, occ: np.ndarray) -> np.ndarray:
    """(m, 7) global skill ids, -1 = none: 3-6 of the family's and sometimes one generic skill."""
    n_skills = np.minimum(rng.integers(3, 7, m), voc.family_skill_n[family])
    fam_ids = _draw_skills(rng, voc, family, occ, n_skills, 6)
    generic = np.where(rng.random(m) < 0.1, len(voc.skills) - len(_GENERIC_SKILLS)
                       + rng.integers(0, len(_GENERIC_SKILLS), m), -1)
    generic = np.where(np.any(fam_ids == generic[:, None], axis=1), -1, generic)
    return np.column_stack([fam_ids, generic])


def _title(rng: np.random.Generator, m: int, voc: _Vocab, occ: np.ndarray, job_type: np.ndarray) -> pa.Array:
    """How the ad calls the post: one of the occupation's titles, sometimes with a 急招-style prefix or a suffix
    (part-time and internship ads always say so)."""
    prefix = rng.choice(4, size=m, p=[0.85, 0.07, 0.05, 0.03])
    suffix = rng.choice(4, size=m, p=[0.88, 0.05, 0.04, 0.03])
    suffix = np.where(job_type == 1, 4, np.where(job_type == 3, 5, suffix))
    return _cat(_take(_TITLE_PREFIX, prefix), voc.titles.take(occ, voc.titles.pick(rng, occ)),
                _take(_TITLE_SUFFIX, suffix))


def _ad_text(rng: np.random.Generator, m: int, geo: _Geo, voc: _Vocab, family: np.ndarray, occ: np.ndarray,
             county: np.ndarray, job_type: np.ndarray, rank: np.ndarray, label: np.ndarray, exp_min: np.ndarray,
             salary_known: np.ndarray, sal_min: np.ndarray, sal_max: np.ndarray, skill_ids: np.ndarray) -> pa.Array:
    """The ad text: duties, requirements, pay and benefits, workplace and a note for non-full-time posts."""
    duty1, duty2 = _duties(rng, voc, family, occ)
    edu_label = pa.array(EDUCATION_LABELS, pa.string())
    edu_req = _when(rank >= 0, _cat(_take(edu_label, label), "及以上学历，"), "学历不限，")
    pay = _when(salary_known, _cat(_num(sal_min), "-", _num(sal_max), "元/月"), "面议")
    return _cat(
        "岗位职责：1.负责", voc.duties.take(family, duty1), "；2.负责", voc.duties.take(family, duty2),
        "；3.完成上级交办的其他工作。任职要求：", edu_req, _take(_EXP_REQ, np.minimum(exp_min, 10)),
        _skill_phrase(rng, voc, skill_ids[:, :4], 3, "者优先"), "，",
        _take(pa.array(_REQ_TRAITS, pa.string()), rng.integers(0, len(_REQ_TRAITS), m)),
        "。薪资待遇：", pay, "，",
        _take(pa.array(_BENEFITS, pa.string()), rng.integers(0, len(_BENEFITS), m)), "。工作地点：",
        _take(geo.place, county), "。", _take(_TYPE_NOTE, job_type))
