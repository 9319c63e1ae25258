"""The latent truth behind the frames and the noise-free utility a perfect ranker sorts by.

The utility formula and its weights are described in the package docstring (matcher/offline/synthetic/__init__.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from features.geo import haversine_km

# Utility weights (package docstring).
_W_FAMILY, _W_OCCUPATION, _W_SKILL, _DIST_SCALE_KM, _DIST_CAP_KM = 3.0, 1.0, 2.0, 30.0, 300.0
_W_SALARY, _SALARY_CLIP = 1.5, (-1.0, 0.25)
_W_EDUCATION, _W_EXPERIENCE = 1.0, 0.3


@dataclass(frozen=True)
class Latent:
    """The hidden truth behind the frames: row i of each array = row i of `seekers` / `jobs`.

    Observed cells may be blank where these are not; `utility` uses these (package docstring)."""

    seeker_family: np.ndarray        # int16 index into FAMILIES
    seeker_occupation: np.ndarray    # int16 index into OCCUPATIONS
    seeker_lat: np.ndarray
    seeker_lon: np.ndarray
    seeker_education: np.ndarray     # int8 rank 0..4
    seeker_experience: np.ndarray    # float32 years
    seeker_salary_min: np.ndarray    # float32 expected monthly minimum (CNY)
    seeker_skills: np.ndarray        # (n, words) uint64 bit sets over `skills`
    job_family: np.ndarray
    job_occupation: np.ndarray
    job_lat: np.ndarray
    job_lon: np.ndarray
    job_education_min: np.ndarray    # int8 rank, -1 = 不限
    job_experience_min: np.ndarray
    job_salary_max: np.ndarray       # float32, NaN = not stated
    job_skills: np.ndarray
    job_n_skills: np.ndarray         # int16
    job_posted_s: np.ndarray         # int64 epoch seconds
    job_expires_s: np.ndarray
    skills: tuple[str, ...] = field(repr=False, default=())

    def utility(self, seeker_idx: np.ndarray, job_idx: np.ndarray) -> np.ndarray:
        """Noise-free utility (package docstring) of the pairs (seeker_idx, job_idx), which broadcast."""
        s, j = np.broadcast_arrays(np.asarray(seeker_idx, dtype=np.int64),
                                   np.asarray(job_idx, dtype=np.int64))
        u = _W_FAMILY * (self.seeker_family[s] == self.job_family[j])
        u = u + _W_OCCUPATION * (self.seeker_occupation[s] == self.job_occupation[j])
        common = np.zeros(s.shape, dtype=np.int64)
        for w in range(self.seeker_skills.shape[1]):
            common += np.bitwise_count(self.seeker_skills[s, w] & self.job_skills[j, w])
        u = u + _W_SKILL * common / np.maximum(1, self.job_n_skills[j])
        km = haversine_km(self.seeker_lat[s], self.seeker_lon[s], self.job_lat[j], self.job_lon[j])
        u = u - np.minimum(km, _DIST_CAP_KM) / _DIST_SCALE_KM
        ratio = np.log(self.job_salary_max[j] / self.seeker_salary_min[s])
        u = u + _W_SALARY * np.nan_to_num(np.clip(ratio, *_SALARY_CLIP), nan=0.0)
        required = self.job_education_min[j].astype(np.int64)
        edu_gap = np.where(required < 0, 0, required - self.seeker_education[s])
        u = u - _W_EDUCATION * np.maximum(0, edu_gap)
        u = u - _W_EXPERIENCE * np.maximum(0.0, self.job_experience_min[j] - self.seeker_experience[s])
        return np.asarray(u, dtype=np.float64)
