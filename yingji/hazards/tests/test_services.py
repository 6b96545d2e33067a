"""The rectification loop: report → order → evidence → re-inspection → closed (销号)."""

import contextlib
import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from yingji.core import audit
from yingji.core.models import AuditEntry, DocumentCounter, IssuedNumber, Notification
from yingji.core.services import create_user
from yingji.hazards import services
from yingji.hazards.models import Evidence, Hazard, RectificationOrder, Reinspection
from yingji.inspections import services as inspections

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2025, 6, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
VISIT_DAY = datetime.date(2025, 6, 8)


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


@contextlib.contextmanager
def refused(exc=ValidationError, match=None):
    """Expect the act to be refused and to leave no row behind."""
    counted = [
        AuditEntry,
        Notification,
        IssuedNumber,
        DocumentCounter,
        Hazard,
        RectificationOrder,
        Evidence,
        Reinspection,
    ]
    before = {m.__name__: m.objects.count() for m in counted}
    with pytest.raises(exc, match=match) as info:
        yield info
    assert {m.__name__: m.objects.count() for m in counted} == before


def history(obj) -> list[tuple[str, str]]:
    return [(e.action, e.note) for e in audit.history(obj)]


def inbox(user, channel="inapp") -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, channel=channel)
        .order_by("pk")
        .values_list("subject", flat=True)
    )


def visit(world, enterprise=None, date=VISIT_DAY, by=None):
    """A visit under way, by the world's inspector unless told."""
    insp = inspections.schedule_inspection(
        by=world.leader,
        enterprise=enterprise or world.ent_a,
        date=date,
        inspectors=[by or world.inspector],
    )
    return inspections.start_inspection(insp, by=by or world.inspector)


def found(world, insp=None, **kw) -> Hazard:
    insp = insp or visit(world)
    kw.setdefault("found_on", insp.date)
    kw.setdefault("description", "粉尘清扫不及时,积尘厚度超标")
    return services.report_hazard(
        by=kw.pop("by", world.inspector), enterprise=insp.enterprise, inspection=insp, **kw
    )


def opened(world, hazard=None, deadline=None, **kw) -> Hazard:
    hazard = hazard or found(world, **kw)
    services.issue_order([hazard], by=world.inspector, deadline=deadline or days(20))
    hazard.refresh_from_db()
    return hazard


def submitted(world, hazard=None, **kw) -> Hazard:
    hazard = opened(world, hazard, **kw)
    services.submit_evidence(hazard, by=world.ent_user_a, note="已清扫并建立清扫台账")
    hazard.refresh_from_db()
    return hazard


# -- reporting --------------------------------------------------------------------------------
def test_an_inspector_records_a_finding_during_the_visit(world):
    insp = visit(world)
    hazard = services.report_hazard(
        by=world.inspector,
        enterprise=world.ent_a,
        inspection=insp,
        found_on=TODAY,
        description="  除尘器未设置泄爆装置  ",
        legal_basis=" 《工贸企业粉尘防爆安全规定》第十三条 ",
        category="equipment",
    )
    hazard.refresh_from_db()
    assert (hazard.status, hazard.source, hazard.level) == ("reported", "inspection", "general")
    assert (hazard.inspection, hazard.enterprise, hazard.found_on) == (insp, world.ent_a, TODAY)
    assert (hazard.reported_by, hazard.responsible) == (world.inspector, world.inspector)
    assert hazard.description == "除尘器未设置泄爆装置"
    assert hazard.legal_basis == "《工贸企业粉尘防爆安全规定》第十三条"
    assert (hazard.deadline, hazard.order, hazard.closed_on) == (None, None, None)
    assert history(hazard) == [("create", "")]


@pytest.mark.parametrize(("field", "value"), [("level", "grave"), ("category", "weather")])
def test_it_refuses_an_unknown_level_or_category(world, field, value):
    insp = visit(world)
    with refused() as info:
        found(world, insp, **{field: value})
    assert field in info.value.message_dict


def test_a_finding_needs_a_description(world):
    insp = visit(world)
    with refused() as info:
        found(world, insp, description="   ")
    assert "description" in info.value.message_dict


def test_findings_are_recorded_only_while_the_visit_is_under_way(world):
    planned = inspections.schedule_inspection(
        by=world.inspector, enterprise=world.ent_a, date=VISIT_DAY
    )
    with refused(match="while the inspection is under way"):
        found(world, planned)
    inspections.start_inspection(planned, by=world.inspector)
    inspections.complete_inspection(planned, by=world.inspector)
    with refused(match="while the inspection is under way"):
        found(world, planned)


