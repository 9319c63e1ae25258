"""Places: admin codes, Chinese place names and "City, ST" strings → city / region keys and coordinates.

Platforms write places three ways: GB/T 2260 codes (230100, 110105), Chinese names (哈尔滨, 哈尔滨市,
黑龙江省哈尔滨市), and, on the US board we train on, "Bellingham, WA". Features need one answer per row: which city
(same-city), which region (province / state) and, where the admin-division table has them, coordinates (distance,
the "15-minute circle"). Resolution runs once per distinct string, so a column of a million repeated codes costs
a few thousand look-ups.

Keys: Chinese cities are "cn:<6-digit city code>", provinces "cn:<2 digits>"; US places "us:<city, st>" and
"us:<ST>". A string we cannot resolve keeps itself as its city key (lower-cased), so two rows that write the same
unknown place still count as the same city, and has no region.

Names: a province or prefecture-level city owns its name and its stem (西安市, 西安; 延边朝鲜族自治州, 延边); a
county's name or stem resolves on its own only where no city owns it and no other county shares it ("西安" is Xi'an,
not 辽源's 西安区; 朝阳区 is in Beijing and in Changchun, so "朝阳区" alone decides nothing and "朝阳" is 朝阳市,
Liaoning). Inside a city, `Gazetteer.districts` finds the county: "北京·朝阳", "海淀" → 110105, 110108.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["Districts", "Gazetteer", "Places", "load_gazetteer", "haversine_km", "normalise_us_city", "EARTH_RADIUS_KM"]

EARTH_RADIUS_KM = 6371.0088
_MUNICIPALITIES = {"11", "12", "31", "50"}  # 直辖市: the province is the city
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "省", "市", "盟",
             "县", "区")
# 56 ethnic groups (+ 各族): "管城回族区" → 管城, "黔东南苗族侗族自治州" → 黔东南, "伊犁哈萨克自治州" → 伊犁
_ETHNIC = ("汉|蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|"
           "拉祜|水|东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|"
           "怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各")
_STEM = re.compile(rf"^(.{{2,}}?)族?(?:(?:{_ETHNIC})族|蒙古|哈萨克|塔吉克|锡伯|柯尔克孜|鄂伦春)*(?:自治)?"
                   r"(?:新区|区|县|市|旗|自治州)$")
_SEGMENTS = re.compile(r"[\s·•・\-—_,，、/|()（）\[\]【】:：;；]+")
_US_PLACE = re.compile(r"^\s*(?P<city>[^,]+?)\s*,\s*(?P<state>[A-Za-z]{2})\s*$")
_CODE = re.compile(r"^\d{2}(\d{2}){0,2}$")


_US_ABBREVIATIONS = ((re.compile(r"^(st\.?|ste\.?)\s+"), "saint "), (re.compile(r"^ft\.?\s+"), "fort "),
                     (re.compile(r"^mt\.?\s+"), "mount "), (re.compile(r"^new york city$"), "new york"),
                     (re.compile(r"^the\s+"), ""))


def normalise_us_city(name: str) -> str:
    """"St. Louis" / "Saint Louis", "Ft Myers" / "Fort Myers", "New York City" / "New York": one spelling. (Only
    New York drops "City": Union City and Union, NJ are two towns.)"""
    text = re.sub(r"\s+", " ", name.strip().lower())
    for pattern, replacement in _US_ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True)
class _Place:
    city: str | None
    region: str | None
    lat: float
    lon: float


_UNKNOWN = _Place(None, None, np.nan, np.nan)


@dataclass
class Districts:
    """Counties found inside cities, row i = row i of the input."""

    code: np.ndarray  # object: 6-digit GB/T 2260 county code or None
    lat: np.ndarray   # float64: the county's point, else its city's; NaN where no county was found
    lon: np.ndarray


@dataclass(frozen=True)
class _CityDistricts:
    """One city's counties: by full name (longest first, for searching a text) and by unshared stem."""

    full: dict[str, tuple[str, _Place]]
    stems: dict[str, tuple[str, _Place]]
    own: frozenset[str]  # the city's own official names: "长沙市" is the city, "长沙" in a district field is 长沙县

    def find(self, text: str) -> tuple[str, _Place] | None:
        """The county named first in `text`, else a segment ("北京·朝阳": 朝阳) that is a county's stem."""
        best: tuple[int, str] | None = None
        for name in self.full:
            at = text.find(name)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, name)
        if best is not None:
            return self.full[best[1]]
        for part in _SEGMENTS.split(text):
            hit = self.stems.get(_stem(part)) if len(part) >= 2 and part not in self.own else None
            if hit is not None:
                return hit
        return None


@dataclass
class Places:
    """Resolved places for one column, row i = row i of the input."""

    city_key: np.ndarray    # object: str or None
    region_key: np.ndarray  # object: str or None
    lat: np.ndarray         # float64, NaN unknown
    lon: np.ndarray


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _stem(name: str) -> str:
    """"海淀区" / "海淀" → 海淀, "长阳土家族自治县" → 长阳, "浦东新区" → 浦东, "延边朝鲜族自治州" → 延边."""
    found = _STEM.match(name)
    return found[1] if found else name


