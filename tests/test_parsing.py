"""Known answers and real-data checks for features.parsing (salary, experience, education strings).

The real-data tests read only tests/data/cn_postings_sample.csv, a pattern-covering sample of real Chinese
postings and Zhaopin seeker codes (see tests/data/README.md for where every row came from).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import parsing
from features.parsing import (
    EDUCATION_LEVELS,
    PLAUSIBLE_MONTHLY_SALARY,
    parse_educations,
    parse_experience_years,
    parse_salaries,
    parse_salary_months,
)

NAN = math.nan
SAMPLE = Path(__file__).parent / "data" / "cn_postings_sample.csv"

SALARY_CASES: list[tuple[object, float, float]] = [
    # Zhaopin 2019-2024 cards
    ("8千-1.1万", 8_000, 11_000),
    ("1.5万-2万", 15_000, 20_000),
    ("6千-8千·13薪", 6_000, 8_000),
    ("1.2万-1.9万·13薪", 12_000, 19_000),
    ("1千以下", NAN, 1_000),
    ("1.1万-1.5万元/月", 11_000, 15_000),
    # Lagou / Zhaopin 2020
    ("15k-30k", 15_000, 30_000),
    ("15K-30K·13薪", 15_000, 30_000),
    ("15k以上", 15_000, NAN),
    ("2k以下", NAN, 2_000),
    # explicit units and bare numbers
    ("8000-12000元/月", 8_000, 12_000),
    ("8000-12000", 8_000, 12_000),
    ("4001-6000", 4_001, 6_000),
    ("1-1.5万/月", 10_000, 15_000),
    ("10-20万/年", 100_000 / 12, 200_000 / 12),
    ("年薪24万", 20_000, 20_000),
    ("200元/天", 200 * 21.75, 200 * 21.75),
    ("150-200元/天", 150 * 21.75, 200 * 21.75),
    ("150-200/天", 150 * 21.75, 200 * 21.75),
    ("30元/时", 30 * 8 * 21.75, 30 * 8 * 21.75),
    ("20-25元/小时", 20 * 174.0, 25 * 174.0),
    ("500-1000元/周", 500 * 4.35, 1000 * 4.35),
    ("1万以上", 10_000, NAN),
    ("3000元以下", NAN, 3_000),
    ("6000", 6_000, 6_000),
    ("6000元/月", 6_000, 6_000),
    ("800-1.2万", 800, 12_000),
    # full-width characters and other dashes
    ("８千～１.１万", 8_000, 11_000),
    ("８０００－１２０００元／月", 8_000, 12_000),
    ("8千—1.1万", 8_000, 11_000),
    ("8千至1.1万", 8_000, 11_000),
    ("8000到12000", 8_000, 12_000),
    ("8,000-12,000", 8_000, 12_000),
    ("8，000-12，000元", 8_000, 12_000),
    (" 15 k - 30 k ", 15_000, 30_000),
    ("12k-8k", 8_000, 12_000),  # reversed range is swapped
    # negotiable / unknown
    ("面议", NAN, NAN),
    ("薪资面议", NAN, NAN),
    ("", NAN, NAN),
    ("-", NAN, NAN),
    ("0", NAN, NAN),
    ("800-1600元/次", NAN, NAN),  # piece rate: no monthly equivalent
    (None, NAN, NAN),
    (NAN, NAN, NAN),
    (6000.0, 6_000, 6_000),
    # Zhaopin/Tianchi 2019 packed seeker codes, incl. lost leading zeros
    ("0700110000", 7_001, 10_000),
    ("1000120000", 10_001, 20_000),
    ("0200104000", 2_001, 4_000),
    ("0000001000", NAN, 1_000),
    ("0000000000", NAN, NAN),
    ("400106000", 4_001, 6_000),
    ("100002000", 1_000, 2_000),
    ("2500199999", 25_001, NAN),
    ("70001100000", 70_001, 100_000),
    ("100001150000", 100_001, 150_000),
    # implausible values are typos: dropped bound by bound
    ("10-100/天", NAN, 100 * 21.75),
    ("0.2千-0.3千元/月", NAN, NAN),
]

EXPERIENCE_CASES: list[tuple[object, float]] = [
    ("3-5年", 3), ("1-3年", 1), ("5-10年", 5), ("10年以上", 10), ("5年以上经验", 5), ("1年以下", 0),
    ("应届毕业生", 0), ("应届生", 0), ("无经验", 0), ("经验不限", 0), ("不限", 0), ("在校生", 0),
    ("3年", 3), ("3 years", 3), ("2+ years", 2), ("3～5年", 3), ("３－５年", 3), ("3至5年", 3),
    ("三年以上", 3), ("十年以上", 10), ("6个月以上", 0.5), ("103", 1), ("1099", 10),
    ("", NAN), ("-", NAN), (None, NAN),
]

EDUCATION_CASES: list[tuple[object, float]] = [
    # GB/T 4658-2006 codes
    ("21", 5), ("22", 5), ("28", 5), ("31", 4), ("11", 7), ("13", 7), ("14", 6), ("17", 6), ("10", 6),
    ("41", 3), ("44", 3), ("47", 3), ("49", 3), ("61", 3), ("71", 2), ("81", 1), ("90", 0), (21, 5),
    # Chinese labels and their variants
    ("本科", 5), ("本科及以上", 5), ("统招本科", 5), ("大学本科毕业", 5), ("大专", 4), ("大专以上", 4),
    ("专科", 4), ("高职高专", 4), ("学历不限", 0), ("不限", 0), ("其他", 0), ("中专/中技", 3), ("中专", 3),
    ("中技", 3), ("中等专科", 3), ("高中", 3), ("高中及以上", 3), ("职高", 3), ("技校", 3), ("硕士", 6),
    ("研究生", 6), ("硕士研究生", 6), ("MBA", 6), ("EMBA", 6), ("博士", 7), ("博士研究生", 7),
    ("初中", 2), ("初中及以下", 2), ("小学", 1), ("本科/硕士", 5), ("　本科　", 5),
    # English labels
    ("bachelor", 5), ("Bachelor's degree", 5), ("master", 6), ("Master's degree", 6), ("PhD", 7),
    ("doctorate", 7), ("associate", 4), ("junior college", 4), ("college", 4), ("high school", 3),
    ("junior high school", 2), ("any", 0),
    # empty / unknown
    ("", 0), (None, 0), ("xyz", 0),
]


def _series(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


@pytest.mark.parametrize(("text", "low", "high"), SALARY_CASES)
def test_salary_known_answers(text: object, low: float, high: float) -> None:
    got_low, got_high = parse_salaries(_series([text]))
    np.testing.assert_allclose([got_low[0], got_high[0]], [low, high], rtol=1e-9, equal_nan=True)


def test_salary_whole_column_keeps_order_index_and_dtype() -> None:
    texts = [case[0] for case in SALARY_CASES]
    column = pd.Series(texts, dtype=object, index=np.arange(len(texts)) * 7 + 3)
    low, high = parse_salaries(column)
    assert low.dtype == np.float64 and high.dtype == np.float64 and low.shape == (len(texts),)
    np.testing.assert_allclose(low, [case[1] for case in SALARY_CASES], rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(high, [case[2] for case in SALARY_CASES], rtol=1e-9, equal_nan=True)


def test_salary_zhaopin_code_column_mode_pads_short_codes() -> None:
    # The 2019 seeker table stores "0000001000" as "1000" and "0000000000" as "0".
    low, high = parse_salaries(_series(["1000", "0", "100002000", "-"]), zhaopin_codes=True)
    np.testing.assert_allclose(low, [NAN, NAN, 1_000, NAN], equal_nan=True)
    np.testing.assert_allclose(high, [1_000, NAN, 2_000, NAN], equal_nan=True)


def test_salary_plausibility_filter_can_be_disabled() -> None:
    low, high = parse_salaries(_series(["10-100/天", "0.2千-0.3千元/月"]), plausible=None)
    np.testing.assert_allclose(low, [217.5, 200.0])
    np.testing.assert_allclose(high, [2175.0, 300.0])


SALARY_MONTH_CASES: list[tuple[object, float]] = [
    ("1万-2万·13薪", 13), ("6千-8千·13薪", 13), ("1.5万-3万·14薪", 14), ("15K-30K·16薪", 16), ("1万-2万 · 13 薪", 13),
    ("１万-２万・１３薪", 13), ("12薪", 12), ("8千-1.1万", NAN), ("面议", NAN), ("年底双薪", NAN), ("", NAN), (None, NAN),
    ("6千-8千·100薪", NAN), ("6千-8千·3薪", NAN), ("15k-30k", NAN),
]


@pytest.mark.parametrize(("text", "months"), SALARY_MONTH_CASES)
def test_salary_months_known_answers(text: object, months: float) -> None:
    got = parse_salary_months(_series([text]))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [months], equal_nan=True)


def test_salary_months_leave_the_monthly_rate_alone(sample: pd.DataFrame) -> None:
    stated = parse_salary_months(sample["salary"])
    assert set(stated[np.isfinite(stated)]) <= set(range(12, 25))
    bonus = sample["salary"].str.contains("薪") & ~sample["salary"].str.contains("面议|双薪")
    assert np.isfinite(stated[bonus.to_numpy()]).all() and np.isnan(stated[~bonus.to_numpy()]).all()
    low, _ = parse_salaries(sample["salary"][bonus])
    without, _ = parse_salaries(sample["salary"][bonus].str.replace(r"·\d+薪", "", regex=True))
    np.testing.assert_array_equal(low, without)


@pytest.mark.parametrize(("text", "years"), EXPERIENCE_CASES)
def test_experience_known_answers(text: object, years: float) -> None:
    got = parse_experience_years(_series([text]))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [years], equal_nan=True)


@pytest.mark.parametrize(("text", "level"), EDUCATION_CASES)
def test_education_known_answers(text: object, level: float) -> None:
    got = parse_educations(_series([text]))
    assert got.dtype == np.float32
    assert got[0] == level


def test_education_scale_is_ordered_zero_to_seven() -> None:
    assert list(EDUCATION_LEVELS) == list(range(8))
    assert "本科" in EDUCATION_LEVELS[5] and "大专" in EDUCATION_LEVELS[4] and "博士" in EDUCATION_LEVELS[7]


def test_every_gbt4658_code_maps_to_its_category_level() -> None:
    table = pd.read_csv(Path(__file__).parents[1] / "features" / "data" / "gbt4658_education.csv", dtype=str)
    by_category = {"10": 6, "20": 5, "30": 4, "40": 3, "60": 3, "70": 2, "80": 1, "90": 0}
    expected = table["category_code"].map(by_category)
    expected = expected.where(~table["name_zh"].str.contains("博士"), 7)
    np.testing.assert_array_equal(parse_educations(table["code"]), expected.to_numpy(dtype=np.float32))


# ---- real data ------------------------------------------------------------------------------------------

def _negotiable_or_empty(salary: pd.Series) -> np.ndarray:
    # "-" and all-zero codes are the Zhaopin seeker table's "unknown" and "面议".
    return salary.str.contains(r"面议|^\s*-?\s*$|^0+$", regex=True).to_numpy(dtype=bool)


def test_real_salary_coverage(sample: pd.DataFrame) -> None:
    low, high = parse_salaries(sample["salary"])
    stated = ~_negotiable_or_empty(sample["salary"])
    share_min = np.isfinite(low)[stated].mean()
    share_any = (np.isfinite(low) | np.isfinite(high))[stated].mean()
    # On the full source files the shares are 0.9973 (min) and 0.9998 (either bound); the sample keeps a row
    # of every rare pattern ("1千以下", "元/次", typos), so it is harder than the files: 273/280, 278/280.
    assert share_min >= 0.975
    assert share_any >= 0.992
    # Every stated salary without a minimum is explained: an upper bound only, a piece rate, or a typo.
    missing = sample.loc[stated & ~np.isfinite(low), "salary"]
    explained = missing.str.contains(r"以下|元/次", regex=True) | missing.eq("0000001000") | missing.isin(
        ["10-100/天", "0.2千-0.3千元/月"])
    assert explained.all(), missing[~explained].tolist()


def test_real_salary_ranges_are_ordered_and_plausible(sample: pd.DataFrame) -> None:
    low, high = parse_salaries(sample["salary"])
    both = np.isfinite(low) & np.isfinite(high)
    assert (low[both] <= high[both]).all()
    assert PLAUSIBLE_MONTHLY_SALARY == (500.0, 500_000.0)
    for values in (low, high):
        finite = values[np.isfinite(values)]
        assert ((finite >= 500) & (finite <= 500_000)).all()
    # Without the filter only two strings in the real files fall outside 500-500,000 CNY/month.
    raw_low, raw_high = parse_salaries(sample["salary"], plausible=None)
    outside = ((raw_low < 500) | (raw_low > 500_000) | (raw_high < 500) | (raw_high > 500_000))
    assert set(sample.loc[outside, "salary"]) == {"10-100/天", "0.2千-0.3千元/月"}


def test_real_zhaopin_seeker_codes_match_the_official_table(sample: pd.DataFrame) -> None:
    # field_description_zh.txt of the Tianchi 2019 competition: code -> label (CNY/month).
    official = {
        "0000000000": (NAN, NAN), "0000001000": (NAN, 1_000), "0100002000": (1_000, 2_000),
        "0200104000": (2_001, 4_000), "0400106000": (4_001, 6_000), "0600108000": (6_001, 8_000),
        "0800110000": (8_001, 10_000), "1000115000": (10_001, 15_000), "1500125000": (15_001, 25_000),
        "2500135000": (25_001, 35_000), "2500199999": (25_001, NAN), "3500150000": (35_001, 50_000),
        "5000170000": (50_001, 70_000), "070001100000": (70_001, 100_000), "100001150000": (100_001, 150_000),
    }
    seekers = sample[sample["source_file"].str.startswith("zhaopin_tianchi2019/")]
    codes = seekers["salary"][seekers["salary"].ne("-")]
    low, high = parse_salaries(codes, zhaopin_codes=True)
    padded = codes.str.zfill(10).where(codes.str.len() <= 10, codes.str.zfill(12))
    expected = np.array([official[c] for c in padded], dtype=np.float64)
    assert len(codes) >= 20
    np.testing.assert_allclose(np.stack([low, high], axis=1), expected, equal_nan=True)


def test_real_education_labels_all_resolve(sample: pd.DataFrame) -> None:
    levels = parse_educations(sample["education"])
    unknown = sample["education"].isin(["学历不限", "不限", "其他", ""]).to_numpy()
    assert (levels[unknown] == 0).all()
    assert (levels[~unknown] > 0).all(), sample.loc[~unknown & (levels == 0), "education"].unique()
    by_label = pd.Series(levels, index=sample["education"]).groupby(level=0).first()
    assert by_label.to_dict() == {
        "": 0, "不限": 0, "学历不限": 0, "其他": 0, "初中": 2, "初中及以下": 2, "高中": 3, "中专": 3,
        "中技": 3, "中专/中技": 3, "大专": 4, "本科": 5, "硕士": 6, "MBA": 6, "EMBA": 6, "博士": 7,
    }


def test_real_experience_labels_all_resolve(sample: pd.DataFrame) -> None:
    stated = sample["experience"].ne("").to_numpy()
    years = parse_experience_years(sample["experience"])
    assert np.isnan(years[~stated]).all()
    assert np.isfinite(years[stated]).all()
    zero = sample["experience"].isin(["经验不限", "不限", "无经验", "应届毕业生", "1年以下"]).to_numpy()
    assert (years[zero] == 0).all()
    assert (years[stated & ~zero] >= 1).all()
    by_label = pd.Series(years[stated], index=sample.loc[stated, "experience"]).groupby(level=0).first()
    assert by_label[["1-3年", "3-5年", "5-10年", "10年以上"]].tolist() == [1, 3, 5, 10]


def test_each_distinct_string_is_parsed_once(sample: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real columns repeat a few hundred strings: parsing is per distinct string, so a million rows cost what their
    few hundred distinct values cost (the regexes never see a row twice)."""
    rows = 1_000_000
    seen: list[int] = []
    real = parsing._parse_experience_unique

    def counting(raw: pd.Series) -> np.ndarray:
        seen.append(len(raw))
        return real(raw)

    monkeypatch.setattr(parsing, "_parse_experience_unique", counting)
    parsing._MEMO.clear()
    column = pd.Series(np.resize(sample["experience"].to_numpy(dtype=object), rows))
    years = parsing.parse_experience_years(column)
    assert years.shape == (rows,) and sum(seen) == column.nunique()
    np.testing.assert_array_equal(years[:len(sample)], parsing.parse_experience_years(sample["experience"]))
    low, _ = parse_salaries(pd.Series(np.resize(sample["salary"].to_numpy(dtype=object), rows)))
    assert low.shape == (rows,)
