"""The annual report and the period summaries: the CLI, the page, the figures in the words.

The document text is the report's own Chinese wording (stats/report.py, not translated), so
the tests read the sentences the templates make from the computed figures.
"""

import datetime
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from yingji.core import documents
from yingji.core.ledger import parse_period
from yingji.stats import figures, report
from yingji.stats.tests.report_records import load

D = datetime.date
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def year(world, tmp_path):
    load(tmp_path)
    return world


def open_docx(data: bytes):
    return Document(io.BytesIO(data))


def text_of(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def placeholders(doc) -> list[str]:
    return [r.text for p in doc.paragraphs for r in p.runs if documents.is_placeholder(r)]


def east_asian(run) -> str:
    return run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def cli_report(tmp_path, *args) -> tuple[object, str]:
    out = tmp_path / "report.docx"
    stdout = io.StringIO()
    call_command("report", *args, "--out", str(out), stdout=stdout)
    return Document(str(out)), stdout.getvalue()


def template_keys(template: report.Template) -> set[str]:
    texts = [template.title] + [getattr(b, "text", "") for b in template.blocks]
    texts += [fn({}) for fn in report.CHOICES.values()]
    texts += [report.GAS_ALL, report.GAS_SOME]
    return {m[3] for t in texts for m in report.TOKEN.findall(t) if m[3]}


# -- number formats -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("yuan", "wan"),
    [
        ("92750.00", "9.275"),
        ("0.00", "0"),
        (0, "0"),
        ("100000.00", "10"),
        ("12345.67", "1.2346"),  # four decimals at most, rounded half up
        ("5.00", "0.0005"),
        ("4.99", "0.0005"),
        ("1234567.89", "123.4568"),
    ],
)
def test_yuan_are_printed_in_wan_as_the_report_writes_them(yuan, wan):
    assert report.wan(yuan) == wan


def test_yuan_lose_their_trailing_zeros():
    assert [report.yuan(v) for v in ("2500.00", "2500.50", "0.00", "0.05")] == [
        "2500",
        "2500.5",
        "0",
        "0.05",
    ]


def test_every_figure_has_a_name_and_every_template_key_is_known():
    assert set(figures.ALL_KEYS) <= set(report.LABELS)
    for template in (report.ANNUAL, report.SUMMARY):
        assert template_keys(template) <= set(figures.ALL_KEYS) | set(report.DERIVED)
    # The annual report prints every figure of statistics.md that the seed report has.
    assert template_keys(report.ANNUAL) >= {
        "inspections.total",
        "hazards.general.rectification_rate",
        "enforcement.penalties.amount",
        "tips.rewards.amount",
        "alerts.warnings",
        "drills.blind",
        "outreach.media_views",
    }


def test_fill_marks_missing_figures_and_narrative_and_prints_zero():
    figs = {"inspections.total": 0, "hazards.general.rectification_rate": None}
    pieces = report.fill(
        "检查{inspections.total}家次,整改率{hazards.general.rectification_rate}%,"
        "学习{study.sessions}次。{todo:说明}",
        figs,
        {},
    )
    assert pieces == [
        ("检查0家次,整改率", False),
        ("【无数据:一般隐患整改率(%)】", True),
        ("%,学习", False),
        ("【待补充:法治理论学习次数】", True),
        ("次。", False),
        ("【待补充:说明】", True),
    ]


def test_open_drills_are_all_drills_less_the_blind_ones():
    figs = report.with_derived({"drills.total": 10, "drills.blind": 8})
    assert figs["drills.open"] == 2
    assert "drills.open" not in report.with_derived({"drills.blind": 8})


