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
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]

BASELINE = "lightgbm 2 threads"
Predict = Callable[[np.ndarray], np.ndarray]


@dataclass
class Backend:
    name: str
    family: str
    threads: int
    predict: Predict


@dataclass
class Family:
    """One library: its backends (one per thread count) and what it costs once per model version."""

    name: str
    version: str = ""
    backends: list[Backend] = field(default_factory=list)
    costs: dict[str, float] = field(default_factory=dict)  # seconds
    missing: str = ""  # why it could not run


@dataclass
class Rows:
    x: np.ndarray            # (n_rows, n_features) float32, the rows of seeker i at offsets[i]:offsets[i + 1]
    cand: np.ndarray         # (n_seekers, n_candidates) job rows, -1 where retrieval found fewer
    offsets: np.ndarray      # (n_seekers + 1,)


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


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    clock = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - clock


def _lightgbm(model_file: Path, num_iteration: int) -> Family:
    import lightgbm as lgb

    from models.trees import LightGBMPredictor

    booster, load = _timed(lambda: lgb.Booster(model_file=str(model_file)))
    family = Family("lightgbm", lgb.__version__, costs={"load_s": load})
    production = LightGBMPredictor(booster, num_iteration)  # what serving falls back to: 2 threads

    def one_thread(x: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(x, num_iteration=num_iteration, num_threads=1), dtype=np.float64)

    family.backends = [Backend("lightgbm 1 thread", "lightgbm", 1, one_thread),
                       Backend(BASELINE, "lightgbm", 2, production.predict)]
    return family


