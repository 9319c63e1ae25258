"""Flag vacancy text that restricts applicants by gender, age, marital/childbearing status, hukou/native place,
ethnicity or health, so that such postings can be held for review and such terms never become matching filters.

Why these six grounds: the PRC Employment Promotion Law (就业促进法, Art. 3 and 27-31) forbids discrimination by
民族、种族、性别、宗教信仰, against rural migrants' hukou and against carriers of infectious pathogens; the 2019
人社部/教育部 "进一步规范招聘行为促进妇女就业" notice names 限定性别、询问婚育、限制生育 explicitly; the 2010
人社部/教育部/卫生部 notice bans hepatitis-B screening (乙肝五项/两对半) in hiring. Age is not a protected ground in
PRC statute, but "35岁以下" is the best-known de-facto exclusion in Chinese hiring and the issue lists it, so it is
flagged like the others. A flag means "a human should look at this", not "this is illegal".

Design decisions (why, not what):

- Restriction, not mention. A posting that *talks about* a protected attribute is not restrictive: "婚假、产假" and
  "生育保险" are benefits, "解决北京户口" is a perk, "8-10岁Python课程" is the product's audience, "母婴" and "女装"
  are industries, "美女多"/"暖男老板" is (tasteless) team marketing, "以90后为主的团队" describes colleagues. Patterns
  therefore need a restricting shape: a limiter (限/仅限/只招/要求), a preference (优先/为佳), an exclusion
  (勿扰/谢绝/不考虑), a bound (35岁以下, 年龄不超过) or a form field (性别：男, 民族：汉). Preferences count:
  "男性优先" ranks one sex above the other, the same harm as a limit. "为主" is not a preference marker, because in
  real postings it describes the team ("公司都是以90后为主").
- Exceptions are masked, restrictions matched. Neutral statements ("男女不限", "年龄、性别不限", "不限户籍",
  "regardless of age", EEO boilerplate), benefits (婚假, 生育保险, 解决户口/落户), industries and words that merely
  contain a trigger (男装, 子女, 男女比例, 生源地贷款), audiences ("12-18岁学生", "25-40岁女性用户"), team averages
  ("平均年龄28岁") and English amounts ("under 50 employees") are replaced by a space first, in one `str.replace`.
  The restriction patterns then need no negative look-arounds, and "年龄18-35岁，男女不限" still flags age but not
  gender. Every exception is one visible line of `_NEUTRAL`, easier to audit than look-arounds spread over patterns.
- RE2 subset, on purpose. On pandas' Arrow-backed strings, `.str.replace/.contains/.extract` run in Arrow's C++ RE2
  kernel over the whole column when the pattern is a plain string without look-arounds, back-references, `$`,
  `\\s`, `\\d`, `\\w` or `\\b`; pandas sends anything else, and every pre-compiled `re.Pattern`, through Python's
  `re` one row at a time (2.7 s instead of 0.3 s for the 23.5k real postings). So patterns are module-level
  strings (checked with `re.compile` at import) written with explicit classes: `[0-9]`, `_WS` for whitespace, `_WB`
  / `_WE` for English word boundaries ("age" inside "manager"/"package" must not match), and a "\\n" appended to
  every text in place of `$`. `_WB`/`_WE` consume the neighbouring character, which only widens the evidence by a
  separator that `_clip` strips again. Flags are inline (`(?im)`), because any `flags=` argument also forces the
  slow path. `contains` (RE2's DFA) decides the flags; `extract`, ~30x slower because it tracks the submatch, only
  runs on the rows that hit. RE2 compiles the patterns on every call (~60 ms), so small inputs (a live upsert)
  take Python's `re`, whose compiled patterns are cached; in this subset both engines give identical results,
  which the tests check on the real sample.
- Age. Any bound on age is flagged, including preferences ("25-30岁为优"), except a lower bound of 18 or less
  ("年满18周岁", "18岁以上", "18 years old"): that is legal working age and protection of minors (劳动法 Art. 15,
  58), not age discrimination; a range ("18-40岁") has an upper bound and is flagged. Numbers must have two digits
  and be followed by 岁/周岁 (or come after 年龄/age), so "18个月", "3-5年" and "8-10岁课程" do not match.
  English bounds need "age"/"aged" or "years old", except "under/below/younger than NN" ("under 35"), whose
  non-age uses ("under 50 employees", "below 30%") are masked.
- Health. Bare "身体健康" / "good health" is NOT flagged: it is boilerplate in a large share of Chinese postings (a tag
  on many 2024 delivery-rider cards), names no condition, and employers may lawfully require fitness for the job
  (the civil-service clause "具有正常履行职责的身体条件" is the same idea); flagging it would drown the signals that
  matter. Likewise "健康证" (statutory food-handling certificate, 食品安全法 Art. 45), "体检合格" and "无色盲色弱" (a
  job-inherent requirement for designers and electricians) are not flagged. Flagged: named conditions in an
  excluding shape (无乙肝, 乙肝携带者勿扰, 无传染病, 无精神病史, 无残疾, 四肢健全, "no disabilities", "HBV carriers
  need not apply") and hepatitis-B test requirements. "无传染病" is flagged even for food jobs, because the lawful
  check is the 健康证, not a self-declared posting filter. "残疾人优先" is masked: the disability employment quota
  (残疾人就业条例 Art. 8) makes it lawful positive action.
- Hukou / native place. Only requirements: 本地户口, 限本市户籍, 北京户口优先, 河南籍勿扰, 籍贯 fields, 京外/本地生源
  (public institutions' student-origin quotas are hukou-based). "外地员工提供住宿", "本地生活", "本地化" and
  "解决户口"/"落户" (a benefit) are not. Province names are listed rather than "X籍", so 国籍/党籍/学籍/书籍 never
  match; nationality ("具有中华人民共和国国籍") is a legal eligibility rule for state posts and is out of scope.
- Ethnicity. "汉族" is flagged on any mention (a posting has no other reason to name the majority); other groups and
  "少数民族" need a limiter, preference or exclusion, because their names occur in place names (宁夏回族自治区,
  广西壮族自治区) and school names (中央民族大学). Religion (无宗教信仰, 穆斯林勿扰), the ground the law lists next to
  ethnicity, is folded into this column rather than adding a seventh. "Native speaker" is a language requirement
  and NOT ethnicity (it can proxy national origin, but flagging every language requirement would make the flag
  meaningless); "React Native" must obviously not match either.
- Gender. Gendered job titles (女前台, 男保安, 女主播, 美女客服) count as restrictions; models and actors are left out
  as a genuine occupational requirement. Different standards per sex ("男性最好178以上，女性最好165以上") are an
  appearance/height requirement, not a sex restriction, and appearance is outside these six columns.
- Evidence is the first matched span per category (clipped to `_EVIDENCE_CHARS`), so a reviewer sees why a posting
  was flagged without reading it all. `redact_restrictions` blanks the same spans (neutral masks applied, as
  flagged). The text encoder does not use it: features.redaction applies these patterns, plus personal statements,
  without the neutral masks (which would delete words like 女装 from the text), so flagged terms never act as
  matching filters or features.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

__all__ = ["CATEGORIES", "flag_postings", "redact_restrictions"]

CATEGORIES: Final[tuple[str, ...]] = (
    "gender", "age", "marital_childbearing", "hukou_native_place", "ethnicity", "health")
"""Flag columns of `flag_postings`, in output order."""

_EVIDENCE_CHARS: Final[int] = 40
_TEXT_DTYPE: Final = pd.StringDtype("pyarrow", na_value=np.nan)  # Arrow storage: what lets RE2 run the patterns
_RE2_MIN_CHARS: Final[int] = 20_000  # below this, Python's re (cached patterns) beats RE2's per-call compile

# --- building blocks (RE2 subset: no look-arounds, no \s \d \w \b) -------------------------------------------------
_WS: Final[str] = r"[ \t\r\n]"
_WB: Final[str] = r"(?:^|[^a-z0-9_])"  # English word start; with (?i) the class also excludes A-Z
_WE: Final[str] = r"[^a-z0-9_]"  # English word end: every prepared text ends with a "\n" sentinel
_HAN: Final[str] = "[\u4e00-\u9fff]"   # real characters, not \u escapes (pandas sends \u patterns to Python re)
_NOT_DIGIT: Final[str] = r"(?:^|[^0-9.])"
_SUI: Final[str] = rf"{_WS}*周?岁"
_RANGE: Final[str] = rf"{_WS}*(?:-+|~|〜|—+|–+|至|到){_WS}*"
_OVER_18: Final[str] = r"(?:19|[2-9][0-9])"  # a lower bound of 18 or less is legal working age
# Limiters, preferences and exclusions: the shapes that turn a mention into a restriction. The bare 限 must not
# be the end of 不限/无限/有限/期限/权限/上限/... .
_LIMIT: Final[str] = (r"(?:仅限于?|只限于?|限于|限招|只招|仅招|只要|只收|只录用?|只聘|仅聘|须为|需为|必须是|必须为|"
                      r"要求是|要求为|要求|(?:^|[^不无有期权界上下极局时年门])限)")
_PREFER: Final[str] = r"(?:者|人|人员|人士|员工)?(?:优先|为佳|为宜|更佳|最佳|为优)"
_EXCLUDE: Final[str] = (rf"(?:者|人|人员|人士|员工|患者)?{_WS}*(?:勿扰|免谈|请勿|勿投|慎投|莫扰|绕道|谢绝|除外|"
                        r"不考虑|不予考虑|不予录用|不录用|不招|不要|不收|不适合|不符合)")
_PROVINCES: Final[str] = (r"(?:北京|天津|河北|山西|内蒙古?|辽宁|吉林|黑龙江|上海|江苏|浙江|安徽|福建|江西|山东|河南|"
                          r"湖北|湖南|广东|广西|海南|重庆|四川|贵州|云南|西藏|陕西|甘肃|青海|宁夏|新疆|香港|澳门|台湾|"
                          r"东北|潮汕|本地|本市|本省|本区|本县|当地|外地|外省|外市|省内|省外)")
_ETHNIC_GROUPS: Final[str] = (r"(?:(?:汉|蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|"
                              r"佤|畲|高山|拉祜|水|东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|"
                              r"阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|"
                              r"门巴|珞巴|基诺)族|少数民族|维族|藏民|回民)")
_CONDITIONS: Final[str] = (r"(?:乙肝|乙型肝炎|乙肝病毒|HBV|澳抗|大三阳|小三阳|肝炎|艾滋病?|HIV|性病|"
                           r"(?:传染性?|遗传性?|精神|慢性|重大|严重|心脏|器质性)(?:病|疾病)史?|传染性|精神病史?|"
                           r"癫痫|残疾|残障|肢体残疾|身体缺陷|生理缺陷|疾病史|病史)")
_ATTRS: Final[str] = r"(?:性别|年龄|户口|户籍|籍贯|民族|婚否|婚姻(?:状况)?|婚育|男女|地域|省份|学历|专业|经验|身高)"
_AUDIENCE: Final[str] = (r"(?:儿童|孩子|孩童|青少年|少儿|宝宝|婴幼儿|幼儿|学员|小朋友|中小学生|学生|用户|人群|群体|"
                         r"客户|客群|消费者|老人|老年|患者|阶段|年龄段)")
_ENGLISH_AMOUNTS: Final[str] = (r"(?:%|percent|people|persons|employees|staff|members|users|clients|customers|hours?|"
                                r"hrs|days?|weeks?|months?|minutes?|mins?|seconds?|secs?|ms|kg|kgs|lbs?|km|miles|k|m|"
                                r"million|billion|countries|cities|years? of|yrs? of|students|kids|children|gb|mb|tb|"
                                r"usd|rmb|yuan|dollars|words|pages|items|degrees)")

# --- neutral statements, masked before matching ------------------------------------------------------------------
_NEUTRAL: Final[str] = "(?im)" + "|".join((
    # 男女不限 / 年龄、性别不限 / 性别：不限 / 不限男女 / 无论年龄大小 / 无年龄限制 / 已婚未婚均可
    rf"{_ATTRS}(?:{_WS}*[、/和与及,，]{_WS}*{_ATTRS})*{_WS}*[:：]?{_WS}*(?:要求)?{_WS}*(?:不限|均可|皆可|都可以?|"
    r"无要求|无限制|不做要求|不作要求|没有要求|没有限制|不拘|不论|兼招|兼收|各半|比例)",
    rf"(?:不限|不论|无论|不分|不问|不拘){_WS}*{_ATTRS}(?:大小|高低)?(?:{_WS}*[、/和与及,，]{_WS}*{_ATTRS}(?:大小|高低)?)*",
    rf"(?:无|没有){_WS}*{_ATTRS}(?:{_WS}*[、/和与及,，]{_WS}*{_ATTRS})*{_WS}*(?:限制|要求|歧视)",
    rf"(?:已婚|未婚|已育|未育)(?:{_WS}*[/、或和与及]{_WS}*(?:已婚|未婚|已育|未育))+{_WS}*(?:均可|皆可|都可以?|不限)",
    # words that merely contain a trigger: either sex, products, family words, dorms, holidays
    rf"男{_WS}*[/、或]{_WS}*女|女{_WS}*[/、或]{_WS}*男|男女|女男|[男女](?:装|鞋|款|式|包|表|科|厕|卫生间|洗手间)|女婿|子女|"
    r"儿女|孙女|侄女|(?:男|女|男女)生?(?:宿舍|寝室)|妇女节|女神节|三八节",
    # benefits that mention marriage, childbirth or hukou
    r"婚假|婚丧假?|婚育假|结婚(?:礼金|贺礼|贺金|红包|假)|婚庆|新婚|生育(?:保险|险|津贴|补贴|礼金|贺礼|假)|产假|产检假?|"
    r"陪产假?|哺乳假|育儿假|孕期(?:保护|关怀|福利)",
    r"(?:解决|提供|办理|协助|帮助|申请|可落|可办|迁入?|落)[^需须要限只仅非 \t\r\n,，。;；:、|()（）0-9a-z]{0,4}"
    r"(?:户口|户籍|落户)|户口(?:指标|名额|迁入)|落户|生源地(?:信用|助学)*贷款",
    r"残疾人(?:士)?(?:优先|亦可|均可|欢迎)|欢迎残疾人",
    # English statements of legal working age ("18+", "18 years or older") are not age limits
    rf"{_WB}1[0-8](?:{_WS}*(?:years?|yrs?)(?:{_WS}+old|{_WS}+of{_WS}+age)?)?{_WS}*(?:\+|or{_WS}+(?:over|above|older)|"
    rf"and{_WS}+(?:over|above|older))",
    # audiences and averages: ages of customers, learners or colleagues, not of the applicant
    rf"(?:年龄{_WS}*)?(?:[0-9]{{1,2}}(?:{_SUI})?{_RANGE})?[0-9]{{1,2}}{_SUI}{_WS}*(?:以下|以上|以内|之间|左右|之前)?"
    rf"{_WS}*(?:的)?(?:男|女)?性?{_AUDIENCE}",
    r"平均年龄[^,，。;；\n]{0,12}",
    rf"{_WB}(?:average|mean){_WS}+age[^.,;\n]{{0,12}}",
    # English: equal-opportunity boilerplate and neutral phrasings, to the end of the sentence; amounts
    rf"{_WB}(?:regardless of|irrespective of|without regard to|no matter){_WE}[^.;\n]{{0,200}}",
    rf"{_WB}(?:(?:do|does|will) not|never|don't|doesn't){_WS}+discriminat[^.;\n]{{0,200}}",
    rf"{_WB}(?:equal (?:employment )?opportunit|eeo{_WE})[^.;\n]{{0,200}}",
    rf"{_WB}(?:all|any){_WS}+(?:ages?|genders?|sexes){_WE}",
    rf"{_WB}no{_WS}+(?:age|gender|sex|hukou){_WS}+(?:limits?|restrictions?|requirements?){_WE}",
    rf"{_WB}(?:males?|men|man|females?|women|woman){_WS}*(?:and|or|/|&){_WS}*(?:males?|men|man|females?|women|woman)"
    + _WE,
    rf"{_WB}(?:under|below|younger than|not older than|no older than){_WS}+[0-9]{{2,}}{_WS}*{_ENGLISH_AMOUNTS}{_WE}",
    rf"{_WB}hukou{_WS}+(?:sponsorship|quota|provided|support|assistance|application|settlement){_WE}",
    rf"{_WB}(?:provid|help|assist|solv|sponsor|obtain|apply|settl)[a-z]*{_WS}+(?:[a-z]+{_WS}+){{0,2}}"
    rf"(?:hukou|household registration){_WE}",
))

# --- restriction patterns per category ---------------------------------------------------------------------------
_SEX_SUFFIX: Final[str] = r"(?:性|士|生|孩)"
_PATTERNS: Final[dict[str, str]] = {
    "gender": "|".join((
        rf"{_LIMIT}{_WS}*[:：]?{_WS}*(?:未婚|已婚|已育|未育|年轻|本地)?(?:男|女)(?:{_SEX_SUFFIX}|的)?",
        rf"(?:男|女){_SEX_SUFFIX}?{_PREFER}",
        rf"(?:诚?招|聘请?){_WS}*(?:男|女){_SEX_SUFFIX}",
        rf"性别{_WS}*(?:要求|限制|限定)?{_WS}*[:：为]?{_WS}*(?:男|女)",
        # a bare "1、男，" / "|女|" item of a requirement list
        rf"(?:^|[;；。|:：]|[0-9]{_WS}*[.、)）]){_WS}*(?:男|女)(?:性|士|生)?[ \t\r]*[,，、;；。|\n]",
        r"(?:男|女)(?:前台|文员|秘书|助理|保安|司机|服务员|主播|客服|会计|出纳|销售|普工|操作工|技工|学徒|营业员|收银员|"
        r"导购|店员|保洁|保姆|月嫂|育婴师|护工|幼师)",
        rf"{_WB}(?:males?|females?|men|women|man|woman|gentlemen|ladies|lady|boys|girls){_WS}+(?:only|preferred|"
        rf"(?:is|are){_WS}+preferred|applicants?{_WS}+only|candidates?{_WS}+only|wanted|required){_WE}",
        rf"{_WB}(?:only|must be(?: a)?|should be(?: a)?|prefer(?:ably|ence for)?(?: a)?|looking for(?: a)?|"
        rf"seeking(?: a)?){_WS}+(?:males?|females?|man|woman|men|women|lady|ladies|gentlem[ae]n){_WE}",
        rf"{_WB}(?:gender|sex){_WS}*(?::|-|requirements?:?|required:?){_WS}*(?:male|female|m|f){_WE}",
        rf"(?:^|[:;|•]){_WS}*(?:male|female|men|women)[ \t\r]*[,;.|\n]",  # a bare "Requirements: female," item
    )),
    "age": "|".join((
        rf"年龄{_WS}*(?:要求|限制|范围|需|须|在|为|:|：|{_WS})*[0-9]{{2}}(?:{_SUI})?(?:{_RANGE}[0-9]{{2}}(?:{_SUI})?)?"
        r"(?:以下|以上|以内|之间|左右)?",
        r"年龄(?:不超过|不大于|不得超过|不能超过|不高于|不低于|不小于|超过|大于|小于|低于|高于|上限|下限|超限|偏大|太大|"
        r"过大|限制|要求在?|须在|需在)",
        rf"{_NOT_DIGIT}[0-9]{{2}}(?:{_SUI})?{_RANGE}[0-9]{{2}}{_SUI}",
        rf"{_NOT_DIGIT}[0-9]{{2}}{_SUI}{_WS}*(?:或以下|及以下|以下|以内|之内|以前|之前|前|以?下|左右|上下)",
        rf"{_NOT_DIGIT}{_OVER_18}{_SUI}{_WS}*(?:或以上|及以上|以上|之上|上)",
        rf"(?:不超过|不大于|不高于|不得超过|不能超过|小于|低于|未超过)[0-9]{{2}}{_SUI}",
        rf"(?:年满|大于|超过|高于|满){_OVER_18}{_SUI}",
        rf"{_LIMIT}{_WS}*(?:[6-9]0|[6-9]5|00|05)后|{_NOT_DIGIT}(?:[6-9]0|[6-9]5|00|05)后(?:者)?{_PREFER}",
        rf"年轻(?:人|者|女性|男性)?{_PREFER}|{_LIMIT}{_WS}*年轻",
        rf"{_WB}age[ds]?{_WS}*(?:limit|requirement|range|restriction|cap)?{_WS}*(?::|of|between|from|under|below|"
        rf"over|above|up to|max(?:imum)?|less than|not (?:more|older) than|no (?:more|older) than)?{_WS}*[0-9]{{2}}"
        + _WE,
        rf"{_WB}(?:max(?:imum)?|upper){_WS}+age{_WE}|{_WB}age{_WS}+(?:limit|requirement|restriction|cap)s?{_WE}",
        rf"{_WB}[0-9]{{2}}{_WS}*(?:-|–|~|to){_WS}*[0-9]{{2}}{_WS}*(?:years? old|yrs?\.? old|years of age|y/?o){_WE}",
        rf"{_WB}(?:under|below|younger than|not older than|no older than){_WS}+(?:the age of{_WS}+)?[0-9]{{2}}{_WE}",
        rf"{_WB}{_OVER_18}{_WS}*(?:years? old|yrs?\.? old|years of age|y/?o){_WE}",
        rf"{_WB}(?:young|youthful){_WS}+(?:candidates?|applicants?|people|persons?|talents?|men|women|ladies|guys)"
        + _WE,
    )),
    "marital_childbearing": "|".join((
        r"已婚已育|已婚未育|未婚未育|已婚|未婚|已育|未育|离异|丧偶|婚否|婚育(?:情况|状况)?|婚姻(?:状况|情况)",
        rf"(?:无|没有|暂无|不考虑|暂不考虑|近期不|[一二三两1-3]年内不|不打算){_WS}*(?:近期|[一二三两1-3]年内)?{_WS}*"
        r"(?:生育|怀孕|要孩子|要小孩|生孩子|生小孩|结婚|生二胎|生二孩|二胎|婚育)(?:计划|打算|意愿)?",
        rf"(?:孕妇|孕期|怀孕|哺乳期){_EXCLUDE}",
        rf"(?:宝妈|宝爸|单身|已婚女性|已婚男性){_PREFER}|{_LIMIT}{_WS}*(?:宝妈|单身)",
        rf"{_WB}(?:must|should|need to|required to|has to){_WS}+be{_WS}+(?:single|unmarried|married){_WE}",
        rf"{_WB}(?:single|unmarried|married){_WS}+(?:only|preferred|candidates?|applicants?|women|men|females?|males?)"
        + _WE,
        rf"{_WB}marital{_WS}+status{_WE}",
        rf"{_WB}(?:no|not|non-?){_WS}*pregnan|{_WB}pregnan[a-z]*{_WS}+(?:women|applicants?|candidates?){_WS}+"
        rf"(?:need not|should not|cannot|may not|will not){_WE}",
        rf"{_WB}(?:no|without){_WS}+(?:plans?{_WS}+(?:to|for){_WS}+(?:have|having){_WS}+)?(?:children|kids|babies)"
        rf"{_WE}|{_WB}childless{_WE}",
        rf"{_WB}mothers?{_WS}+(?:preferred|only){_WE}",
    )),
    "hukou_native_place": "|".join((
        r"(?:本地|本市|本省|本区|本县|当地|城镇|农村|非农|农业|城市)(?:常住)?(?:户口|户籍)",
        rf"{_LIMIT}{_WS}*(?:具有|具备|持有|拥有|有)?{_WS}*{_HAN}{{0,4}}(?:户口|户籍)",
        rf"(?:具有|具备|持有|拥有|有){_WS}*{_PROVINCES}(?:市|省)?(?:常住)?(?:户口|户籍)",
        rf"(?:户口|户籍){_WS}*(?:要求|限制|在|需|须|必须|:|：|{_PREFER})",
        rf"{_PROVINCES}(?:市|省)?(?:常住)?(?:户口|户籍|籍)",
        r"籍贯",
        r"(?:京|沪|津|渝|本地|本市|本省|省内|省外|京外|京内|外地|非京|外省)生源|生源地",
        rf"{_PROVINCES}(?:人|人员|人士)(?:{_PREFER}|{_EXCLUDE})",
        rf"(?:{_LIMIT}|只要|不招|不要|谢绝){_WS}*{_PROVINCES}(?:籍|人员|人士|人[^群口气才民工员士])",
        rf"{_WB}(?:hukou|household{_WS}+registration){_WE}",
        rf"{_WB}local{_WS}+(?:residents?|candidates?|applicants?|people){_WS}+(?:only|preferred){_WE}",
        rf"{_WB}native{_WS}+of{_WE}|{_WB}(?:native place|place of origin|birthplace|place of birth){_WE}",
    )),
    "ethnicity": "|".join((
        r"汉族",
        rf"(?:{_LIMIT}|只要|不招|不要|谢绝|非){_WS}*{_ETHNIC_GROUPS}",
        rf"{_ETHNIC_GROUPS}(?:人|者|同胞)?(?:{_PREFER}|{_EXCLUDE})",
        rf"民族{_WS}*(?::|：|要求|限制|限定)",
        rf"无宗教信仰|不信(?:仰)?宗教|不信教|(?:宗教信仰|信教|信仰宗教|穆斯林|基督徒|教徒)(?:者|人士)?{_EXCLUDE}|"
        rf"宗教信仰{_WS}*[:：]",
        rf"{_WB}(?:han|uyghurs?|uighurs?|tibetans?|caucasians?|whites?|blacks?|hispanics?|latinos?|asians?){_WS}+"
        rf"(?:only|preferred|candidates? only|applicants? only|people only|ethnicity){_WE}",
        rf"{_WB}(?:race|ethnicity|ethnic origin|ethnic group|religion){_WS}*:",
        rf"{_WB}of{_WS}+[a-z]+{_WS}+ethnicity{_WE}",
    )),
    "health": "|".join((
        rf"(?:无|没有|不得有|不能有|不可有|未患有?|不患有?){_WS}*(?:任何)?{_WS}*{_CONDITIONS}|非(?:乙肝|HBV)",
        rf"{_CONDITIONS}(?:病毒)?(?:携带者?|阳性|患者|病人)?{_EXCLUDE}",
        rf"(?:乙肝|两对半|乙肝五项|HBV|澳抗){_WS}*(?:检查|检测|筛查|指标)?{_WS}*(?:合格|正常|阴性|必查)|"
        r"体检[^。\n;；]{0,10}(?:乙肝|两对半|HBV|澳抗)|大三阳|小三阳",
        r"(?:四肢|肢体|身体)(?:健全|无残疾)",
        rf"{_WB}no{_WS}+(?:history{_WS}+of{_WS}+)?(?:disabilit(?:y|ies)|disabled|handicaps?|physical defects?|"
        r"chronic (?:illness(?:es)?|diseases?|conditions?)|infectious diseases?|contagious diseases?|"
        rf"medical conditions?|hepatitis(?: b)?|hbv|hiv|mental illness(?:es)?|illness(?:es)?|diseases?){_WE}",
        rf"{_WB}(?:free (?:of|from)|without){_WS}+(?:any{_WS}+)?(?:disabilit|handicap|chronic |infectious |"
        r"contagious |hepatitis|hbv|hiv|medical condition|disease|illness)",
        rf"{_WB}(?:hepatitis b|hbv|hiv|disabled|handicapped){_WS}+(?:(?:carriers?|positive|persons?|people|applicants?|"
        rf"candidates?){_WS}+)?(?:need not|not accepted|not considered|excluded|cannot|may not|will not be|should not)"
        + _WE,
        rf"{_WB}able[- ]bodied{_WE}|{_WB}non-?disabled{_WE}",
    )),
}

_CATEGORY_PATTERNS: Final[dict[str, str]] = {name: f"(?im)(?:{pattern})" for name, pattern in _PATTERNS.items()}
_CATEGORY_EXTRACTS: Final[dict[str, str]] = {  # all groups named: pc.extract_regex addresses groups by name
    name: f"(?im)(?P<match>{pattern})" for name, pattern in _PATTERNS.items()}
_ANY_PATTERN: Final[str] = "(?im)" + "|".join(f"(?:{p})" for p in _PATTERNS.values())
for _pattern in (_NEUTRAL, _ANY_PATTERN, *_CATEGORY_EXTRACTS.values()):
    re.compile(_pattern)  # fail at import, not on the first posting


def _as_text(texts: pd.Series | Iterable[str | None], *, re2: bool | None = None) -> pd.Series:
    """Any column or sequence of strings (None/NaN allowed) -> str Series, a Series keeping its index. Arrow-backed
    (RE2 kernels) for large inputs, object (Python's re) for small ones, unless `re2` says which."""
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    text = series.astype(object).where(series.notna(), "").astype(str).astype(object)
    if re2 is None:
        re2 = int(text.str.len().sum()) >= _RE2_MIN_CHARS
    return text.astype(_TEXT_DTYPE) if re2 else text


def _prepare(text: pd.Series) -> pd.Series:
    """NFKC-fold (full-width colons, digits, dashes), append the "\\n" sentinel that stands in for `$` (which
    pandas would send to Python's re) and mask the neutral statements (男女不限, regardless of ...)."""
    return (text.str.normalize("NFKC") + "\n").str.replace(_NEUTRAL, " ", regex=True)


def _clip(evidence: pd.Series) -> pd.Series:
    """Collapse whitespace, drop the separator a word boundary consumed, keep `_EVIDENCE_CHARS` characters."""
    tidy = evidence.str.replace(r"[ \t\r\n]+", " ", regex=True).str.strip(" ,，、;；。|:：.()（）")
    return tidy.str.slice(0, _EVIDENCE_CHARS)


def flag_postings(texts: pd.Series | Iterable[str | None], *, re2: bool | None = None) -> pd.DataFrame:
    """One row per posting text: a bool column per category in `CATEGORIES`, `categories` ("gender|age", "" when
    none, in `CATEGORIES` order) and `evidence` ("gender=男性优先; age=年龄18-35岁", first match per category).

    `re2` forces the engine (True: Arrow's RE2 kernels, False: Python's re); by default inputs of 20,000+
    characters use RE2, smaller ones (a live upsert of one posting) skip its ~60 ms of per-call compilation.
    Both give the same result: the patterns are written in the subset where the two engines agree."""
    text = _as_text(texts, re2=re2)
    prepared = _prepare(text)
    out = pd.DataFrame(index=text.index)
    labels = np.full(len(text), "", dtype=object)
    evidence = np.full(len(text), "", dtype=object)
    for name in CATEGORIES:
        # contains runs RE2's DFA; extract (submatch tracking, ~30x slower) only runs on the rows that hit
        hit = prepared.str.contains(_CATEGORY_PATTERNS[name], regex=True).to_numpy(dtype=bool)
        out[name] = hit
        labels = labels + np.where(hit, name + "|", "")
        snippet = np.full(len(text), "", dtype=object)
        if hit.any():
            found = prepared[hit].str.extract(_CATEGORY_EXTRACTS[name], expand=False)
            snippet[hit] = _clip(found.fillna("")).to_numpy(dtype=object)
        evidence = evidence + np.where(hit, name + "=" + snippet + "; ", "")
    out["categories"] = pd.Series(labels, index=text.index, dtype=object).str.rstrip("|")
    out["evidence"] = pd.Series(evidence, index=text.index, dtype=object).str.rstrip("; ")
    return out


def redact_restrictions(texts: pd.Series | Iterable[str | None], placeholder: str = " ", *,
                        re2: bool | None = None) -> pd.Series:
    """The texts NFKC-folded and stripped, with neutral statements and every flagged restriction replaced by
    `placeholder`. For callers that embed posting text for matching: the restriction words cannot become features."""
    return _prepare(_as_text(texts, re2=re2)).str.replace(_ANY_PATTERN, placeholder, regex=True).str.strip()
