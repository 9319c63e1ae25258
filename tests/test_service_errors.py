"""The gRPC service (matcher.v1.MatchService) end to end over real local ports: errors, bounds and status codes.

Bad requests name the field and index and never echo cell values; limits on items, pairs, message size and
every list; deadlines in the queue and in the engine; a full queue; authentication; unexpected errors. Tests that
only read use the session's read-only server (`ro`); those that write, patch or need other settings start their
own (`fresh`; see tests/service_world.py).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc
import pytest

from matcher.errors import MatcherError
from matcher.service import queries
from matcher.service.client import MatchClient
from matcher.service.convert import pb, recommend_jobs_request, recommend_seekers_request
from tests.service_world import (
    Code,
    Env,
    Served,
    StartFn,
    _active_seekers,
    _fails,
    _ids,
    _job_like,
    _public,
)

# --------------------------------------------------------------------------------------------------------------
# Errors and bounds
# --------------------------------------------------------------------------------------------------------------


def test_k_bounds_and_missing_or_unknown_ids(env: Env, ro: Served) -> None:
    seeker = _active_seekers(env, 1)[0]
    max_k = ro.settings.max_k
    for k in (0, max_k + 1):
        assert _public(_fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, seeker, k=k)).startswith("k:")
        _fails(Code.INVALID_ARGUMENT, ro.client.recommend_seekers, env.jobs.index[0], k=k)
    assert len(ro.client.recommend_jobs(seeker, k=max_k)) == min(max_k, len(env.open_jobs()))
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, k=5)  # neither seeker_id nor profile
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_seekers, k=5)
    assert _public(_fails(Code.NOT_FOUND, ro.client.recommend_jobs, "no-such-seeker", k=5)).startswith("seeker_id")
    _fails(Code.NOT_FOUND, ro.client.recommend_seekers, "no-such-job", k=5)
    details = _fails(Code.NOT_FOUND, ro.client.score_pairs, [seeker, seeker], [env.jobs.index[0], "no-such-job"])
    assert _public(details).startswith("job_ids[1]")
    _fails(Code.INVALID_ARGUMENT, ro.client.score_pairs, [seeker], [])
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, profile={"seeker_id": "x", "lat": "95", "lon": "1"}, k=3)


@pytest.mark.parametrize(("field", "bad", "problem"), [
    ("lat", "95", "outside"),
    ("posted_at", "last tuesday", "ISO 8601"),
    ("job_type", "temp-to-hire", "expected one of"),
    ("salary_min", "123456789", "greater than"),  # above salary_max
])
def test_upsert_with_a_bad_cell_names_field_and_index_and_stores_nothing(env: Env, fresh: StartFn, field: str,
                                                                          bad: str, problem: str) -> None:
    server = fresh()
    client = server.client
    seeker = _active_seekers(env, 1)[0]
    before = client.model_info()
    good = _job_like(env, seeker, "GOOD-1")
    wrong = _job_like(env, seeker, "BAD-1", **{field: bad})
    details = _fails(Code.INVALID_ARGUMENT, client.upsert_jobs, [good, wrong])
    public = _public(details)
    assert public.startswith(f"jobs[1].{field}: ") and problem in public, public
    assert bad not in public and bad not in details.split("(request")[0]
    after = client.model_info()
    assert (after.n_jobs, after.n_open_jobs, after.journal_sequence) == (before.n_jobs, before.n_open_jobs,
                                                                         before.journal_sequence)
    _fails(Code.NOT_FOUND, client.recommend_seekers, "GOOD-1", k=1)
    assert "GOOD-1" not in _ids(client.recommend_jobs(seeker, k=100))


def test_upsert_seekers_with_a_bad_cell_stores_nothing(env: Env, fresh: StartFn) -> None:
    server = fresh()
    client = server.client
    template = env.seeker(_active_seekers(env, 1)[0])
    records = [template | {"seeker_id": "OK-1"}, template | {"seeker_id": "OK-2"},
               template | {"seeker_id": "BAD-2", "updated_at": "31/12/2025"}]
    public = _public(_fails(Code.INVALID_ARGUMENT, client.upsert_seekers, records))
    assert public.startswith("seekers[2].updated_at: ") and "31/12/2025" not in public
    assert client.model_info().journal_sequence == 0
    _fails(Code.NOT_FOUND, client.recommend_jobs, "OK-1", k=1)


def test_upsert_with_a_duplicate_id_does_not_echo_the_id(env: Env, fresh: StartFn) -> None:
    """Ids are cell values too: errors must name field and index only."""
    server = fresh()
    client = server.client
    seeker = _active_seekers(env, 1)[0]
    secret_id = "job-of-zhang-san-13800138000"
    public = _public(_fails(Code.INVALID_ARGUMENT, client.upsert_jobs,
                            [_job_like(env, seeker, secret_id), _job_like(env, seeker, secret_id)]))
    assert public.startswith("jobs[1].job_id")
    assert secret_id not in public, f"the duplicate id is echoed back to the caller: {public!r}"


def test_limits_items_pairs_and_message_size(env: Env, fresh: StartFn) -> None:
    server = fresh(max_items_per_call=3, max_pairs_per_call=4, max_message_bytes=64 * 1024)
    client = server.client
    seeker = _active_seekers(env, 1)[0]
    jobs = [_job_like(env, seeker, f"L-{i}") for i in range(4)]
    _fails(Code.RESOURCE_EXHAUSTED, client.upsert_jobs, jobs)
    _fails(Code.RESOURCE_EXHAUSTED, client.upsert_seekers, [env.seeker(seeker) | {"seeker_id": f"S-{i}"}
                                                             for i in range(4)])
    _fails(Code.RESOURCE_EXHAUSTED, client.delete_jobs, ["a", "b", "c", "d"])
    _fails(Code.RESOURCE_EXHAUSTED, client.delete_seekers, ["a", "b", "c", "d"])
    _fails(Code.RESOURCE_EXHAUSTED, client.record_events,
           [{"seeker_id": seeker, "job_id": "x", "event": "viewed"}] * 4)
    job = env.jobs.index[0]
    _fails(Code.RESOURCE_EXHAUSTED, client.score_pairs, [seeker] * 5, [job] * 5)
    assert client.model_info().journal_sequence == 0
    # At the limit is fine.
    assert len(client.score_pairs([seeker] * 4, [job] * 4)) == 4
    assert client.upsert_jobs(jobs[:3]).written == 3

    huge = _job_like(env, seeker, "HUGE", text="很长的岗位描述" * 10_000)  # ~210 kB of UTF-8
    _fails(Code.RESOURCE_EXHAUSTED, client.upsert_jobs, [huge])
    _fails(Code.NOT_FOUND, client.recommend_seekers, "HUGE", k=1)


def _blocking_recommend_jobs(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event, list[Any]]:
    """Make the engine's RecommendJobs batches wait for `release`; returns (entered, release, payloads run)."""
    entered, release = threading.Event(), threading.Event()
    seen: list[Any] = []
    original = queries.recommend_jobs

    def slow(live: Any, batch: Any) -> Any:
        seen.extend(batch)
        entered.set()
        release.wait(10)
        return original(live, batch)

    monkeypatch.setattr(queries, "recommend_jobs", slow)
    return entered, release, seen


