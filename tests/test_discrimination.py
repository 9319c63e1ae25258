"""Known answers and real-data checks for features.discrimination (restrictive vacancy text).

The real-data test reads only tests/data/cn_postings_discrimination_sample.csv: 289 real Chinese postings with a
hand-made `expected` column (see tests/data/README.md for where every row came from and how it was labelled).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.discrimination import (
    _ANY_PATTERN,
    _CATEGORY_EXTRACTS,
    _CATEGORY_PATTERNS,
    _NEUTRAL,
    _TEXT_DTYPE,
    CATEGORIES,
    flag_postings,
    redact_restrictions,
)

SAMPLE = Path(__file__).parent / "data" / "cn_postings_discrimination_sample.csv"
MIN_POSITIVES_FOR_RATES = 5  # fewer hand-labelled positives than this: precision/recall would be noise

RESTRICTIVE: list[tuple[str, set[str]]] = [
    # gender
    ("限男性，能适应出差", {"gender"}),
    ("仅限女性", {"gender"}),
    ("男性优先", {"gender"}),
    ("女士优先，有经验者优先", {"gender"}),
    ("性别：男", {"gender"}),
    ("性别要求：女", {"gender"}),
    ("要求：女", {"gender"}),
    ("诚招女生数名做客服", {"gender"}),
    ("招聘女前台一名", {"gender"}),
    ("任职要求：\n1、男，能吃苦耐劳；\n2、有驾照", {"gender"}),
    ("只招男生", {"gender"}),
    ("Male only.", {"gender"}),
    ("Females preferred for this role.", {"gender"}),
    ("We are looking for a female assistant", {"gender"}),
    ("Gender: male", {"gender"}),
    # age
    ("年龄18-35岁", {"age"}),
    ("35岁以下，本科及以上学历", {"age"}),
    ("年龄不超过40周岁", {"age"}),
    ("年龄在25-30岁之间为优", {"age"}),
    ("30岁以上", {"age"}),
    ("年满20周岁", {"age"}),
    ("限90后", {"age"}),
    ("95后优先", {"age"}),
    ("年龄超过33岁不考虑", {"age"}),
    ("年龄：22-28岁", {"age"}),
    ("１８－３５周岁", {"age"}),  # full-width digits and dash
    ("age 20-30", {"age"}),
    ("Candidates under 35.", {"age"}),
    ("Applicants aged 25-40 preferred", {"age"}),
    ("must be 20-30 years old", {"age"}),
    ("Applicants must be 25 years old", {"age"}),
    ("Maximum age 45", {"age"}),
    # marital / childbearing
    ("已婚已育优先", {"marital_childbearing"}),
    ("未婚", {"marital_childbearing"}),
    ("两年内无生育计划", {"marital_childbearing"}),
    ("孕妇勿扰", {"marital_childbearing"}),
    ("宝妈优先", {"marital_childbearing"}),
    ("婚姻状况：已婚", {"marital_childbearing"}),
    ("Must be single.", {"marital_childbearing"}),
    ("married candidates preferred", {"marital_childbearing"}),
    ("no plans to have children in the next two years", {"marital_childbearing"}),
    # hukou / native place
    ("本地户口", {"hukou_native_place"}),
    ("限本市户籍", {"hukou_native_place"}),
    ("籍贯：河南", {"hukou_native_place"}),
    ("北京户口优先", {"hukou_native_place"}),
    ("河南籍勿扰", {"hukou_native_place"}),
    ("新疆人勿扰", {"hukou_native_place"}),
    ("需具有上海市常住户口", {"hukou_native_place"}),
    ("京外生源", {"hukou_native_place"}),
    ("本地人优先", {"hukou_native_place"}),
    ("Local hukou required.", {"hukou_native_place"}),
    ("Must hold a Shanghai hukou", {"hukou_native_place"}),
    ("local residents only", {"hukou_native_place"}),
    # ethnicity (and religion, folded in)
    ("汉族", {"ethnicity"}),
    ("限汉族", {"ethnicity"}),
    ("民族：汉", {"ethnicity"}),
    ("少数民族勿扰", {"ethnicity"}),
    ("维吾尔族除外", {"ethnicity"}),
    ("无宗教信仰", {"ethnicity"}),
    ("Han ethnicity only", {"ethnicity"}),
    ("Ethnicity: Han", {"ethnicity"}),
    # health
    ("无乙肝", {"health"}),
    ("乙肝携带者勿扰", {"health"}),
    ("身体健康，无传染病", {"health"}),
    ("无精神病史", {"health"}),
    ("无残疾，四肢健全", {"health"}),
    ("入职体检含乙肝五项", {"health"}),
    ("乙肝检查合格", {"health"}),
    ("No disabilities.", {"health"}),
    ("HBV carriers need not apply", {"health"}),
    ("free of infectious diseases", {"health"}),
    # several at once
    ("限未婚女性", {"marital_childbearing", "gender"}),
    ("任职要求：女，20-30岁，未婚，本地户口，身体健康，无乙肝",
     {"gender", "age", "marital_childbearing", "hukou_native_place", "health"}),
    ("Requirements: female, aged 22-30, must be single, local hukou, no disabilities.",
     {"gender", "age", "marital_childbearing", "hukou_native_place", "health"}),
]

NOT_RESTRICTIVE: list[str] = [
    # neutral statements
    "男女不限", "性别不限", "不限性别", "不限年龄", "年龄不限", "年龄、性别不限", "性别：不限", "年龄：不限",
    "任职要求：\n1、本科以上学历\n2、男女不限\n3、能出差", "男女比例均衡", "男女各半的团队氛围",
    # industries and products
    "男装设计师", "女装店长", "母婴行业运营", "负责男装品牌的线上运营", "女装导购",
    # numbers that are not applicant ages; audiences and colleagues
    "18个月以上工作经验", "18-24个月的项目经验", "3-5年经验", "2018-2020年", "工作时间9:00-18:00",
    "8-10岁Python课程教研", "负责12-18岁学生的辅导", "面向25-40岁女性用户", "3-12岁儿童英语老师",
    "团队平均年龄28岁", "公司都是以90后为主的小伙伴组成", "工作年限3年以上",
    # legal working age
    "年满18周岁", "18岁以上", "18周岁以上", "未满18周岁勿扰",
    # benefits
    "带薪年假、婚假、产假、陪产假", "五险一金（含生育保险）", "子女教育补助", "结婚礼金", "提供单身公寓",
    "解决北京户口", "可协助办理落户", "户口所在地派出所开具无犯罪记录证明",
    # place words
    "本地生活服务平台", "RPA本地化项目", "外地员工可提供住宿补贴", "上海本地热招，跨区域发布",
    # health: decided not restrictive (module docstring)
    "身体健康", "健康证", "体检合格", "无色盲色弱", "残疾人优先", "健康医疗行业经验优先", "慢性病管理平台",
    "非传染性疾病研究", "乙肝疫苗研发经验优先", "具有正常履行职责的身体条件",
    # ethnicity look-alikes, nationality
    "中央民族大学毕业", "宁夏回族自治区", "广西壮族自治区南宁市", "民族品牌", "具有中华人民共和国国籍",
    # team marketing, contacts, dorms
    "帅哥美女多", "上市公司，美女如云", "老板是暖男", "有男生员工宿舍", "联系人：欧阳女士", "权限管理",
    # English
    "Project manager; package management", "Average age of the team is 28", "Native English speaker",
    "React Native developer", "native app experience",
    "We are an equal opportunity employer and do not discriminate based on age, gender, marital status or disability.",
    "Male or female candidates welcome", "regardless of gender and age", "No age limit", "Applicants must be 18+",
    "age 18 or over", "must be 18 years of age or older", "team of under 50 employees", "reduce latency below 30 ms",
    "in good health", "Single page application", "single sign-on", "Hukou sponsorship available",
    "Experience with HIV research programmes", "disease modelling", "manage 20 users",
]


def _flagged(frame: pd.DataFrame, row: int) -> set[str]:
    return {name for name in CATEGORIES if frame[name].iloc[row]}


@pytest.mark.parametrize(("text", "expected"), RESTRICTIVE, ids=[t for t, _ in RESTRICTIVE])
def test_restrictive_sentences_are_flagged(text: str, expected: set[str]) -> None:
    out = flag_postings([text])
    assert _flagged(out, 0) == expected
    assert out["categories"].iloc[0] == "|".join(c for c in CATEGORIES if c in expected)
    for name in expected:
        assert f"{name}=" in out["evidence"].iloc[0]


@pytest.mark.parametrize("text", NOT_RESTRICTIVE)
def test_non_restrictive_sentences_are_not_flagged(text: str) -> None:
    out = flag_postings([text])
    assert _flagged(out, 0) == set(), out["evidence"].iloc[0]
    assert out["categories"].iloc[0] == "" and out["evidence"].iloc[0] == ""


def test_output_shape_index_and_missing_values() -> None:
    texts = pd.Series(["男性优先，年龄18-35岁", None, np.nan, "", "Python 开发"], index=[10, 11, 12, 13, 14])
    out = flag_postings(texts)
    assert list(out.columns) == [*CATEGORIES, "categories", "evidence"]
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert all(out[name].dtype == bool for name in CATEGORIES)
    assert out["categories"].tolist() == ["gender|age", "", "", "", ""]
    assert out["evidence"].iloc[0] == "gender=男性优先; age=年龄18-35岁"
    assert flag_postings([]).shape == (0, len(CATEGORIES) + 2)


def test_evidence_is_short() -> None:
    out = flag_postings(["年龄要求" + " " * 200 + "18-35岁"])
    assert out["age"].iloc[0]
    assert 0 < len(out["evidence"].iloc[0]) <= len("age=") + 40


def test_redaction_removes_restrictions_and_keeps_the_job() -> None:
    red = redact_restrictions(["Java开发，男性优先，年龄18-35岁，本地户口，熟悉Spring"]).iloc[0]
    for term in ("男性优先", "18-35", "本地户口"):
        assert term not in red
    assert "Java开发" in red and "熟悉Spring" in red
    assert not flag_postings([red])["categories"].iloc[0]


def _sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def test_sample_is_small_real_and_labelled() -> None:
    sample = _sample()
    assert list(sample.columns) == ["source_file", "source_row", "text", "expected"]
    assert len(sample) <= 300 and SAMPLE.stat().st_size < 300_000
    assert sample["source_file"].str.startswith("cn_job_postings/").all()
    labels = sample["expected"].str.split("|").explode()
    assert set(labels) <= {"", *CATEGORIES}
    assert (sample["expected"] == "").sum() > len(sample) / 2  # real negatives, not only hits


def rates(sample: pd.DataFrame, out: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """Per category: (true positives, false positives, false negatives) of the flagger vs the hand labels."""
    result = {}
    for name in CATEGORIES:
        truth = sample["expected"].str.split("|").map(lambda labels, n=name: n in labels).to_numpy(dtype=bool)
        got = out[name].to_numpy(dtype=bool)
        result[name] = (int((truth & got).sum()), int((~truth & got).sum()), int((truth & ~got).sum()))
    return result


def test_precision_and_recall_on_hand_labelled_real_postings() -> None:
    sample = _sample()
    counts = rates(sample, flag_postings(sample["text"]))
    for name, (tp, fp, fn) in counts.items():
        if tp + fn >= MIN_POSITIVES_FOR_RATES:
            assert tp / (tp + fp) >= 0.9, (name, counts[name])
            assert tp / (tp + fn) >= 0.8, (name, counts[name])
        else:  # too few real positives to rate: at least no more than one false alarm on ~290 real postings
            assert fp <= 1, (name, counts[name])
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    assert tp / (tp + fp) >= 0.9 and tp / (tp + fn) >= 0.8, counts


def test_re2_and_python_re_agree() -> None:
    texts = pd.concat([_sample()["text"], pd.Series([t for t, _ in RESTRICTIVE] + NOT_RESTRICTIVE)])
    pd.testing.assert_frame_equal(flag_postings(texts, re2=True), flag_postings(texts, re2=False))
    pd.testing.assert_series_equal(redact_restrictions(texts, re2=True).astype(object),
                                   redact_restrictions(texts, re2=False).astype(object))


def test_patterns_stay_in_the_subset_arrow_runs_natively() -> None:
    # Whatever pandas would hand back to Python's re (look-arounds, \s, \d, \b on non-ASCII text, `$` with
    # newlines) silently costs ~10x; this keeps a future pattern edit from doing that.
    arrow = pd.array(["男\n女"], dtype=_TEXT_DTYPE)
    needs_python = getattr(arrow, "_needs_python_regex", None)
    if needs_python is None:
        pytest.skip("this pandas has no _needs_python_regex")
    for name, pattern in {"neutral": _NEUTRAL, "any": _ANY_PATTERN, **_CATEGORY_PATTERNS,
                          **{f"{k} (extract)": v for k, v in _CATEGORY_EXTRACTS.items()}}.items():
        assert not needs_python(pattern), name


def test_twenty_thousand_postings_flag_in_one_pass() -> None:
    # The real sample tiled to 20k rows: ~5M characters, a third of them full descriptions and ~12% flagged, so
    # harsher than a real catalogue. Large inputs take the RE2 path (tested equal to Python's re above).
    texts = pd.Series(np.resize(_sample()["text"].to_numpy(dtype=object), 20_000))
    out = flag_postings(texts)
    assert len(out) == 20_000 and out["age"].sum() > 1_000
    np.testing.assert_array_equal(out["age"].to_numpy(), np.resize(flag_postings(_sample()["text"])["age"], 20_000))
