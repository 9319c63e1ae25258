"""matcher.adapters.cn_postings on small real samples (tests/data/cn_postings/README.md): known answers read off
the raw rows by hand, counts per reason, errors for bad files, and the full shared files when they are present."""

from __future__ import annotations

import csv
import hashlib
import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from matcher.adapters import ImportSummary, convert_cn_postings, read_cn_postings
from matcher.cli import main
from matcher.data import Dataset, load_folder
from matcher.errors import DataValidationError
from matcher.schema import EVENT_COLUMNS, JOB_COLUMNS, SEEKER_COLUMNS

SAMPLES = Path(__file__).parent / "data" / "cn_postings"
FULL = Path("/work/shared/data/cn_job_postings")
CARDS = "zhilian_listings_fanjuchen_2024.csv"
DETAIL = "zhilian_postings_with_description_mcliuyi_2019.csv"
BEIJING = "zhilian_beijing_postings_with_description_g2thend_2020.jsonl"
LONLAT = "lagou_data_jobs_lonlat_jlk1993_2019.csv"
ANALYST = "lagou_DataAnalyst_g2thend_utf8.csv"
COUNTIES = Path(__file__).parents[1] / "features" / "data" / "cn_counties.csv"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, dict[str, ImportSummary], Path]:
    out = tmp_path_factory.mktemp("cn")
    data, summaries = convert_cn_postings(SAMPLES, out)
    return data, {s.file: s for s in summaries}, out


@pytest.fixture(scope="module")
def jobs(imported: tuple[Dataset, dict[str, ImportSummary], Path]) -> dict[str, dict[str, str]]:
    """jobs.csv as written, by job_id, read with the csv module."""
    with (imported[2] / "jobs.csv").open(encoding="utf-8", newline="") as handle:
        return {row["job_id"]: row for row in csv.DictReader(handle)}


def _point(code: str) -> tuple[str, str]:
    with COUNTIES.open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["county_code"] == code)
    return row["latitude"], row["longitude"]


class _Titles(dict[str, dict[str, str]]):
    def __getitem__(self, title: str) -> dict[str, str]:
        return super().__getitem__(unicodedata.normalize("NFKC", title))


# ---- known answers, one block per format ---------------------------------------------------------------------

def test_zhaopin_card_fields(jobs: dict[str, dict[str, str]]) -> None:
    first = jobs["zhaopin:CC813553990J40510579701"]  # Java|民营|20-99人|计算机软件, 上海·虹口·北外滩, 8千-1.1万
    assert (first["title"], first["salary_min"], first["salary_max"], first["salary_months"]) == (
        "Java开发工程师", "8000.0", "11000.0", "")
    assert (first["skills"], first["company_type"], first["company_size"], first["industry"]) == (
        "Java", "民营", "20-99人", "计算机软件")
    assert (first["city"], (first["lat"], first["lon"])) == ("310109", _point("310109"))
    assert (first["experience_min_years"], first["education_min"], first["job_type"]) == ("0.0", "本科", "full_time")
    assert first["text"] == "商圈：北外滩" and first["posted_at"] == "2024-01-01T00:00:00Z"
    # the card pads the name with spaces; the id is the sha1 of the stripped name
    assert first["employer_name"] == "上海胜蓝软件技术服务有限公司"
    assert first["employer_id"] == "emp:" + hashlib.sha1("上海胜蓝软件技术服务有限公司".encode()).hexdigest()[:16]
    bonus = jobs["zhaopin:CC681827820J40161577603"]  # 1万-2万·13薪, 济南·历下, 5-10年
    assert (bonus["salary_min"], bonus["salary_max"], bonus["salary_months"], bonus["city"],
            bonus["experience_min_years"]) == ("10000.0", "20000.0", "13", "370102", "5.0")
    tags = jobs["zhaopin:CC000580530J40833461104"]  # JavaScript|Python|国企|500-999人|IT服务
    assert (tags["skills"], tags["company_type"], tags["company_size"], tags["industry"]) == (
        "JavaScript|Python", "国企", "500-999人", "IT服务")


