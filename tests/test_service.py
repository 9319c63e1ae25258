"""The gRPC service (matcher.v1.MatchService) end to end over real local ports.

One synthetic folder and one small model are built per module (a few seconds). Read-only tests share one server
(`ro`); every test that writes, reloads or patches starts its own server on a fresh journal (`fresh`). The
subprocess tests (`matcher serve`, kill -9, restart) and the in-thread `serve()` lifecycle test are marked slow.
"""

from __future__ import annotations

import logging
import math
import queue
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pandas as pd
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from benchmarks.kill9 import ServeProcess
from features.pairs import FEATURE_NAMES
from matcher import api
from matcher.cli import main as cli_main
from matcher.data import Dataset
from matcher.errors import MatcherError
from matcher.offline.synthetic import generate
from matcher.offline.training import TrainConfig
from matcher.service import queries
from matcher.service.client import MatchClient
from matcher.service.convert import pb, recommend_jobs_request, recommend_seekers_request
from matcher.service.core import MatchCore
from matcher.service.server import RunningServer, create_server, serve
from matcher.service.settings import ServerSettings, load_settings

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
Code = grpc.StatusCode
REQUEST_ID = re.compile(r" \(request [0-9a-f]{16}\)$")
FAST_TRAIN = {"holdout_days": 0, "n_candidates": 100, "n_random_negatives": 30, "text_dim": 32,
              "early_stopping_rounds": 20}


# --------------------------------------------------------------------------------------------------------------
# The module's data, model and servers
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Env:
    data_dir: Path
    model_dir: Path
    data: Dataset              # typed frames, as the server loads them
    seekers: pd.DataFrame      # raw CSV cells (text), indexed by seeker_id: records to send
    jobs: pd.DataFrame         # raw CSV cells, indexed by job_id
    events: pd.DataFrame       # raw CSV cells
    version: str
    as_of: pd.Timestamp        # the serving clock ("data": the latest time in the folder)
    nowhere: str               # a seeker with no lat/lon and no city
    active_seekers: list[str]  # seekers with lat/lon, skills and events
    quiet_seekers: list[str]   # seekers with lat/lon and skills but no events

    def s(self, seeker_id: str, column: str) -> str:
        """One seeker cell as sent over the wire."""
        return str(self.seekers.at[seeker_id, column])

    def seeker(self, seeker_id: str) -> dict[str, str]:
        return {"seeker_id": seeker_id, **{str(k): str(v) for k, v in self.seekers.loc[seeker_id].items()}}

    def job(self, job_id: str) -> dict[str, str]:
        return {"job_id": job_id, **{str(k): str(v) for k, v in self.jobs.loc[job_id].items()}}

    def open_jobs(self) -> pd.DataFrame:
        """Typed jobs open at as_of, indexed by job_id."""
        jobs = self.data.jobs
        is_open = (jobs["posted_at"] <= self.as_of) & (jobs["expires_at"].isna() | (jobs["expires_at"] > self.as_of))
        return jobs.loc[is_open].set_index("job_id")


def _raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    root = tmp_path_factory.mktemp("service")
    synth = generate(700, 300, seed=7, events_per_seeker=4.0)
    nowhere = str(synth.seekers["seeker_id"].iloc[0])
    synth.seekers.loc[0, ["lat", "lon"]] = np.nan  # one seeker whose home is unknown (radius filter errors)
    synth.seekers.loc[0, "city"] = ""
    quiet = synth.jobs.iloc[:40:8].copy()  # copies of jobs that nobody has seen: no history of their own
    quiet["job_id"] = [f"Q{i:03d}" for i in range(len(quiet))]
    synth.jobs = pd.concat([synth.jobs, quiet], ignore_index=True)
    data_dir = root / "data"
    synth.write(data_dir)
    data = api.load_data(data_dir)
    bundle, _ = api.train(data, TrainConfig(n_estimators=80, **FAST_TRAIN))  # type: ignore[arg-type]
    model_dir = root / "model"
    api.save(bundle, model_dir, data)
    assert data.max_time is not None
    seekers, events = _raw(data_dir / "seekers.csv").set_index("seeker_id"), _raw(data_dir / "events.csv")
    usable = seekers.index[(seekers["lat"] != "") & (seekers["skills"] != "")]
    has_events = usable.isin(events["seeker_id"])
    return Env(data_dir=data_dir, model_dir=model_dir, data=data, seekers=seekers,
               jobs=_raw(data_dir / "jobs.csv").set_index("job_id"), events=events, version=bundle.version,
               as_of=data.max_time, nowhere=nowhere, active_seekers=list(usable[has_events]),
               quiet_seekers=list(usable[~has_events]))


@dataclass
class Served:
    core: MatchCore | None
    running: RunningServer
    settings: ServerSettings
    client: MatchClient

    @property
    def target(self) -> str:
        return f"{HOST}:{self.running.port}"

    def stop(self) -> None:
        self.client.close()
        self.running.server.stop(0).wait()
        if self.core is not None:
            self.core.close()


def _start(env: Env, journal: Path, *, model_dir: Path | None = None, with_core: bool = True,
           token: str | None = None, **overrides: Any) -> Served:
    settings = load_settings(data=str(env.data_dir), model=str(model_dir or env.model_dir), journal=str(journal),
                             host=HOST, port=0, **overrides)
    core = MatchCore(settings) if with_core else None
    running = create_server(settings, core)
    running.server.start()
    if core is not None:
        running.set_serving(True)
    return Served(core, running, settings, MatchClient(f"{HOST}:{running.port}", token=token, timeout=20.0))


