"""Shared fixtures: small FORMAT.md folders written into tmp dirs, and the one small trained model that every
module needing "a model over a synthetic catalogue" uses (trained once per session, not once per module)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

# Before tests.service_world is imported (below, and by the service test modules), so that its helpers' asserts
# are rewritten as a test module's are.
pytest.register_assert_rewrite("tests.service_world")

from matcher import api  # noqa: E402
from matcher.data import Dataset  # noqa: E402
from matcher.offline.synthetic import generate  # noqa: E402
from models.registry import ModelBundle  # noqa: E402

# The gRPC service's shared world (tests/service_world.py: data, model, the read-only server `ro`, the `fresh`
# server factory), registered here once so that `env` and `ro` are built once per session for every module.
from tests.postgres_server import PostgresServer, postgres_bin, postgres_server  # noqa: E402
from tests.service_world import env, fresh, ro  # noqa: E402, F401

# One thread: far faster on a busy 2-core runner. Twenty small trees: the tests below check mechanics (parity,
# writes, explanations), not quality; quality tests train their own models on data with a known answer.
SMALL_TRAIN = api.TrainConfig(holdout_days=0, n_candidates=50, n_random_negatives=20, text_dim=32, n_estimators=20,
                              early_stopping_rounds=10, smoothing_trees=5, refit=False, params={"num_threads": 1})


@dataclass(frozen=True)
class SmallWorld:
    root: Path            # the data folder (400 synthetic Chinese seekers, 300 jobs)
    data: Dataset
    bundle: ModelBundle   # as trained in this process
    model_dir: Path
    loaded: ModelBundle   # the same model read back from model_dir
    as_of: pd.Timestamp   # the data's latest moment


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> SmallWorld:
    root = tmp_path_factory.mktemp("small_world")
    generate(400, 300, seed=3, events_per_seeker=4.0).write(root / "data")
    data = api.load_data(root / "data")
    bundle, _ = api.train(data, SMALL_TRAIN)
    api.save(bundle, root / "model")
    assert data.max_time is not None
    return SmallWorld(root=root / "data", data=data, bundle=bundle, model_dir=root / "model",
                      loaded=api.load(root / "model"), as_of=data.max_time)


@pytest.fixture()
def demo_folder(tmp_path: Path) -> Path:
    """A copy of the built-in demo data (real US job-board views in FORMAT.md)."""
    out = tmp_path / "demo"
    out.mkdir()
    for name in ("seekers.csv", "jobs.csv", "events.csv"):
        with resources.as_file(resources.files("matcher.demo_data").joinpath(name)) as src:
            shutil.copy(src, out / name)
    return out


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server of this test session (tests/postgres_server.py), started on first use."""
    if postgres_bin() is None:
        if os.environ.get("MATCHER_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not installed but MATCHER_REQUIRE_POSTGRES=1 (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (initdb, pg_ctl)")
    with postgres_server() as server:
        yield server
