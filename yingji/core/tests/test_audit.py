import pytest
from django.core.management import call_command

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