@pytest.fixture(scope="module")
def ro(env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server for tests that only read: nothing may write to it, patch it or reload it."""
    served = _start(env, tmp_path_factory.mktemp("ro") / "journal.sqlite")
    yield served
    served.stop()


StartFn = Callable[..., Served]


@pytest.fixture()
def fresh(env: Env, tmp_path: Path) -> Iterator[StartFn]:
    """Start servers of this test's own (fresh journal unless given; settings overrides as keywords)."""
    started: list[Served] = []

    def start(journal: Path | None = None, **overrides: Any) -> Served:
        served = _start(env, journal or tmp_path / f"journal-{len(started)}.sqlite", **overrides)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _fails(code: grpc.StatusCode, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Call fn, expect an RpcError with `code`; returns its details."""
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    err: Any = info.value
    assert err.code() == code, f"{err.code()}: {err.details()}"
    return str(err.details())


def _public(details: str) -> str:
    """The details without their `(request <id>)` suffix (a hex id may contain any digits by chance)."""
    assert REQUEST_ID.search(details), details
    return REQUEST_ID.sub("", details)


def _ids(matches: list[Any]) -> list[str]:
    return [m.id for m in matches]


def _haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float:
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(float(lon2) - float(lon1)) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _skills(cell: str) -> set[str]:
    """Skill tags as Reasons.matched_skills reports them (case-folded)."""
    return {s.strip().lower() for s in cell.split("|") if s.strip()}


def _iso(when: pd.Timestamp) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _job_like(env: Env, seeker_id: str, job_id: str, **changes: str) -> dict[str, str]:
    """A job whose text, skills, place and salary copy the seeker's profile: it should rank near the top for them."""
    s = env.seekers.loc[seeker_id]
    occupation = s["desired_occupations"].split("|")[0]
    record = {"job_id": job_id, "employer_id": f"E-{job_id}", "title": occupation, "text": s["text"],
              "skills": s["skills"], "occupation": occupation, "city": s["city"], "lat": s["lat"], "lon": s["lon"],
              "education_min": "", "experience_min_years": "0", "salary_min": s["expected_salary_min"],
              "salary_max": s["expected_salary_max"], "headcount": "2", "job_type": "full_time",
              "posted_at": _iso(env.as_of - pd.Timedelta(days=1)), "expires_at": ""}
    record.update(changes)
    return record


def _seekers_without_events(env: Env) -> list[str]:
    """Seekers with a home location and skills but no events, in a fixed order."""
    return env.quiet_seekers


def _active_seekers(env: Env, n: int) -> list[str]:
    """Seekers with a home location, skills and events, in a fixed order."""
    return env.active_seekers[:n]


# --------------------------------------------------------------------------------------------------------------
# 1. Every RPC
# --------------------------------------------------------------------------------------------------------------


def test_recommend_jobs_returns_k_ranked_open_jobs_with_the_model_version(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    for seeker in _active_seekers(env, 5):
        for k in (1, 7, 25):
            response = ro.client.stub.RecommendJobs(recommend_jobs_request(k, seeker), timeout=20)
            assert len(response.matches) == k
            assert [m.rank for m in response.matches] == list(range(1, k + 1))
            scores = [m.score for m in response.matches]
            assert scores == sorted(scores, reverse=True), seeker
            ids = [m.job_id for m in response.matches]
            assert len(set(ids)) == k
            assert set(ids) <= set(open_jobs.index), "a job that is not open at as_of was recommended"
            assert response.model_version == ro.client.model_info().version == env.version
            assert re.fullmatch(r"[0-9a-f]{16}", response.request_id)


def test_score_pairs_equals_the_scores_recommend_jobs_returned(env: Env, ro: Served) -> None:
    seekers, jobs, expected = [], [], []
    for seeker in _active_seekers(env, 6):
        for m in ro.client.recommend_jobs(seeker, k=10):
            seekers.append(seeker)
            jobs.append(m.id)
            expected.append(m.score)
    scores = ro.client.score_pairs(seekers, jobs)
    assert len(scores) == len(expected) == 60
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-9)
    assert ro.client.score_pairs([], []) == []
    response = ro.client.stub.ScorePairs(pb.ScorePairsRequest(seeker_ids=seekers[:2], job_ids=jobs[:2]), timeout=20)
    assert response.model_version == env.version and list(response.scores) == pytest.approx(expected[:2], abs=1e-9)


def test_recommend_jobs_for_an_inline_profile_is_not_stored(env: Env, ro: Served) -> None:
    before = ro.client.model_info()
    seeker = _seekers_without_events(env)[0]
    profile = env.seeker(seeker) | {"seeker_id": "walk-in-1"}
    got = ro.client.recommend_jobs(profile=profile, k=10)
    registered = ro.client.recommend_jobs(seeker, k=10)
    # A seeker with no history is scored from the profile alone: the same profile gives the same list.
    assert _ids(got) == _ids(registered)
    np.testing.assert_allclose([m.score for m in got], [m.score for m in registered], rtol=0, atol=1e-9)
    after = ro.client.model_info()
    assert (after.n_seekers, after.journal_sequence) == (before.n_seekers, before.journal_sequence)
    _fails(Code.NOT_FOUND, ro.client.recommend_jobs, "walk-in-1", k=3)
    # A minimal profile (text only) works too.
    assert len(ro.client.recommend_jobs(profile={"seeker_id": "walk-in-2", "text": profile["text"]}, k=5)) == 5


def test_recommend_seekers_by_id_and_for_an_inline_job(env: Env, ro: Served) -> None:
    job = next(j for j in env.open_jobs().index if j.startswith("Q"))
    assert job not in set(env.events["job_id"])
    response = ro.client.stub.RecommendSeekers(recommend_seekers_request(8, job), timeout=20)
    assert [m.rank for m in response.matches] == list(range(1, 9))
    scores = [m.score for m in response.matches]
    assert scores == sorted(scores, reverse=True)
    ids = [m.seeker_id for m in response.matches]
    assert len(set(ids)) == 8 and set(ids) <= set(env.seekers.index)
    assert response.model_version == env.version
    # The model's scores: the same as ScorePairs for those pairs.
    np.testing.assert_allclose(ro.client.score_pairs(ids, [job] * 8), scores, rtol=0, atol=1e-9)

    before = ro.client.model_info()
    inline = ro.client.recommend_seekers(profile=env.job(job) | {"job_id": "draft-1"}, k=8)
    assert _ids(inline) == ids  # a job nobody has seen yet, sent inline, ranks like the stored one
    np.testing.assert_allclose([m.score for m in inline], scores, rtol=0, atol=1e-9)
    after = ro.client.model_info()
    assert (after.n_jobs, after.journal_sequence) == (before.n_jobs, before.journal_sequence)
    _fails(Code.NOT_FOUND, ro.client.recommend_seekers, "draft-1", k=3)


def test_get_model_info_describes_model_and_catalogue(env: Env, ro: Served) -> None:
    info = ro.client.model_info()
    assert info.version == env.version == (env.model_dir / "CURRENT").read_text().strip()
    assert list(info.feature_names) == list(FEATURE_NAMES)
    assert info.n_trees > 0
    assert (info.n_seekers, info.n_jobs) == (len(env.seekers), len(env.jobs))
    assert info.n_open_jobs == len(env.open_jobs()) < info.n_jobs
    assert pd.Timestamp(info.as_of) == env.as_of.floor("s")
    assert info.journal_sequence == 0
    assert info.data_fingerprint and info.created_at and info.loaded_at


def test_upsert_jobs_is_visible_to_the_next_call_and_updates_replace(env: Env, fresh: StartFn) -> None:
    server = fresh()
    client = server.client
    a = _active_seekers(env, 40)[0]
    a_city = env.s(a, "city")[:4]
    b = next(s for s in _active_seekers(env, 40) if env.s(s, "city")[:4] != a_city
             and env.s(s, "skills") != env.s(a, "skills"))
    before = client.model_info()

    first = client.upsert_jobs([_job_like(env, a, "NEW-1")])
    assert first.written == 1 and first.sequence > before.journal_sequence
    got = client.recommend_jobs(a, k=10)
    assert "NEW-1" in _ids(got), "a job copying the seeker's profile is not in their top 10 right after the upsert"
    why = next(m for m in got if m.id == "NEW-1").reasons
    assert set(why.matched_skills) == _skills(env.s(a, "skills"))
    assert why.same_city and why.distance_km is not None and why.distance_km < 0.5
    info = client.model_info()
    assert (info.n_jobs, info.n_open_jobs) == (before.n_jobs + 1, before.n_open_jobs + 1)
    assert info.journal_sequence == first.sequence

    # Same id again: the job moves to b's place and profile and becomes an internship.
    second = client.upsert_jobs([_job_like(env, b, "NEW-1", job_type="internship")])
    assert second.sequence > first.sequence
    assert client.model_info().n_jobs == before.n_jobs + 1  # replaced, not added
    got_b = client.recommend_jobs(b, k=10)
    assert "NEW-1" in _ids(got_b)
    why_b = next(m for m in got_b if m.id == "NEW-1").reasons
    assert set(why_b.matched_skills) == _skills(env.s(b, "skills"))
    assert "NEW-1" in _ids(client.recommend_jobs(b, k=10, job_types=["internship"]))
    assert "NEW-1" not in _ids(client.recommend_jobs(b, k=100, job_types=["full_time"]))
    assert "NEW-1" not in _ids(client.recommend_jobs(a, k=100, cities=[env.s(a, "city")]))

    # A job that expired before the serving clock is stored but never recommended.
    expired = _job_like(env, a, "NEW-2", posted_at=_iso(env.as_of - pd.Timedelta(days=30)),
                        expires_at=_iso(env.as_of - pd.Timedelta(days=1)))
    later = client.upsert_jobs([expired])
    assert later.sequence > second.sequence
    info = client.model_info()
    assert (info.n_jobs, info.n_open_jobs) == (before.n_jobs + 2, before.n_open_jobs + 1)
    assert "NEW-2" not in _ids(client.recommend_jobs(a, k=100))
    assert len(client.score_pairs([a], ["NEW-2"])) == 1  # stored all the same


def test_upsert_seekers_adds_and_replaces_profiles(env: Env, fresh: StartFn) -> None:
    server = fresh()
    client = server.client
    before = client.model_info()
    template = _seekers_without_events(env)[0]
    record = env.seeker(template) | {"seeker_id": "NEW-S1"}
    result = client.upsert_seekers([record])
    assert (result.written, result.not_found) == (1, 0) and result.sequence > before.journal_sequence
    assert client.model_info().n_seekers == before.n_seekers + 1
    # Stored now: ranked by id exactly like the template it copies (neither has history).
    assert _ids(client.recommend_jobs("NEW-S1", k=10)) == _ids(client.recommend_jobs(template, k=10))
    top_job = client.recommend_jobs("NEW-S1", k=1)[0].id
    assert len(client.score_pairs(["NEW-S1"], [top_job])) == 1

    other = next(s for s in _seekers_without_events(env)[1:]
                 if env.s(s, "city")[:4] != env.s(template, "city")[:4])
    again = client.upsert_seekers([env.seeker(other) | {"seeker_id": "NEW-S1"}])
    assert again.sequence > result.sequence
    assert client.model_info().n_seekers == before.n_seekers + 1
    assert _ids(client.recommend_jobs("NEW-S1", k=10)) == _ids(client.recommend_jobs(other, k=10))


def test_delete_jobs_removes_them_for_good_and_counts_unknown_ids(env: Env, fresh: StartFn) -> None:
    server = fresh()
    client = server.client
    seekers = _active_seekers(env, 5)
    gone = client.recommend_jobs(seekers[0], k=1)[0].id
    before = client.model_info()
    result = client.delete_jobs([gone, "no-such-job", gone])
    assert (result.written, result.not_found) == (1, 1) and result.sequence > before.journal_sequence
    info = client.model_info()
    assert (info.n_jobs, info.n_open_jobs) == (before.n_jobs - 1, before.n_open_jobs - 1)
    for seeker in seekers:
        assert gone not in _ids(client.recommend_jobs(seeker, k=100))
    assert gone not in _ids(client.recommend_jobs(profile=env.seeker(seekers[0]) | {"seeker_id": "x"}, k=100))
    _fails(Code.NOT_FOUND, client.score_pairs, [seekers[0]], [gone])
    _fails(Code.NOT_FOUND, client.recommend_seekers, gone, k=3)
    again = client.delete_jobs([gone])
    assert (again.written, again.not_found) == (0, 1)


def test_delete_seekers_makes_them_not_found(env: Env, fresh: StartFn) -> None:
    server = fresh()
    client = server.client
    seeker = _active_seekers(env, 1)[0]
    job = client.recommend_jobs(seeker, k=1)[0].id
    before = client.model_info()
    result = client.delete_seekers([seeker, "nobody"])
    assert (result.written, result.not_found) == (1, 1)
    assert client.model_info().n_seekers == before.n_seekers - 1
    _fails(Code.NOT_FOUND, client.recommend_jobs, seeker, k=5)
    _fails(Code.NOT_FOUND, client.score_pairs, [seeker], [job])
    assert seeker not in _ids(client.recommend_seekers(job, k=100))
    assert seeker not in _ids(client.recommend_seekers(profile=env.job(job) | {"job_id": "draft"}, k=100))


def test_record_events_applied_feeds_exclude_applied(env: Env, fresh: StartFn) -> None:
    server = fresh()
    client = server.client
    seeker = _active_seekers(env, 3)[2]
    unfiltered = _ids(client.recommend_jobs(seeker, k=10))
    applied = unfiltered[0]
    before = client.model_info()
    result = client.record_events([
        {"seeker_id": seeker, "job_id": applied, "event": "applied", "timestamp": _iso(env.as_of)},
        {"seeker_id": seeker, "job_id": unfiltered[1], "event": "viewed", "timestamp": "", "value": "12.5"},
    ])
    assert result.written == 2 and result.sequence > before.journal_sequence
    assert client.model_info().journal_sequence == result.sequence
    filtered = _ids(client.recommend_jobs(seeker, k=10, exclude_applied=True))
    assert applied not in filtered
    assert unfiltered[1] in filtered  # only applied (or better) events exclude a job
    assert len(filtered) == 10
    # The filter, not a changed score, removed it: history features only change at the next rebuild (live.py), so
    # without the filter the job is still ranked.
    assert applied in _ids(client.recommend_jobs(seeker, k=10))
    _fails(Code.INVALID_ARGUMENT, client.record_events, [{"seeker_id": seeker, "job_id": applied,
                                                          "event": "clicked"}])


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


# --------------------------------------------------------------------------------------------------------------
# 2. Filters
# --------------------------------------------------------------------------------------------------------------


def test_cities_filter_returns_only_jobs_in_those_cities(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    prefixes = open_jobs["city"].str[:4]
    # The prefecture with the most open jobs, not a municipality (whose counties all map to one city code).
    counts = prefixes[~prefixes.str[:2].isin(["11", "12", "31", "50"])].value_counts()
    prefix = str(counts.index[0])
    in_city = set(open_jobs.index[prefixes == prefix])
    assert len(in_city) >= 5
    for seeker in _active_seekers(env, 10):
        unfiltered = _ids(ro.client.recommend_jobs(seeker, k=20))
        got = _ids(ro.client.recommend_jobs(seeker, k=20, cities=[f"{prefix}00"]))
        assert set(got) <= in_city, seeker
        assert len(got) == min(20, len(in_city)), seeker  # every job passing the filter can be found
        if not set(unfiltered) <= in_city:
            assert got != unfiltered
    # An unknown place matches nothing rather than everything.
    assert ro.client.recommend_jobs(_active_seekers(env, 1)[0], k=10, cities=["Atlantis"]) == []


def test_job_types_filter(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    wanted = {"part_time", "gig"}
    eligible = set(open_jobs.index[open_jobs["job_type"].isin(wanted)])
    assert 3 <= len(eligible) < len(open_jobs)
    for seeker in _active_seekers(env, 10):
        got = _ids(ro.client.recommend_jobs(seeker, k=30, job_types=sorted(wanted)))
        assert set(got) <= eligible
        assert len(got) == min(30, len(eligible))
    details = _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, _active_seekers(env, 1)[0], k=5,
                     job_types=["temp"])
    assert _public(details).startswith("filter.job_types[0]")


def test_salary_floor_filter(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    offered = open_jobs["salary_max"].fillna(open_jobs["salary_min"])
    floor = float(offered.quantile(0.8))
    eligible = set(open_jobs.index[offered >= floor])
    assert 5 <= len(eligible) < len(open_jobs)
    for seeker in _active_seekers(env, 10):
        got = _ids(ro.client.recommend_jobs(seeker, k=30, salary_floor=floor))
        assert set(got) <= eligible
        assert len(got) == min(30, len(eligible))
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, _active_seekers(env, 1)[0], k=5, salary_floor=-1)


def test_radius_filter_keeps_jobs_within_the_distance(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    checked = 0
    for seeker in _active_seekers(env, 30):
        s = env.data.seekers.set_index("seeker_id").loc[seeker]
        distance = {j: _haversine_km(s["lat"], s["lon"], row["lat"], row["lon"]) for j, row in open_jobs.iterrows()}
        radius = 150.0
        got = ro.client.recommend_jobs(seeker, k=20, radius_km=radius)
        for m in got:
            assert distance[m.id] <= radius + 0.01, (seeker, m.id, distance[m.id])
            assert m.reasons.distance_km == pytest.approx(distance[m.id], abs=0.05)
        # Every job inside the circle can be found (0.01 km of slack for float32 rounding at the edge).
        surely_in = sum(d <= radius - 0.01 for d in distance.values())
        maybe_in = sum(d <= radius + 0.01 for d in distance.values())
        assert min(20, surely_in) <= len(got) <= min(20, maybe_in), seeker
        checked += surely_in > 0
    assert checked >= 5


def test_radius_filter_without_a_home_location_is_invalid_argument(env: Env, ro: Served) -> None:
    details = _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, env.nowhere, k=5, radius_km=20)
    assert _public(details).startswith("filter.radius_km")
    assert len(ro.client.recommend_jobs(env.nowhere, k=5)) == 5  # without the filter it is a normal seeker
    profile = {"seeker_id": "walk-in", "text": "会计 Excel", "skills": "Excel"}
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, profile=profile, k=5, radius_km=20)
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, _active_seekers(env, 1)[0], k=5, radius_km=-3)


def test_seeker_filters_priority_groups_cities_and_radius(env: Env, ro: Served) -> None:
    job = env.open_jobs().index[0]
    in_group = set(env.seekers.index[env.seekers["priority_groups"].str.split("|").map(lambda g: "graduate" in g)])
    got = _ids(ro.client.recommend_seekers(job, k=50, priority_groups=["graduate"]))
    assert got and set(got) <= in_group and len(got) == min(50, len(in_group))
    prefix = env.jobs.loc[job, "city"][:4]
    same_city = set(env.seekers.index[env.seekers["city"].str[:4] == prefix])
    got = _ids(ro.client.recommend_seekers(job, k=50, cities=[f"{prefix}00"]))
    assert set(got) <= same_city and len(got) == min(50, len(same_city))
    j = env.data.jobs.set_index("job_id").loc[job]
    seekers = env.data.seekers.set_index("seeker_id")
    for m in ro.client.recommend_seekers(job, k=50, radius_km=300):
        s = seekers.loc[m.id]
        assert _haversine_km(s["lat"], s["lon"], j["lat"], j["lon"]) <= 300.01


def test_priority_policy_appends_slots_and_never_moves_the_model_top_k(env: Env, ro: Served, fresh: StartFn,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="matcher.policy.priority")
    policy = fresh(priority_share=0.3, priority_groups=["disabled", "long_term_unemployed", "veteran"])
    groups = env.seekers["priority_groups"].str.split("|")
    wanted = {"disabled", "long_term_unemployed", "veteran"}
    is_priority = groups.map(lambda g: bool(wanted & set(g)))
    appended = 0
    for job in env.open_jobs().index[:15]:
        plain = ro.client.recommend_seekers(job, k=10)
        got = policy.client.recommend_seekers(job, k=10)
        assert _ids(got[:10]) == _ids(plain) and not any(m.policy_slot for m in got[:10])
        slots = [m for m in got[10:]]
        assert all(m.policy_slot and is_priority[m.id] for m in slots)
        assert all(set(m.priority_groups) == set(groups[m.id]) - {""} for m in got)
        share = sum(is_priority[m.id] for m in got) / len(got)
        assert share >= 0.3 - 1e-9 or len(slots) == 0 and sum(is_priority[m.id] for m in got[:10]) >= 3
        appended += len(slots)
    assert appended > 0, "the policy never had to act: the test proves nothing"
    logged = [r.getMessage() for r in caplog.records if r.name == "matcher.policy.priority"]
    assert sum(int(m.split(": ")[1].split()[0]) for m in logged) == appended  # every adjustment logged, ids only
    assert not any(m.policy_slot for m in ro.client.recommend_seekers(env.open_jobs().index[0], k=10))


def test_recommend_nearby_returns_the_nearest_open_gig_and_part_time_jobs(env: Env, ro: Served) -> None:
    jobs = env.data.jobs.set_index("job_id")
    opened = env.open_jobs().index
    kinds = jobs.loc[opened, "job_type"]
    assert kinds.isin(["gig", "part_time"]).any()
    seeker = env.active_seekers[0]
    home = env.data.seekers.set_index("seeker_id").loc[seeker]
    lat, lon = float(home["lat"]), float(home["lon"])
    got = ro.client.recommend_nearby(lat, lon, k=8, radius_km=150)
    wanted = jobs.loc[opened[kinds.isin(["gig", "part_time"]).to_numpy()]]
    distance = pd.Series([_haversine_km(lat, lon, a, b) for a, b in zip(wanted["lat"], wanted["lon"], strict=True)],
                         index=wanted.index)
    expected = distance[distance <= 150].sort_values(kind="stable")
    assert got, "no gig or part-time job within 150 km: the test proves nothing"
    assert [m.id for m in got] == list(expected.index[:8])
    np.testing.assert_allclose([m.distance_km for m in got], expected.iloc[:8], atol=2e-3)
    assert all(m.score is None for m in got)
    scored = ro.client.recommend_nearby(lat, lon, k=8, radius_km=150, seeker_id=seeker)
    assert [m.id for m in scored] == [m.id for m in got]
    np.testing.assert_allclose([m.score for m in scored], ro.client.score_pairs([seeker] * len(got),
                                                                                [m.id for m in got]), atol=1e-9)
    full_time = ro.client.recommend_nearby(lat, lon, k=5, radius_km=150, job_types=["full_time"])
    assert all(jobs.loc[m.id, "job_type"] == "full_time" for m in full_time)


def test_recommend_nearby_bad_input(ro: Served) -> None:
    assert "lat" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 95.0, 120.0)
    assert "radius_km" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 30.0, 120.0,
                                 radius_km=500)
    assert "job_types[0]" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 30.0, 120.0,
                                    job_types=["pirate"])
    assert "seeker_id" in _fails(grpc.StatusCode.NOT_FOUND, ro.client.recommend_nearby, 30.0, 120.0,
                                 seeker_id="nobody")
    _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 30.0, 120.0, k=0)


