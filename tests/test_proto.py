"""The gRPC contract: generated code up to date, every message round-trips on the wire, and matcher.service.convert
maps FORMAT.md records, requests and responses to and from the messages without loss.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from matcher._gen import matcher_pb2_grpc
from matcher.engine.reasons import SALARY_ABOVE, SALARY_BELOW, SALARY_MEETS, SALARY_UNKNOWN, Reasons
from matcher.errors import InvalidRequestError
from matcher.schema import EVENT_COLUMNS, JOB_COLUMNS, SEEKER_COLUMNS
from matcher.service import convert
from matcher.service.convert import pb
from matcher.service.messages import (
    JobFilter,
    JobQuery,
    Match,
    SeekerFilter,
    SeekerQuery,
    ServingInfo,
    WriteResult,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

RPCS = {  # name → (request, response), as in proto/matcher/v1/matcher.proto
    "RecommendJobs": ("RecommendJobsRequest", "RecommendJobsResponse"),
    "RecommendSeekers": ("RecommendSeekersRequest", "RecommendSeekersResponse"),
    "ScorePairs": ("ScorePairsRequest", "ScorePairsResponse"),
    "RecommendNearby": ("RecommendNearbyRequest", "RecommendNearbyResponse"),
    "GetLabourMarket": ("LabourMarketRequest", "LabourMarketResponse"),
    "UpsertSeekers": ("UpsertSeekersRequest", "WriteResponse"),
    "UpsertJobs": ("UpsertJobsRequest", "WriteResponse"),
    "DeleteSeekers": ("DeleteRequest", "WriteResponse"),
    "DeleteJobs": ("DeleteRequest", "WriteResponse"),
    "RecordEvents": ("RecordEventsRequest", "WriteResponse"),
    "GetModelInfo": ("GetModelInfoRequest", "ModelInfo"),
    "ReloadModel": ("ReloadModelRequest", "ModelInfo"),
}

# --------------------------------------------------------------------------------------------------------------
# Generated code
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("grpc_tools") is None,
                    reason="grpc_tools (grpcio-tools, a dev extra) is not installed: cannot regenerate to compare")
def test_generated_code_matches_the_proto() -> None:
    result = subprocess.run([sys.executable, "proto/generate.py", "--check"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_every_rpc_is_in_the_descriptor_and_on_the_servicer_and_stub() -> None:
    service = pb.DESCRIPTOR.services_by_name["MatchService"]
    assert set(service.methods_by_name) == set(RPCS)
    stub_channel = _RecordingChannel()
    stub = matcher_pb2_grpc.MatchServiceStub(stub_channel)
    for name, (request, response) in RPCS.items():
        method = service.methods_by_name[name]
        assert (method.input_type.name, method.output_type.name) == (request, response), name
        assert not method.client_streaming and not method.server_streaming, name
        assert callable(getattr(matcher_pb2_grpc.MatchServiceServicer, name)), name
        assert callable(getattr(stub, name)), name
    assert stub_channel.paths == {f"/matcher.v1.MatchService/{name}" for name in RPCS}
    assert callable(matcher_pb2_grpc.add_MatchServiceServicer_to_server)


class _RecordingChannel:
    """Enough of grpc.Channel for the generated stub's constructor: records the method paths it registers."""

    def __init__(self) -> None:
        self.paths: set[str] = set()

    def unary_unary(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self.paths.add(path)
        return lambda *call_args, **call_kwargs: None


# --------------------------------------------------------------------------------------------------------------
# Every message type, fully populated, through the wire format
# --------------------------------------------------------------------------------------------------------------


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def _real_oneofs(desc: Descriptor) -> list[Any]:
    """Oneofs written in the .proto; proto3 `optional` fields sit in synthetic one-field oneofs named `_<field>`."""
    return [o for o in desc.oneofs if not (len(o.fields) == 1 and o.name == f"_{o.fields[0].name}")]


def _scalar(field: FieldDescriptor, i: int) -> Any:
    """A non-default value of the field's type (the i-th of several, for repeated fields and map keys)."""
    cpp = field.cpp_type
    if cpp == FieldDescriptor.CPPTYPE_STRING:
        return f"{field.name}-{i}-值" if field.type == FieldDescriptor.TYPE_STRING else f"{field.name}{i}".encode()
    if cpp == FieldDescriptor.CPPTYPE_BOOL:
        return True
    if cpp in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
        return 1.5 + i  # exact in float32 too
    if cpp == FieldDescriptor.CPPTYPE_ENUM:
        values = [v.number for v in field.enum_type.values if v.number != 0]
        return values[i % len(values)]
    if cpp in (FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64):
        return 4_000_000_000 + i if cpp == FieldDescriptor.CPPTYPE_UINT32 else 2**63 + i  # needs the full width
    if cpp == FieldDescriptor.CPPTYPE_INT32:
        return -(2**31) + 1 + i
    if cpp == FieldDescriptor.CPPTYPE_INT64:
        return -(2**40) - i
    raise AssertionError(f"no filler for {field.full_name} (cpp_type {cpp})")


def _fill(msg: Message, branches: dict[str, str] | None = None, depth: int = 0) -> Message:
    """Set every field of `msg`; in each real oneof only the branch named in `branches` (default: the first)."""
    assert depth < 8, "recursive message types need a depth limit in the filler"
    desc = msg.DESCRIPTOR
    chosen = {o.name: (branches or {}).get(o.name, o.fields[0].name) for o in _real_oneofs(desc)}
    for field in desc.fields:
        oneof = field.containing_oneof
        if oneof is not None and oneof.name in chosen and chosen[oneof.name] != field.name:
            continue
        value = getattr(msg, field.name)
        if _is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            key_field = field.message_type.fields_by_name["key"]
            for i in range(2):
                key = _scalar(key_field, i)
                if value_field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
                    _fill(value[key], depth=depth + 1)
                else:
                    value[key] = _scalar(value_field, i)
        elif field.is_repeated:
            for i in range(2):
                if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
                    _fill(value.add(), depth=depth + 1)
                else:
                    value.append(_scalar(field, i))
        elif field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
            _fill(value, depth=depth + 1)
            if not field.message_type.fields:
                value.SetInParent()  # an empty message still marks its presence
        else:
            setattr(msg, field.name, _scalar(field, 0))
    return msg


def _variants(name: str) -> list[tuple[str, Message]]:
    """One fully populated instance per branch of each real oneof (other oneofs on their first branch)."""
    cls = getattr(pb, name)
    oneofs = _real_oneofs(cls.DESCRIPTOR)
    if not oneofs:
        return [(name, _fill(cls()))]
    return [(f"{name}.{o.name}={f.name}", _fill(cls(), {o.name: f.name})) for o in oneofs for f in o.fields]


def _set_fields(msg: Message) -> set[str]:
    return {field.name for field, _ in msg.ListFields()}


MESSAGE_NAMES = sorted(pb.DESCRIPTOR.message_types_by_name)
VARIANTS = [v for name in MESSAGE_NAMES for v in _variants(name)]


def test_the_round_trip_covers_every_message_type_and_every_oneof_branch() -> None:
    covered = {msg.DESCRIPTOR.name for _, msg in VARIANTS}
    assert covered == set(pb.DESCRIPTOR.message_types_by_name)
    branches = {label for label, _ in VARIANTS if "=" in label}
    assert branches == {f"{m.name}.{o.name}={f.name}" for m in pb.DESCRIPTOR.message_types_by_name.values()
                        for o in _real_oneofs(m) for f in o.fields}
    assert branches >= {"RecommendJobsRequest.seeker=seeker_id", "RecommendJobsRequest.seeker=profile",
                        "RecommendSeekersRequest.job=job_id", "RecommendSeekersRequest.job=profile"}
    optional = {f"{m.name}.{f.name}" for m in pb.DESCRIPTOR.message_types_by_name.values() for f in m.fields
                if f.has_presence and f.containing_oneof is not None and f.containing_oneof not in _real_oneofs(m)}
    assert "Seeker.lat" in optional and "Job.headcount" in optional  # proto3 optional: not mistaken for a oneof


@pytest.mark.parametrize(("label", "msg"), VARIANTS, ids=[label for label, _ in VARIANTS])
def test_fully_populated_message_survives_the_wire(label: str, msg: Message) -> None:
    desc = msg.DESCRIPTOR
    skipped = {f.name for o in _real_oneofs(desc) for f in o.fields if msg.WhichOneof(o.name) != f.name}
    assert _set_fields(msg) == {f.name for f in desc.fields} - skipped, "the filler left a field unset"
    wire = msg.SerializeToString(deterministic=True)
    back = type(msg).FromString(wire)
    assert back == msg
    assert _set_fields(back) == _set_fields(msg)
    assert back.SerializeToString(deterministic=True) == wire


@pytest.mark.parametrize("enum_name", sorted(pb.DESCRIPTOR.enum_types_by_name))
def test_every_enum_value_survives_the_wire(enum_name: str) -> None:
    fields = [(getattr(pb, m.name), f) for m in pb.DESCRIPTOR.message_types_by_name.values() for f in m.fields
              if f.enum_type is not None and f.enum_type.name == enum_name]
    assert fields, f"no message uses {enum_name}"
    for cls, field in fields:
        for value in field.enum_type.values:
            msg = cls(**{field.name: value.number})
            assert getattr(cls.FromString(msg.SerializeToString()), field.name) == value.number


def test_salary_fit_codes_equal_the_proto_enum() -> None:
    assert (pb.SALARY_FIT_UNKNOWN, pb.SALARY_FIT_BELOW, pb.SALARY_FIT_MEETS, pb.SALARY_FIT_ABOVE) == (
        SALARY_UNKNOWN, SALARY_BELOW, SALARY_MEETS, SALARY_ABOVE)


def test_profile_messages_carry_exactly_the_format_columns() -> None:
    for cls, columns in ((pb.Seeker, SEEKER_COLUMNS), (pb.Job, JOB_COLUMNS)):
        assert set(cls.DESCRIPTOR.fields_by_name) == set(columns) | {"extra"}, cls.__name__
    assert set(pb.Event.DESCRIPTOR.fields_by_name) == set(EVENT_COLUMNS)


# --------------------------------------------------------------------------------------------------------------
# FORMAT.md records ↔ messages
# --------------------------------------------------------------------------------------------------------------

SEEKER = {
    "seeker_id": "S-1", "text": "五年会计经验，熟练使用用友", "skills": "会计|用友|Excel", "city": "230100",
    "lat": "45.75", "lon": "126.63", "education": "本科", "experience_years": "5", "expected_salary_min": "6000",
    "expected_salary_max": "9000.5", "desired_cities": "230100|哈尔滨", "desired_occupations": "会计|出纳",
    "desired_industries": "制造业", "priority_groups": "graduate|disabled", "updated_at": "2026-01-02T03:04:05Z",
    "gender": "F", "birth_year": "1990",
}
JOB = {
    "job_id": "J-1", "employer_id": "E-1", "title": "会计", "text": "负责总账", "skills": "会计|Excel",
    "occupation": "会计专业人员", "industry": "制造业", "city": "哈尔滨", "lat": "-33.5", "lon": "0",
    "education_min": "大专", "experience_min_years": "2.5", "salary_min": "5000", "salary_max": "8000",
    "headcount": "3", "job_type": "full_time", "posted_at": "2026-01-01T00:00:00Z",
    "expires_at": "2026-02-01T00:00:00+08:00", "contact": "hr@example.com",
}
EVENT = {"seeker_id": "S-1", "job_id": "J-1", "event": "viewed", "timestamp": "2026-01-03T08:00:00Z",
         "value": "12.25"}
NUMERIC = {name for cols in (SEEKER_COLUMNS, JOB_COLUMNS, EVENT_COLUMNS) for name, kind in cols.items()
           if kind in ("float", "int")}


def _normalised(record: dict[str, str]) -> dict[str, Any]:
    """Numbers compare as numbers ("5" and "5.0" are one cell value)."""
    return {k: (float(v) if k in NUMERIC and v != "" else v) for k, v in record.items()}


@pytest.mark.parametrize(("to_message", "to_records", "record"), [
    (convert.seeker_message, convert.seeker_records, SEEKER),
    (convert.job_message, convert.job_records, JOB),
], ids=["seeker", "job"])
def test_a_full_profile_record_round_trips(to_message: Any, to_records: Any, record: dict[str, str]) -> None:
    msg = to_message(record)
    assert dict(msg.extra) == {k: v for k, v in record.items() if k not in SEEKER_COLUMNS and k not in JOB_COLUMNS}
    wire = type(msg).FromString(msg.SerializeToString())
    [back] = to_records([wire])
    assert _normalised(back) == _normalised(record)


def test_an_empty_profile_record_round_trips_as_empty_cells() -> None:
    for to_message, to_records, columns, key in ((convert.seeker_message, convert.seeker_records, SEEKER_COLUMNS,
                                                  "seeker_id"),
                                                 (convert.job_message, convert.job_records, JOB_COLUMNS, "job_id")):
        [back] = to_records([to_message({key: "x"})])
        assert back == {name: ("x" if name == key else "") for name in columns}  # unset numbers stay unknown


def test_zero_is_a_value_not_unknown() -> None:
    [back] = convert.job_records([convert.job_message({"job_id": "J", "lat": "0", "lon": "0", "headcount": "0"})])
    assert (float(back["lat"]), float(back["lon"]), float(back["headcount"])) == (0.0, 0.0, 0.0)


def test_an_event_record_round_trips_and_an_empty_timestamp_gets_the_receive_time() -> None:
    received = "2026-03-01T12:00:00Z"
    [back] = convert.event_records([convert.event_message(EVENT)], received)
    assert _normalised(back) == _normalised(EVENT)
    no_time = {**EVENT, "timestamp": "", "value": ""}
    [back] = convert.event_records([convert.event_message(no_time)], received)
    assert back == {**no_time, "timestamp": received}


@pytest.mark.parametrize(("build", "where"), [
    (lambda: convert.seeker_records([pb.Seeker(seeker_id="s", skills=["会计", "a|b"])]), "seekers[0].skills[1]"),
    (lambda: convert.seeker_records([pb.Seeker(seeker_id="s"), pb.Seeker(seeker_id="t", desired_cities=["x|"])]),
     "seekers[1].desired_cities[0]"),
    (lambda: convert.job_records([pb.Job(job_id="j", skills=["a", "b", "c|"])]), "jobs[0].skills[2]"),
], ids=["seeker-skill", "second-seeker", "job-skill"])
def test_a_list_item_holding_the_separator_is_refused_by_name(build: Any, where: str) -> None:
    with pytest.raises(InvalidRequestError, match="^" + re.escape(where) + ":"):
        build()


@pytest.mark.parametrize("key", ["city", "skills", "seeker_id", "not a name", ""])
def test_an_extra_key_must_be_a_new_column_name(key: str) -> None:
    with pytest.raises(InvalidRequestError, match=r"seekers\[0\]\.extra"):
        convert.seeker_records([pb.Seeker(seeker_id="s", extra={key: "x"})])


def test_an_extra_key_colliding_with_a_job_column_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match=r"jobs\[1\]\.extra"):
        convert.job_records([pb.Job(job_id="a"), pb.Job(job_id="b", extra={"salary_min": "1"})])


