"""Vectorized helpers: whole columns are drawn with numpy and rendered with pyarrow.compute (`take` of pre-rendered
fragments, element-wise joins), never row by row, which is what keeps 10^6 rows at a few seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class _Ragged:
    """Per-group string lists flattened into one Arrow array, so a whole column of per-row choices is one
    `take`: group g owns values[offsets[g]: offsets[g] + counts[g]]."""

    values: pa.Array
    offsets: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, groups: Sequence[Sequence[str]], prefix: str = "") -> _Ragged:
        counts = np.array([len(g) for g in groups], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return cls(pa.array([prefix + s for g in groups for s in g], pa.string()), offsets, counts)

    def pick(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        """One uniform local index per row (within the row's group)."""
        return (rng.random(len(group)) * self.counts[group]).astype(np.int64)

    def other(self, rng: np.random.Generator, group: np.ndarray, local: np.ndarray) -> np.ndarray:
        """A local index different from `local` (groups have at least two entries)."""
        n = self.counts[group]
        return (local + 1 + (rng.random(len(group)) * (n - 1)).astype(np.int64)) % n

    def take(self, group: np.ndarray, local: np.ndarray) -> pa.Array:
        return _take(self.values, self.offsets[group] + local)


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return pc.take(values, pa.array(idx, pa.int64()))


def _cat(*parts: Any) -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and Python strings (no nulls anywhere)."""
    return pc.binary_join_element_wise(*parts, "")


def _when(mask: np.ndarray, then: Any, otherwise: Any = "") -> pa.Array:
    return pc.if_else(pa.array(mask), then, otherwise)


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values.astype(np.int64)), pa.string())


def _categorical(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One draw per row from row-specific categorical probabilities probs[group[row]]."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    return np.minimum((u[:, None] > cum[group]).sum(axis=1), probs.shape[1] - 1)


def _normalised(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()


def _round_to(values: np.ndarray, step: float) -> np.ndarray:
    return np.maximum(step, np.round(values / step) * step)


def _timestamps(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds.astype(np.int64), unit="s", utc=True).as_unit("us"))


def _ids(prefix: str, n: int) -> pa.Array:
    """Zero-padded sequential ids (S000001 ...), so ids sort like rows."""
    width = max(6, len(str(max(n - 1, 0))))
    if n == 0:
        return pa.array([], pa.string())
    return _cat(prefix, pc.utf8_lpad(_num(np.arange(n)), width=width, padding="0"))

