"""`matcher batch`: the nightly push, written as FORMAT.md matches.csv plus reasons and model version.

Chunks are matched locally or on a Dask cluster (matcher.batch.cluster), checkpointed in a work directory
(matcher.batch.checkpoint) and merged into one file that appears only when complete (written aside, fsynced, renamed).
Every step is deterministic, so re-running with the same inputs writes the same bytes, and a resumed or
distributed run writes what an uninterrupted local one does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from matcher.batch.checkpoint import ChunkStore
from matcher.batch.push import Chunk, ChunkResult, PushConfig, PushContext, cap_and_select, job_caps, plan_chunks
from matcher.data import fingerprint_folder
from matcher.engine.matching import MatchEngine
from matcher.engine.reasons import reasons_text
from matcher.policy.priority import priority_members
from matcher.progress import Progress

__all__ = ["run_batch", "recommendations_frame", "BatchResult", "MATCH_COLUMNS"]

_log = logging.getLogger("matcher.policy.priority")
MATCH_COLUMNS = ("seeker_id", "rank", "job_id", "score", "model_version", "reasons")
_WRITE_BLOCK = 1_000_000  # pairs per reasons + CSV block: bounds the memory of the shared-skills matrix


@dataclass
class BatchResult:
    rows: int
    seekers_with_matches: int
    chunks: int
    chunks_resumed: int
    timings: dict[str, float] = field(default_factory=dict)
    priority_share: dict[str, float] = field(default_factory=dict)  # of seekers and of pushes, with the policy on


def recommendations_frame(engine: MatchEngine, seeker_idx: np.ndarray, job_idx: np.ndarray,
                          scores: np.ndarray) -> pd.DataFrame:
    """(m, k) recommendations as FORMAT.md rows (for notebooks; the batch job writes through Arrow)."""
    m, k = job_idx.shape
    ok = job_idx.ravel() >= 0
    return pd.DataFrame({
        "seeker_id": engine.data.seekers["seeker_id"].to_numpy()[np.repeat(seeker_idx, k)[ok]],
        "rank": np.tile(np.arange(1, k + 1), m)[ok],
        "job_id": engine.data.jobs["job_id"].to_numpy()[job_idx.ravel()[ok]],
        "score": np.round(scores.ravel()[ok], 6),
        "model_version": engine.bundle.version,
    })


def run_key(engine: MatchEngine, config: PushConfig) -> tuple[str, dict[str, object]]:
    """What decides the output: data, model, clock and settings. A work directory is only resumed under it."""
    data = engine.data
    if data.root is not None:
        data_id = fingerprint_folder(data.root)
    else:
        digest = hashlib.sha256()
        for frame in (data.seekers, data.jobs, data.events):
            digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes())
        data_id = digest.hexdigest()
    description: dict[str, object] = {"data": data_id, "model": engine.bundle.version,
                                      "as_of": engine.as_of.isoformat(), "config": config.key_fields()}
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest(), description


Runner = Callable[[list[Chunk], Callable[[Chunk, ChunkResult], None]], None]


def run_batch(engine: MatchEngine, out: str | Path, config: PushConfig, *, work_dir: str | Path | None = None,
              runner: Runner | None = None, keep_work: bool = False,
              timings: dict[str, float] | None = None) -> BatchResult:
    """Push matches for every seeker of the engine's catalogue into `out`.

    `runner(chunks, on_done)` matches the chunks somewhere (default: here, one after another) and calls `on_done`
    for each finished one; `matcher.cluster.dask_runner` is the distributed one. `timings` accumulates seconds
    per stage (retrieval, features, trees, top_k, merge, writing)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    key, description = run_key(engine, config)
    store = ChunkStore(Path(work_dir) if work_dir is not None else out.with_name(f".{out.name}.work"), key,
                       description)
    chunks = plan_chunks(engine, config.chunk_size)
    todo = [c for c in chunks if not store.done(c.id)]
    total_seekers = sum(len(c.rows) for c in chunks)
    progress = Progress("seekers matched", total=total_seekers)
    progress.advance(total_seekers - sum(len(c.rows) for c in todo))  # resumed chunks count as done
    stage_times = timings if timings is not None else {}

    def on_done(chunk: Chunk, result: ChunkResult) -> None:
        store.save(chunk.id, {name: a.astype(np.int32) if a.dtype.kind == "i" else a
                              for name, a in result.arrays().items()})
        for stage, seconds in result.timings.items():
            stage_times[stage] = stage_times.get(stage, 0.0) + seconds
        progress.advance(len(chunk.rows))

    if todo:
        if runner is None:
            context = PushContext(engine, config)
            for chunk in todo:
                on_done(chunk, context.match(chunk.rows))
        else:
            runner(todo, on_done)
    progress.close()

    clock = time.perf_counter()
    parts = [store.load(c.id) for c in chunks]
    seeker = np.concatenate([p["seeker"] for p in parts]).astype(np.int64) if parts else np.empty(0, np.int64)
    job = np.concatenate([p["job"] for p in parts]).astype(np.int64) if parts else np.empty(0, np.int64)
    score = np.concatenate([p["score"] for p in parts]) if parts else np.empty(0)
    caps = job_caps(engine.data.jobs["headcount"], config)
    priority = _priority_seekers(engine, config)
    if priority is None:
        seeker, rank, job, score = cap_and_select(seeker, job, score, caps, config.k)
    else:
        # Priority seekers take no cap room from others and none from them: two independent selections.
        mine = priority[seeker]
        others = cap_and_select(seeker[~mine], job[~mine], score[~mine], caps, config.k)
        uncapped = np.full(len(caps), np.iinfo(np.int64).max, dtype=np.int64)
        favoured = cap_and_select(seeker[mine], job[mine], score[mine], uncapped, config.k + config.priority_extra)
        order = np.lexsort((np.r_[others[1], favoured[1]], np.r_[others[0], favoured[0]]))
        seeker, rank, job, score = (np.r_[a, b][order] for a, b in zip(others, favoured, strict=True))
    notes = None if priority is None else _policy_notes(engine, seeker, rank, job, priority, caps, config)
    stage_times["merge"] = stage_times.get("merge", 0.0) + time.perf_counter() - clock

    clock = time.perf_counter()
    _write_matches(engine, out, seeker, rank, job, score, notes)
    stage_times["writing"] = stage_times.get("writing", 0.0) + time.perf_counter() - clock
    if not keep_work:
        store.clear()
    share = {} if priority is None else {"priority_seekers": float(priority.mean()) if len(priority) else 0.0,
                                         "priority_pushes": float(priority[seeker].mean()) if len(seeker) else 0.0}
    return BatchResult(rows=len(seeker), seekers_with_matches=len(np.unique(seeker)), chunks=len(chunks),
                       chunks_resumed=len(chunks) - len(todo), timings=stage_times, priority_share=share)


