"""The seeded mutation fuzz of benchmarks/fuzz.py, briefly (`make fuzz` runs it for 10 minutes).

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
