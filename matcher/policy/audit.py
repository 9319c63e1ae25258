"""`matcher audit`: exposure and recommendation quality per protected group and per priority group, and a
counterfactual test that changes one protected column at a time.

Public employment services must not discriminate by gender, age, hukou, marital status, ethnicity, health or
disability (就业促进法), and must serve priority groups (就业援助对象) first. The model never reads protected columns
(matcher.schema.PROTECTED_COLUMNS), but reading none can still give groups unequal results through correlated inputs
(place, education, history). The audit measures, rather than assumes:

- seeker side: what each group is recommended (full lists, model score, distance, salary against expectation);
- employer side (用人推荐): each group's share of the seekers recommended to open jobs against its share of all
  seekers, before and after the priority policy's appended slots (matcher.policy.priority);
- quality: NDCG@10 per group on the held-out window, as `matcher evaluate` computes it;
- counterfactual: a copy of the seekers with only one protected column changed, or with protected facts written
  into their free text, must give identical rankings.

Groups and counterfactual copies come from audit_groups; report.md / audit.json from audit_report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.history import build_snapshot
from matcher.data import Dataset
from matcher.engine.matching import (
    CandidateGenerator,
    MatchEngine,
    Recommendations,
    open_job_mask,
    rank_candidates,
    rank_seekers,
)
from matcher.engine.reasons import SALARY_ABOVE, SALARY_MEETS, SALARY_UNKNOWN, _reason_arrays
from matcher.engine.retrieval import Retriever
from matcher.errors import MatcherError
from matcher.offline.evaluation import resolve_test_start
from matcher.policy.audit_groups import (
    GroupDim,
    counterfactual_column,
    counterfactual_text,
    policy_members,
    present_protected_columns,
    priority_dim,
    protected_dims,
)
from matcher.policy.audit_report import write_audit_report
from matcher.policy.priority import PriorityPolicy, append_priority_slots
from matcher.progress import Progress
from matcher.schema import PROTECTED_COLUMNS
from models.metrics import per_query_ndcg
from models.registry import ModelBundle

__all__ = ["run_audit"]

_log = logging.getLogger(__name__)
_SEEKER_CHUNK = 20_000
_JOB_BLOCK = 512
_SCORE_BYTES = 1 << 28
_QUALITY_K = 10


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def _group_sums(dim: GroupDim, rows: np.ndarray, values: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per label of `dim`: the sums of `values` (one per entry of `rows`, which are seeker rows) over its members."""
    stacked = np.column_stack([np.asarray(v, dtype=np.float64) for v in values.values()])
    members = dim.members[rows]
    out = {}
    for g, label in enumerate(dim.labels):  # one label at a time: no (seekers x labels) float copy
        sums = stacked[members[:, g]].sum(axis=0)
        out[label] = {name: float(x) for name, x in zip(values, sums, strict=True)}
    return out


# ---- seeker side -------------------------------------------------------------------------------------------------
def _seeker_side(engine: MatchEngine, k: int, dims: Sequence[GroupDim]) -> dict[str, dict[str, dict[str, Any]]]:
    n = len(engine.data.seekers)
    per: dict[str, np.ndarray] = {name: np.zeros(n) for name in
                                  ("full", "top", "top_n", "km", "km_n", "meets", "salary_n")}
    progress = Progress("audit: jobs for seekers", n)
    for start in range(0, n, _SEEKER_CHUNK):
        rows = np.arange(start, min(start + _SEEKER_CHUNK, n), dtype=np.int64)
        recs = engine.recommend(rows, k)
        ok = recs.job_idx >= 0
        per["full"][rows] = ok.all(axis=1)
        per["top_n"][rows] = ~np.isnan(recs.scores[:, 0])
        per["top"][rows] = np.nan_to_num(recs.scores[:, 0])
        pair_s = np.repeat(rows, k).reshape(ok.shape)[ok]
        _, _, km, fit, _, _ = _reason_arrays(engine.catalogue, pair_s, recs.job_idx[ok])
        known_km = ~np.isnan(km)
        for name, weights in (("km", np.where(known_km, km, 0.0)), ("km_n", known_km),
                              ("meets", np.isin(fit, (SALARY_MEETS, SALARY_ABOVE))),
                              ("salary_n", fit != SALARY_UNKNOWN)):
            per[name] += np.bincount(pair_s, weights=np.asarray(weights, dtype=np.float64), minlength=n)
        progress.advance(len(rows))
    progress.close()
    everyone = np.arange(n)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for dim in dims:
        sums = _group_sums(dim, everyone, {"one": np.ones(n), **per})
        out[dim.name] = {label: {"seekers": int(s["one"]), "full_k_share": _ratio(s["full"], s["one"]),
                                 "mean_top_score": _ratio(s["top"], s["top_n"]), "mean_km": _ratio(s["km"], s["km_n"]),
                                 "salary_meets_share": _ratio(s["meets"], s["salary_n"])}
                         for label, s in sums.items()}
    return out


