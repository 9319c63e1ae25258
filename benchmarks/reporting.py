"""What the benchmark reports share: the machine and code they ran on, Markdown tables, medians, JSON and PNG files,
and the worker processes whose one-line JSON answer a driver collects."""

from __future__ import annotations

import hashlib
import json
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["code_version", "cpu_name", "medians", "ms", "package_version", "print_and_save", "pyplot",
           "run_json_module", "save_figure", "table", "write_json"]


def cpu_name() -> str:
    """The CPU model as /proc/cpuinfo names it (else what `platform` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def code_version() -> str:
    """sha1 of the product sources (matcher, features, models): which code a result belongs to."""
    root, digest = Path(__file__).resolve().parents[1], hashlib.sha1()
    for path in sorted(p for package in ("matcher", "features", "models") for p in (root / package).rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def package_version(package: str) -> str:
    """The installed version of a distribution, "?" when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def table(header: Sequence[str], body: Iterable[Sequence[str]], align: str) -> str:
    """Markdown table of preformatted cells; `align` has one letter per column: l (text) or r (numbers)."""
    rule = "|" + "".join("---:|" if a == "r" else "---|" for a in align)
    return "\n".join(["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(r) + " |" for r in body)])


def medians(runs: Sequence[Mapping[str, Any]], keys: Iterable[str]) -> dict[str, Any]:
    """Per key, the median over runs of the values that are not None (None when no run has one)."""
    out: dict[str, Any] = {}
    for key in keys:
        values = [r[key] for r in runs if r[key] is not None]
        out[key] = statistics.median(values) if values else None
    return out


def ms(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """Percentile q of `values` (seconds) in ms; q = -1 gives the mean; None for no values."""
    if len(values) == 0:
        return None
    return 1000 * (statistics.fmean(values) if q < 0 else float(np.percentile(values, q)))


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (reports are written on machines with no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)


def write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def print_and_save(report: dict[str, Any], path: str, ensure_ascii: bool = True) -> None:
    """Print a run's JSON counts and, when `path` is given, write them there too (`--report`)."""
    text = json.dumps(report, indent=2, ensure_ascii=ensure_ascii)
    print(text)
    if path:
        Path(path).write_text(text, encoding="utf-8")


def run_json_module(module: str, args: Sequence[str]) -> dict[str, Any]:
    """Run `python -m module args` in its own process; its last stdout line is its JSON answer."""
    proc = subprocess.run([sys.executable, "-m", module, *args], check=True, capture_output=True, text=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
