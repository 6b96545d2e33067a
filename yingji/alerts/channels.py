"""What an alert says on each channel, and the outbox rows that carry it.

Every message carries the one-tap acknowledgement link of its call. The rows are built in
memory (unsaved) so that issuing to a thousand units saves them with a few bulk inserts; the
core outbox (core/notify.py) delivers and retries them.
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yingji.alerts.models import Alert, Call, Dispatch, Kind, Recipient, Unit
from yingji.core.models import Notification, WebhookDelivery

# Body text beyond this is cut in SMS and robot messages (the link must survive).
SHORT_BODY = 200
# Levels whose robot messages mention everyone in the group (@所有人).
MENTION_ALL_LEVELS = ("orange", "red")


class Reason:
    """Why a person is called: the first call, the unit's next contact, or above the unit."""

    FIRST = "first"
    NEXT = "next"
    ABOVE = "above"


def ack_url(call_or_token) -> str:
    token = call_or_token.token if isinstance(call_or_token, Call) else str(call_or_token)
    return settings.SITE_URL + reverse("alerts-ack-link", args=[token])


def bureau_language():
    """Messages are the bureau's, stored and sent in its language, not the issuer's UI's."""
    return translation.override(settings.LANGUAGE_CODE)


def title(alert: Alert) -> str:
    """暴雨红色预警: the name people know a warning by; other kinds use their headline."""
    if alert.kind == Kind.WARNING and alert.level:
        hazard = alert.get_hazard_type_display() if alert.hazard_type else ""
        return _("%(hazard)s %(level)s warning") % {
            "hazard": hazard,
            "level": alert.get_level_display(),
        }
    return alert.headline


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT_BODY else text[: SHORT_BODY - 1] + "…"


def _head(alert: Alert, unit: Unit, reason: str) -> str:
    """The message up to its link: sender, who has not answered, what, what to do, until."""
    parts = [f"【{settings.SITE_NAME}】"]
    if reason == Reason.NEXT:
        parts.append(_("%(unit)s has not confirmed receipt yet. ") % {"unit": unit.name})
    elif reason == Reason.ABOVE:
        parts.append(
            _("%(unit)s has not confirmed receipt; make sure they act. ") % {"unit": unit.name}
        )
    parts.append(alert.headline)
    if alert.body:
        parts.append(" " + _short(alert.body))
    if alert.instructions:
        parts.append(" " + _short(alert.instructions))
    if alert.valid_until:
        until = timezone.localtime(alert.valid_until)
        parts.append(" " + _("Valid until %(t)s.") % {"t": f"{until:%Y-%m-%d %H:%M}"})
    return "".join(parts)


def _tail(url: str) -> str:
    return " " + _("Tap to confirm receipt: %(url)s") % {"url": url}


def text(alert: Alert, unit: Unit, url: str, reason: str = Reason.FIRST) -> str:
    """One message for SMS, robot, email and in-app: sender, what, what to do, the link."""
    with bureau_language():
        return _head(alert, unit, reason) + _tail(url)


def subject(alert: Alert, reason: str = Reason.FIRST) -> str:
    with bureau_language():
        head = title(alert)
        if head != alert.headline:
            head = f"{head}: {alert.headline}"
        if reason != Reason.FIRST:
            head = _("Not yet acknowledged: %(s)s") % {"s": head}
        return head[:200]


class Texts:
    """What one fan-out says, each part worked out once rather than once per message: the
    first message is the same for every unit but for its link."""

    PLACEHOLDER = "TOKEN"

    def __init__(self) -> None:
        self._ack = ack_url(self.PLACEHOLDER).rsplit(self.PLACEHOLDER, 1)
        with bureau_language():
            self._tail = _tail(self.PLACEHOLDER).rsplit(self.PLACEHOLDER, 1)
        self._cache: dict[tuple, str] = {}

    def ack(self, token: str) -> str:
        return token.join(self._ack)

    def message(self, alert: Alert, unit: Unit, reason: str, token: str) -> str:
        key = ("head", alert.pk, reason, unit.pk if reason != Reason.FIRST else None)
        if key not in self._cache:
            with bureau_language():
                self._cache[key] = _head(alert, unit, reason)
        return self._cache[key] + self.ack(token).join(self._tail)

    def subject(self, alert: Alert, reason: str) -> str:
        key = ("subject", alert.pk, reason)
        if key not in self._cache:
            self._cache[key] = subject(alert, reason)
        return self._cache[key]

    def detail(self, alert: Alert) -> str:
        key = ("detail", alert.pk)
        if key not in self._cache:
            self._cache[key] = reverse("alerts-detail", args=[alert.pk])
        return self._cache[key]


