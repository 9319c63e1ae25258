"""The forward protocol's report: aggregates over origins and seeds, the verdict against the best baseline, the
plot and report.md's sections (the runs themselves come from matcher.offline.forward)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from matcher.offline.evaluation import SEGMENTS
from models.report import markdown_table

__all__ = ["BASELINES", "aggregate", "verdict", "plot_forward", "report_sections"]


def _values(runs: list[dict[str, Any]], name: str, population: str, metric: str) -> dict[str, list[float]]:
    """origin -> the metric of every seed's run there."""
    out: dict[str, list[float]] = {}
    for r in runs:
        if population in r["methods"].get(name, {}):
            out.setdefault(r["origin"], []).append(float(r["methods"][name][population][metric]))
    return out


def aggregate(runs: list[dict[str, Any]], population: str, metric: str) -> dict[str, dict[str, float]]:
    """Per method: mean and standard deviation over every (origin, seed) run, min and max over origin means."""
    out = {}
    for name in runs[0]["methods"]:
        by_origin = _values(runs, name, population, metric)
        if by_origin:
            flat = [v for vs in by_origin.values() for v in vs]
            origin_means = [float(np.mean(vs)) for vs in by_origin.values()]
            out[name] = {"mean": float(np.mean(flat)), "std": float(np.std(flat)),
                         "min_origin": min(origin_means), "max_origin": max(origin_means)}
    return out


BASELINES = ("tfidf_char", "tfidf_word", "tfidf_char+location", "tfidf_word+location", "popularity", "newest",
             "random", "rule")


def verdict(runs: list[dict[str, Any]], population: str) -> dict[str, Any]:
    """Engine against the best baseline: the ratio of means, and whether it beats every baseline at every origin."""
    ndcg = {name: _values(runs, name, population, "ndcg@10") for name in runs[0]["methods"]}
    recall = {name: _values(runs, name, population, "recall@100") for name in runs[0]["methods"]}

    def mean(table: dict[str, list[float]]) -> float:
        return float(np.mean([v for vs in table.values() for v in vs]))

    baselines = [b for b in BASELINES if ndcg.get(b)]
    best = max(baselines, key=lambda b: mean(ndcg[b]))
    best_recall = max(baselines, key=lambda b: mean(recall[b]))
    per_origin = {o: float(np.mean(vs)) / max(max(float(np.mean(ndcg[b][o])) for b in baselines), 1e-12)
                  for o, vs in ndcg["engine"].items()}
    engine = mean(ndcg["engine"])
    return {"population": population, "best_baseline": best, "engine_ndcg@10": engine,
            "best_baseline_ndcg@10": mean(ndcg[best]), "ratio": engine / max(mean(ndcg[best]), 1e-12),
            "engine_wins_every_origin": all(r > 1 for r in per_origin.values()), "per_origin_ratio": per_origin,
            "engine_recall@100": mean(recall["engine"]), "best_baseline_recall@100": mean(recall[best_recall]),
            "best_recall_baseline": best_recall}


def plot_forward(runs: list[dict[str, Any]], population: str, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate(runs, population, "ndcg@10")
    names = sorted(agg, key=lambda n: -agg[n]["mean"])
    origins = sorted({r["origin"] for r in runs})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.barh(names[::-1], [agg[n]["mean"] for n in names[::-1]], xerr=[agg[n]["std"] for n in names[::-1]],
              color=["tab:red" if n.startswith("engine") else "tab:gray" for n in names[::-1]])
    left.set_xlabel("NDCG@10, mean ± sd over origins x seeds")
    for name in names[:6]:
        ys = [np.mean([r["methods"][name][population]["ndcg@10"] for r in runs
                       if r["origin"] == o and population in r["methods"][name]]) for o in origins]
        right.plot([o[:10] for o in origins], ys, marker="o", label=name)
    right.set_ylabel("NDCG@10 (mean over seeds)")
    right.set_xlabel("origin")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report_sections(runs: list[dict[str, Any]], summary: dict[str, Any], verdicts: dict[str, Any], *,
                    window_days: float, n_candidates: int) -> list[str]:
    """report.md's sections: the verdicts, a table per population and one per origin."""
    lines = ["![forward](forward.png)", "",
             "Train on what was known before each origin T, match the seekers active in "
             f"[T, T+{window_days:g}d) against that window's jobs with none of its events known; every "
             "method ranks the same queries over the same jobs. "
             f"engine re-ranks the retrieval top-{n_candidates}; engine_rerank_all re-ranks every job. "
             "Location bonuses of the +location baselines are tuned on the last window before T.", ""]
    for population, v in verdicts.items():
        lines += [f"**{population} seekers**: engine NDCG@10 {v['engine_ndcg@10']:.4f} vs best baseline "
                  f"({v['best_baseline']}) {v['best_baseline_ndcg@10']:.4f}: {v['ratio']:.2f}x; above the best "
                  f"baseline at every origin: {v['engine_wins_every_origin']}; Recall@100 {v['engine_recall@100']:.4f} "
                  f"vs {v['best_baseline_recall@100']:.4f} ({v['best_recall_baseline']}).", ""]
    for population, metrics in summary.items():
        rows = {name: {f"{m} mean": metrics[m][name]["mean"] for m in metrics if name in metrics[m]}
                | {"ndcg@10 sd": metrics["ndcg@10"][name]["std"],
                   "ndcg@10 worst origin": metrics["ndcg@10"][name]["min_origin"]}
                for name in sorted(metrics["ndcg@10"], key=lambda n: -metrics["ndcg@10"][n]["mean"])}
        lines += [f"## {population} seekers", "",
                  markdown_table(rows, ["ndcg@10 mean", "ndcg@10 sd", "ndcg@10 worst origin", "recall@10 mean",
                                        "recall@100 mean"]), ""]
    per_origin: dict[str, dict[str, Any]] = {}
    for r in runs:
        row = per_origin.setdefault(r["origin"][:10], {"profiled queries": r["n_queries"] - r["segments"][SEGMENTS[2]],
                                                       "jobs": r["n_jobs"]})
        for name in ("engine", "engine_rerank_all", "tfidf_char+location", "tfidf_word+location", "rule"):
            pop = "profiled" if "profiled" in r["methods"][name] else "all"
            row.setdefault(name, []).append(r["methods"][name][pop]["ndcg@10"])
        row.setdefault("retrieval recall", []).append(r["retrieval_recall@n"]["retrieval"])
        row.setdefault("tfidf_char+loc recall", []).append(r["retrieval_recall@n"]["tfidf_char+location"])
    table = {o: {k: (float(np.mean(v)) if isinstance(v, list) else v) for k, v in row.items()}
             for o, row in per_origin.items()}
    lines += ["## Per origin (profiled seekers, NDCG@10 mean over seeds; recall of relevant pairs at depth n)", "",
              markdown_table(table, ["profiled queries", "jobs", "engine", "engine_rerank_all", "tfidf_char+location",
                                     "tfidf_word+location", "rule", "retrieval recall", "tfidf_char+loc recall"],
                             first="origin"), ""]
    return lines
