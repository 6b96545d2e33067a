"""Tips: intake from every channel, the receipt code, the reporter's identity, handling,
rewards and the answer to the reporter."""

import contextlib
import datetime
import hashlib
import hmac
import json
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from yingji.core import audit
from yingji.core.models import AuditEntry, Notification, WebhookDelivery
from yingji.core.notify import deliver_due
from yingji.enforcement import services as enforcement
from yingji.hazards import services as hazards
from yingji.inspections.models import Inspection
from yingji.tips import crypto, services
from yingji.tips.models import RewardRule, Tip, TipMessage

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2025, 6, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
RECEIVED = datetime.date(2025, 6, 1)
NAME, PHONE, EMAIL = "王小明", "13800001111", "wxm@example.test"
CONTENT = "某工贸公司粉尘车间夜间违规生产,除尘设备未开启"
SMS_URL = "http://sms.example.test/send"
CALLBACK_URL = "http://12345.example.test/callback"


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _no_gateways(settings):
    settings.SMS_GATEWAY_URL = ""
    settings.HOTLINE_CALLBACK_URL = ""


def _state() -> dict:
    state = {m.__name__: list(m.objects.order_by("pk").values()) for m in (Tip, TipMessage)}
    for m in (AuditEntry, Notification, WebhookDelivery, Inspection, RewardRule):
        state[m.__name__] = m.objects.count()
    return state


@contextlib.contextmanager
def refused(exc=ValidationError, match=None):
    """Expect the act to be refused and to leave every row as it was, none added."""
    before = _state()
    with pytest.raises(exc, match=match) as info:
        yield info
    assert _state() == before


def fields_of(info) -> list[str]:
    return sorted(info.value.message_dict)


def history(obj) -> list[tuple[str, str, str]]:
    return [(e.actor_name, e.action, e.note) for e in audit.history(obj)]


def audit_text() -> str:
    return " ".join(
        json.dumps([e.before, e.after, e.note, e.target_repr], ensure_ascii=False)
        for e in AuditEntry.objects.all()
    )


def fresh(tip: Tip) -> Tip:
    return Tip.objects.get(pk=tip.pk)


# -- building blocks ---------------------------------------------------------------------------
def received(world, **kw) -> Tip:
    """A phone tip about enterprise A, with the reporter's name and phone number."""
    return received_with_code(world, **kw)[0]


def received_with_code(world, **kw) -> tuple[Tip, str]:
    kw.setdefault("channel", "phone")
    kw.setdefault("content", CONTENT)
    kw.setdefault("received_on", RECEIVED)
    kw.setdefault("enterprise", world.ent_a)
    kw.setdefault("anonymous", False)
    kw.setdefault("name", NAME)
    kw.setdefault("contact", PHONE)
    return services.record_tip(by=kw.pop("by", world.duty), **kw)


def hotline(world, ticket="12345-20250601-0001", **kw) -> tuple[Tip, bool]:
    kw.setdefault("content", CONTENT)
    kw.setdefault("received_at", datetime.datetime(2025, 6, 1, 9, 30, tzinfo=SHANGHAI))
    return services.receive_hotline_tip(by=kw.pop("by", world.duty), ticket=ticket, **kw)


def assigned(world, tip=None, **kw) -> Tip:
    tip = tip or received(world, **kw)
    return services.assign(tip, by=world.duty, assignee=world.inspector)


def verifying(world, tip=None, **kw) -> Tip:
    return services.start_verification(assigned(world, tip, **kw), by=world.inspector)


def verified(world, tip=None, found=True, **kw) -> Tip:
    return services.record_verification(
        verifying(world, tip, **kw), by=world.inspector, verified=found, findings="现场核实属实"
    )


def closed(world, tip=None, **kw) -> Tip:
    return services.close_tip(
        verified(world, tip, **kw), by=world.inspector, answer="已责令停产整改"
    )


def proposed(world, tip=None, amount="500", **kw) -> Tip:
    return services.propose_reward(verified(world, tip, **kw), by=world.inspector, amount=amount)


def approved(world, tip=None, **kw) -> Tip:
    return services.approve_reward(proposed(world, tip, **kw), by=world.leader)


