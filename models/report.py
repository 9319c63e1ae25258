"""Reports people read: metrics.json for machines, report.md with tables and PNG plots for people."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # reports are written on servers with no display
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["write_report", "markdown_table"]

_BAR_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr")


def markdown_table(rows: Mapping[str, Mapping[str, float]], columns: Sequence[str], *, first: str = "method",
                   digits: int = 4) -> str:
    header = f"| {first} | " + " | ".join(columns) + " |"
    rule = "|---|" + "---:|" * len(columns)
    body = []
    for name, values in rows.items():
        cells = []
        for c in columns:
            v = values.get(c)
            cells.append("" if v is None else f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}")
        body.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *body])


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _bar_plot(results: Mapping[str, Mapping[str, float]], path: Path, title: str) -> None:
    metrics = [m for m in _BAR_METRICS if all(m in r for r in results.values())]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(results), 1)
    for i, (name, values) in enumerate(results.items()):
        ax.bar([j + i * width for j in range(len(metrics))], [values[m] for m in metrics], width, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(metrics))], metrics)
    ax.set_ylabel("score (higher is better)")
    ax.set_title(title, fontsize=10)  # the report's title names the model version: a plot read alone says whose
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Title": title})
    plt.close(fig)


def _curve_plot(curves: Mapping[str, Mapping[int, float]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in curves.items():
        ks = sorted(curve)
        ax.plot(ks, [curve[k] for k in ks], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("k (log scale)")
    ax.set_ylabel("recall@k")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(directory: Path, *, title: str, results: Mapping[str, Mapping[str, float]],
                 curves: Mapping[str, Mapping[int, float]] | None = None, notes: Sequence[str] = (),
                 extra_json: Mapping[str, Any] | None = None, sections: Sequence[str] = ()) -> Path:
    """Write metrics.json, report.md and PNG plots into `directory`; returns the report.md path."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(c for r in results.values() for c in r if c != "queries"))
    _bar_plot(results, directory / "metrics.png", title)
    parts = [f"# {title}", "", markdown_table(results, columns), "", "![metrics](metrics.png)", ""]
    if curves:
        _curve_plot(curves, directory / "recall_curve.png")
        parts += ["![recall@k](recall_curve.png)", ""]
    parts += [f"- {n}" for n in notes]
    parts += ["", *sections]
    _write_atomic(directory / "report.md", "\n".join(parts).rstrip() + "\n")
    payload = {"title": title, "results": results, "curves": curves or {}, **(extra_json or {})}
    _write_atomic(directory / "metrics.json", json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    return directory / "report.md"
