"""行政处罚告知书, 行政处罚决定书, 督办函 and 案件移送书, built from a case made through the
services: inspection → hazard → order → case → penalty → letter → referral."""

import datetime
import io
import zoneinfo
from decimal import Decimal
from types import SimpleNamespace

import docx
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from docx.oxml.ns import qn
from PIL import Image

from yingji.core.attachments import attach
from yingji.enforcement import services
from yingji.enforcement.documents import (
    amount_text,
    case_events,
    render_penalty_decision,
    render_penalty_notice,
    render_referral,
    render_supervision_letter,
    rmb_figures,
    rmb_upper,
)
from yingji.enforcement.models import Case
from yingji.hazards import services as hazard_services
from yingji.inspections import services as inspection_services

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(month: int, day: int) -> datetime.datetime:
    return datetime.datetime(2026, month, day, 10, 0, tzinfo=SHANGHAI)


INSPECTED = at(3, 5)  # inspection, hazard, order, case opened
NOTIFIED = at(3, 10)  # evidence, penalty notice, supervision letter
STATED = at(3, 12)  # statement, leader approval
DECIDED = at(3, 16)  # penalty decision
SENT = at(3, 25)  # referral drafted, approved, sent

HAZARD = "除尘器灰斗积尘未及时清理"
HAZARD_BASIS = "《工贸企业粉尘防爆安全规定》第十二条第一款"
FACTS = "2026年3月5日检查发现你单位除尘器灰斗积尘未及时清理，经责令限期整改，逾期未改正。"
BASIS = "《中华人民共和国安全生产法》第九十九条第二项"
AMOUNT = "92750.00"
AMOUNT_TEXT = "罚款人民币玖万贰仟柒佰伍拾元整（¥92,750.00）"
STATEMENT = "我单位已安排专人清扫，请求从轻处罚。"
LETTER_TO = "人民街街道办事处"
LETTER_CONTENT = "请督促该单位落实粉尘清扫制度，并对辖区同类企业开展排查。"
AUTHORITY = "西宁市应急管理局"
REASON = (
    "当事人逾期未改正且拒不执行，依据《安全生产行政执法与刑事司法衔接工作办法》第五条的规定移送。"
)
PDF = b"%PDF-1.4\n%%EOF\n"


def png(color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buf, format="JPEG")
    return buf.getvalue()


def build_case(world) -> SimpleNamespace:
    """The whole life of a case, through the services only."""
    w = world
    with time_machine.travel(INSPECTED, tick=False):
        insp = inspection_services.schedule_inspection(
            by=w.inspector, enterprise=w.ent_a, date=INSPECTED.date(), inspectors=[w.inspector]
        )
        inspection_services.start_inspection(insp, by=w.inspector)
        hazard = hazard_services.report_hazard(
            by=w.inspector,
            enterprise=w.ent_a,
            found_on=INSPECTED.date(),
            description=HAZARD,
            legal_basis=HAZARD_BASIS,
            inspection=insp,
            photos=[SimpleUploadedFile("灰斗积尘.png", png())],
        )
        inspection_services.complete_inspection(insp, by=w.inspector)
        order = hazard_services.issue_order(
            [hazard], by=w.inspector, deadline=datetime.date(2026, 3, 9)
        )
        case = services.open_case(by=w.inspector, enterprise=w.ent_a, title=HAZARD, hazard=hazard)
    with time_machine.travel(NOTIFIED, tick=False):
        evidence = hazard_services.submit_evidence(
            hazard,
            by=w.ent_user_a,
            note="已清理部分积尘。",
            files=[SimpleUploadedFile("整改后.jpg", jpeg())],
        )
        penalty = services.draft_penalty(
            case, by=w.inspector, legal_basis=BASIS, facts=FACTS, amount=AMOUNT
        )
        penalty = services.serve_penalty_notice(penalty, by=w.inspector)
        letter = services.issue_letter(
            case,
            by=w.inspector,
            addressee=LETTER_TO,
            content=LETTER_CONTENT,
            deadline=datetime.date(2026, 3, 20),
        )
    with time_machine.travel(STATED, tick=False):
        penalty = services.record_statement(
            penalty, by=w.inspector, statement=STATEMENT, hearing_requested=False
        )
        penalty = services.approve_penalty(penalty, by=w.leader)
    with time_machine.travel(DECIDED, tick=False):
        penalty = services.decide_penalty(penalty, by=w.inspector)
    with time_machine.travel(SENT, tick=False):
        referral = services.draft_referral(case, by=w.inspector, authority=AUTHORITY, reason=REASON)
        pdf = attach(
            referral,
            SimpleUploadedFile("询问笔录.pdf", PDF, content_type="application/pdf"),
            by=w.inspector,
            caption="询问笔录",
        )
        referral = services.approve_referral(referral, by=w.leader)
        referral = services.send_referral(referral, by=w.inspector)
    return SimpleNamespace(
        inspection=insp,
        hazard=hazard,
        order=order,
        evidence=evidence,
        case=case,
        penalty=penalty,
        letter=letter,
        referral=referral,
        pdf=pdf,
    )


