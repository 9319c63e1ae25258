"""Who belongs to which group, for the fairness audit (matcher.policy.audit), and the one-column counterfactual copies.

Protected columns (matcher.schema.PROTECTED_COLUMNS) are never model inputs. This module is the one place that reads
them: to split seekers into groups whose exposure and quality the audit compares, and to build copies of the seekers
in which a single protected column is changed, so the audit can show that no ranking moves when it does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import split_list
from matcher.policy.priority import PriorityPolicy, group_key, priority_members
from matcher.schema import PROTECTED_COLUMNS

__all__ = ["GroupDim", "UNKNOWN", "NO_GROUP", "POLICY_ANY", "AGE_BANDS", "protected_dims", "priority_dim",
           "policy_members", "counterfactual_column", "counterfactual_text", "present_protected_columns",
           "TEXT_STATEMENTS"]

UNKNOWN = "(unknown)"
OTHER = "(other)"
NO_GROUP = "none"
POLICY_ANY = "policy groups (any)"
AGE_BANDS = ("<25", "25-34", "35-44", "45+")
_AGE_COLUMNS = frozenset({"birth_year", "birth_date", "birthday", "age"})
_DATE_COLUMNS = frozenset({"birth_date", "birthday"})
_PRESENCE_ONLY = frozenset({"photo", "photo_url"})  # a URL per seeker: only whether one is given can be a group
_MAX_CATEGORIES = 12  # the largest categories by size; the rest are pooled as OTHER
_SHIFT_YEARS = 17
# What real resumes state about themselves (features.redaction): one of these is written before every seeker's text,
# rotating, so the text counterfactual changes all six grounds at once in both languages.
TEXT_STATEMENTS = (
    "女，45岁，已婚已育，农村户口，回族，身体残疾。",
    "男, 23岁, 未婚, 1990年出生, 河南籍, 汉族.",
    "Female, 52 years old, married with 2 children, born 1972, religion: Muslim.",
    "Gender: male. Age: 19. Marital status: single. I am disabled.",
)


@dataclass(frozen=True)
class GroupDim:
    """One way of splitting seekers: a protected column or the priority groups.

    `members[i, g]` says whether seeker row i belongs to labels[g]. Protected columns give every seeker exactly one
    label (UNKNOWN included), so sizes sum to the number of seekers; priority groups overlap."""

    name: str
    kind: str  # "protected" or "priority"
    labels: tuple[str, ...]
    members: np.ndarray
    note: str = ""

    def sizes(self) -> dict[str, int]:
        counts = self.members.sum(axis=0)
        return {label: int(c) for label, c in zip(self.labels, counts, strict=True)}


def _text(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip()


def present_protected_columns(seekers: pd.DataFrame) -> list[str]:
    return sorted(c for c in seekers.columns if c in PROTECTED_COLUMNS)


def _ages(column: str, text: pd.Series, as_of: pd.Timestamp) -> np.ndarray:
    if column in _DATE_COLUMNS:
        born = pd.to_datetime(text.where(text.ne("")), errors="coerce", utc=True, format="ISO8601")
        return ((as_of - born).dt.days / 365.25).to_numpy(dtype=np.float64, na_value=np.nan)
    number = pd.to_numeric(text.where(text.ne("")), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return as_of.year - number if column == "birth_year" else number


def _labelled(name: str, labels: np.ndarray, order: list[str], note: str) -> GroupDim:
    members = labels[:, None] == np.asarray(order, dtype=object)[None, :]
    return GroupDim(name=name, kind="protected", labels=tuple(order), members=members, note=note)


def protected_dims(seekers: pd.DataFrame, as_of: pd.Timestamp) -> tuple[list[GroupDim], dict[str, str]]:
    """A GroupDim per usable protected column, and why each other present protected column was left out."""
    dims: list[GroupDim] = []
    skipped: dict[str, str] = {}
    for column in present_protected_columns(seekers):
        text = _text(seekers[column])
        given = text.ne("").to_numpy()
        if not given.any():
            skipped[column] = "present but empty for every seeker"
            continue
        if column in _AGE_COLUMNS:
            age = _ages(column, text, as_of)
            labels = np.select([age < 25, age < 35, age < 45, age >= 45], list(AGE_BANDS), default=UNKNOWN)
            dims.append(_labelled(column, labels.astype(object), [*AGE_BANDS, UNKNOWN],
                                  f"age bands at {as_of:%Y-%m-%d}"))
        elif column in _PRESENCE_ONLY:
            labels = np.where(given, "given", UNKNOWN).astype(object)
            dims.append(_labelled(column, labels, ["given", UNKNOWN], "given or not"))
        else:
            counts = text[given].value_counts()
            ranked = sorted(counts.index, key=lambda v: (-int(counts[v]), v))
            kept = ranked[:_MAX_CATEGORIES]
            values = text.to_numpy(dtype=object)
            labels = np.where(~given, UNKNOWN, np.where(np.isin(values, kept), values, OTHER)).astype(object)
            order = [*kept, *([OTHER] if len(ranked) > len(kept) else []), *([UNKNOWN] if not given.all() else [])]
            note = f"{len(kept)} largest of {len(ranked)} values" if len(ranked) > len(kept) else ""
            dims.append(_labelled(column, labels, order, note))
    return dims, skipped


def _group_lists(seekers: pd.DataFrame) -> pd.Series:
    if "priority_groups" not in seekers:
        return pd.Series([[] for _ in range(len(seekers))], index=seekers.index, dtype=object)
    return split_list(seekers["priority_groups"])


def policy_members(seekers: pd.DataFrame, policy: PriorityPolicy | None) -> np.ndarray:
    """Seekers in at least one of the policy's groups (none when there is no enabled policy)."""
    if policy is None or not policy.enabled or "priority_groups" not in seekers:
        return np.zeros(len(seekers), dtype=bool)
    return priority_members(seekers["priority_groups"], policy.groups)


