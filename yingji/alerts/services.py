"""The life of an alert and of each unit's copy of it (docs/alerts.md).

draft → (pending_approval →) issued → lifted, or cancelled before issue. Issuing expands the
target into recipient units, calls each unit's first contact on every channel it has, and
sets the unit's escalation deadline. The first acknowledgement of a unit (叫应) stops its
escalation; until then the worker's sweep calls the next rung of its ladder when the level's
time runs out (叫醒), and marks the unit unanswered when the ladder is exhausted.
"""

import datetime
import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from yingji.alerts import channels
from yingji.alerts.channels import Outgoing, Person, Reason
from yingji.alerts.models import (
    Alert,
    AlertTemplate,
    Call,
    Contact,
    Dispatch,
    Kind,
    Recipient,
    Unit,
)
from yingji.core import audit
from yingji.core import notify as outbox
from yingji.core.models import Region
from yingji.core.notify import notify, queue_many
from yingji.core.roles import REGIONAL, Role
from yingji.enterprises.models import Enterprise, Sector
from yingji.lib import times

# The fields a draft is written with (create_draft's keywords).
FIELDS = (
    "kind",
    "headline",
    "hazard_type",
    "level",
    "body",
    "instructions",
    "public",
    "valid_from",
    "valid_until",
    "regions",
    "extra_units",
    "sectors",
    "template",
    "source",
    "source_id",
    "sender",
)
# Who records that a unit answered the phone.
PHONE_RECORDERS = frozenset({Role.LEADER, Role.DUTY_OFFICER})
# What a unit's state is while nobody has answered (the board's open states).
OPEN_STATES = (
    Recipient.State.PENDING,
    Recipient.State.DELIVERED,
    Recipient.State.ESCALATED,
    Recipient.State.UNANSWERED,
)


