"""The serving catalogue without gRPC: parity with `matcher batch`, live upserts / deletes / events, journal restore,
request filters. The session's small synthetic model (tests/conftest.py) is shared by every test; each test
builds its own LiveCatalogue (a fraction of a second) so that writes never leak between tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.geo import load_gazetteer
from features.pairs import FEATURE_NAMES, pair_features
from matcher.data import Dataset, validate_events, validate_jobs, validate_seekers
from matcher.engine.matching import MatchEngine
from matcher.errors import InvalidRequestError, MatcherError, NotFoundError
from matcher.schema import EVENT_COLUMNS, JOB_COLUMNS, JOB_TYPES, SEEKER_COLUMNS
from matcher.service import queries
from matcher.service.live import DELETED_COLUMN, LiveCatalogue
from matcher.service.messages import JobFilter, JobQuery, Match, SeekerQuery
from matcher.service.replay import restore
from matcher.service.store import Store
from tests.conftest import SmallWorld

K = 10
N_CANDIDATES = 100
# Single-row upserts: enough to outgrow the adopted batch arrays (exact size) and the grown buffers (x1.5 + 16)
# twice, on the job columns (300 rows: growth at rows 300 and 466) and on the retrieval index (~270 open jobs:
# growth at slots ~270 and ~420). 25-50 ms each.
N_APPENDS = 180

# --------------------------------------------------------------------------------------------------------------
# The shared model and helpers
# --------------------------------------------------------------------------------------------------------------


World = SmallWorld


@pytest.fixture(scope="module")
def world(small_world: SmallWorld) -> World:
    return small_world


def _live(world: World, data: Dataset | None = None) -> LiveCatalogue:
    return LiveCatalogue(world.bundle, data if data is not None else world.data, as_of=world.as_of,
                         n_candidates=N_CANDIDATES)


def _frame(records: list[dict[str, str]], columns: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(records, dtype=object)
    for name in columns:
        if name not in frame:
            frame[name] = ""
    return frame.fillna("")


def _jobs(*records: dict[str, str]) -> pd.DataFrame:
    return validate_jobs(_frame(list(records), JOB_COLUMNS), "jobs")


def _seekers(*records: dict[str, str]) -> pd.DataFrame:
    return validate_seekers(_frame(list(records), SEEKER_COLUMNS), "seekers")


def _events(*records: dict[str, str]) -> pd.DataFrame:
    return validate_events(_frame(list(records), EVENT_COLUMNS), "events")


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cells(row: pd.Series, columns: dict[str, Any]) -> dict[str, str]:
    """A validated frame row back as FORMAT.md cell text."""
    out = {}
    for name in columns:
        value = row[name]
        if isinstance(value, pd.Timestamp):
            out[name] = _iso(value)
        elif isinstance(value, float):
            out[name] = "" if np.isnan(value) else repr(float(value))
        else:
            out[name] = "" if value is None else str(value)
    return out


def _seeker_record(world: World, seeker_id: str) -> dict[str, str]:
    seekers = world.data.seekers
    return _cells(seekers[seekers["seeker_id"] == seeker_id].iloc[0], SEEKER_COLUMNS)


def _job_record(world: World, job_id: str) -> dict[str, str]:
    jobs = world.data.jobs
    return _cells(jobs[jobs["job_id"] == job_id].iloc[0], JOB_COLUMNS)


def _profile_seeker(world: World) -> pd.Series:
    """A seeker with text, skills, a desired occupation, a city and a location."""
    s = world.data.seekers
    ok = (s["text"].ne("") & s["skills"].ne("") & s["desired_occupations"].ne("") & s["city"].ne("")
          & s["lat"].notna() & s["expected_salary_min"].notna())
    return s[ok].iloc[0]


def _job_like(world: World, seeker: pd.Series, job_id: str, **over: str) -> dict[str, str]:
    """A job whose text, title, skills and place copy `seeker`'s profile, open at as_of."""
    record = {
        "job_id": job_id, "employer_id": "E-LIVE", "title": seeker["desired_occupations"].split("|")[0],
        "text": seeker["text"], "skills": seeker["skills"], "occupation": seeker["desired_occupations"].split("|")[0],
        "city": seeker["city"], "lat": repr(float(seeker["lat"])), "lon": repr(float(seeker["lon"])),
        "salary_min": repr(float(seeker["expected_salary_min"])),
        "salary_max": repr(float(seeker["expected_salary_min"]) * 1.5), "job_type": "full_time",
        "posted_at": _iso(world.as_of - pd.Timedelta(days=1)), "expires_at": "",
    }
    record.update(over)
    return record


