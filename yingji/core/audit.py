"""The hash-chained audit log: every change to a domain record appends one link."""

import datetime
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models, transaction
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


def snapshot(obj: models.Model, exclude: Iterable[str] = ()) -> dict:
    """The record's own fields as JSON-safe values (foreign keys as ids)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or field.name in ("password",):
            continue
        data[field.attname] = field.value_from_object(obj)
    return jsonable(data)


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
    payload = json.dumps(
        [seq, at, actor_name, action, target_type, target_id, before, after, note],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
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


def append(changes: list[Change], *, actor) -> list[AuditEntry]:
    """Append changes to the chain; must run inside the business act's transaction."""
    if not changes:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.append must run inside transaction.atomic()")
    head = _lock_head()
    now = timezone.now()
    at = now.isoformat()
    name = _actor_name(actor)
    entries = []
    seq, prev = head.seq, head.hash
    for change in changes:
        seq += 1
        target = change.target
        target_type = change.target_type or (target._meta.label_lower if target else "")
        target_id = change.target_id or (str(target.pk) if target is not None else "")
        target_repr = change.target_repr or (str(target)[:200] if target is not None else "")
        digest = entry_hash(
            prev,
            seq,
            at,
            name,
            change.action,
            target_type,
            target_id,
            change.before,
            change.after,
            change.note,
        )
        entries.append(
            AuditEntry(
                seq=seq,
                at=now,
                actor=actor,
                actor_name=name,
                action=change.action,
                target_type=target_type,
                target_id=target_id,
                target_repr=target_repr,
                before=change.before,
                after=change.after,
                note=change.note,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    head.seq, head.hash = seq, prev
    head.save(update_fields=["seq", "hash"])
    return entries


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