# -- helpers -----------------------------------------------------------------------------------
def _require(by, *capabilities: str) -> None:
    """None is the system itself (an import, the worker); a person needs a capability."""
    if by is None:
        return
    if not getattr(by, "is_authenticated", False) or not any(by.can(c) for c in capabilities):
        raise PermissionDenied


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _lock(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def _state_error(message: str) -> ValidationError:
    return ValidationError({"status": message})


def escalation_minutes(level: str) -> int:
    """The level's time to acknowledge (settings.ALERT_ESCALATION_MINUTES, "none" without)."""
    table = settings.ALERT_ESCALATION_MINUTES
    return int(table.get(level or "none", table.get("none", 60)))


def _limit(alert: Alert) -> datetime.timedelta:
    return datetime.timedelta(minutes=escalation_minutes(alert.level))


def needs_approval(alert: Alert) -> bool:
    return alert.kind == Kind.WARNING and alert.level in settings.ALERT_APPROVAL_LEVELS


def ack_url(call_or_token) -> str:
    """The one-tap acknowledgement link of a call (absolute: it goes out by SMS)."""
    return channels.ack_url(call_or_token)


def _leaders():
    return get_user_model().objects.filter(role=Role.LEADER, is_active=True).order_by("pk")


# -- the area and the recipients ---------------------------------------------------------------
@dataclass
class Area:
    regions: list
    units: list


def _resolve_regions(values, errors: dict) -> list[Region]:
    """Regions given as objects, primary keys, references or administrative codes."""
    values = list(values or ())
    given = [v for v in values if isinstance(v, Region)]
    pks = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    names = [str(v).strip() for v in values if not isinstance(v, Region | int)]
    found = list(given)
    if pks or names:
        rows = list(
            Region.objects.filter(Q(pk__in=pks) | Q(ref__in=names) | Q(code__in=names, code__gt=""))
        )
        found += rows
        known = {r.pk for r in rows} | {r.ref for r in rows} | {r.code for r in rows}
        unknown = [str(v) for v in pks + names if v not in known]
        if unknown:
            errors["regions"] = _("Unknown region: %(r)s.") % {"r": ", ".join(unknown)}
    unique = {r.pk: r for r in found}
    return sorted(unique.values(), key=lambda r: r.path)


def _resolve_units(values, errors: dict) -> list[Unit]:
    values = list(values or ())
    given = [v for v in values if isinstance(v, Unit)]
    pks = []
    bad = []
    for v in values:
        if isinstance(v, Unit):
            continue
        try:
            pks.append(int(v))
        except (TypeError, ValueError):
            bad.append(str(v))
    rows = list(Unit.objects.filter(pk__in=pks)) if pks else []
    bad += [str(pk) for pk in pks if pk not in {u.pk for u in rows}]
    units = {u.pk: u for u in given + rows}
    inactive = [u.name for u in units.values() if not u.active]
    if bad:
        errors["extra_units"] = _("Unknown recipient unit: %(u)s.") % {"u": ", ".join(bad)}
    elif inactive:
        errors["extra_units"] = _("This unit no longer receives alerts: %(u)s.") % {
            "u": ", ".join(inactive)
        }
    return list(units.values())


def _split(sectors: str) -> list[str]:
    return [s for s in (sectors or "").split(",") if s]


def _resolve_sectors(value, errors: dict) -> str:
    """Stored as ",a,b,"; given as that, "a,b" or a list."""
    items = _split(value) if isinstance(value, str) else [str(s).strip() for s in value or ()]
    items = list(dict.fromkeys(s for s in items if s))
    unknown = [s for s in items if s not in Sector.values]
    if unknown:
        errors["sectors"] = _("Unknown sector: %(s)s.") % {"s": ", ".join(unknown)}
    return f",{','.join(items)}," if items else ""


def _units_of(alert: Alert, regions=None):
    """The expansion as a queryset: see recipients_for()."""
    regions = list(alert.regions.all()) if regions is None else regions
    within = Q()
    ent_within = Q()
    for region in regions:
        within |= Q(region__path__startswith=region.path)
        ent_within |= Q(enterprise__region__path__startswith=region.path)
    wanted = Q(pk__in=alert.extra_units.values("pk"))
    if regions:
        wanted |= Q(kind=Unit.Kind.REGION) & within
    if sectors := _split(alert.sectors):
        wanted |= (
            Q(
                kind=Unit.Kind.ENTERPRISE,
                enterprise__status=Enterprise.Status.ACTIVE,
                enterprise__sector__in=sectors,
            )
            & ent_within
        )
    return (
        Unit.objects.filter(active=True)
        .filter(wanted)
        .select_related("region")
        .order_by("kind", "name", "pk")
    )


def recipients_for(alert: Alert) -> list[Unit]:
    """The units an alert goes to: the region units inside the chosen area (a town covers
    its villages, the district every town and village), the extra units, and the active
    enterprises of the chosen sectors inside the area (the whole district if no area)."""
    return list(_units_of(alert))


# -- drafts ------------------------------------------------------------------------------------
def _aware(value):
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _prepare(alert: Alert, fields: dict) -> Area:
    """Set the given fields on the alert, resolve its area, and check the whole; raise with
    every field's message at once. Nothing is saved."""
    errors: dict = {}
    for name, value in fields.items():
        if name in ("regions", "extra_units"):
            continue
        if name == "sectors":
            value = _resolve_sectors(value, errors)
        elif name in ("valid_from", "valid_until"):
            value = _aware(value)
        elif name not in ("public", "template"):
            value = ("" if value is None else str(value)).strip()
        setattr(alert, name, value)
    area = Area(
        regions=_resolve_regions(fields["regions"], errors)
        if "regions" in fields
        else (list(alert.regions.all()) if alert.pk else []),
        units=_resolve_units(fields["extra_units"], errors)
        if "extra_units" in fields
        else (list(alert.extra_units.all()) if alert.pk else []),
    )
    _check(alert, area, errors)
    _raise(errors)
    return area


def _check(alert: Alert, area: Area, errors: dict) -> None:
    if alert.kind not in Kind.values:
        errors["kind"] = _("Choose what kind of alert this is.")
    if not alert.headline:
        errors["headline"] = _("Write the headline.")
    if alert.kind == Kind.WARNING and not alert.level:
        errors["level"] = _("A warning needs its level (blue, yellow, orange or red).")
    for name in ("valid_from", "valid_until"):
        moment = getattr(alert, name)
        if moment is not None and not times.usable(moment):
            errors[name] = _("This is not a usable time.")
            setattr(alert, name, None)
    if alert.valid_from and alert.valid_until and alert.valid_until <= alert.valid_from:
        errors["valid_until"] = _("The end of validity must come after its start.")
    elif (
        alert.valid_until
        and alert.source != Alert.Source.IMPORT
        and alert.valid_until <= timezone.now()
    ):
        errors["valid_until"] = _("This validity has already ended.")
    if not (area.regions or area.units or alert.sectors) and "regions" not in errors:
        errors["regions"] = _("Choose the towns or villages, or the recipients, to alert.")
    if alert.template is not None and not alert.template.active and alert._state.adding:
        errors["template"] = _("This template is not in use.")
    if (
        alert.source_id
        and Alert.objects.filter(
            source=alert.source, sender=alert.sender, source_id=alert.source_id
        )
        .exclude(pk=alert.pk)
        .exists()
    ):
        errors["source_id"] = _("An alert with this source identifier already exists.")
    try:
        alert.full_clean(
            exclude=["created_by", "approved_by", "issued_by", "lifted_by", "template"],
            validate_constraints=False,
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, messages)


def _set_area(alert: Alert, area: Area) -> None:
    alert.regions.set(area.regions)
    alert.extra_units.set(area.units)


def _area_note(area: Area, sectors: str) -> str:
    # Names, as a reader of the history knows them (the refs are in the record itself).
    parts = [r.name for r in area.regions] + [u.name for u in area.units]
    parts += [str(Sector(s).label) if s in Sector.values else s for s in _split(sectors)]
    return "area: " + "、".join(parts) if parts else ""


@transaction.atomic
def create_draft(
    *,
    by,
    kind,
    headline,
    hazard_type="",
    level="",
    body="",
    instructions="",
    public=True,
    valid_from=None,
    valid_until=None,
    regions=(),
    extra_units=(),
    sectors=(),
    template=None,
    source=Alert.Source.MANUAL,
    source_id="",
    sender="",
) -> Alert:
    """Write an alert; nothing is sent until it is issued."""
    _require(by, "alert.issue", "alert.ingest")
    fields = {
        "kind": kind,
        "headline": headline,
        "hazard_type": hazard_type,
        "level": level,
        "body": body,
        "instructions": instructions,
        "public": bool(public),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "regions": regions,
        "extra_units": extra_units,
        "sectors": sectors,
        "template": template,
        "source": source,
        "source_id": source_id,
        "sender": sender,
    }
    alert = Alert(created_by=by)
    area = _prepare(alert, fields)
    alert.save()
    _set_area(alert, area)
    audit.created(alert, actor=by, note=_area_note(area, alert.sectors))
    return alert


@transaction.atomic
def update_draft(alert: Alert, *, by, **fields) -> Alert:
    """Change a draft's fields (those given; the area when regions/extra_units are given)."""
    _require(by, "alert.issue", "alert.ingest")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"update_draft() got unexpected fields: {', '.join(sorted(unknown))}")
    alert = _lock(alert)
    if alert.status != Alert.Status.DRAFT:
        raise _state_error(_("Only a draft can be changed."))
    before = audit.snapshot(alert)
    area = _prepare(alert, fields)
    alert.save()
    if "regions" in fields or "extra_units" in fields:
        _set_area(alert, area)
    audit.record(
        "update",
        alert,
        actor=by,
        before=before,
        after=audit.snapshot(alert),
        note=_area_note(area, alert.sectors),
    )
    return alert


