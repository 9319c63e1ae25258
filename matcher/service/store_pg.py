"""The journal in PostgreSQL (setting `store = "postgresql://..."`): one log of writes that any number of replicas
share. The `postgres` extra (psycopg 3) provides the driver; nothing imports this module unless the setting asks.

Same tables and semantics as the SQLite journal (service.store.Journal), in the schema `matcher` of the database
the URL names. What sharing adds:

* Every write transaction first takes one transaction-level advisory lock, then draws its sequence number: writers
  of all replicas queue on it, so sequence order is commit order. A replica that has applied every write up to
  sequence s can therefore fetch `since(s)` at any moment and never skip a write that commits later with a lower
  number (BIGSERIAL alone hands numbers out before commit, in an order commits need not follow).
* Once a replica's write has committed under that lock, every write below its sequence number is committed too:
  MatchCore queues the ones it has not applied, then its own, on its engine in sequence order (after the commit:
  nothing slow runs under the lock all replicas share), so every replica applies every write in sequence order
  and all of them serve the same state.
* Durability is the server's (`synchronous_commit` on, the default): a write is acknowledged after its COMMIT
  returns, so kill -9 of a replica loses nothing acknowledged; a write in flight rolls back with its connection.
* Reads use their own connection, so a replica following the others (a poll of MAX(seq), then `since`) never waits
  for the writer; multi-statement reads run in one REPEATABLE READ snapshot.
* A lost connection becomes UNAVAILABLE for that call and is opened again on the next; the URL's password never
  appears in an error or a log line.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from matcher.errors import MatcherError, UnavailableError
from matcher.service.store import SCHEMA_VERSION, Journal

__all__ = ["PostgresStore"]

_SCHEMA_NAME = "matcher"
_LOCK_KEY = 0x746D6A6C  # "tmjl": the one advisory lock all writers of the journal queue on
_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS writes (seq BIGSERIAL PRIMARY KEY, at_utc TEXT NOT NULL, kind TEXT NOT NULL,"
    " n INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS profile_ops (op_id BIGSERIAL PRIMARY KEY, seq BIGINT NOT NULL REFERENCES"
    " writes(seq), kind TEXT NOT NULL CHECK (kind IN ('seekers', 'jobs')), entity_id TEXT NOT NULL, op TEXT NOT"
    " NULL CHECK (op IN ('upsert', 'delete')), record_json TEXT, CHECK ((op = 'upsert') = (record_json IS NOT NULL)))",
    "CREATE INDEX IF NOT EXISTS profile_ops_seq ON profile_ops (seq)",
    "CREATE TABLE IF NOT EXISTS events (op_id BIGSERIAL PRIMARY KEY, seq BIGINT NOT NULL REFERENCES writes(seq),"
    " record_json TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_seq ON events (seq)",
    "CREATE TABLE IF NOT EXISTS write_keys (key TEXT PRIMARY KEY, seq BIGINT NOT NULL REFERENCES writes(seq),"
    " written INTEGER NOT NULL, not_found INTEGER NOT NULL)",
)
# A replica stuck inside a write must not stall the others for ever; a dead one's session ends with its socket.
_SESSION = {"lock_timeout": "10s", "idle_in_transaction_session_timeout": "60s"}


def _public_name(url: str) -> str:
    """postgresql://host:port/db, without user or password: what errors and logs may show."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise MatcherError("setting store: not a valid PostgreSQL connection URL") from None
    return f"postgresql://{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


class PostgresStore(Journal):
    shared = True
    _errors = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self.name = _public_name(url)
        self._url = url
        self._write_lock, self._read_lock = threading.Lock(), threading.Lock()
        self._conns: dict[str, psycopg.Connection[Any] | None] = {"write": None, "read": None}
        self._closed = False
        with self._writer() as conn:
            self.identity = self._prepare(conn)

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5, application_name="matcher")
        except psycopg.Error as exc:
            raise UnavailableError(f"{self.name}: journal database unreachable ({type(exc).__name__})") from None
        for name, value in _SESSION.items():
            conn.execute(f"SET {name} = '{value}'")
        conn.execute(f"SET search_path TO {_SCHEMA_NAME}")
        return conn

    def _prepare(self, conn: psycopg.Connection[Any]) -> str:
        """Create the schema once (replicas starting together queue on the lock); refuse another version. Returns
        the journal's id, made at creation: a snapshot taken against another database is not loaded."""
        try:
            conn.execute("BEGIN")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA_NAME}")
            for statement in _TABLES:
                conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('schema_version', %s), ('journal_id', %s) ON CONFLICT DO NOTHING",
                         (str(SCHEMA_VERSION), uuid.uuid4().hex))
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            conn.execute("COMMIT")
        except psycopg.Error as exc:
            self._rollback(conn)
            raise self._failed(exc, "could not be opened") from None
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            raise MatcherError(f"{self.name}: journal schema version {meta.get('schema_version')}, but this build "
                               f"reads version {SCHEMA_VERSION}")
        return f"postgresql:{meta['journal_id']}"

    @contextmanager
    def _use(self, role: str, lock: threading.Lock) -> Iterator[psycopg.Connection[Any]]:
        with lock:
            if self._closed:
                raise MatcherError(f"{self.name}: journal store is closed")
            conn = self._conns[role]
            if conn is None or conn.closed:
                conn = self._conns[role] = self._connect()
            try:
                yield conn
            finally:
                if conn.broken:  # the server went away: the next call connects again
                    conn.close()
                    self._conns[role] = None

    def _writer(self) -> Any:
        return self._use("write", self._write_lock)

    def _reader(self) -> Any:
        return self._use("read", self._read_lock)

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))

    def _begin_snapshot(self, conn: Any) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _end_snapshot(self, conn: Any, failed: bool = False) -> None:
        if failed:
            self._rollback(conn)
        else:
            conn.execute("COMMIT")

    def _rollback(self, conn: Any) -> None:
        if conn.broken or conn.closed:
            return
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                conn.close()

    def _failed(self, exc: BaseException, what: str = "unreadable") -> MatcherError:
        if isinstance(exc, psycopg.OperationalError):  # connection lost, server shutting down, lock timeout
            return UnavailableError(f"{self.name}: journal database unavailable ({type(exc).__name__})")
        return super()._failed(exc, what)

    @staticmethod
    def _sql(text: str) -> str:
        return text.replace("?", "%s")

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._closed = True
            for role, conn in self._conns.items():
                if conn is not None:
                    conn.close()
                self._conns[role] = None
