"""The engine's scheduling (matcher.service.worker): batches side by side, writes alone and first, in order."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from matcher.service.worker import EngineWorker


def _live() -> Any:
    return SimpleNamespace(bundle=SimpleNamespace(version="v1"), log=[])


def _deadline() -> float:
    return time.monotonic() + 10


@pytest.mark.parametrize("threads, together", [(2, True), (1, False)])
def test_two_engine_threads_run_two_batches_at_once_and_one_thread_does_not(threads: int, together: bool) -> None:
    worker = EngineWorker(_live(), max_queue=10, max_batch=8, threads=threads)
    both = threading.Barrier(2, timeout=1.0)

    def meet(live: Any, payloads: Any) -> list[bool]:
        try:
            both.wait()
            return [True for _ in payloads]
        except threading.BrokenBarrierError:
            return [False for _ in payloads]

    def other(live: Any, payloads: Any) -> list[bool]:  # another kind of read: never in meet's batch
        return meet(live, payloads)

    try:
        first = worker.read(meet, None, _deadline())
        second = worker.read(other, None, _deadline())
        assert first.result(5).value is together and second.result(5).value is together
    finally:
        worker.stop(5)


def test_a_write_waits_for_running_reads_and_reads_queued_after_it_see_it() -> None:
    worker = EngineWorker(_live(), max_queue=10, max_batch=8, threads=2)
    entered, release = threading.Event(), threading.Event()
    writing_while_read = []

    def slow(live: Any, payloads: Any) -> list[int]:
        entered.set()
        release.wait(5)
        writing_while_read.append(len(live.log))
        return [len(live.log) for _ in payloads]

    def count(live: Any, payloads: Any) -> list[int]:
        return [len(live.log) for _ in payloads]

    try:
        running = worker.read(slow, None, _deadline())
        assert entered.wait(5)
        write = worker.write(lambda live: live.log.append("w"))
        after = worker.read(count, None, _deadline())
        time.sleep(0.2)  # the second engine thread is free: it must still not run the write beside `slow`
        assert not write.done() and not after.done()
        release.set()
        assert running.result(5).value == 0 and writing_while_read == [0]
        write.result(5)
        assert after.result(5).value == 1
    finally:
        release.set()
        worker.stop(5)


def test_writes_go_ahead_of_queued_reads_in_arrival_order() -> None:
    worker = EngineWorker(_live(), max_queue=10, max_batch=1, threads=1)
    entered, release = threading.Event(), threading.Event()
    order: list[str] = []

    def hold(live: Any, payloads: Any) -> list[None]:
        entered.set()
        release.wait(5)
        return [None for _ in payloads]

    def note(live: Any, payloads: Any) -> list[None]:
        order.extend(str(p) for p in payloads)
        return [None for _ in payloads]

    try:
        held = worker.read(hold, None, _deadline())
        assert entered.wait(5)
        reads = [worker.read(note, f"read{i}", _deadline()) for i in range(3)]
        writes = [worker.write(lambda live, i=i: order.append(f"write{i}")) for i in range(3)]
        release.set()
        for future in [held, *reads, *writes]:
            future.result(5)
        assert order == ["write0", "write1", "write2", "read0", "read1", "read2"]
    finally:
        release.set()
        worker.stop(5)


def test_stop_finishes_what_is_queued_then_refuses_new_work() -> None:
    from matcher.errors import UnavailableError

    worker = EngineWorker(_live(), max_queue=50, max_batch=4, threads=2)
    futures = [worker.read(lambda live, payloads: [p * 2 for p in payloads], i, _deadline()) for i in range(20)]
    futures.append(worker.write(lambda live: "written"))
    worker.stop(5)
    assert [f.result(0).value for f in futures[:-1]] == [i * 2 for i in range(20)]
    assert futures[-1].result(0) == "written"
    with pytest.raises(UnavailableError):
        worker.read(lambda live, payloads: payloads, 0, _deadline())
