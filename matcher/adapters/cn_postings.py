"""Real Chinese job postings (Zhaopin 智联招聘, Lagou 拉勾 crawls in shared/data/cn_job_postings) → FORMAT.md jobs.

Five formats, told apart by their columns, one `_SPECS` row each: Zhaopin list cards (2024, header `0..7`), Zhaopin
detail pages (2019 csv, 2020 Beijing jsonl), Lagou 2019 (lat/lon) and the Lagou 2017 "数据分析师" set. Each is renamed
to one set of columns (`_CANON`) and converted by the same code:

- job_id "zhaopin:<id in the url>", "lagou:<positionId>", "lagou-row:<sha1 of the row>" (Lagou 2019 has no id).
  Dropped, in order: exact duplicate rows, rows with neither title nor employer, repeats of an id (first kept),
  ids already imported from an earlier file of a folder (files with descriptions come first).
- salary_min/max: `features.parsing.parse_salaries`, CNY/month ("/天" × 21.75 working days, "/小时" × 8 × 21.75,
  "/年" ÷ 12); "·13薪" → extra column salary_months. experience: `parse_experience_years`; education_min: the
  label ("不限" → "学历不限").
- city: the district's GB/T 2260 code where `Gazetteer.districts` finds it in the city ("上海·虹口·北外滩",
  "北京-海淀区", the jsonl street address, Lagou `district`), else the city's, else the name as written ("全国" →
  empty). lat/lon: Lagou's own (a swapped pair repaired; not believed over 100 km from the district or city), else
  the district's, else the city's.
- skills: card tags less company type, size and the industry ending them (an industry = a last tag that follows a
  type or size somewhere in the file), Lagou labels, jsonl job_skills. employer_id: "emp:" + sha1 of the NFKC,
  whitespace-collapsed name. text: description, highlights, welfare, business zone, street address.
- occupation: Lagou's most specific type; where a posting has none (every Zhaopin file), the 职业分类大典 (2022)
  code and name its title maps to ("2-02-10-03 计算机软件工程技术人员", `features.occupations`; see `_occupations`).
  occupation_code / occupation_name: that code and name for every job whose title maps to one, labelled or not.
  job_type: Lagou jobNature (全职, 实习 internship, 兼职 part_time), else 实习/兼职 in the title, else full_time.
  posted_at: jsonl crawltime (China time), else 1 January of the file name's year (Lagou 2017 per its SOURCE.md).
  headcount: jsonl plan.
- Extra columns: source, employer_name, company_type, company_size, salary_months, occupation_code,
  occupation_name. `ImportSummary` counts every dropped row and unknown field by reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from features.geo import haversine_km, load_gazetteer
from features.occupations import OccupationCoder
from features.parsing import parse_educations, parse_experience_years, parse_salaries, parse_salary_months
from matcher.data import MAX_HEADCOUNT, Dataset, load_folder, write_folder
from matcher.errors import DataValidationError
from matcher.schema import EVENT_COLUMNS, SEEKER_COLUMNS

__all__ = ["ImportSummary", "convert_cn_postings", "read_cn_postings"]

_CANON = ("key", "title", "employer", "salary", "experience", "education", "city", "district", "address", "zone",
          "skills", "company_type", "company_size", "industry", "occupation", "nature", "lat", "lon", "headcount",
          "crawled", "description", "highlights", "welfare")
_COMPANY_TYPES = frozenset({"民营", "国企", "央企", "事业单位", "外资", "外企", "外商独资", "合资", "股份制企业",
                            "上市公司", "港澳台公司", "社会团体", "学校/下级学院", "国家机关", "政府机关", "银行",
                            "医院", "代表处", "律师事务所", "非营利组织", "其它", "其他"})
_SIZE = re.compile(r"\d+(?:-\d+)?人(?:以上|以下)?|少于\d+人")
_JOB_NATURES = {"全职": "full_time", "实习": "internship", "兼职": "part_time"}
_CHINA_TIME = "Asia/Shanghai"
_PROSE = frozenset({"description", "address"})
_FAR_KM = 100.0  # own coordinates farther than this from the district's (or city's) point are not believed


@dataclass(frozen=True)
class _Spec:
    label: str                       # summary label and the `source` column
    board: str                       # job_id prefix
    signature: tuple[str, ...]       # columns that identify the format; all are required
    year: int                        # posted_at where neither a crawl time nor a year in the file name is known
    columns: Mapping[str, str]       # _CANON name → source column, copied as it is
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # → columns of "['a', 'b']" / "a\nb"
    occupation: tuple[str, ...] = ()  # most specific first
    place: tuple[str, str] | None = None   # (column, separator) of "city<sep>district[<sep>zone]"
    card_tags: str | None = None     # Zhaopin card field 3: skills|…|company type|size|industry


_LAGOU = {"title": "positionName", "salary": "salary", "experience": "workYear", "education": "education",
          "city": "city", "employer": "companyFullName", "company_size": "companySize",
          "industry": "industryField", "highlights": "positionAdvantage"}
_SPECS: tuple[_Spec, ...] = (
    _Spec("zhilian_detail_2019", "zhaopin", ("title", "salary", "address", "work_experience", "requirements", "url"),
          2019, {"title": "title", "salary": "salary", "city": "address", "experience": "work_experience",
                 "education": "education", "employer": "company", "description": "requirements", "key": "url"},
          lists={"welfare": ("keyword",)}),  # `keyword` is the welfare list (or 无); `welfare` is at times a copy
    _Spec("zhilian_beijing_2020", "zhaopin", ("jobname", "jobarea", "joburl", "job_detail"), 2020,
          {"title": "jobname", "salary": "salary", "employer": "name", "company_size": "size",
           "company_type": "type", "education": "eduLevel", "experience": "workingExp", "description": "job_detail",
           "address": "job_address", "headcount": "plan", "key": "joburl", "crawled": "crawltime"},
          lists={"skills": ("job_skills",), "highlights": ("job_highlights",)}, place=("jobarea", "-")),
    _Spec("zhilian_cards_2024", "zhaopin", tuple("01234567"), 2024,
          {"title": "0", "employer": "1", "salary": "2", "experience": "5", "education": "6", "key": "7"},
          place=("4", "·"), card_tags="3"),
    _Spec("lagou_analyst_2017", "lagou", ("positionId", "positionName", "city", "companyFullName"), 2017,
          {**_LAGOU, "key": "positionId"},
          lists={"skills": ("positionLables",), "welfare": ("companyLabelList",), "zone": ("businessZones",)},
          occupation=("secondType", "firstType")),
    _Spec("lagou_lonlat_2019", "lagou-row", ("positionName", "city", "district", "latitude", "longitude"), 2019,
          {**_LAGOU, "district": "district", "nature": "jobNature", "lat": "latitude", "lon": "longitude"},
          lists={"skills": ("skillLables", "positionLables"), "welfare": ("companyLabelList",),
                 "zone": ("businessZones",)}, occupation=("thirdType", "secondType", "firstType")),
)


@dataclass
class ImportSummary:
    """What one file gave: rows read and kept, rows dropped and fields left unknown, each by reason."""

    file: str
    source: str
    rows: int
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    parsed: dict[str, float] = field(default_factory=dict)   # share of kept rows with the field known
    counts: Counter[str] = field(default_factory=Counter)    # unparsed / fallback cases by reason
    unresolved_places: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        drops = ", ".join(f"{n:,} {why}" for why, n in self.dropped.items() if n) or "none dropped"
        rates = ", ".join(f"{name} {share:.1%}" for name, share in self.parsed.items())
        notes = "; ".join(f"{why}: {n:,}" for why, n in sorted(self.counts.items()) if n)
        places = ", ".join(f"{p} ({n})" for p, n in self.unresolved_places.most_common(12))
        return (f"{self.source} ({self.file}): {self.rows:,} rows, {self.kept:,} kept ({drops}); parsed: {rates}"
                + (f"\n    {notes}" if notes else "") + (f"\n    places not resolved: {places}" if places else ""))


def _clean(text: pd.Series) -> pd.Series:
    """NFKC, whitespace runs → one space, stripped: card names are padded with spaces."""
    return text.fillna("").astype(str).str.normalize("NFKC").str.replace(r"\s+", " ", regex=True).str.strip()


def _stable_id(prefix: str, values: pd.Series) -> pd.Series:
    ids = {v: f"{prefix}{hashlib.sha1(v.encode()).hexdigest()[:16]}" for v in values.unique()}
    return values.map(ids).where(values.ne(""), "")


def _list_items(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """Items of "['a', 'b']" or "a\\nb" cells over `columns`, one row each (index = the row's), deduplicated."""
    cells = pd.concat([frame[c] for c in columns])
    items = cells.str.replace(r"^\s*\[|\]\s*$", "", regex=True).str.split(r"""['"]\s*,\s*['"]|\n""", regex=True)
    items = _clean(items.explode().str.strip("'\" ")).str.replace("|", "/", regex=False)
    items = items[items.ne("") & items.ne("无")]
    return items[~pd.MultiIndex.from_arrays([items.index, items]).duplicated()]


def _joined(items: pd.Series, index: pd.Index, sep: str) -> pd.Series:
    return items.groupby(level=0, sort=False).agg(sep.join).reindex(index, fill_value="")


def _card_tags(tags: pd.Series) -> pd.DataFrame:
    """"Java|民营|20-99人|计算机软件" → skills, company type, size and industry (the item after type or size)."""
    items = _clean(tags.str.split("|").explode())
    position = items.groupby(level=0).cumcount()
    last = position.eq(items.groupby(level=0).transform("size") - 1)
    is_type, is_size = items.isin(_COMPANY_TYPES), items.str.fullmatch(_SIZE.pattern)
    after = (is_type | is_size).groupby(level=0).shift(1, fill_value=False).astype(bool)
    known = set(items[last & after])  # industries named after a type or size in this file
    is_industry = last & (after | items.isin(known)) & ~is_type & ~is_size
    skills = items[~(is_type | is_size | is_industry) & items.ne("")]
    first = {n: items[m].groupby(level=0).first().reindex(tags.index, fill_value="")
             for n, m in (("company_type", is_type), ("company_size", is_size), ("industry", is_industry))}
    return pd.DataFrame({"skills": _joined(skills, tags.index, "|"), **first})


def _canonical(raw: pd.DataFrame, spec: _Spec) -> pd.DataFrame:
    """The raw rows in `_CANON` columns (all text, "" = unknown)."""
    out = pd.DataFrame({name: raw[col] for name, col in spec.columns.items()}, index=raw.index)
    for name, columns in spec.lists.items():
        out[name] = _joined(_list_items(raw, columns), raw.index, "|" if name == "skills" else "、")
    for column in spec.occupation[::-1]:  # the most specific non-empty type wins
        out["occupation"] = raw[column].where(raw[column].str.strip().ne(""), out.get("occupation", ""))
    if spec.place:
        parts = raw[spec.place[0]].str.split(spec.place[1], n=2, expand=True)
        out[["city", "district", "zone"]] = parts.reindex(columns=range(3), fill_value="").fillna("").to_numpy()
    if spec.card_tags:
        out[["skills", "company_type", "company_size", "industry"]] = _card_tags(raw[spec.card_tags]).to_numpy()
    for name in _CANON:
        out[name] = (_clean if name not in _PROSE else _prose)(out[name]) if name in out else ""
    out["description"] = out["description"].str.replace(r"^(?:(?:职位描述|职位信息)\s*)+", "", regex=True)
    return out[list(_CANON)]


def _prose(text: pd.Series) -> pd.Series:
    """Descriptions keep their lines (spaces inside a line collapsed, blank lines dropped) and characters."""
    text = text.fillna("").astype(str).str.replace(r"[^\S\n]+", " ", regex=True).str.replace(r" ?\n[\s]*", "\n",
                                                                                               regex=True)
    return text.str.strip()


def _places(rows: pd.DataFrame, summary: ImportSummary) -> pd.DataFrame:
    """city (the district's code where it resolves, else the city's, else the name), lat, lon."""
    gaz = load_gazetteer()
    alone = gaz.resolve(rows["city"])
    province = pd.isna(alone.city_key) & pd.notna(alone.region_key)  # "吉林·船营": the district names 吉林市
    inside = gaz.resolve((rows["city"] + "·" + rows["district"]).where(province, ""))
    city_key = pd.Series(np.where(province & (inside.region_key == alone.region_key), inside.city_key,
                                  alone.city_key), index=rows.index, dtype=object)
    is_city = city_key.fillna("").str.fullmatch(r"cn:\d{6}")
    in_field, on_street = (pd.Series(gaz.districts(city_key, rows[c]).code, index=rows.index)
                           for c in ("district", "address"))  # "海淀", "管城回族区"; else the street address's
    stated = rows["district"].ne("")
    county = in_field.where(stated).fillna(on_street)
    code = county.fillna(city_key.where(is_city).str[3:]).fillna("")
    known = gaz.resolve(code)
    lat, lon = pd.to_numeric(rows["lat"], errors="coerce"), pd.to_numeric(rows["lon"], errors="coerce")
    swapped = lat.gt(70) & lon.lt(60)  # China lies at lat 3-54, lon 73-136: the pair was written the wrong way
    lat, lon = lat.where(~swapped, lon), lon.where(~swapped, lat)
    valid = lat.between(-90, 90) & lon.between(-180, 180)
    # A Beijing posting at Shanghai's coordinates: the district's (or city's) point is nearer the truth.
    far = valid & (haversine_km(lat.to_numpy(), lon.to_numpy(), known.lat, known.lon) > _FAR_KM)
    own = valid & ~far
    named = rows["city"].ne("") & rows["city"].ne("全国")
    summary.unresolved_places.update(rows.loc[named & ~is_city, "city"].to_list())
    summary.counts.update({
        "city not resolved (name kept)": int((named & ~is_city).sum()),
        "city 全国 (nationwide: left empty)": int(rows["city"].eq("全国").sum()),
        "city missing": int(rows["city"].eq("").sum()),
        "district resolved": int(county.notna().sum()),
        "district read from the street address": int((county.notna() & ~stated).sum()),
        "district given, not resolved (city point; name in text)": int((county.isna() & is_city & stated).sum()),
        "no district (city point)": int((county.isna() & is_city & ~stated).sum()),
        "own lat/lon swapped back": int((swapped & own).sum()),
        f"own lat/lon over {_FAR_KM:.0f} km from the district/city (district/city used)": int(far.sum()),
    })
    if rows["lat"].ne("").any() or rows["lon"].ne("").any():
        summary.counts["own lat/lon missing or invalid (district/city used)"] = int((~valid).sum())
    return pd.DataFrame({"city": code.where(code.ne(""), rows["city"].where(named, "")),
                         "lat": lat.where(own, known.lat), "lon": lon.where(own, known.lon),
                         "resolved": is_city, "place": rows["district"].where(county.isna(), "")})


def _salaries(text: pd.Series, summary: ImportSummary) -> dict[str, np.ndarray]:
    low, high = parse_salaries(text)
    raw_low, raw_high = parse_salaries(text, plausible=None)
    known = np.isfinite(low) | np.isfinite(high)
    negotiable = text.str.contains("面议").to_numpy()
    implausible = ~known & (np.isfinite(raw_low) | np.isfinite(raw_high))
    summary.counts.update({
        "salary 面议 (negotiable: empty)": int(negotiable.sum()),
        "salary missing": int(text.eq("").sum()),
        "salary implausible (outside 500-500,000/month: empty)": int(implausible.sum()),
        "salary piece rate 元/次 (empty)": int((~known & text.str.contains("/次").to_numpy()).sum()),
        "salary not parsed": int((~known & ~negotiable & ~implausible & text.ne("").to_numpy()
                                  & ~text.str.contains("/次").to_numpy()).sum()),
        "salary one bound only (以上/以下)": int((np.isfinite(low) ^ np.isfinite(high)).sum()),
        "salary per day/hour converted": int((known & text.str.contains("天|日|小时|时薪").to_numpy()).sum()),
        "salary ·N薪 months stated": int(np.isfinite(months := parse_salary_months(text)).sum()),
    })
    return {"salary_min": low, "salary_max": high, "salary_months": months, "salary_known": known}


@lru_cache(maxsize=1)
def _coder() -> OccupationCoder:
    return OccupationCoder().fit()


def _occupations(rows: pd.DataFrame, summary: ImportSummary) -> pd.DataFrame:
    """occupation, occupation_code, occupation_name from the title's 职业分类大典 (2022) code (`features.occupations`).

    A posting's own label stays its occupation: the market view and explain's local salary medians key on the
    label as written, and seekers write the board's vocabulary ("数据分析"), not the standard's; appending the
    standard name would split one label's cell in two and break that match. A posting without a label gets
    "<code> <name>" — FORMAT.md's "职业分类大典 code or label", readable by a person and read back as the code by the
    coder — so that the market counts it under a standard occupation instead of leaving it unplaced, and the
    catalogue's title text (title + occupation) carries the standard name as well. The code and name also go to
    occupation_code / occupation_name for every coded job, labelled or not (extra columns, ignored by the engine).
    Accuracy on judged real titles: benchmarks/results/cn_occupations.md."""
    found = _coder().predict(rows["title"]).set_axis(rows.index)
    coded, own = found["code"].ne(""), rows["occupation"].ne("")
    standard = (found["code"] + " " + found["name"]).where(coded, "")
    summary.counts.update({
        "occupation coded from the title (职业分类大典 2022)": int(coded.sum()),
        "occupation empty: the title's 大典 code written": int((coded & ~own).sum()),
        "occupation empty, title not coded (left empty)": int((~coded & ~own).sum()),
    })
    return pd.DataFrame({"occupation": rows["occupation"].where(own, standard), "occupation_code": found["code"],
                         "occupation_name": found["name"]}, index=rows.index)


def _job_type(rows: pd.DataFrame, summary: ImportSummary) -> pd.Series:
    by_title = np.select([rows["title"].str.contains("实习"), rows["title"].str.contains("兼职")],
                         ["internship", "part_time"], "full_time")
    nature = rows["nature"].map(_JOB_NATURES)
    summary.counts["job nature not recognised (title used)"] = int((nature.isna() & rows["nature"].ne("")).sum())
    summary.counts["job_type from the title (实习/兼职)"] = int((nature.isna() & (by_title != "full_time")).sum())
    return nature.fillna(pd.Series(by_title, index=rows.index))


def _posted_at(rows: pd.DataFrame, spec: _Spec, path: Path, summary: ImportSummary) -> pd.Series:
    crawled = pd.to_datetime(rows["crawled"], format="%a %b %d %H:%M:%S %Y", errors="coerce")
    crawled = crawled.dt.tz_localize(_CHINA_TIME).dt.tz_convert("UTC")
    year = re.search(r"(?<!\d)(20\d\d)(?!\d)", path.name)
    default = pd.Timestamp(f"{int(year[1]) if year else spec.year}-01-01", tz="UTC")
    summary.counts["crawl time not parsed (year used)"] = int((crawled.isna() & rows["crawled"].ne("")).sum())
    summary.counts[f"posted_at = {default:%Y-%m-%d} (no crawl time)"] = int(crawled.isna().sum())
    return crawled.fillna(default)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataValidationError(path.name, None, None, f"file not found in {path.parent}")
    lines = path.suffix in (".jsonl", ".json")
    try:
        if lines:
            frame = pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
            return frame.fillna("").astype(str)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataValidationError(path.name, None, None, f"not UTF-8 ({exc.reason})") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(path.name, None, None, "empty file: expected a header row") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        bad = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines() if lines else [], start=1):
            try:
                json.loads(line or "{}")
            except ValueError:
                bad = number
                break
        raise DataValidationError(path.name, bad, None, f"not valid {'JSON lines' if lines else 'CSV'}: {exc}") from exc


