"""Parquet in and out (issue 16): a folder may hold seekers.parquet etc.; `--out *.parquet` writes Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matcher import api
from matcher.cli import main
from matcher.data import load_folder
from matcher.errors import DataValidationError
from tests.conftest import SmallWorld


def _as_parquet(src: Path, out: Path, *, typed: bool = True) -> Path:
    """The CSV folder as Parquet files; `typed`: numbers and times as Parquet types, lists as list columns."""
    out.mkdir(parents=True)
    for stem in ("seekers", "jobs", "events"):
        frame = pd.read_csv(src / f"{stem}.csv", dtype=str, keep_default_na=False)
        if typed:
            for name in frame.columns:
                if name in ("lat", "lon", "salary_min", "salary_max", "expected_salary_min", "experience_years"):
                    frame[name] = pd.to_numeric(frame[name].replace("", None))
                elif name in ("timestamp", "posted_at", "expires_at", "updated_at"):
                    frame[name] = pd.to_datetime(frame[name].replace("", None), utc=True)
                elif name == "skills":
                    frame[name] = frame[name].map(lambda v: [x for x in v.split("|") if x])
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out / f"{stem}.parquet")
    return out


def test_a_parquet_folder_loads_like_its_csv_twin(small_world: SmallWorld, tmp_path: Path) -> None:
    from_csv = load_folder(small_world.root)
    from_parquet = load_folder(_as_parquet(small_world.root, tmp_path / "pq"))
    for name in ("seekers", "jobs", "events"):
        pd.testing.assert_frame_equal(getattr(from_parquet, name), getattr(from_csv, name), check_dtype=False,
                                      obj=name)


def test_a_bad_parquet_cell_is_named_by_file_row_and_column(small_world: SmallWorld, tmp_path: Path) -> None:
    folder = _as_parquet(small_world.root, tmp_path / "pq", typed=False)
    jobs = pq.read_table(folder / "jobs.parquet").to_pandas()
    jobs.loc[4, "salary_min"] = "8千"
    pq.write_table(pa.Table.from_pandas(jobs, preserve_index=False), folder / "jobs.parquet")
    with pytest.raises(DataValidationError) as caught:
        load_folder(folder)
    assert (caught.value.file, caught.value.row, caught.value.column) == ("jobs.parquet", 6, "salary_min")


def test_csv_and_parquet_of_the_same_file_is_an_error(small_world: SmallWorld, tmp_path: Path) -> None:
    folder = _as_parquet(small_world.root, tmp_path / "pq")
    (folder / "jobs.csv").write_bytes((small_world.root / "jobs.csv").read_bytes())
    with pytest.raises(DataValidationError, match="keep one of them"):
        load_folder(folder)


def test_batch_writes_parquet_with_the_csv_columns_and_rows(small_world: SmallWorld, tmp_path: Path) -> None:
    args = ["batch", "--data", str(small_world.root), "--model", str(small_world.model_dir), "--k", "3"]
    assert main([*args, "--out", str(tmp_path / "m.csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "m.parquet")]) == 0
    assert pq.ParquetFile(tmp_path / "m.parquet").metadata.num_rows > 0  # a real Parquet file, not CSV
    csv = pd.read_csv(tmp_path / "m.csv", dtype={"seeker_id": str, "job_id": str}, keep_default_na=False)
    parquet = pd.read_parquet(tmp_path / "m.parquet")
    assert list(parquet.columns) == list(csv.columns)
    pd.testing.assert_frame_equal(parquet, csv, check_dtype=False)
    assert api.load_data(small_world.root).seekers["seeker_id"].isin(parquet["seeker_id"]).any()
