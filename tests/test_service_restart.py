"""The gRPC service (matcher.v1.MatchService) end to end over real local ports: the journal and restarts.

Acknowledged writes survive kill -9 of a `matcher serve` subprocess (marked slow); no acknowledged or refused
write may stop a restart, journal entries that cannot be replayed are quarantined, and a broken model is refused.
Every test starts its own servers (`fresh` or a subprocess; see tests/service_world.py).
"""

from __future__ import annotations

import logging
import math
import shutil
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.kill9 import ServeProcess
from matcher import api
from matcher.cli import main as cli_main
from matcher.errors import MatcherError
from matcher.service.client import MatchClient
from tests.service_world import (
    REPO,
    Code,
    Env,
    Served,
    StartFn,
    _active_seekers,
    _fails,
    _ids,
    _iso,
    _job_like,
    _seekers_without_events,
)

# --------------------------------------------------------------------------------------------------------------
# Durability: kill -9 and restart
# --------------------------------------------------------------------------------------------------------------


def _process(argv: list[str], log: Path) -> ServeProcess:
    return ServeProcess(argv, log, cwd=REPO)


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(env: Env, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    argv = ["serve", "--data", str(env.data_dir), "--model", str(env.model_dir), "--journal", str(journal),
            "--port", "0"]
    seekers = _active_seekers(env, 12)
    seeker_template = _seekers_without_events(env)[0]
    first = _process(argv, tmp_path / "serve.log")
    try:
        with MatchClient(first.wait_serving(), timeout=20) as client:
            before = client.model_info()
            last = 0
            for i in range(6):
                result = client.upsert_jobs([_job_like(env, seekers[i], f"D-J{i}")])
                assert result.sequence > last
                last = result.sequence
            # D-J0 is then replaced: an internship now.
            last = client.upsert_jobs([_job_like(env, seekers[0], "D-J0", job_type="internship")]).sequence
            for i in range(4):
                last = client.upsert_seekers([env.seeker(seeker_template) | {"seeker_id": f"D-S{i}"}]).sequence
            deleted_job = client.recommend_jobs(seekers[7], k=1)[0].id
            assert client.delete_jobs([deleted_job, "D-J5"]).written == 2
            deleted_seeker = seekers[8]
            assert client.delete_seekers([deleted_seeker, "D-S3"]).written == 2
            applied = client.recommend_jobs(seekers[9], k=1)[0].id
            last = client.record_events([{"seeker_id": seekers[9], "job_id": applied, "event": "applied",
                                          "timestamp": _iso(env.as_of)}]).sequence
            first.proc.send_signal(signal.SIGKILL)  # right after the last acknowledged call
            first.proc.wait(timeout=30)
            assert first.proc.returncode == -signal.SIGKILL
    finally:
        first.close()

    second = _process(argv, tmp_path / "serve.log")
    try:
        with MatchClient(second.wait_serving(), timeout=20) as client:
            info = client.model_info()
            assert info.journal_sequence == last
            assert info.n_jobs == before.n_jobs + 6 - 2
            assert info.n_seekers == before.n_seekers + 4 - 2
            new_jobs = [f"D-J{i}" for i in range(5)]
            new_seekers = [f"D-S{i}" for i in range(3)]
            scores = client.score_pairs([s for s in new_seekers for _ in new_jobs], new_jobs * len(new_seekers))
            assert len(scores) == 15 and all(math.isfinite(x) for x in scores)
            assert "D-J0" in _ids(client.recommend_jobs(seekers[0], k=10, job_types=["internship"]))
            for gone in (deleted_job, "D-J5"):
                _fails(Code.NOT_FOUND, client.score_pairs, [seekers[0]], [gone])
                assert gone not in _ids(client.recommend_jobs(seekers[7], k=100))
            for gone in (deleted_seeker, "D-S3"):
                _fails(Code.NOT_FOUND, client.recommend_jobs, gone, k=1)
            assert applied not in _ids(client.recommend_jobs(seekers[9], k=20, exclude_applied=True))
    finally:
        second.close()


# --------------------------------------------------------------------------------------------------------------
# Hardening (issue 13): no acknowledged or refused write may stop a restart; a broken model is refused
# --------------------------------------------------------------------------------------------------------------


def _restarts_to_the_same_state(env: Env, fresh: StartFn, server: Served, seeker: str) -> Served:
    """Start a second server on the first one's journal: it must come up and rank as the first does."""
    before = _ids(server.client.recommend_jobs(seeker, k=10))
    again = fresh(journal=Path(server.settings.journal))
    assert _ids(again.client.recommend_jobs(seeker, k=10)) == before
    return again


@pytest.mark.parametrize("column, value", [("posted_at", "9999-12-31T00:00:00Z"), ("expires_at", "3000-01-01"),
                                           ("posted_at", "0001-01-01T00:00:00Z")])
def test_times_outside_the_supported_range_are_refused_and_never_journalled(
        env: Env, fresh: StartFn, column: str, value: str) -> None:
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    job = {**_job_like(env, seeker, "FAR-FUTURE"), column: value}
    details = _fails(Code.INVALID_ARGUMENT, server.client.upsert_jobs, [job])
    assert f"jobs[0].{column}" in details or column in details
    event = {"seeker_id": seeker, "job_id": env.jobs.index[0], "event": "viewed", "timestamp": "9999-01-01T00:00Z"}
    _fails(Code.INVALID_ARGUMENT, server.client.record_events, [event])
    # the same bound for an inline (unstored) job of RecommendSeekers
    assert f"profile[0].{column}" in _fails(Code.INVALID_ARGUMENT, server.client.recommend_seekers, profile=job, k=3)
    assert server.core is not None and server.core.store.sequence == 0
    _restarts_to_the_same_state(env, fresh, server, seeker)


def test_ids_are_trimmed_alike_live_and_after_a_restart(env: Env, fresh: StartFn) -> None:
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    padded = {**env.seeker(seeker), "seeker_id": f" {seeker} ", "text": env.s(seeker, "text") + " 电工"}
    server.client.upsert_seekers([padded])
    server.client.upsert_seekers([{**env.seeker(seeker), "seeker_id": "dupe"}])
    server.client.upsert_seekers([{**env.seeker(seeker), "seeker_id": "dupe "}])
    _fails(Code.INVALID_ARGUMENT, server.client.delete_seekers, [" "])
    again = _restarts_to_the_same_state(env, fresh, server, seeker)
    assert again.client.recommend_jobs("dupe", k=3)  # one seeker "dupe", not two


def test_reserved_column_names_are_refused(env: Env, fresh: StartFn) -> None:
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    job = {**_job_like(env, seeker, "RESERVED"), "_journal_deleted": "1"}
    details = _fails(Code.INVALID_ARGUMENT, server.client.upsert_jobs, [job])
    assert "reserved" in details
    assert server.core is not None and server.core.store.sequence == 0


def test_many_priority_groups_never_fail_a_write(env: Env, fresh: StartFn) -> None:
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    too_many = {**env.seeker(seeker), "priority_groups": "|".join(f"g{i}" for i in range(64))}
    _fails(Code.INVALID_ARGUMENT, server.client.upsert_seekers, [too_many])
    # 8 per seeker is allowed; 80 distinct groups over ten seekers exceed the 63 the catalogue can hold as bits:
    # the extra groups are left out of the policy (logged), the writes succeed and a restart loads them.
    for i in range(10):
        groups = "|".join(f"h{i}-{g}" for g in range(8))
        server.client.upsert_seekers([{**env.seeker(seeker), "seeker_id": f"groups-{i}", "priority_groups": groups}])
    _restarts_to_the_same_state(env, fresh, server, seeker)


def test_a_truncated_model_file_is_refused_not_fatal(env: Env, fresh: StartFn, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(env.model_dir, model_dir)
    server = fresh(model_dir=model_dir)
    cut = model_dir / "versions" / "cut-in-half"
    shutil.copytree(model_dir / "versions" / env.version, cut)
    text = (cut / "model.txt").read_bytes()
    (cut / "model.txt").write_bytes(text[: len(text) // 2])
    _fails(Code.FAILED_PRECONDITION, server.client.reload_model, "cut-in-half")
    assert server.client.model_info().version == env.version
    with pytest.raises(MatcherError, match="checksum|incomplete"):
        api.load(cut)
    # A batch run on it exits 2 with a message, not an abort.
    assert cli_main(["batch", "--data", str(env.data_dir), "--model", str(cut), "--out",
                     str(tmp_path / "m.csv"), "--k", "3"]) == 2


def test_a_future_dated_write_does_not_move_the_clock_at_restart(env: Env, fresh: StartFn) -> None:
    """Found by the restart-after-fuzz check: a job posted in 2199 (a valid time) made the restarted server's "data"
    clock 2199, so every other job looked 175 years old. The clock is the folder's, live and after a restart."""
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    server.client.upsert_jobs([_job_like(env, seeker, "FAR-POSTED", posted_at="2199-12-31T00:00:00Z")])
    again = _restarts_to_the_same_state(env, fresh, server, seeker)
    assert len(again.client.recommend_jobs(seeker, k=10)) == 10


def test_a_committed_write_the_engine_cannot_apply_fails_and_the_state_is_rebuilt_from_the_journal(
        env: Env, fresh: StartFn, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation is one gate; applying is the other. Writes commit before they are applied (nothing slow runs
    under the journal's lock), so a write that passes validation and still fails to apply (here: a fault injected
    into the live catalogue) is in the journal: the call fails and the server rebuilds what it serves from the
    journal, which then holds the write, exactly as a restart does."""
    server = fresh()
    assert server.core is not None
    seeker = _active_seekers(env, 1)[0]
    from matcher.service.live import LiveCatalogue

    real = LiveCatalogue.upsert_jobs

    def faulty(self: LiveCatalogue, jobs: pd.DataFrame) -> None:
        if "POISON" in set(jobs["job_id"]):
            raise RuntimeError("injected fault")
        real(self, jobs)

    monkeypatch.setattr(LiveCatalogue, "upsert_jobs", faulty)
    served = server.core.worker.live
    details = _fails(Code.INTERNAL, server.client.upsert_jobs, [_job_like(env, seeker, "POISON")])
    assert "injected" not in details and server.core.store.sequence == 1
    give_up = time.monotonic() + 60
    while server.core.worker.live is served:  # the rebuild runs in the background
        assert time.monotonic() < give_up, "the state was not rebuilt from the journal"
        time.sleep(0.05)
    assert "POISON" in server.core.worker.live.job_row and server.core.applied == 1
    written = server.client.upsert_jobs([_job_like(env, seeker, "FINE")])
    assert written.sequence == 2
    monkeypatch.undo()
    again = _restarts_to_the_same_state(env, fresh, server, seeker)
    assert again.client.model_info().journal_quarantined == 0


def test_journal_entries_that_cannot_be_replayed_are_quarantined_not_fatal(env: Env, fresh: StartFn, tmp_path: Path,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    """A journal written by hand or by an older build may hold entries today's validation refuses: the server
    starts, skips them loudly, counts them in GetModelInfo and serves everything else."""
    from matcher.service.store import Store

    seeker = _active_seekers(env, 1)[0]
    journal = tmp_path / "old.sqlite"
    first_job = str(env.jobs.index[0])
    with Store(journal) as store:
        store.upsert("jobs", [_job_like(env, seeker, "GOOD-1"), {**_job_like(env, seeker, "BAD-1"),
                                                                 "posted_at": "not a time"}])
        store.upsert("jobs", [{**env.job(first_job), "salary_min": "lots"}])  # replaces a folder row: it stays
        store.append_events([{"seeker_id": seeker, "job_id": "GOOD-1", "event": "applied",
                              "timestamp": "2015-01-01T00:00:00Z"},
                             {"seeker_id": seeker, "job_id": "GOOD-1", "event": "teleported",
                              "timestamp": "2015-01-01T00:00:00Z"}])
    with caplog.at_level(logging.ERROR, logger="matcher.service.core"):
        server = fresh(journal=journal)
    info = server.client.model_info()
    assert info.journal_quarantined == 3
    assert "quarantined" in caplog.text
    assert info.n_jobs == len(env.jobs) + 1  # GOOD-1 in, BAD-1 out, the folder's first job kept
    assert len(server.client.score_pairs([seeker, seeker], ["GOOD-1", first_job])) == 2
    _fails(Code.NOT_FOUND, server.client.score_pairs, [seeker], ["BAD-1"])