def _priority_seekers(engine: MatchEngine, config: PushConfig) -> np.ndarray | None:
    """Bool per seeker row: in one of the policy's priority groups (None when the policy is off)."""
    if not config.priority_groups:
        return None
    return priority_members(engine.data.seekers["priority_groups"], config.priority_groups)


def _policy_notes(engine: MatchEngine, seeker: np.ndarray, rank: np.ndarray, job: np.ndarray,
                  priority: np.ndarray, caps: np.ndarray, config: PushConfig) -> np.ndarray:
    """The policy's adjustment per push, for its reasons ("" for none), and one log line with the totals. A push to a
    priority seeker is cap-exempt; it names the job "pushed beyond its cap" where the pushes to everyone exceed it
    (the others alone never do), and "extra" beyond rank k."""
    mine = priority[seeker]
    per_job = np.bincount(job, minlength=len(caps))
    over = mine & (per_job[job] > caps[job])
    extra = mine & (rank > config.k)
    groups = engine.data.seekers["priority_groups"].fillna("").to_numpy(dtype=object)[seeker]
    notes = np.where(mine, "; priority policy (" + groups.astype(str) + "): cap-exempt", "").astype(object)
    notes = notes + np.where(over, ", to a job pushed beyond its cap", "")
    notes = notes + np.where(extra, f", extra push beyond {config.k}", "")
    _log.info("priority policy: %d pushes to %d priority seekers (%.1f%% of pushes; %.1f%% of seekers), %d over a "
              "job's cap, %d beyond k", int(mine.sum()), len(np.unique(seeker[mine])),
              100.0 * mine.mean() if len(mine) else 0.0, 100.0 * priority.mean() if len(priority) else 0.0,
              int(over.sum()), int(extra.sum()))
    return notes


def _with_notes(reasons: pa.Array, notes: np.ndarray | None) -> pa.Array:
    if notes is None:
        return reasons
    return pc.binary_join_element_wise(reasons, pa.array(notes, type=pa.string()), "")


def _write_matches(engine: MatchEngine, out: Path, seeker: np.ndarray, rank: np.ndarray, job: np.ndarray,
                   score: np.ndarray, notes: np.ndarray | None = None) -> None:
    """matches.csv (FORMAT.md), or the same columns as Parquet when `out` ends in .parquet; atomically."""
    schema = pa.schema([(name, pa.string()) if name not in ("rank", "score") else
                        (name, pa.int32() if name == "rank" else pa.float64()) for name in MATCH_COLUMNS])
    seeker_ids = engine.data.seekers["seeker_id"].to_numpy(dtype=object)
    job_ids = engine.data.jobs["job_id"].to_numpy(dtype=object)
    version = engine.bundle.version

    def blocks() -> Iterator[pa.Table]:
        for start in range(0, len(seeker), _WRITE_BLOCK):
            s, j = seeker[start:start + _WRITE_BLOCK], job[start:start + _WRITE_BLOCK]
            yield pa.table({
                "seeker_id": pa.array(seeker_ids[s], type=pa.string()),
                "rank": pa.array(rank[start:start + _WRITE_BLOCK], type=pa.int32()),
                "job_id": pa.array(job_ids[j], type=pa.string()),
                "score": pa.array(np.round(score[start:start + _WRITE_BLOCK], 6)),
                "model_version": pa.array(np.full(len(s), version, dtype=object), type=pa.string()),
                "reasons": _with_notes(reasons_text(engine.catalogue, s, j),
                                       None if notes is None else notes[start:start + _WRITE_BLOCK]),
            }, schema=schema)

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            if out.suffix.lower() == ".parquet":
                with pq.ParquetWriter(fh, schema) as parquet:
                    for table in blocks():
                        parquet.write_table(table)
            else:
                fh.write((",".join(MATCH_COLUMNS) + "\n").encode())  # Arrow would quote the header's names
                options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
                with pa_csv.CSVWriter(fh, schema, write_options=options) as writer:
                    for table in blocks():
                        writer.write_table(table)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
