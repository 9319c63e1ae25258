"""`matcher evaluate --protocol forward`: the protocol the product lives by.

For each origin T (rolling, newest last): train on what was known before T (events, and jobs posted before T),
then match the seekers active in [T, T + W) against the jobs of that window (training.window_job_mask) with none
of the window's events known, and score against what they did. Every method ranks the same queries over the same
catalogue in the same run:

- engine: the trained model over the retrieval top-n (what `matcher batch` and the service do);
- engine_rerank_all: the same model over every job of the window (retrieval switched off), so that retrieval loss
  and ranking loss show apart;
- exact sparse TF-IDF cosine, char 2-4-grams and words 1-2 (scikit-learn, fitted on the catalogue's texts), each
  alone and with a same-city / same-region bonus whose two weights are tuned on the last window before T (the
  model's own validation window), so the baseline is as strong as the past can make it;
- popularity (events of the 30 days before T), newest first, random, and the hand rule.

Repeated over seeds (encoder + LightGBM), reported per origin, as mean and spread, and by kind of seeker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from features.catalogue import Catalogue
from features.history import Snapshot, build_snapshot
from features.pairs import FEATURE_NAMES, blank_history, pair_features
from matcher.data import Dataset, index_events
from matcher.engine.matching import CandidateGenerator, rank_candidates
from matcher.engine.scoring import build_view
from matcher.errors import MatcherError
from matcher.offline.day_one import train_day_one
from matcher.offline.evaluation import SEGMENTS, seeker_segments
from matcher.offline.forward_report import aggregate, plot_forward, report_sections, verdict
from matcher.offline.training import TrainConfig, train, window_job_mask
from matcher.progress import Progress
from models.baselines import newest_scores, popularity_scores, random_scores, rule_scores
from models.metrics import ranking_metrics, top_k_rows
from models.registry import ModelBundle
from models.report import write_report

__all__ = ["ForwardConfig", "forward_origins", "forward_evaluate", "LEXICAL_BASELINES", "LOCATION_GRID"]

_log = logging.getLogger(__name__)
_K = 100
LEXICAL_BASELINES = {"tfidf_char": dict(analyzer="char_wb", ngram_range=(2, 4)),
                     "tfidf_word": dict(analyzer="word", ngram_range=(1, 2))}
# Same-city and same-region bonuses tried for the lexical baselines (cosines live in [0, 1]).
LOCATION_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


@dataclass
class ForwardConfig:
    origins: Sequence[pd.Timestamp] = ()   # explicit origins; empty: the n_origins latest, stride_days apart
    n_origins: int = 3
    window_days: float = 14.0
    stride_days: float = 7.0
    seeds: Sequence[int] = (0, 1, 2)
    n_candidates: int = 200
    catalogue: str = "auto"
    train: TrainConfig | None = None       # None: TrainConfig's defaults (holdout_days is always 0 here)
    # The engine as on a platform's first day (matcher.offline.day_one): no event of the platform learnt from, and
    # the counsellor's hand weights (features.pairs.CONTENT_WEIGHTS, history blanked) ranked next to it.
    day_one: bool = False


def forward_origins(events: pd.DataFrame, config: ForwardConfig) -> list[pd.Timestamp]:
    """Origins T1 < ... < Tn: the last one leaves a whole window before the newest event."""
    if len(config.origins):
        return sorted(pd.Timestamp(t) for t in config.origins)
    positive = events.loc[events["grade"] > 0, "timestamp"]
    if positive.empty:
        raise MatcherError("events.csv has no positive events: the forward protocol has nothing to score")
    last = (positive.max() + pd.Timedelta(seconds=1) - pd.Timedelta(days=config.window_days)).floor("D")
    return [last - pd.Timedelta(days=config.stride_days) * i for i in range(config.n_origins)][::-1]


def _before(data: Dataset, origin: pd.Timestamp) -> Dataset:
    """What was known at `origin`: events before it and the jobs posted before it (seekers are registered)."""
    jobs = data.jobs[~(data.jobs["posted_at"] >= origin)].reset_index(drop=True)
    events = data.events[data.events["timestamp"] < origin].drop(columns=["seeker_idx", "job_idx"])
    return Dataset(seekers=data.seekers, jobs=jobs, events=index_events(events, data.seekers, jobs), root=None)


@dataclass
class _Window:
    """One origin's test set: queries, the window's jobs and the relevant pairs (catalogue rows)."""

    origin: pd.Timestamp
    end: pd.Timestamp
    queries: np.ndarray
    jobs: np.ndarray
    truth: pd.DataFrame          # seeker_id, job_id (catalogue rows), grade
    segment: np.ndarray          # per query, one of SEGMENTS


def _lexical_scorers(data: Dataset) -> dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """Exact TF-IDF cosine scorers, fitted on every seeker's and job's text (unsupervised, as a user would)."""
    seeker_text = (data.seekers["text"] + " " + data.seekers["desired_occupations"]).to_numpy(dtype=object)
    job_text = (data.jobs["title"] + " " + data.jobs["text"]).to_numpy(dtype=object)
    scorers = {}
    for name, kwargs in LEXICAL_BASELINES.items():
        vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, dtype=np.float32, **kwargs)  # type: ignore[arg-type]
        vectorizer.fit(np.concatenate([seeker_text, job_text]))
        scorers[name] = _cosine_scorer(vectorizer.transform(seeker_text), vectorizer.transform(job_text))
    return scorers


def _cosine_scorer(seekers: sp.csr_matrix, jobs: sp.csr_matrix) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def score(q: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.asarray((seekers[q] @ jobs[j].T).toarray(), dtype=np.float64)
    return score


def _known_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a[:, None] == b[None, :]) & (a[:, None] >= 0)).astype(np.float64)


def _location(cat: Catalogue, q: np.ndarray, jobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (_known_equal(cat.seekers.city[q], cat.jobs.city[jobs]),
            _known_equal(cat.seekers.region[q], cat.jobs.region[jobs]))


def _dense_truth(window: _Window) -> np.ndarray:
    rel = np.zeros((len(window.queries), len(window.jobs)))
    qpos = pd.Index(window.queries).get_indexer(window.truth["seeker_id"])
    jpos = pd.Index(window.jobs).get_indexer(window.truth["job_id"])
    ok = (qpos >= 0) & (jpos >= 0)
    rel[qpos[ok], jpos[ok]] = 2.0 ** window.truth["grade"].to_numpy()[ok] - 1
    return rel


def _mean_ndcg10(scores: np.ndarray, gains: np.ndarray) -> float:
    top = top_k_rows(scores, 10)
    discount = 1 / np.log2(np.arange(2, 12))[: top.shape[1]]
    dcg = (np.take_along_axis(gains, top, axis=1) * discount).sum(axis=1)
    ideal = (-np.sort(-gains, axis=1)[:, :10] * discount[: min(10, gains.shape[1])]).sum(axis=1)
    return float(np.mean(np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)))


def _tune_bonus(score: np.ndarray, city: np.ndarray, region: np.ndarray, gains: np.ndarray) -> tuple[float, float]:
    """The (city, region) bonus pair with the best NDCG@10 on a past window; ties go to the smaller bonuses."""
    best = (-1.0, 0.0, 0.0)
    for a in LOCATION_GRID:
        for b in LOCATION_GRID:
            value = _mean_ndcg10(score + a * city + b * region, gains)
            if value > best[0] + 1e-12:
                best = (value, a, b)
    return best[1], best[2]


def _window(data: Dataset, cat: Catalogue, snap: Snapshot, origin: pd.Timestamp, end: pd.Timestamp,
            catalogue: str) -> _Window | None:
    ev = data.events
    inside = ev[(ev["timestamp"] >= origin) & (ev["timestamp"] < end) & (ev["grade"] > 0)
                & (ev["seeker_idx"] >= 0) & (ev["job_idx"] >= 0)]
    jobs = np.flatnonzero(window_job_mask(cat, ev, origin, end, catalogue))
    inside = inside[np.isin(inside["job_idx"].to_numpy(), jobs)]
    if inside.empty or len(jobs) == 0:
        return None
    truth = inside.groupby(["seeker_idx", "job_idx"])["grade"].max().reset_index()
    truth.columns = pd.Index(["seeker_id", "job_id", "grade"])
    queries = np.unique(truth["seeker_id"].to_numpy())
    return _Window(origin, end, queries, jobs, truth, seeker_segments(data, snap, queries))


def _score_lists(lists: dict[str, np.ndarray], window: _Window) -> dict[str, dict[str, Any]]:
    """Metrics of each method's top-_K (catalogue rows per query), overall, for profiled seekers, per segment."""
    out: dict[str, dict[str, Any]] = {}
    profiled = window.queries[window.segment != SEGMENTS[2]]
    populations = {"all": window.queries, "profiled": profiled,
                   **{s: window.queries[window.segment == s] for s in SEGMENTS}}
    for name, jobs in lists.items():
        m, k = jobs.shape
        ok = jobs.ravel() >= 0
        frame = pd.DataFrame({"seeker_id": np.repeat(window.queries, k)[ok], "job_id": jobs.ravel()[ok],
                              "rank": np.tile(np.arange(1, k + 1), m)[ok]})
        result: dict[str, Any] = {}
        for population, members in populations.items():
            truth = window.truth[window.truth["seeker_id"].isin(members)]
            if truth.empty:
                continue
            metrics = ranking_metrics(frame[frame["seeker_id"].isin(members)], truth,
                                      catalogue_size=len(window.jobs), ks=(10, 100))
            result[population] = {key: metrics[key] for key in ("queries", "ndcg@10", "recall@10", "recall@100",
                                                                "mrr")}
        out[name] = result
    return out


