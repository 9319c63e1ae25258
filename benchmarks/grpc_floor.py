"""The bare gRPC floor for the service benchmark: a server that answers every MatchService call with bytes recorded
from the real server (the same RecommendJobs response size, k matches with their reasons), doing no work at all.

    python -m benchmarks.grpc_floor --responses FILE [--threads 32]

FILE is JSON {method name: hex of a serialized response} (bench_service records it from the real server); a
method it lacks answers an empty message. Same Python gRPC stack, thread pool and message limits as `matcher
serve`, so the load against it is what this machine's gRPC can do at that response size: the ceiling the engine's
requests/s are reported against (bench_service's `floor_ratio`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

__all__ = ["main"]
_SERVICE = "matcher.v1.MatchService"
_METHODS = ("RecommendJobs", "RecommendSeekers", "UpsertJobs", "UpsertSeekers", "GetModelInfo", "ScorePairs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args(argv)
    recorded = {k: bytes.fromhex(v) for k, v in json.loads(args.responses.read_text(encoding="utf-8")).items()}

    def answer(payload: bytes) -> Any:
        return lambda _request, _context: payload  # raw bytes in, raw bytes out: no protobuf work on either side

    handlers = {m: grpc.unary_unary_rpc_method_handler(answer(recorded.get(m, b""))) for m in _METHODS}
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.threads),
                         options=[("grpc.max_receive_message_length", 4 << 20),
                                  ("grpc.max_send_message_length", 4 << 20)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"serving {_SERVICE} on 127.0.0.1:{port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop(1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
