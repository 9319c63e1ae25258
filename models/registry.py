"""Versioned model directories: save atomically, load with checks, promote by pointer.

Layout: MODEL_DIR/versions/<version>/{model.txt, encoder.pkl, meta.json} and MODEL_DIR/CURRENT naming the
version that serving and batch use. `load_model` accepts MODEL_DIR (follows CURRENT) or a version directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from features.text import TextEncoder
from matcher.errors import InvalidRequestError, ModelError, NotFoundError
from models.employer import EmployerModel
from models.ranker import LambdaRanker

__all__ = ["ModelBundle", "save_model", "load_model", "model_files", "promote", "current_version", "rollback",
           "list_versions", "version_dir"]

_FILES = ("model.txt", "encoder.pkl", "meta.json")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MAX_VERSION_CHARS = 128  # a longer name cannot be a directory on every file system


@dataclass
class ModelBundle:
    ranker: LambdaRanker
    encoder: TextEncoder
    meta: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None  # the version directory it was loaded from (None: trained in this process)
    employer: EmployerModel | None = None  # two-way fit: the employer side, where labels allowed one

    def score(self, X: np.ndarray) -> np.ndarray:
        """The one score every path ranks by: the seeker side, plus the employer side's log-acceptance if any."""
        seeker = np.asarray(self.ranker.predict(X), dtype=np.float64)
        return seeker if self.employer is None or len(X) == 0 else seeker + self.employer.log_acceptance(X)

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """`score` split into terms: the seeker side's SHAP value per feature, the employer side's log-acceptance
        as one more term in a two-way fit ("employer_side"), and the bias last; each row sums to `score(X)`."""
        ranker = self.ranker
        split = np.asarray(ranker.booster_.predict(X, pred_contrib=True, num_iteration=ranker.best_iteration_),
                           dtype=np.float64).reshape(len(X), -1)
        terms = list(ranker.feature_names_)
        if self.employer is not None:
            split = np.hstack([split[:, :-1], self.employer.log_acceptance(X)[:, None], split[:, -1:]])
            terms.append("employer_side")
        return split, terms

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unversioned"))

    @property
    def feature_names(self) -> list[str]:
        return list(self.ranker.feature_names_)


def _new_version(model_text: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{hashlib.sha256(model_text.encode()).hexdigest()[:8]}"


def save_model(bundle: ModelBundle, root: str | Path, *, make_current: bool = True) -> Path:
    """Write a new version under root/versions and (by default) point CURRENT at it. Returns the version dir."""
    root = Path(root)
    model_text = bundle.ranker.booster_.model_to_string(num_iteration=bundle.ranker.best_iteration_)
    version = _new_version(model_text)
    meta = {**bundle.meta, "version": version, "feature_names": bundle.feature_names,
            "best_iteration": bundle.ranker.best_iteration_, "params": bundle.ranker.params_,
            "lightgbm_version": lgb.__version__, "created_at": datetime.now(UTC).isoformat()}
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=versions))
    try:
        files = {"model.txt": model_text.encode("utf-8"),
                 "encoder.pkl": pickle.dumps(bundle.encoder, protocol=pickle.HIGHEST_PROTOCOL)}
        if bundle.employer is not None:
            files["employer.txt"] = bundle.employer.booster_.model_to_string(
                num_iteration=bundle.employer.best_iteration_).encode("utf-8")
            meta["employer_weight"] = bundle.employer.weight
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        # Checked before anything is parsed: LightGBM's parser crashes the process on a truncated model file.
        meta["checksums"] = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str), encoding="utf-8")
        final = versions / version
        tmp.rename(final)  # a reader sees the whole version or none of it
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    bundle.meta = meta
    if make_current:
        promote(root, version)
    return final


def version_dir(root: str | Path, version: str) -> Path:
    """The directory of `version` under the model root. A name that cannot be a version is InvalidRequestError,
    a well-formed one with no directory NotFoundError, both naming the field `version`."""
    if len(version) > _MAX_VERSION_CHARS or not _VERSION.match(version):
        raise InvalidRequestError(f"version: not a version name (letters, digits, '_.-', at most "
                                  f"{_MAX_VERSION_CHARS} characters)")
    path = Path(root) / "versions" / version
    if not path.is_dir():
        raise NotFoundError("version: no such model version")
    return path


def promote(root: str | Path, version: str) -> None:
    """Make `version` the champion: CURRENT points at it (atomically), and HISTORY records the promotion."""
    root = Path(root)
    if not (root / "versions" / version / "meta.json").is_file():
        raise ModelError(f"no model version {version!r} under {root}")
    tmp = root / ".CURRENT.tmp"
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, root / "CURRENT")
    with (root / "HISTORY").open("a", encoding="utf-8") as history:
        history.write(f"{datetime.now(UTC).isoformat()} {version}\n")


