"""features.redaction: protected facts leave the text the encoder reads, and nothing else does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.redaction import redact_protected
from features.text import TextEncoder
from matcher.policy.audit_groups import TEXT_STATEMENTS

STATEMENTS = (
    *TEXT_STATEMENTS,
    "性别：男 年龄：28 婚姻状况：已婚 籍贯：湖北武汉 民族：汉族 健康状况：良好",
    "本人女，90后，育有一个孩子，户口所在地：四川成都，乙肝携带者",
    "出生日期：1988.05.12；户籍：城镇户口；宗教信仰：佛教",
    "Age: 41, sex: F, marital status: divorced, date of birth: 1983, place of birth: Ohio",
)
SAMPLE = Path(__file__).parent / "data" / "cn_postings_discrimination_sample.csv"
KEPT = (
    "熟悉Java开发，3年经验，本科，会Spring Boot",
    "Forklift driver at Walmart, Dallas, TX. Warehouse work, inventory",
    "女装导购 销售经验 儿童课程 Hive 数据仓库 archive 慢性病管理",
    "Catholic Charities caseworker; Jewish Community Center front desk; raceway attendant",
    "毕业于中央民族大学，曾在甘孜藏族自治州和宁夏回族自治区工作，理想信仰坚定",
)


@pytest.mark.parametrize("statement", STATEMENTS)
def test_a_statement_of_protected_facts_disappears_completely(statement: str) -> None:
    assert redact_protected([statement])[0] == ""
    for text in KEPT:  # written before real content, it leaves exactly the content's redaction
        assert redact_protected([statement + " " + text])[0] == redact_protected([text])[0]


def test_ordinary_text_is_kept_word_for_word() -> None:
    for text in KEPT:
        kept = redact_protected([text])[0]
        # NFKC folds the full-width comma; nothing else changes
        assert kept == text.replace("，", ","), text


def test_posting_restrictions_go_and_the_job_stays() -> None:
    out = redact_protected(["Java开发，男性优先，年龄18-35岁，本地户口，已婚已育，熟悉Spring"])[0]
    assert out == "Java开发 熟悉Spring"
    out = redact_protected(["Cashier. Females only, must be under 30 years old. No disabilities."])[0]
    assert out == "Cashier must be years old"


def test_real_postings_lose_little_text() -> None:
    """On the hand-labelled real postings sample: every posting the flagger marks for age loses its age bound, and
    the redaction removes under 1% of all characters."""
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    text = sample["text"]
    out = pd.Series(redact_protected(text))
    kept = out.str.len().sum() / text.str.normalize("NFKC").str.strip().str.len().sum()
    assert kept > 0.99
    age = sample["expected"].str.contains("age")
    assert age.sum() > 20
    assert not out[age.to_numpy()].str.contains("[0-9]{2} *周?岁以下", regex=True).any()


def test_arrow_re2_and_python_re_agree() -> None:
    texts = pd.Series([s + " " + k for s in STATEMENTS for k in KEPT] * 20)
    assert (redact_protected(texts, re2=True) == redact_protected(texts, re2=False)).all()


def test_encoder_reads_redacted_text_and_empty_stays_empty() -> None:
    corpus = np.asarray([*KEPT, *KEPT, "仓库管理 叉车 物流", "仓库管理 叉车 物流"], dtype=object)
    encoder = TextEncoder(dim=4).fit(corpus)
    plain = encoder.embed(np.asarray(KEPT, dtype=object))
    stated = encoder.embed(np.asarray([s + " " + k for s, k in zip(STATEMENTS, KEPT, strict=False)], dtype=object))
    np.testing.assert_array_equal(plain, stated)
    assert not encoder.embed(np.asarray(STATEMENTS, dtype=object)).any()
    assert encoder.prepare(np.asarray([None, np.nan, "  "], dtype=object)).tolist() == ["", "", ""]
    raw = TextEncoder(dim=4, redact=False).fit(corpus)
    assert not np.array_equal(raw.embed(np.asarray(KEPT, dtype=object)),
                              raw.embed(np.asarray([s + " " + k for s, k in zip(STATEMENTS, KEPT, strict=False)],
                                                   dtype=object)))