def _ok(outcome: list[Match] | MatcherError) -> list[Match]:
    assert not isinstance(outcome, MatcherError), outcome
    return outcome


def _top(live: LiveCatalogue, seeker_id: str, k: int = K, flt: JobFilter | None = None) -> list[Match]:
    return _ok(queries.recommend_jobs(live, [JobQuery(k=k, seeker_id=seeker_id, filter=flt or JobFilter())])[0])


def _ids(matches: list[Match]) -> list[str]:
    return [m.id for m in matches]


def _assert_same_ranking(got: list[Match], want: list[Match], what: object) -> None:
    """Same scores, and the same ids at each score. A small model gives many equal scores, and the order inside a
    tie follows retrieval order, which depends on row positions; at the cut-off score only the count must agree."""
    np.testing.assert_allclose([m.score for m in got], [m.score for m in want], rtol=1e-9, err_msg=str(what))
    if not want:
        return
    last = want[-1].score
    for score in {m.score for m in want} - {last}:
        assert {m.id for m in got if m.score == score} == {m.id for m in want if m.score == score}, what


# --------------------------------------------------------------------------------------------------------------
# Parity with the batch engine
# --------------------------------------------------------------------------------------------------------------


def test_without_writes_the_live_catalogue_ranks_exactly_like_matcher_batch(world: World) -> None:
    live = _live(world)
    engine = MatchEngine(world.bundle, world.data, as_of=world.as_of, n_candidates=N_CANDIDATES)
    rows = np.arange(0, 400, 8)[:50]
    ids = world.data.seekers["seeker_id"].to_numpy()[rows].tolist()
    recs = engine.recommend(rows, K)
    expected = []
    for r in range(len(rows)):
        found = recs.job_idx[r] >= 0
        expected.append([(world.data.jobs["job_id"].iloc[j], float(s))
                         for j, s in zip(recs.job_idx[r][found], recs.scores[r][found], strict=True)])
    assert sum(len(e) for e in expected) == K * len(rows)  # every seeker has k open jobs: a full comparison

    together = queries.recommend_jobs(live, [JobQuery(k=K, seeker_id=s) for s in ids])
    one_by_one = [queries.recommend_jobs(live, [JobQuery(k=K, seeker_id=s)])[0] for s in ids]
    for i, seeker_id in enumerate(ids):
        assert [(m.id, m.score) for m in _ok(together[i])] == expected[i], seeker_id
        assert [(m.id, m.score) for m in _ok(one_by_one[i])] == expected[i], seeker_id


# --------------------------------------------------------------------------------------------------------------
# Job upserts and deletes
# --------------------------------------------------------------------------------------------------------------


def test_upserted_job_is_recommended_replaced_in_place_and_deleted(world: World) -> None:
    live = _live(world)
    seeker = _profile_seeker(world)
    sid = seeker["seeker_id"]
    n_jobs, n_open = live.n_jobs, live.generator.n_usable

    live.upsert_jobs(_jobs(_job_like(world, seeker, "LIVE-J1")))
    assert live.n_jobs == n_jobs + 1 and live.generator.n_usable == n_open + 1
    row = live.job_row["LIVE-J1"]
    assert row == n_jobs  # appended after the batch rows
    assert "LIVE-J1" in _ids(_top(live, sid))
    [score] = queries.score_pairs(live, [sid], ["LIVE-J1"])
    assert np.isfinite(score)
    cat, _ = live.view()
    text_before, title_before = cat.jobs.text_emb[row].copy(), cat.jobs.aux_emb[row].copy()

    new_title = "夜班保安 巡逻"
    live.upsert_jobs(_jobs(_job_like(world, seeker, "LIVE-J1", title=new_title, occupation="")))
    assert live.job_row["LIVE-J1"] == row and live.n_jobs == n_jobs + 1  # same row, nothing appended
    assert live.generator.n_usable == n_open + 1
    cat, _ = live.view()
    assert np.array_equal(cat.jobs.text_emb[row], text_before)  # text unchanged
    assert not np.allclose(cat.jobs.aux_emb[row], title_before)  # the title's embedding is the new one
    expected_title = world.bundle.encoder.embed(np.array([new_title], dtype=object))[0]
    np.testing.assert_allclose(cat.jobs.aux_emb[row], expected_title, rtol=1e-6, atol=1e-7)

    assert live.delete_jobs(["LIVE-J1"]) == 1
    assert "LIVE-J1" not in _ids(_top(live, sid, k=50))
    assert all("LIVE-J1" not in _ids(_ok(o))
               for o in queries.recommend_jobs(live, [JobQuery(k=50, seeker_id=s) for s in live.seeker_ids[:40]]))
    with pytest.raises(NotFoundError):
        queries.score_pairs(live, [sid], ["LIVE-J1"])
    assert live.generator.n_usable == n_open
    assert live.delete_jobs(["LIVE-J1"]) == 0  # already gone
    assert live.delete_jobs(["NO-SUCH-JOB"]) == 0
    assert live.delete_seekers(["NO-SUCH-SEEKER"]) == 0


