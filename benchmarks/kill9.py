"""kill -9 at random moments during mixed writes, then restart, many times (issue 13): `make kill9`.

A `matcher serve` process takes a stream of writes from one client: new seekers and jobs, deletes of earlier ones,
events with idempotency keys. At a random moment (0.1-1.5 s into the stream) the process is killed with SIGKILL
and started again on the same journal. After every restart each acknowledged write must be there: upserted ids
served (unless an acknowledged delete removed them), deleted ids NOT_FOUND, every acknowledged event in the
journal, and the journal sequence at least the last acknowledged one. Calls in flight at the kill have no known
outcome and are left out of the checks.

    python -m benchmarks.kill9 --kills 100 [--seed 0] [--report kill9.json]
"""

from __future__ import annotations

import argparse
import queue
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from benchmarks.fuzz import build_world
from benchmarks.reporting import print_and_save
from matcher.service.client import MatchClient
from matcher.service.store import Store

__all__ = ["KillResult", "ServeProcess", "kill_loop", "main"]

_SERVING = re.compile(r"serving matcher\.v1\.MatchService on (\S+:\d+)\n")


@dataclass
class KillResult:
    kills: int = 0
    acknowledged: int = 0
    restarts_failed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    restart_seconds: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.restarts_failed or self.lost)

    def as_dict(self) -> dict[str, Any]:
        times = sorted(self.restart_seconds)
        return {"ok": self.ok, "kills": self.kills, "acknowledged_writes": self.acknowledged,
                "restarts_failed": self.restarts_failed[:20], "lost": self.lost[:20], "n_lost": len(self.lost),
                "restart_s_median": times[len(times) // 2] if times else None}


class ServeProcess:
    """`python -m matcher.cli serve ...` as a child process, its stdout read by a thread (tests use it too)."""

    def __init__(self, argv: list[str], log: Path, cwd: Path | None = None) -> None:
        self._log = log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", *argv], cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, encoding="utf-8")
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_serving(self, timeout: float = 120) -> str:
        """The host:port the server reports once it serves; RuntimeError if it exits or takes too long."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            try:
                match = _SERVING.fullmatch(self.lines.get(timeout=0.2))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"matcher serve exited with {self.proc.returncode}") from None
                continue
            if match:
                return match.group(1)
        raise RuntimeError("matcher serve did not report serving in time")

    def close(self) -> None:
        """SIGKILL if still running (the point of kill -9 tests), then reap it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()


@dataclass
class _Truth:
    """What acknowledged writes say must hold: id -> alive, events acknowledged, the last sequence."""

    seekers: dict[str, bool] = field(default_factory=dict)
    jobs: dict[str, bool] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)   # touched by a call whose answer the kill cut off
    events: int = 0
    sequence: int = 0


def _writes(client: MatchClient, truth: _Truth, rng: random.Random, template: dict[str, dict[str, str]],
            stop: threading.Event, counter: list[int], round_no: int) -> None:
    seeker_tpl, job_tpl = template["seeker"], template["job"]
    anchor = next(iter(template["anchor_seeker"].values()))
    i = 0
    while not stop.is_set():
        i += 1
        kind = rng.random()
        touched: list[tuple[dict[str, bool], str, bool]] = []
        try:
            if kind < 0.3:
                sid = f"K{round_no}-S{i}"
                touched = [(truth.seekers, sid, True)]
                result = client.upsert_seekers([{**seeker_tpl, "seeker_id": sid}])
            elif kind < 0.6:
                jid = f"K{round_no}-J{i}"
                touched = [(truth.jobs, jid, True)]
                result = client.upsert_jobs([{**job_tpl, "job_id": jid}])
            elif kind < 0.75:
                alive = [k for k, v in truth.jobs.items() if v and k not in truth.unknown]
                if not alive:
                    continue
                jid = rng.choice(alive)
                touched = [(truth.jobs, jid, False)]
                result = client.delete_jobs([jid])
            else:
                result = client.record_events([{"seeker_id": anchor, "job_id": job_tpl["job_id"], "event": "viewed"}],
                                              key=f"ev-{round_no}-{i}")
                truth.events += 0 if result.replayed else 1
            for table, key, alive_now in touched:
                table[key] = alive_now
            truth.sequence = max(truth.sequence, result.sequence)
            counter[0] += 1
        except grpc.RpcError:  # the kill: this call's outcome is unknown
            truth.unknown.update(key for _, key, _ in touched)
            return


def _check(client: MatchClient, truth: _Truth, journal: Path, probe_seeker: str, probe_job: str) -> list[str]:
    lost = []
    info = client.model_info()
    if info.journal_sequence < truth.sequence:
        lost.append(f"journal sequence {info.journal_sequence} < acknowledged {truth.sequence}")
    checks = (("seeker", truth.seekers, lambda key: client.score_pairs([key], [probe_job])),
              ("job", truth.jobs, lambda key: client.score_pairs([probe_seeker], [key])))
    for kind, table, probe in checks:
        for key, alive in table.items():
            if key in truth.unknown:
                continue
            try:
                probe(key)
                if not alive:
                    lost.append(f"deleted {kind} {key} is back")
            except grpc.RpcError as exc:
                if alive:
                    lost.append(f"{kind} {key}: {exc.code().name}")
    with Store(journal) as store:  # WAL: reading beside the running server is safe
        stored = store.counts()["events"]
    if stored < truth.events:
        lost.append(f"{stored} events in the journal < {truth.events} acknowledged")
    return lost


def kill_loop(kills: int, seed: int = 0, log: Any = print) -> KillResult:
    result = KillResult()
    rng = random.Random(seed)
    truth = _Truth()
    with tempfile.TemporaryDirectory(prefix="matcher-kill9-") as tmp:
        world = build_world(Path(tmp))
        journal = Path(tmp) / "journal.sqlite"
        argv = ["serve", "--data", str(world.data_dir), "--model", str(world.model_dir), "--journal", str(journal),
                "--port", "0"]
        seeker_row = world.seekers.iloc[0].to_dict()
        template = {"seeker": {k: str(v) for k, v in seeker_row.items()},
                    "job": {k: str(v) for k, v in world.jobs.iloc[0].to_dict().items()},
                    "anchor_seeker": {"id": str(seeker_row["seeker_id"])}}
        probe_seeker, probe_job = str(seeker_row["seeker_id"]), str(world.jobs.iloc[1]["job_id"])
        began = time.monotonic()
        for round_no in range(kills + 1):
            started = time.monotonic()
            server = ServeProcess(argv, Path(tmp) / "serve.log")
            try:
                target = server.wait_serving()
            except RuntimeError as exc:
                result.restarts_failed.append(f"restart {round_no}: {exc}")
                server.close()
                break
            result.restart_seconds.append(time.monotonic() - started)
            with MatchClient(target, timeout=20) as client:
                result.lost += [f"after kill {round_no}: {m}" for m in _check(client, truth, journal, probe_seeker,
                                                                             probe_job)]
                if round_no == kills:
                    server.close()
                    break
                stop, counter = threading.Event(), [0]
                writer = threading.Thread(target=_writes, args=(client, truth, rng, template, stop, counter,
                                                                round_no), daemon=True)
                writer.start()
                time.sleep(rng.uniform(0.1, 1.5))
                server.close()
                result.kills += 1
                stop.set()
                writer.join(timeout=30)
                result.acknowledged += counter[0]
            if round_no % 10 == 9:
                rate = (round_no + 1) / (time.monotonic() - began)
                log(f"  kill -9: {round_no + 1}/{kills} kills, {result.acknowledged:,} acknowledged writes, "
                    f"{len(result.lost)} lost, ETA {(kills - round_no - 1) / rate:.0f}s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", default="")
    args = parser.parse_args(argv)
    report = kill_loop(args.kills, args.seed).as_dict()
    print_and_save(report, args.report)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
