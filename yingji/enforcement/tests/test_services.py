"""Enforcement acts: cases, penalties, supervision letters, interviews and referrals."""

import contextlib
import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from yingji.core import audit
from yingji.core.attachments import attach
from yingji.core.models import Attachment, AuditEntry, DocumentCounter, IssuedNumber, Notification
from yingji.enforcement import services
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter
from yingji.hazards import services as hazards
from yingji.inspections import services as inspections

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2025, 6, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
VISIT_DAY = datetime.date(2025, 5, 30)
FOUND = datetime.date(2025, 6, 2)  # the finding is days after the visit started
BEFORE = FOUND - datetime.timedelta(days=1)
PERIOD_ENDS = FOUND + datetime.timedelta(days=services.STATEMENT_DAYS)
OTHERS = ["duty", "legal", "town", "village", "ent_a", "expert"]


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


DOMAIN = [Case, Penalty, SupervisionLetter, Interview, Referral, IssuedNumber, DocumentCounter]


def _state() -> dict:
    state = {m.__name__: list(m.objects.order_by("pk").values()) for m in DOMAIN}
    for m in (AuditEntry, Attachment, Notification):
        state[m.__name__] = m.objects.count()
    return state


@contextlib.contextmanager
def refused(exc=ValidationError, match=None):
    """Expect the act to be refused and to leave every row as it was, none added."""
    before = _state()
    with pytest.raises(exc, match=match) as info:
        yield info
    assert _state() == before


def history(obj) -> list[tuple[str, str, str]]:
    return [(e.actor_name, e.action, e.note) for e in audit.history(obj)]


def pdf(name="a.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n")


# -- building blocks ---------------------------------------------------------------------------
def finding(world, enterprise=None, found_on=FOUND):
    insp = inspections.schedule_inspection(
        by=world.leader,
        enterprise=enterprise or world.ent_a,
        date=VISIT_DAY,
        inspectors=[world.inspector],
    )
    inspections.start_inspection(insp, by=world.inspector)
    return hazards.report_hazard(
        by=world.inspector,
        enterprise=insp.enterprise,
        inspection=insp,
        found_on=found_on,
        description="除尘系统未设置锁气卸灰装置",
    )


def opened(world, **kw) -> Case:
    """A case against enterprise A opened from a hazard found on FOUND."""
    kw.setdefault("enterprise", world.ent_a)
    if "hazard" not in kw and "inspection" not in kw and "tip" not in kw:
        kw["hazard"] = finding(world, kw["enterprise"])
    kw.setdefault("title", "粉尘防爆违法行为")
    kw.setdefault("opened_on", FOUND)
    return services.open_case(by=kw.pop("by", world.inspector), **kw)


def direct(world, opened_on, enterprise=None) -> Case:
    return services.open_case(
        by=world.inspector,
        enterprise=enterprise or world.ent_a,
        title="约谈",
        opened_on=opened_on,
    )


def drafted(world, case=None, **kw) -> Penalty:
    kw.setdefault("legal_basis", "《安全生产法》第九十九条")
    kw.setdefault("facts", "除尘系统未按规定设置锁气卸灰装置")
    kw.setdefault("amount", "30000")
    return services.draft_penalty(case or opened(world), by=kw.pop("by", world.inspector), **kw)


def notified(world, case=None, on=FOUND) -> Penalty:
    return services.serve_penalty_notice(drafted(world, case), by=world.inspector, served_on=on)


def stated(world, case=None, on=FOUND) -> Penalty:
    """Notice served and the party's statement recorded: no need to wait for the period."""
    penalty = notified(world, case, on)
    return services.record_statement(penalty, by=world.inspector, statement="已整改,请求从轻")


def approved(world, case=None, on=FOUND) -> Penalty:
    return services.approve_penalty(stated(world, case, on), by=world.leader)


def decided(world, case=None, on=FOUND) -> Penalty:
    return services.decide_penalty(approved(world, case, on), by=world.inspector, decided_on=on)


def paid(world, case=None) -> Penalty:
    return services.record_payment(decided(world, case), by=world.inspector, paid_on=TODAY)


def letter(world, case=None, **kw) -> SupervisionLetter:
    kw.setdefault("addressee", "青海甲工贸有限公司")
    kw.setdefault("content", "限期完成粉尘防爆专项整治并书面回复")
    kw.setdefault("deadline", days(20))
    kw.setdefault("issued_on", FOUND)
    return services.issue_letter(case or opened(world), by=kw.pop("by", world.inspector), **kw)


def interview(world, case=None, **kw) -> Interview:
    kw.setdefault("held_on", FOUND)
    kw.setdefault("attendees", "张三(法定代表人)、李四(安全负责人)")
    kw.setdefault("topics", "粉尘防爆隐患反复出现")
    return services.record_interview(case or opened(world), by=kw.pop("by", world.inspector), **kw)


def drafted_referral(world, case=None, **kw) -> Referral:
    kw.setdefault("authority", "西宁市应急管理局")
    kw.setdefault("reason", "《安全生产法》第一百一十三条,涉嫌重大违法,移送市局处罚")
    return services.draft_referral(case or opened(world), by=kw.pop("by", world.inspector), **kw)


def ready_referral(world, case=None) -> Referral:
    referral = drafted_referral(world, case)
    attach(referral, pdf(), by=world.inspector)
    return services.approve_referral(referral, by=world.leader)