@transaction.atomic
def from_template(template: AlertTemplate, *, by, regions=(), **overrides) -> Alert:
    """A draft from a prepared template: choosing it and the area is all there is to do."""
    if not template.active:
        raise ValidationError({"template": _("This template is not in use.")})
    now = timezone.now()
    fields = {
        "kind": template.kind,
        "hazard_type": template.hazard_type,
        "level": template.level,
        "headline": template.headline,
        "body": template.body,
        "instructions": template.instructions,
        "public": template.public,
        "valid_from": now,
        "valid_until": now + datetime.timedelta(hours=template.valid_hours)
        if template.valid_hours
        else None,
        "template": template,
        "regions": regions,
    }
    fields.update(overrides)
    return create_draft(by=by, **fields)


# -- issue, approval, cancel, lift -------------------------------------------------------------
def _issuable_units(alert: Alert) -> list[Unit]:
    """The recipients, refusing an alert that has expired or reaches nobody."""
    errors = {}
    if alert.valid_until and alert.valid_until <= timezone.now():
        errors["valid_until"] = _("This validity has already ended.")
    units = list(_units_of(alert))
    if not units:
        errors["regions"] = _("No recipient unit is in the chosen area.")
    _raise(errors)
    return units


@transaction.atomic
def issue(alert: Alert, *, by) -> Alert:
    """Send it; a warning of a level that needs approval goes to the leaders first (a
    leader issuing it approves it)."""
    _require(by, "alert.issue", "alert.ingest")
    alert = _lock(alert)
    if alert.status != Alert.Status.DRAFT:
        raise _state_error(_("Only a draft can be issued."))
    units = _issuable_units(alert)
    if needs_approval(alert):
        if by is None or not by.can("alert.approve"):
            with audit.tracking(alert, actor=by, note="submitted for approval"):
                alert.status = Alert.Status.PENDING_APPROVAL
                alert.save(update_fields=["status"])
            with channels.bureau_language():
                asked = _("Approval needed: %(h)s") % {"h": channels.subject(alert)}
            notify(
                _leaders(),
                asked,
                alert.body[:500],
                link=reverse("alerts-detail", args=[alert.pk]),
            )
            return alert
        return _release(alert, by, units, approved=True)  # a leader issuing approves it
    return _release(alert, by, units)


