"""The vocabulary flattened for vectorized draws (global skill ids, per-occupation weights, ragged string lists),
and the skill and duty draws and renderings that seekers and jobs share."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from .families import _ANY_INDUSTRY_WEIGHTS, _FAMILY_SPECS, _GENERIC_SKILLS, _INDUSTRIES, _t
from .occupations import _CORE, _CORE_DUTY_P, _CORE_SKILL_BOOST
from .vectorized import _cat, _normalised, _Ragged, _take, _when

_VERBS = _t("熟悉 掌握 熟练使用 能够熟练运用")
_CN_NUM = ("", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十")


@dataclass(frozen=True)
class _Vocab:
    """Every string fragment, flattened once per process."""

    skills: tuple[str, ...]          # global skill vocabulary (bit i of a skill mask)
    family_skills: np.ndarray        # (n_families, max_skills) global skill id, -1 padding
    family_skill_n: np.ndarray
    skill_plain: pa.Array            # global id -> name; id n = ""
    skill_pipe: pa.Array             # global id -> "|name"; id n = ""
    skill_sep: pa.Array              # global id -> "、name"; id n = ""
    is_cert: np.ndarray              # global id -> a licence or certificate ("持有X", not "熟悉X")?
    titles: _Ragged                  # per occupation
    occupation_names: pa.Array
    occupation_pipe: pa.Array
    occ_edu: np.ndarray
    occ_salary: np.ndarray
    family_occ: _Ragged              # per family: occupation ids as strings (only counts/offsets used)
    duties: _Ragged
    occ_skill_weight: np.ndarray     # (n_occupations, max_skills) sampling weight of each family skill
    occ_duty_local: np.ndarray       # every occupation's core duties, as local indices into its family's
    occ_duty_offsets: np.ndarray     # occupation o owns occ_duty_local[offsets[o]: offsets[o] + counts[o]]
    occ_duty_counts: np.ndarray
    companies: _Ragged
    majors: _Ragged
    work: pa.Array
    industry_probs: np.ndarray       # (n_families, n_industries)
    any_industry: np.ndarray         # (n_families,) bool
    job_type_probs: np.ndarray
    headcount_p: np.ndarray
    female: np.ndarray
    seeker_p: np.ndarray
    job_p: np.ndarray

    @property
    def words(self) -> int:
        return (len(self.skills) + 63) // 64


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    skills: dict[str, int] = {}
    for fam in _FAMILY_SPECS:
        for s in fam.skills:
            skills.setdefault(s, len(skills))
    for s in _GENERIC_SKILLS:
        skills.setdefault(s, len(skills))
    names = tuple(skills)
    width = max(len(f.skills) for f in _FAMILY_SPECS)
    family_skills = np.full((len(_FAMILY_SPECS), width), -1, dtype=np.int64)
    for i, fam in enumerate(_FAMILY_SPECS):
        family_skills[i, : len(fam.skills)] = [skills[s] for s in fam.skills]
    industry_probs = np.zeros((len(_FAMILY_SPECS), len(_INDUSTRIES)))
    for i, fam in enumerate(_FAMILY_SPECS):
        if fam.industries:
            for name, w in fam.industries:
                industry_probs[i, _INDUSTRIES.index(name)] = w
        else:
            industry_probs[i] = _ANY_INDUSTRY_WEIGHTS
    occs = [o for f in _FAMILY_SPECS for o in f.occupations]
    occ_skill_weight = np.zeros((len(occs), width))
    duty_local: list[int] = []
    duty_n: list[int] = []
    row = 0
    for fam in _FAMILY_SPECS:
        base = 1.0 / (1.0 + 0.15 * np.arange(len(fam.skills)))
        for occ in fam.occupations:
            skills_text, duties_text = _CORE[occ.name].split("|")
            core_skills, core_duties = skills_text.split(), duties_text.split()
            unknown = [x for x in core_skills if x not in fam.skills]
            unknown += [x for x in core_duties if x not in fam.duties]
            if unknown:
                raise ValueError(f"{occ.name}: core items not in family {fam.label}: {unknown}")
            boost = np.array([_CORE_SKILL_BOOST if x in core_skills else 1.0 for x in fam.skills])
            occ_skill_weight[row, : len(fam.skills)] = base * boost
            duty_local.extend(fam.duties.index(x) for x in core_duties)
            duty_n.append(len(core_duties))
            row += 1
    return _Vocab(
        skills=names, family_skills=family_skills,
        family_skill_n=np.array([len(f.skills) for f in _FAMILY_SPECS], dtype=np.int64),
        skill_plain=pa.array([*names, ""], pa.string()),
        skill_pipe=pa.array([*("|" + s for s in names), ""], pa.string()),
        skill_sep=pa.array([*("、" + s for s in names), ""], pa.string()),
        is_cert=np.array([*(_is_cert(s) for s in names), False]),
        titles=_Ragged.of([o.titles for o in occs]),
        occupation_names=pa.array([o.name for o in occs], pa.string()),
        occupation_pipe=pa.array([*("|" + o.name for o in occs), ""], pa.string()),
        occ_edu=np.array([o.edu for o in occs], dtype=np.int64),
        occ_salary=np.array([o.salary for o in occs], dtype=np.float64),
        family_occ=_Ragged.of([[o.name for o in f.occupations] for f in _FAMILY_SPECS]),
        duties=_Ragged.of([f.duties for f in _FAMILY_SPECS]),
        occ_skill_weight=occ_skill_weight,
        occ_duty_local=np.asarray(duty_local, dtype=np.int64),
        occ_duty_offsets=np.concatenate([[0], np.cumsum(duty_n)[:-1]]).astype(np.int64),
        occ_duty_counts=np.asarray(duty_n, dtype=np.int64),
        companies=_Ragged.of([f.companies for f in _FAMILY_SPECS]),
        majors=_Ragged.of([f.majors for f in _FAMILY_SPECS]),
        work=pa.array([f.work for f in _FAMILY_SPECS], pa.string()),
        industry_probs=industry_probs,
        any_industry=np.array([not f.industries for f in _FAMILY_SPECS]),
        job_type_probs=np.array([f.job_types for f in _FAMILY_SPECS], dtype=np.float64),
        headcount_p=np.array([f.headcount_p for f in _FAMILY_SPECS]),
        female=np.array([f.female for f in _FAMILY_SPECS]),
        seeker_p=_normalised([f.seeker_weight for f in _FAMILY_SPECS]),
        job_p=_normalised([f.job_weight for f in _FAMILY_SPECS]),
    )


def _is_cert(skill: str) -> bool:
    return any(w in skill for w in ("证", "资格", "职称", "建造师", "HCIA"))



def _draw_skills(rng: np.random.Generator, voc: _Vocab, family: np.ndarray, occ: np.ndarray, k: np.ndarray,
                 width: int) -> np.ndarray:
    """(n, width) global skill ids: k[i] distinct skills of family[i], the occupation's core ones and
    earlier-listed ones likelier; -1 pads.

    Efraimidis-Spirakis: the k smallest Exp(1)/weight keys are a weighted sample without replacement."""
    n_max = voc.family_skills.shape[1]
    weight = voc.occ_skill_weight[occ].astype(np.float32)
    with np.errstate(divide="ignore"):
        keys = rng.standard_exponential((len(family), n_max), dtype=np.float32) / weight
    keys[np.arange(n_max)[None, :] >= voc.family_skill_n[family][:, None]] = np.inf
    order = np.argsort(keys, axis=1)[:, :width]
    ids = np.take_along_axis(voc.family_skills[family], order, axis=1)
    ids[np.arange(width)[None, :] >= k[:, None]] = -1
    return ids


def _duties(rng: np.random.Generator, voc: _Vocab, family: np.ndarray,
            occ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two different duties (local indices into the family's list): mostly the occupation's own."""
    n_core, start = voc.occ_duty_counts[occ], voc.occ_duty_offsets[occ]
    first_pos = (rng.random(len(occ)) * n_core).astype(np.int64)
    first = np.where(rng.random(len(occ)) < _CORE_DUTY_P, voc.occ_duty_local[start + first_pos],
                     voc.duties.pick(rng, family))
    second_core = voc.occ_duty_local[start + (first_pos + 1) % n_core]
    second = np.where((n_core >= 2) & (rng.random(len(occ)) < 0.7), second_core,
                      voc.duties.other(rng, family, first))
    second = np.where(second == first, voc.duties.other(rng, family, first), second)
    return first, second


