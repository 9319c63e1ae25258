"""Static per-seeker and per-job arrays (embeddings, places, parsed requirements), computed once per dataset.

Everything here depends only on the profiles, never on events, so one Catalogue serves every time snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.geo import load_gazetteer
from features.parsing import parse_educations
from features.text import TextEncoder

__all__ = ["Catalogue", "SideArrays", "build_catalogue", "split_list"]


def split_list(column: pd.Series) -> pd.Series:
    """FORMAT.md list cell → list of normalised (lower-case, stripped) non-empty items."""
    return column.fillna("").astype(str).str.lower().str.split("|").map(
        lambda items: [i.strip() for i in items if i.strip()])


@dataclass
class SideArrays:
    """Arrays for one side (seekers or jobs), row i = row i of the source frame."""

    text_emb: np.ndarray        # (n, d) float32, zero row = no text
    aux_emb: np.ndarray         # seekers: desired occupations; jobs: title. (n, d) float32
    has_text: np.ndarray        # (n,) bool
    has_aux: np.ndarray         # (n,) bool
    city: np.ndarray            # (n,) int32 code into Catalogue.city_keys, -1 unknown
    region: np.ndarray          # (n,) int32 code into Catalogue.region_keys, -1 unknown
    lat: np.ndarray             # (n,) float64, NaN unknown
    lon: np.ndarray
    salary_min: np.ndarray      # (n,) float64
    salary_max: np.ndarray
    education: np.ndarray       # (n,) float32 ordinal level, NaN unknown
    experience: np.ndarray      # (n,) float32 years (seeker) or minimum years (job)
    skills: sp.csr_matrix       # (n, n_skills) binary float32
    n_skills: np.ndarray        # (n,) float32


@dataclass
class Catalogue:
    seekers: SideArrays
    jobs: SideArrays
    city_keys: np.ndarray
    region_keys: np.ndarray
    employer: np.ndarray             # (n_jobs,) int32 employer code, -1 unknown
    desired_city_pairs: np.ndarray   # sorted int64 keys seeker * n_cities + city
    job_posted_ns: np.ndarray        # (n_jobs,) int64 ns since epoch, min int64 when unknown
    job_expires_ns: np.ndarray       # (n_jobs,) int64, max int64 when unknown


def _codes(keys: np.ndarray, vocabulary: pd.Index) -> np.ndarray:
    return vocabulary.get_indexer(pd.Index(pd.Series(keys, dtype=object).where(pd.notna(keys), None))).astype(np.int32)


def _skill_matrix(lists: pd.Series, vocabulary: pd.Index) -> sp.csr_matrix:
    lengths = lists.map(len).to_numpy()
    flat = np.fromiter((s for items in lists for s in items), dtype=object, count=int(lengths.sum()))
    cols = vocabulary.get_indexer(pd.Index(flat))
    rows = np.repeat(np.arange(len(lists)), lengths)
    keep = cols >= 0
    matrix = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
                           shape=(len(lists), len(vocabulary)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _time_ns(column: pd.Series, missing: int) -> np.ndarray:
    values = column.astype("datetime64[ns, UTC]")
    out = values.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    out[values.isna().to_numpy()] = missing
    return out


def build_catalogue(seekers: pd.DataFrame, jobs: pd.DataFrame, encoder: TextEncoder) -> Catalogue:
    gaz = load_gazetteer()
    s_place = gaz.resolve(seekers["city"])
    j_place = gaz.resolve(jobs["city"])
    desired = split_list(seekers["desired_cities"])
    desired_flat = np.fromiter((c for items in desired for c in items), dtype=object,
                               count=int(desired.map(len).sum()))
    d_place = gaz.resolve(pd.Series(desired_flat, dtype=object))
    city_keys = pd.Index(pd.unique(pd.Series(np.concatenate(
        [s_place.city_key, j_place.city_key, d_place.city_key])).dropna()))
    region_keys = pd.Index(pd.unique(pd.Series(np.concatenate([s_place.region_key, j_place.region_key])).dropna()))

    s_skills, j_skills = split_list(seekers["skills"]), split_list(jobs["skills"])
    skill_vocab = pd.Index(pd.unique(pd.Series([s for items in pd.concat([s_skills, j_skills]) for s in items],
                                               dtype=object)))

    def side(frame: pd.DataFrame, place: object, aux_text: pd.Series, skills: pd.Series,
             sal: tuple[str, str], edu: str, exp: str) -> SideArrays:
        lat = frame["lat"].to_numpy(dtype=np.float64)
        lon = frame["lon"].to_numpy(dtype=np.float64)
        lat = np.where(np.isnan(lat), place.lat, lat)  # type: ignore[attr-defined]
        lon = np.where(np.isnan(lon), place.lon, lon)  # type: ignore[attr-defined]
        aux = aux_text.fillna("").astype(str).str.strip().to_numpy(dtype=object)
        text = frame["text"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
        skill_matrix = _skill_matrix(skills, skill_vocab)
        return SideArrays(
            text_emb=encoder.embed(text),
            aux_emb=encoder.embed(aux),
            has_text=text != "",
            has_aux=aux != "",
            city=_codes(place.city_key, city_keys),  # type: ignore[attr-defined]
            region=_codes(place.region_key, region_keys),  # type: ignore[attr-defined]
            lat=lat, lon=lon,
            salary_min=frame[sal[0]].to_numpy(dtype=np.float64),
            salary_max=frame[sal[1]].to_numpy(dtype=np.float64),
            education=parse_educations(frame[edu]).astype(np.float32),
            experience=frame[exp].to_numpy(dtype=np.float32),
            skills=skill_matrix,
            n_skills=np.asarray(skill_matrix.sum(axis=1), dtype=np.float32).ravel(),
        )

    seeker_side = side(seekers, s_place, seekers["desired_occupations"].str.replace("|", "; ", regex=False),
                       s_skills, ("expected_salary_min", "expected_salary_max"), "education", "experience_years")
    # "Unknown" education is level 0 in the parser; as a gap it must be NaN, not "lowest level".
    seeker_side.education[seeker_side.education <= 0] = np.nan
    title = jobs["title"].fillna("").astype(str) + " " + jobs["occupation"].fillna("").astype(str)
    job_side = side(jobs, j_place, title.str.strip(), j_skills, ("salary_min", "salary_max"),
                    "education_min", "experience_min_years")
    job_side.education[job_side.education <= 0] = 0.0  # 学历不限: every seeker meets it

    desired_codes = _codes(d_place.city_key, city_keys)
    owner = np.repeat(np.arange(len(seekers), dtype=np.int64), desired.map(len).to_numpy())
    ok = desired_codes >= 0
    desired_pairs = np.unique(owner[ok] * max(len(city_keys), 1) + desired_codes[ok])
    employers = jobs["employer_id"].fillna("").astype(str)
    employer_codes, _ = pd.factorize(employers.where(employers.ne("")))
    return Catalogue(
        seekers=seeker_side, jobs=job_side,
        city_keys=city_keys.to_numpy(dtype=object), region_keys=region_keys.to_numpy(dtype=object),
        employer=employer_codes.astype(np.int32),
        desired_city_pairs=desired_pairs,
        job_posted_ns=_time_ns(jobs["posted_at"], np.iinfo(np.int64).min),
        job_expires_ns=_time_ns(jobs["expires_at"], np.iinfo(np.int64).max),
    )
