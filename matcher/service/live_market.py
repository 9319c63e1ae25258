"""The labour-market view the service answers GetLabourMarket from, kept current with the writes it acknowledges.

`labour_market` is a pandas computation over whole frames (seconds at a million seekers), so views are cached per
grouping. Writes do not recompute anything: they queue their rows (upserts) or ids (deletes), and the next
GetLabourMarket call folds the queue into the frames once and recomputes only the grouping it asks for. A platform
that upserts all day therefore sees every acknowledged change in the next view, and pays for it only when it asks.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pandas as pd

from features.geo import load_gazetteer
from matcher.data import Dataset
from matcher.errors import InvalidRequestError
from matcher.policy.market import MarketView, labour_market
from matcher.service.live import DELETED_COLUMN
from matcher.service.messages import MarketQuery
from matcher.service.store import ID_COLUMN, Kind

__all__ = ["LiveMarket"]



def _without_deleted(frame: pd.DataFrame) -> pd.DataFrame:
    if DELETED_COLUMN not in frame.columns:
        return frame
    return frame[frame[DELETED_COLUMN].fillna("").astype(str) != "1"].drop(columns=[DELETED_COLUMN])


class LiveMarket:
    """Seekers and jobs as the service holds them (deleted rows left out), pending writes, cached views."""

    def __init__(self, data: Dataset, as_of: pd.Timestamp, *, follow_now: bool = False) -> None:
        """`as_of`: the loaded catalogue's clock, which writes never move. `follow_now`: the server runs on
        wall-clock time (setting as_of = "now"), so each view is as of its computation."""
        self._lock = threading.Lock()
        self._as_of = as_of
        self._follow_now = follow_now
        self._frames: dict[Kind, pd.DataFrame] = {"seekers": _without_deleted(data.seekers),
                                                  "jobs": _without_deleted(data.jobs)}
        self._pending: list[tuple[Kind, pd.DataFrame | list[str]]] = []
        self._cache: dict[tuple[tuple[str, ...], bool], MarketView] = {}

    def __getstate__(self) -> dict[str, object]:
        """Picklable (service.snapshot): the lock is made anew, the cached views are recomputed on demand."""
        with self._lock:
            state = dict(self.__dict__)
        state.pop("_lock")
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def upserted(self, kind: Kind, rows: pd.DataFrame) -> None:
        """Rows the service has just acknowledged (validated frames): they replace any row with the same id."""
        if kind == "jobs" and len(rows):
            # A job the service accepted is open in the catalogue from now on, whatever its posted_at says (the
            # catalogue's rule: open until it expires). Counting it from the clock keeps both views alike; moving
            # the clock to its posting instead let one job posted in 2200 close every other job in the market.
            now = self._now()
            rows = rows.assign(posted_at=rows["posted_at"].where(~(rows["posted_at"] > now), now))
        with self._lock:
            self._pending.append((kind, rows))

    def deleted(self, kind: Kind, ids: Sequence[str]) -> None:
        with self._lock:
            self._pending.append((kind, list(ids)))

    def view(self, by: tuple[str, ...], totals: bool) -> MarketView:
        """The view grouped by `by`, current up to the last acknowledged write. InvalidRequestError naming `by`
        for an unknown key."""
        with self._lock:
            if self._pending:
                self._fold()
            key = (by, totals)
            view = self._cache.get(key)
            if view is None:
                data = Dataset(seekers=self._frames["seekers"], jobs=self._frames["jobs"], events=pd.DataFrame())
                view = labour_market(data, as_of=self._now(), by=by, totals=totals)
                self._cache[key] = view
            return view

    def answer(self, query: MarketQuery) -> tuple[MarketView, pd.DataFrame]:
        """GetLabourMarket: the view of query.by and its cells with at least min_cell jobs or seekers, in the asked
        city if any, most openings first (the caller cuts the table to query.limit)."""
        view = self.view(query.by, query.totals)
        table = view.table
        table = table[(table["open_jobs"] >= query.min_cell) | (table["active_seekers"] >= query.min_cell)]
        if query.city:
            if "city" not in query.by:
                raise InvalidRequestError("city: the view is not grouped by city")
            place = load_gazetteer().resolve(pd.Series([query.city]))
            wanted = place.city_key[0]
            # As for the recommendation filters (service.queries): a name no table knows and no cell is keyed by
            # is the caller's mistake, and a province is not a city of this view; neither is an empty answer.
            if wanted is None or (place.region_key[0] is None and not (view.table["city"] == wanted).any()):
                raise InvalidRequestError("city: unknown city (expected a GB/T 2260 city code or a city name such "
                                          "as 北京 or 哈尔滨市)")
            table = table[table["city"] == wanted]
        return view, table.sort_values("openings", ascending=False, kind="stable")

    def _now(self) -> pd.Timestamp:
        return pd.Timestamp.now(tz="UTC") if self._follow_now else self._as_of

    def _fold(self) -> None:
        """Apply the queued writes in order, in one concat per kind and run of upserts."""
        for kind, change in self._pending:
            frame, id_column = self._frames[kind], ID_COLUMN[kind]
            if isinstance(change, pd.DataFrame):
                kept = frame[~frame[id_column].isin(change[id_column])]
                self._frames[kind] = pd.concat([kept, change], ignore_index=True)
            else:
                self._frames[kind] = frame[~frame[id_column].isin(change)]
        self._pending.clear()
        self._cache.clear()