def test_deadlines(env: Env, fresh: StartFn, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh(request_timeout_s=0.5)
    stub = server.client.stub
    seeker, other = _active_seekers(env, 2)
    # A deadline the client gives that is already over.
    _fails(Code.DEADLINE_EXCEEDED, stub.RecommendJobs, recommend_jobs_request(5, seeker), timeout=0.000001)

    entered, release, seen = _blocking_recommend_jobs(monkeypatch)
    try:
        # The engine is stuck on this call; the server's request_timeout_s (0.5 s) is shorter than the client's.
        blocker = stub.RecommendJobs.future(recommend_jobs_request(5, seeker), timeout=20)
        assert entered.wait(5)
        # A call with a short client deadline gives up while queued ...
        _fails(Code.DEADLINE_EXCEEDED, stub.RecommendJobs, recommend_jobs_request(5, other), timeout=0.2)
        # ... and one without a deadline of its own gets the server's request_timeout_s: with no client deadline,
        # DEADLINE_EXCEEDED can only come from the server.
        details = _fails(Code.DEADLINE_EXCEEDED, stub.RecommendJobs, recommend_jobs_request(5, "only-queued"))
        assert _public(details) == "deadline exceeded"
        with pytest.raises(grpc.RpcError) as info:
            blocker.result(timeout=20)
        assert info.value.code() == Code.DEADLINE_EXCEEDED  # type: ignore[attr-defined]
        assert _public(info.value.details()) == "deadline exceeded"  # type: ignore[attr-defined]
    finally:
        release.set()
    assert len(server.client.recommend_jobs(other, k=3)) == 3  # queued behind the expired calls
    assert "only-queued" not in [q.seeker_id for q in seen], "a call whose deadline passed in the queue was run"


def test_a_full_queue_is_resource_exhausted(env: Env, fresh: StartFn, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh(max_queue=1, handler_threads=4, engine_threads=1)  # one call runs, one waits
    assert server.core is not None
    seeker = _active_seekers(env, 1)[0]
    entered, release, _ = _blocking_recommend_jobs(monkeypatch)
    try:
        first = server.client.stub.RecommendJobs.future(recommend_jobs_request(5, seeker), timeout=20)
        assert entered.wait(5)
        second = server.client.stub.RecommendJobs.future(recommend_jobs_request(5, seeker), timeout=20)
        limit = time.monotonic() + 5
        while server.core.worker.queued < 1 and time.monotonic() < limit:
            time.sleep(0.01)
        assert server.core.worker.queued == 1
        details = _fails(Code.RESOURCE_EXHAUSTED, server.client.recommend_jobs, seeker, k=5)
        assert "retry" in _public(details)
    finally:
        release.set()
    assert len(first.result(timeout=20).matches) == len(second.result(timeout=20).matches) == 5


def test_authentication(env: Env, fresh: StartFn) -> None:
    server = fresh(auth_tokens=("tok-A", "tok-B"))
    seeker = _active_seekers(env, 1)[0]
    with MatchClient(server.target, timeout=20) as anonymous:
        _fails(Code.UNAUTHENTICATED, anonymous.recommend_jobs, seeker, k=3)
        _fails(Code.UNAUTHENTICATED, anonymous.model_info)
        _fails(Code.UNAUTHENTICATED, anonymous.upsert_jobs, [_job_like(env, seeker, "SNEAKY")])
        assert anonymous.health() == "SERVING"  # load balancers probe without credentials
    with MatchClient(server.target, token="tok-C", timeout=20) as wrong:
        _fails(Code.UNAUTHENTICATED, wrong.model_info)
    with MatchClient(server.target, token="tok-A", timeout=20) as good:
        assert len(good.recommend_jobs(seeker, k=3)) == 3
        assert good.model_info().n_jobs == len(env.jobs)  # SNEAKY was not written
    with MatchClient(server.target, token="tok-B", timeout=20) as good:
        assert good.model_info().journal_sequence == 0
    with MatchClient(server.target, token="tok-A ", timeout=20) as padded:
        _fails(Code.UNAUTHENTICATED, padded.model_info)


def test_unexpected_errors_are_internal_without_details(env: Env, fresh: StartFn,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh()
    assert server.core is not None
    seeker = _active_seekers(env, 1)[0]

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(server.core, "info", boom)  # on the handler thread
    details = _fails(Code.INTERNAL, server.client.model_info)
    assert _public(details) == "internal error"
    assert "secret" not in details and "passwd" not in details

    monkeypatch.setattr(queries, "recommend_jobs", boom)  # on the engine thread
    details = _fails(Code.INTERNAL, server.client.recommend_jobs, seeker, k=3)
    assert _public(details) == "internal error" and "secret" not in details
    monkeypatch.undo()
    assert len(server.client.recommend_jobs(seeker, k=3)) == 3  # the engine thread survived


# --------------------------------------------------------------------------------------------------------------
# Hardening (issue 13): every request is bounded and answered with the right status
# --------------------------------------------------------------------------------------------------------------


def test_every_list_in_a_request_is_bounded(env: Env, ro: Served) -> None:
    """30,000 filter cities once held the engine thread for 12 s; now any list beyond max_list_items is refused
    before the engine sees it."""
    seeker = _active_seekers(env, 1)[0]
    many = [f"city {i}" for i in range(30_000)]
    details = _fails(Code.RESOURCE_EXHAUSTED, ro.client.stub.RecommendJobs, recommend_jobs_request(
        k=5, seeker_id=seeker, flt=queries.JobFilter(cities=tuple(many))), timeout=10)
    assert "filter.cities" in details
    _fails(Code.RESOURCE_EXHAUSTED, ro.client.stub.RecommendSeekers, recommend_seekers_request(
        k=5, job_id=str(env.jobs.index[0]), flt=queries.SeekerFilter(priority_groups=tuple(many[:101]))))
    _fails(Code.RESOURCE_EXHAUSTED, ro.client.stub.RecommendNearby,
           pb.RecommendNearbyRequest(lat=30.0, lon=120.0, k=5, job_types=["gig"] * 101))
    assert ro.client.recommend_jobs(seeker, k=3)  # the server is still answering


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("headcount", "5000000000", "outside"), ("headcount", str(2**63 - 1), "outside"),
    ("headcount", "200000", "at most 100,000"),
    ("salary_max", "1e300", "outside"), ("job_id", "x" * 1_000_000, "at most 256 characters")])
def test_numbers_and_ids_are_bounded(env: Env, fresh: StartFn, field: str, value: str, problem: str) -> None:
    server = fresh()
    seeker = _active_seekers(env, 1)[0]
    details = _fails(Code.INVALID_ARGUMENT, server.client.upsert_jobs, [{**_job_like(env, seeker, "BIG"),
                                                                         field: value}])
    assert f"jobs[0].{field}" in details and problem in details and "x" * 100 not in details
    assert server.core is not None and server.core.store.sequence == 0
    assert server.client.labour_market(by=("city",))  # the market still sums


def test_small_answers_name_the_right_field_and_status(env: Env, ro: Served) -> None:
    details = _fails(Code.INVALID_ARGUMENT, ro.client.reload_model, "v" * 300)
    assert _public(details).startswith("version: not a version name")
    details = _public(_fails(Code.INVALID_ARGUMENT, ro.client.labour_market, by=("planet",)))
    assert details.startswith("by: ") and "by: by:" not in details


def test_bytes_that_are_not_a_valid_message_are_invalid_argument(env: Env, ro: Served) -> None:
    """A string field that is not UTF-8 fails inside grpcio's deserialisation, which would answer INTERNAL."""
    good = pb.RecommendJobsRequest(seeker_id="abc", k=3).SerializeToString()
    bad = good.replace(b"abc", b"\xff\xfe\x80")
    call = ro.client.channel.unary_unary("/matcher.v1.MatchService/RecommendJobs",
                                         request_serializer=lambda raw: raw,
                                         response_deserializer=pb.RecommendJobsResponse.FromString)
    details = _fails(Code.INVALID_ARGUMENT, call, bad, timeout=10)
    assert "UTF-8" in details
    assert call(pb.RecommendJobsRequest(seeker_id=_active_seekers(env, 1)[0], k=3).SerializeToString(), timeout=10)


def test_the_engine_stops_working_on_a_call_whose_deadline_has_passed(env: Env, ro: Served) -> None:
    """Deadlines are checked inside the engine's work, not only in the queue: a call that expired while the calls
    before it in its batch were being worked on is dropped before the shared ranking pass."""
    assert ro.core is not None
    live = ro.core.worker.live
    seeker, job = _active_seekers(env, 1)[0], str(env.jobs.index[0])
    past = time.monotonic() - 1
    fresh_query = queries.JobQuery(k=3, seeker_id=seeker)
    results = queries.recommend_jobs(live, [queries.JobQuery(k=3, seeker_id=seeker, deadline=past), fresh_query])
    assert isinstance(results[0], MatcherError) and "deadline" in str(results[0])
    assert isinstance(results[1], list) and len(results[1]) == 3
    (late,) = queries.recommend_seekers(live, [queries.SeekerQuery(k=3, job_id=job, deadline=past)])
    assert isinstance(late, MatcherError) and "deadline" in str(late)
    (late,) = queries.recommend_nearby(live, [queries.NearbyQuery(lat=30.0, lon=120.0, k=3, deadline=past)])
    assert isinstance(late, MatcherError) and "deadline" in str(late)


def test_json_logs_name_the_request_id_the_caller_was_given(env: Env, ro: Served) -> None:
    """log_format = "json" (service.logs): the server's line about a failed call carries the request id that the
    caller's error detail names, and no record contents."""
    import json
    import logging
    import re

    from matcher.service.logs import JsonFormatter

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler, logger = Keep(), logging.getLogger("matcher.service")
    handler.setFormatter(JsonFormatter())
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        detail = _fails(Code.NOT_FOUND, ro.client.recommend_jobs, "no-such-seeker-4711", k=3)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    found = re.search(r"\(request ([0-9a-f]{16})\)$", detail)
    assert found is not None
    records = [json.loads(line) for line in lines]
    mine = [r for r in records if r.get("request_id") == found.group(1)]
    assert len(mine) == 1 and mine[0]["rpc"] == "RecommendJobs" and mine[0]["level"] == "INFO"
    assert "NOT_FOUND" in mine[0]["message"] and "4711" not in json.dumps(mine[0])
