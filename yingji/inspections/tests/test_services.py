"""The business rules of plans, campaigns, checklists and the inspection visit."""

import contextlib
import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from yingji.core import audit
from yingji.core.models import AuditEntry, IssuedNumber, Notification
from yingji.core.services import create_user
from yingji.enterprises.models import Enterprise
from yingji.inspections import services
from yingji.inspections.models import (
    Campaign,
    ChecklistTemplate,
    ChecklistVersion,
    Inspection,
    Mode,
    Plan,
    PlanTarget,
)
from yingji.lib import uscc

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2025, 6, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
ITEMS = [
    {"code": "1.1", "text": "建立安全生产责任制", "basis": "《安全生产法》第二十二条"},
    {"code": "1.2", "text": "粉尘清扫制度落实", "basis": "《工贸企业粉尘防爆安全规定》第十二条"},
]
NON_PLANNERS = ["duty", "legal", "town", "village", "ent_a", "expert"]


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in their source language; the catalog is tested elsewhere.
    with translation.override("en"):
        yield


@contextlib.contextmanager
def refused(exc=ValidationError, match=None):
    """Expect the act to be refused and to leave no row behind."""
    counted = [
        AuditEntry,
        IssuedNumber,
        Notification,
        Plan,
        PlanTarget,
        Campaign,
        ChecklistTemplate,
        ChecklistVersion,
        Inspection,
    ]
    before = {m.__name__: m.objects.count() for m in counted}
    with pytest.raises(exc, match=match) as info:
        yield info
    assert {m.__name__: m.objects.count() for m in counted} == before


def history(obj) -> list[tuple[str, str]]:
    return [(e.action, e.note) for e in audit.history(obj)]


def make_inspector(username: str, role: str = "inspector"):
    return create_user(by=None, username=username, password="x-long-password", role=role)


def make_enterprise(n: int, **fields) -> Enterprise:
    fields.setdefault("sector", "industrial_trade")
    return Enterprise.objects.create(
        ref=f"E-{n:02d}", name=f"企业{n}", uscc=uscc.make(f"91630103{n + 100:09d}"), **fields
    )


@pytest.fixture
def checklist(world) -> ChecklistVersion:
    return services.save_checklist(
        by=world.inspector, name="工贸企业检查表", items=ITEMS, sector="industrial_trade"
    )


def schedule(world, enterprise=None, by=None, **kw) -> Inspection:
    kw.setdefault("date", TODAY)
    return services.schedule_inspection(
        by=by or world.inspector, enterprise=enterprise or world.ent_a, **kw
    )


def under_way(world, **kw) -> Inspection:
    insp = schedule(world, **kw)
    return services.start_inspection(insp, by=world.inspector)


def completed(world, **kw) -> Inspection:
    insp = under_way(world, **kw)
    if insp.checklist:
        answers = {item["code"]: "ok" for item in insp.checklist.items}
        services.record_answers(insp, by=world.inspector, answers=answers)
    return services.complete_inspection(insp, by=world.inspector)


# -- plans ------------------------------------------------------------------------------------
def test_an_inspector_starts_a_draft_plan_and_it_is_audited(world):
    plan = services.create_plan(by=world.inspector, year=2025, title="2025年度执法检查计划")
    assert (plan.status, plan.created_by, plan.published_at) == ("draft", world.inspector, None)
    entry = audit.history(plan).get()
    assert (entry.action, entry.actor) == ("create", world.inspector)
    assert entry.after["title"] == "2025年度执法检查计划"


@pytest.mark.parametrize("who", NON_PLANNERS)
def test_only_leaders_inspectors_and_admins_create_plans(world, who):
    with refused(PermissionDenied):
        services.create_plan(by=world.users[who], year=2025, title="计划")


def test_an_inactive_inspector_cannot_create_a_plan(world):
    world.inspector.is_active = False
    world.inspector.save()
    with refused(PermissionDenied):
        services.create_plan(by=world.inspector, year=2025, title="计划")


