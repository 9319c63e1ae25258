"""`matcher evaluate`: the model and the baselines on one time split, one report."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import Catalogue
from features.history import Snapshot
from features.pairs import pair_features
from matcher.data import Dataset, fingerprint_folder, parse_time
from matcher.engine.matching import CandidateGenerator, open_job_mask, rank_candidates
from matcher.engine.scoring import build_view, score_pairs
from matcher.errors import MatcherError
from matcher.schema import EVENT_GRADES
from models.baselines import (
    newest_scores,
    popularity_scores,
    random_scores,
    rule_scores,
    text_similarity_top_k,
)
from models.metrics import paired_difference, per_query_ndcg, ranking_metrics, recall_curve, top_k_rows
from models.registry import ModelBundle
from models.report import markdown_table, write_report

__all__ = ["evaluate", "challenger_wins", "resolve_test_start", "seeker_segments", "SEGMENTS"]

_log = logging.getLogger(__name__)
_K = 100
_RECALL_DEPTHS = (50, 100, 200, 500)


def resolve_test_start(bundle: ModelBundle, data: Dataset, test_start: str | None) -> pd.Timestamp:
    """Explicit --test-start; else the model's own hold-out if it was trained on this folder; else all events."""
    if test_start:
        return parse_time(test_start, "--test-start")
    training = bundle.meta.get("training", {})
    same_data = data.root is not None and bundle.meta.get("data_fingerprint") == fingerprint_folder(data.root)
    if same_data and training.get("test_start"):  # a day-one model of a folder without events has none
        start = pd.Timestamp(training["test_start"])
        if start > data.events["timestamp"].max():
            raise MatcherError("the model was trained on every event in this folder (--holdout-days 0): "
                               "nothing is left to evaluate on; retrain with a hold-out or pass later data")
        return start
    return data.events["timestamp"].min()


def _frame(queries: np.ndarray, jobs: np.ndarray) -> pd.DataFrame:
    m, k = jobs.shape
    ok = jobs.ravel() >= 0
    return pd.DataFrame({"seeker_id": np.repeat(queries, k)[ok], "job_id": jobs.ravel()[ok],
                         "rank": np.tile(np.arange(1, k + 1), m)[ok]})


