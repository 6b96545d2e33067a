"""Enforcement documents as .docx: 行政处罚告知书, 行政处罚决定书, 督办函, 案件移送书.

Layout, fonts and the date style (2026年3月5日) come from :mod:`yingji.core.documents`;
the wording follows the usual safety-production enforcement forms. Each ``render_*``
function returns the document's bytes and raises ``ValueError`` when the act is not (yet)
in a state that has that document, e.g. a penalty whose notice has not been served.

Amounts are written in words and in figures, as on payment forms:
``人民币玖万贰仟柒佰伍拾元整（¥92,750.00）`` (see :func:`rmb_upper`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from yingji.core import documents as doc_
from yingji.enforcement.models import Case, Penalty, Referral, SupervisionLetter
from yingji.hazards.documents import ORDER_TITLE, level_name, reconsideration_organ

NOTICE_TITLE = "行政处罚告知书"
DECISION_TITLE = "行政处罚决定书"
LETTER_TITLE = "督办函"
REFERRAL_TITLE = "案件移送书"

# 行政处罚法 (2021) Art. 63: a hearing is offered before a 较大数额罚款. The amount is set by
# the province; where it has set none, 安全生产违法行为行政处罚办法 (2015) Art. 33 puts it
# at 5万元 for a production unit. The bureau's legal staff confirm it in settings.
DEFAULT_HEARING_THRESHOLD = Decimal("50000")

_C, _J = doc_.Align.CENTER, doc_.Align.JUSTIFY


def hearing_threshold() -> Decimal:
    return Decimal(
        str(getattr(settings, "ENFORCEMENT_HEARING_THRESHOLD", DEFAULT_HEARING_THRESHOLD))
    )


def hearing_offered(penalty: Penalty) -> bool:
    """Whether the party may ask for a hearing (听证) on this penalty."""
    return penalty.amount >= hearing_threshold()


# -- amounts ------------------------------------------------------------------------------------
_RMB_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_RMB_UNITS = ("", "拾", "佰", "仟")
_RMB_GROUPS = ("", "万", "亿")
RMB_LIMIT = Decimal("1000000000000")  # 1万亿: beyond what a penalty (12 digits) can hold
_FEN = Decimal("0.01")


def _decimal(amount) -> Decimal:
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ValueError(f"not an amount: {amount!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not an amount: {amount!r}")
    if value >= RMB_LIMIT:
        raise ValueError(f"amount too large: {amount!r}")
    if value != value.quantize(_FEN):
        raise ValueError(f"more than two decimals: {amount!r}")
    return value


def _integer_upper(n: int) -> str:
    """1 → 壹, 10 → 壹拾, 105000 → 壹拾万伍仟, 100500 → 壹拾万零伍佰."""
    digits = str(n)
    out: list[str] = []
    zero = False  # zeros seen since the last digit written
    for i, ch in enumerate(digits):
        pos = len(digits) - 1 - i
        d = int(ch)
        if d:
            if zero:
                out.append("零")
            out.append(_RMB_DIGITS[d] + _RMB_UNITS[pos % 4])
            zero = False
        else:
            zero = True
        if pos % 4 == 0 and pos and int(digits[max(0, i - 3) : i + 1]):
            # The group unit (万, 亿) closes a group that has a digit; a zero at its end is
            # not read out (壹拾万伍仟, not 壹拾万零伍仟).
            out.append(_RMB_GROUPS[pos // 4])
            zero = False
    return "".join(out)


def rmb_upper(amount) -> str:
    """An amount in yuan in financial capitals (中文大写金额), after the PBoC rules for
    filling in bills: 92750 → 玖万贰仟柒佰伍拾元整, 16409.02 → 壹万陆仟肆佰零玖元零贰分,
    0.5 → 伍角整, 0 → 零元整."""
    value = _decimal(amount)
    yuan, rest = divmod(int(value * 100), 100)
    jiao, fen = divmod(rest, 10)
    if not (yuan or jiao or fen):
        return "零元整"
    parts = [_integer_upper(yuan) + "元"] if yuan else []
    if jiao:
        parts.append(_RMB_DIGITS[jiao] + "角")
    elif fen and yuan:
        parts.append("零")  # 元零贰分
    parts.append(_RMB_DIGITS[fen] + "分" if fen else "整")
    return "".join(parts)


def rmb_figures(amount) -> str:
    """¥92,750.00"""
    return f"¥{_decimal(amount):,.2f}"


def amount_text(amount) -> str:
    """人民币玖万贰仟柒佰伍拾元整（¥92,750.00）"""
    return f"人民币{rmb_upper(amount)}（{rmb_figures(amount)}）"


# -- the party ----------------------------------------------------------------------------------
def party_address(enterprise) -> str:
    """The registered address, or failing that the town and village it lies in."""
    if enterprise.address:
        return enterprise.address
    names, region = [], enterprise.region
    while region is not None:
        names.append(region.name)
        region = region.parent
    return "".join(reversed(names))


def _contact(enterprise) -> str:
    return " ".join(x for x in (enterprise.contact_name, enterprise.contact_phone) if x)


def _party_table(document, enterprise, *, label: str = "当事人") -> None:
    pairs = [
        (label, enterprise.name),
        ("统一社会信用代码", enterprise.uscc),
        ("地址", party_address(enterprise)),
    ]
    if _contact(enterprise):
        pairs.append(("联系人及电话", _contact(enterprise)))
    doc_.kv_table(document, pairs)


def _body(document, text: str) -> None:
    doc_.paragraphs(document, text) or doc_.paragraph(document, "—")


def _local_date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(value) if value is not None else None


# -- the case history ---------------------------------------------------------------------------
class Event(NamedTuple):
    """One dated step of a case, for the referral and the package summary."""

    date: datetime.date
    what: str  # 送达行政处罚告知书
    number: str = ""  # the document number, if the step issued one
    detail: str = ""
    act: str = ""  # "penalty:3", to leave out a referral's own steps
    internal: bool = False  # a step inside the bureau (approvals)


def case_inspection(case: Case):
    """The inspection of the case, or failing that of its hazard."""
    if case.inspection_id:
        return case.inspection
    if case.hazard_id and case.hazard.inspection_id:
        return case.hazard.inspection
    return None


def case_events(case: Case) -> list[Event]:
    """Every dated step of the case, oldest first (same-day steps in the order they happen)."""
    events: list[Event] = []
    add = events.append
    insp = case_inspection(case)
    if insp is not None:
        add(
            Event(
                insp.date,
                "企业自查" if insp.self_inspection else "现场检查",
                insp.record_no,
                act=f"inspection:{insp.pk}",
            )
        )
    hazard = case.hazard if case.hazard_id else None
    if hazard is not None:
        add(
            Event(
                hazard.found_on,
                f"发现{level_name(hazard.level)}事故隐患",
                detail=f"隐患内容：{hazard.description}",
                act=f"hazard:{hazard.pk}",
            )
        )
        order = hazard.order
        if order is not None:
            add(
                Event(
                    order.issued_on,
                    f"下达《{ORDER_TITLE}》",
                    order.number,
                    f"整改期限至{doc_.cn_date(order.deadline)}",
                    act=f"order:{order.pk}",
                )
            )
        for re in hazard.reinspections.order_by("date", "pk"):
            add(
                Event(
                    re.date,
                    "整改复查" + ("（通过）" if re.passed else "（未通过）"),
                    re.number,
                    act=f"reinspection:{re.pk}",
                )
            )
    add(Event(case.opened_on, "立案", detail=f"案由：{case.title}", act=f"case:{case.pk}"))
    for p in case.penalties.order_by("pk"):
        key = f"penalty:{p.pk}"
        if p.notified_on:
            add(
                Event(
                    p.notified_on,
                    f"送达《{NOTICE_TITLE}》",
                    p.notice_no,
                    f"拟罚款{amount_text(p.amount)}",
                    act=key,
                )
            )
        if p.approved:
            add(Event(_local_date(p.approved_at), "本局负责人批准行政处罚", act=key, internal=True))
        if p.decided_on:
            add(
                Event(
                    p.decided_on,
                    f"作出《{DECISION_TITLE}》",
                    p.decision_no,
                    f"罚款{amount_text(p.amount)}",
                    act=key,
                )
            )
        if p.paid_on:
            add(Event(p.paid_on, "当事人缴纳罚款", act=key))
    for letter in case.letters.order_by("pk"):
        key = f"letter:{letter.pk}"
        add(
            Event(
                letter.issued_on,
                f"下发《{LETTER_TITLE}》",
                letter.number,
                f"要求于{doc_.cn_date(letter.deadline)}前回复",
                act=key,
            )
        )
        if letter.replied_on:
            add(Event(letter.replied_on, "收到督办回复", act=key))
    for interview in case.interviews.order_by("pk"):
        key = f"interview:{interview.pk}"
        add(Event(interview.held_on, "警示约谈", act=key))
        if interview.follow_up_on and interview.follow_up_result:
            add(Event(interview.follow_up_on, "约谈事项跟踪复查", act=key))
    for r in case.referrals.order_by("pk"):
        key = f"referral:{r.pk}"
        if r.approved:
            add(Event(_local_date(r.approved_at), "本局负责人批准案件移送", act=key, internal=True))
        if r.sent_on:
            add(Event(r.sent_on, f"移送{r.authority}", r.number, act=key))
        if r.result_on:
            add(Event(r.result_on, "收到移送处理结果", act=key))
    if case.closed_on:
        add(Event(case.closed_on, "结案", act=f"case:{case.pk}"))
    events.sort(key=lambda e: e.date)  # stable: same-day steps keep their order
    return events


def event_sentence(e: Event) -> str:
    """2026年3月10日，送达《行政处罚告知书》（城应急罚告〔2026〕1号），拟罚款人民币…。"""
    text = f"{doc_.cn_date(e.date)}，{e.what}"
    if e.number:
        text += f"（{e.number}）"
    if e.detail:
        text += f"，{e.detail}"
    return text + "。"


# -- 行政处罚告知书 ------------------------------------------------------------------------------
def render_penalty_notice(penalty: Penalty) -> bytes:
    """The notice of the intended penalty: facts, basis, amount, and the party's rights."""
    if not penalty.notice_no or penalty.notified_on is None:
        raise ValueError("The penalty notice has not been served.")
    issuer = settings.SITE_NAME
    enterprise = penalty.case.enterprise
    document = doc_.new_document(NOTICE_TITLE, penalty.notice_no, issuer=issuer)
    doc_.addressee(document, enterprise.name)
    _party_table(document, enterprise)

    doc_.paragraph(document, "经查，你单位存在下列违法行为：")
    _body(document, penalty.facts)
    doc_.paragraph(
        document,
        f"依据{penalty.legal_basis}的规定，本局拟对你单位作出如下行政处罚：",
    )
    doc_.paragraph(document, f"罚款{amount_text(penalty.amount)}。")

    doc_.paragraph(
        document,
        "依据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你单位有权进行陈述和申辩。"
        "你单位如要求陈述和申辩，应当在收到本告知书之日起三日内向本局提出；逾期未提出的，"
        "视为放弃此权利。",
    )
    if hearing_offered(penalty):
        doc_.paragraph(
            document,
            "依据《中华人民共和国行政处罚法》第六十三条、第六十四条的规定，你单位有权要求举行听证。"
            "你单位如要求听证，应当在收到本告知书之日起五日内向本局提出；逾期未提出的，"
            "视为放弃此权利。",
        )

    doc_.signature_line(document, "当事人（签收）：")
    doc_.signoff(document, issuer, doc_.cn_date(penalty.notified_on))
    return doc_.to_bytes(document)


