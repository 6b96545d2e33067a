"""Deadline reminders: three days before and on the day, once each, by a self-rescheduling task."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from yingji.core.models import Notification
from yingji.core.services import create_user
from yingji.hazards import services
from yingji.hazards.models import Hazard, Reminder
from yingji.inspections import services as inspections

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ISSUED = datetime.datetime(2025, 6, 1, 9, 0, tzinfo=SHANGHAI)
DEADLINE = datetime.date(2025, 6, 13)


def day(n: int) -> datetime.date:
    return datetime.date(2025, 6, n)


def at(n: int, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2025, 6, n, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def open_hazard(world, enterprise=None, deadline=DEADLINE, description="积尘超标") -> Hazard:
    """A hazard found on 1 June and ordered rectified by the deadline."""
    with time_machine.travel(ISSUED, tick=False):
        insp = inspections.schedule_inspection(
            by=world.inspector, enterprise=enterprise or world.ent_a, date=ISSUED.date()
        )
        inspections.start_inspection(insp, by=world.inspector)
        hazard = services.report_hazard(
            by=world.inspector,
            enterprise=insp.enterprise,
            inspection=insp,
            found_on=ISSUED.date(),
            description=description,
        )
        services.issue_order([hazard], by=world.inspector, deadline=deadline)
    hazard.refresh_from_db()
    return hazard


@pytest.fixture
def hazard(world) -> Hazard:
    hazard = open_hazard(world)
    Notification.objects.all().delete()  # forget the order's own notifications
    return hazard


def reminders(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, channel="inapp")
        .order_by("pk")
        .values_list("subject", flat=True)
    )


def remind_on(n: int) -> int:
    with time_machine.travel(at(n), tick=False):
        return services.send_deadline_reminders(on=day(n))


def test_the_inspector_and_the_enterprise_are_reminded_three_days_before(world, hazard):
    assert remind_on(10) == 1
    subject = f"Deadline on 2025-06-13: {world.ent_a.name}"
    assert reminders(world.inspector) == [subject]
    assert reminders(world.ent_user_a) == [subject]
    assert Notification.objects.filter(channel="email").count() == 2
    assert reminders(world.ent_user_b) == reminders(world.leader) == []
    reminder = Reminder.objects.get()
    assert (reminder.hazard, reminder.kind, reminder.deadline) == (hazard, "before", DEADLINE)
    assert reminder.sent_at == at(10)


def test_they_are_reminded_on_the_deadline_day(world, hazard):
    assert remind_on(13) == 1
    subject = f"Deadline today: {world.ent_a.name}"
    assert reminders(world.inspector) == reminders(world.ent_user_a) == [subject]
    assert Reminder.objects.get().kind == "due"


def test_each_reminder_is_sent_exactly_once_however_often_it_runs(world, hazard):
    sent = [remind_on(n) for n in (10, 10, 11, 12, 12, 13, 13)]
    assert sent == [1, 0, 0, 0, 0, 1, 0]
    assert reminders(world.inspector) == [
        f"Deadline on 2025-06-13: {world.ent_a.name}",
        f"Deadline today: {world.ent_a.name}",
    ]
    assert reminders(world.ent_user_a) == reminders(world.inspector)
    assert sorted(Reminder.objects.values_list("kind", flat=True)) == ["before", "due"]


def test_a_missed_day_still_brings_the_early_reminder(world, hazard):
    # The worker was down on the 10th; the 11th still reminds before the deadline.
    assert remind_on(11) == 1
    assert reminders(world.inspector) == [f"Deadline on 2025-06-13: {world.ent_a.name}"]


@pytest.mark.parametrize("n", [1, 9, 14, 20])
def test_nothing_is_sent_far_from_or_after_the_deadline(world, hazard, n):
    assert remind_on(n) == 0
    assert not Notification.objects.exists()
    assert not Reminder.objects.exists()


def test_closed_hazards_get_no_reminders(world, hazard):
    with time_machine.travel(at(9), tick=False):
        services.submit_evidence(hazard, by=world.ent_user_a, note="已整改")
        services.reinspect(hazard, by=world.inspector, passed=True, opinion="整改到位")
    Notification.objects.all().delete()
    assert remind_on(10) == 0
    assert remind_on(13) == 0
    assert not Notification.objects.exists()


def test_a_hazard_awaiting_reinspection_is_still_reminded(world, hazard):
    with time_machine.travel(at(9), tick=False):
        services.submit_evidence(hazard, by=world.ent_user_a, note="已整改")
    Notification.objects.all().delete()
    assert remind_on(13) == 1


def test_a_new_deadline_is_reminded_afresh(world, hazard):
    assert remind_on(10) == 1
    assert remind_on(13) == 1
    with time_machine.travel(at(13, 15), tick=False):
        services.reinspect(
            hazard, by=world.inspector, passed=False, opinion="未整改", new_deadline=day(20)
        )
    Notification.objects.all().delete()
    assert remind_on(17) == 1
    assert remind_on(20) == 1
    assert reminders(world.inspector) == [
        f"Deadline on 2025-06-20: {world.ent_a.name}",
        f"Deadline today: {world.ent_a.name}",
    ]
    assert Reminder.objects.count() == 4


def test_each_hazard_reminds_its_own_enterprise(world, hazard):
    open_hazard(world, enterprise=world.ent_b, deadline=day(12), description="储罐围堰破损")
    Notification.objects.all().delete()
    assert remind_on(10) == 2
    assert reminders(world.ent_user_a) == [f"Deadline on 2025-06-13: {world.ent_a.name}"]
    assert reminders(world.ent_user_b) == [f"Deadline on 2025-06-12: {world.ent_b.name}"]
    assert sorted(reminders(world.inspector)) == sorted(
        [
            f"Deadline on 2025-06-13: {world.ent_a.name}",
            f"Deadline on 2025-06-12: {world.ent_b.name}",
        ]
    )


def test_an_inactive_enterprise_account_is_not_reminded(world, hazard):
    world.ent_user_a.is_active = False
    world.ent_user_a.save()
    assert remind_on(13) == 1
    assert reminders(world.ent_user_a) == []
    assert reminders(world.inspector) == [f"Deadline today: {world.ent_a.name}"]


def test_every_enterprise_account_is_reminded(world, hazard):
    from yingji.enterprises.models import EnterpriseAccount

    deputy = create_user(by=None, username="ent_a2", password="x-long-password", role="enterprise")
    EnterpriseAccount.objects.create(user=deputy, enterprise=world.ent_a)
    assert remind_on(13) == 1
    assert (
        reminders(deputy) == reminders(world.ent_user_a) == [f"Deadline today: {world.ent_a.name}"]
    )


def test_the_day_is_the_local_date_in_shanghai(world, hazard):
    # 00:30 on 13 June in Shanghai is still 12 June in UTC: the deadline is today.
    with time_machine.travel(at(13, 0, 30), tick=False):
        assert services.send_deadline_reminders() == 1
    assert reminders(world.inspector) == [f"Deadline today: {world.ent_a.name}"]


# -- the daily task ---------------------------------------------------------------------------
def waiting_runs() -> list[datetime.datetime]:
    return list(
        DBTaskResult.objects.filter(
            task_path=services.remind_deadlines.module_path, status="READY"
        ).values_list("run_after", flat=True)
    )


def test_the_task_sends_todays_reminders_and_queues_tomorrows_run(world, hazard):
    with time_machine.travel(at(13, 8), tick=False):
        assert services.remind_deadlines.call() == 1
    assert reminders(world.inspector) == [f"Deadline today: {world.ent_a.name}"]
    assert waiting_runs() == [at(14, 8)]


def test_the_next_run_is_tomorrow_morning_in_shanghai_even_just_after_midnight(world):
    # 00:30 on 13 June in Shanghai is 16:30 on 12 June in UTC.
    with time_machine.travel(at(13, 0, 30), tick=False):
        services.remind_deadlines.call()
    assert waiting_runs() == [at(14, 8)]


def test_the_task_queues_only_one_next_run(world):
    with time_machine.travel(at(13, 8), tick=False):
        services.remind_deadlines.call()
        services.remind_deadlines.call()
    assert waiting_runs() == [at(14, 8)]


def test_the_worker_start_queues_a_run_unless_one_is_waiting(world):
    with time_machine.travel(at(13, 10), tick=False):
        services.ensure_reminders_scheduled()
        assert waiting_runs() == [at(13, 10)]
        services.ensure_reminders_scheduled(at(20, 8))
        assert waiting_runs() == [at(13, 10)]


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_reminders_on_start_and_leaves_tomorrows_run_queued(world):
    open_hazard(world)
    with time_machine.travel(at(13, 8)):
        call_command("worker", batch=True, verbosity=0)
    assert reminders(world.inspector)[-1] == f"Deadline today: {world.ent_a.name}"
    done = DBTaskResult.objects.filter(task_path=services.remind_deadlines.module_path)
    assert list(done.filter(status="SUCCESSFUL").values_list("return_value", flat=True)) == [1]
    assert waiting_runs() == [at(14, 8)]
