import json

import pytest

from yingji.core.interchange import ImportFailed, export_file, import_file
from yingji.hazards.models import Hazard
from yingji.inspections.models import Inspection


def write(path, records):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


RECORDS = [
    {
        "type": "inspection",
        "ref": "I-1",
        "enterprise": "E-A",
        "date": "2025-03-02",
        "mode": "double_random",
        "methods": ["onsite", "ledger"],
        "inspectors": ["李四", "王五"],
        "status": "completed",
    },
    {
        "type": "hazard",
        "ref": "H-1",
        "enterprise": "E-A",
        "found_on": "2025-03-02",
        "level": "general",
        "inspection": "I-1",
        "category": "fire",
        "description": "灭火器过期",
        "deadline": "2025-03-20",
        "status": "closed",
        "closed_on": "2025-03-15",
    },
    {
        "type": "hazard",
        "ref": "H-2",
        "enterprise": "E-B",
        "found_on": "2025-12-31",
        "level": "major",
        "description": "储罐区防火堤破损",
        "deadline": "2026-01-15",
        "status": "open",
    },
]


def test_inspections_and_hazards_round_trip(world, tmp_path):
    import_file(write(tmp_path / "in.jsonl", RECORDS), actor=world.admin)
    insp = Inspection.objects.get(ref="I-1")
    assert (insp.onsite, insp.ledger, insp.inspector_names) == (True, True, "李四、王五")
    h1 = Hazard.objects.get(ref="H-1")
    assert (h1.inspection, h1.source, h1.status) == (insp, "inspection", "closed")
    assert Hazard.objects.get(ref="H-2").source == "import"
    out = tmp_path / "out.jsonl"
    export_file(out, types=["inspection", "hazard"])
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = [
        {**r, "category": r.get("category", "other")} if r["type"] == "hazard" else r
        for r in RECORDS
    ]
    assert exported == expected
    again = import_file(out, actor=world.admin)
    assert (again.created, again.updated) == (0, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "closed", "closed_on": None}, "closed_on"),
        ({"status": "open", "closed_on": "2025-03-15"}, "closed_on"),
        ({"deadline": "2025-03-01"}, "deadline"),
        ({"closed_on": "2025-03-01"}, "closed_on"),
        ({"inspection": "I-404"}, "inspection"),
        ({"level": "huge"}, "level"),
        ({"found_on": "2025-02-30"}, "found_on"),
    ],
)
def test_bad_hazard_records_are_refused_with_line_and_field(world, tmp_path, change, field):
    hazard = {**RECORDS[1], **change}
    hazard = {k: v for k, v in hazard.items() if v is not None}
    with pytest.raises(ImportFailed) as exc:
        import_file(write(tmp_path / "bad.jsonl", [RECORDS[0], hazard]), actor=world.admin)
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 2", field)]
    assert not Inspection.objects.exists() and not Hazard.objects.exists()
