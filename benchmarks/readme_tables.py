"""The README's result tables, written from the committed results of real runs, so that they cannot drift.

    python -m benchmarks.readme_tables            # rewrite every generated block of README.md
    python -m benchmarks.readme_tables --check    # exit 1 and name the blocks that differ (tests run this)

A generated block sits between `<!-- table: NAME -->` and `<!-- /table -->`; NAME picks the generator below and
the results file it reads (docs/results/*/metrics.json from `matcher evaluate`, benchmarks/results/*.json from
the benchmarks). Re-running a command that writes one of those files and then this script updates the README.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.reporting import table

__all__ = ["BLOCKS", "render", "main"]

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(r"(<!-- table: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)

# How the forward report's method keys read in the README, in the README's order.
_FORWARD_LABELS = {
    "engine": "**engine** (LightGBM over the retrieval top-200)",
    "engine_rerank_all": "engine, every job of the window re-ranked",
    "content_weights": "counsellor's hand weights, history blanked",
    "rule": "rule (hand weights over the same features)",
    "tfidf_char+location": "exact TF-IDF char 2-4-grams + same city / region bonus",
    "tfidf_word+location": "exact TF-IDF words 1-2 + same city / region bonus",
    "tfidf_word": "exact TF-IDF words 1-2",
    "tfidf_char": "exact TF-IDF char 2-4-grams",
    "popularity": "popularity (30 days before T)",
    "random": "random",
    "newest": "newest first",
}
_FORWARD_COLUMNS = (("ndcg@10", "mean", "NDCG@10"), ("ndcg@10", "std", "sd"),
                    ("ndcg@10", "min_origin", "worst origin"), ("recall@10", "mean", "Recall@10"),
                    ("recall@100", "mean", "Recall@100"))


def _load(relative: str) -> dict[str, Any]:
    return json.loads((ROOT / relative).read_text(encoding="utf-8"))


def _forward(relative: str, engine: str = "engine", population: str = "profiled") -> str:
    """Mean, sd and worst origin over the runs of a forward report, best of each column in bold, and its verdict."""
    metrics = _load(relative)
    summary, verdict = metrics["summary"][population], metrics["verdict"][population]
    methods = sorted(summary["ndcg@10"], key=lambda m: -summary["ndcg@10"][m]["mean"])
    best = {(metric, stat): max(summary[metric][m][stat] for m in methods)
            for metric, stat, _ in _FORWARD_COLUMNS if stat != "std"}

    def cell(method: str, metric: str, stat: str) -> str:
        value = summary[metric][method][stat]
        text = f"{value:.3f}" if stat == "std" else f"{value:.4f}"
        return f"**{text}**" if best.get((metric, stat)) == value else text

    labels = _FORWARD_LABELS if engine == "engine" else {
        **_FORWARD_LABELS, "engine": engine, "engine_rerank_all": "the same, every job of the window re-ranked"}
    body = [[labels.get(m, m), *(cell(m, metric, stat) for metric, stat, _ in _FORWARD_COLUMNS)]
            for m in methods]
    runs = f"{len(metrics['origins'])} origins x {len(metrics['seeds'])} seeds"
    name = engine.split("(")[0].strip("* ")
    line = (f"{population} seekers, {runs}: {name} NDCG@10 {verdict['engine_ndcg@10']:.4f} = "
            f"**{verdict['ratio']:.2f}x** the best baseline ({verdict['best_baseline']} "
            f"{verdict['best_baseline_ndcg@10']:.4f}); above it at every origin: "
            f"{'yes' if verdict['engine_wins_every_origin'] else 'no'}; Recall@100 {verdict['engine_recall@100']:.4f} "
            f"against {verdict['best_baseline_recall@100']:.4f} ({verdict['best_recall_baseline']}).")
    return table(["method", *(label for _, _, label in _FORWARD_COLUMNS)], body, "lrrrrr") + "\n\n" + line


_SPLIT_LABELS = {
    "lightgbm": "**lightgbm**", "rule": "rule (hand-written weights, same candidates)",
    "popularity": "popularity (last 30 days)", "newest": "newest first",
    "text_similarity": "text similarity (exact TF-IDF)", "random": "random",
}
_SPLIT_COLUMNS = (("ndcg@10", "NDCG@10"), ("recall@10", "Recall@10"), ("recall@100", "Recall@100"),
                  ("map@100", "MAP@100"), ("mrr", "MRR"))


def _time_split(relative: str) -> str:
    """A `matcher evaluate` report: each method's metrics (best in bold) and NDCG@10 by kind of seeker."""
    metrics = _load(relative)
    results = metrics["results"]
    methods = sorted(results, key=lambda m: -results[m]["ndcg@10"])
    best = {key: max(results[m][key] for m in methods) for key, _ in _SPLIT_COLUMNS}
    body = [[_SPLIT_LABELS.get(m, m), *(f"**{results[m][k]:.4f}**" if results[m][k] == best[k] else
                                        f"{results[m][k]:.4f}" for k, _ in _SPLIT_COLUMNS)] for m in methods]
    sizes, segments = metrics["segment_sizes"], metrics["ndcg@10_by_segment"]
    line = (f"Model {metrics['model_version']}; {metrics['n_queries']:,} test seekers, {metrics['n_open_jobs']:,} "
            f"open jobs, {metrics['n_truth_pairs']:,} relevant pairs. NDCG@10 by kind of seeker, lightgbm / rule: "
            + "; ".join(f"{s} ({sizes[s]:,}) {segments['lightgbm'][s]:.4f} / {segments['rule'][s]:.4f}"
                        for s in ("with history", "profile only", "cold start") if sizes.get(s)) + ".")
    return table(["method", *(label for _, label in _SPLIT_COLUMNS)], body, "lrrrrr") + "\n\n" + line


