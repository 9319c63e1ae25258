"""Replicas on one shared PostgreSQL journal (setting `store`, issue 17): a real server started by the tests
(tests/postgres_server.py), several `matcher serve` over it. A write acknowledged by one replica is served by the
others within a second, in sequence order, so they answer alike; kill -9 of either loses nothing acknowledged; a
replica that starts late catches up; an idempotency key holds across replicas."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from benchmarks.kill9 import ServeProcess
from matcher.service.client import MatchClient
from tests.postgres_server import PostgresServer
from tests.service_world import REPO, Code, Env, Served, StartFn, _active_seekers, _fails, _ids, _iso, _job_like

pytest.importorskip("psycopg")
_FOLLOW_S = 1.0  # the bound: a write acknowledged by one replica is visible on the others within this


def _wait_for(served: Served, sequence: int, within: float = _FOLLOW_S) -> float:
    """Seconds until `served` serves journal write `sequence`; fails past `within`."""
    started = time.monotonic()
    while served.client.model_info().journal_sequence < sequence:
        assert time.monotonic() - started < within, f"write {sequence} not served within {within}s"
        time.sleep(0.01)
    return time.monotonic() - started


def _rankings(served: Served, seekers: list[str]) -> list[list[tuple[str, float]]]:
    return [[(m.id, round(m.score, 6)) for m in served.client.recommend_jobs(s, k=20)] for s in seekers]


def _pair(fresh: StartFn, postgres: PostgresServer, tmp_path: Path) -> tuple[Served, Served, str]:
    url = postgres.new_database()
    a = fresh(tmp_path / "a" / "journal.sqlite", store=url, snapshot="")
    b = fresh(tmp_path / "b" / "journal.sqlite", store=url, snapshot="")
    return a, b, url


def test_a_write_on_one_replica_is_served_by_the_other_within_a_second(env: Env, fresh: StartFn,
                                                                       postgres: PostgresServer,
                                                                       tmp_path: Path) -> None:
    a, b, _ = _pair(fresh, postgres, tmp_path)
    seekers = _active_seekers(env, 6)
    assert _rankings(a, seekers) == _rankings(b, seekers)

    job = a.client.upsert_jobs([_job_like(env, seekers[0], "R-J1")])
    _wait_for(b, job.sequence)
    assert "R-J1" in _ids(b.client.recommend_jobs(seekers[0], k=20))
    assert b.core is not None and b.core.journal_lag() == 0

    seeker = b.client.upsert_seekers([env.seeker(seekers[1]) | {"seeker_id": "R-S1"}])
    _wait_for(a, seeker.sequence)
    assert a.client.recommend_jobs("R-S1", k=5)

    gone = a.client.recommend_jobs(seekers[2], k=1)[0].id
    deleted = b.client.delete_jobs([gone])
    applied = a.client.recommend_jobs(seekers[3], k=1)[0].id
    event = a.client.record_events([{"seeker_id": seekers[3], "job_id": applied, "event": "applied",
                                     "timestamp": _iso(env.as_of)}])
    _wait_for(a, deleted.sequence)
    _wait_for(b, event.sequence)
    for served in (a, b):
        assert gone not in _ids(served.client.recommend_jobs(seekers[2], k=100))
        _fails(Code.NOT_FOUND, served.client.score_pairs, [seekers[0]], [gone])
        assert applied not in _ids(served.client.recommend_jobs(seekers[3], k=20, exclude_applied=True))
    assert _rankings(a, [*seekers, "R-S1"]) == _rankings(b, [*seekers, "R-S1"])


def test_concurrent_writes_to_both_replicas_leave_them_alike(env: Env, fresh: StartFn, postgres: PostgresServer,
                                                             tmp_path: Path) -> None:
    """Both replicas take writes at once, some to the same ids: each applies every write in sequence order, so
    both end in the same state, and a restart from the journal alone rebuilds that state too."""
    a, b, url = _pair(fresh, postgres, tmp_path)
    seekers = _active_seekers(env, 8)
    results: list[Any] = []

    def writer(served: Served, name: str) -> None:
        for i in range(12):
            owner = seekers[i % len(seekers)]
            # Same job ids from both sides: the last write in sequence order must win on both.
            record = _job_like(env, owner, f"C-J{i % 5}", title=f"{name} {i}")
            results.append(served.client.upsert_jobs([record]))

    threads = [threading.Thread(target=writer, args=(s, n)) for s, n in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last = max(r.sequence for r in results)
    _wait_for(a, last)
    _wait_for(b, last)
    assert _rankings(a, seekers) == _rankings(b, seekers)
    late = fresh(tmp_path / "c" / "journal.sqlite", store=url, snapshot="")  # a replica that starts late
    assert late.client.model_info().journal_sequence == last
    assert _rankings(late, seekers) == _rankings(a, seekers)


def test_an_idempotency_key_holds_across_replicas(env: Env, fresh: StartFn, postgres: PostgresServer,
                                                  tmp_path: Path) -> None:
    a, b, _ = _pair(fresh, postgres, tmp_path)
    seeker = _active_seekers(env, 1)[0]
    first = a.client.upsert_jobs([_job_like(env, seeker, "K-J1")], key="call-7")
    retried = b.client.upsert_jobs([_job_like(env, seeker, "K-J1")], key="call-7")  # the retry lands elsewhere
    assert retried.replayed and retried.sequence == first.sequence
    assert a.client.model_info().journal_sequence == first.sequence  # nothing journalled twice


def test_a_retried_delete_answers_what_the_first_found_on_any_replica(env: Env, fresh: StartFn,
                                                                        postgres: PostgresServer,
                                                                        tmp_path: Path) -> None:
    """A shared journal commits before the engine applies (no replica waits for another's engine under the journal
    lock), so a delete's not-found count is stored under its key once known: a retry answers it, not 'all found'."""
    a, b, _ = _pair(fresh, postgres, tmp_path)
    seeker = _active_seekers(env, 1)[0]
    a.client.upsert_jobs([_job_like(env, seeker, "D-J1")])
    first = a.client.delete_jobs(["D-J1", "NEVER-WRITTEN"], key="delete-3")
    assert (first.written, first.not_found) == (1, 1)
    retried = b.client.delete_jobs(["D-J1", "NEVER-WRITTEN"], key="delete-3")
    assert retried.replayed and (retried.written, retried.not_found, retried.sequence) == (1, 1, first.sequence)


