import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from openpyxl import Workbook

from conftest import make_uscc
from yingji.core import audit
from yingji.core.interchange import REGISTRY, Field, ImportFailed, export_file, import_file
from yingji.core.models import AuditEntry, Region
from yingji.enterprises.models import Enterprise

REGIONS = [
    {"type": "region", "ref": "630103", "name": "城中区", "level": "district", "code": "630103"},
    {"type": "region", "ref": "T1", "name": "人民街街道", "level": "town", "parent": "630103"},
    {"type": "region", "ref": "V1", "name": "南关社区", "level": "village", "parent": "T1"},
]


def ent(ref, n, **extra):
    record = {
        "type": "enterprise",
        "ref": ref,
        "name": f"企业{n}",
        "uscc": make_uscc(n),
        "sector": "industrial_trade",
        "region": "V1",
    }
    record.update(extra)
    return record


def write_jsonl(path, records):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


@pytest.fixture
def admin_user(db):
    from yingji.core.services import create_user

    return create_user(by=None, username="importer", password="x-long-password", role="admin")


def test_it_imports_records_in_any_order(tmp_path, admin_user):
    # The enterprise comes before the regions it references; the village before its town.
    records = [
        ent("E1", 1, features=["hot_work", "dust_explosion"]),
        REGIONS[2],
        REGIONS[1],
        REGIONS[0],
    ]
    result = import_file(write_jsonl(tmp_path / "a.jsonl", records), actor=admin_user)
    assert (result.created, result.updated) == (4, 0)
    e = Enterprise.objects.get(ref="E1")
    assert e.region.ref == "V1"
    assert e.feature_list == ["hot_work", "dust_explosion"]
    assert Region.objects.get(ref="V1").path == "/630103/T1/V1/"
    # Every record was audited with the importing user, plus one entry for the import.
    assert AuditEntry.objects.filter(actor=admin_user, action="create").count() == 4
    assert AuditEntry.objects.filter(action="import", target_id="a.jsonl").count() == 1


def test_it_is_idempotent_and_updates_by_ref(tmp_path, admin_user):
    path = write_jsonl(tmp_path / "a.jsonl", [*REGIONS, ent("E1", 1)])
    import_file(path, actor=admin_user)
    again = import_file(path, actor=admin_user)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    changed = write_jsonl(tmp_path / "b.jsonl", [ent("E1", 1, name="新名字")])
    result = import_file(changed, actor=admin_user)
    assert (result.created, result.updated) == (0, 1)
    assert Enterprise.objects.get(ref="E1").name == "新名字"
    assert Enterprise.objects.count() == 1


