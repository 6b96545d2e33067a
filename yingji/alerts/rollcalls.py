"""Video roll-calls (视频点调): the duty office calls towns and villages on video and records
who answered; a unit that missed the call is followed up until someone has seen to it.

Each function is one business act for a holder of `rollcall.manage`: it validates field by
field (ValidationError({field: message}), nothing changed), writes in one transaction and
appends to the audit log.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.alerts.models import Alert, RollCall, RollCallEntry
from yingji.core import audit
from yingji.core.models import Region
from yingji.core.roles import DISTRICT_WIDE, REGIONAL

# A roll-call is recorded as it happens or after; a clock a little fast is not refused.
CLOCK_SKEW = datetime.timedelta(minutes=5)
TOPIC_MAX, NAME_MAX, REMARK_MAX, FOLLOW_UP_MAX = 200, 100, 300, 300


def _require(by) -> None:
    if by is None or not by.can("rollcall.manage"):
        raise PermissionDenied


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def callable_regions() -> QuerySet:
    """The towns and villages a roll-call may reach, in the registry's order."""
    return Region.objects.filter(
        level__in=(Region.Level.TOWN, Region.Level.VILLAGE)
    ).select_related("parent")


def _check_answers(
    regions: list[Region], answered: dict, remarks: dict, errors: dict
) -> tuple[dict, dict]:
    """Names and remarks keyed by region id, stripped; problems go into `errors`."""
    ids = {r.pk for r in regions}
    names = {r.pk: (name or "").strip() for r, name in answered.items()}
    notes = {r.pk: (text or "").strip() for r, text in remarks.items()}
    if names.keys() - ids:
        errors["answered"] = _("Only a town or village that was called can answer.")
    elif any(len(n) > NAME_MAX for n in names.values()):
        errors["answered"] = _("A name has at most %(n)d characters.") % {"n": NAME_MAX}
    if notes.keys() - ids:
        errors["remarks"] = _("Remarks are for the towns and villages that were called.")
    elif any(len(n) > REMARK_MAX for n in notes.values()):
        errors["remarks"] = _("A remark has at most %(n)d characters.") % {"n": REMARK_MAX}
    return names, notes


def _summary(entries) -> dict:
    ordered = sorted(entries, key=lambda e: e.region.ref)
    return {
        "targets": [e.region.ref for e in ordered],
        "responded": [e.region.ref for e in ordered if e.answered],
    }


@transaction.atomic
def record_rollcall(
    *,
    by,
    held_at: datetime.datetime | None = None,
    topic: str = "",
    targets,
    answered: dict | None = None,
    remarks: dict | None = None,
    alert: Alert | None = None,
    note: str = "",
) -> RollCall:
    """Record a roll-call: the towns and villages called, and who answered ({region: name})."""
    _require(by)
    regions = list(dict.fromkeys(targets))
    errors: dict = {}
    now = timezone.now()
    held_at = held_at or now
    if held_at > now + CLOCK_SKEW:
        errors["held_at"] = _("A roll-call is recorded when it is held or after, not ahead.")
    topic, note = (topic or "").strip(), (note or "").strip()
    if len(topic) > TOPIC_MAX:
        errors["topic"] = _("At most %(n)d characters.") % {"n": TOPIC_MAX}
    if not regions:
        errors["targets"] = _("Choose the towns and villages that were called.")
    elif any(r.level not in (Region.Level.TOWN, Region.Level.VILLAGE) for r in regions):
        errors["targets"] = _("A roll-call calls towns and villages, not the district.")
    names, notes = _check_answers(regions, answered or {}, remarks or {}, errors)
    if alert is not None and alert.status not in (Alert.Status.ISSUED, Alert.Status.LIFTED):
        errors["alert"] = _("Only an issued alert can be followed by a roll-call.")
    _raise(errors)
    call = RollCall.objects.create(held_at=held_at, topic=topic, note=note, alert=alert, held_by=by)
    entries = [
        RollCallEntry(
            rollcall=call,
            region=r,
            answered=r.pk in names,
            answered_by=names.get(r.pk, ""),
            remark=notes.get(r.pk, ""),
        )
        for r in regions
    ]
    RollCallEntry.objects.bulk_create(entries)
    # One entry for the roll-call and whom it reached; later changes are audited per unit.
    after = {**audit.snapshot(call), **_summary(entries)}
    audit.append([audit.Change("create", call, None, after)], actor=by)
    return call


