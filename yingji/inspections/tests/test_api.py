"""The inspections API: plans, campaigns, checklists, draws and visits."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import PASSWORD
from tests.apiclient import Api, error_fields
from yingji.core.models import AuditEntry, IssuedNumber
from yingji.core.services import create_api_token, create_user
from yingji.inspections import services
from yingji.inspections.models import (
    Campaign,
    ChecklistTemplate,
    ChecklistVersion,
    Draw,
    Inspection,
    Plan,
    PlanTarget,
)

ROLES = ["leader", "inspector", "duty", "legal", "town", "village", "ent_a", "ent_b", "expert"]
ROLES.append("admin")
STAFF = {"leader", "inspector", "duty", "legal", "admin"}
PLAN_READERS = STAFF | {"town", "village"}
SEES_A = STAFF | {"town", "ent_a"}
ITEMS = [
    {"code": "1", "text": "安全生产责任制", "basis": "《安全生产法》第二十二条"},
    {"code": "2", "text": "粉尘清扫制度"},
]
TODAY = timezone.localdate()
MODELS = (
    Plan,
    PlanTarget,
    Campaign,
    ChecklistTemplate,
    ChecklistVersion,
    Draw,
    Inspection,
    IssuedNumber,
    AuditEntry,
)


def counts() -> tuple:
    return tuple(m.objects.count() for m in MODELS)


@pytest.fixture
def as_(world, client):
    def _as(role):
        return Api(client, world.users[role])

    return _as


@pytest.fixture
def checklist(world):
    return services.save_checklist(
        by=world.leader, name="工贸企业检查表", sector="industrial_trade", items=ITEMS
    )


@pytest.fixture
def plan(world):
    plan = services.create_plan(by=world.leader, year=TODAY.year, title="年度检查计划")
    services.add_target(
        plan, by=world.leader, title="危化企业每年一次", times=1, sector="hazardous_chemicals"
    )
    return plan


@pytest.fixture
def visit(world, checklist):
    """A planned visit to enterprise A with the inspector and the expert."""
    return services.schedule_inspection(
        by=world.leader,
        enterprise=world.ent_a,
        date=TODAY,
        inspectors=[world.inspector],
        experts=[world.expert],
        checklist=checklist,
    )


@pytest.fixture
def inspector2(world):
    return create_user(by=None, username="inspector2", password=PASSWORD, role="inspector")


# -- reading -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_reading_follows_the_roles(world, as_, plan, checklist, visit, inspector2, role):
    services.create_campaign(
        by=world.leader, title="粉尘涉爆专项", start=TODAY, end=TODAY, feature="dust_explosion"
    )
    draw = services.prepare_draw(
        by=world.leader,
        title="抽查",
        year=TODAY.year,
        n=1,
        per_enterprise=1,
        pool=[world.inspector],
    )
    api = as_(role)
    plan_status = 200 if role in PLAN_READERS else 403
    draw_status = 200 if role in STAFF else 403
    visit_status = 200 if role in SEES_A | {"expert"} else 404
    expected = {
        "/api/v1/plans": plan_status,
        f"/api/v1/plans/{plan.pk}": plan_status,
        "/api/v1/campaigns": plan_status,
        "/api/v1/checklists": plan_status,
        "/api/v1/draws": draw_status,
        f"/api/v1/draws/{draw.pk}": draw_status,
        f"/api/v1/draws/{draw.pk}/verify": draw_status,
        "/api/v1/inspections": 200,
        f"/api/v1/inspections/{visit.pk}": visit_status,
    }
    got = {url: api.get(url).status_code for url in expected}
    assert got == expected
    listed = {i["id"] for i in api.get("/api/v1/inspections").json()["items"]}
    assert listed == ({visit.pk} if visit_status == 200 else set())


def test_anonymous_calls_are_refused(world, client, plan):
    for url in ["/api/v1/plans", "/api/v1/draws", "/api/v1/inspections", "/api/v1/checklists"]:
        assert client.get(url).status_code == 401
    assert client.post("/api/v1/plans", {}, content_type="application/json").status_code == 401


def test_a_plan_shows_its_targets_and_their_progress(world, as_, plan):
    api = as_("town")
    body = api.get(f"/api/v1/plans/{plan.pk}").json()
    assert body["target_count"] == 1
    assert body["targets"][0]["progress"] == {"total": 1, "done": 0, "percent": 0}
    insp = services.schedule_inspection(
        by=world.inspector, enterprise=world.ent_b, date=TODAY, plan=plan
    )
    services.start_inspection(insp, by=world.inspector)
    services.complete_inspection(insp, by=world.inspector)
    body = api.get(f"/api/v1/plans/{plan.pk}").json()
    assert body["targets"][0]["progress"] == {"total": 1, "done": 1, "percent": 100}
    assert api.get("/api/v1/plans/999999").status_code == 404


def test_the_checklist_list_shows_the_current_version(world, as_, checklist):
    services.save_checklist(
        by=world.leader,
        name="",
        items=[{"code": "9", "text": "新条目"}],
        template=checklist.template,
    )
    [item] = as_("village").get("/api/v1/checklists").json()["items"]
    assert (item["name"], item["sector"]) == ("工贸企业检查表", "industrial_trade")
    assert item["current"]["version"] == 2
    assert item["current"]["items"] == [{"code": "9", "text": "新条目", "basis": ""}]


def test_inspections_are_filtered(world, as_, visit):
    other = services.schedule_inspection(
        by=world.inspector,
        enterprise=world.ent_b,
        date=TODAY - datetime.timedelta(days=10),
        mode="night",
    )
    services.start_inspection(other, by=world.inspector)
    mine = services.start_self_inspection(by=world.ent_user_a)
    api = as_("legal")

    def ids(**params):
        return {i["id"] for i in api.get("/api/v1/inspections", **params).json()["items"]}

    assert ids() == {visit.pk, other.pk, mine.pk}
    assert ids(status="in_progress") == {other.pk, mine.pk}
    assert ids(mode="night") == {other.pk}
    assert ids(enterprise="E-A") == {visit.pk, mine.pk}
    assert ids(enterprise="NOPE") == set()
    assert ids(date_from=TODAY.isoformat()) == {visit.pk, mine.pk}
    assert ids(date_to=(TODAY - datetime.timedelta(days=1)).isoformat()) == {other.pk}
    assert ids(self_inspection="true") == {mine.pk}
    assert ids(self_inspection="false") == {visit.pk, other.pk}
    assert api.get("/api/v1/inspections", date_from="2026/01/01").status_code == 422
    item = next(i for i in api.get("/api/v1/inspections").json()["items"] if i["id"] == visit.pk)
    assert item["enterprise"] == {"id": world.ent_a.pk, "ref": "E-A", "name": world.ent_a.name}
    assert (item["inspectors"], item["experts"]) == (["inspector"], ["expert"])


# -- writing: who may ------------------------------------------------------------------------
def test_plans_are_created_by_planners_and_published_by_a_leader(world, as_, client):
    body = {"year": TODAY.year, "title": "计划"}
    for role in ["duty", "town", "ent_a", "expert"]:
        assert as_(role).post("/api/v1/plans", body).status_code == 403
    created = as_("inspector").post("/api/v1/plans", body)
    assert created.status_code == 201
    pk = created.json()["id"]
    target = {"title": "全部企业", "times": 2, "region": "T1"}
    assert as_("town").post(f"/api/v1/plans/{pk}/targets", target).status_code == 403
    assert as_("ent_a").post(f"/api/v1/plans/{pk}/targets", target).status_code == 403
    response = as_("inspector").post(f"/api/v1/plans/{pk}/targets", target)
    assert response.status_code == 201
    assert response.json()["targets"][0]["region_ref"] == "T1"
    assert response.json()["targets"][0]["progress"]["total"] == 1
    assert as_("inspector").post(f"/api/v1/plans/{pk}/publish").status_code == 403
    published = as_("leader").post(f"/api/v1/plans/{pk}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert as_("leader").post("/api/v1/plans/999999/publish").status_code == 404


def test_campaigns_and_checklists_are_created_by_planners(world, as_):
    campaign = {"title": "有限空间专项", "start": "2026-04-01", "end": "2026-06-30"}
    campaign["feature"] = "confined_space"
    campaign["region"] = "T2"
    assert as_("legal").post("/api/v1/campaigns", campaign).status_code == 403
    response = as_("leader").post("/api/v1/campaigns", campaign)
    assert response.status_code == 201
    assert response.json()["region_ref"] == "T2" and response.json()["end"] == "2026-06-30"
    assert [c["title"] for c in as_("town").get("/api/v1/campaigns").json()["items"]] == [
        "有限空间专项"
    ]
    checklist = {"name": "危化品检查表", "sector": "hazardous_chemicals", "items": ITEMS}
    assert as_("village").post("/api/v1/checklists", checklist).status_code == 403
    response = as_("admin").post("/api/v1/checklists", checklist)
    assert response.status_code == 201
    assert response.json()["current"]["version"] == 1
    assert [i["code"] for i in response.json()["current"]["items"]] == ["1", "2"]


def test_visits_are_scheduled_by_planners_and_run_by_their_inspectors(
    world, as_, visit, inspector2
):
    body = {"enterprise": "E-B", "date": TODAY.isoformat(), "inspectors": ["inspector2"]}
    for role in ["town", "duty", "ent_b", "expert"]:
        assert as_(role).post("/api/v1/inspections", body).status_code == 403
    response = as_("inspector").post("/api/v1/inspections", body)
    assert response.status_code == 201
    assert response.json()["inspectors"] == ["inspector2"]
    assert response.json()["status"] == "planned"
    url = f"/api/v1/inspections/{visit.pk}"
    # Someone who sees the visit but is not on it: 403; someone who cannot see it: 404.
    assert Api(as_("town").client, inspector2).post(f"{url}/start").status_code == 403
    assert as_("town").post(f"{url}/start").status_code == 403
    assert as_("ent_b").post(f"{url}/start").status_code == 404
    assert as_("inspector").post(f"{url}/start").json()["status"] == "in_progress"
    answers = {"answers": {"1": "ok", "2": "na"}, "summary": "良好"}
    assert as_("ent_a").post(f"{url}/answers", answers).status_code == 403
    assert as_("village").post(f"{url}/answers", answers).status_code == 404
    # The invited expert may record answers too.
    response = as_("expert").post(f"{url}/answers", answers)
    assert response.status_code == 200
    assert response.json()["answers"] == {"1": "ok", "2": "na"}
    assert as_("duty").post(f"{url}/complete").status_code == 403
    assert as_("ent_b").post(f"{url}/complete").status_code == 404
    done = as_("inspector").post(f"{url}/complete").json()
    assert done["status"] == "completed"
    assert done["record_no"] == f"城应急检记〔{TODAY.year}〕1号"
    assert done["checklist"]["name"] == "工贸企业检查表"
    assert [i["code"] for i in done["checklist"]["items"]] == ["1", "2"]
    assert done["hazards"] == []


def test_an_enterprise_user_sees_but_cannot_run_a_visit_by_token(world, client, visit):
    _token, key = create_api_token(world.ent_user_a, "t", by=None)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    url = f"/api/v1/inspections/{visit.pk}"
    assert client.get(url, **headers).status_code == 200
    assert client.post(f"{url}/start", **headers).status_code == 403


# -- writing: bad input ------------------------------------------------------------------------
DAY = TODAY.isoformat()
VISIT = {"enterprise": "E-A", "date": DAY, "inspectors": ["inspector"]}
DRAW = {"title": "抽查", "year": TODAY.year, "n": 1, "per_enterprise": 1, "pool": ["inspector"]}
BAD = [
    ("/api/v1/plans", {"year": 2026}, "title"),
    ("/api/v1/plans", {"year": 2026, "title": "x", "colour": "red"}, "colour"),
    ("/api/v1/plans", {"year": -1, "title": "x"}, "year"),
    ("{plan}/targets", {"title": "t", "region": "NOWHERE"}, "region"),
    ("{plan}/targets", {"title": "t", "sector": "mining"}, "sector"),
    ("{plan}/targets", {"title": "t", "times": 0}, "times"),
    ("{plan}/targets", {"title": "t", "extra": 1}, "extra"),
    ("/api/v1/campaigns", {"title": "c", "start": DAY, "end": "2000-01-01"}, "end"),
    ("/api/v1/campaigns", {"title": "c", "start": "2026/04/01", "end": DAY}, "start"),
    ("/api/v1/campaigns", {"title": "c", "start": DAY, "end": DAY, "region": "X"}, "region"),
    ("/api/v1/checklists", {"name": "c", "items": []}, "items"),
    ("/api/v1/checklists", {"name": "c", "items": [{"text": " "}]}, "items"),
    ("/api/v1/checklists", {"name": "c", "items": [{"text": "a", "x": 1}]}, "x"),
    ("/api/v1/checklists", {"name": "c", "feature": "flying", "items": ITEMS}, "feature"),
    ("/api/v1/checklists", {"name": "工贸企业检查表", "items": ITEMS}, "name"),
    ("/api/v1/draws", {**DRAW, "pool": ["nobody"]}, "pool"),
    ("/api/v1/draws", {**DRAW, "pool": ["leader"]}, "pool"),
    ("/api/v1/draws", {**DRAW, "region": "NOWHERE"}, "region"),
    ("/api/v1/draws", {**DRAW, "sector": "mining"}, "sector"),
    ("/api/v1/draws", {**DRAW, "risk_grade": "purple"}, "risk_grade"),
    ("/api/v1/draws", {**DRAW, "n": 3}, "n"),
    ("/api/v1/draws", {**DRAW, "per_enterprise": 2}, "pool"),
    ("/api/v1/inspections", {**VISIT, "enterprise": "NOPE"}, "enterprise"),
    ("/api/v1/inspections", {**VISIT, "inspectors": ["nobody"]}, "inspectors"),
    ("/api/v1/inspections", {**VISIT, "inspectors": ["duty"]}, "inspectors"),
    ("/api/v1/inspections", {**VISIT, "experts": ["inspector"]}, "experts"),
    ("/api/v1/inspections", {**VISIT, "experts": ["nobody"]}, "experts"),
    ("/api/v1/inspections", {**VISIT, "plan": 999999}, "plan"),
    ("/api/v1/inspections", {**VISIT, "campaign": 999999}, "campaign"),
    ("/api/v1/inspections", {**VISIT, "checklist": 999999}, "checklist"),
    ("/api/v1/inspections", {**VISIT, "mode": "campaign"}, "campaign"),
    ("/api/v1/inspections", {**VISIT, "mode": "flying"}, "mode"),
    ("/api/v1/inspections", {**VISIT, "date": "01/05/2026"}, "date"),
    ("/api/v1/inspections", {**VISIT, "date": "2026-02-30"}, "date"),
    ("/api/v1/inspections", {**VISIT, "record_no": "x"}, "record_no"),
    ("{visit}/answers", {"answers": {"99": "ok"}}, "answers"),
    ("{visit}/answers", {"answers": {"1": "maybe"}}, "answers"),
    ("{visit}/answers", {"answers": {}, "onsite": False}, "onsite"),
    ("{visit}/answers", {"answers": {}, "photo": "x"}, "photo"),
]


@pytest.mark.parametrize(("url", "payload", "field"), BAD)
def test_bad_input_gets_a_field_error_and_writes_nothing(
    world, as_, plan, visit, url, payload, field
):
    services.start_inspection(visit, by=world.inspector)
    url = url.format(plan=f"/api/v1/plans/{plan.pk}", visit=f"/api/v1/inspections/{visit.pk}")
    before = counts()
    response = as_("leader").post(url, payload)
    assert response.status_code == 422, response.content
    assert error_fields(response) == [field]
    assert counts() == before


def test_a_visit_cannot_be_completed_with_unanswered_items(world, as_, visit):
    url = f"/api/v1/inspections/{visit.pk}"
    api = as_("inspector")
    assert error_fields(api.post(f"{url}/complete")) == ["__all__"]  # not started
    api.post(f"{url}/start")
    assert error_fields(api.post(f"{url}/start")) == ["__all__"]
    api.post(f"{url}/answers", {"answers": {"1": "ok"}})
    before = counts()
    response = api.post(f"{url}/complete")
    assert response.status_code == 422 and error_fields(response) == ["answers"]
    assert counts() == before


# -- the double-random draw --------------------------------------------------------------------
def test_a_draw_is_prepared_published_executed_and_verified(world, as_, inspector2):
    api = as_("inspector")
    body = {
        "title": "2026年第一批双随机抽查",
        "year": TODAY.year,
        "n": 1,
        "per_enterprise": 1,
        "pool": ["inspector", "inspector2"],
    }
    assert as_("duty").post("/api/v1/draws", body).status_code == 403
    assert as_("town").post("/api/v1/draws", body).status_code == 403
    response = api.post("/api/v1/draws", body)
    assert response.status_code == 201, response.content
    draw = response.json()
    assert draw["status"] == "prepared" and draw["seed"] is None
    assert draw["candidates"] == ["E-A", "E-B"]
    assert draw["pool"] == ["inspector", "inspector2"]
    assert (draw["n"], draw["per_enterprise"], draw["inputs_digest"]) == (1, 1, "")
    url = f"/api/v1/draws/{draw['id']}"
    assert as_("duty").get(url).json()["seed"] is None

    assert as_("duty").post(f"{url}/publish", {"seed": "s"}).status_code == 403
    assert as_("village").post(f"{url}/publish", {"seed": "s"}).status_code == 403
    published = api.post(f"{url}/publish", {"seed": "公开种子"}).json()
    assert published["status"] == "published" and published["seed"] == "公开种子"
    assert len(published["inputs_digest"]) == 64
    assert error_fields(api.post(f"{url}/publish")) == ["__all__"]
    assert api.get(f"{url}/verify").json() == {"ok": False, "reason": "not drawn"}

    before = Inspection.objects.count()
    assert as_("legal").post(f"{url}/execute").status_code == 403
    day = (TODAY + datetime.timedelta(days=7)).isoformat()
    drawn = api.post(f"{url}/execute", {"date": day}).json()
    assert drawn["status"] == "drawn" and len(drawn["result"]) == 1
    [[ref, usernames]] = drawn["result"]
    assert ref in {"E-A", "E-B"} and len(usernames) == 1
    [insp] = Inspection.objects.filter(draw_id=draw["id"])
    assert Inspection.objects.count() == before + 1
    assert (insp.mode, insp.status, insp.date.isoformat()) == ("double_random", "planned", day)
    assert [u.username for u in insp.inspectors.all()] == usernames
    listed = api.get("/api/v1/inspections", mode="double_random").json()["items"]
    assert [i["id"] for i in listed] == [insp.pk]

    assert as_("leader").get(f"{url}/verify").json() == {"ok": True, "reason": "ok"}
    assert as_("ent_a").get(f"{url}/verify").status_code == 403

    before = counts()
    again = api.post(f"{url}/execute")
    assert again.status_code == 422 and counts() == before

    for payload in [{}, {"reason": "  "}]:
        response = api.post(f"{url}/redraw", payload)
        assert response.status_code == 422 and error_fields(response) == ["reason"]
        assert counts() == before
    assert as_("duty").post(f"{url}/redraw", {"reason": "x"}).status_code == 403
    redrawn = api.post(f"{url}/redraw", {"reason": "被抽中企业已停产"})
    assert redrawn.status_code == 201
    new = redrawn.json()
    assert (new["status"], new["replaces_id"], new["reason"]) == (
        "prepared",
        draw["id"],
        "被抽中企业已停产",
    )
    assert (new["candidates"], new["pool"], new["n"]) == (
        draw["candidates"],
        draw["pool"],
        1,
    )
    listed = as_("admin").get("/api/v1/draws").json()
    assert [d["id"] for d in listed["items"]] == [new["id"], draw["id"]]
    assert "candidates" not in listed["items"][0]


def test_a_draw_keeps_its_criteria_for_the_redraw(world, as_, inspector2):
    api = as_("leader")
    body = {"title": "危化抽查", "year": TODAY.year, "n": 1, "per_enterprise": 2}
    body.update(pool=["inspector", "inspector2"], sector="hazardous_chemicals", region="T2")
    draw = api.post("/api/v1/draws", body).json()
    assert draw["candidates"] == ["E-B"]
    assert draw["criteria"]["region"] == "T2"
    new = api.post(f"/api/v1/draws/{draw['id']}/redraw", {"reason": "输入有误"}).json()
    assert new["candidates"] == ["E-B"] and new["criteria"] == draw["criteria"]


# -- constant queries on lists -----------------------------------------------------------------
def _make_plans(world, n):
    for i in range(n):
        plan = services.create_plan(by=world.leader, year=2026, title=f"计划{i}")
        services.add_target(plan, by=world.leader, title="t", times=1, region=world.town1)


def _make_campaigns(world, n):
    for i in range(n):
        services.create_campaign(
            by=world.leader, title=f"专项{i}", start=TODAY, end=TODAY, region=world.village1
        )


def _make_checklists(world, n):
    for _i in range(n):
        name = f"表{ChecklistTemplate.objects.count()}"
        v = services.save_checklist(by=world.leader, name=name, items=ITEMS)
        services.save_checklist(by=world.leader, name="", items=ITEMS, template=v.template)


def _make_draws(world, n):
    for i in range(n):
        services.prepare_draw(
            by=world.leader,
            title=f"抽{i}",
            year=2026,
            n=1,
            per_enterprise=1,
            pool=[world.inspector],
        )


def _make_inspections(world, n):
    for i in range(n):
        services.schedule_inspection(
            by=world.leader,
            enterprise=[world.ent_a, world.ent_b][i % 2],
            date=TODAY,
            inspectors=[world.inspector, world.leader],
            experts=[world.expert],
        )


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/plans", _make_plans),
        ("/api/v1/campaigns", _make_campaigns),
        ("/api/v1/checklists", _make_checklists),
        ("/api/v1/draws", _make_draws),
        ("/api/v1/inspections", _make_inspections),
    ],
)
def test_lists_take_the_same_number_of_queries_for_2_and_30_rows(world, as_, url, make):
    api = as_("leader")
    make(world, 2)
    api.get(url)  # warm caches (content types, session)

    def measure(rows):
        with CaptureQueriesContext(connection) as ctx:
            body = api.get(url).json()
        assert body["count"] == rows
        return len(ctx.captured_queries)

    two = measure(2)
    make(world, 28)
    assert measure(30) == two
