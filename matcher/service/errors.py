"""The one place that turns engine errors into gRPC status codes.

Callers see the error's public message (field and row, never cell values, paths or stack traces) and a request id
that the server log carries with the full story. Anything unexpected becomes INTERNAL with the request id only.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError

from matcher.errors import (
    DataValidationError,
    DeadlineExceededError,
    InvalidRequestError,
    LimitExceededError,
    MatcherError,
    ModelError,
    NotFoundError,
    UnavailableError,
)
from matcher.service.logs import REQUEST

__all__ = ["status_for", "rpc_method", "new_request_id", "MalformedRequests"]

_log = logging.getLogger("matcher.service")

_CODES: tuple[tuple[type[MatcherError], grpc.StatusCode], ...] = (
    (DataValidationError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (LimitExceededError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (UnavailableError, grpc.StatusCode.UNAVAILABLE),
    (DeadlineExceededError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (ModelError, grpc.StatusCode.FAILED_PRECONDITION),
)

T = TypeVar("T")


class _Malformed:
    """What a request that protobuf cannot parse becomes, so that the handler answers it like any bad input."""


_MALFORMED = _Malformed()


class MalformedRequests(grpc.ServerInterceptor):
    """Bytes that do not parse as the request message (a string field that is not UTF-8, a truncated body) fail in
    grpcio's own deserialisation, which answers INTERNAL: the caller's mistake must read INVALID_ARGUMENT. The
    handler's deserializer is wrapped so the error reaches `rpc_method` instead."""

    def __init__(self, service: str) -> None:
        self._prefix = f"/{service}/"

    def intercept_service(self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None or handler.request_deserializer is None or not details.method.startswith(self._prefix):
            return handler
        parse = handler.request_deserializer

        def tolerant(data: bytes) -> Any:
            try:
                return parse(data)
            except DecodeError:
                return _MALFORMED

        return handler._replace(request_deserializer=tolerant)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str | None]:
    """(code, public message) for an error; message None = say nothing but the request id."""
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code, exc.public_message
    return grpc.StatusCode.INTERNAL, None


def rpc_method(default_timeout: Callable[[Any], float]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Wrap a servicer method `(self, request, context, request_id, deadline)`: request id, deadline, error mapping.

    The deadline is the caller's (gRPC time_remaining) or, when the caller set none, the configured timeout."""

    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def handler(self: Any, request: Any, context: grpc.ServicerContext) -> T:
            request_id = new_request_id()
            scope = REQUEST.set((request_id, method.__name__))  # service.logs: every line of this call names it
            started = time.monotonic()
            remaining = context.time_remaining()
            budget = default_timeout(self) if remaining is None else min(remaining, default_timeout(self))
            deadline = started + budget
            metrics = getattr(self, "metrics", None)  # service.metrics.ServiceMetrics, when switched on
            try:
                if request is _MALFORMED:
                    raise InvalidRequestError("request: not a valid message (is every string field UTF-8?)")
                answer = method(self, request, context, request_id, deadline)
                if metrics is not None:
                    metrics.observe(method.__name__, "OK", time.monotonic() - started)
                return answer
            except Exception as exc:  # noqa: BLE001 - this is the mapping point
                code, message = status_for(exc)
                if metrics is not None:
                    metrics.observe(method.__name__, code.name, time.monotonic() - started)
                if code == grpc.StatusCode.INTERNAL:
                    _log.exception("request %s (%s) failed", request_id, method.__name__)
                else:
                    _log.info("request %s (%s): %s: %s", request_id, method.__name__, code.name, message)
                detail = f"{message} (request {request_id})" if message else f"internal error (request {request_id})"
                context.abort(code, detail)
                raise AssertionError("unreachable: context.abort raises") from exc
            finally:
                REQUEST.reset(scope)

        return handler

    return wrap
