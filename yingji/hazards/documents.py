"""责令限期整改指令书 and 整改复查意见书 as .docx (layout: yingji.core.documents).

The wording follows the usual safety-production enforcement forms. Dates are written
2026年3月5日 (GB/T 9704-2012); see :func:`yingji.core.documents.cn_date`.
"""

from django.conf import settings

from yingji.core import documents as doc_
from yingji.hazards.models import Hazard, RectificationOrder, Reinspection

LEVEL_NAMES = {Hazard.Level.GENERAL: "一般", Hazard.Level.MAJOR: "重大"}

# The power under which the bureau orders rectification (安全生产法 2021, Art. 65(1)(iii)).
ORDER_AUTHORITY = "《中华人民共和国安全生产法》第六十五条第一款第三项"

ORDER_TITLE = "责令限期整改指令书"
REINSPECTION_TITLE = "整改复查意见书"

HAZARD_WIDTHS = (1.4, 7.0, 1.8, 5.4)  # cm, adds up to the 15.6 cm text block
_C, _J = doc_.Align.CENTER, doc_.Align.JUSTIFY


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


def reconsideration_organ(issuer: str | None = None) -> str:
    """Who hears an administrative reconsideration: the people's government of the same
    level (行政复议法 2023, Art. 24), e.g. 城中区应急管理局 → 城中区人民政府."""
    issuer = issuer or settings.SITE_NAME
    suffix = "应急管理局"
    if issuer.endswith(suffix) and len(issuer) > len(suffix):
        return issuer[: -len(suffix)] + "人民政府"
    return "本级人民政府"


def hazard_table(document, hazards) -> None:
    """序号 | 问题（隐患） | 等级 | 依据."""
    rows = [
        (i, h.description, level_name(h.level), h.legal_basis or "—")
        for i, h in enumerate(hazards, start=1)
    ]
    doc_.table(
        document,
        ("序号", "问题（隐患）", "等级", "依据"),
        rows,
        HAZARD_WIDTHS,
        align=(_C, _J, _C, _J),
    )


def _party(enterprise) -> str:
    return f"你单位（统一社会信用代码：{enterprise.uscc}）"


def _name(user) -> str:
    return (user.full_name or user.username) if user else ""


def render_order(order: RectificationOrder) -> bytes:
    """The rectification order: hazards with their legal basis, the deadline, the remedies."""
    issuer = settings.SITE_NAME
    enterprise = order.enterprise
    hazards = list(order.hazards.order_by("pk"))
    document = doc_.new_document(ORDER_TITLE, order.number, issuer=issuer)
    doc_.addressee(document, enterprise.name)

    insp = order.inspection
    if insp is not None and not insp.self_inspection:
        inspectors = insp.inspector_names or _name(order.issued_by)
        opening = (
            f"本局执法人员{inspectors}于{doc_.cn_date(insp.date)}对{_party(enterprise)}"
            "进行了安全生产检查，发现你单位存在下列问题（隐患）："
        )
    else:
        opening = f"经查，{_party(enterprise)}存在下列问题（隐患）："
    doc_.paragraph(document, opening)
    hazard_table(document, hazards)

    doc_.paragraph(
        document,
        f"依据{ORDER_AUTHORITY}的规定，现责令你单位对上述问题（隐患）限期整改，"
        f"请于{doc_.cn_date(order.deadline)}前整改完毕，达到有关法律、法规、规章和国家标准"
        "或者行业标准规定的要求。",
    )
    if order.requirements.strip():
        doc_.labelled(document, "整改要求", order.requirements.strip())
    doc_.paragraph(
        document,
        "整改期间，你单位应当采取措施，确保安全生产。整改完毕后，请将整改情况书面报告本局，"
        "本局将进行复查。逾期未整改或者整改不到位的，本局将依法处理。",
    )
    doc_.paragraph(
        document,
        f"如不服本指令，可以依法在六十日内向{reconsideration_organ(issuer)}申请行政复议，"
        "或者在六个月内依法向人民法院提起行政诉讼，但本指令不停止执行，法律另有规定的除外。",
    )

    doc_.signature_line(document, "执法人员（签名）：")
    doc_.signature_line(document, "被检查单位负责人（签名）：")
    doc_.signoff(document, issuer, doc_.cn_date(order.issued_on))
    return doc_.to_bytes(document)


PASSED_TEXT = "经复查，已整改完毕，同意销号。"
FAILED_TEXT = "经复查，未整改到位，请于{deadline}前整改完毕。"


def result_text(re: Reinspection) -> str:
    if re.passed:
        return PASSED_TEXT
    return FAILED_TEXT.format(deadline=doc_.cn_date(re.new_deadline))


def render_reinspection(re: Reinspection) -> bytes:
    """The re-inspection opinion: the hazard reviewed, the order it follows, the result."""
    issuer = settings.SITE_NAME
    hazard = re.hazard
    enterprise = hazard.enterprise
    order = hazard.order
    document = doc_.new_document(REINSPECTION_TITLE, re.number, issuer=issuer)
    doc_.addressee(document, enterprise.name)

    if order is not None:
        opening = (
            f"本局于{doc_.cn_date(order.issued_on)}向{_party(enterprise)}下达"
            f"《{ORDER_TITLE}》（{order.number}），责令你单位于{doc_.cn_date(order.deadline)}"
            "前对下列问题（隐患）整改完毕："
        )
    else:
        opening = f"本局责令{_party(enterprise)}对下列问题（隐患）限期整改："
    doc_.paragraph(document, opening)
    hazard_table(document, [hazard])

    reviewer = _name(re.by)
    doc_.paragraph(
        document,
        f"本局{'复查人员' + reviewer if reviewer else ''}于{doc_.cn_date(re.date)}"
        "对你单位的整改情况进行了复查，意见如下：",
    )
    doc_.labelled(document, "复查结论", result_text(re))
    doc_.labelled(document, "复查意见", re.opinion)
    if not re.passed:
        doc_.paragraph(
            document,
            "整改期间，你单位应当采取措施，确保安全生产。逾期仍未整改到位的，本局将依法处理。",
        )

    doc_.signature_line(document, "复查人员（签名）：")
    doc_.signature_line(document, "被复查单位负责人（签名）：")
    doc_.signoff(document, issuer, doc_.cn_date(re.date))
    return doc_.to_bytes(document)
