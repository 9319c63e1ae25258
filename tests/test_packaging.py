"""The installed distribution carries every package and data file: `features` and `models` are generic names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from matcher.service.core import MatchCore
from matcher.service.server import create_server
from matcher.service.settings import load_settings
from tests.conftest import SmallWorld

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


# What a client-only install (`pip install talent-match`) has: grpcio (and its typing-extensions) and protobuf.
_CLIENT_ONLY = ("grpc", "google", "typing_extensions")
_ENGINE = ("numpy", "pandas", "scipy", "sklearn", "pyarrow", "lightgbm", "lleaves", "llvmlite", "dask", "distributed",
           "matplotlib")


def _client_only_site(tmp_path: Path) -> Path:
    """A site directory holding only the client's dependencies, linked from this interpreter's installs."""
    import importlib.util

    site = tmp_path / "client-site"
    site.mkdir()
    for name in _CLIENT_ONLY:
        spec = importlib.util.find_spec(name)
        assert spec is not None, name
        packages = list(spec.submodule_search_locations or [])
        location = Path(packages[0]) if packages else Path(str(spec.origin))
        (site / location.name).symlink_to(location)
    return site


def test_client_runs_with_only_grpcio_and_protobuf(tmp_path: Path, small_world: SmallWorld) -> None:
    """`from matcher.service.client import MatchClient` in an interpreter that sees no site-packages but grpcio's
    and protobuf's (python -S: no site), against a real server: ranked matches come back, no engine module loads."""
    settings = load_settings(data=str(small_world.root), model=str(small_world.model_dir),
                             journal=str(tmp_path / "journal.sqlite"), host="127.0.0.1", port=0)
    core = MatchCore(settings)
    running = create_server(settings, core)
    running.server.start()
    running.set_serving(True)
    try:
        seeker = str(small_world.data.seekers["seeker_id"].iloc[0])
        code = (
            "import sys\n"
            f"sys.path[:0] = [{str(_client_only_site(tmp_path))!r}, {str(ROOT)!r}]\n"
            "from matcher.service.client import MatchClient\n"
            f"with MatchClient('127.0.0.1:{running.port}') as client:\n"
            f"    matches = client.recommend_jobs({seeker!r}, k=3)\n"
            "    info = client.model_info()\n"
            "assert len(matches) == 3 and matches[0].score >= matches[-1].score, matches\n"
            f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {_ENGINE!r})\n"
            "assert not loaded, loaded\n"
            "print(info.version)\n"
        )
        out = subprocess.run([sys.executable, "-S", "-c", code], check=True, cwd=tmp_path, capture_output=True,
                             text=True, env={"PATH": "/usr/bin:/bin"})
        assert out.stdout.strip() == small_world.loaded.version
    finally:
        running.server.stop(0).wait()
        core.close()