@pytest.fixture
def built(world):
    return build_case(world)


def open_docx(data: bytes):
    assert data[:2] == b"PK"
    return docx.Document(io.BytesIO(data))


def all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def assert_official_layout(doc) -> None:
    section = doc.sections[0]
    assert (round(section.page_width.cm, 2), round(section.page_height.cm, 2)) == (21.0, 29.7)
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert " PAGE " in doc.sections[0].footer._element.xml


# -- amounts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "amount, words",
    [
        ("92750", "玖万贰仟柒佰伍拾元整"),
        ("92750.00", "玖万贰仟柒佰伍拾元整"),
        ("0", "零元整"),
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("0.55", "伍角伍分"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("15", "壹拾伍元整"),
        ("101", "壹佰零壹元整"),
        ("110", "壹佰壹拾元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("5000.10", "伍仟元壹角整"),
        ("100000", "壹拾万元整"),
        ("105000", "壹拾万伍仟元整"),
        ("100500", "壹拾万零伍佰元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("1000000", "壹佰万元整"),
        ("20000000", "贰仟万元整"),
        ("100000000", "壹亿元整"),
        ("100000500", "壹亿零伍佰元整"),
        ("105000000", "壹亿零伍佰万元整"),
        ("120000000", "壹亿贰仟万元整"),
        ("100005000", "壹亿零伍仟元整"),
        ("9999999999.99", "玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amounts_in_financial_capitals(amount, words):
    assert rmb_upper(Decimal(amount)) == words
    assert rmb_upper(amount) == words


def test_amount_in_words_and_figures():
    assert amount_text(Decimal("92750.00")) == "人民币玖万贰仟柒佰伍拾元整（¥92,750.00）"
    assert rmb_figures(Decimal("1234567.5")) == "¥1,234,567.50"
    assert rmb_figures(3) == "¥3.00"


@pytest.mark.parametrize("bad", ["-1", "0.001", "NaN", "Infinity", "abc", "1000000000000"])
def test_amounts_that_cannot_be_written_are_refused(bad):
    with pytest.raises(ValueError):
        rmb_upper(bad)


# -- 行政处罚告知书 ------------------------------------------------------------------------------
def test_the_notice_names_the_party_the_facts_the_basis_the_amount_and_the_rights(world, built):
    p = built.penalty
    assert p.notice_no == "城应急罚告〔2026〕1号"
    doc = open_docx(render_penalty_notice(p))
    text = all_text(doc)
    assert [para.text for para in doc.paragraphs[:3]] == [
        "城中区应急管理局",
        "行政处罚告知书",
        "城应急罚告〔2026〕1号",
    ]
    assert doc.paragraphs[3].text == "青海甲工贸有限公司："
    for expected in (
        world.ent_a.name,
        world.ent_a.uscc,
        "人民街街道南关社区",  # no street address on record: the town and village
        FACTS,
        f"依据{BASIS}的规定，本局拟对你单位作出如下行政处罚：",
        AMOUNT_TEXT,
        "你单位有权进行陈述和申辩",
        "收到本告知书之日起三日内",
        "你单位有权要求举行听证",  # 92,750 yuan is a 较大数额罚款
        "收到本告知书之日起五日内",
    ):
        assert expected in text, expected
    assert [para.text for para in doc.paragraphs[-2:]] == ["城中区应急管理局", "2026年3月10日"]
    assert_official_layout(doc)


def test_a_small_fine_offers_no_hearing(world, built, settings):
    with time_machine.travel(NOTIFIED, tick=False):
        p = services.draft_penalty(
            built.case, by=world.inspector, legal_basis=BASIS, facts=FACTS, amount="2000"
        )
        p = services.serve_penalty_notice(p, by=world.inspector)
    text = all_text(open_docx(render_penalty_notice(p)))
    assert "罚款人民币贰仟元整（¥2,000.00）" in text
    assert "三日内" in text
    assert "听证" not in text
    settings.ENFORCEMENT_HEARING_THRESHOLD = "1000"  # a province may set a lower amount
    assert "五日内" in all_text(open_docx(render_penalty_notice(p)))


def test_there_is_no_notice_before_it_is_served(world, built):
    with time_machine.travel(NOTIFIED, tick=False):
        draft = services.draft_penalty(
            built.case, by=world.inspector, legal_basis=BASIS, facts=FACTS, amount="500"
        )
    with pytest.raises(ValueError):
        render_penalty_notice(draft)
    with pytest.raises(ValueError):
        render_penalty_decision(draft)


# -- 行政处罚决定书 ------------------------------------------------------------------------------
def test_the_decision_answers_the_statement_and_sets_payment_and_remedies(world, built):
    p = built.penalty
    assert p.decision_no == "城应急罚决〔2026〕1号"
    doc = open_docx(render_penalty_decision(p))
    text = all_text(doc)
    assert [para.text for para in doc.paragraphs[:3]] == [
        "城中区应急管理局",
        "行政处罚决定书",
        "城应急罚决〔2026〕1号",
    ]
    for expected in (
        world.ent_a.name,
        world.ent_a.uscc,
        "人民街街道南关社区",
        FACTS,
        "本局于2026年3月10日向你单位送达了《行政处罚告知书》（城应急罚告〔2026〕1号）",
        STATEMENT,
        "不予采纳",
        f"依据{BASIS}的规定，本局决定对你单位作出如下行政处罚：",
        AMOUNT_TEXT,
        "自收到本决定书之日起十五日内",
        "每日按罚款数额的百分之三加处罚款",
        "在六十日内向城中区人民政府申请行政复议",
        "在六个月内依法向人民法院提起行政诉讼",
    ):
        assert expected in text, expected
    assert "要求举行听证。" not in text  # none requested
    assert [para.text for para in doc.paragraphs[-2:]] == ["城中区应急管理局", "2026年3月16日"]
    assert_official_layout(doc)


def test_a_decision_without_a_statement_says_none_was_made(world, built):
    with time_machine.travel(NOTIFIED, tick=False):
        p = services.draft_penalty(
            built.case, by=world.inspector, legal_basis=BASIS, facts=FACTS, amount="3000.50"
        )
        p = services.serve_penalty_notice(p, by=world.inspector)
        p = services.approve_penalty(p, by=world.leader)
    with pytest.raises(ValueError):
        render_penalty_decision(p)  # notified, not decided
    with time_machine.travel(DECIDED, tick=False):
        p = services.decide_penalty(p, by=world.inspector)
    text = all_text(open_docx(render_penalty_decision(p)))
    assert "你单位在法定期限内未提出陈述、申辩意见。" in text
    assert "不予采纳" not in text
    assert "罚款人民币叁仟元伍角整（¥3,000.50）" in text


def test_a_hearing_request_is_recorded_in_the_decision(world, built):
    with time_machine.travel(NOTIFIED, tick=False):
        p = services.draft_penalty(
            built.case, by=world.inspector, legal_basis=BASIS, facts=FACTS, amount="60000"
        )
        p = services.serve_penalty_notice(p, by=world.inspector)
        p = services.record_statement(p, by=world.inspector, statement="", hearing_requested=True)
    with time_machine.travel(DECIDED, tick=False):
        p = services.record_hearing(
            p, by=world.inspector, held_on=DECIDED.date(), summary="当事人到场陈述"
        )
        p = services.approve_penalty(p, by=world.leader)
        p = services.decide_penalty(p, by=world.inspector)
    text = all_text(open_docx(render_penalty_decision(p)))
    assert "你单位要求举行听证。" in text
    assert "意见及听证情况进行了复核" in text


# -- 督办函 --------------------------------------------------------------------------------------
def test_the_supervision_letter(world, built):
    letter = built.letter
    assert letter.number == "城应急督〔2026〕1号"
    doc = open_docx(render_supervision_letter(letter))
    text = all_text(doc)
    assert [para.text for para in doc.paragraphs[:4]] == [
        "城中区应急管理局",
        "督办函",
        "城应急督〔2026〕1号",
        f"{LETTER_TO}：",
    ]
    for expected in (
        world.ent_a.name,
        world.ent_a.uscc,
        LETTER_CONTENT,
        "请于2026年3月20日前将办理情况书面报告本局。",
    ):
        assert expected in text, expected
    assert [para.text for para in doc.paragraphs[-2:]] == ["城中区应急管理局", "2026年3月10日"]
    assert_official_layout(doc)


# -- 案件移送书 ----------------------------------------------------------------------------------
def test_the_referral_names_the_case_the_steps_the_reason_and_the_enclosures(world, built):
    r = built.referral
    assert r.number == "城应急移〔2026〕1号"
    doc = open_docx(render_referral(r))
    text = all_text(doc)
    assert [para.text for para in doc.paragraphs[:4]] == [
        "城中区应急管理局",
        "案件移送书",
        "城应急移〔2026〕1号",
        f"{AUTHORITY}：",
    ]
    for expected in (
        world.ent_a.name,
        world.ent_a.uscc,
        "经本局负责人批准，现将该案移送你单位依法处理",
        HAZARD,
        HAZARD_BASIS,
        FACTS,
        BASIS,
        REASON,
        "2026年3月5日，现场检查（城应急检记〔2026〕1号）。",
        "2026年3月5日，下达《责令限期整改指令书》（城应急责改〔2026〕1号）",
        "2026年3月10日，送达《行政处罚告知书》（城应急罚告〔2026〕1号），"
        "拟罚款人民币玖万贰仟柒佰伍拾元整（¥92,750.00）。",
        "2026年3月16日，作出《行政处罚决定书》（城应急罚决〔2026〕1号）",
        "2026年3月10日，下发《督办函》（城应急督〔2026〕1号）",
        # The enclosures, with their hashes.
        "文书/02_现场检查记录_城应急检记〔2026〕1号.docx",
        "附件/01_移送材料_询问笔录.pdf",
        f"SHA-256：{built.pdf.sha256}",
    ):
        assert expected in text, expected
    assert "本局负责人批准行政处罚" not in text  # internal steps stay out of the letter
    assert "移送西宁市应急管理局" not in text  # nor the referral's own step
    assert [para.text for para in doc.paragraphs[-2:]] == ["城中区应急管理局", "2026年3月25日"]
    assert_official_layout(doc)


def test_there_is_no_referral_letter_before_it_is_sent(world, built):
    with time_machine.travel(SENT, tick=False):
        draft = services.draft_referral(
            built.case, by=world.inspector, authority=AUTHORITY, reason=REASON
        )
    with pytest.raises(ValueError):
        render_referral(draft)


def test_the_case_history_is_in_date_order(built):
    events = case_events(Case.objects.get(pk=built.case.pk))
    assert [e.date for e in events] == sorted(e.date for e in events)
    assert [e.what for e in events[:4]] == [
        "现场检查",
        "发现一般事故隐患",
        "下达《责令限期整改指令书》",
        "立案",
    ]
    numbers = [e.number for e in events if e.number]
    assert numbers == [
        "城应急检记〔2026〕1号",
        "城应急责改〔2026〕1号",
        "城应急罚告〔2026〕1号",
        "城应急督〔2026〕1号",
        "城应急罚决〔2026〕1号",
        "城应急移〔2026〕1号",
    ]
