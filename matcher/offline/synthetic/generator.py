"""`generate`: the entry point that draws seekers, jobs and events from independent random streams of one seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from .dataset import SyntheticData
from .events import _events
from .geography import _geo
from .jobs import _jobs
from .latent import Latent
from .occupations import _check_occupations
from .seekers import _seekers
from .vocabulary import _vocab


def generate(n_seekers: int, n_jobs: int, *, seed: int = 0, events_per_seeker: float = 3.0,
             start: str = "2026-01-01", days: int = 60, employer_selectivity: float = 0.0) -> SyntheticData:
    """Synthetic seekers, jobs and events; the same arguments always give identical frames.

    events_per_seeker is the mean number of jobs a seeker interacts with (each logs 1-5 funnel rows); 0 skips
    events, which is what profile-only benchmarks want. Jobs are posted in [start, start + days) and events
    fall in the same window. Seekers, jobs and events use independent random streams, so e.g. the seekers of
    (seed, n_seekers) do not change with n_jobs. employer_selectivity > 0 gives employers preferences of their
    own at the interview and hire stages (package docstring)."""
    if n_seekers < 0 or n_jobs < 0:
        raise ValueError("n_seekers and n_jobs must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    if not events_per_seeker >= 0:
        raise ValueError("events_per_seeker must not be negative")
    _check_occupations()
    geo, voc = _geo(), _vocab()
    start_ts = pd.Timestamp(start)
    start_ts = start_ts.tz_localize("UTC") if start_ts.tzinfo is None else start_ts.tz_convert("UTC")
    start_s = int(start_ts.timestamp())
    streams = np.random.SeedSequence(seed).spawn(3)
    rng_seekers, rng_jobs, rng_events = (np.random.default_rng(s) for s in streams)

    seekers, s_truth = _seekers(rng_seekers, n_seekers, start_s, geo, voc, start_ts.year)
    jobs, j_truth = _jobs(rng_jobs, n_jobs, start_s, days, geo, voc)
    latent = Latent(
        seeker_family=s_truth["family"], seeker_occupation=s_truth["occupation"], seeker_lat=s_truth["lat"],
        seeker_lon=s_truth["lon"], seeker_education=s_truth["education"],
        seeker_experience=s_truth["experience"],
        seeker_salary_min=s_truth["salary_min"], seeker_skills=s_truth["skills"],
        job_family=j_truth["family"], job_occupation=j_truth["occupation"], job_lat=j_truth["lat"],
        job_lon=j_truth["lon"], job_education_min=j_truth["education"],
        job_experience_min=j_truth["experience"],
        job_salary_max=j_truth["salary_max"], job_skills=j_truth["skills"], job_n_skills=j_truth["n_skills"],
        job_posted_s=j_truth["posted"], job_expires_s=j_truth["expires"], skills=voc.skills,
    )
    events = _events(rng_events, latent, {"city": s_truth["city"], "province": s_truth["province"]},
                     {"city": j_truth["city"], "province": j_truth["province"]}, events_per_seeker,
                     start_s + days * 86400, pa.array(seekers["seeker_id"]), pa.array(jobs["job_id"]),
                     employer_selectivity)
    return SyntheticData(seekers=seekers, jobs=jobs, events=events, latent=latent)