def _retrieval_recall(cand: np.ndarray, baseline_top: np.ndarray, window: _Window) -> dict[str, float]:
    """Share of the relevant pairs inside the engine's retrieval candidates and inside the exact lexical +
    location top-n of the same depth (profiled seekers)."""
    out = {}
    profiled = window.segment != SEGMENTS[2]
    truth = window.truth[window.truth["seeker_id"].isin(window.queries[profiled])]
    for name, table in (("retrieval", cand), ("tfidf_char+location", baseline_top)):
        rows = pd.Index(window.queries).get_indexer(truth["seeker_id"])
        hit = (table[rows] == truth["job_id"].to_numpy()[:, None]).any(axis=1)
        out[name] = float(hit.mean()) if len(hit) else float("nan")
    return out


def _day_one(known: Dataset, config: TrainConfig, origin: pd.Timestamp, window_days: float
             ) -> tuple[ModelBundle, dict[str, Any]]:
    """The day-one model for the data known before `origin`, with the summary keys a run reports."""
    bundle, summary = train_day_one(known, config, "forward protocol, --day-one")
    source = summary["content_ranker"]
    return bundle, {"valid_window": [(origin - pd.Timedelta(days=window_days)).isoformat(), origin.isoformat()],
                    "n_train_queries": source["n_train_queries"], "n_train_pairs": None,
                    "best_iteration": source["best_iteration"], "valid_ndcg@10": source["valid_ndcg@10"]}