def decided_fine(world, amount, decided_on=datetime.date(2025, 6, 5), enterprise=None):
    """A decided penalty of the enterprise (for rewards as a share of the fine)."""
    case = enforcement.open_case(
        by=world.inspector,
        enterprise=enterprise or world.ent_a,
        title="举报查实",
        opened_on=decided_on - datetime.timedelta(days=2),
    )
    penalty = enforcement.draft_penalty(
        case, by=world.inspector, legal_basis="《安全生产法》第九十九条", facts="x", amount=amount
    )
    enforcement.serve_penalty_notice(
        penalty, by=world.inspector, served_on=decided_on - datetime.timedelta(days=1)
    )
    enforcement.record_statement(penalty, by=world.inspector, statement="无异议")
    enforcement.approve_penalty(penalty, by=world.leader)
    return enforcement.decide_penalty(penalty, by=world.inspector, decided_on=decided_on)


# -- the receipt code --------------------------------------------------------------------------
def test_the_receipt_code_is_long_random_and_only_its_keyed_hash_is_stored(world, settings):
    tip, code = received_with_code(world)
    assert code.isdigit() and len(code) >= 16
    expected = hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()
    assert tip.receipt_hash == expected == fresh(tip).receipt_hash
    # The code itself is nowhere: not in the row, not in the audit log.
    row = Tip.objects.filter(pk=tip.pk).values().get()
    assert not any(code in str(value) for value in row.values())
    assert code not in audit_text()
    assert "receipt_hash" not in audit.history(tip).get().after
    # The reporter finds the tip with it, written any way; nothing else finds it.
    assert services.find_by_code(code) == tip
    spaced = " ".join(code[i : i + 4] for i in range(0, len(code), 4))
    assert services.find_by_code(spaced) == tip
    assert services.find_by_code(code[:-1] + str((int(code[-1]) + 1) % 10)) is None
    assert services.find_by_code(code[:15]) is None
    assert services.find_by_code(str(tip.pk).zfill(20)) is None


def test_two_tips_get_unrelated_codes_not_derived_from_their_ids(world):
    codes = [received_with_code(world)[1] for _ in range(6)]
    assert len(set(codes)) == 6
    for a, b in zip(codes, codes[1:], strict=False):
        assert abs(int(a) - int(b)) > 10**6
        common = next((i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), len(a))
        assert common < 10
    for tip in Tip.objects.all():
        assert tip.receipt_hash != crypto.code_hash(str(tip.pk))


def test_the_code_comes_from_the_random_source_and_a_taken_one_is_drawn_again(world, monkeypatch):
    draws = iter(["1111222233334444", "1111222233334444", "5555666677778888"])
    monkeypatch.setattr(services, "receipt_code", lambda: next(draws))
    first = received_with_code(world)
    second = received_with_code(world)
    assert first[1] == "1111222233334444" and second[1] == "5555666677778888"
    assert services.find_by_code("5555666677778888") == second[0]


def test_the_public_portal_gives_a_code_and_asks_for_a_contact_unless_anonymous(world):
    tip, code = services.submit_public_tip(content=CONTENT, location="城南工业园")
    assert (tip.channel, tip.anonymous, tip.received_on, tip.status) == (
        "platform",
        True,
        TODAY,
        "received",
    )
    assert tip.deadline == days(services.DEFAULT_DAYS)
    assert services.find_by_code(code) == tip
    assert history(tip) == [("system", "create", "")]
    # The duty officers and leaders hear of it at once.
    told = set(Notification.objects.filter(channel="inapp").values_list("recipient__username"))
    assert told == {("duty",), ("leader",)}
    with refused() as info:
        services.submit_public_tip(content="太短了")
    assert fields_of(info) == ["content"]
    with refused() as info:
        services.submit_public_tip(content=CONTENT, anonymous=False, name=NAME)
    assert fields_of(info) == ["contact"]


# -- the reporter's identity -------------------------------------------------------------------
def test_the_identity_is_encrypted_at_rest_and_kept_out_of_the_audit_log(world):
    tip = received(world, contact=EMAIL)
    closed(world, tip)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tips_tip WHERE id = %s", [tip.pk])
        raw = " ".join(str(v) for v in cursor.fetchone())
    assert NAME not in raw and EMAIL not in raw and "wxm" not in raw
    assert crypto.decrypt(fresh(tip).reporter_name_enc) == NAME
    assert crypto.decrypt(fresh(tip).reporter_contact_enc) == EMAIL
    services.reveal_identity(tip, by=world.leader)
    logged = audit_text()
    assert NAME not in logged and EMAIL not in logged and PHONE not in logged
    assert audit.verify().ok