# -- 行政处罚决定书 ------------------------------------------------------------------------------
def _statement_paragraphs(document, penalty: Penalty) -> None:
    """The notice served, what the party said, and how the bureau considered it."""
    served = f"本局于{doc_.cn_date(penalty.notified_on)}向你单位送达了《{NOTICE_TITLE}》（{penalty.notice_no}）"
    rights = "陈述、申辩和要求听证" if hearing_offered(penalty) else "陈述、申辩"
    if not (penalty.statement or penalty.hearing_requested):
        doc_.paragraph(
            document,
            f"{served}，告知你单位拟作出行政处罚的事实、理由、依据及依法享有的{rights}的权利。"
            f"你单位在法定期限内未提出陈述、申辩意见"
            + ("，也未要求听证。" if hearing_offered(penalty) else "。"),
        )
        return
    doc_.paragraph(
        document,
        f"{served}，告知你单位拟作出行政处罚的事实、理由、依据及依法享有的{rights}的权利。",
    )
    if penalty.statement:
        doc_.paragraph(document, "你单位提出的陈述、申辩意见如下：")
        _body(document, penalty.statement)
    if penalty.hearing_requested:
        doc_.paragraph(document, "你单位要求举行听证。")
    considered = "陈述、申辩意见" if penalty.statement else "意见"
    if penalty.hearing_requested:
        considered += "及听证情况"
    # The services keep the amount of the notice: a statement that is accepted ends in the
    # penalty being withdrawn, so a decision after a statement did not adopt it.
    doc_.paragraph(
        document,
        f"本局对你单位的{considered}进行了复核，认为你单位提出的事实、理由和证据不能成立，"
        "不足以改变本局认定的违法事实和拟作出的行政处罚，不予采纳。",
    )