def test_a_closed_job_is_not_returned_until_its_expiry_moves_past_as_of(world: World) -> None:
    live = _live(world)
    seeker = _profile_seeker(world)
    sid = seeker["seeker_id"]
    expired = _job_like(world, seeker, "LIVE-CLOSED", posted_at=_iso(world.as_of - pd.Timedelta(days=20)),
                        expires_at=_iso(world.as_of - pd.Timedelta(days=1)))
    n_open = live.generator.n_usable
    live.upsert_jobs(_jobs(expired))
    assert live.generator.n_usable == n_open
    assert "LIVE-CLOSED" not in _ids(_top(live, sid, k=50))

    live.upsert_jobs(_jobs({**expired, "expires_at": _iso(world.as_of + pd.Timedelta(days=30))}))
    assert live.generator.n_usable == n_open + 1
    assert "LIVE-CLOSED" in _ids(_top(live, sid))

    live.upsert_jobs(_jobs(expired))  # closed again
    assert live.generator.n_usable == n_open
    assert "LIVE-CLOSED" not in _ids(_top(live, sid, k=50))


# --------------------------------------------------------------------------------------------------------------
# Growing vocabularies, kept history, many appends
# --------------------------------------------------------------------------------------------------------------


def _unseen_city(live: LiveCatalogue) -> str:
    """A real prefecture-level city whose code the catalogue has never seen."""
    gaz = load_gazetteer()
    for code in ("540100", "650100", "460200", "632300", "542500", "653100", "150700", "230700"):
        key = gaz.resolve(pd.Series([code])).city_key[0]
        if live.vocabs.cities.encode(np.array([key], dtype=object), grow=False)[0] < 0:
            return code
    raise AssertionError("every candidate city is in the synthetic data")


