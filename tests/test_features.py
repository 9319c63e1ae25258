"""Pair features on hand-made data with known answers; protected attributes never become features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.catalogue import build_catalogue
from features.history import build_snapshot
from features.pairs import FEATURE_NAMES, pair_features
from features.text import TextEncoder
from matcher.data import load_folder
from matcher.schema import protected_feature_names

SEEKERS = """
seeker_id,text,skills,city,education,experience_years,expected_salary_min,expected_salary_max,desired_cities,desired_occupations,gender,birth_year,hukou
s1,五年会计工作经验 熟悉财务报表 税务申报,Excel|财务|税务,230100,本科,5,6000,9000,230100|110100,会计,F,1990,黑龙江
s2,Java 后端开发 Spring MySQL,Java|Spring|MySQL,110105,大专,2,15000,20000,,Java开发工程师,M,1998,河北
"""
JOBS = """
job_id,title,text,skills,occupation,city,education_min,experience_min_years,salary_min,salary_max,job_type,posted_at
j1,会计,负责公司账务 财务报表 税务申报,Excel|财务,会计人员,230100,本科及以上,3,7000,10000,full_time,2026-01-01
j2,Java开发工程师,Java 后端开发 Spring Boot MySQL,Java|Spring|Redis,软件工程技术人员,110100,本科,3,15000,25000,full_time,2026-01-10
j3,保安,小区夜班巡逻,保安证,保安员,310100,,,,,full_time,
"""
EVENTS = """
seeker_id,job_id,event,timestamp
s1,j1,viewed,2026-01-05T10:00:00Z
s1,j1,applied,2026-01-06T10:00:00Z
s2,j2,viewed,2026-01-20T10:00:00Z
"""

@pytest.fixture()
def tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    for name, text in (("seekers.csv", SEEKERS), ("jobs.csv", JOBS), ("events.csv", EVENTS)):
        (tmp_path / name).write_text(text.strip() + "\n", encoding="utf-8")
    data = load_folder(tmp_path)
    corpus = np.concatenate([data.seekers["text"].to_numpy(), (data.jobs["title"] + data.jobs["text"]).to_numpy()])
    encoder = TextEncoder(dim=4).fit(np.concatenate([corpus] * 3))
    cat = build_catalogue(data.seekers, data.jobs, encoder)
    snap = build_snapshot(cat, data.events, history_until=pd.Timestamp("2026-01-15", tz="UTC"))
    s = np.array([0, 0, 0, 1, 1, 1])
    j = np.array([0, 1, 2, 0, 1, 2])
    frame = pd.DataFrame(pair_features(cat, snap, s, j), columns=list(FEATURE_NAMES))
    return frame


def test_deny_list_catches_protected_names() -> None:
    assert protected_feature_names(["seeker_age", "gender_match", "hukou_same", "skill_coverage",
                                    "job_days_online"]) == ["seeker_age", "gender_match", "hukou_same"]


def test_no_protected_attribute_is_a_feature() -> None:
    assert not protected_feature_names(FEATURE_NAMES)


def test_known_answers(tiny: pd.DataFrame) -> None:
    f = tiny
    assert f.loc[0, "skill_overlap"] == 2 and f.loc[0, "skill_coverage"] == 1.0
    assert f.loc[4, "skill_overlap"] == 2 and f.loc[4, "skill_coverage"] == pytest.approx(2 / 3)
    assert np.isnan(f.loc[2, "skill_coverage"]) or f.loc[2, "skill_overlap"] == 0
    assert f.loc[0, "same_city"] == 1 and f.loc[1, "same_city"] == 0
    assert f.loc[4, "same_city"] == 1  # 110105 (朝阳区) lies in 110100 (北京)
    assert f.loc[0, "distance_km"] < 30 and 900 < f.loc[1, "distance_km"] < 1300  # Harbin - Beijing ~1,050 km
    assert f.loc[1, "in_desired_city"] == 1 and f.loc[2, "in_desired_city"] == 0
    assert np.isnan(f.loc[3, "in_desired_city"])  # s2 states no wish
    assert f.loc[0, "education_gap"] == 0 and f.loc[4, "education_gap"] == -1  # 大专 vs 本科
    assert f.loc[0, "experience_gap"] == 2
    assert f.loc[0, "salary_overlap"] == pytest.approx((9000 - 7000) / 3000)
    # History: only s1's events (before 2026-01-15) are known; s2's view of j2 is in the future.
    assert f.loc[0, "seen_job_before"] == 2 and f.loc[0, "hist_city_share"] == 1.0
    assert np.isnan(f.loc[4, "hist_cos"]) and f.loc[4, "seeker_activity"] == 0
    assert f.loc[0, "job_popularity"] == pytest.approx(np.log1p(2))
    # Text: each seeker is closer to its own kind of job.
    assert f.loc[0, "text_cos"] > f.loc[1, "text_cos"] and f.loc[4, "text_cos"] > f.loc[3, "text_cos"]
