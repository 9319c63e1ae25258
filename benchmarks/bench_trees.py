"""Tree inference backends for the LambdaRank model: LightGBM's own predict against compiled trees, same rows.

    python -m benchmarks.bench_trees --seekers 2000 --candidates 200 --runs 5

The model is the one `bench_batch` trains (its `_prepare`, same seed); the rows are real engine feature rows: a
`MatchEngine` over a small synthetic folder (`--data-seekers` x `--data-jobs`) retrieves `--candidates` jobs for
each of `--seekers` sampled seekers and `pair_features` turns the pairs into the float32 matrix `rank_candidates`
scores. Data, model and rows are cached under `--workdir`, so reruns only time the trees.

Backends, each timed from that float32 matrix to float64 scores (any conversion it needs is part of its time):

- lightgbm: `Booster.predict` with 1 and 2 threads; **2 threads is the baseline** (`models.trees.LightGBMPredictor`).
- lleaves: the trees compiled by LLVM (`models.trees._compile`, the object code the service caches), n_jobs 1 and 2.
- tl2cgen: the trees converted by treelite and compiled to a shared library with gcc, 1 and 2 threads.
- treelite GTIL: treelite's own tree interpreter, for reference.

treelite and tl2cgen are optional (`pip install treelite tl2cgen`); without them the report says "not installed".

Per backend: rows/s on the whole batch (`--seekers` x `--candidates` rows) and the p50 / p99 latency of one online
request (one seeker's candidates, `--calls` calls cycling over the seekers), medians of `--runs` runs; the largest
|score - LightGBM score|; how many seekers' rankings differ from LightGBM's (candidates ordered by score, ties by
job row, as `matcher.engine.rank_order` does), over all candidates and over the top `--k`; and the one-time costs
(compiling, loading the compiled model from its cache). Results go to `--out` as Markdown + JSON + PNG.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.reporting import cpu_name, ms
from benchmarks.trees_backends import (
    BASELINE,
    Backend,
    Family,
    lightgbm_family,
    lleaves_family,
    timed,
    tl2cgen_families,
)
from benchmarks.trees_report import report

__all__ = ["main"]


@dataclass
class Rows:
    x: np.ndarray            # (n_rows, n_features) float32, the rows of seeker i at offsets[i]:offsets[i + 1]
    cand: np.ndarray         # (n_seekers, n_candidates) job rows, -1 where retrieval found fewer
    offsets: np.ndarray      # (n_seekers + 1,)

    def requests(self) -> list[np.ndarray]:
        """One online request per seeker with candidates: that seeker's rows."""
        parts = [self.x[self.offsets[i]:self.offsets[i + 1]] for i in range(len(self.offsets) - 1)]
        return [r for r in parts if len(r)]


@contextmanager
def _uncompiled() -> Iterator[None]:
    """Load models without compiling their trees (and without writing a compiled cache into the model dir)."""
    previous = os.environ.get("MATCHER_TREES")
    os.environ["MATCHER_TREES"] = "lightgbm"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MATCHER_TREES", None)
        else:
            os.environ["MATCHER_TREES"] = previous


def _features(work: Path, data_dir: Path, model_dir: Path, n_seekers: int, n_candidates: int, seed: int) -> Rows:
    """Engine feature rows for n_seekers sampled seekers x their n_candidates retrieved jobs (cached)."""
    from features.pairs import pair_features
    from matcher import api
    from matcher.engine.matching import MatchEngine

    version = (model_dir / "CURRENT").read_text(encoding="utf-8").strip()
    path = work / f"rows-{data_dir.name}-{version}-{n_seekers}x{n_candidates}-{seed}.npz"
    if not path.exists():
        started = time.perf_counter()
        with _uncompiled():  # only the features are needed here
            bundle = api.load(model_dir)
        data = api.load_data(data_dir)
        engine = MatchEngine(bundle, data, n_candidates=n_candidates)
        rng = np.random.default_rng(seed)
        seekers = np.sort(rng.choice(len(data.seekers), min(n_seekers, len(data.seekers)), replace=False))
        cand = engine.generator.candidates(engine.catalogue, engine.snapshot, seekers, n_candidates)
        valid = cand >= 0
        x = pair_features(engine.catalogue, engine.snapshot, np.repeat(seekers, cand.shape[1])[valid.ravel()],
                          cand[valid])
        staged = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(staged, x=x, cand=cand)
        os.replace(staged, path)
        print(f"built {len(x):,} feature rows for {len(seekers):,} seekers in {time.perf_counter() - started:.0f}s",
              file=sys.stderr)
    with np.load(path) as saved:
        x, cand = saved["x"], saved["cand"]
    offsets = np.concatenate([[0], np.cumsum((cand >= 0).sum(axis=1))])
    return Rows(x=np.ascontiguousarray(x), cand=cand, offsets=offsets)