def test_get_labour_market_equals_the_cli_view(env: Env, ro: Served) -> None:
    from matcher.policy.market import labour_market

    view = labour_market(env.data, as_of=env.as_of, by=("city",), totals=True)
    got = ro.client.labour_market(by=["city"], totals=True, limit=10_000)
    assert len(got) == len(view.table) > 1
    want = view.table.set_index("city")
    for row in got:
        expected = want.loc[row["city"]]
        assert (row["open_jobs"], row["openings"], row["active_seekers"]) == (
            expected["open_jobs"], expected["openings"], expected["active_seekers"])
        if pd.isna(expected["ratio"]):
            assert row["ratio"] is None
        else:
            assert row["ratio"] == pytest.approx(expected["ratio"])
    assert [r["openings"] for r in got] == sorted((r["openings"] for r in got), reverse=True)
    city = next(r["city"] for r in got if r["city"] != "*")
    only = ro.client.labour_market(city=city.split(":")[-1], limit=50)
    assert only and {r["city"] for r in only} == {city}
    assert "by" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.labour_market, by=["planet"])
    _fails(grpc.StatusCode.RESOURCE_EXHAUSTED, ro.client.labour_market, limit=20_000)


def test_get_labour_market_follows_acknowledged_writes(env: Env, fresh: StartFn) -> None:
    """Upserts and deletes show in the next view without a reload: known changes to one city's counts."""
    client = fresh().client
    seeker = _active_seekers(env, 1)[0]
    city = env.s(seeker, "city")

    def cell() -> tuple[int, int, int]:
        [row] = client.labour_market(by=["city"], city=city, limit=10)
        return row["open_jobs"], row["openings"], row["active_seekers"]

    before = cell()
    client.upsert_jobs([_job_like(env, seeker, "MKT-1", headcount="7"), _job_like(env, seeker, "MKT-2")])
    assert cell() == (before[0] + 2, before[1] + 9, before[2])
    client.upsert_jobs([_job_like(env, seeker, "MKT-1", headcount="3")])  # replaces, does not add
    assert cell() == (before[0] + 2, before[1] + 5, before[2])
    client.delete_jobs(["MKT-2"])
    assert cell() == (before[0] + 1, before[1] + 3, before[2])
    client.upsert_seekers([env.seeker(seeker) | {"seeker_id": "MKT-S", "updated_at": _iso(env.as_of)}])
    assert cell() == (before[0] + 1, before[1] + 3, before[2] + 1)
    client.delete_seekers([seeker])
    assert cell() == (before[0] + 1, before[1] + 3, before[2])


