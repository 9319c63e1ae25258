"""The engine thread: the one owner of the LiveCatalogue, fed by the gRPC handler threads.

Handler threads put tasks on a queue and wait on a Future. The engine thread takes tasks in arrival order; read
tasks of one kind that are waiting together run as one batch (one matrix product, one tree pass), writes run one
at a time in order. Ordering is what makes a write visible to every request that arrives after it returns, with no
locks on the arrays. A read whose caller gave up (deadline passed, Future cancelled) is dropped unrun.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
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


_STOP = object()


class EngineWorker:
    def __init__(self, live: LiveCatalogue, *, max_queue: int, max_batch: int) -> None:
        self.live = live
        self.max_queue, self.max_batch = max_queue, max_batch
        self._queue: queue.Queue[Any] = queue.Queue()
        self._held: _Task | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="matcher-engine", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def read(self, fn: BatchFn, payload: Any, deadline: float) -> Future[Answer[Any]]:
        """Queue a read (its future resolves to an Answer); refused when the queue is full (callers should
        back off) or the worker is stopping."""
        self._check_open()
        if self._queue.qsize() >= self.max_queue:
            raise LimitExceededError("server busy: too many calls waiting, retry with backoff")
        task = _Task(future=Future(), deadline=deadline, batch_fn=fn, payload=payload)
        self._queue.put(task)
        return task.future

    def write(self, fn: WriteFn) -> Future[Any]:
        """Queue a write. Never refused for a full queue: callers journal first, so it must be applied."""
        self._check_open()
        task = _Task(future=Future(), deadline=float("inf"), write_fn=fn)
        self._queue.put(task)
        return task.future

    def swap(self, live: LiveCatalogue) -> None:
        """Serve `live` from now on. Called on the engine thread (as a write), so no call sees half of each."""
        self.live = live

    def stop(self, timeout: float | None = None) -> None:
        """Finish what is queued, then stop."""
        self._stopped = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _check_open(self) -> None:
        if self._stopped:
            raise UnavailableError("server is shutting down")

    def _next(self) -> Any:
        if self._held is not None:
            task, self._held = self._held, None
            return task
        return self._queue.get()

    def _run(self) -> None:
        while True:
            task = self._next()
            if task is _STOP:
                return
            if task.write_fn is not None:
                self._run_write(task)
                continue
            batch = [task]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP or more.batch_fn is not task.batch_fn:
                    self._held = more  # keeps arrival order: it runs right after this batch
                    break
                batch.append(more)
            self._run_batch(batch)

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