def test_a_target_is_added_to_the_plan_and_audited(world):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    target = services.add_target(
        plan,
        by=world.inspector,
        title="危化企业每年两次",
        times=2,
        sector="hazardous_chemicals",
        region=world.town2,
    )
    assert list(plan.targets.all()) == [target]
    assert history(target) == [("create", "")]
    assert audit.history(target).get().after["times"] == 2


@pytest.mark.parametrize("times", [0, 53])
def test_it_refuses_a_target_outside_1_to_52_inspections_a_year(world, times):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    with refused(match="from 1 to 52") as info:
        services.add_target(plan, by=world.inspector, title="目标", times=times)
    assert "times" in info.value.message_dict


def test_only_a_leader_publishes_a_plan(world):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    services.add_target(plan, by=world.inspector, title="全部企业", times=1)
    for who in ["inspector", "admin", "duty", "ent_a"]:
        with refused(PermissionDenied):
            services.publish_plan(plan, by=world.users[who])
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_it_refuses_to_publish_a_plan_without_targets(world):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    with refused(match="at least one target"):
        services.publish_plan(plan, by=world.leader)
    plan.refresh_from_db()
    assert (plan.status, plan.published_at) == ("draft", None)


def test_a_leader_publishes_a_plan_with_targets(world):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    services.add_target(plan, by=world.inspector, title="全部企业", times=1)
    services.publish_plan(plan, by=world.leader)
    plan.refresh_from_db()
    assert (plan.status, plan.published_at) == ("published", timezone.now())
    entry = audit.history(plan).last()
    assert (entry.action, entry.actor) == ("update", world.leader)
    assert (entry.before["status"], entry.after["status"]) == ("draft", "published")


def test_only_a_leader_may_change_a_published_plan(world):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    services.add_target(plan, by=world.inspector, title="全部企业", times=1)
    services.publish_plan(plan, by=world.leader)
    with refused(match="Only a leader may change a published plan"):
        services.add_target(plan, by=world.inspector, title="追加", times=1)
    services.add_target(plan, by=world.leader, title="追加", times=1)
    assert plan.targets.count() == 2


def test_plan_progress_counts_enterprises_inspected_the_required_times(world, checklist):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    everyone = services.add_target(plan, by=world.inspector, title="全部企业", times=1)
    twice = services.add_target(
        plan, by=world.inspector, title="工贸两次", times=2, sector="industrial_trade"
    )
    assert everyone.progress() == {"total": 2, "done": 0, "percent": 0}
    completed(world)
    assert everyone.progress() == {"total": 2, "done": 1, "percent": 50}
    assert twice.progress() == {"total": 1, "done": 0, "percent": 0}
    completed(world)
    assert twice.progress() == {"total": 1, "done": 1, "percent": 100}


def test_plan_progress_ignores_unfinished_visits_and_other_years(world, checklist):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    target = services.add_target(plan, by=world.inspector, title="全部企业", times=1)
    schedule(world)  # planned
    under_way(world, enterprise=world.ent_b)  # started, not completed
    completed(world, date=datetime.date(2024, 12, 30))  # last year's visit
    assert target.progress() == {"total": 2, "done": 0, "percent": 0}


def test_plan_progress_leaves_out_closed_enterprises(world):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    target = services.add_target(plan, by=world.inspector, title="全部企业", times=1)
    Enterprise.objects.filter(pk=world.ent_b.pk).update(status="closed")
    assert target.progress()["total"] == 1


def test_plan_progress_counts_only_the_bureaus_own_visits_not_self_inspections(world, checklist):
    plan = services.create_plan(by=world.inspector, year=2025, title="计划")
    target = services.add_target(
        plan, by=world.inspector, title="工贸", times=1, sector="industrial_trade"
    )
    insp = services.start_self_inspection(by=world.ent_user_a)
    services.record_answers(insp, by=world.ent_user_a, answers={"1.1": "ok", "1.2": "ok"})
    services.complete_inspection(insp, by=world.ent_user_a)
    assert target.progress() == {"total": 1, "done": 0, "percent": 0}