def _city_code(code4: str) -> str:
    # Chongqing's counties (5002) and Beijing-style 市辖区 rows belong to the municipality's one city.
    return f"{code4[:2]}0100" if code4[:2] in _MUNICIPALITIES else f"{code4}00"


class Gazetteer:
    """Lookup tables built from the shipped admin-division files (features/data/cn_*.csv)."""

    def __init__(self, provinces: pd.DataFrame, cities: pd.DataFrame, counties: pd.DataFrame,
                 us_places: pd.DataFrame | None = None) -> None:
        self._us: dict[tuple[str, str], tuple[float, float]] = {}
        if us_places is not None:
            self._us = {(c, st): (float(la), float(lo)) for c, st, la, lo in zip(
                us_places["city"], us_places["state"], us_places["lat"], us_places["lon"], strict=True)}
        self._by_code: dict[str, _Place] = {}
        self._by_name: dict[str, _Place] = {}
        self._owned: set[str] = set()      # names and stems of provinces and cities: no county takes them away
        self._ambiguous: set[str] = set()  # county names and stems two counties share (and no city owns)
        self._official: dict[str, set[str]] = {}  # city key → its names as the tables write them (北京市)
        self._add_provinces(provinces, cities)
        self._add_cities(cities)
        self._districts = self._add_counties(counties)
        for key in self._ambiguous:  # 朝阳区 is in Beijing and in Changchun: a bare county name decides nothing
            self._by_name.pop(key, None)
        self._names_longest_first = sorted(self._by_name, key=len, reverse=True)
        # "朝阳区望京": a shared county name must not be read as the city that owns its stem (朝阳, Liaoning)
        shared = sorted((key for key in self._ambiguous if _short(key) != key), key=len, reverse=True)
        self._shared = re.compile("|".join(map(re.escape, shared))) if shared else None

    def _add_name(self, name: str, place: _Place, *, owned: bool) -> None:
        for key in {name, _short(name), _stem(name)} if owned else {name, _short(name)}:
            if key not in self._by_name:  # provinces, then cities, then counties: the first owner keeps a name
                self._by_name[key] = place
                if owned:
                    self._owned.add(key)
            elif self._by_name[key] != place and not owned and key not in self._owned:
                self._ambiguous.add(key)

    def _add_provinces(self, provinces: pd.DataFrame, cities: pd.DataFrame) -> None:
        for code, name in zip(provinces["code"].astype(str), provinces["name"].astype(str), strict=True):
            region = f"cn:{code}"
            if code in _MUNICIPALITIES:
                row = cities[cities["city_code"].astype(str) == f"{code}01"].iloc[0]
                place = _Place(f"cn:{code}0100", region, float(row["latitude"]), float(row["longitude"]))
            else:  # a province has no useful single point: distance stays unknown
                place = _Place(None, region, np.nan, np.nan)
            self._by_code[code] = self._by_code[f"{code}0000"] = place
            self._add_name(name, place, owned=True)
            if place.city is not None:
                self._official.setdefault(place.city, set()).add(name)

    def _add_cities(self, cities: pd.DataFrame) -> None:
        for code4, name, lat, lon in zip(cities["city_code"], cities["city_name"], cities["latitude"],
                                         cities["longitude"], strict=True):
            place = _Place(f"cn:{_city_code(code4)}", f"cn:{code4[:2]}", float(lat), float(lon))
            self._by_code[code4] = self._by_code[f"{code4}00"] = place
            if name not in ("市辖区", "县"):
                self._add_name(name, place, owned=True)
                self._official.setdefault(f"cn:{_city_code(code4)}", set()).add(name)

    def _add_counties(self, counties: pd.DataFrame) -> dict[str, _CityDistricts]:
        """Codes and names of the counties; returns each city's counties by full name and by stem."""
        full: dict[str, dict[str, tuple[str, _Place]]] = {}
        stems: dict[str, dict[str, tuple[str, _Place] | None]] = {}
        for code6, code4, name, lat, lon in zip(counties["county_code"], counties["city_code"],
                                                counties["county_name"], counties["latitude"],
                                                counties["longitude"], strict=True):
            city = self._by_code.get(code4, _Place(f"cn:{_city_code(code4)}", f"cn:{code4[:2]}", np.nan, np.nan))
            place = _Place(city.city, city.region, float(lat) if pd.notna(lat) else city.lat,
                           float(lon) if pd.notna(lon) else city.lon)
            self._by_code[code6] = place
            self._add_name(name, place, owned=False)
            if city.city is not None:
                full.setdefault(city.city, {})[name] = (code6, place)
                in_city, stem = stems.setdefault(city.city, {}), _stem(name)
                in_city[stem] = None if stem in in_city else (code6, place)  # two counties share it: neither
        return {city: _CityDistricts(dict(sorted(names.items(), key=lambda item: -len(item[0]))),
                                     {stem: hit for stem, hit in stems[city].items() if hit is not None},
                                     frozenset(self._official.get(city, ())))
                for city, names in full.items()}

    def _resolve_one(self, raw: str) -> _Place:
        text = raw.strip()
        if not text:
            return _UNKNOWN
        if _CODE.match(text):
            return self._by_code.get(text, self._by_code.get(text[:4], self._by_code.get(text[:2], _UNKNOWN)))
        us = _US_PLACE.match(text)
        if us:
            city, state = normalise_us_city(us["city"]), us["state"].upper()
            lat, lon = self._us.get((city, state), (np.nan, np.nan))
            return _Place(f"us:{city}, {state.lower()}", f"us:{state}", lat, lon)
        place = None if text in self._ambiguous else self._by_name.get(text) or self._by_name.get(_short(text))
        if place is not None:
            return place
        found = None if text in self._ambiguous else self._name_inside(text)
        if found is None:
            return _Place(text.lower(), None, np.nan, np.nan)
        name, best = found
        table = self._districts.get(best.city or "")
        county = table.find(text.replace(name, "·", 1)) if table is not None else None  # "北京朝阳": 朝阳区
        return county[1] if county is not None else best

    def _name_inside(self, text: str) -> tuple[str, _Place] | None:
        """"黑龙江省哈尔滨市南岗区": the longest known name inside the text that has a city (of two as long, the
        one written first), else a province's; with the name as found."""
        masked = self._shared.sub("\0", text) if self._shared is not None else text
        best: tuple[str, _Place] | None = None
        length, first = 0, len(text)  # of the best city found so far
        for name in self._names_longest_first:
            if len(name) < max(length, 2):
                break
            at = masked.find(name)
            if at < 0:
                continue
            candidate = self._by_name[name]
            if candidate.city is None:
                best = best or (name, candidate)
            elif at < first:
                best, length, first = (name, candidate), len(name), at
        return best

    def resolve(self, values: pd.Series) -> Places:
        """Resolve a column of place strings (codes, names, "City, ST"); empty or NaN → unknown."""
        codes, uniques = pd.factorize(values.fillna("").astype(str), sort=False)
        resolved = [self._resolve_one(u) for u in uniques]  # one look-up per distinct string
        city = np.array([p.city for p in resolved] + [None], dtype=object)
        region = np.array([p.region for p in resolved] + [None], dtype=object)
        lat = np.array([p.lat for p in resolved] + [np.nan], dtype=np.float64)
        lon = np.array([p.lon for p in resolved] + [np.nan], dtype=np.float64)
        # factorize gives -1 only for NaN, which fillna removed; the trailing sentinel keeps indexing total.
        return Places(city_key=city[codes], region_key=region[codes], lat=lat[codes], lon=lon[codes])

    def districts(self, cities: pd.Series, texts: pd.Series) -> Districts:
        """The county inside each row's city (a key "cn:110100" or a code "110100") that the row's text names: a
        district field ("海淀区", "海淀", "管城") or a street address ("北京市海淀区上地…"). The first full county
        name written wins, else a part between separators (· - , spaces…) that is a county's stem ("长沙" in 长沙市
        is 长沙县; "长沙市" is the city itself). None where neither, or where two counties of the city share the
        stem (临夏市, 临夏县: "临夏" decides nothing). Coordinates: the county's point, else its city's."""
        pairs = (pd.Series(cities.fillna("").astype(str).to_numpy(), dtype=object) + "\x1f"
                 + pd.Series(texts.fillna("").astype(str).to_numpy(), dtype=object))
        codes, uniques = pd.factorize(pairs, sort=False)
        found = [self._district(*pair.split("\x1f", 1)) for pair in uniques]
        code = np.array([f[0] if f else None for f in found] + [None], dtype=object)
        lat = np.array([f[1].lat if f else np.nan for f in found] + [np.nan], dtype=np.float64)
        lon = np.array([f[1].lon if f else np.nan for f in found] + [np.nan], dtype=np.float64)
        return Districts(code=code[codes], lat=lat[codes], lon=lon[codes])

    def _district(self, city: str, text: str) -> tuple[str, _Place] | None:
        key = city if city.startswith("cn:") else self._by_code.get(city, _UNKNOWN).city if city else None
        table = self._districts.get(key or "")
        return table.find(text) if table is not None and text else None


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The gazetteer from the tables shipped inside the package (built once per process)."""
    return Gazetteer(_read_table("cn_provinces.csv"), _read_table("cn_cities.csv"), _read_table("cn_counties.csv"),
                     _read_table("us_places.csv"))


def _read_table(name: str) -> pd.DataFrame:
    codes = {"code": str, "city_code": str, "province_code": str, "county_code": str, "city": str, "state": str}
    with resources.as_file(resources.files("features.data").joinpath(name)) as path:
        return pd.read_csv(path, dtype=codes)


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km, elementwise, float32; NaN where either end is unknown."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return (2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))).astype(np.float32)
