"""Where people live and work: the counties of the shipped GB/T 2260 table with coordinates, city tiers (which scale
pay), migrant source provinces, and jittered home and workplace coordinates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

_TIER1 = (1101, 3101, 4401, 4403)
_TIER2 = (1201, 5001, 3205, 3302, 3702, 3502, 2102, 4419, 4406, 3202)
_TIER_SALARY = np.array([0.0, 1.35, 1.0, 0.8])        # index = tier
_TIER_MIN_WAGE = np.array([0.0, 2600.0, 2200.0, 1900.0])
_MIGRANT_SOURCES = {"河南省": 12, "四川省": 10, "安徽省": 9, "湖南省": 8, "湖北省": 6, "江西省": 6,
                    "广西壮族自治区": 6, "贵州省": 5, "河北省": 5, "山东省": 5, "重庆市": 4}
_CHINA_LAT = (3.5, 54.0)
_CHINA_LON = (73.0, 135.5)


@dataclass(frozen=True)
class _Geo:
    """Counties with coordinates, indexed 0..n-1, plus what sampling and text need about each."""

    code: np.ndarray             # int64 6-digit county code
    city_level: np.ndarray       # int64 6-digit code of the prefecture (city_code * 100), or of the county
                                 # itself when it sits directly under the province
    lat: np.ndarray
    lon: np.ndarray
    city: np.ndarray             # int64 index of the prefecture
    province: np.ndarray         # int64 index into province_names
    tier: np.ndarray             # int64 1, 2, 3
    seeker_p: np.ndarray         # sampling probabilities
    job_p: np.ndarray
    city_short: pa.Array         # "哈尔滨", for resumes
    place: pa.Array              # "哈尔滨市南岗区", for job ads
    province_names: pa.Array
    capital_city_level: np.ndarray  # per province: 6-digit code of its capital


def _data_file(name: str) -> Any:
    return resources.files("features.data").joinpath(name)


def _short(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=1)
def _geo() -> _Geo:
    """Counties of the shipped GB/T 2260 table that have coordinates (about 2,700), weighted by a rough
    population proxy so that big cities get more people and, a bit more so, more vacancies."""
    with _data_file("cn_counties.csv").open("r", encoding="utf-8") as fh:
        counties = pd.read_csv(fh, dtype={"county_code": str, "city_code": str, "province_code": str})
    counties = counties.dropna(subset=["longitude", "latitude"]).reset_index(drop=True)
    city_code = counties["city_code"].astype(int).to_numpy()
    county_code = counties["county_code"].astype(int).to_numpy()
    direct = counties["city_name"].str.endswith("行政区划").to_numpy() | (county_code == city_code * 100)
    municipal = counties["city_name"].isin(["市辖区", "县"]).to_numpy()
    city_level = np.where(direct, county_code, city_code * 100)
    tier = np.full(len(counties), 3, dtype=np.int64)
    capital = (city_code % 100 == 1) & ~direct
    tier[capital | np.isin(city_code, _TIER2) | (city_code == 5002)] = 2
    tier[np.isin(city_code, _TIER1)] = 1
    # A simple population weight: tier-1 cities 20, capitals and big cities 8, other prefectures 2, shared
    # among the prefecture's counties with urban districts (区) counting double.
    city_weight = np.array([0.0, 20.0, 8.0, 2.0])[tier]
    urban = counties["county_name"].str.endswith("区").to_numpy()
    share = np.where(urban, 2.0, 1.0)
    _, city_idx = np.unique(city_code, return_inverse=True)
    share = share / np.bincount(city_idx, weights=share)[city_idx]
    seeker_w = city_weight * share
    job_w = seeker_w * np.array([0.0, 1.6, 1.3, 0.8])[tier] * np.where(urban, 1.3, 1.0)

    province_names = sorted(counties["province_name"].unique())
    province_idx = np.searchsorted(np.array(province_names, dtype=object),
                                   counties["province_name"].to_numpy())
    province_code = counties.groupby("province_name")["province_code"].first().reindex(province_names)
    capital_city_level = province_code.astype(int).to_numpy() * 10000 + 100

    names = counties["city_name"].where(~municipal, counties["province_name"])
    city_short = np.where(direct, counties["county_name"].map(_short), names.map(_short))
    place = np.where(direct, counties["county_name"], names + counties["county_name"])
    return _Geo(
        code=county_code.astype(np.int64), city_level=city_level.astype(np.int64),
        lat=counties["latitude"].to_numpy(np.float64), lon=counties["longitude"].to_numpy(np.float64),
        city=city_idx.astype(np.int64), province=province_idx.astype(np.int64), tier=tier,
        seeker_p=seeker_w / seeker_w.sum(), job_p=job_w / job_w.sum(),
        city_short=pa.array(list(city_short), pa.string()), place=pa.array(list(place), pa.string()),
        province_names=pa.array(province_names, pa.string()),
        capital_city_level=capital_city_level.astype(np.int64),
    )



def _locations(rng: np.random.Generator, geo: _Geo, county: np.ndarray,
               km: float) -> tuple[np.ndarray, np.ndarray]:
    """County coordinates jittered by a Gaussian of `km` (clipped at 4 sigma), so that people do not
    share a point and distances inside a county are a few km, not zero."""
    d = np.clip(rng.normal(0.0, km, (2, len(county))), -4 * km, 4 * km)
    lat = geo.lat[county] + d[0] / 111.0
    lon = geo.lon[county] + d[1] / (111.0 * np.cos(np.radians(geo.lat[county])))
    return (np.round(np.clip(lat, *_CHINA_LAT), 6), np.round(np.clip(lon, *_CHINA_LON), 6))