# -- campaigns --------------------------------------------------------------------------------
def test_a_campaign_is_opened_with_its_scope_and_audited(world):
    campaign = services.create_campaign(
        by=world.inspector,
        title="粉尘涉爆专项整治",
        start=datetime.date(2025, 6, 1),
        end=datetime.date(2025, 9, 30),
        feature="dust_explosion",
    )
    assert list(campaign.enterprises()) == [world.ent_a]
    assert history(campaign) == [("create", "")]


def test_it_refuses_a_campaign_that_ends_before_it_starts(world):
    with refused(match="end cannot be before the start") as info:
        services.create_campaign(
            by=world.inspector,
            title="专项",
            start=datetime.date(2025, 6, 2),
            end=datetime.date(2025, 6, 1),
        )
    assert "end" in info.value.message_dict


def test_a_campaign_may_last_a_single_day(world):
    day = datetime.date(2025, 6, 2)
    campaign = services.create_campaign(by=world.inspector, title="专项", start=day, end=day)
    assert (campaign.start, campaign.end) == (day, day)


@pytest.mark.parametrize("who", NON_PLANNERS)
def test_only_planners_open_campaigns(world, who):
    with refused(PermissionDenied):
        services.create_campaign(
            by=world.users[who], title="专项", start=TODAY, end=TODAY + datetime.timedelta(1)
        )


def test_a_campaign_inspection_names_its_campaign_and_counts_toward_it(world, checklist):
    campaign = services.create_campaign(
        by=world.inspector, title="专项", start=TODAY, end=TODAY + datetime.timedelta(days=30)
    )
    with refused(match="Choose the campaign"):
        schedule(world, mode=Mode.CAMPAIGN)
    completed(world, mode=Mode.CAMPAIGN, campaign=campaign)
    completed(world, enterprise=world.ent_b)  # a routine visit does not count toward it
    assert campaign.progress() == {"total": 2, "done": 1, "percent": 50}


# -- checklists -------------------------------------------------------------------------------
def test_a_new_checklist_starts_at_version_1_with_cleaned_items(world):
    version = services.save_checklist(
        by=world.inspector,
        name="通用检查表",
        items=[
            {"text": "  安全培训  ", "basis": " 第二十八条 "},
            {"code": " 2.1 ", "text": "应急预案"},
        ],
    )
    assert version.version == 1
    assert version.items == [
        {"code": "1", "text": "安全培训", "basis": "第二十八条"},
        {"code": "2.1", "text": "应急预案", "basis": ""},
    ]
    assert history(version.template) == [("create", "")]
    assert history(version) == [("create", "")]


def test_a_new_version_leaves_earlier_inspections_on_their_version(world, checklist):
    first = schedule(world)
    assert first.checklist == checklist
    v2 = services.save_checklist(
        by=world.leader,
        name="ignored",
        items=[*ITEMS, {"code": "1.3", "text": "除尘系统"}],
        template=checklist.template,
    )
    assert v2.version == 2
    assert checklist.template.current() == v2
    first.refresh_from_db()
    assert first.checklist == checklist
    assert schedule(world).checklist == v2
    # The old visit is still completed against the items it was planned with.
    services.start_inspection(first, by=world.inspector)
    services.record_answers(first, by=world.inspector, answers={"1.1": "ok", "1.2": "na"})
    services.complete_inspection(first, by=world.inspector)
    checklist.refresh_from_db()
    assert [i["code"] for i in checklist.items] == ["1.1", "1.2"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "at least one item"),
        ("1.1 安全培训", "at least one item"),
        ([{"code": "1", "text": "   "}], "Item 1 has no text"),
        (["安全培训"], "Item 1 has no text"),
        ([{"code": "1", "text": "甲"}, {"code": "1", "text": "乙"}], "Item code 1 appears twice"),
    ],
)
def test_it_refuses_bad_checklist_items(world, items, message):
    with refused(match=message) as info:
        services.save_checklist(by=world.inspector, name="检查表", items=items)
    assert "items" in info.value.message_dict