def test_an_anonymous_tip_keeps_no_identity_even_when_one_is_typed(world):
    tip = received(world, anonymous=True)
    assert (tip.reporter_name_enc, tip.reporter_contact_enc) == ("", "")
    assert services.reveal_identity(tip, by=world.leader) == {"name": "", "contact": ""}


def test_with_the_wrong_key_the_identity_cannot_be_read(world, settings):
    settings.TIPS_KEY = Fernet.generate_key().decode()
    tip = received(world)
    assert services.reveal_identity(tip, by=world.leader) == {"name": NAME, "contact": PHONE}
    settings.TIPS_KEY = Fernet.generate_key().decode()  # the key lost or rotated badly
    assert services.reveal_identity(tip, by=world.leader) == {"name": "?", "contact": "?"}


@pytest.mark.parametrize(
    "role", ["inspector", "duty", "legal", "admin", "town", "village", "ent_a", "expert"]
)
def test_only_leaders_may_see_who_reported(world, role):
    tip = received(world)
    with refused(PermissionDenied):
        services.reveal_identity(tip, by=world.users[role])


def test_each_look_at_the_identity_is_audited(world):
    tip = received(world)
    for _ in range(2):
        assert services.reveal_identity(tip, by=world.leader) == {"name": NAME, "contact": PHONE}
    assert history(tip)[-2:] == [("leader", "view", "reporter identity viewed")] * 2
    world.leader.is_active = False
    world.leader.save()
    with refused(PermissionDenied):
        services.reveal_identity(tip, by=world.leader)


# -- intake ------------------------------------------------------------------------------------
def test_staff_enter_phone_letter_and_visit_tips(world):
    tip, code = received_with_code(world, channel="letter", location="城南")
    assert (tip.channel, tip.received_on, tip.created_by, tip.enterprise) == (
        "letter",
        RECEIVED,
        world.duty,
        world.ent_a,
    )
    assert tip.deadline == RECEIVED + datetime.timedelta(days=services.DEFAULT_DAYS)
    assert history(tip) == [("duty", "create", "")]
    assert services.find_by_code(code) == tip


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"channel": "platform"}, ["channel"]),
        ({"channel": "hotline_12345"}, ["channel"]),
        ({"content": "  "}, ["content"]),
        ({"received_on": days(1)}, ["received_on"]),
        ({"contact": " "}, ["contact"]),
        ({"enterprise_name": "甲" * 201}, ["enterprise_name"]),
    ],
)
def test_staff_intake_refuses_bad_input(world, change, fields):
    with refused() as info:
        received(world, **change)
    assert fields_of(info) == fields


@pytest.mark.parametrize("role", ["legal", "town", "village", "ent_a", "expert"])
def test_intake_is_for_duty_officers_and_handlers(world, role):
    with refused(PermissionDenied):
        received(world, by=world.users[role])
    with refused(PermissionDenied):
        hotline(world, by=world.users[role])


def test_a_hotline_ticket_sent_twice_is_one_tip(world):
    tip, created = hotline(world, name=NAME, contact=PHONE, deadline=datetime.date(2025, 6, 8))
    assert created
    assert (tip.channel, tip.hotline_ticket, tip.anonymous) == (
        "hotline_12345",
        "12345-20250601-0001",
        False,
    )
    assert (tip.hotline_deadline, tip.deadline) == (datetime.date(2025, 6, 8),) * 2
    assert tip.receipt_hash  # a code exists, though the hotline follows the ticket itself
    entries, notes = AuditEntry.objects.count(), Notification.objects.count()
    again, created = hotline(world, ticket=" 12345-20250601-0001 ", content="重复推送的内容")
    assert (again, created) == (tip, False)
    assert Tip.objects.count() == 1 and fresh(tip).content == CONTENT
    assert (AuditEntry.objects.count(), Notification.objects.count()) == (entries, notes)


