"""Prometheus metrics of one serving process (setting `metrics_port`; 0 = off), on its own HTTP port.

- `matcher_requests_total{rpc, code}`: RPCs answered, by method and gRPC status code (counted where the status is
  decided: `service.errors.rpc_method`).
- `matcher_request_seconds{rpc}`: their latency, a histogram from 1 ms to 10 s.
- `matcher_queue_depth`, `matcher_open_jobs`, `matcher_seekers`, `matcher_journal_sequence` (the last journal
  write this process has applied), `matcher_journal_lag` (writes committed to the journal, by any replica, that
  this one does not serve yet; NaN when the journal is unreachable), `matcher_model_info{version}` = 1: read
  from the engine at scrape time, so they are never stale and cost nothing between scrapes.

Each server has its own registry (tests start several in one process); prometheus_client is imported only when
metrics are switched on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["ServiceMetrics", "LATENCY_BUCKETS"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """Counters and histograms the handlers feed, gauges read from `core()` (None while loading) at scrape time."""

    def __init__(self, core: Callable[[], Any]) -> None:
        import prometheus_client as prom

        self.registry = prom.CollectorRegistry()
        self.requests = prom.Counter("matcher_requests", "RPCs answered, by method and gRPC status code",
                                     ["rpc", "code"], registry=self.registry)
        self.latency = prom.Histogram("matcher_request_seconds", "RPC latency in the handler, by method", ["rpc"],
                                      buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_EngineCollector(core))
        self._http: Any = None

    def observe(self, rpc: str, code: str, seconds: float) -> None:
        self.requests.labels(rpc=rpc, code=code).inc()
        self.latency.labels(rpc=rpc).observe(seconds)

    def start(self, host: str, port: int) -> int:
        """Serve /metrics on host:port (0 = any free port); returns the port."""
        import prometheus_client as prom

        self._http, _ = prom.start_http_server(port, addr=host, registry=self.registry)
        return int(self._http.server_port)

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None


class _EngineCollector:
    def __init__(self, core: Callable[[], Any]) -> None:
        self._core = core

    def describe(self) -> list[Any]:
        return []  # collected at scrape time only: nothing to check at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        core = self._core()
        if core is None:  # still loading: the request counters say so through UNAVAILABLE
            return
        info = core.info()
        yield GaugeMetricFamily("matcher_queue_depth", "calls waiting for the engine thread", core.worker.queued)
        yield GaugeMetricFamily("matcher_open_jobs", "jobs retrieval may return", info.n_open_jobs)
        yield GaugeMetricFamily("matcher_seekers", "seekers in the live catalogue", info.n_seekers)
        yield GaugeMetricFamily("matcher_journal_sequence", "last journal write applied", info.journal_sequence)
        try:
            lag = float(core.journal_lag())
        except Exception:  # journal unreachable: the gauge says unknown rather than failing the scrape
            lag = float("nan")
        yield GaugeMetricFamily("matcher_journal_lag", "journal writes committed but not yet served", lag)
        model = GaugeMetricFamily("matcher_model_info", "the model version served", labels=["version"])
        model.add_metric([info.version], 1.0)
        yield model