def test_zhaopin_card_awkward_rows(jobs: dict[str, dict[str, str]]) -> None:
    cards = {row["title"]: row for row in jobs.values() if row["source"] == "zhilian_cards_2024"}
    by_title = _Titles(cards)  # titles are written NFKC-folded: "（" → "("
    day = by_title["JAVA开发工程师（2025届校园招聘）"]  # 100-200/天 × 21.75 working days
    assert (day["salary_min"], day["salary_max"]) == ("2175.0", "4350.0")
    piece = by_title["高级首页UI设计师（跨境电商）"]  # 500-1000元/次, 全国
    assert (piece["salary_min"], piece["salary_max"], piece["city"], piece["lat"]) == ("", "", "", "")
    japan = by_title["Web前端工程师（赴日）"]
    assert (japan["city"], japan["lat"], japan["lon"]) == ("日本", "", "")
    assert by_title["Keeta-营销设计师-北京"]["city"] == "香港"
    assert by_title["技术支持工程师（人工智能方向)"]["city"] == "河南"  # a province: no city code
    negotiable = by_title["美团外卖C端-UI设计师"]  # 面议, location "北京" alone
    assert (negotiable["salary_min"], negotiable["city"], negotiable["lat"]) == ("", "110100", "39.904211")
    assert negotiable["employer_id"] == by_title["Keeta-营销设计师-北京"]["employer_id"]
    expected = {
        "RJ-Java开发工程师（优秀应届生岗）": "610113",  # 西安·雁塔 (bare 西安 is the city, not 西安区)
        "java开发工程师（工业物联网平台）A05-郑州": "410104",  # 郑州·管城 = 管城回族区
        "web前端工程师": "222401",  # 延边·延吉市: 延边 = 延边朝鲜族自治州
        "php全栈工程师": "410122",  # 郑州·中牟
        "DE 开发工程师-24应届生": "320500",  # 苏州·高新区: no such county, the city
        "Java开发工程师(J10113)": "440111",  # 广州·白云
    }
    assert {title: by_title[title]["city"] for title in expected} == expected
    jilin = [r for r in jobs.values() if r["employer_name"] == "吉林惠民康恩科技有限公司"]
    assert [r["city"] for r in jilin] == ["220204"]  # 吉林市·船营区
    assert "地点：高新区" in by_title["DE 开发工程师-24应届生"]["text"]
    dongguan = [r for r in jobs.values() if r["text"].startswith("地点：大朗镇")]
    assert [r["city"] for r in dongguan] == ["441900"]  # a town of a city without counties
    no_point = by_title["人工智能机器人测试无经验"]  # 深圳·龙华: 440309 has no point in the table
    assert (no_point["city"], no_point["lat"], no_point["lon"]) == ("440309", "22.543527", "114.057939")
    assert (no_point["skills"], no_point["industry"]) == ("", "计算机软件")
    assert by_title["php全栈工程师"]["skills"] == "后端开发|全栈开发|小程序开发"
    assert by_title["php全栈工程师"]["industry"] == ""
    no_industry = by_title["DE 开发工程师-24应届生"]  # ...|日语|股份制企业|20-99人
    assert (no_industry["company_type"], no_industry["company_size"], no_industry["industry"]) == (
        "股份制企业", "20-99人", "")
    assert (no_industry["experience_min_years"], no_industry["salary_min"]) == ("0.0", "6000.0")
    assert by_title["UI交互设计工程师"]["industry"] == "客运服务"
    assert by_title["UI交互设计工程师"]["education_min"] == "中专/中技"
    assert by_title["直招/会骑电动车就行/月薪9K"]["education_min"] == "初中及以下"
    assert by_title["远程工作WEB网页设计师UI美工界面设计"]["experience_min_years"] == "10.0"
    intern = by_title["java开发工程师（实习生）"]  # 3千-3.5千, 实习 in the title
    assert (intern["job_type"], intern["salary_min"], intern["salary_max"]) == ("internship", "3000.0", "3500.0")
    assert by_title["Java开发工程师（2025应届）"]["education_min"] == "博士"


def test_zhaopin_detail_2019(jobs: dict[str, dict[str, str]]) -> None:
    first = jobs["zhaopin:CC668039620J00207801103"]
    assert (first["salary_min"], first["salary_max"], first["city"], first["education_min"],
            first["experience_min_years"]) == ("6000.0", "8000.0", "330100", "中专", "0.0")
    assert first["text"].startswith("一、岗位职能：")  # the "职位描述 / 职位信息" headings are dropped
    assert first["text"].endswith("福利：五险一金、年底双薪、绩效奖金、餐补、节日福利、高温补贴、周末双休")
    assert first["skills"] == "" and first["posted_at"] == "2019-01-01T00:00:00Z"
    assert "福利" not in jobs["zhaopin:CC187870115J00231345404"]["text"]  # keyword "无"
    low = jobs["zhaopin:201735932250212"]  # 1千以下
    assert (low["salary_min"], low["salary_max"]) == ("", "1000.0")
    assert jobs["zhaopin:CZ638945620J00078567513"]["job_type"] == "internship"