def test_a_hotline_tip_takes_the_local_day_and_is_anonymous_without_details(world):
    late = datetime.datetime(2025, 6, 1, 17, 30, tzinfo=datetime.UTC)  # 01:30 on 2 June
    tip, _ = hotline(world, received_at=late)
    assert (tip.received_on, tip.anonymous, tip.hotline_deadline) == (
        datetime.date(2025, 6, 2),
        True,
        None,
    )
    assert tip.deadline == datetime.date(2025, 6, 2) + datetime.timedelta(services.DEFAULT_DAYS)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"ticket": "  "}, ["ticket"]),
        ({"content": ""}, ["content"]),
        ({"deadline": datetime.date(2025, 5, 31)}, ["deadline"]),
        ({"ticket": "T" * 65}, ["hotline_ticket"]),
    ],
)
def test_a_bad_hotline_tip_is_refused(world, change, fields):
    with refused() as info:
        hotline(world, **change)
    assert fields_of(info) == fields


# -- triage ------------------------------------------------------------------------------------
def test_assigning_gives_the_tip_a_handler_and_a_deadline(world):
    tip = received(world)
    tip = services.assign(tip, by=world.duty, assignee=world.inspector, deadline=days(3))
    assert (tip.status, tip.assignee, tip.deadline) == ("assigned", world.inspector, days(3))
    assert Notification.objects.filter(recipient=world.inspector, channel="inapp").exists()
    tip = services.assign(tip, by=world.duty, assignee=world.leader)  # re-assigned
    assert (tip.assignee, tip.deadline) == (world.leader, days(3))
    assert history(tip) == [("duty", "create", ""), ("duty", "update", ""), ("duty", "update", "")]


def test_assigning_is_refused_for_the_wrong_person_date_or_state(world):
    tip = received(world)
    for who in (world.duty, world.legal, world.town_officer, world.ent_user_a, None):
        with refused() as info:
            services.assign(tip, by=world.duty, assignee=who)
        assert fields_of(info) == ["assignee"]
    before = RECEIVED - datetime.timedelta(1)
    with refused() as info:
        services.assign(tip, by=world.duty, assignee=world.leader, deadline=before)
    assert fields_of(info) == ["deadline"]
    with refused(PermissionDenied):
        services.assign(tip, by=world.town_officer, assignee=world.leader)
    busy = verifying(world, received(world))
    with refused():
        services.assign(busy, by=world.duty, assignee=world.leader)
    world.inspector.is_active = False
    world.inspector.save()
    with refused() as info:
        services.assign(tip, by=world.duty, assignee=world.inspector)
    assert fields_of(info) == ["assignee"]


def test_the_hotlines_deadline_bounds_the_handling_deadline(world):
    tip, _ = hotline(world, deadline=days(2))
    with refused() as info:
        services.assign(tip, by=world.duty, assignee=world.inspector, deadline=days(5))
    assert fields_of(info) == ["deadline"]
    assert services.assign(tip, by=world.duty, assignee=world.inspector).deadline == days(2)


def test_a_duplicate_is_joined_to_its_original_and_closed_with_it(world):
    original = received(world)
    repeat = received(world, channel="visit")
    services.link_duplicate(repeat, by=world.duty, of=original)
    third = received(world, channel="letter")
    # Joining to a duplicate joins to its original.
    assert services.link_duplicate(third, by=world.duty, of=fresh(repeat)).duplicate_of == original
    closed(world, original)
    for dup in (repeat, third):
        dup = fresh(dup)
        assert (dup.status, dup.answer, dup.closed_on) == ("closed", "已责令停产整改", TODAY)
        assert history(dup)[-1] == ("inspector", "update", "closed with its original")
    assert history(repeat)[1] == ("duty", "update", "duplicate")


def test_a_tip_cannot_duplicate_itself_or_its_own_duplicate(world):
    a, b = received(world), received(world)
    with refused() as info:
        services.link_duplicate(a, by=world.duty, of=a)
    assert fields_of(info) == ["duplicate_of"]
    services.link_duplicate(b, by=world.duty, of=a)
    b = fresh(b)
    with refused() as info:
        services.link_duplicate(a, by=world.duty, of=b)
    assert fields_of(info) == ["duplicate_of"]
    late, c = verifying(world, received(world)), received(world)
    with refused():
        services.link_duplicate(late, by=world.duty, of=a)
    with refused(PermissionDenied):
        services.link_duplicate(c, by=world.legal, of=a)


