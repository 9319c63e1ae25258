"""HNSW retrieval (faiss) behind the Retriever contract, with the exact backend as its fallback and oracle.

The same-region bonus is part of the vectors: each item carries a one-hot block of its group scaled by
sqrt(bonus), each query the same block of its own group, so that the inner product the graph is searched by is
exactly the exact backend's score (text and priors + bonus where the groups agree); no query pays a scan of its
region. The bonus is therefore fixed when the index is built (`group_bonus`); a search asking for another bonus
is answered exactly.

Updates and deletes: HNSW graphs cannot move a vector, so `set_items` adds the new vector under a new internal id
and retires the old one; retired ids are excluded by a faiss IDSelector at search time (a tombstone inside the
backend, never a column written by callers) and the graph is rebuilt once they are a quarter of it. Searches are
over-fetched (n + `overfetch`) and cut to n; where the graph cannot be trusted to find n allowed items (a filter
that keeps few items, n close to the catalogue, a small catalogue) the exact backend answers, as implicit's
faiss backend falls back to brute force.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import faiss
import numpy as np

from matcher.engine.retrieval import ExactRetriever, Retriever

__all__ = ["HNSWRetriever"]


class HNSWRetriever(Retriever):
    """faiss IndexHNSWFlat (inner product) over [item, sqrt(bonus) * one-hot(group)] vectors.

    `min_items`: below this many items every search is exact (HNSW does not pay off at 100k x k=200,
    PERFORMANCE-NOTES). `min_allowed_share`: a query whose filter keeps fewer items than this share of the index
    is answered exactly over the allowed items. `threads`: faiss OpenMP threads (1 for a server: faiss on two
    threads is ~3x slower per single query on these machines)."""

    def __init__(self, group_bonus: float = 0.0, *, m: int = 32, ef_construction: int = 100, ef_search: int = 640,
                 overfetch: int = 100, min_items: int = 50_000, min_allowed_share: float = 0.2,
                 rebuild_share: float = 0.25, threads: int = 1) -> None:
        self.group_bonus = float(group_bonus)
        self.m, self.ef_construction, self.ef_search, self.overfetch = m, ef_construction, ef_search, overfetch
        self.min_items, self.min_allowed_share, self.rebuild_share = min_items, min_allowed_share, rebuild_share
        self.threads = threads
        self.exact = ExactRetriever()                # every row's current vector: fallback, and the oracle in tests
        self._n_groups = 0
        self._index: faiss.IndexHNSWFlat | None = None
        self._row_of = np.zeros(0, dtype=np.int64)    # internal id -> item row
        self._dead = np.zeros(0, dtype=bool)          # internal id -> retired (replaced or deleted)
        self._n_dead = 0                              # its count: searches must not scan the graph's ids for it
        self._internal = np.zeros(0, dtype=np.int64)  # item row -> its live internal id, -1 = deleted
        self._groups = np.zeros(0, dtype=np.int32)    # item row -> group

    @property
    def n_items(self) -> int:
        return self.exact.n_items

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (service.snapshot): the graph as faiss serialises it."""
        state = dict(self.__dict__)
        state["_index"] = None if self._index is None else faiss.serialize_index(self._index)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        graph = state.pop("_index")
        self.__dict__.update(state)
        self._index = None if graph is None else faiss.deserialize_index(graph)  # type: ignore[assignment]

    # ---- building ------------------------------------------------------------------------------------------------
    def fit(self, items: np.ndarray, groups: np.ndarray | None = None) -> HNSWRetriever:
        items = np.asarray(items, dtype=np.float32)
        groups = np.full(len(items), -1, np.int32) if groups is None else np.asarray(groups, dtype=np.int32)
        self.exact.fit(items, groups)
        self._groups = groups.copy()
        # Room for groups first seen in later writes: the one-hot block cannot widen without a rebuild.
        self._n_groups = int(groups.max(initial=-1)) + 1 + 8
        self._build(items, groups, np.arange(len(items), dtype=np.int64))
        return self

    def _vectors(self, items: np.ndarray, groups: np.ndarray) -> np.ndarray:
        block = np.zeros((len(items), self._n_groups), dtype=np.float32)
        known = (groups >= 0) & (groups < self._n_groups)
        block[np.flatnonzero(known), groups[known]] = np.float32(np.sqrt(self.group_bonus))
        return np.ascontiguousarray(np.hstack([items, block]))

    def _build(self, items: np.ndarray, groups: np.ndarray, rows: np.ndarray) -> None:
        faiss.omp_set_num_threads(max(self.threads, 2))  # building is batch work: use both cores
        index = faiss.IndexHNSWFlat(items.shape[1] + self._n_groups, self.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        if len(rows):
            index.add(self._vectors(items, groups))
        self._index = index
        self._row_of = rows.copy()
        self._dead = np.zeros(len(rows), dtype=bool)
        self._n_dead = 0
        self._internal = np.full(max(self.exact.n_items, int(rows.max(initial=-1)) + 1), -1, dtype=np.int64)
        self._internal[rows] = np.arange(len(rows))

    def _rebuild(self) -> None:
        """A fresh graph of the live rows (retired ids gone), from the exact backend's copy of every vector."""
        rows = np.flatnonzero(self._internal >= 0)
        self._build(self.exact.vectors(rows), self._groups[rows], rows)

    # ---- writes --------------------------------------------------------------------------------------------------
    def set_items(self, rows: np.ndarray, items: np.ndarray, groups: np.ndarray | None = None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        items = np.asarray(items, dtype=np.float32)
        groups = np.full(len(rows), -1, np.int32) if groups is None else np.asarray(groups, dtype=np.int32)
        self.exact.set_items(rows, items, groups)  # validates rows (overwrite or append right after)
        needed = int(rows.max()) + 1
        if needed > len(self._internal):
            self._internal = np.concatenate([self._internal, np.full(needed - len(self._internal), -1, np.int64)])
            self._groups = np.concatenate([self._groups, np.full(needed - len(self._groups), -1, np.int32)])
        self._groups[rows] = groups
        if groups.max(initial=-1) >= self._n_groups:  # a group the one-hot block has no column for
            self._n_groups = int(groups.max()) + 1 + 8
            self._internal[rows] = 0  # live (any id): the rebuild re-adds every live row from the exact copy
            self._rebuild()
            return
        self._retire(rows)
        assert self._index is not None
        first = self._index.ntotal
        self._index.add(self._vectors(items, groups))
        self._row_of = np.concatenate([self._row_of, rows])
        self._dead = np.concatenate([self._dead, np.zeros(len(rows), dtype=bool)])
        self._internal[rows] = first + np.arange(len(rows))
        self._maybe_rebuild()

    def delete(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.exact.delete(rows)
        self._retire(rows)
        self._maybe_rebuild()

    def _retire(self, rows: np.ndarray) -> None:
        old = self._internal[rows[rows < len(self._internal)]]
        old = old[old >= 0]
        self._n_dead += int((~self._dead[old]).sum())
        self._dead[old] = True
        self._internal[rows] = -1

    def _maybe_rebuild(self) -> None:
        if self._n_dead > self.rebuild_share * len(self._dead):
            self._rebuild()

    # ---- search --------------------------------------------------------------------------------------------------
    def search(self, queries: np.ndarray, n: int, allowed: Sequence[np.ndarray | None] | None = None,
               query_groups: np.ndarray | None = None, group_bonus: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32)
        n = min(n, self.n_items)
        n_live = len(self._dead) - self._n_dead  # one live internal id per live row
        bonus_differs = query_groups is not None and not np.isclose(group_bonus, self.group_bonus)
        if (self._index is None or n_live < max(self.min_items, 1) or 4 * (n + self.overfetch) > n_live
                or bonus_differs):
            return self.exact.search(queries, n, allowed, query_groups, group_bonus)
        idx = np.empty((len(queries), n), dtype=np.int64)
        val = np.empty((len(queries), n), dtype=np.float32)
        q_groups = np.full(len(queries), -1, np.int32) if query_groups is None else np.asarray(query_groups)
        masks = [None] * len(queries) if allowed is None else list(allowed)
        unfiltered = np.array([m is None for m in masks], dtype=bool)
        if unfiltered.any():
            rows = np.flatnonzero(unfiltered)
            idx[rows], val[rows] = self._graph_search(queries[rows], q_groups[rows], n,
                                                      ~self._dead if self._n_dead else None)
        for q in np.flatnonzero(~unfiltered):  # one graph walk per filtered query: its own selector
            mask = np.asarray(masks[q], dtype=bool)
            keep = np.zeros(len(self._dead), dtype=bool)
            live = np.flatnonzero(~self._dead)
            keep[live] = mask[self._row_of[live]]
            if keep.sum() < max(self.min_allowed_share * n_live, 4 * (n + self.overfetch)):
                i, v = self.exact.search(queries[q:q + 1], n, [mask], q_groups[q:q + 1], group_bonus)
            else:
                i, v = self._graph_search(queries[q:q + 1], q_groups[q:q + 1], n, keep, keep.mean())
            idx[q], val[q] = i[0], v[0]
        return idx, val

    def _graph_search(self, queries: np.ndarray, groups: np.ndarray, n: int, keep: np.ndarray | None,
                      share: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Top n rows by the graph, among internal ids where `keep` is True (None: all), over-fetched and cut; best
        first.
        A filter keeping `share` of the graph widens the beam by 1 / share (at most 4x): the walk passes through
        filtered-out nodes it may not return, so the same beam would find fewer of the allowed best."""
        assert self._index is not None
        k = n + self.overfetch
        ef = int(max(self.ef_search, k) / min(max(share, 0.25), 1.0))
        params = faiss.SearchParametersHNSW(efSearch=ef)  # type: ignore[attr-defined]
        if keep is not None:
            bitmap = np.packbits(keep, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(keep), faiss.swig_ptr(bitmap))
        faiss.omp_set_num_threads(self.threads)
        scores, internal = self._index.search(self._vectors(queries, groups), k, params=params)
        found = internal >= 0
        rows = np.where(found, self._row_of[np.maximum(internal, 0)], -1)
        scores = np.where(found, scores, -np.inf).astype(np.float32)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :n]  # faiss returns them sorted; cut after a re-sort
        return np.take_along_axis(rows, order, axis=1), np.take_along_axis(scores, order, axis=1)