def test_a_bad_new_version_leaves_the_checklist_as_it_was(world, checklist):
    with refused(match="appears twice"):
        services.save_checklist(
            by=world.inspector,
            name="",
            items=[{"code": "1", "text": "甲"}, {"code": "1", "text": "乙"}],
            template=checklist.template,
        )
    assert checklist.template.current() == checklist


@pytest.mark.parametrize("who", NON_PLANNERS)
def test_only_planners_save_checklists(world, who):
    with refused(PermissionDenied):
        services.save_checklist(by=world.users[who], name="检查表", items=ITEMS)


def test_an_inspection_gets_the_most_specific_checklist(world):
    generic = services.save_checklist(by=world.inspector, name="通用", items=ITEMS)
    sector = services.save_checklist(
        by=world.inspector, name="工贸", items=ITEMS, sector="industrial_trade"
    )
    dust = services.save_checklist(
        by=world.inspector,
        name="工贸粉尘",
        items=ITEMS,
        sector="industrial_trade",
        feature="dust_explosion",
    )
    services.save_checklist(
        by=world.inspector, name="涉氨", items=ITEMS, feature="ammonia_refrigeration"
    )
    assert schedule(world).checklist == dust
    assert schedule(world, enterprise=world.ent_b).checklist == generic
    assert sector.template.current() == sector


# -- the inspection ---------------------------------------------------------------------------
def test_an_inspector_schedules_a_visit_and_inspects_it_themselves(world, checklist):
    insp = schedule(world, ledger=True)
    assert insp.status == "planned"
    assert list(insp.inspectors.all()) == [world.inspector]
    assert insp.inspector_names == "inspector"
    assert (insp.onsite, insp.ledger, insp.mode) == (True, True, "routine")
    assert history(insp) == [("create", "")]


def test_a_leader_schedules_a_visit_for_named_inspectors_and_experts(world, checklist):
    other = make_inspector("inspector2")
    insp = schedule(
        world,
        by=world.leader,
        inspectors=[world.inspector, other],
        experts=[world.expert],
        mode=Mode.EXPERT,
    )
    assert set(insp.inspectors.all()) == {world.inspector, other}
    assert list(insp.experts.all()) == [world.expert]
    assert insp.created_by == world.leader


def test_scheduling_requires_an_inspector(world, checklist):
    with refused(match="Name at least one inspector") as info:
        schedule(world, by=world.leader)
    assert "inspectors" in info.value.message_dict


@pytest.mark.parametrize("who", ["duty", "expert", "ent_a", "town"])
def test_only_inspectors_and_leaders_can_be_named_to_inspect(world, who):
    with refused(match="Only inspectors and leaders can inspect"):
        schedule(world, by=world.leader, inspectors=[world.users[who]])


def test_only_experts_can_be_invited_as_experts(world):
    with refused(match="Only experts"):
        schedule(world, experts=[world.legal])


@pytest.mark.parametrize("who", NON_PLANNERS)
def test_only_planners_schedule_visits(world, who):
    with refused(PermissionDenied):
        schedule(world, by=world.users[who], inspectors=[world.inspector])


def test_starting_puts_a_planned_visit_under_way(world, checklist):
    insp = schedule(world)
    services.start_inspection(insp, by=world.inspector)
    insp.refresh_from_db()
    assert insp.status == "in_progress"
    entry = audit.history(insp).last()
    assert (entry.action, entry.before["status"], entry.after["status"]) == (
        "update",
        "planned",
        "in_progress",
    )


