"""叫醒: a unit that has not acknowledged within its level's time has its next contact called,
then those above it, then shows as unanswered — by a sweep in the worker that survives a
restart without losing or repeating a step."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from yingji.alerts import services
from yingji.alerts.models import Call, Contact, Dispatch, Recipient, Unit
from yingji.core.models import AuditEntry, Notification, WebhookDelivery

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = datetime.datetime(2025, 7, 1, 22, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.ALERT_ESCALATION_MINUTES = {
        "red": 10,
        "orange": 20,
        "yellow": 30,
        "blue": 60,
        "none": 45,
    }
    settings.LANGUAGE_CODE = "en"  # the bureau's language, which messages are written in
    with translation.override("en"):
        yield


def at(minutes: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def issue(world, *, regions=("V1",), level="blue", kind="warning", by=None, **fields):
    by = by or world.leader  # a leader's red warning needs no separate approval
    with time_machine.travel(T0, tick=False):
        alert = services.create_draft(
            by=by,
            kind=kind,
            hazard_type="rainstorm" if kind == "warning" else "",
            level=level,
            headline="暴雨预警",
            regions=regions,
            **fields,
        )
        return services.issue(alert, by=by)


def sweep(minutes: float) -> int:
    with time_machine.travel(at(minutes), tick=False):
        return services.escalate_due()


def row(alert, ref: str) -> Recipient:
    return alert.recipients.select_related("unit").get(unit__region__ref=ref)


def called(recipient: Recipient) -> list[tuple[int, str]]:
    """(step, who) of every call of a unit, the group robot's included."""
    return [
        (c.step, c.contact.name if c.contact else c.user.username if c.user else c.name)
        for c in recipient.calls.select_related("contact", "user").order_by("step", "pk")
    ]


def test_a_village_climbs_its_ladder_then_its_town_then_shows_unanswered(world, units):
    alert = issue(world, regions=["V1"])
    v1 = row(alert, "V1")
    assert called(v1) == [(0, "V1-duty")]
    assert sweep(59.9) == 0  # its hour is not over
    assert sweep(60) == 1
    v1.refresh_from_db()
    assert (v1.state, v1.step, v1.escalated_at, v1.next_escalation_at) == (
        "escalated",
        1,
        at(60),
        at(120),
    )
    assert called(v1) == [(0, "V1-duty"), (1, "V1-head")]
    assert sweep(119) == 0
    assert sweep(120) == 1
    assert sweep(180) == 1
    # Above a village: its town's head (T1-head), who acknowledges for it through the link.
    assert called(v1)[-2:] == [(2, "V1-deputy"), (3, "T1-head")]
    v1.refresh_from_db()
    assert (v1.state, v1.step, v1.escalated_at, v1.next_escalation_at) == (
        "escalated",
        3,
        at(60),
        at(240),
    )
    assert sweep(240) == 1
    v1.refresh_from_db()
    assert (v1.state, v1.step, v1.next_escalation_at) == ("unanswered", 3, None)
    assert sweep(10_000) == 0
    assert len(called(v1)) == 4
    # Each step is in the audit log, by the system.
    notes = list(
        AuditEntry.objects.filter(target_type="alerts.recipient", target_id=str(v1.pk))
        .order_by("seq")
        .values_list("actor_name", "note")
    )
    assert notes == [
        ("system", "escalated to step 1"),
        ("system", "escalated to step 2"),
        ("system", "escalated to step 3"),
        ("system", "unanswered: ladder exhausted"),
    ]
    # Unanswered is not final: an answer still counts.
    with time_machine.travel(at(300), tick=False):
        services.acknowledge_token(v1.calls.get(step=3).token)
    v1.refresh_from_db()
    assert (v1.state, v1.acknowledged_at, v1.ack_contact.name) == (
        "acknowledged",
        at(300),
        "T1-head",
    )


def test_above_a_town_are_the_bureau_leaders(world, units):
    alert = issue(world, regions=(), extra_units=[units["T2"]], level="red")
    t2 = row(alert, "T2")
    for minutes in (10, 20, 30):
        assert sweep(minutes) == 1
    assert called(t2) == [(0, "T2-duty"), (1, "T2-head"), (2, "T2-deputy"), (3, "leader")]
    leader_call = t2.calls.get(step=3)
    told = Dispatch.objects.filter(call=leader_call).select_related("notification")
    channels = {d.channel: d.notification for d in told}
    assert set(channels) == {"inapp", "email"}  # the leader has no phone in the test world
    assert channels["inapp"].recipient == world.leader
    assert channels["inapp"].status == "sent"
    assert t2.unit.name in channels["inapp"].body
    assert services.ack_url(leader_call) in channels["inapp"].body
    # The leader finds it among what they have to acknowledge, and answers in the app.
    assert [r.pk for r in services.pending_for(world.leader)] == [t2.pk]
    assert services.acknowledge_in_app(t2, by=world.leader) is True
    t2.refresh_from_db()
    assert (t2.ack_method, t2.ack_user, t2.step) == ("app", world.leader, 3)
    assert sweep(1000) == 0