def test_priority_settings_are_validated() -> None:
    with pytest.raises(MatcherError, match="priority_share"):
        load_settings(data="d", model="m", priority_share=1.5)


# --------------------------------------------------------------------------------------------------------------
# 3. Errors and bounds
# --------------------------------------------------------------------------------------------------------------


def test_k_bounds_and_missing_or_unknown_ids(env: Env, ro: Served) -> None:
    seeker = _active_seekers(env, 1)[0]
    max_k = ro.settings.max_k
    for k in (0, max_k + 1):
        assert _public(_fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, seeker, k=k)).startswith("k:")
        _fails(Code.INVALID_ARGUMENT, ro.client.recommend_seekers, env.jobs.index[0], k=k)
    assert len(ro.client.recommend_jobs(seeker, k=max_k)) == min(max_k, len(env.open_jobs()))
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, k=5)  # neither seeker_id nor profile
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_seekers, k=5)
    assert _public(_fails(Code.NOT_FOUND, ro.client.recommend_jobs, "no-such-seeker", k=5)).startswith("seeker_id")
    _fails(Code.NOT_FOUND, ro.client.recommend_seekers, "no-such-job", k=5)
    details = _fails(Code.NOT_FOUND, ro.client.score_pairs, [seeker, seeker], [env.jobs.index[0], "no-such-job"])
    assert _public(details).startswith("job_ids[1]")
    _fails(Code.INVALID_ARGUMENT, ro.client.score_pairs, [seeker], [])
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, profile={"seeker_id": "x", "lat": "95", "lon": "1"}, k=3)