def test_only_a_planned_visit_can_be_started(world, checklist):
    insp = under_way(world)
    with refused(match="Only a planned inspection can be started"):
        services.start_inspection(insp, by=world.inspector)
    done = completed(world)
    with refused(match="Only a planned inspection can be started"):
        services.start_inspection(done, by=world.inspector)


def test_an_inspector_not_on_the_inspection_is_refused(world, checklist):
    stranger = make_inspector("inspector2")
    insp = schedule(world)
    with refused(PermissionDenied):
        services.start_inspection(insp, by=stranger)
    services.start_inspection(insp, by=world.inspector)
    with refused(PermissionDenied):
        services.record_answers(insp, by=stranger, answers={"1.1": "ok"})
    services.record_answers(insp, by=world.inspector, answers={"1.1": "ok", "1.2": "ok"})
    for who in [stranger, world.ent_user_a, world.duty, world.expert]:
        with refused(PermissionDenied):
            services.complete_inspection(insp, by=who)
    insp.refresh_from_db()
    assert (insp.status, insp.record_no) == ("in_progress", "")


def test_an_invited_expert_and_a_leader_may_work_on_the_visit(world, checklist):
    insp = schedule(world, experts=[world.expert])
    services.start_inspection(insp, by=world.leader)
    services.record_answers(insp, by=world.expert, answers={"1.1": "hazard"})
    services.record_answers(insp, by=world.leader, answers={"1.2": "ok"})
    insp.refresh_from_db()
    assert insp.answers == {"1.1": "hazard", "1.2": "ok"}


def test_answers_are_recorded_only_while_the_visit_is_under_way(world, checklist):
    planned = schedule(world)
    with refused(match="only be recorded while the inspection is under way"):
        services.record_answers(planned, by=world.inspector, answers={"1.1": "ok"})
    done = completed(world)
    with refused(match="only be recorded while the inspection is under way"):
        services.record_answers(done, by=world.inspector, answers={"1.1": "hazard"})
    done.refresh_from_db()
    assert done.answers == {"1.1": "ok", "1.2": "ok"}


@pytest.mark.parametrize(
    ("answers", "named"),
    [
        ({"9.9": "ok"}, "9.9"),
        ({"1.1": "maybe"}, "1.1"),
        ({"1.1": "ok", "1.2": "yes", "3": "na"}, "1.2, 3"),
    ],
)
def test_it_refuses_unknown_item_codes_and_answers(world, checklist, answers, named):
    insp = under_way(world)
    with refused(match=f"Unknown checklist item or answer: {named}") as info:
        services.record_answers(insp, by=world.inspector, answers=answers)
    assert "answers" in info.value.message_dict
    insp.refresh_from_db()
    assert insp.answers == {}


def test_answers_accumulate_and_are_audited(world, checklist):
    insp = under_way(world)
    services.record_answers(insp, by=world.inspector, answers={"1.1": "hazard"}, summary="初查")
    services.record_answers(insp, by=world.inspector, answers={"1.2": "na"}, ledger=True)
    insp.refresh_from_db()
    assert insp.answers == {"1.1": "hazard", "1.2": "na"}
    assert (insp.summary, insp.onsite, insp.ledger) == ("初查", True, True)
    last = audit.history(insp).last()
    assert last.before["answers"] == {"1.1": "hazard"}
    assert last.after["answers"] == {"1.1": "hazard", "1.2": "na"}


def test_a_visit_keeps_at_least_one_method(world, checklist):
    insp = under_way(world)
    with refused(match="Choose at least one method"):
        services.record_answers(insp, by=world.inspector, answers={"1.1": "ok"}, onsite=False)
    insp.refresh_from_db()
    assert (insp.onsite, insp.answers) == (True, {})
    services.record_answers(insp, by=world.inspector, answers={}, onsite=False, ledger=True)
    insp.refresh_from_db()
    assert (insp.onsite, insp.ledger) == (False, True)


