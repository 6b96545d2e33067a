"""现场检查记录 (the signed on-site inspection record) as .docx.

Layout, fonts and date style: yingji.core.documents.
"""

from django.conf import settings

from yingji.core import documents as doc_
from yingji.hazards.documents import hazard_table
from yingji.inspections.models import Inspection, Mode

RECORD_TITLE = "现场检查记录"
SELF_TITLE = "企业安全生产自查记录"

MODE_NAMES = {
    Mode.ROUTINE: "日常检查",
    Mode.CAMPAIGN: "专项检查",
    Mode.DOUBLE_RANDOM: "“双随机”抽查",
    Mode.EXPERT: "专家隐患排查",
    Mode.JOINT: "联合检查",
    Mode.CROSS: "交叉检查",
    Mode.GRID: "网格化检查",
    Mode.NIGHT: "夜间突击检查",
}
ANSWER_NAMES = {"ok": "符合", "hazard": "存在隐患", "na": "不适用"}
CHECKLIST_WIDTHS = (1.4, 7.0, 4.8, 2.4)  # cm: 序号 | 检查内容 | 检查依据 | 检查结果
_C, _J = doc_.Align.CENTER, doc_.Align.JUSTIFY


def mode_text(insp: Inspection) -> str:
    text = MODE_NAMES.get(insp.mode, str(insp.get_mode_display()))
    if insp.campaign_id:
        text += f"（{insp.campaign.title}）"
    return text


def methods_text(insp: Inspection) -> str:
    """现场核查、台账查阅."""
    return "、".join(m for m, on in (("现场核查", insp.onsite), ("台账查阅", insp.ledger)) if on)


def _address(enterprise) -> str:
    if enterprise.address:
        return enterprise.address
    names, region = [], enterprise.region
    while region is not None:
        names.append(region.name)
        region = region.parent
    return "".join(reversed(names))


def _contact(enterprise) -> str:
    return " ".join(x for x in (enterprise.contact_name, enterprise.contact_phone) if x)


def render_inspection_record(insp: Inspection) -> bytes:
    """The record of a completed inspection: who, when, how, the checklist, the findings."""
    if insp.status != Inspection.Status.COMPLETED:
        raise ValueError("Only a completed inspection has a record.")
    issuer = settings.SITE_NAME
    enterprise = insp.enterprise
    if insp.self_inspection:
        document = doc_.new_document(SELF_TITLE, issuer=enterprise.name)
    else:
        document = doc_.new_document(RECORD_TITLE, insp.record_no, issuer=issuer)

    pairs = [
        ("被检查单位", enterprise.name),
        ("统一社会信用代码", enterprise.uscc),
        ("地址", _address(enterprise)),
        ("联系人及电话", _contact(enterprise)),
        ("检查日期", doc_.cn_date(insp.date)),
        ("检查方式", "企业自查" if insp.self_inspection else mode_text(insp)),
        ("检查方法", methods_text(insp)),
        ("检查人员", insp.inspector_names),
    ]
    experts = "、".join(u.full_name or u.username for u in insp.experts.all())
    if experts:
        pairs.append(("参加专家", experts))
    if insp.checklist_id:
        cl = insp.checklist
        pairs.append(("检查表", f"{cl.template.name}（第{cl.version}版）"))
    doc_.kv_table(document, pairs)

    doc_.heading(document, "一、检查内容及结果")
    if insp.checklist_id:
        rows = [
            (
                item["code"],
                item["text"],
                item.get("basis") or "—",
                ANSWER_NAMES.get(insp.answers.get(item["code"], ""), "未检查"),
            )
            for item in insp.checklist.items
        ]
        doc_.table(
            document,
            ("序号", "检查内容", "检查依据", "检查结果"),
            rows,
            CHECKLIST_WIDTHS,
            align=(_C, _J, _J, _C),
        )
    else:
        doc_.paragraph(document, "本次检查未使用检查表。")

    doc_.heading(document, "二、发现的问题（隐患）")
    hazards = list(insp.hazards.order_by("pk"))
    if hazards:
        hazard_table(document, hazards)
    else:
        doc_.paragraph(document, "本次检查未发现问题（隐患）。")

    doc_.heading(document, "三、检查小结")
    doc_.paragraphs(document, insp.summary) or doc_.paragraph(document, "无。")

    doc_.signature_line(document, "检查人员（签名）：")
    doc_.signature_line(document, "被检查单位负责人（签名）：")
    return doc_.to_bytes(document)
