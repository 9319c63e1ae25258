"""Seekers: the seekers frame (profile columns, resume text, protected attributes) and its latent arrays.

Every column is drawn for all rows at once. The helpers below are called in a fixed order because they share one
random stream: reordering them (or the draws inside them) changes every frame a seed produces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .families import _EDU_END_AGE, _GENERIC_SKILLS, _INDUSTRIES, _N_RANKS, EDUCATION_LABELS, _t
from .geography import _MIGRANT_SOURCES, _TIER1, _TIER_SALARY, _Geo, _locations
from .occupations import FAMILIES, OCCUPATIONS
from .vectorized import _cat, _categorical, _ids, _normalised, _num, _round_to, _take, _timestamps, _when
from .vocabulary import _CN_NUM, _draw_skills, _duties, _join_skills, _skill_masks, _skill_phrase, _Vocab

_TRAITS = _t("工作认真负责 吃苦耐劳，服从安排 沟通能力强，有团队合作精神 学习能力强，能适应加班 "
             "身体健康，能适应倒班 性格开朗，善于与人沟通 责任心强，做事细致 踏实肯干，执行力强")


def _years_phrase(experience: np.ndarray) -> np.ndarray:
    """Index into _YEARS: 0 = no experience, 1..10 = that many years, 11 = more than ten."""
    return np.minimum(np.floor(experience).astype(np.int64), 11)


_YEARS = pa.array(["有志于从事", *(f"{_CN_NUM[k]}年" for k in range(1, 11)), "十年以上"], pa.string())
_YEARS_TAIL = pa.array(["，暂无正式工作经验，", *("经验，" for _ in range(11))], pa.string())
_SCHOOLS = pa.array(["", "", "某职业学校", "某职业技术学院", "某大学", "某大学研究生院"], pa.string())


def _seekers(rng: np.random.Generator, n: int, start_s: int, geo: _Geo, voc: _Vocab,
             start_year: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The seekers frame and its latent arrays. Every column is drawn for all rows at once; the resume text
    is assembled from pre-rendered fragments by index, which is what keeps 10^6 rows at a few seconds."""
    family = rng.choice(len(FAMILIES), size=n, p=voc.seeker_p).astype(np.int64)
    occ_local = voc.family_occ.pick(rng, family)
    occ = voc.family_occ.offsets[family] + occ_local
    county = rng.choice(len(geo.code), size=n, p=geo.seeker_p)
    lat, lon = _locations(rng, geo, county, km=4.0)
    city_code = np.where(rng.random(n) < 0.8, geo.code[county], geo.city_level[county])
    rank, label, age, graduate, experience = _education_and_experience(rng, n, voc, occ)
    sal_min, sal_max, salary_known = _expected_salary(rng, n, geo, voc, occ, county, experience)
    skill_ids = _seeker_skills(rng, n, voc, family, occ)
    desired_occ, desired_cities, desired_industries = _desires(rng, n, geo, voc, family, occ, occ_local, county)
    female, hukou, marital = _protected(rng, n, geo, voc, family, county, age)
    priority = _priority_groups(rng, n, geo, county, female, age, rank, graduate, hukou)
    text = _resume_text(rng, n, geo, voc, family, occ, county, experience, skill_ids, label, salary_known,
                        sal_min)

    edu_known = rng.random(n) >= 0.03
    updated = start_s - rng.integers(0, 90 * 86400, n)
    frame = pd.DataFrame({
        "seeker_id": _ids("S", n).to_pandas(),
        "text": text.to_pandas(),
        "skills": _join_skills(voc, skill_ids).to_pandas(),
        "city": _num(city_code).to_pandas(),
        "lat": lat,
        "lon": lon,
        "education": _when(edu_known, _take(pa.array(EDUCATION_LABELS, pa.string()), label)).to_pandas(),
        "experience_years": experience.astype(np.float64),
        "expected_salary_min": np.where(salary_known, sal_min, np.nan),
        "expected_salary_max": np.where(salary_known, sal_max, np.nan),
        "desired_cities": desired_cities.to_pandas(),
        "desired_occupations": desired_occ.to_pandas(),
        "desired_industries": desired_industries.to_pandas(),
        "priority_groups": priority.to_pandas(),
        "updated_at": _timestamps(updated),
        "gender": _when(female, "F", "M").to_pandas(),
        "birth_year": (start_year - age).astype(np.int64),
        "hukou": _take(geo.province_names, hukou).to_pandas(),
        "marital_status": _take(pa.array(["未婚", "已婚", "离异"], pa.string()), marital).to_pandas(),
    })
    truth = {
        "family": family.astype(np.int16), "occupation": occ.astype(np.int16), "lat": lat, "lon": lon,
        "education": rank.astype(np.int8), "experience": experience.astype(np.float32),
        "salary_min": sal_min.astype(np.float32), "skills": _skill_masks(skill_ids, voc.words),
        "city": geo.city[county], "province": geo.province[county],
    }
    return frame, truth


