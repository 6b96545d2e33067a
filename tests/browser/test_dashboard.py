"""The dashboard in a real browser: the leader's home page draws the charts (ECharts, served
from our own static files), a key figure opens the list of the records it counts, and a bar
of the monthly chart opens that month's records.

The data is this year's and last year's (the home page shows this year to date), written as
interchange records. Elements are found by id, class and data-* attributes."""

import datetime
import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

import yingji.alerts.interchange  # noqa: F401  (registers `alert`)
from tests.browser.conftest import sign_in
from yingji.core.interchange import import_file
from yingji.stats import figures

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _records(today: datetime.date) -> list[dict]:
    last_year = today.replace(year=today.year - 1, day=min(today.day, 28))
    rows = []
    for i, (ent, day) in enumerate(
        [("E-A", today), ("E-A", today), ("E-B", today), ("E-B", last_year)]
    ):
        rows.append(
            {
                "type": "inspection",
                "ref": f"I{i}",
                "enterprise": ent,
                "date": day.isoformat(),
                "mode": "routine",
            }  # fmt: skip
        )
    for i, (ent, level) in enumerate([("E-A", "general"), ("E-B", "major"), ("E-B", "general")]):
        rows.append(
            {
                "type": "hazard",
                "ref": f"H{i}",
                "enterprise": ent,
                "found_on": today.isoformat(),
                "level": level,
                "status": "open",
                "description": "消防通道堵塞",
            }  # fmt: skip
        )
    issued = timezone.localtime().replace(microsecond=0) - datetime.timedelta(minutes=5)
    rows.append(
        {
            "type": "alert",
            "ref": "A1",
            "kind": "warning",
            "issued_at": issued.isoformat(),
            "title": "暴雨黄色预警",
            "level": "yellow",
            "recipients": ["T1", "V2"],
            "valid_until": (issued + datetime.timedelta(hours=12)).isoformat(),
        }  # fmt: skip
    )
    return rows


@pytest.fixture
def data(bworld, tmp_path):
    path = tmp_path / "dashboard.jsonl"
    rows = _records(timezone.localdate())
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    import_file(path, actor=None)
    return bworld


def chart_drawn(page, chart_id: str) -> None:
    expect(page.locator(f"#{chart_id} canvas").first).to_be_visible()
    expect(page.locator(f"#{chart_id}")).to_have_attribute("data-drawn", "1")
    # Once drawn, the chart's table of numbers folds away.
    card = page.locator(f".dash-chart-card:has(#{chart_id})")
    expect(card.locator("details.dash-data")).not_to_have_attribute("open", "")


def test_the_leader_checks_a_figure_from_the_home_page(data, page):
    today = timezone.localdate()
    expected = figures.compute(today.replace(month=1, day=1), today)
    sign_in(page, data.leader.username)
    for chart in ("dash-chart-month", "dash-chart-town", "dash-chart-sector"):
        chart_drawn(page, chart)
    page.shot("home")

    card = page.locator('.dash-card[data-key="inspections.total"]')
    value = card.locator("a.dash-value")
    expect(value).to_have_text(str(expected["inspections.total"]))
    assert expected["inspections.total"] == 3
    with page.expect_navigation():
        value.click()
    assert "/stats/records/inspections.total/" in page.url
    expect(page.locator(".dash-total")).to_have_attribute("data-count", "3")
    expect(page.locator("#dash-records tbody tr")).to_have_count(3)
    page.shot("records")

    # What needs action: A1 waits for both units.
    page.goto(page.url_for("/stats/"))
    expect(page.locator("#dash-waiting-alerts .dash-count")).to_have_text("1")
    expect(page.locator("#dash-waiting-alerts li a")).to_have_text("暴雨黄色预警")

    # A bar of the monthly chart (this month's hazards) opens that month's hazards.
    chart_drawn(page, "dash-chart-month")
    page.locator("#dash-chart-month").scroll_into_view_if_needed()
    x, y = page.evaluate(
        """() => {
            const el = document.getElementById('dash-chart-month');
            const chart = echarts.getInstanceByDom(el);
            const option = chart.getOption();
            const index = option.xAxis[0].data.length - 1;
            const bar = chart.getModel().getSeriesByIndex(1).getData().getItemLayout(index);
            const box = el.getBoundingClientRect();
            return [box.left + bar.x + bar.width / 2, box.top + bar.y + bar.height / 2];
        }"""
    )
    with page.expect_navigation():
        page.mouse.click(x, y)
    assert re.search(r"/stats/records/hazards\.found/\?start=\d{4}-\d\d-01&end=", page.url)
    expect(page.locator(".dash-total")).to_have_attribute("data-count", "3")
    page.shot("month-bar")


@pytest.mark.parametrize("viewport", [PHONE])
def test_the_dashboard_fits_a_phone(data, page):
    sign_in(page, data.town_officer.username)
    page.goto(page.url_for("/stats/"))
    chart_drawn(page, "dash-chart-month")
    # A town officer's area is fixed: their own town.
    expect(page.locator("select#dash-region")).to_be_disabled()
    expect(page.locator('.dash-card[data-key="inspections.total"] a.dash-value')).to_have_text("2")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px): {wide}"
    page.shot("phone")