def _top_candidates(cand: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's retrieval candidates re-ranked by `scores` (same shape), top k; -1 slots last."""
    return np.take_along_axis(cand, top_k_rows(np.where(cand >= 0, scores, -np.inf), k), axis=1)


def _one_run(data: Dataset, origin: pd.Timestamp, seed: int, config: ForwardConfig,
             lexical: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]) -> dict[str, Any] | None:
    end = origin + pd.Timedelta(days=config.window_days)
    base = config.train or TrainConfig(holdout_days=0)
    # The training windows offer the catalogue the test window does, unless the training config names its own.
    catalogue = config.catalogue if base.catalogue == "auto" else base.catalogue
    train_config = replace(base, holdout_days=0, seed=seed, catalogue=catalogue)
    if config.day_one:
        bundle, summary = _day_one(_before(data, origin), train_config, origin, config.window_days)
    else:
        bundle, summary = train(_before(data, origin), train_config)
    cat, snap = build_view(data, bundle.encoder, history_until=origin, as_of=end)
    window = _window(data, cat, snap, origin, end, config.catalogue)
    if window is None:
        return None
    mask = np.zeros(len(data.jobs), dtype=bool)
    mask[window.jobs] = True
    generator = CandidateGenerator(cat, snap, mask)
    q, jobs = window.queries, window.jobs
    k = min(_K, len(jobs))
    lists: dict[str, np.ndarray] = {
        "engine": rank_candidates(bundle, cat, snap, generator, q, k, config.n_candidates).job_idx,
        "engine_rerank_all": rank_candidates(bundle, cat, snap, generator, q, k, len(jobs)).job_idx,
        "popularity": jobs[top_k_rows(popularity_scores(snap.job_popularity[jobs], len(q), seed), k)],
        "newest": jobs[top_k_rows(newest_scores(cat.job_posted_ns[jobs], len(q), seed), k)],
        "random": jobs[top_k_rows(random_scores(len(q), len(jobs), seed), k)],
    }
    cand = generator.candidates(cat, snap, q, config.n_candidates)
    features = pair_features(cat, snap, np.repeat(q, cand.shape[1]), cand.ravel())
    lists["rule"] = _top_candidates(cand, rule_scores(features).reshape(cand.shape), k)
    if config.day_one:
        hand = blank_history(features)[:, FEATURE_NAMES.index("content_match")]
        lists["content_weights"] = _top_candidates(cand, hand.reshape(cand.shape), k)
    # Location bonuses of the lexical baselines are tuned on the model's validation window (the last one before T).
    valid_start, valid_end = (pd.Timestamp(t) for t in summary["valid_window"])
    valid_snap = build_snapshot(cat, data.events, history_until=valid_start, as_of=valid_end)
    past = _window(data, cat, valid_snap, valid_start, valid_end,
                   config.catalogue)
    city, region = _location(cat, q, jobs)
    bonuses: dict[str, tuple[float, float]] = {}
    n_top = min(config.n_candidates, len(jobs))
    baseline_top = np.empty((len(q), 0), dtype=np.int64)
    for name, scorer in lexical.items():
        score = scorer(q, jobs)
        lists[name] = jobs[top_k_rows(score, k)]
        if past is not None:
            pc, pr = _location(cat, past.queries, past.jobs)
            bonuses[name] = _tune_bonus(scorer(past.queries, past.jobs), pc, pr, _dense_truth(past))
        else:
            bonuses[name] = (0.1, 0.1)
        a, b = bonuses[name]
        located = score + a * city + b * region
        lists[f"{name}+location"] = jobs[top_k_rows(located, k)]
        if name == "tfidf_char":
            baseline_top = jobs[top_k_rows(located, n_top)]
    return {"origin": origin.isoformat(), "end": end.isoformat(), "seed": seed, "model_version": bundle.version,
            "n_queries": int(len(q)), "n_jobs": int(len(jobs)), "n_truth_pairs": int(len(window.truth)),
            "segments": {s: int((window.segment == s).sum()) for s in SEGMENTS},
            "location_bonus": {n: {"city": a, "region": b} for n, (a, b) in bonuses.items()},
            "retrieval_recall@n": _retrieval_recall(cand, baseline_top, window),
            "train": {key: summary[key] for key in ("n_train_queries", "n_train_pairs", "best_iteration",
                                                    "valid_ndcg@10")},
            "methods": _score_lists(lists, window)}