# -- periods ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "kind", "start", "end"),
    [
        ({"year": "2025"}, "year", D(2025, 1, 1), D(2025, 12, 31)),
        ({"quarter": "2025Q1"}, "quarter", D(2025, 1, 1), D(2025, 3, 31)),
        ({"quarter": "2024q4"}, "quarter", D(2024, 10, 1), D(2024, 12, 31)),
        ({"month": "2024-02"}, "month", D(2024, 2, 1), D(2024, 2, 29)),
        ({"start": "2025-01-05", "end": "2025-03-15"}, "range", D(2025, 1, 5), D(2025, 3, 15)),
    ],
)
def test_periods(args, kind, start, end):
    period = parse_period(**args)
    assert (period.kind, period.start, period.end) == (kind, start, end)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({}, "year"),
        ({"year": "2025", "month": "2025-03"}, "month"),
        ({"year": "25x"}, "year"),
        ({"year": "1999"}, "year"),
        ({"quarter": "2025Q5"}, "quarter"),
        ({"month": "2025-13"}, "month"),
        ({"start": "2025-01-01"}, "end"),
        ({"start": "2025-02-30", "end": "2025-03-01"}, "start"),
        ({"start": "2025-03-02", "end": "2025-03-01"}, "end"),
    ],
)
def test_bad_periods_are_refused_field_by_field(args, field):
    with pytest.raises(ValidationError) as exc:
        parse_period(**args)
    assert list(exc.value.message_dict) == [field]


# -- the annual report --------------------------------------------------------------------------
def test_the_annual_report_fills_every_figure_from_compute(year, tmp_path):
    figs = figures.compute(D(2025, 1, 1), D(2025, 12, 31))
    # The dataset's 2025, counted by hand (report_records.py), as compute() sees it.
    assert (
        figs["inspections.total"],
        figs["hazards.general.found"],
        figs["hazards.general.rectified"],
        figs["hazards.general.pending"],
        figs["hazards.general.rectification_rate"],
        figs["enforcement.penalties"],
        figs["enforcement.penalties.amount"],
        figs["enforcement.interviews"],
    ) == (3, 3, 2, 1, "66.67", 2, "92750.00", 0)

    doc, out = cli_report(tmp_path, "--year", "2025")
    text = text_of(doc)
    assert "2025" in out
    assert doc.paragraphs[0].text == "城中区应急管理局2025年法治政府建设工作报告"
    assert (
        f"全区累计检查各类生产经营单位{figs['inspections.total']}家次,"
        f"排查发现一般隐患{figs['hazards.general.found']}条,"
        f"已完成整改{figs['hazards.general.rectified']}条,"
        f"限期整改{figs['hazards.general.pending']}条,"
        f"整改率达{figs['hazards.general.rectification_rate']}%。"
    ) in text
    assert "依法实施行政处罚2起,处罚金额共计9.275万元,下发督办函1份,警示约谈企业0家。" in text
    # 工贸: I1 I2 and H1 H2; 危化: one registered (E-B), I3, H3 H4.
    assert "累计检查工贸企业2家(次),排查整改安全隐患2条" in text
    assert "对辖区1家危险化学品企业先后开展隐患排查1家(次),整治安全隐患2条" in text
    assert "辖区2座加油站点中已有1座完成标准化建设" in text
    assert "热线受理举报1件,已办结1件" in text
    assert "共计对1件举报发放举报奖励资金500元" in text
    assert "印发防灾减灾救灾提示信息1期,转发气象信息0条,预警信息1次" in text
    # The eight sections of the seed report, in order.
    headings = [p.text for p in doc.paragraphs if re.match("[一二三四五六七八]、", p.text)]
    assert [h[0] for h in headings] == list("一二三四五六七八")


def test_missing_figures_and_the_narrative_are_highlighted_placeholders(year, tmp_path):
    doc, _out = cli_report(tmp_path, "--year", "2025")
    marked = placeholders(doc)
    used = template_keys(report.ANNUAL)
    missing = [k for k in figures.missing() if k in used]
    assert missing  # plans, teams, drills, outreach … are not kept yet
    for key in missing:
        assert f"【待补充:{report.LABELS[key]}】" in marked, key
    # Derived from missing figures: missing too.
    assert f"【待补充:{report.LABELS['drills.open']}】" in marked
    # Narrative parts to complete, in every section.
    assert sum(1 for m in marked if m.startswith("【待补充:") and "数" not in m) >= 8
    # Computed figures are never placeholders.
    assert not [m for m in marked if report.LABELS["inspections.total"] in m]