def sent(world, case=None, on=FOUND) -> Referral:
    return services.send_referral(ready_referral(world, case), by=world.inspector, sent_on=on)


def reload(obj):
    obj.refresh_from_db()
    return obj


# -- cases -------------------------------------------------------------------------------------
def test_a_case_opened_from_a_hazard_takes_its_visit_and_is_audited(world):
    hazard = finding(world)
    case = services.open_case(
        by=world.inspector,
        enterprise=world.ent_a,
        title="  粉尘防爆违法行为  ",
        hazard=hazard,
        opened_on=FOUND,
    )
    case = reload(case)
    assert (case.source, case.hazard, case.inspection) == ("hazard", hazard, hazard.inspection)
    assert (case.title, case.status, case.opened_on, case.opened_by) == (
        "粉尘防爆违法行为",
        "open",
        FOUND,
        world.inspector,
    )
    assert case.trigger_date() == FOUND
    assert history(case) == [("inspector", "create", "")]
    assert not IssuedNumber.objects.exists()  # a case is no document


def test_the_source_of_a_case(world):
    hazard = finding(world)
    insp = hazard.inspection
    by_inspection = services.open_case(
        by=world.leader, enterprise=world.ent_a, title="检查发现", inspection=insp
    )
    assert (by_inspection.source, by_inspection.opened_on) == ("inspection", TODAY)
    assert by_inspection.trigger_date() == VISIT_DAY
    tip = services.open_case(by=world.admin, enterprise=world.ent_a, title="举报", tip="12350")
    assert (tip.source, tip.trigger_date()) == ("tip", TODAY)
    plain = direct(world, days(-3))
    assert (plain.source, plain.hazard, plain.inspection, plain.trigger_date()) == (
        "direct",
        None,
        None,
        days(-3),
    )


def test_a_case_is_about_the_enterprise_of_its_finding(world):
    hazard = finding(world, world.ent_b)
    with refused(match="enterprise of its finding") as info:
        opened(world, hazard=hazard)
    assert "enterprise" in info.value.message_dict
    with refused() as info:
        opened(world, inspection=hazard.inspection, hazard=None)
    assert "enterprise" in info.value.message_dict


@pytest.mark.parametrize("opened_on", [BEFORE, days(1)])
def test_a_case_cannot_be_opened_before_its_finding_or_in_the_future(world, opened_on):
    hazard = finding(world)
    with refused() as info:
        opened(world, hazard=hazard, opened_on=opened_on)
    assert list(info.value.message_dict) == ["opened_on"]


def test_a_case_needs_a_title(world):
    hazard = finding(world)
    with refused() as info:
        opened(world, hazard=hazard, title="   ")
    assert "title" in info.value.message_dict


@pytest.mark.parametrize("who", OTHERS)
def test_only_leaders_inspectors_and_admins_open_cases(world, who):
    hazard = finding(world)
    with refused(PermissionDenied):
        opened(world, hazard=hazard, by=world.users[who])


@pytest.mark.parametrize("who", ["leader", "inspector", "admin"])
def test_leaders_inspectors_and_admins_open_cases(world, who):
    assert opened(world, by=world.users[who]).opened_by == world.users[who]


# -- penalties ---------------------------------------------------------------------------------
def test_a_penalty_goes_from_notice_through_approval_and_decision_to_payment(world):
    case = opened(world)
    penalty = services.draft_penalty(
        case,
        by=world.inspector,
        legal_basis=" 《工贸企业粉尘防爆安全规定》第三十条 ",
        facts=" 未按规定设置泄爆装置 ",
        amount="30000.5",
    )
    penalty = reload(penalty)
    assert (penalty.status, penalty.amount, penalty.created_by) == (
        "draft",
        Decimal("30000.50"),
        world.inspector,
    )
    assert (penalty.legal_basis, penalty.facts) == (
        "《工贸企业粉尘防爆安全规定》第三十条",
        "未按规定设置泄爆装置",
    )
    assert (penalty.notice_no, penalty.decision_no, penalty.approved) == ("", "", False)
    assert not IssuedNumber.objects.exists()

    services.serve_penalty_notice(penalty, by=world.inspector, served_on=days(-5))
    penalty = reload(penalty)
    assert (penalty.status, penalty.notice_no, penalty.notified_on) == (
        "notified",
        "城应急罚告〔2025〕1号",
        days(-5),
    )
    services.record_statement(
        penalty, by=world.inspector, statement=" 已整改,请求从轻 ", hearing_requested=True
    )
    penalty = reload(penalty)
    assert (penalty.statement, penalty.hearing_requested) == ("已整改,请求从轻", True)
    services.record_hearing(penalty, by=world.inspector, held_on=days(-4), summary=" 当事人到场 ")
    penalty = reload(penalty)
    assert (penalty.hearing_held_on, penalty.hearing_summary) == (days(-4), "当事人到场")
    services.approve_penalty(penalty, by=world.leader)
    penalty = reload(penalty)
    assert (penalty.approved_by, penalty.approved_at, penalty.approved) == (
        world.leader,
        timezone.now(),
        True,
    )
    services.decide_penalty(penalty, by=world.inspector, decided_on=days(-2))
    penalty = reload(penalty)
    assert (penalty.status, penalty.decision_no, penalty.decided_on) == (
        "decided",
        "城应急罚决〔2025〕1号",
        days(-2),
    )
    services.record_payment(penalty, by=world.admin, paid_on=days(-1))
    penalty = reload(penalty)
    assert (penalty.status, penalty.paid_on, penalty.resolved) == ("paid", days(-1), True)
    assert history(penalty) == [
        ("inspector", "create", ""),
        ("inspector", "update", ""),
        ("inspector", "update", ""),
        ("inspector", "update", "hearing"),
        ("leader", "update", "approved"),
        ("inspector", "update", ""),
        ("admin", "update", ""),
    ]
    statuses = [(e.before or {}).get("status") for e in audit.history(penalty)]
    assert statuses == [None, "draft", "notified", "notified", "notified", "notified", "decided"]
    issued = IssuedNumber.objects.order_by("pk").values_list("doc_type", "text", "subject")
    assert list(issued) == [
        ("penalty_notice", "城应急罚告〔2025〕1号", world.ent_a.name),
        ("penalty_decision", "城应急罚决〔2025〕1号", world.ent_a.name),
    ]
    assert audit.verify().ok


