"""One contract suite for every retrieval backend, exact search as the oracle (as gorse's `common/ann` tests):
recall@200 of each backend >= 0.95 against brute force, with the same-region bonus, filters, overwrites, appends
and deletes, on synthetic clustered vectors and on the real demo catalogue's vectors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from matcher.engine.retrieval import ExactRetriever, Retriever, is_usable_score, make_retriever

BONUS = 0.3
N = 200
BACKENDS = ["exact", "hnsw"]


def _make(name: str) -> Retriever:
    if name == "hnsw":
        pytest.importorskip("faiss")
        from matcher.engine.ann import HNSWRetriever

        return HNSWRetriever(group_bonus=BONUS, min_items=0)  # force the graph even on test-sized catalogues
    return make_retriever(name, group_bonus=BONUS)


def _clustered(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around 300 centres (text embeddings cluster by occupation) and 12 region groups, -1 for some."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((300, dim)).astype(np.float32)
    x = centres[rng.integers(0, 300, n)] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), rng.integers(-1, 12, n).astype(np.int32)


def _recall(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.mean([len(np.intersect1d(g, w)) / len(w) for g, w in zip(got, want, strict=True)]))


def _brute(items: np.ndarray, groups: np.ndarray, queries: np.ndarray, q_groups: np.ndarray, n: int,
           allowed: list[np.ndarray | None] | None = None, dead: np.ndarray | None = None) -> np.ndarray:
    """The oracle: full scores (inner product + bonus where the groups agree), filters, deletes; top n rows."""
    scores = queries @ items.T + BONUS * ((q_groups[:, None] == groups[None, :]) & (groups[None, :] >= 0))
    if dead is not None:
        scores[:, dead] = -np.inf
    for q, mask in enumerate(allowed or []):
        if mask is not None:
            scores[q, ~mask] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :n]


@pytest.fixture(scope="module")
def world() -> dict[str, np.ndarray]:
    items, groups = _clustered(20_000, 48, 0)
    queries, q_groups = _clustered(150, 48, 1)
    return {"items": items, "groups": groups, "queries": queries, "q_groups": q_groups}


@pytest.mark.parametrize("backend", BACKENDS)
def test_recall_against_brute_force_with_the_region_bonus(backend: str, world: dict[str, np.ndarray]) -> None:
    index = _make(backend).fit(world["items"], world["groups"])
    idx, scores = index.search(world["queries"], N, query_groups=world["q_groups"], group_bonus=BONUS)
    want = _brute(world["items"], world["groups"], world["queries"], world["q_groups"], N)
    assert idx.shape == scores.shape == (150, N)
    assert _recall(idx, want) >= 0.95
    assert np.all(np.diff(scores, axis=1) <= 1e-6), "best first"
    exact_scores = np.take_along_axis(world["queries"] @ world["items"].T + BONUS * (
        (world["q_groups"][:, None] == world["groups"][None, :]) & (world["groups"][None, :] >= 0)), idx, axis=1)
    np.testing.assert_allclose(scores, exact_scores, atol=1e-4)  # a backend's score is the exact score


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("share", [0.5, 0.03])  # the graph with a selector; a filter too tight for it
def test_filters_are_honoured_and_recall_holds(backend: str, share: float, world: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(7)
    index = _make(backend).fit(world["items"], world["groups"])
    allowed: list[np.ndarray | None] = [None if q % 3 == 0 else rng.random(len(world["items"])) < share
                                        for q in range(len(world["queries"]))]
    idx, scores = index.search(world["queries"], N, allowed, world["q_groups"], BONUS)
    want = _brute(world["items"], world["groups"], world["queries"], world["q_groups"], N, allowed)
    for q, mask in enumerate(allowed):
        if mask is not None:
            assert mask[idx[q][is_usable_score(scores[q])]].all(), "a filtered-out item was returned"
    assert _recall(idx, want) >= 0.95


@pytest.mark.parametrize("backend", BACKENDS)
def test_overwrites_appends_and_deletes(backend: str, world: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(11)
    items, groups = world["items"].copy(), world["groups"].copy()
    index = _make(backend).fit(items, groups)
    moved = rng.choice(len(items), 2_000, replace=False)
    new_items, new_groups = _clustered(2_000 + 500, 48, 5)
    rows = np.concatenate([moved, len(items) + np.arange(500)])
    index.set_items(rows, new_items, new_groups)
    items = np.vstack([items, np.zeros((500, 48), dtype=np.float32)])
    groups = np.concatenate([groups, np.full(500, -1, np.int32)])
    items[rows], groups[rows] = new_items, new_groups
    dead = rng.choice(len(items), 1_000, replace=False)
    index.delete(dead)
    assert index.n_items == len(items)
    idx, scores = index.search(world["queries"], N, query_groups=world["q_groups"], group_bonus=BONUS)
    assert not np.isin(idx[is_usable_score(scores)], dead).any(), "a deleted item was returned"
    want = _brute(items, groups, world["queries"], world["q_groups"], N, dead=dead)
    assert _recall(idx, want) >= 0.95
    index.set_items(dead[:10], items[dead[:10]], groups[dead[:10]])  # written anew: it may come back
    assert np.isin(dead[:10], index.search(items[dead[:10]], 5)[0]).any()


def test_many_deletes_rebuild_the_graph_and_stay_correct(world: dict[str, np.ndarray]) -> None:
    index = _make("hnsw").fit(world["items"], world["groups"])
    dead = np.arange(0, len(world["items"]), 2)  # half the catalogue: past the rebuild share
    index.delete(dead)
    graph = index._index  # type: ignore[attr-defined]
    assert graph is not None and graph.ntotal == len(world["items"]) - len(dead)  # rebuilt without them
    idx, scores = index.search(world["queries"], N, query_groups=world["q_groups"], group_bonus=BONUS)
    assert not np.isin(idx, dead).any()
    want = _brute(world["items"], world["groups"], world["queries"], world["q_groups"], N, dead=dead)
    assert _recall(idx, want) >= 0.95


@pytest.mark.parametrize("backend", BACKENDS)
def test_recall_on_the_real_demo_catalogue(backend: str, demo_vectors: Callable[[], tuple[np.ndarray, ...]]
                                           ) -> None:
    items, groups, queries, q_groups = demo_vectors()
    index = _make(backend).fit(items, groups)
    idx, _ = index.search(queries, N, query_groups=q_groups, group_bonus=BONUS)
    assert _recall(idx, _brute(items, groups, queries, q_groups, N)) >= 0.95


@pytest.fixture(scope="module")
def demo_vectors() -> Callable[[], tuple[np.ndarray, ...]]:
    """The retrieval vectors of the built-in US demo (real job-board text, LSA + priors) and 300 of its seekers."""
    def build() -> tuple[np.ndarray, ...]:
        from importlib import resources

        import pandas as pd

        from matcher.data import load_folder
        from matcher.engine.matching import CandidateGenerator
        from matcher.engine.retrieval import seeker_regions
        from matcher.engine.scoring import build_view
        from matcher.offline.training import fit_encoder

        with resources.as_file(resources.files("matcher.demo_data")) as folder:
            data = load_folder(folder)
        cat, snap = build_view(data, fit_encoder(data, 96), history_until=pd.Timestamp("2015-01-11", tz="UTC"))
        generator = CandidateGenerator(cat, snap, np.ones(len(data.jobs), dtype=bool))
        jobs = generator.open_idx
        seekers = np.flatnonzero(cat.seekers.has_text)[:300]
        return (generator.item_vectors(cat, snap, jobs), cat.jobs.region[jobs],
                generator.query_vectors(cat, snap, seekers), seeker_regions(cat, snap, seekers))
    return build


def test_the_factory_names_every_backend_and_explains_a_missing_one() -> None:
    assert isinstance(make_retriever("exact"), ExactRetriever)
    with pytest.raises(ValueError, match="unknown retriever 'annoy'"):
        make_retriever("annoy")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pickled_index_answers_as_the_original(backend: str, world: dict[str, np.ndarray]) -> None:
    """Snapshots (service.snapshot) pickle the served indexes: the copy must search and update like the original."""
    import pickle

    index = _make(backend).fit(world["items"], world["groups"])
    index.delete(np.arange(10))
    copy = pickle.loads(pickle.dumps(index))
    q, g = world["queries"], world["q_groups"]
    for a, b in zip(index.search(q, N, query_groups=g, group_bonus=BONUS),
                    copy.search(q, N, query_groups=g, group_bonus=BONUS), strict=True):
        np.testing.assert_array_equal(a, b)
    copy.set_items(np.array([0]), world["items"][:1], world["groups"][:1])
    assert 0 in copy.search(world["items"][:1], 5)[0][0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_items_in_a_region_never_seen_before_are_found_with_its_bonus(backend: str,
                                                                      world: dict[str, np.ndarray]) -> None:
    index = _make(backend).fit(world["items"], world["groups"])
    new_region = int(world["groups"].max()) + 40  # past any room the backend kept for new regions
    rows = len(world["items"]) + np.arange(3)
    index.set_items(rows, world["queries"][:3], np.full(3, new_region, np.int32))
    idx, _ = index.search(world["queries"][:3], 5, query_groups=np.full(3, new_region, np.int32), group_bonus=BONUS)
    assert [int(r) for r in idx[:, 0]] == rows.tolist()  # itself, with the bonus of its own new region


def test_exact_search_after_a_stream_of_writes_equals_a_fresh_index_of_the_final_state() -> None:
    """Live writes keep each region's member list by sorted insertion and deletion (no re-sort per upsert): after
    rows move between regions, are written twice in one call, deleted and written again, the bonus lands exactly
    where a fresh index of the final state puts it."""
    rng = np.random.default_rng(5)
    items, groups = _clustered(3_000, 16, 2)
    index = ExactRetriever().fit(items, groups)
    dead = np.zeros(len(items), dtype=bool)
    for step in range(60):
        n = len(items)
        rows = np.concatenate([rng.choice(n, 5, replace=False), n + np.arange(step % 3)])  # overwrite and append
        rows = np.concatenate([rows, rows[:1]])  # one row written twice: the last write holds
        new_items, new_groups = _clustered(len(rows), 16, 100 + step)
        index.set_items(rows, new_items, new_groups)
        grown = max(int(rows.max()) + 1 - n, 0)
        items = np.vstack([items, np.zeros((grown, 16), dtype=np.float32)])
        groups = np.concatenate([groups, np.full(grown, -1, np.int32)])
        dead = np.concatenate([dead, np.zeros(grown, dtype=bool)])
        items[rows], groups[rows], dead[rows] = new_items, new_groups, False
        gone = rng.choice(len(items), 3, replace=False)
        index.delete(gone)
        dead[gone] = True
    fresh = ExactRetriever().fit(items, groups)
    fresh.delete(np.flatnonzero(dead))
    queries, q_groups = _clustered(40, 16, 9)
    got = index.search(queries, 50, query_groups=q_groups, group_bonus=BONUS)
    want = fresh.search(queries, 50, query_groups=q_groups, group_bonus=BONUS)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
