"""The on-site inspection record (现场检查记录) as .docx, and the generic document helpers."""

import datetime
import io
import zoneinfo

import docx
import pytest
import time_machine
from docx.oxml.ns import qn

from yingji.core import documents
from yingji.hazards import services as hazard_services
from yingji.inspections import services
from yingji.inspections.documents import render_inspection_record

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
ITEMS = [
    {
        "code": "1",
        "text": "建立健全全员安全生产责任制",
        "basis": "《中华人民共和国安全生产法》第二十二条",
    },
    {"code": "2", "text": "粉尘清扫制度落实", "basis": "《工贸企业粉尘防爆安全规定》第十二条"},
    {"code": "3", "text": "有限空间作业审批", "basis": ""},
]
HAZARD_BASIS = "《工贸企业粉尘防爆安全规定》第十二条第一款"


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def open_docx(data: bytes):
    assert data[:2] == b"PK"
    return docx.Document(io.BytesIO(data))


def all_text(doc) -> str:
    """Every paragraph, including those inside table cells, one per line."""
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def east_asian(run) -> str | None:
    rpr = run._element.rPr
    return rpr.rFonts.get(qn("w:eastAsia")) if rpr is not None and rpr.rFonts is not None else None


def completed_inspection(world, *, hazards=True, ledger=True):
    checklist = services.save_checklist(
        by=world.leader, name="工贸企业检查表", items=ITEMS, sector="industrial_trade"
    )
    insp = services.schedule_inspection(
        by=world.inspector, enterprise=world.ent_a, date=TODAY, checklist=checklist, ledger=ledger
    )
    services.start_inspection(insp, by=world.inspector)
    answers = {"1": "ok", "2": "hazard" if hazards else "ok", "3": "na"}
    services.record_answers(
        insp, by=world.inspector, answers=answers, summary="企业安全管理总体较好，粉尘清扫不及时。"
    )
    if hazards:
        hazard_services.report_hazard(
            by=world.inspector,
            enterprise=world.ent_a,
            found_on=TODAY,
            description="除尘器灰斗积尘未及时清理",
            level="major",
            legal_basis=HAZARD_BASIS,
            inspection=insp,
        )
    return services.complete_inspection(insp, by=world.inspector)


def test_the_record_carries_the_visit(world):
    insp = completed_inspection(world)
    assert insp.record_no == "城应急检记〔2026〕1号"
    doc = open_docx(render_inspection_record(insp))
    text = all_text(doc)

    for expected in (
        "城中区应急管理局",
        "现场检查记录",
        insp.record_no,
        world.ent_a.name,
        world.ent_a.uscc,
        "人民街街道南关社区",  # no street address: the region stands in
        "2026年3月5日",
        "日常检查",
        "现场核查、台账查阅",
        insp.inspector_names,
        "工贸企业检查表（第1版）",
        # the checklist with its answers and basis
        "建立健全全员安全生产责任制",
        "《中华人民共和国安全生产法》第二十二条",
        "符合",
        "存在隐患",
        "不适用",
        # the finding
        "除尘器灰斗积尘未及时清理",
        "重大",
        HAZARD_BASIS,
        "企业安全管理总体较好，粉尘清扫不及时。",
        "检查人员（签名）：",
        "被检查单位负责人（签名）：",
    ):
        assert expected in text, expected
    assert insp.inspector_names == "inspector"
    # The title and the number open the document, in that order.
    assert [p.text for p in doc.paragraphs[:3]] == [
        "城中区应急管理局",
        "现场检查记录",
        "城应急检记〔2026〕1号",
    ]


def test_checklist_rows_follow_the_items(world):
    doc = open_docx(render_inspection_record(completed_inspection(world)))
    checklist = doc.tables[1]
    rows = [[c.text for c in row.cells] for row in checklist.rows]
    assert rows[0] == ["序号", "检查内容", "检查依据", "检查结果"]
    assert rows[1:] == [
        ["1", ITEMS[0]["text"], ITEMS[0]["basis"], "符合"],
        ["2", ITEMS[1]["text"], ITEMS[1]["basis"], "存在隐患"],
        ["3", ITEMS[2]["text"], "—", "不适用"],
    ]
    # The header row repeats on every page.
    assert checklist.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_page_setup_and_fonts(world):
    doc = open_docx(render_inspection_record(completed_inspection(world)))
    section = doc.sections[0]
    assert round(section.page_width.cm, 2) == 21.0
    assert round(section.page_height.cm, 2) == 29.7
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.cm, 2) for m in margins] == [3.7, 3.5, 2.8, 2.6]

    normal = doc.styles["Normal"]
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert normal.font.size.pt == 16
    title = doc.paragraphs[1]
    assert title.alignment == documents.Align.CENTER
    assert {east_asian(r) for r in title.runs} == {"方正小标宋简体"}
    assert {r.font.size.pt for r in title.runs} == {22}
    summary = next(p for p in doc.paragraphs if p.text.startswith("企业安全管理"))
    assert {east_asian(r) for r in summary.runs} == {"仿宋_GB2312"}
    assert {r.font.size.pt for r in summary.runs} == {16}
    # No theme font left to override the explicit East Asian face.
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:rFonts"))
    assert defaults.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert defaults.get(qn("w:eastAsiaTheme")) is None
    assert normal.element.rPr.rFonts.get(qn("w:eastAsiaTheme")) is None
    # The fallback chain sits in the font table.
    font_table = next(
        r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")
    )
    assert "仿宋_GB2312" in font_table.blob.decode()
    assert "FangSong" in font_table.blob.decode()