def test_a_tip_with_duplicates_joined_to_another_takes_them_along(world):
    """A → B → C: closing C must close A too; no tip is left unanswered."""
    a, b, c = received(world), received(world), received(world)
    services.link_duplicate(a, by=world.duty, of=b)
    services.link_duplicate(b, by=world.duty, of=c)
    closed(world, c)
    assert [fresh(t).status for t in (a, b, c)] == ["closed"] * 3


def test_a_duplicates_reporter_is_answered_with_the_original(world, settings):
    """Each repeat report has a reporter of its own (and a hotline ticket of its own)."""
    settings.HOTLINE_CALLBACK_URL = CALLBACK_URL
    original = received(world)
    repeat, _ = hotline(world, ticket="12345-0002")
    by_mail = received(world, contact=EMAIL)
    services.link_duplicate(repeat, by=world.duty, of=original)
    services.link_duplicate(by_mail, by=world.duty, of=original)
    closed(world, original)
    tickets = [w.payload["ticket"] for w in WebhookDelivery.objects.filter(purpose="hotline")]
    assert tickets == ["12345-0002"]
    assert list(Notification.objects.filter(address=EMAIL).values_list("channel")) == [("email",)]


def test_a_transferred_tip_is_closed_with_the_transfer_answer(world):
    tip = assigned(world)
    with refused() as info:
        services.transfer(tip, by=world.inspector, to=" ", answer=" ")
    assert fields_of(info) == ["answer", "transferred_to"]
    with refused(PermissionDenied):
        services.transfer(tip, by=world.duty, to="区市场监管局", answer="已转交")
    tip = services.transfer(
        tip, by=world.inspector, to="区市场监管局", answer="已转区市场监管局办理"
    )
    assert (tip.status, tip.transferred_to) == ("transferred", "区市场监管局")
    with refused():
        services.transfer(tip, by=world.inspector, to="区住建局", answer="x")
    tip = services.close_tip(tip, by=world.inspector)
    assert (tip.status, tip.answer) == ("closed", "已转区市场监管局办理")


def test_a_verified_tip_cannot_be_transferred(world):
    tip = verified(world)
    with refused():
        services.transfer(tip, by=world.inspector, to="区市场监管局", answer="x")


# -- verification ------------------------------------------------------------------------------
def test_verification_starts_from_an_assigned_tip(world):
    tip = received(world)
    with refused():
        services.start_verification(tip, by=world.inspector)
    tip = assigned(world, tip)
    with refused(PermissionDenied):
        services.start_verification(tip, by=world.duty)
    tip = services.start_verification(tip, by=world.inspector)
    assert tip.status == "verifying"


def test_an_inspection_is_planned_from_the_tip(world):
    tip = assigned(world)
    insp = services.inspect_from_tip(tip, by=world.inspector)
    tip = fresh(tip)
    assert (insp.enterprise, insp.date, tip.inspection, tip.status) == (
        world.ent_a,
        TODAY,
        insp,
        "verifying",
    )
    assert list(insp.inspectors.all()) == [world.inspector]


def test_no_inspection_is_planned_for_a_tip_without_enterprise_or_before_assignment(world):
    vague = assigned(world, enterprise=None, enterprise_name="某厂")
    with refused() as info:
        services.inspect_from_tip(vague, by=world.inspector)
    assert fields_of(info) == ["enterprise"]
    new, ready = received(world), assigned(world)
    with refused():  # still received: the inspection planned is rolled back too
        services.inspect_from_tip(new, by=world.inspector)
    with refused(PermissionDenied):
        services.inspect_from_tip(ready, by=world.duty)


def test_the_inspection_linked_must_be_of_the_reported_enterprise(world):
    from yingji.inspections import services as inspections

    other = inspections.schedule_inspection(
        by=world.leader, enterprise=world.ent_b, date=TODAY, inspectors=[world.inspector]
    )
    tip = assigned(world)
    with refused() as info:
        services.start_verification(tip, by=world.inspector, inspection=other)
    assert fields_of(info) == ["inspection"]


def test_the_result_of_the_check_needs_findings(world):
    tip = verifying(world)
    with refused() as info:
        services.record_verification(tip, by=world.inspector, verified=True, findings=" ")
    assert fields_of(info) == ["findings"]
    tip = services.record_verification(tip, by=world.inspector, verified=False, findings="未发现")
    assert (tip.status, tip.verified, tip.findings) == ("unfounded", False, "未发现")
    with refused():
        services.record_verification(tip, by=world.inspector, verified=True, findings="x")
    other = assigned(world)
    with refused():
        services.record_verification(other, by=world.inspector, verified=True, findings="x")


