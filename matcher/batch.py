"""`matcher batch`: top-k open jobs for every seeker, written as FORMAT.md matches.csv (atomically)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.engine import MatchEngine
from matcher.progress import Progress

__all__ = ["run_batch", "recommendations_frame"]


def recommendations_frame(engine: MatchEngine, seeker_idx: np.ndarray, job_idx: np.ndarray,
                          scores: np.ndarray) -> pd.DataFrame:
    m, k = job_idx.shape
    ok = job_idx.ravel() >= 0
    return pd.DataFrame({
        "seeker_id": engine.data.seekers["seeker_id"].to_numpy()[np.repeat(seeker_idx, k)[ok]],
        "rank": np.tile(np.arange(1, k + 1), m)[ok],
        "job_id": engine.data.jobs["job_id"].to_numpy()[job_idx.ravel()[ok]],
        "score": np.round(scores.ravel()[ok], 6),
        "model_version": engine.bundle.version,
    })


def run_batch(engine: MatchEngine, out: str | Path, k: int, *, chunk: int = 8192,
              timings: dict[str, float] | None = None) -> int:
    """Rank for all seekers in chunks; the file appears only when complete. Returns rows written.

    `timings`, when given, accumulates seconds per stage (the engine's stages plus `writing`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    n_seekers = len(engine.data.seekers)
    progress = Progress("seekers matched", total=n_seekers)
    rows = 0
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        for start in range(0, n_seekers, chunk):
            block = np.arange(start, min(start + chunk, n_seekers), dtype=np.int64)
            recs = engine.recommend(block, k, timings=timings)
            clock = time.perf_counter()
            frame = recommendations_frame(engine, block, recs.job_idx, recs.scores)
            frame.to_csv(fh, index=False, header=start == 0, lineterminator="\n")
            if timings is not None:
                timings["writing"] = timings.get("writing", 0.0) + time.perf_counter() - clock
            rows += len(frame)
            progress.advance(len(block))
        if n_seekers == 0:
            fh.write("seeker_id,rank,job_id,score,model_version\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return rows