def evaluate(bundle: ModelBundle, data: Dataset, report_dir: str | Path, *, test_start: str | None = None,
             n_candidates: int = 200, seed: int = 0, challenger: ModelBundle | None = None) -> dict[str, Any]:
    """The model and the baselines on one hold-out window; with `challenger`, both models side by side (A = the
    model, B = the challenger) on a window neither was trained on, with a paired significance estimate."""
    start = resolve_test_start(bundle, data, test_start)
    if challenger is not None and not test_start:
        start = max(start, resolve_test_start(challenger, data, None))
    ev = data.events
    end = ev["timestamp"].max() + pd.Timedelta(seconds=1)
    window = ev[(ev["timestamp"] >= start) & (ev["grade"] > 0) & (ev["seeker_idx"] >= 0) & (ev["job_idx"] >= 0)]
    if window.empty:
        raise MatcherError(f"no positive events from {start:%Y-%m-%d %H:%M} on: nothing to evaluate")
    # Metrics key rows by catalogue position: seeker_id / job_id below hold seeker_idx / job_idx.
    truth = pd.DataFrame(window.groupby(["seeker_idx", "job_idx"])["grade"].max()).reset_index()
    truth.columns = pd.Index(["seeker_id", "job_id", "grade"])
    queries = np.unique(truth["seeker_id"].to_numpy())
    cat, snap, generator = _view(bundle, data, start, end)
    open_idx = generator.open_idx
    _log.info("evaluating %d seekers over %d open jobs from %s", len(queries), len(open_idx), start)

    models = {"lightgbm": bundle} if challenger is None else {f"A {bundle.version}": bundle,
                                                               f"B {challenger.version}": challenger}
    recs: dict[str, np.ndarray] = {}
    for name, model in models.items():
        view = (cat, snap, generator) if model is bundle else _view(model, data, start, end)
        recs[name] = rank_candidates(model, *view, queries, _K, n_candidates).job_idx
    if challenger is None and bundle.employer is not None:  # two-way fit: the seeker side alone beside it
        recs["seeker_side_only"] = rank_candidates(replace(bundle, employer=None), cat, snap, generator, queries,
                                                   _K, n_candidates).job_idx
    recs.update(_baseline_lists(bundle, data, cat, snap, generator, queries, n_candidates, seed))

    segment = seeker_segments(data, snap, queries)
    results, curves, by_segment, per_query = {}, {}, {}, {}
    for name, jobs in recs.items():
        frame = _frame(queries, jobs)
        results[name] = ranking_metrics(frame, truth, catalogue_size=len(open_idx), ks=(10, 100))
        curves[name] = recall_curve(frame, truth, ks=[1, 2, 5, 10, 20, 50, 100])
        per_query[name] = per_query_ndcg(frame, truth, 10).reindex(queries, fill_value=0.0).to_numpy()
        by_segment[name] = {label: float(per_query[name][segment == label].mean()) for label in SEGMENTS
                            if (segment == label).any()}
    placements = _placements(recs, queries, truth, len(open_idx))
    retrieval = retrieval_recall_vs_exhaustive(bundle, cat, snap, generator, queries, seed=seed)
    extra = {"test_start": start.isoformat(), "test_end": end.isoformat(), "n_queries": int(len(queries)),
             "n_open_jobs": int(len(open_idx)), "n_truth_pairs": int(len(truth)), "model_version": bundle.version,
             "retrieval_recall_of_exhaustive_top10": retrieval, "n_candidates": n_candidates,
             "ndcg@10_by_segment": by_segment, "placements": placements,
             "segment_sizes": {label: int((segment == label).sum()) for label in SEGMENTS}}
    notes = [
        f"Test window {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC: {len(queries):,} seekers with a positive "
        f"event, {len(open_idx):,} open jobs, {len(truth):,} relevant pairs. Features use only earlier events.",
        f"{' and '.join(models)} and rule re-rank the same top-{n_candidates} retrieval candidates; random, "
        "popularity, newest and text_similarity rank every open job.",
        "Retrieval recall: share of the model's exhaustive top-10 (all open jobs scored) found in the retrieval "
        "top-N: " + ", ".join(f"N={n}: {r:.3f}" for n, r in retrieval.items()),
    ]
    sections = _segment_sections(by_segment, extra["segment_sizes"], placements)
    title = f"Evaluation of model {bundle.version}"
    if challenger is not None:
        names = list(models)
        extra["comparison"] = {"a": bundle.version, "b": challenger.version, "metric": "ndcg@10",
                               **paired_difference(per_query[names[0]], per_query[names[1]], seed=seed)}
        title = f"Model {bundle.version} (A) against {challenger.version} (B)"
        sections = _comparison_section(Path(report_dir), extra["comparison"], per_query[names[0]],
                                       per_query[names[1]], segment) + sections
    report = write_report(Path(report_dir), title=title, results=results, curves=curves, notes=notes,
                          extra_json=extra, sections=sections)
    return {"results": results, "report": str(report), **extra}


def challenger_wins(comparison: dict[str, Any], margin: float) -> tuple[bool, str]:
    """The promotion rule: B replaces A when its NDCG@10 is at least (1 + margin) times A's and the 95% interval
    of the paired difference lies above zero (a gain the queries can tell from noise); the reason in words."""
    a, b, low = comparison["mean_a"], comparison["mean_b"], comparison["ci_low"]
    facts = (f"NDCG@10 {b:.4f} against {a:.4f} ({b / a - 1:+.1%}), paired 95% interval of the difference "
             f"[{low:+.4f}, {comparison['ci_high']:+.4f}], p {comparison['p_value']:.3g}" if a > 0 else
             f"NDCG@10 {b:.4f} against {a:.4f}")
    if b < a * (1 + margin):
        return False, f"{facts}: below the margin of {margin:.1%}"
    if low <= 0:
        return False, f"{facts}: the gain is inside the noise"
    return True, facts


