"""Public-data adapters on small real samples: the folders they write load, and known answers match the raw rows.

Samples (tests/data/README.md): `us_job_views_sample/` holds every row of 15 applicants of the US job-board
export; `zhaopin_sample/table1_user.csv` holds 12 rows of the Tianchi 2019 seeker table. Expected values are
read off the raw rows (by the csv module, not by the adapter's own pandas code) or written out by hand.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from matcher.adapters.us_job_views import convert_us_job_views
from matcher.adapters.zhaopin import convert_zhaopin_users
from matcher.data import Dataset, load_folder
from matcher.schema import PROTECTED_COLUMNS

DATA = Path(__file__).parent / "data"
US_SAMPLE = DATA / "us_job_views_sample"
ZHAOPIN_SAMPLE = DATA / "zhaopin_sample" / "table1_user.csv"

# --------------------------------------------------------------------------------------------------------------
# Raw rows, read independently of the adapters
# --------------------------------------------------------------------------------------------------------------


def _raw(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _utc(text: str) -> pd.Timestamp:
    """'2014-12-12 20:12:35 UTC' (the export's format) as a UTC timestamp."""
    return pd.Timestamp(text.removesuffix(" UTC"), tz="UTC")


@pytest.fixture(scope="module")
def raw_views() -> list[dict[str, str]]:
    return _raw(US_SAMPLE / "Job_Views.csv")


@pytest.fixture(scope="module")
def us(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Dataset]:
    """(what convert_us_job_views returned, what load_folder reads back from the folder it wrote)."""
    out = tmp_path_factory.mktemp("us")
    returned = convert_us_job_views(US_SAMPLE, out)
    return returned, load_folder(out)


@pytest.fixture(scope="module")
def us_seekers(us: tuple[Dataset, Dataset]) -> pd.DataFrame:
    return us[1].seekers.set_index("seeker_id")


def _event_keys(events: pd.DataFrame) -> Counter[tuple[str, str, str, pd.Timestamp, float | None]]:
    return Counter(
        (s, j, e, t, None if pd.isna(v) else float(v))
        for s, j, e, t, v in events[["seeker_id", "job_id", "event", "timestamp", "value"]].itertuples(index=False))


def _view_keys(views: list[dict[str, str]]) -> Counter[tuple[str, str, str, pd.Timestamp, float | None]]:
    return Counter(
        (v["Applicant.ID"], v["Job.ID"], "viewed", _utc(v["View.Start"]),
         None if v["View.Duration"] == "NA" else float(v["View.Duration"]))
        for v in views)


# --------------------------------------------------------------------------------------------------------------
# US job-board views
# --------------------------------------------------------------------------------------------------------------


def test_us_sample_is_what_the_readme_describes(raw_views: list[dict[str, str]]) -> None:
    experience = _raw(US_SAMPLE / "Experience.csv")
    interests = _raw(US_SAMPLE / "Positions_Of_Interest.csv")
    applicants = {r["Applicant.ID"] for r in raw_views + experience + interests}
    assert len(applicants) == 15
    assert (len(raw_views), len(experience), len(interests)) == (52, 29, 35)
    assert any("\n" in r["Job.Description"] for r in experience)  # multi-line quoted cells
    assert any(r["City"] == "NA" for r in experience) and any(r["View.Duration"] == "NA" for r in raw_views)
    starts = [r["View.Start"] for r in raw_views]
    assert min(starts) < "2015-01-01" <= max(starts)


def test_us_sample_converts_to_a_folder_that_loads(us: tuple[Dataset, Dataset]) -> None:
    returned, loaded = us
    assert loaded.root is not None
    assert {p.name for p in loaded.root.iterdir()} >= {"seekers.csv", "jobs.csv", "events.csv"}
    assert (len(loaded.seekers), len(loaded.jobs), len(loaded.events)) == (15, 35, 52)
    assert (len(returned.seekers), len(returned.jobs), len(returned.events)) == (15, 35, 52)
    # Every event names a seeker and a job of the folder.
    assert (loaded.events["seeker_idx"] >= 0).all() and (loaded.events["job_idx"] >= 0).all()


def test_us_seekers_are_every_applicant_of_any_file(us: tuple[Dataset, Dataset]) -> None:
    ids = {r["Applicant.ID"] for name in ("Job_Views.csv", "Experience.csv", "Positions_Of_Interest.csv")
           for r in _raw(US_SAMPLE / name)}
    assert set(us[1].seekers["seeker_id"]) == ids
    assert {"256", "15"} <= ids - {r["Applicant.ID"] for r in _raw(US_SAMPLE / "Job_Views.csv")}  # never viewed


def test_us_text_has_positions_of_interest_and_work_history(us_seekers: pd.DataFrame) -> None:
    # Raw: Positions_Of_Interest 3098 = "Receptionist", "clerical"; Experience 3098 = "Program Support Specialist"
    # at "FDA, Cincinnati District", with a multi-line description starting "Typing correspondence\nFiling".
    text = str(us_seekers.loc["3098", "text"])
    for part in ("Receptionist", "clerical", "Program Support Specialist", "FDA, Cincinnati District"):
        assert part in text
    assert "Typing correspondence Filing (alpha & numeric" in text  # line breaks become single spaces
    assert not us_seekers["text"].str.contains("\n").any()
    # 6982: two interests and two employers.
    text = str(us_seekers.loc["6982", "text"])
    for part in ("Security", "Administrative Assistant", "Randstad Management", "Trinity Washington University"):
        assert part in text
    assert us_seekers.loc["2221", "text"] == ""  # only views, no history: nothing to say


@pytest.mark.parametrize(("seeker", "city"), [
    ("9997", "San Francisco, CA"),  # newest job (2014-04-08) in San Francisco; the four older ones in New York
    ("6982", "Herndon, VA"),        # 2014-08-11 Herndon VA beats 2012-07-23 Washington DC
    ("3357", "Rockaway, NJ"),       # raw "rockaway " / "NJ": trimmed and title-cased
    ("96", "San Francisco, CA"),    # raw "SAN FRANCISCO"
    ("2221", ""),                   # no work history
])
def test_us_city_is_the_place_of_the_most_recent_job(us_seekers: pd.DataFrame, seeker: str, city: str) -> None:
    assert us_seekers.loc[seeker, "city"] == city


def test_us_na_cells_are_unknown_not_text(us_seekers: pd.DataFrame) -> None:
    # 8850 and 15: every Experience row has City = State.Code = NA; 15 also has Position.Name = NA.
    assert us_seekers.loc["8850", "city"] == ""
    assert us_seekers.loc["15", "city"] == ""
    assert not us_seekers["text"].str.contains("Na, NA|NA at ", regex=True).any()


def test_us_desired_occupations_are_the_positions_of_interest_pipe_joined(us_seekers: pd.DataFrame) -> None:
    assert us_seekers.loc["8850", "desired_occupations"] == \
        "Server|Host|Barista|Dishwasher|Bartender|Receptionist|Book Keeper|Customer Service Rep"
    assert us_seekers.loc["6919", "desired_occupations"] == "Receptionist|security"  # raw "security " trimmed
    assert us_seekers.loc["3098", "desired_occupations"] == "Receptionist|clerical"
    assert us_seekers.loc["2221", "desired_occupations"] == ""


def test_us_every_view_is_one_viewed_event_with_the_dwell_time(us: tuple[Dataset, Dataset],
                                                               raw_views: list[dict[str, str]]) -> None:
    events = us[1].events
    assert set(events["event"]) == {"viewed"}
    assert _event_keys(events) == _view_keys(raw_views)
    # Known rows: 3357 viewed job 27638 at 2014-11-07 12:29:08 for 6913 s; 2221's one view has no duration (NA).
    one = events[(events["seeker_id"] == "3357") & (events["job_id"] == "27638")]
    assert list(one["value"]) == [6913.0]
    assert list(one["timestamp"]) == [pd.Timestamp("2014-11-07T12:29:08Z")]
    assert events.loc[events["seeker_id"] == "2221", "value"].isna().all()


def test_us_job_is_posted_at_its_first_view(us: tuple[Dataset, Dataset], raw_views: list[dict[str, str]]) -> None:
    jobs = us[1].jobs.set_index("job_id")
    first: dict[str, pd.Timestamp] = {}
    for v in raw_views:
        first[v["Job.ID"]] = min(first.get(v["Job.ID"], _utc(v["View.Start"])), _utc(v["View.Start"]))
    assert set(jobs.index) == set(first)
    assert jobs["posted_at"].to_dict() == first
    # 47728: the file lists the 22:27:55 view before the earlier 22:27:14 one.
    assert jobs.loc["47728", "posted_at"] == pd.Timestamp("2014-11-15T22:27:14Z")
    # 48285 was viewed by 6919 (09:25:17), 6982 and 9423 on 2014-11-08: the first of all viewers counts.
    assert jobs.loc["48285", "posted_at"] == pd.Timestamp("2014-11-08T09:25:17Z")
    assert jobs.loc["48285", "city"] == "Annandale, VA"
    assert jobs.loc["48285", "employer_id"] == "Securitas Security Services USA, Inc."
    assert jobs.loc["48285", "title"] == "Receptionist Security Officer/Concierge"


@pytest.mark.parametrize(("start", "end"), [
    # Both bounds are timestamps of real views: 96 viewed job 488 at the start, 9995 viewed job 502 at the end.
    ("2014-11-25T18:53:03Z", "2014-12-12T19:08:09Z"),
    ("2015-01-01", None),  # only 3357 and 11060 viewed anything in 2015
    (None, "2014-11-08T09:25:17Z"),
])
def test_us_start_end_keep_exactly_the_views_in_the_half_open_window(
        tmp_path: Path, raw_views: list[dict[str, str]], start: str | None, end: str | None) -> None:
    lo = pd.Timestamp(start, tz="UTC") if start else None
    hi = pd.Timestamp(end, tz="UTC") if end else None
    kept = [v for v in raw_views if (lo is None or _utc(v["View.Start"]) >= lo)
            and (hi is None or _utc(v["View.Start"]) < hi)]
    assert 0 < len(kept) < len(raw_views)
    convert_us_job_views(US_SAMPLE, tmp_path, start=start, end=end)
    data = load_folder(tmp_path)
    assert _event_keys(data.events) == _view_keys(kept)
    jobs = data.jobs.set_index("job_id")
    assert set(jobs.index) == {v["Job.ID"] for v in kept}
    for job_id, posted in jobs["posted_at"].items():  # first view *inside* the window
        assert posted == min(_utc(v["View.Start"]) for v in kept if v["Job.ID"] == job_id)


def test_us_window_includes_its_start_and_excludes_its_end(tmp_path: Path) -> None:
    data = convert_us_job_views(US_SAMPLE, tmp_path, start="2014-11-25T18:53:03Z", end="2014-12-12T19:08:09Z")
    pairs = set(zip(data.events["seeker_id"], data.events["job_id"], strict=True))
    assert ("96", "488") in pairs  # viewed exactly at start
    assert ("9995", "502") not in pairs  # viewed exactly at end
    assert ("9995", "601") not in pairs and ("3098", "47728") not in pairs  # after / before the window


# --------------------------------------------------------------------------------------------------------------
# Zhaopin / Tianchi 2019 seeker table
# --------------------------------------------------------------------------------------------------------------

# From SOURCE.md / the adapter's docstring: the ten Zhaopin city ids whose city is documented, as GB/T 2260.
DOCUMENTED_CITIES = {"530": "110100", "538": "310100", "801": "510100", "551": "500100", "763": "440100",
                     "765": "440300", "653": "330100", "736": "420100", "854": "610100", "719": "410100"}


@pytest.fixture(scope="module")
def zhaopin(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("zhaopin")
    convert_zhaopin_users(ZHAOPIN_SAMPLE, out)
    return load_folder(out)


@pytest.fixture(scope="module")
def zp_seekers(zhaopin: Dataset) -> pd.DataFrame:
    return zhaopin.seekers.set_index("seeker_id")


@pytest.fixture(scope="module")
def raw_users() -> dict[str, dict[str, str]]:
    return {r["user_id"]: r for r in _raw(ZHAOPIN_SAMPLE)}


def test_zhaopin_sample_converts_to_a_folder_that_loads(zhaopin: Dataset,
                                                        raw_users: dict[str, dict[str, str]]) -> None:
    assert list(zhaopin.seekers["seeker_id"]) == list(raw_users)
    assert zhaopin.jobs.empty and zhaopin.events.empty  # the job and action tables are not public
    assert set(zhaopin.seekers.columns) >= {"seeker_id", "text", "skills", "city", "education", "experience_years",
                                            "expected_salary_min", "expected_salary_max", "desired_cities",
                                            "desired_occupations", "desired_industries", "age"}


@pytest.mark.parametrize(("user", "code", "low", "high"), [
    ("0c02d9411e83ae0308cdc40700385d4c", "400106000", 4001.0, 6000.0),      # 9 digits: 0400106000
    ("1f4504451a08e1e99e0b394e03f24b43", "0", None, None),                  # 0000000000 面议: unknown
    ("0856b5c4051d1709630d0d3ab906b9ce", "1000", None, 1000.0),             # 0000001000 1000元以下
    ("127b43572875dea9ed858da73a651433", "200104000", 2001.0, 4000.0),
    ("067ad615dd846785a786a36c70bade6b", "1000115000", 10001.0, 15000.0),   # 10 digits as documented
    ("28a5209111fba6a9d69319c2867cf907", "1500125000", 15001.0, 25000.0),
    ("0626270991533e41bc966c516b2c88a6", "70001100000", 70001.0, 100000.0),  # 11 digits: 070001100000
    ("2673c6fbcf663e1f92857091753ffd7d", "2500199999", 25001.0, None),      # 25000元/月以上: open above
])
def test_zhaopin_salary_codes_decode_to_the_documented_ranges(
        zp_seekers: pd.DataFrame, raw_users: dict[str, dict[str, str]], user: str, code: str,
        low: float | None, high: float | None) -> None:
    assert raw_users[user]["desire_jd_salary_id"] == code
    got = [float(zp_seekers[c][user]) for c in ("expected_salary_min", "expected_salary_max")]
    assert [None if math.isnan(v) else v for v in got] == [low, high]


@pytest.mark.parametrize(("user", "live", "city", "desired"), [
    ("0c02d9411e83ae0308cdc40700385d4c", "763", "440100", "440100"),                    # "763,-,-"
    ("28a5209111fba6a9d69319c2867cf907", "530", "110100", "110100|310100"),             # "530,538,-"
    ("067ad615dd846785a786a36c70bade6b", "606", "zhaopin:606", "zhaopin:606|440300|zhaopin:682"),  # "606,765,682"
    ("127b43572875dea9ed858da73a651433", "871", "zhaopin:871", "zhaopin:5085"),         # "5085,-,-"
    ("2673c6fbcf663e1f92857091753ffd7d", "854", "610100", "610100|zhaopin:552"),        # "854,552,-"
])
def test_zhaopin_city_ids_become_gbt_codes_or_stay_tagged(
        zp_seekers: pd.DataFrame, raw_users: dict[str, dict[str, str]], user: str, live: str, city: str,
        desired: str) -> None:
    assert raw_users[user]["live_city_id"] == live
    assert zp_seekers.loc[user, "city"] == city
    assert zp_seekers.loc[user, "desired_cities"] == desired


def test_zhaopin_lists_are_pipe_joined_without_placeholders(zp_seekers: pd.DataFrame,
                                                            raw_users: dict[str, dict[str, str]]) -> None:
    for user, raw in raw_users.items():
        ids = [c for c in raw["desire_jd_city_id"].split(",") if c not in ("", "-")]
        expected = "|".join(dict.fromkeys(DOCUMENTED_CITIES.get(c, f"zhaopin:{c}") for c in ids))
        assert zp_seekers.loc[user, "desired_cities"] == expected, user
        assert zp_seekers.loc[user, "desired_occupations"] == raw["desire_jd_type_id"].replace(",", "|"), user
        assert zp_seekers.loc[user, "desired_industries"] == raw["desire_jd_industry_id"].replace(",", "|"), user


def test_zhaopin_skills_are_the_experience_keywords(zp_seekers: pd.DataFrame,
                                                    raw_users: dict[str, dict[str, str]]) -> None:
    for user, raw in raw_users.items():
        assert zp_seekers.loc[user, "skills"] == raw["experience"], user
    assert zp_seekers.loc["0c02d9411e83ae0308cdc40700385d4c", "skills"] == "调色员|彩妆|护肤|布料|光源|客户|调色"
    assert zp_seekers.loc["0d6c47d013691a3530e8d74c39f89b86", "skills"] == ""  # no keywords in the raw row


def test_zhaopin_education_and_experience_years(zp_seekers: pd.DataFrame) -> None:
    assert zp_seekers.loc["0c02d9411e83ae0308cdc40700385d4c", "education"] == "大专"
    assert zp_seekers.loc["067ad615dd846785a786a36c70bade6b", "education"] == ""  # empty cur_degree_id
    assert zp_seekers.loc["0626270991533e41bc966c516b2c88a6", "experience_years"] == 2019 - 1995
    assert math.isnan(float(zp_seekers["experience_years"]["0d6c47d013691a3530e8d74c39f89b86"]))  # start "-"


def test_zhaopin_age_is_kept_only_as_a_protected_column(zp_seekers: pd.DataFrame,
                                                        raw_users: dict[str, dict[str, str]]) -> None:
    assert "age" in PROTECTED_COLUMNS
    assert zp_seekers["age"].to_dict() == {u: r["birthday"] for u, r in raw_users.items()}
    others = set(zp_seekers.columns) - {"age"}
    assert not others & PROTECTED_COLUMNS  # no birthday / birth_year copy under another name
    assert "age" not in others
    assert not zp_seekers["text"].str.contains("岁|年龄|age", regex=True).any()
