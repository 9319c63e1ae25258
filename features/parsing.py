"""Vectorised parsers for the messy salary, experience and education strings of Chinese and English postings.

Job boards do not agree on formats: Zhaopin writes "8千-1.1万·13薪", Lagou "15k-30k", older Zhaopin pages
"8000-12000元/月", interns are paid "150-200/天", the Zhaopin/Tianchi 2019 seeker table packs a range into a
digit string ("0400106000" = 4001-6000), resumes say "硕士" or "MBA" and HR systems send GB/T 4658-2006 codes
("21"). Matching needs one number per concept, so every parser here returns a plain numpy array:

- salaries: (min, max) CNY per month, NaN where unknown;
- experience: years (minimum asked by a posting, or held by a seeker), NaN where unknown;
- education: the ordinal level of `EDUCATION_LEVELS` (0 = unknown or "any").

Catalogues repeat the same few hundred strings millions of times, so each parser factorises its column, parses
the distinct strings once with pandas string methods (no per-row Python) and scatters the result back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = [
    "DAYS_PER_MONTH",
    "EDUCATION_LEVELS",
    "HOURS_PER_DAY",
    "PLAUSIBLE_MONTHLY_SALARY",
    "parse_educations",
    "parse_experience_years",
    "parse_salaries",
    "parse_salary_months",
]

EDUCATION_LEVELS: Final[Mapping[int, str]] = MappingProxyType({
    0: "unknown / 不限 (any)",
    1: "小学 primary",
    2: "初中 junior middle school",
    3: "高中/中专/中技/职高/技校 senior secondary, incl. vocational",
    4: "大专 associate / junior college",
    5: "本科 bachelor",
    6: "硕士 master (incl. 研究生, MBA/EMBA)",
    7: "博士 doctorate",
})
"""Ordinal education scale, ascending. Postings' minima ("本科及以上") and resumes' highest degree ("本科")
both map to the level they name, so "seeker level >= posting level" is the eligibility test."""

# The statutory month (人社部: 21.75 paid working days of 8 hours) is what Chinese boards themselves use
# to convert day and hour rates, so converted numbers line up with monthly postings.
DAYS_PER_MONTH: Final[float] = 21.75
HOURS_PER_DAY: Final[float] = 8.0
_WEEKS_PER_MONTH: Final[float] = DAYS_PER_MONTH / 5.0

PLAUSIBLE_MONTHLY_SALARY: Final[tuple[float, float]] = (500.0, 500_000.0)
"""Default bounds (CNY/month) outside which a parsed bound is treated as a typo and set to NaN."""

# Dash look-alikes and range words seen in postings; NFKC already folds the full-width ones ("－", "～").
_RANGE_SEPARATORS: Final[str] = r"[~〜～—–−‐‑‒―﹣至到]"
_NUMBER: Final[str] = r"\d+(?:\.\d+)?"
_SALARY_UNIT_SCALE: Final[Mapping[str, float]] = MappingProxyType(
    {"": 1.0, "元": 1.0, "k": 1e3, "千": 1e3, "w": 1e4, "万": 1e4})
# Zhaopin/Tianchi codes never use the upper half as a real bound when it is all nines: it means "and above".
_ZHAOPIN_OPEN_UPPER: Final[tuple[int, ...]] = (99_999, 999_999)
# table2_jd.min_years of the same competition: 103 = 1-3 years, 305, 510, 1099 = 10+ years.
_ZHAOPIN_MIN_YEARS: Final[Mapping[str, float]] = MappingProxyType(
    {"103": 1.0, "305": 3.0, "510": 5.0, "1099": 10.0})

# One regex per level; where a string names several levels the LOWEST wins, because postings list alternatives
# ("本科/硕士" accepts a bachelor) and a resume names one degree anyway. Compounds that would otherwise hit a
# lower or higher keyword are rewritten first (_EDU_REWRITES).
_EDU_PATTERNS: Final[Mapping[int, str]] = MappingProxyType({
    7: r"博士|phd|ph\.d|doctor|dphil|postdoc",
    6: r"硕士|研究生|mba|emba|mpa|mpacc|master|msc|m\.sc|postgraduate|graduate degree",
    5: r"本科|学士|bachelor|undergraduate|university|b\.sc|bsc|\bb\.?a\b|\bb\.?s\b",
    4: r"大专|专科|高职|高专|associate|college|hnd",
    3: r"高中|中专|中技|职高|技校|技工|中职|中等|high school|secondary|vocational",
    2: r"初中|初级中学|junior high|middle school",
    1: r"小学|primary|elementary",
})
_EDU_REWRITES: Final[tuple[tuple[str, str], ...]] = (
    (r"博士研究生|博士后", "博士"),          # "研究生" alone means master; the doctoral form must stay 7
    (r"硕士研究生", "硕士"),
    (r"高职高专", "大专"),                   # contains "职高" (vocational senior high, level 3)
    (r"中等专科|中等职业", "中专"),          # contains "专科" (level 4)
    (r"junior high school|junior middle school", "初中"),  # contains "high school" (level 3)
    (r"junior college", "大专"),
    (r"senior high school|senior middle school", "高中"),
    (r"graduate school|master'?s", "硕士"),
    (r"bachelor'?s", "本科"),
)

_EXPERIENCE_NONE: Final[str] = (
    r"不限|无经验|无需经验|无工作经验|没有经验|应届|在校|实习生|毕业生|"
    r"no experience|not required|fresh graduate|new graduate|entry[ -]level|internship|^any$|^none$")


_MEMO: dict[Callable[[pd.Series], np.ndarray], dict[str, Any]] = {}
_MEMO_LIMIT = 200_000  # distinct strings remembered per parser


def _factorised(values: pd.Series, parse: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """Apply a vectorised `parse` to the distinct strings of `values` only, then scatter back to all rows.

    Results are remembered per distinct string: live upserts parse one row at a time, and the few hundred regexes
    cost milliseconds per call for strings (本科, 3-5年) that recur endlessly."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    codes, uniques = pd.factorize(text)
    memo = _MEMO.setdefault(parse, {})
    missing = [u for u in uniques if u not in memo]
    if missing:
        if len(memo) + len(missing) > _MEMO_LIMIT:
            memo.clear()
        parsed_missing = parse(pd.Series(missing, dtype=object))
        memo.update(zip(missing, parsed_missing.tolist(), strict=True))
    if len(uniques) == 0:
        return parse(pd.Series([], dtype=object))[codes]
    return np.array([memo[u] for u in uniques], dtype=np.float64)[codes]