def _education_and_experience(rng: np.random.Generator, n: int, voc: _Vocab, occ: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rank, label, age, graduate, experience): the education rank and its label index into EDUCATION_LABELS,
    age, whether the seeker is a fresh 高校毕业生, and whole years of experience."""
    # Education around the occupation's typical level; experience from age.
    shift = rng.choice(np.array([-1, 0, 1, 2]), size=n, p=[0.2, 0.55, 0.2, 0.05])
    rank = np.clip(voc.occ_edu[occ] + shift, 0, _N_RANKS - 1)
    label = np.array([0, 1, 3, 4, 5])[rank]
    label = np.where((rank == 1) & (rng.random(n) < 0.5), 2, label)   # 高中 or 中专
    age = (18 + np.floor(42 * rng.beta(2.0, 3.5, n))).astype(np.int64)
    age = np.maximum(age, _EDU_END_AGE[rank])
    graduate = (rank >= 2) & (rng.random(n) < 0.11)        # 高校毕业生: ~5% of all seekers
    age = np.where(graduate, _EDU_END_AGE[rank] + (rng.random(n) < 0.5), age)
    experience = np.floor((age - _EDU_END_AGE[rank]) * rng.uniform(0.5, 1.0, n))
    experience = np.where(graduate, 0.0, experience)
    return rank, label, age, graduate, experience


def _expected_salary(rng: np.random.Generator, n: int, geo: _Geo, voc: _Vocab, occ: np.ndarray,
                     county: np.ndarray, experience: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(minimum, maximum, known): the latent monthly expectation, and whether the seeker states it at all."""
    # Expectation: occupation pay x city tier x experience x individual taste.
    base = voc.occ_salary[occ] * _TIER_SALARY[geo.tier[county]] * (1 + 0.03 * np.minimum(experience, 10))
    sal_min = _round_to(base * rng.lognormal(0.0, 0.15, n), 500.0)
    sal_max = _round_to(sal_min * rng.choice(np.array([1.2, 1.25, 1.5, 1.6, 2.0]), size=n), 500.0)
    sal_max = np.maximum(sal_max, sal_min)
    salary_known = rng.random(n) >= 0.06
    return sal_min, sal_max, salary_known


def _seeker_skills(rng: np.random.Generator, n: int, voc: _Vocab, family: np.ndarray,
                   occ: np.ndarray) -> np.ndarray:
    """(n, 9) global skill ids, -1 = none: up to 7 of the family's, one random skill from anywhere (noise) and
    one generic skill (licence, language, Office), never repeating a skill."""
    skill_k = rng.integers(2, 8, n)
    fam_ids = _draw_skills(rng, voc, family, occ, np.minimum(skill_k, voc.family_skill_n[family]), 7)
    noise = np.where(rng.random(n) < 0.25, rng.integers(0, len(voc.skills), n), -1)
    generic = np.where(rng.random(n) < 0.3, len(voc.skills) - len(_GENERIC_SKILLS)
                       + rng.integers(0, len(_GENERIC_SKILLS), n), -1)
    generic = np.where((generic == noise) | np.any(fam_ids == generic[:, None], axis=1), -1, generic)
    noise = np.where(np.any(fam_ids == noise[:, None], axis=1), -1, noise)
    return np.column_stack([fam_ids, noise, generic])