def _view(bundle: ModelBundle, data: Dataset, start: pd.Timestamp, end: pd.Timestamp
          ) -> tuple[Catalogue, Snapshot, CandidateGenerator]:
    """What `bundle` sees of the window: its own encoder's catalogue, the history before `start`, the open jobs."""
    cat, snap = build_view(data, bundle.encoder, history_until=start, as_of=end)
    return cat, snap, CandidateGenerator(cat, snap, open_job_mask(cat, start, end))


def _baseline_lists(bundle: ModelBundle, data: Dataset, cat: Catalogue, snap: Snapshot,
                    generator: CandidateGenerator, queries: np.ndarray, n_candidates: int, seed: int
                    ) -> dict[str, np.ndarray]:
    """Each baseline's top-_K job rows per query: random, popularity, newest and text similarity over every open
    job, the rule over the model's retrieval candidates."""
    open_idx = generator.open_idx
    recs = {"random": open_idx[top_k_rows(random_scores(len(queries), len(open_idx), seed), _K)],
            "popularity": open_idx[top_k_rows(popularity_scores(snap.job_popularity[open_idx], len(queries), seed),
                                              _K)],
            "newest": open_idx[top_k_rows(newest_scores(cat.job_posted_ns[open_idx], len(queries), seed), _K)]}
    seeker_text = (data.seekers["text"] + " " + data.seekers["desired_occupations"]).to_numpy(dtype=object)
    job_text = (data.jobs["title"] + " " + data.jobs["text"]).to_numpy(dtype=object)
    recs["text_similarity"] = open_idx[text_similarity_top_k(
        bundle.encoder.sparse(seeker_text[queries]), bundle.encoder.sparse(job_text[open_idx]), _K)]
    cand = generator.candidates(cat, snap, queries, max(n_candidates, _K))
    rule = rule_scores(pair_features(cat, snap, np.repeat(queries, cand.shape[1]), cand.ravel()))
    recs["rule"] = np.take_along_axis(cand, top_k_rows(rule.reshape(cand.shape), _K), axis=1)
    return recs


def _segment_sections(by_segment: dict[str, dict[str, float]], sizes: dict[str, int],
                      placements: dict[str, dict[str, float]]) -> list[str]:
    segment_table = markdown_table(by_segment, [s for s in SEGMENTS if sizes[s]], first="NDCG@10 by seeker")
    sections = ["## By kind of seeker", "",
                "What each method can know differs: " + ", ".join(f"{s}: {sizes[s]:,} queries" for s in SEGMENTS)
                + ".", "", segment_table, ""]
    if placements:
        n_placed = int(next(iter(placements.values()))["queries"])
        sections += ["## Placements: interviews and hires only", "",
                     f"The same lists scored against the {n_placed:,} seekers whose test-window outcome went past an "
                     "application (interviewed or hired): what two-way fit is for.", "",
                     markdown_table(placements, ["queries", "ndcg@10", "recall@10", "recall@100"], first="method")]
    return sections


def _comparison_section(directory: Path, c: dict[str, Any], a: np.ndarray, b: np.ndarray, segment: np.ndarray
                        ) -> list[str]:
    """The paired comparison in words, a table and a plot of the per-query differences (paired.png)."""
    directory.mkdir(parents=True, exist_ok=True)
    _paired_plot(directory / "paired.png", a, b, segment, f"{c['a']} (A) vs {c['b']} (B)")
    verdict = ("B ranks better" if c["ci_low"] > 0 else "A ranks better" if c["ci_high"] < 0 else
               "no difference the queries can show")
    row = {"B - A": {"mean difference": c["difference"], "95% CI low": c["ci_low"], "95% CI high": c["ci_high"],
                     "p (sign-flip)": c["p_value"], "B wins": int(c["wins"]), "B loses": int(c["losses"]),
                     "ties": int(c["ties"])}}
    return ["## A against B, query by query", "",
            f"NDCG@10 over the same {int(c['queries']):,} queries: A ({c['a']}) {c['mean_a']:.4f}, "
            f"B ({c['b']}) {c['mean_b']:.4f}. Verdict at 95%: **{verdict}**.", "",
            markdown_table(row, list(row["B - A"]), first="NDCG@10"), "",
            "The interval resamples queries with their pair of scores kept together (scipy.stats.bootstrap, "
            "paired); the p-value is a paired sign-flip permutation test (scipy.stats.permutation_test).", "",
            "![paired](paired.png)", ""]


