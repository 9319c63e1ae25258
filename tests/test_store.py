"""The live-write journal: replay semantics, all-or-nothing calls, sequence numbers, kill -9 durability, threads."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from matcher.errors import MatcherError
from matcher.service.store import Store

REPO_ROOT = Path(__file__).resolve().parents[1]


def seeker(seeker_id: str, text: str = "会计 三年经验", **extra: str) -> dict[str, str]:
    return {"seeker_id": seeker_id, "text": text, "skills": "Excel|财务", "lat": "", **extra}


def job(job_id: str, title: str = "会计") -> dict[str, str]:
    return {"job_id": job_id, "title": title, "salary_min": "6000", "expires_at": ""}


def test_upsert_replace_delete_and_revive(tmp_path: Path) -> None:
    with Store(tmp_path / "journal.sqlite") as store:
        store.upsert("seekers", [seeker("s1"), seeker("s2", text="Java 开发")])
        assert store.replay().seekers == {"s1": seeker("s1"), "s2": seeker("s2", text="Java 开发")}

        store.upsert("seekers", [seeker("s1", text="出纳")])
        assert store.replay().seekers["s1"] == seeker("s1", text="出纳")

        store.delete("seekers", ["s1"])
        replay = store.replay()
        assert replay.seekers["s1"] is None
        assert replay.seekers["s2"] == seeker("s2", text="Java 开发")

        store.upsert("seekers", [seeker("s1", text="回来了")])
        assert store.replay().seekers["s1"] == seeker("s1", text="回来了")


def test_last_op_within_one_call_wins(tmp_path: Path) -> None:
    with Store(tmp_path / "j.sqlite") as store:
        store.upsert("jobs", [job("j1", "first"), job("j1", "second")])
        assert store.replay().jobs == {"j1": job("j1", "second")}


def test_kinds_are_independent(tmp_path: Path) -> None:
    with Store(tmp_path / "j.sqlite") as store:
        store.upsert("seekers", [{"seeker_id": "x1", "text": "seeker"}])
        store.upsert("jobs", [{"job_id": "x1", "title": "job"}])
        store.delete("jobs", ["x1"])
        replay = store.replay()
        assert replay.seekers == {"x1": {"seeker_id": "x1", "text": "seeker"}}
        assert replay.jobs == {"x1": None}


def test_deleting_an_id_never_upserted_is_a_tombstone(tmp_path: Path) -> None:
    """Deletes must also hide rows that exist only in the CSVs, which the journal never saw."""
    with Store(tmp_path / "j.sqlite") as store:
        store.delete("jobs", ["csv-only"])
        assert store.replay().jobs == {"csv-only": None}


@pytest.mark.parametrize("bad", [{"text": "no id"}, {"seeker_id": "", "text": "empty id"}, {"seeker_id": "  "}])
def test_record_without_id_writes_nothing(tmp_path: Path, bad: dict[str, str]) -> None:
    with Store(tmp_path / "j.sqlite") as store:
        store.upsert("seekers", [seeker("s0")])
        before, seq_before, counts_before = store.replay(), store.sequence, store.counts()

        with pytest.raises(ValueError, match=r"index 2\b.*seeker_id"):
            store.upsert("seekers", [seeker("s1"), seeker("s2"), bad, seeker("s3")])

        assert store.replay() == before
        assert store.sequence == seq_before
        assert store.counts() == counts_before
        assert store.upsert("seekers", [seeker("s4")]) == seq_before + 1  # the failed call used no number


def test_failure_after_rows_were_inserted_rolls_back(tmp_path: Path) -> None:
    """The third record fails only while being serialised, i.e. after two rows are in the open transaction."""
    with Store(tmp_path / "j.sqlite") as store:
        bad = {"seeker_id": "s3", "text": object()}
        with pytest.raises(TypeError, match="index 2"):
            store.upsert("seekers", [seeker("s1"), seeker("s2"), bad])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="index 1"):
            store.delete("jobs", ["j1", ""])
        with pytest.raises(TypeError, match="index 1"):
            store.append_events([{"seeker_id": "s1"}, {"value": 3}])  # type: ignore[dict-item]
        assert store.sequence == 0
        assert store.counts() == {"writes": 0, "profile_ops": 0, "events": 0, "write_keys": 0}
        assert store.replay().seekers == {}


def test_sequence_increases_per_call_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "j.sqlite"  # parent dirs are created
    with Store(path) as store:
        assert store.sequence == 0
        assert store.replay().sequence == 0
        seqs = [store.upsert("seekers", [seeker("s1"), seeker("s2")]), store.upsert("jobs", [job("j1")]),
                store.delete("seekers", ["s2"]), store.append_events([{"seeker_id": "s1", "job_id": "j1"}])]
        assert seqs == [1, 2, 3, 4]
        assert store.sequence == 4
        assert store.counts() == {"writes": 4, "profile_ops": 4, "events": 1, "write_keys": 0}
    with Store(path) as store:
        assert store.sequence == 4
        replay = store.replay()
        assert replay.sequence == 4
        assert replay.seekers == {"s1": seeker("s1"), "s2": None}
        assert replay.jobs == {"j1": job("j1")}
        assert store.upsert("jobs", [job("j2")]) == 5


def test_events_keep_order_and_fields(tmp_path: Path) -> None:
    first = [{"seeker_id": "s1", "job_id": "j1", "event": "viewed", "timestamp": "2026-01-05T10:00:00Z", "value": "35"},
             {"seeker_id": "s2", "job_id": "j2", "event": "applied", "timestamp": "2026-01-06T10:00:00Z", "value": ""}]
    second = [{"seeker_id": "s2", "job_id": "j9", "event": "viewed", "timestamp": "2026-01-06T11:00:00Z", "value": ""},
              {"seeker_id": "s1", "job_id": "j1", "event": "viewed", "timestamp": "2026-01-05T10:00:00Z", "value": "35"}]
    path = tmp_path / "j.sqlite"
    with Store(path) as store:
        store.append_events(first)
        store.upsert("seekers", [seeker("s1")])
        store.append_events(second)
    with Store(path) as store:
        assert store.replay().events == first + second  # duplicates kept: events are a log, not a set


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = Store(tmp_path / "j.sqlite")
    store.close()
    store.close()  # idempotent
    with pytest.raises(MatcherError, match="closed"):
        store.upsert("seekers", [seeker("s1")])


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    script = textwrap.dedent(f"""
        import sys
        from matcher.service.store import Store
        store = Store({str(path)!r})
        for i in range(200):
            seq = store.upsert("seekers", [{{"seeker_id": f"s{{i}}", "text": "x" * 200}}])
            print(i, seq, flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    acked: dict[str, int] = {}
    try:
        while len(acked) < 50:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"writer exited early: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}")
            i, seq = line.split()
            acked[f"s{i}"] = int(seq)
        os.kill(proc.pid, signal.SIGKILL)
        acked.update((f"s{i}", int(seq)) for i, seq in (line.split() for line in proc.stdout))  # acks in the pipe
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode in (-signal.SIGKILL, 0)

    with Store(path) as store:
        replay = store.replay()
    assert set(acked) <= set(replay.seekers)
    assert all(replay.seekers[s] == {"seeker_id": s, "text": "x" * 200} for s in acked)
    assert replay.sequence >= max(acked.values())
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_concurrent_writers(tmp_path: Path) -> None:
    seqs: list[int] = []
    errors: list[BaseException] = []
    seqs_lock = threading.Lock()

    with Store(tmp_path / "j.sqlite") as store:
        def write(worker: int) -> None:
            try:
                for i in range(50):
                    seq = store.upsert("seekers", [seeker(f"w{worker}-{i}")])
                    with seqs_lock:
                        seqs.append(seq)
            except BaseException as exc:  # surfaced below: exceptions in threads do not fail the test by themselves
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        replay = store.replay()

    assert len(replay.seekers) == 400
    assert set(replay.seekers) == {f"w{w}-{i}" for w in range(8) for i in range(50)}
    assert sorted(seqs) == list(range(1, 401))  # unique and gap-free
    assert replay.sequence == 400


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(MatcherError, match=r"future\.sqlite.*version 7.*version 1"):
        Store(path)
    with sqlite3.connect(path) as conn:  # left untouched
        assert conn.execute("PRAGMA user_version").fetchone() == (7,)
    conn.close()