def _desires(rng: np.random.Generator, n: int, geo: _Geo, voc: _Vocab, family: np.ndarray, occ: np.ndarray,
             occ_local: np.ndarray, county: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The desired_occupations, desired_cities and desired_industries columns ('|'-joined, '' = none)."""
    # Desires: own occupation, often another of the family, sometimes one elsewhere.
    occ2 = voc.family_occ.offsets[family] + voc.family_occ.other(rng, family, occ_local)
    other_fam = (family + 1 + rng.integers(0, len(FAMILIES) - 1, n)) % len(FAMILIES)
    occ3 = voc.family_occ.offsets[other_fam] + voc.family_occ.pick(rng, other_fam)
    none_occ = len(OCCUPATIONS)
    desired_occ = _cat(_take(voc.occupation_names, occ),
                       _take(voc.occupation_pipe, np.where(rng.random(n) < 0.5, occ2, none_occ)),
                       _take(voc.occupation_pipe, np.where(rng.random(n) < 0.15, occ3, none_occ)))
    second_city = geo.capital_city_level[geo.province[county]]
    tier1 = np.array(_TIER1, dtype=np.int64) * 100
    pick1 = rng.integers(0, len(tier1), n)
    second_city = np.where(second_city == geo.city_level[county], tier1[pick1], second_city)
    second_city = np.where(second_city == geo.city_level[county], tier1[(pick1 + 1) % len(tier1)],
                           second_city)
    wants_second = rng.random(n) < 0.25
    desired_cities = _cat(_num(geo.city_level[county]), _when(wants_second, _cat("|", _num(second_city))))
    industry = _categorical(rng, voc.industry_probs, family)
    desired_industries = _when(rng.random(n) < 0.4, _take(pa.array(_INDUSTRIES, pa.string()), industry))
    return desired_occ, desired_cities, desired_industries


def _protected(rng: np.random.Generator, n: int, geo: _Geo, voc: _Vocab, family: np.ndarray, county: np.ndarray,
               age: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(female, hukou, marital): gender, the province index of the household registration (mostly the home
    province, else a typical migrant source) and marital status 0 未婚 1 已婚 2 离异. For fairness audits only."""
    # Protected attributes (audits only) and priority groups.
    female = rng.random(n) < voc.female[family]
    home_province = geo.province[county]
    migrant_names = list(_MIGRANT_SOURCES)
    province_list = geo.province_names.to_pylist()
    source_idx = np.array([province_list.index(p) for p in migrant_names], dtype=np.int64)
    source = source_idx[rng.choice(len(source_idx), size=n, p=_normalised(list(_MIGRANT_SOURCES.values())))]
    source = np.where(rng.random(n) < 0.3, rng.integers(0, len(province_list), n), source)
    hukou = np.where(rng.random(n) < 0.72, home_province, source)
    marital_u = rng.random(n)
    married_p = np.where(age < 25, 0.1, np.where(age < 35, 0.55, 0.85))
    marital = np.where(marital_u < married_p, 1, np.where(marital_u < married_p + 0.06 * (age >= 30), 2, 0))
    return female, hukou, marital


def _priority_groups(rng: np.random.Generator, n: int, geo: _Geo, county: np.ndarray, female: np.ndarray,
                     age: np.ndarray, rank: np.ndarray, graduate: np.ndarray, hukou: np.ndarray) -> pa.Array:
    """The priority_groups column: the '|'-joined groups (就业困难人员 and the like) each seeker belongs to."""
    home_province = geo.province[county]
    groups = {
        "long_term_unemployed": (rng.random(n) < 0.03) & ~graduate,
        "disabled": rng.random(n) < 0.01,
        "zero_employment_household": rng.random(n) < 0.01,
        "graduate": graduate,
        "veteran": (rng.random(n) < 0.018) & ~female & (age >= 22),
        "rural_migrant": (hukou != home_province) & (rank <= 1) & (rng.random(n) < 0.25),
    }
    priority = _cat(*(_when(flag, "|" + name) for name, flag in groups.items()))
    return pc.utf8_ltrim(priority, characters="|")


def _resume_text(rng: np.random.Generator, n: int, geo: _Geo, voc: _Vocab, family: np.ndarray, occ: np.ndarray,
                 county: np.ndarray, experience: np.ndarray, skill_ids: np.ndarray, label: np.ndarray,
                 salary_known: np.ndarray, sal_min: np.ndarray) -> pa.Array:
    """The free-text resume: experience, skills, work history, education, a trait and (sometimes) the wish."""
    # Resume text from pre-rendered fragments.
    years = _years_phrase(experience)
    duty1, duty2 = _duties(rng, voc, family, occ)
    skill_text = _skill_phrase(rng, voc, skill_ids[:, :3], 2, "")
    has_work = experience > 0
    history = _when(
        has_work,
        _cat("曾在", _take(geo.city_short, county), "某",
             voc.companies.take(family, voc.companies.pick(rng, family)),
             "负责", voc.duties.take(family, duty1), "和", voc.duties.take(family, duty2), "。"),
        _cat("在校期间参加过", voc.duties.take(family, duty1), "相关实习。"))
    edu_text = _take(pa.array([f"{x}学历，" for x in EDUCATION_LABELS], pa.string()), label)
    major = _when(label >= 2, _cat("所学专业为", voc.majors.take(family, voc.majors.pick(rng, family)), "，"))
    trait = _take(pa.array(_TRAITS, pa.string()), rng.integers(0, len(_TRAITS), n))
    wants = rng.random(n) < 0.6
    tells_pay = salary_known & (rng.random(n) < 0.4)
    wish = _when(wants, _cat("希望在", _take(geo.city_short, county), "从事",
                             voc.titles.take(occ, voc.titles.pick(rng, occ)), "相关工作"))
    pay = _when(tells_pay, _cat(_when(wants, "，"), "期望月薪", _num(sal_min), "元以上"))
    return _cat(
        _take(_YEARS, years), _take(voc.work, family), _take(_YEARS_TAIL, years),
        skill_text, "。", history, edu_text, major, trait, "。", wish, pay, _when(wants | tells_pay, "。"))