def test_steps_default_to_today(world):
    penalty = services.serve_penalty_notice(drafted(world), by=world.inspector)
    services.record_statement(penalty, by=world.inspector, statement="无异议")
    services.approve_penalty(penalty, by=world.leader)
    services.decide_penalty(penalty, by=world.inspector)
    services.record_payment(penalty, by=world.inspector)
    penalty = reload(penalty)
    assert (penalty.notified_on, penalty.decided_on, penalty.paid_on) == (TODAY, TODAY, TODAY)


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("0.01", "0.01"), (5000, "5000.00"), ("1234.5", "1234.50"), (Decimal("99.99"), "99.99")],
)
def test_amounts_in_yuan_with_at_most_two_decimals_are_accepted(world, amount, stored):
    assert reload(drafted(world, amount=amount)).amount == Decimal(stored)


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        ("0", "must be positive"),
        (0, "must be positive"),
        ("-100", "must be positive"),
        ("12.345", "At most two decimals"),
        ("0.001", "At most two decimals"),
        ("NaN", "must be positive"),
        ("Infinity", "must be positive"),
        ("五千元", "Enter an amount"),
        ("", "Enter an amount"),
        (None, "Enter an amount"),
    ],
)
def test_a_penalty_amount_must_be_positive_with_at_most_two_decimals(world, amount, match):
    case = opened(world)
    with refused(match=match) as info:
        drafted(world, case, amount=amount)
    assert list(info.value.message_dict) == ["amount"]


def test_an_amount_beyond_the_column_is_refused(world):
    case = opened(world)
    with refused() as info:
        drafted(world, case, amount="12345678901.00")
    assert "amount" in info.value.message_dict


def test_a_penalty_needs_its_legal_basis_and_facts(world):
    case = opened(world)
    with refused(match="needs its legal basis") as info:
        drafted(world, case, legal_basis="  ", facts=" ", amount="-1")
    assert sorted(info.value.message_dict) == ["amount", "facts", "legal_basis"]


def test_the_decision_needs_a_leaders_approval(world):
    penalty = stated(world)
    with refused(match="A leader must approve the penalty before the decision") as info:
        services.decide_penalty(penalty, by=world.inspector, decided_on=FOUND)
    assert list(info.value.message_dict) == ["approved_by"]
    assert not IssuedNumber.objects.filter(doc_type="penalty_decision").exists()


def test_the_decision_needs_the_notice_first(world):
    penalty = drafted(world)
    with refused(match="does not fit the penalty's state"):
        services.decide_penalty(penalty, by=world.inspector, decided_on=FOUND)
    # Nor can a leader approve a penalty whose notice has not been served.
    with refused(match="does not fit the penalty's state"):
        services.approve_penalty(penalty, by=world.leader)
    assert reload(penalty).status == "draft"


def test_the_decision_cannot_precede_the_notice(world):
    penalty = approved(world, on=days(-3))
    with refused(match="cannot precede the notice") as info:
        services.decide_penalty(penalty, by=world.inspector, decided_on=days(-4))
    assert list(info.value.message_dict) == ["decided_on"]
    # The same day as the notice is fine once the party has stated its case.
    services.decide_penalty(penalty, by=world.inspector, decided_on=days(-3))
    assert reload(penalty).decided_on == days(-3)


def test_without_a_statement_the_decision_waits_for_the_statement_period(world):
    penalty = services.approve_penalty(notified(world, on=FOUND), by=world.leader)
    for on in (FOUND, PERIOD_ENDS - datetime.timedelta(days=1)):
        with refused(match="to state its case") as info:
            services.decide_penalty(penalty, by=world.inspector, decided_on=on)
        assert list(info.value.message_dict) == ["decided_on"]
    services.decide_penalty(penalty, by=world.inspector, decided_on=PERIOD_ENDS)
    assert reload(penalty).decision_no == "城应急罚决〔2025〕1号"


def test_the_statement_comes_before_the_approval(world):
    penalty = services.approve_penalty(notified(world), by=world.leader)
    with refused(match="statement must come before the approval"):
        services.record_statement(penalty, by=world.inspector, statement="迟到的申辩")


