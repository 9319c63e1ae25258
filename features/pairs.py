"""Features of (seeker, job) pairs, computed over whole arrays of pairs at once.

No protected attribute (FORMAT.md: gender, age, hukou, ...) is read here: the Catalogue never loads them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from features.catalogue import Catalogue
from features.geo import haversine_km
from features.history import PairCounts, Snapshot, slot_lookup

__all__ = ["FEATURE_NAMES", "CONTENT_WEIGHTS", "HISTORY_FEATURES", "blank_history", "pair_features"]

FEATURE_NAMES: tuple[str, ...] = (
    "text_cos",             # resume text vs job text (LSA cosine)
    "desired_title_cos",    # desired occupations vs job title + occupation
    "hist_cos",             # jobs the seeker interacted with before vs this job
    "lexical_char_cos",     # exact char n-gram TF-IDF cosine, resume + wishes vs title + job text
    "lexical_word_cos",     # exact word TF-IDF cosine, the same texts
    "title_lexical_cos",    # exact char cosine, resume + wishes vs the job title alone
    "desired_title_lexical_cos",  # exact char cosine, desired occupations vs the job title
    "skill_overlap",        # number of the job's skills the seeker has
    "skill_coverage",       # share of the job's skills the seeker has
    "same_city",
    "same_region",
    "distance_km",
    "hist_distance_km",     # distance from the job to the mean point of the jobs the seeker interacted with before
    "in_desired_city",
    "city_flow_share",      # share of past interactions by seekers of this city that went to the job's city
    "region_flow_share",    # the same for regions (province / state)
    "hist_city_share",      # share of the seeker's past interactions in this job's city
    "hist_region_share",
    "hist_employer_share",
    "seen_job_before",
    "salary_overlap",       # overlap of offered and expected ranges / expected width
    "salary_ratio",         # log(offered max / expected min)
    "education_gap",        # seeker level - required level
    "experience_gap",       # seeker years - required years
    "job_popularity",       # log1p(interactions in the last 30 days)
    "employer_popularity",  # log1p(interactions with the employer's jobs in the last 30 days)
    "region_share",         # share of the last 30 days' interactions in the job's region
    "seeker_activity",      # log1p(past interactions)
    "content_match",        # fixed-weight sum of the profile-fit features above (see CONTENT_WEIGHTS)
)

# A counsellor's weighting of the profile-fit features, given to the trees as one more feature: a weighted sum is
# many splits for a tree to learn from a few hundred profiled queries. On the US hold-out it moved Recall@10 from
# 0.046 to 0.047-0.048 and left NDCG@10 at 0.034; it did not close the later-window gap to the rule (README).
CONTENT_WEIGHTS: dict[str, float] = {
    "lexical_char_cos": 1.0, "title_lexical_cos": 0.5, "desired_title_lexical_cos": 0.5,
    "text_cos": 0.5, "desired_title_cos": 0.5, "skill_coverage": 0.5, "same_city": 0.5, "same_region": 0.3,
    "in_desired_city": 0.3, "hist_cos": 1.0, "hist_city_share": 0.5, "hist_region_share": 0.3,
}

# The features only an event log feeds: unknown for every pair on a platform's first day (matcher.offline.day_one).
HISTORY_FEATURES: tuple[str, ...] = (
    "hist_cos", "hist_distance_km", "city_flow_share", "region_flow_share", "hist_city_share", "hist_region_share",
    "hist_employer_share", "seen_job_before", "job_popularity", "employer_popularity", "region_share",
    "seeker_activity",
)


def blank_history(X: np.ndarray) -> np.ndarray:
    """A copy of pair features as a platform without a log sees them: HISTORY_FEATURES unknown (NaN), and
    content_match without its history terms."""
    X = np.array(X, dtype=np.float32, copy=True)
    column = {name: i for i, name in enumerate(FEATURE_NAMES)}
    for name in set(HISTORY_FEATURES) & set(CONTENT_WEIGHTS):
        X[:, column["content_match"]] -= CONTENT_WEIGHTS[name] * np.nan_to_num(X[:, column[name]], nan=0.0)
    X[:, [column[name] for name in HISTORY_FEATURES]] = np.nan
    return X

_CHUNK = 1 << 19
_SPARSE_CHUNK = 1 << 15  # lexical rows hold hundreds of n-grams each: products of 32k pairs stay ~100 MB


def _rowwise_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b, dtype=np.float32, optimize=False)


def _share(counts: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.divide(counts, total, out=np.full(len(counts), np.nan, dtype=np.float32), where=total > 0)


def _known_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 / 0 where both codes are known, NaN otherwise: 'unknown' must not read as 'different'."""
    return np.where((a >= 0) & (b >= 0), (a == b).astype(np.float32), np.float32(np.nan))


