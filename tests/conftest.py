"""Shared fixtures: small FORMAT.md folders written into tmp dirs."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest


@pytest.fixture()
def demo_folder(tmp_path: Path) -> Path:
    """A copy of the built-in demo data (real US job-board views in FORMAT.md)."""
    out = tmp_path / "demo"
    out.mkdir()
    for name in ("seekers.csv", "jobs.csv", "events.csv"):
        with resources.as_file(resources.files("matcher.demo_data").joinpath(name)) as src:
            shutil.copy(src, out / name)
    return out


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path
