"""The service without gRPC: restore the catalogue (data folder + journal), answer calls, apply writes durably,
swap models. matcher.service.servicer is a thin protobuf layer over this; tests and the CLI can use it directly.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from matcher.data import (
    Dataset,
    fingerprint_folder,
    load_folder,
    parse_time,
    validate_events,
)
from matcher.errors import (
    DeadlineExceededError,
    InvalidRequestError,
    LimitExceededError,
    MatcherError,
    ModelError,
)
from matcher.policy.market import MarketView
from matcher.schema import EVENT_COLUMNS
from matcher.service import queries
from matcher.service.live import LiveCatalogue
from matcher.service.live_market import LiveMarket
from matcher.service.messages import (
    JobQuery,
    MarketQuery,
    Match,
    NearbyMatch,
    NearbyQuery,
    Record,
    SeekerQuery,
    ServingInfo,
    WriteResult,
)
from matcher.service.replay import records_frame, restore, validated_rows
from matcher.service.settings import ServerSettings, priority_policy
from matcher.service.snapshot import Snapshot, load_snapshot, save_snapshot, snapshot_key
from matcher.service.store import Hook, Kind, Write, open_journal
from matcher.service.worker import Answer, EngineWorker
from models.registry import ModelBundle, current_version, load_model, promote, version_dir

__all__ = ["MatchCore"]

_log = logging.getLogger(__name__)
_MAX_KEY_CHARS = 128


class _AlreadyWritten(Exception):
    """Raised inside a write transaction to roll it back: its idempotency key committed meanwhile elsewhere."""

    def __init__(self, outcome: tuple[int, int, int]) -> None:
        super().__init__("idempotency key already written")
        self.outcome = outcome


def _upsert_live(live: LiveCatalogue, kind: Kind, frame: pd.DataFrame) -> None:
    (live.upsert_seekers if kind == "seekers" else live.upsert_jobs)(frame)


def _delete_live(live: LiveCatalogue, kind: Kind, ids: list[str]) -> int:
    return live.delete_seekers(ids) if kind == "seekers" else live.delete_jobs(ids)


def _last_sequence(writes: list[Write], otherwise: int) -> int:
    """The journal sequence a state includes once `writes` (in order) are applied to a state at `otherwise`."""
    return writes[-1].seq if writes else otherwise


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MatchCore:
    """Owns the journal, the engine thread and the model being served."""

    def __init__(self, settings: ServerSettings) -> None:
        if not settings.data or not settings.model:
            raise MatcherError("settings data and model are required")
        self.settings = settings
        self.policy = priority_policy(settings)
        self.store = open_journal(settings.store, settings.journal)
        self._write_lock = threading.Lock()  # held by every change to the served state: writes, follow, swap
        self._reload_lock = threading.Lock()
        self._closed = False
        self._saved: tuple[str, int] | None = None  # (model version, journal sequence) of the snapshot on disk
        self._data_fingerprint: str | None = None   # of the data folder, which serving never changes
        live, self.market, self.applied, self.quarantined = self._start()  # applied: last journal write served
        self.loaded_at = _utc_now()
        self.worker = EngineWorker(live, max_queue=settings.max_queue, max_batch=settings.max_batch,
                                   threads=settings.engine_threads)
        self._stop_following = threading.Event()
        self._follower: threading.Thread | None = None
        if self.store.shared:  # other replicas write to this journal too: apply their writes as they land
            self._follower = threading.Thread(target=self._follow_journal, name="journal-follower", daemon=True)
            self._follower.start()

    # ---- model and catalogue -----------------------------------------------------------------------------------
    def _start(self) -> tuple[LiveCatalogue, LiveMarket, int, int]:
        """The champion's served state: from the snapshot when one fits (service.snapshot), else built, then saved
        as the next start's snapshot."""
        path = self._snapshot_path()
        self.started_from = "build"  # or "snapshot": GetModelInfo-level fact for logs and tests
        if path is None:
            return self._build(None)
        bundle = load_model(Path(self.settings.model))
        key = self._snapshot_key(bundle)
        found = load_snapshot(path, key, bundle, self.store.sequence)
        if found is not None:
            missed = self.store.since(found.sequence)
            self._catch_up(found.live, found.market, missed)
            self._warm_up(found.live)
            _log.info("started from the snapshot: %d journal writes applied on top", len(missed))
            self.started_from = "snapshot"
            self._saved = (found.live.bundle.version, found.sequence) if not missed else None
            return found.live, found.market, _last_sequence(missed, found.sequence), found.quarantined
        live, market, sequence, quarantined = self._build(None, bundle)
        save_snapshot(path, key, Snapshot(live, market, sequence, quarantined))
        self._saved = (bundle.version, sequence)
        return live, market, sequence, quarantined

    def _snapshot_path(self) -> Path | None:
        """Where the snapshot lives (setting `snapshot`: "auto" = beside the journal, "" = none); None also for
        the "now" clock, whose state depends on the moment of the start."""
        if not self.settings.snapshot or self.settings.as_of == "now":
            return None
        if self.settings.snapshot == "auto":
            return Path(f"{self.settings.journal}.snapshot")
        return Path(self.settings.snapshot)

    def _snapshot_key(self, bundle: ModelBundle) -> dict[str, Any]:
        s = self.settings
        if self._data_fingerprint is None:  # hashing the folder reads all of it (GBs at 1M jobs): once per process
            self._data_fingerprint = fingerprint_folder(s.data)
        return snapshot_key(data_fingerprint=self._data_fingerprint, model_version=bundle.version,
                            settings={"n_candidates": s.n_candidates, "retriever": s.retriever, "as_of": s.as_of,
                                      "journal": self.store.identity})

    def _build(self, version: str | None, bundle: ModelBundle | None = None
               ) -> tuple[LiveCatalogue, LiveMarket, int, int]:
        """The catalogue and market view of `version` (or `bundle`) over the data folder + journal, the journal
        sequence they include and how many journal entries the build quarantined."""
        root = Path(self.settings.model)
        if bundle is None:
            bundle = load_model(version_dir(root, version) if version else root)
        replay = self.store.replay()
        folder = load_folder(self.settings.data)
        quarantine: list[str] = []
        data = restore(self.settings.data, replay, base=folder, quarantine=quarantine)
        # The "data" clock is the folder's latest moment, as for `matcher batch`, never the journal's: a write dated
        # in the future must not move the clock at the next restart (every job would then be a month old or
        # expired, unlike the state that was served when the write was acknowledged).
        live = LiveCatalogue(bundle, data, as_of=self._as_of(folder), n_candidates=self.settings.n_candidates,
                             retriever=self.settings.retriever)
        self._warm_up(live)
        return (live, LiveMarket(data, live.as_of, follow_now=self.settings.as_of == "now"), replay.sequence,
                len(quarantine))

    @staticmethod
    def _catch_up(live: LiveCatalogue, market: LiveMarket, writes: list[Write]) -> None:
        """Apply calls journalled after a build to its catalogue and market, in journal order (a build not yet
        served, or, on the engine thread, the served one when another replica wrote them)."""
        for w in writes:
            try:
                if w.kind == "events":
                    live.record_events(validate_events(records_frame(w.records, EVENT_COLUMNS), "journal events"))
                elif w.op == "delete":
                    _delete_live(live, w.kind, w.ids)
                    market.deleted(w.kind, w.ids)
                else:
                    frame = validated_rows(w.kind, w.records, f"journal {w.kind}")
                    _upsert_live(live, w.kind, frame)
                    market.upserted(w.kind, frame)
            except MatcherError as exc:  # as at a restart: one entry that cannot be replayed never stops the rest
                _log.error("journal write %d cannot be applied and is skipped: %s", w.seq, exc.public_message)

    def _as_of(self, data: Dataset) -> pd.Timestamp:
        clock = self.settings.as_of
        if clock == "data":
            return data.max_time or pd.Timestamp.now(tz="UTC")
        if clock == "now":
            return pd.Timestamp.now(tz="UTC")
        return parse_time(clock, "setting as_of")

    @staticmethod
    def _warm_up(live: LiveCatalogue) -> None:
        """Rank once end to end before serving: loads lazily built state and proves the model runs."""
        if not live.seeker_ids:
            return
        started = time.perf_counter()
        result = queries.recommend_jobs(live, [JobQuery(k=1, seeker_id=live.seeker_ids[0])])[0]
        if isinstance(result, MatcherError) and not isinstance(result, ModelError):
            _log.info("warm-up query: %s", result)
        elif isinstance(result, Exception):
            raise result
        _log.info("warm-up done in %.2fs", time.perf_counter() - started)

    def reload(self, version: str) -> ServingInfo:
        """Build the new model's catalogue while the old one serves and takes writes, then, holding writes back only
        for that, apply the writes journalled since the build began and swap; on any failure keep the old."""
        with self._reload_lock:
            try:
                live, market, sequence, quarantined = self._build(version or None)
            except MatcherError:
                raise
            except Exception as exc:  # a model that loads but cannot rank is refused like one that cannot load
                raise ModelError(f"model {version or 'CURRENT'} failed its warm-up: {exc!r}") from exc
            with self._write_lock:  # no write between the catch-up and the swap: the new state misses none
                missed = self.store.since(sequence)
                self._catch_up(live, market, missed)
                self.worker.write(lambda _old: self.worker.swap(live)).result()
                self.market, self.quarantined = market, quarantined
                self.applied = _last_sequence(missed, sequence)
                self.loaded_at = _utc_now()
        _log.info("now serving model %s (%d writes caught up after the build)", live.bundle.version, len(missed))
        if version:
            self._follow(live.bundle.version)
        return self.info()

    def _follow(self, version: str) -> None:
        """A version reloaded by name becomes the champion (CURRENT), so `matcher batch` and the next restart use
        what this server serves (issue 16: a restart used to revert silently). Where the model directory is not
        writable the server keeps serving and says loudly that the two now differ."""
        root = Path(self.settings.model)
        if current_version(root) == version:
            return
        try:
            promote(root, version)
        except OSError as exc:
            _log.warning("serving model %s, but could not make it CURRENT (%s): matcher batch and a restart will "
                         "use %s", version, exc, current_version(root))

    def info(self) -> ServingInfo:
        live = self.worker.live
        meta = live.bundle.meta
        return ServingInfo(
            version=live.bundle.version, feature_names=tuple(live.bundle.feature_names),
            created_at=str(meta.get("created_at", "")), data_fingerprint=str(meta.get("data_fingerprint", "")),
            n_trees=int(live.bundle.ranker.booster_.num_trees()), loaded_at=self.loaded_at,
            as_of=live.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"), n_seekers=live.n_seekers, n_jobs=live.n_jobs,
            n_open_jobs=live.generator.n_usable, journal_sequence=self.applied,
            journal_quarantined=self.quarantined)

    # ---- reads ---------------------------------------------------------------------------------------------------
    def _check_request(self, k: int, lists: dict[str, Sequence[str]] | None = None) -> None:
        """k in range and every list of the request within max_list_items: no request may buy unbounded work
        (30,000 filter cities held the engine thread for 12 s while every other call timed out)."""
        if not 1 <= k <= self.settings.max_k:
            raise InvalidRequestError(f"k: must be between 1 and {self.settings.max_k}")
        for name, items in (lists or {}).items():
            if len(items) > self.settings.max_list_items:
                raise LimitExceededError(f"{name}: at most {self.settings.max_list_items} items")

    @staticmethod
    def _wait(future: Future[Any], deadline: float) -> Any:
        try:
            return future.result(timeout=max(deadline - time.monotonic(), 0.0))
        except FutureTimeout:
            future.cancel()  # if the engine has not started it, it is dropped unrun
            raise DeadlineExceededError("deadline exceeded") from None

    def recommend_jobs(self, query: JobQuery, deadline: float) -> Answer[list[Match]]:
        self._check_request(query.k, {"filter.cities": query.filter.cities, "filter.job_types": query.filter.job_types})
        result: Answer[list[Match]] = self._wait(self.worker.read(
            queries.recommend_jobs, replace(query, deadline=deadline), deadline), deadline)
        return result

    def recommend_seekers(self, query: SeekerQuery, deadline: float) -> Answer[list[Match]]:
        self._check_request(query.k, {"filter.cities": query.filter.cities,
                                "filter.priority_groups": query.filter.priority_groups})
        run = functools.partial(queries.recommend_seekers, policy=self.policy)
        result: Answer[list[Match]] = self._wait(self.worker.read(run, replace(query, deadline=deadline), deadline),
                                                 deadline)
        return result

    def recommend_nearby(self, query: NearbyQuery, deadline: float) -> Answer[list[NearbyMatch]]:
        self._check_request(query.k, {"job_types": query.job_types})
        result: Answer[list[NearbyMatch]] = self._wait(
            self.worker.read(queries.recommend_nearby, replace(query, deadline=deadline), deadline), deadline)
        return result

    def labour_market(self, query: MarketQuery) -> tuple[MarketView, pd.DataFrame]:
        """The labour-market view of the catalogue as served, every acknowledged write included (LiveMarket)."""
        if query.limit > 10_000:
            raise LimitExceededError("limit: at most 10000 rows")
        return self.market.answer(query)

    def score_pairs(self, seeker_ids: Sequence[str], job_ids: Sequence[str], deadline: float
                    ) -> Answer[list[float]]:
        if max(len(seeker_ids), len(job_ids)) > self.settings.max_pairs_per_call:
            raise LimitExceededError(f"seeker_ids: at most {self.settings.max_pairs_per_call} pairs per call")

        def run(live: LiveCatalogue, calls: Sequence[tuple[Sequence[str], Sequence[str]]]) -> list[Any]:
            out: list[Any] = []
            for s, j in calls:
                try:
                    out.append(queries.score_pairs(live, s, j))
                except MatcherError as exc:
                    out.append(exc)
            return out

        result: Answer[list[float]] = self._wait(self.worker.read(run, (seeker_ids, job_ids), deadline), deadline)
        return result

    # ---- writes --------------------------------------------------------------------------------------------------
    def check_items(self, n: int, field: str) -> None:
        if n > self.settings.max_items_per_call:
            raise LimitExceededError(f"{field}: at most {self.settings.max_items_per_call} items per call")

    def _write(self, journal: Callable[[Hook, str], int], apply: Callable[[LiveCatalogue], int | None], n: int,
               deadline: float, key: str, market: Callable[[], None] | None = None) -> WriteResult:
        """Journal a write, then apply it; `apply` returns how many of the n items it found (None: all of them). A
        `key` seen before answers the first call's result and applies nothing (a retry after DEADLINE_EXCEEDED or
        UNAVAILABLE). Its waits ignore the caller's deadline: once journalling has begun, the outcome is settled
        either way before the call returns.

        Commit first, then apply. The write lock is held for the inserts only: applying under it made every write
        wait for the engine's batch in progress and its own apply, one write at a time (upserts p99 ~3 s at 10/s
        on the exact backend at 200k jobs), and on a shared journal the lock is every replica's (2.5 s per upsert
        with two replicas). The engine then applies, in sequence order, the writes of other replicas below this one
        and this one, queued while the lock is held, so queue order is sequence order; writes run back to back
        ahead of queued reads. Writes are validated before they are journalled; one that still fails to apply has
        been committed: the state is rebuilt from the journal (whose replay skips what cannot be applied, as every
        restart does) and the call fails. A delete's not-found count is only known once applied: it is stored
        under the key after the apply."""
        key = key.strip()
        if len(key) > _MAX_KEY_CHARS:
            raise InvalidRequestError(f"idempotency_key: at most {_MAX_KEY_CHARS} characters")

        def inserts_only(sequence: int) -> tuple[int, int]:
            earlier = self.store.outcome(key) if key and self.store.shared else None
            if earlier is not None:  # the same key committed meanwhile through another replica
                raise _AlreadyWritten(earlier)
            return n, 0

        def in_order(live: LiveCatalogue, before: list[Write]) -> int:
            self._catch_up(live, self.market, before)
            found = apply(live)
            if market is not None:
                market()
            return n if found is None else int(found)

        with self._write_lock:  # journal order = queue order = apply order, so a restart rebuilds this state
            earlier = self._began(key, deadline)
            if earlier is not None:
                return earlier
            try:
                sequence = journal(inserts_only, key)
            except _AlreadyWritten as exc:
                return WriteResult(exc.outcome[1], exc.outcome[2], exc.outcome[0], replayed=True)
            # Only another replica's writes can sit between what this process applied and its own new one.
            before = ([w for w in self.store.since(self.applied) if w.seq < sequence]
                      if self.store.shared and sequence > self.applied + 1 else [])
            applied = self.worker.write(lambda live: in_order(live, before))
            self.applied = sequence  # every read queued from now on runs after it (writes go first)
        try:
            found = applied.result()
        except BaseException:
            self._rebuild_from_journal(f"journal write {sequence} was committed but could not be applied")
            raise
        if key and found != n:
            self.store.set_outcome(key, found, n - found)
        self._note_late(sequence, deadline)
        return WriteResult(found, n - found, sequence)

    def _began(self, key: str, deadline: float) -> WriteResult | None:
        """Under the write lock, before journalling: the earlier answer of a key seen before, or None to go on."""
        earlier = self.store.outcome(key) if key else None
        if earlier is not None:
            return WriteResult(earlier[1], earlier[2], earlier[0], replayed=True)
        if time.monotonic() > deadline:  # waited too long for the lock: nothing written, safe to retry
            raise DeadlineExceededError("deadline exceeded before the write began")
        return None

    @staticmethod
    def _note_late(sequence: int, deadline: float) -> None:
        if time.monotonic() > deadline:
            # Applied and durable, but the caller has given up: it learns so through DEADLINE_EXCEEDED and retries
            # (with its idempotency key, safely).
            _log.info("write %d completed after its deadline", sequence)

    # ---- replicas ------------------------------------------------------------------------------------------------
    def _apply_followed(self, writes: list[Write]) -> Future[Any] | None:
        """Queue the journalled writes this process has not applied (another replica's) on the engine, in sequence
        order; `applied` moves at once (reads queued after them see them). Caller holds the write lock; it waits
        for the returned future (if any) after releasing it."""
        writes = [w for w in writes if w.seq > self.applied]
        if not writes:
            return None
        future = self.worker.write(lambda live: self._catch_up(live, self.market, writes))
        self.applied = _last_sequence(writes, self.applied)
        return future

    def _follow_journal(self) -> None:
        """The replica loop: poll the shared journal's sequence; apply what others wrote. Lag = journal_lag()."""
        while not self._stop_following.wait(self.settings.replica_poll_s):
            try:
                if self.store.sequence <= self.applied:
                    continue
                with self._write_lock:
                    queued = None if self._closed else self._apply_followed(self.store.since(self.applied))
                if queued is None:
                    continue
                try:
                    queued.result()  # outside the lock: local writes commit meanwhile
                except Exception:
                    _log.exception("replica: applying followed writes failed")
                    self._rebuild_from_journal("journal writes of other replicas could not be applied")
            except MatcherError as exc:  # journal unreachable: keep serving what we have, try again next poll
                _log.warning("replica: cannot follow the journal (%s)", exc.public_message)
            except Exception:
                _log.exception("replica: following the journal failed")

    def journal_lag(self) -> int:
        """Journal writes committed (by any replica) that this process does not serve yet."""
        return max(self.store.sequence - self.applied, 0)

    def _rebuild_from_journal(self, why: str) -> None:
        """What is served may differ from the journal (a committed write that failed to apply, or another replica's
        writes that did): the journal is the truth, so rebuild from it in the background."""
        _log.error("%s: rebuilding the served state from the journal", why)
        version = self.worker.live.bundle.version
        threading.Thread(target=self._rebuild, args=(version,), name="rebuild", daemon=True).start()

    def _rebuild(self, version: str) -> None:
        try:
            self.reload(version)
        except Exception:
            _log.exception("rebuild after a failed commit did not complete; restart the server")

    def _upsert(self, kind: Kind, records: Sequence[Record], deadline: float,
                key: str) -> WriteResult:
        self.check_items(len(records), kind)
        if not records:
            return WriteResult(0, 0, self.store.sequence)
        frame = validated_rows(kind, records, kind)
        return self._write(lambda hook, k: self.store.upsert(kind, list(records), hook, k),
                           lambda live: _upsert_live(live, kind, frame), len(records), deadline, key,
                           lambda: self.market.upserted(kind, frame))

    def upsert_seekers(self, records: Sequence[Record], deadline: float, key: str = "") -> WriteResult:
        return self._upsert("seekers", records, deadline, key)

    def upsert_jobs(self, records: Sequence[Record], deadline: float, key: str = "") -> WriteResult:
        return self._upsert("jobs", records, deadline, key)

    def _delete(self, kind: Kind, ids: Sequence[str], deadline: float, key: str) -> WriteResult:
        self.check_items(len(ids), "ids")
        unique = list(dict.fromkeys(i.strip() for i in ids))  # trimmed, as the journal and loading trim them
        if any(not i for i in unique):
            raise InvalidRequestError("ids: ids must not be empty")
        if not unique:
            return WriteResult(0, 0, self.store.sequence)
        return self._write(lambda hook, k: self.store.delete(kind, unique, hook, k),
                           lambda live: _delete_live(live, kind, unique), len(unique), deadline, key,
                           lambda: self.market.deleted(kind, unique))

    def delete_seekers(self, ids: Sequence[str], deadline: float, key: str = "") -> WriteResult:
        return self._delete("seekers", ids, deadline, key)

    def delete_jobs(self, ids: Sequence[str], deadline: float, key: str = "") -> WriteResult:
        return self._delete("jobs", ids, deadline, key)

    def record_events(self, records: Sequence[Record], deadline: float, key: str = "") -> WriteResult:
        self.check_items(len(records), "events")
        if not records:
            return WriteResult(0, 0, self.store.sequence)
        frame = validate_events(records_frame(records, EVENT_COLUMNS), "events")
        return self._write(lambda hook, k: self.store.append_events(list(records), hook, k),
                           lambda live: live.record_events(frame), len(records), deadline, key)

    def close(self, timeout: float | None = None) -> None:
        """Stop the engine (queued calls finish), save the state it served for the next start, close the journal.
        A second call does nothing."""
        if self._closed:
            return
        self._stop_following.set()
        with self._write_lock:  # after a followed batch in progress, none after it
            self._closed = True
        if self._follower is not None:
            self._follower.join(timeout)
        self.worker.stop(timeout)
        path = self._snapshot_path()
        with self._write_lock:  # no write half applied: `applied` is exactly the state's sequence
            live, sequence = self.worker.live, self.applied
            unchanged = self._saved == (live.bundle.version, sequence)  # the file on disk is this state
            if path is not None and self._serves_champion() and not unchanged:
                save_snapshot(path, self._snapshot_key(live.bundle),
                              Snapshot(live, self.market, sequence, self.quarantined))
            self.store.close()

    def _serves_champion(self) -> bool:
        """A start loads the champion (CURRENT): a snapshot of another version would only be refused."""
        return current_version(Path(self.settings.model)) == self.worker.live.bundle.version
