"""The gRPC matching service (matcher.v1.MatchService): server, client and the engine thread behind them.

Names are imported on first use, so that `from matcher.service.client import MatchClient` needs only grpcio and
protobuf (the client-only install), not the engine behind the server.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["MatchClient", "MatchCore", "ServerSettings", "create_server", "serve", "load_settings"]

_HOME = {"MatchClient": "client", "MatchCore": "core", "create_server": "server", "serve": "server",
         "ServerSettings": "settings", "load_settings": "settings"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
