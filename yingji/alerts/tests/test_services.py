"""Writing, approving, issuing, lifting an alert; who receives it; acknowledgement (叫应)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from yingji.alerts import services
from yingji.alerts.models import Alert, AlertTemplate, Call, Contact, Dispatch, Recipient, Unit
from yingji.core.models import AuditEntry, Notification, Region, WebhookDelivery

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = datetime.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # the bureau's language, which messages are written in
    with translation.override("en"):
        yield


def minutes(n: float) -> datetime.timedelta:
    return datetime.timedelta(minutes=n)


def draft(world, *, by=None, regions=("T1",), **fields) -> Alert:
    values = {
        "kind": "warning",
        "hazard_type": "rainstorm",
        "level": "blue",
        "headline": "城中区气象台发布暴雨蓝色预警",
        "body": "预计未来12小时降雨量将达50毫米以上。",
        "instructions": "请做好防范。",
        "regions": regions,
    }
    values.update(fields)
    return services.create_draft(by=by or world.duty, **values)


def issued(world, **fields) -> Alert:
    alert = draft(world, **fields)
    return services.issue(alert, by=world.duty)


def audit_actions(obj) -> list[tuple[str, str]]:
    return list(
        AuditEntry.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))
        .order_by("seq")
        .values_list("action", "note")
    )


def state_of_everything() -> tuple:
    """What a refused act must leave as it was."""
    return (
        list(Alert.objects.order_by("pk").values()),
        Recipient.objects.count(),
        Call.objects.count(),
        Dispatch.objects.count(),
        Notification.objects.count(),
        WebhookDelivery.objects.count(),
        AuditEntry.objects.count(),
        DBTaskResult.objects.count(),
    )


# -- drafts ------------------------------------------------------------------------------------
def test_a_draft_keeps_its_area_and_sends_nothing(world, units):
    alert = draft(world, regions=("T1", world.village2.pk))
    assert alert.status == "draft" and alert.created_by == world.duty
    assert {r.ref for r in alert.regions.all()} == {"T1", "V2"}
    assert not Recipient.objects.exists() and not Notification.objects.exists()
    assert audit_actions(alert) == [("create", "area: 人民街街道、谢家寨村")]


def test_regions_are_found_by_reference_code_or_object(world, units):
    alert = draft(world, regions=["630103"])  # the district's administrative code
    assert list(alert.regions.all()) == [world.district]
    alert = draft(world, regions=[world.town2])
    assert list(alert.regions.all()) == [world.town2]


FAULTS = {
    "empty target": ({"regions": ()}, "regions"),
    "unknown region": ({"regions": ("T1", "NOWHERE")}, "regions"),
    "expired validity": (
        {"valid_until": datetime.datetime(2020, 1, 1, tzinfo=SHANGHAI)},
        "valid_until",
    ),
    "validity ends before it starts": (
        {
            "valid_from": datetime.datetime(2030, 1, 2, tzinfo=SHANGHAI),
            "valid_until": datetime.datetime(2030, 1, 1, tzinfo=SHANGHAI),
        },
        "valid_until",
    ),
    "warning without a level": ({"level": ""}, "level"),
    "unknown level": ({"level": "purple"}, "level"),
    "unknown kind": ({"kind": "rumour"}, "kind"),
    "unknown hazard": ({"hazard_type": "meteor"}, "hazard_type"),
    "blank headline": ({"headline": "   "}, "headline"),
    "unknown sector": ({"sectors": ["mining"]}, "sectors"),
    "unknown unit": ({"extra_units": [999999]}, "extra_units"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_bad_input_is_refused_field_by_field_and_nothing_is_written(world, units, fault):
    fields, field = FAULTS[fault]
    before = state_of_everything()
    with pytest.raises(ValidationError) as caught:
        draft(world, **fields)
    assert field in caught.value.message_dict
    assert caught.value.message_dict[field][0]
    assert state_of_everything() == before


def test_every_fault_is_named_at_once(world, units):
    with pytest.raises(ValidationError) as caught:
        draft(world, regions=("NOWHERE",), level="", headline="")
    assert {"regions", "level", "headline"} <= set(caught.value.message_dict)


def test_an_inactive_unit_is_refused_as_an_extra_recipient(world, units):
    units["T2"].active = False
    units["T2"].save()
    with pytest.raises(ValidationError) as caught:
        draft(world, extra_units=[units["T2"]])
    assert "extra_units" in caught.value.message_dict
    assert not Alert.objects.exists()


def test_the_same_source_identifier_is_refused_with_a_field_message(world, units):
    draft(world, source="cap", source_id="urn:oid:2.49.0.1.156.0.2025.07.01.001")
    with pytest.raises(ValidationError) as caught:
        draft(world, source="cap", source_id="urn:oid:2.49.0.1.156.0.2025.07.01.001")
    assert "source_id" in caught.value.message_dict
    assert Alert.objects.count() == 1


@pytest.mark.parametrize("who", ["inspector", "legal", "town", "village", "ent_a", "expert"])
def test_only_duty_officers_leaders_and_admins_write_alerts(world, units, who):
    with pytest.raises(PermissionDenied):
        draft(world, by=world.users[who])
    assert not Alert.objects.exists()


@pytest.mark.parametrize("who", ["duty", "leader", "admin"])
def test_the_roles_that_issue_may_write(world, units, who):
    assert draft(world, by=world.users[who]).created_by == world.users[who]


def test_a_draft_is_changed_only_while_it_is_a_draft(world, units):
    alert = draft(world)
    alert = services.update_draft(alert, by=world.duty, headline="暴雨黄色预警", level="yellow")
    alert = services.update_draft(alert, by=world.duty, regions=["V2"])
    assert (alert.headline, alert.level) == ("暴雨黄色预警", "yellow")
    assert [r.ref for r in alert.regions.all()] == ["V2"]
    assert [a for a, _ in audit_actions(alert)] == ["create", "update", "update"]
    with pytest.raises(ValidationError):
        services.update_draft(alert, by=world.duty, regions=["NOWHERE"])
    assert [r.ref for r in alert.regions.all()] == ["V2"]
    services.issue(alert, by=world.duty)
    with pytest.raises(ValidationError) as caught:
        services.update_draft(alert, by=world.duty, headline="改")
    assert "status" in caught.value.message_dict
    alert.refresh_from_db()
    assert alert.headline == "暴雨黄色预警"
    with pytest.raises(PermissionDenied):
        services.update_draft(alert, by=world.inspector, headline="改")


# -- templates ---------------------------------------------------------------------------------
def test_a_template_makes_a_draft_of_the_chosen_area(world, units):
    template = AlertTemplate.objects.create(
        name="暴雨橙色预警",
        hazard_type="rainstorm",
        level="orange",
        headline="城中区暴雨橙色预警",
        body="3小时内降雨量将达50毫米以上",
        instructions="停止户外作业",
        valid_hours=12,
    )
    with time_machine.travel(T0, tick=False):
        alert = services.from_template(template, by=world.duty, regions=["T2"])
    assert (alert.status, alert.template, alert.level, alert.headline) == (
        "draft",
        template,
        "orange",
        "城中区暴雨橙色预警",
    )
    assert (alert.valid_from, alert.valid_until) == (T0, T0 + datetime.timedelta(hours=12))
    assert [r.ref for r in alert.regions.all()] == ["T2"]
    other = services.from_template(template, by=world.duty, regions=["T1"], level="red")
    assert other.level == "red"
    template.active = False
    template.save()
    with pytest.raises(ValidationError) as caught:
        services.from_template(template, by=world.duty, regions=["T1"])
    assert "template" in caught.value.message_dict
    assert Alert.objects.count() == 2


# -- recipients --------------------------------------------------------------------------------
def enterprise_unit(enterprise) -> Unit:
    unit = Unit.objects.create(name=enterprise.name, kind="enterprise", enterprise=enterprise)
    Contact.objects.create(unit=unit, name="安全员", phone="13900000001")
    return unit


def names(alert) -> set[str]:
    return {u.name for u in services.recipients_for(alert)}


def test_a_town_covers_its_villages_and_the_district_everything(world, units):
    t1, v1, t2, v2 = (units[k].name for k in ("T1", "V1", "T2", "V2"))
    assert names(draft(world, regions=["T1"])) == {t1, v1}
    assert names(draft(world, regions=["V2"])) == {v2}
    assert names(draft(world, regions=["630103"])) == {t1, v1, t2, v2}
    assert names(draft(world, regions=["V1", "T2"])) == {v1, t2, v2}


def test_extra_units_and_the_enterprises_of_a_sector_inside_the_area(world, units):
    team = Unit.objects.create(name="城中区应急救援队", kind="team")
    chem = enterprise_unit(world.ent_b)  # hazardous chemicals, in V2
    trade = enterprise_unit(world.ent_a)  # industry and trade, in V1
    alert = draft(world, regions=["T1"], extra_units=[team.pk], sectors=["hazardous_chemicals"])
    assert names(alert) == {units["T1"].name, units["V1"].name, team.name}  # ent_b is in T2
    alert = draft(world, regions=["T2"], sectors="industrial_trade,hazardous_chemicals")
    assert names(alert) == {units["T2"].name, units["V2"].name, chem.name}
    # Without an area: the sector's enterprises across the district, and no town or village.
    alert = draft(world, regions=(), sectors=["industrial_trade"])
    assert names(alert) == {trade.name}


def test_inactive_units_and_closed_enterprises_are_not_alerted(world, units):
    chem = enterprise_unit(world.ent_b)
    units["V2"].active = False
    units["V2"].save()
    alert = draft(world, regions=["T2"], sectors=["hazardous_chemicals"])
    assert names(alert) == {units["T2"].name, chem.name}
    world.ent_b.status = "closed"
    world.ent_b.save()
    assert names(alert) == {units["T2"].name}


# -- issue -------------------------------------------------------------------------------------
def test_issuing_calls_the_first_contact_of_every_unit_on_every_channel(world, units, settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    with time_machine.travel(T0, tick=False):
        alert = issued(world, regions=["T1"])
    assert (alert.status, alert.issued_at, alert.issued_by) == ("issued", T0, world.duty)
    assert alert.approved_by is None  # blue needs no approval
    deadline = T0 + minutes(settings.ALERT_ESCALATION_MINUTES["blue"])
    rows = {r.unit.region.ref: r for r in alert.recipients.select_related("unit__region")}
    assert set(rows) == {"T1", "V1"}
    # T1's duty contact has an account: the in-app message is there at once.
    assert (rows["T1"].state, rows["T1"].delivered_at) == ("delivered", T0)
    assert (rows["V1"].state, rows["V1"].delivered_at) == ("pending", None)
    for row in rows.values():
        assert (row.step, row.next_escalation_at, row.acknowledged_at) == (0, deadline, None)
        call = row.calls.get()
        assert (call.contact.role, call.step, call.at) == ("duty", 0, T0)
        assert len(call.token) >= 32
    by_channel = {
        (d.recipient.unit.region.ref, d.channel): d
        for d in Dispatch.objects.select_related("recipient__unit__region")
    }
    assert set(by_channel) == {
        ("T1", "inapp"),
        ("T1", "sms"),
        ("T1", "email"),
        ("V1", "sms"),
        ("V1", "email"),
    }
    inapp = by_channel["T1", "inapp"].notification
    assert (inapp.recipient, inapp.status, inapp.link) == (
        world.town_officer,
        "sent",
        alert.get_absolute_url(),
    )
    sms = by_channel["V1", "sms"].webhook
    v1_duty = units["V1"].contacts.get(role="duty")
    assert (sms.url, sms.purpose, sms.status) == ("http://127.0.0.1:9/sms", "sms", "pending")
    assert sms.payload["to"] == v1_duty.phone
    assert services.ack_url(rows["V1"].calls.get()) in sms.payload["text"]
    email = by_channel["V1", "email"].notification
    assert (email.address, email.status) == (v1_duty.email, "pending")
    assert audit_actions(alert)[-1] == ("update", "issued to 2 units")
    # The sweep waits for the first deadline; the outbox has its wake-up.
    sweeps = DBTaskResult.objects.filter(task_path=services.escalate_alerts.module_path)
    assert list(sweeps.values_list("status", "run_after")) == [("READY", deadline)]
    assert DBTaskResult.objects.filter(task_path__endswith="deliver_outbox").exists()


def test_the_ack_link_is_the_site_address_of_the_route(world, units, settings):
    settings.SITE_URL = "https://yj.example.test"
    alert = issued(world, regions=["V2"])
    call = Call.objects.get(recipient__alert=alert)
    url = services.ack_url(call)
    assert url == services.ack_url(call.token)
    assert url.startswith("https://yj.example.test/") and url.endswith(f"/{call.token}/")
    match = resolve(url.removeprefix("https://yj.example.test"))
    assert (match.url_name, match.kwargs) == ("alerts-ack-link", {"token": call.token})


def test_issue_refusals_change_nothing(world, units):
    with time_machine.travel(T0, tick=False):
        alert = draft(world, valid_until=T0 + minutes(30))
    before = state_of_everything()
    with time_machine.travel(T0 + minutes(31), tick=False), pytest.raises(ValidationError) as e:
        services.issue(alert, by=world.duty)
    assert "valid_until" in e.value.message_dict
    assert state_of_everything() == before
    # An area with no unit in it (a town not set up for alerts).
    Region.objects.create(ref="T3", name="彭家寨镇", level="town", parent=world.district)
    empty = draft(world, regions=["T3"])
    before = state_of_everything()
    with pytest.raises(ValidationError) as e:
        services.issue(empty, by=world.duty)
    assert "regions" in e.value.message_dict
    assert state_of_everything() == before
    # Twice.
    done = services.issue(draft(world), by=world.duty)
    before = state_of_everything()
    with pytest.raises(ValidationError) as e:
        services.issue(done, by=world.duty)
    assert "status" in e.value.message_dict
    assert state_of_everything() == before
    with pytest.raises(PermissionDenied):
        services.issue(draft(world), by=world.inspector)


def test_issue_makes_the_same_number_of_queries_for_few_and_many_units(world, units, settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    team_units = []
    for n in range(8):
        unit = Unit.objects.create(
            name=f"救援队{n}", kind="team", robot_kind="wecom", robot_url="http://127.0.0.1:9/r"
        )
        for position in (1, 2, 3):
            Contact.objects.create(
                unit=unit, position=position, name=f"队员{n}-{position}", phone="13900000000"
            )
        team_units.append(unit)

    def queries(extra) -> int:
        alert = draft(world, regions=["630103"], extra_units=extra)
        DBTaskResult.objects.all().delete()  # each issue finds the queue empty
        with CaptureQueriesContext(connection) as ctx:
            services.issue(alert, by=world.duty)
        return len(ctx.captured_queries)

    few, many = queries(team_units[:1]), queries(team_units)
    assert few == many
    assert Recipient.objects.count() == 5 + 12


# -- approval ----------------------------------------------------------------------------------
def test_an_orange_warning_waits_for_a_leader_and_is_issued_on_approval(world, units):
    alert = services.issue(draft(world, level="orange"), by=world.duty)
    assert alert.status == "pending_approval" and alert.issued_at is None
    assert not Recipient.objects.exists()
    asked = Notification.objects.filter(recipient=world.leader, channel="inapp").get()
    assert alert.headline in asked.subject and asked.link == alert.get_absolute_url()
    for who in ("duty", "admin", "inspector", "town"):
        with pytest.raises(PermissionDenied):
            services.approve(alert, by=world.users[who])
    alert.refresh_from_db()
    assert alert.status == "pending_approval"
    with time_machine.travel(T0, tick=False):
        alert = services.approve(alert, by=world.leader)
    assert (alert.status, alert.approved_by, alert.approved_at, alert.issued_at) == (
        "issued",
        world.leader,
        T0,
        T0,
    )
    assert alert.recipients.count() == 2
    assert [a for a, _ in audit_actions(alert)] == ["create", "update", "update"]
    release = AuditEntry.objects.filter(target_id=str(alert.pk), action="update").last()
    assert release.before["approved_by_id"] is None
    assert release.after["approved_by_id"] == world.leader.pk
    assert release.before["status"] == "pending_approval" and release.after["status"] == "issued"
    with pytest.raises(ValidationError):
        services.approve(alert, by=world.leader)


def test_approval_levels_are_a_setting(world, units, settings):
    settings.ALERT_APPROVAL_LEVELS = ["red"]
    assert services.issue(draft(world, level="orange"), by=world.duty).status == "issued"
    assert services.issue(draft(world, level="red"), by=world.duty).status == "pending_approval"


def test_a_leader_issuing_a_red_warning_approves_it(world, units):
    alert = services.issue(draft(world, by=world.leader, level="red"), by=world.leader)
    assert (alert.status, alert.approved_by) == ("issued", world.leader)


def test_forwarded_weather_items_need_no_approval_whatever_their_level(world, units):
    alert = services.issue(draft(world, kind="weather_forward", level="red"), by=world.duty)
    assert alert.status == "issued"


def test_a_rejected_warning_goes_back_to_its_writer_with_the_reason(world, units):
    alert = services.issue(draft(world, level="red"), by=world.duty)
    before = state_of_everything()
    with pytest.raises(ValidationError) as caught:
        services.reject(alert, by=world.leader, reason="  ")
    assert "reason" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.reject(alert, by=world.duty, reason="自己驳回")
    assert state_of_everything() == before
    alert = services.reject(alert, by=world.leader, reason="影响范围写错了")
    assert alert.status == "draft"
    assert audit_actions(alert)[-1] == ("update", "sent back: 影响范围写错了")
    told = Notification.objects.get(recipient=world.duty, channel="inapp")
    assert told.body == "影响范围写错了"
    # Corrected and submitted again.
    alert = services.update_draft(alert, by=world.duty, regions=["T2"])
    assert services.issue(alert, by=world.duty).status == "pending_approval"


def test_an_alert_approved_after_its_validity_ended_is_refused(world, units):
    with time_machine.travel(T0, tick=False):
        alert = services.issue(
            draft(world, level="red", valid_until=T0 + minutes(60)), by=world.duty
        )
    before = state_of_everything()
    with time_machine.travel(T0 + minutes(61), tick=False), pytest.raises(ValidationError) as e:
        services.approve(alert, by=world.leader)
    assert "valid_until" in e.value.message_dict
    assert state_of_everything() == before


def test_drafts_and_pending_warnings_can_be_cancelled_issued_ones_cannot(world, units):
    alert = services.cancel(draft(world), by=world.duty)
    assert alert.status == "cancelled"
    pending = services.issue(draft(world, level="red"), by=world.duty)
    assert services.cancel(pending, by=world.duty).status == "cancelled"
    done = issued(world)
    with pytest.raises(ValidationError):
        services.cancel(done, by=world.duty)
    with pytest.raises(PermissionDenied):
        services.cancel(draft(world), by=world.town_officer)
    done.refresh_from_db()
    assert done.status == "issued"


# -- acknowledgement ---------------------------------------------------------------------------
def recipient(alert, ref) -> Recipient:
    return alert.recipients.get(unit__region__ref=ref)


def test_the_first_acknowledgement_wins_and_later_ones_change_nothing(world, units):
    with time_machine.travel(T0, tick=False):
        alert = issued(world, regions=["V1"])
    row = recipient(alert, "V1")
    token = row.calls.get().token
    with time_machine.travel(T0 + minutes(7), tick=False):
        answered = services.acknowledge_token(token)
    assert answered.pk == row.pk
    row.refresh_from_db()
    duty = units["V1"].contacts.get(role="duty")
    assert (row.state, row.acknowledged_at, row.ack_method, row.ack_contact, row.ack_user) == (
        "acknowledged",
        T0 + minutes(7),
        "link",
        duty,
        None,
    )
    assert (row.ack_name, row.next_escalation_at) == (duty.name, None)
    snapshot = list(Recipient.objects.values())
    audits = AuditEntry.objects.count()
    with time_machine.travel(T0 + minutes(9), tick=False):
        assert services.record_phone_ack(row, by=world.duty, name="V1-head") is False
        assert services.acknowledge(row, method="import") is False
        services.acknowledge_token(token)
    assert list(Recipient.objects.values()) == snapshot
    assert AuditEntry.objects.count() == audits
    assert audit_actions(row) == [("update", "acknowledged (link)")]


def test_an_unknown_token_is_not_found(world, units):
    issued(world)
    with pytest.raises(Recipient.DoesNotExist):
        services.acknowledge_token("no-such-token")
    assert not Recipient.objects.filter(acknowledged_at__isnull=False).exists()


def test_contacts_and_their_own_officers_acknowledge_in_the_app(world, units):
    alert = issued(world, regions=["630103"])
    t1, v2, v1 = recipient(alert, "T1"), recipient(alert, "V2"), recipient(alert, "V1")
    before = state_of_everything()
    # Not their unit: a town officer does not answer for a village, nor staff for anyone.
    for who, row in (
        ("town", v1),
        ("village", t1),
        ("village", v1),
        ("leader", t1),
        ("inspector", v2),
        ("ent_a", v1),
    ):
        with pytest.raises(PermissionDenied):
            services.acknowledge_in_app(row, by=world.users[who])
    assert state_of_everything() == before
    assert services.acknowledge_in_app(t1, by=world.town_officer) is True
    t1.refresh_from_db()
    assert (t1.ack_method, t1.ack_user, t1.ack_contact.role) == ("app", world.town_officer, "duty")
    # An officer of the village who is not on its contact list answers for their own region.
    other = services_user(world, "village1", "village_officer", world.village1)
    assert services.acknowledge_in_app(v1, by=other) is True
    v1.refresh_from_db()
    assert (v1.ack_user, v1.ack_contact) == (other, None)


def services_user(world, username, role, region=None):
    from yingji.core.services import create_user

    return create_user(
        by=None, username=username, password="x-long-password", role=role, region=region
    )


def test_the_duty_officer_records_an_answer_by_phone(world, units):
    alert = issued(world, regions=["V1"])
    row = recipient(alert, "V1")
    for who in ("inspector", "town", "admin"):
        with pytest.raises(PermissionDenied):
            services.record_phone_ack(row, by=world.users[who], name="V1-head")
    with pytest.raises(ValidationError) as caught:
        services.record_phone_ack(row, by=world.duty, name=" ")
    assert "name" in caught.value.message_dict
    row.refresh_from_db()
    assert row.acknowledged_at is None
    assert services.record_phone_ack(row, by=world.duty, name="V1-head", note="已组织转移") is True
    row.refresh_from_db()
    assert (row.ack_method, row.ack_user, row.ack_name, row.ack_note) == (
        "phone",
        world.duty,
        "V1-head",
        "已组织转移",
    )
    assert row.ack_contact == units["V1"].contacts.get(role="head")


def test_what_each_user_still_has_to_acknowledge(world, units):
    alert = issued(world, regions=["630103"])
    assert [r.unit for r in services.pending_for(world.town_officer)] == [units["T1"]]
    assert [r.unit for r in services.pending_for(world.village_officer)] == [units["V2"]]
    assert list(services.pending_for(world.leader)) == []
    assert list(services.pending_for(world.ent_user_a)) == []
    services.acknowledge_in_app(recipient(alert, "T1"), by=world.town_officer)
    assert list(services.pending_for(world.town_officer)) == []
    services.lift(alert, by=world.duty)
    assert list(services.pending_for(world.village_officer)) == []


# -- lifting -----------------------------------------------------------------------------------
def test_lifting_stops_escalation_and_tells_those_reached(world, units):
    alert = issued(world, regions=["630103"])
    services.acknowledge_in_app(recipient(alert, "T1"), by=world.town_officer)
    Notification.objects.all().delete()
    with pytest.raises(PermissionDenied):
        services.lift(alert, by=world.inspector)
    alert = services.lift(alert, by=world.duty)
    assert (alert.status, alert.lifted_by) == ("lifted", world.duty)
    assert not alert.recipients.filter(next_escalation_at__isnull=False).exists()
    assert audit_actions(alert)[-1] == ("update", "escalation stopped for 3 units")
    told = Notification.objects.filter(channel="inapp").values_list("recipient__username", "link")
    assert sorted(told) == [
        ("town1", alert.get_absolute_url()),
        ("village2", alert.get_absolute_url()),
    ]
    # A late answer still counts; lifting twice does not.
    assert services.acknowledge_in_app(recipient(alert, "V2"), by=world.village_officer)
    with pytest.raises(ValidationError):
        services.lift(alert, by=world.duty)


# -- figures -----------------------------------------------------------------------------------
def test_unit_figures_count_answers_and_the_median_time_to_answer(world, units):
    def alert_at(when, answers: dict):
        with time_machine.travel(when, tick=False):
            alert = issued(world, regions=["630103"])
        for ref, after in answers.items():
            with time_machine.travel(when + after, tick=False):
                services.acknowledge_token(recipient(alert, ref).calls.first().token)
        return alert

    alert_at(T0, {"T1": minutes(4), "V1": minutes(10), "V2": minutes(30)})
    alert_at(T0 + datetime.timedelta(days=1), {"T1": minutes(6), "V1": minutes(20)})
    alert_at(T0 + datetime.timedelta(days=2), {"T1": minutes(11)})
    alert_at(T0 + datetime.timedelta(days=40), {})  # outside the period
    figures = services.unit_figures(datetime.date(2025, 7, 1), datetime.date(2025, 7, 31))
    by_ref = {unit.region.ref: row for unit, row in figures.items()}
    assert by_ref == {
        "T1": {"sent": 3, "acknowledged": 3, "rate": "100.00", "median_minutes": Decimal("6.00")},
        "V1": {"sent": 3, "acknowledged": 2, "rate": "66.67", "median_minutes": Decimal("15.00")},
        "T2": {"sent": 3, "acknowledged": 0, "rate": "0.00", "median_minutes": None},
        "V2": {"sent": 3, "acknowledged": 1, "rate": "33.33", "median_minutes": Decimal("30.00")},
    }
    assert [u.name for u in figures] == sorted(u.name for u in figures)
    # The first day alone; and chosen units, one of which was never alerted.
    idle = Unit.objects.create(name="城中区应急救援队", kind="team")
    figures = services.unit_figures(
        datetime.date(2025, 7, 1), datetime.date(2025, 7, 1), units=[units["T1"], idle]
    )
    assert figures == {
        units["T1"]: {
            "sent": 1,
            "acknowledged": 1,
            "rate": "100.00",
            "median_minutes": Decimal("4.00"),
        },
        idle: {"sent": 0, "acknowledged": 0, "rate": None, "median_minutes": None},
    }


# -- admin -------------------------------------------------------------------------------------
def test_templates_and_units_kept_in_the_admin_are_audited(world, client):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    form = {
        "name": "森林火险红色预警",
        "kind": "warning",
        "hazard_type": "forest_fire",
        "level": "red",
        "headline": "森林火险红色预警",
        "valid_hours": "24",
        "public": "on",
        "active": "on",
    }
    assert client.post("/admin/alerts/alerttemplate/add/", form).status_code == 302
    template = AlertTemplate.objects.get()
    form["valid_hours"] = "48"
    url = f"/admin/alerts/alerttemplate/{template.pk}/change/"
    assert client.post(url, form).status_code == 302
    entries = AuditEntry.objects.filter(target_type="alerts.alerttemplate")
    assert list(entries.values_list("action", "actor_name")) == [
        ("create", "admin"),
        ("update", "admin"),
    ]
    assert (entries.last().before["valid_hours"], entries.last().after["valid_hours"]) == (24, 48)
    # A unit with its first contact.
    unit_form = {
        "name": "城中区应急救援队",
        "kind": "team",
        "active": "on",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-position": "1",
        "contacts-0-role": "duty",
        "contacts-0-name": "值班电话",
        "contacts-0-phone": "0971-1234567",
    }
    assert client.post("/admin/alerts/unit/add/", unit_form).status_code == 302
    assert set(AuditEntry.objects.values_list("target_type", "action")) >= {
        ("alerts.unit", "create"),
        ("alerts.contact", "create"),
    }
    # Alerts are browsed, not edited, there.
    alert = draft(world, regions=["630103"])
    assert client.get(f"/admin/alerts/alert/{alert.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/alerts/alert/{alert.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Alert.objects.filter(pk=alert.pk).exists()