@pytest.mark.parametrize(("field", "bad", "problem"), [
    ("lat", "95", "outside"),
    ("posted_at", "last tuesday", "ISO 8601"),
    ("job_type", "temp-to-hire", "expected one of"),
    ("salary_min", "123456789", "greater than"),  # above salary_max
])
def test_upsert_with_a_bad_cell_names_field_and_index_and_stores_nothing(env: Env, fresh: StartFn, field: str,
                                                                          bad: str, problem: str) -> None:
    server = fresh()
    client = server.client
    seeker = _active_seekers(env, 1)[0]
    before = client.model_info()
    good = _job_like(env, seeker, "GOOD-1")
    wrong = _job_like(env, seeker, "BAD-1", **{field: bad})
    details = _fails(Code.INVALID_ARGUMENT, client.upsert_jobs, [good, wrong])
    public = _public(details)
    assert public.startswith(f"jobs[1].{field}: ") and problem in public, public
    assert bad not in public and bad not in details.split("(request")[0]
    after = client.model_info()
    assert (after.n_jobs, after.n_open_jobs, after.journal_sequence) == (before.n_jobs, before.n_open_jobs,
                                                                         before.journal_sequence)
    _fails(Code.NOT_FOUND, client.recommend_seekers, "GOOD-1", k=1)
    assert "GOOD-1" not in _ids(client.recommend_jobs(seeker, k=100))


