"""Load benchmark of the gRPC service: RecommendJobs latency and throughput under concurrent callers while
UpsertJobs calls flow, over synthetic catalogues of several sizes.

    python -m benchmarks.bench_service --jobs 200000 1000000 --seekers 50000 --seconds 20 --runs 3

- Data: one synthetic folder per catalogue size (matcher.offline.synthetic) and one model trained on a separate small
  synthetic set, both cached under `--work` (bench_batch's `_prepare`).
- Server: `matcher serve` in its own process on 127.0.0.1, default settings, a fresh journal per size. Start-up
  time is spawn → its "serving" line (load, catalogue build, warm-up); peak RSS is its VmHWM from /proc.
- Load: another process (this module with `--client`) runs N caller threads in a closed loop, each calling
  RecommendJobs(k) for a random registered seeker, while UpsertJobs calls go out open-loop at a steady
  `--upserts-per-s`, not waiting for replies (one new open job each: a real job's fields with a new id, perturbed
  salary and place, posted_at in the catalogue's window). Latency is time.perf_counter() around the call, so it
  includes the client's gRPC and protobuf work; both processes share the machine's CPUs. Calls started in the first
  `--warmup` seconds are not measured. Recommendation calls whose span overlaps an upsert are summarised apart.
- Baseline, same run and server: the same load with 1 caller (no concurrency: the single-call latency). The
  N-caller load is reported against it: p50 and p99 as multiples of the baseline p50, requests/s as a multiple of
  the baseline's (what serving concurrent calls together buys). A control, N callers without upserts, shows what
  the writes cost. Each load runs `--runs` times, loads interleaved; medians of runs are reported, and the issue's
  absolute p99 targets are checked alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_batch import _prepare
from benchmarks.reporting import code_version, medians, ms, run_json_module
from benchmarks.service_report import METRICS, report

__all__ = ["main"]

Call = tuple[float, float, str]  # (start, seconds, status code name)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the load client (its own process) ---------------------------------------------------------------------------
def _new_job(template: dict[str, str], job_id: str, as_of: pd.Timestamp, rng: random.Random) -> dict[str, str]:
    """A fresh open job: a real row with a new id, salary and place perturbed, posted in the last 20 days."""
    job = dict(template, job_id=job_id)
    scale, shift = rng.uniform(0.9, 1.1), {"lat": rng.uniform(-0.02, 0.02), "lon": rng.uniform(-0.02, 0.02)}
    for column in ("salary_min", "salary_max", "lat", "lon"):
        if job.get(column):
            value = float(job[column])
            job[column] = f"{value + shift[column]:.5f}" if column in shift else str(round(value * scale, -2))
    posted = as_of - pd.Timedelta(seconds=rng.randrange(20 * 86400))
    job["posted_at"] = posted.strftime("%Y-%m-%dT%H:%M:%SZ")
    job["expires_at"] = (posted + pd.Timedelta(days=rng.randint(30, 90))).strftime("%Y-%m-%dT%H:%M:%SZ")
    return job


def _client(args: argparse.Namespace) -> dict[str, Any]:
    import grpc

    from matcher.service.client import MatchClient
    from matcher.service.convert import job_message, pb, recommend_jobs_request

    seekers = pd.read_csv(args.data / "seekers.csv", usecols=["seeker_id"], dtype=str)["seeker_id"].tolist()
    frame = pd.read_csv(args.data / "jobs.csv", dtype=str, keep_default_na=False, nrows=2000)
    templates = [{str(k): str(v) for k, v in row.items()} for row in frame.to_dict("records")]
    client = MatchClient(args.client, timeout=args.timeout)
    as_of = pd.Timestamp(client.model_info().as_of)
    calls: list[list[Call]] = [[] for _ in range(args.callers)]
    upserts: list[Call] = []
    began = time.perf_counter()
    start, stop = began + args.warmup, began + args.warmup + args.seconds

    def timed(method: Any, request: Any, out: list[Call]) -> None:
        code, clock = "OK", time.perf_counter()
        try:
            method(request, timeout=args.timeout)
        except grpc.RpcError as exc:
            code = exc.code().name  # type: ignore[attr-defined]
        out.append((clock, time.perf_counter() - clock, code))

    def caller(i: int) -> None:
        rng = random.Random(args.seed * 1000 + i)
        while time.perf_counter() < stop:
            timed(client.stub.RecommendJobs, recommend_jobs_request(args.k, seeker_id=rng.choice(seekers)), calls[i])

    def upserter() -> None:
        """Open loop: each upsert is sent on schedule, without waiting for the previous one to return."""
        rng, due, i, pending = random.Random(args.seed), began, 0, []
        while args.upserts_per_s > 0 and due < stop:
            time.sleep(max(0.0, due - time.perf_counter()))
            job = _new_job(rng.choice(templates), f"bench-{args.tag}-{i}", as_of, rng)
            clock = time.perf_counter()
            future = client.stub.UpsertJobs.future(pb.UpsertJobsRequest(jobs=[job_message(job)]), timeout=args.timeout)
            future.add_done_callback(lambda f, c=clock: upserts.append((c, time.perf_counter() - c, f.code().name)))
            pending.append(future)
            due, i = due + 1.0 / args.upserts_per_s, i + 1
        for future in pending:
            future.exception()  # wait for the last ones

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(args.callers)]
    threads.append(threading.Thread(target=upserter))
    for t in threads:
        t.start()
    time.sleep(max(0.0, start - time.perf_counter()))
    pids = [int(x) for x in args.server_pid.split(",")]
    cpu = (sum(map(_cpu_s, pids)), time.process_time())
    time.sleep(max(0.0, stop - time.perf_counter()))
    cores = {"server_cores": (sum(map(_cpu_s, pids)) - cpu[0]) / args.seconds,
             "client_cores": (time.process_time() - cpu[1]) / args.seconds}
    for t in threads:
        t.join()
    client.close()
    reads = sorted((c for per in calls for c in per if start <= c[0] < stop), key=lambda c: c[0])
    writes = [c for c in upserts if start <= c[0] < stop]
    return _summary(reads, writes, args.seconds) | cores


def _summary(reads: list[Call], writes: list[Call], seconds: float) -> dict[str, Any]:
    ok = [c for c in reads if c[2] == "OK"]
    ok_writes = [c for c in writes if c[2] == "OK"]
    errors = dict(Counter(c[2] for c in reads + writes if c[2] != "OK"))
    overlap = np.zeros(len(ok), dtype=bool)
    if ok and ok_writes:
        r0 = np.array([c[0] for c in ok])
        w0 = np.array([c[0] for c in ok_writes])
        r1, w1 = r0 + np.array([c[1] for c in ok]), w0 + np.array([c[1] for c in ok_writes])
        overlap = ((r0[:, None] < w1[None, :]) & (r1[:, None] > w0[None, :])).any(axis=1)
    lat, lat_w = [c[1] for c in ok], [c[1] for c in ok_writes]
    hit = [x for x, o in zip(lat, overlap, strict=True) if o]
    clear = [x for x, o in zip(lat, overlap, strict=True) if not o]
    return {"calls": len(reads), "ok": len(ok), "rps": len(ok) / seconds, "upserts_per_s": len(writes) / seconds,
            "mean_ms": ms(lat, -1), "p50_ms": ms(lat, 50), "p90_ms": ms(lat, 90), "p99_ms": ms(lat, 99),
            "max_ms": ms(lat, 100), "upserts": len(writes), "upsert_p50_ms": ms(lat_w, 50),
            "upsert_p99_ms": ms(lat_w, 99), "upsert_max_ms": ms(lat_w, 100), "overlapping_calls": int(overlap.sum()),
            "overlap_p99_ms": ms(hit, 99), "clear_p99_ms": ms(clear, 99), "errors": errors,
            "latencies_ms": [round(x * 1000, 3) for x in lat]}


# ---- the driver --------------------------------------------------------------------------------------------------
def _status_gib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 2**20  # kB
    return float("nan")


def _start_server(data_dir: Path, model_dir: Path, work: Path, tag: str, timeout: float, retriever: str = "exact",
                  *, fresh: bool = True, store: str = "", module: str = "matcher.cli", engine_threads: int = 2,
                  argv: list[str] | None = None) -> tuple[subprocess.Popen[str], str, float]:
    """`matcher serve` on journal-TAG.sqlite (a new one, snapshot included, unless not `fresh`; with `store` the
    journal is that PostgreSQL database and no snapshot is kept), or `module argv` (the gRPC floor): the process,
    its address and the seconds from its start to the line that says it serves."""
    journal = work / f"journal-{tag}.sqlite"
    config = work / f"serve-{retriever}-{engine_threads}{'-shared' if store else ''}.toml"
    config.write_text(f'[server]\nretriever = "{retriever}"\nengine_threads = {engine_threads}\n'
                      + ('snapshot = ""\n' if store else ""), encoding="utf-8")
    for path in work.glob(f"journal-{tag}.sqlite*") if fresh else ():
        path.unlink()
    log = (work / f"server-{tag}{'' if fresh else '-again'}.log").open("w")
    command = [sys.executable, "-m", module, *(argv if argv is not None else [
        "-v", "serve", "--data", str(data_dir), "--model", str(model_dir), "--journal", str(journal), "--port", "0",
        "--config", str(config), *(["--store", store] if store else [])])]
    began = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    assert proc.stdout is not None
    while (elapsed := time.perf_counter() - began) < timeout:
        if select.select([proc.stdout], [], [], 15.0)[0]:
            line = proc.stdout.readline()
            if "serving" in line:
                return proc, line.rsplit(" ", 1)[-1].strip(), time.perf_counter() - began
            if not line:
                raise RuntimeError(f"server exited with {proc.wait()}; see {log.name}")
        else:
            _log(f"  server loading: {elapsed:.0f}s, RSS {_status_gib(proc.pid, 'VmRSS'):.2f} GiB")
    proc.kill()
    raise RuntimeError(f"server not serving after {timeout:.0f}s; see {log.name}")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()


def _run_client(args: argparse.Namespace, target: str, pids: list[int], data_dir: Path, callers: int, rate: float,
                tag: str) -> dict[str, Any]:
    load = os.getloadavg()
    command = ["--client", target, "--server-pid", ",".join(map(str, pids)), "--data", str(data_dir),
               "--callers", str(callers), "--k", str(args.k), "--seconds", str(args.seconds), "--warmup",
               str(args.warmup), "--upserts-per-s", str(rate), "--seed", str(args.seed), "--tag", tag]
    answer = run_json_module("benchmarks.bench_service", command)
    return {"callers": callers, "target_upserts_per_s": rate, "loadavg": [round(x, 2) for x in load],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()], **answer}


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = medians(runs, ("mean_ms", "p90_ms", "max_ms", *METRICS))
    codes = sorted({code for r in runs for code in r["errors"]})
    out["errors"] = {code: statistics.median(r["errors"].get(code, 0) for r in runs) for code in codes}
    return out


def _loads(args: argparse.Namespace) -> dict[str, tuple[int, float]]:
    """name → (callers, upserts/s): the baseline, the load, and a control without writes."""
    n, rate = args.callers, args.upserts_per_s
    return {"1 caller (baseline)": (1, rate), f"{n} callers": (n, rate)} | (
        {f"{n} callers, no upserts (control)": (n, 0.0)} if rate > 0 else {})


def _served_top(target: str, seekers: list[str], k: int) -> dict[str, list[str]]:
    """Each sampled seeker's served top-k ids, read before any load writes: recall of one backend against another."""
    from matcher.service.client import MatchClient

    with MatchClient(target, timeout=60) as client:
        return {s: [m.id for m in client.recommend_jobs(s, k=k)] for s in seekers}


