"""Issue 16: a seeker the engine knows nothing about (no text, wishes, skills or history) must not head an
employer's list above seekers who fit."""

from __future__ import annotations

import numpy as np

from features.history import known_seekers
from matcher.data import Dataset
from matcher.engine.matching import MatchEngine, rank_seekers
from tests.conftest import SmallWorld

_PROFILE = ("text", "skills", "desired_occupations", "desired_industries")


def test_blank_seekers_come_after_every_seeker_with_a_profile(small_world: SmallWorld) -> None:
    data = small_world.data
    seekers = data.seekers.copy()
    no_history = ~seekers.index.isin(data.events["seeker_idx"])
    blank_rows = np.flatnonzero(no_history)[:40]
    seekers.loc[blank_rows, list(_PROFILE)] = ""
    blanked = Dataset(seekers=seekers, jobs=data.jobs, events=data.events, root=None)
    engine = MatchEngine(small_world.bundle, blanked)
    cat, snap = engine.catalogue, engine.snapshot
    everyone = np.arange(len(seekers))
    known = known_seekers(cat, snap, everyone)
    assert not known[blank_rows].any() and known.sum() > 100
    index = engine.generator.seeker_index(cat, snap, everyone)
    jobs = np.arange(min(60, len(data.jobs)))
    recs = rank_seekers(engine.bundle, cat, snap, index, engine.generator.job_queries(cat, snap, jobs), jobs,
                        k=len(seekers), n_candidates=len(seekers))
    for row in recs.job_idx:
        ranked = row[row >= 0]
        tier = ~known[ranked]
        assert tier.any(), "every job's full list holds the blank seekers too"
        assert not tier[: int((~tier).sum())].any()  # every known seeker before the first blank one