def _rankings(scores: np.ndarray, rows: Rows) -> np.ndarray:
    """(n_seekers, n_candidates) candidate columns in ranking order, as the engine orders them."""
    from matcher.engine.matching import rank_order

    valid = rows.cand >= 0
    matrix = np.full(rows.cand.shape, -np.inf)
    matrix[valid] = scores
    return rank_order(matrix, rows.cand)


def _time_runs(backends: list[Backend], rows: Rows, runs: int, calls: int
               ) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Per backend, the batch seconds and online p50 / p99 ms of every run, and the scores of its first run."""
    x, requests = rows.x, rows.requests()
    stats: dict[str, dict[str, Any]] = {b.name: {"batch_s": [], "p50_ms": [], "p99_ms": [], "repeatable": True}
                                        for b in backends}
    first: dict[str, np.ndarray] = {}
    for b in backends:  # warm-up: first-call costs (thread pools, lazy symbol lookups) are not per-request costs
        for request in requests[:20]:
            b.predict(request)
    for run in range(runs):
        for b in backends:  # interleaved, so a slow spell of the machine hits every backend alike
            scores, seconds = timed(lambda b=b: b.predict(x))  # type: ignore[misc]
            stats[b.name]["batch_s"].append(seconds)
            if b.name not in first:
                first[b.name] = scores
            stats[b.name]["repeatable"] &= bool(np.array_equal(scores, first[b.name]))
            latencies = np.empty(calls)
            for i in range(calls):
                clock = time.perf_counter()
                b.predict(requests[(run * calls + i) % len(requests)])
                latencies[i] = time.perf_counter() - clock
            stats[b.name]["p50_ms"].append(ms(latencies, 50))
            stats[b.name]["p99_ms"].append(ms(latencies, 99))
        print(f"run {run + 1}/{runs}: " + ", ".join(f"{b.name} {len(x) / stats[b.name]['batch_s'][-1]:,.0f} rows/s"
                                                   for b in backends), file=sys.stderr, flush=True)
    return stats, first


def _measure(backends: list[Backend], rows: Rows, runs: int, calls: int, k: int) -> dict[str, dict[str, Any]]:
    stats, first = _time_runs(backends, rows, runs, calls)
    x, request_rows = rows.x, len(rows.requests()[0])
    reference = first[BASELINE]
    ref_order = _rankings(reference, rows)
    k = min(k, ref_order.shape[1])
    ref_top = np.take_along_axis(rows.cand, ref_order[:, :k], axis=1)
    results: dict[str, dict[str, Any]] = {}
    for b in backends:
        s, scores = stats[b.name], first[b.name]
        order = _rankings(scores, rows)
        top = np.take_along_axis(rows.cand, order[:, :k], axis=1)
        batch_s = statistics.median(s["batch_s"])
        results[b.name] = {
            "family": b.family, "threads": b.threads,
            "batch_s": batch_s, "batch_rows_per_s": len(x) / batch_s,
            "online_p50_ms": statistics.median(s["p50_ms"]), "online_p99_ms": statistics.median(s["p99_ms"]),
            "online_rows_per_s": statistics.median(request_rows / (p / 1e3) for p in s["p50_ms"]),
            "max_abs_diff": float(np.max(np.abs(scores - reference))) if len(x) else 0.0,
            "seekers_ranking_differs": int((order != ref_order).any(axis=1).sum()),
            "seekers_top_k_differs": int((top != ref_top).any(axis=1).sum()),
            "seekers_with_tied_scores": _tied_seekers(scores, rows),
            "repeatable": s["repeatable"],
            "runs": {"batch_s": s["batch_s"], "online_p50_ms": s["p50_ms"], "online_p99_ms": s["p99_ms"]},
        }
    base = results[BASELINE]
    for r in results.values():
        r["batch_vs_baseline"] = r["batch_rows_per_s"] / base["batch_rows_per_s"]
        r["online_vs_baseline"] = base["online_p50_ms"] / r["online_p50_ms"]
    return results


def _tied_seekers(scores: np.ndarray, rows: Rows) -> int:
    """Seekers with at least two candidates of exactly equal score (where the tie-break by job row decides)."""
    valid = rows.cand >= 0
    matrix = np.full(rows.cand.shape, np.nan)
    matrix[valid] = scores
    ordered = np.sort(matrix, axis=1)
    return int((ordered[:, 1:] == ordered[:, :-1]).any(axis=1).sum())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seekers", type=int, default=2000, help="seekers whose candidates are scored")
    parser.add_argument("--candidates", type=int, default=200, help="retrieved jobs per seeker (rows per request)")
    parser.add_argument("--data-seekers", type=int, default=5000)
    parser.add_argument("--data-jobs", type=int, default=20_000)
    parser.add_argument("--k", type=int, default=20, help="top-k whose order is also compared on its own")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300, help="online requests timed per run and backend")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gtil", action="store_true", help="also time treelite's interpreter (slow)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "talent-match-bench-trees",
                        help="cache for data, model and feature rows")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    return parser


def _families(model_file: Path, num_iteration: int, work: Path, gtil: bool) -> list[Family]:
    families = [lightgbm_family(model_file, num_iteration), lleaves_family(model_file, work),
                *tl2cgen_families(model_file, work, gtil)]
    for f in families:
        if f.costs:
            print(f"{f.name}: " + ", ".join(f"{k} {v:.2f}" for k, v in f.costs.items()), file=sys.stderr)
    return families


def _config(args: argparse.Namespace, rows: Rows, bundle: Any, num_iteration: int, load_before: float
            ) -> dict[str, Any]:
    dump = bundle.ranker.booster_.dump_model(num_iteration=num_iteration)
    return {"seekers": int(len(rows.cand)), "candidates": args.candidates, "rows": int(len(rows.x)),
            "request_rows": int(rows.offsets[1] - rows.offsets[0]), "data_seekers": args.data_seekers,
            "data_jobs": args.data_jobs, "k": args.k, "runs": args.runs, "calls": args.calls, "seed": args.seed,
            "trees": num_iteration, "leaves": int(dump["tree_info"] and max(t["num_leaves"]
                                                                              for t in dump["tree_info"])),
            "features": int(rows.x.shape[1]), "model_version": bundle.version, "cpus": os.cpu_count(),
            "cpu": cpu_name(), "load_before": load_before, "load_after": os.getloadavg()[0],
            "python": platform.python_version(), "numpy": np.__version__}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    from benchmarks.bench_batch import _prepare
    from models.registry import load_model

    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    data_dir, model_dir = _prepare(work, args.data_seekers, args.data_jobs, args.seed)
    rows = _features(work, data_dir, model_dir, args.seekers, args.candidates, args.seed)
    with _uncompiled():  # each backend builds (and times) its own predictor below
        bundle = load_model(model_dir)
    assert bundle.source is not None
    num_iteration = bundle.ranker.best_iteration_
    families = _families(bundle.source / "model.txt", num_iteration, work, args.gtil)
    backends = [b for f in families for b in f.backends]
    load_before = os.getloadavg()[0]
    results = _measure(backends, rows, args.runs, args.calls, args.k)
    config = _config(args, rows, bundle, num_iteration, load_before)
    path = report(args.out, config, families, results)
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