@transaction.atomic
def approve(alert: Alert, *, by) -> Alert:
    """A leader approves a warning awaiting approval; it is issued at once."""
    if by is None or not by.can("alert.approve"):
        raise PermissionDenied
    alert = _lock(alert)
    if alert.status != Alert.Status.PENDING_APPROVAL:
        raise _state_error(_("This alert is not awaiting approval."))
    units = _issuable_units(alert)
    return _release(alert, by, units, approved=True)


@transaction.atomic
def reject(alert: Alert, *, by, reason: str) -> Alert:
    """A leader sends a warning back to draft with the reason; its writer is told."""
    if by is None or not by.can("alert.approve"):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why it is sent back.")})
    alert = _lock(alert)
    if alert.status != Alert.Status.PENDING_APPROVAL:
        raise _state_error(_("This alert is not awaiting approval."))
    with audit.tracking(alert, actor=by, note=f"sent back: {reason}"[:500]):
        alert.status = Alert.Status.DRAFT
        alert.save(update_fields=["status"])
    if alert.created_by_id and alert.created_by.is_active:
        with channels.bureau_language():
            told = _("Sent back: %(h)s") % {"h": alert.headline}
        notify(
            [alert.created_by],
            told,
            reason,
            link=reverse("alerts-detail", args=[alert.pk]),
        )
    return alert


@transaction.atomic
def cancel(alert: Alert, *, by) -> Alert:
    """Drop a draft or a warning awaiting approval; an issued alert is lifted instead."""
    _require(by, "alert.issue", "alert.ingest")
    alert = _lock(alert)
    if alert.status not in (Alert.Status.DRAFT, Alert.Status.PENDING_APPROVAL):
        raise _state_error(_("Only a draft or an alert awaiting approval can be cancelled."))
    with audit.tracking(alert, actor=by):
        alert.status = Alert.Status.CANCELLED
        alert.save(update_fields=["status"])
    return alert


