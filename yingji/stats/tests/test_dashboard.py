"""The dashboard (/stats/) and its drill-down lists (/stats/records/<key>/).

Data is imported as interchange records (as a bureau's ledgers would be) on top of the test
world: 630103 > T1 > V1 (E-A, industry and trade), T2 > V2 (E-B, hazardous chemicals).
"""

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

import yingji.alerts.interchange  # noqa: F401  (registers `alert` and `rollcall`)
from yingji.core import ledger
from yingji.core.interchange import import_file
from yingji.core.views import HOME_PANELS
from yingji.stats import figures, views
from yingji.tips.models import Tip

D = datetime.date
START, END = D(2025, 1, 1), D(2025, 12, 31)
PERIOD = "start=2025-01-01&end=2025-12-31"


def insp(ref, enterprise, date):
    return {"type": "inspection", "ref": ref, "enterprise": enterprise, "date": date,
            "mode": "routine"}  # fmt: skip


def haz(ref, enterprise, found_on, level="general", status="open", **more):
    return {"type": "hazard", "ref": ref, "enterprise": enterprise, "found_on": found_on,
            "level": level, "status": status, "description": "隐患", **more}  # fmt: skip


RECORDS = [
    # 2025: three inspections, E-A twice (T1), E-B once (T2); 2024: one at E-A.
    insp("I1", "E-A", "2025-01-10"),
    insp("I2", "E-A", "2025-03-05"),
    insp("I3", "E-B", "2025-03-20"),
    insp("I0", "E-A", "2024-02-01"),
    haz("H1", "E-A", "2025-01-10", status="closed", closed_on="2025-01-20"),
    haz("H2", "E-B", "2025-03-20", deadline="2025-04-01"),  # still open: overdue
    haz("H3", "E-A", "2025-03-05", level="major", deadline="2025-03-30"),  # overdue too
    haz("H0", "E-A", "2024-05-01", status="closed", closed_on="2024-05-09"),
    {"type": "enforcement", "ref": "P1", "enterprise": "E-A", "kind": "penalty",
     "date": "2025-04-01", "amount": "1000", "basis": "《安全生产法》第九十九条"},
    {"type": "enforcement", "ref": "V1", "enterprise": "E-B", "kind": "interview",
     "date": "2025-05-05", "basis": "《安全生产法》第六十五条"},
    {"type": "enforcement", "ref": "L1", "enterprise": "E-A", "kind": "supervision_letter",
     "date": "2025-04-02", "basis": "《安全生产法》第六十五条"},
    {"type": "enforcement", "ref": "R1", "enterprise": "E-B", "kind": "referral",
     "date": "2025-06-06", "basis": "《安全生产法》第一百一十条"},
    {"type": "tip", "ref": "T1", "channel": "hotline_12345", "received_on": "2025-02-01",
     "enterprise": "E-A", "content": "举报", "status": "received"},
    {"type": "tip", "ref": "T2", "channel": "platform", "received_on": "2025-05-01",
     "enterprise": "E-B", "content": "举报", "status": "received"},
    {"type": "alert", "ref": "A1", "kind": "warning", "issued_at": "2025-06-01T10:00:00+08:00",
     "title": "暴雨黄色预警", "level": "yellow", "recipients": ["T1", "V2"],
     "valid_until": "2099-12-31T00:00:00+08:00",
     "acks": ["T1@2025-06-01T10:05:00+08:00"]},
    {"type": "rollcall", "ref": "RC1", "held_at": "2025-07-01T10:00:00+08:00",
     "targets": ["T1", "T2"], "responded": ["T1"]},
]  # fmt: skip

DRILL_KEYS = [
    "inspections.total",
    "inspections.enterprises",
    "hazards.found",
    "hazards.general.rectified",
    "hazards.overdue",
    "enforcement.penalties",
    "enforcement.interviews",
    "enforcement.supervision_letters",
    "enforcement.referrals",
    "tips.hotline.received",
    "tips.platform.received",
    "alerts.warnings",
    "rollcall.towns",
]