def _detect(raw: pd.DataFrame, file: str) -> _Spec:
    columns = set(raw.columns.astype(str))
    for spec in _SPECS:
        if set(spec.signature) <= columns:
            used = [*spec.columns.values(), *(c for cs in spec.lists.values() for c in cs), *spec.occupation,
                    *([spec.place[0]] if spec.place else []), *([spec.card_tags] if spec.card_tags else [])]
            for column in used:
                if column not in columns:
                    raise DataValidationError(file, 1, column, f"column of the {spec.label} format is missing")
            return spec
    raise DataValidationError(file, 1, None, "not a known posting format: expected the columns of one of "
                              + "; ".join(f"{s.label} ({', '.join(s.signature)})" for s in _SPECS))


def _job_ids(raw: pd.DataFrame, spec: _Spec) -> pd.Series:
    """The board's id ("zhaopin:CC…J…" from the url, "lagou:<positionId>"), else a hash of the raw row."""
    key = raw[spec.columns["key"]].str.strip() if "key" in spec.columns else pd.Series("", index=raw.index)
    key = key.str.extract(r"/(\w+)\.htm", expand=False).fillna(key) if spec.board == "zhaopin" else key
    usable = key.ne("") & key.str.len().le(200)
    ids = (f"{spec.board}:" + key).where(usable, "")
    if not usable.all():
        rest = raw.loc[~usable].astype(str)
        content = rest.iloc[:, 0].str.cat(rest.iloc[:, 1:], sep="\x1f")
        ids[~usable] = _stable_id(f"{spec.board}:" if "key" not in spec.columns else f"{spec.board}-row:", content)
    return ids


