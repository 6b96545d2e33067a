import datetime
import email.header
import socket

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from yingji.core.models import Notification
from yingji.core.notify import deliver_due, notify


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Django sends to it through the SMTP backend."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    yield handler
    controller.stop()


def test_inapp_rows_show_at_once_and_email_waits_for_the_worker(world):
    notify([world.inspector], "整改期限临近", "请跟进", link="/enterprises/1/")
    inapp = Notification.objects.get(channel="inapp")
    email = Notification.objects.get(channel="email")
    assert inapp.status == "sent" and inapp.recipient == world.inspector
    assert email.status == "pending"
    assert DBTaskResult.objects.filter(status="READY").exists()


def test_a_rolled_back_act_queues_nothing(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify([world.inspector], "x")
        raise RuntimeError
    assert not Notification.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_email_through_smtp(world, smtp):
    notify([world.inspector, world.leader], "预警:暴雨黄色", "请做好防范", link="/x")
    # The worker as it runs in production: the db_worker command, here until the queue is empty.
    call_command("worker", batch=True, verbosity=0)
    assert sorted(m["To"] for m in smtp.messages) == [
        "inspector@example.test",
        "leader@example.test",
    ]
    subject = email.header.make_header(email.header.decode_header(smtp.messages[0]["Subject"]))
    assert str(subject) == "预警:暴雨黄色"
    assert set(Notification.objects.filter(channel="email").values_list("status", flat=True)) == {
        "sent"
    }


def test_a_failed_delivery_is_retried_later_and_never_lost(world, settings):
    port = free_port()  # nothing listens here yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        notify([world.inspector], "叫应测试")
        assert deliver_due() == {"sent": 0, "failed": 0, "retry": 1}
    note = Notification.objects.get(channel="email")
    assert (note.status, note.attempts) == ("pending", 1)
    assert note.last_error
    assert note.next_attempt_at == start + datetime.timedelta(seconds=30)
    # Not due yet: nothing is tried.
    with time_machine.travel(start + datetime.timedelta(seconds=10), tick=False):
        assert deliver_due() == {"sent": 0, "failed": 0, "retry": 0}
    # The mail server comes up; the retry gets through.
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with time_machine.travel(start + datetime.timedelta(seconds=31), tick=False):
            assert deliver_due()["sent"] == 1
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("sent", 2)


def test_it_gives_up_after_the_last_attempt(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.NOTIFY_MAX_ATTEMPTS = 2
    notify([world.inspector], "x", channels=["email"])
    deliver_due()
    Notification.objects.update(next_attempt_at=timezone.now())
    assert deliver_due()["failed"] == 1
    assert Notification.objects.get().status == "failed"


def test_users_without_email_get_only_the_inapp_message(world):
    world.expert.email = ""
    world.expert.save()
    notify([world.expert], "x")
    assert list(Notification.objects.values_list("channel", flat=True)) == ["inapp"]


def test_the_inbox_lists_and_marks_messages_read(world, login):
    notify([world.inspector], "请查收整改材料")
    client = login(world.inspector)
    page = client.get("/inbox/")
    assert "请查收整改材料" in page.content.decode()
    client.post("/inbox/read/")
    assert not Notification.objects.filter(channel="inapp", read_at__isnull=True).exists()
