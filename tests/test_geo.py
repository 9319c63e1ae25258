"""Place resolution: codes, Chinese names and US 'City, ST' strings give the right city, region and point."""

from __future__ import annotations

from pathlib import Path

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
    ("朝阳区望京", "朝阳区望京", None),         # ... nor does it read as 朝阳 (the city in Liaoning) inside a text
    ("", None, None),
    # a bare prefecture-level city name is the city, even where a county shares its stem (西安区, 长沙县, 东营区)
    ("西安", "cn:610100", "cn:61"),
    ("长沙", "cn:430100", "cn:43"),
    ("南昌", "cn:360100", "cn:36"),
    ("乌鲁木齐", "cn:650100", "cn:65"),
    ("中山", "cn:442000", "cn:44"),             # not 中山区 (Dalian)
    ("东营", "cn:370500", "cn:37"),
    ("朝阳", "cn:211300", "cn:21"),             # 朝阳市, Liaoning: a city, where 朝阳区 (Beijing, Changchun) is not
    ("北京·朝阳", "cn:110100", "cn:11"),        # ... but inside Beijing, 朝阳 is its district
    ("长春·朝阳", "cn:220100", "cn:22"),        # and inside Changchun, Changchun's
    ("西安区", "西安区", None),                 # a county name two counties share (辽源, 牡丹江) stays unresolved
    ("鼓楼", "鼓楼", None),                     # a county stem several share, no city owns it
    ("长沙县", "cn:430100", "cn:43"),           # the county itself still resolves (to its city)
    # prefecture short names: the ethnic-autonomy suffix dropped
    ("延边", "cn:222400", "cn:22"),             # 延边朝鲜族自治州
    ("黔东南", "cn:522600", "cn:52"),           # 黔东南苗族侗族自治州
    ("黔西南", "cn:522300", "cn:52"),           # not 黔西市 (毕节)
    ("凉山", "cn:513400", "cn:51"),
    ("伊犁", "cn:654000", "cn:65"),             # 伊犁哈萨克自治州: 哈萨克 without 族
    ("博尔塔拉", "cn:652700", "cn:65"),
    ("大兴安岭", "cn:232700", "cn:23"),         # 大兴安岭地区
    ("海南", None, "cn:46"),                    # the province, not 海南藏族自治州 (Qinghai)
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


def _county_point(code: str) -> tuple[float, float]:
    counties = pd.read_csv(Path(__file__).parents[1] / "features" / "data" / "cn_counties.csv", dtype=str)
    row = counties[counties["county_code"] == code].iloc[0]
    return float(row["latitude"]), float(row["longitude"])


def test_bare_city_names_get_the_city_point_and_districts_their_own() -> None:
    places = load_gazetteer().resolve(pd.Series(["西安", "西安市", "长沙", "长沙县", "北京·朝阳", "北京朝阳区",
                                                 "北京-海淀", "朝阳", "文山"]))
    points = list(zip(places.lat, places.lon, strict=True))
    assert points[0] == points[1] == pytest.approx((34.341574, 108.93977))  # Xi'an (cn_cities.csv), not 西安区
    assert points[2] == pytest.approx((28.22808, 112.938884))  # Changsha city, not 长沙县
    assert points[3] == pytest.approx(_county_point("430121"))
    assert points[4] == points[5] == pytest.approx(_county_point("110105"))  # 北京 朝阳区
    assert points[6] == pytest.approx(_county_point("110108"))
    assert points[7] == pytest.approx((41.573762, 120.450879))  # 朝阳市, Liaoning
    assert list(places.city_key[8:]) == ["cn:532600"]  # 文山州 (the prefecture), not 文山市 (its county)
    assert points[8] == pytest.approx((23.400733, 104.216248))


@pytest.mark.parametrize(("city", "text", "code"), [
    ("cn:110100", "海淀", "110108"),            # the suffix may be missing
    ("cn:110100", "海淀区", "110108"),
    ("110100", "海淀区", "110108"),             # the city as a code
    ("1101", "海淀区", "110108"),
    ("cn:410100", "管城", "410104"),            # 管城回族区
    ("cn:410100", "管城区", "410104"),
    ("cn:222400", "延吉市", "222401"),          # a county-level city
    ("cn:430100", "长沙", "430121"),            # a district field named after the city: the county 长沙县
    ("cn:430100", "长沙市", None),              # the city's own name is no district of it
    ("cn:622900", "临夏市", "622901"),
    ("cn:622900", "临夏", None),                # 临夏市 and 临夏县 share the stem: neither
    ("cn:110100", "北京市海淀区上地东路1号", "110108"),   # a street address: a full county name in it
    ("cn:110100", "朝阳区东三环中路, 近海淀", "110105"),   # the first one written
    ("cn:310100", "上海 浦东 张江", "310115"),  # a part between separators that is a stem (浦东新区)
    ("cn:110100", "朝阳门内大街", None),        # a stem inside a word is not a district
    ("cn:320500", "高新区", None),              # no such county
    ("cn:110100", "南岗区", None),              # a county of another city
    ("cn:110100", "", None),
    ("", "海淀区", None),
    ("日本", "海淀区", None),
    (None, "海淀区", None),
])
def test_districts_inside_a_city(city: str | None, text: str, code: str | None) -> None:
    found = load_gazetteer().districts(pd.Series([city], dtype=object), pd.Series([text]))
    assert found.code[0] == code
    if code is not None:
        assert (found.lat[0], found.lon[0]) == pytest.approx(_county_point(code))
    else:
        assert np.isnan(found.lat[0]) and np.isnan(found.lon[0])


def test_districts_row_by_row_and_a_county_without_a_point() -> None:
    cities = pd.Series(["cn:110100", "cn:220100", "cn:440300", "cn:110100"], index=[7, 8, 9, 10])
    found = load_gazetteer().districts(cities, pd.Series(["朝阳", "朝阳", "龙华", "朝阳"], index=[7, 8, 9, 10]))
    assert list(found.code) == ["110105", "220104", "440309", "110105"]
    assert (found.lat[2], found.lon[2]) == pytest.approx((22.543527, 114.057939))  # 龙华区 has none: Shenzhen's
