"""The hash-chained audit log: every change to a domain record appends one link."""

import datetime
import decimal
import functools
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter

from django.db import connections, models, router
from django.utils import timezone

from yingji.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _json_default(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=_json_default))


# Values a JSON round trip gives back unchanged (exact types: a str-based enum member is not).
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _json_safe(value: object) -> object:
    """What jsonable() would give for one field value, without a JSON round trip for the
    common types (an import snapshots every record, and the round trip was its cost)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime.date):  # date and datetime
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return jsonable(value)


@functools.cache
def _snapshot_reader(model: type[models.Model], exclude: tuple[str, ...]) -> tuple:
    """(attnames, a function giving their values) for snapshot(), worked out once per model:
    an import snapshots every record, and reading all attributes with one attrgetter is
    cheaper than a value_from_object() call per field."""
    # A model lists secrets that must never reach the log in `audit_exclude`.
    hidden = {"password", *exclude, *getattr(model, "audit_exclude", ())}
    fields = [f for f in model._meta.concrete_fields if f.name not in hidden]
    names = tuple(f.attname for f in fields)
    if len(fields) > 1 and all(
        type(f).value_from_object is models.Field.value_from_object for f in fields
    ):
        return names, attrgetter(*names)
    return names, lambda obj: [f.value_from_object(obj) for f in fields]


def snapshot(obj: models.Model, exclude: Iterable[str] = ()) -> dict:
    """The record's own fields as JSON-safe values (foreign keys as ids)."""
    names, read = _snapshot_reader(type(obj), tuple(exclude))
    return {
        name: value if type(value) in _PLAIN else _json_safe(value)
        for name, value in zip(names, read(obj), strict=True)
    }


# The canonical JSON text of the hash: sorted keys, no spaces, characters as they are.
_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def entry_hash(
    prev_hash: str,
    seq: int,
    at: str,
    actor_name: str,
    action: str,
    target_type: str,
    target_id: str,
    before: object,
    after: object,
    note: str,
) -> str:
    link = [seq, at, actor_name, action, target_type, target_id]
    return _hash(prev_hash, link, _canonical(before), _canonical(after), note)


def _hash(prev_hash: str, link: list, before_json: str, after_json: str, note: str) -> str:
    """sha256 of prev_hash + the canonical JSON of [*link, before, after, note].

    The list's text is assembled from parts so that append() serialises before/after once
    and stores the same text in the JSON columns; it equals _canonical() of the whole list.
    """
    payload = f"{_canonical(link)[:-1]},{before_json},{after_json},{_canonical(note)}]"
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


@dataclass
class Change:
    action: str
    target: models.Model | None
    before: dict | None
    after: dict | None
    note: str = ""
    target_type: str = ""
    target_id: str = ""
    target_repr: str = ""
    # False for records a record type creates alongside (an imported act's own case), so
    # import counts stay per record.
    counted: bool = True


def _lock_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditHead.objects.bulk_create([AuditHead(pk=1)], ignore_conflicts=True)
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def _actor_name(actor) -> str:
    if actor is None:
        return "system"
    return actor.get_username()


_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "before",
    "after",
    "note",
    "prev_hash",
    "hash",
)


