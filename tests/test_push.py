"""The nightly push (`matcher batch`): push rules, caps, chunks, resume after a kill, --since, Dask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matcher import api
from matcher.batch.push import PushConfig, cap_and_select, job_caps, plan_chunks
from matcher.cli import main as cli_main
from matcher.data import Dataset
from matcher.engine.matching import MatchEngine
from matcher.errors import MatcherError
from matcher.offline.synthetic import generate
from matcher.offline.training import TrainConfig

pytestmark = pytest.mark.slow

FAST_TRAIN = TrainConfig(holdout_days=0, n_candidates=60, n_random_negatives=20, text_dim=32, n_estimators=30,
                         early_stopping_rounds=10, smoothing_trees=5, refit=False, params={"num_threads": 1})


@dataclass
class World:
    data_dir: Path
    model_dir: Path
    data: Dataset


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("push")
    generate(900, 400, seed=21, events_per_seeker=3.0).write(root / "data")
    data = api.load_data(root / "data")
    bundle, _ = api.train(data, FAST_TRAIN)
    api.save(bundle, root / "model", data)
    return World(data_dir=root / "data", model_dir=root / "model", data=data)


def _batch(world: World, out: Path, *extra: str, data_dir: Path | None = None) -> str:
    argv = ["batch", "--data", str(data_dir or world.data_dir), "--model", str(world.model_dir), "--out", str(out),
            "--k", "5", "--chunk-size", "100", *extra]
    assert cli_main(argv) == 0
    return out.read_text(encoding="utf-8")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"seeker_id": str, "job_id": str, "reasons": str}, keep_default_na=False)


# ---- the allocation under caps, on arrays with a known answer -------------------------------------------------


def test_caps_are_filled_rank_by_rank() -> None:
    # Seekers 0, 1, 2 all rank job 7 first; job 7 has room for 2. Seeker 2 scores it highest, then seeker 0.
    seeker = np.array([0, 0, 1, 1, 2, 2])
    job = np.array([7, 8, 7, 9, 7, 8])
    score = np.array([0.9, 0.5, 0.8, 0.1, 0.95, 0.2])
    caps = np.array([9] * 7 + [2, 1, 9])
    s, rank, j, sc = cap_and_select(seeker, job, score, caps, k=2)
    got = {(int(a), int(b)): int(r) for a, b, r in zip(s, j, rank, strict=True)}
    # Round 1: job 7 keeps seekers 2 and 0; seeker 1 loses it. Round 2: job 8 (room 1) goes to seeker 0 (0.5 > 0.2),
    # seeker 1 gets job 9.
    assert got == {(0, 7): 1, (0, 8): 2, (1, 9): 1, (2, 7): 1}
    assert list(s) == sorted(s)
    np.testing.assert_allclose(sc, [0.9, 0.5, 0.1, 0.95])


def test_a_seeker_keeps_at_most_k_and_uncapped_is_plain_top_k() -> None:
    rng = np.random.default_rng(0)
    seeker = np.repeat(np.arange(50), 8)
    job = np.concatenate([rng.choice(30, 8, replace=False) for _ in range(50)])
    score = rng.normal(size=len(seeker))
    s, rank, j, sc = cap_and_select(seeker, job, score, np.full(30, np.iinfo(np.int64).max), k=3)
    frame = pd.DataFrame({"s": seeker, "j": job, "score": score}).sort_values(["s", "score"], ascending=[True, False])
    expected = frame.groupby("s").head(3)
    assert list(zip(s, j, strict=True)) == list(zip(expected["s"], expected["j"], strict=True))
    assert list(rank) == [1, 2, 3] * 50
    capped = cap_and_select(seeker, job, score, np.full(30, 2), k=3)
    assert np.bincount(capped[2], minlength=30).max() <= 2


def test_job_caps_follow_headcount() -> None:
    headcount = pd.Series([1, 3, None, 0, 100])
    config = PushConfig(pushes_per_opening=5, min_job_cap=8)
    assert list(job_caps(headcount, config)) == [8, 15, 8, 8, 500]
    assert (job_caps(headcount, PushConfig(pushes_per_opening=0)) == np.iinfo(np.int64).max).all()


def test_bad_push_settings_name_the_field() -> None:
    with pytest.raises(Exception, match="pool=3"):
        PushConfig(k=5, pool=3)


# ---- the batch job on a synthetic province --------------------------------------------------------------------


def test_chunks_cover_every_seeker_once_and_never_span_regions(world: World) -> None:
    engine = MatchEngine(api.load(world.model_dir), world.data)
    chunks = plan_chunks(engine, 64)
    rows = np.concatenate([c.rows for c in chunks])
    assert sorted(rows.tolist()) == list(range(len(world.data.seekers)))
    region = engine.catalogue.seekers.region
    assert all(len(np.unique(region[c.rows])) == 1 for c in chunks)
    assert max(len(c.rows) for c in chunks) <= 64
    assert len({c.id for c in chunks}) == len(chunks)


def test_push_leaves_out_seen_pairs_and_closed_jobs(world: World, tmp_path: Path) -> None:
    plain = _read_text(_batch(world, tmp_path / "plain.csv", "--pushes-per-opening", "0", "--no-exclude-seen"),
                       tmp_path / "plain.csv")
    firsts = plain[plain["rank"] == 1].head(60)
    kinds = ["pushed", "applied", "rejected"]
    seen = pd.DataFrame({"seeker_id": firsts["seeker_id"], "job_id": firsts["job_id"],
                         "event": [kinds[i % 3] for i in range(len(firsts))], "timestamp": "2020-01-01T00:00:00Z"})
    folder = _copy_with_events(world, tmp_path / "data", seen)
    # Both runs on the folder with the new events, so history features are the same and only the rule differs.
    kept = _read_text(_batch(world, tmp_path / "kept.csv", "--pushes-per-opening", "0", "--no-exclude-seen",
                             data_dir=folder), tmp_path / "kept.csv")
    pushed = _read_text(_batch(world, tmp_path / "push.csv", "--pushes-per-opening", "0", data_dir=folder),
                        tmp_path / "push.csv")
    events = pd.read_csv(folder / "events.csv", dtype=str)
    events = events[events["event"].isin(["pushed", "applied", "interviewed", "hired", "rejected"])]
    seen_pairs = set(zip(events["seeker_id"], events["job_id"], strict=True))
    assert not set(zip(pushed["seeker_id"], pushed["job_id"], strict=True)) & seen_pairs
    assert set(zip(kept["seeker_id"], kept["job_id"], strict=True)) & seen_pairs, "nothing to leave out"
    # Leaving jobs out moves the rest up in the same order.
    for seeker in seen["seeker_id"]:
        before = [j for j in kept.loc[kept["seeker_id"] == seeker, "job_id"] if (seeker, j) not in seen_pairs]
        after = pushed.loc[pushed["seeker_id"] == seeker, "job_id"].tolist()
        assert after[:len(before)] == before[:len(after)], seeker
    jobs = world.data.jobs.set_index("job_id")
    as_of = world.data.max_time
    opened = (jobs["posted_at"] <= as_of) & (jobs["expires_at"].isna() | (jobs["expires_at"] > as_of))
    assert opened.loc[pushed["job_id"]].all()


def test_per_job_cap_bounds_pushes_and_reasons_are_written(world: World, tmp_path: Path) -> None:
    pushed = _read_text(_batch(world, tmp_path / "m.csv", "--pushes-per-opening", "1", "--min-job-cap", "3"),
                        tmp_path / "m.csv")
    caps = job_caps(world.data.jobs.set_index("job_id")["headcount"], PushConfig(pushes_per_opening=1,
                                                                                min_job_cap=3))
    cap_of = dict(zip(world.data.jobs["job_id"], caps, strict=True))
    counts = pushed.groupby("job_id").size()
    assert all(counts[j] <= cap_of[j] for j in counts.index)
    assert (counts == counts.index.map(cap_of)).any(), "the cap never bound: the test proves nothing"
    assert list(pushed.columns) == ["seeker_id", "rank", "job_id", "score", "model_version", "reasons"]
    assert pushed["reasons"].str.contains("skills=").mean() > 0.3
    assert pushed["reasons"].str.contains(r"km=\d").mean() > 0.3
    assert pushed.groupby("seeker_id")["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1))).all()


def test_rerun_writes_the_same_bytes(world: World, tmp_path: Path) -> None:
    first = _batch(world, tmp_path / "a.csv")
    assert first == _batch(world, tmp_path / "b.csv", "--chunk-size", "100")
    assert not (tmp_path / ".a.csv.work").exists(), "checkpoints are removed after a successful run"
    assert len(first.splitlines()) > 1000


def test_a_killed_run_resumes_to_the_uninterrupted_output(world: World, tmp_path: Path) -> None:
    whole = _batch(world, tmp_path / "whole.csv", "--chunk-size", "10")
    out, work = tmp_path / "resumed.csv", tmp_path / "work"
    argv = [sys.executable, "-m", "matcher.cli", "batch", "--data", str(world.data_dir), "--model",
            str(world.model_dir), "--out", str(out), "--k", "5", "--chunk-size", "10", "--work-dir", str(work)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((work / "chunks").glob("*.npz"))) < 5 and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    done = len(list((work / "chunks").glob("*.npz")))
    assert done >= 5
    resumed = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} of" in resumed.stdout and "chunks resumed" in resumed.stdout
    assert out.read_text(encoding="utf-8") == whole


def test_work_dir_of_another_run_is_started_afresh(world: World, tmp_path: Path) -> None:
    work = tmp_path / "work"
    _batch(world, tmp_path / "k5.csv", "--work-dir", str(work), "--keep-work")
    assert list((work / "chunks").glob("*.npz"))
    k3 = tmp_path / "k3.csv"
    assert cli_main(["batch", "--data", str(world.data_dir), "--model", str(world.model_dir), "--out", str(k3),
                     "--k", "3", "--chunk-size", "100", "--work-dir", str(work)]) == 0
    assert _read(k3).groupby("seeker_id").size().max() == 3


def test_since_rematches_changed_seekers_and_matches_the_rest_to_new_jobs(world: World, tmp_path: Path) -> None:
    as_of = world.data.max_time
    assert as_of is not None
    since = as_of - pd.Timedelta(days=3)
    folder = _copy_with_events(world, tmp_path / "data", pd.DataFrame(columns=["seeker_id", "job_id", "event"]))
    raw = pd.read_csv(folder / "seekers.csv", dtype=str, keep_default_na=False)
    raw.loc[::4, "updated_at"] = (as_of - pd.Timedelta(days=1)).isoformat()  # a quarter edited their profile
    raw.to_csv(folder / "seekers.csv", index=False)
    uncapped = ("--pushes-per-opening", "0")  # caps make seekers compete: compare the lists without them
    full = _read_text(_batch(world, tmp_path / "full.csv", *uncapped, data_dir=folder), tmp_path / "full.csv")
    delta = _read_text(_batch(world, tmp_path / "delta.csv", "--since", since.isoformat(), *uncapped,
                              data_dir=folder), tmp_path / "delta.csv")
    data = api.load_data(folder)
    seekers = data.seekers.set_index("seeker_id")
    jobs = data.jobs.set_index("job_id")
    changed = seekers["updated_at"].isna() | (seekers["updated_at"] >= since)
    new_job = jobs["posted_at"] >= since
    assert changed.any() and (~changed).any() and new_job.any() and (~new_job).any()
    unchanged_rows = delta[~changed.loc[delta["seeker_id"]].to_numpy()]
    assert len(unchanged_rows) and new_job.loc[unchanged_rows["job_id"]].all()
    assert not new_job.loc[full["job_id"]].all(), "the full run must use old jobs too for the check to mean anything"
    changed_rows = delta[changed.loc[delta["seeker_id"]].to_numpy()]
    assert (~new_job.loc[changed_rows["job_id"]]).any(), "changed seekers are matched against every open job"
    # A changed seeker's delta is their full-run list (same catalogue, same model).
    for seeker in changed.index[changed][:50]:
        assert (delta.loc[delta["seeker_id"] == seeker, "job_id"].tolist()
                == full.loc[full["seeker_id"] == seeker, "job_id"].tolist()), seeker


def test_bad_since_is_a_clean_error(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["batch", "--data", str(world.data_dir), "--model", str(world.model_dir),
                     "--out", str(tmp_path / "m.csv"), "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err
    assert not (tmp_path / "m.csv").exists()


def test_dask_cluster_output_equals_the_local_run(world: World, tmp_path: Path) -> None:
    from distributed import LocalCluster

    local = _batch(world, tmp_path / "local.csv")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        distributed = _batch(world, tmp_path / "dask.csv", "--cluster", cluster.scheduler_address)
    assert distributed == local


def test_unreachable_cluster_is_a_clean_error(world: World) -> None:
    from matcher.batch.cluster import dask_runner, make_payload
    from matcher.batch.run import run_key

    config = PushConfig(k=3)
    engine = MatchEngine(api.load(world.model_dir), world.data)
    runner = dask_runner("tcp://127.0.0.1:9", make_payload(engine, config, run_key(engine, config)[0]),
                         connect_timeout_s=2)
    with pytest.raises(MatcherError, match="cannot reach the Dask scheduler"):
        runner(plan_chunks(engine, 100), lambda chunk, result: None)


# ---- helpers -----------------------------------------------------------------------------------------------------


def _read_text(_: str, path: Path) -> pd.DataFrame:
    return _read(path)


def _copy_with_events(world: World, folder: Path, extra: pd.DataFrame) -> Path:
    folder.mkdir(parents=True)
    for name in ("seekers.csv", "jobs.csv"):
        (folder / name).write_bytes((world.data_dir / name).read_bytes())
    events = pd.read_csv(world.data_dir / "events.csv", dtype=str, keep_default_na=False)
    pd.concat([events, extra], ignore_index=True).to_csv(folder / "events.csv", index=False)
    return folder


def test_priority_seekers_skip_the_caps_and_nobody_else_loses(world: World, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    capped = ("--pushes-per-opening", "1", "--min-job-cap", "3", "--pool", "15")
    groups = "long_term_unemployed,disabled,graduate"
    base = _read_text(_batch(world, tmp_path / "base.csv", *capped), tmp_path / "base.csv")
    with_policy = _read_text(_batch(world, tmp_path / "policy.csv", *capped, "--priority-groups", groups,
                                    "--priority-extra", "2"), tmp_path / "policy.csv")
    assert "of pushes (exempt from the per-job caps)" in capsys.readouterr().out
    uncapped = _read_text(_batch(world, tmp_path / "free.csv", "--pushes-per-opening", "0", "--k", "7",
                                 "--pool", "15"), tmp_path / "free.csv")
    seekers = world.data.seekers.set_index("seeker_id")["priority_groups"].fillna("").str.split("|")
    wanted = set(groups.split(","))
    priority = seekers.map(lambda g: bool(wanted & set(g)))
    assert priority.any() and (~priority).any()
    mine = with_policy[priority.loc[with_policy["seeker_id"]].to_numpy()]
    # Priority seekers get their uncapped top k + 2, exactly.
    free = uncapped[priority.loc[uncapped["seeker_id"]].to_numpy()]
    assert list(zip(mine["seeker_id"], mine["job_id"], strict=True)) == list(
        zip(free["seeker_id"], free["job_id"], strict=True))
    # Everyone else gets at least as many pushes as without the policy, and the caps hold among them.
    def counts(frame: pd.DataFrame) -> pd.Series:
        rest = frame[~priority.loc[frame["seeker_id"]].to_numpy()]
        return rest.groupby("seeker_id").size().reindex(priority.index[~priority], fill_value=0)
    assert (counts(with_policy) >= counts(base)).all()
    assert (counts(with_policy) > counts(base)).any() or (counts(base) == 5).all()
    rest = with_policy[~priority.loc[with_policy["seeker_id"]].to_numpy()]
    caps = job_caps(world.data.jobs.set_index("job_id")["headcount"], PushConfig(pushes_per_opening=1, min_job_cap=3))
    cap_of = dict(zip(world.data.jobs["job_id"], caps, strict=True))
    per_job = rest.groupby("job_id").size()
    assert all(per_job[j] <= cap_of[j] for j in per_job.index)
    # Every adjustment is visible in the push's reasons: all of the priority seekers' pushes, none of the others'.
    assert mine["reasons"].str.contains("priority policy (", regex=False).all()
    assert not rest["reasons"].str.contains("priority policy", regex=False).any()
    beyond = mine["rank"].astype(int) > 5
    assert beyond.any() and mine.loc[beyond, "reasons"].str.endswith("extra push beyond 5").all()
    assert not mine.loc[~beyond, "reasons"].str.contains("extra push", regex=False).any()
    total = with_policy.groupby("job_id").size()
    over = mine["job_id"].map(lambda j: total[j] > cap_of[j])
    assert (mine["reasons"].str.contains("pushed beyond its cap", regex=False) == over).all() and over.any()
