"""The Python API data scientists use from a notebook; the CLI is a thin layer over it.

    from matcher import api
    data = api.load_data("data/us")
    bundle, summary = api.train(data)
    api.save(bundle, "models/us", data)
    report = api.evaluate(bundle, data, "reports/us")
    versus = api.evaluate(champion, data, "reports/ab", challenger=bundle)   # side by side, paired significance
    promote, why = api.challenger_wins(versus["comparison"], margin=0.02)
    matches = api.recommend(bundle, data, k=10)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.pairs import FEATURE_NAMES, pair_features
from matcher.batch.push import PushConfig
from matcher.batch.run import BatchResult, recommendations_frame, run_batch, run_key
from matcher.data import Dataset, fingerprint_folder, load_folder, parse_time
from matcher.engine.matching import MatchEngine
from matcher.engine.scoring import build_view
from matcher.errors import NotFoundError
from matcher.offline.day_one import train_for as train
from matcher.offline.evaluation import challenger_wins, evaluate
from matcher.offline.forward import ForwardConfig, forward_evaluate
from matcher.offline.training import TrainConfig
from models.registry import ModelBundle, load_model, save_model

__all__ = ["load_data", "pair_frame", "train", "TrainConfig", "save", "load", "evaluate", "challenger_wins",
           "recommend", "batch",
           "forward_evaluate", "ForwardConfig",
           "PushConfig", "BatchResult", "parse_time", "Dataset", "ModelBundle", "MatchEngine"]

load_data = load_folder
load = load_model


def pair_frame(bundle: ModelBundle, data: Dataset, seeker_ids: list[str], job_ids: list[str],
               as_of: str | None = None) -> pd.DataFrame:
    """Feature frame (one row per pair, FEATURE_NAMES columns) for explicit (seeker_id, job_id) pairs."""
    when = parse_time(as_of, "--as-of") if as_of else (data.max_time or pd.Timestamp.now(tz="UTC"))
    cat, snap = build_view(data, bundle.encoder, history_until=when)
    si = pd.Index(data.seekers["seeker_id"]).get_indexer(seeker_ids)
    ji = pd.Index(data.jobs["job_id"]).get_indexer(job_ids)
    for field, ids, rows in (("seeker_ids", seeker_ids, si), ("job_ids", job_ids, ji)):
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            raise NotFoundError(f"{field}[{int(missing[0])}]: {ids[int(missing[0])]!r} is not in the data")
    frame = pd.DataFrame(pair_features(cat, snap, si, ji), columns=list(FEATURE_NAMES))
    frame.insert(0, "job_id", job_ids)
    frame.insert(0, "seeker_id", seeker_ids)
    return frame


def save(bundle: ModelBundle, model_dir: str | Path, data: Dataset | None = None,
         extra: dict[str, Any] | None = None, *, promote: bool = True) -> Path:
    """A new version under model_dir; `promote` (default) makes it the champion (CURRENT)."""
    if data is not None and data.root is not None and "data_fingerprint" not in bundle.meta:
        bundle.meta["data_fingerprint"] = fingerprint_folder(data.root)
        bundle.meta["data_dir"] = str(data.root)
    bundle.meta.update(extra or {})
    return save_model(bundle, model_dir, make_current=promote)


def recommend(bundle: ModelBundle, data: Dataset, k: int = 10, seeker_ids: list[str] | None = None,
              as_of: str | None = None) -> pd.DataFrame:
    engine = MatchEngine(bundle, data, as_of=parse_time(as_of, "--as-of") if as_of else None)
    idx = np.arange(len(data.seekers)) if seeker_ids is None else \
        pd.Index(data.seekers["seeker_id"]).get_indexer(seeker_ids)
    recs = engine.recommend(idx, k)
    return recommendations_frame(engine, idx, recs.job_idx, recs.scores)


def batch(bundle: ModelBundle, data: Dataset, out: str | Path, config: PushConfig | int, *,
          as_of: str | None = None, work_dir: str | Path | None = None, cluster: str | None = None,
          keep_work: bool = False, timings: dict[str, float] | None = None) -> BatchResult:
    """The nightly push (matcher.batch.push): `config` is a PushConfig, or just k with the default push rules.

    `cluster` (tcp://host:port) runs the chunks on that Dask scheduler; `bundle` must then come from `load`."""
    config = config if isinstance(config, PushConfig) else PushConfig(k=config)
    engine = MatchEngine(bundle, data, as_of=parse_time(as_of, "--as-of") if as_of else None,
                         n_candidates=config.n_candidates)
    runner = None
    if cluster:
        from matcher.batch.cluster import dask_runner, make_payload

        runner = dask_runner(cluster, make_payload(engine, config, run_key(engine, config)[0]))
    return run_batch(engine, out, config, work_dir=work_dir, runner=runner, keep_work=keep_work, timings=timings)
