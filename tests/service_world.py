"""The gRPC service tests' shared world (tests/test_service_*.py): one synthetic folder and one small model, built
once per test session (a few seconds), and the servers over them. Read-only tests share one server (`ro`, also
session-scoped): nothing may write to it, patch it or reload it. Every test that writes, reloads or patches starts
its own server on a fresh journal (`fresh`, function-scoped).

tests/conftest.py registers the fixtures (`env`, `ro`, `fresh`) once for the session: a fixture imported into each
test module would be registered, and a session-scoped one built, once per module. The test modules import only the
helpers and types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pandas as pd
import pytest

from matcher import api
from matcher.data import Dataset
from matcher.offline.synthetic import generate
from matcher.offline.training import TrainConfig
from matcher.service.client import MatchClient
from matcher.service.core import MatchCore
from matcher.service.server import RunningServer, create_server
from matcher.service.settings import ServerSettings, load_settings

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
Code = grpc.StatusCode
REQUEST_ID = re.compile(r" \(request [0-9a-f]{16}\)$")
FAST_TRAIN = {"holdout_days": 0, "n_candidates": 100, "n_random_negatives": 30, "text_dim": 32,
              "early_stopping_rounds": 20}


# --------------------------------------------------------------------------------------------------------------
# The session's data, model and servers
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


@pytest.fixture(scope="session")
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
        if self.running.servicer.metrics is not None:
            self.running.servicer.metrics.stop()
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


@pytest.fixture(scope="session")
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
