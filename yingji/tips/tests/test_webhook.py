"""The answer to the 12345 hotline (and the SMS gateway): a JSON POST through the outbox,
delivered by the worker to a real HTTP server, retried until it gets through."""

import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from yingji.core.models import WebhookDelivery
from yingji.core.notify import deliver_due
from yingji.tips import services
from yingji.tips.models import Tip

TICKET = "12345-20250601-0042"
ANSWER = "经查属实,已责令该企业停产整改"


class Recorder:
    """What the server was sent, and how it answers the next requests."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()

    @property
    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.requests]


def _handler(recorder: Recorder):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (the http.server hook's name)
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            with recorder.lock:
                recorder.requests.append(
                    {"path": self.path, "type": self.headers["Content-Type"], "body": body}
                )
                status, delay = recorder.status, recorder.delay
            if delay:
                time.sleep(delay)  # longer than the client waits: it has given up by now
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')
            except OSError:  # the client hung up after its timeout
                pass

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def server(settings):
    """A real HTTP server on loopback (a free port); the hotline and SMS URLs point at it."""
    recorder = Recorder()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.HOTLINE_CALLBACK_URL = f"{base}/hotline/callback"
    settings.SMS_GATEWAY_URL = f"{base}/sms"
    settings.WEBHOOK_TIMEOUT = 1
    yield recorder
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def closed_hotline_tip(world, contact: str = ""):
    # The handler's own email of the assignment is not what this file is about.
    world.inspector.email = ""
    world.inspector.save(update_fields=["email"])
    tip, _ = services.receive_hotline_tip(
        by=world.duty,
        ticket=TICKET,
        content="某企业夜间违规生产,除尘设备未开启",
        received_at=timezone.now() - datetime.timedelta(days=2),
        contact=contact,
        name="张三" if contact else "",
    )
    services.assign(tip, by=world.duty, assignee=world.inspector)
    services.start_verification(tip, by=world.inspector)
    services.record_verification(tip, by=world.inspector, verified=True, findings="现场核实")
    return services.close_tip(tip, by=world.inspector, answer=ANSWER)


def expected_payload() -> dict:
    return {
        "ticket": TICKET,
        "result": str(Tip.Status.CLOSED.label),
        "verified": True,
        "answer": ANSWER,
        "closed_on": timezone.localdate().isoformat(),
    }


def hotline_row() -> WebhookDelivery:
    return WebhookDelivery.objects.get(purpose="hotline")


def test_the_hotline_gets_the_answer_when_the_tip_is_closed(world, server):
    closed_hotline_tip(world)
    assert server.requests == []  # queued with the act; sent by the worker
    assert deliver_due()["sent"] == 1
    assert server.requests == [
        {
            "path": "/hotline/callback",
            "type": "application/json; charset=utf-8",
            "body": expected_payload(),
        }
    ]
    row = hotline_row()
    assert (row.status, row.attempts, row.response_status, row.last_error) == ("sent", 1, 200, "")
    assert row.sent_at is not None
    assert deliver_due()["sent"] == 0 and len(server.requests) == 1  # sent once


def test_the_reporter_gets_the_answer_through_the_sms_gateway(world, server):
    closed_hotline_tip(world, contact="13900002222")
    assert deliver_due()["sent"] == 2
    sms = next(r for r in server.requests if r["path"] == "/sms")
    assert sms["body"]["to"] == "13900002222" and ANSWER in sms["body"]["text"]
    hotline = next(r for r in server.requests if r["path"] == "/hotline/callback")
    assert "13900002222" not in json.dumps(hotline["body"])  # the hotline gets no contact


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_the_callback(world, server):
    closed_hotline_tip(world)
    # The worker as it runs in production, here until the queue is empty.
    call_command("worker", batch=True, verbosity=0)
    assert server.bodies == [expected_payload()]
    assert hotline_row().status == "sent"


def test_a_server_error_is_retried_later_until_it_answers(world, server):
    server.status = 500
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        closed_hotline_tip(world)
        assert deliver_due() == {"sent": 0, "failed": 0, "retry": 1}
    row = hotline_row()
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, 500)
    assert "500" in row.last_error
    assert row.next_attempt_at == start + datetime.timedelta(seconds=30)
    # Not due yet: nothing is tried.
    with time_machine.travel(start + datetime.timedelta(seconds=10), tick=False):
        assert deliver_due() == {"sent": 0, "failed": 0, "retry": 0}
    assert len(server.requests) == 1
    # Still failing: the wait doubles.
    with time_machine.travel(start + datetime.timedelta(seconds=31), tick=False):
        assert deliver_due()["retry"] == 1
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at == start + datetime.timedelta(seconds=31 + 60)
    # The hotline is back: the same JSON gets through.
    server.status = 200
    with time_machine.travel(start + datetime.timedelta(seconds=92), tick=False):
        assert deliver_due()["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.response_status, row.last_error) == ("sent", 3, 200, "")
    assert server.bodies == [expected_payload()] * 3


def test_a_server_that_does_not_answer_in_time_is_retried_and_the_callback_never_lost(
    world, server
):
    server.delay = 2.5  # longer than WEBHOOK_TIMEOUT (1 second)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        closed_hotline_tip(world)
        began = time.monotonic()
        assert deliver_due() == {"sent": 0, "failed": 0, "retry": 1}
        assert time.monotonic() - began < 2.5  # the worker did not wait for the server
    row = hotline_row()
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, None)
    assert "timed out" in row.last_error.lower()
    assert row.next_attempt_at == start + datetime.timedelta(seconds=30)
    server.delay = 0
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert deliver_due()["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.response_status) == ("sent", 2, 200)
    assert server.bodies == [expected_payload()] * 2


def test_after_the_last_attempt_the_callback_is_kept_as_failed(world, server, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    server.status = 503
    closed_hotline_tip(world)
    deliver_due()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert deliver_due()["failed"] == 1
    row = hotline_row()
    assert (row.status, row.attempts, row.response_status) == ("failed", 2, 503)
    assert row.payload == expected_payload()  # kept, to be sent again by hand