# ---- employer side -----------------------------------------------------------------------------------------------
def _seeker_index(engine: MatchEngine) -> Retriever:
    """The reverse index over every seeker, as service.live builds it."""
    rows = np.arange(len(engine.data.seekers), dtype=np.int64)
    return engine.generator.seeker_index(engine.catalogue, engine.snapshot, rows)


def _rank_jobs(engine: MatchEngine, index: Retriever, jobs: np.ndarray, depth: int,
               what: str) -> tuple[np.ndarray, np.ndarray]:
    """(seeker rows, model scores), (len(jobs), depth), best first: `rank_seekers` over every retrieved candidate."""
    cat, snap = engine.catalogue, engine.snapshot
    rows = np.full((len(jobs), depth), -1, dtype=np.int64)
    scores = np.full((len(jobs), depth), np.nan)
    progress = Progress(what, len(jobs))
    # Each query scores every seeker: blocks of jobs keep that (block x seekers) float32 matrix near 256 MB.
    step = max(1, min(_JOB_BLOCK, _SCORE_BYTES // (4 * max(index.n_items, 1))))
    for start in range(0, len(jobs), step):
        block = jobs[start:start + step]
        queries = engine.generator.job_queries(cat, snap, block)
        recs = rank_seekers(engine.bundle, cat, snap, index, queries, block, depth, engine.n_candidates)
        rows[start:start + len(block)], scores[start:start + len(block)] = recs.job_idx, recs.scores
        progress.advance(len(block))
    progress.close()
    return rows, scores


def _slot_counts(rows: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(rows[rows >= 0], minlength=n).astype(np.float64)


def _policy_lists(rows: np.ndarray, after: np.ndarray, added: np.ndarray, k: int, is_priority: np.ndarray,
                  min_share: float) -> dict[str, int]:
    """Per list: the guaranteed share is met, or every priority candidate beyond the top k was appended."""
    valid = after >= 0
    prio = np.zeros(after.shape, dtype=bool)
    prio[valid] = is_priority[after[valid]]
    listed = valid.sum(axis=1)
    met = (prio.sum(axis=1) >= min_share * listed - 1e-9) | (listed == 0)
    beyond = rows[:, k:]
    available = np.zeros(beyond.shape, dtype=bool)
    available[beyond >= 0] = is_priority[beyond[beyond >= 0]]
    exhausted = available.sum(axis=1) == added.sum(axis=1)
    return {"lists": len(rows), "lists_with_slots": int(added.any(axis=1).sum()), "slots_added": int(added.sum()),
            "lists_share_met": int(met.sum()), "lists_short_of_priority_candidates": int((~met & exhausted).sum()),
            "lists_failing": int((~met & ~exhausted).sum())}


def _employer_side(rows: np.ndarray, scores: np.ndarray, k: int, n_seekers: int, dims: Sequence[GroupDim],
                   policy: PriorityPolicy | None, is_priority: np.ndarray) -> dict[str, Any]:
    before = _slot_counts(rows[:, :k], n_seekers)
    after, lists = None, None
    if policy is not None and policy.enabled:
        out_rows, _, added = append_priority_slots(rows, scores, is_priority, k, policy.min_share)
        after = _slot_counts(out_rows, n_seekers)
        lists = _policy_lists(rows, out_rows, added, k, is_priority, policy.min_share)
    everyone = np.arange(n_seekers)
    by_group: dict[str, dict[str, dict[str, Any]]] = {}
    for dim in dims:
        values = {"one": np.ones(n_seekers), "before": before} | ({} if after is None else {"after": after})
        by_group[dim.name] = {}
        for label, s in _group_sums(dim, everyone, values).items():
            share = s["one"] / n_seekers if n_seekers else 0.0
            cell: dict[str, Any] = {"seekers": int(s["one"]), "seeker_share": share,
                                    "slot_share_before": _ratio(s["before"], before.sum())}
            cell["exposure_before"] = _ratio(cell["slot_share_before"] or 0.0, share)
            if after is not None:
                cell["slot_share_after"] = _ratio(s["after"], after.sum())
                cell["exposure_after"] = _ratio(cell["slot_share_after"] or 0.0, share)
            by_group[dim.name][label] = cell
    return {"jobs": len(rows), "slots_before": int(before.sum()),
            "slots_after": None if after is None else int(after.sum()), "policy_lists": lists, "by_group": by_group}


# ---- quality -----------------------------------------------------------------------------------------------------
def _quality(engine: MatchEngine, dims: Sequence[GroupDim], test_start: pd.Timestamp | None) -> dict[str, Any]:
    data, bundle = engine.data, engine.bundle
    positive = data.events[(data.events["grade"] > 0) & (data.events["seeker_idx"] >= 0)
                           & (data.events["job_idx"] >= 0)]
    if positive.empty:
        return {"available": False, "reason": "no positive events in the data"}
    if test_start is None:
        try:
            test_start = resolve_test_start(bundle, data, None)
        except MatcherError as exc:
            return {"available": False, "reason": str(exc)}
    start = test_start.tz_localize("UTC") if test_start.tzinfo is None else test_start
    end = data.events["timestamp"].max() + pd.Timedelta(seconds=1)
    window = positive[positive["timestamp"] >= start]
    if window.empty:
        return {"available": False, "reason": f"no positive events from {start:%Y-%m-%d %H:%M} on"}
    truth = window.groupby(["seeker_idx", "job_idx"])["grade"].max().reset_index()
    truth.columns = pd.Index(["seeker_id", "job_id", "grade"])
    queries = np.unique(truth["seeker_id"].to_numpy()).astype(np.int64)
    cat = engine.catalogue
    snap = build_snapshot(cat, data.events, history_until=start, as_of=end)
    generator = CandidateGenerator(cat, snap, open_job_mask(cat, start, end))
    jobs = rank_candidates(bundle, cat, snap, generator, queries, _QUALITY_K, engine.n_candidates).job_idx
    ok = jobs.ravel() >= 0
    frame = pd.DataFrame({"seeker_id": np.repeat(queries, _QUALITY_K)[ok], "job_id": jobs.ravel()[ok],
                          "rank": np.tile(np.arange(1, _QUALITY_K + 1), len(queries))[ok]})
    ndcg = per_query_ndcg(frame, truth, _QUALITY_K).reindex(queries, fill_value=0.0).to_numpy()
    by_group = {}
    for dim in dims:
        sums = _group_sums(dim, queries, {"one": np.ones(len(queries)), "ndcg": ndcg})
        by_group[dim.name] = {label: {"queries": int(s["one"]), "ndcg@10": _ratio(s["ndcg"], s["one"])}
                              for label, s in sums.items()}
    return {"available": True, "test_start": start.isoformat(), "test_end": end.isoformat(),
            "queries": len(queries), "ndcg@10": float(ndcg.mean()), "by_group": by_group}


# ---- counterfactual ----------------------------------------------------------------------------------------------
def _score_diff(a: np.ndarray, b: np.ndarray) -> float:
    both = ~np.isnan(a) & ~np.isnan(b)
    return float(np.abs(a[both] - b[both]).max(initial=0.0))


def _counterfactual_changes(seekers: pd.DataFrame) -> dict[str, tuple[str, pd.Series, str]]:
    """name -> (column, changed values, how): each protected column present, then the seekers' free text."""
    changes = {column: (column, *counterfactual_column(seekers[column], column))
               for column in present_protected_columns(seekers)}
    changes["text (protected statements)"] = ("text", *counterfactual_text(seekers["text"]))
    return changes


def _counterfactual(engine: MatchEngine, changes: dict[str, tuple[str, pd.Series, str]], sample: np.ndarray,
                    base: Recommendations, jobs: np.ndarray, base_jobs: tuple[np.ndarray, np.ndarray], k: int,
                    depth: int) -> dict[str, dict[str, Any]]:
    data, out = engine.data, {}
    progress = Progress("audit: counterfactual columns", len(changes))
    for name, (column, changed, how) in changes.items():
        seekers = data.seekers.copy()
        seekers[column] = changed.to_numpy()
        twin = MatchEngine(engine.bundle, Dataset(seekers=seekers, jobs=data.jobs, events=data.events, root=data.root),
                           as_of=engine.as_of, n_candidates=engine.n_candidates)
        recs = twin.recommend(sample, k)
        rows, scores = _rank_jobs(twin, _seeker_index(twin), jobs, depth, f"audit: counterfactual {name}")
        out[name] = {
            "how": how, "rows_changed": int((changed != data.seekers[column].fillna("").astype(str).str.strip()).sum()),
            "seekers": len(sample), "seekers_top_k_changed": int((recs.job_idx != base.job_idx).any(axis=1).sum()),
            "seeker_max_abs_score_diff": _score_diff(recs.scores, base.scores),
            "job_lists": len(jobs),
            "job_lists_top_k_changed": int((rows[:, :k] != base_jobs[0][:, :k]).any(axis=1).sum()),
            "job_max_abs_score_diff": _score_diff(scores[:, :k], base_jobs[1][:, :k])}
        progress.advance()
    progress.close()
    return out


def _sample(rng: np.random.Generator, rows: np.ndarray, at_most: int) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.int64)
    return rows if len(rows) <= at_most else np.sort(rng.choice(rows, at_most, replace=False))


def run_audit(bundle: ModelBundle, data: Dataset, report_dir: str | Path, *, k: int = 10, n_candidates: int = 200,
              policy: PriorityPolicy | None = None, test_start: pd.Timestamp | None = None, max_jobs: int = 2000,
              max_counterfactual: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Audit `bundle` on `data`; writes report.md, audit.json and PNG plots into `report_dir`, returns the summary.

    Employer-side lists are ranked for at most `max_jobs` open jobs and the counterfactual recomputes at most
    `max_counterfactual` seekers' lists (random samples drawn with `seed` when there are more)."""
    if k < 1:
        raise MatcherError(f"audit: k must be at least 1, got {k}")
    engine = MatchEngine(bundle, data, n_candidates=n_candidates)
    n = len(data.seekers)
    dims, skipped = protected_dims(data.seekers, engine.as_of)
    groups = priority_dim(data.seekers, policy)
    all_dims = [*dims, *([groups] if groups is not None else [])]
    rng = np.random.default_rng(seed)
    _log.info("auditing model %s: %d seekers, %d open jobs, %d group columns", bundle.version, n,
              len(engine.generator.open_idx), len(all_dims))

    seeker_side = _seeker_side(engine, k, all_dims)
    jobs = _sample(rng, engine.generator.open_idx, max_jobs)
    depth = max(n_candidates, k)  # rank_seekers scores every retrieved candidate anyway; the policy needs them
    ranked = _rank_jobs(engine, _seeker_index(engine), jobs, depth, "audit: seekers for jobs")
    employer_side = _employer_side(*ranked, k, n, all_dims, policy, policy_members(data.seekers, policy))
    quality = _quality(engine, all_dims, test_start)
    sample = _sample(rng, np.arange(n), max_counterfactual)
    counterfactual = _counterfactual(engine, _counterfactual_changes(data.seekers), sample,
                                     engine.recommend(sample, k), jobs, ranked, k, depth)

    summary: dict[str, Any] = {
        "model_version": bundle.version, "as_of": engine.as_of.isoformat(), "k": k, "n_candidates": n_candidates,
        "seekers": n, "open_jobs": len(engine.generator.open_idx),
        "policy": None if policy is None else {"enabled": policy.enabled, "groups": list(policy.groups),
                                               "min_share": policy.min_share},
        "protected_columns": [d.name for d in dims], "skipped_columns": skipped,
        "absent_protected_columns": sorted(PROTECTED_COLUMNS - set(data.seekers.columns)),
        "priority_groups": None if groups is None else [g for g in groups.labels],
        "groups": {d.name: d.sizes() for d in all_dims}, "group_notes": {d.name: d.note for d in all_dims if d.note},
        "group_kinds": {d.name: d.kind for d in all_dims},
        "seeker_side": seeker_side, "employer_side": employer_side, "quality": quality,
        "counterfactual": counterfactual,
        "rankings_moved": any(c["seekers_top_k_changed"] or c["job_lists_top_k_changed"]
                              for c in counterfactual.values()),
    }
    summary["report"] = str(write_audit_report(Path(report_dir), summary))
    return summary
