"""Matching chunks on an existing Dask cluster (dask.distributed).

The data frames and the model's files travel to each worker once (`scatter(..., broadcast=True)`); each worker
process builds its engine from them on its first chunk and keeps it for the rest of the run, so a chunk task
carries only its seeker rows there and its (seeker, job, score) arrays back. Workers need talent-match installed
(the same version as the driver); they do not need the data folder or the model directory.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.batch.push import Chunk, ChunkResult, PushConfig, PushContext
from matcher.data import Dataset
from matcher.engine.matching import MatchEngine
from matcher.errors import MatcherError, missing_extra
from models.registry import load_model, model_files

__all__ = ["EnginePayload", "dask_runner", "make_payload"]

_log = logging.getLogger(__name__)
_CONTEXTS: dict[str, PushContext] = {}
_CONTEXT_LOCK = threading.Lock()


@dataclass(frozen=True)
class EnginePayload:
    """Everything a worker needs to rebuild the driver's engine, identified by `token`."""

    token: str
    seekers: pd.DataFrame
    jobs: pd.DataFrame
    events: pd.DataFrame
    model: dict[str, bytes]
    as_of: pd.Timestamp
    config: PushConfig


def make_payload(engine: MatchEngine, config: PushConfig, run_key: str) -> EnginePayload:
    if engine.bundle.source is None:
        raise MatcherError("a cluster run needs a saved model (load it from its model directory)")
    files = model_files(engine.bundle.source)
    token = hashlib.sha256(run_key.encode() + b"".join(files[n] for n in sorted(files))).hexdigest()
    data = engine.data
    return EnginePayload(token=token, seekers=data.seekers, jobs=data.jobs, events=data.events, model=files,
                         as_of=engine.as_of, config=config)


def _context(payload: EnginePayload) -> PushContext:
    """The worker's engine for this payload, built on first use (one build per worker process and run)."""
    with _CONTEXT_LOCK:
        context = _CONTEXTS.get(payload.token)
        if context is None:
            _CONTEXTS.clear()  # a new run: free the previous one's catalogue
            with tempfile.TemporaryDirectory(prefix="talent-match-model-") as tmp:
                for name, blob in payload.model.items():
                    (Path(tmp) / name).write_bytes(blob)
                bundle = load_model(tmp)  # compiled trees are loaded into memory here
            data = Dataset(seekers=payload.seekers, jobs=payload.jobs, events=payload.events)
            engine = MatchEngine(bundle, data, as_of=payload.as_of, n_candidates=payload.config.n_candidates)
            context = _CONTEXTS[payload.token] = PushContext(engine, payload.config)
        return context


def _match_on_worker(payload: EnginePayload, rows: np.ndarray) -> ChunkResult:
    return _context(payload).match(rows)


def dask_runner(address: str, payload: EnginePayload, *, connect_timeout_s: float = 30.0
                ) -> Callable[[list[Chunk], Callable[[Chunk, ChunkResult], None]], None]:
    """A `run_batch` runner that sends the chunks to the Dask scheduler at `address` (tcp://host:port)."""

    def run(chunks: list[Chunk], on_done: Callable[[Chunk, ChunkResult], None]) -> None:
        try:
            from distributed import Client, as_completed
        except ImportError as exc:
            raise missing_extra(exc, "cluster", "--cluster") from exc
        try:
            client = Client(address, timeout=connect_timeout_s)
        except OSError as exc:
            raise MatcherError(f"--cluster {address}: cannot reach the Dask scheduler ({exc})") from exc
        with client:
            workers = len(client.scheduler_info().get("workers", {}))
            _log.info("dask: %d workers at %s; shipping data and model once to each", workers, address)
            [remote] = client.scatter([payload], broadcast=True, hash=False)
            futures = {client.submit(_match_on_worker, remote, chunk.rows, key=f"push-{payload.token[:16]}-{chunk.id}",
                                     retries=2): chunk for chunk in chunks}
            for future in as_completed(futures):
                on_done(futures[future], future.result())
                future.release()

    return run