def _record_responses(target: str, seeker: str, k: int, path: Path) -> None:
    """Raw bytes of a real RecommendJobs(k) and GetModelInfo answer, for the gRPC floor to replay."""
    import grpc

    from matcher.service.convert import pb, recommend_jobs_request

    with grpc.insecure_channel(target) as channel:
        def raw(method: str, request: Any) -> str:
            call = channel.unary_unary(f"/matcher.v1.MatchService/{method}",
                                       request_serializer=type(request).SerializeToString)
            return bytes(call(request, timeout=60)).hex()
        path.write_text(json.dumps({"RecommendJobs": raw("RecommendJobs", recommend_jobs_request(k, seeker_id=seeker)),
                                    "GetModelInfo": raw("GetModelInfo", pb.GetModelInfoRequest())}),
                        encoding="utf-8")


def _follow_latency(targets: list[str], seeker_job: dict[str, str], n: int = 40) -> dict[str, float | None]:
    """A write acknowledged by the first replica: milliseconds until the second serves it (its journal_sequence)."""
    from matcher.service.client import MatchClient

    waits = []
    with MatchClient(targets[0], timeout=30) as one, MatchClient(targets[1], timeout=30) as two:
        for i in range(n):
            seq = one.upsert_jobs([{**seeker_job, "job_id": f"follow-{i}"}]).sequence
            began = time.perf_counter()
            while two.model_info().journal_sequence < seq:
                time.sleep(0.002)
            waits.append(time.perf_counter() - began)
    return {"follow_p50_ms": ms(waits, 50), "follow_p99_ms": ms(waits, 99), "follow_max_ms": ms(waits, 100)}