@transaction.atomic
def lift(alert: Alert, *, by) -> Alert:
    """End an issued alert: escalation stops, and the people reached are told in the app.
    Acknowledgements still count afterwards."""
    _require(by, "alert.issue", "alert.ingest")
    alert = _lock(alert)
    if alert.status != Alert.Status.ISSUED:
        raise _state_error(_("Only an issued alert can be lifted."))
    stopped = alert.recipients.filter(next_escalation_at__isnull=False).update(
        next_escalation_at=None
    )
    with audit.tracking(alert, actor=by, note=f"escalation stopped for {stopped} units"):
        alert.status = Alert.Status.LIFTED
        alert.lifted_at, alert.lifted_by = timezone.now(), by
        alert.save(update_fields=["status", "lifted_at", "lifted_by"])
    calls = Call.objects.filter(recipient__alert=alert)
    reached = get_user_model().objects.filter(
        Q(pk__in=calls.values("user_id")) | Q(pk__in=calls.values("contact__user_id")),
        is_active=True,
    )
    with channels.bureau_language():
        told = _("Lifted: %(h)s") % {"h": channels.subject(alert)}
    notify(
        reached,
        told,
        alert.headline,
        link=reverse("alerts-detail", args=[alert.pk]),
        channels=["inapp"],
    )
    return alert


def _release(alert: Alert, by, units: list[Unit], *, approved: bool = False) -> Alert:
    """Issue now: one recipient row per unit, the first contact and the group robot called,
    every message queued, the escalation sweep scheduled — a few bulk inserts in all."""
    now = timezone.now()
    with audit.tracking(alert, actor=by, note=f"issued to {len(units)} units"):
        if approved:  # inside the tracking, so that the approval shows in the history
            alert.approved_by, alert.approved_at = by, now
        alert.status = Alert.Status.ISSUED
        alert.issued_at, alert.issued_by = now, by
        alert.save(update_fields=["status", "issued_at", "issued_by", "approved_by", "approved_at"])
    firsts: dict[int, Contact] = {}
    contacts = (
        Contact.objects.filter(unit__in=_units_of(alert).values("pk"))
        .select_related("user")
        .order_by("unit_id", "position", "pk")
    )
    for contact in contacts:
        firsts.setdefault(contact.unit_id, contact)
    deadline = now + _limit(alert)
    recipients = [
        Recipient(alert=alert, unit=unit, step=0, next_escalation_at=deadline) for unit in units
    ]
    out = Outgoing.empty()
    for recipient in recipients:  # rows refer to the unsaved recipients until saved below
        before = len(out.dispatches)
        if (contact := firsts.get(recipient.unit_id)) is not None:
            channels.call_person(
                out, recipient, Person.of_contact(contact), step=0, reason=Reason.FIRST, now=now
            )
        channels.call_group(out, recipient, now=now)
        sent = out.dispatches[before:]
        if not sent:
            recipient.next_escalation_at = now  # nobody to reach: go up the ladder at once
        elif any(d.channel == Dispatch.Channel.INAPP for d in sent):
            # An in-app message is there the moment it is written.
            recipient.state, recipient.delivered_at = Recipient.State.DELIVERED, now
    Recipient.objects.bulk_create(recipients, batch_size=500)
    _save(out)
    schedule_escalation(min(r.next_escalation_at for r in recipients))
    return alert


def _save(out: Outgoing, *, wake: bool = True) -> bool:
    """Calls, outbox rows and dispatches; whether anything waits for the worker."""
    Call.objects.bulk_create(out.calls, batch_size=500)
    waiting = queue_many(out.notifications, out.webhooks, wake=wake)
    Dispatch.objects.bulk_create(out.dispatches, batch_size=500)
    return waiting


def mark_delivered(counts: dict | None = None) -> int:
    """After a delivery pass (core notify's AFTER_DELIVERY): units of issued alerts with a
    message through are delivered."""
    if counts is not None and not counts.get("sent"):
        return 0
    through = Dispatch.objects.filter(recipient=OuterRef("pk")).filter(
        Q(notification__status="sent") | Q(webhook__status="sent")
    )
    return (
        Recipient.objects.filter(delivered_at__isnull=True, alert__status=Alert.Status.ISSUED)
        .filter(Exists(through))
        .update(
            delivered_at=timezone.now(),
            state=Case(
                When(state=Recipient.State.PENDING, then=Value(Recipient.State.DELIVERED)),
                default=F("state"),
            ),
        )
    )