def test_page_numbers_are_a_page_field_between_dashes(world):
    doc = open_docx(render_inspection_record(completed_inspection(world)))
    assert doc.settings.odd_and_even_pages_header_footer
    for footer in (doc.sections[0].footer, doc.sections[0].even_page_footer):
        xml = footer._element.xml
        assert " PAGE " in xml
        assert footer.paragraphs[0].text == "— 1 —"


def test_a_record_without_findings_says_so(world):
    insp = completed_inspection(world, hazards=False, ledger=False)
    text = all_text(open_docx(render_inspection_record(insp)))
    assert "本次检查未发现问题（隐患）。" in text
    assert "现场核查" in text and "台账查阅" not in text


def test_only_a_completed_inspection_has_a_record(world):
    insp = services.schedule_inspection(by=world.inspector, enterprise=world.ent_a, date=TODAY)
    with pytest.raises(ValueError):
        render_inspection_record(insp)


# -- the generic helpers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day, arabic, chinese",
    [
        (datetime.date(2026, 3, 5), "2026年3月5日", "二〇二六年三月五日"),
        (datetime.date(2020, 10, 10), "2020年10月10日", "二〇二〇年十月十日"),
        (datetime.date(2019, 12, 31), "2019年12月31日", "二〇一九年十二月三十一日"),
        (datetime.date(2026, 11, 20), "2026年11月20日", "二〇二六年十一月二十日"),
    ],
)
def test_cn_date(day, arabic, chinese):
    assert documents.cn_date(day) == arabic
    assert documents.cn_date(day, style="chinese") == chinese
    assert documents.cn_date(None) == ""


def test_generic_document_builds_without_any_domain_object():
    doc = documents.new_document("通知", "城应急〔2026〕1号", issuer="城中区应急管理局")
    documents.addressee(doc, "各街道、镇")
    documents.heading(doc, "一、总体要求")
    documents.paragraph(doc, "正文。")
    documents.table(doc, ("序号", "内容"), [(1, "甲"), (2, None)], (2.0, 13.6))
    documents.signoff(doc, "城中区应急管理局", documents.cn_date(datetime.date(2026, 3, 5)))
    reopened = open_docx(documents.to_bytes(doc))
    assert [p.text for p in reopened.paragraphs[:3]] == [
        "城中区应急管理局",
        "通知",
        "城应急〔2026〕1号",
    ]
    assert reopened.core_properties.title == "通知"
    with pytest.raises(ValueError):
        documents.table(doc, ("a",), [("b",)], (10.0,))


def test_signoff_keeps_the_date_two_characters_right_of_the_issuer():
    doc = documents.new_document("通知")
    documents.signoff(doc, "城中区应急管理局", "2026年3月5日")
    issuer, date = doc.paragraphs[-2:]
    # issuer: 8 em = 128 pt, two characters in; date: 3 em + 6 half-width digits = 96 pt
    assert issuer.paragraph_format.right_indent.pt == 32
    assert date.paragraph_format.right_indent.pt == 32  # 32 + 128 - 2 em - 96

    documents.signoff(doc, "城中区应急管理局", "2026年12月25日")
    issuer, date = doc.paragraphs[-2:]
    # The date (112 pt) would come closer than two characters to the edge: it stays two
    # characters in and the issuer moves left to keep the two-character offset.
    assert date.paragraph_format.right_indent.pt == 32
    assert issuer.paragraph_format.right_indent.pt == 48  # 32 + 112 + 32 - 128


def test_core_documents_imports_no_domain_app():
    import ast
    import pathlib

    tree = ast.parse(pathlib.Path(documents.__file__).read_text(encoding="utf-8"))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [m for m in imported if m and m.startswith(("yingji", "django"))]