def _measure_setup(args: argparse.Namespace, n_jobs: int, retriever: str, replicas: int, model_dir: Path,
                   data_dir: Path, sample: list[str], store: str = "", engine_threads: int = 2,
                   fresh: bool = True) -> dict[str, Any]:
    """One setup's loads. Not `fresh`: the server starts on the journal (and snapshot) the previous setup of this
    size and backend left, so it loads in seconds instead of rebuilding (its catalogue holds that run's upserts)."""
    from matcher.service.client import MatchClient

    code = code_version()
    threads = f", {engine_threads} engine thread{'s' if engine_threads > 1 else ''}"
    label = retriever + threads * (len(args.engine_threads) > 1) + (f", {replicas} replicas" if replicas > 1 else "")
    tags = [f"{n_jobs}-{retriever}" + (f"-r{i}" if replicas > 1 else "") for i in range(replicas)]
    _log(f"{n_jobs:,} jobs, {label}: starting the server(s) (product code {code})")
    started = [_start_server(data_dir, model_dir, args.work, tag, args.start_timeout, retriever, store=store,
                             engine_threads=engine_threads, fresh=fresh) for tag in tags]
    procs, targets = [p for p, _, _ in started], [t for _, t, _ in started]
    target = targets[0] if replicas == 1 else "ipv4:" + ",".join(targets)
    extra: dict[str, Any] = {}
    try:
        with MatchClient(targets[0]) as client:
            info = client.model_info()
        loaded = sum(_status_gib(p.pid, "VmRSS") for p in procs)
        _log(f"{n_jobs:,} jobs, {label}: serving on {target} after {max(t for _, _, t in started):.0f}s, "
             f"{info.n_open_jobs:,} open jobs, RSS {loaded:.2f} GiB")
        top = _served_top(targets[0], sample, args.k)
        if replicas > 1:
            job = pd.read_csv(data_dir / "jobs.csv", dtype=str, keep_default_na=False, nrows=1).iloc[0].to_dict()
            extra = _follow_latency(targets, {str(k): str(v) for k, v in job.items()})
            _log(f"  follow latency p50 {extra['follow_p50_ms']:.0f} ms, p99 {extra['follow_p99_ms']:.0f} ms")
        else:
            _record_responses(targets[0], sample[0], args.k, args.work / f"floor-{n_jobs}.json")
        runs: list[dict[str, Any]] = []
        for run in range(args.runs):
            for name, (callers, rate) in _loads(args).items():
                r = _run_client(args, target, [p.pid for p in procs], data_dir, callers, rate,
                                f"{retriever}{replicas}-{run}-{len(runs)}")
                runs.append({"load": name, "run": run, **r})
                _log(f"{n_jobs:,} jobs, {label}, run {run + 1}/{args.runs}, {name}: p50 {r['p50_ms']:.1f} ms, p99 "
                     f"{r['p99_ms']:.1f} ms, {r['rps']:.0f} req/s, {r['upserts']} upserts (p99 "
                     f"{r['upsert_p99_ms'] or float('nan'):.0f} ms), errors {r['errors']}, load {r['loadavg'][0]}")
        peak = sum(_status_gib(p.pid, "VmHWM") for p in procs)
    finally:
        for proc in procs:
            _stop(proc)
    log = (args.work / f"server-{tags[0]}{'' if fresh else '-again'}.log").read_text(encoding="utf-8")
    built = re.search(r"live catalogue ready in ([0-9.]+)s", log)
    return {"jobs": n_jobs, "retriever": retriever, "replicas": replicas, "label": label, "code": code,
            "engine_threads": engine_threads, "fresh": fresh,
            "n_open_jobs": info.n_open_jobs, "n_seekers": info.n_seekers,
            "startup_s": max(t for _, _, t in started), "top": top, **extra,
            "catalogue_build_s": float(built.group(1)) if built else None, "rss_serving_gib": loaded,
            "peak_rss_gib": peak, "server_exit": [p.returncode for p in procs], "runs": runs,
            "medians": {name: _medians([r for r in runs if r["load"] == name]) for name in _loads(args)}}


