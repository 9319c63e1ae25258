"""Counsellor explanations (matcher.policy.explain) on a hand-made folder with known answers, SHAP additivity against the
engine's own scores, and skill gaps with a planted skill. One small synthetic model is trained per module."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.pairs import pair_features
from matcher.data import Dataset, load_folder
from matcher.engine.matching import MatchEngine
from matcher.policy.explain import MatchExplanation, explain_pairs, explanation_text, skill_gaps, skill_gaps_many
from matcher.policy.market import labour_market
from models.registry import ModelBundle
from tests.conftest import SmallWorld, write_csv

# S1 is in 哈尔滨 at J1's spot; J2 is one degree of latitude north. Every job asks for 叉车证, which no seeker has.
SEEKERS = """
seeker_id,text,skills,city,lat,lon,education,experience_years,expected_salary_min,expected_salary_max,desired_cities,desired_occupations
S1,,焊接|电工证|CAD,哈尔滨,45.75,126.65,本科,2,6000,8000,哈尔滨,焊工
S2,,焊接,,,,,,,,,
"""
JOBS = """
job_id,title,skills,occupation,city,lat,lon,education_min,experience_min_years,salary_min,salary_max,posted_at,expires_at
J1,焊工,焊接|电工证|叉车证,焊工,哈尔滨,45.75,126.65,大专,3,3000,5000,2024-05-01,2024-07-01
J2,焊工,焊接|叉车证,焊工,哈尔滨,46.75,126.65,硕士,,6000,8000,2024-05-01,2024-07-01
J3,焊工,叉车证|氩弧焊,焊工,哈尔滨,45.75,126.65,不限,,9000,11000,2024-05-01,2024-07-01
J4,电工,电工证|叉车证,电工,哈尔滨,45.75,126.65,,,5000,5000,2024-05-01,2024-07-01
J5,焊工,焊接|叉车证,焊工,北京,39.9,116.4,,,12000,12000,2024-05-01,2024-07-01
"""
# Salary midpoints: 哈尔滨/焊工 4000, 7000, 10000 (median 7000, 3 salaries: enough); 哈尔滨/电工 one posting → the
# city's median of 4000, 7000, 10000, 5000 = 6000; 北京 one posting → national median of all five = 7000.
KM_PER_DEGREE = 6371.0088 * math.pi / 180


@pytest.fixture(scope="module")
def world(small_world: SmallWorld) -> tuple[ModelBundle, Dataset, ModelBundle]:
    """The session's small model as trained, its data, and the same model read back from disk."""
    return small_world.bundle, small_world.data, small_world.loaded


@pytest.fixture(scope="module")
def hand(world: tuple[ModelBundle, Dataset, ModelBundle], tmp_path_factory: pytest.TempPathFactory) -> MatchEngine:
    folder = tmp_path_factory.mktemp("explain_hand")
    write_csv(folder / "seekers.csv", SEEKERS)
    write_csv(folder / "jobs.csv", JOBS)
    return MatchEngine(world[0], load_folder(folder))


def _explain(engine: MatchEngine, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], MatchExplanation]:
    s = pd.Index(engine.data.seekers["seeker_id"]).get_indexer([p[0] for p in pairs])
    j = pd.Index(engine.data.jobs["job_id"]).get_indexer([p[1] for p in pairs])
    return dict(zip(pairs, explain_pairs(engine.bundle, engine, s, j), strict=True))


def test_known_answers(hand: MatchEngine) -> None:
    pairs = [("S1", f"J{i}") for i in range(1, 6)] + [("S2", "J1"), ("S2", "J3")]
    e = _explain(hand, pairs)
    j1, j2, j3, j4, j5 = (e["S1", f"J{i}"] for i in range(1, 6))

    assert (j1.matched_skills, j1.missing_skills) == (("焊接", "电工证"), ("叉车证",))  # vocabulary order
    assert (j3.matched_skills, j3.missing_skills) == ((), ("叉车证", "氩弧焊"))
    assert j1.distance_km == 0.0 and j2.distance_km == pytest.approx(KM_PER_DEGREE, abs=0.01)
    assert j1.same_city and j1.in_desired_city and not j5.same_city

    assert [x.salary.fit for x in (j1, j2, j3)] == ["below", "meets", "above"]
    assert (j1.salary.offered_min, j1.salary.offered_max, j1.salary.expected_min, j1.salary.expected_max) == \
        (3000.0, 5000.0, 6000.0, 8000.0)
    assert (j1.salary.median_level, j1.salary.local_median) == ("city_occupation", 7000.0)
    assert j1.salary.ratio_to_median == pytest.approx(4000 / 7000)
    assert (j4.salary.median_level, j4.salary.local_median) == ("city", 6000.0)
    assert j4.salary.ratio_to_median == pytest.approx(5000 / 6000)
    assert (j5.salary.median_level, j5.salary.local_median, j5.salary.ratio_to_median) == \
        ("national", 7000.0, pytest.approx(12000 / 7000))

    assert (j1.education.fit, j1.education.required, j1.education.seeker) == ("meets", 4, 5)
    assert j1.education.seeker_label.startswith("本科") and j1.education.required_label.startswith("大专")
    assert (j2.education.fit, j3.education.fit, j3.education.required_label) == ("below", "not required", "不限 any")
    assert (j1.experience.fit, j1.experience.short_by_years, j1.experience.required_years) == ("short", 1.0, 3.0)
    assert (j2.experience.fit, j2.experience.required_years, j2.experience.short_by_years) == \
        ("not required", None, None)

    s2j1, s2j3 = e["S2", "J1"], e["S2", "J3"]
    assert s2j1.distance_km is None and s2j1.salary.fit == "unknown" and s2j1.salary.expected_min is None
    assert (s2j1.education.fit, s2j1.education.seeker, s2j1.experience.fit) == ("unknown", None, "unknown")
    # S2's education and experience are unknown and J3 asks for neither: not "meets" (issue 16).
    assert (s2j3.education.fit, s2j3.experience.fit) == ("not required", "not required")

    assert len(j1.contributions) == 5
    sizes = [abs(v) for _, v in j1.contributions]
    assert sizes == sorted(sizes, reverse=True)