def test_it_reports_every_error_with_line_and_field_and_writes_nothing(tmp_path, admin_user):
    Region.objects.create(ref="630103", name="城中区", level="district")
    bad_check = make_uscc(5)[:17] + ("0" if make_uscc(5)[17] != "0" else "1")
    records = [
        REGIONS[1],
        REGIONS[2],
        ent("E1", 1),
        ent("E2", 2, uscc=bad_check),  # line 4: bad check character
        ent("E3", 1),  # line 5: same USCC as E1
        ent("E4", 4, region="NOWHERE"),  # line 6: unknown region
        ent("E5", 5, colour="red"),  # line 7: unknown field
        ent("E6", 6, sector="mining"),  # line 8: bad enum
        {"type": "enterprise", "ref": "E7", "name": "x"},  # line 9: required fields missing
        ent("E1", 8),  # line 10: duplicate ref
        {"type": "drone", "ref": "D1"},  # line 11: unknown type
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", records)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("{not json\n")  # line 12
    with pytest.raises(ImportFailed) as exc:
        import_file(path, actor=admin_user)
    found = {(p.loc, p.field) for p in exc.value.errors}
    assert {
        ("line 4", "uscc"),
        ("line 5", "uscc"),
        ("line 6", "region"),
        ("line 7", "colour"),
        ("line 8", "sector"),
        ("line 9", "uscc"),
        ("line 9", "sector"),
        ("line 9", "region"),
        ("line 10", "ref"),
        ("line 11", "type"),
        ("line 12", "-"),
    } <= found
    assert Region.objects.count() == 1
    assert Enterprise.objects.count() == 0
    assert not AuditEntry.objects.filter(action="import").exists()


def test_it_refuses_a_credit_code_held_by_another_active_enterprise(tmp_path, world, admin_user):
    records = [ent("NEW", 1, region="V1")]  # make_uscc(1) belongs to world.ent_a
    with pytest.raises(ImportFailed) as exc:
        import_file(write_jsonl(tmp_path / "a.jsonl", records), actor=admin_user)
    (problem,) = exc.value.errors
    assert (problem.loc, problem.field) == ("line 1", "uscc")
    assert "E-A" in problem.message
    # Closing the old enterprise in the same file frees the code.
    closing = {
        "type": "enterprise",
        "ref": "E-A",
        "name": world.ent_a.name,
        "uscc": make_uscc(1),
        "sector": "industrial_trade",
        "region": "V1",
        "status": "closed",
    }
    import_file(write_jsonl(tmp_path / "b.jsonl", [closing, *records]), actor=admin_user)
    assert Enterprise.objects.get(ref="NEW").status == "active"


def test_a_wrong_parent_level_rolls_the_whole_import_back(tmp_path, admin_user):
    records = [
        REGIONS[0],
        {"type": "region", "ref": "V9", "name": "村", "level": "village", "parent": "630103"},
    ]
    with pytest.raises(ImportFailed) as exc:
        import_file(write_jsonl(tmp_path / "a.jsonl", records), actor=admin_user)
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 2", "parent")]
    assert Region.objects.count() == 0


@pytest.mark.parametrize("suffix", [".jsonl", ".xlsx"])
def test_export_then_import_gives_back_the_same_records(tmp_path, admin_user, suffix):
    records = [
        *REGIONS,
        ent(
            "E1",
            1,
            features=["confined_space"],
            standardized=True,
            contact_phone="0971-1234567",
            risk_grade="red",
        ),
        ent("E2", 2, status="closed", address="城中区南关街1号"),
    ]
    import_file(write_jsonl(tmp_path / "in.jsonl", records), actor=admin_user)
    out = tmp_path / f"out{suffix}"
    assert export_file(out) == 5
    first = tmp_path / "first.jsonl"
    export_file(first)
    exported = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
    defaults = {"status": "active", "standardized": False}
    expected = [{**defaults, **r} if r["type"] == "enterprise" else r for r in records]
    assert exported == expected
    # Re-importing the export changes nothing.
    result = import_file(out, actor=admin_user)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 5)


def test_xlsx_import_reads_one_sheet_per_type(tmp_path, admin_user):
    wb = Workbook()
    ws = wb.active
    ws.title = "region"
    ws.append(["ref", "name", "level", "parent", "code"])
    for r in REGIONS:
        ws.append([r["ref"], r["name"], r["level"], r.get("parent"), r.get("code")])
    ws2 = wb.create_sheet("enterprise")
    ws2.append(["ref", "name", "uscc", "sector", "region", "features", "contact_phone"])
    ws2.append(
        [
            "E1",
            "企业1",
            make_uscc(1),
            "industrial_trade",
            "V1",
            "hot_work; dust_explosion",
            9711234567,
        ]
    )
    ws2.append(["E2", "企业2", "BAD", "industrial_trade", "V1", None, None])
    path = tmp_path / "a.xlsx"
    wb.save(path)
    with pytest.raises(ImportFailed) as exc:
        import_file(path, actor=admin_user)
    assert [(p.loc, p.field) for p in exc.value.errors] == [("enterprise!3", "uscc")]
    ws2.delete_rows(3)
    wb.save(path)
    import_file(path, actor=admin_user)
    e = Enterprise.objects.get(ref="E1")
    assert e.feature_list == ["hot_work", "dust_explosion"]
    assert e.contact_phone == "9711234567"


def test_dates_must_be_real_calendar_dates():
    field = Field("found_on", kind="date")
    assert field.parse("2025-02-28") == "2025-02-28"
    for bad in ("2025-02-30", "2025/02/28", "28.02.2025", 20250228):
        with pytest.raises(ValidationError):
            field.parse(bad)


def test_money_has_at_most_two_decimals():
    field = Field("amount", kind="decimal")
    assert field.parse("92750") == "92750.00"
    assert field.parse(12.5) == "12.50"
    for bad in ("1.234", "abc", "NaN"):
        with pytest.raises(ValidationError):
            field.parse(bad)


def test_the_command_lists_types_and_fails_with_every_error(tmp_path, admin_user, capsys):
    call_command("import", types=True)
    assert capsys.readouterr().out.split() == sorted(REGISTRY)
    path = write_jsonl(
        tmp_path / "bad.jsonl", [*REGIONS, ent("E1", 1, sector="x"), ent("E2", 2, region="NOPE")]
    )
    with pytest.raises(SystemExit) as exc:
        call_command("import", str(path), no_progress=True, user="importer")
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "line 4: sector:" in err
    assert "line 5: region:" in err
    assert Region.objects.count() == 0
    call_command("import", str(write_jsonl(tmp_path / "ok.jsonl", REGIONS)), no_progress=True)
    assert "3 created" in capsys.readouterr().out


def test_export_for_a_user_holds_only_their_scope(tmp_path, world):
    out = tmp_path / "town.jsonl"
    export_file(out, types=["enterprise"], user=world.town_officer)
    refs = [json.loads(line)["ref"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert refs == ["E-A"]


def test_a_large_import_audits_every_record_with_its_id(tmp_path, admin_user):
    # More records than one write batch (1,000) and one id read-back chunk (900).
    records = [*REGIONS, *(ent(f"E{n}", n) for n in range(1, 1202))]
    path = write_jsonl(tmp_path / "big.jsonl", records)
    result = import_file(path, actor=admin_user)
    assert (result.created, result.updated) == (1204, 0)
    by_ref = dict(Enterprise.objects.values_list("ref", "pk"))
    assert len(by_ref) == 1201
    created = AuditEntry.objects.filter(action="create", target_type="enterprises.enterprise")
    assert created.count() == 1201
    for entry in created.filter(target_id__in=[str(by_ref["E1"]), str(by_ref["E1201"])]):
        e = Enterprise.objects.get(pk=entry.after["id"])
        assert entry.target_id == str(e.pk)
        assert entry.target_repr == e.name
        assert entry.after == audit.snapshot(e)
        assert entry.actor == admin_user
    assert audit.verify().ok
    # Re-importing adds no entry; one changed record adds one update entry.
    count = AuditEntry.objects.count()
    again = import_file(path, actor=admin_user)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1204)
    assert AuditEntry.objects.count() == count + 1  # the import's own entry
    records[-1] = ent("E1201", 1201, name="改名后的企业")
    changed = import_file(write_jsonl(tmp_path / "changed.jsonl", records), actor=admin_user)
    assert (changed.created, changed.updated) == (0, 1)
    update = AuditEntry.objects.get(action="update", target_id=str(by_ref["E1201"]))
    assert (update.before["name"], update.after["name"]) == ("企业1201", "改名后的企业")
    assert audit.verify().ok