def test_completion_requires_every_checklist_item_answered(world, checklist):
    insp = under_way(world)
    services.record_answers(insp, by=world.inspector, answers={"1.1": "ok"})
    with refused(match=r"missing: 1\.2") as info:
        services.complete_inspection(insp, by=world.inspector)
    assert "answers" in info.value.message_dict
    insp.refresh_from_db()
    assert (insp.status, insp.record_no, insp.completed_at) == ("in_progress", "", None)


def test_completion_numbers_the_record_and_the_visit_counts(world, checklist):
    first = completed(world)
    second = completed(world, enterprise=world.ent_b)
    first.refresh_from_db()
    assert first.status == "completed"
    assert first.completed_at == timezone.now()
    assert first.record_no == "城应急检记〔2025〕1号"
    assert second.record_no == "城应急检记〔2025〕2号"
    issued = IssuedNumber.objects.get(text=first.record_no)
    assert (issued.doc_type, issued.issued_by, issued.subject) == (
        "inspection_record",
        world.inspector,
        world.ent_a.name,
    )
    last = audit.history(first).last()
    assert (last.before["status"], last.after["status"]) == ("in_progress", "completed")
    assert last.after["record_no"] == "城应急检记〔2025〕1号"
    assert Inspection.objects.filter(status="completed").count() == 2


def test_the_record_number_carries_the_year_of_the_visit(world, checklist):
    insp = completed(world, date=datetime.date(2024, 12, 31))
    assert insp.record_no == "城应急检记〔2024〕1号"


def test_only_a_visit_under_way_can_be_completed(world, checklist):
    planned = schedule(world)
    with refused(match="Only an inspection under way can be completed"):
        services.complete_inspection(planned, by=world.inspector)
    done = completed(world)
    with refused(match="Only an inspection under way can be completed"):
        services.complete_inspection(done, by=world.inspector)
    done.refresh_from_db()
    assert done.record_no == "城应急检记〔2025〕1号"


def test_an_enterprise_inspects_itself_without_a_record_number(world, checklist):
    insp = services.start_self_inspection(by=world.ent_user_a)
    assert (insp.enterprise, insp.self_inspection, insp.status) == (
        world.ent_a,
        True,
        "in_progress",
    )
    assert (insp.date, insp.checklist, insp.inspector_names) == (TODAY, checklist, "ent_a")
    assert history(insp) == [("create", "self-inspection")]
    services.record_answers(insp, by=world.ent_user_a, answers={"1.1": "ok", "1.2": "hazard"})
    services.complete_inspection(insp, by=world.ent_user_a)
    insp.refresh_from_db()
    assert (insp.status, insp.record_no) == ("completed", "")
    assert not IssuedNumber.objects.exists()


@pytest.mark.parametrize("who", ["inspector", "leader", "town"])
def test_only_an_enterprise_user_starts_a_self_inspection(world, who):
    with refused(PermissionDenied):
        services.start_self_inspection(by=world.users[who])


def test_an_enterprise_user_without_an_enterprise_cannot_inspect_itself(world):
    orphan = make_inspector("ent_orphan", role="enterprise")
    with refused(PermissionDenied):
        services.start_self_inspection(by=orphan)


def test_another_enterprise_cannot_touch_a_self_inspection(world, checklist):
    insp = services.start_self_inspection(by=world.ent_user_a)
    with refused(PermissionDenied):
        services.record_answers(insp, by=world.ent_user_b, answers={"1.1": "ok"})
    with refused(PermissionDenied):
        services.complete_inspection(insp, by=world.ent_user_b)


def test_an_enterprise_user_cannot_work_on_the_bureaus_visit(world, checklist):
    insp = under_way(world)
    with refused(PermissionDenied):
        services.record_answers(insp, by=world.ent_user_a, answers={"1.1": "ok"})
