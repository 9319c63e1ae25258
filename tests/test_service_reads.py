"""The gRPC service (matcher.v1.MatchService) end to end over real local ports: the read RPCs.

Ranking, ScorePairs, inline profiles, GetModelInfo, every filter, the priority policy, RecommendNearby, the
labour market view and parity with `matcher batch`, all on the session's read-only server (`ro`; see
tests/service_world.py); only the priority policy test starts a server of its own (`fresh`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import pytest

from features.pairs import FEATURE_NAMES
from matcher.cli import main as cli_main
from matcher.errors import MatcherError
from matcher.service.convert import pb, recommend_jobs_request, recommend_seekers_request
from matcher.service.settings import load_settings
from tests.service_world import (
    Code,
    Env,
    Served,
    StartFn,
    _active_seekers,
    _fails,
    _haversine_km,
    _ids,
    _public,
    _seekers_without_events,
)

# --------------------------------------------------------------------------------------------------------------
# Every RPC: the reads
# --------------------------------------------------------------------------------------------------------------


def test_recommend_jobs_returns_k_ranked_open_jobs_with_the_model_version(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    for seeker in _active_seekers(env, 5):
        for k in (1, 7, 25):
            response = ro.client.stub.RecommendJobs(recommend_jobs_request(k, seeker), timeout=20)
            assert len(response.matches) == k
            assert [m.rank for m in response.matches] == list(range(1, k + 1))
            scores = [m.score for m in response.matches]
            assert scores == sorted(scores, reverse=True), seeker
            ids = [m.job_id for m in response.matches]
            assert len(set(ids)) == k
            assert set(ids) <= set(open_jobs.index), "a job that is not open at as_of was recommended"
            assert response.model_version == ro.client.model_info().version == env.version
            assert re.fullmatch(r"[0-9a-f]{16}", response.request_id)


def test_score_pairs_equals_the_scores_recommend_jobs_returned(env: Env, ro: Served) -> None:
    seekers, jobs, expected = [], [], []
    for seeker in _active_seekers(env, 6):
        for m in ro.client.recommend_jobs(seeker, k=10):
            seekers.append(seeker)
            jobs.append(m.id)
            expected.append(m.score)
    scores = ro.client.score_pairs(seekers, jobs)
    assert len(scores) == len(expected) == 60
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-9)
    assert ro.client.score_pairs([], []) == []
    response = ro.client.stub.ScorePairs(pb.ScorePairsRequest(seeker_ids=seekers[:2], job_ids=jobs[:2]), timeout=20)
    assert response.model_version == env.version and list(response.scores) == pytest.approx(expected[:2], abs=1e-9)


def test_recommend_jobs_for_an_inline_profile_is_not_stored(env: Env, ro: Served) -> None:
    before = ro.client.model_info()
    seeker = _seekers_without_events(env)[0]
    profile = env.seeker(seeker) | {"seeker_id": "walk-in-1"}
    got = ro.client.recommend_jobs(profile=profile, k=10)
    registered = ro.client.recommend_jobs(seeker, k=10)
    # A seeker with no history is scored from the profile alone: the same profile gives the same list.
    assert _ids(got) == _ids(registered)
    np.testing.assert_allclose([m.score for m in got], [m.score for m in registered], rtol=0, atol=1e-9)
    after = ro.client.model_info()
    assert (after.n_seekers, after.journal_sequence) == (before.n_seekers, before.journal_sequence)
    _fails(Code.NOT_FOUND, ro.client.recommend_jobs, "walk-in-1", k=3)
    # A minimal profile (text only) works too.
    assert len(ro.client.recommend_jobs(profile={"seeker_id": "walk-in-2", "text": profile["text"]}, k=5)) == 5


def test_recommend_seekers_by_id_and_for_an_inline_job(env: Env, ro: Served) -> None:
    job = next(j for j in env.open_jobs().index if j.startswith("Q"))
    assert job not in set(env.events["job_id"])
    response = ro.client.stub.RecommendSeekers(recommend_seekers_request(8, job), timeout=20)
    assert [m.rank for m in response.matches] == list(range(1, 9))
    scores = [m.score for m in response.matches]
    assert scores == sorted(scores, reverse=True)
    ids = [m.seeker_id for m in response.matches]
    assert len(set(ids)) == 8 and set(ids) <= set(env.seekers.index)
    assert response.model_version == env.version
    # The model's scores: the same as ScorePairs for those pairs.
    np.testing.assert_allclose(ro.client.score_pairs(ids, [job] * 8), scores, rtol=0, atol=1e-9)

    before = ro.client.model_info()
    inline = ro.client.recommend_seekers(profile=env.job(job) | {"job_id": "draft-1"}, k=8)
    assert _ids(inline) == ids  # a job nobody has seen yet, sent inline, ranks like the stored one
    np.testing.assert_allclose([m.score for m in inline], scores, rtol=0, atol=1e-9)
    after = ro.client.model_info()
    assert (after.n_jobs, after.journal_sequence) == (before.n_jobs, before.journal_sequence)
    _fails(Code.NOT_FOUND, ro.client.recommend_seekers, "draft-1", k=3)


def test_get_model_info_describes_model_and_catalogue(env: Env, ro: Served) -> None:
    info = ro.client.model_info()
    assert info.version == env.version == (env.model_dir / "CURRENT").read_text().strip()
    assert list(info.feature_names) == list(FEATURE_NAMES)
    assert info.n_trees > 0
    assert (info.n_seekers, info.n_jobs) == (len(env.seekers), len(env.jobs))
    assert info.n_open_jobs == len(env.open_jobs()) < info.n_jobs
    assert pd.Timestamp(info.as_of) == env.as_of.floor("s")
    assert info.journal_sequence == 0
    assert info.data_fingerprint and info.created_at and info.loaded_at


# --------------------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------------------


def test_cities_filter_returns_only_jobs_in_those_cities(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    prefixes = open_jobs["city"].str[:4]
    # The prefecture with the most open jobs, not a municipality (whose counties all map to one city code).
    counts = prefixes[~prefixes.str[:2].isin(["11", "12", "31", "50"])].value_counts()
    prefix = str(counts.index[0])
    in_city = set(open_jobs.index[prefixes == prefix])
    assert len(in_city) >= 5
    for seeker in _active_seekers(env, 10):
        unfiltered = _ids(ro.client.recommend_jobs(seeker, k=20))
        got = _ids(ro.client.recommend_jobs(seeker, k=20, cities=[f"{prefix}00"]))
        assert set(got) <= in_city, seeker
        assert len(got) == min(20, len(in_city)), seeker  # every job passing the filter can be found
        if not set(unfiltered) <= in_city:
            assert got != unfiltered
    # A place that resolves to nothing is the caller's mistake (issue 16), not an empty answer.
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, _active_seekers(env, 1)[0], k=10, cities=["Atlantis"])


def test_job_types_filter(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    wanted = {"part_time", "gig"}
    eligible = set(open_jobs.index[open_jobs["job_type"].isin(wanted)])
    assert 3 <= len(eligible) < len(open_jobs)
    for seeker in _active_seekers(env, 10):
        got = _ids(ro.client.recommend_jobs(seeker, k=30, job_types=sorted(wanted)))
        assert set(got) <= eligible
        assert len(got) == min(30, len(eligible))
    details = _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, _active_seekers(env, 1)[0], k=5,
                     job_types=["temp"])
    assert _public(details).startswith("filter.job_types[0]")


def test_salary_floor_filter(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    offered = open_jobs["salary_max"].fillna(open_jobs["salary_min"])
    floor = float(offered.quantile(0.8))
    eligible = set(open_jobs.index[offered >= floor])
    assert 5 <= len(eligible) < len(open_jobs)
    for seeker in _active_seekers(env, 10):
        got = _ids(ro.client.recommend_jobs(seeker, k=30, salary_floor=floor))
        assert set(got) <= eligible
        assert len(got) == min(30, len(eligible))
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, _active_seekers(env, 1)[0], k=5, salary_floor=-1)


def test_radius_filter_keeps_jobs_within_the_distance(env: Env, ro: Served) -> None:
    open_jobs = env.open_jobs()
    checked = 0
    for seeker in _active_seekers(env, 30):
        s = env.data.seekers.set_index("seeker_id").loc[seeker]
        distance = {j: _haversine_km(s["lat"], s["lon"], row["lat"], row["lon"]) for j, row in open_jobs.iterrows()}
        radius = 150.0
        got = ro.client.recommend_jobs(seeker, k=20, radius_km=radius)
        for m in got:
            assert distance[m.id] <= radius + 0.01, (seeker, m.id, distance[m.id])
            assert m.reasons.distance_km == pytest.approx(distance[m.id], abs=0.05)
        # Every job inside the circle can be found (0.01 km of slack for float32 rounding at the edge).
        surely_in = sum(d <= radius - 0.01 for d in distance.values())
        maybe_in = sum(d <= radius + 0.01 for d in distance.values())
        assert min(20, surely_in) <= len(got) <= min(20, maybe_in), seeker
        checked += surely_in > 0
    assert checked >= 5


def test_radius_filter_without_a_home_location_is_invalid_argument(env: Env, ro: Served) -> None:
    details = _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, env.nowhere, k=5, radius_km=20)
    assert _public(details).startswith("filter.radius_km")
    assert len(ro.client.recommend_jobs(env.nowhere, k=5)) == 5  # without the filter it is a normal seeker
    profile = {"seeker_id": "walk-in", "text": "会计 Excel", "skills": "Excel"}
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, profile=profile, k=5, radius_km=20)
    _fails(Code.INVALID_ARGUMENT, ro.client.recommend_jobs, _active_seekers(env, 1)[0], k=5, radius_km=-3)


def test_seeker_filters_priority_groups_cities_and_radius(env: Env, ro: Served) -> None:
    job = env.open_jobs().index[0]
    in_group = set(env.seekers.index[env.seekers["priority_groups"].str.split("|").map(lambda g: "graduate" in g)])
    got = _ids(ro.client.recommend_seekers(job, k=50, priority_groups=["graduate"]))
    assert got and set(got) <= in_group and len(got) == min(50, len(in_group))
    prefix = env.jobs.loc[job, "city"][:4]
    same_city = set(env.seekers.index[env.seekers["city"].str[:4] == prefix])
    got = _ids(ro.client.recommend_seekers(job, k=50, cities=[f"{prefix}00"]))
    assert set(got) <= same_city and len(got) == min(50, len(same_city))
    j = env.data.jobs.set_index("job_id").loc[job]
    seekers = env.data.seekers.set_index("seeker_id")
    for m in ro.client.recommend_seekers(job, k=50, radius_km=300):
        s = seekers.loc[m.id]
        assert _haversine_km(s["lat"], s["lon"], j["lat"], j["lon"]) <= 300.01


def test_priority_policy_appends_slots_and_never_moves_the_model_top_k(env: Env, ro: Served, fresh: StartFn,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="matcher.policy.priority")
    policy = fresh(priority_share=0.3, priority_groups=["disabled", "long_term_unemployed", "veteran"])
    groups = env.seekers["priority_groups"].str.split("|")
    wanted = {"disabled", "long_term_unemployed", "veteran"}
    is_priority = groups.map(lambda g: bool(wanted & set(g)))
    appended = 0
    for job in env.open_jobs().index[:15]:
        plain = ro.client.recommend_seekers(job, k=10)
        got = policy.client.recommend_seekers(job, k=10)
        assert _ids(got[:10]) == _ids(plain) and not any(m.policy_slot for m in got[:10])
        slots = [m for m in got[10:]]
        assert all(m.policy_slot and is_priority[m.id] for m in slots)
        assert all(set(m.priority_groups) == set(groups[m.id]) - {""} for m in got)
        share = sum(is_priority[m.id] for m in got) / len(got)
        assert share >= 0.3 - 1e-9 or len(slots) == 0 and sum(is_priority[m.id] for m in got[:10]) >= 3
        appended += len(slots)
    assert appended > 0, "the policy never had to act: the test proves nothing"
    logged = [r.getMessage() for r in caplog.records if r.name == "matcher.policy.priority"]
    assert sum(int(m.split(": ")[1].split()[0]) for m in logged) == appended  # every adjustment logged, ids only
    assert not any(m.policy_slot for m in ro.client.recommend_seekers(env.open_jobs().index[0], k=10))


def test_recommend_nearby_returns_the_nearest_open_gig_and_part_time_jobs(env: Env, ro: Served) -> None:
    jobs = env.data.jobs.set_index("job_id")
    opened = env.open_jobs().index
    kinds = jobs.loc[opened, "job_type"]
    assert kinds.isin(["gig", "part_time"]).any()
    seeker = env.active_seekers[0]
    home = env.data.seekers.set_index("seeker_id").loc[seeker]
    lat, lon = float(home["lat"]), float(home["lon"])
    got = ro.client.recommend_nearby(lat, lon, k=8, radius_km=150)
    wanted = jobs.loc[opened[kinds.isin(["gig", "part_time"]).to_numpy()]]
    distance = pd.Series([_haversine_km(lat, lon, a, b) for a, b in zip(wanted["lat"], wanted["lon"], strict=True)],
                         index=wanted.index)
    expected = distance[distance <= 150].sort_values(kind="stable")
    assert got, "no gig or part-time job within 150 km: the test proves nothing"
    assert [m.id for m in got] == list(expected.index[:8])
    np.testing.assert_allclose([m.distance_km for m in got], expected.iloc[:8], atol=2e-3)
    assert all(m.score is None for m in got)
    scored = ro.client.recommend_nearby(lat, lon, k=8, radius_km=150, seeker_id=seeker)
    assert [m.id for m in scored] == [m.id for m in got]
    np.testing.assert_allclose([m.score for m in scored], ro.client.score_pairs([seeker] * len(got),
                                                                                [m.id for m in got]), atol=1e-9)
    full_time = ro.client.recommend_nearby(lat, lon, k=5, radius_km=150, job_types=["full_time"])
    assert all(jobs.loc[m.id, "job_type"] == "full_time" for m in full_time)


def test_recommend_nearby_bad_input(ro: Served) -> None:
    assert "lat" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 95.0, 120.0)
    assert "radius_km" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 30.0, 120.0,
                                 radius_km=500)
    assert "job_types[0]" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 30.0, 120.0,
                                    job_types=["pirate"])
    assert "seeker_id" in _fails(grpc.StatusCode.NOT_FOUND, ro.client.recommend_nearby, 30.0, 120.0,
                                 seeker_id="nobody")
    _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_nearby, 30.0, 120.0, k=0)


def test_get_labour_market_equals_the_cli_view(env: Env, ro: Served) -> None:
    from matcher.policy.market import labour_market

    view = labour_market(env.data, as_of=env.as_of, by=("city",), totals=True)
    got = ro.client.labour_market(by=["city"], totals=True, limit=10_000)
    assert len(got) == len(view.table) > 1
    want = view.table.set_index("city")
    for row in got:
        expected = want.loc[row["city"]]
        assert (row["open_jobs"], row["openings"], row["active_seekers"]) == (
            expected["open_jobs"], expected["openings"], expected["active_seekers"])
        if pd.isna(expected["ratio"]):
            assert row["ratio"] is None
        else:
            assert row["ratio"] == pytest.approx(expected["ratio"])
    assert [r["openings"] for r in got] == sorted((r["openings"] for r in got), reverse=True)
    city = next(r["city"] for r in got if r["city"] != "*")
    only = ro.client.labour_market(city=city.split(":")[-1], limit=50)
    assert only and {r["city"] for r in only} == {city}
    assert "by" in _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.labour_market, by=["planet"])
    _fails(grpc.StatusCode.RESOURCE_EXHAUSTED, ro.client.labour_market, limit=20_000)


def test_priority_settings_are_validated() -> None:
    with pytest.raises(MatcherError, match="priority_share"):
        load_settings(data="d", model="m", priority_share=1.5)


def test_settings_outside_the_server_table_are_refused_not_ignored(tmp_path: Path) -> None:
    """A config with `retriever = "hnsw"` above [server] used to start on the default (exact) without a word: the
    service benchmark measured exact under an hnsw label that way."""
    config = tmp_path / "serve.toml"
    config.write_text('retriever = "hnsw"\n[server]\nport = 0\n', encoding="utf-8")
    with pytest.raises(MatcherError, match=r"\[server\] table, found retriever"):
        load_settings(config)
    config.write_text('[server]\nretriever = "exact"\nstore = ""\nlog_format = "json"\n', encoding="utf-8")
    settings = load_settings(config)
    assert (settings.retriever, settings.log_format) == ("exact", "json")
    for bad in ({"store": "mysql://x"}, {"log_format": "xml"}, {"replica_poll_s": 0.0}):
        with pytest.raises(MatcherError, match=next(iter(bad))):
            load_settings(**bad)


# --------------------------------------------------------------------------------------------------------------
# Parity with `matcher batch`
# --------------------------------------------------------------------------------------------------------------


def test_recommend_jobs_matches_matcher_batch(env: Env, ro: Served, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The same job ids in the same order as `matcher batch`, for 100 seekers, ties included.

    The Q* jobs are exact copies of J* jobs, so their model scores tie exactly; `engine.rank_order` orders ties by
    catalogue row, which the retrieval order (rounding can differ between 1 query and 700) must not change."""
    out = tmp_path / "matches.csv"
    assert cli_main(["batch", "--data", str(env.data_dir), "--model", str(env.model_dir), "--k", "10",
                     "--out", str(out), "--pushes-per-opening", "0", "--no-exclude-seen"]) == 0
    capsys.readouterr()
    batch = pd.read_csv(out, dtype={"seeker_id": str, "job_id": str})
    assert set(batch["model_version"]) == {env.version}
    expected = {s: rows.sort_values("rank") for s, rows in batch.groupby("seeker_id")}
    sample = list(env.seekers.index[::7])[:100]
    assert len(sample) == 100
    for seeker in sample:
        got = ro.client.recommend_jobs(seeker, k=10)
        want = expected[seeker]["job_id"].tolist()
        assert len(got) == len(want) == 10, seeker
        assert [m.id for m in got] == want, seeker
        np.testing.assert_allclose([m.score for m in got], expected[seeker]["score"], rtol=0, atol=1e-6)
