"""Places: admin codes, Chinese place names and "City, ST" strings → city / region keys and coordinates.

Platforms write places three ways: GB/T 2260 codes (230100, 110105), Chinese names (哈尔滨, 哈尔滨市,
黑龙江省哈尔滨市), and, on the US board we train on, "Bellingham, WA". Features need one answer per row: which city
(same-city), which region (province / state) and, where the admin-division table has them, coordinates (distance,
the "15-minute circle"). Resolution runs once per distinct string, so a column of a million repeated codes costs
a few thousand look-ups.

Keys: Chinese cities are "cn:<6-digit city code>", provinces "cn:<2 digits>"; US places "us:<city, st>" and
"us:<ST>". A string we cannot resolve keeps itself as its city key (lower-cased), so two rows that write the same
unknown place still count as the same city, and has no region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["Gazetteer", "Places", "load_gazetteer", "haversine_km", "normalise_us_city", "EARTH_RADIUS_KM"]

EARTH_RADIUS_KM = 6371.0088
_MUNICIPALITIES = {"11", "12", "31", "50"}  # 直辖市: the province is the city
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "省", "市", "盟",
             "县", "区")
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
        ambiguous: set[str] = set()

        def add_name(name: str, place: _Place, *, weak: bool = False) -> None:
            for key in {name, _short(name)}:
                if key in self._by_name and self._by_name[key] != place:
                    if weak:
                        ambiguous.add(key)
                    continue  # stronger names (provinces, cities) were added first and win
                self._by_name[key] = place

        # county names inside each city: "哈尔滨市南岗区" resolves to 南岗区's coordinates, not the city centre's
        self._counties_in_city: dict[str, list[tuple[str, _Place]]] = {}
        for code, name in zip(provinces["code"].astype(str), provinces["name"].astype(str), strict=True):
            region = f"cn:{code}"
            if code in _MUNICIPALITIES:
                row = cities[cities["city_code"].astype(str) == f"{code}01"].iloc[0]
                place = _Place(f"cn:{code}0100", region, float(row["latitude"]), float(row["longitude"]))
            else:  # a province has no useful single point: distance stays unknown
                place = _Place(None, region, np.nan, np.nan)
            self._by_code[code] = self._by_code[f"{code}0000"] = place
            add_name(name, place)
        for code4, name, lat, lon in zip(cities["city_code"], cities["city_name"], cities["latitude"],
                                         cities["longitude"], strict=True):
            place = _Place(f"cn:{_city_code(code4)}", f"cn:{code4[:2]}", float(lat), float(lon))
            self._by_code[code4] = self._by_code[f"{code4}00"] = place
            if name not in ("市辖区", "县"):
                add_name(name, place)
        for code6, code4, name, lat, lon in zip(counties["county_code"], counties["city_code"],
                                                counties["county_name"], counties["latitude"],
                                                counties["longitude"], strict=True):
            city = self._by_code.get(code4, _Place(f"cn:{_city_code(code4)}", f"cn:{code4[:2]}", np.nan, np.nan))
            place = _Place(city.city, city.region, float(lat) if pd.notna(lat) else city.lat,
                           float(lon) if pd.notna(lon) else city.lon)
            self._by_code[code6] = place
            add_name(name, place, weak=True)
            if city.city is not None:
                self._counties_in_city.setdefault(city.city, []).append((name, place))
        for key in ambiguous:  # 朝阳区 is in Beijing and in Changchun: a bare county name decides nothing
            self._by_name.pop(key, None)
        self._names_longest_first = sorted(self._by_name, key=len, reverse=True)

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
        place = self._by_name.get(text) or self._by_name.get(_short(text))
        if place is not None:
            return place
        # "黑龙江省哈尔滨市南岗区": the most specific (longest) known name inside the string wins.
        best: _Place | None = None
        for name in self._names_longest_first:
            if len(name) >= 2 and name in text:
                candidate = self._by_name[name]
                if best is None or (best.city is None and candidate.city is not None):
                    best = candidate
                if best.city is not None:
                    break
        if best is None:
            return _Place(text.lower(), None, np.nan, np.nan)
        for name, county in self._counties_in_city.get(best.city or "", []):
            if name in text and len(name) >= 2:
                return county
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