def test_a_committed_write_that_fails_to_apply_is_rebuilt_from_the_journal(env: Env, fresh: StartFn,
                                                                            postgres: PostgresServer, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """On a shared journal a write is committed before it is applied: one that passes validation and then fails to
    apply (a fault injected into the live catalogue) fails the call, and the replica rebuilds what it serves from the
    journal, as the other replicas and every restart read it."""
    from matcher.service.live import LiveCatalogue

    a, b, _ = _pair(fresh, postgres, tmp_path)
    seeker = _active_seekers(env, 1)[0]
    real = LiveCatalogue.upsert_jobs

    def faulty(self: LiveCatalogue, jobs: Any) -> None:
        if "POISON" in set(jobs["job_id"]) and threading.current_thread().name.startswith("matcher-engine"):
            raise RuntimeError("injected fault")
        real(self, jobs)

    monkeypatch.setattr(LiveCatalogue, "upsert_jobs", faulty)
    _fails(Code.INTERNAL, a.client.upsert_jobs, [_job_like(env, seeker, "POISON")])
    sequence = a.client.model_info().journal_sequence
    assert sequence == 1  # committed: the journal is the truth
    for replica in (a, b):  # b's engine fails on it too, following: it rebuilds as well
        limit, scored = time.monotonic() + 60, None
        while scored is None and time.monotonic() < limit:
            try:
                scored = replica.client.score_pairs([seeker], ["POISON"])
            except grpc.RpcError as exc:
                assert exc.code() == Code.NOT_FOUND
                time.sleep(0.2)
        assert scored is not None and len(scored) == 1, "the rebuilt state lacks a journalled write"
        assert replica.client.model_info().journal_sequence == sequence


def test_a_replica_started_late_from_its_snapshot_catches_up(env: Env, fresh: StartFn, postgres: PostgresServer,
                                                             tmp_path: Path) -> None:
    url = postgres.new_database()
    seekers = _active_seekers(env, 4)
    a = fresh(tmp_path / "a" / "journal.sqlite", store=url)
    b = fresh(tmp_path / "b" / "journal.sqlite", store=url)
    a.client.upsert_jobs([_job_like(env, seekers[0], "L-J1")])
    b.stop()  # saves its snapshot; the others go on writing
    written = a.client.upsert_jobs([_job_like(env, seekers[1], "L-J2")])
    again = fresh(tmp_path / "b" / "journal.sqlite", store=url)
    assert again.core is not None and again.core.started_from == "snapshot"
    assert again.client.model_info().journal_sequence == written.sequence
    assert _rankings(again, seekers) == _rankings(a, seekers)


@pytest.mark.slow
def test_kill_9_of_either_replica_loses_nothing(env: Env, postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.new_database()
    seekers = _active_seekers(env, 4)

    def start(name: str) -> ServeProcess:
        return ServeProcess(["serve", "--data", str(env.data_dir), "--model", str(env.model_dir), "--store", url,
                             "--journal", str(tmp_path / name / "journal.sqlite"), "--port", "0"],
                            tmp_path / f"{name}.log", cwd=REPO)

    first, second = start("a"), start("b")
    try:
        with MatchClient(first.wait_serving(), timeout=20) as one, MatchClient(second.wait_serving(),
                                                                              timeout=20) as two:
            one.upsert_jobs([_job_like(env, seekers[0], "X-J1")])
            last = two.upsert_jobs([_job_like(env, seekers[1], "X-J2")]).sequence
            first.proc.send_signal(signal.SIGKILL)  # right after an acknowledged write elsewhere
            first.proc.wait(timeout=30)
            last = two.delete_jobs(["X-J1"]).sequence
            second.proc.send_signal(signal.SIGKILL)  # and the other one, right after its own
            second.proc.wait(timeout=30)
    finally:
        first.close()
        second.close()
    third = start("a")
    try:
        with MatchClient(third.wait_serving(), timeout=20) as client:
            assert client.model_info().journal_sequence == last
            assert "X-J2" in _ids(client.recommend_jobs(seekers[1], k=20))
            _fails(Code.NOT_FOUND, client.score_pairs, [seekers[0]], ["X-J1"])
    finally:
        third.close()