def _skill_masks(ids: np.ndarray, words: int) -> np.ndarray:
    """(n, slots) skill ids (-1 = none) -> (n, words) uint64 bit sets."""
    masks = np.zeros((ids.shape[0], words), dtype=np.uint64)
    for j in range(ids.shape[1]):
        col = ids[:, j]
        ok = col >= 0
        rows = np.flatnonzero(ok)
        bits = np.left_shift(np.uint64(1), (col[ok] % 64).astype(np.uint64))
        np.bitwise_or.at(masks, (rows, col[ok] // 64), bits)
    return masks


def _join_skills(voc: _Vocab, ids: np.ndarray) -> pa.Array:
    """(n, slots) skill ids -> '|'-joined names; slot 0 must be present whenever any slot is."""
    n_vocab = len(voc.skills)
    cols = np.where(ids < 0, n_vocab, ids)
    rest = (_take(voc.skill_pipe, cols[:, j]) for j in range(1, ids.shape[1]))
    return _cat(_take(voc.skill_plain, cols[:, 0]), *rest)


def _skill_phrase(rng: np.random.Generator, voc: _Vocab, ids: np.ndarray, named: int,
                  cert_tail: str) -> pa.Array:
    """'熟悉A、B，持有C<cert_tail>' from each row's skills: up to `named` ordinary skills, then the first
    certificate; a row with certificates only gets '持有C<cert_tail>'."""
    n_vocab = len(voc.skills)
    cols = np.where(ids < 0, n_vocab, ids)
    kind = np.where(ids < 0, 2, voc.is_cert[cols].astype(np.int64))     # 0 ordinary, 1 certificate, 2 none
    order = np.argsort(kind, axis=1, kind="stable")
    cols, kind = np.take_along_axis(cols, order, axis=1), np.take_along_axis(kind, order, axis=1)
    ordinary = np.where(kind == 0, cols, n_vocab)
    verb = _take(pa.array(_VERBS, pa.string()), rng.integers(0, len(_VERBS), len(ids)))
    listed = _cat(verb, _take(voc.skill_plain, ordinary[:, 0]),
                  *(_take(voc.skill_sep, ordinary[:, j]) for j in range(1, named)))
    has_cert = (kind == 1).any(axis=1)
    cert = cols[np.arange(len(ids)), np.argmax(kind == 1, axis=1)]
    cert_text = _cat("持有", _take(voc.skill_plain, cert), cert_tail)
    with_cert = _when(has_cert, _cat(listed, "，", cert_text), listed)
    return _when(kind[:, 0] == 0, with_cert, _when(has_cert, cert_text, ""))

