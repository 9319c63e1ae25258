"""Tree inference backends: LightGBM's own predict, or the same trees compiled to machine code by lleaves.

Trees dominate ranking time. On these machines lleaves predicts 4-6x faster than `Booster.predict` with outputs
equal to 1e-14 (PERFORMANCE-NOTES, re-measured in benchmarks/). Compiling takes seconds per model version, so the
object code is cached next to model.txt, keyed by the CPU it was built for (a cache copied to another kind of
machine is not reused). `MATCHER_TREES=lightgbm` forces the reference backend; if lleaves or its pinned llvmlite
is missing, LightGBM is used and the log says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

__all__ = ["TreePredictor", "LightGBMPredictor", "LleavesPredictor", "make_predictor", "BACKENDS"]

_log = logging.getLogger(__name__)
BACKENDS = ("auto", "lleaves", "lightgbm")


class TreePredictor(ABC):
    name: str

    @abstractmethod
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Raw scores, float64, one per row."""


class LightGBMPredictor(TreePredictor):
    name = "lightgbm"

    def __init__(self, booster: lgb.Booster, num_iteration: int) -> None:
        self.booster, self.num_iteration = booster, num_iteration

    def predict(self, X: np.ndarray) -> np.ndarray:
        # As for lleaves: a second OpenMP thread costs more than it saves on an online request (8 ms vs 2.5 ms for
        # 200 rows, benchmarks/results/trees.md).
        return np.asarray(self.booster.predict(X, num_iteration=self.num_iteration,
                                               num_threads=1 if len(X) < 20_000 else 2), dtype=np.float64)


class LleavesPredictor(TreePredictor):
    name = "lleaves"

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        # Thread start-up costs more than it saves on the few hundred rows of one online request.
        return np.asarray(self.model.predict(X, n_jobs=1 if len(X) < 20_000 else 2), dtype=np.float64)


def _cpu_key() -> str:
    import llvmlite.binding as llvm

    host = f"{llvm.get_host_cpu_name()}|{llvm.get_host_cpu_features().flatten()}"
    return hashlib.sha256(host.encode()).hexdigest()[:12]


def _compile(model_file: Path, cache_dir: Path | None) -> Any:
    import lleaves

    model = lleaves.Model(model_file=str(model_file))
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()[:12]
    name = f"trees-{digest}-{_cpu_key()}.o"
    cache = cache_dir / name if cache_dir is not None and os.access(cache_dir, os.W_OK) else None
    if cache is not None and cache.is_file():
        model.compile(cache=str(cache))
        return model
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / name
        model.compile(cache=str(built))  # writes the object code, then loads it
        if cache is not None:
            staged = cache.with_name(f".{name}.{os.getpid()}.tmp")
            staged.write_bytes(built.read_bytes())
            os.replace(staged, cache)  # readers see a whole object file or none
    return model


def make_predictor(booster: lgb.Booster, num_iteration: int, model_file: Path | None = None,
                   backend: str | None = None) -> TreePredictor:
    """The fastest available backend for a saved model (`model_file` = its model.txt, trimmed to num_iteration)."""
    backend = backend or os.environ.get("MATCHER_TREES", "auto")
    if backend not in BACKENDS:
        raise ValueError(f"MATCHER_TREES must be one of {BACKENDS}, got {backend!r}")
    if backend == "lightgbm" or model_file is None:
        return LightGBMPredictor(booster, num_iteration)
    try:
        return LleavesPredictor(_compile(model_file, model_file.parent))
    except ImportError as exc:
        if backend == "lleaves":
            raise
        _log.warning("lleaves unavailable (%s): using LightGBM's predict", exc)
        return LightGBMPredictor(booster, num_iteration)