def test_a_requested_hearing_is_held_before_the_decision(world):
    penalty = notified(world, on=FOUND)
    services.record_statement(penalty, by=world.inspector, statement="", hearing_requested=True)
    services.approve_penalty(penalty, by=world.leader)
    with refused(match="asked for a hearing") as info:
        services.decide_penalty(penalty, by=world.inspector, decided_on=TODAY)
    assert list(info.value.message_dict) == ["hearing_held_on"]
    for on in (BEFORE, days(1)):
        with refused(match="between the notice and today") as info:
            services.record_hearing(penalty, by=world.inspector, held_on=on, summary="听证")
        assert list(info.value.message_dict) == ["hearing_held_on"]
    with refused(match="Summarise the hearing") as info:
        services.record_hearing(penalty, by=world.inspector, held_on=FOUND, summary=" ")
    assert list(info.value.message_dict) == ["hearing_summary"]
    services.record_hearing(penalty, by=world.inspector, held_on=days(-1), summary="听证笔录")
    services.decide_penalty(penalty, by=world.inspector, decided_on=TODAY)
    assert reload(penalty).status == "decided"


def test_a_hearing_is_recorded_only_when_requested(world):
    penalty = stated(world)
    with refused(match="No hearing was requested") as info:
        services.record_hearing(penalty, by=world.inspector, held_on=TODAY, summary="听证")
    assert list(info.value.message_dict) == ["hearing_held_on"]


@pytest.mark.parametrize("who", ["inspector", "admin", *OTHERS])
def test_only_a_leader_approves_a_penalty(world, who):
    penalty = notified(world)
    with refused(PermissionDenied):
        services.approve_penalty(penalty, by=world.users[who])
    assert not reload(penalty).approved


def test_a_penalty_is_approved_once(world):
    penalty = approved(world)
    with refused(match="Already approved"):
        services.approve_penalty(penalty, by=world.leader)


def test_a_decided_penalty_is_not_decided_again(world):
    penalty = decided(world)
    with refused(match="does not fit the penalty's state"):
        services.decide_penalty(penalty, by=world.inspector)
    with refused(match="does not fit the penalty's state"):
        services.serve_penalty_notice(penalty, by=world.inspector)
    with refused(match="does not fit the penalty's state"):
        services.record_statement(penalty, by=world.inspector, statement="再次申辩")


def test_a_statement_or_a_hearing_request_is_recorded_after_the_notice(world):
    penalty = drafted(world)
    with refused(match="does not fit the penalty's state"):
        services.record_statement(penalty, by=world.inspector, statement="申辩")
    services.serve_penalty_notice(penalty, by=world.inspector, served_on=FOUND)
    with refused(match="Record the statement or the hearing request") as info:
        services.record_statement(penalty, by=world.inspector, statement="  ")
    assert list(info.value.message_dict) == ["statement"]
    services.record_statement(penalty, by=world.inspector, statement="", hearing_requested=True)
    assert reload(penalty).hearing_requested is True


def test_numbers_run_in_sequence_per_year(world):
    hazard = finding(world, found_on=FOUND)
    case = opened(world, hazard=hazard)
    first = stated(world, case)
    second = stated(world, case, on=TODAY)
    assert (first.notice_no, second.notice_no) == ("城应急罚告〔2025〕1号", "城应急罚告〔2025〕2号")
    for p in (first, second):
        services.approve_penalty(p, by=world.leader)
    services.decide_penalty(second, by=world.inspector)
    services.decide_penalty(first, by=world.inspector)
    assert (reload(second).decision_no, reload(first).decision_no) == (
        "城应急罚决〔2025〕1号",
        "城应急罚决〔2025〕2号",
    )


def test_the_number_carries_the_year_of_the_act(world):
    case = direct(world, datetime.date(2024, 12, 30))
    penalty = stated(world, case, on=datetime.date(2024, 12, 31))
    services.approve_penalty(penalty, by=world.leader)
    services.decide_penalty(penalty, by=world.inspector, decided_on=datetime.date(2025, 1, 3))
    penalty = reload(penalty)
    assert (penalty.notice_no, penalty.decision_no) == (
        "城应急罚告〔2024〕1号",
        "城应急罚决〔2025〕1号",
    )
    sent_ = letter(world, case, issued_on=datetime.date(2024, 12, 31))
    assert sent_.number == "城应急督〔2024〕1号"


def test_payment_follows_the_decision(world):
    penalty = approved(world)
    with refused(match="does not fit the penalty's state"):
        services.record_payment(penalty, by=world.inspector, paid_on=TODAY)
    services.decide_penalty(penalty, by=world.inspector, decided_on=days(-2))
    for on in (days(-3), days(1)):
        with refused(match="between the decision and today") as info:
            services.record_payment(penalty, by=world.inspector, paid_on=on)
        assert list(info.value.message_dict) == ["paid_on"]
    services.record_payment(penalty, by=world.inspector, paid_on=days(-2))
    with refused(match="does not fit the penalty's state"):
        services.record_payment(penalty, by=world.inspector, paid_on=TODAY)


@pytest.mark.parametrize("stage", ["draft", "notified", "approved"])
def test_a_leader_withdraws_a_penalty_not_yet_decided(world, stage):
    penalty = {"draft": drafted, "notified": notified, "approved": approved}[stage](world)
    services.withdraw_penalty(penalty, by=world.leader, reason=" 陈述申辩理由成立 ")
    penalty = reload(penalty)
    assert (penalty.status, penalty.resolved) == ("withdrawn", True)
    assert history(penalty)[-1] == ("leader", "update", "陈述申辩理由成立")
    with refused(match="does not fit the penalty's state"):
        services.serve_penalty_notice(penalty, by=world.inspector)
    with refused(match="does not fit the penalty's state"):
        services.decide_penalty(penalty, by=world.inspector)
    with refused(match="Only a penalty not yet decided"):
        services.withdraw_penalty(penalty, by=world.leader, reason="再次撤销")


