"""The engine: the owner of the LiveCatalogue, fed by the gRPC handler threads.

Handler threads queue tasks and wait on a Future. Reads of one kind waiting together run as one batch (one matrix
product, one tree pass); `threads` engine threads run batches side by side, which pays because retrieval (faiss,
BLAS), sparse products and the trees (lleaves) release the GIL: one batch's numpy work overlaps another's graph
walk. Writes run alone: a write waits for the batches in progress, no batch starts while it runs, and writes go
ahead of queued reads, in arrival order among themselves. That is what makes a write visible to every request that
arrives after it returns (reads queued before it may see it or not: they were concurrent with it), with no locks
on the arrays: reads only read them. A read whose caller gave up (deadline passed, Future cancelled) is dropped
unrun.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from matcher.errors import DeadlineExceededError, LimitExceededError, UnavailableError
from matcher.service.live import LiveCatalogue

__all__ = ["Answer", "EngineWorker", "BatchFn", "WriteFn"]

T = TypeVar("T")

_log = logging.getLogger(__name__)

BatchFn = Callable[[LiveCatalogue, Sequence[Any]], Sequence[Any]]  # payloads → one result (or error) per payload
WriteFn = Callable[[LiveCatalogue], Any]


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A read's result and the version of the model that computed it, both taken on the engine thread in the same
    step: a ReloadModel swaps the model between calls, never inside one, so the label cannot be the next model's."""

    value: T
    model_version: str


@dataclass
class _Task:
    future: Future[Any]
    deadline: float
    batch_fn: BatchFn | None = None   # read tasks: grouped by this function
    payload: Any = None
    write_fn: WriteFn | None = None   # write tasks: run alone, never dropped
    queued_at: float = field(default_factory=time.monotonic)


class EngineWorker:
    def __init__(self, live: LiveCatalogue, *, max_queue: int, max_batch: int, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.live = live
        self.max_queue, self.max_batch = max_queue, max_batch
        self._reads: deque[_Task] = deque()
        self._writes: deque[_Task] = deque()
        self._changed = threading.Condition()  # guards the queues and the counters below
        self._reading = 0        # batches running now
        self._writing = False    # a write has been taken: no batch starts until it is done
        self._stopped = False
        self._threads = [threading.Thread(target=self._run, name=f"matcher-engine-{i}", daemon=True)
                         for i in range(threads)]
        for thread in self._threads:
            thread.start()

    @property
    def queued(self) -> int:
        return len(self._reads) + len(self._writes)

    def read(self, fn: BatchFn, payload: Any, deadline: float) -> Future[Answer[Any]]:
        """Queue a read (its future resolves to an Answer); refused when the queue is full (callers should
        back off) or the worker is stopping."""
        task = _Task(future=Future(), deadline=deadline, batch_fn=fn, payload=payload)
        with self._changed:
            self._check_open()
            if len(self._reads) >= self.max_queue:
                raise LimitExceededError("server busy: too many calls waiting, retry with backoff")
            self._reads.append(task)
            self._changed.notify()
        return task.future

    def write(self, fn: WriteFn) -> Future[Any]:
        """Queue a write. Never refused for a full queue: callers journal first, so it must be applied."""
        task = _Task(future=Future(), deadline=float("inf"), write_fn=fn)
        with self._changed:
            self._check_open()
            self._writes.append(task)
            self._changed.notify_all()
        return task.future

    def swap(self, live: LiveCatalogue) -> None:
        """Serve `live` from now on. Called on the engine thread (as a write), so no call sees half of each."""
        self.live = live

    def stop(self, timeout: float | None = None) -> None:
        """Finish what is queued, then stop."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0.0))

    def _check_open(self) -> None:
        if self._stopped:
            raise UnavailableError("server is shutting down")

    def _take(self) -> _Task | list[_Task] | None:
        """The next write (once no batch runs) or batch of reads; None when stopped and nothing is left."""
        with self._changed:
            while True:
                if self._writes and not self._writing:
                    self._writing = True  # from here no batch starts; wait for those running to finish
                    while self._reading:
                        self._changed.wait()
                    return self._writes.popleft()
                if self._reads and not self._writing:
                    first = self._reads.popleft()
                    batch = [first]
                    while self._reads and len(batch) < self.max_batch and self._reads[0].batch_fn is first.batch_fn:
                        batch.append(self._reads.popleft())
                    self._reading += 1
                    return batch
                if self._stopped and not self._writes and not self._reads and not self._writing:
                    return None
                self._changed.wait()

    def _done(self, *, wrote: bool) -> None:
        with self._changed:
            if wrote:
                self._writing = False
            else:
                self._reading -= 1
            self._changed.notify_all()

    def _run(self) -> None:
        while (work := self._take()) is not None:
            if isinstance(work, list):
                try:
                    self._run_batch(work)
                finally:
                    self._done(wrote=False)
            else:
                try:
                    self._run_write(work)
                finally:
                    self._done(wrote=True)

    def _run_write(self, task: _Task) -> None:
        if not task.future.set_running_or_notify_cancel():
            _log.warning("a journaled write was cancelled by its caller; applying it anyway")
        try:
            assert task.write_fn is not None
            result = task.write_fn(self.live)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting handler, which maps it
            _set(task.future, exc=exc)
        else:
            _set(task.future, result=result)

    def _run_batch(self, batch: list[_Task]) -> None:
        now = time.monotonic()
        live_tasks = []
        for task in batch:
            if task.deadline <= now:
                if task.future.set_running_or_notify_cancel():
                    task.future.set_exception(DeadlineExceededError("deadline passed while queued"))
            elif task.future.set_running_or_notify_cancel():
                live_tasks.append(task)
        if not live_tasks:
            return
        fn = live_tasks[0].batch_fn
        assert fn is not None
        live = self.live
        try:
            results = fn(live, [t.payload for t in live_tasks])
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets the error
            for task in live_tasks:
                task.future.set_exception(exc)
            return
        for task, result in zip(live_tasks, results, strict=True):
            if isinstance(result, BaseException):
                task.future.set_exception(result)
            else:
                task.future.set_result(Answer(result, live.bundle.version))


def _set(future: Future[Any], *, result: Any = None, exc: BaseException | None = None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