def _write(changes: list[Change], actor) -> tuple[int, int]:
    """Link changes onto the chain and insert them; (first seq, last seq).

    Rows go in with one executemany of plain values rather than bulk_create of model
    instances: a large import appends one entry per record, and building and preparing
    AuditEntry objects (in statements of 76 rows on SQLite) cost more than the hashing.
    """
    connection = connections[router.db_for_write(AuditEntry)]
    if not connection.in_atomic_block:
        raise RuntimeError("audit.append must run inside transaction.atomic()")
    head = _lock_head()
    now = timezone.now()
    at = now.isoformat()
    db_at = AuditEntry._meta.get_field("at").get_db_prep_save(now, connection)
    name = _actor_name(actor)
    actor_id = actor.pk if actor is not None else None
    rows = []
    first = head.seq + 1
    seq, prev = head.seq, head.hash
    for change in changes:
        seq += 1
        target = change.target
        target_type = change.target_type or (target._meta.label_lower if target else "")
        target_id = change.target_id or (str(target.pk) if target is not None else "")
        target_repr = change.target_repr or (str(target)[:200] if target is not None else "")
        # Serialised once: hashed, and stored as the JSON columns' text (NULL for None).
        before = _canonical(change.before) if change.before is not None else "null"
        after = _canonical(change.after) if change.after is not None else "null"
        link = [seq, at, name, change.action, target_type, target_id]
        note = change.note[:200]  # the column's size; hashed as stored
        digest = _hash(prev, link, before, after, note)
        rows.append(
            (
                seq,
                db_at,
                actor_id,
                name,
                change.action,
                target_type,
                target_id,
                target_repr,
                before if change.before is not None else None,
                after if change.after is not None else None,
                note,
                prev,
                digest,
            )
        )
        prev = digest
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(AuditEntry._meta.db_table),
        ", ".join(quote(AuditEntry._meta.get_field(c).column) for c in _COLUMNS),
        ", ".join(["%s"] * len(_COLUMNS)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    head.seq, head.hash = seq, prev
    head.save(update_fields=["seq", "hash"])
    return first, seq


def append(changes: list[Change], *, actor) -> list[AuditEntry]:
    """Append changes to the chain; must run inside the business act's transaction."""
    if not changes:
        return []
    first, last = _write(changes, actor)
    return list(AuditEntry.objects.filter(seq__gte=first, seq__lte=last).order_by("seq"))


def append_many(changes: list[Change], *, actor) -> int:
    """append() for bulk imports: the same entries, without reading them back; the count."""
    if not changes:
        return 0
    first, last = _write(changes, actor)
    return last - first + 1


def record(
    action: str, target: models.Model, *, actor, before=None, after=None, note: str = ""
) -> AuditEntry:
    return append([Change(action, target, before, after, note)], actor=actor)[0]


def history(target: models.Model):
    return AuditEntry.objects.filter(
        target_type=target._meta.label_lower, target_id=str(target.pk)
    ).select_related("actor")


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(progress=None) -> VerifyResult:
    """Recompute the chain from the start; name the first entry that does not fit."""
    prev, expected_seq, checked = GENESIS, 1, 0
    rows = AuditEntry.objects.order_by("seq").values_list(
        "seq",
        "at",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "before",
        "after",
        "note",
        "prev_hash",
        "hash",
    )
    for seq, at, actor, action, ttype, tid, before, after, note, prev_hash, digest in rows.iterator(
        chunk_size=2000
    ):
        if seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, "missing")
        if prev_hash != prev:
            return VerifyResult(False, checked, seq, "prev_hash")
        if (
            entry_hash(prev, seq, at.isoformat(), actor, action, ttype, tid, before, after, note)
            != digest
        ):
            return VerifyResult(False, checked, seq, "altered")
        prev, expected_seq, checked = digest, seq + 1, checked + 1
        if progress:
            progress(1)
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return VerifyResult(False, checked, expected_seq, "truncated")
    return VerifyResult(True, checked)


class tracking:  # noqa: N801  (used as a context manager, reads like a statement)
    """Audit an update made inside the block: `with audit.tracking(obj, actor=u): obj.x = 1`.

    The caller saves the object inside the block; the entry is appended on a clean exit.
    """

    def __init__(self, obj: models.Model, *, actor, note: str = "") -> None:
        self.obj, self.actor, self.note = obj, actor, note

    def __enter__(self) -> models.Model:
        self.before = snapshot(self.obj)
        return self.obj

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            record(
                "update",
                self.obj,
                actor=self.actor,
                before=self.before,
                after=snapshot(self.obj),
                note=self.note,
            )


def created(obj: models.Model, *, actor, note: str = "") -> AuditEntry:
    return record("create", obj, actor=actor, after=snapshot(obj), note=note)