def test_a_decided_penalty_cannot_be_withdrawn(world):
    penalty = decided(world)
    with refused(match="Only a penalty not yet decided can be withdrawn"):
        services.withdraw_penalty(penalty, by=world.leader, reason="撤销")
    assert reload(penalty).status == "decided"


def test_withdrawing_needs_a_reason(world):
    penalty = drafted(world)
    with refused(match="Give the reason") as info:
        services.withdraw_penalty(penalty, by=world.leader, reason="   ")
    assert list(info.value.message_dict) == ["reason"]


@pytest.mark.parametrize("who", ["inspector", "admin", *OTHERS])
def test_only_a_leader_withdraws_a_penalty(world, who):
    penalty = notified(world)
    with refused(PermissionDenied):
        services.withdraw_penalty(penalty, by=world.users[who], reason="撤销")


# -- supervision letters -----------------------------------------------------------------------
def test_a_supervision_letter_is_numbered_and_its_reply_recorded(world):
    case = opened(world)
    sent_ = services.issue_letter(
        case,
        by=world.inspector,
        addressee=" 青海甲工贸有限公司 ",
        content=" 限期完成整改 ",
        deadline=days(10),
    )
    sent_ = reload(sent_)
    assert (sent_.number, sent_.issued_on, sent_.deadline) == (
        "城应急督〔2025〕1号",
        TODAY,
        days(10),
    )
    assert (sent_.addressee, sent_.content, sent_.created_by) == (
        "青海甲工贸有限公司",
        "限期完成整改",
        world.inspector,
    )
    assert letter(world, case).number == "城应急督〔2025〕2号"
    services.record_reply(sent_, by=world.inspector, reply=" 已完成整改 ")
    sent_ = reload(sent_)
    assert (sent_.reply, sent_.replied_on) == ("已完成整改", TODAY)
    assert history(sent_) == [("inspector", "create", ""), ("inspector", "update", "")]


def test_a_letter_needs_an_addressee_content_and_a_deadline_after_it(world):
    case = opened(world)
    with refused() as info:
        letter(world, case, addressee=" ", content="", deadline=BEFORE, issued_on=FOUND)
    assert sorted(info.value.message_dict) == ["addressee", "content", "deadline"]
    assert letter(world, case, deadline=FOUND, issued_on=FOUND).deadline == FOUND


def test_a_reply_is_dated_between_the_letter_and_today_and_has_text(world):
    sent_ = letter(world, issued_on=days(-2))
    for on in (days(-3), days(1)):
        with refused(match="between the letter and today") as info:
            services.record_reply(sent_, by=world.inspector, reply="已整改", replied_on=on)
        assert list(info.value.message_dict) == ["replied_on"]
    with refused(match="Record the reply"):
        services.record_reply(sent_, by=world.inspector, reply=" ")


# -- warning interviews ------------------------------------------------------------------------
def test_an_interview_and_its_follow_up(world):
    case = opened(world)
    talk = services.record_interview(
        case,
        by=world.leader,
        held_on=days(-5),
        attendees=" 张三、李四 ",
        topics=" 隐患反复 ",
        commitments=" 十日内完成整改 ",
        follow_up_on=days(5),
    )
    talk = reload(talk)
    assert (talk.held_on, talk.attendees, talk.topics, talk.commitments, talk.follow_up_on) == (
        days(-5),
        "张三、李四",
        "隐患反复",
        "十日内完成整改",
        days(5),  # a planned check may lie ahead
    )
    assert not IssuedNumber.objects.exists()  # an interview takes no number
    services.record_follow_up(talk, by=world.inspector, result=" 已整改到位 ", checked_on=days(-1))
    talk = reload(talk)
    assert (talk.follow_up_on, talk.follow_up_result) == (days(-1), "已整改到位")
    assert history(talk) == [("leader", "create", ""), ("inspector", "update", "")]


def test_an_interview_needs_attendees_topics_and_a_follow_up_after_it(world):
    case = opened(world)
    with refused() as info:
        interview(world, case, attendees=" ", topics="", held_on=days(-1), follow_up_on=days(-2))
    assert sorted(info.value.message_dict) == ["attendees", "follow_up_on", "topics"]


def test_a_follow_up_is_dated_between_the_interview_and_today_and_has_a_result(world):
    talk = interview(world, held_on=days(-2))
    for on in (days(-3), days(1)):
        with refused(match="between the interview and today") as info:
            services.record_follow_up(talk, by=world.inspector, result="到位", checked_on=on)
        assert list(info.value.message_dict) == ["follow_up_on"]
    with refused(match="Record what the check found"):
        services.record_follow_up(talk, by=world.inspector, result=" ")


