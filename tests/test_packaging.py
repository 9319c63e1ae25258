"""The installed distribution carries every package and data file: `features` and `models` are generic names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_imports_outside_the_source_tree(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT)], check=True)
    code = (
        "from importlib import resources\n"
        "import matcher, features, models, matcher.cli, matcher.adapters.us_job_views, models.metrics\n"
        "import matcher.service.server, matcher._gen.matcher_pb2_grpc\n"
        "assert resources.files('matcher.service').joinpath('serve.example.toml').is_file()\n"
        "assert all(p.startswith(%r) for p in (matcher.__file__, features.__file__, models.__file__))\n"
        "assert resources.files('features.data').joinpath('cn_cities.csv').is_file()\n"
        "assert resources.files('matcher.demo_data').joinpath('events.csv').is_file()\n"
        "from features.geo import load_gazetteer; load_gazetteer()\n"
    ).replace("%r", repr(str(target)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path,
                   env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