def test_new_skills_cities_and_employers_grow_the_vocabularies(world: World) -> None:
    live = _live(world)
    vocabs = live.vocabs
    sizes = {name: len(getattr(vocabs, name)) for name in ("skills", "cities", "employers", "regions")}
    city = _unseen_city(live)
    live.upsert_seekers(_seekers({"seeker_id": "LIVE-S1", "text": "量子编织 十年经验", "skills": "量子编织|星际导航",
                                  "city": city, "desired_cities": f"{city}|Atlantis Bay",
                                  "desired_occupations": "量子编织师", "expected_salary_min": "9000"}))
    live.upsert_jobs(_jobs({"job_id": "LIVE-J1", "employer_id": "E-NEVER-SEEN", "title": "量子编织师",
                            "text": "量子编织 星际导航", "skills": "星际导航|量子编织|反物质焊接", "city": "Atlantis Bay",
                            "salary_min": "8000", "posted_at": _iso(world.as_of - pd.Timedelta(days=2))}))
    assert len(vocabs.skills) == sizes["skills"] + 3
    assert len(vocabs.cities) == sizes["cities"] + 2
    assert len(vocabs.employers) == sizes["employers"] + 1

    cat, snap = live.view()
    width = len(vocabs.skills)
    assert cat.seekers.skills.matrix.shape[1] == width and cat.jobs.skills.matrix.shape[1] == width
    s_new, j_new = live.seeker_row["LIVE-S1"], live.job_row["LIVE-J1"]
    old_s = np.arange(0, 400, 37)
    old_j = np.arange(0, 300, 23)
    si = np.concatenate([np.full(len(old_j), s_new), old_s, [s_new]])
    ji = np.concatenate([old_j, np.full(len(old_s), j_new), [j_new]])
    features = pair_features(cat, snap, si, ji)
    assert features.shape == (len(si), len(FEATURE_NAMES))
    assert not np.isinf(features).any()
    named = dict(zip(FEATURE_NAMES, features[-1], strict=True))
    assert named["skill_overlap"] == 2 and named["skill_coverage"] == pytest.approx(2 / 3)
    assert named["same_city"] == 0 and named["in_desired_city"] == 1
    assert named["seen_job_before"] == 0 and named["seeker_activity"] == 0

    [score] = queries.score_pairs(live, ["LIVE-S1"], ["LIVE-J1"])
    assert np.isfinite(score)
    assert len(_top(live, "LIVE-S1")) == K
    assert all(len(_ok(o)) == K for o in queries.recommend_jobs(
        live, [JobQuery(k=K, seeker_id=s) for s in world.data.seekers["seeker_id"].iloc[:20]]))


def test_an_inline_profile_with_unseen_keys_is_ranked_as_if_stored_and_grows_nothing(world: World) -> None:
    """A read must not change the catalogue: an inline profile's unseen skills, cities and employers once grew the
    vocabularies for good (a leak per request, and a race once two engine threads read at a time)."""
    live = _live(world)
    city = _unseen_city(live)
    profile = {"seeker_id": "INLINE-S1", "text": "量子编织 十年经验", "skills": "量子编织|星际导航", "city": city,
               "desired_cities": f"{city}|Atlantis Bay", "desired_occupations": "量子编织师",
               "expected_salary_min": "9000"}
    sizes = {name: len(getattr(live.vocabs, name)) for name in ("skills", "cities", "employers", "regions")}
    [inline] = queries.recommend_jobs(live, [JobQuery(k=K, profile={c: profile.get(c, "") for c in SEEKER_COLUMNS})])
    job = {"job_id": "INLINE-J1", "employer_id": "E-NEVER-SEEN", "title": "量子编织师", "text": "量子编织",
           "skills": "量子编织|反物质焊接", "city": "Atlantis Bay", "salary_min": "8000",
           "posted_at": _iso(world.as_of - pd.Timedelta(days=2))}
    [seekers_for_job] = queries.recommend_seekers(live, [SeekerQuery(k=K, profile={c: job.get(c, "")
                                                                                   for c in JOB_COLUMNS})])
    assert {name: len(getattr(live.vocabs, name)) for name in sizes} == sizes
    assert len(_ok(seekers_for_job)) == K

    live.upsert_seekers(_seekers(profile))  # the same profile stored: now its keys get codes
    assert len(live.vocabs.skills) == sizes["skills"] + 2
    stored = _top(live, "INLINE-S1")
    assert _ids(_ok(inline)) == _ids(stored)
    np.testing.assert_allclose([m.score for m in _ok(inline)], [m.score for m in stored], rtol=1e-6)


def test_upserting_a_seeker_keeps_its_history_and_a_new_seeker_has_none(world: World) -> None:
    live = _live(world)
    _, snap = live.view()
    row = int(np.flatnonzero(snap.n_hist > 0)[0])
    sid = live.seeker_ids[row]
    n_hist, hist_emb = float(snap.n_hist[row]), snap.hist_emb[row].copy()
    applied = set(live.applied.get(row, ()))

    record = {**_seeker_record(world, sid), "text": "转行做仓库管理 叉车", "skills": "叉车证|仓储管理"}
    live.upsert_seekers(_seekers(record, {"seeker_id": "LIVE-S-NEW", "text": "仓库管理"}))
    cat, snap = live.view()
    assert live.seeker_row[sid] == row
    assert snap.n_hist[row] == n_hist
    assert np.array_equal(snap.hist_emb[row], hist_emb)
    assert set(live.applied.get(row, ())) == applied
    new = live.seeker_row["LIVE-S-NEW"]
    assert new == len(world.data.seekers)
    assert snap.n_hist[new] == 0 and not snap.hist_emb[new].any() and snap.hist_region_mode[new] == -1
    np.testing.assert_allclose(cat.seekers.text_emb[row],
                               world.bundle.encoder.embed(np.array([record["text"]], dtype=object))[0],
                               rtol=1e-6, atol=1e-7)
    assert len(_top(live, sid)) == K and len(_top(live, "LIVE-S-NEW")) == K


