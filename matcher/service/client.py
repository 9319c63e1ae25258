"""A small synchronous client for people and scripts: plain Python values in and out, protobuf hidden.

    with MatchClient("127.0.0.1:50051") as client:
        for m in client.recommend_jobs("s-1", k=5, radius_km=20):
            print(m.id, m.score, m.reasons.matched_skills)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from matcher._gen import matcher_pb2_grpc
from matcher.service import convert
from matcher.service.convert import pb
from matcher.service.messages import (
    JobFilter,
    MarketQuery,
    Match,
    NearbyMatch,
    NearbyQuery,
    Record,
    SeekerFilter,
    ServingInfo,
    WriteResult,
)

__all__ = ["MatchClient"]


class MatchClient:
    def __init__(self, target: str, *, token: str | None = None, timeout: float = 10.0,
                 tls_ca: str | Path | None = None, max_message_bytes: int = 4 << 20) -> None:
        """`target`: host:port, or several replicas as "ipv4:HOST:PORT,HOST:PORT" (or a DNS name with several
        addresses), which the channel spreads calls over with gRPC's round_robin."""
        options: list[tuple[str, Any]] = [("grpc.max_receive_message_length", max_message_bytes),
                                          ("grpc.max_send_message_length", max_message_bytes),
                                          ("grpc.lb_policy_name", "round_robin")]
        if tls_ca is not None:
            creds = grpc.ssl_channel_credentials(Path(tls_ca).read_bytes())
            self.channel = grpc.secure_channel(target, creds, options=options)
        else:
            self.channel = grpc.insecure_channel(target, options=options)
        self.stub = matcher_pb2_grpc.MatchServiceStub(self.channel)
        self.timeout = timeout
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()

    def _call(self, method: str, request: Any, timeout: float | None = None) -> Any:
        return getattr(self.stub, method)(request, timeout=self.timeout if timeout is None else timeout,
                                          metadata=self._metadata)

    def recommend_jobs(self, seeker_id: str | None = None, *, profile: Record | None = None, k: int = 10,
                       cities: Sequence[str] = (), radius_km: float | None = None, job_types: Sequence[str] = (),
                       salary_floor: float | None = None, exclude_applied: bool = False) -> list[Match]:
        flt = JobFilter(tuple(cities), radius_km, tuple(job_types), salary_floor, exclude_applied)
        return convert.matches(self._call("RecommendJobs", convert.recommend_jobs_request(k, seeker_id, profile,
                                                                                          flt)))

    def recommend_seekers(self, job_id: str | None = None, *, profile: Record | None = None, k: int = 10,
                          cities: Sequence[str] = (), radius_km: float | None = None,
                          priority_groups: Sequence[str] = ()) -> list[Match]:
        flt = SeekerFilter(tuple(cities), radius_km, tuple(priority_groups))
        return convert.matches(self._call("RecommendSeekers",
                                          convert.recommend_seekers_request(k, job_id, profile, flt)))

    def recommend_nearby(self, lat: float, lon: float, *, k: int = 10, radius_km: float = 5.0,
                         job_types: Sequence[str] = ("gig", "part_time"), seeker_id: str | None = None
                         ) -> list[NearbyMatch]:
        query = NearbyQuery(lat=lat, lon=lon, k=k, radius_km=radius_km, job_types=tuple(job_types),
                            seeker_id=seeker_id)
        return convert.nearby_matches(self._call("RecommendNearby", convert.recommend_nearby_request(query)))

    def labour_market(self, by: Sequence[str] = ("city", "occupation"), *, min_cell: int = 1, totals: bool = False,
                      city: str = "", limit: int = 100) -> list[dict[str, Any]]:
        query = MarketQuery(by=tuple(by), min_cell=min_cell, totals=totals, city=city, limit=limit)
        return convert.market_rows(self._call("GetLabourMarket", convert.market_request(query)))

    def score_pairs(self, seeker_ids: Sequence[str], job_ids: Sequence[str]) -> list[float]:
        response = self._call("ScorePairs", pb.ScorePairsRequest(seeker_ids=list(seeker_ids), job_ids=list(job_ids)))
        return list(response.scores)

    def upsert_seekers(self, records: Sequence[Record], *, key: str = "") -> WriteResult:
        request = pb.UpsertSeekersRequest(seekers=[convert.seeker_message(r) for r in records], idempotency_key=key)
        return convert.write_result(self._call("UpsertSeekers", request))

    def upsert_jobs(self, records: Sequence[Record], *, key: str = "") -> WriteResult:
        request = pb.UpsertJobsRequest(jobs=[convert.job_message(r) for r in records], idempotency_key=key)
        return convert.write_result(self._call("UpsertJobs", request))

    def delete_seekers(self, ids: Sequence[str], *, key: str = "") -> WriteResult:
        return convert.write_result(self._call("DeleteSeekers", pb.DeleteRequest(ids=list(ids), idempotency_key=key)))

    def delete_jobs(self, ids: Sequence[str], *, key: str = "") -> WriteResult:
        return convert.write_result(self._call("DeleteJobs", pb.DeleteRequest(ids=list(ids), idempotency_key=key)))

    def record_events(self, records: Sequence[Record], *, key: str = "") -> WriteResult:
        request = pb.RecordEventsRequest(events=[convert.event_message(r) for r in records], idempotency_key=key)
        return convert.write_result(self._call("RecordEvents", request))

    def model_info(self) -> ServingInfo:
        return convert.serving_info(self._call("GetModelInfo", pb.GetModelInfoRequest()))

    def reload_model(self, version: str = "", timeout: float = 600.0) -> ServingInfo:
        return convert.serving_info(self._call("ReloadModel", pb.ReloadModelRequest(version=version), timeout))

    def health(self, service: str = "") -> str:
        """SERVING / NOT_SERVING / ..., as grpc.health.v1 reports it (needs grpcio-health-checking)."""
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        stub = health_pb2_grpc.HealthStub(self.channel)
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=self.timeout)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> MatchClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
