"""The seeded mutation fuzz (benchmarks/fuzz.py) and the kill -9 loop (benchmarks/kill9.py), briefly: `make fuzz` and
`make kill9` run them at length.

Hostile values in every field of every RPC must never answer INTERNAL / UNKNOWN or hang, the journal the fuzz
leaves must load with nothing quarantined into the state a rebuild serves, and mutated CSV folders must load or
raise the engine's own error.
"""

from __future__ import annotations

import pytest

from benchmarks.fuzz import fuzz_loaders, fuzz_service


@pytest.mark.slow
def test_a_short_service_fuzz_finds_no_internal_error_hang_or_unloadable_journal() -> None:
    result = fuzz_service(seconds=20, seed=3, max_calls=2500, log=lambda _line: None)
    assert result.calls > 300
    assert result.failures == [] and result.hangs == []
    assert result.restart["quarantined"] == 0 and result.restart["same_state"], result.restart
    ok_writes = sum(n for key, n in result.codes.items() if key.split()[0].startswith(("Upsert", "Delete", "Record"))
                    and key.endswith(" OK"))
    refused = sum(n for key, n in result.codes.items() if key.endswith("INVALID_ARGUMENT"))
    assert ok_writes > 20 and refused > 50  # the fuzz really wrote, and really sent bad input


def test_mutated_csv_folders_load_or_raise_the_engines_own_error() -> None:
    cases, failures = fuzz_loaders(150, seed=5)
    assert cases == 150 and failures == []


@pytest.mark.slow
def test_kill_9_during_writes_loses_no_acknowledged_write_and_every_restart_succeeds() -> None:
    from benchmarks.kill9 import kill_loop

    result = kill_loop(kills=2, seed=4, log=lambda _line: None)
    assert result.kills == 2 and result.acknowledged > 5
    assert result.restarts_failed == [] and result.lost == []
