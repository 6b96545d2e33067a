"""Delivery through every channel to real local servers: the SMS gateway and the WeCom and
DingTalk group robots (http.server threads on 127.0.0.1), email through an SMTP server
(aiosmtpd). Failures — a server answering 500, one not answering in time, a robot saying
{"errcode": N}, a gateway that is down — are retried, never dropped."""

import datetime
import email.header
import json
import re
import socket
import threading
import time
import zoneinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.core.management import call_command
from django.urls import resolve
from django.utils import timezone, translation

from yingji.alerts import channels, services
from yingji.alerts.models import Alert, Dispatch, Recipient, Unit
from yingji.core.models import Notification, WebhookDelivery
from yingji.core.notify import deliver_due, queue_webhook

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = datetime.datetime(2025, 7, 1, 22, 0, tzinfo=SHANGHAI)
OK = (200, {"errcode": 0, "errmsg": "ok"}, 0.0)
REFUSED = (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, 0.0)
LINK = re.compile(r"https?://\S+/alerts/a/[\w-]+/")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # the bureau's language, which messages are written in
    with translation.override("en"):
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """What each path was sent, and how it answers: (status, JSON body, delay)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.answers = {
            "/sms": (200, {"code": 0}, 0.0),
            "/wecom": OK,
            "/dingtalk": OK,
            "/robot-500": (500, {"error": "internal"}, 0.0),
            "/robot-slow": (*OK[:2], 2.5),  # longer than WEBHOOK_TIMEOUT
            "/robot-refuses": REFUSED,
            "/plain": (200, "OK", 0.0),
        }
        self.lock = threading.Lock()
        self.base = ""

    def sent_to(self, path: str) -> list[dict]:
        return [body for p, body in self.requests if p == path]


def _handler(servers: Servers):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (the http.server hook's name)
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            with servers.lock:
                servers.requests.append((self.path, body))
                status, answer, delay = servers.answers[self.path]
            if delay:
                time.sleep(delay)
            raw = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(raw)
            except OSError:  # the client gave up after its timeout
                pass

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def servers(settings):
    state = Servers()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.SMS_GATEWAY_URL = f"{state.base}/sms"
    settings.WEBHOOK_TIMEOUT = 1
    settings.SITE_URL = "https://yingji.example.test"
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    yield handler
    controller.stop()


def robot(unit: Unit, servers: Servers, path: str, kind: str = "wecom") -> None:
    unit.robot_kind, unit.robot_url = kind, f"{servers.base}{path}"
    unit.save()


def issue(world, regions=("T1",), level="blue", by=None, when=T0) -> Alert:
    by = by or world.duty
    with time_machine.travel(when, tick=False):
        alert = services.create_draft(
            by=by,
            kind="warning",
            hazard_type="rainstorm",
            level=level,
            headline="城中区暴雨预警",
            body="预计今夜降雨量50毫米以上。",
            instructions="山洪易发区人员立即转移。",
            valid_until=when + datetime.timedelta(hours=12),
            regions=regions,
        )
        return services.issue(alert, by=by)


def deliver(after_seconds: float = 0) -> dict:
    with time_machine.travel(T0 + datetime.timedelta(seconds=after_seconds), tick=False):
        return deliver_due()


def unit_call(alert, ref: str, group: bool = False):
    rec = alert.recipients.get(unit__region__ref=ref)
    if group:
        return rec.calls.get(contact__isnull=True, user__isnull=True)
    return rec.calls.get(contact__isnull=False, step=0)


# -- texts and payloads ------------------------------------------------------------------------
def test_the_message_says_who_what_until_when_and_how_to_confirm(world, units, settings):
    settings.SITE_URL = "https://yingji.example.test"
    alert = issue(world, regions=["V2"])
    call = unit_call(alert, "V2")
    text = channels.text(alert, units["V2"], services.ack_url(call))
    assert text.startswith(f"【{settings.SITE_NAME}】城中区暴雨预警 预计今夜降雨量")
    assert "山洪易发区人员立即转移。" in text
    assert "Valid until 2025-07-02 10:00." in text  # Shanghai time
    assert text.endswith(f"Tap to confirm receipt: {services.ack_url(call)}")
    assert channels.title(alert) == "Rainstorm Blue warning"
    assert channels.subject(alert) == "Rainstorm Blue warning: 城中区暴雨预警"
    again = channels.text(alert, units["V2"], services.ack_url(call), channels.Reason.NEXT)
    assert units["V2"].name in again and again.endswith(services.ack_url(call))
    long = Alert(kind="bulletin", headline="防灾减灾提示", body="很长" * 500)
    cut = channels.text(long, units["V2"], services.ack_url(call))
    assert len(cut) < 400 and cut.endswith(services.ack_url(call))
    assert channels.title(long) == "防灾减灾提示"


def test_robot_payloads_in_the_wecom_and_dingtalk_formats():
    assert channels.robot_payload("wecom", "x") == {"msgtype": "text", "text": {"content": "x"}}
    assert channels.robot_payload("dingtalk", "x") == {
        "msgtype": "text",
        "text": {"content": "x"},
    }
    assert channels.robot_payload("wecom", "x", mention_all=True) == {
        "msgtype": "text",
        "text": {"content": "x", "mentioned_list": ["@all"]},
    }
    assert channels.robot_payload("dingtalk", "x", mention_all=True) == {
        "msgtype": "text",
        "text": {"content": "x"},
        "at": {"isAtAll": True},
    }


# -- delivery ----------------------------------------------------------------------------------
def test_every_channel_delivers_the_alert_with_its_link(world, units, servers, smtp):
    robot(units["T1"], servers, "/wecom")
    robot(units["V1"], servers, "/dingtalk", kind="dingtalk")
    alert = issue(world)
    v1 = alert.recipients.get(unit__region__ref="V1")
    assert v1.state == "pending"  # nothing has gone out yet
    assert deliver() == {"sent": 6, "failed": 0, "retry": 0}  # 2 SMS, 2 robots, 2 emails

    duty = {ref: units[ref].contacts.get(role="duty") for ref in ("T1", "V1")}
    sms = {body["to"]: body["text"] for body in servers.sent_to("/sms")}
    assert set(sms) == {duty["T1"].phone, duty["V1"].phone}
    for ref in ("T1", "V1"):
        text = sms[duty[ref].phone]
        assert text.startswith("【") and "城中区暴雨预警" in text
        assert text.endswith(services.ack_url(unit_call(alert, ref)))
    # Each group robot carries the link of the group's own call.
    [wecom] = servers.sent_to("/wecom")
    [dingtalk] = servers.sent_to("/dingtalk")
    assert wecom == {
        "msgtype": "text",
        "text": {"content": wecom["text"]["content"]},
    }
    assert wecom["text"]["content"].endswith(services.ack_url(unit_call(alert, "T1", True)))
    assert dingtalk["msgtype"] == "text"
    assert dingtalk["text"]["content"].endswith(services.ack_url(unit_call(alert, "V1", True)))
    # Email through SMTP.
    assert sorted(m["To"] for m in smtp.messages) == sorted(c.email for c in duty.values())
    subject = email.header.make_header(email.header.decode_header(smtp.messages[0]["Subject"]))
    assert str(subject) == "Rainstorm Blue warning: 城中区暴雨预警"
    bodies = [m.get_payload(decode=True).decode() for m in smtp.messages]
    assert all(LINK.search(b) for b in bodies)
    # Every dispatch is recorded with its channel and result; the units show as delivered.
    results = set(
        Dispatch.objects.filter(recipient__alert=alert, channel__in=["sms", "robot"])
        .values_list("channel", "webhook__status", "webhook__response_status")
        .distinct()
    )
    assert results == {("sms", "sent", 200), ("robot", "sent", 200)}
    v1.refresh_from_db()
    assert v1.state == "delivered" and v1.delivered_at is not None
    assert deliver() == {"sent": 0, "failed": 0, "retry": 0}  # each sent once


def test_the_link_in_the_sms_acknowledges_for_the_person_it_was_sent_to(world, units, servers):
    alert = issue(world, regions=["V1"])
    deliver()
    [body] = servers.sent_to("/sms")
    url = LINK.search(body["text"]).group(0)
    match = resolve(urlsplit(url).path)
    assert match.url_name == "alerts-ack-link"
    rec = services.acknowledge_token(match.kwargs["token"])
    assert (rec.alert, rec.state, rec.ack_method, rec.ack_contact.role) == (
        alert,
        "acknowledged",
        "link",
        "duty",
    )


def test_red_and_orange_robot_messages_mention_everyone(world, units, servers):
    robot(units["T1"], servers, "/wecom")
    robot(units["V1"], servers, "/dingtalk", kind="dingtalk")
    issue(world, level="red", by=world.leader)
    deliver()
    [wecom] = servers.sent_to("/wecom")
    [dingtalk] = servers.sent_to("/dingtalk")
    assert wecom["text"]["mentioned_list"] == ["@all"]
    assert dingtalk["at"] == {"isAtAll": True}


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/robot-500", 500, "500"),
        ("/robot-slow", None, "timed out"),
        ("/robot-refuses", 200, "errcode 93000: invalid webhook url"),
    ],
)
def test_a_failing_robot_is_retried_until_it_gets_through(
    world, units, servers, settings, path, status, error
):
    settings.SMS_GATEWAY_URL = ""  # the robot is the unit's only way in
    units["V2"].contacts.update(email="", user=None)
    robot(units["V2"], servers, path)
    alert = issue(world, regions=["V2"])
    rec = alert.recipients.get()
    began = time.monotonic()
    assert deliver() == {"sent": 0, "failed": 0, "retry": 1}
    assert time.monotonic() - began < 2.5  # the worker did not wait for a slow robot
    row = Dispatch.objects.get(recipient__alert=alert, channel="robot").webhook
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, status)
    assert error in row.last_error.lower() if error == "timed out" else error in row.last_error
    assert row.next_attempt_at == T0 + datetime.timedelta(seconds=30)
    assert deliver(10) == {"sent": 0, "failed": 0, "retry": 0}  # not due yet
    servers.answers[path] = OK  # the robot is fixed
    assert deliver(30)["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.response_status, row.last_error) == (
        "sent",
        2,
        200,
        "",
    )
    assert len(servers.sent_to(path)) == 2
    assert servers.sent_to(path)[0] == servers.sent_to(path)[1]  # the same message again
    assert rec.state == "pending"
    rec.refresh_from_db()
    assert rec.state == "delivered"


def test_a_unit_reached_only_through_a_failing_robot_stays_undelivered(world, units, servers):
    servers.answers["/robot-500"] = (500, {}, 0.0)
    team = Unit.objects.create(name="城中区应急救援队", kind="team")
    robot(team, servers, "/robot-500")
    with time_machine.travel(T0, tick=False):
        alert = services.create_draft(
            by=world.duty, kind="bulletin", headline="防汛提示", extra_units=[team]
        )
        services.issue(alert, by=world.duty)
    deliver()
    rec = alert.recipients.get()
    assert (rec.state, rec.delivered_at) == ("pending", None)
    # Its time runs out all the same: the leaders are called (叫醒).
    with time_machine.travel(T0 + datetime.timedelta(minutes=60), tick=False):
        assert services.escalate_due() == 1
    rec.refresh_from_db()
    assert (rec.state, rec.step) == ("escalated", 1)
    assert rec.calls.filter(user=world.leader).exists()


def test_an_sms_gateway_that_is_down_keeps_the_messages_until_the_last_attempt(
    world, units, servers, settings
):
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{free_port()}/sms"  # nothing listens
    settings.NOTIFY_MAX_ATTEMPTS = 2
    units["V1"].contacts.update(email="")
    alert = issue(world, regions=["V1"])
    assert deliver() == {"sent": 0, "failed": 0, "retry": 1}
    row = WebhookDelivery.objects.get(purpose="sms")
    assert row.status == "pending" and "refused" in row.last_error.lower()
    assert deliver(30) == {"sent": 0, "failed": 1, "retry": 0}
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 2
    # Kept, with its dispatch, to be seen on the board and sent again by hand.
    dispatch = Dispatch.objects.get(webhook=row)
    assert dispatch.recipient.alert == alert and dispatch.channel == "sms"
    assert row.payload["to"] == units["V1"].contacts.get(role="duty").phone


def test_the_outbox_counts_a_robot_errcode_as_a_failure_and_other_answers_as_sent(world, servers):
    queue_webhook(f"{servers.base}/robot-refuses", {"msgtype": "text"}, purpose="robot")
    queue_webhook(f"{servers.base}/wecom", {"msgtype": "text"}, purpose="robot")
    queue_webhook(f"{servers.base}/plain", {"ticket": "1"}, purpose="hotline")
    queue_webhook(f"{servers.base}/sms", {"to": "1", "text": "x"}, purpose="sms")
    assert deliver_due() == {"sent": 3, "failed": 0, "retry": 1}
    refused = WebhookDelivery.objects.get(url__endswith="/robot-refuses")
    assert (refused.status, refused.response_status) == ("pending", 200)
    assert refused.last_error == "WebhookRefused: errcode 93000: invalid webhook url"


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_to_the_robots_and_the_gateway(world, units, servers):
    robot(units["T1"], servers, "/wecom")
    issue(world, when=timezone.now())
    call_command("worker", batch=True, verbosity=0)
    assert len(servers.sent_to("/wecom")) == 1 and len(servers.sent_to("/sms")) == 2
    assert set(Recipient.objects.values_list("state", flat=True)) == {"delivered"}
    assert not Notification.objects.filter(status="pending").exists()
    assert WebhookDelivery.objects.filter(status="sent").count() == 3
