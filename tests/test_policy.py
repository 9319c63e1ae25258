"""Priority-group policy: guaranteed share by appended slots, never a demotion."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import MatcherError
from matcher.policy.priority import PriorityPolicy, append_priority_slots, slots_needed


def test_slots_needed_meets_the_share_exactly() -> None:
    k, share = 10, 0.2
    have = np.arange(0, 11)
    slots = slots_needed(have, k, share)
    assert list(slots[:3]) == [3, 2, 0]  # (2 - have) / 0.8 rounded up
    assert np.all((have + slots) / (k + slots) >= share - 1e-12)
    assert np.all(slots[have >= 2] == 0)
    # The fewest slots that do it: one less would miss.
    short = np.maximum(slots - 1, 0)
    assert np.all(((have + short) / (k + short) < share) | (slots == 0))


def test_appended_slots_leave_the_model_top_k_untouched() -> None:
    rng = np.random.default_rng(0)
    m, n, k = 200, 50, 10
    rows = np.stack([rng.permutation(500)[:n] for _ in range(m)])
    scores = -np.sort(-rng.normal(size=(m, n)), axis=1)
    rows[5, 30:] = -1  # a short candidate list
    is_priority = rng.random(500) < 0.08
    out_rows, out_scores, added = append_priority_slots(rows, scores, is_priority, k, 0.3)
    np.testing.assert_array_equal(out_rows[:, :k], rows[:, :k])
    np.testing.assert_array_equal(out_scores[:, :k], scores[:, :k])
    assert not added[:, :k].any()
    for i in range(m):
        listed = out_rows[i][out_rows[i] >= 0]
        assert len(set(listed)) == len(listed)
        slots = out_rows[i][added[i]]
        assert is_priority[slots].all()
        # Slots are the best-scored priority candidates outside the top k, in model order.
        outside = [r for r in rows[i, k:] if r >= 0 and is_priority[r]]
        assert list(slots) == outside[:len(slots)]
        p = is_priority[listed].sum()
        assert p / len(listed) >= 0.3 - 1e-12 or len(slots) == len(outside)


def test_no_slots_when_the_share_is_already_met() -> None:
    rows = np.array([[1, 2, 3, 4]])
    out, _, added = append_priority_slots(rows, np.array([[4.0, 3, 2, 1]]), np.array([False, True, True, False, True]),
                                          k=2, min_share=0.5)
    assert out.shape == (1, 2) and not added.any()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(MatcherError, match="min_share"):
        PriorityPolicy(min_share=1.0)
    with pytest.raises(MatcherError, match="no groups"):
        PriorityPolicy(enabled=True, groups=())