# --------------------------------------------------------------------------------------------------------------
# Requests → engine queries
# --------------------------------------------------------------------------------------------------------------

JOB_FILTER = JobFilter(cities=("哈尔滨", "230100"), radius_km=25.5, job_types=("full_time", "gig"),
                       salary_floor=4000.0, exclude_applied=True)
SEEKER_FILTER = SeekerFilter(cities=("哈尔滨",), radius_km=10.0, priority_groups=("disabled",))


def test_job_query_from_a_seeker_id() -> None:
    req = convert.recommend_jobs_request(7, seeker_id="S-1", flt=JOB_FILTER)
    req = pb.RecommendJobsRequest.FromString(req.SerializeToString())
    assert convert.job_query(req) == JobQuery(k=7, seeker_id="S-1", filter=JOB_FILTER)
    bare = convert.job_query(pb.RecommendJobsRequest(k=3, seeker_id="S-1"))
    assert bare == JobQuery(k=3, seeker_id="S-1") and not bare.filter.active  # unset fields do not filter


def test_job_query_from_a_profile() -> None:
    req = convert.recommend_jobs_request(5, profile=SEEKER, flt=JOB_FILTER)
    query = convert.job_query(pb.RecommendJobsRequest.FromString(req.SerializeToString()))
    assert (query.k, query.seeker_id, query.filter) == (5, None, JOB_FILTER)
    assert query.profile is not None and _normalised(query.profile) == _normalised(SEEKER)