def priority_dim(seekers: pd.DataFrame, policy: PriorityPolicy | None) -> GroupDim | None:
    """Membership per priority group (those in the data and, with an enabled policy, the policy's own), "none" for
    seekers in no group and, with a policy, POLICY_ANY; None when no seeker has a group and there is no policy."""
    lists = _group_lists(seekers)
    seen = sorted({g for items in lists for g in items})
    enabled = policy is not None and policy.enabled
    if not seen and not enabled:
        return None
    named = sorted({*seen, *(group_key(g) for g in policy.groups)}) if policy is not None and enabled else seen
    members = np.zeros((len(seekers), len(named) + 1 + enabled), dtype=bool)
    column = {g: i for i, g in enumerate(named)}
    for row, items in enumerate(lists):
        for g in items:
            members[row, column[g]] = True
    members[:, len(named)] = ~members[:, :len(named)].any(axis=1)
    labels = [*named, NO_GROUP]
    if enabled:
        members[:, -1] = policy_members(seekers, policy)
        labels.append(POLICY_ANY)
    return GroupDim(name="priority_groups", kind="priority", labels=tuple(labels), members=members,
                    note="groups overlap: a seeker counts in each of theirs")


def counterfactual_column(values: pd.Series, column: str) -> tuple[pd.Series, str]:
    """`values` with every cell changed, and how: years shifted 17 years older, categories rotated among the observed
    values (a single observed value swapped for a new one), empty cells filled."""
    text = _text(values)
    filled = ", empty filled" if text.eq("").any() else ""
    if column in _DATE_COLUMNS:
        born = pd.to_datetime(text.where(text.ne("")), errors="coerce", utc=True, format="ISO8601")
        older = (born - pd.DateOffset(years=_SHIFT_YEARS)).dt.strftime("%Y-%m-%d")
        return older.fillna("1980-01-01").astype(str), f"{_SHIFT_YEARS} years older{filled}"
    if column in ("birth_year", "age"):
        number = pd.to_numeric(text.where(text.ne("")), errors="coerce")
        shifted = number - _SHIFT_YEARS if column == "birth_year" else number + _SHIFT_YEARS
        filler = 1980 if column == "birth_year" else 40
        out = shifted.fillna(filler).map(lambda v: f"{v:g}")
        return out.astype(str), f"{_SHIFT_YEARS} years older{filled}"
    observed = sorted(set(text[text.ne("")]))
    if len(observed) >= 2:
        mapping = {v: observed[(i + 1) % len(observed)] for i, v in enumerate(observed)}
        mapping[""] = observed[0]
        how = f"rotated among {len(observed)} values{filled}"
    else:
        mapping = {v: "counterfactual" for v in observed} | {"": observed[0] if observed else "counterfactual"}
        how = f"{'replaced by a new value' if observed else 'filled'}{filled if observed else ''}"
    return text.map(mapping).astype(str), how


def counterfactual_text(values: pd.Series) -> tuple[pd.Series, str]:
    """`values` (seekers' text) with a statement of protected facts written before every cell, and how. Resumes state
    such facts in free text even when the platform stores none of them as columns, so this is the counterfactual
    that applies to every data set."""
    statements = np.resize(np.asarray(TEXT_STATEMENTS, dtype=object), len(values))
    changed = pd.Series(statements + " " + _text(values).to_numpy(dtype=object), index=values.index).str.strip()
    return changed.astype(str), (f"one of {len(TEXT_STATEMENTS)} statements of gender, age, marital status, hukou, "
                                 "ethnicity/religion and disability (Chinese, English) written before the text")