def test_zhaopin_beijing_2020(jobs: dict[str, dict[str, str]]) -> None:
    first = jobs["zhaopin:CC120072300J00203379213"]  # 北京-海淀区, plan 5, Sat Feb 22 22:58:03 2020 (China time)
    assert (first["city"], first["headcount"], first["posted_at"]) == ("110108", "5", "2020-02-22T14:58:03Z")
    assert (first["skills"], first["company_type"], first["company_size"]) == (
        "需求分析|数据挖掘|数据分析", "国企", "500-999人")
    assert "职位亮点：五险一金、年底双薪" in first["text"] and "地址：北京市海淀区苏家坨镇" in first["text"]
    by_address = {"zhaopin:CC241742982J00230259510": "110108",  # 北京 + "海淀区上地东路…"
                  "zhaopin:CC173534914J00200697110": "110107",  # "北京市石景山区…"
                  "zhaopin:CCL1211915090J00219968614": "110114",  # "北京昌平区…"
                  "zhaopin:CC319091521J00257477011": "110105",  # "朝阳区东三环中路…"
                  "zhaopin:CC315847111J00199791113": "110100"}  # "七里庄": the city
    assert {k: jobs[k]["city"] for k in by_address} == by_address
    assert jobs["zhaopin:CC508620126J00448682605"]["salary_min"] == ""  # 薪资面议
    assert jobs["zhaopin:CC196911813J00125336615"]["headcount"] == ""  # plan ""
    senior = jobs["zhaopin:CC372480713J00223495109"]
    assert (senior["education_min"], senior["job_type"], senior["city"]) == ("高中", "internship", "110105")
    repeat = jobs["zhaopin:CC856182520J00193879115"]  # two rows, the first (with its description) kept
    assert repeat["headcount"] == "1" and repeat["text"].startswith("1.具有扎实的Python基础")
    assert jobs["zhaopin:CC508620126J00448682605"]["employer_id"] == jobs[
        "zhaopin:CC508620126J00440894805"]["employer_id"]


def test_lagou_2019_with_coordinates(jobs: dict[str, dict[str, str]]) -> None:
    rows = _Titles({r["title"] + "|" + r["employer_name"]: r for r in jobs.values()
                    if r["source"] == "lagou_lonlat_2019"})
    first = rows["Senior Data Analyst|北京安亿致用科技有限公司"]
    assert (first["city"], first["lat"], first["lon"]) == ("110101", "39.894495", "116.440239")  # its own point
    assert first["skills"] == "数据分析|SQL|数据库|大数据|移动互联网"  # skillLables, then new positionLables
    assert (first["occupation"], first["industry"], first["company_size"]) == ("数据分析", "移动互联网", "150-500人")
    assert first["text"] == ("职位亮点：国际化团队,工程师文化 移动应用\n福利：D轮融资、国际化团队、弹性工作时间、快速晋升空间"
                             "\n商圈：广渠门、花市、光明楼")
    swapped = rows["游戏数据分析师|广州游爱网络技术有限公司"]  # latitude 113.340591, longitude 23.138342
    assert (swapped["city"], swapped["lat"], swapped["lon"]) == ("440106", "23.138342", "113.340591")
    missing = rows["数据分析师|北京寄云鼎城科技有限公司"]
    assert (missing["city"], (missing["lat"], missing["lon"])) == ("110108", _point("110108"))
    shanghai_point = rows["数据分析主管|北京三快在线科技有限公司"]  # 北京 朝阳区 at 31.2 N 121.4 E
    assert (shanghai_point["lat"], shanghai_point["lon"]) == _point("110105")
    assert rows["数据分析实习生|行吟信息科技（上海）有限公司"]["job_type"] == "internship"
    part_time = rows["数据分析实习生|上海艾瑞市场咨询股份有限公司"]  # jobNature 兼职 wins over the title
    assert (part_time["job_type"], part_time["experience_min_years"]) == ("part_time", "0.0")
    abolished = rows["数据分析（BI方向）|深圳盈富斯科技有限公司"]  # 江干区 (merged 2021): city code, own point
    assert (abolished["city"], abolished["lat"]) == ("330100", "30.306936")
    assert "地点：江干区" in abolished["text"]
    assert rows["高级数据分析师（排名方向）|上海软科教育信息咨询有限公司"]["city"] == "310112"
    assert rows["数据分析师|北京易观智库网络科技有限公司"]["education_min"] == "学历不限"
    assert rows["数据分析师|重庆迅游科技有限公司"]["city"] == "500112"
    top = rows["数据分析总监(北京)|重庆薛家庄旅游开发有限公司"]
    assert (top["salary_min"], top["salary_max"], top["experience_min_years"]) == ("45000.0", "60000.0", "10.0")
    ids = [r["job_id"] for r in rows.values()]
    assert all(i.startswith("lagou-row:") and len(i) == len("lagou-row:") + 16 for i in ids)


