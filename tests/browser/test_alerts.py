"""A red warning to three towns, acknowledged (叫应), escalated (叫醒), and watched live.

The duty officer writes a red rainstorm warning from its template (the form fills in by htmx)
to three towns and issues it; being red, it waits for a leader, who approves it. Two towns
acknowledge through the one-tap links of their messages, each opened on a phone in a fresh
browser (no account, no cookie). The third does not answer: when its ten minutes are up (the
test runs the escalation sweep at that time) its head is called, and the duty officer's
board, never reloaded, shows the town escalated and then, once the head taps the link, all
three acknowledged.

Elements are found by name, id and data-* attributes; the few texts checked are the test's
own inputs, so nothing depends on the translation catalogue."""

import datetime
import re
import shutil
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import sign_in, submit

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/shots")
POLL_MS = 12_000  # the board polls every 5 s: two rounds and some slack
HEADLINE = "城中区气象台发布暴雨红色预警"
INSTRUCTIONS = "立即转移山洪沟道、低洼地带群众，停止一切户外作业。"


def town_units(bworld):
    """Three towns (the test world's two and a third), each a unit with a three-rung ladder;
    the villages have no unit, so the warning reaches exactly the three towns."""
    from yingji.alerts.models import Contact, Unit
    from yingji.core.models import Region

    town3 = Region.objects.create(
        ref="T3", name="南川东路街道", level="town", parent=bworld.district
    )
    units = {}
    for n, town in enumerate((bworld.town1, bworld.town2, town3), start=1):
        unit = Unit.objects.create(name=town.name, kind=Unit.Kind.REGION, region=town)
        for position, role in enumerate(("duty", "head", "deputy"), start=1):
            Contact.objects.create(
                unit=unit,
                position=position,
                role=role,
                name=f"{town.name}{role}",
                email=f"t{n}-{role}@example.test",
            )
        units[town.ref] = unit
    return units


def keep(page, name: str) -> None:
    """A numbered screenshot in the test's artifacts, copied to /tmp/shots/ to look at."""
    page.shot(name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"alerts-{name}.png", full_page=True)


def board_row(page, unit):
    return page.locator(f"#alert-board tr[data-unit='{unit.name}']")


def tap_link(open_page, persona: str, token: str, shot: str = ""):
    """Open a one-tap link on a phone, as the SMS or email would, and tap the button."""
    phone = open_page(persona, PHONE)
    phone.goto(phone.url_for(reverse("alerts-ack-link", args=[token])))
    expect(phone.locator("h1")).to_have_text(HEADLINE)
    assert phone.locator("form[action$='/logout/']").count() == 0  # nobody signed in
    button = phone.locator("button[data-action=ack]")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 56, f"the button is small on a phone: {box}"
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    if shot:
        keep(phone, f"{shot}-before")
    with phone.expect_navigation():
        button.tap()
    expect(phone.locator("[data-ack=done]")).to_be_visible()
    if shot:
        keep(phone, f"{shot}-after")
    return phone


