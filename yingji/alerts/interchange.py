"""The `alert` and `rollcall` record types: years of warnings and roll-calls from a ledger.

An imported alert is a record of something already sent: it is issued (or lifted) with
source `import`, one recipient per listed town or village, and its acknowledgements as the
file gives them. Nothing is sent and nothing escalates. A roll-call is its targets and who
of them answered.

The recipients and acknowledgements (the entries of a roll-call) belong to their record: an
import compares them as the export writes them and replaces them only when they differ, so
importing the same file again changes nothing.
"""

import datetime
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.alerts.models import (
    Alert,
    HazardType,
    Kind,
    Level,
    Recipient,
    RollCall,
    RollCallEntry,
    Unit,
)
from yingji.core import audit
from yingji.core.interchange import REF_RE, Context, Field, Problem, RecordType, register
from yingji.core.models import Region
from yingji.core.roles import REGIONAL


def _parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def local_iso(value: datetime.datetime) -> str:
    """A stored time as the files write it: Asia/Shanghai with its offset."""
    return timezone.localtime(value).isoformat()


def split_ack(text: str) -> tuple[str, datetime.datetime]:
    """`regionref@ISO-time` → (ref, aware time); ValueError when it is not one."""
    ref, at, when = text.rpartition("@")
    if not at or not REF_RE.match(ref):
        raise ValueError(text)
    moment = _parse_time(when)
    if moment.tzinfo is None:
        raise ValueError(text)
    return ref, moment


def _in_utc(values: dict) -> dict:
    """Times as the database gives them back (UTC), so an unchanged record compares equal."""
    return {
        k: v.astimezone(datetime.UTC) if isinstance(v, datetime.datetime) else v
        for k, v in values.items()
    }


def _ack_entry(value: object) -> None:
    try:
        split_ack(str(value))
    except ValueError:
        raise ValidationError(
            _("“%(value)s” is not an acknowledgement written REGIONREF@ISO-TIME-WITH-OFFSET")
            % {"value": value}
        ) from None


def _towns_and_villages(ctx: Context, region_ids: set[int]) -> dict[int, str]:
    """region id → level, from a cache the import shares (regions are written first)."""
    levels = ctx.memo("alerts_region_levels", dict)
    missing = [pk for pk in region_ids if pk not in levels]
    if missing:
        levels.update(Region.objects.filter(pk__in=missing).values_list("pk", "level"))
    return levels


def _scoped(qs, user, path_lookup: str):
    """Limit the region rows of a record to a town or village officer's own area."""
    if user is not None and user.role in REGIONAL:
        return qs.filter(**{path_lookup: user.region.path if user.region_id else "-"})
    return qs


def limit_minutes(level: str) -> int:
    minutes = settings.ALERT_ESCALATION_MINUTES
    return minutes.get(level or "none", minutes.get("none", 60))


def unanswered_state(alert: Alert, now: datetime.datetime) -> str:
    """An imported recipient without an acknowledgement: past its level's limit, no answer."""
    if alert.issued_at + datetime.timedelta(minutes=limit_minutes(alert.level)) < now:
        return Recipient.State.UNANSWERED
    return Recipient.State.DELIVERED


def _allowed(batch, ctx: Context, capability: str) -> list:
    """Alerts and roll-calls are written by those who may issue or hold them, import or not:
    an imported alert is issued and may be public at once."""
    if ctx.actor is None or ctx.actor.can(capability):
        return batch
    for _ref, loc, _data in batch:
        ctx.problems.append(Problem(loc, "type", _("you may not import these records")))
    return []