def _measure_floor(args: argparse.Namespace, n_jobs: int, data_dir: Path) -> dict[str, Any]:
    """The same loads against the gRPC floor (benchmarks.grpc_floor) replaying this size's recorded answers."""
    proc, target, _ = _start_server(data_dir, data_dir, args.work, f"floor-{n_jobs}", 60,
                                    module="benchmarks.grpc_floor",
                                    argv=["--responses", str(args.work / f"floor-{n_jobs}.json")])
    try:
        runs = [{"load": name, "run": run, **_run_client(args, target, [proc.pid], data_dir, callers, rate,
                                                         f"floor-{run}")}
                for run in range(args.runs) for name, (callers, rate) in _loads(args).items()]
    finally:
        _stop(proc)
    return {name: _medians([r for r in runs if r["load"] == name]) for name in _loads(args)}


def _recall(top: dict[str, list[str]], truth: dict[str, list[str]]) -> float | None:
    shared = [s for s in truth if truth[s]]
    if not shared:
        return None
    return float(np.mean([len(set(top.get(s, [])) & set(truth[s])) / len(truth[s]) for s in shared]))


def _measure_size(args: argparse.Namespace, n_jobs: int, model_dir: Path, data_dir: Path) -> list[dict[str, Any]]:
    """Every backend (and the replicas) on this catalogue, then the gRPC floor; each setup's served top-k compared
    with the exact backend's (or the first one measured)."""
    seekers = pd.read_csv(data_dir / "seekers.csv", usecols=["seeker_id"], dtype=str)["seeker_id"]
    sample = seekers.sample(min(args.recall_seekers, len(seekers)), random_state=args.seed).tolist()
    setups = [_measure_setup(args, n_jobs, r, 1, model_dir, data_dir, sample, engine_threads=t, fresh=i == 0)
              for r in args.retriever for i, t in enumerate(args.engine_threads)]
    if args.replicas > 1 and (not args.replica_jobs or n_jobs in args.replica_jobs):
        from tests.postgres_server import postgres_server

        with postgres_server() as pg:
            setups.append(_measure_setup(args, n_jobs, args.retriever[-1], args.replicas, model_dir, data_dir, sample,
                                         store=pg.new_database(), engine_threads=args.engine_threads[0]))
    floor = _measure_floor(args, n_jobs, data_dir)
    truth = next((s["top"] for s in setups if s["retriever"] == "exact" and s["replicas"] == 1), None)
    for setup in setups:  # without the exact backend in the run there is nothing to compare with
        top = setup.pop("top")
        # The exact server against itself says nothing; without it in the run there is nothing to compare with.
        recall = None if truth is None or top is truth else _recall(top, truth)
        setup |= {"floor": floor, "recall_vs_exact": recall, "k": args.k,
                  "recall_seekers": len(sample)}
    return setups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--seekers", type=int, default=50_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--upserts-per-s", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-timeout", type=float, default=1800.0, help="seconds to wait for the server")
    parser.add_argument("--work", type=Path, default=Path("/tmp/talent-match-bench-service"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--retriever", nargs="+", default=["exact", "hnsw"], choices=["exact", "hnsw"],
                        help="the server's retrieval backends (setting `retriever`), each measured in turn")
    parser.add_argument("--replicas", type=int, default=2,
                        help="also N replicas of the last backend on one PostgreSQL journal (1 = no replicas)")
    parser.add_argument("--replica-jobs", type=int, nargs="*", default=[],
                        help="catalogue sizes to measure replicas at (default: all)")
    parser.add_argument("--recall-seekers", type=int, default=200, help="seekers whose served top-k is compared")
    parser.add_argument("--engine-threads", type=int, nargs="+", default=[2],
                        help="the servers' engine_threads, each measured in turn (after the first, from its snapshot)")
    for flag, kind, default in (("--client", str, None), ("--data", Path, None), ("--tag", str, "0"),
                                ("--timeout", float, 10.0), ("--server-pid", str, "0")):  # the client process's own
        parser.add_argument(flag, type=kind, default=default, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        print(json.dumps(_client(args)))
        return 0

    args.work.mkdir(parents=True, exist_ok=True)
    began, started = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M:%S %Z")
    sizes = []
    for n_jobs in args.jobs:
        _log(f"{n_jobs:,} jobs: preparing data and model under {args.work}")
        data_dir, model_dir = _prepare(args.work, args.seekers, n_jobs, args.seed)
        sizes += _measure_size(args, n_jobs, model_dir, data_dir)
        (args.work / "service-raw.json").write_text(json.dumps(sizes), encoding="utf-8")  # survives a report bug
    names = ("jobs", "seekers", "k", "callers", "seconds", "warmup", "upserts_per_s", "runs", "seed", "retriever",
             "replicas", "engine_threads")
    config = {k: getattr(args, k) for k in names} | {"cpus": os.cpu_count(),
                                                     "code_at_end": code_version(), "started": started,
                                                     "argv": " ".join(sys.argv[1:] if argv is None else argv)}
    path = report(args.out, config, sizes)
    _log(f"done in {time.perf_counter() - began:.0f}s")
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
