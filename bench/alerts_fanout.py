"""Fan-out of one alert to many units, delivery through the outbox, and one escalation sweep.

1. a district of --units region units (1 district, towns of 49 villages each), each with
   --contacts contacts (duty phone, head, deputy: phones; a third of the duty contacts with
   an account) and a group robot (WeCom and DingTalk alternately);
2. services.issue() of one blue warning to the whole district, timed, with its SQL query
   count and the rows it wrote (recipients, calls, dispatches, outbox rows);
3. core notify's delivery loop (deliver_due, as the worker runs it) posting every SMS and
   robot message to a local HTTP server on 127.0.0.1 that answers {"errcode": 0}:
   deliveries per second;
4. the escalation sweep at the first deadline, nobody having answered: every unit's next
   contact called, one transaction each; steps per second.

Only 127.0.0.1 is contacted; the server thread and the scratch folder are always removed.

    .venv/bin/python bench/alerts_fanout.py [--units 1000] [--contacts 3]
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
from enterprise_list import setup_django  # noqa: E402

VILLAGES_PER_TOWN = 49


class Robot(BaseHTTPRequestHandler):
    """The SMS gateway and the group robots: accept and answer like WeCom does."""

    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802  (the http.server hook's name)
        json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with Robot.lock:
            Robot.received += 1
        body = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def build_district(units: int, contacts: int, base: str) -> None:
    """Regions, units and contacts with bulk inserts (paths set by hand)."""
    from django.contrib.auth import get_user_model

    from yingji.alerts.models import Contact, Unit
    from yingji.core.models import Region

    district = Region.objects.create(ref="630103", name="城中区", level="district", code="630103")
    towns, villages = [], []
    n_towns = max(1, units // (VILLAGES_PER_TOWN + 1))
    for t in range(n_towns):
        ref = f"T{t:03d}"
        towns.append(
            Region(
                ref=ref,
                name=f"第{t}镇",
                level="town",
                parent=district,
                path=f"{district.path}{ref}/",
            )
        )
    Region.objects.bulk_create(towns)
    towns = list(Region.objects.filter(level="town").order_by("ref"))
    for v in range(units - n_towns):
        town = towns[v % n_towns]
        ref = f"V{v:04d}"
        villages.append(
            Region(
                ref=ref, name=f"第{v}村", level="village", parent=town, path=f"{town.path}{ref}/"
            )
        )
    Region.objects.bulk_create(villages, batch_size=500)
    regions = list(Region.objects.exclude(level="district").order_by("ref"))
    User = get_user_model()
    accounts = User.objects.bulk_create(
        [
            User(username=f"officer-{i}", role="village_officer", is_active=True)
            for i in range(0, len(regions), 3)
        ]
    )
    accounts = iter(User.objects.filter(username__startswith="officer-").order_by("pk"))
    unit_rows = [
        Unit(
            name=r.name,
            kind="region",
            region=r,
            robot_kind="wecom" if i % 2 else "dingtalk",
            robot_url=f"{base}/robot/{i}",
        )
        for i, r in enumerate(regions)
    ]
    Unit.objects.bulk_create(unit_rows, batch_size=500)
    contact_rows = []
    for i, unit in enumerate(Unit.objects.order_by("pk")):
        for position in range(1, contacts + 1):
            contact_rows.append(
                Contact(
                    unit=unit,
                    position=position,
                    role=("duty", "head", "deputy")[min(position, 3) - 1],
                    name=f"{unit.name}联系人{position}",
                    phone=f"139{i:04d}{position:04d}",
                    user=next(accounts) if position == 1 and i % 3 == 0 else None,
                )
            )
    Contact.objects.bulk_create(contact_rows, batch_size=500)


def deliver_all() -> tuple[int, float]:
    from yingji.core.notify import deliver_due

    sent = 0
    start = time.perf_counter()
    while True:
        counts = deliver_due(limit=500)
        if not any(counts.values()):
            break
        sent += counts["sent"]
    return sent, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000, help="recipient units")
    parser.add_argument("--contacts", type=int, default=3, help="contacts per unit")
    args, _unknown = parser.parse_known_args()  # scripts/bench.sh passes its args to all

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with c.scratch_dir("alerts") as work:
            var = work / "var"
            (var / "static").mkdir(parents=True)
            c.migrate(var)
            setup_django(var)
            run(args, base)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def run(args, base: str) -> None:
    import datetime

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from yingji.alerts import services
    from yingji.alerts.models import Call, Dispatch, Recipient
    from yingji.core.models import Notification, WebhookDelivery
    from yingji.core.services import create_user

    settings.SMS_GATEWAY_URL = f"{base}/sms"
    settings.WEBHOOK_TIMEOUT = 5
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    start = time.perf_counter()
    build_district(args.units, args.contacts, base)
    print(
        f"setup: {args.units} region units × {args.contacts} contacts with group robots "
        f"({time.perf_counter() - start:.1f} s, SQLite)"
    )
    duty = create_user(by=None, username="bench-duty", password="bench-pass-1", role="duty_officer")
    alert = services.create_draft(
        by=duty,
        kind="warning",
        hazard_type="rainstorm",
        level="blue",
        headline="城中区气象台发布暴雨蓝色预警",
        body="预计未来12小时全区降雨量将达50毫米以上,请做好防范。",
        instructions="山洪易发区人员提前转移。",
        regions=["630103"],
    )

    # 2. issue (URLs loaded first, as in a running server)
    reverse("alerts-list")
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        services.issue(alert, by=duty)
        issue_s = time.perf_counter() - t0
    counts = {
        "recipients": Recipient.objects.count(),
        "calls": Call.objects.count(),
        "dispatches": Dispatch.objects.count(),
        "notifications": Notification.objects.count(),
        "webhooks": WebhookDelivery.objects.count(),
    }
    print(
        f"\n1. services.issue() to {counts['recipients']} units: {issue_s * 1000:,.0f} ms, "
        f"{len(queries.captured_queries)} SQL queries; wrote "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )

    # 3. delivery
    Robot.received = 0
    sent, seconds = deliver_all()
    print(
        f"\n2. delivery loop (core notify deliver_due, one transaction and one POST each) to a "
        f"local server: {sent} SMS and robot messages in {seconds:.1f} s = "
        f"{sent / seconds:,.0f} deliveries/s (server received {Robot.received})"
    )
    delivered = Recipient.objects.filter(state="delivered").count()
    print(f"   units now shown delivered: {delivered} of {counts['recipients']}")

    # 4. escalation sweep
    due = alert.recipients.order_by("next_escalation_at").first().next_escalation_at
    t0 = time.perf_counter()
    steps = services.escalate_due(now=due + datetime.timedelta(seconds=1))
    sweep_s = time.perf_counter() - t0
    print(
        f"\n3. escalation sweep at the first deadline, nobody answered: {steps} units stepped to "
        f"their next contact in {sweep_s:.1f} s = {steps / sweep_s:,.0f} steps/s "
        f"(one transaction each, with its audit entry)"
    )
    sent, seconds = deliver_all()
    print(f"   their {sent} messages delivered in {seconds:.1f} s = {sent / seconds:,.0f}/s")


if __name__ == "__main__":
    main()