def test_questions_and_answers_with_the_reporter(world):
    tip = assigned(world)
    q = services.ask_reporter(tip, by=world.inspector, question="请问具体是哪个车间?")
    a = services.reporter_answers(tip, text="三号车间")
    assert [(m.kind, m.text, m.by) for m in tip.messages.all()] == [
        ("question", "请问具体是哪个车间?", world.inspector),
        ("answer", "三号车间", None),
    ]
    assert history(q) == [("inspector", "create", "")]
    assert history(a) == [("system", "create", "reporter")]
    assert Notification.objects.filter(
        recipient=world.inspector, subject="The reporter answered"
    ).exists()
    with refused() as info:
        services.ask_reporter(tip, by=world.inspector, question=" ")
    assert fields_of(info) == ["question"]
    with refused() as info:
        services.reporter_answers(tip, text=" ")
    assert fields_of(info) == ["text"]
    with refused(PermissionDenied):
        services.ask_reporter(tip, by=world.duty, question="x")
    done = closed(world)
    with refused():
        services.ask_reporter(done, by=world.inspector, question="还有吗?")
    with refused():
        services.reporter_answers(done, text="补充")


# -- closing -----------------------------------------------------------------------------------
def test_closing_needs_an_answer_a_result_and_a_sound_date(world):
    tip = verified(world, found=False)
    with refused() as info:
        services.close_tip(tip, by=world.inspector)
    assert fields_of(info) == ["answer"]
    with refused() as info:
        services.close_tip(tip, by=world.inspector, answer="x", closed_on=days(1))
    assert fields_of(info) == ["closed_on"]
    before = RECEIVED - datetime.timedelta(1)
    with refused() as info:
        services.close_tip(tip, by=world.inspector, answer="x", closed_on=before)
    assert fields_of(info) == ["closed_on"]
    with refused(PermissionDenied):
        services.close_tip(tip, by=world.duty, answer="x")
    other = assigned(world)
    with refused() as info:
        services.close_tip(other, by=world.inspector, answer="x")
    assert fields_of(info) == ["status"]
    tip = services.close_tip(tip, by=world.inspector, answer="经核查不属实", closed_on=days(-1))
    assert (tip.status, tip.answer, tip.closed_on) == ("closed", "经核查不属实", days(-1))
    with refused() as info:
        services.close_tip(tip, by=world.inspector, answer="再次")
    assert fields_of(info) == ["status"]


def test_a_reporter_who_left_an_email_is_answered_by_email(world):
    closed(world, received(world, contact=EMAIL))
    note = Notification.objects.get(address=EMAIL)
    assert (note.channel, note.status, note.recipient) == ("email", "pending", None)
    assert "已责令停产整改" in note.body
    assert not WebhookDelivery.objects.exists()
    deliver_due()
    assert [EMAIL] in [m.to for m in mail.outbox]
    assert Notification.objects.get(address=EMAIL).status == "sent"


def test_a_reporter_who_left_a_phone_gets_an_sms_through_the_gateway(world, settings):
    settings.SMS_GATEWAY_URL = SMS_URL
    closed(world)
    hook = WebhookDelivery.objects.get()
    assert (hook.url, hook.purpose, hook.status) == (SMS_URL, "sms", "pending")
    assert hook.payload["to"] == PHONE and "已责令停产整改" in hook.payload["text"]
    assert not Notification.objects.filter(channel="email", recipient=None).exists()


def test_without_a_gateway_or_a_contact_nobody_is_messaged(world, settings):
    closed(world)  # a phone number, but no SMS gateway configured
    settings.SMS_GATEWAY_URL = SMS_URL
    closed(world, anonymous=True)
    assert not WebhookDelivery.objects.exists()
    assert not Notification.objects.filter(recipient=None).exists()


def test_a_closed_hotline_tip_is_reported_back_to_the_hotline(world, settings):
    settings.HOTLINE_CALLBACK_URL = CALLBACK_URL
    tip, _ = hotline(world)
    closed(world, tip)
    hook = WebhookDelivery.objects.get()
    assert (hook.url, hook.purpose) == (CALLBACK_URL, "hotline")
    assert hook.payload == {
        "ticket": "12345-20250601-0001",
        "result": "Closed",
        "verified": True,
        "answer": "已责令停产整改",
        "closed_on": TODAY.isoformat(),
    }


