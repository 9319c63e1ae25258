"""The server's one settings object: defaults, a TOML file (matcher/service/serve.example.toml), CLI overrides.

Every bound the service enforces lives here, validated once at start-up, so a bad config fails before the port
opens rather than on the first request.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError
from matcher.policy.priority import DEFAULT_GROUPS, PriorityPolicy

__all__ = ["ServerSettings", "load_settings", "priority_policy"]


@dataclass(frozen=True)
class ServerSettings:
    data: str = ""                        # FORMAT.md folder the catalogue starts from
    model: str = ""                       # model directory (versions/ + CURRENT)
    journal: str = "matcher-journal.sqlite"  # durable log of live writes, replayed on start (SQLite file)
    store: str = ""                       # "" = the SQLite `journal`; "postgresql://..." = a journal replicas share
    replica_poll_s: float = 0.2           # shared journal: how often a replica looks for the others' writes
    snapshot: str = "auto"                # served state saved for a fast start: "auto" = JOURNAL.snapshot, "" = off
    host: str = "127.0.0.1"
    port: int = 50051                     # 0 = any free port (tests)
    as_of: str = "data"                   # serving clock: "data" (latest time in the folder, as batch), "now", ISO
    n_candidates: int = 200               # retrieval depth re-ranked by the model (same as batch)
    retriever: str = "exact"              # "exact" (block-max GEMM) or "hnsw" (faiss graph, the `ann` extra)
    max_k: int = 100
    max_items_per_call: int = 1000        # profiles, ids or events in one write call
    max_pairs_per_call: int = 10_000      # ScorePairs
    max_list_items: int = 100             # any list inside a request: filter cities, job types, groups
    max_message_bytes: int = 4 << 20      # gRPC receive and send limit
    max_queue: int = 256                  # calls waiting for the engine; beyond it RESOURCE_EXHAUSTED
    max_batch: int = 32                   # recommendation calls the engine serves in one pass
    engine_threads: int = 1               # batches run side by side (2 measured no faster at 200k hnsw: GIL-bound)
    request_timeout_s: float = 10.0       # deadline for calls that bring none
    handler_threads: int = 32
    grace_s: float = 10.0                 # SIGTERM: the whole stop, drain included, takes at most this long
    drain_s: float = 1.0                  # SIGTERM: health says NOT_SERVING this long before the port closes
    reflection: bool = True
    metrics_port: int = 0                 # Prometheus /metrics on host:metrics_port (service.metrics); 0 = off
    log_format: str = "text"              # "json": one object per line with the request id (service.logs)
    auth_tokens: tuple[str, ...] = field(default=())  # accepted bearer tokens; empty = no authentication
    tls_cert: str = ""                    # PEM files; both set = TLS, neither = plaintext
    tls_key: str = ""
    # Priority groups (就业援助对象): RecommendSeekers appends priority seekers after the model's top k until they
    # hold this share of the list (0 = off); the model's top k is never reordered or shortened.
    priority_share: float = 0.0
    priority_groups: tuple[str, ...] = DEFAULT_GROUPS

    def __post_init__(self) -> None:
        positive = ("n_candidates", "max_k", "max_items_per_call", "max_pairs_per_call", "max_list_items",
                    "max_message_bytes",
                    "max_queue", "max_batch", "engine_threads", "request_timeout_s", "handler_threads")
        for name in positive:
            if not getattr(self, name) > 0:
                raise MatcherError(f"setting {name} must be positive, got {getattr(self, name)!r}")
        for name in ("port", "metrics_port"):
            if not 0 <= getattr(self, name) <= 65535:
                raise MatcherError(f"setting {name} must be 0..65535, got {getattr(self, name)}")
        if self.store and not self.store.startswith(("postgresql://", "postgres://")):
            raise MatcherError("setting store: \"\" (SQLite journal) or a postgresql:// URL")
        if self.log_format not in ("text", "json"):
            raise MatcherError(f"setting log_format must be \"text\" or \"json\", got {self.log_format!r}")
        if not 0 < self.replica_poll_s <= 10:
            raise MatcherError(f"setting replica_poll_s must be in (0, 10] seconds, got {self.replica_poll_s}")
        for name in ("grace_s", "drain_s"):
            if getattr(self, name) < 0:
                raise MatcherError(f"setting {name} must not be negative, got {getattr(self, name)}")
        from matcher.engine.retrieval import RETRIEVERS

        if self.retriever not in RETRIEVERS:
            raise MatcherError(f"setting retriever: {self.retriever!r} is not one of {sorted(RETRIEVERS)}"
                               + (" (install the `ann` extra: faiss-cpu)" if self.retriever == "hnsw" else ""))
        if self.max_k > self.n_candidates:
            raise MatcherError(f"setting max_k ({self.max_k}) cannot exceed n_candidates ({self.n_candidates})")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise MatcherError("settings tls_cert and tls_key must be given together")
        if not 0.0 <= self.priority_share < 1.0:
            raise MatcherError(f"setting priority_share must be in [0, 1), got {self.priority_share}")
        if self.priority_share > 0 and not self.priority_groups:
            raise MatcherError("setting priority_groups: empty while priority_share is on")
        if any(not t or t != t.strip() for t in self.auth_tokens):
            raise MatcherError("setting auth_tokens: tokens must be non-empty, without surrounding spaces")


def priority_policy(settings: ServerSettings) -> PriorityPolicy | None:
    if settings.priority_share <= 0:
        return None
    return PriorityPolicy(enabled=True, groups=settings.priority_groups, min_share=settings.priority_share)


def load_settings(path: str | Path | None = None, **overrides: Any) -> ServerSettings:
    """Defaults, then the TOML file's [server] table, then non-None overrides (CLI flags)."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            table = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MatcherError(f"config {path}: {exc}") from exc
        stray = sorted(k for k in table if k != "server")
        if stray:  # a setting outside [server] would be ignored silently: the server would run on the default
            raise MatcherError(f"config {path}: settings belong in the [server] table, found {', '.join(stray)}")
        values.update(table.get("server", {}))
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name: f for f in dataclasses.fields(ServerSettings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise MatcherError(f"unknown setting(s): {', '.join(unknown)}")
    for name in ("auth_tokens", "priority_groups"):
        if name in values:
            values[name] = tuple(values[name])
    for name, value in values.items():
        default = known[name].default
        expected = type(default) if default is not dataclasses.MISSING else None
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            values[name] = value = float(value)
        if expected is not None and not isinstance(value, expected):
            raise MatcherError(f"setting {name} must be a {expected.__name__}, got {value!r}")
    return ServerSettings(**values)
