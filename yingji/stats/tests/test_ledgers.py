"""The ledgers (台账): `yingji export --ledger`, the page's downloads, scope and layout."""

import ast
import datetime
import io
import pathlib

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string
from openpyxl import load_workbook

from yingji.alerts.models import Alert
from yingji.core import ledger
from yingji.enforcement.models import Interview, Penalty, Referral, SupervisionLetter
from yingji.hazards.models import Hazard
from yingji.inspections.models import Inspection
from yingji.stats.tests.report_records import LEDGER_ROWS_2025, LEDGER_ROWS_2025_T1, load, more
from yingji.tips.models import Tip

NAMES = list(ledger.LEDGERS)


@pytest.fixture
def year(world, tmp_path):
    load(tmp_path)
    return world


def records_of_2025(name: str) -> int:
    """The records a 2025 ledger lists, counted straight from the tables."""
    if name == "hazards":
        return Hazard.objects.filter(found_on__year=2025).count()
    if name == "inspections":
        return Inspection.objects.filter(date__year=2025).count()
    if name == "tips":
        return Tip.objects.filter(received_on__year=2025).count()
    if name == "alerts":
        issued = Alert.objects.filter(status__in=("issued", "lifted"))
        return sum(1 for a in issued if a.issued_at.astimezone(SHANGHAI).year == 2025)
    dated = Penalty.objects.annotate(d=Coalesce("decided_on", "notified_on"))
    return (
        dated.filter(d__year=2025).count()
        + SupervisionLetter.objects.filter(issued_on__year=2025).count()
        + Interview.objects.filter(held_on__year=2025).count()
        + Referral.objects.filter(sent_on__year=2025).count()
    )


SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def download(response) -> bytes:
    return b"".join(response.streaming_content)


def headers_of(name: str) -> list[str]:
    module = import_string(ledger.LEDGERS[name].rsplit(".", 1)[0])
    return [str(h[0]) for h in module.HEADERS]


# -- the command --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_export_writes_a_formatted_ledger_of_the_year(year, tmp_path, name):
    out = tmp_path / f"{name}.xlsx"
    stdout = io.StringIO()
    call_command("export", "--ledger", name, "--year", "2025", str(out), stdout=stdout)
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == headers_of(name)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(rows[0])).column_letter}{len(rows)}"
    assert len(rows) - 1 == records_of_2025(name) == LEDGER_ROWS_2025[name]
    assert f"{LEDGER_ROWS_2025[name]} rows" in stdout.getvalue()
    # Column widths are set, and the first column holds real dates (date cells).
    assert ws.column_dimensions["A"].width > 8
    date_col = 0 if name != "enforcement" else 1
    cells = [row[date_col] for row in ws.iter_rows(min_row=2)]
    assert all(c.is_date for c in cells)
    assert {c.value.year for c in cells} == {2025}


def test_the_hazard_ledger_rows(year, tmp_path):
    out = tmp_path / "h.xlsx"
    call_command("export", "--ledger", "hazards", "--year", "2025", str(out), stdout=io.StringIO())
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    found = [r[0].date() for r in rows]
    assert found == sorted(found)  # by date found
    descriptions = [r[6] for r in rows]
    assert descriptions == ["隐患H1", "隐患H3", "隐患H2", "隐患H4"]
    assert {r[1] for r in rows} == {year.ent_a.name, year.ent_b.name}


def test_money_is_a_number_with_two_decimals(year, tmp_path):
    out = tmp_path / "e.xlsx"
    call_command(
        "export", "--ledger", "enforcement", "--year", "2025", str(out), stdout=io.StringIO()
    )
    ws = load_workbook(out).active
    amounts = [row[5] for row in ws.iter_rows(min_row=2) if row[5].value is not None]
    assert sorted(c.value for c in amounts) == [42750, 50000]
    assert {c.number_format for c in amounts} == {ledger.MONEY}


def test_the_alert_ledger_counts_units_and_answers_in_local_time(year, tmp_path):
    out = tmp_path / "a.xlsx"
    call_command("export", "--ledger", "alerts", "--year", "2025", str(out), stdout=io.StringIO())
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    # A1: sent to T1 and V2 at 09:00 Beijing time, T1 answered; A2: V1, no answer.
    assert [(r[0], r[6], r[7], r[8]) for r in rows] == [
        (datetime.datetime(2025, 3, 5, 9, 0), 2, 1, 50),
        (datetime.datetime(2025, 6, 1, 8, 0), 1, 0, 0),
    ]


def test_export_of_a_month_and_of_a_town(year, tmp_path):
    out = tmp_path / "m.xlsx"
    call_command(
        "export", "--ledger", "hazards", "--month", "2025-03", str(out), stdout=io.StringIO()
    )
    assert load_workbook(out).active.max_row == 1 + 2  # H1 H3
    call_command(
        "export",
        "--ledger",
        "hazards",
        "--year",
        "2025",
        "--region",
        "T1",
        str(out),
        stdout=io.StringIO(),
    )
    rows = list(load_workbook(out).active.iter_rows(min_row=2, values_only=True))
    assert [r[6] for r in rows] == ["隐患H1", "隐患H2"]


