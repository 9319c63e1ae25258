"""Durable journal of live writes, applied on top of a read-only FORMAT.md data folder.

The gRPC server never rewrites the CSVs: every Upsert*/Delete*/RecordEvents call is appended here, and at start-up
the server loads the CSVs and replays this journal on top. Durability choices:

* One SQLite file, `journal_mode=WAL` + `synchronous=FULL`: a commit returns only after its WAL frames are written
  and fsynced, so once a call has returned neither `kill -9` nor a power cut loses it (`NORMAL` survives `kill -9`
  but may drop the last commits on power loss; one fsync per call is cheap at API-call rates).
* Every public write is one `BEGIN IMMEDIATE ... COMMIT`: a call is applied completely or not at all, and a crash
  mid-call leaves the journal as it was before the call.
* One connection for all gRPC handler threads behind a `threading.Lock`: SQLite has one writer anyway.
* Records are JSON text of the CSV cells, so replay gives back exactly what a CSV row would hold; the schema is
  versioned (`PRAGMA user_version`) so a file of another version is refused rather than misread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from matcher.errors import MatcherError

__all__ = ["SCHEMA_VERSION", "ID_COLUMN", "Hook", "Journal", "Kind", "Replay", "Store", "Write", "open_journal"]

Kind = Literal["seekers", "jobs"]
Hook = Callable[[int], tuple[int, int]]  # runs before write `seq` commits; returns (written, not_found)
SCHEMA_VERSION = 1
ID_COLUMN: dict[str, str] = {"seekers": "seeker_id", "jobs": "job_id"}
# Separate statements, not executescript(): on 3.11 that commits first, which would break the one-transaction open.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_utc TEXT NOT NULL,"
    " kind TEXT NOT NULL, n INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS profile_ops (op_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL REFERENCES writes(seq),"
    " kind TEXT NOT NULL CHECK (kind IN ('seekers', 'jobs')), entity_id TEXT NOT NULL, op TEXT NOT NULL"
    " CHECK (op IN ('upsert', 'delete')), record_json TEXT, CHECK ((op = 'upsert') = (record_json IS NOT NULL)))",
    "CREATE INDEX IF NOT EXISTS profile_ops_entity ON profile_ops (kind, entity_id, seq)",
    "CREATE TABLE IF NOT EXISTS events (op_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL REFERENCES writes(seq),"
    " record_json TEXT NOT NULL)",
)
# Idempotency keys of writes, with what each answered: a retried call is recognised and not applied twice. Created on
# every open (additive: journals written before keys existed gain the table and stay schema version 1).
_KEYS_TABLE = ("CREATE TABLE IF NOT EXISTS write_keys (key TEXT PRIMARY KEY, seq INTEGER NOT NULL REFERENCES"
               " writes(seq), written INTEGER NOT NULL, not_found INTEGER NOT NULL)")
_PROFILE_SELECT = "SELECT kind, entity_id, record_json FROM profile_ops ORDER BY op_id"
_EVENT_SELECT = "SELECT record_json FROM events ORDER BY op_id"
_TABLES = ("writes", "profile_ops", "events", "write_keys")
_MAX_SEQ = "SELECT COALESCE(MAX(seq), 0) FROM writes"
_PROFILE_SINCE = "SELECT seq, kind, entity_id, op, record_json FROM profile_ops WHERE seq > ? ORDER BY op_id"
_EVENT_SINCE = "SELECT seq, record_json FROM events WHERE seq > ? ORDER BY op_id"
_PROFILE_INSERT = "INSERT INTO profile_ops (seq, kind, entity_id, op, record_json) VALUES (?, ?, ?, ?, ?)"


@dataclass(frozen=True)
class Replay:
    """The journal folded into final state: what the server overlays on the CSVs at start-up."""

    seekers: dict[str, dict[str, str] | None]  # latest record per seeker_id; None = last op was a delete
    jobs: dict[str, dict[str, str] | None]
    events: list[dict[str, str]]  # every recorded event, in write order
    sequence: int  # highest sequence number in the journal (0 when empty)


@dataclass(frozen=True)
class Write:
    """One journalled call, as `Store.since` gives it back: what to apply to a state that predates it."""

    seq: int
    kind: Literal["seekers", "jobs", "events"]
    op: Literal["upsert", "delete", "append"]
    records: list[dict[str, str]]  # upserted or appended records, in call order ([] for a delete)
    ids: list[str]  # deleted ids ([] otherwise)


class Journal:
    """The journal contract, with the logic every backend shares: one call = one transaction, the hook applied
    inside it, replay folded to final state. Backends say how to connect, lock and begin (`_writer`, `_reader`,
    `_begin`) and which errors are theirs. Thread-safe: gRPC handler threads share one instance."""

    shared = False    # other processes write to it too: a server must follow it (MatchCore's replica loop)
    identity = ""     # which journal this is, for snapshots: a snapshot of another journal is refused
    name = "journal"  # for error messages: never a password or a record
    _errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)

    @property
    def _read_errors(self) -> tuple[type[BaseException], ...]:
        return (*self._errors, ValueError, KeyError)  # a record that is not the JSON object we wrote

    # ---- backend hooks -----------------------------------------------------------------------------------------
    def _writer(self) -> AbstractContextManager[Any]:
        """The connection for writes, held exclusively for the whole call."""
        raise NotImplementedError

    def _reader(self) -> AbstractContextManager[Any]:
        """A connection for reads (may be the writer's: SQLite has one)."""
        raise NotImplementedError

    def _begin(self, conn: Any) -> None:
        """Start a write transaction that excludes every other writer of this journal until it ends."""
        raise NotImplementedError

    def _failed(self, exc: BaseException, what: str = "unreadable") -> MatcherError:
        """A backend error as the error callers see (the file or server named, no record contents)."""
        return MatcherError(f"{self.name}: journal {what} ({type(exc).__name__})")

    def close(self) -> None:
        raise NotImplementedError

    # ---- writes ------------------------------------------------------------------------------------------------
    def upsert(self, kind: Kind, records: list[dict[str, str]], before_commit: Hook | None = None,
               key: str = "") -> int:
        """Insert or replace whole records; the last one per id wins at replay. Returns this call's sequence."""
        column = ID_COLUMN[kind]  # kind is a Literal chosen by the RPC handler, never client input
        rows = (_upsert_row(kind, column, r, i) for i, r in enumerate(records))
        return self._commit(kind, len(records), _PROFILE_INSERT, rows, before_commit, key)

    def delete(self, kind: Kind, ids: list[str], before_commit: Hook | None = None, key: str = "") -> int:
        """Record deletions as tombstones, so they also hide rows that exist only in the CSVs."""
        column = ID_COLUMN[kind]  # kind is a Literal chosen by the RPC handler, never client input
        rows = ((kind, _checked_id(x, f"id at index {i}", column), "delete", None) for i, x in enumerate(ids))
        return self._commit(kind, len(ids), _PROFILE_INSERT, rows, before_commit, key)

    def append_events(self, records: list[dict[str, str]], before_commit: Hook | None = None,
                      key: str = "") -> int:
        """Append events; they are never replaced or deleted, only replayed in write order."""
        rows = ((_encode(_trimmed_ids(record), i),) for i, record in enumerate(records))
        return self._commit("events", len(records), "INSERT INTO events (seq, record_json) VALUES (?, ?)", rows,
                            before_commit, key)

    def _commit(self, call_kind: str, n: int, sql: str, rows: Iterable[tuple[str | None, ...]],
                before_commit: Hook | None = None, key: str = "") -> int:
        """One call = one transaction. `rows` is lazy: validation errors surface mid-insert and roll everything back.

        `before_commit(seq)` runs inside the transaction, after the rows are in, and returns the outcome stored
        with the key; raising rolls everything back. A server only checks there that no other replica committed the
        same key meanwhile: it applies after the commit, outside the lock (MatchCore._write).
        The transaction excludes every other writer (`_begin`), so sequence order is commit order, on every
        backend. A `key` is stored with the outcome in the same transaction (see `outcome`)."""
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._writer() as conn:
            try:
                self._begin(conn)
                seq = int(conn.execute(self._sql("INSERT INTO writes (at_utc, kind, n) VALUES (?, ?, ?) RETURNING seq"),
                                       (stamp, call_kind, n)).fetchone()[0])
                conn.cursor().executemany(self._sql(sql), ((seq, *row) for row in rows))
                written, not_found = before_commit(seq) if before_commit is not None else (n, 0)
                if key:
                    conn.execute(self._sql("INSERT INTO write_keys (key, seq, written, not_found) VALUES (?, ?, ?, ?)"),
                                 (key, seq, written, not_found))
                conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback(conn)
                if isinstance(exc, self._errors):
                    raise self._failed(exc, "write failed") from None
                raise
            return seq

    def set_outcome(self, key: str, written: int, not_found: int) -> None:
        """Correct what `key` answers once the write is applied (a shared journal stores a delete's key before
        the not-found count is known; a crash in between leaves the count it was journalled with: every id)."""
        with self._writer() as conn:
            try:
                conn.execute(self._sql("UPDATE write_keys SET written = ?, not_found = ? WHERE key = ?"),
                             (written, not_found, key))
            except self._errors as exc:
                self._rollback(conn)
                raise self._failed(exc, "write failed") from None

    # ---- reads -------------------------------------------------------------------------------------------------
    def replay(self) -> Replay:
        """Everything back in one query per table, in op_id order: op_ids are handed out inside the exclusive write
        transaction, in sequence order, and never deleted, so that *is* sequence order, without the sort (2x faster
        at 1M ops). Only the winning record per id is JSON-decoded. Errors name the journal, never record contents
        (they end up in logs)."""
        latest: dict[str, dict[str, str | None]] = {"seekers": {}, "jobs": {}}
        with self._reader() as conn:
            try:
                self._begin_snapshot(conn)
                for kind, entity_id, text in conn.execute(_PROFILE_SELECT):
                    latest[kind][entity_id] = text
                events = [_decode(text) for (text,) in conn.execute(_EVENT_SELECT)]
                sequence = int(conn.execute(_MAX_SEQ).fetchone()[0])
                self._end_snapshot(conn)
                states = {kind: {entity_id: None if text is None else _decode(text) for entity_id, text in ops.items()}
                          for kind, ops in latest.items()}
            except self._read_errors as exc:
                self._end_snapshot(conn, failed=True)
                raise self._failed(exc) from None
        return Replay(seekers=states["seekers"], jobs=states["jobs"], events=events, sequence=sequence)

    def since(self, sequence: int) -> list[Write]:
        """The calls journalled after `sequence`, in order: what a state built from `replay()` at that sequence
        still lacks (ReloadModel builds without holding writes back, then catches up with these; a replica
        follows the others' writes with them)."""
        with self._reader() as conn:
            try:
                self._begin_snapshot(conn)
                ops = conn.execute(self._sql(_PROFILE_SINCE), (sequence,)).fetchall()
                events = conn.execute(self._sql(_EVENT_SINCE), (sequence,)).fetchall()
                self._end_snapshot(conn)
                writes: dict[int, Write] = {}
                for seq, kind, entity_id, op, text in ops:
                    write = writes.setdefault(seq, Write(seq, kind, op, [], []))
                    if op == "upsert":
                        write.records.append(_decode(text))
                    else:
                        write.ids.append(entity_id)
                for seq, text in events:
                    writes.setdefault(seq, Write(seq, "events", "append", [], [])).records.append(_decode(text))
            except self._read_errors as exc:
                self._end_snapshot(conn, failed=True)
                raise self._failed(exc) from None
        return [writes[seq] for seq in sorted(writes)]

    def outcome(self, key: str) -> tuple[int, int, int] | None:
        """(sequence, written, not_found) of the write stored under idempotency `key`, None if there is none."""
        row = self._read_one("SELECT seq, written, not_found FROM write_keys WHERE key = ?", (key,))
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]))

    @property
    def sequence(self) -> int:
        """The latest sequence number (0 for an empty journal): lets callers tell which writes a state includes."""
        row = self._read_one(_MAX_SEQ)
        return int(row[0]) if row is not None else 0

    def counts(self) -> dict[str, int]:
        """Rows per journal table, for GetModelInfo / diagnostics (how much replay work a restart will do)."""
        out = {}
        for table in _TABLES:
            row = self._read_one(f"SELECT COUNT(*) FROM {table}")
            out[table] = int(row[0]) if row is not None else 0
        return out

    def _read_one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        with self._reader() as conn:
            try:
                return conn.execute(self._sql(sql), params).fetchone()
            except self._errors as exc:
                raise self._failed(exc) from None

    # ---- small backend differences -----------------------------------------------------------------------------
    @staticmethod
    def _sql(text: str) -> str:
        """Statements are written with SQLite's `?` placeholders."""
        return text

    def _rollback(self, conn: Any) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    def _begin_snapshot(self, conn: Any) -> None:
        """Several reads that must see one state (SQLite: the one connection's lock already gives that)."""

    def _end_snapshot(self, conn: Any, failed: bool = False) -> None:
        pass

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Store(Journal):
    """The embedded default: one SQLite file, one connection behind a lock (SQLite has one writer anyway)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._prepare(conn)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.DatabaseError):  # "file is not a database", unreadable, not a file, ...
                raise MatcherError(f"{self.path}: not a readable journal database ({exc})") from exc
            raise
        self._conn: sqlite3.Connection | None = conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Check the version before touching anything, so a foreign or newer file is left exactly as it was."""
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found not in (0, SCHEMA_VERSION):
            raise MatcherError(f"{self.path}: journal schema version {found}, but this build reads version "
                               f"{SCHEMA_VERSION}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")  # another process holding the file: wait rather than fail
        if found == 0:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        conn.execute(_KEYS_TABLE)

    @contextmanager
    def _writer(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connection()

    _reader = _writer

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        """Close the connection (checkpoints the WAL). Idempotent, so __exit__ after an explicit close is fine."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise MatcherError(f"{self.path}: journal store is closed")
        return self._conn


def open_journal(store: str, journal: str | Path) -> Journal:
    """The journal a server writes to: the SQLite file `journal`, or with `store` = "postgresql://..." a database
    that several replicas share (service.store_pg, the `postgres` extra)."""
    if not store:
        return Store(journal)
    from matcher.service.store_pg import PostgresStore

    return PostgresStore(store)


def _checked_id(value: object, where: str, column: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {column} is missing or empty")
    return value.strip()


def _upsert_row(kind: str, column: str, record: object, index: int) -> tuple[str, str, str, str]:
    """(kind, id, "upsert", record) with the id trimmed, as loading trims it: " 10001" and "10001" are one row live
    and after a restart."""
    key = _checked_id(record.get(column) if isinstance(record, dict) else None, f"record at index {index}", column)
    return kind, key, "upsert", _encode({**cast(dict[str, str], record), column: key}, index)  # a dict: checked


def _trimmed_ids(record: object) -> object:
    """An event with its seeker and job ids trimmed, as loading trims them."""
    if not isinstance(record, dict):
        return record
    return {k: v.strip() if k in ("seeker_id", "job_id") and isinstance(v, str) else v for k, v in record.items()}


def _encode(record: object, index: int) -> str:
    """Refuse anything but text cells: the CSV loader downstream would otherwise see values a CSV cannot hold."""
    if not isinstance(record, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in record.items()):
        raise TypeError(f"record at index {index} must map column names to cell text (dict[str, str])")
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _decode(text: str) -> dict[str, str]:
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record
