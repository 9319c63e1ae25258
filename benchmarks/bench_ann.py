"""Retrieval backends on the engine's own vectors: HNSW (faiss) against the exact block-max GEMM, same run.

    python -m benchmarks.bench_ann --jobs 200000 1000000 --runs 3

For each catalogue size: a synthetic folder (matcher.offline.synthetic, cached under --work), the engine's text
encoder fitted on it, the retrieval vectors of every open job and of --queries seekers (CandidateGenerator, the
same-region bonus included). Measured: build time; single-query latency (one query per call, as the server's
lightly loaded path) p50 / p99 and a 256-query batch's throughput, top-200, for each backend; recall@200 of HNSW
against exact search without a filter, with a city-sized filter (2% of jobs allowed: the exact fallback) and with
half the jobs allowed (the graph with a selector). Medians over --runs; ratios are against the exact backend
measured in the same process. Writes benchmarks/results/ann.{md,json}.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.reporting import code_version, cpu_name, medians, ms, package_version, table, write_json

__all__ = ["main"]

_N = 200


def _vectors(n_jobs: int, n_queries: int, work: Path, seed: int) -> dict[str, Any]:
    from matcher import api
    from matcher.engine.matching import CandidateGenerator
    from matcher.engine.retrieval import seeker_regions
    from matcher.engine.scoring import build_view
    from matcher.offline.synthetic import generate
    from matcher.offline.training import fit_encoder

    folder = work / f"ann-data-{n_jobs}"
    if not (folder / "jobs.csv").exists():
        generate(max(n_queries * 4, 20_000), n_jobs, seed=seed, events_per_seeker=1.0).write(folder)
    data = api.load_data(folder)
    encoder = fit_encoder(data, 96, seed)
    as_of = data.max_time
    assert as_of is not None, "a synthetic folder always has times"
    cat, snap = build_view(data, encoder, history_until=as_of, as_of=as_of)
    generator = CandidateGenerator(cat, snap, cat.job_expires_ns > as_of.value)
    seekers = np.random.default_rng(seed).choice(len(data.seekers), n_queries, replace=False)
    jobs = generator.open_idx
    return {"items": generator.item_vectors(cat, snap, jobs), "groups": cat.jobs.region[jobs],
            "cities": cat.jobs.city[jobs], "queries": generator.query_vectors(cat, snap, seekers),
            "q_groups": seeker_regions(cat, snap, seekers), "bonus": generator.weights.geo}


def _latency(index: Any, v: dict[str, Any], n_single: int) -> dict[str, float]:
    single = []
    for q in range(n_single):
        started = time.perf_counter()
        index.search(v["queries"][q:q + 1], _N, query_groups=v["q_groups"][q:q + 1], group_bonus=v["bonus"])
        single.append(time.perf_counter() - started)
    batch = v["queries"][:256]
    started = time.perf_counter()
    index.search(batch, _N, query_groups=v["q_groups"][:256], group_bonus=v["bonus"])
    return {"p50_ms": ms(single, 50) or 0.0, "p99_ms": ms(single, 99) or 0.0,
            "batch_qps": len(batch) / (time.perf_counter() - started)}


def _recall(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(np.intersect1d(x, y)) / max(len(y), 1) for x, y in zip(a, b, strict=True)]))


def _recalls(exact: Any, hnsw: Any, v: dict[str, Any], seed: int) -> dict[str, float]:
    q, g, bonus = v["queries"], v["q_groups"], v["bonus"]
    out = {"none": _recall(hnsw.search(q, _N, query_groups=g, group_bonus=bonus)[0],
                           exact.search(q, _N, query_groups=g, group_bonus=bonus)[0])}
    rng = np.random.default_rng(seed)
    for name, share in (("half the jobs", 0.5), ("2% of the jobs", 0.02)):
        allowed = [rng.random(len(v["items"])) < share for _ in range(len(q))]
        out[name] = _recall(hnsw.search(q, _N, allowed, g, bonus)[0], exact.search(q, _N, allowed, g, bonus)[0])
    return out


def _measure(n_jobs: int, args: argparse.Namespace) -> dict[str, Any]:
    from matcher.engine.ann import HNSWRetriever
    from matcher.engine.retrieval import ExactRetriever

    v = _vectors(n_jobs, args.queries, Path(args.work), args.seed)
    print(f"[bench_ann] {len(v['items']):,} open jobs x {v['items'].shape[1]} dims", file=sys.stderr, flush=True)
    builds = {}
    started = time.perf_counter()
    exact = ExactRetriever().fit(v["items"], v["groups"])
    builds["exact"] = time.perf_counter() - started
    started = time.perf_counter()
    hnsw = HNSWRetriever(group_bonus=v["bonus"], min_items=0).fit(v["items"], v["groups"])
    builds["hnsw"] = time.perf_counter() - started
    print(f"[bench_ann] built: exact {builds['exact']:.1f}s, hnsw {builds['hnsw']:.1f}s", file=sys.stderr, flush=True)
    runs: dict[str, list[dict[str, float]]] = {"exact": [], "hnsw": []}
    for run in range(args.runs):
        for name, index in (("exact", exact), ("hnsw", hnsw)):
            runs[name].append(_latency(index, v, args.single))
        print(f"[bench_ann] run {run + 1}/{args.runs}: exact p50 {runs['exact'][-1]['p50_ms']:.2f} ms, "
              f"hnsw p50 {runs['hnsw'][-1]['p50_ms']:.2f} ms", file=sys.stderr, flush=True)
    return {"jobs": n_jobs, "open_jobs": int(len(v["items"])), "dim": int(v["items"].shape[1]),
            "build_s": builds, "runs": runs,
            "medians": {name: medians(r, ["p50_ms", "p99_ms", "batch_qps"]) for name, r in runs.items()},
            "recall@200": _recalls(exact, hnsw, v, args.seed)}


def _report(out: Path, sizes: list[dict[str, Any]], args: argparse.Namespace) -> None:
    body = []
    for s in sizes:
        e, h = s["medians"]["exact"], s["medians"]["hnsw"]
        for name, m in (("exact (baseline)", e), ("hnsw", h)):
            body.append([f"{s['open_jobs']:,}" if name.startswith("exact") else "", name,
                         f"{s['build_s'][name.split()[0]]:.1f} s", f"{m['p50_ms']:.2f}", f"{m['p99_ms']:.2f}",
                         f"{m['batch_qps']:,.0f}", "1.000" if name.startswith("exact") else
                         f"{s['recall@200']['none']:.3f}", "" if name.startswith("exact") else
                         f"{e['p50_ms'] / h['p50_ms']:.1f}x"])
    recall = [[f"{s['open_jobs']:,}", *(f"{s['recall@200'][k]:.3f}" for k in ("none", "half the jobs",
                                                                              "2% of the jobs"))] for s in sizes]
    lines = [
        "# Retrieval: HNSW (faiss) against exact search", "",
        f"`python -m benchmarks.bench_ann --jobs {' '.join(map(str, args.jobs))} --runs {args.runs}`", "",
        f"{cpu_name()}, faiss-cpu {package_version('faiss-cpu')}, code {code_version()}. The engine's retrieval "
        f"vectors of synthetic catalogues (text LSA + popularity / freshness, same-region bonus); top-{_N}; "
        f"{args.single} single-query calls (one thread) and one 256-query batch per run, medians of {args.runs} "
        "runs; speed-up = exact p50 / hnsw p50 in the same run.", "",
        table(["open jobs", "backend", "build", "p50 ms", "p99 ms", "batch q/s", "recall@200", "speed-up"], body,
              "llrrrrrr"), "",
        "Recall@200 of HNSW against exact search by filter (half the jobs allowed: the graph with a selector; 2%: "
        "answered exactly, `min_allowed_share`):", "",
        table(["open jobs", "no filter", "half the jobs", "2% of the jobs"], recall, "lrrr"), ""]
    (out / "ann.md").write_text("\n".join(lines), encoding="utf-8")
    write_json(out / "ann.json", {"config": vars(args), "sizes": sizes})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000, help="seekers whose vectors are the queries")
    parser.add_argument("--single", type=int, default=300, help="single-query calls per run and backend")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="bench-work")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    sizes = [_measure(n, args) for n in args.jobs]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _report(out, sizes, args)
    print(f"[bench_ann] wrote {out / 'ann.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