# -- rewards -----------------------------------------------------------------------------------
def test_a_reward_is_proposed_only_for_a_verified_tip(world):
    for tip in (assigned(world), verifying(world), verified(world, found=False)):
        with refused():
            services.propose_reward(tip, by=world.inspector, amount="500")
    tip = services.propose_reward(verified(world), by=world.inspector, amount="500")
    assert (tip.reward_status, tip.reward_amount) == ("proposed", Decimal("500.00"))
    assert history(tip)[-1] == ("inspector", "update", "reward proposed")
    with refused():
        services.propose_reward(tip, by=world.inspector, amount="600")


@pytest.mark.parametrize("amount", ["0", "-5", "1.234", 0])
def test_a_proposed_amount_must_be_positive_yuan(world, amount):
    tip = verified(world)
    with refused() as info:
        services.propose_reward(tip, by=world.inspector, amount=amount)
    assert fields_of(info) == ["reward_amount"]


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity"])
def test_an_amount_that_is_not_a_number_is_a_field_error(world, amount):
    tip = verified(world)
    with refused() as info:
        services.propose_reward(tip, by=world.inspector, amount=amount)
    assert fields_of(info) == ["reward_amount"]


@pytest.mark.parametrize("role", ["duty", "legal", "town", "ent_a", "expert"])
def test_rewards_are_proposed_by_handlers_only(world, role):
    tip = verified(world)
    with refused(PermissionDenied):
        services.propose_reward(tip, by=world.users[role], amount="500")


def test_the_fixed_rule_pays_by_the_hazard_level_found(world):
    tip = verified(world)
    assert services.suggested_reward(tip) == Decimal("100.00")  # no rule: the defaults
    RewardRule.objects.create(
        kind="fixed", fixed_general=Decimal("200.00"), fixed_major=Decimal("2000.00")
    )
    assert services.suggested_reward(tip) == Decimal("200.00")
    # An inspection from the tip finds a major hazard.
    major = assigned(world)
    insp = services.inspect_from_tip(major, by=world.inspector)
    from yingji.inspections import services as inspections

    inspections.start_inspection(insp, by=world.inspector)
    hazards.report_hazard(
        by=world.inspector,
        enterprise=world.ent_a,
        inspection=insp,
        found_on=TODAY,
        level="major",
        description="粉尘涉爆区域使用非防爆电气",
    )
    major = services.record_verification(major, by=world.inspector, verified=True, findings="属实")
    major = services.propose_reward(major, by=world.inspector)
    assert major.reward_amount == Decimal("2000.00")


def test_an_inactive_rule_is_not_used(world):
    RewardRule.objects.create(kind="fixed", fixed_general=Decimal("900.00"), active=False)
    assert services.suggested_reward(verified(world)) == Decimal("100.00")


def test_the_percent_rule_pays_a_share_of_the_fine_within_bounds(world):
    RewardRule.objects.create(
        kind="percent",
        percent=Decimal("15.00"),
        minimum=Decimal("100.00"),
        maximum=Decimal("3000.00"),
    )
    tip = verified(world)
    assert services.suggested_reward(tip) == Decimal("100.00")  # no fine yet: the minimum
    decided_fine(world, "10000.30")
    assert services.suggested_reward(tip) == Decimal("1500.05")  # 1500.045, rounded half up
    decided_fine(world, "30000", enterprise=world.ent_b)  # another enterprise's fine
    assert services.suggested_reward(tip) == Decimal("1500.05")
    decided_fine(world, "10000")
    assert services.suggested_reward(tip) == Decimal("3000.00")  # 3000.045 → the maximum
    tip = services.propose_reward(tip, by=world.inspector)
    assert (tip.reward_status, tip.reward_amount) == ("proposed", Decimal("3000.00"))


def test_fines_decided_before_the_tip_do_not_count(world):
    RewardRule.objects.create(kind="percent", percent=Decimal("10.00"), minimum=Decimal("50.00"))
    decided_fine(world, "20000", decided_on=datetime.date(2025, 5, 30))
    tip = verified(world)  # received 1 June
    assert services.suggested_reward(tip) == Decimal("50.00")
    decided_fine(world, "600", decided_on=datetime.date(2025, 6, 3))
    assert services.suggested_reward(tip) == Decimal("60.00")
    vague = verified(world, enterprise=None)  # no enterprise: the fixed sums
    assert services.suggested_reward(vague) == Decimal("100.00")