def test_the_report_is_an_official_document(year, tmp_path):
    doc, _out = cli_report(tmp_path, "--year", "2025")
    section = doc.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert all(
        abs(m - Cm(v)) < Cm(0.01) for m, v in zip(margins, (3.7, 3.5, 2.8, 2.6), strict=True)
    )

    title = doc.paragraphs[0].runs[0]
    assert (east_asian(title), title.font.size) == ("方正小标宋简体", Pt(22))
    heading = next(p for p in doc.paragraphs if p.text.startswith("一、"))
    assert east_asian(heading.runs[0]) == "黑体"
    sub = next(p for p in doc.paragraphs if p.text.startswith("(一)"))
    assert (east_asian(sub.runs[0]), east_asian(sub.runs[1])) == ("楷体_GB2312", "仿宋_GB2312")
    body = next(p for p in doc.paragraphs if "全区累计检查" in p.text)
    assert {east_asian(r) for r in body.runs} == {"仿宋_GB2312"}
    assert {r.font.size for r in body.runs} == {Pt(16)}
    # The fallbacks go into the font table for Word to consult.
    table = next(
        r.target_part.blob for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")
    ).decode()
    assert "楷体_GB2312" in table and "KaiTi" in table and "FangSong" in table
    # Page numbers "— 1 —": a PAGE field between dashes in the footer.
    footer = section.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")
    assert "PAGE" in footer._p.xml


def test_the_report_reads_the_figures_once(year, tmp_path, monkeypatch):
    calls = []
    real = report.stats_figures.compute

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(report.stats_figures, "compute", spy)
    cli_report(tmp_path, "--year", "2025")
    assert calls == [(D(2025, 1, 1), D(2025, 12, 31), None)]


def test_a_town_report_counts_the_town_only(year, tmp_path):
    figs = figures.compute(D(2025, 1, 1), D(2025, 12, 31), year.town1)
    doc, _out = cli_report(tmp_path, "--year", "2025", "--region", "T1")
    text = text_of(doc)
    assert figs["inspections.total"] == 2
    assert f"人民街街道累计检查各类生产经营单位{figs['inspections.total']}家次" in text
    assert "处罚金额共计5万元" in text  # P1 only


# -- summaries ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "start", "end", "kind"),
    [
        (("--month", "2025-03"), D(2025, 3, 1), D(2025, 3, 31), "月报"),
        (("--quarter", "2025Q1"), D(2025, 1, 1), D(2025, 3, 31), "季报"),
        (("--start", "2025-03-01", "--end", "2025-06-30"), D(2025, 3, 1), D(2025, 6, 30), "简报"),
    ],
)
def test_summaries_of_a_month_a_quarter_or_any_period(year, tmp_path, args, start, end, kind):
    figs = figures.compute(start, end)
    doc, _out = cli_report(tmp_path, *args)
    text = text_of(doc)
    assert doc.paragraphs[0].text.endswith(kind)
    assert f"本期全区检查各类生产经营单位{figs['inspections.total']}家次" in text
    assert (
        f"其中一般隐患{figs['hazards.general.found']}条,"
        f"已完成整改{figs['hazards.general.rectified']}条,"
        f"限期整改{figs['hazards.general.pending']}条"
    ) in text
    assert f"处罚金额{report.wan(figs['enforcement.penalties.amount'])}万元" in text
    # The table of every figure: one row each, computed ones with their value.
    table = doc.tables[-1]
    assert len(table.rows) == 1 + len(figures.ALL_KEYS)
    values = {row.cells[1].text: row.cells[2].text for row in table.rows[1:]}
    assert values[report.LABELS["inspections.total"]] == str(figs["inspections.total"])
    assert values[report.LABELS["plans.published"]] == "待补充"


def test_march_is_a_month_of_its_own(year, tmp_path):
    # March 2025: I1 I3 inspected, H1 H3 found (H1 closed), P1 decided (50000 yuan).
    doc, _out = cli_report(tmp_path, "--month", "2025-03")
    text = text_of(doc)
    assert "本期全区检查各类生产经营单位2家次" in text
    assert "其中一般隐患2条,已完成整改1条,限期整改1条,整改率50.00%" in text
    assert "处罚金额5万元" in text