def forward_evaluate(data: Dataset, report_dir: str | Path, config: ForwardConfig | None = None) -> dict[str, Any]:
    """Run the forward protocol; writes report.md, forward.png and metrics.json into `report_dir`."""
    config = config or ForwardConfig()
    origins = forward_origins(data.events, config)
    lexical = _lexical_scorers(data)
    progress = Progress("forward runs (origin x seed)", total=len(origins) * len(config.seeds))
    runs = []
    for origin in origins:
        for seed in config.seeds:
            run = _one_run(data, origin, seed, config, lexical)
            if run is not None:
                runs.append(run)
            progress.advance()
    progress.close()
    if not runs:
        raise MatcherError("no origin has a window with positive events: nothing to evaluate")
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    populations = [p for p in ("profiled", "all", *SEGMENTS) if all(p in r["methods"]["engine"] for r in runs)]
    verdicts: dict[str, Any] = {p: verdict(runs, p) for p in ("profiled", "all") if p in populations}
    summary = {p: {m: aggregate(runs, p, m) for m in ("ndcg@10", "recall@10", "recall@100")} for p in populations}
    title = (f"Forward evaluation{' of the day-one model' if config.day_one else ''}: {len(origins)} origins x "
             f"{len(config.seeds)} seeds, {config.window_days:g}-day windows")
    plot_forward(runs, "profiled" if "profiled" in populations else "all", report_dir / "forward.png", title)
    sections = report_sections(runs, summary, verdicts, window_days=config.window_days,
                               n_candidates=config.n_candidates)
    extra = {"protocol": "forward", "origins": [o.isoformat() for o in origins], "seeds": list(config.seeds),
             "window_days": config.window_days, "n_candidates": config.n_candidates, "catalogue": config.catalogue,
             "verdict": verdicts, "summary": summary, "runs": runs}
    headline = {name: {"ndcg@10": v["mean"], "ndcg@10 sd": v["std"]}
                for name, v in summary[populations[0]]["ndcg@10"].items()}
    report = write_report(report_dir, title=title, results=headline, notes=[], extra_json=extra, sections=sections)
    return {"report": str(report), **extra}