def load(tmp_path, records, name="data.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return import_file(path, actor=None)


@pytest.fixture
def year(world, tmp_path):
    load(tmp_path, RECORDS)
    # Tips get their handling deadline when assigned; T2's has passed.
    Tip.objects.filter(channel="platform").update(deadline=D(2025, 5, 20))
    return world


def records_count(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


# -- who may see what ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/stats/", "/stats/records/inspections.total/"])
def test_district_staff_see_any_area(year, login, path):
    for user in (year.leader, year.inspector, year.duty, year.legal, year.admin):
        client = login(user)
        for query in ("", "?region=T1", "?region=V2", "?region=630103"):
            assert client.get(path + query).status_code == 200, (user.role, query)


@pytest.mark.parametrize("path", ["/stats/", "/stats/records/inspections.total/"])
def test_an_officer_sees_their_own_area_only(year, login, path):
    client = login(year.town_officer)
    assert client.get(path).status_code == 200
    assert client.get(path + "?region=T1").status_code == 200
    assert client.get(path + "?region=V1").status_code == 200  # inside their town
    assert client.get(path + "?region=T2").status_code == 404
    assert client.get(path + "?region=V2").status_code == 404
    assert client.get(path + "?region=630103").status_code == 404
    client = login(year.village_officer)
    assert client.get(path).status_code == 200
    assert client.get(path + "?region=T1").status_code == 404
    assert client.get(path + "?region=T2").status_code == 404


@pytest.mark.parametrize("path", ["/stats/", "/stats/records/inspections.total/"])
def test_enterprises_and_experts_may_not(year, login, client, path):
    for user in (year.ent_user_a, year.ent_user_b, year.expert):
        assert login(user).get(path).status_code == 403, user.role
    client.logout()
    assert client.get(path).status_code == 302


def test_an_unknown_region_is_not_there(year, login):
    assert login(year.leader).get("/stats/?region=NOPE").status_code == 404


def test_the_area_picker_is_locked_for_an_officer(year, login):
    ctx = login(year.town_officer).get("/stats/").context
    assert ctx["area_locked"] is True
    assert [r.ref for r in ctx["areas"]] == ["T1"]
    assert ctx["sel"].region == year.town1
    ctx = login(year.leader).get("/stats/").context
    assert ctx["area_locked"] is False
    assert {r.ref for r in ctx["areas"]} == {"T1", "T2", "V1", "V2"}


# -- the figures -----------------------------------------------------------------------------
@pytest.mark.parametrize("region", [None, "T1", "V2"])
def test_the_cards_show_what_compute_gives(year, login, region):
    query = PERIOD + (f"&region={region}" if region else "")
    response = login(year.leader).get(f"/stats/?{query}")
    area = figures.find_region(region) if region else None
    expected = figures.compute(START, END, area)
    earlier = figures.compute(D(2024, 1, 1), D(2024, 12, 31), area)
    cards = response.context["cards"]
    assert {c["key"] for c in cards} == {key for key, _target in views.CARDS}
    html = response.content.decode()
    for card in cards:
        assert card["raw"] == expected[card["key"]], card["key"]
        assert f'data-key="{card["key"]}"' in html
        assert card["value"] in html
        if card["change"] is not None:
            assert card["change"]["before"] == views._display(card["key"], earlier[card["key"]])
    # The data moved on from 2024: inspections 1 → 3 (district), up 200 %.
    if region is None:
        change = next(c for c in cards if c["key"] == "inspections.total")["change"]
        assert change == {"direction": "up", "text": "200.0%", "before": "1"}


def test_the_change_is_in_points_for_a_rate_and_from_zero_for_a_new_figure():
    with translation.override("en"):
        assert views._change("hazards.general.rectification_rate", "50.00", "100.00") == {
            "direction": "down",
            "text": "50.00 pts",
            "before": "100.00%",
        }
        assert views._change("enforcement.penalties", 2, 0)["text"] == "from 0"
        assert views._change("enforcement.penalties", 0, 0)["direction"] == "same"
        assert views._change("alerts.acknowledged_rate", None, "80.00") is None


def test_a_year_picks_the_whole_year_and_this_year_runs_to_today(year, login):
    client = login(year.leader)
    sel = client.get("/stats/?year=2025").context["sel"]
    assert (sel.start, sel.end) == (START, END)
    today = timezone.localdate()
    sel = client.get("/stats/").context["sel"]
    assert (sel.start, sel.end) == (D(today.year, 1, 1), today)
    # The dates win over the year.
    sel = client.get("/stats/?year=2024&start=2025-03-01&end=2025-03-31").context["sel"]
    assert (sel.start, sel.end) == (D(2025, 3, 1), D(2025, 3, 31))


@pytest.mark.parametrize(
    "query, field",
    [
        ("start=2025-05-01&end=2025-04-01", "end"),
        ("start=2025-05-01", "end"),
        ("end=2025-05-01", "start"),
        ("start=2025-13-01&end=2025-12-31", "start"),
    ],
)
def test_a_bad_period_says_which_field_is_wrong(year, login, query, field):
    client = login(year.leader)
    response = client.get(f"/stats/?{query}")
    assert response.status_code == 200
    assert field in response.context["form"].errors
    response = client.get(f"/stats/records/inspections.total/?{query}")
    assert response.status_code == 400
    assert field in response.context["form"].errors


# -- drill-down ------------------------------------------------------------------------------
@pytest.mark.parametrize("region", [None, "T1", "V2"])
def test_each_drill_down_lists_exactly_what_the_figure_counts(year, login, region):
    client = login(year.leader)
    area = figures.find_region(region) if region else None
    expected = figures.compute(START, END, area)
    suffix = f"&region={region}" if region else ""
    for key in DRILL_KEYS:
        url = f"/stats/records/{key}/?{PERIOD}{suffix}"
        assert records_count(client, url) == expected[key], key
    if region is None:  # the data gives every one of these something to list
        assert all(expected[key] > 0 for key in DRILL_KEYS), expected


def test_every_card_link_opens_the_records_it_counts(year, login):
    client = login(year.leader)
    cards = client.get(f"/stats/?{PERIOD}&region=T1").context["cards"]
    linked = 0
    for card in cards:
        url, key = card["url"], card["key"]
        if url and url.startswith("/stats/records/"):
            query = parse_qs(urlsplit(url).query)
            assert query == {"start": ["2025-01-01"], "end": ["2025-12-31"], "region": ["T1"]}
            target = dict(views.CARDS)[key]
            if target == key:
                assert records_count(client, url) == card["raw"], key
                linked += 1
        for part in card["parts"]:
            assert records_count(client, part["url"]) == part["value"], part["label"]
    assert linked >= 8


def test_an_officer_drills_down_inside_their_town(year, login):
    client = login(year.town_officer)
    town = figures.compute(START, END, year.town1)
    for key in ("inspections.total", "hazards.found", "tips.hotline.received"):
        assert records_count(client, f"/stats/records/{key}/?{PERIOD}") == town[key], key
    assert town["inspections.total"] == 2  # I1 I2, not E-B's I3
    assert client.get(f"/stats/records/hazards.found/?{PERIOD}&region=T2").status_code == 404


def test_figures_without_records_have_no_list(year, login):
    client = login(year.leader)
    for key in ("hazards.general.rectification_rate", "enforcement.penalties.amount", "nope"):
        assert client.get(f"/stats/records/{key}/?{PERIOD}").status_code == 404


def test_the_list_shows_each_record_with_a_link_to_its_page(year, login):
    client = login(year.leader)
    for key in DRILL_KEYS:  # every record type has its columns
        response = client.get(f"/stats/records/{key}/?{PERIOD}")
        assert len(response.context["headings"]) > 1, key
        assert all(
            len(cells) == len(response.context["headings"])
            for _l, cells in response.context["rows"]
        )
    response = client.get(f"/stats/records/hazards.found/?{PERIOD}")
    links = {link for link, _cells in response.context["rows"]}
    assert links == {h.get_absolute_url() for h in figures.records("hazards.found", START, END)}
    response = client.get(f"/stats/records/enforcement.penalties/?{PERIOD}")
    [(link, cells)] = response.context["rows"]
    assert link.startswith("/enforcement/") and "1000.00" in [str(c) for c in cells]


def test_chart_points_open_the_records_of_their_bucket(year, login):
    client = login(year.leader)
    charts = client.get(f"/stats/?{PERIOD}").context["charts"]
    for by, chart in charts.items():
        values = figures.series(
            [s[0] for s in getattr(views, f"{by.upper()}_SERIES")], START, END, by=by
        )
        opened = 0
        for series in chart["spec"]["series"]:
            key = next(k for k in values if figures.LABELS[k] == series["name"])
            assert series["data"] == list(values[key].values())
            for value, url in zip(series["data"], series["links"], strict=True):
                if value:
                    assert records_count(client, url) == value, (by, key, url)
                    opened += 1
        assert opened >= 2, by
    # March holds I2 and I3; the link narrows the period to the month.
    march = charts["month"]["spec"]["series"][0]["links"][2]
    assert parse_qs(urlsplit(march).query)["start"] == ["2025-03-01"]
    assert parse_qs(urlsplit(march).query)["end"] == ["2025-03-31"]


def test_the_charts_data_is_json_and_the_numbers_are_in_tables_too(year, login):
    response = login(year.leader).get(f"/stats/?{PERIOD}")
    html = response.content.decode()
    for name, chart in response.context["charts"].items():
        assert f'id="dash-data-{name}" type="application/json"' in html
        for row in chart["rows"]:
            for value, url in row["cells"]:
                if url:
                    assert f'href="{url.replace("&", "&amp;")}">{value}</a>' in html
    assert "vendor/echarts-5.6.0.min.js" in html
    assert "stats/dashboard.js" in html


def test_a_sector_slice_needs_a_known_sector_and_an_enterprise_figure(year, login):
    client = login(year.leader)
    assert client.get(f"/stats/records/hazards.found/?{PERIOD}&sector=mining").status_code == 404
    url = f"/stats/records/alerts.warnings/?{PERIOD}&sector=industrial_trade"
    assert client.get(url).status_code == 404


def test_the_ledger_buttons_carry_the_period_and_area(year, login):
    client = login(year.leader)
    ledgers = client.get(f"/stats/?{PERIOD}&region=T1").context["ledgers"]
    assert [urlsplit(url).path for _label, url in ledgers] == [
        f"/stats/ledgers/{name}.xlsx" for name in ledger.LEDGERS
    ]
    for _label, url in ledgers:
        assert parse_qs(urlsplit(url).query) == {
            "start": ["2025-01-01"],
            "end": ["2025-12-31"],
            "region": ["T1"],
        }
    response = client.get(ledgers[0][1])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# -- needs action today -----------------------------------------------------------------------
def test_what_needs_action_today_stays_in_the_area(year, login):
    ctx = login(year.leader).get("/stats/").context["action"]
    assert ctx["hazards_count"] == 2  # H2 (E-B) and H3 (E-A)
    assert ctx["tips_count"] == 1  # T2
    assert ctx["alerts_count"] == 1  # A1: V2 has not answered
    assert [a.waiting for a in ctx["alerts"]] == [1]
    assert ctx["hazards_board"] == "/hazards/overdue/"
    ctx = login(year.town_officer).get("/stats/").context["action"]
    assert ctx["hazards_count"] == 1  # H3 only
    assert ctx["tips_count"] == 0  # T2 is about E-B in T2
    assert ctx["alerts_count"] == 0  # T1 acknowledged A1
    ctx = login(year.leader).get("/stats/?region=V2").context["action"]
    assert (ctx["hazards_count"], ctx["tips_count"], ctx["alerts_count"]) == (1, 1, 1)


def test_each_action_panel_shows_to_whoever_may_follow_it_up(year, login):
    panels = ("dash-overdue-hazards", "dash-overdue-tips", "dash-waiting-alerts")
    for user, shown in [
        (year.leader, panels),
        (year.duty, panels[1:]),  # the duty officer does not follow up hazards
        (year.village_officer, panels),
    ]:
        html = login(user).get("/stats/").content.decode()
        assert [p for p in panels if f'id="{p}"' in html] == list(shown), user.role


# -- queries --------------------------------------------------------------------------------
def _more(tmp_path, n: int, tag: str):
    rows = []
    for i in range(n):
        ent = "E-A" if i % 2 else "E-B"
        rows.append(insp(f"I{tag}{i}", ent, f"2025-{i % 12 + 1:02d}-15"))
        rows.append(haz(f"H{tag}{i}", ent, f"2025-{i % 12 + 1:02d}-15", deadline="2025-12-31"))
    load(tmp_path, rows, f"{tag}.jsonl")


def test_the_records_list_issues_the_same_queries_for_few_and_many(year, login, tmp_path):
    client = login(year.leader)
    url = f"/stats/records/hazards.found/?{PERIOD}"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _more(tmp_path, 80, "x")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["page"].paginator.count == 83
    # session, user, the count, the page of hazards with their enterprises
    assert len(few) == len(many)


def test_the_dashboard_issues_the_same_queries_for_few_and_many(year, login, tmp_path):
    client = login(year.leader)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/stats/?{PERIOD}").status_code == 200
    _more(tmp_path, 40, "y")
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/stats/?{PERIOD}").status_code == 200
    assert len(few) == len(many)
    # A year: compute() twice (one aggregate per source table, ~13), series by month
    # (12 months × 3 tables), by town (2 × 2), by sector (6 × 2), what needs action (6),
    # the area names, session and user: under a hundred, whatever the number of rows.
    assert len(many) < 100


# -- the home page ---------------------------------------------------------------------------
@time_machine.travel(datetime.datetime(2025, 12, 31, 12, tzinfo=datetime.UTC), tick=False)
def test_the_dashboard_is_the_home_of_whoever_may_see_figures(year, login):
    assert views.home_panel in HOME_PANELS
    response = login(year.leader).get("/")
    names = [t.name for t in response.templates]
    assert "stats/dashboard_panel.html" in names
    assert "enterprises/_home_panel.html" in names  # the other panels stay
    html = response.content.decode()
    assert 'data-chart="dash-data-month"' in html
    assert html.index("dash-home") < html.index("enterprises/?sector=")
    # This year to date, in the whole district.
    cards = {c["key"]: c["raw"] for c in response.context["cards"]}
    assert cards["inspections.total"] == figures.compute(START, END)["inspections.total"] == 3
    response = login(year.town_officer).get("/")
    assert "stats/dashboard_panel.html" in [t.name for t in response.templates]
    response = login(year.ent_user_a).get("/")
    assert response.status_code == 200
    assert "stats/dashboard_panel.html" not in [t.name for t in response.templates]
