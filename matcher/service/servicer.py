"""matcher.v1.MatchService over MatchCore: protobuf in, engine call, protobuf out. No logic of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc

from matcher._gen import matcher_pb2_grpc
from matcher.errors import UnavailableError
from matcher.service import convert
from matcher.service.convert import pb
from matcher.service.core import MatchCore
from matcher.service.errors import rpc_method
from matcher.service.metrics import ServiceMetrics

__all__ = ["MatchServicer"]


def _timeout(servicer: Any) -> float:
    return float(servicer.request_timeout_s)


class MatchServicer(matcher_pb2_grpc.MatchServiceServicer):
    """`core` is None until the catalogue is loaded and warmed up; calls meanwhile get UNAVAILABLE."""

    def __init__(self, request_timeout_s: float, core: MatchCore | None = None) -> None:
        self.request_timeout_s = request_timeout_s
        self.core = core
        self.metrics: ServiceMetrics | None = None  # set by create_server when `metrics_port` is on

    def _core(self) -> MatchCore:
        if self.core is None:
            raise UnavailableError("server is starting: the catalogue is still loading")
        return self.core

    @rpc_method(_timeout)
    def RecommendJobs(self, request: pb.RecommendJobsRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                      deadline: float) -> pb.RecommendJobsResponse:
        core = self._core()
        answer = core.recommend_jobs(convert.job_query(request), deadline)
        return convert.recommend_jobs_response(answer.value, answer.model_version, rid)

    @rpc_method(_timeout)
    def RecommendSeekers(self, request: pb.RecommendSeekersRequest, context: grpc.ServicerContext,  # noqa: N802
                         rid: str, deadline: float) -> pb.RecommendSeekersResponse:
        core = self._core()
        answer = core.recommend_seekers(convert.seeker_query(request), deadline)
        return convert.recommend_seekers_response(answer.value, answer.model_version, rid)

    @rpc_method(_timeout)
    def RecommendNearby(self, request: pb.RecommendNearbyRequest, context: grpc.ServicerContext,  # noqa: N802
                        rid: str, deadline: float) -> pb.RecommendNearbyResponse:
        core = self._core()
        answer = core.recommend_nearby(convert.nearby_query(request), deadline)
        return convert.recommend_nearby_response(answer.value, answer.model_version, rid)

    @rpc_method(_timeout)
    def GetLabourMarket(self, request: pb.LabourMarketRequest, context: grpc.ServicerContext,  # noqa: N802
                        rid: str, deadline: float) -> pb.LabourMarketResponse:
        query = convert.market_query(request)
        view, table = self._core().labour_market(query)
        return convert.market_response(view, table, query.limit, rid)

    @rpc_method(_timeout)
    def ScorePairs(self, request: pb.ScorePairsRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                   deadline: float) -> pb.ScorePairsResponse:
        core = self._core()
        answer = core.score_pairs(list(request.seeker_ids), list(request.job_ids), deadline)
        return convert.score_pairs_response(answer.value, answer.model_version, rid)

    @rpc_method(_timeout)
    def UpsertSeekers(self, request: pb.UpsertSeekersRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                      deadline: float) -> pb.WriteResponse:
        core = self._core()
        core.check_items(len(request.seekers), "seekers")  # before converting a message that is too big
        return convert.write_response(core.upsert_seekers(convert.seeker_records(request.seekers), deadline,
                                                         request.idempotency_key), rid)

    @rpc_method(_timeout)
    def UpsertJobs(self, request: pb.UpsertJobsRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                   deadline: float) -> pb.WriteResponse:
        core = self._core()
        core.check_items(len(request.jobs), "jobs")
        return convert.write_response(core.upsert_jobs(convert.job_records(request.jobs), deadline,
                                                      request.idempotency_key), rid)

    @rpc_method(_timeout)
    def DeleteSeekers(self, request: pb.DeleteRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                      deadline: float) -> pb.WriteResponse:
        return convert.write_response(self._core().delete_seekers(list(request.ids), deadline,
                                                                         request.idempotency_key), rid)

    @rpc_method(_timeout)
    def DeleteJobs(self, request: pb.DeleteRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                   deadline: float) -> pb.WriteResponse:
        return convert.write_response(self._core().delete_jobs(list(request.ids), deadline,
                                                                      request.idempotency_key), rid)

    @rpc_method(_timeout)
    def RecordEvents(self, request: pb.RecordEventsRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                     deadline: float) -> pb.WriteResponse:
        core = self._core()
        core.check_items(len(request.events), "events")
        received = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return convert.write_response(core.record_events(convert.event_records(request.events, received),
                                                          deadline, request.idempotency_key), rid)

    @rpc_method(_timeout)
    def GetModelInfo(self, request: pb.GetModelInfoRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                     deadline: float) -> pb.ModelInfo:
        return convert.model_info(self._core().info(), rid)

    @rpc_method(_timeout)
    def ReloadModel(self, request: pb.ReloadModelRequest, context: grpc.ServicerContext, rid: str,  # noqa: N802
                    deadline: float) -> pb.ModelInfo:
        return convert.model_info(self._core().reload(request.version), rid)