def test_a_second_interview_within_twelve_months_marks_a_repeat_offender(world):
    old_case = direct(world, datetime.date(2024, 4, 1))
    interview(world, old_case, held_on=datetime.date(2024, 5, 10))  # 13 months ago
    case = direct(world, datetime.date(2024, 6, 1))
    interview(world, case, held_on=TODAY)
    assert services.repeat_interviews(world.ent_a) == 1
    interview(world, case, held_on=datetime.date(2024, 6, 11))  # 364 days ago
    assert services.repeat_interviews(world.ent_a) == 2
    # Another enterprise's interviews do not count, nor do later ones for an earlier day.
    interview(world, direct(world, TODAY, world.ent_b), held_on=TODAY)
    assert services.repeat_interviews(world.ent_b) == 1
    assert services.repeat_interviews(world.ent_a, on=datetime.date(2024, 6, 30)) == 2
    assert services.repeat_interviews(world.ent_a, on=datetime.date(2024, 5, 31)) == 1


def test_two_interviews_thirteen_months_apart_are_no_repeat(world):
    case = direct(world, datetime.date(2024, 4, 1))
    interview(world, case, held_on=datetime.date(2024, 5, 10))
    interview(world, case, held_on=datetime.date(2025, 6, 10))
    assert services.repeat_interviews(world.ent_a) == 1
    assert services.repeat_interviews(world.ent_a, on=datetime.date(2024, 5, 10)) == 1


# -- referrals ---------------------------------------------------------------------------------
def test_a_referral_is_approved_sent_with_its_documents_and_its_result_recorded(world):
    referral = drafted_referral(world)
    referral = reload(referral)
    assert (referral.status, referral.number, referral.approved) == ("draft", "", False)
    attach(referral, pdf("移送材料.pdf"), by=world.inspector)
    services.approve_referral(referral, by=world.leader)
    assert (reload(referral).approved_by, referral.approved_at) == (world.leader, timezone.now())
    services.send_referral(referral, by=world.inspector, sent_on=days(-1))
    referral = reload(referral)
    assert (referral.status, referral.number, referral.sent_on) == (
        "sent",
        "城应急移〔2025〕1号",
        days(-1),
    )
    services.record_referral_result(referral, by=world.inspector, result=" 市局已立案 ")
    referral = reload(referral)
    assert (referral.status, referral.result, referral.result_on) == (
        "result",
        "市局已立案",
        TODAY,
    )
    assert history(referral) == [
        ("inspector", "create", ""),
        ("inspector", "create", "attachment"),
        ("leader", "update", "approved"),
        ("inspector", "update", ""),
        ("inspector", "update", ""),
    ]


def test_a_referral_needs_a_receiving_authority_and_a_reason(world):
    case = opened(world)
    with refused() as info:
        drafted_referral(world, case, authority="  ", reason=" ")
    assert sorted(info.value.message_dict) == ["authority", "reason"]


def test_a_referral_is_sent_only_approved_and_with_a_document(world):
    referral = drafted_referral(world)
    with refused() as info:
        services.send_referral(referral, by=world.inspector)
    assert sorted(info.value.message_dict) == ["approved_by", "documents"]
    attach(referral, pdf(), by=world.inspector)
    with refused(match="A leader must approve the referral") as info:
        services.send_referral(referral, by=world.inspector)
    assert list(info.value.message_dict) == ["approved_by"]
    services.approve_referral(referral, by=world.leader)
    services.send_referral(referral, by=world.inspector)
    assert reload(referral).number == "城应急移〔2025〕1号"


def test_an_approved_referral_still_needs_a_document(world):
    referral = services.approve_referral(drafted_referral(world), by=world.leader)
    with refused(match="Attach at least one document") as info:
        services.send_referral(referral, by=world.inspector)
    assert list(info.value.message_dict) == ["documents"]
    assert reload(referral).status == "draft"


@pytest.mark.parametrize("who", ["inspector", "admin", *OTHERS])
def test_only_a_leader_approves_a_referral(world, who):
    referral = drafted_referral(world)
    with refused(PermissionDenied):
        services.approve_referral(referral, by=world.users[who])


def test_a_referral_is_approved_and_sent_once(world):
    referral = ready_referral(world)
    with refused(match="Already approved"):
        services.approve_referral(referral, by=world.leader)
    services.send_referral(referral, by=world.inspector)
    with refused(match="does not fit the referral's state"):
        services.send_referral(referral, by=world.inspector)
    with refused(match="does not fit the referral's state"):
        services.approve_referral(referral, by=world.leader)


def test_a_referral_not_yet_sent_is_withdrawn_and_no_longer_holds_the_case(world):
    case = opened(world)
    referral = ready_referral(world, case)
    with refused(match="Give the reason") as info:
        services.withdraw_referral(referral, by=world.inspector, reason=" ")
    assert list(info.value.message_dict) == ["reason"]
    services.withdraw_referral(referral, by=world.inspector, reason=" 已另行处理 ")
    referral = reload(referral)
    assert (referral.status, referral.number) == ("withdrawn", "")
    assert history(referral)[-1] == ("inspector", "update", "已另行处理")
    with refused(match="does not fit the referral's state"):
        services.send_referral(referral, by=world.inspector)
    services.close_case(case, by=world.inspector, note="结案")
    assert reload(case).status == "closed"


def test_a_sent_referral_cannot_be_withdrawn(world):
    referral = sent(world)
    with refused(match="does not fit the referral's state"):
        services.withdraw_referral(referral, by=world.inspector, reason="撤回")