def _half_sums(left: sp.csr_matrix, right: sp.csr_matrix, split: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise products of two row-aligned CSR matrices, summed over columns < split and >= split: the two halves'
    exact cosines of TextEncoder.lexical rows; NaN where either row is empty (no text is not a misfit)."""
    n = left.shape[0]
    product = sp.csr_matrix(left.multiply(right))
    rows = np.repeat(np.arange(n), np.diff(product.indptr))
    low = product.indices < split
    known = (np.diff(left.indptr) > 0) & (np.diff(right.indptr) > 0)
    return tuple(np.where(known, np.bincount(rows[part], weights=product.data[part], minlength=n), np.nan
                          ).astype(np.float32) for part in (low, ~low))  # type: ignore[return-value]


def _lexical_features(cat: Catalogue, si: np.ndarray, ji: np.ndarray) -> dict[str, np.ndarray]:
    """The four exact lexical cosines, each side's rows fetched once per block of pairs."""
    out = {name: np.empty(len(si), dtype=np.float32) for name in
           ("lexical_char_cos", "lexical_word_cos", "title_lexical_cos", "desired_title_lexical_cos")}
    split = cat.lexical_split
    for start in range(0, len(si), _SPARSE_CHUNK):
        block = slice(start, start + _SPARSE_CHUNK)
        seeker_text, seeker_wish = (getattr(cat.seekers, f).rows(si[block]) for f in ("lexical", "lexical_aux"))
        job_text, job_title = (getattr(cat.jobs, f).rows(ji[block]) for f in ("lexical", "lexical_aux"))
        out["lexical_char_cos"][block], out["lexical_word_cos"][block] = _half_sums(seeker_text, job_text, split)
        out["title_lexical_cos"][block] = _half_sums(seeker_text, job_title, split)[0]
        out["desired_title_lexical_cos"][block] = _half_sums(seeker_wish, job_title, split)[0]
    return out


def _flow_share(flow: PairCounts, out: np.ndarray, seeker_code: np.ndarray, job_code: np.ndarray) -> np.ndarray:
    known = (seeker_code >= 0) & (job_code >= 0)
    total = np.where(known, slot_lookup(out, seeker_code), 0.0)
    return _share(flow.lookup(np.maximum(seeker_code, 0), job_code), total)


def _chunk_features(cat: Catalogue, snap: Snapshot, si: np.ndarray, ji: np.ndarray) -> dict[str, np.ndarray]:
    s, j = cat.seekers, cat.jobs
    nan = np.float32(np.nan)
    f: dict[str, np.ndarray] = {}
    # No text is "unknown", not "dissimilar": a cosine of 0 would tell the trees nothing apart from real misfits.
    job_text = j.text_emb[ji]  # gathered once: at a million jobs each gather of pair rows misses the cache
    f["text_cos"] = np.where(s.has_text[si] & j.has_text[ji], _rowwise_dot(s.text_emb[si], job_text), nan)
    f["desired_title_cos"] = np.where(s.has_aux[si], _rowwise_dot(s.aux_emb[si], j.aux_emb[ji]), nan)
    n_hist = snap.n_hist[si]
    f["hist_cos"] = np.where(n_hist > 0, _rowwise_dot(snap.hist_emb[si], job_text), nan)
    f.update(_lexical_features(cat, si, ji))
    overlap = np.asarray(s.skills.rows(si).multiply(j.skills.rows(ji)).sum(axis=1), dtype=np.float32).ravel()
    f["skill_overlap"] = overlap
    f["skill_coverage"] = _share(overlap, j.n_skills[ji])
    jc, jr = j.city[ji], j.region[ji]
    f["same_city"] = _known_equal(s.city[si], jc)
    f["same_region"] = _known_equal(s.region[si], jr)
    f["distance_km"] = haversine_km(s.lat[si], s.lon[si], j.lat[ji], j.lon[ji])
    # Seekers added live after the snapshot was built (rows past its end) have no history yet.
    known = si < len(snap.hist_lat)
    at = np.where(known, si, 0)
    f["hist_distance_km"] = np.where(known, haversine_km(snap.hist_lat[at], snap.hist_lon[at], j.lat[ji], j.lon[ji]),
                                     nan)
    desired = cat.desired_city[si]
    wanted = (desired == jc[:, None]).any(axis=1) & (jc >= 0)
    f["in_desired_city"] = np.where(desired[:, 0] >= 0, wanted, nan)
    f["city_flow_share"] = _flow_share(snap.city_flow, snap.city_out, s.city[si], jc)
    f["region_flow_share"] = _flow_share(snap.region_flow, snap.region_out, s.region[si], jr)
    f["hist_city_share"] = _share(snap.hist_city.lookup(si, jc), n_hist)
    f["hist_region_share"] = _share(snap.hist_region.lookup(si, jr), n_hist)
    employer = cat.employer[ji]
    f["hist_employer_share"] = _share(snap.hist_employer.lookup(si, employer), n_hist)
    f["seen_job_before"] = snap.hist_job.lookup(si, ji)
    lo, hi = s.salary_min[si], s.salary_max[si]
    hi = np.where(np.isnan(hi), lo, hi)
    jlo, jhi = j.salary_min[ji], j.salary_max[ji]
    jhi = np.where(np.isnan(jhi), jlo, jhi)
    with np.errstate(invalid="ignore", divide="ignore"):
        inter = np.minimum(hi, jhi) - np.maximum(lo, jlo)
        f["salary_overlap"] = np.clip(inter / np.maximum(hi - lo, 1.0), -5, 1)
        f["salary_ratio"] = np.log(jhi / np.maximum(lo, 1.0))
    f["education_gap"] = s.education[si] - j.education[ji]
    f["experience_gap"] = s.experience[si] - np.nan_to_num(j.experience[ji], nan=0.0)
    f["job_popularity"] = np.log1p(snap.job_popularity[ji])
    f["employer_popularity"] = np.log1p(slot_lookup(snap.employer_popularity, employer))
    f["region_share"] = slot_lookup(snap.region_share, jr)
    f["seeker_activity"] = np.log1p(n_hist)
    f["content_match"] = sum((np.nan_to_num(f[name], nan=0.0) * w for name, w in CONTENT_WEIGHTS.items()),
                             start=np.zeros(len(si), dtype=np.float32)).astype(np.float32)
    return f


def pair_features(cat: Catalogue, snap: Snapshot, seeker_idx: np.ndarray, job_idx: np.ndarray) -> np.ndarray:
    """(n_pairs, len(FEATURE_NAMES)) float32 for the pairs (seeker_idx[i], job_idx[i]). NaN = unknown."""
    seeker_idx = np.asarray(seeker_idx, dtype=np.int64)
    job_idx = np.asarray(job_idx, dtype=np.int64)
    if seeker_idx.shape != job_idx.shape:
        raise ValueError("seeker_idx and job_idx must have the same shape")
    out = np.empty((len(seeker_idx), len(FEATURE_NAMES)), dtype=np.float32)
    for start in range(0, len(seeker_idx), _CHUNK):
        stop = start + _CHUNK
        columns = _chunk_features(cat, snap, seeker_idx[start:stop], job_idx[start:stop])
        for i, name in enumerate(FEATURE_NAMES):
            out[start:stop, i] = columns[name]
    return out
