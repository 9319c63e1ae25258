"""Priority groups (就业援助对象): guaranteed exposure that never demotes anyone else.

Policy documents ask employment services to serve the long-term unemployed, the disabled, zero-employment
households, unplaced graduates and veterans first. A boost that re-sorts the model's list would push other seekers
down; instead the policy only *adds*:

- employer side (用人推荐): the model's top k is returned unchanged, and when fewer than `min_share` of the list are
  priority seekers, the best-scored priority seekers from the rest of the candidates are appended as policy slots
  until the share is met (or the candidates run out). Nobody in the model's top k moves or disappears.
- push side: a priority seeker's pushes are exempt from the per-job caps (they never lose a job to others'
  competition) and they may get `PushConfig.priority_extra` more than k. Other seekers compete for caps among
  themselves only, so their pushes are exactly what the model and the caps alone give them.

Every adjustment is marked so that responses and files can say which rows the policy added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import split_list
from matcher.errors import MatcherError

__all__ = ["PriorityPolicy", "DEFAULT_GROUPS", "append_priority_slots", "slots_needed", "group_key",
           "priority_members"]

DEFAULT_GROUPS = ("long_term_unemployed", "disabled", "zero_employment_household", "graduate", "veteran")


@dataclass(frozen=True)
class PriorityPolicy:
    enabled: bool = False
    groups: tuple[str, ...] = DEFAULT_GROUPS
    min_share: float = 0.2       # of each employer-side list

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_share < 1.0:
            raise MatcherError(f"priority policy: min_share must be in [0, 1), got {self.min_share}")
        if self.enabled and not self.groups:
            raise MatcherError("priority policy: enabled with no groups")


def group_key(name: str) -> str:
    """How a priority group's name is compared: FORMAT.md lists are case- and space-insensitive."""
    return name.strip().lower()


def priority_members(groups: pd.Series, wanted: Sequence[str]) -> np.ndarray:
    """Bool per seeker: their `priority_groups` cell names at least one of `wanted` (the one membership rule of
    the push, the service's filters and the audit)."""
    keys = {group_key(g) for g in wanted}
    return np.fromiter((bool(keys.intersection(items)) for items in split_list(groups)), dtype=bool,
                       count=len(groups))


def slots_needed(priority_in_top: np.ndarray, k: int, min_share: float) -> np.ndarray:
    """Policy slots to append so that priority / (k + slots) >= min_share, per list."""
    if min_share <= 0:
        return np.zeros_like(priority_in_top)
    need = (min_share * k - priority_in_top) / (1.0 - min_share)
    return np.maximum(np.ceil(need - 1e-9), 0).astype(np.int64)


def append_priority_slots(rows: np.ndarray, scores: np.ndarray, is_priority: np.ndarray, k: int,
                          min_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extend model-ranked lists with policy slots.

    `rows` (m, n) holds each list's candidates best first (-1 = none), `scores` their model scores, `is_priority`
    a bool per row id. Returns (rows, scores, added) of width k + max slots: the first k columns are the model's
    top k untouched; `added` marks the appended policy slots (the best-scored priority candidates not in the top k,
    in model order)."""
    m, n = rows.shape
    width = min(k, n)
    valid = rows >= 0
    flag = np.zeros(rows.shape, dtype=bool)
    flag[valid] = is_priority[rows[valid]]
    top_priority = flag[:, :width].sum(axis=1)
    wanted = slots_needed(top_priority, width, min_share)
    rest = flag[:, width:]
    order = np.cumsum(rest, axis=1)
    take = rest & (order <= wanted[:, None])
    max_slots = int(take.sum(axis=1).max()) if m and rest.size else 0
    out_rows = np.full((m, width + max_slots), -1, dtype=rows.dtype)
    out_scores = np.full((m, width + max_slots), np.nan)
    added = np.zeros((m, width + max_slots), dtype=bool)
    out_rows[:, :width], out_scores[:, :width] = rows[:, :width], scores[:, :width]
    if max_slots:
        # Stable sort puts the taken candidates first, in their model order.
        pick = np.argsort(~take, axis=1, kind="stable")[:, :max_slots]
        chosen = np.take_along_axis(take, pick, axis=1)
        out_rows[:, width:] = np.where(chosen, np.take_along_axis(rows[:, width:], pick, axis=1), -1)
        out_scores[:, width:] = np.where(chosen, np.take_along_axis(scores[:, width:], pick, axis=1), np.nan)
        added[:, width:] = chosen
    return out_rows, out_scores, added
