import datetime
import decimal
import hashlib
import json
import uuid

import pytest
from django.core.management import call_command
from django.db import transaction

from yingji.core import audit
from yingji.core.models import AuditEntry, Region
from yingji.enterprises import services


def test_every_change_appends_a_linked_entry(world):
    before = AuditEntry.objects.count()
    services.update_enterprise(world.ent_a, by=world.inspector, name="青海甲工贸新名称有限公司")
    entries = list(AuditEntry.objects.order_by("seq"))
    assert len(entries) == before + 1
    last = entries[-1]
    assert last.action == "update"
    assert last.actor == world.inspector
    assert last.before["name"] == "青海甲工贸有限公司"
    assert last.after["name"] == "青海甲工贸新名称有限公司"
    assert last.prev_hash == entries[-2].hash
    assert audit.verify().ok


def test_verify_names_the_first_altered_entry(world, capsys):
    services.update_enterprise(world.ent_a, by=world.inspector, address="新地址1号")
    services.update_enterprise(world.ent_a, by=world.inspector, address="新地址2号")
    target = AuditEntry.objects.order_by("seq")[2]
    AuditEntry.objects.filter(pk=target.pk).update(after={"name": "tampered"})
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == target.seq
    assert result.reason == "altered"
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify", verbosity=0)
    assert exc.value.code == 1
    assert f"#{target.seq}" in capsys.readouterr().err


def test_verify_notices_a_deleted_entry(world):
    services.update_enterprise(world.ent_a, by=world.inspector, address="新地址1号")
    middle = AuditEntry.objects.order_by("seq")[1]
    AuditEntry.objects.filter(pk=middle.pk).delete()
    result = audit.verify()
    assert (result.ok, result.broken_seq, result.reason) == (False, middle.seq, "missing")


def test_verify_notices_removed_tail(world):
    services.update_enterprise(world.ent_a, by=world.inspector, address="新地址1号")
    last = AuditEntry.objects.order_by("-seq").first()
    AuditEntry.objects.filter(pk=last.pk).delete()
    result = audit.verify()
    assert (result.ok, result.reason) == (False, "truncated")


def test_intact_chain_passes_the_command(world, capsys):
    call_command("audit", "verify", verbosity=0)
    assert "intact" in capsys.readouterr().out


def test_append_refuses_to_run_outside_a_transaction(transactional_db):
    region = Region(ref="X", name="x", level="district")
    with pytest.raises(RuntimeError):
        audit.append([audit.Change("create", region, None, {})], actor=None)


def _old_entry_hash(prev, seq, at, actor, action, ttype, tid, before, after, note):
    """The chain's hash as first defined: sha256 of prev + the canonical JSON of the list."""
    payload = json.dumps(
        [seq, at, actor, action, ttype, tid, before, after, note],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev + payload).encode()).hexdigest()


@pytest.mark.parametrize(
    "before, after",
    [
        (None, {"name": "青海甲工贸有限公司", "id": 7, "standardized": False}),
        ({"b": [1, 2.5, None], "a": {"z": '引号"与\\斜杠', "y": True}}, None),
        (None, None),
        ({"features": ",hot_work,", "created_at": "2025-01-02T03:04:05.123456+00:00"}, {}),
    ],
)
def test_entry_hash_is_unchanged_by_serialising_parts_once(before, after):
    args = ("a" * 64, 12, "2025-01-02T03:04:05+00:00", "管理员", "update", "x.y", "42")
    assert audit.entry_hash(*args, before, after, "import") == _old_entry_hash(
        *args, before, after, "import"
    )


def test_snapshot_gives_what_a_json_round_trip_gives(world):
    obj = world.ent_a
    raw = {f.attname: f.value_from_object(obj) for f in obj._meta.concrete_fields}
    assert audit.snapshot(obj) == audit.jsonable(raw)
    values = [
        datetime.date(2025, 2, 28),
        datetime.datetime(2025, 2, 28, 13, 5, 1, 17, tzinfo=datetime.UTC),
        decimal.Decimal("92750.00"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        Region.Level.TOWN,  # a str-based enum member
        [1, "a", None],
        {"k": 1.5},
        True,
        None,
    ]
    for value in values:
        assert audit._json_safe(value) == audit.jsonable(value)
        assert type(audit._json_safe(value)) is type(audit.jsonable(value))


def test_append_returns_the_saved_entries_and_stores_the_snapshots(world):
    with transaction.atomic():
        entries = audit.append(
            [
                audit.Change("update", world.ent_a, {"name": "旧"}, {"name": "新"}),
                audit.Change("create", world.ent_b, None, {"name": "乙", "n": 1}),
            ],
            actor=world.inspector,
        )
    assert [e.action for e in entries] == ["update", "create"]
    assert all(e.pk for e in entries)
    assert entries[1].seq == entries[0].seq + 1
    assert entries[1].prev_hash == entries[0].hash
    stored = AuditEntry.objects.get(pk=entries[0].pk)
    assert (stored.before, stored.after, stored.actor) == (
        {"name": "旧"},
        {"name": "新"},
        world.inspector,
    )
    assert AuditEntry.objects.get(pk=entries[1].pk).before is None
    assert AuditEntry.objects.filter(before__isnull=True, pk=entries[1].pk).exists()
    assert audit.verify().ok


def test_notes_read_in_the_users_language_values_included():
    from django.utils import translation

    from yingji.core.models import AuditEntry

    with translation.override("zh-hans"):
        assert AuditEntry(note="issued to 7 units").note_display == "已发送至7个单位"
        assert AuditEntry(note="area: 人民街街道、谢家寨村").note_display == (
            "预警范围:人民街街道、谢家寨村"
        )
        assert AuditEntry(note="acknowledged (link)").note_display == "一键链接叫应"
        assert AuditEntry(note="something else").note_display == "something else"


@pytest.mark.django_db
def test_a_long_note_is_stored_cut_to_its_column_and_the_chain_still_verifies(world):
    from yingji.core import audit
    from yingji.core.models import AuditEntry

    audit.created(world.ent_a, actor=world.leader, note="sent back: " + "理由" * 300)
    entry = AuditEntry.objects.last()
    assert len(entry.note) == 200
    assert audit.verify().ok
