"""Labour-market view: open positions vs active seekers (求人倍率) and offered salaries per city and occupation.

Public employment services report the 求人倍率 (人社部's quarterly 部分城市公共就业服务机构市场供求状况: 需求人数 /
求职人数, positions demanded per job seeker) per city and occupation. This module computes it from one catalogue
(a `matcher.data.Dataset`) at a point in time, together with the salary the open postings offer, so that a
caseworker can see where a seeker's occupation is short of people and what it pays.

Definitions (every one of them is a choice; the reasons follow each):

- **as_of**: the moment of the snapshot; default `Dataset.max_time`, the same "now" batch matching uses. A naive
  timestamp is UTC. When the data carries no time at all (`max_time` is None) no job is filtered by time.
- **Open job**: ``posted_at <= as_of < expires_at``. An unknown posted_at counts as posted long ago and an unknown
  expires_at as never expiring (the convention of `features.catalogue`): a platform that does not write them
  still lists the ad. Jobs posted after as_of and jobs expired at or before it are not counted anywhere.
- **Openings** of a job: its headcount; unknown or 0 counts 1. A 0 is how several exports write 若干 (some), and an
  open ad with no position to fill is a contradiction, so every open job offers at least one position.
- **City key**: the project's place resolution (`features.geo`, GB/T 2260 codes and names): "哈尔滨", "哈尔滨市",
  "230100" and "230103" (a district) are all ``cn:230100``. A place that resolves to no city (empty, or only a
  province such as "黑龙江省") has no city key. An unknown string keeps itself (lower-cased), as in geo.
  ``city_name`` is the gazetteer's name (the province's for 北京/天津/上海/重庆, "湖北省·省直辖县级行政区划" for the
  directly administered county-level cities), or the key itself for places outside the table.
- **Occupation key**: the job's ``occupation`` / each item of a seeker's ``desired_occupations`` ("|"-separated),
  normalised minimally: Unicode NFKC (full-width → half-width), whitespace trimmed and collapsed, case-folded.
  "Barista", " barista " and "ＢＡＲＩＳＴＡ" are one occupation; no synonyms, and a 职业分类大典 code does not
  meet the label it stands for — both sides are expected to write the same vocabulary (the platform's own).
- **Active seekers**: every seeker in the catalogue — a public employment service's register is the list of
  people currently looking. With ``active_within`` a seeker also needs ``updated_at >= as_of - active_within``
  (unknown updated_at keeps the seeker: absence of a date is not evidence of inactivity). updated_at after
  as_of does not drop a seeker: it is the latest edit, not the registration date.
- **Seeker cells**: a seeker counts once in every (city, occupation) cell they want: each resolved desired city ×
  each desired occupation. When none of the desired cities resolves to a city (none given, or only provinces)
  the home ``city`` is used instead — people look near home unless they say otherwise. A seeker wanting two
  cities counts in both (competition for a job is everyone who would take it), so seekers summed over cells
  exceed the number of seekers; a seeker's aliases of one city ("哈尔滨|230100") count once.
- **ratio** (求人倍率) = openings / active_seekers; NaN when the cell has no seeker (there is no ratio, and
  infinity would break means and sorts), 0.0 where seekers have no opening.
- **Salary**: a job's offered monthly salary (CNY) is the midpoint of salary_min and salary_max; with one bound
  known, that bound; none, or a non-positive value (面议 written as 0), is no salary. ``salary_p25/p50/p75`` are
  linear-interpolated quantiles (numpy's default) over the cell's open jobs that state one, one value per posting
  (not per position: a posting sets one pay, and its headcount is often a placeholder); ``n_salaries`` says how
  many postings that was, NaN quantiles when 0.
- **Rows**: one per combination of the keys in ``by`` (a subset of ``("city", "occupation")``, in that order of
  columns) that has an open job or an active seeker with a known value for *each* key of the row; open jobs or
  seekers lacking one are reported in `MarketView.unplaced_jobs` / ``unplaced_seekers``, not guessed.
  ``min_cell`` drops rows where both open_jobs and active_seekers are below it (thin cells give noisy ratios).
- **Totals** (``totals=True``): rows for each coarser grouping, the missing keys written ``"*"``: with the default
  ``by`` that is one row per city (occupation "*") and one grand total (city "*", occupation "*"). They are
  computed from the raw jobs and seekers, not summed from the cells: a city row counts each seeker once, and
  includes jobs and seekers with no occupation. Sorting the table by its keys puts a city's "*" row first.

Everything is vectorized: list cells are exploded with pandas string methods, places are resolved once per
distinct string, and counts and quantiles are pandas groupbys — no Python loop per job or seeker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import numpy as np
import pandas as pd

from features.geo import load_gazetteer
from matcher.data import Dataset
from matcher.errors import InvalidRequestError

__all__ = ["COLUMNS", "KEYS", "TOTAL", "MarketView", "labour_market", "city_names", "normalise_occupations"]

KEYS: Final[tuple[str, ...]] = ("city", "occupation")
"""The keys a view can be grouped by, in column order."""
TOTAL: Final[str] = "*"
"""Key value of total rows (a key the row does not split by)."""

COLUMNS: Final[tuple[str, ...]] = ("open_jobs", "openings", "active_seekers", "ratio", "n_salaries", "salary_p25",
                                   "salary_p50", "salary_p75")
_QUANTILES: Final[tuple[float, ...]] = (0.25, 0.5, 0.75)
_MUNICIPALITIES: Final[frozenset[str]] = frozenset({"11", "12", "31", "50"})
_ALL: Final[str] = "_all"  # the dummy group key of a grouping by nothing


@dataclass(frozen=True)
class MarketView:
    """The result of `labour_market`.

    table: one row per cell, columns = the `by` keys (plus ``city_name`` after ``city``) and `COLUMNS`; sorted by
    the keys. counts are int64, ratio and salaries float64 (NaN = none).
    as_of: the snapshot time actually used (None: no time filter, the data has no times).
    open_jobs / active_seekers: totals over the whole catalogue, whatever their keys.
    unplaced_jobs / unplaced_seekers: those of them without a value for some key in `by`, hence in no row
    (a seeker with neither a desired occupation nor, say, any city).
    """

    table: pd.DataFrame
    as_of: pd.Timestamp | None
    by: tuple[str, ...]
    open_jobs: int
    active_seekers: int
    unplaced_jobs: int
    unplaced_seekers: int

    def records(self) -> list[dict[str, Any]]:
        """The table as JSON-ready dicts (NaN → None, numpy scalars → Python), e.g. for an RPC or `--json`."""
        out: list[dict[str, Any]] = []
        for row in self.table.to_dict(orient="records"):
            out.append({str(k): _plain(v) for k, v in row.items()})
        return out


def _plain(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def normalise_occupations(values: pd.Series) -> pd.Series:
    """Occupation labels → keys: NFKC, trimmed, inner whitespace collapsed, case-folded; empty → missing (NA)."""
    out = (values.fillna("").astype(str).str.normalize("NFKC").str.strip()
           .str.replace(r"\s+", " ", regex=True).str.casefold())
    return out.where(out.ne(""))


@lru_cache(maxsize=1)
def _cn_city_names() -> dict[str, str]:
    def read(name: str) -> pd.DataFrame:
        with resources.as_file(resources.files("features.data").joinpath(name)) as path:
            return pd.read_csv(path, dtype=str)

    provinces = read("cn_provinces.csv")
    cities = read("cn_cities.csv")
    province_name = dict(zip(provinces["code"], provinces["name"], strict=True))
    names: dict[str, str] = {}
    for code4, name, prov in zip(cities["city_code"], cities["city_name"], cities["province_code"], strict=True):
        if prov in _MUNICIPALITIES:  # 市辖区 / 县 rows: the municipality is the city (features.geo._city_code)
            names[f"cn:{prov}0100"] = province_name.get(prov, name)
        elif name == "省直辖县级行政区划":
            names[f"cn:{code4}00"] = f"{province_name.get(prov, '')}·{name}"
        else:
            names[f"cn:{code4}00"] = name
    return names


def city_names(keys: pd.Series) -> pd.Series:
    """Human-readable names for city keys: gazetteer names for ``cn:`` keys, the place itself for ``us:`` and
    unresolved keys, `TOTAL` stays `TOTAL`."""
    table = _cn_city_names()
    text = keys.astype(str)
    named = text.map(table)
    fallback = text.str.replace(r"^us:", "", regex=True)
    return named.fillna(fallback).astype(object)


def place_names(places: pd.Series) -> pd.Series:
    """Readable city names for FORMAT.md `city` cells (codes such as 610113 or names): resolved by the gazetteer,
    named by `city_names`; a cell that does not resolve is shown as written."""
    from features.geo import load_gazetteer

    keys = pd.Series(load_gazetteer().resolve(places).city_key, index=places.index)
    return city_names(keys.fillna(places))


def _check_by(by: Sequence[str]) -> tuple[str, ...]:
    if isinstance(by, str):
        by = (by,)
    chosen = tuple(by)
    unknown = [k for k in chosen if k not in KEYS]
    if unknown or len(set(chosen)) != len(chosen):
        raise InvalidRequestError(f"by: expected distinct keys among {KEYS}, got {chosen!r}")
    return tuple(k for k in KEYS if k in chosen)


def _as_utc(stamp: pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(stamp)
    if pd.isna(ts):
        raise InvalidRequestError(f"as_of: not a time: {stamp!r}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _open_jobs(jobs: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """Open jobs as (city, occupation, openings, salary) rows; keys None where unknown."""
    if as_of is None:
        is_open = np.ones(len(jobs), dtype=bool)
    else:
        posted = jobs["posted_at"]
        expires = jobs["expires_at"]
        is_open = ((posted.isna() | (posted <= as_of)) & (expires.isna() | (expires > as_of))).to_numpy()
    open_jobs = jobs.loc[is_open]
    headcount = open_jobs["headcount"].astype("float64")
    low = open_jobs["salary_min"].astype("float64")
    high = open_jobs["salary_max"].astype("float64")
    salary = pd.concat([low, high], axis=1).mean(axis=1, skipna=True)  # midpoint, or the one known bound
    return pd.DataFrame({
        "city": load_gazetteer().resolve(open_jobs["city"]).city_key,
        "occupation": normalise_occupations(open_jobs["occupation"]).to_numpy(dtype=object),
        "openings": headcount.where(headcount > 0, 1.0).to_numpy(dtype=np.float64),
        "salary": salary.where(salary > 0).to_numpy(dtype=np.float64),
    })


def _active_seekers(seekers: pd.DataFrame, as_of: pd.Timestamp | None,
                    active_within: pd.Timedelta | None) -> np.ndarray:
    """Row positions of the active seekers."""
    if active_within is None:
        return np.arange(len(seekers))
    if as_of is None:
        raise InvalidRequestError("active_within: needs an as_of (the data has no times)")
    updated = seekers["updated_at"]
    keep = (updated.isna() | (updated >= as_of - active_within)).to_numpy()
    return np.flatnonzero(keep)


def _explode(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """List cells of the given rows → one item per row (index = seeker position), empty items dropped."""
    items = column.iloc[rows].fillna("").astype(str).str.split("|")
    items.index = pd.Index(rows)
    flat = items.explode().astype(str).str.strip()
    return flat[flat.ne("")]


def _seeker_keys(seekers: pd.DataFrame, rows: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per key, the distinct (seeker, value) pairs of the active seekers (see the module docstring)."""
    gaz = load_gazetteer()
    wanted = _explode(seekers["desired_cities"], rows)
    desired = pd.DataFrame({"seeker": wanted.index.to_numpy(), "city": gaz.resolve(wanted).city_key})
    desired = desired[desired["city"].notna()]
    home = pd.DataFrame({"seeker": rows, "city": gaz.resolve(seekers["city"].iloc[rows]).city_key})
    home = home[home["city"].notna() & ~np.isin(rows, desired["seeker"].to_numpy())]
    cities = pd.concat([desired, home], ignore_index=True).drop_duplicates()

    labels = _explode(seekers["desired_occupations"], rows)
    occupations = pd.DataFrame({"seeker": labels.index.to_numpy(),
                                "occupation": normalise_occupations(labels).to_numpy(dtype=object)})
    occupations = occupations[occupations["occupation"].notna()].drop_duplicates()
    return {"city": cities, "occupation": occupations}