def test_upsert_seekers_with_a_bad_cell_stores_nothing(env: Env, fresh: StartFn) -> None:
    server = fresh()
    client = server.client
    template = env.seeker(_active_seekers(env, 1)[0])
    records = [template | {"seeker_id": "OK-1"}, template | {"seeker_id": "OK-2"},
               template | {"seeker_id": "BAD-2", "updated_at": "31/12/2025"}]
    public = _public(_fails(Code.INVALID_ARGUMENT, client.upsert_seekers, records))
    assert public.startswith("seekers[2].updated_at: ") and "31/12/2025" not in public
    assert client.model_info().journal_sequence == 0
    _fails(Code.NOT_FOUND, client.recommend_jobs, "OK-1", k=1)


def test_upsert_with_a_duplicate_id_does_not_echo_the_id(env: Env, fresh: StartFn) -> None:
    """Ids are cell values too: errors must name field and index only."""
    server = fresh()
    client = server.client
    seeker = _active_seekers(env, 1)[0]
    secret_id = "job-of-zhang-san-13800138000"
    public = _public(_fails(Code.INVALID_ARGUMENT, client.upsert_jobs,
                            [_job_like(env, seeker, secret_id), _job_like(env, seeker, secret_id)]))
    assert public.startswith("jobs[1].job_id")
    assert secret_id not in public, f"the duplicate id is echoed back to the caller: {public!r}"


def test_limits_items_pairs_and_message_size(env: Env, fresh: StartFn) -> None:
    server = fresh(max_items_per_call=3, max_pairs_per_call=4, max_message_bytes=64 * 1024)
    client = server.client
    seeker = _active_seekers(env, 1)[0]
    jobs = [_job_like(env, seeker, f"L-{i}") for i in range(4)]
    _fails(Code.RESOURCE_EXHAUSTED, client.upsert_jobs, jobs)
    _fails(Code.RESOURCE_EXHAUSTED, client.upsert_seekers, [env.seeker(seeker) | {"seeker_id": f"S-{i}"}
                                                             for i in range(4)])
    _fails(Code.RESOURCE_EXHAUSTED, client.delete_jobs, ["a", "b", "c", "d"])
    _fails(Code.RESOURCE_EXHAUSTED, client.delete_seekers, ["a", "b", "c", "d"])
    _fails(Code.RESOURCE_EXHAUSTED, client.record_events,
           [{"seeker_id": seeker, "job_id": "x", "event": "viewed"}] * 4)
    job = env.jobs.index[0]
    _fails(Code.RESOURCE_EXHAUSTED, client.score_pairs, [seeker] * 5, [job] * 5)
    assert client.model_info().journal_sequence == 0
    # At the limit is fine.
    assert len(client.score_pairs([seeker] * 4, [job] * 4)) == 4
    assert client.upsert_jobs(jobs[:3]).written == 3

    huge = _job_like(env, seeker, "HUGE", text="很长的岗位描述" * 10_000)  # ~210 kB of UTF-8
    _fails(Code.RESOURCE_EXHAUSTED, client.upsert_jobs, [huge])
    _fails(Code.NOT_FOUND, client.recommend_seekers, "HUGE", k=1)


def _blocking_recommend_jobs(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event, list[Any]]:
    """Make the engine's RecommendJobs batches wait for `release`; returns (entered, release, payloads run)."""
    entered, release = threading.Event(), threading.Event()
    seen: list[Any] = []
    original = queries.recommend_jobs

    def slow(live: Any, batch: Any) -> Any:
        seen.extend(batch)
        entered.set()
        release.wait(10)
        return original(live, batch)

    monkeypatch.setattr(queries, "recommend_jobs", slow)
    return entered, release, seen