def _dedupe(raw: pd.DataFrame, spec: _Spec, seen: set[str], summary: ImportSummary) -> pd.DataFrame:
    exact = raw.duplicated()
    raw = raw[~exact].assign(__id=lambda frame: _job_ids(frame, spec))
    named = (raw[spec.columns["title"]].str.strip() + raw[spec.columns["employer"]].str.strip()).ne("")
    repeat = raw["__id"].duplicated() & named
    again = raw["__id"].isin(seen) & named & ~repeat
    summary.dropped.update({"exact duplicate rows": int(exact.sum()), "no title and no employer": int((~named).sum()),
                            "repeated id (first row kept)": int(repeat.sum()),
                            "already imported from another file": int(again.sum())})
    return raw[named & ~repeat & ~again]


def _convert(raw: pd.DataFrame, spec: _Spec, path: Path, seen: set[str]) -> tuple[pd.DataFrame, ImportSummary]:
    summary = ImportSummary(path.name, spec.label, len(raw))
    raw = _dedupe(raw, spec, seen, summary)
    rows = _canonical(raw, spec)
    places, pay, occupations = _places(rows, summary), _salaries(rows["salary"], summary), _occupations(rows, summary)
    experience = parse_experience_years(rows["experience"]).astype(np.float64)
    level = parse_educations(rows["education"])
    education = rows["education"].replace({"不限": "学历不限"})
    headcount = pd.to_numeric(rows["headcount"], errors="coerce")
    headcount = headcount.where(headcount.between(1, MAX_HEADCOUNT) & headcount.mod(1).eq(0)).astype("Int64")
    jobs = pd.DataFrame({
        "job_id": raw["__id"], "employer_id": _stable_id("emp:", rows["employer"]), "title": rows["title"],
        "text": _text(rows, places["place"]), "skills": rows["skills"], "occupation": occupations["occupation"],
        "industry": rows["industry"], "city": places["city"], "lat": places["lat"], "lon": places["lon"],
        "education_min": education, "experience_min_years": experience, "salary_min": pay["salary_min"],
        "salary_max": pay["salary_max"], "headcount": headcount, "job_type": _job_type(rows, summary),
        "posted_at": _posted_at(rows, spec, path, summary), "source": spec.label, "employer_name": rows["employer"],
        "company_type": rows["company_type"], "company_size": rows["company_size"],
        "salary_months": pd.array(pay["salary_months"], dtype="Int64"),
        "occupation_code": occupations["occupation_code"], "occupation_name": occupations["occupation_name"],
    }).reset_index(drop=True)
    stated = rows["experience"].ne("").to_numpy()
    summary.counts.update({
        "experience not parsed": int((stated & np.isnan(experience)).sum()), "experience missing": int((~stated).sum()),
        "education not parsed": int((rows["education"].ne("") & (level == 0) & ~education.eq("学历不限")).sum()),
        "education missing": int(rows["education"].eq("").sum()),
        "headcount not parsed": int((rows["headcount"].ne("") & headcount.isna()).sum()),
        "no skill tags": int(rows["skills"].eq("").sum()), "employer missing": int(rows["employer"].eq("").sum()),
        "title missing": int(rows["title"].eq("").sum()),
    })
    summary.kept = len(jobs)
    summary.parsed = {name: float(np.mean(mask)) if len(jobs) else 0.0 for name, mask in (
        ("salary", pay["salary_known"]), ("experience", np.isfinite(experience)),
        ("education", (level > 0) | education.eq("学历不限").to_numpy()), ("city code", places["resolved"]),
        ("coordinates", jobs["lat"].notna()), ("skills", rows["skills"].ne("")))}
    seen.update(jobs["job_id"])
    return jobs, summary