def test_a_finding_must_be_about_the_inspected_enterprise(world):
    insp = visit(world)
    with refused(match="about the inspected enterprise") as info:
        services.report_hazard(
            by=world.inspector,
            enterprise=world.ent_b,
            inspection=insp,
            found_on=TODAY,
            description="储罐区未设置围堰",
        )
    assert "enterprise" in info.value.message_dict


def test_an_inspector_not_on_the_visit_cannot_record_findings(world):
    stranger = create_user(by=None, username="insp2", password="x-long-password", role="inspector")
    insp = visit(world)
    for who in [stranger, world.ent_user_a, world.duty, world.town_officer]:
        with refused(PermissionDenied):
            found(world, insp, by=who)


def test_it_refuses_a_finding_dated_in_the_future(world):
    insp = visit(world)
    with refused(match="cannot be in the future") as info:
        found(world, insp, found_on=days(1))
    assert "found_on" in info.value.message_dict


def test_it_refuses_a_finding_dated_before_the_visit(world):
    insp = visit(world)
    with refused(match="cannot be before the inspection") as info:
        found(world, insp, found_on=VISIT_DAY - datetime.timedelta(days=1))
    assert "found_on" in info.value.message_dict


def test_a_finding_may_be_dated_from_the_visit_day_to_today(world):
    insp = visit(world)
    assert found(world, insp, found_on=VISIT_DAY).found_on == VISIT_DAY
    assert found(world, insp, found_on=TODAY).found_on == TODAY