class AlertType(RecordType):
    type = "alert"
    model = Alert
    fields = (
        Field("kind", kind="enum", required=True, choices=tuple(Kind.values)),
        Field("issued_at", kind="datetime", required=True),
        Field("title", required=True, max_length=200),
        Field("level", kind="enum", choices=tuple(Level.values)),
        Field("hazard_type", kind="enum", choices=tuple(HazardType.values)),
        Field("body", max_length=10000),
        Field("instructions", max_length=5000),
        Field("public", kind="bool", default=True),
        Field("valid_until", kind="datetime"),
        Field("lifted_at", kind="datetime"),
        Field("recipients", kind="ref", many=True, ref_type="region"),
        Field("acks", many=True, validators=(_ack_entry,)),
    )

    def check(self, data: dict) -> list[tuple[str, str]]:
        problems = []
        issued = _parse_time(data["issued_at"])
        for name in ("valid_until", "lifted_at"):
            if data.get(name) and _parse_time(data[name]) < issued:
                problems.append((name, _("cannot be before the time of issue")))
        if not data.get("title"):
            problems.append(("title", _("write the alert's title")))
        recipients = set(data.get("recipients", ()))
        seen: set[str] = set()
        for entry in data.get("acks", ()):
            ref, moment = split_ack(entry)
            if ref not in recipients:
                problems.append(
                    ("acks", _("“%(ref)s” acknowledged but is not a recipient") % {"ref": ref})
                )
            if ref in seen:
                problems.append(("acks", _("“%(ref)s” acknowledged twice") % {"ref": ref}))
            seen.add(ref)
            if moment < issued:
                problems.append(
                    ("acks", _("“%(ref)s” acknowledged before the alert was issued") % {"ref": ref})
                )
        return problems

    def model_values(self, data: dict, ctx: Context) -> dict:
        values = super().model_values(data, ctx)
        for name in ("recipients", "acks"):
            values.pop(name)
        values["headline"] = values.pop("title")
        values["status"] = Alert.Status.LIFTED if values["lifted_at"] else Alert.Status.ISSUED
        return _in_utc(values)

    def prepare(self, obj: Alert, ctx: Context) -> None:
        if obj.pk is None:
            obj.source = Alert.Source.IMPORT
        if obj.source == Alert.Source.IMPORT:
            obj.created_at = obj.issued_at
            obj.valid_from = obj.issued_at

    def write(self, batch, ctx: Context) -> list[audit.Change]:
        batch = _allowed(batch, ctx, "alert.issue")
        # A draft or an alert awaiting approval was never sent: a ledger cannot replace it.
        unsent = set(
            Alert.objects.filter(ref__in=[ref for ref, _l, _d in batch])
            .exclude(status__in=(Alert.Status.ISSUED, Alert.Status.LIFTED))
            .values_list("ref", flat=True)
        )
        for ref, loc, _data in batch:
            if ref in unsent:
                ctx.problems.append(
                    Problem(
                        loc, "ref", _("this alert was never issued; an import cannot replace it")
                    )
                )
        batch = [item for item in batch if item[0] not in unsent]
        changes = super().write(batch, ctx)
        ctx.prefetch("alert", (ref for ref, _l, _d in batch))
        ctx.prefetch("region", (r for _r, _l, d in batch for r in d.get("recipients", ())))
        alert_ids = {ref: ctx.resolve("alert", ref) for ref, _l, _d in batch}
        alerts = Alert.objects.in_bulk(list(alert_ids.values()))
        held = _held_recipients(list(alert_ids.values()))
        by_alert = {c.target.pk: c for c in changes if c.target is not None}
        wanted: dict[int, dict[int, datetime.datetime | None]] = {}
        for ref, loc, data in batch:
            alert = alerts[alert_ids[ref]]
            regions = {r: ctx.resolve("region", r) for r in data.get("recipients", ())}
            levels = _towns_and_villages(ctx, set(regions.values()))
            if any(levels[pk] == Region.Level.DISTRICT for pk in regions.values()):
                ctx.problems.append(
                    Problem(loc, "recipients", _("choose towns and villages, not the district"))
                )
                continue
            acks = dict(split_ack(a) for a in data.get("acks", ()))
            new = {regions[r]: acks.get(r) for r in regions}
            old = held.get(alert.pk, {})
            change = by_alert.get(alert.pk)
            if _same(old, new):
                if change is not None and alert.source == Alert.Source.IMPORT:
                    # The time of issue or the level may have moved: states follow.
                    wanted[alert.pk] = new
                continue
            if alert.source != Alert.Source.IMPORT:
                ctx.problems.append(
                    Problem(
                        loc,
                        "recipients",
                        _(
                            "the recipients of an alert sent from this platform are its "
                            "delivery record and cannot be replaced by an import"
                        ),
                    )
                )
                continue
            wanted[alert.pk] = new
            summary_old, summary_new = _summary(ctx, old), _summary(ctx, new)
            if change is None:
                change = audit.Change("update", alert, {}, {}, note="import")
                changes.append(change)
            if change.before is not None:
                change.before.update(summary_old)
            change.after.update(summary_new)
        if wanted:
            _replace_recipients(ctx, alerts, wanted, changes)
        return changes

    def export_queryset(self, user=None):
        return (
            super()
            .export_queryset(user)
            .filter(status__in=(Alert.Status.ISSUED, Alert.Status.LIFTED))
        )

    def export_records(self, user=None, queryset=None) -> Iterator[dict]:
        qs = queryset if queryset is not None else self.export_queryset(user)
        qs = qs.filter(issued_at__isnull=False).order_by("pk")
        chunk: list[Alert] = []
        for alert in qs.iterator(chunk_size=500):
            chunk.append(alert)
            if len(chunk) == 500:
                yield from self._export_chunk(chunk, user)
                chunk = []
        yield from self._export_chunk(chunk, user)

    def _export_chunk(self, alerts: list[Alert], user) -> Iterator[dict]:
        rows = Recipient.objects.filter(
            alert__in=[a.pk for a in alerts], unit__region__isnull=False
        ).values_list("alert_id", "unit__region__ref", "acknowledged_at")
        rows = _scoped(rows, user, "unit__region__path__startswith")
        lists: dict[int, list] = {}
        for alert_id, ref, acked in rows.order_by("alert_id", "unit__region__ref"):
            lists.setdefault(alert_id, []).append((ref, acked))
        for a in alerts:
            record = {
                "type": self.type,
                "ref": a.ref,
                "kind": a.kind,
                "issued_at": local_iso(a.issued_at),
                "title": a.headline,
                "level": a.level,
                "hazard_type": a.hazard_type,
                "body": a.body,
                "instructions": a.instructions,
                "public": None if a.public else False,  # true is the default
                "valid_until": local_iso(a.valid_until) if a.valid_until else None,
                "lifted_at": local_iso(a.lifted_at) if a.lifted_at else None,
                "recipients": [ref for ref, _at in lists.get(a.pk, ())],
                "acks": [f"{ref}@{local_iso(at)}" for ref, at in lists.get(a.pk, ()) if at],
            }
            yield {k: v for k, v in record.items() if v not in (None, "", [])}