SEGMENTS = ("with history", "profile only", "cold start")


def _placements(recs: dict[str, np.ndarray], queries: np.ndarray, truth: pd.DataFrame, n_open: int
                ) -> dict[str, dict[str, float]]:
    """Each method's metrics on the interviewed / hired pairs alone; {} where the data has no such outcome."""
    accepted = truth[truth["grade"] >= EVENT_GRADES["interviewed"]]
    if accepted.empty:
        return {}
    out = {}
    for name, jobs in recs.items():
        m = ranking_metrics(_frame(queries, jobs), accepted, catalogue_size=n_open, ks=(10, 100))
        out[name] = {key: m[key] for key in ("queries", "ndcg@10", "recall@10", "recall@100")}
    return out


def seeker_segments(data: Dataset, snap: Snapshot, queries: np.ndarray) -> np.ndarray:
    """Per query: earlier events known, else a profile (text or wishes), else nothing at all."""
    written = data.seekers[["text", "desired_occupations", "skills"]].apply(lambda c: c.str.strip().ne(""))
    profile = written.any(axis=1).to_numpy()[queries]
    history = snap.n_hist[queries] > 0
    return np.where(history, SEGMENTS[0], np.where(profile, SEGMENTS[1], SEGMENTS[2]))


def retrieval_recall_vs_exhaustive(bundle: ModelBundle, cat: Any, snap: Any, generator: CandidateGenerator,
                                   queries: np.ndarray, *, sample: int = 200, seed: int = 0,
                                   max_pairs: int = 4_000_000) -> dict[int, float]:
    """Recall@N of retrieval against ranking every open job with the full model (top-10), on a query sample."""
    rng = np.random.default_rng(seed)
    open_idx = generator.open_idx
    sample = min(sample, len(queries), max(1, max_pairs // max(len(open_idx), 1)))
    picked = rng.choice(queries, sample, replace=False)
    scores = score_pairs(bundle, cat, snap, np.repeat(picked, len(open_idx)),
                         np.tile(open_idx, len(picked))).scores.reshape(sample, -1)
    exact = open_idx[top_k_rows(scores, 10)]
    cand = generator.candidates(cat, snap, picked, max(_RECALL_DEPTHS))
    out = {}
    for depth in _RECALL_DEPTHS:
        hits = [np.isin(exact[i], cand[i, :depth]).mean() for i in range(sample)]
        out[depth] = float(np.mean(hits))
    return out


def _paired_plot(path: Path, a: np.ndarray, b: np.ndarray, segment: np.ndarray, title: str) -> None:
    """Left: the distribution of per-query differences B - A; right: mean NDCG@10 of A and B by kind of seeker."""
    import matplotlib.pyplot as plt  # models.report has selected the Agg backend

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    diff = b - a
    moved = diff[diff != 0]
    left.hist(moved, bins=40, color="#4477aa")
    left.axvline(0, color="black", lw=0.8)
    left.set_xlabel("NDCG@10 of B - A, per query (ties left out)")
    left.set_ylabel("queries")
    left.set_title(f"{(diff > 0).sum():,} queries better, {(diff < 0).sum():,} worse, {(diff == 0).sum():,} equal",
                   fontsize=9)
    labels = [s for s in SEGMENTS if (segment == s).any()]
    x = np.arange(len(labels))
    for offset, (name, values) in zip((-0.2, 0.2), (("A", a), ("B", b)), strict=True):
        right.bar(x + offset, [values[segment == s].mean() for s in labels], 0.4, label=name)
    right.set_xticks(x, labels)
    right.set_ylabel("NDCG@10")
    right.legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
