"""Static per-seeker and per-job arrays (embeddings, places, parsed requirements), computed once per dataset.

Everything here depends only on the profiles, never on events, so one Catalogue serves every time snapshot.
Codes (cities, regions, skills, employers) come from append-only vocabularies and skills live in `SkillSets`, so
the gRPC server can add and replace rows (matcher.service.live) without re-encoding the rows it already holds.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.geo import Places, load_gazetteer
from features.parsing import parse_educations
from features.text import TextEncoder

__all__ = ["Catalogue", "SideArrays", "SPARSE_FIELDS", "SkillSets",
           "Vocab", "Vocabs", "build_catalogue", "seeker_arrays", "job_arrays",
           "split_list", "DESIRED_CITIES"]

DESIRED_CITIES = 8  # desired cities kept per seeker; platforms let a seeker pick 3-5
_NO_TIME_MIN = np.iinfo(np.int64).min
_NO_TIME_MAX = np.iinfo(np.int64).max


def split_list(column: pd.Series) -> pd.Series:
    """FORMAT.md list cell → list of normalised (lower-case, stripped) non-empty items."""
    return column.fillna("").astype(str).str.lower().str.split("|").map(
        lambda items: [i.strip() for i in items if i.strip()])


class Vocab:
    """Key → int32 code, append-only: a code, once given, means the same key for the life of the catalogue."""

    def __init__(self, keys: Iterable[Any] = ()) -> None:
        self._codes: MutableMapping[Any, int] = {}
        self.keys: list[Any] = []
        self.encode(np.asarray(list(keys), dtype=object))

    def __len__(self) -> int:
        return len(self.keys)

    def encode(self, keys: np.ndarray, *, grow: bool = True) -> np.ndarray:
        """Codes for `keys` (None / NaN → -1); unseen keys get new codes, or -1 when grow is False."""
        codes, uniques = pd.factorize(pd.Series(keys, dtype=object), sort=False)
        table = np.empty(len(uniques) + 1, dtype=np.int32)
        table[-1] = -1  # factorize marks missing values -1, which lands on this slot
        for i, key in enumerate(uniques):
            code = self._codes.get(key)
            if code is None and grow:
                code = self._codes[key] = self._add(key)
            table[i] = -1 if code is None else code
        return table[codes]

    def _add(self, key: Any) -> int:
        self.keys.append(key)
        return len(self.keys) - 1

    def scratch(self) -> Vocab:
        """A view that codes keys as this vocabulary would, unseen ones after its end, without growing it: an inline
        profile (a read) is encoded exactly as the same row stored would be, and reads never change the catalogue."""
        return _ScratchVocab(self)


class _ScratchVocab(Vocab):
    def __init__(self, base: Vocab) -> None:
        self._codes = ChainMap({}, base._codes)  # new codes land in the first map only
        self.keys = base.keys                       # read-only here: _add never appends to it
        self._extra = 0

    def __len__(self) -> int:
        return len(self.keys) + self._extra

    def _add(self, key: Any) -> int:
        self._extra += 1
        return len(self.keys) + self._extra - 1


class SkillSets:
    """Each row's skill codes as CSR rows, addressed through a row map so that rows can be replaced or appended
    (live upserts) by writing new CSR rows at the end, never by rewriting the matrix."""

    def __init__(self, matrix: sp.csr_matrix, row_of: np.ndarray | None = None) -> None:
        self.matrix = matrix
        self.row_of = row_of  # None: row i is matrix row i

    def __len__(self) -> int:
        return self.matrix.shape[0] if self.row_of is None else len(self.row_of)

    def rows(self, idx: np.ndarray) -> sp.csr_matrix:
        return self.matrix[idx if self.row_of is None else self.row_of[idx]]

    def codes(self, i: int) -> np.ndarray:
        row = i if self.row_of is None else int(self.row_of[i])
        return self.matrix.indices[self.matrix.indptr[row]:self.matrix.indptr[row + 1]]


@dataclass
class SideArrays:
    """Arrays for one side (seekers or jobs), row i = row i of the source frame."""

    text_emb: np.ndarray        # (n, d) float32, zero row = no text
    aux_emb: np.ndarray         # seekers: desired occupations; jobs: title. (n, d) float32
    has_text: np.ndarray        # (n,) bool
    has_aux: np.ndarray         # (n,) bool
    city: np.ndarray            # (n,) int32 code into Catalogue.vocabs.cities, -1 unknown
    region: np.ndarray          # (n,) int32 code into Catalogue.vocabs.regions, -1 unknown
    lat: np.ndarray             # (n,) float64, NaN unknown
    lon: np.ndarray
    salary_min: np.ndarray      # (n,) float64
    salary_max: np.ndarray
    education: np.ndarray       # (n,) float32 ordinal level, NaN unknown
    experience: np.ndarray      # (n,) float32 years (seeker) or minimum years (job)
    n_skills: np.ndarray        # (n,) float32
    skills: SkillSets
    lexical: SkillSets          # exact [char | word] TF-IDF of text + aux (TextEncoder.lexical)
    lexical_aux: SkillSets      # the same of aux alone (desired occupations / title)


SPARSE_FIELDS = ("skills", "lexical", "lexical_aux")  # the SideArrays fields held as SkillSets rows


@dataclass
class Catalogue:
    seekers: SideArrays
    jobs: SideArrays
    vocabs: Vocabs
    employer: np.ndarray             # (n_jobs,) int32 code into vocabs.employers, -1 unknown
    desired_city: np.ndarray         # (n_seekers, DESIRED_CITIES) int32 city codes, -1 padding
    job_posted_ns: np.ndarray        # (n_jobs,) int64 ns since epoch, min int64 when unknown
    job_expires_ns: np.ndarray       # (n_jobs,) int64, max int64 when unknown
    lexical_split: int = 0           # first word column of the lexical rows (TextEncoder.char_width)


@dataclass
class Vocabs:
    """The codes one catalogue uses; live rows are encoded with the same (growing) vocabularies."""

    cities: Vocab = field(default_factory=Vocab)
    regions: Vocab = field(default_factory=Vocab)
    skills: Vocab = field(default_factory=Vocab)
    employers: Vocab = field(default_factory=Vocab)

    def scratch(self) -> Vocabs:
        """The same codes, for encoding rows that are not stored (Vocab.scratch)."""
        return Vocabs(**{f.name: getattr(self, f.name).scratch() for f in fields(self)})


def _skill_matrix(lists: pd.Series, vocabulary: Vocab) -> sp.csr_matrix:
    lengths = lists.map(len).to_numpy(dtype=np.int64)  # int even for no rows
    flat = np.fromiter((s for items in lists for s in items), dtype=object, count=int(lengths.sum()))
    cols = vocabulary.encode(flat)
    rows = np.repeat(np.arange(len(lists)), lengths)
    matrix = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)),
                           shape=(len(lists), max(len(vocabulary), 1)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _time_ns(column: pd.Series, missing: int) -> np.ndarray:
    values = column.astype("datetime64[ns, UTC]")
    out = values.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    out[values.isna().to_numpy()] = missing
    return out


def _side(frame: pd.DataFrame, place: Places, aux_text: pd.Series, skills: pd.Series, sal: tuple[str, str],
          edu: str, exp: str, encoder: TextEncoder, vocabs: Vocabs) -> SideArrays:
    lat = frame["lat"].to_numpy(dtype=np.float64)
    lon = frame["lon"].to_numpy(dtype=np.float64)
    lat = np.where(np.isnan(lat), place.lat, lat)
    lon = np.where(np.isnan(lon), place.lon, lon)
    # What the encoder reads (protected attributes removed): a text of nothing but those counts as no text.
    aux, text = np.split(encoder.prepare(np.concatenate([aux_text.to_numpy(dtype=object),
                                                         frame["text"].to_numpy(dtype=object)])), 2)
    skill_matrix = _skill_matrix(skills, vocabs.skills)
    text_emb, aux_emb, lexical, lexical_aux = encoder.encode_side(text, aux)
    return SideArrays(
        text_emb=text_emb, aux_emb=aux_emb,
        has_text=text != "", has_aux=aux != "",
        city=vocabs.cities.encode(place.city_key), region=vocabs.regions.encode(place.region_key),
        lat=lat, lon=lon,
        salary_min=frame[sal[0]].to_numpy(dtype=np.float64), salary_max=frame[sal[1]].to_numpy(dtype=np.float64),
        education=parse_educations(frame[edu]).astype(np.float32),
        experience=frame[exp].to_numpy(dtype=np.float32),
        n_skills=np.asarray(skill_matrix.sum(axis=1), dtype=np.float32).ravel(),
        skills=SkillSets(skill_matrix),
        lexical=SkillSets(lexical),
        lexical_aux=SkillSets(lexical_aux),
    )


def seeker_arrays(seekers: pd.DataFrame, encoder: TextEncoder, vocabs: Vocabs) -> tuple[SideArrays, np.ndarray]:
    """Side arrays and (n, DESIRED_CITIES) desired-city codes for validated seeker rows."""
    gaz = load_gazetteer()
    side = _side(seekers, gaz.resolve(seekers["city"]),
                 seekers["desired_occupations"].str.replace("|", "; ", regex=False), split_list(seekers["skills"]),
                 ("expected_salary_min", "expected_salary_max"), "education", "experience_years", encoder, vocabs)
    # "Unknown" education is level 0 in the parser; as a gap it must be NaN, not "lowest level".
    side.education[side.education <= 0] = np.nan
    desired = split_list(seekers["desired_cities"]).map(lambda items: items[:DESIRED_CITIES])
    lengths = desired.map(len).to_numpy(dtype=np.int64)
    flat = pd.Series([c for items in desired for c in items], dtype=object)
    codes = vocabs.cities.encode(gaz.resolve(flat).city_key)
    table = np.full((len(seekers), DESIRED_CITIES), -1, dtype=np.int32)
    rows = np.repeat(np.arange(len(seekers)), lengths)
    cols = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    table[rows, cols] = codes
    return side, table


def job_arrays(jobs: pd.DataFrame, encoder: TextEncoder, vocabs: Vocabs
               ) -> tuple[SideArrays, np.ndarray, np.ndarray, np.ndarray]:
    """Side arrays, employer codes, posted and expiry times (ns) for validated job rows."""
    title = jobs["title"].fillna("").astype(str) + " " + jobs["occupation"].fillna("").astype(str)
    side = _side(jobs, load_gazetteer().resolve(jobs["city"]), title.str.strip(), split_list(jobs["skills"]),
                 ("salary_min", "salary_max"), "education_min", "experience_min_years", encoder, vocabs)
    side.education[side.education <= 0] = 0.0  # 学历不限: every seeker meets it
    names = jobs["employer_id"].fillna("").astype(str)
    employer = vocabs.employers.encode(names.where(names.ne("")).to_numpy(dtype=object))
    return (side, employer, _time_ns(jobs["posted_at"], _NO_TIME_MIN), _time_ns(jobs["expires_at"], _NO_TIME_MAX))


def build_catalogue(seekers: pd.DataFrame, jobs: pd.DataFrame, encoder: TextEncoder) -> Catalogue:
    vocabs = Vocabs()
    seeker_side, desired = seeker_arrays(seekers, encoder, vocabs)
    job_side, employer, posted, expires = job_arrays(jobs, encoder, vocabs)
    # Seekers were encoded while the skill vocabulary was still growing: widen their matrix to the final width.
    width = max(len(vocabs.skills), 1)
    for side in (seeker_side, job_side):
        side.skills.matrix.resize(side.skills.matrix.shape[0], width)
    return Catalogue(seekers=seeker_side, jobs=job_side, vocabs=vocabs, employer=employer, desired_city=desired,
                     job_posted_ns=posted, job_expires_ns=expires, lexical_split=encoder.char_width)
