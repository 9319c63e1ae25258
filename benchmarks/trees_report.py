"""The tree inference report: trees.md (speed, same answers as LightGBM, one-time costs), trees.json and trees.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.reporting import pyplot, save_figure, table, write_json
from benchmarks.trees_backends import BASELINE, Family

__all__ = ["report"]

Results = dict[str, dict[str, Any]]


def _fmt_rate(v: float) -> str:
    return f"{v:,.0f}"


def _numbers(n_columns: int) -> str:
    """Alignment of a table whose first column is text and the others numbers."""
    return "l" + "r" * (n_columns - 1)


def _speed(families: list[Family], results: Results) -> str:
    perf = []
    for name, r in results.items():
        perf.append([f"**{name}**" if name == BASELINE else name, _fmt_rate(r["batch_rows_per_s"]),
                     f"{r['batch_vs_baseline']:.2f}x", f"{r['online_p50_ms']:.3f}", f"{r['online_p99_ms']:.3f}",
                     f"{r['online_vs_baseline']:.2f}x"])
    for f in families:
        if f.missing:
            perf.append([f.name, f.missing, "", "", "", ""])
    header = ["backend", "batch rows/s", "vs baseline", "online p50 ms", "online p99 ms", "vs baseline"]
    return table(header, perf, _numbers(len(header)))


def _agreement(config: dict[str, Any], results: Results) -> str:
    n_seekers = config["seekers"]
    same = []
    for name, r in results.items():
        same.append([name, f"{r['max_abs_diff']:.3g}", f"{r['seekers_ranking_differs']:,} / {n_seekers:,}",
                     f"{r['seekers_top_k_differs']:,} / {n_seekers:,}", f"{r['seekers_with_tied_scores']:,}",
                     "yes" if r["repeatable"] else "**no**"])
    header = ["backend", "max abs score diff", "seekers, ranking differs", f"seekers, top-{config['k']} differs",
              "seekers with tied scores", "repeatable"]
    return table(header, same, _numbers(len(header)))


def _costs(families: list[Family]) -> str:
    costs = []
    for f in families:
        if not f.missing:
            costs.append([f.name, f.version, f"{f.costs['compile_s']:.2f}" if "compile_s" in f.costs else "-",
                          f"{f.costs['load_s'] * 1e3:,.1f}"])
    return table(["library", "version", "compile s", "load ms"], costs, "llrr")


def _intro(config: dict[str, Any]) -> str:
    busy = max(config["load_before"], config["load_after"]) > 0.5
    return (
        f"LambdaRank model of `bench_batch` ({config['trees']} trees, {config['leaves']} leaves max, "
        f"{config['features']} features). Rows: {config['seekers']:,} sampled seekers x their {config['candidates']} "
        f"retrieved candidates from a {config['data_seekers']:,} seekers x {config['data_jobs']:,} jobs synthetic "
        f"folder, as `matcher.engine.rank_candidates` scores them (float32 in, float64 scores out; conversions "
        f"count). Medians of {config['runs']} interleaved runs; an online request is one seeker's "
        f"{config['request_rows']} rows, p50/p99 over {config['calls']} calls per run. Baseline: "
        f"**{BASELINE}** (`Booster.predict`, as `models.trees.LightGBMPredictor`). Machine: {config['cpus']} CPUs "
        f"({config['cpu']}), 1-minute load average {config['load_before']:.2f} before and "
        f"{config['load_after']:.2f} after the run."
        + (" **Other processes were using the CPUs**: the 2-thread figures (and, less, all others) understate what "
           "idle cores give." if busy else ""))


def _verdict(results: Results, best_batch: str, best_online: str) -> str:
    wrong = [n for n, r in results.items() if r["seekers_ranking_differs"]]
    return (f"Fastest with identical rankings: batch **{best_batch}** "
            f"({results[best_batch]['batch_vs_baseline']:.2f}x the baseline), online **{best_online}** "
            f"({results[best_online]['online_vs_baseline']:.2f}x)."
            + (f" Rankings differ from LightGBM's for: {', '.join(wrong)}." if wrong else
               " Every backend measured ranks every seeker exactly as LightGBM does."))


def _markdown(config: dict[str, Any], families: list[Family], results: Results, best: tuple[str, str]) -> str:
    return "\n".join([
        f"# Tree inference: {config['trees']} trees, {config['rows']:,} engine feature rows",
        "",
        _intro(config),
        "",
        "## Speed",
        "",
        _speed(families, results),
        "",
        "## Same answers as LightGBM",
        "",
        f"Rankings: each seeker's candidates ordered by score, equal scores by job row (`rank_order`); a seeker "
        f"counts when any position differs from LightGBM's order, over all {config['candidates']} candidates or "
        f"only the top {config['k']}.",
        "",
        _agreement(config, results),
        "",
        "## One-time costs per model version",
        "",
        "compile: from model.txt to loadable machine code (lleaves: LLVM, object code cached next to model.txt by "
        "`models.trees`; tl2cgen: treelite conversion + C generation + gcc -O3 on all cores). load: from the file on "
        "disk (LightGBM: parse model.txt; lleaves: parse model.txt and load the cached object; tl2cgen: dlopen the "
        ".so; GTIL: treelite's conversion of model.txt).",
        "",
        _costs(families),
        "",
        _verdict(results, *best),
        "",
        "![rows per second and online latency](trees.png)",
    ])


def _plot(path: Path, config: dict[str, Any], results: Results, correct: list[str]) -> None:
    names = list(results)
    colors = ["tab:gray" if results[n]["family"] == "lightgbm" else "tab:green" if n in correct else "tab:red"
              for n in names]
    fig, (ax1, ax2) = pyplot().subplots(1, 2, figsize=(11, 0.45 * len(names) + 1.6), sharey=True)
    hatch = ["//" if n == BASELINE else "" for n in names]
    ax1.barh(names, [results[n]["batch_rows_per_s"] / 1e6 for n in names], color=colors, hatch=hatch)
    ax1.set_xlabel("million rows / s (higher is better)")
    ax1.set_title(f"batch: {config['rows']:,} rows")
    ax1.invert_yaxis()
    ax2.barh(names, [results[n]["online_p50_ms"] for n in names], color=colors, hatch=hatch)
    ax2.set_xlabel("ms, p50 (lower is better)")
    ax2.set_title(f"one request: {config['request_rows']} rows")
    for ax in (ax1, ax2):
        ax.grid(axis="x", alpha=0.3)
    save_figure(fig, path)


def report(out: Path, config: dict[str, Any], families: list[Family], results: Results) -> Path:
    """Write trees.md, trees.json and trees.png under `out`; returns the Markdown's path."""
    out.mkdir(parents=True, exist_ok=True)
    correct = [n for n, r in results.items() if r["seekers_ranking_differs"] == 0]
    best_batch = max(correct, key=lambda n: results[n]["batch_rows_per_s"])
    best_online = min(correct, key=lambda n: results[n]["online_p50_ms"])
    text = _markdown(config, families, results, (best_batch, best_online))
    _plot(out / "trees.png", config, results, correct)
    path = out / "trees.md"
    path.write_text(text + "\n", encoding="utf-8")
    payload = {"config": config, "baseline": BASELINE, "best_batch": best_batch, "best_online": best_online,
               "libraries": {f.name: {"version": f.version, "costs_s": f.costs, "missing": f.missing}
                             for f in families},
               "backends": results}
    write_json(out / "trees.json", payload)
    return path
