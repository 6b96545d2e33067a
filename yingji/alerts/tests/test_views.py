"""The alert pages: writing and issuing, the live board, the one-tap link, the officers'
to-acknowledge list, statistics per unit; bad input and query counts."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import override

from yingji.alerts import services
from yingji.alerts.models import Alert, AlertTemplate, Recipient, Unit
from yingji.alerts.tests.helpers_web import (
    count_queries,
    draft,
    first_call,
    issued,
    later,
    more_villages,
    recipient,
    state,
)
from yingji.core.models import Notification


def form_data(world, **change) -> dict:
    data = {
        "kind": "warning",
        "hazard_type": "rainstorm",
        "level": "yellow",
        "headline": "暴雨黄色预警",
        "body": "预计未来6小时降雨量达50毫米以上",
        "instructions": "加强巡查",
        "public": "on",
        "regions": [world.town1.pk, world.town2.pk],
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def template(db):
    return AlertTemplate.objects.create(
        name="暴雨红色预警",
        hazard_type="rainstorm",
        level="red",
        headline="暴雨红色预警",
        body="过去3小时降雨量已达100毫米以上，且降雨将持续。",
        instructions="立即转移危险区域群众，停止户外作业。",
        valid_hours=12,
    )


# -- writing and issuing --------------------------------------------------------------------------
def test_choosing_a_template_fills_the_form_and_keeps_the_area(world, units, login, template):
    client = login(world.duty)
    response = client.get(
        "/alerts/new/",
        {"template": template.pk, "regions": [world.town2.pk], "headline": "typed"},
        HTTP_HX_REQUEST="true",
    )
    form = response.context["form"]
    assert form["headline"].value() == template.headline
    assert form["level"].value() == "red"
    assert form["instructions"].value() == template.instructions
    until = form["valid_until"].value() - form["valid_from"].value()
    assert until == datetime.timedelta(hours=12)
    assert [str(v) for v in form["regions"].value()] == [str(world.town2.pk)]
    page = response.content.decode()
    assert f'value="{world.town2.pk}" id="id_regions_' in page and "checked" in page


def test_an_unknown_template_leaves_the_form_empty(world, units, login, template):
    client = login(world.duty)
    for value in ("abc", "999999", ""):
        response = client.get("/alerts/new/", {"template": value})
        assert response.status_code == 200 and response.context["form"]["headline"].value() is None
    template.active = False
    template.save()
    response = client.get("/alerts/new/", {"template": template.pk})
    assert response.context["form"]["headline"].value() is None


def test_a_yellow_warning_is_issued_from_the_form_at_once(world, units, login):
    client = login(world.duty)
    response = client.post("/alerts/new/", {**form_data(world), "then": "issue"})
    alert = Alert.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/alerts/{alert.pk}/"
    assert alert.status == "issued" and alert.created_by == world.duty
    # Two towns chosen: their villages are covered too.
    assert set(alert.recipients.values_list("unit__region__ref", flat=True)) == {
        "T1",
        "T2",
        "V1",
        "V2",
    }


def test_a_red_warning_waits_for_a_leader_who_approves_it(world, units, login, template):
    client = login(world.duty)
    data = form_data(world, level="red", template=template.pk, then="issue")
    client.post("/alerts/new/", data)
    alert = Alert.objects.get()
    assert alert.status == "pending_approval" and not alert.recipients.exists()
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert 'data-action="approve"' not in page
    client = login(world.leader)
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert 'data-action="approve"' in page and 'data-action="reject"' in page
    response = client.post(f"/alerts/{alert.pk}/approve/")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.approved_by) == ("issued", world.leader)
    assert alert.recipients.count() == 4


def test_a_draft_is_saved_then_edited_then_issued(world, units, login):
    client = login(world.duty)
    client.post("/alerts/new/", {**form_data(world, regions=[world.town1.pk]), "then": "save"})
    alert = Alert.objects.get()
    assert alert.status == "draft"
    response = client.get(f"/alerts/{alert.pk}/edit/")
    assert [int(v) for v in response.context["form"]["regions"].value()] == [world.town1.pk]
    client.post(
        f"/alerts/{alert.pk}/edit/",
        {**form_data(world, headline="暴雨黄色预警（更正）", regions=[world.village2.pk])},
    )
    alert.refresh_from_db()
    assert alert.headline == "暴雨黄色预警（更正）"
    assert list(alert.regions.values_list("ref", flat=True)) == ["V2"]
    client.post(f"/alerts/{alert.pk}/issue/")
    alert.refresh_from_db()
    assert alert.status == "issued"
    assert list(alert.recipients.values_list("unit__region__ref", flat=True)) == ["V2"]
    # Issued: no longer editable.
    response = client.post(f"/alerts/{alert.pk}/edit/", form_data(world))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.headline == "暴雨黄色预警（更正）"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"headline": ""}, "headline"),
        ({"level": ""}, "level"),  # a warning needs its level (the service's rule)
        ({"level": "purple"}, "level"),
        ({"kind": "rumour"}, "kind"),
        ({"regions": []}, "regions"),  # nobody to alert
        ({"regions": [999999]}, "regions"),
        ({"valid_from": "2030-01-02T10:00", "valid_until": "2030-01-02T09:00"}, "valid_until"),
        ({"valid_until": "2020-01-01T00:00"}, "valid_until"),  # already over
        ({"valid_from": "yesterday"}, "valid_from"),
        ({"sectors": ["mining"]}, "sectors"),
    ],
)
@pytest.mark.parametrize("then", ["save", "issue"])
def test_bad_input_is_refused_field_by_field_and_changes_nothing(
    world, units, login, change, field, then
):
    client = login(world.duty)
    before = state()
    with override("en"):
        response = client.post("/alerts/new/", {**form_data(world, **change), "then": then})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert f'data-field="{field}"' in response.content.decode()
    assert state() == before


def test_issuing_an_area_without_units_saves_no_draft_either(world, login):
    """Both or neither: the draft is not kept when issuing it is refused."""
    client = login(world.duty)
    before = state()
    response = client.post("/alerts/new/", {**form_data(world), "then": "issue"})
    assert response.status_code == 200 and "regions" in response.context["form"].errors
    assert state() == before


# -- the board ------------------------------------------------------------------------------------
def test_the_board_shows_each_units_state_and_channel_results(world, units, login):
    alert = issued(world)
    # T1 answers its link, V2's officer in the app, T2 by phone; V1 does not answer.
    Client().post(f"/alerts/a/{first_call(alert, units['T1']).token}/")
    services.acknowledge_in_app(recipient(alert, units["V2"]), by=world.village_officer)
    failed = Notification.objects.filter(channel="email", address="").first() or (
        Notification.objects.filter(channel="email").first()
    )
    Notification.objects.filter(pk=failed.pk).update(
        status="failed", attempts=5, last_error="SMTP 550 mailbox unavailable"
    )
    client = login(world.duty)
    response = client.post(
        f"/alerts/{alert.pk}/phone/",
        {"recipient": recipient(alert, units["T2"]).pk, "name": "T2-head", "note": "镇长已部署"},
    )
    assert response.status_code == 302
    services.escalate_due(later(31))
    response = client.get(f"/alerts/{alert.pk}/board/")
    ctx = response.context
    assert ctx["counts"] == {"units": 4, "acknowledged": 3, "escalated": 1, "unanswered": 1}
    rows = {row["r"].unit.region.ref: row for row in ctx["rows"]}
    assert {ref: row["r"].state for ref, row in rows.items()} == {
        "T1": "acknowledged",
        "T2": "acknowledged",
        "V1": "escalated",
        "V2": "acknowledged",
    }
    assert (rows["T1"]["r"].ack_method, rows["T1"]["who"]) == ("link", "T1-duty")
    assert (rows["T2"]["r"].ack_method, rows["T2"]["who"]) == ("phone", "T2-head")
    assert rows["T2"]["r"].ack_note == "镇长已部署"
    assert rows["V2"]["r"].ack_method == "app" and rows["V2"]["r"].ack_user == world.village_officer
    assert [c.name for c in rows["V1"]["escalated_to"]] == ["V1-head"]
    page = response.content.decode()
    assert 'data-unit="南关社区" data-state="escalated"' in page
    assert "board-unanswered" in page  # V1's row is marked
    assert 'data-status="failed"' in page and "SMTP 550 mailbox unavailable" in page
    assert 'hx-trigger="every 5s"' in page  # still live


def test_the_board_stops_polling_once_the_alert_is_lifted(world, units, login):
    alert = issued(world)
    client = login(world.duty)
    client.post(f"/alerts/{alert.pk}/lift/")
    alert.refresh_from_db()
    assert alert.status == "lifted"
    page = client.get(f"/alerts/{alert.pk}/board/").content.decode()
    assert "hx-trigger" not in page and 'data-live="0"' in page


def test_a_town_officer_sees_only_the_units_of_their_area_on_the_board(world, units, login):
    alert = issued(world)
    response = login(world.town_officer).get(f"/alerts/{alert.pk}/board/")
    refs = sorted(row["r"].unit.region.ref for row in response.context["rows"])
    assert refs == ["T1", "V1"]
    assert "总寨镇" not in response.content.decode()


def test_the_board_takes_the_same_queries_for_few_and_many_units(world, units, login):
    client = login(world.duty)
    small = issued(world, regions=[world.town2])  # T2 and V2
    more_villages(world, units, 12)
    big = issued(world, regions=[world.town1])  # T1, V1 and twelve villages
    services.escalate_due(later(31))
    url = "/alerts/{}/board/"
    client.get(url.format(small.pk))  # warm up the session
    few = count_queries(lambda: client.get(url.format(small.pk)))
    many = count_queries(lambda: client.get(url.format(big.pk)))
    assert big.recipients.count() == 14
    # session, user, unread count, the alert, recipients, calls, dispatches (+ outbox rows)
    assert few == many


def test_the_phone_form_needs_who_answered_and_changes_nothing_without(world, units, login):
    alert = issued(world)
    client = login(world.duty)
    before = state()
    response = client.post(
        f"/alerts/{alert.pk}/phone/", {"recipient": recipient(alert, units["T2"]).pk, "name": ""}
    )
    assert response.status_code == 422
    assert "name" in response.context["forms"]["phone"].errors
    response = client.post(f"/alerts/{alert.pk}/phone/", {"recipient": 999999, "name": "张三"})
    assert "recipient" in response.context["forms"]["phone"].errors
    assert state() == before


def test_a_second_phone_acknowledgement_changes_nothing(world, units, login):
    alert = issued(world)
    client = login(world.duty)
    r = recipient(alert, units["T2"])
    client.post(f"/alerts/{alert.pk}/phone/", {"recipient": r.pk, "name": "T2-duty"})
    # The unit answered; it is no longer offered in the form, and posting it is refused.
    response = client.post(f"/alerts/{alert.pk}/phone/", {"recipient": r.pk, "name": "别人"})
    assert "recipient" in response.context["forms"]["phone"].errors
    r.refresh_from_db()
    assert r.ack_name == "T2-duty"


def test_reject_needs_a_reason(world, units, login):
    alert = services.issue(draft(world, level="orange"), by=world.duty)
    client = login(world.leader)
    response = client.post(f"/alerts/{alert.pk}/reject/", {"reason": ""})
    assert response.status_code == 422 and "reason" in response.context["forms"]["reject"].errors
    alert.refresh_from_db()
    assert alert.status == "pending_approval"
    client.post(f"/alerts/{alert.pk}/reject/", {"reason": "范围不准确，请补充村社"})
    alert.refresh_from_db()
    assert alert.status == "draft"


def test_a_refused_act_says_why(world, units, login):
    alert = issued(world)
    client = login(world.duty)
    response = client.post(f"/alerts/{alert.pk}/cancel/", follow=True)
    alert.refresh_from_db()
    assert alert.status == "issued"
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_the_detail_page_shows_the_history(world, units, login):
    alert = issued(world)
    response = login(world.leader).get(f"/alerts/{alert.pk}/")
    assert response.status_code == 200
    assert len(response.context["history"]) >= 2  # written, issued
    assert 'id="history"' in response.content.decode()


# -- the one-tap link -----------------------------------------------------------------------------
def test_the_link_shows_the_alert_and_a_get_does_not_acknowledge(world, units):
    alert = issued(world, level="yellow")
    call = first_call(alert, units["V1"])
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.get(f"/alerts/a/{call.token}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert alert.headline in page and alert.instructions in page and "南关社区" in page
    assert "alert-ack-yellow" in page and 'data-action="ack"' in page
    assert response["Cache-Control"].startswith("max-age=0")
    visitor.head(f"/alerts/a/{call.token}/")
    assert recipient(alert, units["V1"]).acknowledged_at is None


def test_one_tap_acknowledges_without_a_session_and_a_second_tap_says_by_whom(world, units):
    alert = issued(world)
    call = first_call(alert, units["V1"])
    # A phone's browser with no cookie at all (no session, no CSRF cookie) still works.
    response = Client(enforce_csrf_checks=True).post(f"/alerts/a/{call.token}/")
    assert response.status_code == 200 and response.context["just_now"]
    r = recipient(alert, units["V1"])
    assert (r.state, r.ack_method, r.ack_name) == ("acknowledged", "link", "V1-duty")
    assert 'data-ack="done"' in response.content.decode()
    again = Client().post(f"/alerts/a/{call.token}/")
    assert again.context["already"] and not again.context["just_now"]
    assert 'data-ack="already"' in again.content.decode() and "V1-duty" in again.content.decode()
    assert recipient(alert, units["V1"]).acknowledged_at == r.acknowledged_at
    # Anyone else called for the unit later sees it answered.
    services.escalate_due(later(120))
    page = Client().get(f"/alerts/a/{first_call(alert, units['T2']).token}/").content.decode()
    assert 'data-ack="done"' not in page


def test_an_unknown_token_is_not_found(world, units):
    issued(world)
    assert Client().get("/alerts/a/not-a-token/").status_code == 404
    assert Client().post("/alerts/a/not-a-token/").status_code == 404


def test_the_link_of_a_lifted_alert_still_acknowledges(world, units):
    alert = issued(world)
    services.lift(alert, by=world.duty)
    Client().post(f"/alerts/a/{first_call(alert, units['T2']).token}/")
    assert recipient(alert, units["T2"]).state == "acknowledged"


# -- to acknowledge -------------------------------------------------------------------------------
def test_an_officer_acknowledges_from_the_list_with_htmx(world, units, login):
    alert = issued(world)
    client = login(world.village_officer)
    page = client.get("/alerts/mine/")
    rows = list(page.context["page"])
    assert [r.unit.region.ref for r in rows] == ["V2"]
    home = client.get("/").content.decode()
    assert 'class="card alert-home"' in home and f"/alerts/{alert.pk}/" in home
    response = client.post(
        f"/alerts/{alert.pk}/ack/", {"recipient": rows[0].pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'data-ack="done"' in response.content.decode()
    r = recipient(alert, units["V2"])
    assert (r.state, r.ack_method, r.ack_user) == ("acknowledged", "app", world.village_officer)
    assert list(client.get("/alerts/mine/").context["page"]) == []
    assert "alert-home" not in client.get("/").content.decode()  # the panel is gone


def test_an_officer_cannot_acknowledge_for_a_unit_outside_their_area(world, units, login):
    alert = issued(world)
    client = login(world.village_officer)
    before = state()
    t1 = recipient(alert, units["T1"])
    assert client.post(f"/alerts/{alert.pk}/ack/", {"recipient": t1.pk}).status_code == 404
    assert client.post(f"/alerts/{alert.pk}/ack/", {"recipient": "x"}).status_code == 404
    assert state() == before


def test_the_detail_page_offers_the_officer_their_own_units(world, units, login):
    alert = issued(world)
    response = login(world.town_officer).get(f"/alerts/{alert.pk}/")
    assert [r.unit.region.ref for r in response.context["mine"]] == ["T1"]
    response = login(world.town_officer).post(
        f"/alerts/{alert.pk}/ack/", {"recipient": recipient(alert, units["T1"]).pk}
    )
    assert response.status_code == 302 and response["Location"] == f"/alerts/{alert.pk}/"
    assert recipient(alert, units["T1"]).ack_method == "app"


# -- the list -------------------------------------------------------------------------------------
def test_the_list_filters(world, units, login):
    yellow = issued(world)
    red = draft(world, level="red", headline="暴雨红色预警")
    bulletin = services.create_draft(
        by=world.duty, kind="bulletin", headline="防灾减灾提示", regions=[world.town1]
    )
    client = login(world.duty)

    def listed(**params):
        return [a.pk for a in client.get("/alerts/", params).context["page"]]

    assert set(listed()) == {yellow.pk, red.pk, bulletin.pk}
    assert listed(level="red") == [red.pk]
    assert listed(kind="bulletin") == [bulletin.pk]
    assert listed(status="issued") == [yellow.pk]
    assert set(listed(hazard_type="rainstorm")) == {yellow.pk, red.pk}
    today = timezone.localdate()
    assert set(listed(start=today.isoformat(), end=today.isoformat())) == {
        yellow.pk,
        red.pk,
        bulletin.pk,
    }
    assert listed(end=(today - datetime.timedelta(days=1)).isoformat()) == []
    assert listed(level="purple") == []
    rows = {a.pk: a for a in client.get("/alerts/").context["page"]}
    assert (rows[yellow.pk].n_units, rows[yellow.pk].n_acked) == (4, 0)


def test_the_list_takes_the_same_queries_for_few_and_many_alerts(world, units, login):
    client = login(world.duty)
    issued(world)
    client.get("/alerts/")
    few = count_queries(lambda: client.get("/alerts/"))
    for i in range(8):
        issued(world, headline=f"预警{i}", regions=[world.town1, world.village2])
    many = count_queries(lambda: client.get("/alerts/"))
    # session, user, unread count, page count, the page's alerts, their regions
    assert few == many


# -- units and statistics -------------------------------------------------------------------------
def test_the_units_page_counts_contacts_and_robots(world, units, login):
    from yingji.alerts import units as unit_services

    unit_services.update_unit(
        units["T2"],
        by=world.duty,
        robot_kind="dingtalk",
        robot_url="https://oapi.dingtalk.com/robot/send?access_token=abc",
    )
    response = login(world.duty).get("/alerts/units/")
    rows = {u.name: u for u in response.context["page"]}
    assert rows["总寨镇"].n_contacts == 3 and rows["总寨镇"].robot_url
    assert "access_token" not in response.content.decode()
    page = login(world.duty).get(f"/alerts/units/{units['T2'].pk}/").content.decode()
    assert "access_token" not in page


def test_the_units_list_takes_the_same_queries_for_few_and_many(world, units, login):
    client = login(world.duty)
    client.get("/alerts/units/")
    few = count_queries(lambda: client.get("/alerts/units/"))
    more_villages(world, units, 10)
    assert few == count_queries(lambda: client.get("/alerts/units/"))


def test_the_statistics_give_rate_and_median_per_unit(world, units, login):
    alert = issued(world)
    services.acknowledge_in_app(recipient(alert, units["V2"]), by=world.village_officer)
    today = timezone.localdate().isoformat()
    response = login(world.duty).get("/alerts/units/stats/", {"start": today, "end": today})
    rows = {unit.region.ref: fig for unit, fig in response.context["rows"]}
    assert set(rows) == {"T1", "T2", "V1", "V2"}
    assert (rows["V2"]["acknowledged"], rows["V2"]["rate"]) == (1, "100.00")
    assert (rows["T1"]["acknowledged"], rows["T1"]["rate"]) == (0, "0.00")
    assert rows["T1"]["median_minutes"] is None and rows["V2"]["median_minutes"] is not None
    # A town officer gets their own area's units only.
    response = login(world.town_officer).get("/alerts/units/stats/", {"start": today, "end": today})
    assert sorted(u.region.ref for u, _f in response.context["rows"]) == ["T1", "V1"]
    # A period before the alert has none of it; a reversed period is refused.
    response = login(world.duty).get(
        "/alerts/units/stats/", {"start": "2020-01-01", "end": "2020-12-31"}
    )
    assert response.context["rows"] == []
    response = login(world.duty).get(
        "/alerts/units/stats/", {"start": "2020-12-31", "end": "2020-01-01"}
    )
    assert response.status_code == 422 and "end" in response.context["form"].errors


def test_recipient_state_names_match_the_board_classes():
    """The board colours rows by state: every state has its class in the stylesheet."""
    from pathlib import Path

    css = (Path(__file__).parents[2] / "static" / "yingji" / "app.css").read_text()
    for value in ("acknowledged", "escalated", "unanswered"):
        assert f".board-state-{value}" in css
    assert set(Recipient.State.values) >= {"acknowledged", "escalated", "unanswered"}
    assert Unit.Kind.REGION == "region"