def test_a_village_whose_town_has_no_head_goes_to_the_leaders(world, units):
    Contact.objects.filter(unit=units["T1"], role="head").update(role="other")
    alert = issue(world, regions=["V1"], level="red")
    for minutes in (10, 20, 30):
        sweep(minutes)
    assert called(row(alert, "V1"))[-1] == (3, "leader")


def test_each_level_has_its_own_time_and_items_without_a_level_use_none(world, units):
    red = issue(world, regions=["V2"], level="red")
    bulletin = issue(world, regions=["V1"], kind="bulletin", level="")
    assert row(red, "V2").next_escalation_at == at(10)
    assert row(bulletin, "V1").next_escalation_at == at(45)
    sweep(44)
    assert (row(red, "V2").step, row(bulletin, "V1").step) == (1, 0)
    assert row(red, "V2").next_escalation_at == at(54)  # a late sweep gives the rung its time
    sweep(45)
    assert row(bulletin, "V1").step == 1


def test_the_first_acknowledgement_stops_the_escalation(world, units):
    alert = issue(world, regions=["T1"])  # T1 and V1
    with time_machine.travel(at(30), tick=False):
        assert services.acknowledge_in_app(row(alert, "T1"), by=world.town_officer)
    assert sweep(60) == 1  # V1 only
    t1 = row(alert, "T1")
    assert (t1.state, t1.step, t1.next_escalation_at) == ("acknowledged", 0, None)
    assert called(t1) == [(0, "T1-duty")]


def test_lifting_the_alert_stops_the_escalation(world, units):
    alert = issue(world, regions=["630103"])
    with time_machine.travel(at(30), tick=False):
        services.lift(alert, by=world.duty)
    calls = Call.objects.count()
    assert sweep(60) == 0
    assert Call.objects.count() == calls
    assert set(alert.recipients.values_list("state", "next_escalation_at")) == {
        ("delivered", None),
        ("pending", None),
    }


def test_nobody_is_woken_for_an_alert_whose_validity_has_ended(world, units):
    alert = issue(world, regions=["V1"], level="red", valid_until=at(25))
    assert sweep(10) == 1
    assert sweep(25) == 0  # its validity ended at 25: no third rung
    v1 = row(alert, "V1")
    assert (v1.state, v1.step, v1.next_escalation_at) == ("escalated", 1, None)
    assert called(v1) == [(0, "V1-duty"), (1, "V1-head")]


def test_a_unit_nobody_can_be_reached_in_goes_up_at_once(world, units):
    """No contact, no robot: its rung 0 is empty, so its time is up on issue."""
    lone = Unit.objects.create(name="城中区应急救援队", kind="team")
    alert = issue(world, regions=(), extra_units=[lone])
    rec = alert.recipients.get()
    assert (rec.step, rec.next_escalation_at) == (0, T0)
    assert sweep(0) == 1
    assert called(rec) == [(1, "leader")]


def test_contacts_without_any_channel_are_passed_over_in_the_same_step(world, units, settings):
    """No SMS gateway: contacts with only a phone cannot be reached, so the step goes on to
    the first one who can be (the town's head has an email)."""
    settings.SMS_GATEWAY_URL = ""
    Contact.objects.filter(unit=units["V1"], role__in=["head", "deputy"]).update(email="")
    alert = issue(world, regions=["V1"])
    v1 = row(alert, "V1")
    assert sweep(60) == 1
    v1.refresh_from_db()
    assert (v1.state, v1.step) == ("escalated", 3)
    # The contacts passed over are on record as called, without a message.
    assert called(v1) == [(0, "V1-duty"), (1, "V1-head"), (2, "V1-deputy"), (3, "T1-head")]
    assert not Dispatch.objects.filter(call__step__in=(1, 2)).exists()
    assert Dispatch.objects.filter(call__step=3).count() == 1


