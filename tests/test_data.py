"""Loading FORMAT.md folders: good data loads, every kind of bad row is named by file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matcher.data import load_folder, write_folder
from matcher.errors import DataValidationError

SEEKERS = """
seeker_id,text,skills,city,lat,lon,education,experience_years,expected_salary_min,expected_salary_max,gender
s1,会计 三年经验,Excel|财务,230100,45.8,126.5,本科,3,6000,9000,F
s2,Java 开发,Java|Spring,110105,,,大专,1.5,,,M
"""
JOBS = """
job_id,title,text,skills,city,salary_min,salary_max,headcount,job_type,posted_at,expires_at
j1,会计,负责账务,Excel|财务,230100,6000,8000,2,full_time,2026-01-01,2026-03-01
j2,Java开发工程师,开发,Java,110100,15000,30000,1,full_time,2026-01-02T08:00:00+08:00,
"""
EVENTS = """
seeker_id,job_id,event,timestamp,value
s1,j1,viewed,2026-01-05T10:00:00Z,35
s2,j2,applied,2026-01-06T10:00:00Z,
s2,j9,viewed,2026-01-06T11:00:00Z,
"""


def _folder(tmp_path: Path, seekers: str = SEEKERS, jobs: str = JOBS, events: str | None = EVENTS) -> Path:
    (tmp_path / "seekers.csv").write_text(seekers.strip() + "\n", encoding="utf-8")
    (tmp_path / "jobs.csv").write_text(jobs.strip() + "\n", encoding="utf-8")
    if events is not None:
        (tmp_path / "events.csv").write_text(events.strip() + "\n", encoding="utf-8")
    return tmp_path


def test_good_folder_loads_with_types_and_indices(tmp_path: Path) -> None:
    data = load_folder(_folder(tmp_path))
    assert list(data.seekers["seeker_id"]) == ["s1", "s2"]
    assert data.seekers["lat"].iloc[1] != data.seekers["lat"].iloc[1]  # empty cell = NaN
    assert data.jobs["posted_at"].iloc[1] == pd.Timestamp("2026-01-02T00:00:00Z")
    assert pd.isna(data.jobs["expires_at"].iloc[1])
    assert list(data.events["grade"]) == [1, 2, 1]
    assert list(data.events["job_idx"]) == [0, 1, -1]  # an unknown job stays as history, not an error
    assert "gender" in data.seekers.columns  # kept for audits only


def test_events_file_is_optional(tmp_path: Path) -> None:
    data = load_folder(_folder(tmp_path, events=None))
    assert data.events.empty and "grade" in data.events


def test_round_trip_through_write_folder(tmp_path: Path) -> None:
    data = load_folder(_folder(tmp_path))
    write_folder(data, tmp_path / "b")
    again = load_folder(tmp_path / "b")
    pd.testing.assert_frame_equal(data.jobs, again.jobs)
    pd.testing.assert_frame_equal(data.events, again.events)


@pytest.mark.parametrize(("file", "old", "new", "row", "column"), [
    ("seekers", "s2,Java", "s1,Java", 3, "seeker_id"),                    # duplicate id
    ("seekers", ",1.5,", ",1.5年,", 3, "experience_years"),               # not a number
    ("seekers", "45.8,126.5", "95.8,126.5", 2, "lat"),                    # out of range
    ("seekers", "6000,9000", "9000,6000", 2, "expected_salary_min"),      # min > max
    ("jobs", "2,full_time", "2,fulltime", 2, "job_type"),                 # unknown enum
    ("jobs", "2026-01-01,2026-03-01", "yesterday,2026-03-01", 2, "posted_at"),
    ("jobs", ",1,full_time", ",1.5,full_time", 3, "headcount"),           # not whole
    ("jobs", "j2,Java", ",Java", 3, "job_id"),                            # empty id
    ("events", "s2,j2,applied", "s2,j2,liked", 3, "event"),
    ("events", "2026-01-06T10:00:00Z", "06/01/2026", 3, "timestamp"),
])
def test_bad_row_names_file_row_and_column(tmp_path: Path, file: str, old: str, new: str, row: int,
                                            column: str) -> None:
    texts = {"seekers": SEEKERS, "jobs": JOBS, "events": EVENTS}
    assert old in texts[file]
    texts[file] = texts[file].replace(old, new, 1)
    with pytest.raises(DataValidationError) as info:
        load_folder(_folder(tmp_path, texts["seekers"], texts["jobs"], texts["events"]))
    err = info.value
    assert (err.file, err.row, err.column) == (f"{file}.csv", row, column)
    assert f"{file}.csv, row {row}, column '{column}'" in str(err)


def test_missing_required_column_and_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="events.csv, row 1, column 'event'"):
        load_folder(_folder(tmp_path, events="seeker_id,job_id\ns1,j1"))
    (tmp_path / "jobs.csv").unlink()
    with pytest.raises(DataValidationError, match="jobs.csv: file not found"):
        load_folder(tmp_path)


@pytest.mark.parametrize("cell", ["9999-12-31T00:00:00Z", "0001-01-01", "2300-01-01", "2250-06-01", "1899-12-31"])
def test_times_outside_the_supported_range_name_the_cell(tmp_path: Path, cell: str) -> None:
    jobs = JOBS.replace("2026-01-01,2026-03-01", f"{cell},2026-03-01" if cell < "2026" else f"2026-01-01,{cell}")
    with pytest.raises(DataValidationError) as info:
        load_folder(_folder(tmp_path, jobs=jobs))
    message = str(info.value)
    assert "jobs.csv, row 2" in message and "1900-01-01" in message and "2200-01-01" in message
    assert ("posted_at" if cell < "2026" else "expires_at") in message


def test_reserved_column_names_are_refused(tmp_path: Path) -> None:
    seekers = SEEKERS.replace(",gender\n", ",_journal_deleted\n").replace(",F\n", ",1\n")
    with pytest.raises(DataValidationError, match="reserved"):
        load_folder(_folder(tmp_path, seekers=seekers))


def test_priority_groups_are_bounded_per_seeker(tmp_path: Path) -> None:
    many = "|".join(f"g{i}" for i in range(9))
    seekers = SEEKERS.replace(",gender\n", ",priority_groups\n").replace(",F\n", f",{many}\n").replace(",M\n", ",\n")
    with pytest.raises(DataValidationError, match="priority_groups.*at most 8 items"):
        load_folder(_folder(tmp_path, seekers=seekers))


def test_a_column_named_twice_in_the_header_is_refused(tmp_path: Path) -> None:
    """pandas would quietly rename the second one to "seeker_id.1" and keep going."""
    seekers = SEEKERS.replace(",gender\n", ",seeker_id\n")
    with pytest.raises(DataValidationError, match="seekers.csv, row 1, column 'seeker_id': column appears twice"):
        load_folder(_folder(tmp_path, seekers=seekers))


@pytest.mark.parametrize(("old", "new", "message"), [
    (",2,full_time", ",200000,full_time", "headcount.*at most 100,000 openings"),
    (",2,full_time", ",5000000000,full_time", "headcount.*outside"),
    (",6000,8000,", ",6000,1e12,", "salary_max.*outside"),
    ("j1,会计", "j" + "1" * 300 + ",会计", "job_id.*at most 256 characters")])
def test_numbers_and_ids_are_bounded(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(DataValidationError, match=f"jobs.csv, row 2, column '{message}"):
        load_folder(_folder(tmp_path, jobs=JOBS.replace(old, new)))