def test_lagou_row_ids_are_the_sha1_of_the_raw_row(jobs: dict[str, dict[str, str]]) -> None:
    with (SAMPLES / LONLAT).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        first = next(reader)
    expected = "lagou-row:" + hashlib.sha1("\x1f".join(first).encode()).hexdigest()[:16]
    assert jobs[expected]["title"] == "Senior Data Analyst"


def test_lagou_2017_analyst_set(jobs: dict[str, dict[str, str]]) -> None:
    first = jobs["lagou:2537336"]  # 7k-9k, 硕士, 应届毕业生, ['张江'], secondType 数据开发
    assert (first["salary_min"], first["salary_max"], first["education_min"], first["experience_min_years"]) == (
        "7000.0", "9000.0", "硕士", "0.0")
    assert (first["skills"], first["occupation"], first["city"], first["posted_at"]) == (
        "分析师|数据分析|数据挖掘|数据", "数据开发", "310100", "2017-01-01T00:00:00Z")
    assert first["text"] == "职位亮点：知名平台\n福利：技能培训、节日礼物、带薪年假、岗位晋升\n商圈：张江"
    assert (jobs["lagou:392732"]["salary_min"], jobs["lagou:392732"]["salary_max"]) == ("15000.0", "")  # 15k以上
    assert jobs["lagou:2567005"]["occupation"] == "DBA"  # firstType empty: secondType
    assert jobs["lagou:2411738"]["city"] == "350200"  # 厦门
    assert jobs["lagou:2544117"]["title"] == "分析师"


# ---- counts ----------------------------------------------------------------------------------------------------

def test_every_drop_is_counted(imported: tuple[Dataset, dict[str, ImportSummary], Path]) -> None:
    data, summaries, _ = imported
    dropped = {name: {k: v for k, v in s.dropped.items() if v} for name, s in summaries.items()}
    assert dropped == {
        CARDS: {"exact duplicate rows": 1, "already imported from another file": 1},  # the jsonl has it, described
        DETAIL: {}, BEIJING: {"repeated id (first row kept)": 1},
        LONLAT: {"exact duplicate rows": 1},
        ANALYST: {"exact duplicate rows": 1, "repeated id (first row kept)": 1},
    }
    assert {name: (s.rows, s.kept) for name, s in summaries.items()} == {
        CARDS: (40, 38), DETAIL: (12, 12), BEIJING: (16, 15), LONLAT: (21, 20), ANALYST: (15, 13)}
    assert len(data.jobs) == 38 + 12 + 15 + 20 + 13
    for s in summaries.values():
        assert s.rows - sum(s.dropped.values()) == s.kept