def render_penalty_decision(penalty: Penalty) -> bytes:
    """The decision: facts, statement and its consideration, basis, amount, payment, remedies."""
    if not penalty.decision_no or penalty.decided_on is None:
        raise ValueError("The penalty has not been decided.")
    issuer = settings.SITE_NAME
    enterprise = penalty.case.enterprise
    document = doc_.new_document(DECISION_TITLE, penalty.decision_no, issuer=issuer)
    _party_table(document, enterprise)

    doc_.heading(document, "一、违法事实")
    doc_.paragraph(document, "经查，你单位存在下列违法行为：")
    _body(document, penalty.facts)

    doc_.heading(document, "二、陈述、申辩及复核情况")
    if penalty.notice_no:
        _statement_paragraphs(document, penalty)
    else:
        doc_.paragraph(document, "无。")  # e.g. an imported decision: no notice on record

    doc_.heading(document, "三、处罚依据及决定")
    doc_.paragraph(
        document,
        f"依据{penalty.legal_basis}的规定，本局决定对你单位作出如下行政处罚：",
    )
    doc_.paragraph(document, f"罚款{amount_text(penalty.amount)}。")

    doc_.heading(document, "四、履行方式和期限")
    doc_.paragraph(
        document,
        "你单位应当自收到本决定书之日起十五日内，到指定的银行或者通过电子支付系统缴纳罚款。"
        "到期不缴纳罚款的，依据《中华人民共和国行政处罚法》第七十二条第一款第一项的规定，"
        "每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出罚款的数额。",
    )

    doc_.heading(document, "五、救济途径")
    doc_.paragraph(
        document,
        f"你单位如不服本决定，可以依法在六十日内向{reconsideration_organ(issuer)}申请行政复议，"
        "或者在六个月内依法向人民法院提起行政诉讼，但本决定不停止执行，法律另有规定的除外。"
        "逾期不申请行政复议、不提起行政诉讼，又不履行本决定的，本局将依法申请人民法院强制执行。",
    )

    doc_.signature_line(document, "当事人（签收）：")
    doc_.signoff(document, issuer, doc_.cn_date(penalty.decided_on))
    return doc_.to_bytes(document)


