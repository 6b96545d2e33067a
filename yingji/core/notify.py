"""The notification outbox and its delivery.

Rows are written in the business act's transaction, and so is the task that wakes the
worker (the task queue lives in the same database), so a committed act always has its
notifications queued and a rolled-back one has none.
"""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django_tasks import task

from yingji.core.models import Notification, WebhookDelivery

log = logging.getLogger(__name__)
DEFAULT_CHANNELS = (Notification.Channel.INAPP, Notification.Channel.EMAIL)

# Callables run after each delivery pass with its counts (apps add theirs in ready(): alerts
# marks the units whose messages got through as delivered). core imports no domain app.
AFTER_DELIVERY: list = []


class WebhookRefused(Exception):
    """HTTP 200 with {"errcode": N != 0}: how WeCom and DingTalk robots say no."""

    def __init__(self, status: int, errcode, errmsg: str = "") -> None:
        super().__init__(f"errcode {errcode}: {errmsg}".strip())
        self.code = status  # read as the response status, as for an HTTPError


def notify(
    recipients: Iterable,
    subject: str,
    body: str = "",
    *,
    link: str = "",
    channels: Iterable[str] = DEFAULT_CHANNELS,
) -> list[Notification]:
    """Queue a message to users; in-app messages show at once, others go via the worker."""
    now = timezone.now()
    rows = []
    for user in recipients:
        for channel in channels:
            if channel == Notification.Channel.EMAIL and not user.email:
                continue
            inapp = channel == Notification.Channel.INAPP
            rows.append(
                Notification(
                    recipient=user,
                    channel=channel,
                    subject=subject[:200],
                    body=body,
                    link=link,
                    created_at=now,
                    next_attempt_at=now,
                    status=Notification.Status.SENT if inapp else Notification.Status.PENDING,
                    sent_at=now if inapp else None,
                )
            )
    with transaction.atomic():
        Notification.objects.bulk_create(rows)
        if any(r.status == Notification.Status.PENDING for r in rows):
            deliver_outbox.enqueue()
    return rows


def email_address(address: str, subject: str, body: str) -> Notification:
    """Queue an email to someone without an account, in the caller's transaction."""
    with transaction.atomic():
        row = Notification.objects.create(
            address=address, channel=Notification.Channel.EMAIL, subject=subject[:200], body=body
        )
        deliver_outbox.enqueue()
    return row


def queue_webhook(url: str, payload: dict, *, purpose: str) -> WebhookDelivery:
    """Queue a JSON POST in the caller's transaction; the worker delivers and retries it."""
    with transaction.atomic():
        row = WebhookDelivery.objects.create(url=url, payload=payload, purpose=purpose)
        deliver_outbox.enqueue()
    return row


def queue_many(
    notifications: Iterable[Notification], webhooks: Iterable[WebhookDelivery], *, wake=True
) -> bool:
    """Save prepared outbox rows with bulk inserts (a fan-out to many units) in the caller's
    transaction, and wake the worker once; whether any row waits for delivery. A caller
    queueing in many small transactions passes wake=False and calls wake() once after."""
    notifications, webhooks = list(notifications), list(webhooks)
    waiting = bool(webhooks) or any(n.status == Notification.Status.PENDING for n in notifications)
    with transaction.atomic():
        Notification.objects.bulk_create(notifications, batch_size=500)
        WebhookDelivery.objects.bulk_create(webhooks, batch_size=500)
        if waiting and wake:
            deliver_outbox.enqueue()
    return waiting


def wake() -> None:
    """Have the worker deliver what is due (rows queued with wake=False)."""
    deliver_outbox.enqueue()


def _refusal(status: int, raw: bytes) -> WebhookRefused | None:
    """A robot's {"errcode": N} answer with N != 0 (any JSON that is not such is fine)."""
    import json

    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(answer, dict) or answer.get("errcode") in (None, 0, "0"):
        return None
    return WebhookRefused(status, answer["errcode"], str(answer.get("errmsg", ""))[:500])


def _post(row: WebhookDelivery) -> int:
    import json
    import urllib.request

    body = json.dumps(row.payload, ensure_ascii=False).encode()
    request = urllib.request.Request(
        row.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "yingji-webhook/1",
        },
    )
    with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
        refused = _refusal(response.status, response.read(64 * 1024))
        if refused is not None:
            raise refused
        return response.status


def deliver_webhook(row_id: int) -> str | None:
    """POST one due webhook under a row lock; any non-2xx answer, and a 200 carrying a
    non-zero errcode, is retried."""
    with transaction.atomic():
        row = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                pk=row_id,
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if row is None:
            return None
        row.attempts += 1
        try:
            row.response_status = _post(row)
        except Exception as exc:  # timeouts, refused connections, HTTP errors: retry
            row.response_status = getattr(exc, "code", None)
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                row.status = WebhookDelivery.Status.FAILED
            else:
                row.next_attempt_at = timezone.now() + backoff(row.attempts)
        else:
            row.status, row.sent_at, row.last_error = (
                WebhookDelivery.Status.SENT,
                timezone.now(),
                "",
            )
        row.save()
        return row.status


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _send(note: Notification) -> None:
    if note.channel == Notification.Channel.EMAIL:
        body = note.body
        if note.link:
            body = f"{body}\n\n{note.link}"
        to = note.address or note.recipient.email
        send_mail(note.subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    else:
        raise ValueError(f"no sender for channel {note.channel}")


def deliver_one(note_id: int) -> str | None:
    """Try one pending row under a row lock; return its new status."""
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(
                pk=note_id, status=Notification.Status.PENDING, next_attempt_at__lte=timezone.now()
            )
            .first()
        )
        if note is None:
            return None
        note.attempts += 1
        try:
            _send(note)
        except Exception as exc:  # any channel failure is retried, never lost
            log.warning("delivery of notification %s failed: %s", note.pk, exc)
            note.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if note.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                note.status = Notification.Status.FAILED
            else:
                note.next_attempt_at = timezone.now() + backoff(note.attempts)
        else:
            note.status = Notification.Status.SENT
            note.sent_at = timezone.now()
            note.last_error = ""
        note.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
        return note.status


def deliver_due(limit: int = 500) -> dict[str, int]:
    """Deliver every due row; the worker's task and tests call this."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    due = (
        Notification.objects.filter(
            status=Notification.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    hooks = (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    results = [deliver_one(pk) for pk in list(due)]
    results += [deliver_webhook(pk) for pk in list(hooks)]
    for status in results:
        if status == "sent":
            counts["sent"] += 1
        elif status == "failed":
            counts["failed"] += 1
        elif status == "pending":
            counts["retry"] += 1
    for hook in AFTER_DELIVERY:
        try:
            with transaction.atomic():  # a savepoint: a failed hook leaves the rest intact
                hook(counts)
        except Exception:  # a follow-up must never stop deliveries
            log.exception("after-delivery hook %r failed", hook)
    return counts


def schedule_next() -> None:
    """Wake the worker again when the earliest retry falls due."""
    times = [
        model.objects.filter(status="pending").aggregate(t=Min("next_attempt_at"))["t"]
        for model in (Notification, WebhookDelivery)
    ]
    nxt = min((t for t in times if t is not None), default=None)
    if nxt is None:
        return
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(
        task_path=deliver_outbox.module_path, status="READY", run_after__lte=nxt
    )
    if not queued.exists():
        deliver_outbox.using(run_after=max(nxt, timezone.now())).enqueue()


@task()
def deliver_outbox() -> dict[str, int]:
    counts = deliver_due()
    schedule_next()
    return counts
