"""The `tip` record type: import, export, re-import, and refused records."""

import datetime
import json

import pytest
from django.utils import timezone

from yingji.core import audit
from yingji.core.interchange import ImportFailed, export_file, import_file
from yingji.core.models import AuditEntry
from yingji.tips import services
from yingji.tips.models import Tip

NAME, PHONE = "李秀英", "13712345678"

PAID = {
    "type": "tip",
    "ref": "JB-2025-001",
    "channel": "phone",
    "received_on": "2025-03-01",
    "enterprise": "E-A",
    "content": "粉尘车间除尘器未开启,地面积尘严重",
    "anonymous": False,
    "status": "closed",
    "verified": True,
    "closed_on": "2025-03-12",
    "reward_status": "paid",
    "reward_amount": "500.00",
    "reward_paid_on": "2025-03-20",
}
UNFOUNDED = {
    "type": "tip",
    "ref": "JB-2025-002",
    "channel": "letter",
    "received_on": "2025-04-02",
    "enterprise": "E-B",
    "content": "储罐区夜间有异味",
    "anonymous": True,
    "status": "unfounded",
    "verified": False,
}
OPEN = {
    "type": "tip",
    "ref": "JB-2025-003",
    "channel": "hotline_12345",
    "received_on": "2025-05-06",
    "content": "城南某小作坊违规存放液化气钢瓶",
    "anonymous": True,
    "status": "verifying",
    "verified": False,
}
RECORDS = [PAID, UNFOUNDED, OPEN]


def write(path, records):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rows() -> list[dict]:
    return list(Tip.objects.order_by("pk").values())


def imported(world, tmp_path, records=RECORDS, name="in.jsonl"):
    return import_file(write(tmp_path / name, records), actor=world.admin)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def test_tips_are_imported_with_their_state(world, tmp_path):
    result = imported(world, tmp_path)
    assert (result.records, result.created, result.updated) == (3, 3, 0)
    paid = Tip.objects.get(ref="JB-2025-001")
    assert (paid.channel, paid.enterprise, paid.status, paid.verified) == (
        "phone",
        world.ent_a,
        "closed",
        True,
    )
    assert (paid.received_on, paid.closed_on, paid.reward_paid_on) == (
        day("2025-03-01"),
        day("2025-03-12"),
        day("2025-03-20"),
    )
    assert (paid.reward_status, str(paid.reward_amount)) == ("paid", "500.00")
    assert timezone.localdate(paid.received_at) == paid.received_on
    open_ = Tip.objects.get(ref="JB-2025-003")
    assert (open_.enterprise, open_.status, open_.reward_status, open_.reward_amount) == (
        None,
        "verifying",
        "",
        None,
    )
    # An imported tip has no receipt code and no identity: those never travel in a file.
    for tip in Tip.objects.all():
        assert (tip.receipt_hash, tip.reporter_name_enc, tip.reporter_contact_enc) == (None, "", "")
        assert [(e.actor_name, e.action, e.note) for e in audit.history(tip)] == [
            ("admin", "create", "import")
        ]
    assert audit.verify().ok


