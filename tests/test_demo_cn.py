"""`matcher demo --only cn`: the committed Chinese sample (matcher/demo_data/cn) through both importers, day-one
training, the nightly push, the service and explain, with the reasons printed in Chinese."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from matcher.cli import main
from matcher.demo_data.cn.build import contact_details
from matcher.engine.reasons import reasons_from_text
from matcher.offline.day_one import DAY_ONE
from matcher.schema import Reasons
from matcher.service.commands import EN_LABELS, ZH_LABELS, format_reasons

SAMPLE = Path(__file__).parents[1] / "matcher" / "demo_data" / "cn"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One run for the module (about 15 s on two cores); its stdout."""
    work = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--only", "cn", "--workdir", str(work)]) == 0
    assert sorted(p.name for p in work.iterdir()) == ["cn"]  # --only cn: no US part
    return work / "cn", out.getvalue()


@pytest.mark.slow
def test_imports_print_their_counts(demo: tuple[Path, str]) -> None:
    work, out = demo
    for source in ("zhilian_cards_2024", "zhilian_detail_2019", "lagou_lonlat_2019"):
        assert re.search(rf"^{source} \(\S+\.csv\): [\d,]+ rows, [\d,]+ kept", out, re.M), source
    jobs = pd.read_csv(work / "data" / "jobs.csv", dtype=str)
    seekers = pd.read_csv(work / "data" / "seekers.csv", dtype=str)
    assert f"wrote {len(jobs):,} jobs from 3 file(s)" in out and len(jobs) > 1500
    assert f"wrote {len(seekers):,} seekers" in out and 200 <= len(seekers) <= 400
    assert pd.read_csv(work / "data" / "events.csv").empty


@pytest.mark.slow
def test_training_saves_the_day_one_ranker(demo: tuple[Path, str]) -> None:
    work, out = demo
    assert re.search(rf"^model \S+ \({re.escape(DAY_ONE)} \(", out, re.M)
    version = (work / "model" / "CURRENT").read_text().strip()
    assert json.loads((work / "model" / "versions" / version / "meta.json").read_text())["kind"] == DAY_ONE


@pytest.mark.slow
def test_batch_gives_every_seeker_ten_jobs(demo: tuple[Path, str]) -> None:
    work, _ = demo
    matches = pd.read_csv(work / "matches.csv", dtype=str)
    seekers = pd.read_csv(work / "data" / "seekers.csv", dtype=str)["seeker_id"]
    per_seeker = matches.groupby("seeker_id").size().reindex(seekers, fill_value=0)
    assert (per_seeker == 10).mean() >= 0.95 and per_seeker.max() == 10


@pytest.mark.slow
def test_service_and_table_speak_chinese(demo: tuple[Path, str]) -> None:
    _, out = demo
    assert "server stopped cleanly (exit code 0)" in out
    walk_in = out.split("RecommendJobs(inline profile", 1)[1].split("RecommendSeekers", 1)[0]
    assert "技能匹配: " in walk_in and "公里" in walk_in
    assert re.search(r"UpsertJobs\(demo-new-cn-1\) acknowledged .* ranks it [123]$", out, re.M)
    assert re.search(r"^#1 .+ \(job \S+\)  score", out, re.M)  # matcher explain for one seeker
    table = out.split("top-3 matches of 3 seekers", 1)[1].split("\nmatches:", 1)[0]
    assert table.count("求职者 ") == 3 and len(re.findall(r"^\s+[123]  ", table, re.M)) == 9
    assert "技能匹配: " in table and re.search(r"距离 [\d.]+ 公里", table) and "同城" in table
    assert re.search(r"薪资 (符合|高于期望|低于期望)", table)
    assert "市" in table and "skills=" not in table and " km" not in table


def test_reasons_text_reads_back_and_is_worded_per_language() -> None:
    reasons = reasons_from_text("skills=sql|python;km=3.25;salary=above;same_city; priority policy (graduate): "
                                "cap-exempt")
    assert reasons == Reasons(("sql", "python"), 3.25, 3, True, False)
    assert format_reasons(reasons, ZH_LABELS) == "技能匹配: sql、python; 距离 3.2 公里; 薪资 高于期望; 同城"
    assert format_reasons(reasons, EN_LABELS) == "skills: sql, python; 3.2 km; salary above; same city"
    assert reasons_from_text("desired_city") == Reasons((), None, 0, False, True)
    assert format_reasons(reasons_from_text(""), ZH_LABELS) == ""


def test_sample_is_small_raw_and_free_of_contact_details() -> None:
    files = sorted(p.name for p in SAMPLE.glob("*.csv"))
    assert files == ["lagou_data_jobs_lonlat_jlk1993_2019.csv", "table1_user.csv",
                     "zhilian_listings_fanjuchen_2024.csv", "zhilian_postings_with_description_mcliuyi_2019.csv"]
    assert sum(p.stat().st_size for p in SAMPLE.glob("*.csv")) < 1_100_000
    assert (SAMPLE / "zhilian_listings_fanjuchen_2024.csv").read_text(encoding="utf-8").startswith("\ufeff0,1,2,3")
    for path in SAMPLE.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert not frame.apply(lambda row: contact_details(",".join(row)), axis=1).any(), path.name
    assert contact_details("联系电话：13812345678") and contact_details("微信：abc_12345")
    assert contact_details("hr@example.com") and not contact_details("微信公众号运营|数据分析")
