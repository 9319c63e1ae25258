"""Time to SERVING for `matcher serve`: a full build from the folder and the journal, against a start from the
snapshot the previous process saved (service.snapshot), same data, same machine, same run.

    python -m benchmarks.bench_restart --jobs 1000000 --runs 3

Per run: a server on a fresh journal (the full build; it saves its snapshot), 50 UpsertJobs calls, a graceful stop
(the snapshot is saved again), then a server on the same journal (from the snapshot). Both are timed from process
start to the "serving" line; the median over runs is reported with the ratio. Writes benchmarks/results/restart.md
and restart.json. Data and model: bench_batch's `_prepare` (cached under --work).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.bench_batch import _prepare
from benchmarks.bench_service import _new_job, _start_server, _status_gib
from benchmarks.reporting import code_version, cpu_name, table, write_json

__all__ = ["main"]


def _stop(proc: Any) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=600)


def _one_run(data_dir: Path, model_dir: Path, work: Path, run: int, retriever: str) -> dict[str, Any]:
    import random

    import pandas as pd

    from matcher.service.client import MatchClient

    tag = f"restart-{run}"
    proc, target, full_s = _start_server(data_dir, model_dir, work, tag, 1800, retriever)
    full_rss = _status_gib(proc.pid, "VmRSS")
    first = pd.read_csv(data_dir / "jobs.csv", nrows=1, dtype=str, keep_default_na=False).iloc[0]
    template = {str(k): str(v) for k, v in first.items()}
    rng = random.Random(run)
    with MatchClient(target) as client:
        as_of = pd.Timestamp(client.model_info().as_of)
        for i in range(50):
            client.upsert_jobs([_new_job(template, f"RESTART-{run}-{i}", as_of, rng)])
        n_open = client.model_info().n_open_jobs
    _stop(proc)
    journal = work / f"journal-{tag}.sqlite"
    snapshot = Path(f"{journal}.snapshot")
    size_gib = snapshot.stat().st_size / 2**30 if snapshot.exists() else float("nan")
    proc, target, snap_s = _start_server(data_dir, model_dir, work, tag, 1800, retriever, fresh=False)
    with MatchClient(target) as client:
        info = client.model_info()
    snap_rss = _status_gib(proc.pid, "VmRSS")
    _stop(proc)
    assert info.n_open_jobs == n_open and info.journal_sequence == 50, "the restart lost a write"
    return {"full_s": full_s, "snapshot_s": snap_s, "snapshot_gib": size_gib, "full_rss_gib": full_rss,
            "snapshot_rss_gib": snap_rss, "open_jobs": n_open}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--seekers", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--retriever", default="exact", choices=["exact", "hnsw"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("bench-work"))
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    data_dir, model_dir = _prepare(args.work, args.seekers, args.jobs, args.seed)
    runs = []
    for run in range(args.runs):
        runs.append(_one_run(data_dir, model_dir, args.work, run, args.retriever))
        print(f"[bench_restart] run {run + 1}/{args.runs}: full build {runs[-1]['full_s']:.1f}s, from the snapshot "
              f"{runs[-1]['snapshot_s']:.1f}s", file=sys.stderr, flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    body = [["full build (baseline: folder + journal)", f"{med['full_s']:.1f} s", f"{med['full_rss_gib']:.2f} GiB",
             ""],
            ["from the snapshot + journal after it", f"{med['snapshot_s']:.1f} s", f"{med['snapshot_rss_gib']:.2f} GiB",
             f"{med['full_s'] / med['snapshot_s']:.1f}x faster"]]
    lines = ["# Restart to SERVING: full build against the snapshot", "",
             f"`python -m benchmarks.bench_restart --jobs {args.jobs} --runs {args.runs} --retriever {args.retriever}`",
             "", f"{cpu_name()}, code {code_version()}; {args.jobs:,} jobs ({int(med['open_jobs']):,} open after the "
             f"writes), {args.seekers:,} seekers, retriever {args.retriever}; 50 UpsertJobs journalled before the "
             f"graceful stop; medians of {args.runs} runs (time from process start to the 'serving' line). "
             f"Snapshot file {med['snapshot_gib']:.2f} GiB.", "",
             table(["start", "to SERVING", "RSS serving", ""], body, "lrrr"), ""]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "restart.md").write_text("\n".join(lines), encoding="utf-8")
    write_json(args.out / "restart.json", {"config": {k: str(v) for k, v in vars(args).items()}, "runs": runs,
                                           "medians": med})
    print((args.out / "restart.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