def test_replacing_batch_rows_in_place_leaves_the_callers_dataset_alone(world: World) -> None:
    """An upsert that only replaces rows loaded from the folder (no append in the same call, so no buffer growth)."""
    data = world.data
    seekers_before, jobs_before = data.seekers.copy(), data.jobs.copy()
    live = _live(world)
    sid, jid = data.seekers["seeker_id"].iloc[2], data.jobs["job_id"].iloc[2]
    s_row, j_row = live.seeker_row[sid], live.job_row[jid]
    seeker = {**_seeker_record(world, sid), "expected_salary_min": "1234.0", "expected_salary_max": "2345.0",
              "text": "只改了薪资和简历"}
    job = {**_job_record(world, jid), "salary_min": "111.0", "salary_max": "99999.0", "title": "只改了薪资和标题"}

    live.upsert_seekers(_seekers(seeker))
    live.upsert_jobs(_jobs(job))

    assert (live.seeker_row[sid], live.job_row[jid]) == (s_row, j_row)
    assert (live.n_seekers, live.n_jobs) == (len(data.seekers), len(data.jobs))
    cat, _ = live.view()
    assert (cat.seekers.salary_min[s_row], cat.seekers.salary_max[s_row]) == (1234.0, 2345.0)
    assert (cat.jobs.salary_min[j_row], cat.jobs.salary_max[j_row]) == (111.0, 99999.0)
    pd.testing.assert_frame_equal(data.seekers, seekers_before)  # the live catalogue owns its arrays
    pd.testing.assert_frame_equal(data.jobs, jobs_before)
    [score] = queries.score_pairs(live, [sid], [jid])
    assert np.isfinite(score)


def _job_state(live: LiveCatalogue, rows: list[int]) -> dict[str, Any]:
    cat, snap = live.view()
    j = cat.jobs
    return {
        "text_emb": j.text_emb[rows].copy(), "aux_emb": j.aux_emb[rows].copy(), "city": j.city[rows].copy(),
        "lat": j.lat[rows].copy(), "salary_min": j.salary_min[rows].copy(), "employer": cat.employer[rows].copy(),
        "posted": cat.job_posted_ns[rows].copy(), "expires": cat.job_expires_ns[rows].copy(),
        "popularity": snap.job_popularity[rows].copy(),
        "job_type": np.stack([live.of_job_types([t])[rows] for t in sorted(JOB_TYPES)]),
        "skills": [j.skills.codes(r).tolist() for r in rows],
    }


