"""The `alert` and `rollcall` record types: import, export, re-import and refused files."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

import yingji.alerts.interchange  # noqa: F401  (registers `alert` and `rollcall`)
from yingji.alerts.models import Alert, Call, Dispatch, Recipient, RollCall, RollCallEntry, Unit
from yingji.core import audit
from yingji.core.interchange import ImportFailed, export_file, import_file
from yingji.core.models import AuditEntry, Notification

WARNING = {
    "type": "alert",
    "ref": "YJ-2025-0001",
    "kind": "warning",
    "issued_at": "2025-07-21T16:30:00+08:00",
    "title": "城中区气象台发布暴雨黄色预警信号",
    "level": "yellow",
    "hazard_type": "rainstorm",
    "body": "预计未来6小时内城中区降雨量将达50毫米以上。",
    "valid_until": "2025-07-22T16:30:00+08:00",
    "lifted_at": "2025-07-22T08:00:00+08:00",
    "recipients": ["T1", "T2", "V1", "V2"],
    "acks": [
        "T1@2025-07-21T16:33:00+08:00",
        "T2@2025-07-21T16:35:10+08:00",
        "V1@2025-07-21T17:40:00+08:00",
    ],
}
FORWARD = {
    "type": "alert",
    "ref": "YJ-2025-0002",
    "kind": "weather_forward",
    "issued_at": "2025-08-02T09:00:00+08:00",
    "title": "转发：西宁市未来三天天气预报",
    "public": False,
    "recipients": ["T1", "T2"],
    "acks": ["T1@2025-08-02T09:04:00+08:00", "T2@2025-08-02T09:06:00+08:00"],
}
ROLLCALL = {
    "type": "rollcall",
    "ref": "DD-2025-01",
    "held_at": "2025-07-21T17:00:00+08:00",
    "targets": ["T1", "T2", "V1", "V2"],
    "responded": ["T1", "T2", "V1"],
    "topic": "暴雨黄色预警防御工作视频点调",
    "alert": "YJ-2025-0001",
}
RECORDS = [WARNING, FORWARD, ROLLCALL]


def write(path, records):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def imported(world, tmp_path, records=RECORDS, name="in.jsonl"):
    return import_file(write(tmp_path / name, records), actor=world.admin)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def state() -> tuple:
    """Everything an import may write, to prove a refused or repeated one wrote nothing."""
    return (
        list(Alert.objects.order_by("pk").values()),
        list(Recipient.objects.order_by("pk").values()),
        list(Unit.objects.order_by("pk").values()),
        list(RollCall.objects.order_by("pk").values()),
        list(RollCallEntry.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def recipients(ref: str) -> dict[str, tuple]:
    rows = Recipient.objects.filter(alert__ref=ref).select_related("unit__region")
    return {r.unit.region.ref: (r.state, r.acknowledged_at, r.ack_method) for r in rows}


def test_an_imported_alert_is_issued_with_its_recipients_and_acknowledgements(
    world, units, tmp_path
):
    result = imported(world, tmp_path)
    assert (result.records, result.created, result.updated) == (3, 3, 0)
    alert = Alert.objects.get(ref="YJ-2025-0001")
    assert (alert.kind, alert.level, alert.hazard_type, alert.headline) == (
        "warning",
        "yellow",
        "rainstorm",
        WARNING["title"],
    )
    assert (alert.status, alert.source, alert.public) == ("lifted", "import", True)
    assert alert.issued_at == at(WARNING["issued_at"]) == alert.created_at
    assert alert.lifted_at == at(WARNING["lifted_at"])
    assert recipients("YJ-2025-0001") == {
        "T1": ("acknowledged", at("2025-07-21T16:33:00+08:00"), "import"),
        "T2": ("acknowledged", at("2025-07-21T16:35:10+08:00"), "import"),
        "V1": ("acknowledged", at("2025-07-21T17:40:00+08:00"), "import"),
        # A year-old yellow warning (30 minutes to answer) never acknowledged: no answer.
        "V2": ("unanswered", None, ""),
    }
    # The existing units of the towns and villages receive it; none is made twice.
    assert set(Recipient.objects.values_list("unit_id", flat=True)) == {
        u.pk for u in units.values()
    }
    assert Unit.objects.count() == 4
    for r in Recipient.objects.all():
        assert (r.next_escalation_at, r.delivered_at, r.step) == (None, r.alert.issued_at, 0)
    forward = Alert.objects.get(ref="YJ-2025-0002")
    assert (forward.status, forward.public, forward.level) == ("issued", False, "")
    # Nothing is sent for a record of the past.
    assert (Call.objects.count(), Dispatch.objects.count(), Notification.objects.count()) == (
        0,
        0,
        0,
    )
    assert [(e.actor_name, e.action, e.note) for e in audit.history(alert)] == [
        ("admin", "create", "import")
    ]
    created = audit.history(alert).get().after
    assert created["recipients"] == ["T1", "T2", "V1", "V2"]
    assert created["acks"] == WARNING["acks"]
    assert audit.verify().ok


def test_a_roll_call_is_imported_with_who_answered(world, tmp_path):
    imported(world, tmp_path)
    call = RollCall.objects.get(ref="DD-2025-01")
    assert (call.held_at, call.topic, call.alert.ref, call.held_by) == (
        at(ROLLCALL["held_at"]),
        ROLLCALL["topic"],
        "YJ-2025-0001",
        None,
    )
    entries = {e.region.ref: e.answered for e in call.entries.select_related("region")}
    assert entries == {"T1": True, "T2": True, "V1": True, "V2": False}


def test_missing_units_are_created_for_the_towns_and_villages(world, tmp_path):
    imported(world, tmp_path, [FORWARD])
    made = {u.region.ref: u for u in Unit.objects.select_related("region")}
    assert set(made) == {"T1", "T2"}
    assert (made["T1"].kind, made["T1"].name) == ("region", world.town1.name)
    assert audit.history(made["T1"]).get().action == "create"


def test_an_unanswered_recent_alert_is_delivered_until_its_limit(world, units, tmp_path):
    now = timezone.localtime().replace(microsecond=0)
    red = {
        **WARNING,
        "ref": "NOW-RED",
        "level": "red",
        "issued_at": (now - datetime.timedelta(minutes=4)).isoformat(),
        "acks": [],
    }
    red.pop("lifted_at")
    red.pop("valid_until")
    blue_old = {**red, "ref": "OLD-BLUE", "level": "blue"}
    blue_old["issued_at"] = (now - datetime.timedelta(minutes=61)).isoformat()
    imported(world, tmp_path, [red, blue_old])
    assert {s for s, _a, _m in recipients("NOW-RED").values()} == {"delivered"}
    assert {s for s, _a, _m in recipients("OLD-BLUE").values()} == {"unanswered"}
    assert Alert.objects.get(ref="NOW-RED").status == "issued"


def test_export_gives_back_the_records_and_re_import_changes_nothing(world, units, tmp_path):
    imported(world, tmp_path)
    out = tmp_path / "out.jsonl"
    assert export_file(out, types=["alert", "rollcall"]) == 3
    assert read(out) == RECORDS
    before = state()
    again = import_file(out, actor=world.admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert state()[:-1] == before[:-1]
    # Only the import's own entry (file and counts) is added.
    assert state()[-1] == before[-1] + 1


def test_the_spreadsheet_round_trip_changes_nothing(world, units, tmp_path):
    imported(world, tmp_path)
    out = tmp_path / "out.xlsx"
    assert export_file(out, types=["alert", "rollcall"]) == 3
    before = state()
    again = import_file(out, actor=world.admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert state()[:-1] == before[:-1]
    again_out = tmp_path / "again.jsonl"
    export_file(again_out, types=["alert", "rollcall"])
    assert read(again_out) == RECORDS


def test_the_export_command_writes_the_two_types(world, units, tmp_path, capsys):
    imported(world, tmp_path)
    out = tmp_path / "cli.jsonl"
    call_command("export", str(out), types="alert,rollcall", verbosity=0)
    assert [r["type"] for r in read(out)] == ["alert", "alert", "rollcall"]
    assert "exported 3 records" in capsys.readouterr().out


def test_a_changed_file_replaces_recipients_and_acknowledgements(world, units, tmp_path):
    imported(world, tmp_path)
    kept = Recipient.objects.get(alert__ref="YJ-2025-0001", unit=units["T1"])
    changed = {
        **WARNING,
        "recipients": ["T1", "T2", "V2"],  # V1 dropped
        "acks": [
            "T1@2025-07-21T16:33:00+08:00",  # unchanged
            "V2@2025-07-21T16:50:00+08:00",  # newly acknowledged
        ],  # T2's acknowledgement withdrawn
    }
    rollcall = {**ROLLCALL, "targets": ["T1", "V1"], "responded": ["V1"]}
    result = imported(world, tmp_path, [changed, FORWARD, rollcall], name="changed.jsonl")
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert recipients("YJ-2025-0001") == {
        "T1": ("acknowledged", at("2025-07-21T16:33:00+08:00"), "import"),
        "T2": ("unanswered", None, ""),
        "V2": ("acknowledged", at("2025-07-21T16:50:00+08:00"), "import"),
    }
    assert Recipient.objects.get(alert__ref="YJ-2025-0001", unit=units["T1"]).pk == kept.pk
    alert = Alert.objects.get(ref="YJ-2025-0001")
    update = audit.history(alert).filter(action="update").get()
    assert update.before["recipients"] == ["T1", "T2", "V1", "V2"]
    assert update.after["recipients"] == ["T1", "T2", "V2"]
    assert update.after["acks"] == changed["acks"]
    entries = RollCallEntry.objects.filter(rollcall__ref="DD-2025-01").select_related("region")
    assert {e.region.ref: e.answered for e in entries} == {"T1": False, "V1": True}
    out = tmp_path / "out.jsonl"
    export_file(out, types=["alert", "rollcall"])
    assert read(out) == [changed, FORWARD, rollcall]


def test_a_later_issue_time_moves_the_delivery_times(world, units, tmp_path):
    imported(world, tmp_path, [FORWARD])
    moved = {**FORWARD, "issued_at": "2025-08-02T08:30:00+08:00"}
    imported(world, tmp_path, [moved], name="moved.jsonl")
    assert set(Recipient.objects.values_list("delivered_at", flat=True)) == {
        at("2025-08-02T08:30:00+08:00")
    }


def bad(**changes) -> dict:
    record = {**WARNING, **changes}
    return {k: v for k, v in record.items() if v is not None}


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        (bad(acks=["V9@2025-07-21T16:40:00+08:00"]), "acks", "not a recipient"),
        (bad(acks=["T1@2025-07-21T16:00:00+08:00"]), "acks", "before the alert was issued"),
        (bad(acks=["T1 at four"]), "acks", "REGIONREF@ISO-TIME"),
        (bad(acks=["T1@2025-07-21T16:40:00"]), "acks", "REGIONREF@ISO-TIME"),
        (
            bad(acks=["T1@2025-07-21T16:40:00+08:00", "T1@2025-07-21T16:45:00+08:00"]),
            "acks",
            "twice",
        ),
        (bad(recipients=["T1", "NOPE"], acks=None), "recipients", "unknown region"),
        (bad(lifted_at="2025-07-20T08:00:00+08:00"), "lifted_at", "before the time of issue"),
        (bad(issued_at="2025-07-21 16:30"), "issued_at", "offset"),
        (bad(kind="sms"), "kind", "not one of"),
        (bad(level="purple"), "level", "not one of"),
        (bad(title=None), "title", "required"),
        (bad(colour="red"), "colour", "unknown field"),
        (bad(recipients=["630103"], acks=None), "recipients", "not the district"),
        (
            {**ROLLCALL, "alert": None, "responded": ["T1", "T9"]},
            "responded",
            "not among the targets",
        ),
        ({**ROLLCALL, "alert": None, "targets": []}, "targets", "required"),
        (
            {**ROLLCALL, "alert": None, "targets": ["630103"], "responded": []},
            "targets",
            "district",
        ),
    ],
)
def test_a_wrong_record_is_reported_with_line_and_field_and_nothing_is_written(
    world, units, tmp_path, record, field, words
):
    record = {k: v for k, v in record.items() if v is not None}
    before = state()
    with pytest.raises(ImportFailed) as exc, translation.override("en"):
        imported(world, tmp_path, [FORWARD, record])
    errors = [str(e) for e in exc.value.errors]
    assert any(e.startswith(f"line 2: {field}: ") and words in e for e in errors), errors
    assert state() == before


def test_every_error_of_a_file_is_reported(world, units, tmp_path):
    records = [
        bad(acks=["V9@2025-07-21T16:40:00+08:00"]),
        {**FORWARD, "issued_at": "yesterday"},
        {**ROLLCALL, "alert": "NOPE"},
    ]
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, records)
    assert [(e.loc, e.field) for e in exc.value.errors] == [
        ("line 1", "acks"),
        ("line 2", "issued_at"),
        ("line 3", "alert"),
    ]
    assert Alert.objects.count() == RollCall.objects.count() == 0


def test_a_draft_cannot_be_replaced_by_an_import(world, units, tmp_path):
    Alert.objects.create(ref="YJ-2025-0001", kind="warning", headline="草稿")
    before = state()
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [WARNING])
    assert [(e.loc, e.field) for e in exc.value.errors] == [("line 1", "ref")]
    assert state() == before


def test_the_delivery_record_of_an_alert_sent_here_is_not_replaced(world, units, tmp_path):
    issued = at("2025-07-21T16:30:00+08:00")
    alert = Alert.objects.create(
        ref="A-SENT", kind="warning", headline="暴雨预警", status="issued", issued_at=issued
    )
    Recipient.objects.create(
        alert=alert,
        unit=units["T1"],
        state="acknowledged",
        delivered_at=issued,
        acknowledged_at=issued + datetime.timedelta(minutes=3),
        ack_method="app",
        ack_user=world.town_officer,
    )
    out = tmp_path / "sent.jsonl"
    export_file(out, types=["alert"])
    [record] = read(out)
    assert record["acks"] == ["T1@2025-07-21T16:33:00+08:00"]
    assert record["title"] == "暴雨预警"
    # Exported and imported back: unchanged, the in-app acknowledgement kept as it was.
    again = import_file(out, actor=world.admin)
    assert (again.updated, again.unchanged) == (0, 1)
    assert Recipient.objects.get().ack_method == "app"
    # Its text may be corrected; its recipients may not.
    imported(world, tmp_path, [{**record, "title": "暴雨蓝色预警"}], name="title.jsonl")
    assert Alert.objects.get(ref="A-SENT").headline == "暴雨蓝色预警"
    before = state()
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [{**record, "recipients": ["T1", "T2"]}], name="more.jsonl")
    assert [(e.loc, e.field) for e in exc.value.errors] == [("line 1", "recipients")]
    assert state() == before


def test_a_town_officer_exports_only_their_area(world, units, tmp_path):
    imported(world, tmp_path)
    out = tmp_path / "town.jsonl"
    export_file(out, types=["alert", "rollcall"], user=world.town_officer)
    records = read(out)
    assert [r["ref"] for r in records] == ["YJ-2025-0001", "YJ-2025-0002", "DD-2025-01"]
    assert records[0]["recipients"] == ["T1", "V1"]
    assert records[2]["targets"] == ["T1", "V1"]
    out = tmp_path / "expert.jsonl"
    assert export_file(out, types=["alert", "rollcall"], user=world.expert) == 0