def _held_recipients(alert_ids: list[int]) -> dict[int, dict[int, datetime.datetime | None]]:
    """alert id → {region id: acknowledged at} of its town and village recipients."""
    held: dict[int, dict] = {}
    rows = Recipient.objects.filter(alert_id__in=alert_ids, unit__region__isnull=False)
    for alert_id, region_id, acked in rows.values_list(
        "alert_id", "unit__region_id", "acknowledged_at"
    ):
        held.setdefault(alert_id, {})[region_id] = acked
    return held


def _same(old: dict, new: dict) -> bool:
    """Equal as the export would write them (to the second, whatever the offset)."""
    if old.keys() != new.keys():
        return False
    for key, at in new.items():
        was = old[key]
        if (was is None) != (at is None):
            return False
        if at is not None and abs((was - at).total_seconds()) >= 1:
            return False
    return True


def _summary(ctx: Context, rows: dict[int, datetime.datetime | None]) -> dict:
    refs = ctx.memo("alerts_region_refs", lambda: dict(Region.objects.values_list("pk", "ref")))
    ordered = sorted((refs[pk], at) for pk, at in rows.items())
    return {
        "recipients": [ref for ref, _at in ordered],
        "acks": [f"{ref}@{local_iso(at)}" for ref, at in ordered if at is not None],
    }


def _units_for(ctx: Context, region_ids: set[int], changes: list[audit.Change]) -> dict[int, int]:
    """region id → its recipient unit's id; a town or village without one gets it now."""
    units: dict[int, int] = ctx.memo("alerts_units", dict)
    missing = region_ids - units.keys()
    if missing:
        units.update(
            Unit.objects.filter(region_id__in=missing).values_list("region_id", "pk").iterator()
        )
    missing = region_ids - units.keys()
    if missing:
        for region in Region.objects.filter(pk__in=missing).order_by("path"):
            unit = Unit.objects.create(kind=Unit.Kind.REGION, region=region, name=region.name)
            units[region.pk] = unit.pk
            change = audit.Change("create", unit, None, audit.snapshot(unit), note="import")
            change.counted = False  # comes with the alert that needs it
            changes.append(change)
    return units


