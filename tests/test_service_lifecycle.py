"""The gRPC service (matcher.v1.MatchService) end to end over real local ports: reload, health and shutdown.

ReloadModel switches versions and refuses broken ones, writes made during a reload are neither held back nor
lost (marked slow); health, reflection and NOT_SERVING before the catalogue loads; the in-thread `serve()`
lifecycle (graceful stop within the grace). Every test but the health check (`ro`) starts its own server.
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from matcher import api
from matcher.offline.training import TrainConfig
from matcher.service import queries
from matcher.service.client import MatchClient
from matcher.service.convert import pb, recommend_jobs_request
from matcher.service.server import serve
from matcher.service.settings import ServerSettings, load_settings
from tests.service_world import (
    FAST_TRAIN,
    HOST,
    Code,
    Env,
    Served,
    StartFn,
    _active_seekers,
    _fails,
    _ids,
    _job_like,
    _public,
    _start,
)

# --------------------------------------------------------------------------------------------------------------
# Reloading the model
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_writes_during_a_reload_are_not_held_back_and_not_lost(env: Env, fresh: StartFn) -> None:
    """The build of the new catalogue (minutes at a million rows) runs while writes go on; the writes journalled
    meanwhile are applied to the new catalogue and market view before it serves."""
    server = fresh()
    client, core = server.client, server.core
    assert core is not None
    seeker = _active_seekers(env, 1)[0]
    gone = env.open_jobs().index[0]
    before = client.model_info()
    built, release = threading.Event(), threading.Event()
    build = core._build

    def slow_build(version: str | None) -> Any:
        result = build(version)
        built.set()
        release.wait(60)
        return result

    core._build = slow_build  # type: ignore[method-assign]
    reload = threading.Thread(target=client.reload_model)
    reload.start()
    try:
        assert built.wait(60)
        upsert = client.upsert_jobs([_job_like(env, seeker, "DURING-RELOAD")])
        deleted = client.delete_jobs([gone])
        assert reload.is_alive(), "the writes had to wait for the reload"
    finally:
        release.set()
        reload.join(60)
    info = client.model_info()
    assert info.journal_sequence == deleted.sequence > upsert.sequence > before.journal_sequence
    assert (info.n_jobs, info.n_open_jobs) == (before.n_jobs, before.n_open_jobs)  # one added, one deleted
    ids = _ids(client.recommend_jobs(seeker, k=10))
    assert "DURING-RELOAD" in ids
    _fails(Code.NOT_FOUND, client.score_pairs, [seeker], [gone])  # the deleted job is gone from the new catalogue
    [row] = client.labour_market(by=["city"], city=env.s(seeker, "city"), limit=10)
    restarted = fresh(journal=Path(server.settings.journal))  # same journal: the state a restart rebuilds
    [again] = restarted.client.labour_market(by=["city"], city=env.s(seeker, "city"), limit=10)
    assert row == again


def test_reload_model_switches_versions_and_refuses_broken_ones(env: Env, fresh: StartFn, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(env.model_dir, model_dir)
    server = fresh(model_dir=model_dir)
    client = server.client
    v1 = env.version
    seeker = _active_seekers(env, 1)[0]
    written = client.upsert_jobs([_job_like(env, seeker, "KEEP-ME")])

    assert client.reload_model().version == v1  # CURRENT, unchanged: a no-op swap
    assert client.reload_model(v1).version == v1

    bundle, _ = api.train(env.data, TrainConfig(n_estimators=30, **FAST_TRAIN))  # type: ignore[arg-type]
    api.save(bundle, model_dir, env.data)
    v2 = bundle.version
    assert v2 != v1
    info = client.reload_model()  # CURRENT now names v2
    assert info.version == v2 == client.model_info().version
    assert info.journal_sequence == written.sequence
    response = client.stub.RecommendJobs(recommend_jobs_request(10, seeker), timeout=20)
    assert response.model_version == v2
    assert "KEEP-ME" in [m.job_id for m in response.matches], "a write made before the reload was lost"

    details = _fails(Code.NOT_FOUND, client.reload_model, "20990101T000000Z-deadbeef")
    assert "deadbeef" not in _public(details)
    _fails(Code.INVALID_ARGUMENT, client.reload_model, "../model")
    assert client.model_info().version == v2

    broken = model_dir / "versions" / "broken-copy"
    shutil.copytree(model_dir / "versions" / v1, broken)
    (broken / "model.txt").write_text("this is not a LightGBM model\n" * 10, encoding="utf-8")
    details = _fails(Code.FAILED_PRECONDITION, client.reload_model, "broken-copy")
    assert str(model_dir) not in details and "broken-copy" not in _public(details)
    assert client.model_info().version == v2  # the old model keeps serving
    assert len(client.recommend_jobs(seeker, k=5)) == 5
    assert client.reload_model(v1).version == v1
    # Reloading a version by name makes it the champion: matcher batch and the next restart use what is served.
    assert (model_dir / "CURRENT").read_text(encoding="utf-8").strip() == v1


# --------------------------------------------------------------------------------------------------------------
# Health and reflection
# --------------------------------------------------------------------------------------------------------------


def _reflected_services(channel: grpc.Channel) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                          timeout=20)
    return [s.name for r in responses for s in r.list_services_response.service]


def test_health_and_reflection(ro: Served) -> None:
    assert ro.client.health() == "SERVING"
    assert ro.client.health("matcher.v1.MatchService") == "SERVING"
    services = _reflected_services(ro.client.channel)
    assert "matcher.v1.MatchService" in services and "grpc.health.v1.Health" in services


def test_reflection_can_be_turned_off(fresh: StartFn) -> None:
    server = fresh(reflection=False)
    assert server.client.health() == "SERVING"
    _fails(Code.UNIMPLEMENTED, _reflected_services, server.client.channel)


def test_not_serving_and_unavailable_until_the_catalogue_is_loaded(env: Env, tmp_path: Path) -> None:
    served = _start(env, tmp_path / "journal.sqlite", with_core=False)
    try:
        assert served.client.health() == "NOT_SERVING"
        _fails(Code.UNAVAILABLE, served.client.model_info)
        _fails(Code.UNAVAILABLE, served.client.recommend_jobs, "x", k=1)
    finally:
        served.stop()


# --------------------------------------------------------------------------------------------------------------
# Graceful stop
# --------------------------------------------------------------------------------------------------------------


def _hold_score_pairs(monkeypatch: pytest.MonkeyPatch, hold: Callable[[], Any]) -> threading.Event:
    """Make every ScorePairs run `hold()` on the engine thread before scoring; the event is set once one does."""
    entered = threading.Event()
    original = queries.score_pairs

    def held(live: Any, s: Any, j: Any) -> Any:
        entered.set()
        hold()
        return original(live, s, j)

    monkeypatch.setattr(queries, "score_pairs", held)
    return entered


def _serve_in_thread(settings: ServerSettings) -> tuple[threading.Thread, threading.Event, str, list[BaseException]]:
    """`serve()` on a thread, as the process runs it: (thread, its stop event, host:port once serving, errors)."""
    ports: queue.Queue[int] = queue.Queue()
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve(settings, ready=ports.put, stop_event=stop)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, stop, f"{HOST}:{ports.get(timeout=60)}", errors


def test_serve_stops_gracefully_letting_calls_in_flight_finish(env: Env, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(data=str(env.data_dir), model=str(env.model_dir), journal=str(tmp_path / "j.sqlite"),
                             host=HOST, port=0, grace_s=10.0)
    thread, stop, target, errors = _serve_in_thread(settings)
    seekers = _active_seekers(env, 4)
    with MatchClient(target, timeout=20) as client:
        assert client.health() == "SERVING"
        jobs = [client.recommend_jobs(s, k=1)[0] for s in seekers]
        entered = _hold_score_pairs(monkeypatch, lambda: time.sleep(1.5))
        in_flight = client.stub.ScorePairs.future(
            pb.ScorePairsRequest(seeker_ids=seekers, job_ids=[m.id for m in jobs]), timeout=20)
        assert entered.wait(10)
        stop.set()
        time.sleep(0.3)  # draining: health says NOT_SERVING to a fresh probe, the port is still open
        assert client.health() == "NOT_SERVING"
        time.sleep(1.0)  # serve() has now stopped accepting calls; the one in flight is still sleeping
        _fails(Code.UNAVAILABLE, client.model_info)
        response = in_flight.result(timeout=20)
        np.testing.assert_allclose(list(response.scores), [m.score for m in jobs], rtol=0, atol=1e-9)
        thread.join(timeout=30)
        assert not thread.is_alive(), "serve() did not return after stop_event was set"
        assert not errors, errors
        _fails(Code.UNAVAILABLE, client.model_info)


def test_serve_stops_within_its_grace_even_when_a_call_does_not_finish(env: Env, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """grace_s bounds the whole stop (drain, in-flight calls, engine, journal): with 2 s it once took 10 s."""
    settings = load_settings(data=str(env.data_dir), model=str(env.model_dir), journal=str(tmp_path / "j.sqlite"),
                             host=HOST, port=0, grace_s=2.0, drain_s=0.5)
    thread, stop, target, _ = _serve_in_thread(settings)
    release = threading.Event()
    seeker = _active_seekers(env, 1)[0]
    with MatchClient(target, timeout=20) as client:
        job = client.recommend_jobs(seeker, k=1)[0].id
        entered = _hold_score_pairs(monkeypatch, lambda: release.wait(30))
        in_flight = client.stub.ScorePairs.future(pb.ScorePairsRequest(seeker_ids=[seeker], job_ids=[job]),
                                                  timeout=30)
        assert entered.wait(10)
        started = time.monotonic()
        stop.set()
        thread.join(timeout=20)
        took = time.monotonic() - started
        release.set()
        assert not thread.is_alive() and took < settings.grace_s + 1.0, f"stop took {took:.1f}s"
        with pytest.raises(grpc.RpcError):
            in_flight.result(timeout=20)


def test_a_read_is_labelled_with_the_model_that_computed_it_even_when_a_swap_follows_at_once() -> None:
    """Issue 17: the response's model version was read after the call returned, so a ReloadModel between the two
    labelled v1's scores as v2. The worker now hands back the version with the result, taken in the same step."""
    from types import SimpleNamespace

    from matcher.service.worker import Answer, EngineWorker

    def live(version: str) -> Any:
        return SimpleNamespace(bundle=SimpleNamespace(version=version))

    worker = EngineWorker(live("v1"), max_queue=100, max_batch=8, threads=2)
    entered, release = threading.Event(), threading.Event()

    def scored_by(current: Any, payloads: Any) -> list[str]:
        entered.set()
        release.wait(5)  # hold the engine until the swap below is queued right behind this read
        return [current.bundle.version for _ in payloads]

    try:
        read = worker.read(scored_by, None, time.monotonic() + 10)
        assert entered.wait(5)  # running: the swap waits for it (a write never runs beside a read)
        swap = worker.write(lambda _: worker.swap(live("v2")))
        release.set()
        answer = read.result(timeout=10)
        swap.result(timeout=10)
        assert isinstance(answer, Answer) and answer.value == answer.model_version == "v1"
        assert worker.live.bundle.version == "v2"  # what the old code would have written on the response
        assert worker.read(scored_by, None, time.monotonic() + 10).result(timeout=10).model_version == "v2"
    finally:
        worker.stop(5)
