"""Structured logs for the server (setting `log_format = "json"`): one JSON object per line, with the request id
of the RPC being handled, so a caller's "(request 3f2a...)" leads straight to the server's lines about it.

The id lives in a context variable that `service.errors.rpc_method` sets for the handler thread's call; lines
logged elsewhere (the engine thread, start-up) carry none. Messages are what the code logs, which by rule never
holds personal data or record contents (service.errors keeps internals out of replies; logs follow the same rule).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

__all__ = ["REQUEST", "JsonFormatter", "use_format"]

REQUEST: ContextVar[tuple[str, str] | None] = ContextVar("matcher_request", default=None)  # (request id, rpc)
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        request = REQUEST.get()
        if request is not None:
            line["request_id"], line["rpc"] = request
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_format(kind: str) -> None:
    """Give every root handler (the CLI's, pytest's) the chosen format: "text" or "json"."""
    formatter = JsonFormatter() if kind == "json" else logging.Formatter(_TEXT)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter)