def _replace_recipients(
    ctx: Context, alerts: dict[int, Alert], wanted: dict[int, dict], changes: list
) -> None:
    """Make each alert's town and village recipients exactly the wanted ones."""
    units = _units_for(ctx, {r for rows in wanted.values() for r in rows}, changes)
    now = timezone.now()
    existing = {
        (r.alert_id, r.unit_id): r
        for r in Recipient.objects.filter(alert_id__in=list(wanted), unit__region__isnull=False)
    }
    creates, updates, keep = [], [], set()
    for alert_id, rows in wanted.items():
        alert = alerts[alert_id]
        for region_id, acked in rows.items():
            key = (alert_id, units[region_id])
            keep.add(key)
            values = {
                "state": Recipient.State.ACKNOWLEDGED if acked else unanswered_state(alert, now),
                "step": 0,
                "next_escalation_at": None,
                "delivered_at": alert.issued_at,
                "acknowledged_at": acked,
                "ack_method": Recipient.Method.IMPORT if acked else "",
            }
            row = existing.get(key)
            if row is None:
                creates.append({"alert_id": alert_id, "unit_id": key[1], **values})
                continue
            if row.acknowledged_at and acked and _same({0: row.acknowledged_at}, {0: acked}):
                values = {"delivered_at": alert.issued_at}  # keep how it was acknowledged
            elif not acked:
                values.update(ack_contact=None, ack_user=None, ack_name="", ack_note="")
            if any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                updates.append(row)
    gone = [r.pk for key, r in existing.items() if key not in keep]
    if gone:
        Recipient.objects.filter(pk__in=gone).delete()
    if updates:
        Recipient.objects.bulk_update(
            updates,
            [
                "state",
                "step",
                "next_escalation_at",
                "delivered_at",
                "acknowledged_at",
                "ack_method",
                "ack_contact",
                "ack_user",
                "ack_name",
                "ack_note",
            ],
            batch_size=500,
        )
    if creates:
        _insert_rows(Recipient, creates)