def test_a_result_follows_sending(world):
    referral = ready_referral(world)
    with refused(match="does not fit the referral's state"):
        services.record_referral_result(referral, by=world.inspector, result="已立案")
    services.send_referral(referral, by=world.inspector, sent_on=days(-2))
    for on in (days(-3), days(1)):
        with refused(match="between sending and today") as info:
            services.record_referral_result(
                referral, by=world.inspector, result="已立案", result_on=on
            )
        assert list(info.value.message_dict) == ["result_on"]
    with refused(match="Record the receiving authority's result"):
        services.record_referral_result(referral, by=world.inspector, result="  ")
    services.record_referral_result(referral, by=world.inspector, result="已立案")
    with refused(match="does not fit the referral's state"):
        services.record_referral_result(referral, by=world.inspector, result="再次")


# -- dates -------------------------------------------------------------------------------------
PREPARE = {
    "notice": lambda w, c: drafted(w, c),
    "referral": lambda w, c: ready_referral(w, c),
}
DATED = {
    "opened": lambda w, c, p, on: opened(w, hazard=c.hazard, opened_on=on),
    "notice": lambda w, c, p, on: services.serve_penalty_notice(p, by=w.inspector, served_on=on),
    "letter": lambda w, c, p, on: letter(w, c, issued_on=on, deadline=days(20)),
    "interview": lambda w, c, p, on: interview(w, c, held_on=on),
    "referral": lambda w, c, p, on: services.send_referral(p, by=w.inspector, sent_on=on),
    "close": lambda w, c, p, on: services.close_case(c, by=w.inspector, note="结案", closed_on=on),
}
FIELDS = {
    "opened": "opened_on",
    "notice": "notified_on",
    "letter": "issued_on",
    "interview": "held_on",
    "referral": "sent_on",
    "close": "closed_on",
}


@pytest.mark.parametrize("act", DATED)
def test_no_act_is_dated_before_the_finding_that_opened_the_case(world, act):
    case = opened(world)  # hazard found on FOUND, during a visit begun on VISIT_DAY
    prepared = PREPARE[act](world, case) if act in PREPARE else None
    for on in (BEFORE, VISIT_DAY):
        with refused(match="cannot precede the finding that opened the case") as info:
            DATED[act](world, case, prepared, on)
        assert list(info.value.message_dict) == [FIELDS[act]]
    assert DATED[act](world, case, prepared, FOUND) is not None


@pytest.mark.parametrize("act", DATED)
def test_no_act_is_dated_in_the_future(world, act):
    case = opened(world)
    prepared = PREPARE[act](world, case) if act in PREPARE else None
    with refused(match="cannot be in the future") as info:
        DATED[act](world, case, prepared, days(1))
    assert list(info.value.message_dict) == [FIELDS[act]]
    assert DATED[act](world, case, prepared, TODAY) is not None


def test_a_decision_is_not_dated_in_the_future(world):
    penalty = approved(world)
    with refused(match="cannot be in the future") as info:
        services.decide_penalty(penalty, by=world.inspector, decided_on=days(1))
    assert list(info.value.message_dict) == ["decided_on"]


def test_a_case_from_an_inspection_dates_from_the_visit(world):
    insp = finding(world).inspection
    case = services.open_case(
        by=world.inspector, enterprise=world.ent_a, title="检查", inspection=insp
    )
    with refused(match="cannot precede the finding"):
        interview(world, case, held_on=VISIT_DAY - datetime.timedelta(days=1))
    assert interview(world, case, held_on=VISIT_DAY).held_on == VISIT_DAY


