"""One contract for every journal backend (service.store.Journal): the embedded SQLite file and PostgreSQL, a real
server the tests start (tests/postgres_server.py). SQLite-only matters (file versions, kill -9 of a writer) stay in
tests/test_store.py; what sharing adds (several writers in several processes, followers) is checked below."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from matcher.errors import MatcherError, UnavailableError
from matcher.service.store import Journal, Store
from tests.postgres_server import PostgresServer

OpenFn = Callable[[], Journal]


@pytest.fixture(params=["sqlite", "postgres"])
def journal_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenFn]:
    """Opens the same journal as often as asked (several opens = several processes' views of one journal)."""
    opened: list[Journal] = []
    if request.param == "sqlite":
        def open_one() -> Journal:
            opened.append(Store(tmp_path / "journal.sqlite"))
            return opened[-1]
    else:
        from matcher.service.store_pg import PostgresStore

        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.new_database()

        def open_one() -> Journal:
            opened.append(PostgresStore(url))
            return opened[-1]
    yield open_one
    for journal in opened:
        journal.close()


def seeker(seeker_id: str, text: str = "会计 三年经验") -> dict[str, str]:
    return {"seeker_id": seeker_id, "text": text, "skills": "Excel|财务"}


def test_replay_folds_upserts_deletes_and_events_in_order(journal_at: OpenFn) -> None:
    journal = journal_at()
    assert journal.sequence == 0 and journal.replay().sequence == 0
    a = journal.upsert("seekers", [seeker(" s1"), seeker("s2", "Java 开发")])
    b = journal.upsert("seekers", [seeker("s1", "出纳")])
    c = journal.delete("seekers", ["s2"])
    d = journal.append_events([{"seeker_id": " s1 ", "job_id": "j1", "event": "viewed"}])
    e = journal.upsert("jobs", [{"job_id": "j1", "title": "前端开发"}, {"job_id": "j1", "title": "后端开发"}])
    assert a < b < c < d < e == journal.sequence
    replay = journal.replay()
    assert replay.seekers == {"s1": seeker("s1", "出纳"), "s2": None}
    assert replay.jobs == {"j1": {"job_id": "j1", "title": "后端开发"}}
    assert replay.events == [{"seeker_id": "s1", "job_id": "j1", "event": "viewed"}]
    assert replay.sequence == e
    later = journal.since(b)
    assert [(w.seq, w.kind, w.op) for w in later] == [(c, "seekers", "delete"), (d, "events", "append"),
                                                      (e, "jobs", "upsert")]
    assert later[0].ids == ["s2"] and [r["title"] for r in later[2].records] == ["前端开发", "后端开发"]
    reopened = journal_at()  # another connection (process) sees every committed write
    assert reopened.replay() == replay and reopened.identity == journal.identity


def test_a_call_is_all_or_nothing(journal_at: OpenFn) -> None:
    journal = journal_at()
    first = journal.upsert("seekers", [seeker("s1")])
    with pytest.raises(ValueError, match="record at index 1"):  # the bad record surfaces mid-insert
        journal.upsert("seekers", [seeker("s2"), {"text": "no id"}])
    with pytest.raises(RuntimeError):  # the hook (the engine's apply) fails: rolled back, key not stored
        journal.upsert("seekers", [seeker("s3")], lambda _seq: (_ for _ in ()).throw(RuntimeError("no")), key="k")
    assert journal.replay().seekers == {"s1": seeker("s1")}
    assert journal.outcome("k") is None and journal.sequence == first
    assert journal.counts()["profile_ops"] == 1


def test_the_hook_sees_its_own_sequence_and_keys_keep_the_outcome(journal_at: OpenFn) -> None:
    journal = journal_at()
    seen: list[int] = []
    seq = journal.delete("jobs", ["j1", "j9"], lambda s: (seen.append(s), (1, 1))[1], key="retry-me")
    assert seen == [seq] and journal.outcome("retry-me") == (seq, 1, 1)
    assert journal_at().outcome("retry-me") == (seq, 1, 1)
    # A shared journal commits a delete before its not-found count is known, then corrects the key's answer.
    later = journal.delete("jobs", ["j2", "j3"], key="counted-after")
    assert journal.outcome("counted-after") == (later, 2, 0)
    journal.set_outcome("counted-after", 0, 2)
    assert journal_at().outcome("counted-after") == (later, 0, 2) and journal.sequence == later


def test_concurrent_writers_get_unique_sequences_and_a_follower_never_skips_one(journal_at: OpenFn) -> None:
    """Several writers (two opens of one journal: two replicas, two threads each) and a follower that reads
    `since(last)` meanwhile, as a replica does: it must see every write exactly once, in increasing order. On
    PostgreSQL this holds only because writers queue on one lock before drawing their number (service.store_pg):
    without it a higher number can commit first and the follower would step over the lower one for ever."""
    replicas = [journal_at(), journal_at()]
    follower = journal_at()
    acknowledged: list[int] = []
    done = threading.Event()

    def write(journal: Journal, name: str) -> None:
        for i in range(25):
            acknowledged.append(journal.upsert("jobs", [{"job_id": f"{name}-{i}", "title": "普工"}]))

    def follow(seen: list[int]) -> None:
        last = 0
        while True:
            finished = done.is_set()
            for w in follower.since(last):
                seen.append(w.seq)
                last = w.seq
            if finished:
                return

    seen: list[int] = []
    reader = threading.Thread(target=follow, args=(seen,))
    reader.start()
    writers = [threading.Thread(target=write, args=(j, f"r{r}t{t}")) for r, j in enumerate(replicas)
               for t in range(2)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    assert len(set(acknowledged)) == 100
    assert seen == sorted(acknowledged)  # every acknowledged write, once, in order, none skipped


def test_a_closed_journal_says_so(journal_at: OpenFn) -> None:
    journal = journal_at()
    journal.close()
    with pytest.raises(MatcherError, match="closed"):
        journal.upsert("seekers", [seeker("s1")])


def test_an_unreachable_server_is_unavailable_and_the_password_never_shows() -> None:
    pytest.importorskip("psycopg")
    from matcher.service.store_pg import PostgresStore

    with pytest.raises(UnavailableError) as info:
        PostgresStore("postgresql://matcher:s3cret-pw@127.0.0.1:9/journal")  # port 9: nothing listens
    assert "s3cret" not in str(info.value) and "127.0.0.1:9/journal" in str(info.value)
    with pytest.raises(MatcherError, match="not a valid PostgreSQL"):
        PostgresStore("postgresql://x y z=")
