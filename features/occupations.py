"""Free job titles → 职业分类大典 (2022) detailed codes: "Java开发工程师" → 2-02-10-03 计算机软件工程技术人员.

The table is `features/data/cn_occupations_2022.csv` (the flattened 2022 tree: 8 major, 79 medium, 450 minor groups,
1,639 detailed occupations; OCR-derived, so a few names and codes are off). `OccupationCoder` scores a title against
every detailed occupation by character n-gram TF-IDF cosine and keeps the best one when its cosine reaches
`threshold`:

- **What a title is compared with.** One row per surface form of an occupation: its official name and each of a
  short hand-written list of everyday title words (`_ALIASES`: "骑手" for 网约配送员, "前端" for 计算机软件工程技术人员;
  `_SKILLS`, weaker: "java"). Official names are written in the standard's own register ("计算机软件工程技术人员") and
  postings in the market's ("Java开发工程师"); without the lists most IT and service titles share no n-gram with any
  name but "工程" (benchmarks/results/cn_occupations.md measures both). Each row is the unit TF-IDF vector of the
  surface form plus `parent_weight` × that of its minor group's name and `medium_weight` × its medium group's,
  renormalised: "电气工程师" meets 电气工程技术人员 (the minor group) although the detailed name says 电工电器.
- **Cleaning.** NFKC, lower case; salaries ("9k-15k", "月入1w"), benefits and come-ons (包吃住, 五险一金, 双休, 急聘),
  seniority (高级, 资深, 实习生, 助理), posting codes ("J10033", "2025届") are removed. Each title is then scored as a
  few candidates — the whole title with bracketed parts dropped, the whole title with them kept, and each piece between
  separators (- / 、 , + space) of both — and the best-scoring candidate is the title's: "长沙-Java开发工程师" is scored
  on "java开发工程师", "【喜茶配送员】大家小巷跑一跑" on "喜茶配送员".
- **Unknown n-grams count.** A title's vector keeps the n-grams the table never uses (at the table's highest IDF) in
  its norm, so that "今天天气很好" is not a 天气预报 worker on the strength of one shared bigram: only the share of
  the title the table can explain scores.
- **Codes pass through.** A title that is a code of the table — "4-01-02-04" or "4-01-02", alone or followed by a
  name ("2-02-10-03 计算机软件工程技术人员", what `matcher.adapters.cn_postings` writes), or a 5-digit GB/T 6565 code
  "40102" alone — is returned as written with the table's name and score 1.0. gbm codes are read from the tree's own
  `seq` (the table's `gbm` has two OCR slips: "10" for 10000, "3030" for 30300).

Vectorized: the unique candidates of a call are scored in batches by one sparse product with the occupation rows
each; no Python loop runs per title or per occupation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

__all__ = ["OccupationCoder", "read_occupations"]

_TABLE = "cn_occupations_2022.csv"

# Everyday title words per detailed code, space-separated: the words postings use where the standard's name shares
# no characters with them. Written from common Chinese posting vocabulary, one entry per occupation a public
# employment service sees often; where a title word fits several codes it goes to the one the 2022 tree describes
# it under (产品经理: no exact code, nearest 信息系统分析; 测试: 计算机软件测试员).
_ALIASES: Mapping[str, str] = {
    "2-02-10-03": "软件工程师 软件开发 开发工程师 程序开发 前端 后端 web前端 全栈 安卓开发 ios开发 小程序 架构师 爬虫",
    "2-02-10-02": "硬件工程师 硬件开发",
    "2-02-10-04": "网络工程师 网络管理",
    "2-02-10-05": "产品经理 需求分析 业务分析 系统分析 ba",
    "2-02-10-06": "嵌入式 单片机 驱动开发",
    "2-02-10-07": "网络安全 安全工程师 渗透测试",
    "2-02-10-08": "运维工程师 运维 系统运维 it运维 实施工程师",
    "2-02-30-09": "数据分析 数据分析师 数据处理 数据挖掘 数据科学家",
    "2-02-30-04": "项目经理 项目管理",
    "2-02-38-01": "算法工程师 算法 人工智能 ai 机器学习 深度学习 大模型 计算机视觉 机器视觉 自然语言处理 nlp",
    "2-02-38-03": "大数据 大数据开发 数据开发 数据开发工程师 数据工程师 数据仓库 数仓 数据治理 数据平台",
    "2-02-38-04": "云计算 云平台",
    "2-02-07-01": "机械工程师 结构工程师 机械设计",
    "2-02-11-01": "电气工程师 电气",
    "2-02-09-02": "电子工程师",
    "2-09-06-01": "ui ui设计 交互设计 视觉设计 平面设计 美工",
    "4-07-02-05": "商业分析 商业数据分析 商务分析",
    "4-04-05-02": "测试工程师 软件测试 测试 测开",
    "4-04-05-04": "dba 数据库管理",
    "4-04-05-03": "电话客服 话务员",
    "4-07-02-03": "客服 客户服务 售后",
    "4-10-08-01": "骑手 外卖 配送员 送餐员 配送 外卖员",
    "4-01-02-01": "销售 销售代表 销售员 业务员 推销员 销售经理 客户经理 电话销售",
    "4-01-02-03": "营业员 导购 店员",
    "4-01-06-01": "电商运营 电商 淘宝 天猫 亚马逊",
    "4-01-06-02": "主播 带货 直播",
    "4-13-01-05": "新媒体运营 新媒体 自媒体 短视频运营",
    "2-06-03-00": "会计 财务 出纳",
    "2-06-08-01": "人事 hr 人力资源",
    "2-10-02-01": "文案 编辑",
    "4-06-02-01": "房产经纪 置业顾问 房产中介 地产",
    "4-02-02-01": "司机 网约车司机 出租车司机 客车司机",
    "4-02-02-02": "货车司机 货运司机",
    "6-30-01-00": "叉车 叉车司机 铲车",
    "4-02-06-01": "仓管 库管 仓库管理",
    "4-03-02-01": "厨师 厨工 帮厨 炒锅",
    "4-03-02-05": "服务员 餐厅服务员 传菜",
    "4-10-01-06": "保姆 家政",
    "4-10-03-02": "理发师 发型师",
    "4-14-05-01": "健身教练 私教",
    "6-31-03-05": "质检 品检",
    "1-06-01-02": "总经理 副总经理 ceo",
    "3-01-02-05": "录入 数据录入",
    "2-10-05-00": "英语翻译 日语翻译 口译 笔译",
}
# Skills and tools that name no role ("python" is also written by testers and quants): their rows count `skill_weight`
# times, so that a role word in the same title ("python算法工程师", "java测试") outweighs them.
_SKILLS: Mapping[str, str] = {
    "2-02-10-03": "java python php c++ c# golang go语言 .net android 安卓 ios 鸿蒙 javascript vue react",
    "2-02-38-03": "hadoop spark flink hive etl",
    "2-02-30-09": "bi sql excel spss",
}

_SALARY = (r"\d+(?:\.\d+)?\s*[kw千万元]\+?(?:\s*[-~～至到]\s*\d+(?:\.\d+)?\s*[kw千万元]?\+?)?"
           r"|(?:月薪|底薪|月入|年薪|日薪|薪资|工资|收入|综合)\s*\d[\d.]*\s*[kw千万元]?\+?")
_CODES = r"[a-z]*\d{3,}[a-z\d]*|\d{2,4}届|职位编码|编号"
_NOISE = " ".join((  # come-ons, benefits, pay terms, job types, seniority, place words: no occupation in them
    "急聘 急招 诚聘 热招 高薪 直招 直聘 校园招聘 社会招聘 校招 社招 包吃住 包食宿 管吃住 提供吃住 吃住 包吃 包住 管住",
    "食宿 五险一金 六险一金 五险 社保 周末双休 双休 单休 不加班 提成 底薪 保底 奖金 补贴 福利 待遇超级好 待遇",
    "可预支 预支 日结 周结 月结 长期稳定 长期 稳定 短期 兼职 全职 实习生 实习 应届生 应届 毕业生 在校生 储备干部",
    "管培生 管理培训生 人才储备 储备 博士后 博士 硕士 本科 中高级 高级 资深 初级 中级 首席 senior junior",
    "leader 负责人 主管 组长 总监 专家 助理 方向 岗位 岗 上班 驻场 驻店 全国有岗")).split()
_NOISE_PATTERN = "|".join(sorted(map(re.escape, _NOISE), key=len, reverse=True))  # longest first: 包吃住 before 包吃
_BRACKETS = r"[\(\[\{【〔〖「『《<][^\)\]\}】〕〗」』》>]*[\)\]\}】〕〗」』》>]?"
_BRACKET_MARKS = r"[\(\)\[\]\{\}【】〔〕〖〗「」『』《》<>]"
_SEPARATORS = r"[\s\-—–_/|、,，;；+·•:：!！?？~～]+"
# a 大典 code, alone or before its name; a 5-digit gbm only alone ("20000 急聘销售" is pay, not 专业技术人员)
_CODE_AT_START = re.compile(r"^\s*(\d-\d{2}(?:-\d{2}){0,2}(?=\s|$)|\d{5}(?=\s*$))")


def read_occupations() -> pd.DataFrame:
    """The shipped 2022 table, every level (columns level, seq, gbm, name, major_seq, …), as strings."""
    with resources.as_file(resources.files("features.data").joinpath(_TABLE)) as path:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _derived_gbm(seq: pd.Series) -> pd.Series:
    """GB/T 6565 code of a level 1-3 `seq`: "2" → 20000, "2-02" → 20200, "2-02-10" → 20210; "" for level 4."""
    parts = seq.str.split("-", expand=True).reindex(columns=range(4)).astype(object).fillna("")
    gbm = parts[0] + parts[1].where(parts[1].ne(""), "00") + parts[2].where(parts[2].ne(""), "00")
    return gbm.where(parts[3].eq(""), "")


def _normalised(titles: pd.Series) -> pd.Series:
    return titles.fillna("").astype(str).str.normalize("NFKC").str.lower()


def _cleaned(text: pd.Series) -> pd.Series:
    """Salaries, posting codes, come-ons and seniority out; separators and runs of spaces → one space."""
    text = text.str.replace(_SALARY, " ", regex=True).str.replace(_CODES, " ", regex=True)
    text = text.str.replace(_NOISE_PATTERN, " ", regex=True)
    return text.str.replace(_SEPARATORS, " ", regex=True).str.strip()


def _candidates(titles: pd.Series) -> pd.DataFrame:
    """Each title's candidate strings: `title` (its position), `text`, `tier` 0 for the title without its bracketed
    parts, whole and piece by piece, 1 for the same with them kept (brackets mostly qualify: "(汽车)", "(java方向)")."""
    text = _normalised(titles).str.replace(_SALARY, " ", regex=True)  # before "-" splits "9k-15k"
    parts = []
    for tier, whole in enumerate((text.str.replace(_BRACKETS, " ", regex=True),
                                  text.str.replace(_BRACKET_MARKS, " ", regex=True))):
        texts = _cleaned(pd.concat([whole, whole.str.split(_SEPARATORS, regex=True).explode()]).dropna().astype(str))
        parts.append(pd.DataFrame({"title": texts.index, "text": texts.to_numpy(), "tier": tier}))
    every = pd.concat(parts, ignore_index=True)
    return every[every["text"].ne("")].drop_duplicates(["title", "text"])


def _unit_rows(matrix: sp.csr_matrix, extra_sq: np.ndarray | None = None) -> sp.csr_matrix:
    """Rows scaled to unit norm; `extra_sq` adds mass the matrix does not hold (unknown n-grams) to each norm."""
    squares = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    if extra_sq is not None:
        squares = squares + extra_sq
    norms = np.sqrt(squares)
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ matrix, dtype=np.float32)


class OccupationCoder:
    """Maps free titles to 2022 detailed codes (see the module docstring).

    threshold: lowest cosine that gives a code (0.3: the best of a sweep on the judged dev sample, held out on a
    second one; benchmarks/results/cn_occupations.md).
    parent_weight / medium_weight: weight of the minor / medium group's name in an occupation's row. aliases: use the
    everyday title words (`_ALIASES`, `_SKILLS`); False scores against the table's names alone. skill_weight: factor
    on the cosine with a skill row.
    ngram_range: character n-grams (inside words, as `features.text`). batch: candidates scored per sparse product.
    """

    def __init__(self, threshold: float = 0.3, parent_weight: float = 0.5, medium_weight: float = 0.25,
                 aliases: bool = True, skill_weight: float = 0.7, ngram_range: tuple[int, int] = (1, 3),
                 batch: int = 4096) -> None:
        self.threshold = threshold
        self.parent_weight = parent_weight
        self.medium_weight = medium_weight
        self.aliases = aliases
        self.skill_weight = skill_weight
        self.ngram_range = ngram_range
        self.batch = batch

    def fit(self, table: pd.DataFrame | None = None) -> OccupationCoder:
        """Learns the occupation rows from `table` (default: the shipped 2022 table, `read_occupations`)."""
        table = read_occupations() if table is None else table.fillna("").astype(str)
        detailed = table[table["level"].eq("4")].reset_index(drop=True)
        self.codes_ = detailed["seq"].to_numpy(dtype=object)
        self.names_ = detailed["name"].to_numpy(dtype=object)
        groups = table[table["level"].ne("4")]
        gbm = _derived_gbm(groups["seq"])
        # A gbm shared by a group and its only child ("10100": 1-01 and 1-01-00) names the deeper one.
        self.known_ = {**dict(zip(gbm, groups["name"], strict=True)),
                       **dict(zip(table["seq"], table["name"], strict=True))}
        surfaces = pd.Series(self.names_, dtype=object)
        weights = [np.ones(len(surfaces), dtype=np.float32)]
        for words, weight in ((_ALIASES, 1.0), (_SKILLS, self.skill_weight)) if self.aliases else ():
            extra = pd.Series(words, dtype=object).str.split().explode()
            at = pd.Index(self.codes_).get_indexer(extra.index)
            surfaces = pd.concat([surfaces, pd.Series(extra.to_numpy(), index=at)[at >= 0]])
            weights.append(np.full(int((at >= 0).sum()), weight, dtype=np.float32))
        self.row_occupation_ = surfaces.index.to_numpy(dtype=np.int64)
        self.row_weight_ = np.concatenate(weights)
        minor, medium = (detailed[c].to_numpy(dtype=object)[self.row_occupation_]
                         for c in ("minor_name", "medium_name"))
        text = _normalised(surfaces.reset_index(drop=True))
        self.vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, lowercase=False,
                                           sublinear_tf=True, norm=None, dtype=np.float32)
        self.vectorizer_.fit(pd.concat([text, pd.Series(detailed["minor_name"].unique()),
                                        pd.Series(detailed["medium_name"].unique())]))
        self.unknown_idf_ = float(self.vectorizer_.idf_.max())
        own, up, top = (_unit_rows(sp.csr_matrix(self.vectorizer_.transform(v))) for v in (text, minor, medium))
        rows = _unit_rows(sp.csr_matrix(own + self.parent_weight * up + self.medium_weight * top))
        self.rows_t_ = sp.csc_matrix((sp.diags(self.row_weight_) @ rows).T, dtype=np.float32)
        return self

    def predict(self, titles: pd.Series | np.ndarray | list[str]) -> pd.DataFrame:
        """One row per title, in order: code ("" = none close enough), name, score (the best cosine, also where
        it fell short of the threshold; 1.0 for a code passed through; 0.0 for a blank title)."""
        titles = pd.Series(np.asarray(titles, dtype=object)).reset_index(drop=True)
        code = pd.Series("", index=titles.index, dtype=object)
        name = code.copy()
        score = pd.Series(0.0, index=titles.index)
        given = _normalised(titles).str.extract(_CODE_AT_START, expand=False)
        known = given.map(self.known_)
        passed = known.notna()
        code[passed], name[passed], score[passed] = given[passed], known[passed], 1.0
        scored = _candidates(titles[~passed])
        if len(scored):
            unique = pd.Index(scored["text"].unique())
            best, cosine = self._score(unique.to_numpy(dtype=object))
            at = unique.get_indexer(scored["text"])
            scored = scored.assign(best=best[at], cosine=cosine[at])
            # The bracketed parts count only where the rest of the title reaches no code ("【配送员】大家小巷跑一跑").
            plain = scored["tier"].eq(0) & scored["cosine"].ge(self.threshold)
            scored = scored[scored["tier"].eq(0) | ~plain.groupby(scored["title"]).transform("any")]
            top = scored.sort_values(["title", "cosine"], ascending=[True, False], kind="stable")
            top = top.drop_duplicates("title").set_index("title")
            score[top.index] = top["cosine"].astype(float)
            hit = top.index[top["cosine"].to_numpy() >= self.threshold]
            occupation = top.loc[hit, "best"].to_numpy(dtype=np.int64)
            code[hit], name[hit] = self.codes_[occupation], self.names_[occupation]
        return pd.DataFrame({"code": code, "name": name, "score": score.round(4)})

    def _score(self, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The best occupation (index into codes_) and its cosine for each cleaned candidate string."""
        best = np.zeros(len(texts), dtype=np.int64)
        cosine = np.zeros(len(texts), dtype=np.float32)
        vocabulary = self.vectorizer_.vocabulary_
        for start in range(0, len(texts), self.batch):
            part = texts[start:start + self.batch]
            known = sp.csr_matrix(self.vectorizer_.transform(part))
            # n-grams the table never uses: their count, at the highest IDF, enlarges the title's norm
            counts = CountVectorizer(analyzer=self.vectorizer_.build_analyzer())
            every = sp.csr_matrix(counts.fit_transform(part), dtype=np.float32)
            unseen = ~pd.Index(counts.get_feature_names_out()).isin(list(vocabulary))
            extra = every[:, np.flatnonzero(unseen)]
            extra.data = (1.0 + np.log(extra.data)) * self.unknown_idf_
            similarity = (_unit_rows(known, np.asarray(extra.multiply(extra).sum(axis=1)).ravel())
                          @ self.rows_t_).toarray()
            row = similarity.argmax(axis=1)
            best[start:start + len(part)] = self.row_occupation_[row]
            cosine[start:start + len(part)] = similarity[np.arange(len(part)), row]
        return best, cosine
