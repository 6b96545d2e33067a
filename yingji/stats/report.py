"""The annual report on law-based government work (法治政府建设工作报告) and the monthly and
quarterly summaries (月报/季报), written from one `figures.compute()` object.

All the wording lives here, as data, so the bureau's staff can edit a sentence without
touching the renderer. The wording is Chinese and not translated: it is the text of an
official document, the same whatever language the user reads the site in.

Template syntax (inside any text below)
    ``{inspections.total}``             a count, printed as an integer (0 included)
    ``{enforcement.penalties.amount|wan}``  yuan printed in 万元: 92750.00 → 9.275
    ``{tips.rewards.amount|yuan}``      yuan without trailing zeros: 2500.00 → 2500
    ``{hazards.general.rectification_rate}``  a rate as computed: 99.89 (the text adds %)
    ``{$period}``                       a variable: bureau, area, subject, year, period, kind
    ``{todo:…}``                        a narrative part to complete: 【待补充:…】
    ``{choose:name}``                   one of several sentences, picked by CHOICES[name]

A figure whose key compute() does not return (a domain yingji does not keep yet, see
figures.missing()) prints as 【待补充:label】 and a figure with no value (a rate of nothing)
as 【无数据:label】; both are highlighted runs, as is every {todo:…}.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from yingji.core import documents
from yingji.core.ledger import Period
from yingji.stats import figures as stats_figures

# -- the words ----------------------------------------------------------------------------------
# What each figure is called in the document, for placeholders and the summary's table.
LABELS: dict[str, str] = {
    "study.sessions": "法治理论学习次数",
    "inspections.total": "检查生产经营单位家次",
    "inspections.enterprises": "检查企业家数",
    "inspections.sector.industrial_trade": "检查工贸企业家次",
    "hazards.sector.industrial_trade.found": "工贸企业排查隐患条数",
    "enterprises.sector.hazardous_chemicals": "辖区危险化学品企业家数",
    "inspections.sector.hazardous_chemicals": "检查危险化学品企业家次",
    "hazards.sector.hazardous_chemicals.found": "危险化学品企业排查隐患条数",
    "enterprises.gas_stations": "辖区加油站点数",
    "enterprises.gas_stations.standardized": "完成标准化建设的加油站点数",
    "tasks.key": "年度重点任务项数",
    "hazards.found": "排查发现隐患条数",
    "hazards.general.found": "排查发现一般隐患条数",
    "hazards.general.rectified": "一般隐患已完成整改条数",
    "hazards.general.pending": "一般隐患限期整改条数",
    "hazards.general.rectification_rate": "一般隐患整改率(%)",
    "hazards.major.found": "排查发现重大隐患条数",
    "hazards.major.rectified": "重大隐患已完成整改条数",
    "hazards.overdue": "超期未整改隐患条数",
    "enforcement.penalties": "行政处罚起数",
    "enforcement.penalties.amount": "处罚金额(元)",
    "enforcement.supervision_letters": "下发督办函份数",
    "enforcement.interviews": "警示约谈企业家数",
    "enforcement.referrals": "移送案件件数",
    "tips.hotline.received": "“12345”热线受理举报件数",
    "tips.hotline.closed": "“12345”热线举报办结件数",
    "tips.platform.received": "举报平台受理举报件数",
    "tips.platform.verified": "举报查证属实件数",
    "tips.rewards.waived": "举报人放弃奖励件数",
    "tips.rewards.paid": "发放举报奖励件数",
    "tips.rewards.amount": "举报奖励资金(元)",
    "plans.published": "修订编制并发布的应急预案部数",
    "rollcall.towns": "视频点调镇办数",
    "rollcall.villages": "视频点调村社数",
    "alerts.bulletins": "印发防灾减灾救灾提示信息期数",
    "alerts.weather_forwarded": "转发气象信息条数",
    "alerts.warnings": "发布预警信息次数",
    "alerts.station_messages": "发送气象工作站气象信息条数",
    "alerts.acknowledged_rate": "预警信息叫应率(%)",
    "alerts.median_ack_minutes": "预警叫应用时中位数(分钟)",
    "teams.semi_professional": "半专业化应急救援队伍支数",
    "teams.semi_professional.members": "半专业化应急救援队伍人数",
    "teams.professional_social": "专业社会救援队伍支数",
    "teams.professional_social.members": "专业社会救援队伍人数",
    "drills.total": "应急演练次数(含盲演)",
    "drills.blind": "盲演次数",
    "drills.open": "应急演练次数(不含盲演)",
    "outreach.events": "科普宣传活动次数",
    "outreach.people": "线下宣传覆盖人数",
    "outreach.materials": "发放宣传册册数",
    "outreach.trainings": "培训次数",
    "outreach.training_enterprises": "培训企业家数",
    "outreach.training_people": "培训企业员工人数",
    "outreach.media_posts": "应急科普视频及文章篇数",
    "outreach.media_views": "新媒体受众人次",
    "decisions.major": "重大行政决策件数",
    "assistance.enterprises": "入企帮扶企业家数",
}

# Figures the report prints that compute() does not return as such: (inputs, function).
DERIVED: dict[str, tuple[tuple[str, ...], Callable[..., object]]] = {
    # The report counts open drills and blind drills apart (statistics.md, "Note on drills").
    "drills.open": (("drills.total", "drills.blind"), lambda total, blind: total - blind),
}

GAS_ALL = "目前,辖区{enterprises.gas_stations}座加油站点均已完成标准化建设。"
GAS_SOME = (
    "目前,辖区{enterprises.gas_stations}座加油站点中已有"
    "{enterprises.gas_stations.standardized}座完成标准化建设。"
)
# Sentences whose wording depends on the figures: name → figures → template.
CHOICES: dict[str, Callable[[Mapping], str]] = {
    "gas_stations": lambda f: (
        GAS_ALL
        if f.get("enterprises.gas_stations")
        and f.get("enterprises.gas_stations") == f.get("enterprises.gas_stations.standardized")
        else GAS_SOME
    ),
}


# -- the documents ------------------------------------------------------------------------------
@dataclass(frozen=True)
class H:
    """A first-level heading (一、…), 黑体."""

    text: str


@dataclass(frozen=True)
class P:
    """A body paragraph; `lead` is a run-in second-level heading ((一)…) in 楷体."""

    text: str
    lead: str = ""


@dataclass(frozen=True)
class FigureTable:
    """A table of every figure of statistics.md: label and value (or 待补充)."""


@dataclass(frozen=True)
class Template:
    title: str
    blocks: tuple = field(default_factory=tuple)


ANNUAL = Template(
    title="{$bureau}{$year}年法治政府建设工作报告",
    blocks=(
        P(
            "{$year}年以来,{$bureau}在区委、区政府的坚强领导下,坚持以习近平法治思想为指导,"
            "{todo:本年度法治政府建设的指导思想、工作目标和总体情况},"
            "扎实推进法治政府建设各项工作,为我区安全发展提供坚实法治保障。"
            "现将本年度工作情况报告如下:"
        ),
        H("一、落实法治责任,健全法治工作机制"),
        P(
            "{todo:主要负责人履行推进法治建设第一责任人职责、将履职情况列入年度述法内容的情况}",
            lead="(一)严格履行法治建设第一责任人职责。",
        ),
        P(
            "{todo:法治政府建设领导小组的组成和运行机制、工作责任的落实情况}",
            lead="(二)完善法治建设工作制度。",
        ),
        P(
            "一是严格落实“第一议题”制度,{todo:学习的形式和内容},"
            "截至目前,累计学习{study.sessions}次。"
            "二是聚焦主责主业,{todo:围绕应急管理开展法律法规理论学习、提升依法行政能力的情况}。",
            lead="(三)不断深化法治理论学习。",
        ),
        H("二、强化程序规范与政务公开,做好行政规范性文件监督"),
        P(
            "严格执行《重大行政决策程序暂行条例》,重大决策严格履行征求意见、合法性审查、"
            "公众参与、专家论证、风险评估、集体讨论等程序。"
            "全年按法定程序作出重大行政决策{decisions.major}件。{todo:重大行政决策的情况}",
            lead="(一)严格执行重大行政决策法定程序。",
        ),
        P(
            "{todo:行政规范性文件专项清理和监督管理的情况}",
            lead="(二)加强行政规范性文件监督管理。",
        ),
        P(
            "深入贯彻落实《中华人民共和国政府信息公开条例》,{todo:主动公开的内容和渠道},"
            "保障公众获取政府信息的权利。",
            lead="(三)全面推进政务公开。",
        ),
        H("三、依法履行职能,全面建设现代化法治单位"),
        P(
            "一是紧盯工贸企业领域,筑牢安全防线。{todo:工贸领域专项检查的重点和方式}"
            "截至目前,累计检查工贸企业{inspections.sector.industrial_trade}家(次),"
            "排查整改安全隐患{hazards.sector.industrial_trade.found}条,"
            "切实防范化解工贸领域安全风险。"
        ),
        P(
            "二是开展危化领域全面排查,压实监管责任链。{todo:危险化学品领域排查的重点和方式}"
            "今年以来,对辖区{enterprises.sector.hazardous_chemicals}家危险化学品企业"
            "先后开展隐患排查{inspections.sector.hazardous_chemicals}家(次),"
            "整治安全隐患{hazards.sector.hazardous_chemicals.found}条。{choose:gas_stations}"
        ),
        P(
            "三是聚焦重点领域,加强安全生产监管力量。{todo:印发的工作要点、方案等文件},"
            "科学谋划全年{tasks.key}项重点任务,细化分解至各责任单位,确保各项工作任务落实落细。"
            "{todo:综合运用的执法手段和专项行动}"
            "截至目前,{$area}累计检查各类生产经营单位{inspections.total}家次,"
            "排查发现一般隐患{hazards.general.found}条,已完成整改{hazards.general.rectified}条,"
            "限期整改{hazards.general.pending}条,整改率达{hazards.general.rectification_rate}%。"
            "依法实施行政处罚{enforcement.penalties}起,"
            "处罚金额共计{enforcement.penalties.amount|wan}万元,"
            "下发督办函{enforcement.supervision_letters}份,"
            "警示约谈企业{enforcement.interviews}家。"
        ),
        H("四、持续推进举报奖励机制,增强应急处突能力建设"),
        P(
            "{todo:举报渠道和举报奖励机制的运行情况}"
            "截至目前,“12345”政务服务便民热线受理举报{tips.hotline.received}件,"
            "已办结{tips.hotline.closed}件。"
            "安全生产举报奖励平台受理各类举报{tips.platform.received}件,"
            "查证属实{tips.platform.verified}件,{tips.rewards.waived}件举报人放弃奖励,"
            "共计对{tips.rewards.paid}件举报发放举报奖励资金{tips.rewards.amount|yuan}元。",
            lead="(一)畅通举报渠道,守好安全防线。",
        ),
        P(
            "一是完善应急预案体系建设。牵头完成{todo:主要预案名称}等{plans.published}部预案的"
            "修订编制,并经区政府审议通过后发布实施。"
            "二是加强基层应急信息化建设。{todo:接入的监测平台和信息共享情况}"
            "同时对辖区{rollcall.towns}家镇办、{rollcall.villages}家村社进行不定时视频点调,"
            "加强“叫应叫醒”机制落实,提升应急指挥调度效率。"
            "截至目前,印发防灾减灾救灾提示信息{alerts.bulletins}期,"
            "转发气象信息{alerts.weather_forwarded}条,预警信息{alerts.warnings}次,"
            "发送气象工作站气象信息{alerts.station_messages}条。"
            "三是强化救援队伍建设,提升应急救援能力。"
            "建立{teams.semi_professional}支({teams.semi_professional.members}人)"
            "半专业化应急救援队伍及{teams.professional_social}支"
            "({teams.professional_social.members}人)专业社会救援队伍,"
            "定期开展应急演练和盲演,提高队伍的快速反应能力和处置能力。"
            "截至目前,组织开展应急演练{drills.open}次、盲演{drills.blind}次。",
            lead="(二)提升处突能力,完善突发事件应急体系。",
        ),
        H("五、加强普法宣传,增强全民法治意识"),
        P(
            "一是突出重点时段普法。{todo:重要时间节点开展的法治宣传活动}"
            "截至目前,开展科普宣传活动等{outreach.events}次,线下宣传覆盖{outreach.people}人,"
            "发放宣传册{outreach.materials}册。"
        ),
        P(
            "二是推进普法宣传“进企业”活动。{todo:进企业开展的培训和宣传}"
            "{$year}年度,共开展培训{outreach.trainings}次,"
            "培训企业{outreach.training_enterprises}家,"
            "普及企业员工{outreach.training_people}人。"
        ),
        P(
            "三是创新普法宣传形式。{todo:新媒体平台普法宣传的内容和形式}"
            "截至目前,发布应急科普视频及文章{outreach.media_posts}篇,"
            "实现受众{outreach.media_views}人次,切实提升宣传覆盖面。"
        ),
        H("六、特色亮点工作"),
        P("{todo:特色亮点工作}本年度入企帮扶企业{assistance.enterprises}家。"),
        H("七、存在问题"),
        P(
            "今年以来,我局法治政府建设工作虽然取得了一定成效,但仍存在一些问题和不足:"
            "{todo:存在的问题和不足}"
        ),
        H("八、下一步工作打算"),
        P("{todo:下一步工作打算}"),
    ),
)

# The monthly, quarterly or any-period summary: the same figures, fewer words.
SUMMARY = Template(
    title="{$subject}{$period}应急管理工作{$kind}",
    blocks=(
        P("现将{$area}{$period}应急管理主要工作情况报告如下:{todo:本期工作总体情况}"),
        H("一、安全生产监督检查"),
        P(
            "本期{$area}检查各类生产经营单位{inspections.total}家次,"
            "涉及企业{inspections.enterprises}家,"
            "其中检查工贸企业{inspections.sector.industrial_trade}家次、"
            "危险化学品企业{inspections.sector.hazardous_chemicals}家次。"
        ),
        H("二、隐患排查治理"),
        P(
            "本期排查发现隐患{hazards.found}条。其中一般隐患{hazards.general.found}条,"
            "已完成整改{hazards.general.rectified}条,限期整改{hazards.general.pending}条,"
            "整改率{hazards.general.rectification_rate}%;"
            "重大隐患{hazards.major.found}条,已完成整改{hazards.major.rectified}条。"
            "工贸企业排查隐患{hazards.sector.industrial_trade.found}条,"
            "危险化学品企业排查隐患{hazards.sector.hazardous_chemicals.found}条。"
            "截至期末,超期未整改隐患{hazards.overdue}条。"
        ),
        H("三、行政执法"),
        P(
            "本期实施行政处罚{enforcement.penalties}起,"
            "处罚金额{enforcement.penalties.amount|wan}万元;"
            "下发督办函{enforcement.supervision_letters}份,"
            "警示约谈企业{enforcement.interviews}家,移送案件{enforcement.referrals}件。"
        ),
        H("四、举报受理"),
        P(
            "“12345”政务服务便民热线受理举报{tips.hotline.received}件,"
            "已办结{tips.hotline.closed}件;"
            "安全生产举报奖励平台受理各类举报{tips.platform.received}件,"
            "查证属实{tips.platform.verified}件,{tips.rewards.waived}件举报人放弃奖励,"
            "对{tips.rewards.paid}件举报发放举报奖励资金{tips.rewards.amount|yuan}元。"
        ),
        H("五、预警发布与叫应"),
        P(
            "本期印发防灾减灾救灾提示信息{alerts.bulletins}期,"
            "转发气象信息{alerts.weather_forwarded}条,发布预警信息{alerts.warnings}次,"
            "发送气象工作站气象信息{alerts.station_messages}条。"
            "预警信息叫应率{alerts.acknowledged_rate}%,"
            "叫应用时中位数{alerts.median_ack_minutes}分钟。"
            "视频点调镇办{rollcall.towns}家、村社{rollcall.villages}家。"
        ),
        H("六、应急准备与普法宣传"),
        P(
            "本期修订编制并发布应急预案{plans.published}部,"
            "组织开展应急演练{drills.open}次、盲演{drills.blind}次;"
            "开展科普宣传活动{outreach.events}次,培训{outreach.trainings}次。"
        ),
        H("七、下一步工作"),
        P("{todo:下一步工作安排}"),
        H("附表:主要指标"),
        FigureTable(),
    ),
)
SUMMARY_KIND = {"year": "年度统计", "quarter": "季报", "month": "月报", "range": "统计简报"}

TODO = "【待补充:{}】"
MISSING = "【待补充:{}】"
NO_VALUE = "【无数据:{}】"
MONEY_KEYS = frozenset(k for k in LABELS if k.endswith(".amount"))
TABLE_HEADERS = ("序号", "指标", "数值")
TABLE_WIDTHS = (2.0, 9.6, 4.0)


# -- filling in ---------------------------------------------------------------------------------
TOKEN = re.compile(r"\{(?:(todo|choose):([^}]*)|\$(\w+)|([a-z_.]+)(?:\|(\w+))?)\}")
TEN_THOUSAND = Decimal(10000)


def wan(yuan) -> str:
    """Yuan in 万元 with up to four decimals, trailing zeros trimmed: 92750 → 9.275."""
    value = (Decimal(str(yuan)) / TEN_THOUSAND).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return _trim(value)


def yuan(amount) -> str:
    """Yuan without trailing zeros: 2500.00 → 2500, 2500.50 → 2500.5."""
    return _trim(Decimal(str(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _trim(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


FORMATS: dict[str, Callable[[object], str]] = {"wan": wan, "yuan": yuan}


def _format(value, fmt: str | None) -> str:
    if fmt:
        return FORMATS[fmt](value)
    if isinstance(value, bool):
        raise TypeError("a figure is a number, not a boolean")
    return str(value)


def with_derived(figures: Mapping) -> dict:
    """The figures plus the DERIVED ones whose inputs are all there."""
    out = dict(figures)
    for key, (inputs, fn) in DERIVED.items():
        if all(out.get(k) is not None for k in inputs):
            out[key] = fn(*(out[k] for k in inputs))
    return out


Piece = tuple[str, bool]  # (text, is a placeholder)


def fill(text: str, figures: Mapping, variables: Mapping[str, str]) -> list[Piece]:
    """The pieces of one template text: plain text and placeholders, in order."""
    pieces: list[Piece] = []
    pos = 0
    for m in TOKEN.finditer(text):
        if m.start() > pos:
            pieces.append((text[pos : m.start()], False))
        pos = m.end()
        kind, arg, var, key, fmt = m.groups()
        if kind == "todo":
            pieces.append((TODO.format(arg), True))
        elif kind == "choose":
            pieces.extend(fill(CHOICES[arg](figures), figures, variables))
        elif var:
            pieces.append((variables[var], False))
        elif key not in figures:
            pieces.append((MISSING.format(LABELS[key]), True))
        elif figures[key] is None:
            pieces.append((NO_VALUE.format(LABELS[key]), True))
        else:
            pieces.append((_format(figures[key], fmt), False))
    if pos < len(text):
        pieces.append((text[pos:], False))
    # Adjacent plain pieces become one run.
    merged: list[Piece] = []
    for piece in pieces:
        if merged and not piece[1] and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + piece[0], False)
        else:
            merged.append(piece)
    return merged


def fill_text(text: str, figures: Mapping, variables: Mapping[str, str]) -> str:
    return "".join(t for t, _placeholder in fill(text, figures, variables))


# -- rendering ----------------------------------------------------------------------------------
def _runs(p, pieces: list[Piece]) -> None:
    for text, is_placeholder in pieces:
        if is_placeholder:
            documents.placeholder(p, text)
        else:
            documents.add_text(p, text)


def _figure_table(doc, figures: Mapping, keys) -> None:
    rows = []
    for i, key in enumerate(keys, start=1):
        if key not in figures:
            value = "待补充"
        elif figures[key] is None:
            value = "无数据"
        elif key in MONEY_KEYS:
            value = yuan(figures[key])
        else:
            value = str(figures[key])
        rows.append((i, LABELS[key], value))
    align = (documents.Align.CENTER, documents.Align.LEFT, documents.Align.RIGHT)
    documents.table(doc, TABLE_HEADERS, rows, TABLE_WIDTHS, align=align)


def template_for(period: Period) -> Template:
    return ANNUAL if period.kind == "year" else SUMMARY


def variables(period: Period, region=None) -> dict[str, str]:
    bureau = settings.SITE_NAME
    district = region is None or region.parent_id is None
    return {
        "bureau": bureau,
        # What the figures cover: in sentences (全区…) and in a summary's title.
        "area": "全区" if district else region.name,
        "subject": bureau if district else region.name,
        "year": str(period.start.year),
        "period": period.label,
        "kind": SUMMARY_KIND[period.kind],
    }


def render(
    period: Period,
    figures: Mapping,
    *,
    region=None,
    template: Template | None = None,
    keys=None,
    today: datetime.date | None = None,
) -> bytes:
    """The .docx of `template` (by default the annual report for a year, the summary for
    anything else) filled from `figures` (one compute() result)."""
    template = template or template_for(period)
    figs = with_derived(figures)
    names = variables(period, region)
    title = fill_text(template.title, figs, names)
    doc = documents.new_document(title)
    doc.core_properties.author = settings.SITE_NAME
    doc.core_properties.subject = period.label
    for block in template.blocks:
        if isinstance(block, H):
            documents.heading(doc, fill_text(block.text, figs, names))
        elif isinstance(block, P):
            p = documents.paragraph(doc)
            if block.lead:
                documents.add_text(p, fill_text(block.lead, figs, names), font=documents.KAI_FONT)
            _runs(p, fill(block.text, figs, names))
        elif isinstance(block, FigureTable):
            _figure_table(doc, figs, keys or [k for k in LABELS if k != "drills.open"])
    documents.signoff(doc, settings.SITE_NAME, documents.cn_date(today or timezone.localdate()))
    return documents.to_bytes(doc)


def filename(period: Period) -> str:
    if period.kind == "year":
        return f"{period.slug}-法治政府建设工作报告.docx"
    return f"{period.slug}-应急管理工作{SUMMARY_KIND[period.kind]}.docx"


def build(period: Period, *, region=None) -> bytes:
    """The document of a period: the figures come from one figures.compute() call."""
    values = stats_figures.compute(period.start, period.end, region)
    return render(period, values, region=region, keys=stats_figures.ALL_KEYS)