def current_version(root: str | Path) -> str | None:
    """The champion's version name, None for a model directory without one yet."""
    current = Path(root) / "CURRENT"
    return current.read_text(encoding="utf-8").strip() if current.is_file() else None


def rollback(root: str | Path) -> str:
    """Promote the champion before the current one (from HISTORY) again; returns its version."""
    root = Path(root)
    history = root / "HISTORY"
    lines = history.read_text(encoding="utf-8").split() if history.is_file() else []
    champions = [v for v in lines[1::2] if (root / "versions" / v / "meta.json").is_file()]
    now = current_version(root)
    earlier = [v for v in champions if v != now]
    if not earlier:
        raise ModelError(f"{root}: no earlier champion to roll back to (HISTORY lists none other than {now})")
    promote(root, earlier[-1])
    return earlier[-1]


def list_versions(root: str | Path) -> list[str]:
    versions = Path(root) / "versions"
    return sorted(p.name for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if versions.is_dir() else []


def _resolve(path: Path) -> Path:
    if (path / "meta.json").is_file():
        return path
    current = path / "CURRENT"
    if current.is_file():
        return path / "versions" / current.read_text(encoding="utf-8").strip()
    raise ModelError(f"{path} is not a model directory (no meta.json and no CURRENT)")


def load_model(path: str | Path) -> ModelBundle:
    directory = _resolve(Path(path))
    missing = [name for name in _FILES if not (directory / name).is_file()]
    if missing:
        raise ModelError(f"model directory {directory} is incomplete: missing {', '.join(missing)}")
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        _check_files(directory, meta)
        booster = lgb.Booster(model_file=str(directory / "model.txt"))
        with (directory / "encoder.pkl").open("rb") as fh:
            encoder = pickle.load(fh)  # noqa: S301 - our own artefact, written by save_model
    except (OSError, ValueError, AttributeError, lgb.basic.LightGBMError, pickle.UnpicklingError, EOFError) as exc:
        raise ModelError(f"model directory {directory} is unreadable: {exc}") from exc
    if not isinstance(encoder, TextEncoder):
        raise ModelError(f"{directory}/encoder.pkl does not hold a TextEncoder")
    if list(booster.feature_name()) != list(meta.get("feature_names", [])):
        raise ModelError(f"{directory}: model.txt feature names differ from meta.json")
    ranker = LambdaRanker.from_booster(booster, meta.get("params", {}), model_file=directory / "model.txt")
    employer = None
    if (directory / "employer.txt").is_file():
        try:
            employer = EmployerModel.from_booster(lgb.Booster(model_file=str(directory / "employer.txt")),
                                                  float(meta.get("employer_weight", 1.0)))
        except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
            raise ModelError(f"model directory {directory}: employer.txt is unreadable: {exc}") from exc
    return ModelBundle(ranker=ranker, encoder=encoder, meta=meta, source=directory, employer=employer)


_TREES_END = b"end of trees"


def _check_files(directory: Path, meta: dict[str, Any]) -> None:
    """Refuse a model whose files are not the ones save_model wrote, before LightGBM or pickle reads them.

    LightGBM's text parser dies with SIGSEGV on a model.txt cut short, taking the server or the batch job with it
    (issue 13): a broken model must be refused, never fatal. Versions saved with checksums are checked byte for
    byte; older ones at least must hold a whole tree section."""
    if not isinstance(meta, dict):
        raise ModelError(f"{directory}/meta.json is not a JSON object")
    checksums = meta.get("checksums")
    checksums = checksums if isinstance(checksums, dict) else {}
    for name in dict.fromkeys(["model.txt", "employer.txt", *map(str, checksums)]):
        path = directory / name
        content = path.read_bytes() if path.is_file() else None
        if content is not None and name.endswith(".txt") and _TREES_END not in content:
            raise ModelError(f"{directory}/{name} is incomplete (no end of trees): truncated or not a LightGBM model")
        if name in checksums and (content is None or hashlib.sha256(content).hexdigest() != checksums[name]):
            raise ModelError(f"{directory}/{name} does not match the checksum in meta.json: truncated or altered")


def model_files(directory: str | Path) -> dict[str, bytes]:
    """The files of one model version (with any compiled-trees cache), to ship to machines without the folder."""
    directory = _resolve(Path(directory))
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())
            if p.is_file() and (p.name in (*_FILES, "employer.txt")
                                or (p.name.startswith("trees-") and p.suffix == ".o"))}