def test_a_reward_is_approved_by_a_leader_only(world):
    tip = proposed(world)
    for who in (world.inspector, world.admin, world.duty):
        with refused(PermissionDenied):
            services.approve_reward(tip, by=who)
    tip = services.approve_reward(tip, by=world.leader)
    assert (tip.reward_status, tip.reward_approved_by, tip.reward_approved_at) == (
        "approved",
        world.leader,
        NOW,
    )
    assert history(tip)[-1] == ("leader", "update", "reward approved")
    with refused():
        services.approve_reward(tip, by=world.leader)
    nothing = verified(world)
    with refused():
        services.approve_reward(nothing, by=world.leader)  # nothing proposed


def test_a_payment_needs_the_method_and_a_sound_date(world):
    tip = approved(world)
    with refused() as info:
        services.record_reward_payment(tip, by=world.inspector, paid_on=None, method=" ")
    assert fields_of(info) == ["reward_method", "reward_paid_on"]
    for bad in (days(1), RECEIVED - datetime.timedelta(1)):
        with refused() as info:
            services.record_reward_payment(tip, by=world.inspector, paid_on=bad, method="银行转账")
        assert fields_of(info) == ["reward_paid_on"]
    with refused(PermissionDenied):
        services.record_reward_payment(tip, by=world.duty, paid_on=TODAY, method="银行转账")
    early = proposed(world)
    with refused():  # proposed, not approved
        services.record_reward_payment(early, by=world.inspector, paid_on=TODAY, method="现金")
    tip = services.record_reward_payment(tip, by=world.inspector, paid_on=TODAY, method="银行转账")
    assert (tip.reward_status, tip.reward_paid_on, tip.reward_method) == (
        "paid",
        TODAY,
        "银行转账",
    )
    assert history(tip)[-1] == ("inspector", "update", "reward paid")
    with refused():
        services.reporter_waives_reward(tip)


def test_the_reporter_may_waive_or_claim_the_reward(world):
    tip = services.reporter_waives_reward(proposed(world))
    assert tip.reward_status == "waived"
    assert history(tip)[-1] == ("system", "update", "reward waived by the reporter")
    with refused():
        services.reporter_waives_reward(tip)
    with refused():
        services.propose_reward(tip, by=world.inspector, amount="100")
    unchecked, early = assigned(world), proposed(world)
    with refused():
        services.reporter_waives_reward(unchecked)  # nothing found true yet
    with refused():
        services.reporter_claims_reward(early)
    tip = services.reporter_claims_reward(approved(world))
    assert (tip.reward_status, tip.reward_claimed_at) == ("approved", NOW)
    assert history(tip)[-1] == ("system", "update", "reward claimed")
    with refused():  # once is enough
        services.reporter_claims_reward(tip)


# -- the whole life, audited -------------------------------------------------------------------
def test_every_act_is_audited(world):
    tip = received(world)
    services.assign(tip, by=world.duty, assignee=world.inspector)
    services.inspect_from_tip(tip, by=world.inspector)
    services.ask_reporter(tip, by=world.inspector, question="几点?")
    services.reporter_answers(tip, text="晚上十点")
    services.record_verification(tip, by=world.inspector, verified=True, findings="属实")
    services.propose_reward(tip, by=world.inspector)
    services.approve_reward(tip, by=world.leader)
    services.reporter_claims_reward(tip)
    services.record_reward_payment(tip, by=world.inspector, paid_on=TODAY, method="银行转账")
    services.close_tip(tip, by=world.inspector, answer="已查处")
    services.reveal_identity(tip, by=world.leader)
    assert history(tip) == [
        ("duty", "create", ""),
        ("duty", "update", ""),
        ("inspector", "update", ""),
        ("inspector", "update", ""),
        ("inspector", "update", "reward proposed"),
        ("leader", "update", "reward approved"),
        ("system", "update", "reward claimed"),
        ("inspector", "update", "reward paid"),
        ("inspector", "update", ""),
        ("leader", "view", "reporter identity viewed"),
    ]
    assert fresh(tip).status == "closed"
    assert audit.verify().ok
