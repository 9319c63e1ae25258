"""Growable storage for the live catalogue: dense columns with spare capacity and appendable CSR rows, so that a
live upsert writes its rows at the end instead of copying a million-row table."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from features.catalogue import SPARSE_FIELDS, SideArrays, SkillSets

__all__ = ["Columns", "SparseFields"]


class Columns:
    """Arrays sharing one row count, with spare capacity so that appends do not copy the table each time."""

    def __init__(self, **arrays: np.ndarray) -> None:
        # Arrays the catalogue computed are adopted, not copied (a million-job catalogue is gigabytes); views of
        # someone else's memory (a DataFrame's columns, read-only under pandas copy-on-write) are copied.
        self._buf = {name: a if a.flags.owndata and a.flags.writeable else np.array(a, copy=True)
                     for name, a in arrays.items()}
        self.n = len(next(iter(self._buf.values())))

    def reserve(self, capacity: int) -> None:
        """Make room for `capacity` rows now, so that the first live appends do not copy gigabytes mid-serving."""
        for name, buf in self._buf.items():
            if capacity > len(buf):
                grown = np.empty((capacity, *buf.shape[1:]), dtype=buf.dtype)
                grown[:self.n] = buf[:self.n]
                self._buf[name] = grown

    def __getitem__(self, name: str) -> np.ndarray:
        return self._buf[name][:self.n]

    def put(self, rows: np.ndarray, **values: np.ndarray) -> None:
        needed = int(rows.max(initial=-1)) + 1
        for name, buf in self._buf.items():
            if needed > len(buf):
                grown = np.empty((max(needed, len(buf) * 3 // 2 + 16), *buf.shape[1:]), dtype=buf.dtype)
                grown[:self.n] = buf[:self.n]
                self._buf[name] = grown
        missing = set(self._buf) - set(values)
        if missing:
            raise ValueError(f"put() needs every column; missing {sorted(missing)}")
        for name, value in values.items():
            self._buf[name][rows] = value
        self.n = max(self.n, needed)


class _CsrRows:
    """CSR rows appended at the end; a row replaced by an upsert is simply no longer pointed at."""

    def __init__(self, matrix: sp.csr_matrix) -> None:
        matrix = sp.csr_matrix(matrix)
        self.data = Columns(indices=matrix.indices.astype(np.int32), data=matrix.data.astype(np.float32))
        self.indptr = Columns(indptr=matrix.indptr.astype(np.int32))

    def reserve(self) -> None:
        """Room for an eighth more rows and values (as `Columns.reserve`): the first live writes after a start do
        not copy the whole matrix (1.3 s at 1M jobs, on the engine thread) while serving."""
        for columns in (self.data, self.indptr):
            columns.reserve(columns.n + columns.n // 8 + 1024)

    def append(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Store the rows of `matrix`; returns their row numbers."""
        first_row, nnz = self.indptr.n - 1, self.data.n
        self.data.put(nnz + np.arange(matrix.nnz), indices=matrix.indices.astype(np.int32),
                      data=matrix.data.astype(np.float32))
        self.indptr.put(first_row + 1 + np.arange(matrix.shape[0]), indptr=(matrix.indptr[1:] + nnz).astype(np.int32))
        return first_row + np.arange(matrix.shape[0])

    def matrix(self, width: int) -> sp.csr_matrix:
        return sp.csr_matrix((self.data["data"], self.data["indices"], self.indptr["indptr"]),
                             shape=(self.indptr.n - 1, width), copy=False)


class SparseFields:
    """The SkillSets fields of one side (skills, lexical rows) as appendable CSR rows sharing row numbers."""

    def __init__(self, side: SideArrays) -> None:
        self.rows = {name: _CsrRows(getattr(side, name).matrix) for name in SPARSE_FIELDS}
        # Lexical widths are fixed by the encoder; the skill vocabulary grows with live rows (width given per view).
        self.widths = {name: getattr(side, name).matrix.shape[1] for name in SPARSE_FIELDS}

    def reserve(self) -> None:
        for rows in self.rows.values():
            rows.reserve()

    def append(self, side: SideArrays) -> np.ndarray:
        rows = [self.rows[name].append(getattr(side, name).matrix) for name in SPARSE_FIELDS]
        return rows[0]

    def sets(self, row_of: np.ndarray, skill_width: int) -> dict[str, Any]:
        return {name: SkillSets(rows.matrix(skill_width if name == "skills" else self.widths[name]), row_of)
                for name, rows in self.rows.items()}