def _lleaves(model_file: Path, work: Path) -> Family:
    try:
        import lleaves  # noqa: F401 - fail here, not inside _compile, when it is missing
        import llvmlite

        from models.trees import _compile
    except ImportError as exc:
        return Family("lleaves", missing=f"not installed ({exc})")
    family = Family("lleaves", f"{_version('lleaves')} (llvmlite {llvmlite.__version__})")
    cache = work / "lleaves-cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    _, compile_s = _timed(lambda: _compile(model_file, cache))  # empty cache: compiles and writes the object code
    model, load_s = _timed(lambda: _compile(model_file, cache))  # what a restarted service does
    family.costs = {"compile_s": compile_s, "load_s": load_s}

    def make(n_jobs: int) -> Predict:
        def predict(x: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict(np.ascontiguousarray(x, dtype=np.float64), n_jobs=n_jobs),
                              dtype=np.float64)
        return predict

    family.backends = [Backend(f"lleaves n_jobs={n}", "lleaves", n, make(n)) for n in (1, 2)]
    return family


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _gcc_version() -> str:
    try:
        proc = subprocess.run(["gcc", "--version"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "no gcc"
    return proc.stdout.splitlines()[0]


def _tl2cgen(model_file: Path, work: Path, gtil_wanted: bool) -> tuple[Family, Family]:
    """The compiled tl2cgen library and, from the same treelite model, treelite's interpreter (GTIL)."""
    try:
        import treelite
        import treelite.gtil
    except ImportError as exc:
        reason = f"not installed ({exc.name or exc})"
        return Family("tl2cgen", missing=reason), Family("treelite GTIL", missing=reason)
    tl_model, convert_s = _timed(lambda: treelite.frontend.load_lightgbm_model(str(model_file)))
    gtil = Family("treelite GTIL", treelite.__version__, costs={"load_s": convert_s})

    def make_gtil(nthread: int) -> Predict:
        def predict(x: np.ndarray) -> np.ndarray:
            out = treelite.gtil.predict(tl_model, np.ascontiguousarray(x, dtype=np.float64), nthread=nthread)
            return np.asarray(out, dtype=np.float64).reshape(len(x))
        return predict

    if gtil_wanted:
        gtil.backends = [Backend(f"treelite GTIL {n} thread{'s' * (n > 1)}", "treelite GTIL", n, make_gtil(n))
                         for n in (1, 2)]
    else:
        gtil.missing = "skipped (an interpreter, slower than LightGBM; --gtil runs it)"
    try:
        import tl2cgen
    except ImportError as exc:
        return Family("tl2cgen", missing=f"not installed ({exc.name or exc})"), gtil
    family = Family("tl2cgen", f"{tl2cgen.__version__} (treelite {treelite.__version__}, {_gcc_version()})")
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()[:12]
    out_dir = work / "tl2cgen"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    libpath = out_dir / f"trees-{digest}.so"
    try:
        _, compile_s = _timed(lambda: tl2cgen.export_lib(
            treelite.frontend.load_lightgbm_model(str(model_file)), toolchain="gcc", libpath=str(libpath),
            params={"parallel_comp": os.cpu_count() or 1}, nthread=os.cpu_count() or 1))
    except Exception as exc:  # a toolchain failure is a result to report, not a crash
        family.missing = f"compile failed: {exc}"
        return family, gtil
    predictors = {}
    for n in (1, 2):
        predictors[n], load_s = _timed(lambda n=n: tl2cgen.Predictor(str(libpath), nthread=n))  # type: ignore[misc]
    family.costs = {"compile_s": compile_s, "load_s": load_s}

    def make(n: int) -> Predict:
        predictor = predictors[n]

        def predict(x: np.ndarray) -> np.ndarray:
            dmat = tl2cgen.DMatrix(np.ascontiguousarray(x, dtype=np.float64), dtype="float64")
            return np.asarray(predictor.predict(dmat, pred_margin=True), dtype=np.float64).reshape(len(x))
        return predict

    family.backends = [Backend(f"tl2cgen {n} thread{'s' * (n > 1)}", "tl2cgen", n, make(n)) for n in (1, 2)]
    return family, gtil


def _rankings(scores: np.ndarray, rows: Rows) -> np.ndarray:
    """(n_seekers, n_candidates) candidate columns in ranking order, as the engine orders them."""
    from matcher.engine.matching import rank_order

    valid = rows.cand >= 0
    matrix = np.full(rows.cand.shape, -np.inf)
    matrix[valid] = scores
    return rank_order(matrix, rows.cand)


def _measure(backends: list[Backend], rows: Rows, runs: int, calls: int, k: int) -> dict[str, dict[str, Any]]:
    x = rows.x
    requests = [x[rows.offsets[i]:rows.offsets[i + 1]] for i in range(len(rows.offsets) - 1)]
    requests = [r for r in requests if len(r)]
    stats: dict[str, dict[str, Any]] = {b.name: {"batch_s": [], "p50_ms": [], "p99_ms": [], "repeatable": True}
                                        for b in backends}
    first: dict[str, np.ndarray] = {}
    for b in backends:  # warm-up: first-call costs (thread pools, lazy symbol lookups) are not per-request costs
        for request in requests[:20]:
            b.predict(request)
    for run in range(runs):
        for b in backends:  # interleaved, so a slow spell of the machine hits every backend alike
            scores, seconds = _timed(lambda b=b: b.predict(x))  # type: ignore[misc]
            stats[b.name]["batch_s"].append(seconds)
            if b.name not in first:
                first[b.name] = scores
            stats[b.name]["repeatable"] &= bool(np.array_equal(scores, first[b.name]))
            latencies = np.empty(calls)
            for i in range(calls):
                clock = time.perf_counter()
                b.predict(requests[(run * calls + i) % len(requests)])
                latencies[i] = time.perf_counter() - clock
            stats[b.name]["p50_ms"].append(float(np.percentile(latencies, 50)) * 1e3)
            stats[b.name]["p99_ms"].append(float(np.percentile(latencies, 99)) * 1e3)
        print(f"run {run + 1}/{runs}: " + ", ".join(f"{b.name} {len(x) / stats[b.name]['batch_s'][-1]:,.0f} rows/s"
                                                   for b in backends), file=sys.stderr, flush=True)
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
            "online_rows_per_s": statistics.median(len(requests[0]) / (p / 1e3) for p in s["p50_ms"]),
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


def _fmt_rate(v: float) -> str:
    return f"{v:,.0f}"


def _table(header: list[str], body: list[list[str]], left: int = 1) -> str:
    """Markdown table of preformatted cells; the first `left` columns are text, the others numbers."""
    rule = "|" + "---|" * left + "---:|" * (len(header) - left)
    return "\n".join(["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(r) + " |" for r in body)])


def _report(out: Path, config: dict[str, Any], families: list[Family], results: dict[str, dict[str, Any]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    n_rows, n_seekers = config["rows"], config["seekers"]
    perf = []
    for name, r in results.items():
        perf.append([f"**{name}**" if name == BASELINE else name, _fmt_rate(r["batch_rows_per_s"]),
                     f"{r['batch_vs_baseline']:.2f}x", f"{r['online_p50_ms']:.3f}", f"{r['online_p99_ms']:.3f}",
                     f"{r['online_vs_baseline']:.2f}x"])
    for f in families:
        if f.missing:
            perf.append([f.name, f.missing, "", "", "", ""])
    same = []
    for name, r in results.items():
        same.append([name, f"{r['max_abs_diff']:.3g}", f"{r['seekers_ranking_differs']:,} / {n_seekers:,}",
                     f"{r['seekers_top_k_differs']:,} / {n_seekers:,}", f"{r['seekers_with_tied_scores']:,}",
                     "yes" if r["repeatable"] else "**no**"])
    costs = []
    for f in families:
        if not f.missing:
            costs.append([f.name, f.version, f"{f.costs['compile_s']:.2f}" if "compile_s" in f.costs else "-",
                          f"{f.costs['load_s'] * 1e3:,.1f}"])
    correct = [n for n, r in results.items() if r["seekers_ranking_differs"] == 0]
    best_batch = max(correct, key=lambda n: results[n]["batch_rows_per_s"])
    best_online = min(correct, key=lambda n: results[n]["online_p50_ms"])
    wrong = [n for n, r in results.items() if r["seekers_ranking_differs"]]
    text = "\n".join([
        f"# Tree inference: {config['trees']} trees, {n_rows:,} engine feature rows",
        "",
        f"LambdaRank model of `bench_batch` ({config['trees']} trees, {config['leaves']} leaves max, "
        f"{config['features']} features). Rows: {n_seekers:,} sampled seekers x their {config['candidates']} "
        f"retrieved candidates from a {config['data_seekers']:,} seekers x {config['data_jobs']:,} jobs synthetic "
        f"folder, as `matcher.engine.rank_candidates` scores them (float32 in, float64 scores out; conversions "
        f"count). Medians of {config['runs']} interleaved runs; an online request is one seeker's "
        f"{config['request_rows']} rows, p50/p99 over {config['calls']} calls per run. Baseline: "
        f"**{BASELINE}** (`Booster.predict`, as `models.trees.LightGBMPredictor`). Machine: {config['cpus']} CPUs "
        f"({config['cpu']}), 1-minute load average {config['load_before']:.2f} before and "
        f"{config['load_after']:.2f} after the run."
        + (" **Other processes were using the CPUs**: the 2-thread figures (and, less, all others) understate what "
           "idle cores give." if max(config["load_before"], config["load_after"]) > 0.5 else ""),
        "",
        "## Speed",
        "",
        _table(["backend", "batch rows/s", "vs baseline", "online p50 ms", "online p99 ms", "vs baseline"], perf),
        "",
        "## Same answers as LightGBM",
        "",
        f"Rankings: each seeker's candidates ordered by score, equal scores by job row (`rank_order`); a seeker "
        f"counts when any position differs from LightGBM's order, over all {config['candidates']} candidates or "
        f"only the top {config['k']}.",
        "",
        _table(["backend", "max abs score diff", "seekers, ranking differs", f"seekers, top-{config['k']} differs",
                "seekers with tied scores", "repeatable"], same),
        "",
        "## One-time costs per model version",
        "",
        "compile: from model.txt to loadable machine code (lleaves: LLVM, object code cached next to model.txt by "
        "`models.trees`; tl2cgen: treelite conversion + C generation + gcc -O3 on all cores). load: from the file on "
        "disk (LightGBM: parse model.txt; lleaves: parse model.txt and load the cached object; tl2cgen: dlopen the "
        ".so; GTIL: treelite's conversion of model.txt).",
        "",
        _table(["library", "version", "compile s", "load ms"], costs, left=2),
        "",
        f"Fastest with identical rankings: batch **{best_batch}** "
        f"({results[best_batch]['batch_vs_baseline']:.2f}x the baseline), online **{best_online}** "
        f"({results[best_online]['online_vs_baseline']:.2f}x)."
        + (f" Rankings differ from LightGBM's for: {', '.join(wrong)}." if wrong else
           " Every backend measured ranks every seeker exactly as LightGBM does."),
        "",
        "![rows per second and online latency](trees.png)",
    ])
    names = list(results)
    colors = ["tab:gray" if results[n]["family"] == "lightgbm" else "tab:green" if n in correct else "tab:red"
              for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 0.45 * len(names) + 1.6), sharey=True)
    hatch = ["//" if n == BASELINE else "" for n in names]
    ax1.barh(names, [results[n]["batch_rows_per_s"] / 1e6 for n in names], color=colors, hatch=hatch)
    ax1.set_xlabel("million rows / s (higher is better)")
    ax1.set_title(f"batch: {n_rows:,} rows")
    ax1.invert_yaxis()
    ax2.barh(names, [results[n]["online_p50_ms"] for n in names], color=colors, hatch=hatch)
    ax2.set_xlabel("ms, p50 (lower is better)")
    ax2.set_title(f"one request: {config['request_rows']} rows")
    for ax in (ax1, ax2):
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "trees.png", dpi=110)
    plt.close(fig)
    path = out / "trees.md"
    path.write_text(text + "\n", encoding="utf-8")
    payload = {"config": config, "baseline": BASELINE, "best_batch": best_batch, "best_online": best_online,
               "libraries": {f.name: {"version": f.version, "costs_s": f.costs, "missing": f.missing}
                             for f in families},
               "backends": results}
    (out / "trees.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)

    from benchmarks.bench_batch import _prepare
    from models.registry import load_model

    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    data_dir, model_dir = _prepare(work, args.data_seekers, args.data_jobs, args.seed)
    rows = _features(work, data_dir, model_dir, args.seekers, args.candidates, args.seed)
    with _uncompiled():  # each backend builds (and times) its own predictor below
        bundle = load_model(model_dir)
    assert bundle.source is not None
    model_file = bundle.source / "model.txt"
    num_iteration = bundle.ranker.best_iteration_
    lightgbm = _lightgbm(model_file, num_iteration)
    families = [lightgbm, _lleaves(model_file, work), *_tl2cgen(model_file, work, args.gtil)]
    for f in families:
        if f.costs:
            print(f"{f.name}: " + ", ".join(f"{k} {v:.2f}" for k, v in f.costs.items()), file=sys.stderr)
    backends = [b for f in families for b in f.backends]
    load_before = os.getloadavg()[0]
    results = _measure(backends, rows, args.runs, args.calls, args.k)
    dump = bundle.ranker.booster_.dump_model(num_iteration=num_iteration)
    config = {"seekers": int(len(rows.cand)), "candidates": args.candidates, "rows": int(len(rows.x)),
              "request_rows": int(rows.offsets[1] - rows.offsets[0]), "data_seekers": args.data_seekers,
              "data_jobs": args.data_jobs, "k": args.k, "runs": args.runs, "calls": args.calls, "seed": args.seed,
              "trees": num_iteration, "leaves": int(dump["tree_info"] and max(t["num_leaves"]
                                                                                for t in dump["tree_info"])),
              "features": int(rows.x.shape[1]), "model_version": bundle.version, "cpus": os.cpu_count(),
              "cpu": _cpu_name(), "load_before": load_before, "load_after": os.getloadavg()[0],
              "python": platform.python_version(), "numpy": np.__version__}
    path = _report(args.out, config, families, results)
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
