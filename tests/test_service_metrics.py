"""Issue 17: Prometheus metrics a server operator expects (setting `metrics_port`): request counts and latency per
RPC and status, queue depth, catalogue size, model version and the journal sequence applied."""

from __future__ import annotations

import socket
import urllib.request

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.service_world import Env, StartFn, _active_seekers, _fails, _job_like


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode("utf-8")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_count_every_rpc_by_status_and_read_the_engine(env: Env, fresh: StartFn) -> None:
    served = fresh(metrics_port=_free_port())
    port = served.running.metrics_port
    seeker = _active_seekers(env, 1)[0]
    served.client.recommend_jobs(seeker, k=5)
    served.client.recommend_jobs(seeker, k=5)
    _fails(grpc.StatusCode.NOT_FOUND, served.client.recommend_jobs, "no-such-seeker", k=5)
    _fails(grpc.StatusCode.INVALID_ARGUMENT, served.client.recommend_jobs, seeker, k=0)
    job = env.open_jobs().index[0]
    served.client.upsert_jobs([_job_like(env, seeker, str(job), title="metrics test job")])
    got = _scrape(port)
    ok = (("code", "OK"), ("rpc", "RecommendJobs"))
    assert got[("matcher_requests_total", ok)] == 2
    assert got[("matcher_requests_total", (("code", "NOT_FOUND"), ("rpc", "RecommendJobs")))] == 1
    assert got[("matcher_requests_total", (("code", "INVALID_ARGUMENT"), ("rpc", "RecommendJobs")))] == 1
    assert got[("matcher_requests_total", (("code", "OK"), ("rpc", "UpsertJobs")))] == 1
    assert got[("matcher_request_seconds_count", (("rpc", "RecommendJobs"),))] == 4
    assert got[("matcher_request_seconds_bucket", (("le", "+Inf"), ("rpc", "RecommendJobs")))] == 4
    info = served.client.model_info()
    assert got[("matcher_model_info", (("version", info.version),))] == 1
    assert got[("matcher_open_jobs", ())] == info.n_open_jobs
    assert got[("matcher_seekers", ())] == info.n_seekers
    assert got[("matcher_journal_sequence", ())] == info.journal_sequence >= 1
    assert got[("matcher_queue_depth", ())] == 0


def test_metrics_are_off_by_default_and_a_bad_port_is_a_setting_error(env: Env, fresh: StartFn) -> None:
    from matcher.errors import MatcherError

    assert fresh().running.metrics_port == 0
    with pytest.raises(MatcherError, match="metrics_port"):
        fresh(metrics_port=70000)