def _normalise(values: pd.Series, *, keep_spaces: bool) -> pd.Series:
    """Fold full-width forms (NFKC), case, dashes and thousands separators so one set of regexes fits all."""
    text = values.str.normalize("NFKC").str.lower().str.strip()
    text = text.str.replace(_RANGE_SEPARATORS, "-", regex=True)
    text = text.str.replace(r"(?<=\d),(?=\d{3}(?!\d))", "", regex=True)
    if keep_spaces:
        return text.str.replace(r"\s+", " ", regex=True)
    return text.str.replace(r"\s+", "", regex=True)


def _to_float(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)


def _unit_scale(units: pd.Series) -> np.ndarray:
    return units.fillna("").map(_SALARY_UNIT_SCALE).to_numpy(dtype=np.float64)


def _zhaopin_codes(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode Zhaopin/Tianchi packed salary codes: 10 digits = 5 + 5 ("0400106000" = 4001..6000), 12 = 6 + 6.

    The 2019 seeker table lost leading zeros ("400106000", "70001100000"), so 9 and 11 digits are left-padded
    to 10 and 12 as the competition's field description instructs. A lower bound of 0 is the "…元以下" code.
    """
    is_code = text.str.fullmatch(r"\d{9,12}").fillna(False).to_numpy(dtype=bool)
    width = np.where(text.str.len().to_numpy() <= 10, 10, 12)
    padded_10 = text.str.zfill(10)
    padded_12 = text.str.zfill(12)
    low = np.where(width == 10, _to_float(padded_10.str[:5]), _to_float(padded_12.str[:6]))
    high = np.where(width == 10, _to_float(padded_10.str[5:]), _to_float(padded_12.str[6:]))
    low = np.where(low > 0, low, np.nan)
    high = np.where(np.isin(high, _ZHAOPIN_OPEN_UPPER) | (high <= 0), np.nan, high)
    return is_code, low, high


def _parse_salary_unique(raw: pd.Series) -> np.ndarray:
    text = _normalise(raw, keep_spaces=False)
    # "·13薪" is a 13-month year-end bonus; the monthly rate is the number before it, so drop the clause.
    text = text.str.replace(rf"[·・*x×,]?{_NUMBER}薪", "", regex=True)
    text = text.str.replace(r"[¥￥$]|rmb|cny", "", regex=True)

    rng = text.str.extract(
        rf"(?P<a>{_NUMBER})(?P<ua>[千万kw]?)元?-(?P<b>{_NUMBER})(?P<ub>[千万kw]?)")
    one = text.str.extract(rf"(?P<a>{_NUMBER})(?P<ua>[千万kw]?)")
    a, b = _to_float(rng["a"]), _to_float(rng["b"])
    unit_a, unit_b = _unit_scale(rng["ua"]), _unit_scale(rng["ub"])
    has_ua = rng["ua"].fillna("").ne("").to_numpy()
    has_ub = rng["ub"].fillna("").ne("").to_numpy()
    # "1-1.5万" shares the trailing unit; "800-1.2万" must not become 800万, hence the a <= b guard.
    unit_a = np.where(~has_ua & has_ub & (a <= b), unit_b, unit_a)
    unit_b = np.where(~has_ub & has_ua & (a <= b), unit_a, unit_b)
    is_range = ~np.isnan(a) & ~np.isnan(b)

    single = _to_float(one["a"]) * _unit_scale(one["ua"])
    above = text.str.contains(r"以上|起|\+|above|atleast|ormore|from|或更高", regex=True).to_numpy(dtype=bool)
    below = text.str.contains(r"以下|以内|below|under|upto|lessthan|不超过|最高|最多",
                              regex=True).to_numpy(dtype=bool)
    low = np.where(is_range, a * unit_a, np.where(below, np.nan, single))
    high = np.where(is_range, b * unit_b, np.where(above & ~below, np.nan, single))

    def has(pattern: str) -> np.ndarray:
        return text.str.contains(pattern, regex=True).to_numpy(dtype=bool)

    per_month = np.select(
        # Period words only count next to a slash or as "日薪"-style prefixes: a bare "年" may be "年底双薪".
        [has(r"/次|/单|/件|每次|计件|perpiece|/task"), has(r"/时|/小时|每小时|时薪|/h$|/hr|perhour|hourly"),
         has(r"/天|/日|每天|每日|日薪|日结|/day|perday|daily"), has(r"/周|每周|周薪|/week|perweek|weekly"),
         has(r"/年|每年|年薪|/year|/yr|peryear|annual|annum|/a$|p\.a\.?$")],
        # A piece rate ("800-1600元/次") says nothing about monthly pay: unknown, not a guess.
        [np.nan, DAYS_PER_MONTH * HOURS_PER_DAY, DAYS_PER_MONTH, _WEEKS_PER_MONTH, 1.0 / 12.0],
        default=1.0)
    low, high = low * per_month, high * per_month

    is_code, code_low, code_high = _zhaopin_codes(text)
    low = np.where(is_code, code_low, low)
    high = np.where(is_code, code_high, high)
    return np.stack([low, high], axis=1)


def parse_salaries(values: pd.Series, *,
                   plausible: tuple[float, float] | None = PLAUSIBLE_MONTHLY_SALARY,
                   zhaopin_codes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Parse salary strings into (min, max) float64 arrays of CNY per month; NaN where unknown.

    Accepts Zhaopin ("8千-1.1万", "1.5万-2万·13薪"), Lagou ("15k-30k", "15k以上"), explicit units
    ("8000-12000元/月", "10-20万/年" ÷ 12, "150-200元/天" × 21.75, "20-25元/小时" × 8 × 21.75,
    "500-1000元/周" × 4.35), bare numbers ("4001-6000", "6000"), open ranges ("1万以上" → max NaN,
    "3000元以下" → min NaN) and Zhaopin/Tianchi packed codes ("0700110000" = 7001..10000, "2500199999" =
    25001..open). "面议", "-", "0", "" and piece rates ("元/次") give NaN.
    The "·N薪" bonus months are ignored (not annualised): the figure quoted is the monthly rate; read them with
    `parse_salary_months`.

    Bare strings of 9-12 digits are always read as packed codes. `zhaopin_codes=True` says the whole column
    is such codes, so shorter ones are left-padded too: the 2019 seeker table wrote "0000001000"
    (1000元以下) as "1000" and "0000000000" (面议) as "0", which as free text would mean exactly 1000.

    A bound outside `plausible` (default 500-500,000 CNY/month) is set to NaN, because such values in real
    postings are typos ("10-100/天") and would dominate salary-gap features; pass None to keep everything.
    Reversed ranges are swapped, so min <= max wherever both are finite.
    """
    if zhaopin_codes:
        text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
        values = text.where(~text.str.fullmatch(r"\d{1,8}"), text.str.zfill(10))
    both = _factorised(values, _parse_salary_unique)
    low, high = np.fmin(both[:, 0], both[:, 1]), np.fmax(both[:, 0], both[:, 1])
    # fmin/fmax return the finite side when one is NaN; an open range must keep its NaN where it was.
    low = np.where(np.isnan(both[:, 0]), np.nan, low)
    high = np.where(np.isnan(both[:, 1]), np.nan, high)
    # A zero bound is a placeholder ("0" = 面议 in the Zhaopin seeker table), never a salary.
    low = np.where(low > 0, low, np.nan)
    high = np.where(high > 0, high, np.nan)
    if plausible is not None:
        lo_ok, hi_ok = plausible
        low = np.where((low >= lo_ok) & (low <= hi_ok), low, np.nan)
        high = np.where((high >= lo_ok) & (high <= hi_ok), high, np.nan)
    return low.astype(np.float64), high.astype(np.float64)


_MOST_SALARY_MONTHS: Final[float] = 24.0  # "·13薪" .. "·16薪" are common; beyond two years' pay it is a typo


def _parse_salary_months_unique(raw: pd.Series) -> np.ndarray:
    text = _normalise(raw, keep_spaces=False)
    months = _to_float(text.str.extract(r"(?:^|[^\d.])(\d{2})薪", expand=False))
    return np.where((months >= 12) & (months <= _MOST_SALARY_MONTHS), months, np.nan)


def parse_salary_months(values: pd.Series) -> np.ndarray:
    """The months of pay per year a salary string states ("1万-2万·13薪" → 13, "15K-30K·14薪" → 14), float64;
    NaN where none is stated ("8千-1.1万", "面议", "年底双薪" has no number) or the number is not 12..24.

    `parse_salaries` keeps the monthly rate; annual pay is rate × months (12 where not stated)."""
    return _factorised(values, _parse_salary_months_unique)


def _parse_experience_unique(raw: pd.Series) -> np.ndarray:
    text = _normalise(raw, keep_spaces=True)
    # Single Chinese numerals ("三年以上", "十年以上") occur on older boards; compounds ("十五") are rare.
    text = text.str.replace(r"(?<![一二三四五六七八九])十(?![一二三四五六七八九])", "10", regex=True)
    text = text.str.translate(str.maketrans("一二两三四五六七八九", "1223456789"))

    rng = text.str.extract(rf"(?P<a>{_NUMBER})\s*-\s*{_NUMBER}\s*(?P<u>年|years?|yrs?|个?月|months?)?")
    one = text.str.extract(rf"(?P<a>{_NUMBER})\s*(?P<u>年|years?|yrs?|个?月|months?)?")
    number = np.where(rng["a"].notna().to_numpy(), _to_float(rng["a"]), _to_float(one["a"]))
    unit = rng["u"].where(rng["a"].notna(), one["u"]).fillna("")
    months = unit.str.contains(r"月|month", regex=True).to_numpy(dtype=bool)
    years = np.where(months, number / 12.0, number)

    is_range = rng["a"].notna().to_numpy()
    # "1年以下" asks for less than a year: the minimum asked is zero.
    below = text.str.contains(r"以下|以内|under|less than|below|<", regex=True).to_numpy(dtype=bool)
    none = text.str.contains(_EXPERIENCE_NONE, regex=True).to_numpy(dtype=bool)
    years = np.where(~is_range & below, 0.0, years)
    years = np.where(none, 0.0, years)

    code = text.map(_ZHAOPIN_MIN_YEARS).to_numpy(dtype=np.float64)
    return np.where(np.isnan(code), years, code)


def parse_experience_years(values: pd.Series) -> np.ndarray:
    """Parse experience strings into years (float32): the minimum a posting asks, or what a seeker holds.

    "3-5年" → 3, "10年以上" → 10, "5年以上经验" → 5, "3年" / "3 years" → 3, "2+ years" → 2, "6个月" → 0.5;
    "1年以下", "应届毕业生", "在校生", "无经验", "经验不限", "不限" → 0; Zhaopin/Tianchi table2 codes
    103/305/510/1099 → 1/3/5/10; "" or anything without a number → NaN.
    """
    return _factorised(values, _parse_experience_unique).astype(np.float32)


@cache
def _gbt4658_levels() -> Mapping[str, float]:
    """GB/T 4658-2006 code → level from the packaged table: the category gives it, 1x splits 博士/硕士."""
    with resources.files("features.data").joinpath("gbt4658_education.csv").open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    by_category = {"10": 6.0, "20": 5.0, "30": 4.0, "40": 3.0, "60": 3.0, "70": 2.0, "80": 1.0, "90": 0.0}
    levels = table["category_code"].map(by_category).to_numpy(dtype=np.float64)
    levels = np.where(table["name_zh"].str.contains("博士").to_numpy(dtype=bool), 7.0, levels)
    return MappingProxyType(dict(zip(table["code"].str.strip(), levels.tolist(), strict=True)))


def _parse_education_unique(raw: pd.Series) -> np.ndarray:
    text = _normalise(raw, keep_spaces=True)
    for pattern, replacement in _EDU_REWRITES:
        text = text.str.replace(pattern, replacement, regex=True)
    level = np.zeros(len(text), dtype=np.float64)
    # Highest first so that a lower level named in the same string overwrites it (lowest wins).
    for value, pattern in sorted(_EDU_PATTERNS.items(), reverse=True):
        level = np.where(text.str.contains(pattern, regex=True).to_numpy(dtype=bool), float(value), level)

    code = text.str.replace(r"\.0+$", "", regex=True)
    gbt = code.map(_gbt4658_levels()).to_numpy(dtype=np.float64)
    level = np.where(np.isnan(gbt), level, gbt)
    # A bare 0-7 is already a level of this scale (round-trips a parsed column written back to CSV).
    ordinal = code.str.fullmatch(r"[0-7]").fillna(False).to_numpy(dtype=bool)
    return np.where(ordinal, _to_float(code), level)


def parse_educations(values: pd.Series) -> np.ndarray:
    """Parse education strings into the `EDUCATION_LEVELS` ordinal (float32, 0 = unknown or 不限).

    Accepts GB/T 4658-2006 codes ("21" 大学本科毕业 → 5, "11" → 7, "14" → 6, "31" → 4, "41".."49"/"61" → 3,
    "71" → 2, "81" → 1, "90" → 0), Chinese labels with qualifiers ("本科及以上", "统招本科", "大专以上",
    "专科", "中专/中技", "初中及以下", "研究生", "MBA") and English ones ("Bachelor's degree", "PhD",
    "associate", "high school"). "college" alone means 大专 (level 4), as Chinese boards' English pages
    use it ("junior college"). Where several levels are named ("本科/硕士") the lowest wins; a bare 0-7 is
    taken as a level of this scale already.
    """
    return _factorised(values, _parse_education_unique).astype(np.float32)
