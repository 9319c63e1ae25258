"""Turn the Zhaopin/Tianchi 2019 seeker table (table1_user.csv) into FORMAT.md seekers.csv.

The table is coded, not written: cities are Zhaopin's own numeric ids, salaries are packed ranges ("0400106000" =
4001-6000 CNY/month), wishes are comma lists of Zhaopin category labels, and `experience` is a `|` list of resume
keywords. Mapping:

- seeker_id ← user_id; city ← live_city_id; desired_cities ← desire_jd_city_id (the "-" placeholders dropped).
  The ten Zhaopin ids whose city is documented (530 北京, 538 上海, 801 成都, 551 重庆, 763 广州, 765 深圳,
  653 杭州, 736 武汉, 854 西安, 719 郑州) become GB/T 2260 codes; others stay "zhaopin:<id>" so that same-city
  still works between Zhaopin rows, without coordinates.
- desired_occupations ← desire_jd_type_id, desired_industries ← desire_jd_industry_id (commas → `|`).
- expected_salary_min/max ← desire_jd_salary_id (upstream lost leading zeros; the parser left-pads).
- education ← cur_degree_id; experience_years ← 2019 − start_work_date (the data set's year).
- skills ← experience keywords; text ← a short Chinese summary of current industry / job type and the keywords.
- `birthday` is a (virtual) age: kept as the protected column `age`, for fairness audits only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.parsing import parse_salaries
from matcher.data import Dataset, write_folder
from matcher.errors import DataValidationError

__all__ = ["convert_zhaopin_users", "ZHAOPIN_CITY_CODES"]

ZHAOPIN_CITY_CODES: dict[str, str] = {
    "530": "110100", "538": "310100", "801": "510100", "551": "500100", "763": "440100",
    "765": "440300", "653": "330100", "736": "420100", "854": "610100", "719": "410100",
}
_DATA_YEAR = 2019
_COLUMNS = ("user_id", "live_city_id", "desire_jd_city_id", "desire_jd_industry_id", "desire_jd_type_id",
            "desire_jd_salary_id", "cur_industry_id", "cur_jd_type", "cur_degree_id", "birthday",
            "start_work_date", "experience")


def _city(codes: pd.Series) -> pd.Series:
    codes = codes.str.strip()
    known = codes.map(ZHAOPIN_CITY_CODES)
    return known.fillna("zhaopin:" + codes).where(~codes.isin(["", "-", "0"]), "")  # 0: not stated


def _list(column: pd.Series, sep: str = ",") -> pd.Series:
    exploded = column.str.split(sep).explode().str.strip()
    exploded = exploded[exploded.ne("") & exploded.ne("-")]
    return exploded.groupby(level=0).agg("|".join).reindex(column.index, fill_value="")


def convert_zhaopin_users(src: str | Path, out: str | Path) -> Dataset:
    """Read table1_user.csv (or the round-1 test users .tsv), write out/seekers.csv; return the Dataset."""
    src = Path(src)
    if not src.is_file():
        raise DataValidationError(src.name, None, None, f"file not found in {src.parent}")
    users = pd.read_csv(src, dtype=str, keep_default_na=False, sep="\t" if src.suffix == ".tsv" else ",")
    missing = [c for c in _COLUMNS if c not in users.columns]
    if missing:
        raise DataValidationError(src.name, 1, missing[0], "column of the Zhaopin user table is missing")
    desired_cities = _list(users["desire_jd_city_id"]).str.split("|").explode()
    desired_cities = _city(desired_cities.fillna("")).groupby(level=0).agg(
        lambda s: "|".join(dict.fromkeys(c for c in s if c)))
    salary_min, salary_max = parse_salaries(users["desire_jd_salary_id"], zhaopin_codes=True)
    start_year = pd.to_numeric(users["start_work_date"], errors="coerce")
    experience = (_DATA_YEAR - start_year).clip(lower=0).where(start_year.between(1950, _DATA_YEAR))
    keywords = users["experience"].str.strip()
    text = ("现从事" + users["cur_industry_id"].str.replace(",", "、") + "行业"
            + users["cur_jd_type"].where(users["cur_jd_type"].ne(""), "").str.replace(",", "、")
            + "工作；期望职类：" + users["desire_jd_type_id"].str.replace(",", "、")
            + "。经验关键词：" + keywords.str.replace("|", "、", regex=False) + "。")
    seekers = pd.DataFrame({
        "seeker_id": users["user_id"].str.strip(),
        "text": text,
        "skills": keywords,
        "city": _city(users["live_city_id"]),
        "education": users["cur_degree_id"].str.strip(),
        "experience_years": experience.to_numpy(dtype=np.float64),
        "expected_salary_min": salary_min,
        "expected_salary_max": salary_max,
        "desired_cities": desired_cities.reindex(users.index, fill_value=""),
        "desired_occupations": _list(users["desire_jd_type_id"]),
        "desired_industries": _list(users["desire_jd_industry_id"]),
        "age": users["birthday"].str.strip(),  # protected: audits only
    })
    empty_jobs = pd.DataFrame({"job_id": pd.Series(dtype=str)})
    empty_events = pd.DataFrame({c: pd.Series(dtype=str) for c in ("seeker_id", "job_id", "event", "timestamp")})
    data = Dataset(seekers=seekers, jobs=empty_jobs, events=empty_events)
    write_folder(data, out)
    return data