def test_red_warning_to_three_towns_escalates_and_is_acknowledged(bworld, open_page):
    from yingji.alerts import services
    from yingji.alerts.models import Alert, AlertTemplate, Call

    shutil.rmtree(SHOTS, ignore_errors=True)
    units = town_units(bworld)
    template = AlertTemplate.objects.create(
        name="暴雨红色预警",
        hazard_type="rainstorm",
        level="red",
        headline=HEADLINE,
        body="过去3小时全区降雨量已达100毫米以上，预计强降雨将持续。",
        instructions=INSTRUCTIONS,
        valid_hours=12,
    )

    # -- the duty officer: template, area, issue ---------------------------------------------------
    duty = sign_in(open_page("duty"), bworld.duty.username)
    duty.goto(duty.url_for(reverse("alerts-new")))
    form = duty.locator("#alert-form")
    with duty.expect_response(lambda r: "/alerts/new/" in r.url and "template=" in r.url):
        form.locator("select[name=template]").select_option(str(template.pk))
    form = duty.locator("#alert-form")
    expect(form.locator("input[name=headline]")).to_have_value(HEADLINE)
    expect(form.locator("select[name=level]")).to_have_value("red")
    expect(form.locator("textarea[name=instructions]")).to_have_value(INSTRUCTIONS)
    for unit in units.values():
        form.locator(f"input[name=regions][value='{unit.region_id}']").check()
    # Ticking a town greys out its villages: the town covers them.
    village = form.locator(f"input[name=regions][value='{bworld.village1.pk}']")
    expect(village).to_be_disabled()
    expect(village).to_be_checked()
    keep(duty, "form")
    submit(duty, form.locator("button[data-action=issue]"))
    alert = Alert.objects.get()
    assert alert.status == Alert.Status.PENDING_APPROVAL and alert.template == template
    assert sorted(alert.regions.values_list("ref", flat=True)) == ["T1", "T2", "T3"]
    expect(duty.locator("#alert-status")).to_have_attribute("data-status", "pending_approval")
    expect(duty.locator("button[data-action=approve]")).to_have_count(0)

    # -- a leader approves ------------------------------------------------------------------------
    leader = sign_in(open_page("leader"), bworld.leader.username)
    leader.goto(leader.url_for(reverse("alerts-detail", args=[alert.pk])))
    submit(leader, leader.locator("button[data-action=approve]"))
    expect(leader.locator("#alert-status")).to_have_attribute("data-status", "issued")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ISSUED and alert.approved_by == bworld.leader

    # -- the board, live --------------------------------------------------------------------------
    duty.goto(duty.url_for(reverse("alerts-detail", args=[alert.pk])))
    expect(duty.locator("#alert-board")).to_have_attribute("data-live", "1")
    expect(duty.locator("#count-units .n")).to_have_text("3")
    expect(duty.locator("#count-acknowledged .n")).to_have_text("0")
    for unit in units.values():
        expect(board_row(duty, unit)).to_have_count(1)
    duty.evaluate("window.__not_reloaded = true")  # gone if the page ever reloads

    def token(unit, step=0) -> str:
        return Call.objects.get(recipient__alert=alert, recipient__unit=unit, step=step).token

    # -- two towns acknowledge through their links, on phones -------------------------------------
    tap_link(open_page, "town1", token(units["T1"]), shot="ack")
    tap_link(open_page, "town2", token(units["T2"]))
    expect(board_row(duty, units["T1"])).to_have_attribute(
        "data-state", "acknowledged", timeout=POLL_MS
    )
    expect(board_row(duty, units["T2"])).to_have_attribute(
        "data-state", "acknowledged", timeout=POLL_MS
    )
    expect(duty.locator("#count-acknowledged .n")).to_have_text("2", timeout=POLL_MS)

    # -- the third town's ten minutes run out: its head is called (叫醒) ---------------------------
    stepped = services.escalate_due(timezone.now() + datetime.timedelta(minutes=11))
    assert stepped == 1
    third = board_row(duty, units["T3"])
    expect(third).to_have_attribute("data-state", "escalated", timeout=POLL_MS)
    expect(third).to_have_class(re.compile(r"board-unanswered"))
    expect(third).to_contain_text(f"{units['T3'].name}head")
    expect(duty.locator("#count-escalated .n")).to_have_text("1")
    expect(duty.locator("#count-unanswered .n")).to_have_text("1")
    keep(duty, "board-escalated")

    # -- the head taps the link; the board shows all three acknowledged ---------------------------
    tap_link(open_page, "town3-head", token(units["T3"], step=1))
    expect(third).to_have_attribute("data-state", "acknowledged", timeout=POLL_MS)
    expect(duty.locator("#count-acknowledged .n")).to_have_text("3", timeout=POLL_MS)
    expect(duty.locator("#count-unanswered .n")).to_have_text("0")
    expect(third).to_contain_text(f"{units['T3'].name}head")  # who answered
    assert duty.evaluate("window.__not_reloaded === true"), "the board page was reloaded"
    keep(duty, "board-all-acknowledged")

    # A second tap on a link says it was already acknowledged, and by whom.
    again = open_page("town1-again", PHONE)
    again.goto(again.url_for(reverse("alerts-ack-link", args=[token(units["T1"])])))
    expect(again.locator("[data-ack=already]")).to_contain_text(f"{units['T1'].name}duty")
    expect(again.locator("button[data-action=ack]")).to_have_count(0)
    keep(again, "ack-already")
    assert alert.recipients.filter(state="acknowledged").count() == 3


def test_an_officer_acknowledges_on_a_phone_from_the_to_acknowledge_list(bworld, open_page):
    """The village officer signs in on a phone: the home page lists the warning, the list's
    button acknowledges in place (htmx), and the duty office's pages show it."""
    from yingji.alerts import services
    from yingji.alerts.models import Contact, Unit
    from yingji.alerts.tests.helpers_web import issued

    for region in (bworld.town2, bworld.village2):
        unit = Unit.objects.create(name=region.name, kind=Unit.Kind.REGION, region=region)
        Contact.objects.create(unit=unit, name=f"{region.ref}-duty", email=f"{region.ref}@x.test")
    Contact.objects.filter(unit__region=bworld.village2).update(user=bworld.village_officer)
    alert = issued(bworld, regions=[bworld.town2], headline=HEADLINE)

    officer = sign_in(open_page("village", PHONE), bworld.village_officer.username)
    panel = officer.locator(".alert-home")
    expect(panel).to_contain_text(HEADLINE)
    with officer.expect_navigation():
        panel.locator(f"a[href='{reverse('alerts-mine')}']").tap()
    row = officer.locator(".alert-mine-row")
    expect(row).to_have_count(1)
    keep(officer, "mine")
    officer.evaluate("window.__not_reloaded = true")
    with officer.expect_response(lambda r: r.request.method == "POST"):
        row.locator("button[data-action=ack]").tap()
    expect(officer.locator(".alert-mine-row [data-ack=done]")).to_be_visible()
    assert officer.evaluate("window.__not_reloaded === true"), "the list was reloaded"
    keep(officer, "mine-done")
    r = alert.recipients.get(unit__region=bworld.village2)
    assert (r.state, r.ack_method, r.ack_user) == ("acknowledged", "app", bworld.village_officer)

    duty = sign_in(open_page("duty"), bworld.duty.username)
    duty.goto(duty.url_for(reverse("alerts-list")))
    expect(duty.locator(f"#alert-table tr[data-alert='{alert.pk}']")).to_contain_text("1 / 2")
    keep(duty, "list")
    services.escalate_due(timezone.now() + datetime.timedelta(minutes=31))
    duty.goto(duty.url_for(reverse("alerts-units")))
    keep(duty, "units")
    unit = Unit.objects.get(region=bworld.town2)
    duty.goto(duty.url_for(reverse("alerts-unit", args=[unit.pk])))
    keep(duty, "unit")
    duty.goto(duty.url_for(reverse("alerts-detail", args=[alert.pk])))
    expect(duty.locator(f"#alert-board tr[data-unit='{unit.name}']")).to_have_attribute(
        "data-state", "escalated"
    )
