"""Baselines the ranking model must beat, scored over the same open jobs and queries.

- random: a seeded shuffle of the open jobs;
- popularity: most interacted-with open jobs in the 30 days before the test window (same list for everyone);
- newest: most recently posted open jobs first (same list for everyone): fresh postings draw most views, so a
  model must beat this prior, not only the popularity one;
- text_similarity: exact TF-IDF cosine (char + word) between the resume + wishes and the job title + text;
- rule: a hand-written weighted sum of the engine's own pair features, ranking the retrieval candidates.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from features.pairs import FEATURE_NAMES
from models.metrics import top_k_rows

__all__ = ["random_scores", "popularity_scores", "newest_scores", "text_similarity_top_k", "rule_scores",
           "RULE_WEIGHTS"]

# Weights a counsellor would write down: say what matters, don't fit anything. The profile-fit part is the
# engine's own content_match feature, so the model sees this rule and must add to it.
RULE_WEIGHTS: dict[str, float] = {"content_match": 1.0, "job_popularity": 0.1, "employer_popularity": 0.05}


def random_scores(n_queries: int, n_items: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n_queries, n_items))


def popularity_scores(popularity: np.ndarray, n_queries: int, seed: int) -> np.ndarray:
    # The tiny random tie-break keeps the many zero-popularity jobs from being ranked by catalogue order.
    noise = np.random.default_rng(seed).random(len(popularity)) * 1e-6
    return np.broadcast_to(popularity + noise, (n_queries, len(popularity)))


def newest_scores(posted_ns: np.ndarray, n_queries: int, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).random(len(posted_ns)) * 1e-3  # ties: jobs posted the same second
    return np.broadcast_to(posted_ns.astype(np.float64) / 1e9 + noise, (n_queries, len(posted_ns)))


def text_similarity_top_k(queries: sp.csr_matrix, items: sp.csr_matrix, k: int, block: int = 512) -> np.ndarray:
    out = []
    for start in range(0, queries.shape[0], block):
        scores = (queries[start:start + block] @ items.T).toarray()
        out.append(top_k_rows(scores, k))
    return np.vstack(out) if out else np.empty((0, min(k, items.shape[0])), dtype=np.int64)


def rule_scores(features: np.ndarray) -> np.ndarray:
    columns = [FEATURE_NAMES.index(name) for name in RULE_WEIGHTS]
    weights = np.array(list(RULE_WEIGHTS.values()), dtype=np.float32)
    return np.nan_to_num(features[:, columns], nan=0.0) @ weights