# -- escalation (叫醒) --------------------------------------------------------------------------
class Ladders:
    """Units' escalation ladders; who is above a unit is read once per sweep, not per unit."""

    def __init__(self) -> None:
        self._above: dict = {}

    def above(self, unit: Unit) -> list[Person]:
        """Above a village: the head(s) of its town's unit; above anything else, or a town
        without a head contact: the bureau's leaders."""
        region = unit.region if unit.kind == Unit.Kind.REGION else None
        if region is not None and region.level == Region.Level.VILLAGE and region.parent_id:
            if region.parent_id not in self._above:
                heads = (
                    Contact.objects.filter(
                        unit__region_id=region.parent_id,
                        unit__active=True,
                        role=Contact.Role.HEAD,
                    )
                    .select_related("user")
                    .order_by("position", "pk")
                )
                self._above[region.parent_id] = [Person.of_contact(c) for c in heads]
            if self._above[region.parent_id]:
                return self._above[region.parent_id]
        if "leaders" not in self._above:
            self._above["leaders"] = [Person.of_user(u) for u in _leaders()]
        return self._above["leaders"]

    def rungs(self, unit: Unit) -> list[list[Person]]:
        """Rung 0 the first contact, then each next contact, then those above the unit."""
        contacts = unit.contacts.select_related("user").order_by("position", "pk")
        rungs = [[Person.of_contact(c)] for c in contacts] or [[]]
        rungs.append(self.above(unit))
        return rungs


def ladder(unit: Unit) -> list[list[Person]]:
    return Ladders().rungs(unit)


def _escalate_one(pk: int, now, ladders: Ladders, texts: channels.Texts) -> str:
    """One step of one unit, in one transaction under its row lock: the next rung's calls and
    messages and the recipient's new state commit together or not at all. "" when nothing
    was due, "step" for a step, "queued" for a step whose messages wait for the worker."""
    with transaction.atomic():
        recipient = (
            Recipient.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("alert", "unit", "unit__region")
            .filter(pk=pk, acknowledged_at__isnull=True, next_escalation_at__lte=now)
            .first()
        )
        if recipient is None:  # answered meanwhile, or another worker has it
            return ""
        # Deadlines up to `now` are due; the calls are made, and timed, now.
        stamp = timezone.now()
        alert = recipient.alert
        if alert.status != Alert.Status.ISSUED or (
            alert.valid_until is not None and alert.valid_until <= stamp
        ):  # lifted, or over: nobody is woken for it any more
            recipient.next_escalation_at = None
            recipient.save(update_fields=["next_escalation_at"])
            return ""
        rungs = ladders.rungs(recipient.unit)
        out = Outgoing.empty(texts)
        before = audit.snapshot(recipient)
        step = recipient.step + 1
        while step < len(rungs):
            reason = Reason.ABOVE if step == len(rungs) - 1 else Reason.NEXT
            for person in rungs[step]:
                channels.call_person(out, recipient, person, step=step, reason=reason, now=stamp)
            if out.dispatches:
                break
            step += 1  # nobody on this rung can be reached: on to the next
        if out.dispatches:
            recipient.step = step
            recipient.state = Recipient.State.ESCALATED
            recipient.escalated_at = recipient.escalated_at or stamp
            recipient.next_escalation_at = stamp + _limit(recipient.alert)
            note = f"escalated to step {step}"
        else:
            recipient.state = Recipient.State.UNANSWERED
            recipient.next_escalation_at = None
            note = "unanswered: ladder exhausted"
        waiting = _save(out, wake=False)
        recipient.save(update_fields=["step", "state", "escalated_at", "next_escalation_at"])
        audit.record(
            "update",
            recipient,
            actor=None,
            before=before,
            after=audit.snapshot(recipient),
            note=note,
        )
        return "queued" if waiting else "step"


def escalate_due(now=None) -> int:
    """The sweep: step every unit whose time ran out, one transaction each; the number of
    steps taken. A crash between units loses nothing and repeats nothing: the state is in
    the rows, and a unit's step commits with its calls."""
    now = now or timezone.now()
    due = list(
        Recipient.objects.filter(acknowledged_at__isnull=True, next_escalation_at__lte=now)
        .order_by("next_escalation_at", "pk")
        .values_list("pk", flat=True)
    )
    stepped, queued = 0, False
    ladders, texts = Ladders(), channels.Texts()
    try:
        for pk in due:
            result = _escalate_one(pk, now, ladders, texts)
            stepped += bool(result)
            queued = queued or result == "queued"
    finally:
        if queued:  # once for the sweep, not per unit (a killed worker's start wakes it too)
            outbox.wake()
    return stepped