def _insert_rows(model, rows: list[dict]) -> None:
    """Insert rows of column values with one executemany.

    A year of alerts is some 30,000 recipients; bulk_create builds and prepares a model
    instance per row and sends statements of a few hundred rows, several times slower.
    Columns not given take their field's default.
    """
    opts = model._meta
    connection = connections[router.db_for_write(model)]
    fields = [f for f in opts.concrete_fields if f is not opts.auto_field]
    adapt = connection.ops.adapt_datetimefield_value

    def prep(f, value):
        if value is None or type(value) in (str, int, bool):
            return value
        if isinstance(value, str):  # a choice of TextChoices
            return str(value)
        if type(value) is datetime.datetime and timezone.is_aware(value):
            return adapt(value)
        return f.get_db_prep_save(value, connection)

    defaults = {f.attname: f.get_default() for f in fields}
    values = [[prep(f, row.get(f.attname, defaults[f.attname])) for f in fields] for row in rows]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(opts.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


class RollCallType(RecordType):
    type = "rollcall"
    model = RollCall
    fields = (
        Field("held_at", kind="datetime", required=True),
        Field("targets", kind="ref", required=True, many=True, ref_type="region"),
        Field("responded", kind="ref", many=True, ref_type="region"),
        Field("topic", max_length=200),
        Field("note", max_length=5000),
        Field("alert", kind="ref", ref_type="alert"),
    )

    def check(self, data: dict) -> list[tuple[str, str]]:
        stray = [r for r in data.get("responded", ()) if r not in data["targets"]]
        if stray:
            return [
                (
                    "responded",
                    _("not among the targets: %(refs)s") % {"refs": ", ".join(stray)},
                )
            ]
        return []

    def model_values(self, data: dict, ctx: Context) -> dict:
        values = super().model_values(data, ctx)
        values.pop("targets")
        values.pop("responded")
        return _in_utc(values)

    def write(self, batch, ctx: Context) -> list[audit.Change]:
        batch = _allowed(batch, ctx, "rollcall.manage")
        changes = super().write(batch, ctx)
        ctx.prefetch("rollcall", (ref for ref, _l, _d in batch))
        ctx.prefetch("region", (r for _r, _l, d in batch for r in d["targets"]))
        ids = {ref: ctx.resolve("rollcall", ref) for ref, _l, _d in batch}
        existing: dict[int, dict[int, RollCallEntry]] = {}
        for entry in RollCallEntry.objects.filter(rollcall_id__in=list(ids.values())):
            existing.setdefault(entry.rollcall_id, {})[entry.region_id] = entry
        by_call = {c.target.pk: c for c in changes if c.target is not None}
        calls = RollCall.objects.in_bulk(list(ids.values()))
        refs = ctx.memo("alerts_region_refs", lambda: dict(Region.objects.values_list("pk", "ref")))
        creates, updates, gone = [], [], []
        for ref, loc, data in batch:
            pk = ids[ref]
            targets = {ctx.resolve("region", r) for r in data["targets"]}
            answered = {ctx.resolve("region", r) for r in data.get("responded", ())}
            levels = _towns_and_villages(ctx, targets)
            if any(levels[r] == Region.Level.DISTRICT for r in targets):
                ctx.problems.append(
                    Problem(loc, "targets", _("choose towns and villages, not the district"))
                )
                continue
            held = existing.get(pk, {})
            old = {r: e.answered for r, e in held.items()}
            new = {r: r in answered for r in targets}
            if old == new:
                continue
            for region_id, yes in new.items():
                entry = held.get(region_id)
                if entry is None:
                    creates.append(RollCallEntry(rollcall_id=pk, region_id=region_id, answered=yes))
                elif entry.answered != yes:
                    # A follow-up written on the platform stays; a name goes with the answer.
                    entry.answered = yes
                    if not yes:
                        entry.answered_by = ""
                    updates.append(entry)
            gone += [e.pk for r, e in held.items() if r not in new]
            change = by_call.get(pk)
            if change is None:
                change = audit.Change("update", calls[pk], {}, {}, note="import")
                changes.append(change)
            if change.before is not None:
                change.before.update(_entry_summary(refs, old))
            change.after.update(_entry_summary(refs, new))
        if gone:
            RollCallEntry.objects.filter(pk__in=gone).delete()
        if updates:
            RollCallEntry.objects.bulk_update(updates, ["answered", "answered_by"])
        if creates:
            RollCallEntry.objects.bulk_create(creates, batch_size=500)
        return changes

    def export_records(self, user=None, queryset=None) -> Iterator[dict]:
        qs = queryset if queryset is not None else self.export_queryset(user)
        qs = qs.select_related("alert").order_by("pk")
        chunk: list[RollCall] = []
        for call in qs.iterator(chunk_size=500):
            chunk.append(call)
            if len(chunk) == 500:
                yield from self._export_chunk(chunk, user)
                chunk = []
        yield from self._export_chunk(chunk, user)

    def _export_chunk(self, calls: list[RollCall], user) -> Iterator[dict]:
        rows = RollCallEntry.objects.filter(rollcall__in=[c.pk for c in calls])
        rows = _scoped(rows, user, "region__path__startswith")
        entries: dict[int, list] = {}
        for call_id, ref, answered in rows.values_list(
            "rollcall_id", "region__ref", "answered"
        ).order_by("rollcall_id", "region__ref"):
            entries.setdefault(call_id, []).append((ref, answered))
        for call in calls:
            mine = entries.get(call.pk, [])
            record = {
                "type": self.type,
                "ref": call.ref,
                "held_at": local_iso(call.held_at),
                "targets": [ref for ref, _a in mine],
                "responded": [ref for ref, answered in mine if answered],
                "topic": call.topic,
                "note": call.note,
                "alert": call.alert.ref if call.alert_id else None,
            }
            yield {k: v for k, v in record.items() if v not in (None, "", [])}


def _entry_summary(refs: dict[int, str], rows: dict[int, bool]) -> dict:
    ordered = sorted((refs[pk], yes) for pk, yes in rows.items())
    return {
        "targets": [ref for ref, _yes in ordered],
        "responded": [ref for ref, yes in ordered if yes],
    }


register(AlertType())
register(RollCallType())