def _text(rows: pd.DataFrame, place: pd.Series) -> pd.Series:
    """Description, then labelled lines: highlights, welfare, a district that did not resolve, zone, address."""
    text = rows["description"]
    parts = rows.assign(place=place)
    for label, column in (("职位亮点", "highlights"), ("福利", "welfare"), ("地点", "place"), ("商圈", "zone"),
                          ("地址", "address")):
        part = (label + "：" + parts[column]).where(parts[column].ne(""), "")
        text = text + np.where(text.ne("") & part.ne(""), "\n", "") + part
    return text


def read_cn_postings(path: str | Path) -> tuple[pd.DataFrame, ImportSummary]:
    """One posting file → (FORMAT.md job rows, its summary). The format is told by the file's columns."""
    raw = _read(Path(path))
    return _convert(raw, _detect(raw, Path(path).name), Path(path), set())


def convert_cn_postings(src: str | Path, out: str | Path) -> tuple[Dataset, list[ImportSummary]]:
    """A posting file, or a folder of them (each .csv / .jsonl must be of a known format), → out/jobs.csv with
    empty seekers.csv and events.csv. Returns the folder as `load_folder` reads it back and one summary per file."""
    src = Path(src)
    paths = sorted(p for p in src.iterdir() if p.suffix in (".csv", ".jsonl", ".json")) if src.is_dir() else [src]
    if not paths:
        raise DataValidationError(src.name, None, None, "no .csv or .jsonl posting files in this folder")
    loaded = [(raw, _detect(raw, path.name), path) for path, raw in ((path, _read(path)) for path in paths)]
    loaded.sort(key=lambda part: _SPECS.index(part[1]))  # files with descriptions first: they keep a repeat
    seen: set[str] = set()
    parts = [_convert(raw, spec, path, seen) for raw, spec, path in loaded]
    jobs = pd.concat([jobs for jobs, _ in parts], ignore_index=True)
    seekers = pd.DataFrame({name: pd.Series(dtype=str) for name in SEEKER_COLUMNS})
    events = pd.DataFrame({name: pd.Series(dtype=str) for name in EVENT_COLUMNS})
    write_folder(Dataset(seekers=seekers, jobs=jobs, events=events), out)
    return load_folder(out), [summary for _, summary in parts]
