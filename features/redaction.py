"""Remove protected attributes from free text before it becomes a text vector.

The catalogue never reads protected columns, but free text can carry the same facts: a Chinese resume commonly
opens "男，28岁，已婚，汉族，河南籍"; a posting says "限男性，35岁以下". A TF-IDF/SVD embedding would pick those up
and the ranker could learn them, which is exactly what must not happen (就业促进法; FORMAT.md's protected columns).
So every text the encoder sees (fit and transform, seekers and jobs) goes through `redact_protected` first:

- personal statements (`_PERSONAL`): gender, age and birth date, marital / childbearing status, hukou and native
  place, ethnicity and religion, health and disability, in Chinese and English, as resumes state them;
- posting restrictions (features.discrimination's patterns), matched here without that module's neutral masks:
  the masks protect words like 女装 and 儿童 from being *flagged*; for embedding, blanking a little extra around
  an age or sex term ("8-10岁" of "8-10岁课程") costs nothing, whereas masking would delete 女装 or 儿童 outright.

Each match also takes the separators after it, so a statement made only of protected facts disappears completely
and the remaining text embeds exactly as if it had never been written: the audit's text counterfactual
(matcher.policy.audit) checks that by writing such statements into seekers' text and requiring identical rankings.
Patterns keep to the RE2 subset documented in features.discrimination, so large columns run in Arrow's kernels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

from features.discrimination import (
    _CONDITIONS,
    _ETHNIC_GROUPS,
    _HAN,
    _PATTERNS,
    _PROVINCES,
    _RANGE,
    _WB,
    _WE,
    _WS,
    _as_text,
)

__all__ = ["redact_protected"]

_FIELD: Final[str] = rf"{_WS}*[:：]?{_WS}*"  # "性别：" / "Age: " / "年龄 "
_COLON: Final[str] = rf"{_WS}*[:：]{_WS}*"  # English fields need the colon: "Religion Brand", "Raceway"
_PERSONAL: Final[dict[str, str]] = {
    "gender": "|".join((
        rf"(?:性别|gender|sex){_FIELD}(?:男性?|女性?|(?:male|female|m|f){_WE})",
        rf"(?:^|[,，、;；。|/()（）]){_WS}*(?:男|女)(?:性|士)?{_WS}*[,，、;；。|/()（）\n]",  # "男，28岁" item
        r"本人(?:男|女)(?:性)?",
        rf"{_WB}(?:male|female){_WE}",
    )),
    "age": "|".join((
        rf"年龄{_FIELD}(?:[0-9]{{1,2}}(?:{_WS}*周?岁)?{_RANGE})?[0-9]{{2}}(?:{_WS}*周?岁)?",
        rf"(?:[0-9]{{1,2}}(?:{_WS}*周?岁)?{_RANGE})?[0-9]{{1,2}}{_WS}*周?岁(?:半)?",
        rf"(?:出生(?:日期|年月|年份|于)?|生日|date of birth|dob|born(?:{_WS}+(?:in|on))?){_FIELD}[0-9]{{4}}"
        rf"(?:{_WS}*[-./年]{_WS}*[0-9]{{1,2}}(?:{_WS}*[-./月]{_WS}*[0-9]{{1,2}})?)?{_WS}*[日号]?",
        rf"[0-9]{{4}}{_WS}*年(?:{_WS}*[0-9]{{1,2}}{_WS}*月(?:{_WS}*[0-9]{{1,2}}{_WS}*[日号])?)?{_WS}*(?:出生|生人)",
        r"(?:[5-9]0|[5-9]5|00|05)后",
        rf"{_WB}(?:age|aged){_FIELD}[0-9]{{2}}{_WE}",
        rf"{_WB}[0-9]{{2}}{_WS}*(?:years?|yrs?)[ \t-]*old{_WE}",
    )),
    "marital_childbearing": "|".join((
        rf"(?:婚姻|婚育)(?:状况|情况)?{_FIELD}(?:已婚|未婚|离异|丧偶|单身|已育|未育)*",
        r"已婚|未婚|已育|未育|离异|丧偶|单身",
        rf"(?:育有|有){_WS}*[一二两三四1-4]{_WS}*(?:个|名)?(?:子女|孩子|小孩|儿子|女儿|宝宝)",
        rf"{_WB}marital{_WS}+status{_FIELD}(?:single|married|divorced|widowed)?",
        rf"{_WB}(?:married|unmarried|divorced|widowed|widow|widower)(?:{_WS}+with{_WS}+(?:[0-9]|one|two|three|four)?"
        rf"{_WS}*(?:kids?|children|child))?{_WE}",
    )),
    "hukou_native_place": "|".join((
        rf"(?:户口所在地|户籍所在地|户口|户籍|籍贯|生源地|出生地|祖籍){_FIELD}{_HAN}{{0,6}}",
        rf"{_PROVINCES}(?:市|省)?(?:籍|户口|户籍)",
        r"(?:农村|城镇|农业|非农业?|城市)(?:常住)?(?:户口|户籍)",
        rf"{_WB}(?:hukou|household{_WS}+registration|native{_WS}+place|place{_WS}+of{_WS}+(?:origin|birth)|"
        rf"birthplace){_COLON}(?:[a-z]+)?",
    )),
    "ethnicity_religion": "|".join((
        _ETHNIC_GROUPS,
        rf"民族{_COLON}{_HAN}{{1,5}}",  # the colon: 中央民族大学 is a school
        rf"(?:宗教信仰|信仰){_COLON}{_HAN}{{1,5}}",
        r"无宗教信仰|佛教徒|基督徒|基督教徒|天主教徒|伊斯兰教徒|穆斯林",
        # English only as a form field: bare "Catholic" / "Jewish" are mostly employers' names in real resumes
        rf"{_WB}(?:ethnicity|race|religion){_COLON}[a-z]+",
    )),
    "health_disability": "|".join((
        rf"(?:健康状况|身体状况){_FIELD}{_HAN}{{0,4}}",
        r"身体健康|(?:身体|肢体|视力|听力|言语|智力|精神|多重)?(?:残疾|残障)(?:人士?|证|军人)?",
        # conditions only in a statement's shape: "慢性病管理" is a nurse's job, "Hive" / "archive" contain "hiv"
        rf"(?:患有|患过|有){_WS}*{_CONDITIONS}|{_CONDITIONS}(?:病毒)?(?:携带者?|阳性|患者|病人)|大三阳|小三阳",
        rf"{_WB}(?:disability|health){_COLON}[a-z]+|{_WB}(?:i am|i'm){_WS}+(?:disabled|handicapped){_WE}",
        rf"{_WB}disabled{_WS}+veteran{_WE}",
    )),
}
# Personal statements first: at one position the first alternative wins, and "籍贯：湖北" must go with its value.
_PROTECTED: Final[str] = "(?im)" + "|".join(f"(?:{p})" for p in (*_PERSONAL.values(), *_PATTERNS.values()))
# Matches become a private-use mark first and the marks, with the separators around them, a space second: taking
# the separators in the first pass would eat the character an English word boundary (_WB) needs for the next fact.
_MARK: Final[str] = "\ue000"
# Autonomous prefectures and counties (甘孜藏族自治州) are places, not anyone's ethnicity: their 族 is hidden behind a
# second private-use mark while the patterns run, so the place name survives whole.
_AUTONOMOUS: Final[str] = "族自治"
_AUTONOMOUS_HIDDEN: Final[str] = "\ue001自治"
_MARKED_RUN: Final[str] = f"[ \t\r\n,，、;；。.|/()（）{_MARK}]*{_MARK}[ \t\r\n,，、;；。.|/()（）{_MARK}]*"
for _pattern in (_PROTECTED, _MARKED_RUN):
    re.compile(_pattern)  # fail at import, not on the first text


def redact_protected(texts: pd.Series | Iterable[str | None] | np.ndarray, *, re2: bool | None = None
                     ) -> np.ndarray:
    """The texts NFKC-folded, with personal statements and posting restrictions of protected attributes removed,
    whitespace-trimmed; an object array of str, "" where nothing is left. `re2` as in features.discrimination."""
    source = texts if isinstance(texts, pd.Series) else pd.Series(np.asarray(list(texts), dtype=object))
    text = _as_text(source.reset_index(drop=True), re2=re2)
    folded = (text.str.normalize("NFKC") + "\n").str.replace(_AUTONOMOUS, _AUTONOMOUS_HIDDEN, regex=False)
    marked = folded.str.replace(_PROTECTED, _MARK, regex=True)
    cleaned = marked.str.replace(_MARKED_RUN, " ", regex=True).str.replace("\ue001", "族", regex=False).str.strip()
    return cleaned.to_numpy(dtype=object)
