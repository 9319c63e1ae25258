"""Restart in seconds: the served state saved to one file, loaded on start, the journal replayed on top.

A full start reads the data folder, replays the whole journal into it and builds the catalogue, its text
vectors and both retrieval indexes (187 s at 1M jobs). The snapshot holds what that build produced (the live
catalogue and the labour-market view, without the model, which loads from its own files) and the journal sequence
it includes; a start that finds a snapshot made for the same data files, model version, engine code and settings
loads it and applies only the writes journalled after that sequence (`MatchCore._catch_up`, as a ReloadModel
does). Anything else, an unreadable or truncated file included, is refused with the reason in the log and the
state is rebuilt from the folder and the journal, then saved again.

Written atomically (a temporary file, fsync, rename) after a full build and at a graceful stop, never while the
engine thread may change the state. A pickle of our own objects, like the model's encoder.pkl: the file must be as
trusted as the journal beside it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Snapshot", "snapshot_key", "save_snapshot", "load_snapshot"]

_log = logging.getLogger(__name__)
_FORMAT = 1
_PACKAGES = ("matcher", "features", "models")


@dataclass
class Snapshot:
    live: Any            # service.live.LiveCatalogue, its bundle detached
    market: Any          # service.live_market.LiveMarket
    sequence: int        # the journal writes it includes: all up to this one
    quarantined: int     # journal entries the build that made it set aside


def _code_fingerprint() -> str:
    """sha256 of the engine's sources: a snapshot made by other code may hold other arrays."""
    root, digest = Path(__file__).resolve().parents[2], hashlib.sha256()
    for path in sorted(p for package in _PACKAGES for p in (root / package).rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def snapshot_key(*, data_fingerprint: str, model_version: str, settings: dict[str, Any]) -> dict[str, Any]:
    """What a snapshot must have been made for to be loaded: the same input files, model, code and settings."""
    return {"format": _FORMAT, "data": data_fingerprint, "model": model_version, "code": _code_fingerprint(),
            "settings": settings}


def save_snapshot(path: str | Path, key: dict[str, Any], snapshot: Snapshot) -> None:
    path = Path(path)
    started = time.perf_counter()
    bundle = snapshot.live.bundle
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # with a PostgreSQL store no journal file made the folder
        snapshot.live.bundle = None  # the model loads from its own files; its compiled trees do not pickle
        with tmp.open("wb") as fh:
            pickle.dump(key, fh, protocol=5)
            pickle.dump(snapshot, fh, protocol=5)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:  # never fatal: the next start rebuilds
        _log.warning("could not save the snapshot %s: %s", path, exc)
        tmp.unlink(missing_ok=True)
        return
    finally:
        snapshot.live.bundle = bundle
    _log.info("snapshot of journal sequence %d saved to %s (%.0f MB) in %.1fs", snapshot.sequence, path,
              path.stat().st_size / 2**20, time.perf_counter() - started)


def load_snapshot(path: str | Path, key: dict[str, Any], bundle: Any, journal_sequence: int) -> Snapshot | None:
    """The snapshot at `path` with `bundle` attached, or None (and why, in the log) when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        return None
    started = time.perf_counter()
    try:
        with path.open("rb") as fh:
            found = pickle.load(fh)  # noqa: S301 - our own artefact, written by save_snapshot
            if found != key:
                differs = sorted(k for k in key if not isinstance(found, dict) or found.get(k) != key[k])
                _log.info("snapshot %s was made for other %s: rebuilding", path, ", ".join(differs) or "inputs")
                return None
            snapshot = pickle.load(fh)  # noqa: S301
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError) as exc:
        _log.warning("snapshot %s is unreadable (%s): rebuilding", path, exc.__class__.__name__)
        return None
    if not isinstance(snapshot, Snapshot) or snapshot.sequence > journal_sequence:
        _log.warning("snapshot %s does not belong to this journal (sequence %s > %d): rebuilding", path,
                     getattr(snapshot, "sequence", "?"), journal_sequence)
        return None
    snapshot.live.bundle = bundle
    _log.info("snapshot of journal sequence %d loaded from %s in %.1fs", snapshot.sequence, path,
              time.perf_counter() - started)
    return snapshot
