"""Seeded synthetic Chinese seekers, jobs and events in the FORMAT.md v1 format, with a known answer.

Why: real exports are small, private and carry no ground truth. Benchmarks need national scale (10^6 seekers,
2*10^5 jobs) and quality tests need to know what a perfect ranker would return. Every seeker here has a latent
occupation *family* (24 families, 120 real level-4 names from 职业分类大典 2022), a home location (a real
GB/T 2260 county, jittered by a few km), skills, education, experience and a salary expectation; events are
drawn from the utility below, so a test can check whether a ranker recovers it.

Utility of job j for seeker i (noise-free; `Latent.utility` computes it for any pairs)::

    u = 3.0 * [family_i == family_j]
      + 1.0 * [occupation_i == occupation_j]
      + 2.0 * |skills_i & skills_j| / max(1, |skills_j|)            share of the job's skills the seeker has
      - min(distance_km(home_i, workplace_j), 300) / 30
      + 1.5 * clip(ln(salary_max_j / expected_salary_min_i), -1, 0.25)   0 when the job states no salary
      - 1.0 * max(0, education_min_j - education_i)     ranks 初中 0, 高中/中专 1, 大专 2, 本科 3, 硕士 4;
                                                         0 when the job says 不限
      - 0.3 * max(0, experience_min_j - experience_years_i)

The latent values are the truth even where the observed cell is blank (a seeker who leaves the salary empty
still has an expectation).

Events: seeker i interacts with K_i ~ Poisson(events_per_seeker * G_i) jobs, G_i ~ Gamma(2, 1/2) (mean 1:
some seekers are far more active than others), K_i <= 20. The jobs are the top K_i of u + Gumbel noise over
60 candidates (24 same family and city, 12 same family and province, 8 same family, 8 same city, 8 uniform;
coarser strata stand in for empty ones) — Gumbel-max sampling without replacement with probability
proportional to exp(u), restricted to strata that hold nearly all of that mass. Each pair then walks a funnel
and logs one row per stage reached::

    exposed (always) -> viewed  p = sigmoid(u - 2.0) -> applied p = sigmoid(u - 3.5)
                     -> interviewed p = sigmoid(v - 5.0) -> hired p = sigmoid(v - 4.5)

where the employer's side v = u + employer_selectivity x (clip(experience_i - experience_min_j, -3, 3) / 3
+ clip(education_i - education_min_j, -2, 2) / 2) (education_min 不限 counts as 0): with the default
selectivity 0 employers want what seekers want (v = u), above 0 they also prefer candidates with more experience
and education than the post asks, which seekers do not weigh when they apply: the case two-way fit is for.

Exposure happens at a time uniform (skewed towards the posting date) while the job is open and inside
[start, start + days); each later stage follows after a log-normal delay (minutes, hours, days, a week) and is
dropped, with all later ones, if it would fall after the job closes or the window ends. `viewed` rows carry
the dwell time in seconds in `value`. So exposed > viewed > applied > interviewed > hired in frequency, and
timestamps increase along each pair's funnel.

Speed: everything is vectorized — numpy for numbers, pyarrow.compute `take` + element-wise join of
pre-rendered fragments for text — and events are scored in blocks of seekers, never per row.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from features.geo import haversine_km

__all__ = [
    "EDUCATION_LABELS",
    "FAMILIES",
    "OCCUPATIONS",
    "Latent",
    "SyntheticData",
    "family_of_occupation",
    "generate",
    "main",
]

# ----------------------------------------------------------------------------------------------------------
# Hand-written vocabulary. One family = occupations that share skills, so matching within it is "right".
# ----------------------------------------------------------------------------------------------------------

EDUCATION_LABELS: tuple[str, ...] = ("初中", "高中", "中专", "大专", "本科", "硕士")
_EDU_END_AGE = np.array([16, 18, 21, 22, 25], dtype=np.int64)  # rank -> age on leaving school
_N_RANKS = 5

_INDUSTRIES: tuple[str, ...] = (                  # GB/T 4754-2017 sections
    "制造业", "建筑业", "批发和零售业", "交通运输、仓储和邮政业", "住宿和餐饮业",
    "信息传输、软件和信息技术服务业", "金融业", "房地产业", "租赁和商务服务业",
    "居民服务、修理和其他服务业", "教育", "卫生和社会工作", "文化、体育和娱乐业",
    "公共管理、社会保障和社会组织", "农、林、牧、渔业", "电力、热力、燃气及水生产和供应业",
    "水利、环境和公共设施管理业",
)
# Industry mix of employers whose family works in any industry (accountants, clerks).
_ANY_INDUSTRY_WEIGHTS = (24, 8, 14, 6, 5, 8, 6, 5, 8, 5, 3, 3, 2, 2, 1, 1, 1)

_JOB_TYPES: tuple[str, ...] = ("full_time", "part_time", "gig", "internship", "public_welfare")
_GENERIC_SKILLS: tuple[str, ...] = ("Office", "驾驶证C1", "普通话二级甲等", "英语四级", "计算机二级")


@dataclass(frozen=True)
class _Occ:
    name: str                    # level-4 name in cn_occupations_2022.csv
    titles: tuple[str, ...]      # how job ads call it
    edu: int                     # typical education rank
    salary: int                  # typical monthly pay (CNY) in a tier-2 city


@dataclass(frozen=True)
class _Family:
    label: str
    work: str                    # "三年{work}经验"
    seeker_weight: float         # share of seekers (relative)
    job_weight: float            # share of vacancies (relative)
    female: float                # share of women among seekers
    industries: tuple[tuple[str, float], ...]   # empty: any industry (the employer's)
    job_types: tuple[float, float, float, float, float]  # full_time part_time gig internship public_welfare
    headcount_p: float           # geometric parameter: lower = more positions per ad
    occupations: tuple[_Occ, ...]
    skills: tuple[str, ...]      # most common first
    duties: tuple[str, ...]
    companies: tuple[str, ...]
    majors: tuple[str, ...]


def _o(name: str, titles: str, edu: int, salary: int) -> _Occ:
    return _Occ(name, tuple(titles.split()), edu, salary)


def _t(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_FAMILY_SPECS: tuple[_Family, ...] = (
    _Family("财务会计", "财务会计工作", 5, 4, 0.72, (), (0.9, 0.04, 0.0, 0.05, 0.01), 0.8, (
        _o("会计专业人员", "财务会计 总账会计 成本会计 会计助理", 2, 5500),
        _o("审计专业人员", "审计专员 内审助理", 3, 7000),
        _o("统计专业人员", "统计员 数据统计专员", 2, 5000),
        _o("银行综合柜员", "银行柜员 综合柜员", 2, 5000),
        _o("银行信贷员", "信贷专员 信贷客户经理", 3, 6500),
    ), _t("Excel 财务报表 税务申报 用友 金蝶 初级会计证 成本核算 出纳 总账 应收应付 "
          "中级会计职称 SAP 审计 财务分析 银行柜面业务 信贷审批"),
        _t("日常账务处理 编制月度财务报表 纳税申报 费用报销审核 成本核算 应收应付管理 "
           "银行对账 固定资产盘点 内部审计 客户资料审核"),
        _t("贸易公司 制造企业 会计师事务所 商贸公司 物业公司 银行网点"),
        _t("会计学 财务管理 审计学 金融学")),
    _Family("软件信息技术", "软件开发工作", 5, 6, 0.25,
            (("信息传输、软件和信息技术服务业", 0.8), ("金融业", 0.1), ("制造业", 0.1)),
            (0.88, 0.02, 0.0, 0.1, 0.0), 0.7, (
                _o("计算机软件工程技术人员", "Java开发工程师 后端开发工程师 软件工程师", 3, 12000),
                _o("计算机程序设计员", "前端开发工程师 程序员 Python开发工程师", 2, 9000),
                _o("计算机软件测试员", "软件测试工程师 测试工程师", 2, 8000),
                _o("计算机网络工程技术人员", "网络工程师 网络管理员", 2, 8000),
                _o("信息系统运行维护工程技术人员", "运维工程师 IT运维专员", 2, 7500),
                _o("数据分析处理工程技术人员", "数据分析师 数据工程师", 3, 11000),
                _o("人工智能工程技术人员", "算法工程师 机器学习工程师", 4, 18000),
            ), _t("Java Python MySQL Linux Git Spring JavaScript Vue SQL Redis Docker React C++ "
                  "软件测试 Selenium Shell Kubernetes 机器学习 TensorFlow 网络运维 华为认证HCIA"),
            _t("后端接口开发 数据库设计与优化 前端页面开发 编写测试用例 系统上线部署 "
               "服务器日常运维 数据清洗与报表开发 模型训练与调优 网络设备配置"),
            _t("互联网公司 软件公司 科技公司 系统集成公司"),
            _t("计算机科学与技术 软件工程 网络工程 数据科学与大数据技术")),
    _Family("电工电气", "电工维修工作", 4, 4, 0.05,
            (("制造业", 0.4), ("建筑业", 0.3), ("电力、热力、燃气及水生产和供应业", 0.2),
             ("房地产业", 0.1)),
            (0.93, 0.03, 0.04, 0.0, 0.0), 0.6, (
                _o("电工", "电工 维修电工 物业电工", 1, 6000),
                _o("电工电器工程技术人员", "电气工程师 电气设计工程师", 3, 9000),
                _o("供用电工程技术人员", "供电技术员 配电运维工程师", 2, 7500),
                _o("安全防范系统安装维护员", "弱电工程师 监控安装工", 1, 6000),
                _o("电梯装配调试工", "电梯安装工 电梯维保员", 1, 6500),
            ), _t("电工证 低压电工证 电气维修 PLC 电气图纸识读 高压电工证 配电柜安装 CAD "
                  "弱电施工 监控安装 变频器 电梯维保 综合布线"),
            _t("配电设备日常巡检 电气线路安装与维修 设备故障排查 PLC程序调试 弱电系统安装 "
               "电梯定期维保 电气图纸绘制 用电安全检查"),
            _t("物业公司 机电安装公司 制造企业 电力公司"),
            _t("电气自动化技术 机电一体化 电气工程及其自动化")),
    _Family("快递物流", "快递物流工作", 7, 9, 0.15, (("交通运输、仓储和邮政业", 0.8), ("批发和零售业", 0.2)),
            (0.7, 0.1, 0.2, 0.0, 0.0), 0.35, (
                _o("快递员", "快递员 快递派送员 快递收派员", 1, 6500),
                _o("网约配送员", "外卖骑手 同城配送员", 0, 7000),
                _o("装卸搬运工", "装卸工 搬运工 仓库装卸员", 0, 5500),
                _o("仓储管理员", "仓管员 仓库管理员", 1, 5000),
                _o("理货员", "理货员 分拣员", 0, 4800),
                _o("物流服务师", "物流专员 物流调度员", 2, 6000),
            ), _t("驾驶证C1 电动车驾驶 分拣 快递派送 出入库管理 扫码枪 库存盘点 WMS系统 打包 "
                  "叉车证 物流调度"),
            _t("区域快递派送与揽收 包裹分拣 货物出入库登记 库存盘点 货物装卸 外卖订单配送 "
               "物流车辆调度 仓库5S管理"),
            _t("快递公司 物流公司 电商仓库 配送站点"), _t("物流管理 电子商务")),
    _Family("驾驶运输", "驾驶工作", 4, 4, 0.04,
            (("交通运输、仓储和邮政业", 0.7), ("建筑业", 0.2), ("制造业", 0.1)),
            (0.85, 0.05, 0.1, 0.0, 0.0), 0.6, (
                _o("道路货运汽车驾驶员", "货车司机 厢式货车司机 重卡司机", 0, 8000),
                _o("客运车辆驾驶员", "大巴司机 公交司机 班车司机", 1, 7000),
                _o("起重装卸机械操作工", "叉车司机 行车工", 0, 6000),
                _o("挖掘铲运和桩工机械司机", "挖掘机司机 铲车司机", 0, 8500),
            ), _t("驾驶证C1 驾驶证B2 驾驶证A2 安全驾驶 道路运输从业资格证 驾驶证A1 叉车证 "
                  "车辆日常保养 挖掘机操作证 熟悉本地路线"),
            _t("货物运输与配送 车辆日常检查保养 员工班车接送 客运线路驾驶 叉车装卸货物 "
               "工地土方挖掘 运输单据交接"),
            _t("物流公司 运输公司 公交公司 工程公司 制造企业"), _t("汽车运用技术 交通运输管理")),
    _Family("医疗护理", "临床护理工作", 4, 4, 0.9, (("卫生和社会工作", 1.0),),
            (0.9, 0.05, 0.02, 0.03, 0.0), 0.6, (
                _o("内科护士", "内科护士 病房护士", 2, 5500),
                _o("外科护士", "外科护士 手术室护士", 2, 5800),
                _o("儿科护士", "儿科护士", 2, 5500),
                _o("社区护士", "社区护士 社区卫生服务中心护士", 2, 5000),
                _o("医疗护理员", "医疗护理员 护工", 0, 4500),
            ), _t("护士执业资格证 静脉输液 生命体征监测 心肺复苏 护理文书书写 急救 老年护理 "
                  "伤口换药 院感防控 导尿 健康宣教 压疮护理"),
            _t("病房日常护理 静脉输液与采血 护理文书书写 患者健康宣教 急诊分诊与抢救配合 "
               "术前术后护理 生活照护与翻身拍背 医疗器械消毒"),
            _t("三甲医院 民营医院 社区卫生服务中心 康复医院"), _t("护理学 助产")),
    _Family("医师药师", "临床医疗工作", 2, 3, 0.55, (("卫生和社会工作", 0.8), ("批发和零售业", 0.2)),
            (0.93, 0.05, 0.0, 0.02, 0.0), 0.8, (
                _o("全科医师", "全科医生 社区医生", 3, 9000),
                _o("内科医师", "内科医生 住院医师", 3, 10000),
                _o("药师", "药师 药房药剂师 执业药师", 2, 6000),
                _o("临床检验技师", "检验技师 医学检验员", 2, 6000),
                _o("康复技师", "康复治疗师", 2, 6500),
            ), _t("执业医师资格证 临床诊断 病历书写 执业药师证 处方审核 药品管理 医学检验 "
                  "康复训练 慢病管理 中医适宜技术"),
            _t("门诊接诊与诊疗 病历书写 处方审核与调配 药品出入库管理 样本检验与报告 "
               "康复训练指导 慢病随访管理"),
            _t("三甲医院 社区卫生服务中心 连锁药店 体检中心"),
            _t("临床医学 药学 医学检验技术 康复治疗学")),
    _Family("养老家政", "养老家政服务工作", 5, 4, 0.92,
            (("居民服务、修理和其他服务业", 0.6), ("卫生和社会工作", 0.3), ("教育", 0.1)),
            (0.75, 0.15, 0.05, 0.0, 0.05), 0.5, (
                _o("养老护理员", "养老护理员 养老院护理员", 0, 4500),
                _o("家政服务员", "家政服务员 保姆 住家阿姨", 0, 5500),
                _o("保育师", "保育员 幼儿园保育员", 1, 4000),
                _o("婴幼儿发展引导员", "育婴师 月嫂", 1, 7000),
            ), _t("健康证 养老护理员证 家务整理 家常菜烹饪 失能老人照护 育婴师证 母婴护理 早教 "
                  "保育员证 催乳"),
            _t("老人生活照料 协助老人康复活动 家庭保洁整理 家常饭菜制作 新生儿护理 产妇月子餐 "
               "幼儿日常保育"),
            _t("养老院 家政公司 幼儿园 月子会所 福利院"), _t("老年服务与管理 学前教育 家政服务")),
    _Family("物业安保", "物业安保工作", 6, 6, 0.35,
            (("房地产业", 0.5), ("租赁和商务服务业", 0.3), ("水利、环境和公共设施管理业", 0.2)),
            (0.8, 0.07, 0.03, 0.0, 0.1), 0.4, (
                _o("保安员", "保安员 小区保安 商场保安 工厂门卫", 1, 4200),
                _o("保洁员", "保洁员 商场保洁 小区保洁", 0, 3500),
                _o("物业管理师", "物业管理员 物业客服专员 物业项目经理", 2, 5000),
                _o("消防设施操作员", "消控室值班员 消防设施操作员", 1, 4800),
                _o("园林绿化工", "绿化工 园林养护工", 0, 4000),
            ), _t("保安员证 巡逻 门岗管理 监控室值班 消防安全 健康证 保洁 消防设施操作员证 "
                  "物业收费 报修处理 绿化养护 垃圾分类"),
            _t("门岗值守与人员登记 区域巡逻 监控室值班 消防设施巡检 公共区域保洁 物业费收缴 "
               "业主报修处理 绿化修剪养护"),
            _t("物业公司 保安服务公司 商场 工业园区"), _t("物业管理 园林技术")),
    _Family("餐饮", "餐饮工作", 6, 7, 0.45, (("住宿和餐饮业", 1.0),), (0.75, 0.15, 0.05, 0.05, 0.0), 0.5, (
        _o("中式烹调师", "厨师 炒锅厨师 中餐厨师", 1, 6500),
        _o("中式面点师", "面点师", 1, 5500),
        _o("糕点面包烘焙师", "烘焙师 面包师", 1, 5500),
        _o("餐厅服务员", "餐厅服务员 传菜员", 0, 4200),
        _o("咖啡师", "咖啡师", 1, 4800),
    ), _t("健康证 中式烹调师证 刀工 炒锅 食品安全 面点制作 烘焙 咖啡制作 点餐收银 摆台 "
          "菜品研发"),
        _t("菜品烹饪制作 食材切配 面点制作 面包糕点烘焙 咖啡饮品制作 点餐与上菜服务 "
           "餐具摆台与清洁 后厨卫生管理"),
        _t("连锁餐厅 酒楼 单位食堂 烘焙店 咖啡店"), _t("烹饪工艺与营养 西餐工艺 酒店管理")),
    _Family("住宿旅游", "酒店旅游服务工作", 2, 2, 0.7,
            (("住宿和餐饮业", 0.6), ("文化、体育和娱乐业", 0.2), ("租赁和商务服务业", 0.2)),
            (0.8, 0.1, 0.05, 0.05, 0.0), 0.6, (
                _o("前厅服务员", "酒店前台 前台接待", 1, 4200),
                _o("客房服务员", "客房服务员 酒店客房保洁", 0, 4000),
                _o("导游", "导游 旅游顾问", 2, 5000),
                _o("讲解员", "讲解员 景区讲解员", 2, 4500),
            ), _t("前台接待 客房清洁 导游证 英语口语 普通话二级甲等 酒店管理系统 预订管理 "
                  "投诉处理 景区讲解 旅游线路策划"),
            _t("客人入住退房办理 房间预订管理 客房清洁整理 带团讲解 旅游线路设计 景区讲解服务 "
               "客人投诉处理"),
            _t("星级酒店 旅行社 连锁酒店 景区"), _t("旅游管理 酒店管理")),
    _Family("销售零售", "销售工作", 8, 9, 0.5, (("批发和零售业", 0.6), ("房地产业", 0.2), ("制造业", 0.2)),
            (0.85, 0.1, 0.03, 0.02, 0.0), 0.5, (
                _o("营销员", "销售代表 销售专员 电话销售", 1, 6000),
                _o("商品营业员", "导购员 店员 门店营业员", 1, 4500),
                _o("收银员", "收银员 超市收银员", 1, 4000),
                _o("房地产经纪人", "房产经纪人 置业顾问", 1, 7000),
                _o("采购员", "采购专员 采购员", 2, 5500),
            ), _t("客户开发 销售技巧 客户维护 收银 商品陈列 电话销售 CRM系统 商务谈判 "
                  "房产交易流程 采购谈判 供应商管理"),
            _t("客户开发与维护 完成销售指标 门店商品陈列 收银结算 带客看房 供应商比价采购 "
               "销售数据统计"),
            _t("商贸公司 连锁超市 房产中介 品牌门店"), _t("市场营销 工商管理 电子商务")),
    _Family("电商新媒体", "电商运营工作", 3, 3, 0.55,
            (("批发和零售业", 0.5), ("信息传输、软件和信息技术服务业", 0.3), ("文化、体育和娱乐业", 0.2)),
            (0.8, 0.08, 0.05, 0.07, 0.0), 0.7, (
                _o("电子商务师", "电商运营 淘宝运营 店铺运营", 2, 6500),
                _o("互联网营销师", "直播带货主播 直播运营", 1, 7000),
                _o("全媒体运营师", "新媒体运营 抖音运营 短视频运营", 2, 6500),
                _o("网络编辑", "网络编辑 文案策划", 2, 5500),
            ), _t("淘宝运营 抖音运营 直播带货 短视频剪辑 文案撰写 Photoshop 数据分析 拼多多运营 "
                  "小红书运营 剪映 微信公众号运营 SEO"),
            _t("店铺日常运营 商品上架与优化 直播间策划与带货 短视频拍摄剪辑 公众号文章撰写 "
               "推广数据分析 活动策划执行"),
            _t("电商公司 直播机构 文化传媒公司 品牌公司"), _t("电子商务 市场营销 新闻学 广告学")),
    _Family("行政人事客服", "行政人事工作", 7, 5, 0.75, (), (0.85, 0.05, 0.0, 0.07, 0.03), 0.7, (
        _o("行政办事员", "行政专员 行政文员 前台文员", 2, 4500),
        _o("秘书", "总经理秘书 行政秘书", 2, 5500),
        _o("人力资源管理专业人员", "人事专员 招聘专员 HRBP", 2, 6000),
        _o("企业人力资源管理师", "人力资源主管 薪酬绩效专员", 3, 7500),
        _o("呼叫中心服务员", "客服专员 电话客服 在线客服 售后客服", 1, 4500),
    ), _t("Office Word Excel PPT 公文写作 档案管理 会议组织 招聘 薪酬绩效 社保公积金办理 "
          "劳动合同管理 人力资源管理师证 客户投诉处理 普通话二级甲等 五笔打字"),
        _t("日常行政事务处理 公文起草与归档 会议组织与记录 员工招聘与入职 考勤与薪资核算 "
           "社保公积金办理 电话与在线客户咨询 客户投诉处理 办公用品采购管理"),
        _t("科技公司 制造企业 客服中心 人力资源公司 商贸公司"),
        _t("行政管理 人力资源管理 文秘 汉语言文学")),
    _Family("教育培训", "教学工作", 4, 3, 0.72, (("教育", 1.0),), (0.8, 0.12, 0.03, 0.05, 0.0), 0.7, (
        _o("小学教师", "小学语文教师 小学数学教师 小学英语教师", 3, 6000),
        _o("初级中学教师", "初中数学教师 初中英语教师 初中物理教师", 3, 6500),
        _o("高级中学教师", "高中数学教师 高中英语教师", 3, 7500),
        _o("幼儿园教师", "幼儿教师 幼儿园老师", 2, 4500),
        _o("职业培训师", "职业技能培训讲师 培训讲师", 2, 6500),
    ), _t("教师资格证 普通话二级甲等 课堂教学 班主任工作 课件制作 家校沟通 教研 幼儿教育 "
          "英语 数学 语文 职业技能培训"),
        _t("学科课堂教学 备课与教案编写 作业批改与辅导 班级管理 家长沟通 幼儿一日活动组织 "
           "教研活动 技能培训授课"),
        _t("公办学校 民办学校 幼儿园 培训机构 职业技能培训学校"),
        _t("汉语言文学 数学与应用数学 英语 学前教育")),
    _Family("机械加工", "机械加工工作", 6, 8, 0.08, (("制造业", 1.0),), (0.95, 0.02, 0.03, 0.0, 0.0), 0.3, (
        _o("车工", "车工 普车操作工", 1, 6500),
        _o("多工序数控机床操作调整工", "CNC操机员 数控车床操作工 加工中心操作员", 1, 7000),
        _o("焊工", "电焊工 氩弧焊工 二保焊工", 1, 7500),
        _o("装配钳工", "装配钳工 机械装配工", 1, 6000),
        _o("机修钳工", "设备维修工 机修工", 1, 6500),
        _o("模具工", "模具钳工 模具师傅", 1, 7500),
        _o("机械制造工程技术人员", "机械工程师 工艺工程师", 3, 8500),
    ), _t("看懂图纸 量具使用 数控编程 CNC操作 焊工证 氩弧焊 二保焊 机械制图 CAD SolidWorks "
          "钳工 设备保养 模具维修"),
        _t("数控机床操作与调试 零件车削加工 焊接作业 机械设备装配 设备点检与维修 模具维修保养 "
           "工艺文件编制"),
        _t("机械厂 汽车零部件厂 模具厂 装备制造企业"),
        _t("数控技术 机械制造与自动化 模具设计与制造 焊接技术")),
    _Family("电子制造质检", "电子厂生产工作", 6, 9, 0.45, (("制造业", 1.0),),
            (0.88, 0.04, 0.08, 0.0, 0.0), 0.15, (
                _o("电子设备装接工", "电子装配工 插件工 SMT操作员", 1, 5200),
                _o("半导体芯片制造工", "芯片制造操作员 晶圆制造技术员", 1, 6000),
                _o("电池制造工", "电池生产操作工 锂电池操作工", 1, 5500),
                _o("汽车生产线操作工", "汽车生产线普工 总装操作工", 1, 6000),
                _o("电子电气产品检验员", "品检员 QC检验员 IPQC", 1, 5200),
                _o("产品质量检验工程技术人员", "质量工程师 QE工程师", 3, 8000),
            ), _t("流水线作业 静电防护 焊锡 SMT 5S管理 品质检验 QC检验 IPQC 来料检验 无尘车间 "
                  "AOI检测 ERP系统 ISO9001"),
            _t("流水线产品组装 电子元器件插件焊接 SMT贴片设备操作 产品功能测试 来料与制程检验 "
               "不良品分析 无尘车间作业 5S现场管理"),
            _t("电子厂 半导体公司 新能源电池厂 汽车制造厂"), _t("应用电子技术 微电子技术 质量管理")),
    _Family("建筑施工", "建筑施工工作", 5, 5, 0.1, (("建筑业", 0.85), ("房地产业", 0.15)),
            (0.75, 0.05, 0.2, 0.0, 0.0), 0.25, (
                _o("砌筑工", "砌筑工 瓦工", 0, 7000),
                _o("钢筋工", "钢筋工", 0, 7500),
                _o("架子工", "架子工", 0, 7500),
                _o("土木建筑工程技术人员", "土建工程师 施工员 现场技术员 BIM工程师", 2, 7500),
                _o("工程造价工程技术人员", "造价员 预算员", 2, 7000),
                _o("工程测量员", "测量员 工程测量技术员", 1, 6500),
            ), _t("施工图识读 砌筑 钢筋绑扎 架子工证 安全员证 CAD 施工现场管理 广联达 工程造价 "
                  "全站仪 BIM Revit 二级建造师"),
            _t("墙体砌筑 钢筋下料绑扎 脚手架搭设 施工现场管理 工程量计算与计价 施工放线测量 "
               "施工资料整理"),
            _t("建筑公司 施工单位 工程咨询公司 装饰公司"), _t("建筑工程技术 工程造价 工程测量技术 土木工程")),
    _Family("设备维修", "维修工作", 3, 3, 0.05, (("居民服务、修理和其他服务业", 0.7), ("批发和零售业", 0.3)),
            (0.85, 0.05, 0.1, 0.0, 0.0), 0.6, (
                _o("汽车维修工", "汽车维修工 汽修技师 新能源汽车维修工", 1, 6000),
                _o("家用电器产品维修工", "家电维修师傅 空调安装维修工", 1, 6000),
                _o("计算机维修工", "电脑维修员 IT桌面支持", 1, 5000),
                _o("自行车与电动自行车维修工", "电动车维修工", 0, 4500),
            ), _t("故障诊断 汽车维修 发动机维修 汽车电路诊断 新能源汽车维修 钣金 汽车喷漆 "
                  "空调安装维修 家电维修 电脑维修 制冷证 电动车维修"),
            _t("车辆保养与维修 汽车故障诊断 空调上门安装维修 家电故障检修 电脑软硬件故障处理 "
               "电动车维修 维修工单记录"),
            _t("汽车4S店 汽修厂 家电售后服务公司 电动车门店"),
            _t("汽车检测与维修技术 制冷与空调技术 计算机应用技术")),
    _Family("设计", "设计工作", 3, 2, 0.55,
            (("租赁和商务服务业", 0.4), ("信息传输、软件和信息技术服务业", 0.3), ("建筑业", 0.2),
             ("制造业", 0.1)),
            (0.85, 0.05, 0.03, 0.07, 0.0), 0.8, (
                _o("广告设计师", "平面设计师 广告设计师", 2, 6500),
                _o("室内装饰设计师", "室内设计师 家装设计师", 2, 7000),
                _o("视觉传达设计人员", "视觉设计师 UI设计师", 3, 9000),
                _o("服装设计人员", "服装设计师", 2, 7000),
            ), _t("Photoshop Illustrator 平面设计 CAD 3DMax SketchUp C4D UI设计 手绘 Figma 酷家乐 "
                  "服装设计"),
            _t("平面广告设计 品牌视觉设计 家装方案设计 效果图制作 移动端界面设计 服装款式设计"),
            _t("广告公司 装饰公司 互联网公司 服装公司"), _t("视觉传达设计 环境设计 服装与服饰设计")),
    _Family("美容美发", "美容美发工作", 3, 3, 0.75, (("居民服务、修理和其他服务业", 1.0),),
            (0.8, 0.12, 0.05, 0.03, 0.0), 0.6, (
                _o("美容师", "美容师 皮肤管理师", 1, 5500),
                _o("美发师", "发型师 美发助理", 1, 6000),
                _o("保健按摩师", "按摩师 足疗师 推拿师", 1, 6000),
                _o("形象设计师", "化妆师 形象设计师", 1, 6000),
            ), _t("皮肤护理 美容师证 美甲 化妆 剪发 烫染 按摩 推拿 客户维护 美睫 产品销售"),
            _t("顾客皮肤护理 美甲美睫服务 剪发烫染造型 保健按摩服务 新娘跟妆 会员客户维护"),
            _t("美容院 美发店 养生会所 影楼"), _t("美容美体艺术 人物形象设计")),
    _Family("农业", "农业生产工作", 3, 2, 0.3, (("农、林、牧、渔业", 1.0),),
            (0.7, 0.1, 0.15, 0.0, 0.05), 0.4, (
                _o("农艺工", "种植技术员 农场工人", 0, 4000),
                _o("农业技术员", "农业技术员 农技推广员 无人机植保员", 2, 5000),
                _o("农机驾驶操作员", "农机手 拖拉机驾驶员", 0, 5000),
                _o("水产养殖技术人员", "水产养殖技术员", 2, 5500),
                _o("家畜饲养员", "养殖场饲养员 生猪饲养员", 0, 5000),
                _o("农业经理人", "农场经理 合作社经理", 2, 6000),
            ), _t("种植技术 病虫害防治 大棚管理 农机操作 畜禽养殖 农药使用 水产养殖 无人机植保 "
                  "测土配方施肥 农产品电商"),
            _t("大棚蔬菜种植管理 病虫害防治 农机田间作业 畜禽日常饲养 水产养殖水质管理 "
               "合作社生产管理 无人机植保作业"),
            _t("农业合作社 家庭农场 农业科技公司 养殖场"), _t("现代农业技术 畜牧兽医 水产养殖技术 园艺技术")),
    _Family("纺织服装", "服装加工工作", 3, 4, 0.75, (("制造业", 1.0),), (0.85, 0.05, 0.1, 0.0, 0.0), 0.2, (
        _o("缝纫工", "缝纫工 车位工 平车工", 0, 5500),
        _o("服装制版师", "服装制版师 打版师", 1, 7500),
        _o("纺织染色工", "染色工", 0, 5000),
        _o("制鞋工", "制鞋工 鞋厂普工", 0, 5000),
    ), _t("平车 包缝 裁剪 锁边 整烫 服装制版 验布 染色工艺 制鞋 服装CAD"),
        _t("服装缝制 服装打版制版 面料裁剪 成衣整烫 布料验收 面料染色 鞋面缝制"),
        _t("服装厂 纺织厂 鞋厂 服饰公司"), _t("服装设计与工艺 现代纺织技术")),
    _Family("社区社会工作", "社区服务工作", 4, 2, 0.65,
            (("公共管理、社会保障和社会组织", 0.8), ("卫生和社会工作", 0.2)),
            (0.55, 0.1, 0.0, 0.0, 0.35), 0.5, (
                _o("社会工作者", "社工 社会工作者", 2, 4500),
                _o("村务和社区工作者", "社区工作者 社区专职工作者", 2, 4000),
                _o("城市管理网格员", "网格员", 1, 3800),
                _o("劳动保障协理员", "劳动保障协理员 就业服务专员", 2, 4000),
                _o("职业指导师", "职业指导师 就业指导老师", 3, 5000),
            ), _t("社区活动组织 居民走访 政策宣传 台账管理 Office 社会工作者证 个案工作 心理疏导 "
                  "网格化管理 志愿者管理 职业指导"),
            _t("社区居民走访 政策宣传与解答 社区活动策划 个案帮扶 网格信息采集 台账资料整理 "
               "志愿者组织 就业政策咨询"),
            _t("街道办事处 社区居委会 社会工作服务机构 公益组织 人力资源服务中心"),
            _t("社会工作 公共事业管理 行政管理")),
)

# What each occupation mostly asks for and does (a subset of its family's skills and duties): a 汽修技师 ad
# should list 汽车维修 and 车辆保养与维修, not the family's air-conditioner repair. "skills | duties".
_CORE: dict[str, str] = {
    "会计专业人员": "财务报表 税务申报 用友 金蝶 初级会计证 总账 | 日常账务处理 编制月度财务报表 纳税申报",
    "审计专业人员": "审计 财务分析 Excel 中级会计职称 | 内部审计 费用报销审核 固定资产盘点",
    "统计专业人员": "Excel 财务分析 财务报表 | 编制月度财务报表 成本核算",
    "银行综合柜员": "银行柜面业务 出纳 | 银行对账 客户资料审核",
    "银行信贷员": "信贷审批 财务分析 | 客户资料审核",
    "计算机软件工程技术人员": "Java Spring MySQL Redis Git | 后端接口开发 数据库设计与优化",
    "计算机程序设计员": "JavaScript Vue React Python Git | 前端页面开发 后端接口开发",
    "计算机软件测试员": "软件测试 Selenium Python SQL | 编写测试用例",
    "计算机网络工程技术人员": "网络运维 华为认证HCIA Linux Shell | 网络设备配置 服务器日常运维",
    "信息系统运行维护工程技术人员": "Linux Shell Docker Kubernetes | 服务器日常运维 系统上线部署",
    "数据分析处理工程技术人员": "Python SQL MySQL | 数据清洗与报表开发",
    "人工智能工程技术人员": "Python 机器学习 TensorFlow C++ | 模型训练与调优",
    "电工": "电工证 低压电工证 电气维修 配电柜安装 | 电气线路安装与维修 配电设备日常巡检 用电安全检查",
    "电工电器工程技术人员": "PLC CAD 电气图纸识读 变频器 | 电气图纸绘制 PLC程序调试",
    "供用电工程技术人员": "高压电工证 配电柜安装 电气图纸识读 | 配电设备日常巡检 用电安全检查",
    "安全防范系统安装维护员": "弱电施工 监控安装 综合布线 | 弱电系统安装",
    "电梯装配调试工": "电梯维保 电工证 电气维修 | 电梯定期维保 设备故障排查",
    "快递员": "快递派送 电动车驾驶 扫码枪 | 区域快递派送与揽收",
    "网约配送员": "电动车驾驶 | 外卖订单配送",
    "装卸搬运工": "打包 叉车证 | 货物装卸",
    "仓储管理员": "出入库管理 库存盘点 WMS系统 | 货物出入库登记 库存盘点 仓库5S管理",
    "理货员": "分拣 扫码枪 打包 | 包裹分拣",
    "物流服务师": "物流调度 WMS系统 | 物流车辆调度",
    "道路货运汽车驾驶员": "驾驶证A2 驾驶证B2 道路运输从业资格证 | 货物运输与配送 运输单据交接",
    "客运车辆驾驶员": "驾驶证A1 安全驾驶 熟悉本地路线 | 客运线路驾驶 员工班车接送",
    "起重装卸机械操作工": "叉车证 | 叉车装卸货物",
    "挖掘铲运和桩工机械司机": "挖掘机操作证 | 工地土方挖掘",
    "内科护士": "护士执业资格证 静脉输液 生命体征监测 | 病房日常护理 静脉输液与采血",
    "外科护士": "护士执业资格证 伤口换药 院感防控 | 术前术后护理 医疗器械消毒",
    "儿科护士": "护士执业资格证 静脉输液 健康宣教 | 静脉输液与采血 患者健康宣教",
    "社区护士": "护士执业资格证 健康宣教 老年护理 | 患者健康宣教",
    "医疗护理员": "老年护理 压疮护理 | 生活照护与翻身拍背",
    "全科医师": "执业医师资格证 临床诊断 慢病管理 | 门诊接诊与诊疗 慢病随访管理",
    "内科医师": "执业医师资格证 临床诊断 病历书写 | 门诊接诊与诊疗 病历书写",
    "药师": "执业药师证 处方审核 药品管理 | 处方审核与调配 药品出入库管理",
    "临床检验技师": "医学检验 | 样本检验与报告",
    "康复技师": "康复训练 中医适宜技术 | 康复训练指导",
    "养老护理员": "养老护理员证 失能老人照护 | 老人生活照料 协助老人康复活动",
    "家政服务员": "家务整理 家常菜烹饪 健康证 | 家庭保洁整理 家常饭菜制作",
    "保育师": "保育员证 早教 健康证 | 幼儿日常保育",
    "婴幼儿发展引导员": "育婴师证 母婴护理 催乳 | 新生儿护理 产妇月子餐",
    "保安员": "保安员证 巡逻 门岗管理 | 门岗值守与人员登记 区域巡逻",
    "保洁员": "保洁 垃圾分类 健康证 | 公共区域保洁",
    "物业管理师": "物业收费 报修处理 | 物业费收缴 业主报修处理",
    "消防设施操作员": "消防设施操作员证 监控室值班 消防安全 | 监控室值班 消防设施巡检",
    "园林绿化工": "绿化养护 | 绿化修剪养护",
    "中式烹调师": "中式烹调师证 刀工 炒锅 菜品研发 | 菜品烹饪制作 食材切配",
    "中式面点师": "面点制作 | 面点制作",
    "糕点面包烘焙师": "烘焙 | 面包糕点烘焙",
    "餐厅服务员": "点餐收银 摆台 | 点餐与上菜服务 餐具摆台与清洁",
    "咖啡师": "咖啡制作 | 咖啡饮品制作",
    "前厅服务员": "前台接待 酒店管理系统 预订管理 | 客人入住退房办理 房间预订管理",
    "客房服务员": "客房清洁 | 客房清洁整理",
    "导游": "导游证 旅游线路策划 | 带团讲解 旅游线路设计",
    "讲解员": "景区讲解 普通话二级甲等 | 景区讲解服务",
    "营销员": "客户开发 电话销售 CRM系统 销售技巧 | 客户开发与维护 完成销售指标",
    "商品营业员": "商品陈列 销售技巧 | 门店商品陈列",
    "收银员": "收银 | 收银结算",
    "房地产经纪人": "房产交易流程 客户开发 | 带客看房",
    "采购员": "采购谈判 供应商管理 | 供应商比价采购",
    "电子商务师": "淘宝运营 拼多多运营 数据分析 | 店铺日常运营 商品上架与优化",
    "互联网营销师": "直播带货 抖音运营 | 直播间策划与带货",
    "全媒体运营师": "抖音运营 短视频剪辑 剪映 小红书运营 | 短视频拍摄剪辑",
    "网络编辑": "文案撰写 微信公众号运营 SEO | 公众号文章撰写",
    "行政办事员": "Office 档案管理 五笔打字 | 日常行政事务处理 办公用品采购管理",
    "秘书": "公文写作 会议组织 Word | 公文起草与归档 会议组织与记录",
    "人力资源管理专业人员": "招聘 社保公积金办理 劳动合同管理 | 员工招聘与入职 社保公积金办理",
    "企业人力资源管理师": "薪酬绩效 人力资源管理师证 Excel | 考勤与薪资核算",
    "呼叫中心服务员": "客户投诉处理 普通话二级甲等 | 电话与在线客户咨询 客户投诉处理",
    "小学教师": "教师资格证 课堂教学 语文 数学 | 学科课堂教学 作业批改与辅导",
    "初级中学教师": "教师资格证 课堂教学 班主任工作 数学 英语 | 学科课堂教学 班级管理",
    "高级中学教师": "教师资格证 教研 英语 数学 | 学科课堂教学 备课与教案编写",
    "幼儿园教师": "幼儿教育 教师资格证 | 幼儿一日活动组织 家长沟通",
    "职业培训师": "职业技能培训 课件制作 | 技能培训授课",
    "车工": "看懂图纸 量具使用 | 零件车削加工",
    "多工序数控机床操作调整工": "数控编程 CNC操作 量具使用 | 数控机床操作与调试",
    "焊工": "焊工证 氩弧焊 二保焊 | 焊接作业",
    "装配钳工": "钳工 看懂图纸 | 机械设备装配",
    "机修钳工": "设备保养 钳工 | 设备点检与维修",
    "模具工": "模具维修 钳工 | 模具维修保养",
    "机械制造工程技术人员": "机械制图 CAD SolidWorks | 工艺文件编制",
    "电子设备装接工": "焊锡 SMT 静电防护 | 电子元器件插件焊接 SMT贴片设备操作",
    "半导体芯片制造工": "无尘车间 静电防护 | 无尘车间作业",
    "电池制造工": "流水线作业 5S管理 | 流水线产品组装",
    "汽车生产线操作工": "流水线作业 | 流水线产品组装",
    "电子电气产品检验员": "品质检验 QC检验 IPQC 来料检验 | 来料与制程检验",
    "产品质量检验工程技术人员": "ISO9001 品质检验 AOI检测 | 不良品分析",
    "砌筑工": "砌筑 | 墙体砌筑",
    "钢筋工": "钢筋绑扎 施工图识读 | 钢筋下料绑扎",
    "架子工": "架子工证 | 脚手架搭设",
    "土木建筑工程技术人员": "施工现场管理 二级建造师 CAD BIM | 施工现场管理 施工资料整理",
    "工程造价工程技术人员": "广联达 工程造价 | 工程量计算与计价",
    "工程测量员": "全站仪 CAD | 施工放线测量",
    "汽车维修工": "汽车维修 发动机维修 汽车电路诊断 新能源汽车维修 | 车辆保养与维修 汽车故障诊断",
    "家用电器产品维修工": "空调安装维修 家电维修 制冷证 | 空调上门安装维修 家电故障检修",
    "计算机维修工": "电脑维修 | 电脑软硬件故障处理",
    "自行车与电动自行车维修工": "电动车维修 | 电动车维修",
    "广告设计师": "Photoshop Illustrator 平面设计 | 平面广告设计 品牌视觉设计",
    "室内装饰设计师": "CAD 3DMax SketchUp 酷家乐 | 家装方案设计 效果图制作",
    "视觉传达设计人员": "UI设计 Figma Photoshop C4D | 移动端界面设计 品牌视觉设计",
    "服装设计人员": "服装设计 手绘 | 服装款式设计",
    "美容师": "皮肤护理 美容师证 美甲 美睫 | 顾客皮肤护理 美甲美睫服务",
    "美发师": "剪发 烫染 | 剪发烫染造型",
    "保健按摩师": "按摩 推拿 | 保健按摩服务",
    "形象设计师": "化妆 | 新娘跟妆",
    "农艺工": "种植技术 大棚管理 | 大棚蔬菜种植管理",
    "农业技术员": "病虫害防治 测土配方施肥 无人机植保 | 病虫害防治 无人机植保作业",
    "农机驾驶操作员": "农机操作 | 农机田间作业",
    "水产养殖技术人员": "水产养殖 | 水产养殖水质管理",
    "家畜饲养员": "畜禽养殖 | 畜禽日常饲养",
    "农业经理人": "农产品电商 种植技术 | 合作社生产管理",
    "缝纫工": "平车 包缝 锁边 | 服装缝制",
    "服装制版师": "服装制版 服装CAD 裁剪 | 服装打版制版 面料裁剪",
    "纺织染色工": "染色工艺 验布 | 面料染色 布料验收",
    "制鞋工": "制鞋 平车 | 鞋面缝制",
    "社会工作者": "社会工作者证 个案工作 心理疏导 | 个案帮扶 社区活动策划",
    "村务和社区工作者": "居民走访 社区活动组织 台账管理 | 社区居民走访 台账资料整理",
    "城市管理网格员": "网格化管理 居民走访 | 网格信息采集",
    "劳动保障协理员": "政策宣传 台账管理 | 政策宣传与解答 就业政策咨询",
    "职业指导师": "职业指导 心理疏导 | 就业政策咨询",
}
_CORE_SKILL_BOOST = 6.0      # a core skill is this much likelier to be listed than another of the family
_CORE_DUTY_P = 0.85          # chance that the first duty named is one of the occupation's own

FAMILIES: tuple[str, ...] = tuple(f.label for f in _FAMILY_SPECS)
OCCUPATIONS: tuple[str, ...] = tuple(o.name for f in _FAMILY_SPECS for o in f.occupations)
_FAMILY_OF: dict[str, str] = {o.name: f.label for f in _FAMILY_SPECS for o in f.occupations}


def family_of_occupation(name: str) -> str:
    """The family label of a level-4 occupation name used here ('' if it is not one of ours)."""
    return _FAMILY_OF.get(name, "")


_TRAITS = _t("工作认真负责 吃苦耐劳，服从安排 沟通能力强，有团队合作精神 学习能力强，能适应加班 "
             "身体健康，能适应倒班 性格开朗，善于与人沟通 责任心强，做事细致 踏实肯干，执行力强")
_REQ_TRAITS = _t("责任心强 能吃苦耐劳 服从安排 有良好的沟通能力 身体健康 工作细致认真 有团队合作精神")
_BENEFITS = _t("五险一金 五险一金，包吃住 缴纳社保，月休四天 五险一金，双休，带薪年假 提供住宿，加班有补贴 "
               "五险，节日福利 包工作餐，年终奖 缴纳社保，提供工作餐")
_VERBS = _t("熟悉 掌握 熟练使用 能够熟练运用")
_CN_NUM = ("", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十")
_TIER1 = (1101, 3101, 4401, 4403)
_TIER2 = (1201, 5001, 3205, 3302, 3702, 3502, 2102, 4419, 4406, 3202)
_TIER_SALARY = np.array([0.0, 1.35, 1.0, 0.8])        # index = tier
_TIER_MIN_WAGE = np.array([0.0, 2600.0, 2200.0, 1900.0])
_MIGRANT_SOURCES = {"河南省": 12, "四川省": 10, "安徽省": 9, "湖南省": 8, "湖北省": 6, "江西省": 6,
                    "广西壮族自治区": 6, "贵州省": 5, "河北省": 5, "山东省": 5, "重庆市": 4}
_CHINA_LAT = (3.5, 54.0)
_CHINA_LON = (73.0, 135.5)

# Utility weights (module docstring) and the event funnel.
_W_FAMILY, _W_OCCUPATION, _W_SKILL, _DIST_SCALE_KM, _DIST_CAP_KM = 3.0, 1.0, 2.0, 30.0, 300.0
_W_SALARY, _SALARY_CLIP = 1.5, (-1.0, 0.25)
_W_EDUCATION, _W_EXPERIENCE = 1.0, 0.3
_FUNNEL = ("exposed", "viewed", "applied", "interviewed", "hired")
_FUNNEL_SHIFT = (2.0, 3.5, 5.0, 4.5)                  # p(stage | previous) = sigmoid(u - shift)
# Delay before each later stage: log-normal (median seconds, sigma).
_FUNNEL_DELAY_S = ((600.0, 1.0), (3600.0, 1.0), (2 * 86400.0, 0.6), (7 * 86400.0, 0.5))
_K_MAX = 20
_STRATA = (24, 12, 8, 8, 8)                           # candidates per stratum (module docstring)
_BLOCK = 25_000                                       # seekers scored at once

# ----------------------------------------------------------------------------------------------------------
# Reference tables
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geo:
    """Counties with coordinates, indexed 0..n-1, plus what sampling and text need about each."""

    code: np.ndarray             # int64 6-digit county code
    city_level: np.ndarray       # int64 6-digit code of the prefecture (city_code * 100), or of the county
                                 # itself when it sits directly under the province
    lat: np.ndarray
    lon: np.ndarray
    city: np.ndarray             # int64 index of the prefecture
    province: np.ndarray         # int64 index into province_names
    tier: np.ndarray             # int64 1, 2, 3
    seeker_p: np.ndarray         # sampling probabilities
    job_p: np.ndarray
    city_short: pa.Array         # "哈尔滨", for resumes
    place: pa.Array              # "哈尔滨市南岗区", for job ads
    province_names: pa.Array
    capital_city_level: np.ndarray  # per province: 6-digit code of its capital


def _data_file(name: str) -> Any:
    return resources.files("features.data").joinpath(name)


def _short(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=1)
def _geo() -> _Geo:
    """Counties of the shipped GB/T 2260 table that have coordinates (about 2,700), weighted by a rough
    population proxy so that big cities get more people and, a bit more so, more vacancies."""
    with _data_file("cn_counties.csv").open("r", encoding="utf-8") as fh:
        counties = pd.read_csv(fh, dtype={"county_code": str, "city_code": str, "province_code": str})
    counties = counties.dropna(subset=["longitude", "latitude"]).reset_index(drop=True)
    city_code = counties["city_code"].astype(int).to_numpy()
    county_code = counties["county_code"].astype(int).to_numpy()
    direct = counties["city_name"].str.endswith("行政区划").to_numpy() | (county_code == city_code * 100)
    municipal = counties["city_name"].isin(["市辖区", "县"]).to_numpy()
    city_level = np.where(direct, county_code, city_code * 100)
    tier = np.full(len(counties), 3, dtype=np.int64)
    capital = (city_code % 100 == 1) & ~direct
    tier[capital | np.isin(city_code, _TIER2) | (city_code == 5002)] = 2
    tier[np.isin(city_code, _TIER1)] = 1
    # A simple population weight: tier-1 cities 20, capitals and big cities 8, other prefectures 2, shared
    # among the prefecture's counties with urban districts (区) counting double.
    city_weight = np.array([0.0, 20.0, 8.0, 2.0])[tier]
    urban = counties["county_name"].str.endswith("区").to_numpy()
    share = np.where(urban, 2.0, 1.0)
    _, city_idx = np.unique(city_code, return_inverse=True)
    share = share / np.bincount(city_idx, weights=share)[city_idx]
    seeker_w = city_weight * share
    job_w = seeker_w * np.array([0.0, 1.6, 1.3, 0.8])[tier] * np.where(urban, 1.3, 1.0)

    province_names = sorted(counties["province_name"].unique())
    province_idx = np.searchsorted(np.array(province_names, dtype=object),
                                   counties["province_name"].to_numpy())
    province_code = counties.groupby("province_name")["province_code"].first().reindex(province_names)
    capital_city_level = province_code.astype(int).to_numpy() * 10000 + 100

    names = counties["city_name"].where(~municipal, counties["province_name"])
    city_short = np.where(direct, counties["county_name"].map(_short), names.map(_short))
    place = np.where(direct, counties["county_name"], names + counties["county_name"])
    return _Geo(
        code=county_code.astype(np.int64), city_level=city_level.astype(np.int64),
        lat=counties["latitude"].to_numpy(np.float64), lon=counties["longitude"].to_numpy(np.float64),
        city=city_idx.astype(np.int64), province=province_idx.astype(np.int64), tier=tier,
        seeker_p=seeker_w / seeker_w.sum(), job_p=job_w / job_w.sum(),
        city_short=pa.array(list(city_short), pa.string()), place=pa.array(list(place), pa.string()),
        province_names=pa.array(province_names, pa.string()),
        capital_city_level=capital_city_level.astype(np.int64),
    )


@lru_cache(maxsize=1)
def _check_occupations() -> None:
    """Fail loudly if a hand-written occupation is not a level-4 name of the shipped 职业分类大典 table."""
    with _data_file("cn_occupations_2022.csv").open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str)
    known = set(table.loc[table["level"] == "4", "name"])
    missing = sorted(set(OCCUPATIONS) - known)
    if missing:
        raise ValueError(f"occupations not in cn_occupations_2022.csv: {missing}")


# ----------------------------------------------------------------------------------------------------------
# Vectorized helpers
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ragged:
    """Per-group string lists flattened into one Arrow array, so a whole column of per-row choices is one
    `take`: group g owns values[offsets[g]: offsets[g] + counts[g]]."""

    values: pa.Array
    offsets: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, groups: Sequence[Sequence[str]], prefix: str = "") -> _Ragged:
        counts = np.array([len(g) for g in groups], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return cls(pa.array([prefix + s for g in groups for s in g], pa.string()), offsets, counts)

    def pick(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        """One uniform local index per row (within the row's group)."""
        return (rng.random(len(group)) * self.counts[group]).astype(np.int64)

    def other(self, rng: np.random.Generator, group: np.ndarray, local: np.ndarray) -> np.ndarray:
        """A local index different from `local` (groups have at least two entries)."""
        n = self.counts[group]
        return (local + 1 + (rng.random(len(group)) * (n - 1)).astype(np.int64)) % n

    def take(self, group: np.ndarray, local: np.ndarray) -> pa.Array:
        return _take(self.values, self.offsets[group] + local)


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return pc.take(values, pa.array(idx, pa.int64()))


def _cat(*parts: Any) -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and Python strings (no nulls anywhere)."""
    return pc.binary_join_element_wise(*parts, "")


def _when(mask: np.ndarray, then: Any, otherwise: Any = "") -> pa.Array:
    return pc.if_else(pa.array(mask), then, otherwise)


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values.astype(np.int64)), pa.string())


def _categorical(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One draw per row from row-specific categorical probabilities probs[group[row]]."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    return np.minimum((u[:, None] > cum[group]).sum(axis=1), probs.shape[1] - 1)


def _locations(rng: np.random.Generator, geo: _Geo, county: np.ndarray,
               km: float) -> tuple[np.ndarray, np.ndarray]:
    """County coordinates jittered by a Gaussian of `km` (clipped at 4 sigma), so that people do not
    share a point and distances inside a county are a few km, not zero."""
    d = np.clip(rng.normal(0.0, km, (2, len(county))), -4 * km, 4 * km)
    lat = geo.lat[county] + d[0] / 111.0
    lon = geo.lon[county] + d[1] / (111.0 * np.cos(np.radians(geo.lat[county])))
    return (np.round(np.clip(lat, *_CHINA_LAT), 6), np.round(np.clip(lon, *_CHINA_LON), 6))


@dataclass(frozen=True)
class _Vocab:
    """Every string fragment, flattened once per process."""

    skills: tuple[str, ...]          # global skill vocabulary (bit i of a skill mask)
    family_skills: np.ndarray        # (n_families, max_skills) global skill id, -1 padding
    family_skill_n: np.ndarray
    skill_plain: pa.Array            # global id -> name; id n = ""
    skill_pipe: pa.Array             # global id -> "|name"; id n = ""
    skill_sep: pa.Array              # global id -> "、name"; id n = ""
    is_cert: np.ndarray              # global id -> a licence or certificate ("持有X", not "熟悉X")?
    titles: _Ragged                  # per occupation
    occupation_names: pa.Array
    occupation_pipe: pa.Array
    occ_edu: np.ndarray
    occ_salary: np.ndarray
    family_occ: _Ragged              # per family: occupation ids as strings (only counts/offsets used)
    duties: _Ragged
    occ_skill_weight: np.ndarray     # (n_occupations, max_skills) sampling weight of each family skill
    occ_duty_local: np.ndarray       # every occupation's core duties, as local indices into its family's
    occ_duty_offsets: np.ndarray     # occupation o owns occ_duty_local[offsets[o]: offsets[o] + counts[o]]
    occ_duty_counts: np.ndarray
    companies: _Ragged
    majors: _Ragged
    work: pa.Array
    industry_probs: np.ndarray       # (n_families, n_industries)
    any_industry: np.ndarray         # (n_families,) bool
    job_type_probs: np.ndarray
    headcount_p: np.ndarray
    female: np.ndarray
    seeker_p: np.ndarray
    job_p: np.ndarray

    @property
    def words(self) -> int:
        return (len(self.skills) + 63) // 64


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    skills: dict[str, int] = {}
    for fam in _FAMILY_SPECS:
        for s in fam.skills:
            skills.setdefault(s, len(skills))
    for s in _GENERIC_SKILLS:
        skills.setdefault(s, len(skills))
    names = tuple(skills)
    width = max(len(f.skills) for f in _FAMILY_SPECS)
    family_skills = np.full((len(_FAMILY_SPECS), width), -1, dtype=np.int64)
    for i, fam in enumerate(_FAMILY_SPECS):
        family_skills[i, : len(fam.skills)] = [skills[s] for s in fam.skills]
    industry_probs = np.zeros((len(_FAMILY_SPECS), len(_INDUSTRIES)))
    for i, fam in enumerate(_FAMILY_SPECS):
        if fam.industries:
            for name, w in fam.industries:
                industry_probs[i, _INDUSTRIES.index(name)] = w
        else:
            industry_probs[i] = _ANY_INDUSTRY_WEIGHTS
    occs = [o for f in _FAMILY_SPECS for o in f.occupations]
    occ_skill_weight = np.zeros((len(occs), width))
    duty_local: list[int] = []
    duty_n: list[int] = []
    row = 0
    for fam in _FAMILY_SPECS:
        base = 1.0 / (1.0 + 0.15 * np.arange(len(fam.skills)))
        for occ in fam.occupations:
            skills_text, duties_text = _CORE[occ.name].split("|")
            core_skills, core_duties = skills_text.split(), duties_text.split()
            unknown = [x for x in core_skills if x not in fam.skills]
            unknown += [x for x in core_duties if x not in fam.duties]
            if unknown:
                raise ValueError(f"{occ.name}: core items not in family {fam.label}: {unknown}")
            boost = np.array([_CORE_SKILL_BOOST if x in core_skills else 1.0 for x in fam.skills])
            occ_skill_weight[row, : len(fam.skills)] = base * boost
            duty_local.extend(fam.duties.index(x) for x in core_duties)
            duty_n.append(len(core_duties))
            row += 1
    return _Vocab(
        skills=names, family_skills=family_skills,
        family_skill_n=np.array([len(f.skills) for f in _FAMILY_SPECS], dtype=np.int64),
        skill_plain=pa.array([*names, ""], pa.string()),
        skill_pipe=pa.array([*("|" + s for s in names), ""], pa.string()),
        skill_sep=pa.array([*("、" + s for s in names), ""], pa.string()),
        is_cert=np.array([*(_is_cert(s) for s in names), False]),
        titles=_Ragged.of([o.titles for o in occs]),
        occupation_names=pa.array([o.name for o in occs], pa.string()),
        occupation_pipe=pa.array([*("|" + o.name for o in occs), ""], pa.string()),
        occ_edu=np.array([o.edu for o in occs], dtype=np.int64),
        occ_salary=np.array([o.salary for o in occs], dtype=np.float64),
        family_occ=_Ragged.of([[o.name for o in f.occupations] for f in _FAMILY_SPECS]),
        duties=_Ragged.of([f.duties for f in _FAMILY_SPECS]),
        occ_skill_weight=occ_skill_weight,
        occ_duty_local=np.asarray(duty_local, dtype=np.int64),
        occ_duty_offsets=np.concatenate([[0], np.cumsum(duty_n)[:-1]]).astype(np.int64),
        occ_duty_counts=np.asarray(duty_n, dtype=np.int64),
        companies=_Ragged.of([f.companies for f in _FAMILY_SPECS]),
        majors=_Ragged.of([f.majors for f in _FAMILY_SPECS]),
        work=pa.array([f.work for f in _FAMILY_SPECS], pa.string()),
        industry_probs=industry_probs,
        any_industry=np.array([not f.industries for f in _FAMILY_SPECS]),
        job_type_probs=np.array([f.job_types for f in _FAMILY_SPECS], dtype=np.float64),
        headcount_p=np.array([f.headcount_p for f in _FAMILY_SPECS]),
        female=np.array([f.female for f in _FAMILY_SPECS]),
        seeker_p=_normalised([f.seeker_weight for f in _FAMILY_SPECS]),
        job_p=_normalised([f.job_weight for f in _FAMILY_SPECS]),
    )


def _is_cert(skill: str) -> bool:
    return any(w in skill for w in ("证", "资格", "职称", "建造师", "HCIA"))


def _normalised(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()


def _draw_skills(rng: np.random.Generator, voc: _Vocab, family: np.ndarray, occ: np.ndarray, k: np.ndarray,
                 width: int) -> np.ndarray:
    """(n, width) global skill ids: k[i] distinct skills of family[i], the occupation's core ones and
    earlier-listed ones likelier; -1 pads.

    Efraimidis-Spirakis: the k smallest Exp(1)/weight keys are a weighted sample without replacement."""
    n_max = voc.family_skills.shape[1]
    weight = voc.occ_skill_weight[occ].astype(np.float32)
    with np.errstate(divide="ignore"):
        keys = rng.standard_exponential((len(family), n_max), dtype=np.float32) / weight
    keys[np.arange(n_max)[None, :] >= voc.family_skill_n[family][:, None]] = np.inf
    order = np.argsort(keys, axis=1)[:, :width]
    ids = np.take_along_axis(voc.family_skills[family], order, axis=1)
    ids[np.arange(width)[None, :] >= k[:, None]] = -1
    return ids


def _duties(rng: np.random.Generator, voc: _Vocab, family: np.ndarray,
            occ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two different duties (local indices into the family's list): mostly the occupation's own."""
    n_core, start = voc.occ_duty_counts[occ], voc.occ_duty_offsets[occ]
    first_pos = (rng.random(len(occ)) * n_core).astype(np.int64)
    first = np.where(rng.random(len(occ)) < _CORE_DUTY_P, voc.occ_duty_local[start + first_pos],
                     voc.duties.pick(rng, family))
    second_core = voc.occ_duty_local[start + (first_pos + 1) % n_core]
    second = np.where((n_core >= 2) & (rng.random(len(occ)) < 0.7), second_core,
                      voc.duties.other(rng, family, first))
    second = np.where(second == first, voc.duties.other(rng, family, first), second)
    return first, second


def _skill_masks(ids: np.ndarray, words: int) -> np.ndarray:
    """(n, slots) skill ids (-1 = none) -> (n, words) uint64 bit sets."""
    masks = np.zeros((ids.shape[0], words), dtype=np.uint64)
    for j in range(ids.shape[1]):
        col = ids[:, j]
        ok = col >= 0
        rows = np.flatnonzero(ok)
        bits = np.left_shift(np.uint64(1), (col[ok] % 64).astype(np.uint64))
        np.bitwise_or.at(masks, (rows, col[ok] // 64), bits)
    return masks


def _join_skills(voc: _Vocab, ids: np.ndarray) -> pa.Array:
    """(n, slots) skill ids -> '|'-joined names; slot 0 must be present whenever any slot is."""
    n_vocab = len(voc.skills)
    cols = np.where(ids < 0, n_vocab, ids)
    rest = (_take(voc.skill_pipe, cols[:, j]) for j in range(1, ids.shape[1]))
    return _cat(_take(voc.skill_plain, cols[:, 0]), *rest)


def _skill_phrase(rng: np.random.Generator, voc: _Vocab, ids: np.ndarray, named: int,
                  cert_tail: str) -> pa.Array:
    """'熟悉A、B，持有C<cert_tail>' from each row's skills: up to `named` ordinary skills, then the first
    certificate; a row with certificates only gets '持有C<cert_tail>'."""
    n_vocab = len(voc.skills)
    cols = np.where(ids < 0, n_vocab, ids)
    kind = np.where(ids < 0, 2, voc.is_cert[cols].astype(np.int64))     # 0 ordinary, 1 certificate, 2 none
    order = np.argsort(kind, axis=1, kind="stable")
    cols, kind = np.take_along_axis(cols, order, axis=1), np.take_along_axis(kind, order, axis=1)
    ordinary = np.where(kind == 0, cols, n_vocab)
    verb = _take(pa.array(_VERBS, pa.string()), rng.integers(0, len(_VERBS), len(ids)))
    listed = _cat(verb, _take(voc.skill_plain, ordinary[:, 0]),
                  *(_take(voc.skill_sep, ordinary[:, j]) for j in range(1, named)))
    has_cert = (kind == 1).any(axis=1)
    cert = cols[np.arange(len(ids)), np.argmax(kind == 1, axis=1)]
    cert_text = _cat("持有", _take(voc.skill_plain, cert), cert_tail)
    with_cert = _when(has_cert, _cat(listed, "，", cert_text), listed)
    return _when(kind[:, 0] == 0, with_cert, _when(has_cert, cert_text, ""))


def _round_to(values: np.ndarray, step: float) -> np.ndarray:
    return np.maximum(step, np.round(values / step) * step)


def _timestamps(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds.astype(np.int64), unit="s", utc=True).as_unit("us"))


def _ids(prefix: str, n: int) -> pa.Array:
    """Zero-padded sequential ids (S000001 ...), so ids sort like rows."""
    width = max(6, len(str(max(n - 1, 0))))
    if n == 0:
        return pa.array([], pa.string())
    return _cat(prefix, pc.utf8_lpad(_num(np.arange(n)), width=width, padding="0"))


# ----------------------------------------------------------------------------------------------------------
# Latent truth
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latent:
    """The hidden truth behind the frames: row i of each array = row i of `seekers` / `jobs`.

    Observed cells may be blank where these are not; `utility` uses these (module docstring)."""

    seeker_family: np.ndarray        # int16 index into FAMILIES
    seeker_occupation: np.ndarray    # int16 index into OCCUPATIONS
    seeker_lat: np.ndarray
    seeker_lon: np.ndarray
    seeker_education: np.ndarray     # int8 rank 0..4
    seeker_experience: np.ndarray    # float32 years
    seeker_salary_min: np.ndarray    # float32 expected monthly minimum (CNY)
    seeker_skills: np.ndarray        # (n, words) uint64 bit sets over `skills`
    job_family: np.ndarray
    job_occupation: np.ndarray
    job_lat: np.ndarray
    job_lon: np.ndarray
    job_education_min: np.ndarray    # int8 rank, -1 = 不限
    job_experience_min: np.ndarray
    job_salary_max: np.ndarray       # float32, NaN = not stated
    job_skills: np.ndarray
    job_n_skills: np.ndarray         # int16
    job_posted_s: np.ndarray         # int64 epoch seconds
    job_expires_s: np.ndarray
    skills: tuple[str, ...] = field(repr=False, default=())

    def utility(self, seeker_idx: np.ndarray, job_idx: np.ndarray) -> np.ndarray:
        """Noise-free utility (module docstring) of the pairs (seeker_idx, job_idx), which broadcast."""
        s, j = np.broadcast_arrays(np.asarray(seeker_idx, dtype=np.int64),
                                   np.asarray(job_idx, dtype=np.int64))
        u = _W_FAMILY * (self.seeker_family[s] == self.job_family[j])
        u = u + _W_OCCUPATION * (self.seeker_occupation[s] == self.job_occupation[j])
        common = np.zeros(s.shape, dtype=np.int64)
        for w in range(self.seeker_skills.shape[1]):
            common += np.bitwise_count(self.seeker_skills[s, w] & self.job_skills[j, w])
        u = u + _W_SKILL * common / np.maximum(1, self.job_n_skills[j])
        km = haversine_km(self.seeker_lat[s], self.seeker_lon[s], self.job_lat[j], self.job_lon[j])
        u = u - np.minimum(km, _DIST_CAP_KM) / _DIST_SCALE_KM
        ratio = np.log(self.job_salary_max[j] / self.seeker_salary_min[s])
        u = u + _W_SALARY * np.nan_to_num(np.clip(ratio, *_SALARY_CLIP), nan=0.0)
        required = self.job_education_min[j].astype(np.int64)
        edu_gap = np.where(required < 0, 0, required - self.seeker_education[s])
        u = u - _W_EDUCATION * np.maximum(0, edu_gap)
        u = u - _W_EXPERIENCE * np.maximum(0.0, self.job_experience_min[j] - self.seeker_experience[s])
        return np.asarray(u, dtype=np.float64)


@dataclass
class SyntheticData:
    """Three FORMAT.md frames (times tz-aware UTC, lists '|'-joined, '' or NaN = unknown) and their truth.

    `seekers` also carries the protected columns gender, birth_year, hukou and marital_status, for fairness
    audits only."""

    seekers: pd.DataFrame
    jobs: pd.DataFrame
    events: pd.DataFrame
    latent: Latent = field(repr=False)

    def utility(self, seeker_idx: np.ndarray, job_idx: np.ndarray) -> np.ndarray:
        """Noise-free utility of (seeker row, job row) pairs: a perfect ranker sorts by this."""
        return self.latent.utility(seeker_idx, job_idx)

    @property
    def seeker_family(self) -> pd.Series:
        """The latent family label of each seeker (aligned with `seekers`)."""
        labels = np.asarray(FAMILIES, dtype=object)[self.latent.seeker_family]
        return pd.Series(labels, index=self.seekers.index, name="family")

    @property
    def job_family(self) -> pd.Series:
        labels = np.asarray(FAMILIES, dtype=object)[self.latent.job_family]
        return pd.Series(labels, index=self.jobs.index, name="family")

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write seekers.csv, jobs.csv and events.csv (UTF-8, header row, times like 2026-01-05T10:00:00Z).

        Arrow's CSV writer is used because pandas' to_csv needs ~10x longer at a million rows."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        parts = (("seekers.csv", self.seekers), ("jobs.csv", self.jobs), ("events.csv", self.events))
        for name, frame in parts:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            for i, col in enumerate(table.schema):
                if pa.types.is_timestamp(col.type):
                    seconds = pc.cast(table.column(i), pa.timestamp("s", tz="UTC"), safe=False)
                    table = table.set_column(i, col.name, pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ"))
            path = out / name
            tmp = out / f".{name}.tmp"
            pcsv.write_csv(table, tmp)
            tmp.replace(path)
            written[name] = path
        return written


# ----------------------------------------------------------------------------------------------------------
# Seekers
# ----------------------------------------------------------------------------------------------------------


def _years_phrase(experience: np.ndarray) -> np.ndarray:
    """Index into _YEARS: 0 = no experience, 1..10 = that many years, 11 = more than ten."""
    return np.minimum(np.floor(experience).astype(np.int64), 11)


_YEARS = pa.array(["有志于从事", *(f"{_CN_NUM[k]}年" for k in range(1, 11)), "十年以上"], pa.string())
_YEARS_TAIL = pa.array(["，暂无正式工作经验，", *("经验，" for _ in range(11))], pa.string())
_SCHOOLS = pa.array(["", "", "某职业学校", "某职业技术学院", "某大学", "某大学研究生院"], pa.string())


def _seekers(rng: np.random.Generator, n: int, start_s: int, geo: _Geo, voc: _Vocab,
             start_year: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The seekers frame and its latent arrays. Every column is drawn for all rows at once; the resume text
    is assembled from pre-rendered fragments by index, which is what keeps 10^6 rows at a few seconds."""
    family = rng.choice(len(FAMILIES), size=n, p=voc.seeker_p).astype(np.int64)
    occ_local = voc.family_occ.pick(rng, family)
    occ = voc.family_occ.offsets[family] + occ_local
    county = rng.choice(len(geo.code), size=n, p=geo.seeker_p)
    lat, lon = _locations(rng, geo, county, km=4.0)
    city_code = np.where(rng.random(n) < 0.8, geo.code[county], geo.city_level[county])

    # Education around the occupation's typical level; experience from age.
    shift = rng.choice(np.array([-1, 0, 1, 2]), size=n, p=[0.2, 0.55, 0.2, 0.05])
    rank = np.clip(voc.occ_edu[occ] + shift, 0, _N_RANKS - 1)
    label = np.array([0, 1, 3, 4, 5])[rank]
    label = np.where((rank == 1) & (rng.random(n) < 0.5), 2, label)   # 高中 or 中专
    age = (18 + np.floor(42 * rng.beta(2.0, 3.5, n))).astype(np.int64)
    age = np.maximum(age, _EDU_END_AGE[rank])
    graduate = (rank >= 2) & (rng.random(n) < 0.11)        # 高校毕业生: ~5% of all seekers
    age = np.where(graduate, _EDU_END_AGE[rank] + (rng.random(n) < 0.5), age)
    experience = np.floor((age - _EDU_END_AGE[rank]) * rng.uniform(0.5, 1.0, n))
    experience = np.where(graduate, 0.0, experience)

    # Expectation: occupation pay x city tier x experience x individual taste.
    base = voc.occ_salary[occ] * _TIER_SALARY[geo.tier[county]] * (1 + 0.03 * np.minimum(experience, 10))
    sal_min = _round_to(base * rng.lognormal(0.0, 0.15, n), 500.0)
    sal_max = _round_to(sal_min * rng.choice(np.array([1.2, 1.25, 1.5, 1.6, 2.0]), size=n), 500.0)
    sal_max = np.maximum(sal_max, sal_min)
    salary_known = rng.random(n) >= 0.06

    skill_k = rng.integers(2, 8, n)
    fam_ids = _draw_skills(rng, voc, family, occ, np.minimum(skill_k, voc.family_skill_n[family]), 7)
    noise = np.where(rng.random(n) < 0.25, rng.integers(0, len(voc.skills), n), -1)
    generic = np.where(rng.random(n) < 0.3, len(voc.skills) - len(_GENERIC_SKILLS)
                       + rng.integers(0, len(_GENERIC_SKILLS), n), -1)
    generic = np.where((generic == noise) | np.any(fam_ids == generic[:, None], axis=1), -1, generic)
    noise = np.where(np.any(fam_ids == noise[:, None], axis=1), -1, noise)
    skill_ids = np.column_stack([fam_ids, noise, generic])

    # Desires: own occupation, often another of the family, sometimes one elsewhere.
    occ2 = voc.family_occ.offsets[family] + voc.family_occ.other(rng, family, occ_local)
    other_fam = (family + 1 + rng.integers(0, len(FAMILIES) - 1, n)) % len(FAMILIES)
    occ3 = voc.family_occ.offsets[other_fam] + voc.family_occ.pick(rng, other_fam)
    none_occ = len(OCCUPATIONS)
    desired_occ = _cat(_take(voc.occupation_names, occ),
                       _take(voc.occupation_pipe, np.where(rng.random(n) < 0.5, occ2, none_occ)),
                       _take(voc.occupation_pipe, np.where(rng.random(n) < 0.15, occ3, none_occ)))
    second_city = geo.capital_city_level[geo.province[county]]
    tier1 = np.array(_TIER1, dtype=np.int64) * 100
    pick1 = rng.integers(0, len(tier1), n)
    second_city = np.where(second_city == geo.city_level[county], tier1[pick1], second_city)
    second_city = np.where(second_city == geo.city_level[county], tier1[(pick1 + 1) % len(tier1)],
                           second_city)
    wants_second = rng.random(n) < 0.25
    desired_cities = _cat(_num(geo.city_level[county]), _when(wants_second, _cat("|", _num(second_city))))
    industry = _categorical(rng, voc.industry_probs, family)
    desired_industries = _when(rng.random(n) < 0.4, _take(pa.array(_INDUSTRIES, pa.string()), industry))

    # Protected attributes (audits only) and priority groups.
    female = rng.random(n) < voc.female[family]
    home_province = geo.province[county]
    migrant_names = list(_MIGRANT_SOURCES)
    province_list = geo.province_names.to_pylist()
    source_idx = np.array([province_list.index(p) for p in migrant_names], dtype=np.int64)
    source = source_idx[rng.choice(len(source_idx), size=n, p=_normalised(list(_MIGRANT_SOURCES.values())))]
    source = np.where(rng.random(n) < 0.3, rng.integers(0, len(province_list), n), source)
    hukou = np.where(rng.random(n) < 0.72, home_province, source)
    marital_u = rng.random(n)
    married_p = np.where(age < 25, 0.1, np.where(age < 35, 0.55, 0.85))
    marital = np.where(marital_u < married_p, 1, np.where(marital_u < married_p + 0.06 * (age >= 30), 2, 0))
    groups = {
        "long_term_unemployed": (rng.random(n) < 0.03) & ~graduate,
        "disabled": rng.random(n) < 0.01,
        "zero_employment_household": rng.random(n) < 0.01,
        "graduate": graduate,
        "veteran": (rng.random(n) < 0.018) & ~female & (age >= 22),
        "rural_migrant": (hukou != home_province) & (rank <= 1) & (rng.random(n) < 0.25),
    }
    priority = _cat(*(_when(flag, "|" + name) for name, flag in groups.items()))
    priority = pc.utf8_ltrim(priority, characters="|")

    # Resume text from pre-rendered fragments.
    years = _years_phrase(experience)
    duty1, duty2 = _duties(rng, voc, family, occ)
    skill_text = _skill_phrase(rng, voc, skill_ids[:, :3], 2, "")
    has_work = experience > 0
    history = _when(
        has_work,
        _cat("曾在", _take(geo.city_short, county), "某",
             voc.companies.take(family, voc.companies.pick(rng, family)),
             "负责", voc.duties.take(family, duty1), "和", voc.duties.take(family, duty2), "。"),
        _cat("在校期间参加过", voc.duties.take(family, duty1), "相关实习。"))
    edu_text = _take(pa.array([f"{x}学历，" for x in EDUCATION_LABELS], pa.string()), label)
    major = _when(label >= 2, _cat("所学专业为", voc.majors.take(family, voc.majors.pick(rng, family)), "，"))
    trait = _take(pa.array(_TRAITS, pa.string()), rng.integers(0, len(_TRAITS), n))
    wants = rng.random(n) < 0.6
    tells_pay = salary_known & (rng.random(n) < 0.4)
    wish = _when(wants, _cat("希望在", _take(geo.city_short, county), "从事",
                             voc.titles.take(occ, voc.titles.pick(rng, occ)), "相关工作"))
    pay = _when(tells_pay, _cat(_when(wants, "，"), "期望月薪", _num(sal_min), "元以上"))
    text = _cat(
        _take(_YEARS, years), _take(voc.work, family), _take(_YEARS_TAIL, years),
        skill_text, "。", history, edu_text, major, trait, "。", wish, pay, _when(wants | tells_pay, "。"))

    edu_known = rng.random(n) >= 0.03
    updated = start_s - rng.integers(0, 90 * 86400, n)
    frame = pd.DataFrame({
        "seeker_id": _ids("S", n).to_pandas(),
        "text": text.to_pandas(),
        "skills": _join_skills(voc, skill_ids).to_pandas(),
        "city": _num(city_code).to_pandas(),
        "lat": lat,
        "lon": lon,
        "education": _when(edu_known, _take(pa.array(EDUCATION_LABELS, pa.string()), label)).to_pandas(),
        "experience_years": experience.astype(np.float64),
        "expected_salary_min": np.where(salary_known, sal_min, np.nan),
        "expected_salary_max": np.where(salary_known, sal_max, np.nan),
        "desired_cities": desired_cities.to_pandas(),
        "desired_occupations": desired_occ.to_pandas(),
        "desired_industries": desired_industries.to_pandas(),
        "priority_groups": priority.to_pandas(),
        "updated_at": _timestamps(updated),
        "gender": _when(female, "F", "M").to_pandas(),
        "birth_year": (start_year - age).astype(np.int64),
        "hukou": _take(geo.province_names, hukou).to_pandas(),
        "marital_status": _take(pa.array(["未婚", "已婚", "离异"], pa.string()), marital).to_pandas(),
    })
    truth = {
        "family": family.astype(np.int16), "occupation": occ.astype(np.int16), "lat": lat, "lon": lon,
        "education": rank.astype(np.int8), "experience": experience.astype(np.float32),
        "salary_min": sal_min.astype(np.float32), "skills": _skill_masks(skill_ids, voc.words),
        "city": geo.city[county], "province": geo.province[county],
    }
    return frame, truth


# ----------------------------------------------------------------------------------------------------------
# Jobs
# ----------------------------------------------------------------------------------------------------------

_TITLE_PREFIX = pa.array(["", "急招", "诚聘", "高薪诚聘"], pa.string())
_TITLE_SUFFIX = pa.array(["", "（包吃住）", "（五险一金）", "（双休）", "（兼职）", "（实习）"], pa.string())
_TYPE_NOTE = pa.array(["", "兼职岗位，每天工作4小时左右。", "灵活用工，按单计酬，时间自由。", "实习岗位，"
    "表现优秀可转正。",
                       "公益性岗位，优先安置就业困难人员。"], pa.string())
_EXP_MIN_PROBS = np.array([                 # P(0, 1, 2, 3, 5, 8 years) by the occupation's education rank
    [0.5, 0.3, 0.12, 0.06, 0.02, 0.0],
    [0.35, 0.3, 0.18, 0.1, 0.06, 0.01],
    [0.3, 0.25, 0.2, 0.13, 0.09, 0.03],
    [0.2, 0.2, 0.25, 0.17, 0.13, 0.05],
])
_EXP_REQ = pa.array(["经验不限，", *(f"{_CN_NUM[k]}年以上相关工作经验，" for k in range(1, 11))], pa.string())


def _jobs(rng: np.random.Generator, m: int, start_s: int, days: int, geo: _Geo,
          voc: _Vocab) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The jobs frame and its latent arrays. Employers tie ads together (same place, mostly the same family),
    as on a real board where a factory posts several vacancies."""
    n_families = len(FAMILIES)
    # Employers: a few post many ads (Zipf-like), each with a home county, a main family and an industry.
    n_emp = max(1, m // 5)
    emp_family = rng.choice(n_families, size=n_emp, p=voc.job_p)
    emp_county = rng.choice(len(geo.code), size=n_emp, p=geo.job_p)
    emp_industry = _categorical(rng, voc.industry_probs, emp_family)
    emp_weight = rng.permutation(1.0 / (np.arange(n_emp) + 5.0) ** 1.1)
    employer = rng.choice(n_emp, size=m, p=emp_weight / emp_weight.sum())
    family = np.where(rng.random(m) < 0.6, emp_family[employer], rng.choice(n_families, size=m, p=voc.job_p))
    county = np.where(rng.random(m) < 0.75, emp_county[employer],
                      rng.choice(len(geo.code), size=m, p=geo.job_p))
    occ = voc.family_occ.offsets[family] + voc.family_occ.pick(rng, family)
    lat, lon = _locations(rng, geo, county, km=3.0)
    city_code = np.where(rng.random(m) < 0.85, geo.code[county], geo.city_level[county])
    job_type = _categorical(rng, voc.job_type_probs, family)
    own_industry = _categorical(rng, voc.industry_probs, family)
    industry = np.where(voc.any_industry[family] | (family == emp_family[employer]), emp_industry[employer],
                        own_industry)

    shift = rng.choice(np.array([-1, 0, 1]), size=m, p=[0.3, 0.6, 0.1])
    rank = np.clip(voc.occ_edu[occ] + shift, 0, _N_RANKS - 1)
    # 学历不限: 12% of ads, and most public-welfare posts (they are meant for people with few credentials).
    rank = np.where((rng.random(m) < 0.12) | ((job_type == 4) & (rng.random(m) < 0.7)), -1, rank)
    label = np.array([0, 1, 3, 4, 5])[np.maximum(rank, 0)]
    label = np.where((rank == 1) & (rng.random(m) < 0.4), 2, label)
    # Required years: low for elementary occupations, higher for graduate ones; none for gig, intern, welfare.
    seniority = np.clip(voc.occ_edu[occ], 0, 3)
    exp_min = np.array([0, 1, 2, 3, 5, 8])[_categorical(rng, _EXP_MIN_PROBS, seniority)]
    exp_min = np.where(np.isin(job_type, [2, 3, 4]), 0, exp_min)

    base = voc.occ_salary[occ] * _TIER_SALARY[geo.tier[county]] * rng.lognormal(0.0, 0.12, m)
    base = base * (1 + 0.05 * exp_min) * np.array([1.0, 0.5, 0.9, 0.55, 1.0])[job_type]
    base = np.where(job_type == 4, _TIER_MIN_WAGE[geo.tier[county]] * rng.uniform(1.0, 1.3, m), base)
    sal_min = _round_to(base, 100.0)
    sal_max = np.maximum(_round_to(sal_min * rng.uniform(1.15, 1.8, m), 500.0), sal_min + 500.0)
    sal_max = np.where(job_type == 4, sal_min + 300.0, sal_max)
    salary_known = rng.random(m) >= 0.03
    headcount = np.minimum(20, rng.geometric(voc.headcount_p[family]))
    posted = start_s + (rng.integers(0, days * 86400 // 60, m) * 60)
    expires = posted + rng.integers(30, 91, m) * 86400

    n_skills = np.minimum(rng.integers(3, 7, m), voc.family_skill_n[family])
    fam_ids = _draw_skills(rng, voc, family, occ, n_skills, 6)
    generic = np.where(rng.random(m) < 0.1, len(voc.skills) - len(_GENERIC_SKILLS)
                       + rng.integers(0, len(_GENERIC_SKILLS), m), -1)
    generic = np.where(np.any(fam_ids == generic[:, None], axis=1), -1, generic)
    skill_ids = np.column_stack([fam_ids, generic])

    prefix = rng.choice(4, size=m, p=[0.85, 0.07, 0.05, 0.03])
    suffix = rng.choice(4, size=m, p=[0.88, 0.05, 0.04, 0.03])
    suffix = np.where(job_type == 1, 4, np.where(job_type == 3, 5, suffix))
    title = _cat(_take(_TITLE_PREFIX, prefix), voc.titles.take(occ, voc.titles.pick(rng, occ)),
                 _take(_TITLE_SUFFIX, suffix))
    duty1, duty2 = _duties(rng, voc, family, occ)
    edu_label = pa.array(EDUCATION_LABELS, pa.string())
    edu_req = _when(rank >= 0, _cat(_take(edu_label, label), "及以上学历，"), "学历不限，")
    pay = _when(salary_known, _cat(_num(sal_min), "-", _num(sal_max), "元/月"), "面议")
    text = _cat(
        "岗位职责：1.负责", voc.duties.take(family, duty1), "；2.负责", voc.duties.take(family, duty2),
        "；3.完成上级交办的其他工作。任职要求：", edu_req, _take(_EXP_REQ, np.minimum(exp_min, 10)),
        _skill_phrase(rng, voc, skill_ids[:, :4], 3, "者优先"), "，",
        _take(pa.array(_REQ_TRAITS, pa.string()), rng.integers(0, len(_REQ_TRAITS), m)),
        "。薪资待遇：", pay, "，",
        _take(pa.array(_BENEFITS, pa.string()), rng.integers(0, len(_BENEFITS), m)), "。工作地点：",
        _take(geo.place, county), "。", _take(_TYPE_NOTE, job_type))

    frame = pd.DataFrame({
        "job_id": _ids("J", m).to_pandas(),
        "employer_id": _take(_ids("E", n_emp), employer).to_pandas(),
        "title": title.to_pandas(),
        "text": text.to_pandas(),
        "skills": _join_skills(voc, skill_ids).to_pandas(),
        "occupation": _take(voc.occupation_names, occ).to_pandas(),
        "industry": _take(pa.array(_INDUSTRIES, pa.string()), industry).to_pandas(),
        "city": _num(city_code).to_pandas(),
        "lat": lat,
        "lon": lon,
        "education_min": _when(rank >= 0, _take(edu_label, label)).to_pandas(),
        "experience_min_years": exp_min.astype(np.float64),
        "salary_min": np.where(salary_known, sal_min, np.nan),
        "salary_max": np.where(salary_known, sal_max, np.nan),
        "headcount": headcount.astype(np.int64),
        "job_type": _take(pa.array(_JOB_TYPES, pa.string()), job_type).to_pandas(),
        "posted_at": _timestamps(posted),
        "expires_at": _timestamps(expires),
    })
    truth = {
        "family": family.astype(np.int16), "occupation": occ.astype(np.int16), "lat": lat, "lon": lon,
        "education": rank.astype(np.int8), "experience": exp_min.astype(np.float32),
        "salary_max": np.where(salary_known, sal_max, np.nan).astype(np.float32),
        "skills": _skill_masks(skill_ids, voc.words),
        "n_skills": (skill_ids >= 0).sum(axis=1).astype(np.int16), "posted": posted.astype(np.int64),
        "expires": expires.astype(np.int64), "city": geo.city[county], "province": geo.province[county],
    }
    return frame, truth


# ----------------------------------------------------------------------------------------------------------
# Events
# ----------------------------------------------------------------------------------------------------------


class _Stratum:
    """Jobs grouped by an integer key, for drawing uniform members of a group per query."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def bounds(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo = np.searchsorted(self.sorted, query, side="left")
        return lo, np.searchsorted(self.sorted, query, side="right") - lo


def _draw(rng: np.random.Generator, chain: Sequence[tuple[_Stratum, np.ndarray]], n_jobs: int,
          size: int) -> np.ndarray:
    """(b, size) job rows uniform within the finest non-empty stratum of each query row (else any job)."""
    b = len(chain[0][1])
    u = rng.random((b, size))
    out = (u * n_jobs).astype(np.int64)
    todo = np.ones(b, dtype=bool)
    for stratum, query in chain:
        lo, count = stratum.bounds(query)
        use = todo & (count > 0)
        if use.any():
            pos = lo[use, None] + (u[use] * count[use, None]).astype(np.int64)
            out[use] = stratum.order[pos]
        todo &= ~use
    return out


def _overqualification(latent: Latent, s_idx: np.ndarray, j_idx: np.ndarray) -> np.ndarray:
    """What employers weigh beyond the seeker's own utility: experience and education above what the post asks."""
    years = latent.seeker_experience[s_idx].astype(np.float64) - latent.job_experience_min[j_idx]
    levels = latent.seeker_education[s_idx].astype(np.float64) - np.maximum(latent.job_education_min[j_idx], 0)
    return np.clip(years, -3, 3) / 3 + np.clip(levels, -2, 2) / 2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _events(rng: np.random.Generator, latent: Latent, seeker_place: dict[str, np.ndarray],
            job_place: dict[str, np.ndarray], per_seeker: float, end_s: int, seeker_ids: pa.Array,
            job_ids: pa.Array, employer_selectivity: float = 0.0) -> pd.DataFrame:
    """The events frame, drawn from the utility as the module docstring describes, blocks of seekers at a
    time so memory stays bounded at any scale."""
    n, m = len(latent.seeker_family), len(latent.job_family)
    empty = pd.DataFrame({
        "seeker_id": pd.Series([], dtype="str"), "job_id": pd.Series([], dtype="str"),
        "event": pd.Series([], dtype="str"), "timestamp": _timestamps(np.zeros(0, np.int64)),
        "value": pd.Series([], dtype="float64"),
    })
    if per_seeker <= 0 or n == 0 or m == 0:
        return empty
    k = np.minimum(_K_MAX, rng.poisson(per_seeker * rng.gamma(2.0, 0.5, n)))
    n_city = int(max(seeker_place["city"].max(), job_place["city"].max())) + 1
    n_prov = int(max(seeker_place["province"].max(), job_place["province"].max())) + 1
    jf = latent.job_family.astype(np.int64)
    by_fam_city = _Stratum(jf * n_city + job_place["city"])
    by_fam_prov = _Stratum(jf * n_prov + job_place["province"])
    by_fam = _Stratum(jf)
    by_city = _Stratum(job_place["city"])
    by_prov = _Stratum(job_place["province"])
    pairs_s: list[np.ndarray] = []
    pairs_j: list[np.ndarray] = []
    pairs_u: list[np.ndarray] = []
    active = np.flatnonzero(k > 0)
    for lo in range(0, len(active), _BLOCK):
        rows = active[lo: lo + _BLOCK]
        fam = latent.seeker_family[rows].astype(np.int64)
        city, prov = seeker_place["city"][rows], seeker_place["province"][rows]
        fc, fp = (by_fam_city, fam * n_city + city), (by_fam_prov, fam * n_prov + prov)
        f, c, p = (by_fam, fam), (by_city, city), (by_prov, prov)
        cand = np.concatenate([
            _draw(rng, [fc, fp, f], m, _STRATA[0]), _draw(rng, [fp, f], m, _STRATA[1]),
            _draw(rng, [f], m, _STRATA[2]), _draw(rng, [c, p], m, _STRATA[3]),
            (rng.random((len(rows), _STRATA[4])) * m).astype(np.int64)], axis=1)
        u = latent.utility(rows[:, None], cand)
        score = u + rng.gumbel(size=u.shape)
        # A job drawn twice for one seeker counts once.
        by_job = np.argsort(cand, axis=1, kind="stable")
        sorted_cand = np.take_along_axis(cand, by_job, axis=1)
        dup = np.zeros(cand.shape, dtype=bool)
        dup[:, 1:] = sorted_cand[:, 1:] == sorted_cand[:, :-1]
        by_job_score = np.take_along_axis(score, by_job, axis=1)
        np.put_along_axis(score, by_job, np.where(dup, -np.inf, by_job_score), axis=1)
        best = np.argsort(-score, axis=1, kind="stable")[:, :_K_MAX]
        keep = (np.arange(best.shape[1])[None, :] < k[rows, None]) & np.isfinite(
            np.take_along_axis(score, best, axis=1))
        rr, cc = np.nonzero(keep)
        pairs_s.append(rows[rr])
        pairs_j.append(cand[rr, best[rr, cc]])
        pairs_u.append(u[rr, best[rr, cc]])
    s_idx, j_idx, util = np.concatenate(pairs_s), np.concatenate(pairs_j), np.concatenate(pairs_u)

    # Funnel: one row per stage reached, each later than the previous, all while the job is open.
    n_pairs = len(s_idx)
    opens = latent.job_posted_s[j_idx]
    closes = np.minimum(latent.job_expires_s[j_idx], end_s)
    t = opens + np.floor((closes - opens) * rng.random(n_pairs) ** 1.5).astype(np.int64)
    stage_rows = [np.arange(n_pairs)]
    stage_times = [t]
    alive = np.ones(n_pairs, dtype=bool)
    employer = util + employer_selectivity * _overqualification(latent, s_idx, j_idx) if employer_selectivity else util
    for level in range(1, len(_FUNNEL)):
        median, sigma = _FUNNEL_DELAY_S[level - 1]
        t = t + np.maximum(1, np.round(rng.lognormal(math.log(median), sigma, n_pairs))).astype(np.int64)
        side = employer if level >= _FUNNEL.index("interviewed") else util
        alive &= (rng.random(n_pairs) < _sigmoid(side - _FUNNEL_SHIFT[level - 1])) & (t < closes)
        stage_rows.append(np.flatnonzero(alive))
        stage_times.append(t[alive])
    dwell = np.round(rng.lognormal(math.log(30.0), 0.8, n_pairs) * np.exp(0.15 * np.clip(util, -5, 8)))
    pair = np.concatenate(stage_rows)
    stage = np.repeat(np.arange(len(_FUNNEL)), [len(r) for r in stage_rows])
    when = np.concatenate(stage_times)
    order = np.lexsort((stage, j_idx[pair], s_idx[pair], when))
    pair, stage, when = pair[order], stage[order], when[order]
    return pd.DataFrame({
        "seeker_id": _take(seeker_ids, s_idx[pair]).to_pandas(),
        "job_id": _take(job_ids, j_idx[pair]).to_pandas(),
        "event": _take(pa.array(_FUNNEL, pa.string()), stage).to_pandas(),
        "timestamp": _timestamps(when),
        "value": np.where(stage == 1, dwell[pair], np.nan),
    })


# ----------------------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------------------


def generate(n_seekers: int, n_jobs: int, *, seed: int = 0, events_per_seeker: float = 3.0,
             start: str = "2026-01-01", days: int = 60, employer_selectivity: float = 0.0) -> SyntheticData:
    """Synthetic seekers, jobs and events; the same arguments always give identical frames.

    events_per_seeker is the mean number of jobs a seeker interacts with (each logs 1-5 funnel rows); 0 skips
    events, which is what profile-only benchmarks want. Jobs are posted in [start, start + days) and events
    fall in the same window. Seekers, jobs and events use independent random streams, so e.g. the seekers of
    (seed, n_seekers) do not change with n_jobs. employer_selectivity > 0 gives employers preferences of their
    own at the interview and hire stages (module docstring)."""
    if n_seekers < 0 or n_jobs < 0:
        raise ValueError("n_seekers and n_jobs must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    if not events_per_seeker >= 0:
        raise ValueError("events_per_seeker must not be negative")
    _check_occupations()
    geo, voc = _geo(), _vocab()
    start_ts = pd.Timestamp(start)
    start_ts = start_ts.tz_localize("UTC") if start_ts.tzinfo is None else start_ts.tz_convert("UTC")
    start_s = int(start_ts.timestamp())
    streams = np.random.SeedSequence(seed).spawn(3)
    rng_seekers, rng_jobs, rng_events = (np.random.default_rng(s) for s in streams)

    seekers, s_truth = _seekers(rng_seekers, n_seekers, start_s, geo, voc, start_ts.year)
    jobs, j_truth = _jobs(rng_jobs, n_jobs, start_s, days, geo, voc)
    latent = Latent(
        seeker_family=s_truth["family"], seeker_occupation=s_truth["occupation"], seeker_lat=s_truth["lat"],
        seeker_lon=s_truth["lon"], seeker_education=s_truth["education"],
        seeker_experience=s_truth["experience"],
        seeker_salary_min=s_truth["salary_min"], seeker_skills=s_truth["skills"],
        job_family=j_truth["family"], job_occupation=j_truth["occupation"], job_lat=j_truth["lat"],
        job_lon=j_truth["lon"], job_education_min=j_truth["education"],
        job_experience_min=j_truth["experience"],
        job_salary_max=j_truth["salary_max"], job_skills=j_truth["skills"], job_n_skills=j_truth["n_skills"],
        job_posted_s=j_truth["posted"], job_expires_s=j_truth["expires"], skills=voc.skills,
    )
    events = _events(rng_events, latent, {"city": s_truth["city"], "province": s_truth["province"]},
                     {"city": j_truth["city"], "province": j_truth["province"]}, events_per_seeker,
                     start_s + days * 86400, pa.array(seekers["seeker_id"]), pa.array(jobs["job_id"]),
                     employer_selectivity)
    return SyntheticData(seekers=seekers, jobs=jobs, events=events, latent=latent)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m matcher.offline.synthetic --seekers 10000 --jobs 2000 --seed 0 --out DIR`: generate, write and
    report what was written and how long it took."""
    parser = argparse.ArgumentParser(prog="python -m matcher.offline.synthetic",
                                     description="Write a synthetic FORMAT.md folder (seekers, jobs, "
                                                 "events).")
    parser.add_argument("--seekers", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--events-per-seeker", type=float, default=3.0,
                        help="mean number of jobs each seeker interacts with; 0 = profiles only")
    parser.add_argument("--start", default="2026-01-01", help="first day of the posting/event window (UTC)")
    parser.add_argument("--days", type=int, default=60, help="length of the window")
    parser.add_argument("--employer-selectivity", type=float, default=0.0,
                        help="employers' own preference for experience/education at interview and hire (0: none)")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    data = generate(args.seekers, args.jobs, seed=args.seed, events_per_seeker=args.events_per_seeker,
                    start=args.start, days=args.days, employer_selectivity=args.employer_selectivity)
    generated = time.perf_counter()
    paths = data.write(args.out)
    done = time.perf_counter()
    for path, frame in zip(paths.values(), (data.seekers, data.jobs, data.events), strict=True):
        print(f"wrote {path} ({len(frame):,} rows, {path.stat().st_size / 2**20:.1f} MiB)")
    print(f"generated in {generated - began:.1f} s, written in {done - generated:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
