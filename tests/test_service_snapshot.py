"""Issue 17: a restart loads the served state from its snapshot and replays only the journal after it; a snapshot
made for other inputs, or one cut short, is refused and the state rebuilt; answers equal a full rebuild's."""

from __future__ import annotations

from pathlib import Path

from tests.service_world import Env, Served, StartFn, _active_seekers, _job_like

K = 10


def _answers(served: Served, seekers: list[str]) -> list[list[tuple[str, float]]]:
    return [[(m.id, round(m.score, 9)) for m in served.client.recommend_jobs(s, k=K)] for s in seekers]


def _crash(served: Served) -> None:
    """Stop without the graceful path (no snapshot at the stop), as kill -9 would."""
    served.running.server.stop(0).wait()
    assert served.core is not None
    served.core.worker.stop(5)
    served.core.store.close()
    served.core = None  # the fixture's stop must not close it again


def test_a_restart_loads_the_snapshot_and_replays_only_later_writes(env: Env, fresh: StartFn, tmp_path: Path
                                                                     ) -> None:
    journal = tmp_path / "journal.sqlite"
    seekers = _active_seekers(env, 4)
    first = fresh(journal)
    assert first.core is not None and first.core.started_from == "build"
    assert Path(f"{journal}.snapshot").is_file()  # saved right after the full build, before any write
    job = _job_like(env, seekers[0], "SNAP-J1")
    first.client.upsert_jobs([job])
    first.client.delete_jobs([str(env.open_jobs().index[0])])
    before = _answers(first, seekers)
    assert before[0][0][0] == "SNAP-J1"
    _crash(first)  # the snapshot on disk is the one from before both writes

    second = fresh(journal)
    assert second.core is not None and second.core.started_from == "snapshot"
    assert _answers(second, seekers) == before  # the journal's two writes were replayed on top
    rebuilt = fresh(journal, snapshot="")  # the same journal, built from the folder as before snapshots
    assert rebuilt.core is not None and rebuilt.core.started_from == "build"
    assert _answers(rebuilt, seekers) == before
    second.stop()  # graceful: the snapshot now includes both writes
    third = fresh(journal)
    assert third.core is not None and third.core.started_from == "snapshot"
    assert third.core.info().journal_sequence == 2 and _answers(third, seekers) == before


def test_a_snapshot_for_other_settings_or_cut_short_is_refused_and_rebuilt(env: Env, fresh: StartFn,
                                                                            tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    seeker = _active_seekers(env, 1)[0]
    fresh(journal).stop()
    other = fresh(journal, n_candidates=150)  # another retrieval depth ranks differently: not this snapshot
    assert other.core is not None and other.core.started_from == "build"
    want = _answers(other, [seeker])
    other.stop()  # saves a snapshot for n_candidates 150
    snapshot = Path(f"{journal}.snapshot")
    blob = snapshot.read_bytes()
    snapshot.write_bytes(blob[: len(blob) // 2])  # a crash in the middle of a copy, a full disk
    cut = fresh(journal, n_candidates=150)
    assert cut.core is not None and cut.core.started_from == "build"
    assert _answers(cut, [seeker]) == want
