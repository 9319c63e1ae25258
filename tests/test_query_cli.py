"""`matcher query` against the session's read-only server (`ro`, tests/service_world.py): the nearby and market
subcommands, enum names in --json, and city filters that name no place (INVALID_ARGUMENT, exit 2, stderr)."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pandas as pd
import pytest

from features.catalogue import Vocab, Vocabs
from matcher.cli import main
from matcher.errors import InvalidRequestError
from matcher.service import queries
from matcher.service.convert import pb
from tests.service_world import Env, Served, _active_seekers, _fails, _public

Capsys = pytest.CaptureFixture[str]
SALARY_WORDS = {pb.SalaryFit.Value(f"SALARY_FIT_{w.upper()}"): w for w in ("unknown", "below", "meets", "above")}


def _query(capsys: Capsys, ro: Served, *argv: str, as_json: bool = False) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["query", "--target", ro.target, "--timeout", "20", *(["--json"] if as_json else []), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: Capsys, ro: Served, *argv: str) -> Any:
    code, out, err = _query(capsys, ro, *argv, as_json=True)
    assert code == 0, err
    return json.loads(out)


def _gig_job(env: Env) -> pd.Series:
    """An open gig or part-time job with a location: RecommendNearby around it finds it first."""
    jobs = env.open_jobs()
    jobs = jobs[jobs["job_type"].isin(["gig", "part_time"]) & jobs["lat"].notna()]
    assert len(jobs)
    return jobs.iloc[0]


# --------------------------------------------------------------------------------------------------------------
# query nearby, query market
# --------------------------------------------------------------------------------------------------------------


def test_query_nearby_prints_a_table_and_json(env: Env, ro: Served, capsys: Capsys) -> None:
    job = _gig_job(env)
    where = ["--lat", str(job["lat"]), "--lon", str(job["lon"])]
    want = ro.client.recommend_nearby(float(job["lat"]), float(job["lon"]), k=5, radius_km=20.0)
    assert want and want[0].id == job.name
    got = _json(capsys, ro, "nearby", *where, "--radius-km", "20", "--k", "5")
    assert [(m["id"], m["distance_km"], m["score"]) for m in got] == [(m.id, m.distance_km, None) for m in want]

    code, out, err = _query(capsys, ro, "nearby", *where, "--radius-km", "20", "--k", "5")
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split() == ["rank", "job_id", "km", "score"]
    assert [line.split()[:2] for line in lines] == [[str(i), m.id] for i, m in enumerate(want, start=1)]

    seeker = _active_seekers(env, 1)[0]
    kind = str(job["job_type"])
    scored = _json(capsys, ro, "nearby", *where, "--radius-km", "20", "--job-types", f"{kind},internship",
                   "--seeker", seeker, "--k", "3")
    want = ro.client.recommend_nearby(float(job["lat"]), float(job["lon"]), k=3, radius_km=20.0,
                                      job_types=(kind, "internship"), seeker_id=seeker)
    assert [(m["id"], m["score"]) for m in scored] == [(m.id, pytest.approx(m.score)) for m in want]
    assert all(m["score"] is not None for m in scored)


def test_query_nearby_errors_are_exit_2_with_the_field_on_stderr(env: Env, ro: Served, capsys: Capsys) -> None:
    job = _gig_job(env)
    code, out, err = _query(capsys, ro, "nearby", "--lat", str(job["lat"]), "--lon", str(job["lon"]),
                            "--radius-km", "500")
    assert (code, out) == (2, "")
    assert "INVALID_ARGUMENT: radius_km" in err


def test_query_market_prints_a_table_and_json(ro: Served, capsys: Capsys) -> None:
    want = ro.client.labour_market(by=["city"], limit=5)
    assert len(want) == 5
    got = _json(capsys, ro, "market", "--by", "city", "--top", "5")
    assert got == want
    assert _json(capsys, ro, "market", "--by", "city,occupation", "--top", "7") == \
        ro.client.labour_market(by=["city", "occupation"], limit=7)

    city = str(want[0]["city"])
    only = _json(capsys, ro, "market", "--by", "city", "--city", city.removeprefix("cn:"))
    assert [row["city"] for row in only] == [city]
    for nowhere in ("Atlantis", "黑龙江省"):  # no place at all; a province, not a city of the view
        code, out, err = _query(capsys, ro, "market", "--by", "city", "--city", nowhere)
        assert (code, out) == (2, "") and "INVALID_ARGUMENT: city: unknown city" in err, err
        assert nowhere not in err

    code, out, err = _query(capsys, ro, "market", "--by", "city", "--top", "5")
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split() == ["city", "city_name", "open_jobs", "openings", "seekers", "ratio", "salary_p25",
                              "salary_p50", "salary_p75"]
    assert [line.split()[0] for line in lines] == [row["city"] for row in want]
    assert lines[0].split()[3] == str(want[0]["openings"])

    code, out, err = _query(capsys, ro, "market", "--by", "planet")
    assert (code, out) == (2, "")
    assert "INVALID_ARGUMENT: by" in err


# --------------------------------------------------------------------------------------------------------------
# --json: enums by name
# --------------------------------------------------------------------------------------------------------------


def test_query_json_prints_salary_fit_by_name(env: Env, ro: Served, capsys: Capsys) -> None:
    seekers = _active_seekers(env, 5)
    fits: set[str] = set()
    for seeker in seekers:
        want = ro.client.recommend_jobs(seeker, k=20)
        got = _json(capsys, ro, "jobs", "--seeker", seeker, "--k", "20")
        assert [m["id"] for m in got] == [m.id for m in want]
        assert [m["reasons"]["salary_fit"] for m in got] == [SALARY_WORDS[m.reasons.salary_fit] for m in want]
        fits |= {m["reasons"]["salary_fit"] for m in got}
    assert fits - {"unknown"}, "no match with a salary on either side: the test would not see the enum"

    job = str(env.open_jobs().index[0])
    want = ro.client.recommend_seekers(job, k=20)
    got = _json(capsys, ro, "seekers", "--job", job, "--k", "20")
    assert [m["reasons"]["salary_fit"] for m in got] == [SALARY_WORDS[m.reasons.salary_fit] for m in want]
    assert all(isinstance(m["reasons"]["salary_fit"], str) for m in got)


# --------------------------------------------------------------------------------------------------------------
# City filters that name no place
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["jobs", "seekers"])
def test_a_city_filter_naming_no_place_is_exit_2_with_the_field_and_index(env: Env, ro: Served, capsys: Capsys,
                                                                          what: str) -> None:
    subject = ["--seeker", _active_seekers(env, 1)[0]] if what == "jobs" else ["--job", str(env.open_jobs().index[0])]
    code, out, err = _query(capsys, ro, what, *subject, "--city", "Atlantis")
    assert (code, out) == (2, "")
    assert err.startswith("matcher: error: INVALID_ARGUMENT: filter.cities[0]: unknown place"), err
    code, out, err = _query(capsys, ro, what, *subject, "--city", "北京", "--city", "Atlantis Bay, ZZ", as_json=True)
    assert (code, out) == (2, "")
    assert "filter.cities[1]: unknown place" in err
    assert "Atlantis" not in err  # the caller's text is never echoed


def test_the_client_gets_invalid_argument_for_a_code_that_is_no_place(env: Env, ro: Served) -> None:
    seeker = _active_seekers(env, 1)[0]
    details = _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_jobs, seeker, k=5,
                     cities=["110100", "990000"])
    assert _public(details).startswith("filter.cities[1]: unknown place")
    job = str(env.open_jobs().index[0])
    details = _fails(grpc.StatusCode.INVALID_ARGUMENT, ro.client.recommend_seekers, job, k=5, cities=[""])
    assert _public(details).startswith("filter.cities[0]: unknown place")


def test_every_spelling_of_a_known_place_filters_without_error(env: Env, ro: Served, capsys: Capsys) -> None:
    """Codes, Chinese names (city, county, province) and US "City, ST": a place with no jobs is an empty list."""
    seeker = _active_seekers(env, 1)[0]
    beijing = {m.id for m in ro.client.recommend_jobs(seeker, k=50, cities=["110000"])}
    assert beijing
    for spelling in ("北京", "北京市", "110100", "110108"):
        assert {m.id for m in ro.client.recommend_jobs(seeker, k=50, cities=[spelling])} == beijing, spelling
    for place in ("海淀区", "黑龙江", "Seattle, WA", "230100"):
        code, out, err = _query(capsys, ro, "jobs", "--seeker", seeker, "--city", place)
        assert code == 0, (place, err)


def test_unknown_names_are_errors_unless_the_catalogue_writes_them() -> None:
    """The rule itself: the gazetteer's fallback (an unresolved string is its own city key) still lets a filter find
    rows that write the same string; only a string neither knows is refused."""
    vocabs = Vocabs(cities=Vocab(["cn:110100", "atlantis", "us:springfield, zz"]), regions=Vocab(["cn:11", "cn:23"]))
    cities, regions = queries._places(vocabs, ["北京", "Atlantis", "Springfield, ZZ", "黑龙江", "Seattle, WA"], "f")
    assert sorted(cities.tolist()) == [0, 1, 2] and regions.tolist() == [1]
    for names, index in ((["Atlantis", "Atlantis Bay"], 1), (["朝阳区"], 0), (["Nowhere, CA"], 0), (["  "], 0)):
        with pytest.raises(InvalidRequestError, match=rf"^f\[{index}\]: unknown place"):
            queries._places(vocabs, names, "f")
