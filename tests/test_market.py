"""Labour-market view (matcher.policy.market): counts, 求人倍率 and salary quantiles on folders with a known answer."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.catalogue import split_list
from features.geo import load_gazetteer
from matcher.data import load_folder
from matcher.errors import InvalidRequestError
from matcher.policy.market import TOTAL, labour_market, normalise_occupations
from tests.conftest import write_csv

AS_OF = pd.Timestamp("2024-06-01T00:00:00Z")

# Open at AS_OF unless said otherwise. 哈尔滨 is written four ways (name, name + 市, city code, 南岗区's code).
JOBS = """
job_id,city,occupation,headcount,salary_min,salary_max,posted_at,expires_at
J1,哈尔滨,焊工,3,4000,6000,2024-05-01,2024-07-01
J2,哈尔滨市,焊工,,6000,8000,2024-05-10,
J3,230100,焊工,2,9000,,,2024-06-15
J4,230103,焊工,0,,,2024-05-01,2024-07-01
J5,哈尔滨,焊工,10,1000,1000,2024-04-01,2024-05-31
J6,哈尔滨,焊工,10,1000,1000,2024-06-02,2024-07-01
J7,哈尔滨,焊工,10,1000,1000,2024-05-01,2024-06-01T00:00:00Z
J8,北京,Barista,4,10000,12000,2024-05-01,2024-07-01
J9,110105,ＢＡＲＩＳＴＡ ,1,8000,8000,2024-05-01,2024-07-01
J10,黑龙江省,焊工,2,5000,5000,2024-05-01,2024-07-01
J11,哈尔滨,,1,3000,3000,2024-05-01,2024-07-01
J12,大连,焊工,5,0,0,2024-05-01,2024-07-01
"""
# J5 expired before AS_OF, J6 is posted after it, J7 expires exactly at it: none is open.
# J10 has no city (a province only), J11 no occupation: open, but in no (city, occupation) cell.

SEEKERS = """
seeker_id,city,desired_cities,desired_occupations,updated_at
S1,哈尔滨,,焊工,2024-05-20
S2,北京,哈尔滨|北京市,焊工|barista,2024-05-20
S3,上海,230100|哈尔滨市,焊工,
S4,哈尔滨,黑龙江省,焊工,2024-05-20
S5,北京,,,2024-05-20
S6,,,Barista,2024-05-20
S7,上海,上海,咖啡师,2023-01-01
"""
# S1 and S4 fall back to home (no desired city / only a province); S2 wants two cities and two occupations;
# S3 names 哈尔滨 twice; S5 has no occupation and S6 no city: in no (city, occupation) cell.

HRB, BJ, DL, SH = "cn:230100", "cn:110100", "cn:210200", "cn:310100"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    write_csv(tmp_path / "jobs.csv", JOBS)
    write_csv(tmp_path / "seekers.csv", SEEKERS)
    return tmp_path


def _rows(table: pd.DataFrame) -> dict[tuple[str, ...], dict[str, float]]:
    keys = [c for c in ("city", "occupation") if c in table]
    return {tuple(r[k] for k in keys): r for r in table.to_dict(orient="records")}


def _same(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)


def test_cells_known_answer(folder: Path) -> None:
    view = labour_market(load_folder(folder), as_of=AS_OF)
    assert list(view.table.columns) == ["city", "city_name", "occupation", "open_jobs", "openings", "active_seekers",
                                        "ratio", "n_salaries", "salary_p25", "salary_p50", "salary_p75"]
    rows = _rows(view.table)
    nan = float("nan")
    want = {  # open_jobs, openings, active_seekers, ratio, n_salaries, p25, p50, p75
        (HRB, "焊工"): (4, 7, 4, 7 / 4, 3, 6000, 7000, 8000),  # J1-J4 (J4: headcount 0 → 1); salaries 5000/7000/9000
        (HRB, "barista"): (0, 0, 1, 0.0, 0, nan, nan, nan),
        (BJ, "焊工"): (0, 0, 1, 0.0, 0, nan, nan, nan),
        (BJ, "barista"): (2, 5, 1, 5.0, 2, 8750, 9500, 10250),  # "Barista" and "ＢＡＲＩＳＴＡ " merge
        (DL, "焊工"): (1, 5, 0, nan, 0, nan, nan, nan),  # jobs, no seeker: no ratio; a 0 salary is none
        (SH, "咖啡师"): (0, 0, 1, 0.0, 0, nan, nan, nan),
    }
    assert set(rows) == set(want)
    names = ["open_jobs", "openings", "active_seekers", "ratio", "n_salaries", "salary_p25", "salary_p50",
             "salary_p75"]
    for cell, values in want.items():
        got = [rows[cell][n] for n in names]
        assert all(_same(float(g), float(w)) for g, w in zip(got, values, strict=True)), (cell, got, values)
    assert {r["city_name"] for r in rows.values()} == {"哈尔滨市", "北京市", "大连市", "上海市"}
    assert view.table[["open_jobs", "openings", "active_seekers", "n_salaries"]].dtypes.eq(np.int64).all()
    assert (view.as_of, view.open_jobs, view.unplaced_jobs) == (AS_OF, 9, 2)  # J1-J4, J8-J12; J10, J11 unplaced
    assert (view.active_seekers, view.unplaced_seekers) == (7, 2)  # S5, S6
    assert view.table.equals(view.table.sort_values(["city", "occupation"]).reset_index(drop=True))


def test_totals_and_coarser_groupings(folder: Path) -> None:
    data = load_folder(folder)
    view = labour_market(data, as_of=AS_OF, totals=True)
    rows = _rows(view.table)
    # A city row counts every open job and seeker of the city, occupation known or not, each seeker once.
    assert (rows[HRB, TOTAL]["open_jobs"], rows[HRB, TOTAL]["openings"], rows[HRB, TOTAL]["active_seekers"]) == (5, 8, 4)
    assert rows[HRB, TOTAL]["salary_p50"] == pytest.approx(6000)  # 3000 (J11), 5000, 7000, 9000
    assert (rows[BJ, TOTAL]["openings"], rows[BJ, TOTAL]["active_seekers"], rows[BJ, TOTAL]["ratio"]) == (5, 2, 2.5)
    assert math.isnan(rows[DL, TOTAL]["ratio"])
    assert rows[SH, TOTAL]["active_seekers"] == 1  # S7; S3 lives there but wants 哈尔滨 only
    grand = rows[TOTAL, TOTAL]
    assert (grand["open_jobs"], grand["openings"], grand["active_seekers"]) == (9, 20, 7)
    assert grand["ratio"] == pytest.approx(20 / 7)
    assert view.table.iloc[0]["city"] == TOTAL and view.table.iloc[0]["city_name"] == TOTAL
    assert len(view.table) == 6 + 4 + 1

    per_city = labour_market(data, as_of=AS_OF, by=("city",)).table
    totals = view.table[(view.table["occupation"] == TOTAL) & (view.table["city"] != TOTAL)]
    assert per_city.equals(totals.drop(columns="occupation").reset_index(drop=True))

    per_occ = _rows(labour_market(data, as_of=AS_OF, by=["occupation"]).table)
    assert (per_occ[("焊工",)]["open_jobs"], per_occ[("焊工",)]["active_seekers"]) == (6, 4)  # J10 and J12 count
    assert (per_occ[("barista",)]["openings"], per_occ[("barista",)]["active_seekers"]) == (5, 2)  # S6 counts

    national = labour_market(data, as_of=AS_OF, by=()).table
    assert len(national) == 1 and national.iloc[0]["openings"] == 20 and "city" not in national


def test_as_of_min_cell_and_active_within(folder: Path) -> None:
    data = load_folder(folder)
    assert labour_market(data).as_of == data.max_time == pd.Timestamp("2024-06-02T00:00:00Z")
    naive = labour_market(data, as_of="2024-06-01")
    assert naive.as_of == AS_OF and naive.table.equals(labour_market(data, as_of=AS_OF).table)
    later = _rows(labour_market(data, as_of="2024-06-20").table)  # J3 has expired, J6 is now open
    assert later[HRB, "焊工"]["open_jobs"] == 4 and later[HRB, "焊工"]["openings"] == 3 + 1 + 1 + 10

    thick = labour_market(data, as_of=AS_OF, min_cell=2).table
    assert set(_rows(thick)) == {(HRB, "焊工"), (BJ, "barista")}

    recent = labour_market(data, as_of=AS_OF, active_within=pd.Timedelta(days=180))
    assert recent.active_seekers == 6  # S7 (2023) dropped; S3 (no date) kept
    assert (SH, "咖啡师") not in _rows(recent.table)

    for bad in (("city", "city"), ("region",)):
        with pytest.raises(InvalidRequestError, match="^by: "):
            labour_market(data, by=bad)
    with pytest.raises(InvalidRequestError, match="^min_cell: "):
        labour_market(data, min_cell=-1)


def test_records_are_json_ready(folder: Path) -> None:
    records = labour_market(load_folder(folder), as_of=AS_OF).records()
    dalian = next(r for r in records if r["city"] == DL)
    assert dalian["ratio"] is None and dalian["salary_p50"] is None
    assert type(dalian["open_jobs"]) is int and type(dalian["openings"]) is int


def test_empty_sides(tmp_path: Path) -> None:
    write_csv(tmp_path / "jobs.csv", "job_id,city,occupation")
    write_csv(tmp_path / "seekers.csv", "seeker_id,city,desired_occupations\nS1,哈尔滨,焊工")
    view = labour_market(load_folder(tmp_path))
    assert view.as_of is None and view.open_jobs == 0
    assert _rows(view.table)[HRB, "焊工"]["ratio"] == 0.0

    write_csv(tmp_path / "jobs.csv", "job_id,city,occupation,salary_min\nJ1,哈尔滨,焊工,5000")
    write_csv(tmp_path / "seekers.csv", "seeker_id")
    row = _rows(labour_market(load_folder(tmp_path), totals=True).table)[HRB, "焊工"]
    assert row["openings"] == 1 and math.isnan(row["ratio"]) and row["salary_p50"] == 5000


def test_normalise_occupations() -> None:
    got = normalise_occupations(pd.Series([" Barista ", "ＢＡＲＩＳＴＡ", "Data  Engineer", "", None, "焊工"]))
    assert got.isna().tolist() == [False, False, False, True, True, False]
    assert got.dropna().tolist() == ["barista", "barista", "data engineer", "焊工"]


def _brute_force(data_folder: Path, as_of: pd.Timestamp) -> tuple[Counter[tuple[str, str]], int]:
    """(city, occupation) → seekers, one Python pass per seeker, written independently of the module."""
    data = load_folder(data_folder)
    gaz = load_gazetteer()
    counts: Counter[tuple[str, str]] = Counter()
    homes = gaz.resolve(data.seekers["city"]).city_key
    for i, (cities, occupations) in enumerate(zip(split_list(data.seekers["desired_cities"]),
                                                  split_list(data.seekers["desired_occupations"]), strict=True)):
        keys = {k for k in gaz.resolve(pd.Series(cities, dtype=object)).city_key if k is not None} if cities else set()
        if not keys and homes[i] is not None:
            keys = {homes[i]}
        counts.update((c, o) for c in keys for o in set(occupations))
    jobs = data.jobs
    is_open = (jobs["posted_at"] <= as_of) & (jobs["expires_at"] > as_of)
    return counts, int(is_open.sum())


def test_synthetic_invariants(tmp_path: Path) -> None:
    from matcher.offline.synthetic import generate

    generate(2000, 1000, seed=1).write(tmp_path)
    data = load_folder(tmp_path)
    view = labour_market(data)
    table = view.table
    assert view.as_of == data.max_time
    seekers, n_open = _brute_force(tmp_path, view.as_of)
    assert 0 < n_open < len(data.jobs)
    # Every synthetic job has a city code and an occupation: every open job is in exactly one cell.
    assert view.unplaced_jobs == 0 and view.open_jobs == n_open
    assert table["open_jobs"].sum() == n_open
    is_open = (data.jobs["posted_at"] <= view.as_of) & (data.jobs["expires_at"] > view.as_of)
    assert table["openings"].sum() == data.jobs.loc[is_open, "headcount"].sum()
    assert table["n_salaries"].sum() == data.jobs.loc[is_open, "salary_min"].notna().sum()

    got = {(c, o): n for c, o, n in table[["city", "occupation", "active_seekers"]].itertuples(index=False) if n}
    assert got == dict(seekers)

    has = table["active_seekers"] > 0
    assert np.isfinite(table.loc[has, "ratio"]).all() and table.loc[~has, "ratio"].isna().all()
    salaried = table[table["n_salaries"] > 0]
    assert (salaried["salary_p25"] <= salaried["salary_p50"]).all()
    assert (salaried["salary_p50"] <= salaried["salary_p75"]).all()
    assert table.loc[table["n_salaries"] == 0, "salary_p50"].isna().all()
    assert table["city_name"].notna().all() and not table["city_name"].str.startswith("cn:").any()

    totals = labour_market(data, totals=True).table
    grand = totals[(totals["city"] == TOTAL) & (totals["occupation"] == TOTAL)].iloc[0]
    assert grand["open_jobs"] == n_open and grand["active_seekers"] == len(data.seekers)
    cities = totals[(totals["occupation"] == TOTAL) & (totals["city"] != TOTAL)]
    assert cities["open_jobs"].sum() == n_open


def test_live_market_leaves_out_rows_the_journal_deleted_and_folds_writes_in_order(folder: Path) -> None:
    from matcher.service.live import DELETED_COLUMN
    from matcher.service.live_market import LiveMarket

    data = load_folder(folder)
    full = labour_market(data, as_of=AS_OF, by=())
    gone = data.jobs["job_id"].iloc[0]
    marked = data.jobs.assign(**{DELETED_COLUMN: np.where(data.jobs["job_id"] == gone, "1", "")})
    live = LiveMarket(type(data)(seekers=data.seekers, jobs=marked, events=data.events), AS_OF)
    without = labour_market(type(data)(seekers=data.seekers, jobs=data.jobs[data.jobs["job_id"] != gone],
                                       events=data.events), as_of=AS_OF, by=())
    assert live.view((), False).table.equals(without.table)
    live.upserted("jobs", data.jobs[data.jobs["job_id"] == gone])  # put back, then delete and put back again
    live.deleted("jobs", [gone])
    live.upserted("jobs", data.jobs[data.jobs["job_id"] == gone])
    assert live.view((), False).table.equals(full.table)