def test_job_query_without_a_seeker_is_invalid() -> None:
    with pytest.raises(InvalidRequestError, match="seeker"):
        convert.job_query(pb.RecommendJobsRequest(k=5))


def test_a_bad_profile_in_a_job_query_is_named_as_the_profile() -> None:
    with pytest.raises(InvalidRequestError, match=r"^profile\[0\]\.skills\[0\]"):
        convert.job_query(pb.RecommendJobsRequest(k=5, profile=pb.Seeker(seeker_id="x", skills=["a|b"])))


def test_seeker_query_from_a_job_id_a_profile_and_neither() -> None:
    req = convert.recommend_seekers_request(4, job_id="J-1", flt=SEEKER_FILTER)
    assert convert.seeker_query(req) == SeekerQuery(k=4, job_id="J-1", filter=SEEKER_FILTER)
    query = convert.seeker_query(convert.recommend_seekers_request(6, profile=JOB))
    assert (query.k, query.job_id, query.filter) == (6, None, SeekerFilter())
    assert query.profile is not None and _normalised(query.profile) == _normalised(JOB)
    with pytest.raises(InvalidRequestError, match="job"):
        convert.seeker_query(pb.RecommendSeekersRequest(k=5))


# --------------------------------------------------------------------------------------------------------------
# Engine results → responses → back
# --------------------------------------------------------------------------------------------------------------

