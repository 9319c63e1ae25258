"""The catalogue as the server last acknowledged it: the data folder with the journal replayed on top.

Records of cell text (a call's, or the journal's) become the same typed, validated frames a CSV folder gives, so a
row sent over gRPC is validated, stored and replayed exactly like a row read from a file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.data import Dataset, index_events, load_folder, validate_events, validate_jobs, validate_seekers
from matcher.errors import DataValidationError, MatcherError
from matcher.schema import EVENT_COLUMNS, JOB_COLUMNS, SEEKER_COLUMNS
from matcher.service.live import DELETED_COLUMN
from matcher.service.messages import Record
from matcher.service.store import Kind, Replay

__all__ = ["restore", "records_frame", "validated_rows"]

_log = logging.getLogger(__name__)


def records_frame(records: Sequence[Record], columns: dict[str, Any]) -> pd.DataFrame:
    """String cells, every format column present ("" where a record leaves it out), extra fields kept."""
    names = list(dict.fromkeys([*columns, *(key for record in records for key in record)]))
    return pd.DataFrame.from_records([[record.get(n, "") for n in names] for record in records], columns=names,
                                     ).astype(object).fillna("")


def validated_rows(kind: Kind, records: Sequence[Record], file: str) -> pd.DataFrame:
    """Typed, checked rows of `kind` from records of cell text (a call's, or the journal's)."""
    if kind == "seekers":
        return validate_seekers(records_frame(records, SEEKER_COLUMNS), file)
    return validate_jobs(records_frame(records, JOB_COLUMNS), file)


def _journal_frame(records: Sequence[Record], columns: dict[str, Any],
                   validate: Callable[[pd.DataFrame, str], pd.DataFrame], what: str,
                   quarantine: list[str]) -> pd.DataFrame:
    """The journal's records of one kind, validated as loading validates them. A record that does not validate
    (written by an older build, or by hand) is quarantined: left out, with a loud log line and a count in
    GetModelInfo, so that one bad entry never stops a start."""
    try:
        return validate(records_frame(records, columns), what)
    except MatcherError:
        pass
    good = []
    for i, record in enumerate(records):  # the slow path, only when something is wrong
        try:
            validate(records_frame([record], columns), what)
        except DataValidationError as exc:
            quarantine.append(exc.for_record(i).public_message)
        except MatcherError as exc:
            quarantine.append(exc.public_message)
        else:
            good.append(record)
    _log.error("journal: %d %s entries cannot be replayed and are quarantined (skipped); first: %s",
               len(records) - len(good), what, quarantine[-1] if quarantine else "")
    return validate(records_frame(good, columns), what)


def _overlay(base: pd.DataFrame, changes: dict[str, Record | None], id_column: str, columns: dict[str, Any],
             validate: Callable[[pd.DataFrame, str], pd.DataFrame], what: str,
             quarantine: list[str]) -> pd.DataFrame:
    """Base rows replaced by their journal upserts; rows the journal deleted are kept, marked DELETED_COLUMN. A base
    row whose journal upsert was quarantined stays as the folder has it."""
    if not changes:
        return base
    deleted = [key for key, record in changes.items() if record is None]
    upserted = _journal_frame([r for r in changes.values() if r is not None], columns, validate, what, quarantine)
    position = pd.Index(base[id_column]).get_indexer(upserted[id_column])
    unchanged = ~base[id_column].isin(upserted[id_column]).to_numpy()
    kept = base[unchanged].copy()
    kept[DELETED_COLUMN] = np.where(kept[id_column].isin(deleted), "1", "")
    # Rows keep the positions they had live: a folder row replaced by an upsert stays where it was, new ids follow
    # in the order they first arrived, so that ties between equal scores break the same way after a restart.
    order = np.concatenate([np.flatnonzero(unchanged),
                            np.where(position >= 0, position, len(base) + np.arange(len(upserted)))])
    out = pd.concat([kept, upserted], ignore_index=True)
    out = out.iloc[np.argsort(order, kind="stable")]
    return out.fillna({DELETED_COLUMN: ""}).reset_index(drop=True)


def restore(root: str | Path, replay: Replay, base: Dataset | None = None,
            quarantine: list[str] | None = None) -> Dataset:
    """The data folder (`base`, if already loaded from `root`) with the journal applied: what the catalogue held
    when the server last acknowledged. Journal entries that cannot be replayed are skipped and described in
    `quarantine` (see _journal_frame).

    Folder rows that the journal deleted stay in the frames, marked in DELETED_COLUMN: LiveCatalogue builds them
    and deletes them again, so their events count in history as they did live. (A row that only ever existed in
    the journal and was then deleted has no record left; its events then count for nobody.)"""
    base = load_folder(root) if base is None else base
    quarantine = [] if quarantine is None else quarantine
    seekers = _overlay(base.seekers, replay.seekers, "seeker_id", SEEKER_COLUMNS, validate_seekers,
                       "journal seekers", quarantine)
    jobs = _overlay(base.jobs, replay.jobs, "job_id", JOB_COLUMNS, validate_jobs, "journal jobs", quarantine)
    events = base.events.drop(columns=["seeker_idx", "job_idx"])
    if replay.events:
        events = pd.concat([events, _journal_frame(replay.events, EVENT_COLUMNS, validate_events, "journal events",
                                                   quarantine)], ignore_index=True)
    return Dataset(seekers=seekers, jobs=jobs, events=index_events(events, seekers, jobs), root=Path(root))