def sms_payload(phone: str, message: str) -> dict:
    """The gateway's JSON (as tips/services.py sends it)."""
    return {"to": phone, "text": message}


def robot_payload(kind: str, message: str, *, mention_all: bool = False) -> dict:
    """A text message in the WeCom (企业微信) or DingTalk (钉钉) group-robot format."""
    payload = {"msgtype": "text", "text": {"content": message}}
    if mention_all:
        if kind == Unit.Robot.DINGTALK:
            payload["at"] = {"isAtAll": True}
        else:
            payload["text"]["mentioned_list"] = ["@all"]
    return payload


# -- the rows -------------------------------------------------------------------------------
@dataclass
class Person:
    """Someone on a rung: a contact of a unit (maybe with an account) or a user above it."""

    name: str
    contact: object = None  # Contact
    user: object = None  # User (active) to reach in the app
    phone: str = ""
    email: str = ""

    @classmethod
    def of_contact(cls, contact) -> "Person":
        user = contact.user if contact.user_id and contact.user.is_active else None
        return cls(
            name=contact.name,
            contact=contact,
            user=user,
            phone=contact.phone,
            email=contact.email or (user.email if user else ""),
        )

    @classmethod
    def of_user(cls, user) -> "Person":
        return cls(name=str(user), user=user, phone=user.phone, email=user.email)


@dataclass
class Outgoing:
    """Unsaved rows of a fan-out or a step: calls, outbox rows, the dispatches between."""

    calls: list
    notifications: list
    webhooks: list
    dispatches: list
    texts: Texts

    @classmethod
    def empty(cls, texts: Texts | None = None) -> "Outgoing":
        return cls([], [], [], [], texts or Texts())


def call_person(
    out: Outgoing, recipient: Recipient, person: Person, *, step: int, reason: str, now
) -> Call:
    """Queue one person's messages on every channel they can be reached through."""
    alert, unit = recipient.alert, recipient.unit
    call = Call(
        recipient=recipient,
        contact=person.contact,
        user=person.user,
        name=person.name[:100],
        step=step,
        at=now,
    )
    out.calls.append(call)
    message = out.texts.message(alert, unit, reason, call.token)
    head = out.texts.subject(alert, reason)
    if person.user is not None:
        note = Notification(
            recipient=person.user,
            channel=Notification.Channel.INAPP,
            subject=head,
            body=message,
            link=out.texts.detail(alert),
            status=Notification.Status.SENT,
            created_at=now,
            next_attempt_at=now,
            sent_at=now,
        )
        out.notifications.append(note)
        out.dispatches.append(_dispatch(recipient, call, Dispatch.Channel.INAPP, now, note=note))
    if person.phone and settings.SMS_GATEWAY_URL:
        hook = WebhookDelivery(
            url=settings.SMS_GATEWAY_URL,
            payload=sms_payload(person.phone, message),
            purpose="sms",
            created_at=now,
            next_attempt_at=now,
        )
        out.webhooks.append(hook)
        out.dispatches.append(_dispatch(recipient, call, Dispatch.Channel.SMS, now, hook=hook))
    if person.email:
        note = Notification(
            recipient=person.user,
            address=person.email,
            channel=Notification.Channel.EMAIL,
            subject=head,
            body=message,
            created_at=now,
            next_attempt_at=now,
        )
        out.notifications.append(note)
        out.dispatches.append(_dispatch(recipient, call, Dispatch.Channel.EMAIL, now, note=note))
    return call


def call_group(out: Outgoing, recipient: Recipient, *, now) -> Call | None:
    """The unit's group robot, with a call of its own: whoever in the group taps answers."""
    unit = recipient.unit
    if not unit.robot_url:
        return None
    kind = unit.robot_kind or Unit.Robot.WECOM
    with bureau_language():
        name = str(Unit.Robot(kind).label)[:100]
    call = Call(
        recipient=recipient,
        name=name,
        step=recipient.step,
        at=now,
    )
    out.calls.append(call)
    message = out.texts.message(recipient.alert, unit, Reason.FIRST, call.token)
    hook = WebhookDelivery(
        url=unit.robot_url,
        payload=robot_payload(
            kind, message, mention_all=recipient.alert.level in MENTION_ALL_LEVELS
        ),
        purpose="robot",
        created_at=now,
        next_attempt_at=now,
    )
    out.webhooks.append(hook)
    out.dispatches.append(_dispatch(recipient, call, Dispatch.Channel.ROBOT, now, hook=hook))
    return call


def _dispatch(recipient, call, channel, now, *, note=None, hook=None) -> Dispatch:
    return Dispatch(
        recipient=recipient, call=call, channel=channel, notification=note, webhook=hook, at=now
    )
