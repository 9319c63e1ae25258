"""The gRPC matching service (matcher.v1.MatchService): server, client and the engine thread behind them."""

from matcher.service.client import MatchClient
from matcher.service.core import MatchCore
from matcher.service.server import create_server, serve
from matcher.service.settings import ServerSettings, load_settings

__all__ = ["MatchClient", "MatchCore", "ServerSettings", "create_server", "serve", "load_settings"]
