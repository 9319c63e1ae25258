"""Pair features on hand-made data with known answers; protected attributes never become features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.catalogue import Catalogue, build_catalogue
from features.history import Snapshot, build_snapshot
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

def _tiny_catalogue(folder: Path) -> tuple[Catalogue, Snapshot]:
    for name, text in (("seekers.csv", SEEKERS), ("jobs.csv", JOBS), ("events.csv", EVENTS)):
        (folder / name).write_text(text.strip() + "\n", encoding="utf-8")
    data = load_folder(folder)
    corpus = np.concatenate([data.seekers["text"].to_numpy(), (data.jobs["title"] + data.jobs["text"]).to_numpy()])
    encoder = TextEncoder(dim=4).fit(np.concatenate([corpus] * 3))
    cat = build_catalogue(data.seekers, data.jobs, encoder)
    return cat, build_snapshot(cat, data.events, history_until=pd.Timestamp("2026-01-15", tz="UTC"))


@pytest.fixture()
def tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    cat, snap = _tiny_catalogue(tmp_path)
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


def test_exact_lexical_cosines_on_chinese_text(tiny: pd.DataFrame) -> None:
    """Character n-grams carry Chinese without a segmenter: each seeker's exact cosines favour its own kind of job,
    the title cosine finds the title word in the resume, and a desired occupation equal to the title scores ~1."""
    f = tiny
    for name in ("lexical_char_cos", "title_lexical_cos", "desired_title_lexical_cos"):
        assert f.loc[0, name] > f.loc[1, name] and f.loc[4, name] > f.loc[3, name], name
    assert f.loc[4, "desired_title_lexical_cos"] > 0.7  # Java开发工程师 wanted, Java开发工程师 offered
    assert f.loc[4, "lexical_word_cos"] > f.loc[3, "lexical_word_cos"]  # Java / Spring / MySQL tokens
    assert ((f[["lexical_char_cos", "lexical_word_cos"]] >= 0) & (f[["lexical_char_cos", "lexical_word_cos"]]
                                                                  <= 1.0001)).all().all()


def test_flow_shares_learn_where_seekers_of_a_place_look(tiny: pd.DataFrame) -> None:
    # The only known events are s1's (Harbin) two on j1 (Harbin): Harbin seekers look in Harbin.
    f = tiny
    assert f.loc[0, "city_flow_share"] == 1.0 and f.loc[1, "city_flow_share"] == 0.0
    assert f.loc[0, "region_flow_share"] == 1.0
    assert np.isnan(f.loc[4, "city_flow_share"])  # nobody from Beijing did anything before the snapshot


def test_lexical_features_equal_a_per_pair_loop(tmp_path: Path) -> None:
    """The vectorized sparse products (chunked) give what one dot product per pair gives."""
    cat, snap = _tiny_catalogue(tmp_path)
    rng = np.random.default_rng(0)
    s, j = rng.integers(0, 2, 200), rng.integers(0, 3, 200)
    got = pd.DataFrame(pair_features(cat, snap, s, j), columns=list(FEATURE_NAMES))
    a, b, split = cat.seekers.lexical.matrix.toarray(), cat.jobs.lexical.matrix.toarray(), cat.lexical_split
    for i in range(len(s)):
        char, word = a[s[i], :split] @ b[j[i], :split], a[s[i], split:] @ b[j[i], split:]
        assert got.loc[i, "lexical_char_cos"] == pytest.approx(char, abs=1e-6)
        assert got.loc[i, "lexical_word_cos"] == pytest.approx(word, abs=1e-6)


def test_real_chinese_postings_embed_lexically() -> None:
    postings = pd.read_csv(Path(__file__).parent / "data" / "cn_postings_sample.csv", dtype=str).fillna("")
    text = postings.astype(str).agg(" ".join, axis=1).to_numpy(dtype=object)
    encoder = TextEncoder(dim=8).fit(text)
    rows = encoder.lexical(text)
    assert rows.shape[0] == len(text) and (rows.getnnz(axis=1) > 0).mean() > 0.95
    char = rows[:, :encoder.char_width]
    norms = np.sqrt(np.asarray(char.multiply(char).sum(axis=1)).ravel())
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)


def test_lexical_rows_keep_each_halfs_heaviest_terms() -> None:
    texts = np.array(["会计 财务报表 税务申报 Excel 出纳 成本核算 总账 审计 预算 报销"] * 3 + ["Java Spring MySQL"] * 3,
                     dtype=object)
    full = TextEncoder(dim=2, lexical_terms=None).fit(texts)
    cut = TextEncoder(dim=2, lexical_terms=5).fit(texts)
    rows_full, rows_cut = full.lexical(texts[:1]), cut.lexical(texts[:1])
    split = cut.char_width
    char_full, char_cut = rows_full[:, :split].toarray().ravel(), rows_cut[:, :split].toarray().ravel()
    assert (char_cut > 0).sum() == 5 < (char_full > 0).sum()
    kept = np.flatnonzero(char_cut)
    dropped = np.setdiff1d(np.flatnonzero(char_full), kept)
    assert char_full[kept].min() >= char_full[dropped].max() - 1e-7  # the heaviest n-grams (ties either way)
    assert np.linalg.norm(char_cut) == pytest.approx(1.0, abs=1e-5)


def test_hist_distance_is_measured_from_where_the_seeker_looked_before(tiny: pd.DataFrame) -> None:
    """s1 viewed and applied to j1 (Harbin) before the cut-off: Harbin jobs are 0 km from that history, Shanghai's
    about 1,700 km; s2's only event is after the cut-off, so s2 has no history point (NaN, not 0)."""
    km = tiny["hist_distance_km"].to_numpy()  # pairs (s1, j1..j3), (s2, j1..j3)
    assert km[0] == pytest.approx(0.0, abs=1.0)
    assert 1500 < km[2] < 2000
    assert np.isnan(km[3:]).all()