def _service(relative: str = "benchmarks/results/service.json") -> str:
    """Per catalogue size and setup (backend, replicas): the 1-caller p50, then p50 / p99 / requests per second
    with 16 callers and upserts, as a share of the gRPC floor of the same run, and recall against exact."""
    body = []
    for size in _load(relative)["sizes"]:
        catalogue = f"{round(size['jobs'] / 1000):,}k jobs ({round(size['n_open_jobs'] / 1000):,}k open)"
        base, load = list(size["medians"].values())[:2]
        floor = size.get("floor", {}).get("16 callers", {}).get("rps")
        recall = size.get("recall_vs_exact")
        body.append([catalogue.replace("1,000k jobs", "1M jobs"), size.get("label", "exact"),
                     f"{base['p50_ms']:.0f} ms", f"{load['p50_ms']:.0f} ms", f"{load['p99_ms']:.0f} ms",
                     f"{load['rps']:.0f}", f"{load['rps'] / floor:.2f} of {floor:,.0f}" if floor else "",
                     "" if recall is None else f"{recall:.3f}"])
    return table(["catalogue", "setup", "1 caller p50", "16 callers + upserts p50", "p99", "requests/s",
                  "of the gRPC floor (req/s)", "top-20 recall vs exact"], body, "llrrrrrr")


BLOCKS: dict[str, Callable[[], str]] = {
    "forward-us": lambda: _forward("docs/results/forward-us/metrics.json"),
    "forward-us-day-one": lambda: _forward("docs/results/forward-us-day-one/metrics.json",
                                           engine="**day-one model** (shipped; none of this board's events)"),
    "service": _service,
    "time-split-us": lambda: _time_split("docs/results/time-split-us/metrics.json"),
}


def render(readme: str) -> tuple[str, list[str]]:
    """`readme` with every generated block rewritten, and the names of the blocks whose text changed."""
    changed: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in BLOCKS:
            raise SystemExit(f"README.md: no generator for the block {name!r} (known: {', '.join(BLOCKS)})")
        body = BLOCKS[name]().rstrip("\n") + "\n"
        if body != match["body"]:
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return _BLOCK.sub(fill, readme), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a block differs")
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args(argv)
    path = Path(args.readme)
    text, changed = render(path.read_text(encoding="utf-8"))
    if args.check:
        if changed:
            print(f"{path.name}: generated tables differ from the results files: {', '.join(changed)} "
                  "(run `python -m benchmarks.readme_tables`)", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"{path.name}: {len(changed)} block(s) rewritten{': ' + ', '.join(changed) if changed else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