def test_export_gives_back_the_records_and_re_import_changes_nothing(world, tmp_path):
    imported(world, tmp_path)
    out = tmp_path / "out.jsonl"
    assert export_file(out, types=["tip"]) == 3
    assert read(out) == RECORDS
    before, entries = rows(), AuditEntry.objects.count()
    again = import_file(out, actor=world.admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert rows() == before
    assert AuditEntry.objects.count() == entries + 1  # only the import itself is logged


def test_a_changed_record_updates_its_tip(world, tmp_path):
    imported(world, tmp_path)
    closing = {**UNFOUNDED, "status": "closed", "closed_on": "2025-04-20"}
    result = imported(world, tmp_path, [closing], name="fix.jsonl")
    assert (result.created, result.updated) == (0, 1)
    tip = Tip.objects.get(ref="JB-2025-002")
    assert (tip.status, tip.closed_on) == ("closed", day("2025-04-20"))
    entry = audit.history(tip).last()
    assert (entry.note, entry.before["status"], entry.after["status"]) == (
        "import",
        "unfounded",
        "closed",
    )


def test_the_export_carries_no_identity_and_follows_the_viewers_scope(world, tmp_path):
    imported(world, tmp_path)
    services.record_tip(
        by=world.duty,
        channel="visit",
        content="来访反映企业无证经营",
        enterprise=world.ent_a,
        anonymous=False,
        name=NAME,
        contact=PHONE,
    )
    everything = tmp_path / "all.jsonl"
    assert export_file(everything, types=["tip"]) == 4
    text = everything.read_text(encoding="utf-8")
    assert NAME not in text and PHONE not in text
    assert not any(
        k.startswith("reporter") or k == "receipt_hash" for r in read(everything) for k in r
    )
    town = tmp_path / "town.jsonl"
    export_file(town, types=["tip"], user=world.town_officer)
    assert [r["ref"] for r in read(town)][0] == "JB-2025-001"
    assert {r.get("enterprise") for r in read(town)} == {"E-A"}
    assert export_file(tmp_path / "expert.jsonl", types=["tip"], user=world.expert) == 0
    assert export_file(tmp_path / "ent.jsonl", types=["tip"], user=world.ent_user_a) == 0


def test_re_importing_an_export_of_tips_handled_on_the_platform_changes_nothing(world, tmp_path):
    """An export re-imported (a backup restored, a file sent back) must not rewrite tips."""
    tip, _code = services.record_tip(
        by=world.duty,
        channel="phone",
        content="夜间违规生产",
        enterprise=world.ent_a,
        anonymous=False,
        name=NAME,
        contact=PHONE,
    )
    services.assign(tip, by=world.duty, assignee=world.inspector)
    services.start_verification(tip, by=world.inspector)
    services.record_verification(tip, by=world.inspector, verified=True, findings="属实")
    services.propose_reward(tip, by=world.inspector, amount="300")
    services.close_tip(tip, by=world.inspector, answer="已查处")
    services.receive_hotline_tip(
        by=world.duty,
        ticket="12345-0001",
        content="占用消防通道",
        received_at=timezone.now() - datetime.timedelta(hours=30),
    )
    out = tmp_path / "out.jsonl"
    assert export_file(out, types=["tip"]) == 2
    before = rows()
    again = import_file(out, actor=world.admin)
    after = rows()
    changed = {
        (row["ref"], key): (row[key], now[key])
        for row, now in zip(before, after, strict=True)
        for key in row
        if row[key] != now[key]
    }
    assert changed == {}
    assert (again.created, again.updated) == (0, 0)


BAD = [
    ("closed without closed_on", PAID, {"closed_on": None}, "closed_on"),
    ("closed before received", PAID, {"closed_on": "2025-02-28"}, "closed_on"),
    ("reward on an unverified tip", UNFOUNDED, {"reward_status": "proposed"}, "reward_status"),
    ("paid without date", PAID, {"reward_paid_on": None}, "reward_paid_on"),
    ("amount without reward", UNFOUNDED, {"reward_amount": "100.00"}, "reward_amount"),
    ("amount with three decimals", PAID, {"reward_amount": "500.125"}, "reward_amount"),
    ("bad channel", OPEN, {"channel": "wechat"}, "channel"),
    ("no channel", OPEN, {"channel": None}, "channel"),
    ("bad status", OPEN, {"status": "pending"}, "status"),
    ("bad reward status", PAID, {"reward_status": "granted"}, "reward_status"),
    ("unknown enterprise", UNFOUNDED, {"enterprise": "E-404"}, "enterprise"),
    ("no content", OPEN, {"content": "  "}, "content"),
    ("content too long", OPEN, {"content": "字" * 5001}, "content"),
    ("no date", OPEN, {"received_on": None}, "received_on"),
    ("date written otherwise", OPEN, {"received_on": "2025/05/06"}, "received_on"),
    ("not a real date", OPEN, {"received_on": "2025-02-30"}, "received_on"),
    ("anonymous not a boolean", OPEN, {"anonymous": "maybe"}, "anonymous"),
    # The reporter's identity is never imported in clear.
    ("reporter name", PAID, {"reporter_name": NAME}, "reporter_name"),
    ("receipt code", PAID, {"receipt_hash": "0" * 64}, "receipt_hash"),
]


@pytest.mark.parametrize(
    ("record", "change", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_records_are_refused_with_line_and_field_and_nothing_is_written(
    world, tmp_path, record, change, field
):
    bad = {k: v for k, v in {**record, **change}.items() if v is not None}
    good = [r for r in RECORDS if r is not record]
    entries = AuditEntry.objects.count()
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [good[0], bad, *good[1:]])
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 2", field)]
    assert not Tip.objects.exists()
    assert AuditEntry.objects.count() == entries


def test_a_tip_found_unfounded_cannot_be_marked_true(world, tmp_path):
    """status and the verified flag tell the same story: an unfounded tip earns no reward."""
    record = {**UNFOUNDED, "verified": True, "reward_status": "approved", "reward_amount": "200"}
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [record])
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 1", "verified")]
    assert not Tip.objects.exists()


def test_a_ref_twice_in_the_file_is_refused(world, tmp_path):
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [PAID, UNFOUNDED, {**OPEN, "ref": PAID["ref"]}])
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 3", "ref")]
    assert not Tip.objects.exists()