def test_many_single_appends_keep_earlier_rows_intact(world: World) -> None:
    live = _live(world)
    seeker = _profile_seeker(world)
    live.upsert_jobs(_jobs(_job_like(world, seeker, "LIVE-FIRST", skills="first-only-skill|" + seeker["skills"])))
    n_base = len(world.data.jobs)
    rows = [0, 1, n_base // 2, n_base - 1, n_base]
    before = _job_state(live, rows)
    s_rows = [0, 1, len(world.data.seekers) - 1]
    cat, snap = live.view()
    s_before = (cat.seekers.text_emb[s_rows].copy(), cat.seekers.city[s_rows].copy(), snap.n_hist[s_rows].copy(),
                snap.hist_emb[s_rows].copy(), [cat.seekers.skills.codes(r).tolist() for r in s_rows])
    n_open = live.generator.n_usable
    for i in range(N_APPENDS // 5):
        live.upsert_seekers(_seekers({"seeker_id": f"LIVE-S{i:03d}", "text": f"求职者{i}", "skills": f"skill-{i}",
                                      "city": "哈尔滨"}))

    for i in range(N_APPENDS):
        live.upsert_jobs(_jobs({"job_id": f"LIVE-{i:03d}", "title": f"岗位{i}", "text": f"第{i}号 岗位 描述",
                                "skills": f"skill-{i}|skill-{i + 1}", "city": "哈尔滨", "employer_id": f"E-{i}",
                                "job_type": "gig", "posted_at": _iso(world.as_of - pd.Timedelta(hours=i + 1))}))

    after = _job_state(live, rows)
    for name, value in before.items():
        if name == "skills":
            assert after[name] == value
        else:
            np.testing.assert_array_equal(after[name], value, err_msg=name)
    cat, snap = live.view()
    s_after = (cat.seekers.text_emb[s_rows], cat.seekers.city[s_rows], snap.n_hist[s_rows], snap.hist_emb[s_rows],
               [cat.seekers.skills.codes(r).tolist() for r in s_rows])
    for a, b in zip(s_after[:4], s_before[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    assert s_after[4] == s_before[4]
    assert live.n_seekers == len(world.data.seekers) + N_APPENDS // 5
    assert live.n_jobs == n_base + 1 + N_APPENDS and live.generator.n_usable == n_open + N_APPENDS
    assert [live.job_row[f"LIVE-{i:03d}"] for i in (0, 150, N_APPENDS - 1)] == [n_base + 1, n_base + 151,
                                                                                 n_base + N_APPENDS]
    cat, _ = live.view()
    last = live.job_row[f"LIVE-{N_APPENDS - 1:03d}"]
    assert [live.vocabs.skills.keys[c] for c in cat.jobs.skills.codes(last)] == [f"skill-{N_APPENDS - 1}",
                                                                                 f"skill-{N_APPENDS}"]
    assert "LIVE-FIRST" in _ids(_top(live, seeker["seeker_id"]))
    scores = queries.score_pairs(live, [seeker["seeker_id"]] * 3, ["LIVE-000", "LIVE-150", f"LIVE-{N_APPENDS - 1:03d}"])
    assert np.isfinite(scores).all()


# --------------------------------------------------------------------------------------------------------------
# Journal restore
# --------------------------------------------------------------------------------------------------------------


def test_restore_overlays_the_journal_and_ranks_like_the_live_catalogue(world: World, tmp_path: Path) -> None:
    data = world.data
    seeker = _profile_seeker(world)
    ev = data.events
    history = ev[(ev["grade"] > 0) & (ev["timestamp"] < world.as_of)]
    # A job and a seeker without history before as_of: deleting them changes no history or popularity feature
    # (deleting rows with history does: test_restart_after_deleting_rows_with_history_keeps_popularity).
    quiet_job = next(j for j in data.jobs["job_id"] if j not in set(history["job_id"]))
    changed_job = data.jobs["job_id"].iloc[5]
    changed_seeker = data.seekers["seeker_id"].iloc[3]
    gone_seeker = next(s for s in data.seekers["seeker_id"].iloc[5:] if s not in set(history["seeker_id"]))
    after = _iso(world.as_of + pd.Timedelta(hours=1))  # after as_of: not history for either catalogue

    seekers_up = [{**_seeker_record(world, changed_seeker), "text": "转行 仓库管理 叉车", "skills": "叉车证|仓储管理"},
                  {"seeker_id": "LIVE-S-NEW", "text": seeker["text"], "skills": seeker["skills"],
                   "city": seeker["city"], "desired_occupations": seeker["desired_occupations"], "gender": "F"}]
    jobs_up = [_job_like(world, seeker, "LIVE-J-NEW"),
               {**_job_record(world, changed_job), "title": "仓库管理员", "salary_max": "20000.0"}]
    events = [{"seeker_id": seeker["seeker_id"], "job_id": "LIVE-J-NEW", "event": "applied", "timestamp": after,
               "value": ""},
              {"seeker_id": changed_seeker, "job_id": changed_job, "event": "viewed", "timestamp": after,
               "value": "12.5"}]

    live = _live(world)
    with Store(tmp_path / "journal.sqlite") as store:
        store.upsert("seekers", seekers_up)
        live.upsert_seekers(_seekers(*seekers_up))
        store.upsert("jobs", jobs_up)
        live.upsert_jobs(_jobs(*jobs_up))
        store.delete("jobs", [quiet_job])
        live.delete_jobs([quiet_job])
        store.delete("seekers", [gone_seeker])
        live.delete_seekers([gone_seeker])
        store.append_events(events)
        live.record_events(_events(*events))
        replay = store.replay()

    restored = restore(world.root, replay)
    s, j = restored.seekers.set_index("seeker_id"), restored.jobs.set_index("job_id")
    # One added on each side; the deleted folder rows stay, marked, so their history still counts after a restart.
    assert len(s) == len(data.seekers) + 1 and len(j) == len(data.jobs) + 1
    assert s.loc[gone_seeker, DELETED_COLUMN] == "1" and j.loc[quiet_job, DELETED_COLUMN] == "1"
    assert (s.drop(index=[gone_seeker])[DELETED_COLUMN] == "").all()
    assert (j.drop(index=[quiet_job])[DELETED_COLUMN] == "").all()
    assert s.loc[changed_seeker, "text"] == "转行 仓库管理 叉车" and s.loc["LIVE-S-NEW", "gender"] == "F"
    assert j.loc[changed_job, "title"] == "仓库管理员" and j.loc[changed_job, "salary_max"] == 20000.0
    assert j.loc["LIVE-J-NEW", "text"] == seeker["text"]
    untouched = data.seekers["seeker_id"].iloc[10]
    pd.testing.assert_series_equal(s.loc[untouched].drop(DELETED_COLUMN), data.seekers.set_index("seeker_id").loc[untouched])
    assert len(restored.events) == len(data.events) + 2
    tail = restored.events.iloc[-2:]
    assert tail["event"].tolist() == ["applied", "viewed"]
    assert tail["job_idx"].iloc[0] == restored.jobs.index[restored.jobs["job_id"] == "LIVE-J-NEW"][0]
    assert tail["seeker_idx"].iloc[1] == restored.seekers.index[restored.seekers["seeker_id"] == changed_seeker][0]
    assert tail["value"].iloc[1] == 12.5

    rebuilt = _live(world, restored)
    assert rebuilt.n_seekers == live.n_seekers and rebuilt.n_jobs == live.n_jobs
    assert rebuilt.generator.n_usable == live.generator.n_usable
    for sid in [seeker["seeker_id"], changed_seeker, "LIVE-S-NEW", *data.seekers["seeker_id"].iloc[20:25]]:
        for flt in (JobFilter(), JobFilter(exclude_applied=True)):
            _assert_same_ranking(_top(rebuilt, sid, flt=flt), _top(live, sid, flt=flt), (sid, flt))
    assert "LIVE-J-NEW" in _ids(_top(live, seeker["seeker_id"]))
    assert "LIVE-J-NEW" not in _ids(_top(live, seeker["seeker_id"], flt=JobFilter(exclude_applied=True)))


def _restarted(world: World, tmp_path: Path, write: Any) -> tuple[LiveCatalogue, LiveCatalogue]:
    """`write(store, live)` applied to a journal and to a live catalogue; returns (live, rebuilt from the journal)."""
    live = _live(world)
    with Store(tmp_path / "journal.sqlite") as store:
        write(store, live)
        replay = store.replay()
    return live, _live(world, restore(world.root, replay))


def test_restart_after_deleting_rows_with_history_keeps_popularity(world: World, tmp_path: Path) -> None:
    ev = world.data.events
    history = ev[(ev["grade"] > 0) & (ev["timestamp"] < world.as_of)
                 & (ev["timestamp"] >= world.as_of - pd.Timedelta(days=30))]
    active_seeker = history["seeker_id"].value_counts().index[0]
    active_job = history["job_id"].value_counts().index[0]

    def write(store: Store, live: LiveCatalogue) -> None:
        store.delete("seekers", [active_seeker])
        live.delete_seekers([active_seeker])
        store.delete("jobs", [active_job])
        live.delete_jobs([active_job])

    live, rebuilt = _restarted(world, tmp_path, write)

    def per_id(cat_live: LiveCatalogue) -> tuple[dict[str, float], dict[str, float]]:
        _, snap = cat_live.view()
        return ({j: float(snap.job_popularity[r]) for j, r in cat_live.job_row.items()},
                {s: float(snap.n_hist[r]) for s, r in cat_live.seeker_row.items()})

    assert per_id(rebuilt) == per_id(live)


def test_a_job_posted_after_as_of_stays_open_across_a_restart(world: World, tmp_path: Path) -> None:
    seeker = _profile_seeker(world)
    job = _job_like(world, seeker, "LIVE-FUTURE", posted_at=_iso(world.as_of + pd.Timedelta(hours=2)))

    def write(store: Store, live: LiveCatalogue) -> None:
        store.upsert("jobs", [job])
        live.upsert_jobs(_jobs(job))

    live, rebuilt = _restarted(world, tmp_path, write)
    assert "LIVE-FUTURE" in _ids(_top(live, seeker["seeker_id"]))
    assert rebuilt.generator.n_usable == live.generator.n_usable
    assert "LIVE-FUTURE" in _ids(_top(rebuilt, seeker["seeker_id"]))


# --------------------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------------------


def test_a_bad_filter_fails_alone_and_the_other_queries_of_the_call_succeed(world: World) -> None:
    live = _live(world)
    ids = live.seeker_ids[:3]
    out = queries.recommend_jobs(live, [
        JobQuery(k=K, seeker_id=ids[0]),
        JobQuery(k=K, seeker_id=ids[1], filter=JobFilter(job_types=("full_time", "astronaut"))),
        JobQuery(k=5, seeker_id=ids[2]),
        JobQuery(k=K, seeker_id="NO-SUCH-SEEKER"),
    ])
    assert isinstance(out[1], InvalidRequestError) and "job_types[1]" in str(out[1])
    assert isinstance(out[3], NotFoundError)
    assert _ids(_ok(out[0])) == _ids(_top(live, ids[0]))
    assert _ids(_ok(out[2])) == _ids(_top(live, ids[2], k=5))


def test_city_and_job_type_filters_restrict_the_results(world: World) -> None:
    live = _live(world)
    jobs = world.data.jobs.set_index("job_id")
    sid = live.seeker_ids[0]
    open_rows = live.generator.open_idx
    gaz = load_gazetteer()
    city_key = pd.Series(gaz.resolve(world.data.jobs["city"]).city_key, index=world.data.jobs["job_id"])
    busiest = city_key.iloc[open_rows].value_counts().index[0]  # the city with most open jobs
    code = busiest.removeprefix("cn:")  # a GB/T 2260 city code, e.g. 220100
    got = _top(live, sid, k=K, flt=JobFilter(cities=(code,)))
    assert len(got) == min(K, int((city_key.iloc[open_rows] == busiest).sum())) > 0
    assert {city_key[m.id] for m in got} == {busiest}
    unfiltered = _top(live, sid, k=K)
    assert {city_key[m.id] for m in unfiltered} != {busiest}  # the filter, not chance, made the list one-city

    kinds = set(world.data.jobs["job_type"].iloc[open_rows])
    kind = sorted(k for k in kinds if k != "full_time")[0] if len(kinds) > 1 else "full_time"
    got = _top(live, sid, k=K, flt=JobFilter(job_types=(kind,)))
    assert got and {jobs.loc[m.id, "job_type"] for m in got} == {kind}


def test_exclude_applied_drops_a_job_once_an_application_is_recorded(world: World) -> None:
    live = _live(world)
    sid = live.seeker_ids[7]
    top = _top(live, sid)
    already = live.applied.get(live.seeker_row[sid], set())
    target = next(m.id for m in top if live.job_row[m.id] not in already)
    live.record_events(_events({"seeker_id": sid, "job_id": target, "event": "viewed",
                                "timestamp": _iso(world.as_of)}))
    assert target in _ids(_top(live, sid, flt=JobFilter(exclude_applied=True)))  # a view is not an application
    live.record_events(_events({"seeker_id": sid, "job_id": target, "event": "applied",
                                "timestamp": _iso(world.as_of)}))
    assert _ids(_top(live, sid)) == _ids(top)  # without the filter nothing changes
    filtered = _ids(_top(live, sid, flt=JobFilter(exclude_applied=True)))
    assert target not in filtered and len(filtered) == K
    applied = live.applied[live.seeker_row[sid]]
    assert live.job_row[target] in applied
    assert not any(live.job_row[j] in applied for j in filtered)
    kept = [j for j in _ids(top) if live.job_row[j] not in applied]
    assert filtered[:len(kept)] == kept  # the rest keep their order; later jobs move up
