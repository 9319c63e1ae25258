"""Read and validate a FORMAT.md data folder (seekers.csv, jobs.csv, optional events.csv)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.errors import DataValidationError, MatcherError
from matcher.schema import (
    EVENT_COLUMNS,
    EVENT_GRADES,
    JOB_COLUMNS,
    JOB_TYPES,
    REQUIRED,
    SEEKER_COLUMNS,
    ColumnKind,
)

__all__ = ["Dataset", "load_folder", "write_folder", "fingerprint_folder", "parse_time", "validate_seekers",
           "validate_jobs", "validate_events", "index_events", "empty_events", "read_csv_cells", "TIME_RANGE",
           "MAX_PRIORITY_GROUPS", "MAX_ID_CHARS", "NUMBER_LIMIT", "MAX_HEADCOUNT"]

_log = logging.getLogger(__name__)
_FIRST_DATA_ROW = 2  # rows are numbered as a spreadsheet shows them: the header is row 1
# Times the engine accepts: nanosecond timestamps end in 2262, and a posting dated 9999 would otherwise be taken by
# one step and refused by the next (issue 13: a journalled write that no restart could load).
TIME_RANGE = (pd.Timestamp("1900-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC"))
MAX_PRIORITY_GROUPS = 8  # per seeker; the catalogue keeps at most 63 distinct groups (one bit each)
MAX_ID_CHARS = 256       # ids are keys in every index, log line and response: a 1 MB id is a mistake or an attack
# Every number a file or a call can hold (salaries, years, coordinates, dwell, headcount) lies well inside this:
# beyond it sums and products downstream lose precision or overflow (a headcount of 2^63 - 1 wrapped a city's total
# negative in GetLabourMarket).
NUMBER_LIMIT = 1e9
MAX_HEADCOUNT = 100_000  # openings of one vacancy


@dataclass
class Dataset:
    """One data folder, validated. Frames keep FORMAT.md column names; times are UTC timestamps.

    `events` carries `seeker_idx` / `job_idx` (positions in `seekers` / `jobs`, -1 when the id is not in the
    catalogue, e.g. a job that has since been deleted) and `grade`.
    """

    seekers: pd.DataFrame
    jobs: pd.DataFrame
    events: pd.DataFrame
    root: Path | None = None

    @property
    def max_time(self) -> pd.Timestamp | None:
        """The default 'now' for batch matching: the latest event or job posting in the folder.

        Seekers' updated_at is a fallback only: profiles are edited long after the last event of an export (in the
        US set, by three months), and 'now' decides which jobs are open and how old they are."""
        for candidates in ((self.events["timestamp"].max(), self.jobs["posted_at"].max()),
                           (self.seekers["updated_at"].max(),)):
            stamps = [s for s in candidates if pd.notna(s)]
            if stamps:
                return max(stamps)
        return None


def parse_time(value: str, what: str) -> pd.Timestamp:
    """An ISO 8601 time given by a user (naive = UTC); a MatcherError naming `what` if it is not one."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise MatcherError(f"{what}: expected an ISO 8601 time such as 2015-01-26 or 2015-01-26T08:00Z, "
                           f"got {value!r}") from exc
    if pd.isna(stamp):
        raise MatcherError(f"{what}: expected an ISO 8601 time, got {value!r}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def read_csv_cells(path: str | Path) -> pd.DataFrame:
    """A FORMAT.md CSV as text cells; a missing, empty, non-UTF-8 or malformed file is a DataValidationError."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(path.name, None, None, f"file not found in {path.parent}")
    try:
        header = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", header=None, nrows=1)
        seen: set[str] = set()
        for name in header.iloc[0].str.strip() if len(header) else ():
            if name in seen:  # pandas would rename the second "seeker_id" to "seeker_id.1" and carry on
                raise DataValidationError(path.name, 1, name, "column appears twice in the header")
            seen.add(name)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(path.name, None, None, "empty file: expected a header row") from exc
    except UnicodeDecodeError as exc:
        raise DataValidationError(path.name, None, None, f"not UTF-8 ({exc.reason})") from exc
    except pd.errors.ParserError as exc:
        raise DataValidationError(path.name, None, None, f"not valid CSV: {exc}") from exc


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + _FIRST_DATA_ROW


def _coerce(frame: pd.DataFrame, file: str, columns: dict[str, ColumnKind]) -> pd.DataFrame:
    out: dict[str, pd.Series] = {}  # one DataFrame built at the end: inserting columns one by one costs a live
    for name, kind in columns.items():  # upsert's single row more than the checks do
        raw = frame[name].str.strip() if name in frame else pd.Series("", index=frame.index)
        empty = raw.eq("").to_numpy()
        if kind == "id":
            if empty.any():
                raise DataValidationError(file, _first_bad(empty), name, "id is empty")
            long = (raw.str.len() > MAX_ID_CHARS).to_numpy()
            if long.any():
                raise DataValidationError(file, _first_bad(long), name, f"ids of at most {MAX_ID_CHARS} characters")
            out[name] = raw
        elif kind in ("str", "list"):
            out[name] = raw
        elif kind in ("float", "int"):
            values = pd.to_numeric(raw.where(~empty), errors="coerce").astype("float64")
            bad = values.isna().to_numpy() & ~empty
            if bad.any():
                row = _first_bad(bad)
                raise DataValidationError(file, row, name, "expected a number", raw.iloc[row - 2])
            finite = np.isfinite(values.to_numpy()) | empty
            if not finite.all():
                raise DataValidationError(file, _first_bad(~finite), name, "expected a finite number")
            huge = (values.abs() > NUMBER_LIMIT).to_numpy()
            if huge.any():
                raise DataValidationError(file, _first_bad(huge), name, f"outside [-{NUMBER_LIMIT:.0e}, "
                                                                        f"{NUMBER_LIMIT:.0e}]")
            if kind == "int":
                frac = (values.fillna(0) % 1 != 0).to_numpy()
                if frac.any():
                    raise DataValidationError(file, _first_bad(frac), name, "expected a whole number")
            out[name] = values
        else:  # time
            stamps = pd.to_datetime(raw.where(~empty), errors="coerce", utc=True, format="ISO8601")
            bad = stamps.isna().to_numpy() & ~empty
            if bad.any():
                row = _first_bad(bad)
                raise DataValidationError(
                    file, row, name, f"expected an ISO 8601 time between {TIME_RANGE[0]:%Y-%m-%d} and "
                                     f"{TIME_RANGE[1]:%Y-%m-%d}", raw.iloc[row - 2])
            outside = ((stamps < TIME_RANGE[0]) | (stamps >= TIME_RANGE[1])).to_numpy() & ~empty
            if outside.any():
                row = _first_bad(outside)
                raise DataValidationError(file, row, name, f"outside the supported range {TIME_RANGE[0]:%Y-%m-%d} .. "
                                                           f"{TIME_RANGE[1]:%Y-%m-%d}", raw.iloc[row - 2])
            out[name] = stamps
    # Extra columns (protected attributes among them) are kept for the fairness audit, never as features. Names
    # starting with "_" are the engine's own (the journal's deletion mark): a user's column must not collide.
    for name in frame.columns:
        if str(name).startswith("_"):
            raise DataValidationError(file, 1, str(name), "column names starting with '_' are reserved")
        if name not in out:
            out[name] = frame[name]
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def _check_required_columns(frame: pd.DataFrame, file: str, kind: str) -> None:
    for name in REQUIRED[kind]:
        if name not in frame.columns:
            raise DataValidationError(file, 1, name, "required column is missing from the header")


def _check_unique(frame: pd.DataFrame, file: str, column: str) -> None:
    dup = frame[column].duplicated().to_numpy()
    if dup.any():
        row = _first_bad(dup)
        first = int(np.flatnonzero(frame[column].eq(frame[column].iloc[row - 2]).to_numpy())[0]) + _FIRST_DATA_ROW
        raise DataValidationError(file, row, column, f"duplicate id (first in row {first})",
                                  frame[column].iloc[row - 2])


def _check_range(frame: pd.DataFrame, file: str, low: str, high: str) -> None:
    bad = (frame[low] > frame[high]).to_numpy()
    if bad.any():
        raise DataValidationError(file, _first_bad(bad), low, f"{low} is greater than {high}")


def _check_non_negative(frame: pd.DataFrame, file: str, columns: list[str]) -> None:
    for name in columns:
        bad = (frame[name] < 0).to_numpy()
        if bad.any():
            raise DataValidationError(file, _first_bad(bad), name, "must not be negative")


def _check_coordinates(frame: pd.DataFrame, file: str) -> None:
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        bad = (frame[name].abs() > limit).to_numpy()
        if bad.any():
            raise DataValidationError(file, _first_bad(bad), name, f"outside [-{limit:g}, {limit:g}] degrees")
    half = (frame["lat"].isna() != frame["lon"].isna()).to_numpy()
    if half.any():
        raise DataValidationError(file, _first_bad(half), "lat", "lat and lon must be given together")


def _check_list_sizes(frame: pd.DataFrame, file: str, column: str, most: int, longest: int) -> None:
    items = frame[column].str.split("|")
    too_many = (items.map(len) > most).to_numpy() & frame[column].ne("").to_numpy()
    if too_many.any():
        raise DataValidationError(file, _first_bad(too_many), column, f"at most {most} items")
    too_long = items.map(lambda values: max((len(v) for v in values), default=0) > longest).to_numpy()
    if too_long.any():
        raise DataValidationError(file, _first_bad(too_long), column, f"items of at most {longest} characters")


def validate_seekers(frame: pd.DataFrame, file: str = "seekers.csv") -> pd.DataFrame:
    """Typed, checked seeker rows from string cells (a CSV read, or records sent over gRPC)."""
    _check_required_columns(frame, file, "seekers.csv")
    seekers = _coerce(frame, file, SEEKER_COLUMNS)
    _check_list_sizes(seekers, file, "priority_groups", MAX_PRIORITY_GROUPS, 64)
    _check_unique(seekers, file, "seeker_id")
    _check_coordinates(seekers, file)
    _check_range(seekers, file, "expected_salary_min", "expected_salary_max")
    _check_non_negative(seekers, file, ["experience_years", "expected_salary_min"])
    return seekers


def validate_jobs(frame: pd.DataFrame, file: str = "jobs.csv") -> pd.DataFrame:
    """Typed, checked job rows from string cells."""
    _check_required_columns(frame, file, "jobs.csv")
    jobs = _coerce(frame, file, JOB_COLUMNS)
    _check_unique(jobs, file, "job_id")
    _check_coordinates(jobs, file)
    _check_range(jobs, file, "salary_min", "salary_max")
    _check_non_negative(jobs, file, ["experience_min_years", "salary_min", "headcount"])
    crowd = (jobs["headcount"] > MAX_HEADCOUNT).to_numpy()
    if crowd.any():
        raise DataValidationError(file, _first_bad(crowd), "headcount", f"at most {MAX_HEADCOUNT:,} openings")
    bad_type = (~jobs["job_type"].isin(JOB_TYPES) & jobs["job_type"].ne("")).to_numpy()
    if bad_type.any():
        row = _first_bad(bad_type)
        raise DataValidationError(file, row, "job_type",
                                  f"expected one of {sorted(JOB_TYPES)}", jobs["job_type"].iloc[row - 2])
    expired_first = (jobs["expires_at"] < jobs["posted_at"]).to_numpy()
    if expired_first.any():
        raise DataValidationError(file, _first_bad(expired_first), "expires_at", "is before posted_at")
    return jobs


def empty_events() -> pd.DataFrame:
    events = pd.DataFrame({name: pd.Series(dtype="object") for name in EVENT_COLUMNS})
    events["timestamp"] = pd.Series(dtype="datetime64[ns, UTC]")
    events["value"] = pd.Series(dtype="float64")
    events["grade"] = pd.Series(dtype="int8")
    return events


def validate_events(frame: pd.DataFrame, file: str = "events.csv") -> pd.DataFrame:
    """Typed, checked event rows with their relevance `grade` (no catalogue positions yet: `index_events`)."""
    _check_required_columns(frame, file, "events.csv")
    events = _coerce(frame, file, EVENT_COLUMNS)
    bad = (~events["event"].isin(EVENT_GRADES)).to_numpy()
    if bad.any():
        row = _first_bad(bad)
        raise DataValidationError(file, row, "event",
                                  f"expected one of {sorted(EVENT_GRADES)}", events["event"].iloc[row - 2])
    events["grade"] = events["event"].map(EVENT_GRADES).astype("int8")
    return events


def index_events(events: pd.DataFrame, seekers: pd.DataFrame, jobs: pd.DataFrame, file: str = "events.csv"
                 ) -> pd.DataFrame:
    """Add seeker_idx / job_idx (row positions, -1 when the id is not in the catalogue)."""
    events = events.copy()
    events["seeker_idx"] = pd.Index(seekers["seeker_id"]).get_indexer(events["seeker_id"]).astype(np.int64)
    events["job_idx"] = pd.Index(jobs["job_id"]).get_indexer(events["job_id"]).astype(np.int64)
    unknown = int(((events["seeker_idx"] < 0) | (events["job_idx"] < 0)).sum())
    if unknown:
        _log.info("%s: %d events name a seeker or job not in the catalogue; kept for history only", file, unknown)
    return events


def _parquet_cells(path: Path) -> pd.DataFrame:
    """A Parquet table as the text cells a CSV would hold (numbers as written, times as ISO 8601, lists joined
    with '|', missing as ''), so that one validation serves both formats and names rows the same way."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataValidationError(path.name, None, None, f"not a readable Parquet file ({exc})") from exc
    cells = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        values = column.to_pandas()
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            values = values.map(lambda v: "|".join(map(str, v)) if v is not None else None)
        elif pa.types.is_timestamp(column.type):
            stamps = pd.to_datetime(values, utc=True)
            values = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(stamps.notna())
        cells[name] = values.astype(object).where(values.notna(), "").astype(str)
    return pd.DataFrame(cells)


def _input_file(root: Path, stem: str) -> Path | None:
    """`stem`.parquet or `stem`.csv, whichever the folder holds (None: neither; both is an error)."""
    csv, parquet = root / f"{stem}.csv", root / f"{stem}.parquet"
    if csv.exists() and parquet.exists():
        raise DataValidationError(csv.name, None, None, f"{parquet.name} is there too: keep one of them")
    return parquet if parquet.exists() else csv if csv.exists() else None


def _read_cells(path: Path) -> pd.DataFrame:
    return _parquet_cells(path) if path.suffix == ".parquet" else read_csv_cells(path)


def load_folder(root: str | Path) -> Dataset:
    """Load and validate a FORMAT.md folder (each file as .csv or .parquet). Raises DataValidationError naming
    file, row and column."""
    root = Path(root)
    paths = {stem: _input_file(root, stem) for stem in ("seekers", "jobs", "events")}
    seekers_path = paths["seekers"] or root / "seekers.csv"  # absent: read_csv_cells names the missing file
    jobs_path = paths["jobs"] or root / "jobs.csv"
    seekers = validate_seekers(_read_cells(seekers_path), seekers_path.name)
    jobs = validate_jobs(_read_cells(jobs_path), jobs_path.name)
    events_path = paths["events"]
    if events_path is None:
        return Dataset(seekers=seekers, jobs=jobs, events=index_events(empty_events(), seekers, jobs), root=root)
    events = validate_events(_read_cells(events_path), events_path.name)
    return Dataset(seekers=seekers, jobs=jobs, events=index_events(events, seekers, jobs, events_path.name),
                   root=root)


def _format_times(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.DatetimeTZDtype):
            out[name] = out[name].dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    return out


def write_folder(data: Dataset, root: str | Path) -> None:
    """Write a Dataset back as a FORMAT.md folder (each file replaced atomically)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    parts = {
        "seekers.csv": data.seekers,
        "jobs.csv": data.jobs,
        "events.csv": data.events.drop(columns=["grade", "seeker_idx", "job_idx"], errors="ignore"),
    }
    for name, frame in parts.items():
        tmp = root / f".{name}.tmp"
        _format_times(frame).to_csv(tmp, index=False, encoding="utf-8")
        tmp.replace(root / name)


def fingerprint_folder(root: str | Path) -> str:
    """sha256 over the folder's input files: recorded with every model so a run can be traced to its data."""
    digest = hashlib.sha256()
    for name in ("seekers.csv", "jobs.csv", "events.csv", "seekers.parquet", "jobs.parquet", "events.parquet"):
        path = Path(root) / name
        if path.exists():
            digest.update(name.encode())
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()