def test_deadlines(env: Env, fresh: StartFn, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh(request_timeout_s=0.5)
    stub = server.client.stub
    seeker, other = _active_seekers(env, 2)
    # A deadline the client gives that is already over.
    _fails(Code.DEADLINE_EXCEEDED, stub.RecommendJobs, recommend_jobs_request(5, seeker), timeout=0.000001)

    entered, release, seen = _blocking_recommend_jobs(monkeypatch)
    try:
        # The engine is stuck on this call; the server's request_timeout_s (0.5 s) is shorter than the client's.
        blocker = stub.RecommendJobs.future(recommend_jobs_request(5, seeker), timeout=20)
        assert entered.wait(5)
        # A call with a short client deadline gives up while queued ...
        _fails(Code.DEADLINE_EXCEEDED, stub.RecommendJobs, recommend_jobs_request(5, other), timeout=0.2)
        # ... and one without a deadline gets the server's request_timeout_s, enforced by the server.
        started = time.monotonic()
        details = _fails(Code.DEADLINE_EXCEEDED, stub.RecommendJobs, recommend_jobs_request(5, "only-queued"))
        assert 0.4 <= time.monotonic() - started < 5
        assert _public(details) == "deadline exceeded"
        with pytest.raises(grpc.RpcError) as info:
            blocker.result(timeout=20)
        assert info.value.code() == Code.DEADLINE_EXCEEDED  # type: ignore[attr-defined]
        assert _public(info.value.details()) == "deadline exceeded"  # type: ignore[attr-defined]
    finally:
        release.set()
    assert len(server.client.recommend_jobs(other, k=3)) == 3  # queued behind the expired calls
    assert "only-queued" not in [q.seeker_id for q in seen], "a call whose deadline passed in the queue was run"


def test_a_full_queue_is_resource_exhausted(env: Env, fresh: StartFn, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh(max_queue=1, handler_threads=4)
    assert server.core is not None
    seeker = _active_seekers(env, 1)[0]
    entered, release, _ = _blocking_recommend_jobs(monkeypatch)
    try:
        first = server.client.stub.RecommendJobs.future(recommend_jobs_request(5, seeker), timeout=20)
        assert entered.wait(5)
        second = server.client.stub.RecommendJobs.future(recommend_jobs_request(5, seeker), timeout=20)
        limit = time.monotonic() + 5
        while server.core.worker.queued < 1 and time.monotonic() < limit:
            time.sleep(0.01)
        assert server.core.worker.queued == 1
        details = _fails(Code.RESOURCE_EXHAUSTED, server.client.recommend_jobs, seeker, k=5)
        assert "retry" in _public(details)
    finally:
        release.set()
    assert len(first.result(timeout=20).matches) == len(second.result(timeout=20).matches) == 5


def test_authentication(env: Env, fresh: StartFn) -> None:
    server = fresh(auth_tokens=("tok-A", "tok-B"))
    seeker = _active_seekers(env, 1)[0]
    with MatchClient(server.target, timeout=20) as anonymous:
        _fails(Code.UNAUTHENTICATED, anonymous.recommend_jobs, seeker, k=3)
        _fails(Code.UNAUTHENTICATED, anonymous.model_info)
        _fails(Code.UNAUTHENTICATED, anonymous.upsert_jobs, [_job_like(env, seeker, "SNEAKY")])
        assert anonymous.health() == "SERVING"  # load balancers probe without credentials
    with MatchClient(server.target, token="tok-C", timeout=20) as wrong:
        _fails(Code.UNAUTHENTICATED, wrong.model_info)
    with MatchClient(server.target, token="tok-A", timeout=20) as good:
        assert len(good.recommend_jobs(seeker, k=3)) == 3
        assert good.model_info().n_jobs == len(env.jobs)  # SNEAKY was not written
    with MatchClient(server.target, token="tok-B", timeout=20) as good:
        assert good.model_info().journal_sequence == 0
    with MatchClient(server.target, token="tok-A ", timeout=20) as padded:
        _fails(Code.UNAUTHENTICATED, padded.model_info)


def test_unexpected_errors_are_internal_without_details(env: Env, fresh: StartFn,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh()
    assert server.core is not None
    seeker = _active_seekers(env, 1)[0]

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(server.core, "info", boom)  # on the handler thread
    details = _fails(Code.INTERNAL, server.client.model_info)
    assert _public(details) == "internal error"
    assert "secret" not in details and "passwd" not in details

    monkeypatch.setattr(queries, "recommend_jobs", boom)  # on the engine thread
    details = _fails(Code.INTERNAL, server.client.recommend_jobs, seeker, k=3)
    assert _public(details) == "internal error" and "secret" not in details
    monkeypatch.undo()
    assert len(server.client.recommend_jobs(seeker, k=3)) == 3  # the engine thread survived


# --------------------------------------------------------------------------------------------------------------
# 4. Health and reflection
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
# 5. Durability: kill -9 and restart
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
# 6. Graceful stop
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


# --------------------------------------------------------------------------------------------------------------
# 7. Parity with `matcher batch`
# --------------------------------------------------------------------------------------------------------------


def test_recommend_jobs_matches_matcher_batch(env: Env, ro: Served, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The same job ids in the same order as `matcher batch`, for 100 seekers, ties included.

    The Q* jobs are exact copies of J* jobs, so their model scores tie exactly; `engine.rank_order` orders ties by
    catalogue row, which the retrieval order (rounding can differ between 1 query and 700) must not change."""
    out = tmp_path / "matches.csv"
    assert cli_main(["batch", "--data", str(env.data_dir), "--model", str(env.model_dir), "--k", "10",
                     "--out", str(out), "--pushes-per-opening", "0", "--no-exclude-seen"]) == 0
    capsys.readouterr()
    batch = pd.read_csv(out, dtype={"seeker_id": str, "job_id": str})
    assert set(batch["model_version"]) == {env.version}
    expected = {s: rows.sort_values("rank") for s, rows in batch.groupby("seeker_id")}
    sample = list(env.seekers.index[::7])[:100]
    assert len(sample) == 100
    for seeker in sample:
        got = ro.client.recommend_jobs(seeker, k=10)
        want = expected[seeker]["job_id"].tolist()
        assert len(got) == len(want) == 10, seeker
        assert [m.id for m in got] == want, seeker
        np.testing.assert_allclose([m.score for m in got], expected[seeker]["score"], rtol=0, atol=1e-6)


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


def test_a_write_the_engine_cannot_apply_is_answered_and_never_journalled(env: Env, fresh: StartFn,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation is one gate; applying is the other. A write that passes validation but fails to apply (here: a
    fault injected into the live catalogue) is rolled back inside the journal transaction, so a restart never
    replays it."""
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    from matcher.service.live import LiveCatalogue

    real = LiveCatalogue.upsert_jobs

    def faulty(self: LiveCatalogue, jobs: pd.DataFrame) -> None:
        if "POISON" in set(jobs["job_id"]):
            raise RuntimeError("injected fault")
        real(self, jobs)

    monkeypatch.setattr(LiveCatalogue, "upsert_jobs", faulty)
    _fails(Code.INTERNAL, server.client.upsert_jobs, [_job_like(env, seeker, "POISON")])
    assert server.core is not None and server.core.store.sequence == 0
    written = server.client.upsert_jobs([_job_like(env, seeker, "FINE")])
    assert written.sequence == 1
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


def test_every_list_in_a_request_is_bounded(env: Env, ro: Served) -> None:
    """30,000 filter cities once held the engine thread for 12 s; now any list beyond max_list_items is refused
    before the engine sees it."""
    seeker = _active_seekers(env, 1)[0]
    many = [f"city {i}" for i in range(30_000)]
    started = time.monotonic()
    details = _fails(Code.RESOURCE_EXHAUSTED, ro.client.stub.RecommendJobs, recommend_jobs_request(
        k=5, seeker_id=seeker, flt=queries.JobFilter(cities=tuple(many))), timeout=10)
    assert "filter.cities" in details and time.monotonic() - started < 5
    _fails(Code.RESOURCE_EXHAUSTED, ro.client.stub.RecommendSeekers, recommend_seekers_request(
        k=5, job_id=str(env.jobs.index[0]), flt=queries.SeekerFilter(priority_groups=tuple(many[:101]))))
    _fails(Code.RESOURCE_EXHAUSTED, ro.client.stub.RecommendNearby,
           pb.RecommendNearbyRequest(lat=30.0, lon=120.0, k=5, job_types=["gig"] * 101))
    assert ro.client.recommend_jobs(seeker, k=3)  # the server is still answering


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("headcount", "5000000000", "outside"), ("headcount", str(2**63 - 1), "outside"),
    ("headcount", "200000", "at most 100,000"),
    ("salary_max", "1e300", "outside"), ("job_id", "x" * 1_000_000, "at most 256 characters")])
def test_numbers_and_ids_are_bounded(env: Env, fresh: StartFn, field: str, value: str, problem: str) -> None:
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    details = _fails(Code.INVALID_ARGUMENT, server.client.upsert_jobs, [{**_job_like(env, seeker, "BIG"),
                                                                         field: value}])
    assert f"jobs[0].{field}" in details and problem in details and "x" * 100 not in details
    assert server.core is not None and server.core.store.sequence == 0
    assert server.client.labour_market(by=("city",))  # the market still sums


def test_small_answers_name_the_right_field_and_status(env: Env, ro: Served) -> None:
    details = _fails(Code.INVALID_ARGUMENT, ro.client.reload_model, "v" * 300)
    assert _public(details).startswith("version: not a version name")
    details = _public(_fails(Code.INVALID_ARGUMENT, ro.client.labour_market, by=("planet",)))
    assert details.startswith("by: ") and "by: by:" not in details


def test_bytes_that_are_not_a_valid_message_are_invalid_argument(env: Env, ro: Served) -> None:
    """A string field that is not UTF-8 fails inside grpcio's deserialisation, which would answer INTERNAL."""
    good = pb.RecommendJobsRequest(seeker_id="abc", k=3).SerializeToString()
    bad = good.replace(b"abc", b"\xff\xfe\x80")
    call = ro.client.channel.unary_unary("/matcher.v1.MatchService/RecommendJobs",
                                         request_serializer=lambda raw: raw,
                                         response_deserializer=pb.RecommendJobsResponse.FromString)
    details = _fails(Code.INVALID_ARGUMENT, call, bad, timeout=10)
    assert "UTF-8" in details
    assert call(pb.RecommendJobsRequest(seeker_id=_active_seekers(env, 1)[0], k=3).SerializeToString(), timeout=10)


def test_a_far_future_posting_moves_no_clock(env: Env, fresh: StartFn) -> None:
    """The labour market's clock and the catalogue's are the folder's: a job posted in 2199 changes neither, so
    jobs that were open stay open in both."""
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    before = server.client.model_info()
    market_before = server.client.stub.GetLabourMarket(pb.LabourMarketRequest(by=["city"]), timeout=20)
    server.client.upsert_jobs([_job_like(env, seeker, "FAR-POSTED", posted_at="2199-12-31T00:00:00Z")])
    market = server.client.stub.GetLabourMarket(pb.LabourMarketRequest(by=["city"]), timeout=20)
    after = server.client.model_info()
    assert (after.as_of, market.as_of) == (before.as_of, market_before.as_of)
    assert market.open_jobs >= market_before.open_jobs and after.n_open_jobs >= before.n_open_jobs


def test_a_write_retried_with_its_idempotency_key_is_applied_once(env: Env, fresh: StartFn) -> None:
    """A write cut off at the end of a SIGTERM grace (UNAVAILABLE) or past its deadline may have been applied; the
    caller retries with the same key and gets the first answer back, nothing applied twice, also after a restart."""
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    event = {"seeker_id": seeker, "job_id": str(env.jobs.index[0]), "event": "applied", "timestamp": _iso(env.as_of)}
    first = server.client.record_events([event, event], key="evt-batch-1")
    again = server.client.record_events([event, event], key="evt-batch-1")
    assert (again.sequence, again.written, again.replayed, first.replayed) == (first.sequence, 2, True, False)
    assert server.core is not None and server.core.store.counts()["events"] == 2
    gone = server.client.delete_jobs([str(env.jobs.index[1]), "no-such-job"], key="del-1")
    assert (gone.written, gone.not_found) == (1, 1)
    retried = server.client.delete_jobs([str(env.jobs.index[1]), "no-such-job"], key="del-1")
    assert (retried.written, retried.not_found, retried.sequence, retried.replayed) == (1, 1, gone.sequence, True)
    _fails(Code.INVALID_ARGUMENT, server.client.upsert_jobs, [_job_like(env, seeker, "K")], key="k" * 200)
    restarted = fresh(journal=Path(server.settings.journal))
    assert restarted.client.record_events([event, event], key="evt-batch-1").replayed
    assert not restarted.client.record_events([event], key="evt-batch-2").replayed


def test_the_engine_stops_working_on_a_call_whose_deadline_has_passed(env: Env, ro: Served) -> None:
    """Deadlines are checked inside the engine's work, not only in the queue: a call that expired while the calls
    before it in its batch were being worked on is dropped before the shared ranking pass."""
    assert ro.core is not None
    live = ro.core.worker.live
    seeker, job = _active_seekers(env, 1)[0], str(env.jobs.index[0])
    past = time.monotonic() - 1
    fresh_query = queries.JobQuery(k=3, seeker_id=seeker)
    results = queries.recommend_jobs(live, [queries.JobQuery(k=3, seeker_id=seeker, deadline=past), fresh_query])
    assert isinstance(results[0], MatcherError) and "deadline" in str(results[0])
    assert isinstance(results[1], list) and len(results[1]) == 3
    (late,) = queries.recommend_seekers(live, [queries.SeekerQuery(k=3, job_id=job, deadline=past)])
    assert isinstance(late, MatcherError) and "deadline" in str(late)
    (late,) = queries.recommend_nearby(live, [queries.NearbyQuery(lat=30.0, lon=120.0, k=3, deadline=past)])
    assert isinstance(late, MatcherError) and "deadline" in str(late)