@transaction.atomic
def update_entries(
    rollcall: RollCall, *, by, answered: dict, remarks: dict | None = None
) -> list[RollCallEntry]:
    """Correct who answered ({region: name}) and the remarks; a unit left out did not answer.

    A late answer keeps the follow-up already written; the changed entries are returned.
    """
    _require(by)
    entries = list(
        RollCallEntry.objects.select_for_update()
        .filter(rollcall=rollcall)
        .select_related("region")
        .order_by("pk")
    )
    errors: dict = {}
    names, notes = _check_answers([e.region for e in entries], answered, remarks or {}, errors)
    _raise(errors)
    changes, changed = [], []
    for entry in entries:
        before = audit.snapshot(entry)
        entry.answered = entry.region_id in names
        entry.answered_by = names.get(entry.region_id, "")
        entry.remark = notes.get(entry.region_id, "")
        after = audit.snapshot(entry)
        if after != before:
            changes.append(audit.Change("update", entry, before, after))
            changed.append(entry)
    if changed:
        RollCallEntry.objects.bulk_update(changed, ["answered", "answered_by", "remark"])
        audit.append(changes, actor=by)
    return changed


@transaction.atomic
def follow_up(entry: RollCallEntry, *, by, note: str) -> RollCallEntry:
    """Close a missed roll-call with what was done about it (called back, talked to, warned)."""
    _require(by)
    entry = RollCallEntry.objects.select_for_update().get(pk=entry.pk)
    note = (note or "").strip()
    errors: dict = {}
    if entry.answered:
        errors["entry"] = _("This town or village answered; there is nothing to follow up.")
    elif entry.followed_up_at is not None:
        errors["entry"] = _("This missed roll-call was already followed up.")
    if not note:
        errors["note"] = _("Write what was done about the missed roll-call.")
    elif len(note) > FOLLOW_UP_MAX:
        errors["note"] = _("At most %(n)d characters.") % {"n": FOLLOW_UP_MAX}
    _raise(errors)
    with audit.tracking(entry, actor=by, note="follow-up"):
        entry.followed_up_at, entry.follow_up_note = timezone.now(), note
        entry.save(update_fields=["followed_up_at", "follow_up_note"])
    return entry


# -- reading -------------------------------------------------------------------------------------
def entries_visible_to(user) -> QuerySet:
    """Roll-call entries in the user's scope: every one for staff, their area's for officers."""
    qs = RollCallEntry.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.role in DISTRICT_WIDE:
        return qs
    if user.role in REGIONAL and user.region_id:
        return qs.filter(region__path__startswith=user.region.path)
    return qs.none()


def missed(user) -> QuerySet:
    """Units that missed a roll-call and have not been followed up, oldest call first."""
    return (
        entries_visible_to(user)
        .filter(answered=False, followed_up_at__isnull=True)
        .select_related("rollcall", "region__parent")
        .order_by("rollcall__held_at", "rollcall_id", "region__path")
    )


def held_between(qs: QuerySet, start: datetime.date | None, end: datetime.date | None):
    """Roll-calls held on local dates start..end (either may be open)."""
    tz = timezone.get_current_timezone()
    if start:
        qs = qs.filter(held_at__gte=datetime.datetime.combine(start, datetime.time(0), tz))
    if end:
        after = end + datetime.timedelta(days=1)
        qs = qs.filter(held_at__lt=datetime.datetime.combine(after, datetime.time(0), tz))
    return qs


def with_counts(qs: QuerySet, user) -> QuerySet:
    """Annotate roll-calls with the units called, answered and missed, in the user's scope."""
    scope = Q()
    if user.role in REGIONAL and user.region_id:
        scope = Q(entries__region__path__startswith=user.region.path)
    return qs.annotate(
        n_called=Count("entries", filter=scope),
        n_answered=Count("entries", filter=scope & Q(entries__answered=True)),
        n_open=Count(
            "entries",
            filter=scope & Q(entries__answered=False, entries__followed_up_at__isnull=True),
        ),
    )
