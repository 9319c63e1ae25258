"""report.md, audit.json and exposure plots for `matcher audit` (the numbers come from matcher.policy.audit).

Kept apart from the computation so that the audit's logic reads in one file and what people read in another.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # reports are written on servers with no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from models.report import markdown_table  # noqa: E402

__all__ = ["write_audit_report", "json_safe"]

_PRIORITY_PLOT = "exposure_priority.png"
_PROTECTED_PLOT = "exposure_protected.png"
# Group values are often Chinese (hukou provinces, 未婚 / 已婚); servers often have no CJK font. The first of these
# that is installed draws them; with none, such labels are numbered in the plots (the tables keep the names).
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
              "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC")


def _cjk_font() -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


def _tick_labels(names: list[str], cjk: str | None) -> list[str]:
    if cjk is not None:
        return names
    return [name if name.isascii() else f"{name.split(':')[0]}: #{i + 1}" for i, name in enumerate(names)]


def json_safe(value: Any) -> Any:
    """`value` with NaN / inf replaced by None and numpy scalars as Python numbers, for strict JSON."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _rows(by_dim: Mapping[str, Mapping[str, Mapping[str, Any]]], kinds: Mapping[str, str], kind: str | None = None
          ) -> dict[str, Mapping[str, Any]]:
    return {f"{dim}: {label}": cell for dim, labels in by_dim.items() if kind is None or kinds.get(dim) == kind
            for label, cell in labels.items()}


