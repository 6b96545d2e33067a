"""The `enforcement` record type: one record per act, imported each into a case of its own."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yingji.core import audit
from yingji.core.attachments import attach
from yingji.core.interchange import ImportFailed, export_file, import_file
from yingji.core.models import AuditEntry, IssuedNumber
from yingji.enforcement import services
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter

MODELS = [Case, Penalty, SupervisionLetter, Interview, Referral, IssuedNumber]

PENALTY = {
    "type": "enforcement",
    "ref": "P-1",
    "enterprise": "E-A",
    "kind": "penalty",
    "date": "2025-03-05",
    "amount": "30000.00",
    "basis": "《安全生产法》第九十九条",
    "document_no": "城应急罚决〔2025〕3号",
}
LETTER = {
    "type": "enforcement",
    "ref": "L-1",
    "enterprise": "E-A",
    "kind": "supervision_letter",
    "date": "2025-03-06",
    "basis": "限期完成粉尘防爆专项整治",
    "document_no": "城应急督〔2025〕2号",
}
INTERVIEW = {
    "type": "enforcement",
    "ref": "V-1",
    "enterprise": "E-B",
    "kind": "interview",
    "date": "2025-04-01",
    "basis": "约谈主要负责人:储罐区隐患反复",
}
REFERRAL = {
    "type": "enforcement",
    "ref": "R-1",
    "enterprise": "E-B",
    "kind": "referral",
    "date": "2025-04-02",
    "basis": "移送西宁市应急管理局",
    "document_no": "城应急移〔2025〕1号",
}
RECORDS = [PENALTY, LETTER, INTERVIEW, REFERRAL]


def write(path, records):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rows() -> dict:
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in MODELS}


def imported(world, tmp_path, records=RECORDS, name="in.jsonl"):
    return import_file(write(tmp_path / name, records), actor=world.admin)


def history(obj) -> list[tuple[str, str, str]]:
    return [(e.actor_name, e.action, e.note) for e in audit.history(obj)]


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def test_one_record_of_each_kind_is_imported_into_a_closed_case_of_its_own(world, tmp_path):
    result = imported(world, tmp_path)
    assert (result.records, result.created, result.updated) == (4, 4, 0)  # 4 acts (and 4 cases)

    penalty = Penalty.objects.select_related("case").get(ref="P-1")
    assert (penalty.status, penalty.amount, penalty.legal_basis) == (
        "decided",
        Decimal("30000.00"),
        PENALTY["basis"],
    )
    assert (penalty.decision_no, penalty.decided_on) == (PENALTY["document_no"], day("2025-03-05"))
    letter = SupervisionLetter.objects.get(ref="L-1")
    assert (letter.number, letter.issued_on, letter.content) == (
        LETTER["document_no"],
        day("2025-03-06"),
        LETTER["basis"],
    )
    interview = Interview.objects.get(ref="V-1")
    assert (interview.held_on, interview.topics) == (day("2025-04-01"), INTERVIEW["basis"])
    referral = Referral.objects.get(ref="R-1")
    assert (referral.status, referral.number, referral.sent_on, referral.authority) == (
        "sent",
        REFERRAL["document_no"],
        day("2025-04-02"),
        REFERRAL["basis"],
    )

    # Each act gets a closed case of its own (with a fresh case ref, never derived from the act's).
    cases = {act.ref: act.case for act in (penalty, letter, interview, referral)}
    assert Case.objects.count() == len({c.pk for c in cases.values()}) == 4
    for ref, case in cases.items():
        assert case.ref.startswith("C-") and case.ref != f"C-{ref}"
        assert (case.status, case.source) == ("closed", "direct")
    for act in (penalty, letter, interview, referral):
        assert history(act) == [("admin", "create", "import")]
    assert cases["P-1"].enterprise == world.ent_a
    assert cases["V-1"].enterprise == world.ent_b
    assert (cases["V-1"].opened_on, cases["V-1"].closed_on) == (day("2025-04-01"),) * 2
    assert not IssuedNumber.objects.exists()  # imported numbers are not drawn from the counter
    assert services.repeat_interviews(world.ent_b, on=day("2025-04-30")) == 1
    assert audit.verify().ok


def test_export_gives_back_the_records_and_re_import_changes_nothing(world, tmp_path):
    imported(world, tmp_path)
    out = tmp_path / "out.jsonl"
    assert export_file(out, types=["enforcement"]) == 4
    assert read(out) == RECORDS
    before, entries = rows(), AuditEntry.objects.count()
    again = import_file(out, actor=world.admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert rows() == before
    assert AuditEntry.objects.count() == entries + 1  # only the import itself is logged


def test_the_export_follows_the_viewers_scope(world, tmp_path):
    imported(world, tmp_path)
    town = tmp_path / "town.jsonl"
    export_file(town, types=["enforcement"], user=world.town_officer)
    assert read(town) == [PENALTY, LETTER]
    mine = tmp_path / "ent_b.jsonl"
    export_file(mine, types=["enforcement"], user=world.ent_user_b)
    assert read(mine) == [INTERVIEW, REFERRAL]
    expert = tmp_path / "expert.jsonl"
    assert export_file(expert, types=["enforcement"], user=world.expert) == 0


def test_an_amount_as_a_json_number_is_read_in_yuan(world, tmp_path):
    imported(world, tmp_path, [{**PENALTY, "amount": 1500}])
    assert Penalty.objects.get(ref="P-1").amount == Decimal("1500.00")


BAD = [
    ("penalty without amount", PENALTY, {"amount": None}, "amount"),
    ("penalty without basis", PENALTY, {"basis": None}, "basis"),
    ("penalty with blank basis", PENALTY, {"basis": "  "}, "basis"),
    ("zero amount", PENALTY, {"amount": "0"}, "amount"),
    ("negative amount", PENALTY, {"amount": "-500"}, "amount"),
    ("three decimals", PENALTY, {"amount": "300.125"}, "amount"),
    ("three decimals as a number", PENALTY, {"amount": 300.125}, "amount"),
    ("amount not a number", PENALTY, {"amount": "三万元"}, "amount"),
    ("amount too large", PENALTY, {"amount": "12345678901.00"}, "amount"),
    ("amount on an interview", INTERVIEW, {"amount": "100.00"}, "amount"),
    ("amount on a letter", LETTER, {"amount": "100.00"}, "amount"),
    ("unknown kind", INTERVIEW, {"kind": "fine"}, "kind"),
    ("no kind", INTERVIEW, {"kind": None}, "kind"),
    ("unknown enterprise", LETTER, {"enterprise": "E-404"}, "enterprise"),
    ("no date", REFERRAL, {"date": None}, "date"),
    ("not a real date", REFERRAL, {"date": "2025-02-30"}, "date"),
    ("date written otherwise", REFERRAL, {"date": "2025/04/02"}, "date"),
    ("unknown field", INTERVIEW, {"attendees": "张三"}, "attendees"),
    ("document number too long", LETTER, {"document_no": "号" * 65}, "document_no"),
    # An interview has no document number: dropping it silently would lose data.
    (
        "document number on an interview",
        INTERVIEW,
        {"document_no": "城应急约〔2025〕1号"},
        "document_no",
    ),
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
    assert all(not m.objects.exists() for m in MODELS)
    assert AuditEntry.objects.count() == entries


def test_changing_an_imported_acts_kind_is_refused(world, tmp_path):
    imported(world, tmp_path)
    before, entries = rows(), AuditEntry.objects.count()
    as_interview = {k: v for k, v in PENALTY.items() if k not in ("amount", "document_no")} | {
        "kind": "interview"
    }
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [LETTER, as_interview], name="kind.jsonl")
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 2", "kind")]
    as_penalty = {**INTERVIEW, "kind": "penalty", "amount": "100.00"}
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [as_penalty], name="kind2.jsonl")
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 1", "kind")]
    assert rows() == before and AuditEntry.objects.count() == entries


def test_moving_an_imported_act_to_another_enterprise_is_refused(world, tmp_path):
    imported(world, tmp_path)
    before = rows()
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, [{**LETTER, "enterprise": "E-B"}], name="move.jsonl")
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 1", "enterprise")]
    assert rows() == before


def test_a_changed_record_updates_its_act(world, tmp_path):
    imported(world, tmp_path)
    result = imported(
        world, tmp_path, [{**PENALTY, "amount": "25000.00", "date": "2025-03-07"}], "fix.jsonl"
    )
    assert (result.created, result.updated) == (0, 1)
    penalty = Penalty.objects.get(ref="P-1")
    assert (penalty.amount, penalty.decided_on) == (Decimal("25000.00"), day("2025-03-07"))
    entry = audit.history(penalty).last()
    assert (entry.note, entry.before["amount"], entry.after["amount"]) == (
        "import",
        "30000.00",
        "25000.00",
    )


@pytest.mark.parametrize("clash", ["in the file", "in the database"])
def test_a_letter_number_already_used_is_refused_on_its_field(world, tmp_path, clash):
    other = {**LETTER, "ref": "L-2", "date": "2025-03-09"}
    if clash == "in the database":
        imported(world, tmp_path, [LETTER], name="first.jsonl")
        records = [INTERVIEW, other]
    else:
        records = [LETTER, other]
    before = rows()
    with pytest.raises(ImportFailed) as exc:
        imported(world, tmp_path, records)
    assert [(p.loc, p.field) for p in exc.value.errors] == [("line 2", "document_no")]
    assert rows() == before


# -- acts recorded on the platform -------------------------------------------------------------
def test_re_importing_an_export_of_acts_made_on_the_platform_changes_nothing(world, tmp_path):
    """An export re-imported (a backup restored, a file sent back) must not rewrite acts."""
    today = timezone.localdate()
    case = services.open_case(
        by=world.inspector, enterprise=world.ent_a, title="粉尘防爆", opened_on=today
    )
    penalty = services.draft_penalty(
        case,
        by=world.inspector,
        legal_basis="《安全生产法》第九十九条",
        facts="未设泄爆",
        amount=5000,
    )
    services.serve_penalty_notice(penalty, by=world.inspector)
    services.record_statement(penalty, by=world.inspector, statement="无异议")
    services.approve_penalty(penalty, by=world.leader)
    services.decide_penalty(penalty, by=world.inspector)
    services.record_payment(penalty, by=world.inspector)
    services.issue_letter(
        case,
        by=world.inspector,
        addressee="青海甲工贸有限公司",
        content="限期整改",
        deadline=today + datetime.timedelta(days=15),
    )
    services.record_interview(
        case, by=world.inspector, held_on=today, attendees="张三、李四", topics="隐患反复"
    )
    referral = services.draft_referral(
        case, by=world.inspector, authority="西宁市应急管理局", reason="涉嫌重大违法"
    )
    attach(referral, SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"), by=world.inspector)
    services.approve_referral(referral, by=world.leader)
    services.send_referral(referral, by=world.inspector)
    services.record_referral_result(referral, by=world.inspector, result="已立案")

    # A penalty whose notice is served but not yet decided, and a referral still in draft.
    pending = services.draft_penalty(
        case,
        by=world.inspector,
        legal_basis="《安全生产法》第一百零一条",
        facts="未备案",
        amount=2000,
    )
    services.serve_penalty_notice(pending, by=world.inspector)
    services.draft_referral(case, by=world.inspector, authority="市公安局", reason="涉嫌犯罪")

    out = tmp_path / "out.jsonl"
    # The undecided penalty and the draft referral have no date or number yet: not ledger rows.
    assert export_file(out, types=["enforcement"]) == 4
    before = rows()
    again = import_file(out, actor=world.admin)
    after = rows()
    changed = {
        (name, row.get("ref", row["id"]), key): (row[key], now[key])
        for name in before
        for row, now in zip(before[name], after[name], strict=True)
        for key in row
        if row[key] != now[key]
    }
    assert changed == {}
    assert (again.created, again.updated) == (0, 0)


def test_long_refs_get_cases_of_their_own(world, tmp_path):
    """Refs may be 64 characters long: two that differ only at the end are two acts."""
    refs = ["A" * 63 + "1", "A" * 63 + "2"]
    records = [{**INTERVIEW, "ref": ref} for ref in refs]
    result = imported(world, tmp_path, records)
    assert result.records == 2
    assert sorted(Interview.objects.values_list("ref", flat=True)) == refs
    assert Case.objects.count() == 2


def test_the_import_counts_acts_not_the_cases_made_for_them(world, tmp_path):
    result = imported(world, tmp_path)
    assert (result.records, result.created, result.unchanged) == (4, 4, 0)