# -- 督办函 --------------------------------------------------------------------------------------
def render_supervision_letter(letter: SupervisionLetter) -> bytes:
    """The letter: the matter, what is to be done, and the reply deadline."""
    if not letter.number:
        raise ValueError("The supervision letter has no number.")
    issuer = settings.SITE_NAME
    case = letter.case
    enterprise = case.enterprise
    addressee = letter.addressee or enterprise.name
    document = doc_.new_document(LETTER_TITLE, letter.number, issuer=issuer)
    doc_.addressee(document, addressee)

    party = "你单位" if addressee == enterprise.name else enterprise.name
    doc_.paragraph(
        document,
        f"本局在安全生产执法中，对{party}（统一社会信用代码：{enterprise.uscc}）"
        f"“{case.title}”一事依法进行了查处。为督促问题整改落实到位，现将有关事项函告如下：",
    )
    _body(document, letter.content)
    doc_.paragraph(
        document,
        f"请于{doc_.cn_date(letter.deadline)}前将办理情况书面报告本局。"
        "逾期未报告或者办理不到位的，本局将依法依规处理。",
    )
    doc_.signoff(document, issuer, doc_.cn_date(letter.issued_on))
    return doc_.to_bytes(document)


# -- 案件移送书 ----------------------------------------------------------------------------------
class Enclosure(NamedTuple):
    """One file sent with the referral (the package's index, less the letter itself)."""

    name: str  # path in the package
    label: str  # 行政处罚决定书, 隐患照片 …
    size: int
    sha256: str


