"""Role × page/export/document matrix for inspections and hazards."""

import datetime

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from tests.test_permissions import ROLES, SEES_A, STAFF
from yingji.hazards import services as hazard_services
from yingji.inspections import services

PLANNERS = {"leader", "inspector", "admin"}
PLAN_READERS = set(ROLES) - {"ent_a", "ent_b", "expert"}
BOARD = {"leader", "inspector", "admin", "town", "village"}


@pytest.fixture
def ids(world):
    today = timezone.localdate()
    insp = services.schedule_inspection(by=world.inspector, enterprise=world.ent_a, date=today)
    services.start_inspection(insp, by=world.inspector)
    hazard = hazard_services.report_hazard(
        by=world.inspector, enterprise=world.ent_a, inspection=insp, found_on=today, description="x"
    )
    services.complete_inspection(insp, by=world.inspector)
    order = hazard_services.issue_order(
        [hazard], by=world.inspector, deadline=today + datetime.timedelta(days=5)
    )
    plan = services.create_plan(by=world.leader, year=today.year, title="计划")
    return {"insp": insp.pk, "hazard": hazard.pk, "order": order.pk, "plan": plan.pk}


PAGES = [
    ("inspection list", "/inspections/", set(ROLES), None),
    ("inspection ledger", "/inspections/ledger.xlsx", set(ROLES), None),
    ("plan an inspection", "/inspections/new/", PLANNERS, 403),
    ("inspection of A", "/inspections/{insp}/", SEES_A, 404),
    ("record of A", "/inspections/{insp}/record.docx", SEES_A, 404),
    ("plans", "/inspections/plans/", PLAN_READERS, 403),
    ("plan", "/inspections/plans/{plan}/", PLAN_READERS, 403),
    ("checklists", "/inspections/checklists/", PLAN_READERS, 403),
    ("draws", "/inspections/draws/", STAFF, 403),
    ("hazard list", "/hazards/", set(ROLES), None),
    ("hazard ledger", "/hazards/ledger.xlsx", set(ROLES), None),
    ("hazard of A", "/hazards/{hazard}/", SEES_A, 404),
    ("order of A", "/hazards/orders/{order}/document.docx", SEES_A, 404),
    ("overdue board", "/hazards/overdue/", BOARD, 403),
    ("self-report", "/hazards/report/", {"ent_a", "ent_b"}, 403),
]


@pytest.mark.parametrize("role", ROLES)
def test_inspection_and_hazard_pages_follow_the_role_scopes(world, ids, client, role):
    client.force_login(world.users[role])
    failures = []
    for name, url, allowed, denied in PAGES:
        status = client.get(url.format(**ids)).status_code
        expected = 200 if role in allowed else denied
        if status != expected:
            failures.append(f"{name}: {status} != {expected}")
    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_only_the_inspection_team_may_act_on_it(world, ids, client, role):
    client.force_login(world.users[role])
    response = client.post(f"/inspections/{ids['insp']}/", {"start": "1"})
    team = {"inspector", "leader", "admin"}  # the inspector is on it; leaders and admins act
    expected = 200 if role in team else 403 if role in SEES_A else 404
    assert response.status_code == expected
    if role in team:  # the page shows why the service refused
        assert [str(m) for m in response.context["messages"]] == [
            gettext("Only a planned inspection can be started.")
        ]
    # Even the team cannot restart a completed inspection: the service refuses.
    assert world.ent_a.inspections.get().status == "completed"


def test_an_expert_sees_only_the_inspections_assigned(world, client):
    today = timezone.localdate()
    assigned = services.schedule_inspection(
        by=world.inspector, enterprise=world.ent_b, date=today, experts=[world.expert]
    )
    other = services.schedule_inspection(by=world.inspector, enterprise=world.ent_a, date=today)
    client.force_login(world.expert)
    assert client.get(f"/inspections/{assigned.pk}/").status_code == 200
    assert client.get(f"/inspections/{other.pk}/").status_code == 404
    assert [i.pk for i in client.get("/inspections/").context["page"]] == [assigned.pk]


def test_public_draw_results_need_no_login(world, client):
    draw = services.prepare_draw(
        by=world.leader, title="抽查", year=2026, n=1, pool=[world.inspector], per_enterprise=1
    )
    assert client.get("/public/draws/").status_code == 200
    assert client.get(f"/public/draws/{draw.pk}.json").status_code == 404  # not yet published
    draw = services.publish_draw(draw, by=world.leader, seed="abc")
    body = client.get(f"/public/draws/{draw.pk}.json").json()
    assert body["inputs"]["seed"] == "abc"
    assert body["inputs_sha256"] == draw.inputs_digest