def test_a_crash_in_the_middle_of_a_sweep_loses_nothing_and_repeats_nothing(
    world, units, monkeypatch, settings
):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    issue(world, regions=["630103"])
    due = list(Recipient.objects.order_by("next_escalation_at", "pk").values_list("pk", flat=True))
    assert len(due) == 4
    real_save = services._save
    saved = []

    def crash_on_the_third(out, **kwargs):
        # The third unit's calls and messages are written, then the worker dies before its
        # step commits.
        waiting = real_save(out, **kwargs)
        saved.append(out)
        if len(saved) == 3:
            raise SystemExit("worker killed")
        return waiting

    monkeypatch.setattr(services, "_save", crash_on_the_third)
    with pytest.raises(SystemExit):
        sweep(60)
    monkeypatch.setattr(services, "_save", real_save)

    steps = dict(Recipient.objects.values_list("pk", "step"))
    assert [steps[pk] for pk in due] == [1, 1, 0, 0]
    assert Call.objects.filter(step=1).count() == 2  # the third unit's calls rolled back
    dispatches = Dispatch.objects.count()
    outbox = Notification.objects.count() + WebhookDelivery.objects.count()

    # The worker comes back (a little later) and sweeps again: the two left are stepped, and
    # the outbox is woken once for the whole sweep.
    wakeups = DBTaskResult.objects.filter(task_path__endswith="deliver_outbox").count()
    assert sweep(61) == 2
    assert DBTaskResult.objects.filter(task_path__endswith="deliver_outbox").count() == wakeups + 1
    assert sorted(Recipient.objects.values_list("step", flat=True)) == [1, 1, 1, 1]
    for pk in due:
        assert Call.objects.filter(recipient_id=pk, step=1).count() == 1
    assert Dispatch.objects.count() > dispatches
    assert Notification.objects.count() + WebhookDelivery.objects.count() > outbox
    # Every outbox row of step 1 belongs to exactly one dispatch.
    step1 = Dispatch.objects.filter(call__step=1)
    assert step1.filter(channel="sms").count() == 4
    assert step1.filter(channel="email").count() == 4
    assert sweep(62) == 0
    # The survivors' next deadlines are an hour after their own step.
    deadlines = dict(Recipient.objects.values_list("pk", "next_escalation_at"))
    assert [deadlines[pk] for pk in due] == [at(120), at(120), at(121), at(121)]


# -- the task ----------------------------------------------------------------------------------
def waiting() -> list[datetime.datetime]:
    return sorted(
        DBTaskResult.objects.filter(
            task_path=services.escalate_alerts.module_path, status="READY"
        ).values_list("run_after", flat=True)
    )


def test_issue_queues_the_sweep_for_the_first_deadline_once(world, units):
    issue(world, regions=["V1"], level="red")
    assert waiting() == [at(10)]
    issue(world, regions=["V2"], level="blue")  # later: the waiting sweep comes first
    assert waiting() == [at(10)]
    services.ensure_escalation_scheduled()
    assert waiting() == [at(10)]


def run_sweep_task(minutes: float) -> int:
    """As the worker runs the waiting task: it is no longer waiting while it runs."""
    DBTaskResult.objects.filter(status="READY").delete()
    with time_machine.travel(at(minutes), tick=False):
        return services.escalate_alerts.call()


def test_the_sweep_task_steps_and_waits_for_the_next_deadline(world, units):
    issue(world, regions=["V1"], level="red")
    issue(world, regions=["V2"], level="blue")
    assert run_sweep_task(10) == 1
    assert waiting() == [at(20)]  # V1's next rung
    assert run_sweep_task(20) == 1
    assert waiting() == [at(30)]
    assert run_sweep_task(21) == 0  # early (a run queued for another deadline): no harm
    assert waiting() == [at(30)]
    Recipient.objects.update(next_escalation_at=None)  # all answered, say
    assert run_sweep_task(30) == 0
    assert waiting() == []  # nothing to wait for until the next issue


def test_a_worker_start_sweeps_what_fell_due_while_it_was_stopped(world, units):
    issue(world, regions=["V1"], level="red")
    DBTaskResult.objects.all().delete()  # the queued run was lost
    with time_machine.travel(at(95), tick=False):
        services.ensure_escalation_scheduled()
        assert waiting() == [at(95)]


@pytest.mark.django_db(transaction=True)
def test_the_worker_escalates(world, units):
    alert = issue(world, regions=["V1"], level="red")
    with time_machine.travel(at(11)):
        call_command("worker", batch=True, verbosity=0)
    v1 = row(alert, "V1")
    assert (v1.state, v1.step) == ("escalated", 1)
    assert called(v1) == [(0, "V1-duty"), (1, "V1-head")]
    # Emails went through the worker's outbox (the test backend keeps them).
    assert Notification.objects.filter(channel="email", status="sent").count() == 2
    assert len(waiting()) == 1 and waiting()[0] > at(20)