ENCLOSURE_WIDTHS = (1.2, 3.6, 8.8, 2.0)  # cm: 序号 | 材料名称 | 文件名及校验值 | 大小


def file_size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _source_text(case: Case) -> str:
    """Where the bureau came upon the case: 2026年3月5日的安全生产检查 …"""
    insp = case_inspection(case)
    if insp is not None and not insp.self_inspection:
        return f"{doc_.cn_date(insp.date)}的安全生产检查"
    if case.source == Case.Source.TIP:
        return "群众举报核查"
    if case.hazard_id:
        return "事故隐患排查治理监督检查"
    return "安全生产执法"


def _facts(document, case: Case) -> None:
    hazard = case.hazard if case.hazard_id else None
    penalties = [p for p in case.penalties.order_by("pk") if p.facts]
    if hazard is not None:
        text = (
            f"{doc_.cn_date(hazard.found_on)}，本局发现该单位存在{level_name(hazard.level)}"
            f"事故隐患：{hazard.description}"
        )
        if hazard.legal_basis:
            text += f"（依据：{hazard.legal_basis}）"
        doc_.paragraph(document, text + "。")
    for p in penalties:
        doc_.paragraph(document, "经查，该单位存在下列违法行为：")
        _body(document, p.facts)
        doc_.paragraph(document, f"上述行为依据{p.legal_basis}的规定应予处罚。")
    if hazard is None and not penalties:
        doc_.paragraph(document, f"{case.title}。")


def render_referral(referral: Referral, enclosures: Sequence[Enclosure] | None = None) -> bytes:
    """The referral letter: the case, the steps taken, the reason and basis of the referral,
    and the list of the enclosed files with their SHA-256, so the sealed letter vouches for
    the electronic case file sent with it.

    ``enclosures`` is the package's index (see :mod:`yingji.enforcement.package`, which
    passes it); without it the list is worked out afresh, and the .docx enclosures then
    carry hashes of that fresh rendering rather than of a package built earlier.
    """
    if not referral.number or referral.sent_on is None:
        raise ValueError("The referral has not been sent (it has no number yet).")
    if enclosures is None:
        from yingji.enforcement.package import case_file

        enclosures = [m.enclosure() for m in case_file(referral)]
    issuer = settings.SITE_NAME
    case = referral.case
    enterprise = case.enterprise
    document = doc_.new_document(REFERRAL_TITLE, referral.number, issuer=issuer)
    doc_.addressee(document, referral.authority)
    doc_.paragraph(
        document,
        f"{enterprise.name}“{case.title}”一案，系本局在{_source_text(case)}中发现。"
        "经本局负责人批准，现将该案移送你单位依法处理。有关情况如下：",
    )

    doc_.heading(document, "一、当事人基本情况")
    _party_table(document, enterprise)

    doc_.heading(document, "二、案件事实")
    _facts(document, case)

    # The measures taken: not the finding (see the facts), the bureau's internal approvals,
    # this referral itself or anything after it.
    steps = [
        e
        for e in case_events(case)
        if not e.internal
        and not e.act.startswith("hazard:")
        and e.act != f"referral:{referral.pk}"
        and e.date <= referral.sent_on
    ]
    doc_.heading(document, "三、本局已采取的执法措施")
    if steps:
        for i, e in enumerate(steps, start=1):
            doc_.paragraph(document, f"{i}. {event_sentence(e)}")
    else:
        doc_.paragraph(document, "无。")

    doc_.heading(document, "四、移送理由及依据")
    _body(document, referral.reason)
    doc_.paragraph(document, "请你单位依法处理，并将处理结果书面告知本局。")

    doc_.heading(document, "五、移送材料")
    if enclosures:
        doc_.paragraph(
            document,
            f"随本移送书移送案件材料共{len(enclosures)}件（电子文件），可按下列SHA-256校验值核对：",
        )
        doc_.table(
            document,
            ("序号", "材料名称", "文件名及SHA-256校验值", "大小"),
            [
                (i, e.label, f"{e.name}\nSHA-256：{e.sha256}", file_size_text(e.size))
                for i, e in enumerate(enclosures, start=1)
            ],
            ENCLOSURE_WIDTHS,
            align=(_C, _J, doc_.Align.LEFT, _C),
        )
    else:
        doc_.paragraph(document, "无。")

    doc_.signoff(document, issuer, doc_.cn_date(referral.sent_on))
    return doc_.to_bytes(document)