def test_today_is_the_local_date_in_shanghai(world):
    case = opened(world)
    # 00:30 on 11 June in Shanghai is still 10 June in UTC.
    with time_machine.travel(datetime.datetime(2025, 6, 11, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert interview(world, case, held_on=days(1)).held_on == days(1)


# -- closing -----------------------------------------------------------------------------------
def test_a_case_closes_once_its_penalties_are_paid_and_referrals_answered(world):
    case = opened(world)
    paid(world, case)
    services.withdraw_penalty(drafted(world, case), by=world.leader, reason="理由成立")
    referral = sent(world, case)
    services.record_referral_result(referral, by=world.inspector, result="已立案")
    letter(world, case)  # letters and interviews do not hold a case open
    interview(world, case)
    services.close_case(case, by=world.inspector, note=" 处罚已执行 ", closed_on=days(-1))
    case = reload(case)
    assert (case.status, case.closed_on, case.closing_note) == ("closed", days(-1), "处罚已执行")
    assert history(case)[-1] == ("inspector", "update", "")
    with refused(match="This case is closed"):
        services.close_case(case, by=world.inspector, note="再次结案")


@pytest.mark.parametrize("stage", ["draft", "notified", "approved", "decided"])
def test_a_case_with_an_unpaid_or_undecided_penalty_stays_open(world, stage):
    case = opened(world)
    {"draft": drafted, "notified": notified, "approved": approved, "decided": decided}[stage](
        world, case
    )
    with refused(match="not yet paid or withdrawn") as info:
        services.close_case(case, by=world.inspector, note="结案")
    assert list(info.value.message_dict) == ["status"]
    assert reload(case).status == "open"


@pytest.mark.parametrize("stage", ["draft", "approved", "sent"])
def test_a_case_with_a_referral_without_result_stays_open(world, stage):
    case = opened(world)
    {"draft": drafted_referral, "approved": ready_referral, "sent": sent}[stage](world, case)
    with refused(match="A referral of this case has no result yet"):
        services.close_case(case, by=world.inspector, note="结案")


def test_closing_needs_a_note(world):
    case = opened(world)
    with refused(match="Write how the case ended") as info:
        services.close_case(case, by=world.inspector, note="  ")
    assert list(info.value.message_dict) == ["closing_note"]


def test_a_closed_case_takes_no_new_acts(world):
    case = opened(world)
    penalty = drafted(world, case)
    services.withdraw_penalty(penalty, by=world.leader, reason="理由成立")
    services.close_case(case, by=world.inspector, note="结案")
    case = reload(case)
    for act in [
        lambda: drafted(world, case),
        lambda: letter(world, case),
        lambda: interview(world, case),
        lambda: drafted_referral(world, case),
        lambda: services.serve_penalty_notice(penalty, by=world.inspector),
    ]:
        with refused(match="This case is closed"):
            act()


# -- roles -------------------------------------------------------------------------------------
def _acts(world) -> dict:
    """Each act of the services, with a record prepared in the state the act needs."""
    case = opened(world)
    fresh = drafted(world, case)
    served = notified(world, case)
    heard = notified(world, case)
    services.record_statement(heard, by=world.inspector, statement="", hearing_requested=True)
    ok = approved(world, case)
    due = decided(world, case)
    sent_letter = letter(world, case)
    talk = interview(world, case)
    draft = drafted_referral(world, case)
    dropped = drafted_referral(world, case)
    ready = ready_referral(world, case)
    out = sent(world, case)
    hazard = finding(world)
    return {
        "open_case": lambda u: services.open_case(
            by=u, enterprise=world.ent_a, title="x", hazard=hazard
        ),
        "close_case": lambda u: services.close_case(case, by=u, note="结案"),
        "draft_penalty": lambda u: drafted(world, case, by=u),
        "serve_notice": lambda u: services.serve_penalty_notice(fresh, by=u),
        "statement": lambda u: services.record_statement(served, by=u, statement="申辩"),
        "hearing": lambda u: services.record_hearing(heard, by=u, held_on=TODAY, summary="听证"),
        "approve_penalty": lambda u: services.approve_penalty(served, by=u),
        "decide": lambda u: services.decide_penalty(ok, by=u),
        "payment": lambda u: services.record_payment(due, by=u),
        "withdraw": lambda u: services.withdraw_penalty(served, by=u, reason="撤销"),
        "letter": lambda u: letter(world, case, by=u),
        "reply": lambda u: services.record_reply(sent_letter, by=u, reply="已整改"),
        "interview": lambda u: interview(world, case, by=u),
        "follow_up": lambda u: services.record_follow_up(talk, by=u, result="到位"),
        "draft_referral": lambda u: drafted_referral(world, case, by=u),
        "approve_referral": lambda u: services.approve_referral(draft, by=u),
        "withdraw_referral": lambda u: services.withdraw_referral(dropped, by=u, reason="撤回"),
        "send_referral": lambda u: services.send_referral(ready, by=u),
        "referral_result": lambda u: services.record_referral_result(out, by=u, result="已立案"),
    }


LEADER_ONLY = {"approve_penalty", "withdraw", "approve_referral"}


def test_duty_legal_town_village_enterprise_and_expert_users_are_refused_every_act(world):
    for name, act in _acts(world).items():
        for who in OTHERS:
            with refused(PermissionDenied):
                act(world.users[who])
        if name in LEADER_ONLY:
            for who in ["inspector", "admin"]:
                with refused(PermissionDenied):
                    act(world.users[who])


def test_an_inactive_leader_is_refused(world):
    penalty = notified(world)
    world.leader.is_active = False
    world.leader.save()
    with refused(PermissionDenied):
        services.approve_penalty(penalty, by=world.leader)


@pytest.mark.parametrize("who", ["leader", "inspector", "admin"])
def test_leaders_inspectors_and_admins_may_do_every_other_act(world, who):
    acts = _acts(world)
    for name, act in acts.items():
        if name in LEADER_ONLY and who != "leader":
            continue
        if name == "close_case":
            continue  # the case still has open acts
        before = AuditEntry.objects.count()
        act(world.users[who])
        assert AuditEntry.objects.count() > before, name
        assert AuditEntry.objects.order_by("seq").last().actor == world.users[who], name


# -- audit -------------------------------------------------------------------------------------
def test_every_act_is_in_the_audit_log_and_the_chain_holds(world):
    case = opened(world)
    penalty = paid(world, case)
    sent_letter = letter(world, case)
    services.record_reply(sent_letter, by=world.inspector, reply="已整改")
    talk = interview(world, case)
    services.record_follow_up(talk, by=world.inspector, result="到位")
    referral = sent(world, case)
    services.record_referral_result(referral, by=world.inspector, result="已立案")
    services.close_case(case, by=world.leader, note="结案")
    assert [(e.actor_name, e.action) for e in audit.history(case)] == [
        ("inspector", "create"),
        ("leader", "update"),
    ]
    assert audit.history(case).last().after["status"] == "closed"
    assert len(history(penalty)) == 6  # draft, notice, statement, approval, decision, payment
    assert len(history(sent_letter)) == len(history(talk)) == 2
    assert len(history(referral)) == 5  # draft, document, approval, sending, result
    assert audit.verify().ok