def next_deadline():
    return Recipient.objects.filter(
        acknowledged_at__isnull=True, next_escalation_at__isnull=False
    ).aggregate(t=Min("next_escalation_at"))["t"]


def schedule_escalation(at=None) -> None:
    """Have a sweep wait for `at` (default: the earliest deadline) unless one waits already
    for that time or earlier."""
    from django_tasks_db.models import DBTaskResult

    at = at or next_deadline()
    if at is None:
        return
    waiting = DBTaskResult.objects.filter(
        task_path=escalate_alerts.module_path, status="READY"
    ).filter(Q(run_after__isnull=True) | Q(run_after__lte=at))
    if not waiting.exists():
        escalate_alerts.using(run_after=max(at, timezone.now())).enqueue()


def ensure_escalation_scheduled() -> None:
    """At worker start: deadlines that passed while it was stopped are swept at once."""
    schedule_escalation()


@task()
def escalate_alerts() -> int:
    """Sweep, then wait for the next deadline (the task keeps itself scheduled)."""
    stepped = escalate_due()
    schedule_escalation()
    return stepped


# -- acknowledgement (叫应) ---------------------------------------------------------------------
def _answerable_by(user) -> Q:
    """The recipients a user may answer for: their unit's, those they were called for, and a
    town or village officer's own region's."""
    mine = Q(unit__in=Contact.objects.filter(user=user).values("unit_id")) | Q(
        pk__in=Call.objects.filter(Q(user=user) | Q(contact__user=user)).values("recipient_id")
    )
    if user.role in REGIONAL and user.region_id:
        mine |= Q(unit__region_id=user.region_id)
    return mine


@transaction.atomic
def acknowledge(recipient: Recipient, *, method, by=None, call=None, name="", note="") -> bool:
    """Record that the unit has it. The first acknowledgement wins and stops escalation;
    later ones return False and change nothing."""
    return _acknowledge(recipient, method=method, by=by, call=call, name=name, note=note)


def _acknowledge(recipient, *, method, by, call, name, note, contact=None) -> bool:
    errors = {}
    if method not in Recipient.Method.values:
        errors["method"] = _("Unknown way of acknowledging.")
    name, note = (name or "").strip(), (note or "").strip()
    if len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    if len(note) > 300:
        errors["note"] = _("At most 300 characters.")
    if call is not None and call.recipient_id != recipient.pk:
        errors["call"] = _("This call is for another unit.")
    _raise(errors)
    locked = (
        Recipient.objects.select_for_update(of=("self",))
        .select_related("alert")
        .get(pk=recipient.pk)
    )
    if locked.alert.status not in (Alert.Status.ISSUED, Alert.Status.LIFTED):
        raise _state_error(_("This alert has not been issued."))
    if locked.acknowledged_at is not None:
        return False
    if contact is None and call is not None:
        contact = call.contact
    if contact is None and by is not None:
        contact = Contact.objects.filter(unit_id=locked.unit_id, user=by).first()
    if not name:
        if call is not None:
            name = call.name
        elif by is not None:
            name = str(by)
    with audit.tracking(locked, actor=by, note=f"acknowledged ({method})"):
        locked.state = Recipient.State.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.ack_method = method
        locked.ack_contact = contact
        locked.ack_user = by
        locked.ack_name = name[:100]
        locked.ack_note = note
        locked.next_escalation_at = None
        locked.save()
    recipient.refresh_from_db()
    return True


def acknowledge_token(token: str) -> Recipient:
    """The one-tap link (no login): the call's token names the unit and the person."""
    call = Call.objects.select_related("recipient", "contact").filter(token=str(token)[:64]).first()
    if call is None:
        raise Recipient.DoesNotExist("unknown acknowledgement token")
    acknowledge(call.recipient, method=Recipient.Method.LINK, call=call)
    return call.recipient


