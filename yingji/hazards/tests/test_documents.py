"""The rectification order (责令限期整改指令书) and the re-inspection opinion (整改复查意见书)."""

import datetime
import io
import zoneinfo

import docx
import pytest
import time_machine
from docx.oxml.ns import qn

from yingji.hazards import services
from yingji.hazards.documents import reconsideration_organ, render_order, render_reinspection
from yingji.inspections import services as inspection_services

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY1 = datetime.datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)  # inspection and order
DAY2 = datetime.datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI)  # evidence and re-inspection
DEADLINE = datetime.date(2026, 3, 20)
NEW_DEADLINE = datetime.date(2026, 4, 1)
BASIS_1 = "《工贸企业粉尘防爆安全规定》第十二条第一款"
BASIS_2 = "《中华人民共和国安全生产法》第二十八条"


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
    body = [p for p in doc.paragraphs if p.text.startswith(("本局", "经查", "依据"))]
    assert body
    for p in body:
        for run in p.runs:
            assert run._element.rPr.rFonts.get(qn("w:eastAsia")) in {"仿宋_GB2312", "黑体"}
    assert " PAGE " in doc.sections[0].footer._element.xml


@pytest.fixture
def order(world):
    """Inspection with two findings → completed → one order for both."""
    with time_machine.travel(DAY1, tick=False):
        checklist = inspection_services.save_checklist(
            by=world.leader,
            name="工贸企业检查表",
            items=[{"code": "1", "text": "粉尘清扫制度落实", "basis": BASIS_1}],
            sector="industrial_trade",
        )
        insp = inspection_services.schedule_inspection(
            by=world.inspector,
            enterprise=world.ent_a,
            date=DAY1.date(),
            inspectors=[world.inspector, world.leader],
            checklist=checklist,
        )
        inspection_services.start_inspection(insp, by=world.inspector)
        inspection_services.record_answers(insp, by=world.inspector, answers={"1": "hazard"})
        hazards = [
            services.report_hazard(
                by=world.inspector,
                enterprise=world.ent_a,
                found_on=DAY1.date(),
                description=description,
                legal_basis=basis,
                inspection=insp,
            )
            for description, basis in (
                ("除尘器灰斗积尘未及时清理", BASIS_1),
                ("未按规定对从业人员进行安全生产教育和培训", BASIS_2),
            )
        ]
        inspection_services.complete_inspection(insp, by=world.inspector)
        return services.issue_order(
            hazards,
            by=world.inspector,
            deadline=DEADLINE,
            requirements="立即清理积尘，建立清扫记录。",
        )


def reinspection(world, order, *, passed: bool):
    hazard = order.hazards.get(description="除尘器灰斗积尘未及时清理")
    with time_machine.travel(DAY2, tick=False):
        services.submit_evidence(hazard, by=world.ent_user_a, note="已清理积尘并建立清扫台账。")
        return services.reinspect(
            hazard,
            by=world.inspector,
            passed=passed,
            opinion="现场核实积尘已清理，清扫记录齐全。" if passed else "灰斗仍有积尘。",
            new_deadline=None if passed else NEW_DEADLINE,
        )


def test_the_order_names_the_hazards_the_basis_and_the_deadline(world, order):
    assert order.number == "城应急责改〔2026〕1号"
    doc = open_docx(render_order(order))
    text = all_text(doc)
    assert [p.text for p in doc.paragraphs[:3]] == [
        "城中区应急管理局",
        "责令限期整改指令书",
        "城应急责改〔2026〕1号",
    ]
    assert doc.paragraphs[3].text == "青海甲工贸有限公司："
    for expected in (
        world.ent_a.uscc,
        "本局执法人员inspector、leader于2026年3月5日",
        "除尘器灰斗积尘未及时清理",
        "未按规定对从业人员进行安全生产教育和培训",
        BASIS_1,
        BASIS_2,
        "一般",
        "《中华人民共和国安全生产法》第六十五条第一款第三项",
        "请于2026年3月20日前整改完毕",
        "整改要求：立即清理积尘，建立清扫记录。",
        "可以依法在六十日内向城中区人民政府申请行政复议",
        "在六个月内依法向人民法院提起行政诉讼",
        "执法人员（签名）：",
        "被检查单位负责人（签名）：",
    ):
        assert expected in text, expected
    hazards = doc.tables[0]
    assert [c.text for c in hazards.rows[0].cells] == ["序号", "问题（隐患）", "等级", "依据"]
    assert len(hazards.rows) == 3
    # The issuer and the date of issue close the document.
    assert [p.text for p in doc.paragraphs[-2:]] == ["城中区应急管理局", "2026年3月5日"]
    assert_official_layout(doc)


def test_a_passed_reinspection_closes_the_hazard(world, order):
    re = reinspection(world, order, passed=True)
    assert re.number == "城应急复查〔2026〕1号"
    doc = open_docx(render_reinspection(re))
    text = all_text(doc)
    assert [p.text for p in doc.paragraphs[:3]] == [
        "城中区应急管理局",
        "整改复查意见书",
        "城应急复查〔2026〕1号",
    ]
    for expected in (
        world.ent_a.name,
        world.ent_a.uscc,
        "2026年3月5日",
        "《责令限期整改指令书》（城应急责改〔2026〕1号）",
        "于2026年3月20日前对下列问题（隐患）整改完毕",
        "除尘器灰斗积尘未及时清理",
        BASIS_1,
        "本局复查人员inspector于2026年3月18日",
        "复查结论：经复查，已整改完毕，同意销号。",
        "复查意见：现场核实积尘已清理，清扫记录齐全。",
        "复查人员（签名）：",
        "被复查单位负责人（签名）：",
    ):
        assert expected in text, expected
    # Only the hazard reviewed, not the other one of the order.
    assert "未按规定对从业人员" not in text
    assert "未整改到位" not in text
    assert [p.text for p in doc.paragraphs[-2:]] == ["城中区应急管理局", "2026年3月18日"]
    assert_official_layout(doc)


def test_a_failed_reinspection_sets_the_new_deadline(world, order):
    re = reinspection(world, order, passed=False)
    text = all_text(open_docx(render_reinspection(re)))
    assert "复查结论：经复查，未整改到位，请于2026年4月1日前整改完毕。" in text
    assert "复查意见：灰斗仍有积尘。" in text
    assert "同意销号" not in text


def test_an_order_on_a_self_reported_hazard_names_no_inspectors(world):
    with time_machine.travel(DAY1, tick=False):
        insp = inspection_services.start_self_inspection(by=world.ent_user_a)
        hazard = services.report_hazard(
            by=world.ent_user_a,
            enterprise=world.ent_a,
            found_on=DAY1.date(),
            description="配电箱门未关闭",
            inspection=insp,
        )
        order = services.issue_order([hazard], by=world.inspector, deadline=DEADLINE)
    assert order.inspection == insp
    text = all_text(open_docx(render_order(order)))
    assert f"经查，你单位（统一社会信用代码：{world.ent_a.uscc}）存在下列问题（隐患）：" in text
    assert "执法人员ent_a" not in text
    assert "整改要求" not in text  # none given
    assert "—" in text  # no legal basis recorded


def test_reconsideration_organ_follows_the_bureau(settings):
    assert reconsideration_organ() == "城中区人民政府"
    settings.SITE_NAME = "城西区应急管理局"
    assert reconsideration_organ() == "城西区人民政府"
    assert reconsideration_organ("应急管理局") == "本级人民政府"
    assert reconsideration_organ("某某局") == "本级人民政府"
