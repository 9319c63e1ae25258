"""Progress for long work: counts, rate and ETA on stderr, at most one line every few seconds."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    def __init__(self, what: str, total: int, *, every_seconds: float = 2.0) -> None:
        self.what, self.total, self.every = what, total, every_seconds
        self.done = 0
        self.detail = ""
        self.started = self._last = time.perf_counter()

    def advance(self, n: int = 1, detail: str = "") -> None:
        """Count n more done; `detail` (e.g. the validation score so far) is shown on the line when printed."""
        self.done += n
        self.detail = detail
        now = time.perf_counter()
        if now - self._last >= self.every or self.done >= self.total:
            self._last = now
            self._print(now)

    def _print(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        detail = f", {self.detail}" if self.detail else ""
        print(f"  {self.what}: {self.done:,}/{self.total:,} ({rate:,.1f}/s, elapsed {elapsed:,.0f}s, "
              f"ETA {eta:,.0f}s{detail})", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.done < self.total:
            self._print(time.perf_counter())