def test_export_as_a_user_sees_what_the_user_sees(year, tmp_path):
    out = tmp_path / "t.xlsx"
    for name in NAMES:
        call_command(
            "export",
            "--ledger",
            name,
            "--year",
            "2025",
            "--user",
            year.town_officer.username,
            str(out),
            stdout=io.StringIO(),
        )
        assert load_workbook(out).active.max_row - 1 == LEDGER_ROWS_2025_T1[name], name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--ledger", "hazards", "--year", "2025", "x.jsonl"), ".xlsx"),
        (("--ledger", "hazards", "--month", "2025-13", "x.xlsx"), "--month"),
        (("--ledger", "hazards", "x.xlsx"), "--year"),
        (("--ledger", "hazards", "--year", "2025", "--types", "hazard", "x.xlsx"), "--types"),
        (("--ledger", "hazards", "--year", "2025", "--region", "X9", "x.xlsx"), "region"),
        (("--ledger", "nope", "--year", "2025", "x.xlsx"), "nope"),
        (("--year", "2025", "x.xlsx"), "--ledger"),
    ],
)
def test_export_refuses_bad_arguments_and_writes_nothing(world, tmp_path, args, message):
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("export", *args)
    assert not list(tmp_path.glob("x.*"))


def test_plain_exports_still_work(year, tmp_path):
    out = tmp_path / "all.jsonl"
    call_command("export", "--types", "hazard", str(out), stdout=io.StringIO())
    assert len(out.read_text(encoding="utf-8").splitlines()) == Hazard.objects.count()


# -- the registry -------------------------------------------------------------------------------
def test_every_ledger_path_resolves_to_a_builder(year):
    for name, path in ledger.LEDGERS.items():
        assert ledger.builder(name) is import_string(path)
        sheet = ledger.build(name)  # everything, no period
        assert sheet.name == name
        assert len(list(sheet.rows)) >= LEDGER_ROWS_2025[name]
        assert ledger.title(name)
    with pytest.raises(LookupError):
        ledger.builder("nope")


def test_core_ledger_imports_no_domain_app():
    tree = ast.parse(pathlib.Path(ledger.__file__).read_text(encoding="utf-8"))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert [m for m in imported if m and m.startswith("yingji")] == ["yingji.core.documents"]


# -- the page -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_the_page_downloads_each_ledger(year, login, name):
    client = login(year.leader)
    response = client.get(f"/stats/ledgers/{name}.xlsx?year=2025")
    assert response.status_code == 200
    assert f"{name}-2025.xlsx" in response["Content-Disposition"]
    ws = workbook(download(response))
    assert ws.max_row - 1 == LEDGER_ROWS_2025[name]


@pytest.mark.parametrize("name", NAMES)
def test_a_town_officers_ledgers_cover_their_own_area(year, login, name):
    client = login(year.town_officer)
    response = client.get(f"/stats/ledgers/{name}.xlsx?year=2025")
    assert response.status_code == 200
    assert workbook(download(response)).max_row - 1 == LEDGER_ROWS_2025_T1[name]
    assert client.get(f"/stats/ledgers/{name}.xlsx?year=2025&region=T2").status_code == 404
    # Their village is inside their area.
    assert client.get(f"/stats/ledgers/{name}.xlsx?year=2025&region=V1").status_code == 200


def test_district_staff_may_pick_a_town(year, login):
    client = login(year.duty)
    response = client.get("/stats/ledgers/inspections.xlsx?year=2025&region=T2")
    rows = list(workbook(download(response)).iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in rows} == {year.ent_b.name}
    assert "inspections-2025-T2.xlsx" in response["Content-Disposition"]


def test_the_ledger_defaults_to_this_year_and_explains_a_bad_period(year, login):
    client = login(year.leader)
    response = client.get("/stats/ledgers/hazards.xlsx")
    this_year = datetime.date.today().year
    assert f"hazards-{this_year}.xlsx" in response["Content-Disposition"]
    bad = client.get("/stats/ledgers/hazards.xlsx?quarter=2025Q9")
    assert bad.status_code == 400 and bad.context["errors"].keys() == {"quarter"}
    assert client.get("/stats/ledgers/nope.xlsx?year=2025").status_code == 404


LEDGER_ROLES = {"leader", "inspector", "duty", "legal", "admin", "town", "village"}


@pytest.mark.parametrize(
    "role", ["leader", "inspector", "duty", "legal", "town", "village", "ent_a", "expert", "admin"]
)
def test_role_matrix_of_the_ledgers(year, client, role):
    client.force_login(year.users[role])
    response = client.get("/stats/ledgers/tips.xlsx?year=2025")
    assert response.status_code == (200 if role in LEDGER_ROLES else 403)


def test_the_village_officer_gets_the_village_only(year, login):
    # V2 is E-B's village: its hazards H3 H4, and A1 (sent to V2).
    client = login(year.village_officer)
    hazards = workbook(download(client.get("/stats/ledgers/hazards.xlsx?year=2025")))
    assert hazards.max_row - 1 == 2
    alerts = workbook(download(client.get("/stats/ledgers/alerts.xlsx?year=2025")))
    rows = list(alerts.iter_rows(min_row=2, values_only=True))
    assert [(r[6], r[7]) for r in rows] == [(1, 0)]  # V2 alone, which did not answer


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        download(response)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", NAMES)
def test_a_ledger_issues_a_fixed_number_of_queries(year, tmp_path, login, name):
    client = login(year.leader)
    url = f"/stats/ledgers/{name}.xlsx?year=2025"
    small = _count(client, url)
    more(tmp_path, 6)
    assert _count(client, url) == small
