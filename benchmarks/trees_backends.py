"""The tree inference backends `bench_trees` times: each library's predictors, one per thread count, and what the
library costs once per model version (compiling, loading). A library that cannot run says why instead."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.reporting import package_version

__all__ = ["BASELINE", "Backend", "Family", "Predict", "lightgbm_family", "lleaves_family", "tl2cgen_families",
           "timed"]

BASELINE = "lightgbm 2 threads"
Predict = Callable[[np.ndarray], np.ndarray]


@dataclass
class Backend:
    name: str
    family: str
    threads: int
    predict: Predict


@dataclass
class Family:
    """One library: its backends (one per thread count) and what it costs once per model version."""

    name: str
    version: str = ""
    backends: list[Backend] = field(default_factory=list)
    costs: dict[str, float] = field(default_factory=dict)  # seconds
    missing: str = ""  # why it could not run


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    clock = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - clock


def lightgbm_family(model_file: Path, num_iteration: int) -> Family:
    import lightgbm as lgb

    from models.trees import LightGBMPredictor

    booster, load = timed(lambda: lgb.Booster(model_file=str(model_file)))
    family = Family("lightgbm", lgb.__version__, costs={"load_s": load})
    production = LightGBMPredictor(booster, num_iteration)  # what serving falls back to: 2 threads

    def one_thread(x: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(x, num_iteration=num_iteration, num_threads=1), dtype=np.float64)

    family.backends = [Backend("lightgbm 1 thread", "lightgbm", 1, one_thread),
                       Backend(BASELINE, "lightgbm", 2, production.predict)]
    return family


def lleaves_family(model_file: Path, work: Path) -> Family:
    try:
        import lleaves  # noqa: F401 - fail here, not inside _compile, when it is missing
        import llvmlite

        from models.trees import _compile
    except ImportError as exc:
        return Family("lleaves", missing=f"not installed ({exc})")
    family = Family("lleaves", f"{package_version('lleaves')} (llvmlite {llvmlite.__version__})")
    cache = work / "lleaves-cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    _, compile_s = timed(lambda: _compile(model_file, cache))  # empty cache: compiles and writes the object code
    model, load_s = timed(lambda: _compile(model_file, cache))  # what a restarted service does
    family.costs = {"compile_s": compile_s, "load_s": load_s}

    def make(n_jobs: int) -> Predict:
        def predict(x: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict(np.ascontiguousarray(x, dtype=np.float64), n_jobs=n_jobs),
                              dtype=np.float64)
        return predict

    family.backends = [Backend(f"lleaves n_jobs={n}", "lleaves", n, make(n)) for n in (1, 2)]
    return family


def _gcc_version() -> str:
    try:
        proc = subprocess.run(["gcc", "--version"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "no gcc"
    return proc.stdout.splitlines()[0]


def _threads(n: int) -> str:
    return f"{n} thread{'s' * (n > 1)}"


def tl2cgen_families(model_file: Path, work: Path, gtil_wanted: bool) -> tuple[Family, Family]:
    """The compiled tl2cgen library and, from the same treelite model, treelite's interpreter (GTIL)."""
    try:
        import treelite
        import treelite.gtil
    except ImportError as exc:
        reason = f"not installed ({exc.name or exc})"
        return Family("tl2cgen", missing=reason), Family("treelite GTIL", missing=reason)
    gtil = _gtil(model_file, gtil_wanted)
    try:
        import tl2cgen
    except ImportError as exc:
        return Family("tl2cgen", missing=f"not installed ({exc.name or exc})"), gtil
    version = f"{tl2cgen.__version__} (treelite {treelite.__version__}, {_gcc_version()})"
    return _tl2cgen(model_file, work, version), gtil


def _gtil(model_file: Path, wanted: bool) -> Family:
    import treelite
    import treelite.gtil

    tl_model, convert_s = timed(lambda: treelite.frontend.load_lightgbm_model(str(model_file)))
    gtil = Family("treelite GTIL", treelite.__version__, costs={"load_s": convert_s})

    def make(nthread: int) -> Predict:
        def predict(x: np.ndarray) -> np.ndarray:
            out = treelite.gtil.predict(tl_model, np.ascontiguousarray(x, dtype=np.float64), nthread=nthread)
            return np.asarray(out, dtype=np.float64).reshape(len(x))
        return predict

    if wanted:
        gtil.backends = [Backend(f"treelite GTIL {_threads(n)}", "treelite GTIL", n, make(n)) for n in (1, 2)]
    else:
        gtil.missing = "skipped (an interpreter, slower than LightGBM; --gtil runs it)"
    return gtil


def _tl2cgen(model_file: Path, work: Path, version: str) -> Family:
    """Compile the trees to a shared library with gcc on all cores, then load it once per thread count."""
    import tl2cgen
    import treelite

    family = Family("tl2cgen", version)
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()[:12]
    out_dir = work / "tl2cgen"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    libpath = out_dir / f"trees-{digest}.so"
    try:
        _, compile_s = timed(lambda: tl2cgen.export_lib(
            treelite.frontend.load_lightgbm_model(str(model_file)), toolchain="gcc", libpath=str(libpath),
            params={"parallel_comp": os.cpu_count() or 1}, nthread=os.cpu_count() or 1))
    except Exception as exc:  # a toolchain failure is a result to report, not a crash
        family.missing = f"compile failed: {exc}"
        return family
    predictors = {}
    for n in (1, 2):
        predictors[n], load_s = timed(lambda n=n: tl2cgen.Predictor(str(libpath), nthread=n))  # type: ignore[misc]
    family.costs = {"compile_s": compile_s, "load_s": load_s}

    def make(n: int) -> Predict:
        predictor = predictors[n]

        def predict(x: np.ndarray) -> np.ndarray:
            dmat = tl2cgen.DMatrix(np.ascontiguousarray(x, dtype=np.float64), dtype="float64")
            return np.asarray(predictor.predict(dmat, pred_margin=True), dtype=np.float64).reshape(len(x))
        return predict

    family.backends = [Backend(f"tl2cgen {_threads(n)}", "tl2cgen", n, make(n)) for n in (1, 2)]
    return family
