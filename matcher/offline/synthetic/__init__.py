"""Seeded synthetic Chinese seekers, jobs and events in the FORMAT.md v1 format, with a known answer.

Why: real exports are small, private and carry no ground truth. Benchmarks need national scale (10^6 seekers,
2*10^5 jobs) and quality tests need to know what a perfect ranker would return. Every seeker here has a latent
occupation *family* (24 families, 120 real level-4 names from 职业分类大典 2022), a home location (a real
GB/T 2260 county, jittered by a few km), skills, education, experience and a salary expectation; events are
drawn from the utility below, so a test can check whether a ranker recovers it.

Utility of job j for seeker i (noise-free; `Latent.utility` computes it for any pairs)::

    u = 3.0 * [family_i == family_j]
      + 1.0 * [occupation_i == occupation_j]
      + 2.0 * |skills_i & skills_j| / max(1, |skills_j|)            share of the job's skills the seeker has
      - min(distance_km(home_i, workplace_j), 300) / 30
      + 1.5 * clip(ln(salary_max_j / expected_salary_min_i), -1, 0.25)   0 when the job states no salary
      - 1.0 * max(0, education_min_j - education_i)     ranks 初中 0, 高中/中专 1, 大专 2, 本科 3, 硕士 4;
                                                         0 when the job says 不限
      - 0.3 * max(0, experience_min_j - experience_years_i)

The latent values are the truth even where the observed cell is blank (a seeker who leaves the salary empty
still has an expectation).

Events: seeker i interacts with K_i ~ Poisson(events_per_seeker * G_i) jobs, G_i ~ Gamma(2, 1/2) (mean 1:
some seekers are far more active than others), K_i <= 20. The jobs are the top K_i of u + Gumbel noise over
60 candidates (24 same family and city, 12 same family and province, 8 same family, 8 same city, 8 uniform;
coarser strata stand in for empty ones) — Gumbel-max sampling without replacement with probability
proportional to exp(u), restricted to strata that hold nearly all of that mass. Each pair then walks a funnel
and logs one row per stage reached::

    exposed (always) -> viewed  p = sigmoid(u - 2.0) -> applied p = sigmoid(u - 3.5)
                     -> interviewed p = sigmoid(v - 5.0) -> hired p = sigmoid(v - 4.5)

where the employer's side v = u + employer_selectivity x (clip(experience_i - experience_min_j, -3, 3) / 3
+ clip(education_i - education_min_j, -2, 2) / 2) (education_min 不限 counts as 0): with the default
selectivity 0 employers want what seekers want (v = u), above 0 they also prefer candidates with more experience
and education than the post asks, which seekers do not weigh when they apply: the case two-way fit is for.

Exposure happens at a time uniform (skewed towards the posting date) while the job is open and inside
[start, start + days); each later stage follows after a log-normal delay (minutes, hours, days, a week) and is
dropped, with all later ones, if it would fall after the job closes or the window ends. `viewed` rows carry
the dwell time in seconds in `value`. So exposed > viewed > applied > interviewed > hired in frequency, and
timestamps increase along each pair's funnel.

Speed: everything is vectorized — numpy for numbers, pyarrow.compute `take` + element-wise join of
pre-rendered fragments for text — and events are scored in blocks of seekers, never per row.

Layout (private helpers live in the module of their role; only the names in `__all__` are the API):
`families` (the hand-written family table), `occupations` (core skills and duties per occupation, FAMILIES,
OCCUPATIONS), `geography` (counties, tiers, jittered coordinates), `vocabulary` (the vocabulary flattened for
vectorized draws), `vectorized` (numpy/Arrow helpers), `latent` (the truth and the utility), `seekers`, `jobs`,
`events` (the three frames), `dataset` (SyntheticData and its CSV writer), `generator` (`generate`) and `cli`
(`main`, also `python -m matcher.offline.synthetic`).
"""

from __future__ import annotations

from .cli import main
from .dataset import SyntheticData
from .families import EDUCATION_LABELS
from .generator import generate
from .latent import Latent
from .occupations import FAMILIES, OCCUPATIONS, family_of_occupation

__all__ = [
    "EDUCATION_LABELS",
    "FAMILIES",
    "OCCUPATIONS",
    "Latent",
    "SyntheticData",
    "family_of_occupation",
    "generate",
    "main",
]