MATCHES = [
    Match(id="J-1", score=1.25, reasons=Reasons(matched_skills=("会计", "Excel"), distance_km=3.5,
                                                 salary_fit=SALARY_MEETS, same_city=True, in_desired_city=True)),
    Match(id="J-2", score=-0.125, reasons=Reasons(matched_skills=(), distance_km=None, salary_fit=SALARY_UNKNOWN,
                                                   same_city=False, in_desired_city=False)),
    Match(id="J-3", score=-7.0e-3, reasons=Reasons(matched_skills=("x",), distance_km=0.0, salary_fit=SALARY_BELOW,
                                                    same_city=False, in_desired_city=True)),
    Match(id="J-4", score=-9.5, reasons=Reasons(matched_skills=("y",), distance_km=1234.56, salary_fit=SALARY_ABOVE,
                                                 same_city=True, in_desired_city=False)),
]


def test_recommend_jobs_response_ranks_from_one_and_parses_back() -> None:
    resp = convert.recommend_jobs_response(MATCHES, "v42", "req-1")
    resp = pb.RecommendJobsResponse.FromString(resp.SerializeToString())
    assert [m.rank for m in resp.matches] == [1, 2, 3, 4]
    assert [m.job_id for m in resp.matches] == [m.id for m in MATCHES]
    assert (resp.model_version, resp.request_id) == ("v42", "req-1")
    assert not resp.matches[1].reasons.HasField("distance_km")  # unknown stays unknown, not 0 km
    assert resp.matches[2].reasons.HasField("distance_km")      # 0 km is a distance
    assert convert.matches(resp) == MATCHES


