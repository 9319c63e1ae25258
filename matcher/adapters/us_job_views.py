"""Turn the US hourly-jobs board export (Job_Views, Experience, Positions_Of_Interest) into FORMAT.md.

Seekers: every applicant who viewed a job or wrote a work history / position of interest. Their text is the
positions of interest followed by the work history (position, employer, place, description); `city` is the
place of the most recent job in that history ("City, ST"); `desired_occupations` are the positions of interest.
Jobs: one row per viewed job id (title, company, place, industry); the board's job table was not shared, so
`posted_at` is the job's first view, the earliest moment we know it was online.
Events: one `viewed` event per view, with the dwell time in seconds as `value`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matcher.data import Dataset, parse_time, write_folder
from matcher.errors import DataValidationError

__all__ = ["convert_us_job_views"]


def _place(city: pd.Series, state: pd.Series) -> pd.Series:
    city = city.fillna("").astype(str).str.strip().str.title()
    state = state.fillna("").astype(str).str.strip().str.upper()
    return (city + ", " + state).where(city.ne("") & state.ne(""), "")


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataValidationError(path.name, None, None, f"file not found in {path.parent}")
    # The export writes missing cells as the letters NA; as text they would become a place "Na, NA" shared by
    # a fifth of all seekers, or an employer called "NA".
    return pd.read_csv(path, dtype=str, keep_default_na=False).replace({"NA": ""})


def _clean(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.replace(r"\s+", " ", regex=True).str.strip()


def _join_nonempty(left: pd.Series, right: pd.Series, sep: str) -> pd.Series:
    """left + sep + right, without a dangling separator where either side is empty."""
    return left + pd.Series(np.where(left.ne("") & right.ne(""), sep, ""), index=left.index) + right


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.str.replace(" UTC", "", regex=False), errors="coerce", utc=True)


def _seekers(views: pd.DataFrame, exp: pd.DataFrame, poi: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    exp = exp.assign(
        start=pd.to_datetime(exp["Start.Date"], errors="coerce"),
        place=_place(exp["City"], exp["State.Code"]),
        line=_join_nonempty(_clean(exp["Position.Name"]), _clean(exp["Employer.Name"]), " at ")
        .pipe(_join_nonempty, _place(exp["City"], exp["State.Code"]), ", ")
        .pipe(_join_nonempty, _clean(exp["Job.Description"]), ". "),
        updated=_utc(exp["Updated.At"]),
    ).sort_values(["Applicant.ID", "start"], ascending=[True, False], na_position="last")
    history = exp.groupby("Applicant.ID").agg(
        history=("line", " ".join),
        city=("place", lambda s: next((p for p in s if p), "")),
        exp_updated=("updated", "max"),
    )
    first = exp.dropna(subset=["start"]).groupby("Applicant.ID")["start"].min()
    out_of_work = _long_term_unemployed(exp, now)
    poi = poi.assign(p=_clean(poi["Position.Of.Interest"]), updated=_utc(poi["Updated.At"]))
    poi = poi[poi["p"].ne("") & poi["p"].ne("NA")]
    interests = poi.groupby("Applicant.ID").agg(
        desired=("p", lambda s: "|".join(dict.fromkeys(v.replace("|", "/") for v in s))),
        interest_text=("p", lambda s: "Looking for: " + ", ".join(dict.fromkeys(s)) + "."),
        poi_updated=("updated", "max"),
    )
    ids = pd.Index(sorted(set(views["Applicant.ID"]) | set(history.index) | set(interests.index)),
                   name="Applicant.ID")
    out = pd.DataFrame(index=ids).join(history).join(interests)
    text = (out["interest_text"].fillna("") + " " + out["history"].fillna("")).str.strip()
    last_year = now.tz_convert(None)
    return pd.DataFrame({
        "seeker_id": ids.astype(str),
        "text": text.to_numpy(),
        "city": out["city"].fillna("").to_numpy(),
        "experience_years": ((last_year - first.reindex(ids)).dt.days / 365.25).clip(lower=0).round(1).to_numpy(),
        "desired_occupations": out["desired"].fillna("").to_numpy(),
        "updated_at": out[["exp_updated", "poi_updated"]].max(axis=1).to_numpy(),
        "priority_groups": np.where(out_of_work.reindex(ids, fill_value=False).to_numpy(), "long_term_unemployed", ""),
    })


_LONG_TERM = pd.Timedelta(days=365)


def _long_term_unemployed(exp: pd.DataFrame, now: pd.Timestamp) -> pd.Series:
    """Per applicant: a work history whose every job has ended, the latest at least a year before the export.

    The board records no employment status; this is the closest the history allows to 长期失业 (registered
    unemployed for a long time). Jobs without an end date count as current; applicants without dated jobs are
    not flagged (unknown is not unemployed)."""
    end = pd.to_datetime(exp["End.Date"], errors="coerce")
    dated = exp.assign(end=end, current=end.isna() & exp["start"].notna())
    per = dated.groupby("Applicant.ID").agg(current=("current", "any"), last_end=("end", "max"))
    cutoff = now.tz_convert(None) - _LONG_TERM
    return (~per["current"]) & per["last_end"].notna() & (per["last_end"] <= cutoff)


def _jobs(views: pd.DataFrame) -> pd.DataFrame:
    views = views.sort_values("start")
    first = views.groupby("Job.ID").agg(
        title=("Position", "first"), full=("Title", "first"), company=("Company", "first"),
        city=("City", "first"), state=("State.Code", "first"), industry=("Industry", "first"),
        posted_at=("start", "min"),
    )
    industry = _clean(first["industry"]).replace("NA", "")
    return pd.DataFrame({
        "job_id": first.index.astype(str),
        "employer_id": _clean(first["company"]).to_numpy(),
        "title": _clean(first["title"]).to_numpy(),
        "text": (_clean(first["full"]) + ". " + industry).str.strip(" .").to_numpy(),
        "industry": industry.to_numpy(),
        "city": _place(first["city"], first["state"]).to_numpy(),
        "posted_at": first["posted_at"].to_numpy(),
    })


def convert_us_job_views(src: str | Path, out: str | Path, *, start: str | None = None,
                         end: str | None = None) -> Dataset:
    """Write seekers.csv, jobs.csv and events.csv for views in [start, end) into `out`; return the Dataset."""
    src = Path(src)
    views = _read(src / "Job_Views.csv")
    exp = _read(src / "Experience.csv")
    poi = _read(src / "Positions_Of_Interest.csv")
    views = views.assign(start=_utc(views["View.Start"]))
    if start is not None:
        views = views[views["start"] >= parse_time(start, "--start")]
    if end is not None:
        until = parse_time(end, "--end")
        views = views[views["start"] < until]
        # A profile written after the window is future knowledge for it: keep only rows created before the end.
        exp = exp[_utc(exp["Created.At"]).fillna(until) < until]
        poi = poi[_utc(poi["Created.At"]).fillna(until) < until]
    now = views["start"].max() if len(views) else pd.Timestamp("2015-01-26", tz="UTC")
    seekers = _seekers(views, exp, poi, now)
    jobs = _jobs(views)
    duration = pd.to_numeric(views["View.Duration"], errors="coerce")
    events = pd.DataFrame({
        "seeker_id": views["Applicant.ID"].astype(str).to_numpy(),
        "job_id": views["Job.ID"].astype(str).to_numpy(),
        "event": "viewed",
        "timestamp": views["start"].to_numpy(),
        "value": duration.where(duration >= 0).to_numpy(),
    }).sort_values(["timestamp", "seeker_id", "job_id"], kind="stable")
    data = Dataset(seekers=seekers, jobs=jobs, events=events.reset_index(drop=True))
    write_folder(data, out)
    return data
