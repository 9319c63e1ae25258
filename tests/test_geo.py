"""Place resolution: codes, Chinese names and US 'City, ST' strings give the right city, region and point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.geo import haversine_km, load_gazetteer


@pytest.mark.parametrize(("raw", "city", "region"), [
    ("230100", "cn:230100", "cn:23"),          # a city code
    ("230103", "cn:230100", "cn:23"),          # a county (南岗区) belongs to its city
    ("2301", "cn:230100", "cn:23"),            # a 4-digit city code
    ("110105", "cn:110100", "cn:11"),          # municipality districts all belong to the one city
    ("500230", "cn:500100", "cn:50"),          # Chongqing's counties (5002xx) too
    ("哈尔滨", "cn:230100", "cn:23"),
    ("哈尔滨市", "cn:230100", "cn:23"),
    ("黑龙江省哈尔滨市南岗区", "cn:230100", "cn:23"),
    ("北京市", "cn:110100", "cn:11"),
    ("东莞", "cn:441900", "cn:44"),            # a city without counties
    ("黑龙江省", None, "cn:23"),               # a province: region only
    ("Bellingham, WA", "us:bellingham, wa", "us:WA"),
    ("bellingham ,wa", "us:bellingham, wa", "us:WA"),
    ("St. Louis, MO", "us:saint louis, mo", "us:MO"),   # one spelling for St. / Saint, Ft / Fort, "... City"
    ("Saint Louis, MO", "us:saint louis, mo", "us:MO"),
    ("New York City, NY", "us:new york, ny", "us:NY"),
    ("朝阳区", "朝阳区", None),                 # in Beijing and in Changchun: decides nothing
    ("", None, None),
])
def test_resolve(raw: str, city: str | None, region: str | None) -> None:
    places = load_gazetteer().resolve(pd.Series([raw]))
    assert places.city_key[0] == city
    assert places.region_key[0] == region


def test_coordinates_and_distance() -> None:
    places = load_gazetteer().resolve(pd.Series(["230100", "黑龙江省哈尔滨市南岗区", "110100", "黑龙江省", "x"]))
    lat, lon = places.lat, places.lon
    assert 45 < lat[0] < 46.5 and 126 < lon[0] < 127.5
    assert (lat[1], lon[1]) != (lat[0], lon[0])  # the district's own point, not the city centre
    km = haversine_km(lat[:1], lon[:1], lat[2:3], lon[2:3])
    assert 1000 < km[0] < 1100  # Harbin - Beijing is about 1,050 km
    assert np.isnan(lat[3]) and np.isnan(lat[4])  # a province or an unknown place has no single point
    assert np.isnan(haversine_km(lat[:1], lon[:1], lat[3:4], lon[3:4])[0])


def test_many_repeated_values_resolve_once_each() -> None:
    column = pd.Series(["230100", "Bellingham, WA", ""] * 100_000)
    places = load_gazetteer().resolve(column)
    assert len(places.city_key) == 300_000 and places.city_key[3] == "cn:230100"


def test_us_places_have_coordinates_from_the_shipped_geonames_table() -> None:
    """The US board's "City, ST" strings get points (features/data/us_places.csv), so distance and the radius
    filters work there too; a place too small for the table keeps its keys and has no point."""
    places = load_gazetteer().resolve(pd.Series(["Newark, NJ", "Garden City, NY", "Ft Lauderdale, FL",
                                                 "Nowhereville Xyz, WA"]))
    lat, lon = places.lat, places.lon
    assert 40.5 < lat[0] < 41 and -74.5 < lon[0] < -74
    km = haversine_km(lat[:1], lon[:1], lat[1:2], lon[1:2])
    assert 30 < km[0] < 60  # Newark - Garden City (Long Island) is about 45 km
    assert 25 < lat[2] < 27
    assert np.isnan(lat[3]) and places.region_key[3] == "us:WA"