def test_non_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database\x00\xff" * 200)
    with pytest.raises(MatcherError, match=r"garbage\.sqlite"):
        Store(path)


def test_corrupt_record_is_reported_without_contents(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Store(path) as store:
        store.append_events([{"seeker_id": "s1"}])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET record_json = '{\"secret\": \"applicant-ssn'")
    conn.close()
    with Store(path) as store, pytest.raises(MatcherError, match=r"j\.sqlite") as info:
        store.replay()
    assert "secret" not in str(info.value)
    assert "applicant" not in str(info.value)


def test_since_gives_back_the_later_calls_in_order(tmp_path: Path) -> None:
    with Store(tmp_path / "j.sqlite") as store:
        store.upsert("jobs", [{"job_id": "j0", "title": "old"}])
        mark = store.upsert("seekers", [{"seeker_id": "s1"}])
        a = store.upsert("jobs", [{"job_id": "j1", "title": "a"}, {"job_id": "j2", "title": "b"}])
        b = store.append_events([{"seeker_id": "s1", "job_id": "j1", "event": "viewed"}])
        c = store.delete("jobs", ["j0", "j2"])
        d = store.upsert("jobs", [{"job_id": "j2", "title": "back"}])
        writes = store.since(mark)
        assert [w.seq for w in writes] == [a, b, c, d]
        assert [(w.kind, w.op) for w in writes] == [("jobs", "upsert"), ("events", "append"), ("jobs", "delete"),
                                                    ("jobs", "upsert")]
        assert [r["title"] for r in writes[0].records] == ["a", "b"] and writes[0].ids == []
        assert writes[1].records == [{"seeker_id": "s1", "job_id": "j1", "event": "viewed"}]
        assert writes[2].ids == ["j0", "j2"] and writes[2].records == []
        assert store.since(d) == [] and len(store.since(0)) == 6


def test_idempotency_keys_are_stored_with_the_outcome_and_added_to_older_journals(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Store(path) as store:
        store.upsert("seekers", [seeker("s1")])
    with sqlite3.connect(path) as conn:  # a journal written before idempotency keys existed
        conn.execute("DROP TABLE write_keys")
    with Store(path) as store:
        assert store.outcome("k1") is None
        seq = store.delete("seekers", ["s1", "s9"], lambda _seq: (1, 1), key="k1")
        assert store.outcome("k1") == (seq, 1, 1)
        with pytest.raises(RuntimeError):  # a failed apply stores neither the write nor its key
            store.upsert("seekers", [seeker("s2")], lambda _seq: (_ for _ in ()).throw(RuntimeError("no")), key="k2")
        assert store.outcome("k2") is None and store.sequence == seq
