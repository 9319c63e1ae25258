"""Finished chunks of a long run, on disk, so that a killed run resumes instead of starting over.

A work directory belongs to one run key (data fingerprint, model version, settings). A run with another key
starts the directory afresh; the same key finds the chunks already done. Each chunk file appears whole or not at
all (written aside, fsynced, renamed), so a kill during a write leaves no half chunk behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

__all__ = ["ChunkStore"]

_log = logging.getLogger(__name__)
_MANIFEST = "manifest.json"


class ChunkStore:
    def __init__(self, root: str | Path, run_key: str, description: dict[str, object]) -> None:
        self.root = Path(root)
        self.run_key = run_key
        manifest = self.root / _MANIFEST
        previous = self._read_key(manifest)
        if previous != run_key:
            if previous is not None:
                _log.warning("work dir %s holds another run (%s): starting it afresh", self.root, previous[:12])
            if (self.root / "chunks").exists():
                shutil.rmtree(self.root / "chunks")
            self.root.mkdir(parents=True, exist_ok=True)
            self._write_atomic(manifest, json.dumps({"run_key": run_key, **description}, indent=2,
                                                    default=str).encode())
        (self.root / "chunks").mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _read_key(manifest: Path) -> str | None:
        try:
            return str(json.loads(manifest.read_text(encoding="utf-8"))["run_key"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _path(self, chunk_id: str) -> Path:
        return self.root / "chunks" / f"{chunk_id}.npz"

    def done(self, chunk_id: str) -> bool:
        return self._path(chunk_id).is_file()

    def save(self, chunk_id: str, arrays: dict[str, np.ndarray]) -> None:
        path = self._path(chunk_id)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as allow_pickle
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def load(self, chunk_id: str) -> dict[str, np.ndarray]:
        with np.load(self._path(chunk_id)) as npz:
            return {name: npz[name] for name in npz.files}

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def _write_atomic(path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