def test_field_counts_per_reason(imported: tuple[Dataset, dict[str, ImportSummary], Path]) -> None:
    summaries = imported[1]
    cards = summaries[CARDS].counts
    assert cards["salary 面议 (negotiable: empty)"] == 5
    assert cards["salary piece rate 元/次 (empty)"] == 1
    assert cards["salary per day/hour converted"] == 3
    assert cards["salary ·N薪 months stated"] == 6
    assert cards["city 全国 (nationwide: left empty)"] == 2
    assert cards["city not resolved (name kept)"] == 3
    assert summaries[CARDS].unresolved_places == {"日本": 1, "香港": 1, "河南": 1}
    assert cards["salary not parsed"] == 0
    assert summaries[DETAIL].counts["salary 面议 (negotiable: empty)"] == 2
    assert summaries[DETAIL].counts["salary one bound only (以上/以下)"] == 1
    assert summaries[BEIJING].counts["salary 面议 (negotiable: empty)"] == 2
    assert summaries[BEIJING].counts["district read from the street address"] == 7
    lonlat = summaries[LONLAT].counts
    assert (lonlat["own lat/lon swapped back"], lonlat["own lat/lon missing or invalid (district/city used)"],
            lonlat["own lat/lon over 100 km from the district/city (district/city used)"]) == (1, 1, 2)
    assert summaries[CARDS].parsed["salary"] == pytest.approx(32 / 38)
    assert summaries[CARDS].parsed["city code"] == pytest.approx(33 / 38)
    assert summaries[LONLAT].parsed == {"salary": 1.0, "experience": 1.0, "education": 1.0, "city code": 1.0,
                                        "coordinates": 1.0, "skills": 1.0}
    line = summaries[CARDS].line()
    assert line.startswith("zhilian_cards_2024 (zhilian_listings_fanjuchen_2024.csv): 40 rows, 38 kept (1 exact "
                           "duplicate rows, 1 already imported from another file); parsed: salary 84.2%")
    assert "places not resolved: 日本 (1), 香港 (1), 河南 (1)" in line


# ---- the folder written ------------------------------------------------------------------------------------------

def test_folder_loads_with_empty_seekers_and_events(imported: tuple[Dataset, dict[str, ImportSummary], Path]) -> None:
    data, _, out = imported
    for name, columns in (("seekers.csv", SEEKER_COLUMNS), ("events.csv", EVENT_COLUMNS)):
        with (out / name).open(encoding="utf-8", newline="") as handle:
            assert list(csv.reader(handle)) == [list(columns)]
    again = load_folder(out)
    assert len(again.jobs) == len(data.jobs) and again.jobs["job_id"].is_unique
    assert set(JOB_COLUMNS) - {"expires_at"} <= set(again.jobs.columns)
    assert set(again.jobs["job_type"]) == {"full_time", "internship", "part_time"}


def test_single_file_and_a_second_run_give_the_same_rows(tmp_path: Path,
                                                         jobs: dict[str, dict[str, str]]) -> None:
    frame, summary = read_cn_postings(SAMPLES / LONLAT)
    assert summary.kept == 20 and set(frame["job_id"]) <= set(jobs)
    data, summaries = convert_cn_postings(SAMPLES / CARDS, tmp_path)
    assert len(summaries) == 1 and summaries[0].kept == 39  # alone, it keeps the row the jsonl also has
    both = data.jobs.set_index("job_id").loc["zhaopin:CCL1230479250J00214991009"]
    assert (both["source"], jobs["zhaopin:CCL1230479250J00214991009"]["source"]) == (
        "zhilian_cards_2024", "zhilian_beijing_2020")
    assert data.jobs.drop(columns="source").equals(convert_cn_postings(SAMPLES / CARDS, tmp_path / "again")[0]
                                                   .jobs.drop(columns="source"))


def test_cli_import_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "cn-postings", "--src", str(SAMPLES), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "lagou_analyst_2017 (lagou_DataAnalyst_g2thend_utf8.csv): 15 rows, 13 kept" in printed
    assert f"wrote 98 jobs from 5 file(s) to {tmp_path}/jobs.csv" in printed


# ---- bad input -----------------------------------------------------------------------------------------------------

