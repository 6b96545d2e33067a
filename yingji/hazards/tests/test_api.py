"""The hazards API, and the whole loop from scheduling a visit to closing its hazard."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import PASSWORD
from tests.apiclient import Api, error_fields
from yingji.core.models import AuditEntry, IssuedNumber, Notification
from yingji.core.services import create_api_token, create_user
from yingji.hazards import services
from yingji.hazards.models import Evidence, Hazard, RectificationOrder, Reinspection
from yingji.inspections import services as inspections
from yingji.inspections.models import Inspection

ROLES = ["leader", "inspector", "duty", "legal", "town", "village", "ent_a", "ent_b", "expert"]
ROLES.append("admin")
STAFF = {"leader", "inspector", "duty", "legal", "admin"}
SEES_A = STAFF | {"town", "ent_a"}
ACTORS = {"leader", "inspector", "admin"}  # order and re-inspect
TODAY = timezone.localdate()
DAY = TODAY.isoformat()
ITEMS = [{"code": "1", "text": "安全生产责任制"}, {"code": "2", "text": "粉尘清扫制度"}]
MODELS = (
    Hazard,
    RectificationOrder,
    Evidence,
    Reinspection,
    Inspection,
    IssuedNumber,
    Notification,
    AuditEntry,
)


def days(n: int) -> str:
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def counts() -> tuple:
    return tuple(m.objects.count() for m in MODELS)


class TokenApi:
    """The test client with a bearer token, as a script of the enterprise would call."""

    def __init__(self, client, key):
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, url, **params):
        return self.client.get(url, params, **self.headers)

    def post(self, url, data):
        return self.client.post(url, data, content_type="application/json", **self.headers)


@pytest.fixture
def as_(world, client):
    def _as(role):
        return Api(client, world.users[role])

    return _as


@pytest.fixture
def visit(world):
    """A visit to enterprise A under way, by the inspector with the expert."""
    checklist = inspections.save_checklist(by=world.leader, name="工贸企业检查表", items=ITEMS)
    insp = inspections.schedule_inspection(
        by=world.leader,
        enterprise=world.ent_a,
        date=TODAY,
        inspectors=[world.inspector],
        experts=[world.expert],
        checklist=checklist,
    )
    return inspections.start_inspection(insp, by=world.inspector)


@pytest.fixture
def hazard(world, visit):
    return services.report_hazard(
        by=world.inspector,
        enterprise=world.ent_a,
        inspection=visit,
        found_on=TODAY,
        description="除尘器未设置泄爆装置",
    )


@pytest.fixture
def open_hazard(world, hazard):
    services.issue_order([hazard], by=world.inspector, deadline=TODAY + datetime.timedelta(7))
    hazard.refresh_from_db()
    return hazard


# -- the whole loop ----------------------------------------------------------------------------
def test_the_loop_from_scheduling_to_a_closed_hazard(world, client):
    checklist = inspections.save_checklist(by=world.leader, name="工贸企业检查表", items=ITEMS)
    api = Api(client, world.inspector)
    response = api.post(
        "/api/v1/inspections",
        {
            "enterprise": "E-A",
            "date": DAY,
            "mode": "routine",
            "inspectors": ["inspector"],
            "checklist": checklist.pk,
            "ledger": True,
        },
    )
    assert response.status_code == 201, response.content
    insp = response.json()
    url = f"/api/v1/inspections/{insp['id']}"
    assert api.post(f"{url}/start").json()["status"] == "in_progress"
    answered = api.post(f"{url}/answers", {"answers": {"1": "ok", "2": "hazard"}, "summary": "s"})
    assert answered.status_code == 200

    reported = api.post(
        "/api/v1/hazards",
        {
            "enterprise": "E-A",
            "found_on": DAY,
            "level": "general",
            "category": "equipment",
            "description": "除尘器未设置泄爆装置",
            "legal_basis": "《工贸企业粉尘防爆安全规定》第十二条",
            "inspection": insp["id"],
        },
    )
    assert reported.status_code == 201, reported.content
    hazard = reported.json()
    assert (hazard["status"], hazard["source"], hazard["inspection_id"]) == (
        "reported",
        "inspection",
        insp["id"],
    )
    assert hazard["enterprise"]["ref"] == "E-A" and hazard["reported_by"] == "inspector"

    done = api.post(f"{url}/complete").json()
    assert done["status"] == "completed"
    assert done["record_no"] == f"城应急检记〔{TODAY.year}〕1号"
    assert [h["ref"] for h in done["hazards"]] == [hazard["ref"]]

    ordered = api.post(
        "/api/v1/hazards/orders",
        {"hazards": [hazard["id"]], "deadline": days(15), "requirements": "限期安装泄爆装置"},
    )
    assert ordered.status_code == 201, ordered.content
    order = ordered.json()
    assert order["number"] == f"城应急责改〔{TODAY.year}〕1号"
    assert (order["hazards"], order["deadline"], order["inspection_id"]) == (
        [hazard["id"]],
        days(15),
        insp["id"],
    )
    h_url = f"/api/v1/hazards/{hazard['id']}"
    detail = api.get(h_url).json()
    assert (detail["status"], detail["order_number"], detail["deadline"]) == (
        "open",
        order["number"],
        days(15),
    )

    _token, key = create_api_token(world.ent_user_a, "整改上报", by=world.ent_user_a)
    enterprise = TokenApi(client, key)
    assert enterprise.get(h_url).json()["status"] == "open"
    evidence = enterprise.post(f"{h_url}/evidence", {"note": "已安装泄爆片并验收"})
    assert evidence.status_code == 201, evidence.content
    assert evidence.json()["submitted_by"] == "ent_a"
    assert api.get(h_url).json()["status"] == "submitted"

    passed = api.post(f"{h_url}/reinspect", {"passed": True, "opinion": "整改到位，同意销号"})
    assert passed.status_code == 201, passed.content
    assert passed.json()["number"] == f"城应急复查〔{TODAY.year}〕1号"
    closed = enterprise.get(h_url).json()
    assert (closed["status"], closed["closed_on"], closed["is_overdue"]) == ("closed", DAY, False)
    assert [e["note"] for e in closed["evidence"]] == ["已安装泄爆片并验收"]
    assert [(r["passed"], r["by"]) for r in closed["reinspections"]] == [(True, "inspector")]
    assert closed["order"]["number"] == order["number"]
    assert Notification.objects.filter(recipient=world.ent_user_a).exists()


# -- reading -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_reading_follows_the_scopes(world, as_, hazard, role):
    api = as_(role)
    sees = role in SEES_A | {"expert"}  # the expert joined the visit that found it
    assert api.get(f"/api/v1/hazards/{hazard.pk}").status_code == (200 if sees else 404)
    listed = api.get("/api/v1/hazards").json()
    assert [h["id"] for h in listed["items"]] == ([hazard.pk] if sees else [])
    assert listed["count"] == (1 if sees else 0)


def test_anonymous_calls_are_refused(world, client, hazard):
    assert client.get("/api/v1/hazards").status_code == 401
    assert client.get(f"/api/v1/hazards/{hazard.pk}").status_code == 401


def test_the_list_is_filtered(world, as_, open_hazard):
    b = services.report_hazard(
        by=world.ent_user_b,
        enterprise=world.ent_b,
        found_on=TODAY - datetime.timedelta(days=20),
        level="major",
        description="储罐区可燃气体报警器失效",
    )
    api = as_("duty")

    def ids(**params):
        response = api.get("/api/v1/hazards", **params)
        assert response.status_code == 200, response.content
        return {h["id"] for h in response.json()["items"]}

    a = open_hazard.pk
    assert ids() == {a, b.pk}
    assert ids(status="open") == {a}
    assert ids(level="major") == {b.pk}
    assert ids(enterprise="E-B") == {b.pk}
    assert ids(enterprise="NOPE") == set()
    assert ids(found_from=DAY) == {a}
    assert ids(found_to=days(-1)) == {b.pk}
    assert ids(town="T1") == {a}
    assert ids(town="V2") == {b.pk}
    assert ids(town="NOWHERE") == set()
    assert ids(overdue="true") == set()
    Hazard.objects.filter(pk=a).update(deadline=TODAY - datetime.timedelta(days=1))
    assert ids(overdue="true") == {a}
    assert ids(overdue="false") == {a, b.pk}
    [item] = [h for h in api.get("/api/v1/hazards").json()["items"] if h["id"] == a]
    assert item["is_overdue"] is True and item["order_number"].startswith("城应急责改")
    assert api.get("/api/v1/hazards", found_from="yesterday").status_code == 422
    # A town officer's filter cannot reach beyond the town.
    assert {h["id"] for h in as_("town").get("/api/v1/hazards", town="V2").json()["items"]} == set()


# -- writing: who may ------------------------------------------------------------------------
def test_enterprises_self_report_and_inspectors_report_findings_of_their_visit(world, as_, visit):
    own = {"enterprise": "E-A", "found_on": DAY, "description": "消防通道堵塞"}
    response = as_("ent_a").post("/api/v1/hazards", own)
    assert response.status_code == 201
    assert (response.json()["source"], response.json()["status"]) == ("self_report", "reported")
    for role in ["town", "legal", "inspector", "leader"]:  # no inspection named: only the owner
        assert as_(role).post("/api/v1/hazards", own).status_code == 403
    # Another enterprise does not exist for ent_b.
    assert error_fields(as_("ent_b").post("/api/v1/hazards", own)) == ["enterprise"]

    finding = {**own, "inspection": visit.pk}
    inspector2 = create_user(by=None, username="inspector2", password=PASSWORD, role="inspector")
    assert Api(as_("town").client, inspector2).post("/api/v1/hazards", finding).status_code == 403
    assert as_("town").post("/api/v1/hazards", finding).status_code == 403
    assert error_fields(as_("ent_b").post("/api/v1/hazards", finding)) == ["inspection"]
    response = as_("inspector").post("/api/v1/hazards", finding)
    assert response.status_code == 201
    assert (response.json()["source"], response.json()["responsible"]) == (
        "inspection",
        "inspector",
    )
    inspections.record_answers(visit, by=world.inspector, answers={"1": "ok", "2": "ok"})
    inspections.complete_inspection(visit, by=world.inspector)
    before = counts()
    late = as_("inspector").post("/api/v1/hazards", finding)
    assert late.status_code == 422 and counts() == before


@pytest.mark.parametrize("role", ROLES)
def test_orders_are_issued_by_leaders_inspectors_and_admins(world, as_, hazard, role):
    response = as_(role).post(
        "/api/v1/hazards/orders", {"hazards": [hazard.pk], "deadline": days(10)}
    )
    if role in ACTORS:
        assert response.status_code == 201
        assert response.json()["number"] == f"城应急责改〔{TODAY.year}〕1号"
        assert response.json()["issued_by"] == world.users[role].username
    else:
        assert response.status_code == 403
        assert RectificationOrder.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_evidence_comes_from_the_enterprise_or_the_bureau(world, as_, open_hazard, role):
    response = as_(role).post(f"/api/v1/hazards/{open_hazard.pk}/evidence", {"note": "已整改"})
    if role in ACTORS | {"ent_a"}:
        assert response.status_code == 201
    else:
        assert response.status_code == (403 if role in SEES_A | {"expert"} else 404)
        assert Evidence.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_reinspections_are_made_by_the_bureau(world, as_, open_hazard, role):
    response = as_(role).post(
        f"/api/v1/hazards/{open_hazard.pk}/reinspect",
        {"passed": False, "opinion": "未整改到位", "new_deadline": days(20)},
    )
    if role in ACTORS:
        assert response.status_code == 201
        open_hazard.refresh_from_db()
        assert (open_hazard.status, open_hazard.deadline.isoformat()) == ("open", days(20))
    else:
        assert response.status_code == (403 if role in SEES_A | {"expert"} else 404)
        assert Reinspection.objects.count() == 0


def test_a_major_hazard_is_closed_only_after_a_leader_signs_it_off(world, as_, open_hazard):
    Hazard.objects.filter(pk=open_hazard.pk).update(level="major")
    url = f"/api/v1/hazards/{open_hazard.pk}"
    close = {"passed": True, "opinion": "已整改"}
    before = counts()
    response = as_("inspector").post(f"{url}/reinspect", close)
    assert response.status_code == 422 and error_fields(response) == ["passed"]
    assert counts() == before
    for role in ["inspector", "admin", "ent_a", "town"]:
        assert as_(role).post(f"{url}/sign-off").status_code == 403
    assert as_("village").post(f"{url}/sign-off").status_code == 404
    signed = as_("leader").post(f"{url}/sign-off")
    assert signed.status_code == 200
    assert (signed.json()["supervised"], signed.json()["signed_off_by"]) == (True, "leader")
    assert error_fields(as_("leader").post(f"{url}/sign-off")) == ["__all__"]
    assert as_("inspector").post(f"{url}/reinspect", close).status_code == 201


def test_a_general_hazard_needs_no_sign_off(world, as_, hazard):
    response = as_("leader").post(f"/api/v1/hazards/{hazard.pk}/sign-off")
    assert response.status_code == 422


# -- writing: bad input ------------------------------------------------------------------------
REPORT = {"enterprise": "E-A", "found_on": DAY, "description": "消防通道堵塞"}
BAD = [
    ("report", {**REPORT, "enterprise": "NOPE"}, "enterprise"),
    ("report", {**REPORT, "found_on": days(1)}, "found_on"),
    ("report", {**REPORT, "found_on": "2026/01/05"}, "found_on"),
    ("report", {**REPORT, "level": "huge"}, "level"),
    ("report", {**REPORT, "category": "weather"}, "category"),
    ("report", {**REPORT, "description": "  "}, "description"),
    ("report", {**REPORT, "inspection": 999999}, "inspection"),
    ("report", {**REPORT, "photos": ["a.jpg"]}, "photos"),
    ("report", {"enterprise": "E-A", "found_on": DAY}, "description"),
    ("order", {"hazards": [999999], "deadline": days(5)}, "hazards"),
    ("order", {"hazards": [], "deadline": days(5)}, "hazards"),
    ("order", {"hazards": ["{hazard}", "{other}"], "deadline": days(5)}, "hazards"),
    ("order", {"hazards": ["{hazard}"], "deadline": days(-1)}, "deadline"),
    ("order", {"hazards": ["{hazard}"], "deadline": "next week"}, "deadline"),
    ("order", {"hazards": ["{hazard}"], "deadline": days(5), "number": "1"}, "number"),
    ("order", {"hazards": ["{open}"], "deadline": days(5)}, "hazards"),
    ("evidence", {"note": " "}, "note"),
    ("evidence", {"note": "x", "files": []}, "files"),
    ("reinspect", {"passed": True, "opinion": " "}, "opinion"),
    ("reinspect", {"passed": False, "opinion": "x"}, "new_deadline"),
    ("reinspect", {"passed": False, "opinion": "x", "new_deadline": DAY}, "new_deadline"),
    ("reinspect", {"passed": True, "opinion": "x", "date": days(1)}, "date"),
    ("reinspect", {"passed": True, "opinion": "x", "date": "2026-13-01"}, "date"),
    ("reinspect", {"passed": "maybe", "opinion": "x"}, "passed"),
]


@pytest.mark.parametrize(("action", "payload", "field"), BAD)
def test_bad_input_gets_a_field_error_and_writes_nothing(
    world, as_, hazard, action, payload, field
):
    open_ = services.report_hazard(
        by=world.inspector,
        enterprise=world.ent_a,
        inspection=hazard.inspection,
        found_on=TODAY,
        description="安全出口锁闭",
    )
    services.issue_order([open_], by=world.inspector, deadline=TODAY + datetime.timedelta(3))
    other = services.report_hazard(
        by=world.ent_user_b, enterprise=world.ent_b, found_on=TODAY, description="电线私拉乱接"
    )
    ids = {"{hazard}": hazard.pk, "{open}": open_.pk, "{other}": other.pk}
    if "hazards" in payload:
        payload = {**payload, "hazards": [ids.get(h, h) for h in payload["hazards"]]}
    url = {
        "report": "/api/v1/hazards",
        "order": "/api/v1/hazards/orders",
        "evidence": f"/api/v1/hazards/{open_.pk}/evidence",
        "reinspect": f"/api/v1/hazards/{open_.pk}/reinspect",
    }[action]
    before = counts()
    response = as_("ent_a" if action == "report" else "inspector").post(url, payload)
    assert response.status_code == 422, response.content
    assert error_fields(response) == [field]
    assert counts() == before


def test_evidence_only_while_rectifying(world, as_, hazard):
    before = counts()
    response = as_("ent_a").post(f"/api/v1/hazards/{hazard.pk}/evidence", {"note": "已整改"})
    assert response.status_code == 422 and counts() == before


# -- constant queries --------------------------------------------------------------------------
def _make_hazards(world, n):
    for i in range(n):
        user, ent = [(world.ent_user_a, world.ent_a), (world.ent_user_b, world.ent_b)][i % 2]
        h = services.report_hazard(by=user, enterprise=ent, found_on=TODAY, description=f"隐患{i}")
        if i % 3:
            services.issue_order([h], by=world.inspector, deadline=TODAY + datetime.timedelta(5))


def test_the_list_takes_the_same_number_of_queries_for_2_and_30_rows(world, as_):
    api = as_("leader")
    _make_hazards(world, 2)
    api.get("/api/v1/hazards")  # warm caches (session, content types)

    def measure(rows):
        with CaptureQueriesContext(connection) as ctx:
            body = api.get("/api/v1/hazards", overdue="false", town="630103").json()
        assert body["count"] == rows
        return len(ctx.captured_queries)

    two = measure(2)
    _make_hazards(world, 28)
    assert measure(30) == two
