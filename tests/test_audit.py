"""Fairness audit: groups from protected columns and priority groups, exposure before / after the priority policy,
quality per group, and the counterfactual (change one protected column, no ranking may move).

One small synthetic model with a 14-day hold-out is trained per module (a few seconds) and audited once with a
priority policy; the other tests reuse that summary or audit tiny variants of the data."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from matcher import api
from matcher.data import Dataset
from matcher.offline.synthetic import generate
from matcher.policy.audit import run_audit
from matcher.policy.audit_groups import (
    AGE_BANDS,
    NO_GROUP,
    POLICY_ANY,
    UNKNOWN,
    counterfactual_column,
    priority_dim,
    protected_dims,
)
from matcher.policy.priority import DEFAULT_GROUPS, PriorityPolicy
from matcher.schema import PROTECTED_COLUMNS
from models.registry import ModelBundle

pytestmark = pytest.mark.slow

K = 10
N_CANDIDATES = 60
SYNTH_PROTECTED = ("birth_year", "gender", "hukou", "marital_status")
TEXT_CF = "text (protected statements)"
POLICY = PriorityPolicy(enabled=True, groups=(*DEFAULT_GROUPS, "nobody_has_this_group"), min_share=0.3)


@dataclass
class Audited:
    data: Dataset
    bundle: ModelBundle
    report_dir: Path
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    root = tmp_path_factory.mktemp("audit_synth")
    generate(600, 300, seed=5, events_per_seeker=4.0).write(root / "data")
    data = api.load_data(root / "data")
    config = api.TrainConfig(holdout_days=14, n_candidates=50, n_random_negatives=20, text_dim=32, n_estimators=20,
                             early_stopping_rounds=10, smoothing_trees=5, refit=False,
                             params={"num_threads": 1})  # one thread: far faster on a busy 2-core runner
    trained, _ = api.train(data, config)
    api.save(trained, root / "model", data)
    bundle = api.load(root / "model")
    summary = run_audit(bundle, data, root / "report", k=K, n_candidates=N_CANDIDATES, policy=POLICY)
    return Audited(data=data, bundle=bundle, report_dir=root / "report", summary=summary)


def test_report_files_are_written(audited: Audited) -> None:
    out = audited.report_dir
    for name in ("report.md", "audit.json", "exposure_priority.png", "exposure_protected.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    saved = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert saved["counterfactual"].keys() == audited.summary["counterfactual"].keys()
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "No ranking moved" in text and "![" in text
    for column in SYNTH_PROTECTED:
        assert column in text


def test_every_protected_column_is_a_group_covering_every_seeker(audited: Audited) -> None:
    s, n = audited.summary, len(audited.data.seekers)
    assert sorted(s["protected_columns"]) == sorted(SYNTH_PROTECTED)
    for column in SYNTH_PROTECTED:
        assert sum(s["groups"][column].values()) == n, column
        assert sum(c["seekers"] for c in s["seeker_side"][column].values()) == n
        assert sum(c["seekers"] for c in s["employer_side"]["by_group"][column].values()) == n
    assert set(s["groups"]["birth_year"]) == {*AGE_BANDS, UNKNOWN}
    assert set(s["groups"]["gender"]) == {"F", "M"}
    seekers = audited.data.seekers
    assert s["groups"]["gender"]["F"] == int((seekers["gender"] == "F").sum())
    # Seeker side: shares are shares, ranks carry model scores.
    for cells in s["seeker_side"].values():
        for cell in cells.values():
            if cell["seekers"]:
                assert 0.0 <= cell["full_k_share"] <= 1.0 and cell["mean_top_score"] is not None


def test_a_group_nobody_belongs_to_is_reported_empty(audited: Audited) -> None:
    s = audited.summary
    assert s["groups"]["priority_groups"]["nobody_has_this_group"] == 0
    empty = s["employer_side"]["by_group"]["priority_groups"]["nobody_has_this_group"]
    assert empty["seekers"] == 0 and empty["exposure_before"] is None and empty["exposure_after"] is None
    assert s["seeker_side"]["priority_groups"]["nobody_has_this_group"]["full_k_share"] is None
    # The synthetic seekers carry no gender other than F and M, and every priority group plus "none" is listed.
    lists = audited.data.seekers["priority_groups"].str.split("|")
    in_none = int(lists.map(lambda g: g == [""]).sum())
    assert s["groups"]["priority_groups"][NO_GROUP] == in_none


def test_counterfactual_moves_no_ranking(audited: Audited) -> None:
    cf = audited.summary["counterfactual"]
    assert sorted(cf) == sorted((*SYNTH_PROTECTED, TEXT_CF))
    for column, c in cf.items():
        assert c["rows_changed"] == len(audited.data.seekers), column
        assert c["seekers"] == len(audited.data.seekers) and c["job_lists"] > 0
        assert c["seekers_top_k_changed"] == 0 and c["job_lists_top_k_changed"] == 0, column
        assert c["seeker_max_abs_score_diff"] == 0.0 and c["job_max_abs_score_diff"] == 0.0, column
    assert audited.summary["rankings_moved"] is False


def test_policy_raises_priority_exposure_and_meets_the_share(audited: Audited) -> None:
    e = audited.summary["employer_side"]
    lists = e["policy_lists"]
    assert lists["lists"] == e["jobs"] > 0
    assert lists["slots_added"] > 0 and e["slots_after"] == e["slots_before"] + lists["slots_added"]
    assert lists["lists_failing"] == 0
    assert lists["lists_share_met"] + lists["lists_short_of_priority_candidates"] == lists["lists"]
    target = e["by_group"]["priority_groups"][POLICY_ANY]
    assert target["seekers"] > 0
    assert target["exposure_after"] > target["exposure_before"]
    assert target["slot_share_after"] > target["slot_share_before"]
    # Nobody in the model's top k is removed: slots of the non-priority seekers do not change in number.
    none = e["by_group"]["priority_groups"][NO_GROUP]
    assert none["slot_share_after"] * e["slots_after"] == pytest.approx(none["slot_share_before"] * e["slots_before"])


def test_quality_is_reported_per_group_on_the_hold_out(audited: Audited) -> None:
    q = audited.summary["quality"]
    assert q["available"], q
    training_start = pd.Timestamp(audited.bundle.meta["training"]["test_start"])
    assert pd.Timestamp(q["test_start"]) == training_start
    assert q["queries"] > 0 and 0.0 <= q["ndcg@10"] <= 1.0
    for column in SYNTH_PROTECTED:
        cells = q["by_group"][column]
        assert sum(c["queries"] for c in cells.values()) == q["queries"]
        weighted = sum(c["ndcg@10"] * c["queries"] for c in cells.values() if c["queries"])
        assert weighted / q["queries"] == pytest.approx(q["ndcg@10"])


def test_no_protected_columns_and_no_priority_groups(audited: Audited, tmp_path: Path) -> None:
    data = audited.data
    seekers = data.seekers.drop(columns=[c for c in data.seekers.columns if c in PROTECTED_COLUMNS]).assign(
        priority_groups="")
    bare = Dataset(seekers=seekers, jobs=data.jobs, events=data.events.iloc[:0], root=None)
    summary = run_audit(audited.bundle, bare, tmp_path, k=5, n_candidates=30, max_jobs=20)
    assert summary["protected_columns"] == [] and summary["priority_groups"] is None
    assert list(summary["counterfactual"]) == [TEXT_CF] and summary["groups"] == {}
    assert summary["rankings_moved"] is False
    assert summary["quality"]["available"] is False
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "No protected column in seekers.csv could be audited" in text
    assert "Priority groups: **none**" in text
    assert "Quality: NDCG@10" in text and "Unavailable" in text
    assert (tmp_path / "audit.json").is_file()


def test_text_counterfactual_catches_an_encoder_that_reads_protected_statements(audited: Audited,
                                                                              tmp_path: Path) -> None:
    """The same model with redaction switched off: the statements now reach the text vectors and rankings move, so
    the counterfactual's 0 above is a measurement, not a test that cannot fail."""
    encoder = copy.copy(audited.bundle.encoder)
    encoder.redact = False
    bundle = replace(audited.bundle, encoder=encoder)
    data = audited.data
    seekers = data.seekers.drop(columns=[c for c in data.seekers.columns if c in PROTECTED_COLUMNS])
    bare = Dataset(seekers=seekers, jobs=data.jobs, events=data.events, root=None)
    summary = run_audit(bundle, bare, tmp_path, k=5, n_candidates=30, max_jobs=20, max_counterfactual=200)
    text = summary["counterfactual"][TEXT_CF]
    assert text["rows_changed"] == len(seekers)
    assert text["seekers_top_k_changed"] > 0 and text["seeker_max_abs_score_diff"] > 0
    assert summary["rankings_moved"] is True
    assert "Rankings moved when a protected attribute changed" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_group_and_counterfactual_helpers_known_answers() -> None:
    seekers = pd.DataFrame({
        "seeker_id": ["a", "b", "c", "d"],
        "gender": ["F", "M", "", "F"],
        "birth_year": ["2003", "1990", "1970", ""],
        "health": ["", "", "", ""],
        "priority_groups": ["graduate", "", "Veteran|graduate", ""],
    })
    as_of = pd.Timestamp("2026-03-01", tz="UTC")
    dims, skipped = protected_dims(seekers, as_of)
    assert skipped == {"health": "present but empty for every seeker"}
    by_name = {d.name: d for d in dims}
    assert by_name["gender"].sizes() == {"F": 2, "M": 1, UNKNOWN: 1}
    assert by_name["birth_year"].sizes() == {"<25": 1, "25-34": 0, "35-44": 1, "45+": 1, UNKNOWN: 1}
    groups = priority_dim(seekers, PriorityPolicy(enabled=True, groups=("veteran",)))
    assert groups is not None
    assert groups.sizes() == {"graduate": 2, "veteran": 1, NO_GROUP: 2, POLICY_ANY: 1}
    assert priority_dim(seekers.assign(priority_groups=""), None) is None
    gender, how = counterfactual_column(seekers["gender"], "gender")
    assert list(gender) == ["M", "F", "F", "M"] and "rotated" in how
    years, _ = counterfactual_column(seekers["birth_year"], "birth_year")
    assert list(years) == ["1986", "1973", "1953", "1980"]
    health, _ = counterfactual_column(seekers["health"], "health")
    assert (health != "").all()