def _job_cells(jobs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    placed = jobs.dropna(subset=keys).assign(**{_ALL: TOTAL})
    group = placed.groupby(keys or [_ALL], sort=False)
    counts = group.agg(open_jobs=("openings", "size"), openings=("openings", "sum"),
                       n_salaries=("salary", "count"))
    if len(placed):
        quantiles = group["salary"].quantile(np.array(_QUANTILES)).unstack()
        quantiles = quantiles.reindex(columns=list(_QUANTILES))
    else:
        quantiles = pd.DataFrame(index=counts.index, columns=list(_QUANTILES), dtype="float64")
    quantiles.columns = pd.Index([f"salary_p{round(q * 100)}" for q in _QUANTILES])
    return counts.join(quantiles)


def _seeker_cells(rows: np.ndarray, pairs: dict[str, pd.DataFrame], keys: list[str]) -> pd.Series:
    combos = pd.DataFrame({"seeker": rows})
    for key in keys:  # each pairs frame is distinct per seeker, so the merged combinations are distinct too
        combos = combos.merge(pairs[key], on="seeker", how="inner")
    combos[_ALL] = TOTAL
    return combos.groupby(keys or [_ALL], sort=False).size().rename("active_seekers")


def _cells(jobs: pd.DataFrame, rows: np.ndarray, pairs: dict[str, pd.DataFrame], keys: list[str],
           by: tuple[str, ...]) -> pd.DataFrame:
    cells = _job_cells(jobs, keys).join(_seeker_cells(rows, pairs, keys), how="outer")
    cells = cells.reset_index()
    if not keys:
        cells = cells.drop(columns=[_ALL])
    for key in by:
        if key not in keys:
            cells[key] = TOTAL
    return cells


def labour_market(data: Dataset, *, as_of: pd.Timestamp | str | None = None,
                  by: Sequence[str] = KEYS, min_cell: int = 1, totals: bool = False,
                  active_within: pd.Timedelta | None = None) -> MarketView:
    """Open positions vs active seekers (求人倍率) and offered salary quantiles per cell of `by`.

    data: a loaded catalogue. as_of: snapshot time (default `data.max_time`; naive = UTC). by: keys among
    ("city", "occupation"), any subset (e.g. ("city",) for one row per city, () for one national row).
    min_cell: keep rows with open_jobs >= min_cell or active_seekers >= min_cell. totals: also add the rows of
    every coarser grouping (keys written "*"). active_within: only seekers updated within this span before as_of
    (default: every seeker). Definitions: the module docstring.
    """
    keys = _check_by(by)
    if min_cell < 0:
        raise InvalidRequestError(f"min_cell: must not be negative, got {min_cell}")
    stamp = _as_utc(as_of) if as_of is not None else data.max_time
    jobs = _open_jobs(data.jobs, stamp)
    rows = _active_seekers(data.seekers, stamp, active_within)
    pairs = _seeker_keys(data.seekers, rows)

    groupings = [list(keys[:k]) for k in range(len(keys) + 1)] if totals else [list(keys)]
    table = pd.concat([_cells(jobs, rows, pairs, g, keys) for g in groupings], ignore_index=True)
    for name in ("open_jobs", "openings", "n_salaries", "active_seekers"):
        table[name] = table[name].fillna(0).astype(np.int64)
    table["ratio"] = table["openings"] / table["active_seekers"].where(table["active_seekers"] > 0)
    table = table[(table["open_jobs"] >= min_cell) | (table["active_seekers"] >= min_cell)]
    table = table.sort_values(list(keys)).reset_index(drop=True) if keys else table.reset_index(drop=True)
    columns = list(keys) + list(COLUMNS)
    if "city" in keys:
        table.insert(1, "city_name", city_names(table["city"]))
        columns.insert(1, "city_name")
    table = table[columns]

    placed_jobs = jobs.dropna(subset=list(keys))
    placed_seekers = np.ones(len(rows), dtype=bool)
    for key in keys:
        placed_seekers &= np.isin(rows, pairs[key]["seeker"].to_numpy())
    return MarketView(table=table, as_of=stamp, by=keys, open_jobs=len(jobs), active_seekers=len(rows),
                      unplaced_jobs=len(jobs) - len(placed_jobs),
                      unplaced_seekers=int((~placed_seekers).sum()))
