"""What `generate` returns: the three FORMAT.md frames with their latent truth, and how they are written to CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .latent import Latent
from .occupations import FAMILIES


@dataclass
class SyntheticData:
    """Three FORMAT.md frames (times tz-aware UTC, lists '|'-joined, '' or NaN = unknown) and their truth.

    `seekers` also carries the protected columns gender, birth_year, hukou and marital_status, for fairness
    audits only."""

    seekers: pd.DataFrame
    jobs: pd.DataFrame
    events: pd.DataFrame
    latent: Latent = field(repr=False)

    def utility(self, seeker_idx: np.ndarray, job_idx: np.ndarray) -> np.ndarray:
        """Noise-free utility of (seeker row, job row) pairs: a perfect ranker sorts by this."""
        return self.latent.utility(seeker_idx, job_idx)

    @property
    def seeker_family(self) -> pd.Series:
        """The latent family label of each seeker (aligned with `seekers`)."""
        labels = np.asarray(FAMILIES, dtype=object)[self.latent.seeker_family]
        return pd.Series(labels, index=self.seekers.index, name="family")

    @property
    def job_family(self) -> pd.Series:
        labels = np.asarray(FAMILIES, dtype=object)[self.latent.job_family]
        return pd.Series(labels, index=self.jobs.index, name="family")

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write seekers.csv, jobs.csv and events.csv (UTF-8, header row, times like 2026-01-05T10:00:00Z).

        Arrow's CSV writer is used because pandas' to_csv needs ~10x longer at a million rows."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        parts = (("seekers.csv", self.seekers), ("jobs.csv", self.jobs), ("events.csv", self.events))
        for name, frame in parts:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            for i, col in enumerate(table.schema):
                if pa.types.is_timestamp(col.type):
                    seconds = pc.cast(table.column(i), pa.timestamp("s", tz="UTC"), safe=False)
                    table = table.set_column(i, col.name, pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ"))
            path = out / name
            tmp = out / f".{name}.tmp"
            pcsv.write_csv(table, tmp)
            tmp.replace(path)
            written[name] = path
        return written
