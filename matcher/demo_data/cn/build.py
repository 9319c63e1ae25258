"""Rebuild this folder's sample from the shared raw files (the selection rule of README.md here, as code).

    python -m matcher.demo_data.cn.build --postings ../shared/data/cn_job_postings \\
        --zhaopin ../shared/data/zhaopin_tianchi2019/table1_user.csv --out matcher/demo_data/cn

Rows are copied byte for byte (header line, byte-order mark, quoting and multi-line cells as in the source), so
the demo runs the real importers on the real formats; only the choice of rows is ours, and it is deterministic.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from matcher.adapters.zhaopin import ZHAOPIN_CITY_CODES

__all__ = ["CITIES", "SEEKER_TYPES", "contact_details", "seeker_category", "build"]

# The cities of the ten Zhaopin city ids the adapter maps (ZHAOPIN_CITY_CODES): seekers live there.
CITIES = ("北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "西安", "重庆", "郑州")
# A desired job type belongs to the first category whose keywords it contains, unless it names a trade the postings
# do not cover (_NOT_COVERED). A seeker is kept when their first desired type belongs to one.
SEEKER_TYPES: dict[str, str] = {
    "IT": "软件|开发|程序|前端|后端|算法|测试|运维|网络|系统|硬件|嵌入式|通信|技术支持|IT|互联网|游戏",
    "数据": "数据",
    "设计": "UI|界面|视觉|平面|网页|美工|多媒体|动画|三维|3D|美术|广告创意|交互|工业设计",
    "产品": "产品",
    "运营": "运营",
    "销售": "销售|售前|售后|大客户",
}
_NOT_COVERED = ("房地产|建筑|园林|景观|室内|装潢|装修|软装|硬装|服装|纺织|皮革|家具|插花|汽车|奢侈品|旅游|物流|机械|"
                "城市规划|CAD|教育|供应商|生产|HRIS|会展|店面|包装|质量|户外|金融产品")
_CARD_EVERY, _DETAIL_EVERY, _LAGOU_EVERY = 6, 2, 6
# Cards with one of these in the title are all kept, so that sales / operations / product seekers have jobs.
_CARD_TOPICS = "销售|运营|产品|客服|技术支持"
_CONTACT = re.compile(
    r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])"                       # mobile number
    r"|(?<![0-9A-Za-z])(?:0\d{2,3}[-－]|[(（]0\d{2,3}[)）])\s?\d{7,8}(?!\d)"  # landline with area code
    r"|@"                                                              # e-mail address (any @ at all)
    r"|(?:微信|(?<![A-Za-z])(?:[VvWw][Xx]|weixin|wechat)|[Vv]信|薇信)\s*号?\s*[:：]\s*[A-Za-z][\w-]{5,19}"
    r"|(?:微信号|加微信|添加微信)\s*[A-Za-z][\w-]{5,19}"                  # WeChat id
    r"|(?<![A-Za-z])(?:QQ|qq|扣扣)\s*[:：号群]?\s*\d{5,}"              # QQ number
    r"|\*{6,}"                                                         # a number or address the crawler masked
    r"|联系人\s*[:：]")                                                 # a named contact person


def contact_details(text: str) -> bool:
    """Whether a raw row holds a phone number, an e-mail address, a WeChat id or a QQ number (or a masked one, or a
    named contact person)."""
    return _CONTACT.search(text) is not None


def seeker_category(desired_types: str) -> str | None:
    """The `SEEKER_TYPES` category of a seeker's first (main) desired job type, of the comma list
    desire_jd_type_id; None where the postings do not cover it."""
    first = desired_types.split(",")[0].strip()
    if not first or re.search(_NOT_COVERED, first):
        return None
    return next((category for category, keywords in SEEKER_TYPES.items() if re.search(keywords, first)), None)


def _records(path: Path) -> tuple[str, Iterator[tuple[list[str], str]]]:
    """The raw header line and (parsed row, raw text of the row) for every record, multi-line cells included."""
    handle = path.open(encoding="utf-8", newline="")
    header = handle.readline()
    raw: list[str] = []

    def lines() -> Iterator[str]:
        for line in handle:
            raw.append(line)
            yield line

    def rows() -> Iterator[tuple[list[str], str]]:
        with handle:
            for row in csv.reader(lines()):
                yield row, "".join(raw)  # csv.reader reads no further than the record it returns
                raw.clear()

    return header, rows()


def _sample(src: Path, out: Path, keep: Callable[[dict[str, str]], bool]) -> int:
    """Copy the header and, in file order, the raw records free of contact details that pass `keep`; return how
    many were kept."""
    header, records = _records(src)
    names = next(csv.reader([header.lstrip("\ufeff")]))
    kept = [text for row, text in records
            if not contact_details(text) and keep(dict(zip(names, row, strict=False)))]
    out.write_text(header + "".join(kept), encoding="utf-8", newline="")
    return len(kept)


def build(postings: Path, zhaopin: Path, out: Path) -> dict[str, int]:
    """Write the four sample files into `out`; return rows per file."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    in_cities: dict[str, int] = {}  # clean rows in the ten cities seen so far, per file

    def every(name: str, step: int, city: Callable[[dict[str, str]], str],
              always: Callable[[dict[str, str]], bool] = lambda row: False) -> Callable[[dict[str, str]], bool]:
        """Rows in the ten cities: those `always` keeps, and every `step`-th of the others (the first kept)."""
        def keep(row: dict[str, str]) -> bool:
            if city(row) not in CITIES:
                return False
            if always(row):
                return True
            seen = in_cities[name] = in_cities.get(name, -1) + 1
            return seen % step == 0
        return keep

    cards = "zhilian_listings_fanjuchen_2024.csv"
    counts[cards] = _sample(postings / cards, out / cards, every(
        cards, _CARD_EVERY, lambda row: row["4"].split("·")[0],
        lambda row: re.search(_CARD_TOPICS, row["0"]) is not None))
    detail = "zhilian_postings_with_description_mcliuyi_2019.csv"
    counts[detail] = _sample(postings / detail, out / detail, every(detail, _DETAIL_EVERY, lambda row: row["address"]))
    lagou = "lagou_data_jobs_lonlat_jlk1993_2019.csv"
    counts[lagou] = _sample(postings / lagou, out / lagou, every(lagou, _LAGOU_EVERY, lambda row: row["city"]))

    def seeker(row: dict[str, str]) -> bool:
        return row["live_city_id"] in ZHAOPIN_CITY_CODES and seeker_category(row["desire_jd_type_id"]) is not None

    counts[zhaopin.name] = _sample(zhaopin, out / zhaopin.name, seeker)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=Path, required=True, help="shared/data/cn_job_postings")
    parser.add_argument("--zhaopin", type=Path, required=True, help="shared/data/zhaopin_tianchi2019/table1_user.csv")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    for name, n in build(args.postings, args.zhaopin, args.out).items():
        print(f"{n:>6,}  {name}")


if __name__ == "__main__":
    main()
