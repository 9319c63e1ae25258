"""From a data folder to a trained ranking model: time windows, labelled queries, LightGBM LambdaRank.

Protocol (documented in README): events are cut into label windows. For a window [start, end) every seeker with
a positive event in it is a query; features see only events before `start`; candidates are the open jobs the
retriever returns for that seeker (top `n_candidates`) plus every job the seeker was logged with in the window
(exposures included). Labels are the best FORMAT.md grade the pair reached in the window, 0 otherwise: negatives are
logged exposures where the platform logs them, and retrieved-but-ignored jobs everywhere. The last window before
the hold-out is the validation set for early stopping; the model is then refit on all windows with that many trees.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import Catalogue, build_catalogue
from features.history import build_snapshot, known_seekers
from features.pairs import FEATURE_NAMES, blank_history, pair_features
from features.text import TextEncoder
from matcher.data import Dataset, fingerprint_folder
from matcher.engine.matching import CandidateGenerator, open_job_mask
from matcher.errors import MatcherError, missing_extra
from matcher.progress import Progress
from matcher.schema import EVENT_GRADES
from models.employer import MIN_LABELS, EmployerModel
from models.metrics import grouped_ndcg
from models.ranker import LambdaRanker
from models.registry import ModelBundle

__all__ = ["TrainConfig", "LabelledQueries", "time_windows", "window_job_mask", "CATALOGUES",
           "fit_encoder", "labelled_queries", "train",
           "smoothed_best_iteration"]

_log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    holdout_days: float = 14.0      # newest days kept out of training for `matcher evaluate`; 0 = train on all
    window_days: float = 14.0       # length of one label window
    stride_days: float = 7.0        # windows overlap when stride < window: more queries from little data
    min_history_days: float = 7.0   # a window needs this much earlier history
    n_candidates: int = 200
    n_random_negatives: int = 300  # per query, uniform over the window's jobs: see labelled_queries
    catalogue: str = "auto"         # which jobs a window offers: "open", "active" or "auto" (window_job_mask)
    text_dim: int = 96
    n_estimators: int = 600
    early_stopping_rounds: int = 100
    smoothing_trees: int = 50       # the tree count is the best of the validation curve's moving average
    params: dict[str, Any] = field(default_factory=dict)
    refit: bool = True
    cluster: str | None = None      # tcp://host:port of a Dask scheduler: fit with lightgbm.dask there
    two_way: bool = False           # also fit the employer side where applications have outcomes (models/employer)
    employer_weight: float | None = None  # weight of the employer side's log p(accept); None: tuned on validation
    # Train on seekers with a profile or earlier events only. Profile-less queries teach nothing but popularity, which
    # the features carry anyway, and outnumber the rest 6 to 1 on the US views: on the forward protocol they pulled
    # profiled seekers' NDCG@10 from 0.210 to 0.193 (2 origins).
    profiled_queries: bool = True
    seed: int = 0                   # text encoder's SVD and LightGBM's bagging (params["seed"] wins if given)
    # Learn from content alone, the log's features blanked as on a platform's first day (matcher.offline.day_one).
    content_only: bool = False


@dataclass
class LabelledQueries:
    seeker_idx: np.ndarray
    job_idx: np.ndarray
    label: np.ndarray
    group: np.ndarray          # query sizes, in order
    features: np.ndarray


@dataclass
class Windows:
    test_start: pd.Timestamp
    train: list[tuple[pd.Timestamp, pd.Timestamp]]
    valid: tuple[pd.Timestamp, pd.Timestamp]


def time_windows(events: pd.DataFrame, config: TrainConfig) -> Windows:
    positive = events.loc[events["grade"] > 0, "timestamp"]
    if positive.empty:
        raise MatcherError("events.csv has no positive events (viewed or better): nothing to learn from")
    first, last = positive.min(), positive.max() + pd.Timedelta(seconds=1)
    test_start = (last - pd.Timedelta(days=config.holdout_days)).floor("D") if config.holdout_days > 0 else last
    window, stride = pd.Timedelta(days=config.window_days), pd.Timedelta(days=config.stride_days)
    valid = (test_start - window, test_start)
    train = []
    end = valid[0]
    while end - window >= first + pd.Timedelta(days=config.min_history_days):
        train.append((end - window, end))
        end -= stride
    if not train:
        raise MatcherError(
            f"events span {first:%Y-%m-%d}..{last:%Y-%m-%d}: too short for a {config.window_days:g}-day "
            f"validation window, {config.holdout_days:g} hold-out days and {config.min_history_days:g} days of "
            "history; lower --holdout-days or the window settings")
    return Windows(test_start=test_start, train=train[::-1], valid=valid)


def smoothed_best_iteration(curve: np.ndarray, window: int) -> int:
    """1-based iteration where the validation curve's trailing moving average peaks.

    A few hundred validation queries with one or two views each make NDCG@10 jump by a few per cent from one tree
    to the next; the raw maximum then often sits at tree 5 or 10 by luck, leaving a model that has barely learned
    anything (seen on the US views: best iterations of 9, 111 and 449 for three seeds of one configuration).
    """
    if len(curve) == 0:
        return 1
    window = max(1, min(window, len(curve)))
    padded = np.concatenate([np.full(window - 1, curve[0]), curve])
    smooth = np.convolve(padded, np.ones(window) / window, mode="valid")
    return int(np.argmax(smooth)) + 1


def fit_encoder(data: Dataset, dim: int, seed: int = 0) -> TextEncoder:
    corpus = np.concatenate([
        (data.seekers["text"] + " " + data.seekers["desired_occupations"]).to_numpy(dtype=object),
        (data.jobs["title"] + " " + data.jobs["text"]).to_numpy(dtype=object),
    ])
    return TextEncoder(dim=dim, seed=seed).fit(corpus)


CATALOGUES = ("auto", "open", "active")


def window_job_mask(cat: Catalogue, events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                    catalogue: str = "auto") -> np.ndarray:
    """The jobs a seeker could be matched with in [start, end): the catalogue a query of that window sees.

    "open": posted before the end and not expired at the start (a platform's vacancy table). "active": jobs with
    any logged event in the window (a log-derived catalogue, such as the US board, whose jobs have no expiry and
    whose posting date is the first view: "open" there means every job ever seen, mostly long gone). "auto"
    chooses "active" when no job has an expiry date, else "open". Training and the forward evaluation both offer a
    query exactly this set, so the model learns to order what it will be asked to order (issue 12: negatives
    drawn from all-time open jobs taught it "recently seen = relevant", which every later-window job is).
    """
    if catalogue not in CATALOGUES:
        raise MatcherError(f"catalogue: expected one of {', '.join(CATALOGUES)}, got {catalogue!r}")
    if catalogue == "auto":
        catalogue = "active" if bool(np.all(cat.job_expires_ns == np.iinfo(np.int64).max)) else "open"
    if catalogue == "open":
        return open_job_mask(cat, start, end)
    inside = events[(events["timestamp"] >= start) & (events["timestamp"] < end) & (events["job_idx"] >= 0)]
    mask = np.zeros(len(cat.job_posted_ns), dtype=bool)
    mask[inside["job_idx"].to_numpy()] = True
    return mask


def labelled_queries(cat: Catalogue, data: Dataset, start: pd.Timestamp, end: pd.Timestamp,
                     n_candidates: int, n_random: int = 0, seed: int = 0,
                     catalogue: str = "auto", profiled_only: bool = False) -> LabelledQueries | None:
    """Queries of one label window, shaped like serving: the window's jobs (window_job_mask) are the catalogue,
    its retrieval top-n and n_random uniform jobs of it are each seeker's candidates, history stops at the start."""
    ev = data.events
    inside = ev[(ev["timestamp"] >= start) & (ev["timestamp"] < end) & (ev["seeker_idx"] >= 0) & (ev["job_idx"] >= 0)]
    labelled = inside.groupby(["seeker_idx", "job_idx"], sort=False)["grade"].max()
    queries = np.unique(labelled[labelled > 0].index.get_level_values(0).to_numpy())
    snap = build_snapshot(cat, ev, history_until=start, as_of=end)
    if profiled_only:
        queries = queries[known_seekers(cat, snap, queries)]
    if len(queries) == 0:
        return None
    generator = CandidateGenerator(cat, snap, window_job_mask(cat, ev, start, end, catalogue))
    cand = generator.candidates(cat, snap, queries, n_candidates)
    # Positives that retrieval missed join the list, so without random negatives every job outside the retrieved
    # set would be a positive: the model would learn "looks unlike a retrieval candidate = relevant".
    rng = np.random.default_rng(seed + int(start.value // 10**9))
    if n_random >= len(generator.open_idx):  # a small window: every one of its jobs is a candidate, as in serving
        random_jobs = np.broadcast_to(generator.open_idx, (len(queries), len(generator.open_idx)))
    else:
        random_jobs = generator.open_idx[rng.integers(0, len(generator.open_idx), size=(len(queries), n_random))]
    s = np.concatenate([np.repeat(queries, cand.shape[1]), np.repeat(queries, random_jobs.shape[1]),
                        labelled.index.get_level_values(0).to_numpy()])
    j = np.concatenate([cand.ravel(), random_jobs.ravel(), labelled.index.get_level_values(1).to_numpy()])
    keep = np.isin(s, queries)
    pairs = np.unique(np.stack([s[keep], j[keep]], axis=1), axis=0)  # sorted by seeker: groups are contiguous
    key = pd.MultiIndex.from_arrays([pairs[:, 0], pairs[:, 1]])
    label = labelled.reindex(key).fillna(0).to_numpy().astype(np.int32)
    group = np.unique(pairs[:, 0], return_counts=True)[1]
    return LabelledQueries(seeker_idx=pairs[:, 0], job_idx=pairs[:, 1], label=label, group=group,
                           features=pair_features(cat, snap, pairs[:, 0], pairs[:, 1]))


def _stack(parts: list[LabelledQueries]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.concatenate([p.features for p in parts]), np.concatenate([p.label for p in parts]),
            np.concatenate([p.group for p in parts]))


_APPLIED, _ACCEPTED = EVENT_GRADES["applied"], EVENT_GRADES["interviewed"]


# Mixing weights tried for the employer side; 0 keeps the seeker side alone and is always a candidate.
EMPLOYER_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


def _tune_employer_weight(ranker: LambdaRanker, employer: EmployerModel, valid: LabelledQueries
                          ) -> tuple[float, dict[str, dict[str, float]]]:
    """The weight whose mutual score ranks the validation queries' accepted outcomes (interview, hire) best, by
    NDCG@10 over the queries that have one; ties go to the smaller weight. What a public service wants from two-way
    fit is placements; the all-outcome NDCG@10 (applications count too) is reported next to it for each weight."""
    seeker = ranker.predict(valid.features)
    log_p = employer.log_acceptance(valid.features)  # fitted with weight 1: this is log p(accept)
    accepted = np.where(valid.label >= _ACCEPTED, valid.label - _ACCEPTED + 1, 0)
    on_accepted = grouped_ndcg(accepted, valid.group, 10, empty=None)
    on_all = grouped_ndcg(valid.label, valid.group, 10, empty=None)
    table = {f"{w:g}": {"ndcg@10_accepted": on_accepted(seeker + w * log_p), "ndcg@10_all": on_all(seeker + w * log_p)}
             for w in EMPLOYER_WEIGHTS}
    best = max(EMPLOYER_WEIGHTS, key=lambda w: (round(table[f"{w:g}"]["ndcg@10_accepted"], 9), -w))
    return best, table


def _train_employer(parts: list[LabelledQueries], valid: LabelledQueries, ranker: LambdaRanker,
                    config: TrainConfig) -> tuple[EmployerModel | None, dict[str, Any]]:
    """The employer side on applications (grade >= applied): accepted = interviewed or hired. None, with the reason,
    where the data has too few outcomes on either side (a board that logs views only has none), or where the tuned
    weight is 0 (the employer side does not help placements on validation)."""
    X, y, _ = _stack(parts)
    applied = y >= _APPLIED
    accepted = (y[applied] >= _ACCEPTED)
    n_yes, n_no = int(accepted.sum()), int((~accepted).sum())
    summary: dict[str, Any] = {"n_applications": int(applied.sum()), "n_accepted": n_yes}
    if not config.two_way:
        return None, {**summary, "trained": False, "reason": "two_way off"}
    if min(n_yes, n_no) < MIN_LABELS:
        return None, {**summary, "trained": False,
                      "reason": f"fewer than {MIN_LABELS} accepted or turned-down applications: the mutual score is "
                                "the seeker side alone"}
    v_applied = valid.label >= _APPLIED
    vx, vy = valid.features[v_applied], valid.label[v_applied] >= _ACCEPTED
    model = EmployerModel(weight=1.0).fit(X[applied], accepted, feature_names=FEATURE_NAMES, eval_set=(vx, vy))
    auc = None
    if len(np.unique(vy)) == 2:
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(vy, model.predict_proba(vx)))
    tuned, by_weight = _tune_employer_weight(ranker, model, valid)
    model.weight = tuned if config.employer_weight is None else config.employer_weight
    source = "tuned on validation" if config.employer_weight is None else "set"
    summary = {**summary, "trees": model.best_iteration_, "valid_auc": auc,
               "n_valid_applications": int(v_applied.sum()), "weight": model.weight, "weight_source": source,
               "validation_by_weight": by_weight}
    if model.weight == 0:
        why = "ranks accepted outcomes best on validation" if source != "set" else "was set"
        return None, {**summary, "trained": False, "reason": f"weight 0 {why}: the mutual score is the seeker side "
                                                             "alone"}
    return model, {**summary, "trained": True}


@contextmanager
def _cluster_client(address: str | None) -> Iterator[Any]:
    if address is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError as exc:
        raise missing_extra(exc, "cluster", "--cluster") from exc
    try:
        client = Client(address, timeout=30)
    except OSError as exc:
        raise MatcherError(f"--cluster {address}: cannot reach the Dask scheduler ({exc})") from exc
    with client:
        yield client


def _tree_progress(progress: Progress) -> Callable[[Any], None]:
    """A LightGBM callback that counts trees (with the validation NDCG@10 so far, when there is one): a fit of
    hundreds of trees on two cores takes minutes, and silence reads as a hang."""

    def callback(env: Any) -> None:
        scores = [f"{name} {metric} {value:.4f}" for name, metric, value, *_ in env.evaluation_result_list or ()
                  if name == "valid"]
        progress.advance(detail=", ".join(scores))

    callback.order = 25  # type: ignore[attr-defined]  # after LightGBM records the scores, before early stopping
    return callback


def train(data: Dataset, config: TrainConfig | None = None) -> tuple[ModelBundle, dict[str, Any]]:
    """Fit encoder and ranker on `data`; returns the bundle and a summary (windows, sizes, validation NDCG)."""
    config = config or TrainConfig()
    windows = time_windows(data.events, config)
    encoder = fit_encoder(data, config.text_dim, config.seed)
    params = {"seed": config.seed, **config.params}
    cat = build_catalogue(data.seekers, data.jobs, encoder)
    progress = Progress("label windows", total=len(windows.train) + 1)
    parts: list[LabelledQueries] = []
    for start, end in windows.train:
        part = labelled_queries(cat, data, start, end, config.n_candidates, config.n_random_negatives,
                                catalogue=config.catalogue, profiled_only=config.profiled_queries)
        if part is not None:
            parts.append(part)
        progress.advance()
    valid = labelled_queries(cat, data, *windows.valid, config.n_candidates, config.n_random_negatives,
                             catalogue=config.catalogue, profiled_only=config.profiled_queries)
    progress.advance()
    progress.close()
    if not parts or valid is None:
        raise MatcherError("no training or validation queries: every window lacks positive events")
    if config.content_only:
        for part in (*parts, valid):
            part.features = blank_history(part.features)
    with _cluster_client(config.cluster) as client:
        X, y, group = _stack(parts)
        trees = Progress("trees", total=config.n_estimators)
        ranker = LambdaRanker(params=params, n_estimators=config.n_estimators,
                              early_stopping_rounds=config.early_stopping_rounds).fit(
            X, y, group, feature_names=FEATURE_NAMES, eval_set=(valid.features, valid.label, valid.group),
            client=client, callbacks=[_tree_progress(trees)])
        trees.close()
        curve = np.asarray(ranker.evals_result_["valid"]["ndcg@10"])
        best = smoothed_best_iteration(curve, config.smoothing_trees)
        valid_ndcg = float(curve[best - 1])
        ranker.best_iteration_ = best
        unseen_valid = ranker  # has not trained on the validation queries: the fair one to tune the mixing weight
        if config.refit:
            X, y, group = _stack([*parts, valid])
            refit = Progress("refit on train + validation, trees", total=max(best, 1))
            ranker = LambdaRanker(params=params, n_estimators=max(best, 1)).fit(
                X, y, group, feature_names=FEATURE_NAMES, client=client, callbacks=[_tree_progress(refit)])
            refit.close()
    employer, employer_summary = _train_employer(parts, valid, unseen_valid, config)
    summary = {
        "employer_side": employer_summary,
        "test_start": windows.test_start.isoformat(),
        "train_windows": [(a.isoformat(), b.isoformat()) for a, b in windows.train],
        "valid_window": [windows.valid[0].isoformat(), windows.valid[1].isoformat()],
        "n_train_queries": int(sum(len(p.group) for p in parts)),
        "n_train_pairs": int(sum(len(p.label) for p in parts)),
        "n_valid_queries": int(len(valid.group)),
        "valid_ndcg@10": valid_ndcg,
        "best_iteration": int(best),
        "refit_on_validation": config.refit,
        "n_candidates": config.n_candidates,
        "negatives": "retrieval candidates and uniformly random open jobs without a positive event, "
                     "+ logged exposures (grade 0)",
        "n_random_negatives": config.n_random_negatives,
        "trained_on": config.cluster or "this machine",
    }
    meta: dict[str, Any] = {"training": summary}
    if data.root is not None:  # lets `evaluate` find this model's own hold-out before the model is saved
        meta["data_fingerprint"] = fingerprint_folder(data.root)
        meta["data_dir"] = str(data.root)
    bundle = ModelBundle(ranker=ranker, encoder=encoder, meta=meta, employer=employer)
    return bundle, summary