def acknowledge_in_app(recipient: Recipient, *, by) -> bool:
    """A contact of the unit, someone called for it, or its own officer answers in the app."""
    if by is None or not getattr(by, "is_authenticated", False) or not by.is_active:
        raise PermissionDenied
    if not Recipient.objects.filter(pk=recipient.pk).filter(_answerable_by(by)).exists():
        raise PermissionDenied
    call = (
        recipient.calls.filter(Q(user=by) | Q(contact__user=by))
        .select_related("contact")
        .order_by("-step", "-pk")
        .first()
    )
    return acknowledge(recipient, method=Recipient.Method.APP, by=by, call=call)


def record_phone_ack(recipient: Recipient, *, by, name, note="") -> bool:
    """The duty officer rang the unit and someone answered: who, and what they said."""
    if by is None or not getattr(by, "is_active", False) or by.role not in PHONE_RECORDERS:
        raise PermissionDenied
    if not (name or "").strip():
        raise ValidationError({"name": _("Write who answered the phone.")})
    with transaction.atomic():
        contact = Contact.objects.filter(unit_id=recipient.unit_id, name=name.strip()).first()
        call = recipient.calls.filter(contact=contact).last() if contact else None
        return _acknowledge(
            recipient,
            method=Recipient.Method.PHONE,
            by=by,
            call=call,
            name=name,
            note=note,
            contact=contact,
        )


def pending_for(user):
    """What the user still has to acknowledge, newest alert first."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Recipient.objects.none()
    return (
        Recipient.objects.filter(alert__status=Alert.Status.ISSUED, acknowledged_at__isnull=True)
        .filter(_answerable_by(user))
        .select_related("alert", "unit")
        .order_by("-alert__issued_at", "unit__name", "pk")
    )


# -- figures -----------------------------------------------------------------------------------
def _bounds(start, end) -> tuple[datetime.datetime, datetime.datetime]:
    """Local dates are inclusive (statistics.md); datetimes are taken as [start, end)."""

    def edge(value, next_day: bool) -> datetime.datetime:
        if isinstance(value, datetime.datetime):
            return _aware(value)
        day = value + datetime.timedelta(days=1) if next_day else value
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    return edge(start, False), edge(end, True)


def _rate(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def unit_figures(start, end, units=None) -> dict[Unit, dict]:
    """Per unit, over the alerts issued in the period: how many reached it, how many it
    acknowledged, the rate ("99.89", None when none reached it) and the median minutes from
    issue to its acknowledgement (Decimal, None when none). Keyed by Unit, by name; with
    `units`, every one of them (zeros included), otherwise each unit alerted in the period."""
    lo, hi = _bounds(start, end)
    rows = Recipient.objects.filter(
        alert__status__in=(Alert.Status.ISSUED, Alert.Status.LIFTED),
        alert__issued_at__gte=lo,
        alert__issued_at__lt=hi,
    )
    if units is not None:
        rows = rows.filter(unit__in=units)
    counts = {
        row["unit_id"]: row
        for row in rows.order_by()
        .values("unit_id")
        .annotate(
            sent=Count("pk"), acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False))
        )
    }
    waits: dict[int, list[datetime.timedelta]] = {}
    delays = (
        rows.filter(acknowledged_at__isnull=False)
        .annotate(
            wait=ExpressionWrapper(
                F("acknowledged_at") - F("alert__issued_at"), output_field=DurationField()
            )
        )
        .order_by()
        .values_list("unit_id", "wait")
    )
    for unit_id, wait in delays:
        waits.setdefault(unit_id, []).append(wait)
    if units is None:
        chosen = Unit.objects.filter(pk__in=list(counts))
    else:
        chosen = Unit.objects.filter(
            pk__in=units.values("pk")
            if isinstance(units, QuerySet)
            else [getattr(u, "pk", u) for u in units]
        )
    result = {}
    for unit in chosen.order_by("name", "pk"):
        row = counts.get(unit.pk, {"sent": 0, "acknowledged": 0})
        median = None
        if unit.pk in waits:
            seconds = statistics.median(w.total_seconds() for w in waits[unit.pk])
            median = (Decimal(str(seconds)) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)
        result[unit] = {
            "sent": row["sent"],
            "acknowledged": row["acknowledged"],
            "rate": _rate(row["acknowledged"], row["sent"]),
            "median_minutes": median,
        }
    return result