def test_today_is_the_local_date_in_shanghai(world):
    insp = visit(world)
    # 00:30 on 11 June in Shanghai is still 10 June in UTC.
    with time_machine.travel(datetime.datetime(2025, 6, 11, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert found(world, insp, found_on=days(1)).found_on == days(1)
        with refused(match="future"):
            found(world, insp, found_on=days(2))


def test_an_enterprise_reports_its_own_hazard_and_inspectors_are_told(world):
    other = create_user(by=None, username="insp2", password="x-long-password", role="inspector")
    hazard = services.report_hazard(
        by=world.ent_user_a, enterprise=world.ent_a, found_on=TODAY, description="消防通道堵塞"
    )
    assert (hazard.source, hazard.status, hazard.inspection) == ("self_report", "reported", None)
    assert (hazard.reported_by, hazard.responsible) == (world.ent_user_a, None)
    assert history(hazard) == [("create", "")]
    for inspector in [world.inspector, other]:
        assert inbox(inspector) == [f"Self-reported hazard: {world.ent_a.name}"]
        assert inbox(inspector, "email") == []
    assert inbox(world.leader) == inbox(world.ent_user_a) == []


def test_an_enterprise_user_reports_only_for_their_own_enterprise(world):
    with refused(PermissionDenied):
        services.report_hazard(
            by=world.ent_user_b, enterprise=world.ent_a, found_on=TODAY, description="x"
        )


@pytest.mark.parametrize("who", ["inspector", "leader", "town", "duty"])
def test_staff_record_hazards_through_a_visit_not_as_self_reports(world, who):
    with refused(PermissionDenied):
        services.report_hazard(
            by=world.users[who], enterprise=world.ent_a, found_on=TODAY, description="x"
        )


def test_an_enterprise_self_report_may_not_be_dated_in_the_future(world):
    with refused(match="future"):
        services.report_hazard(
            by=world.ent_user_a, enterprise=world.ent_a, found_on=days(1), description="x"
        )


def test_findings_of_a_self_inspection_are_self_reports(world):
    insp = inspections.start_self_inspection(by=world.ent_user_a)
    hazard = found(world, insp, by=world.ent_user_a, found_on=TODAY)
    assert (hazard.source, hazard.responsible) == ("self_report", None)
    with refused(PermissionDenied):
        found(world, insp, by=world.ent_user_b)


# -- rectification orders ---------------------------------------------------------------------
def test_an_order_opens_the_hazards_with_its_deadline_and_number(world):
    insp = visit(world)
    first, second = found(world, insp), found(world, insp, description="安全培训记录缺失")
    order = services.issue_order(
        [first, second], by=world.inspector, deadline=days(15), requirements="限期整改"
    )
    assert order.number == "城应急责改〔2025〕1号"
    assert (order.enterprise, order.inspection, order.issued_on, order.deadline) == (
        world.ent_a,
        insp,
        TODAY,
        days(15),
    )
    assert (order.issued_by, order.requirements) == (world.inspector, "限期整改")
    for hazard in (first, second):
        hazard.refresh_from_db()
        assert (hazard.status, hazard.deadline, hazard.order) == ("open", days(15), order)
        entry = audit.history(hazard).last()
        assert (entry.note, entry.before["status"], entry.after["status"]) == (
            "城应急责改〔2025〕1号",
            "reported",
            "open",
        )
    assert history(order) == [("create", "")]
    assert inbox(world.ent_user_a) == ["Rectification order 城应急责改〔2025〕1号"]
    email = Notification.objects.get(recipient=world.ent_user_a, channel="email")
    assert (email.status, email.body) == ("pending", "Rectify 2 hazard(s) by 2025-06-25.")
    assert inbox(world.ent_user_b) == []


def test_orders_are_numbered_in_sequence(world):
    a = services.issue_order([found(world)], by=world.inspector, deadline=days(5))
    b = services.issue_order([found(world)], by=world.leader, deadline=days(5))
    assert (a.number, b.number) == ("城应急责改〔2025〕1号", "城应急责改〔2025〕2号")


def test_the_order_number_carries_the_year_it_is_issued(world):
    hazard = found(world, visit(world, date=datetime.date(2024, 12, 30)))
    order = services.issue_order(
        [hazard], by=world.inspector, deadline=days(5), issued_on=datetime.date(2025, 1, 2)
    )
    assert order.number == "城应急责改〔2025〕1号"


def test_it_refuses_a_deadline_before_the_finding(world):
    hazard = found(world, found_on=TODAY)
    with refused(match="cannot be before the hazard was found") as info:
        services.issue_order([hazard], by=world.inspector, deadline=days(-1), issued_on=VISIT_DAY)
    assert "deadline" in info.value.message_dict
    hazard.refresh_from_db()
    assert (hazard.status, hazard.deadline) == ("reported", None)


def test_it_refuses_a_deadline_before_the_order_is_issued(world):
    hazard = found(world, found_on=VISIT_DAY)
    with refused(match="before the order is issued"):
        services.issue_order([hazard], by=world.inspector, deadline=days(-1))


@pytest.mark.parametrize("issued_on", [VISIT_DAY - datetime.timedelta(days=1), days(1)])
def test_it_refuses_an_order_dated_before_the_finding_or_in_the_future(world, issued_on):
    hazard = found(world, found_on=VISIT_DAY)
    with refused() as info:
        services.issue_order([hazard], by=world.inspector, deadline=days(10), issued_on=issued_on)
    assert "issued_on" in info.value.message_dict


def test_a_deadline_on_the_day_of_the_order_is_accepted(world):
    hazard = opened(world, deadline=TODAY, found_on=TODAY)
    assert hazard.deadline == TODAY


def test_one_order_covers_hazards_of_one_enterprise(world):
    a = found(world)
    b = found(world, visit(world, enterprise=world.ent_b))
    with refused(match="hazards of one enterprise"):
        services.issue_order([a, b], by=world.inspector, deadline=days(10))


def test_an_order_needs_a_hazard(world):
    with refused(match="at least one hazard"):
        services.issue_order([], by=world.inspector, deadline=days(10))


def test_an_order_is_issued_only_for_newly_found_hazards(world):
    hazard = opened(world)
    fresh = found(world, hazard.inspection)
    with refused(match="only be issued for newly found hazards"):
        services.issue_order([fresh, hazard], by=world.inspector, deadline=days(10))
    fresh.refresh_from_db()
    assert fresh.status == "reported"


@pytest.mark.parametrize("who", ["duty", "legal", "town", "village", "ent_a", "expert"])
def test_only_leaders_inspectors_and_admins_issue_orders(world, who):
    hazard = found(world)
    with refused(PermissionDenied):
        services.issue_order([hazard], by=world.users[who], deadline=days(10))


def test_the_issuer_becomes_responsible_for_a_self_reported_hazard(world):
    hazard = services.report_hazard(
        by=world.ent_user_a, enterprise=world.ent_a, found_on=TODAY, description="配电箱未上锁"
    )
    services.issue_order([hazard], by=world.leader, deadline=days(7))
    hazard.refresh_from_db()
    assert (hazard.status, hazard.responsible) == ("open", world.leader)


def test_the_finder_stays_responsible_when_another_issues_the_order(world):
    hazard = found(world)
    services.issue_order([hazard], by=world.leader, deadline=days(7))
    hazard.refresh_from_db()
    assert hazard.responsible == world.inspector


# -- evidence ---------------------------------------------------------------------------------
def test_the_enterprise_submits_evidence_and_the_responsible_inspector_is_told(world):
    hazard = opened(world)
    evidence = services.submit_evidence(hazard, by=world.ent_user_a, note="  已清扫积尘  ")
    hazard.refresh_from_db()
    assert hazard.status == "submitted"
    assert (evidence.hazard, evidence.note, evidence.submitted_by) == (
        hazard,
        "已清扫积尘",
        world.ent_user_a,
    )
    assert evidence.submitted_at == timezone.now()
    assert history(evidence) == [("create", "")]
    entry = audit.history(hazard).last()
    assert (entry.actor, entry.before["status"], entry.after["status"]) == (
        world.ent_user_a,
        "open",
        "submitted",
    )
    assert inbox(world.inspector) == [f"Evidence submitted: {world.ent_a.name}"]


def test_staff_may_submit_evidence_for_the_enterprise(world):
    hazard = opened(world)
    services.submit_evidence(hazard, by=world.leader, note="现场核实已整改")
    hazard.refresh_from_db()
    assert hazard.status == "submitted"


@pytest.mark.parametrize("who", ["ent_b", "duty", "town", "expert"])
def test_only_the_enterprise_itself_or_staff_submit_evidence(world, who):
    hazard = opened(world)
    with refused(PermissionDenied):
        services.submit_evidence(hazard, by=world.users[who], note="已整改")
    hazard.refresh_from_db()
    assert hazard.status == "open"


def test_evidence_is_accepted_only_while_the_hazard_is_being_rectified(world):
    reported = found(world)
    with refused(match="while the hazard is being rectified"):
        services.submit_evidence(reported, by=world.ent_user_a, note="已整改")
    hazard = submitted(world)
    with refused(match="while the hazard is being rectified"):
        services.submit_evidence(hazard, by=world.ent_user_a, note="再次提交")
    services.reinspect(hazard, by=world.inspector, passed=True, opinion="整改到位")
    with refused(match="while the hazard is being rectified"):
        services.submit_evidence(hazard, by=world.ent_user_a, note="已整改")


def test_evidence_needs_a_description_of_what_was_done(world):
    hazard = opened(world)
    with refused(match="Describe what was done") as info:
        services.submit_evidence(hazard, by=world.ent_user_a, note="   ")
    assert "note" in info.value.message_dict


# -- re-inspection ----------------------------------------------------------------------------
def test_a_passed_reinspection_closes_the_hazard(world):
    hazard = submitted(world)
    re = services.reinspect(hazard, by=world.inspector, passed=True, opinion=" 整改到位,同意销号 ")
    hazard.refresh_from_db()
    assert (hazard.status, hazard.closed_on, hazard.deadline) == ("closed", TODAY, days(20))
    assert (re.number, re.passed, re.date, re.opinion, re.new_deadline) == (
        "城应急复查〔2025〕1号",
        True,
        TODAY,
        "整改到位,同意销号",
        None,
    )
    assert history(re) == [("create", "")]
    entry = audit.history(hazard).last()
    assert (entry.note, entry.after["status"], entry.after["closed_on"]) == (
        "城应急复查〔2025〕1号",
        "closed",
        "2025-06-10",
    )
    assert inbox(world.ent_user_a)[-1] == f"Hazard closed: {hazard.description}"
    assert not hazard.is_overdue


def test_a_reinspection_on_an_earlier_day_closes_on_that_day(world):
    hazard = submitted(world)
    services.reinspect(hazard, by=world.inspector, passed=True, opinion="整改到位", date=days(-1))
    hazard.refresh_from_db()
    assert hazard.closed_on == days(-1)


def test_a_failed_reinspection_reopens_the_hazard_with_a_new_deadline(world):
    hazard = submitted(world)
    re = services.reinspect(
        hazard, by=world.inspector, passed=False, opinion="积尘仍存在", new_deadline=days(7)
    )
    hazard.refresh_from_db()
    assert (hazard.status, hazard.deadline, hazard.closed_on) == ("open", days(7), None)
    assert (re.passed, re.new_deadline) == (False, days(7))
    entry = audit.history(hazard).last()
    assert (entry.before["deadline"], entry.after["deadline"]) == ("2025-06-30", "2025-06-17")
    assert inbox(world.ent_user_a)[-1] == f"Re-inspection failed: {hazard.description}"
    # The loop goes round again.
    services.submit_evidence(hazard, by=world.ent_user_a, note="二次整改")
    services.reinspect(hazard, by=world.inspector, passed=True, opinion="整改到位")
    hazard.refresh_from_db()
    assert hazard.status == "closed"
    assert list(hazard.reinspections.values_list("number", flat=True)) == [
        "城应急复查〔2025〕1号",
        "城应急复查〔2025〕2号",
    ]


@pytest.mark.parametrize("new_deadline", [None, TODAY, TODAY - datetime.timedelta(days=1)])
def test_a_failed_reinspection_needs_a_new_deadline_after_its_date(world, new_deadline):
    hazard = submitted(world)
    with refused(match="needs a new deadline") as info:
        services.reinspect(
            hazard, by=world.inspector, passed=False, opinion="未整改", new_deadline=new_deadline
        )
    assert "new_deadline" in info.value.message_dict
    hazard.refresh_from_db()
    assert (hazard.status, hazard.deadline) == ("submitted", days(20))


def test_a_reinspection_needs_an_opinion(world):
    hazard = submitted(world)
    with refused(match="Write the re-inspection opinion"):
        services.reinspect(hazard, by=world.inspector, passed=True, opinion="  ")


@pytest.mark.parametrize("date", [days(1), VISIT_DAY - datetime.timedelta(days=1)])
def test_the_reinspection_date_lies_between_the_finding_and_today(world, date):
    hazard = submitted(world)
    with refused(match="between the finding and today") as info:
        services.reinspect(hazard, by=world.inspector, passed=True, opinion="到位", date=date)
    assert "date" in info.value.message_dict


def test_a_hazard_is_closed_only_once(world):
    hazard = submitted(world)
    services.reinspect(hazard, by=world.inspector, passed=True, opinion="整改到位")
    with refused(match="Only a hazard under rectification can be re-inspected"):
        services.reinspect(hazard, by=world.inspector, passed=True, opinion="再次销号")
    with refused(match="Only a hazard under rectification can be re-inspected"):
        services.reinspect(
            hazard, by=world.inspector, passed=False, opinion="重开", new_deadline=days(5)
        )
    hazard.refresh_from_db()
    assert (hazard.status, hazard.closed_on) == ("closed", TODAY)


def test_a_hazard_without_an_order_cannot_be_reinspected(world):
    hazard = found(world)
    with refused(match="Only a hazard under rectification can be re-inspected"):
        services.reinspect(hazard, by=world.inspector, passed=True, opinion="到位")


@pytest.mark.parametrize("who", ["ent_a", "duty", "town", "expert", "legal"])
def test_only_staff_reinspect(world, who):
    hazard = submitted(world)
    with refused(PermissionDenied):
        services.reinspect(hazard, by=world.users[who], passed=True, opinion="到位")


# -- major hazards ----------------------------------------------------------------------------
def test_a_major_hazard_cannot_be_closed_before_the_leader_signs_it_off(world):
    hazard = submitted(world, level="major")
    with refused(match="after a leader has signed it off") as info:
        services.reinspect(hazard, by=world.inspector, passed=True, opinion="到位")
    assert "passed" in info.value.message_dict
    services.sign_off_major(hazard, by=world.leader)
    hazard.refresh_from_db()
    assert (hazard.signed_off_by, hazard.signed_off_at, hazard.supervised) == (
        world.leader,
        timezone.now(),
        True,
    )
    entry = audit.history(hazard).last()
    assert (entry.note, entry.actor, entry.after["supervised"]) == (
        "signed off",
        world.leader,
        True,
    )
    services.reinspect(hazard, by=world.inspector, passed=True, opinion="到位")
    hazard.refresh_from_db()
    assert hazard.status == "closed"


def test_an_unsigned_major_hazard_may_still_fail_its_reinspection(world):
    hazard = submitted(world, level="major")
    services.reinspect(
        hazard, by=world.inspector, passed=False, opinion="未整改", new_deadline=days(10)
    )
    hazard.refresh_from_db()
    assert (hazard.status, hazard.deadline) == ("open", days(10))


@pytest.mark.parametrize("who", ["inspector", "admin", "duty", "ent_a"])
def test_only_a_leader_signs_off_a_major_hazard(world, who):
    hazard = found(world, level="major")
    with refused(PermissionDenied):
        services.sign_off_major(hazard, by=world.users[who])
    hazard.refresh_from_db()
    assert (hazard.signed_off_at, hazard.supervised) == (None, False)


def test_only_major_hazards_are_signed_off(world):
    hazard = found(world)
    with refused(match="Only major hazards need a leader's sign-off"):
        services.sign_off_major(hazard, by=world.leader)


def test_a_major_hazard_is_signed_off_once(world):
    hazard = found(world, level="major")
    services.sign_off_major(hazard, by=world.leader)
    with refused(match="already signed off"):
        services.sign_off_major(hazard, by=world.leader)


# -- overdue ----------------------------------------------------------------------------------
def test_a_hazard_is_overdue_only_after_its_deadline_day(world):
    hazard = opened(world, deadline=days(2))
    other = opened(world, deadline=days(5))
    found(world)  # no deadline yet
    for on, overdue in [(days(2), []), (days(3), [hazard]), (days(6), [other, hazard])]:
        assert sorted(Hazard.objects.overdue(on), key=lambda h: h.deadline, reverse=True) == (
            overdue
        )
    assert not hazard.is_overdue
    with time_machine.travel(datetime.datetime(2025, 6, 12, 23, 59, tzinfo=SHANGHAI)):
        assert not hazard.is_overdue
        assert not Hazard.objects.overdue().exists()
    # One minute later it is 13 June in Shanghai, though still 12 June in UTC.
    with time_machine.travel(datetime.datetime(2025, 6, 13, 0, 0, 30, tzinfo=SHANGHAI)):
        assert hazard.is_overdue
        assert list(Hazard.objects.overdue()) == [hazard]


def test_a_submitted_hazard_past_its_deadline_is_still_overdue(world):
    hazard = submitted(world, deadline=days(1))
    assert list(Hazard.objects.overdue(days(2))) == [hazard]


def test_a_closed_hazard_is_never_overdue(world):
    hazard = submitted(world, deadline=days(1))
    services.reinspect(hazard, by=world.inspector, passed=True, opinion="整改到位")
    hazard.refresh_from_db()
    with time_machine.travel(datetime.datetime(2025, 7, 1, 9, tzinfo=SHANGHAI)):
        assert not hazard.is_overdue
    assert not Hazard.objects.overdue(days(30)).exists()


def test_a_new_deadline_lifts_the_overdue_state(world):
    hazard = submitted(world, deadline=days(1))
    with time_machine.travel(datetime.datetime(2025, 6, 13, 9, tzinfo=SHANGHAI), tick=False):
        hazard.refresh_from_db()
        assert hazard.is_overdue
        services.reinspect(
            hazard, by=world.inspector, passed=False, opinion="未整改", new_deadline=days(10)
        )
        hazard.refresh_from_db()
        assert not hazard.is_overdue
        assert not Hazard.objects.overdue().exists()


def test_every_step_of_the_loop_is_in_the_hazards_history_and_the_chain_holds(world):
    hazard = found(world, level="major")
    services.issue_order([hazard], by=world.inspector, deadline=days(20))
    services.submit_evidence(hazard, by=world.ent_user_a, note="已整改")
    services.reinspect(
        hazard, by=world.inspector, passed=False, opinion="未整改", new_deadline=days(25)
    )
    services.submit_evidence(hazard, by=world.ent_user_a, note="二次整改")
    services.sign_off_major(hazard, by=world.leader)
    services.reinspect(hazard, by=world.inspector, passed=True, opinion="整改到位")
    steps = [(e.actor.username, e.action, e.after["status"]) for e in audit.history(hazard)]
    assert steps == [
        ("inspector", "create", "reported"),
        ("inspector", "update", "open"),
        ("ent_a", "update", "submitted"),
        ("inspector", "update", "open"),
        ("ent_a", "update", "submitted"),
        ("leader", "update", "submitted"),
        ("inspector", "update", "closed"),
    ]
    assert audit.verify().ok