def test_without_market_or_data(hand: MatchEngine) -> None:
    (x,) = explain_pairs(hand.bundle, (hand.catalogue, hand.snapshot, None), np.array([0]), np.array([0]),
                         top_contributions=None)
    assert (x.salary.median_level, x.salary.local_median, x.salary.ratio_to_median) == ("none", None, None)
    assert len(x.contributions) == len(hand.bundle.feature_names)
    assert explain_pairs(hand.bundle, hand, np.zeros(0, np.int64), np.zeros(0, np.int64)) == []


def test_contributions_add_up_to_the_engine_score(world: tuple[ModelBundle, Dataset, ModelBundle]) -> None:
    _, data, loaded = world
    engine = MatchEngine(loaded, data, n_candidates=50)  # compiled trees when lleaves is there, as served
    seekers = np.arange(0, 400, 20)
    recs = engine.recommend(seekers, 10)
    valid = recs.job_idx >= 0
    si, ji = np.repeat(seekers, 10)[valid.ravel()], recs.job_idx[valid]
    out = explain_pairs(loaded, engine, si, ji, top_contributions=None)
    total = np.array([sum(v for _, v in x.contributions) + x.bias for x in out])
    raw = loaded.ranker.booster_.predict(pair_features(engine.catalogue, engine.snapshot, si, ji), raw_score=True,
                                         num_iteration=loaded.ranker.best_iteration_)
    np.testing.assert_allclose(total, raw, rtol=0, atol=1e-9)
    np.testing.assert_allclose([x.score for x in out], recs.scores[valid], rtol=0, atol=1e-9)
    np.testing.assert_allclose(total, recs.scores[valid], rtol=0, atol=1e-9)


def test_skill_gaps_find_the_planted_skill(hand: MatchEngine) -> None:
    gaps = skill_gaps(hand, 0, near=50, top=3)
    assert gaps[0] == ("叉车证", 5, pytest.approx(1.0))
    assert gaps[1][0] == "氩弧焊" and gaps[1][1] == 1 and 0 < gaps[1][2] < 1
    assert len(gaps) == 2  # S1 has every other skill of its near jobs
    many = skill_gaps_many(hand, np.array([0, 1]), near=50, top=10)
    assert list(many.columns) == ["seeker_idx", "rank", "skill", "n_jobs", "weight"]
    assert [(s, c) for s, c in zip(many["skill"], many["n_jobs"], strict=True)][:1] == [("叉车证", 5)]
    s2 = many[many["seeker_idx"] == 1]
    assert s2["skill"].iloc[0] == "叉车证" and set(s2["skill"]) == {"叉车证", "电工证", "氩弧焊"}
    assert s2["rank"].tolist() == list(range(len(s2)))


def test_text(hand: MatchEngine) -> None:
    text = explanation_text(_explain(hand, [("S1", "J1")])["S1", "J1"])
    assert "叉车证" in text and "short by 1" in text and "city_occupation median 7000" in text


def test_given_market_and_occupations(hand: MatchEngine) -> None:
    market = labour_market(hand.data, as_of=hand.as_of, totals=True)
    j4 = np.array([3])
    (x,) = explain_pairs(hand.bundle, hand, np.array([0]), j4, market=market, min_salaries=1)
    assert (x.salary.median_level, x.salary.local_median, x.salary.ratio_to_median) == ("city_occupation", 5000.0, 1.0)
    # Occupations given with the call (live rows): normalised as in matcher.policy.market; an unknown one falls back.
    (y,) = explain_pairs(hand.bundle, hand, np.array([0]), np.array([0]), market=market, occupations=np.array(["焊工 "]))
    assert (y.salary.median_level, y.salary.local_median) == ("city_occupation", 7000.0)
    (z,) = explain_pairs(hand.bundle, hand, np.array([0]), np.array([0]), market=market, occupations=np.array(["ＷＥＬＤＥＲ"]))
    assert (z.salary.median_level, z.salary.local_median) == ("city", 6000.0)