@pytest.mark.parametrize(
    "args",
    [
        ("--year", "2025", "--month", "2025-03"),
        ("--month", "2025-13"),
        ("--start", "2025-03-01"),
        (),
    ],
)
def test_the_cli_refuses_a_bad_period_and_writes_nothing(world, tmp_path, args):
    out = tmp_path / "report.docx"
    with pytest.raises(CommandError):
        call_command("report", *args, "--out", str(out))
    assert not out.exists()


def test_the_cli_refuses_an_unknown_region_and_a_wrong_suffix(world, tmp_path):
    with pytest.raises(CommandError, match="region"):
        call_command(
            "report", "--year", "2025", "--region", "X9", "--out", str(tmp_path / "a.docx")
        )
    with pytest.raises(CommandError, match=".docx"):
        call_command("report", "--year", "2025", "--out", str(tmp_path / "a.pdf"))
    assert not list(tmp_path.iterdir())


# -- the page -----------------------------------------------------------------------------------
def test_the_page_downloads_the_annual_report(year, login):
    client = login(year.leader)
    page = client.get("/stats/reports/")
    assert page.status_code == 200
    assert b'id="reports"' in page.content and b'id="ledgers"' in page.content
    response = client.get("/stats/reports/download/?year=2025")
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    assert "attachment" in response["Content-Disposition"]
    text = text_of(open_docx(response.content))
    assert "处罚金额共计9.275万元" in text
    assert "整改率达66.67%" in text


def test_the_page_downloads_summaries_and_area_reports(year, login):
    client = login(year.inspector)
    response = client.get("/stats/reports/download/?quarter=2025Q1&region=T2")
    assert response.status_code == 200
    text = text_of(open_docx(response.content))
    # Town 2 in the first quarter: I3 and H3 (open); no penalty, no letter (L1 is April's).
    assert text.startswith("总寨镇2025年第一季度应急管理工作季报")
    assert "本期总寨镇检查各类生产经营单位1家次" in text
    assert "其中一般隐患1条,已完成整改0条,限期整改1条,整改率0.00%" in text
    assert "处罚金额0万元" in text
    assert "下发督办函0份" in text


def test_a_bad_period_on_the_page_is_explained_field_by_field(year, login):
    client = login(year.leader)
    with translation.override("en"):
        response = client.get("/stats/reports/download/?month=2025-13")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert response.context["errors"].keys() == {"month"}
    assert b'data-field="month"' in response.content
    assert client.get("/stats/reports/download/?region=NOPE&year=2025").status_code == 404


REPORT_ROLES = {"leader", "inspector", "duty", "legal", "admin"}
PAGE_ROLES = REPORT_ROLES | {"town", "village"}


@pytest.mark.parametrize(
    "role", ["leader", "inspector", "duty", "legal", "town", "village", "ent_a", "expert", "admin"]
)
def test_role_matrix_of_the_page_and_the_report(year, client, role):
    client.force_login(year.users[role])
    page = client.get("/stats/reports/")
    assert page.status_code == (200 if role in PAGE_ROLES else 403)
    if page.status_code == 200:
        # The report forms only for those who may download one.
        assert (b'id="reports"' in page.content) == (role in REPORT_ROLES)
        assert b'id="ledgers"' in page.content
    download = client.get("/stats/reports/download/?year=2025")
    assert download.status_code == (200 if role in REPORT_ROLES else 403)


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    for url in ("/stats/reports/", "/stats/reports/download/?year=2025"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_page_issues_a_fixed_number_of_queries(year, login, django_assert_max_num_queries):
    from yingji.core.models import Region

    client = login(year.leader)
    with django_assert_max_num_queries(6) as before:
        client.get("/stats/reports/")
    for i in range(5):
        Region.objects.create(ref=f"T{10 + i}", name=f"镇{i}", level="town", parent=year.district)
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert client.get("/stats/reports/").status_code == 200
