"""Issue 16: the README's model session (challenger, compare, lose, keep; win, promote, serve, roll back) runs as
written: this test reads the lines from the README's session block and runs them, the server as a subprocess."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from matcher.cli import main
from models.registry import current_version, list_versions

ROOT = Path(__file__).resolve().parent.parent
Capsys = pytest.CaptureFixture[str]


def _session_lines() -> tuple[dict[str, str], list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- session: tests/test_model_session.py -->\n```bash\n(.*?)```", readme, re.S)
    assert block, "README.md lost its model session block"
    lines = [line.split("#", 1)[0].strip() for line in block[1].splitlines()]
    variables = dict(part.split("=", 1) for part in shlex.split(lines[0]))
    return variables, [line for line in lines[1:] if line]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "from matcher.cli import main; raise SystemExit(main())", *argv],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # start-up logs, then the line that says it serves
        if line.startswith("serving "):
            return proc
    raise AssertionError(f"matcher serve exited with {proc.wait()} before serving")


@pytest.mark.slow
def test_the_readme_model_session_runs_as_written(tmp_path: Path, capsys: Capsys) -> None:
    variables, lines = _session_lines()
    values = {"D": str(ROOT / variables["D"]), "M": str(tmp_path / "model"), "PORT": str(_free_port())}
    model = Path(values["M"])
    outputs: list[str] = []
    server: subprocess.Popen[str] | None = None
    try:
        for line in lines:
            argv = shlex.split(re.sub(r"\$(\w+)", lambda m: values[m[1]], line))
            assert argv[0] == "matcher", line
            if argv[-1] == "&":
                server = _start_server(argv[1:-1], tmp_path)  # its default journal goes there
                outputs.append("")
                continue
            capsys.readouterr()
            assert main(argv[1:]) == 0, line
            outputs.append(capsys.readouterr().out)
            versions = list_versions(model)
            if line.startswith("matcher train") and len(versions) == 2:  # the 1-tree retrain stays a challenger
                assert current_version(model) == versions[0]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    first, weak, strong = list_versions(model)
    compare = json.loads((model / "versions" / weak / "comparison" / "metrics.json").read_text(encoding="utf-8"))
    assert compare["comparison"]["b"] == weak and compare["comparison"]["ci_high"] < 0, "the challenger must lose"
    assert {f"A {first}", f"B {weak}", "rule", "text_similarity"} <= set(compare["results"])
    report = (model / "versions" / weak / "comparison" / "report.md").read_text(encoding="utf-8")
    assert "A against B, query by query" in report and (model / "versions" / weak / "comparison" / "paired.png").stat().st_size
    promoted = outputs[3]
    assert "\npromoted: " in promoted and "not promoted" not in promoted
    info, rolled, reloaded, listing = outputs[5], outputs[6], outputs[7], outputs[8]
    assert strong in info and first not in info  # the server named the champion it served
    assert f"champion: {first} (rolled back)" in rolled
    assert first in reloaded and current_version(model) == first
    assert f"* {first}" in listing and f"  {strong}" in listing and f"  {weak}" in listing
