"""Build and run the gRPC server: MatchService, grpc.health.v1, optional reflection, bearer auth and TLS.

`create_server` wires a server without starting it (tests run it in-process on port 0); `serve` is the process:
open the port with health NOT_SERVING, load and warm up the catalogue, report SERVING, and on SIGTERM / SIGINT
report NOT_SERVING (for `drain_s`), refuse new calls, let in-flight ones finish, then close the journal, all within
`grace_s`.
"""

from __future__ import annotations

import hmac
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from matcher._gen import matcher_pb2_grpc
from matcher.errors import MatcherError
from matcher.service.convert import pb
from matcher.service.core import MatchCore
from matcher.service.errors import MalformedRequests
from matcher.service.logs import use_format
from matcher.service.servicer import MatchServicer
from matcher.service.settings import ServerSettings

__all__ = ["RunningServer", "create_server", "serve", "SERVICE_NAME"]

_log = logging.getLogger("matcher.service")
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["MatchService"].full_name
_OPEN_METHODS = ("/grpc.health.v1.Health/",)  # load balancers probe health without credentials


class _BearerAuth(grpc.ServerInterceptor):
    """Calls must carry `authorization: Bearer <token>` with one of the configured tokens."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self._expected = [f"Bearer {t}".encode() for t in tokens]

        def deny(request: Any, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")

        self._deny = grpc.unary_unary_rpc_method_handler(deny)

    def intercept_service(self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails) -> Any:
        if details.method.startswith(_OPEN_METHODS):
            return continuation(details)
        sent = next((v for k, v in details.invocation_metadata if k == "authorization"), "")
        sent_bytes = sent.encode() if isinstance(sent, str) else bytes(sent)
        # Compare against every token in constant time: no early exit tells which prefix was right.
        ok = False
        for expected in self._expected:
            ok |= hmac.compare_digest(sent_bytes, expected)
        return continuation(details) if ok else self._deny


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    servicer: MatchServicer
    health: health.HealthServicer
    metrics_port: int = 0  # where /metrics is served (setting metrics_port), 0 = off

    def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", SERVICE_NAME):
            self.health.set(name, status)


def _credentials(settings: ServerSettings) -> grpc.ServerCredentials | None:
    if not settings.tls_cert:
        return None
    try:
        key, cert = Path(settings.tls_key).read_bytes(), Path(settings.tls_cert).read_bytes()
    except OSError as exc:
        raise MatcherError(f"TLS key or certificate unreadable: {exc}") from exc
    return grpc.ssl_server_credentials([(key, cert)])


def create_server(settings: ServerSettings, core: MatchCore | None = None) -> RunningServer:
    """A configured, bound, not yet started server. Health starts NOT_SERVING until `core` is set and ready."""
    interceptors: list[grpc.ServerInterceptor] = [_BearerAuth(settings.auth_tokens)] if settings.auth_tokens else []
    interceptors.append(MalformedRequests(SERVICE_NAME))
    server = grpc.server(
        ThreadPoolExecutor(max_workers=settings.handler_threads, thread_name_prefix="grpc-handler"),
        interceptors=interceptors,
        options=[("grpc.max_receive_message_length", settings.max_message_bytes),
                 ("grpc.max_send_message_length", settings.max_message_bytes)],
        # Calls beyond this are refused by gRPC itself with RESOURCE_EXHAUSTED, before any thread is taken.
        maximum_concurrent_rpcs=settings.max_queue + settings.handler_threads,
    )
    servicer = MatchServicer(settings.request_timeout_s, core)
    matcher_pb2_grpc.add_MatchServiceServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if settings.reflection:
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            server)
    address = f"{settings.host}:{settings.port}"
    credentials = _credentials(settings)
    try:
        port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    except RuntimeError as exc:
        raise MatcherError(f"cannot listen on {address}: {exc}") from exc
    if port == 0:
        raise MatcherError(f"cannot listen on {address}")
    running = RunningServer(server=server, port=port, servicer=servicer, health=health_servicer)
    if settings.metrics_port:
        from matcher.service.metrics import ServiceMetrics

        servicer.metrics = ServiceMetrics(lambda: servicer.core)
        try:
            running.metrics_port = servicer.metrics.start(settings.host, settings.metrics_port)
        except OSError as exc:
            server.stop(0)
            raise MatcherError(f"cannot serve metrics on {settings.host}:{settings.metrics_port}: {exc}") from exc
        _log.info("Prometheus metrics on http://%s:%d/metrics", settings.host, running.metrics_port)
    running.set_serving(False)
    return running


def serve(settings: ServerSettings, *, ready: Callable[[int], None] | None = None,
          stop_event: threading.Event | None = None) -> None:
    """Run until SIGTERM / SIGINT (or `stop_event`). `ready(port)` is called once SERVING."""
    use_format(settings.log_format)
    running = create_server(settings)
    running.server.start()
    _log.info("listening on %s:%d (NOT_SERVING while the catalogue loads)", settings.host, running.port)
    stop = stop_event or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    core = None
    try:
        core = MatchCore(settings)
        running.servicer.core = core
        running.set_serving(True)
        if ready is not None:
            ready(running.port)
        stop.wait()
    finally:
        _shut_down(running, core, settings)


def _shut_down(running: RunningServer, core: MatchCore | None, settings: ServerSettings) -> None:
    """Within grace_s in all: health NOT_SERVING while still answering for drain_s (load balancers see it and move
    away, and a health probe reads NOT_SERVING rather than a closed port), then new calls refused while those in
    flight finish, then the engine and the journal closed. A call still running at the end is cut off."""
    end = time.monotonic() + settings.grace_s
    drain = min(settings.drain_s, settings.grace_s) if core is not None else 0.0  # nothing served: nothing to drain
    _log.info("stopping: NOT_SERVING for %gs, then %gs grace for calls in flight", drain, settings.grace_s - drain)
    running.set_serving(False)
    time.sleep(drain)
    running.server.stop(max(end - time.monotonic(), 0.0)).wait()
    if running.servicer.metrics is not None:
        running.servicer.metrics.stop()
    if core is not None:
        core.close(timeout=max(end - time.monotonic(), 0.1))
    _log.info("stopped")