def test_recommend_seekers_response_ranks_from_one_and_parses_back() -> None:
    seekers = [Match(id=f"S-{i}", score=m.score, reasons=m.reasons) for i, m in enumerate(MATCHES)]
    resp = convert.recommend_seekers_response(iter(seekers), "v42", "req-2")  # any iterable
    resp = pb.RecommendSeekersResponse.FromString(resp.SerializeToString())
    assert [m.rank for m in resp.matches] == [1, 2, 3, 4]
    assert convert.matches(resp) == seekers
    empty = convert.recommend_seekers_response([], "v42", "req-3")
    assert list(empty.matches) == [] and convert.matches(empty) == []


def test_reasons_round_trip() -> None:
    for m in MATCHES:
        msg = pb.Reasons.FromString(convert.reasons_message(m.reasons).SerializeToString())
        assert convert.reasons_from_message(msg) == m.reasons


def test_score_pairs_response_keeps_the_order_of_the_pairs() -> None:
    scores = [0.5, -1.25, 3.0e-8, 0.0]
    resp = pb.ScorePairsResponse.FromString(convert.score_pairs_response(scores, "v1", "req").SerializeToString())
    assert list(resp.scores) == scores and (resp.model_version, resp.request_id) == ("v1", "req")


def test_write_response_round_trips() -> None:
    result = WriteResult(written=3, not_found=2, sequence=2**40 + 7, replayed=True)
    msg = pb.WriteResponse.FromString(convert.write_response(result, "req-w").SerializeToString())
    assert msg.request_id == "req-w"
    assert convert.write_result(msg) == result


def test_model_info_round_trips() -> None:
    info = ServingInfo(version="20260301-abc", feature_names=("text_cos", "skill_overlap"),
                       created_at="2026-03-01T00:00:00Z", data_fingerprint="ab" * 32, n_trees=120,
                       loaded_at="2026-03-02T00:00:00Z", as_of="2026-03-01T23:48:04Z", n_seekers=400, n_jobs=300,
                       n_open_jobs=268, journal_sequence=2**33, journal_quarantined=3)
    msg = pb.ModelInfo.FromString(convert.model_info(info, "req-m").SerializeToString())
    assert msg.request_id == "req-m"
    assert convert.serving_info(msg) == info