def _fails(path: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as caught:
        read_cn_postings(path)
    return caught.value


def test_bad_files_are_data_validation_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = tmp_path / "other.csv"
    unknown.write_text("a,b\n1,2\n", encoding="utf-8")
    error = _fails(unknown)
    assert (error.file, error.row) == ("other.csv", 1) and "not a known posting format" in error.problem
    lagou = pd.read_csv(SAMPLES / LONLAT, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    lagou.drop(columns="jobNature").to_csv(tmp_path / "lagou.csv", index=False)
    error = _fails(tmp_path / "lagou.csv")
    assert (error.row, error.column) == (1, "jobNature")
    broken = tmp_path / "zl.jsonl"
    broken.write_text(json.dumps({"jobname": "x"}) + "\n{not json\n", encoding="utf-8")
    assert _fails(broken).row == 2
    latin = tmp_path / "gbk.csv"
    latin.write_bytes("标题,薪资\n".encode("gbk"))
    assert "not UTF-8" in _fails(latin).problem
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert "empty file" in _fails(tmp_path / "empty.csv").problem
    assert "file not found" in _fails(tmp_path / "missing.csv").problem
    assert main(["import", "cn-postings", "--src", str(unknown), "--out", str(tmp_path / "out")]) == 2
    assert "other.csv, row 1: not a known posting format" in capsys.readouterr().err


def test_city_and_district_names_resolve_through_the_gazetteer(tmp_path: Path) -> None:
    """Places of the full 2024 card file that the gazetteer (features.geo) resolves: a bare city name that a county
    shares (西安, 长沙), a prefecture's short name (黔西南), a district named after the city, a full county name two
    counties of one city share the stem of (临夏市 / 临夏县), a county name inside a longer district field, a province's
    name (吉林) whose district names the city."""
    cards = pd.read_csv(SAMPLES / CARDS, dtype=str, keep_default_na=False, encoding="utf-8-sig").head(7)
    cards["4"] = ["西安·雁塔·曲江", "长沙·长沙·星沙", "黔西南·兴义市·兴泰街道", "临夏·临夏市·红园街道",
                  "黔东南·城西街道", "沧州·泊头市工业区", "吉林·船营"]
    cards["7"] = cards["7"].str.replace(".htm", "x.htm")  # no repeated ids
    cards.to_csv(tmp_path / "cards_2024.csv", index=False)
    frame, summary = read_cn_postings(tmp_path / "cards_2024.csv")
    assert list(frame["city"]) == ["610113", "430121", "522301", "622901", "522600", "130981", "220204"]
    assert (frame.loc[1, "lat"], frame.loc[1, "lon"]) == (float(_point("430121")[0]), float(_point("430121")[1]))
    assert summary.counts["district resolved"] == 6 and not summary.unresolved_places


def test_unparsable_cells_are_counted_not_raised(tmp_path: Path) -> None:
    lagou = pd.read_csv(SAMPLES / LONLAT, dtype=str, keep_default_na=False, encoding="utf-8-sig").head(3)
    lagou.loc[0, ["salary", "workYear", "latitude"]] = ["工资保密", "看情况", "north"]
    lagou.to_csv(tmp_path / "lagou_2019.csv", index=False)
    frame, summary = read_cn_postings(tmp_path / "lagou_2019.csv")
    assert summary.counts["salary not parsed"] == 1 and summary.counts["experience not parsed"] == 1
    assert summary.counts["own lat/lon missing or invalid (district/city used)"] == 1
    assert frame.loc[0, "lat"] == pytest.approx(float(_point("110101")[0]))


# ---- the full shared files -----------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not FULL.is_dir(), reason=f"{FULL} is not on this machine")
def test_full_shared_files_import(tmp_path: Path) -> None:
    data, summaries = convert_cn_postings(FULL, tmp_path)
    by_file = {s.file: s for s in summaries}
    for summary in summaries:
        print(summary.line())
    assert set(by_file) == {CARDS, DETAIL, BEIJING, LONLAT, ANALYST}
    # SOURCE.md: 949 exact duplicate cards, 26 duplicate Lagou 2019 rows, 1,845 repeated positionIds in the 2017 set
    assert by_file[CARDS].dropped["exact duplicate rows"] == 949
    assert by_file[LONLAT].dropped["exact duplicate rows"] == 26
    assert (by_file[ANALYST].dropped["exact duplicate rows"]
            + by_file[ANALYST].dropped["repeated id (first row kept)"]) == 1845
    for summary in summaries:
        rates = summary.parsed
        assert rates["experience"] >= 0.99 and rates["education"] >= 0.99, summary.line()
        assert rates["city code"] >= 0.99 and rates["coordinates"] >= 0.99, summary.line()
        assert rates["salary"] >= 0.95, summary.line()
        stated = summary.kept - summary.counts["salary 面议 (negotiable: empty)"]
        unexplained = summary.counts["salary not parsed"]
        assert unexplained <= 0.001 * stated, summary.line()
    assert len(data.jobs) == sum(s.kept for s in summaries) and data.jobs["job_id"].is_unique