def _exposure_plot(rows: Mapping[str, Mapping[str, Any]], path: Path, title: str) -> None:
    names = list(rows)
    has_after = any("exposure_after" in r for r in rows.values())
    series = [("before policy" if has_after else "model top k", "exposure_before")]
    if has_after:
        series.append(("after policy", "exposure_after"))
    cjk = _cjk_font()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.4 * len(names) + 2), 4.5))
    width = 0.8 / len(series)
    for i, (label, key) in enumerate(series):
        values = [rows[n].get(key) or 0.0 for n in names]
        ax.bar([j + i * width for j in range(len(names))], values, width, label=label)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], _tick_labels(names, cjk), rotation=40,
                  ha="right", fontsize=8)
    if cjk is not None:
        for tick in ax.get_xticklabels():
            tick.set_fontfamily(["DejaVu Sans", cjk])
    ax.set_ylabel("exposure (1 = share of seekers)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _group_section(s: Mapping[str, Any]) -> list[str]:
    n = s["seekers"]
    sizes = {f"{dim}: {label}": {"seekers": count, "share": count / n if n else 0.0}
             for dim, labels in s["groups"].items() for label, count in labels.items()}
    out = ["## Groups", ""]
    if s["protected_columns"]:
        out.append("Protected columns audited: " + ", ".join(s["protected_columns"]) + ".")
    else:
        out.append("**No protected column in seekers.csv could be audited**: exposure and quality by gender, age, "
                   "hukou etc. cannot be reported for this data.")
    out += [f"- {column}: skipped, {why}." for column, why in s["skipped_columns"].items()]
    out += [f"- {dim}: {note}." for dim, note in s["group_notes"].items()]
    out.append("")
    out.append("Priority groups: " + (", ".join(s["priority_groups"]) if s["priority_groups"] else
                                      "**none** (no seeker has a priority group and no policy was given)") + ".")
    if sizes:
        out += ["", markdown_table(sizes, ["seekers", "share"], first="group")]
    out.append("")
    return out


def _employer_section(s: Mapping[str, Any], directory: Path) -> list[str]:
    e, kinds = s["employer_side"], s["group_kinds"]
    policy = s["policy"]
    out = ["## Employer side: seekers recommended to jobs (用人推荐)", "",
           f"Top {s['k']} seekers for {e['jobs']:,} open jobs; exposure = a group's share of list slots / its share "
           "of seekers (1.0 = proportional)."]
    if e["policy_lists"] is not None:
        p = e["policy_lists"]
        out.append(f"Priority policy (groups {', '.join(policy['groups'])}, min share {policy['min_share']:g}): "
                   f"{p['slots_added']:,} slots appended to {p['lists_with_slots']:,} of {p['lists']:,} lists; share "
                   f"met in {p['lists_share_met']:,}, short of priority candidates in "
                   f"{p['lists_short_of_priority_candidates']:,}, failing in {p['lists_failing']:,}.")
    elif policy is not None:
        out.append("The priority policy given is disabled: no slots appended.")
    columns = ["seeker_share", "slot_share_before", "exposure_before"]
    if e["policy_lists"] is not None:
        columns += ["slot_share_after", "exposure_after"]
    rows = _rows(e["by_group"], kinds)
    if rows:
        out += ["", markdown_table(rows, columns, first="group"), ""]
    for kind, name, title in (("priority", _PRIORITY_PLOT, "Employer-side exposure by priority group"),
                              ("protected", _PROTECTED_PLOT, "Employer-side exposure by protected group")):
        kind_rows = _rows(e["by_group"], kinds, kind)
        if kind_rows:
            _exposure_plot(kind_rows, directory / name, title)
            out += [f"![{title}]({name})", ""]
            if _cjk_font() is None and not all(label.isascii() for label in kind_rows):
                out += ["(No CJK font on this machine: in the plot, a group with a Chinese name is labelled "
                        "'column: #n', the n-th bar; bars follow the table's order.)", ""]
    return out


def _quality_section(s: Mapping[str, Any]) -> list[str]:
    q = s["quality"]
    out = ["## Quality: NDCG@10 on the held-out window", ""]
    if not q["available"]:
        return [*out, f"Unavailable: {q['reason']}.", ""]
    out.append(f"{q['queries']:,} seekers with a positive event from {q['test_start']} to {q['test_end']}; "
               f"NDCG@10 over all of them {q['ndcg@10']:.4f}.")
    rows = _rows(q["by_group"], s["group_kinds"])
    if rows:
        out += ["", markdown_table(rows, ["queries", "ndcg@10"], first="group")]
    return [*out, ""]


def _counterfactual_section(s: Mapping[str, Any]) -> list[str]:
    cf = s["counterfactual"]
    out = ["## Counterfactual: change one protected attribute, nothing else", "",
           "Each row is a copy of the seekers with one protected column changed, or with statements of protected facts "
           "written into their free text (how resumes carry them even where a platform stores no such column).", ""]
    rows = {f"{column} ({c['how']})": c for column, c in cf.items()}
    out += [markdown_table(rows, ["rows_changed", "seekers", "seekers_top_k_changed", "seeker_max_abs_score_diff",
                                  "job_lists", "job_lists_top_k_changed", "job_max_abs_score_diff"],
                           first="column", digits=6), ""]
    out.append("**Rankings moved when a protected attribute changed: the model depends on it.**" if s["rankings_moved"]
               else "No ranking moved: neither seekers' job lists nor jobs' seeker lists depend on these attributes.")
    return [*out, ""]


def write_audit_report(directory: Path, summary: Mapping[str, Any]) -> Path:
    """Write report.md, audit.json and the exposure plots into `directory`; returns the report.md path."""
    directory.mkdir(parents=True, exist_ok=True)
    s = json_safe(summary)
    policy = s["policy"]
    parts = [f"# Fairness audit of model {s['model_version']}", "",
             f"- As of {s['as_of']}: {s['seekers']:,} seekers, {s['open_jobs']:,} open jobs, k = {s['k']}, "
             f"{s['n_candidates']} retrieval candidates.",
             "- Policy: " + ("none given" if policy is None else
                             f"{'enabled' if policy['enabled'] else 'disabled'}, groups {', '.join(policy['groups'])}, "
                             f"min share {policy['min_share']:g}") + ".", ""]
    parts += _group_section(s)
    seeker_rows = _rows(s["seeker_side"], s["group_kinds"])
    parts += ["## Seeker side: jobs recommended to seekers", "",
              f"full_k_share: share of seekers given {s['k']} jobs; mean_top_score: model score of rank 1; mean_km: "
              "distance to recommended jobs where both places are known; salary_meets_share: recommended jobs whose "
              "pay meets or exceeds the expectation, of those where both are known."]
    if seeker_rows:
        parts += ["", markdown_table(seeker_rows, ["seekers", "full_k_share", "mean_top_score", "mean_km",
                                                   "salary_meets_share"], first="group")]
    parts.append("")
    parts += _employer_section(s, directory)
    parts += _quality_section(s)
    parts += _counterfactual_section(s)
    path = directory / "report.md"
    _write_atomic(path, "\n".join(parts).rstrip() + "\n")
    _write_atomic(directory / "audit.json", json.dumps(s, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path
