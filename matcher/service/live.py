"""The catalogue the gRPC server serves: built like the batch engine's, then changed in place by live writes.

Rows are never moved: an upsert of a known id overwrites its row (keeping the row's event history), a new id
appends a row, a delete marks the row dead and drops it from the retrieval index. Arrays keep spare capacity so
an append costs its own size, not the catalogue's. Reads go through `view()`, which hands out a Catalogue and a
Snapshot of the current rows; with no writes they equal what `MatchEngine` builds for `matcher batch`, and both
rank with `engine.rank_candidates`, so the server and the batch job give the same ranking.

Not thread-safe by design: one engine thread (matcher.service.worker) owns it and applies reads and writes in
order, which is what makes a write visible to the very next request without locks on the hot path.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.catalogue import (
    SPARSE_FIELDS,
    Catalogue,
    SideArrays,
    SkillSets,
    Vocab,
    job_arrays,
    seeker_arrays,
    split_list,
)
from features.history import PairCounts, Snapshot
from matcher.data import Dataset
from matcher.engine.matching import CandidateGenerator, Recommendations, check_model, rank_candidates, rank_seekers
from matcher.engine.retrieval import Retriever, seeker_regions
from matcher.engine.scoring import build_view, score_pairs
from matcher.policy.priority import group_key
from matcher.schema import EVENT_GRADES
from matcher.service.live_columns import Columns, SparseFields
from models.registry import ModelBundle

__all__ = ["LiveCatalogue", "Scratch", "APPLIED_GRADE", "DELETED_COLUMN"]

_log = logging.getLogger(__name__)

APPLIED_GRADE = EVENT_GRADES["applied"]  # applied, interviewed, hired: jobs `exclude_applied` leaves out
DELETED_COLUMN = "_journal_deleted"  # set to "1" by matcher.service.replay.restore on rows a journal deleted
_SIDE_COLUMNS = tuple(f.name for f in dataclasses.fields(SideArrays) if f.name not in SPARSE_FIELDS)


def _empty_counts() -> PairCounts:
    return PairCounts(keys=np.empty(0, dtype=np.int64), counts=np.empty(0, dtype=np.float32), width=1)


@dataclass
class Scratch:
    """A catalogue and snapshot in which row 0 of one side is a profile that is not stored (inline requests)."""

    cat: Catalogue
    snap: Snapshot


class LiveCatalogue:
    """One model bound to a catalogue that changes while it serves."""

    def __init__(self, bundle: ModelBundle, data: Dataset, *, as_of: pd.Timestamp, n_candidates: int = 200,
                 retriever: str = "exact") -> None:
        check_model(bundle)
        started = time.perf_counter()
        self.bundle, self.as_of, self.n_candidates = bundle, as_of, n_candidates
        cat, snap = build_view(data, bundle.encoder, history_until=as_of, as_of=as_of)
        self.vocabs = cat.vocabs
        self.groups = Vocab()
        self.job_types = Vocab()
        self._base_snap = snap
        n_s, n_j = len(data.seekers), len(data.jobs)
        self._seekers = Columns(**{c: getattr(cat.seekers, c) for c in _SIDE_COLUMNS},
                                desired_city=cat.desired_city, hist_emb=snap.hist_emb, n_hist=snap.n_hist,
                                hist_region_mode=snap.hist_region_mode, alive=np.ones(n_s, dtype=bool),
                                groups=self._group_bits(data.seekers["priority_groups"]),
                                sparse_row=np.arange(n_s, dtype=np.int64))
        self._jobs = Columns(**{c: getattr(cat.jobs, c) for c in _SIDE_COLUMNS},
                             employer=cat.employer, posted=cat.job_posted_ns, expires=cat.job_expires_ns,
                             popularity=snap.job_popularity, alive=np.ones(n_j, dtype=bool),
                             job_type=self.job_types.encode(data.jobs["job_type"].where(
                                 data.jobs["job_type"].ne("")).to_numpy(dtype=object)),
                             sparse_row=np.arange(n_j, dtype=np.int64))
        for columns in (self._seekers, self._jobs):
            columns.reserve(columns.n + columns.n // 8 + 1024)
        # Every sparse field gets one appended row per written row, so one row number (sparse_row) addresses all.
        self._seeker_sparse = SparseFields(cat.seekers)
        self._job_sparse = SparseFields(cat.jobs)
        for sparse in (self._seeker_sparse, self._job_sparse):
            sparse.reserve()
        self.seeker_ids: list[str] = data.seekers["seeker_id"].tolist()
        self.job_ids: list[str] = data.jobs["job_id"].tolist()
        self.seeker_row = {sid: i for i, sid in enumerate(self.seeker_ids)}
        self.job_row = {jid: i for i, jid in enumerate(self.job_ids)}
        self.applied: dict[int, set[int]] = {}
        self._note_applied(data.events["seeker_idx"].to_numpy(), data.events["job_idx"].to_numpy(),
                           data.events["grade"].to_numpy())
        self._view: tuple[Catalogue, Snapshot] | None = None
        # Open = not expired at the serving clock. A job posted after the clock is new, not "not yet open": with
        # as_of = "now" the clock is the start-up time and platforms keep posting (with "data" no job is posted
        # after it, so this equals engine.open_job_mask and the batch job's candidates).
        self.generator = CandidateGenerator(cat, snap, cat.job_expires_ns > as_of.value, retriever=retriever)
        self.seeker_index: Retriever = self.generator.seeker_index(cat, snap, np.arange(n_s, dtype=np.int64),
                                                                   retriever=retriever)
        for column, delete in ((data.seekers, self.delete_seekers), (data.jobs, self.delete_jobs)):
            if DELETED_COLUMN in column:
                # Rows deleted through the journal stay as dead rows, so their past events still count in the
                # history features exactly as they did before the restart.
                id_column = "seeker_id" if column is data.seekers else "job_id"
                delete(column.loc[column[DELETED_COLUMN].eq("1"), id_column].tolist())
        _log.info("live catalogue ready in %.1fs: %d seekers, %d open of %d jobs, model %s",
                  time.perf_counter() - started, n_s, self.generator.n_usable, n_j, bundle.version)

    # ---- reads -------------------------------------------------------------------------------------------------
    def view(self) -> tuple[Catalogue, Snapshot]:
        """Catalogue and Snapshot over the current rows (cached until the next write)."""
        if self._view is None:
            width = max(len(self.vocabs.skills), 1)
            s, j = self._seekers, self._jobs
            seeker_fields: dict[str, Any] = {c: s[c] for c in _SIDE_COLUMNS}
            job_fields: dict[str, Any] = {c: j[c] for c in _SIDE_COLUMNS}
            seekers = SideArrays(**seeker_fields, **self._seeker_sparse.sets(s["sparse_row"], width))
            jobs = SideArrays(**job_fields, **self._job_sparse.sets(j["sparse_row"], width))
            cat = Catalogue(seekers=seekers, jobs=jobs, vocabs=self.vocabs, employer=j["employer"],
                            desired_city=s["desired_city"], job_posted_ns=j["posted"], job_expires_ns=j["expires"],
                            lexical_split=self.bundle.encoder.char_width)
            snap = dataclasses.replace(self._base_snap, hist_emb=s["hist_emb"], n_hist=s["n_hist"],
                                       hist_region_mode=s["hist_region_mode"], job_popularity=j["popularity"])
            self._view = (cat, snap)
        return self._view

    @property
    def n_seekers(self) -> int:
        return len(self.seeker_row)

    @property
    def n_jobs(self) -> int:
        return len(self.job_row)

    # The reads queries use (matcher.service.queries): rows by id and back, masks, ranking and scoring; queries
    # never touch the catalogue's own columns or dictionaries.
    def seeker_rows(self, ids: Sequence[str]) -> np.ndarray:
        """Catalogue row per seeker id, -1 for ids not stored (or deleted)."""
        return np.fromiter((self.seeker_row.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))

    def job_rows(self, ids: Sequence[str]) -> np.ndarray:
        """Catalogue row per job id, -1 for ids not stored (or deleted)."""
        return np.fromiter((self.job_row.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))

    def seeker_id_of(self, rows: np.ndarray) -> list[str]:
        return [self.seeker_ids[int(r)] for r in rows]

    def job_id_of(self, rows: np.ndarray) -> list[str]:
        return [self.job_ids[int(r)] for r in rows]

    def applied_jobs(self, seeker_row: int) -> list[int]:
        """Job rows this seeker has applied to (exclude_applied)."""
        return sorted(self.applied.get(seeker_row, ()))

    def in_groups(self, names: Sequence[str]) -> np.ndarray:
        """Bool per seeker row: in at least one of the named priority groups (unknown names match nobody)."""
        codes = self.groups.encode(np.asarray([group_key(n) for n in names], dtype=object), grow=False)
        bits = int(np.bitwise_or.reduce(np.left_shift(1, codes[(codes >= 0) & (codes < 63)].astype(np.int64)),
                                        initial=0))
        return (self._seekers["groups"] & bits) != 0

    def of_job_types(self, kinds: Sequence[str]) -> np.ndarray:
        """Bool per job row: of one of these FORMAT.md job types."""
        codes = self.job_types.encode(np.asarray(kinds, dtype=object), grow=False)
        return np.isin(self._jobs["job_type"], codes[codes >= 0])

    def usable_jobs(self) -> np.ndarray:
        """Bool per job row: retrieval may return it now (open, not deleted)."""
        mask = np.zeros(len(self.job_ids), dtype=bool)
        mask[self.generator.usable_rows()] = True
        return mask

    def rank_jobs(self, cat: Catalogue, snap: Snapshot, seeker_rows: np.ndarray, k: int,
                  allowed: Sequence[np.ndarray | None]) -> Recommendations:
        """岗位推荐 for these seeker rows of `cat` (the view, or a scratch catalogue of an inline profile)."""
        return rank_candidates(self.bundle, cat, snap, self.generator, seeker_rows, k, self.n_candidates,
                               allowed=allowed)

    def rank_seekers(self, cat: Catalogue, snap: Snapshot, job_rows: np.ndarray, k: int,
                     allowed: Sequence[np.ndarray | None]) -> Recommendations:
        """用人推荐 for these job rows of `cat`: the reverse index; `job_idx` of the result holds seeker rows."""
        return rank_seekers(self.bundle, cat, snap, self.seeker_index, self.generator.job_queries(cat, snap, job_rows),
                            job_rows, k, self.n_candidates, allowed=allowed)

    def score(self, cat: Catalogue, snap: Snapshot, seeker_rows: np.ndarray, job_rows: np.ndarray) -> np.ndarray:
        return score_pairs(self.bundle, cat, snap, seeker_rows, job_rows).scores

    def group_names(self, rows: np.ndarray) -> list[tuple[str, ...]]:
        """Each seeker row's priority groups, by name (for responses: a handful of rows)."""
        names = list(self.groups.keys)
        bits = self._seekers["groups"][rows]
        return [tuple(n for b, n in enumerate(names[:63]) if (int(v) >> b) & 1) for v in bits]

    def scratch_seeker(self, profile: pd.DataFrame) -> Scratch:
        """Catalogue and Snapshot whose seeker row 0 is `profile` (one validated row, no history)."""
        cat, snap = self.view()
        side, desired = seeker_arrays(profile, self.bundle.encoder, self.vocabs.scratch())  # a read: no new codes kept
        side.skills = SkillSets(_fit_width(side.skills.matrix, cat.jobs.skills.matrix.shape[1]))
        scratch_cat = dataclasses.replace(cat, seekers=side, desired_city=desired)
        scratch_snap = dataclasses.replace(
            snap, hist_emb=np.zeros((1, snap.hist_emb.shape[1]), dtype=np.float32),
            hist_lat=np.full(1, np.nan), hist_lon=np.full(1, np.nan),
            n_hist=np.zeros(1, dtype=np.float32), hist_region_mode=np.full(1, -1, dtype=np.int32),
            hist_city=_empty_counts(), hist_region=_empty_counts(), hist_employer=_empty_counts(),
            hist_job=_empty_counts())
        return Scratch(scratch_cat, scratch_snap)

    def scratch_job(self, profile: pd.DataFrame) -> Scratch:
        """Catalogue and Snapshot whose job row 0 is `profile` (one validated row, never seen by anyone)."""
        cat, snap = self.view()
        side, employer, posted, expires = job_arrays(profile, self.bundle.encoder, self.vocabs.scratch())
        side.skills = SkillSets(_fit_width(side.skills.matrix, cat.seekers.skills.matrix.shape[1]))
        scratch_cat = dataclasses.replace(cat, jobs=side, employer=employer, job_posted_ns=posted,
                                          job_expires_ns=expires)
        scratch_snap = dataclasses.replace(snap, job_popularity=np.zeros(1, dtype=np.float32),
                                           hist_job=_empty_counts())
        return Scratch(scratch_cat, scratch_snap)

    # ---- writes ------------------------------------------------------------------------------------------------
    def upsert_seekers(self, seekers: pd.DataFrame) -> None:
        """Insert or replace validated seeker rows (matcher.data.validate_seekers)."""
        side, desired = seeker_arrays(seekers, self.bundle.encoder, self.vocabs)
        rows, new = self._rows_for(seekers["seeker_id"].tolist(), self.seeker_row, self.seeker_ids)
        s = self._seekers
        keep = ~new
        dim = self._base_snap.hist_emb.shape[1]
        hist_emb = np.zeros((len(rows), dim), dtype=np.float32)
        n_hist = np.zeros(len(rows), dtype=np.float32)
        mode = np.full(len(rows), -1, dtype=np.int32)
        hist_emb[keep], n_hist[keep], mode[keep] = (s["hist_emb"][rows[keep]], s["n_hist"][rows[keep]],
                                                    s["hist_region_mode"][rows[keep]])
        s.put(rows, **{c: getattr(side, c) for c in _SIDE_COLUMNS}, desired_city=desired, hist_emb=hist_emb,
              n_hist=n_hist, hist_region_mode=mode, alive=np.ones(len(rows), dtype=bool),
              groups=self._group_bits(seekers["priority_groups"]),
              sparse_row=self._seeker_sparse.append(side))
        self._view = None
        cat, snap = self.view()
        self.seeker_index.set_items(rows, self.generator.seeker_items(cat, snap, rows),
                                    groups=seeker_regions(cat, snap, rows))

    def upsert_jobs(self, jobs: pd.DataFrame) -> None:
        """Insert or replace validated job rows (matcher.data.validate_jobs)."""
        side, employer, posted, expires = job_arrays(jobs, self.bundle.encoder, self.vocabs)
        rows, new = self._rows_for(jobs["job_id"].tolist(), self.job_row, self.job_ids)
        j = self._jobs
        popularity = np.zeros(len(rows), dtype=np.float32)
        popularity[~new] = j["popularity"][rows[~new]]
        j.put(rows, **{c: getattr(side, c) for c in _SIDE_COLUMNS}, employer=employer, posted=posted,
              expires=expires, popularity=popularity, alive=np.ones(len(rows), dtype=bool),
              job_type=self.job_types.encode(jobs["job_type"].where(jobs["job_type"].ne("")).to_numpy(dtype=object)),
              sparse_row=self._job_sparse.append(side))
        self._view = None
        cat, snap = self.view()
        is_open = cat.job_expires_ns[rows] > self.as_of.value  # the same rule as at start-up
        self.generator.put_jobs(cat, snap, rows[is_open])
        self.generator.drop_jobs(rows[~is_open])

    def delete_seekers(self, ids: list[str]) -> int:
        """Remove seekers; returns how many of the ids were present."""
        rows = np.array([r for r in (self.seeker_row.pop(i, -1) for i in ids) if r >= 0], dtype=np.int64)
        if len(rows):
            self._seekers["alive"][rows] = False
            self.seeker_index.delete(rows)
            self._view = None
        return len(rows)

    def delete_jobs(self, ids: list[str]) -> int:
        rows = np.array([r for r in (self.job_row.pop(i, -1) for i in ids) if r >= 0], dtype=np.int64)
        if len(rows):
            self._jobs["alive"][rows] = False
            self.generator.drop_jobs(rows)
            self._view = None
        return len(rows)

    def record_events(self, events: pd.DataFrame) -> None:
        """Note validated events; applications feed `exclude_applied` at once, history features at the next
        rebuild (a restart or ReloadModel), as they do for the nightly batch."""
        seeker = np.array([self.seeker_row.get(s, -1) for s in events["seeker_id"]], dtype=np.int64)
        job = np.array([self.job_row.get(j, -1) for j in events["job_id"]], dtype=np.int64)
        self._note_applied(seeker, job, events["grade"].to_numpy())

    # ---- helpers -----------------------------------------------------------------------------------------------
    def _note_applied(self, seeker: np.ndarray, job: np.ndarray, grade: np.ndarray) -> None:
        keep = (seeker >= 0) & (job >= 0) & (grade >= APPLIED_GRADE)
        for s, j in zip(seeker[keep].tolist(), job[keep].tolist(), strict=True):
            self.applied.setdefault(s, set()).add(j)

    def _group_bits(self, column: pd.Series) -> np.ndarray:
        lists = split_list(column)
        lengths = lists.map(len).to_numpy(dtype=np.int64)  # int even for no rows
        flat = np.asarray([g for items in lists for g in items], dtype=object)
        codes = self.groups.encode(flat).astype(np.int64)
        # One bit per group: past 63 distinct names a group cannot be represented. Raising here would fail a write
        # the journal already holds (and every restart after it); the group is left out, loudly, instead.
        fits = codes < 63
        if not fits.all():
            _log.warning("more than 63 distinct priority groups: %d assignments left out of the priority policy",
                         int((~fits).sum()))
        bits = np.zeros(len(lists), dtype=np.int64)
        rows = np.repeat(np.arange(len(lists)), lengths)
        np.bitwise_or.at(bits, rows[fits], np.left_shift(1, codes[fits]))
        return bits

    @staticmethod
    def _rows_for(ids: list[str], row_of: dict[str, int], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Row per id (existing rows are reused, new ids appended) and which of them are new."""
        rows = np.empty(len(ids), dtype=np.int64)
        new = np.zeros(len(ids), dtype=bool)
        for i, key in enumerate(ids):
            row = row_of.get(key)
            if row is None:
                row = row_of[key] = len(names)
                names.append(key)
                new[i] = True
            rows[i] = row
        return rows, new


def _fit_width(matrix: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """Drop skill columns the catalogue has never seen (they cannot match) so shapes agree."""
    matrix = sp.csr_matrix(matrix)
    if matrix.shape[1] > width:
        matrix = sp.csr_matrix(matrix[:, :width])
    matrix.resize(matrix.shape[0], width)
    return matrix
