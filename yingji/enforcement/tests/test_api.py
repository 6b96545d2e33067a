"""The enforcement API: a case from its finding to closing, scopes, roles and bad input."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yingji.core.attachments import attach
from yingji.core.models import AuditEntry, IssuedNumber
from yingji.core.services import create_api_token
from yingji.enforcement import services
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter
from yingji.hazards import services as hazards
from yingji.inspections import services as inspections

ROLES = ["leader", "inspector", "duty", "legal", "town", "village", "ent_a", "ent_b", "expert"]
ROLES.append("admin")
STAFF = {"leader", "inspector", "duty", "legal", "admin"}
SEES_A = STAFF | {"town", "ent_a"}
ACTORS = {"leader", "inspector", "admin"}
TODAY = timezone.localdate()
BASE = "/api/v1/enforcement"
DOMAIN = (Case, Penalty, SupervisionLetter, Interview, Referral, IssuedNumber)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def iso(n: int) -> str:
    return days(n).isoformat()


def state() -> tuple:
    rows = tuple(list(m.objects.order_by("pk").values()) for m in DOMAIN)
    return (*rows, AuditEntry.objects.count())


def error_fields(response) -> list[str]:
    """Field names of a 422: ours ({"errors": {field: …}}) or ninja's schema errors."""
    body = response.json()
    if "errors" in body:
        return sorted(body["errors"])
    return sorted({str(e["loc"][-1]) for e in body["detail"]})


class Api:
    """The test client acting as one user (session login), speaking JSON."""

    def __init__(self, client, user):
        self.client, self.user = client, user

    def _login(self) -> None:
        if getattr(self.client, "acting_as", None) is not self.user:
            self.client.force_login(self.user)
            self.client.acting_as = self.user

    def get(self, url, **params):
        self._login()
        return self.client.get(BASE + url, params)

    def post(self, url, data=None):
        self._login()
        body = data if data is not None else {}
        return self.client.post(BASE + url, body, content_type="application/json")


@pytest.fixture
def as_(world, client):
    def _as(role):
        return Api(client, world.users[role])

    return _as


def finding(world, enterprise=None, found_on=TODAY):
    insp = inspections.schedule_inspection(
        by=world.leader,
        enterprise=enterprise or world.ent_a,
        date=found_on,
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


def open_case(world, enterprise=None, **kw) -> Case:
    enterprise = enterprise or world.ent_a
    kw.setdefault("hazard", finding(world, enterprise))
    kw.setdefault("title", "粉尘防爆违法行为")
    return services.open_case(by=world.inspector, enterprise=enterprise, **kw)


@pytest.fixture
def case(world):
    return open_case(world)


PENALTY = {"legal_basis": "《安全生产法》第九十九条", "facts": "未设置泄爆装置", "amount": "30000"}


# -- the whole case ----------------------------------------------------------------------------
def test_a_case_from_its_finding_to_closing(world, as_):
    hazard = finding(world, found_on=days(-10))
    api, leader = as_("inspector"), as_("leader")
    response = api.post(
        "/cases",
        {
            "enterprise": "E-A",
            "title": "粉尘防爆违法行为",
            "hazard": hazard.pk,
            "opened_on": iso(-9),
        },
    )
    assert response.status_code == 201, response.content
    case = response.json()
    assert (case["source"], case["hazard_id"], case["inspection_id"]) == (
        "hazard",
        hazard.pk,
        hazard.inspection_id,
    )
    assert (case["status"], case["opened_by"], case["enterprise"]["ref"]) == (
        "open",
        "inspector",
        "E-A",
    )
    url = f"/cases/{case['id']}"

    drafted = api.post(f"{url}/penalties", {**PENALTY, "amount": "30000.5"})
    assert drafted.status_code == 201, drafted.content
    penalty = drafted.json()
    assert (penalty["status"], penalty["amount"], penalty["notice_no"]) == (
        "draft",
        "30000.50",
        None,
    )
    p_url = f"/penalties/{penalty['id']}"
    notice = api.post(f"{p_url}/notice", {"served_on": iso(-8)})
    assert notice.status_code == 200, notice.content
    assert notice.json()["notice_no"] == f"城应急罚告〔{days(-8).year}〕1号"
    stated = api.post(f"{p_url}/statement", {"statement": "已整改,请求从轻"})
    assert stated.json()["statement"] == "已整改,请求从轻"
    assert api.post(f"{p_url}/decide").status_code == 422  # not yet approved
    assert api.post(f"{p_url}/approve").status_code == 403
    ok = leader.post(f"{p_url}/approve")
    assert ok.status_code == 200
    assert (ok.json()["approved"], ok.json()["approved_by"]) == (True, "leader")
    decided = api.post(f"{p_url}/decide", {})
    assert decided.status_code == 200, decided.content
    assert decided.json()["decision_no"] == f"城应急罚决〔{TODAY.year}〕1号"
    payment = api.post(f"{p_url}/payment")
    assert (payment.json()["status"], payment.json()["paid_on"]) == ("paid", TODAY.isoformat())

    letter = api.post(
        f"{url}/letters",
        {
            "addressee": "青海甲工贸有限公司",
            "content": "限期整改",
            "deadline": iso(10),
            "issued_on": iso(-7),
        },
    )
    assert letter.status_code == 201, letter.content
    letter = letter.json()
    assert (letter["number"], letter["issued_on"], letter["deadline"]) == (
        f"城应急督〔{days(-7).year}〕1号",
        iso(-7),
        iso(10),
    )
    reply = api.post(f"/letters/{letter['id']}/reply", {"reply": "已整改", "replied_on": iso(-1)})
    assert reply.status_code == 200 and reply.json()["replied_on"] == iso(-1)

    talk = api.post(
        f"{url}/interviews",
        {
            "held_on": iso(-6),
            "attendees": "张三、李四",
            "topics": "隐患反复",
            "commitments": "十日内整改",
            "follow_up_on": iso(5),
        },
    )
    assert talk.status_code == 201, talk.content
    follow = api.post(
        f"/interviews/{talk.json()['id']}/follow-up", {"result": "到位", "checked_on": iso(-2)}
    )
    assert follow.status_code == 200
    assert (follow.json()["follow_up_on"], follow.json()["follow_up_result"]) == (iso(-2), "到位")

    drafted = api.post(
        f"{url}/referrals", {"authority": "西宁市应急管理局", "reason": "涉嫌重大违法"}
    )
    assert drafted.status_code == 201, drafted.content
    r_url = f"/referrals/{drafted.json()['id']}"
    unsent = api.post(f"{r_url}/send")
    assert unsent.status_code == 422 and error_fields(unsent) == ["approved_by", "documents"]
    referral = Referral.objects.get(pk=drafted.json()["id"])
    attach(referral, SimpleUploadedFile("移送材料.pdf", b"%PDF-1.4\n%%EOF\n"), by=world.inspector)
    assert leader.post(f"{r_url}/approve").json()["approved_by"] == "leader"
    sent = api.post(f"{r_url}/send", {"sent_on": TODAY.isoformat()})
    assert sent.status_code == 200, sent.content
    assert (sent.json()["number"], sent.json()["status"]) == (
        f"城应急移〔{TODAY.year}〕1号",
        "sent",
    )
    assert [d["name"] for d in sent.json()["documents"]] == ["移送材料.pdf"]
    assert api.post(f"{url}/close", {"note": "结案"}).status_code == 422  # referral pending
    assert api.post(f"{r_url}/result", {"result": "市局已立案"}).json()["status"] == "result"

    closed = api.post(f"{url}/close", {"note": "处罚已执行,移送已立案"})
    assert closed.status_code == 200, closed.content
    detail = api.get(url).json()
    assert (detail["status"], detail["closed_on"], detail["closing_note"]) == (
        "closed",
        TODAY.isoformat(),
        "处罚已执行,移送已立案",
    )
    assert detail["acts"] == {"penalties": 1, "letters": 1, "interviews": 1, "referrals": 1}
    assert [p["amount"] for p in detail["penalties"]] == ["30000.50"]
    assert detail["referrals"][0]["documents"][0]["content_type"] == "application/pdf"
    y = TODAY.year
    assert [(e["date"], e["kind"], e["event"], e["number"]) for e in detail["timeline"]] == [
        (iso(-9), "case", "opened", None),
        (iso(-8), "penalty", "notice", f"城应急罚告〔{days(-8).year}〕1号"),
        (iso(-7), "supervision_letter", "issued", f"城应急督〔{days(-7).year}〕1号"),
        (iso(-6), "interview", "held", None),
        (iso(-2), "interview", "follow_up", None),
        (iso(-1), "supervision_letter", "replied", f"城应急督〔{days(-7).year}〕1号"),
        (iso(0), "penalty", "approved", None),
        (iso(0), "penalty", "decided", f"城应急罚决〔{y}〕1号"),
        (iso(0), "penalty", "paid", None),
        (iso(0), "referral", "approved", None),
        (iso(0), "referral", "sent", f"城应急移〔{y}〕1号"),
        (iso(0), "referral", "result", f"城应急移〔{y}〕1号"),
        (iso(0), "case", "closed", None),
    ]
    assert {e["status"] for e in detail["timeline"] if e["kind"] == "penalty"} == {"paid"}
    # The enterprise reads its own case with a token.
    _token, key = create_api_token(world.ent_user_a, "执法", by=world.ent_user_a)
    own = Client().get(f"{BASE}{url}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert own.status_code == 200 and own.json()["penalties"][0]["decision_no"]


# -- reading -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_reading_follows_the_enterprise_scope_and_experts_read_nothing(world, as_, case, role):
    api = as_(role)
    penalty = services.draft_penalty(case, by=world.inspector, **PENALTY)
    detail = api.get(f"/cases/{case.pk}")
    listed = api.get("/cases")
    repeat = api.get("/enterprises/E-A/repeat")
    if role == "expert":
        assert (detail.status_code, listed.status_code, repeat.status_code) == (403, 403, 403)
        return
    sees = role in SEES_A
    assert detail.status_code == (200 if sees else 404)
    assert [c["id"] for c in listed.json()["items"]] == ([case.pk] if sees else [])
    assert repeat.status_code == (200 if sees else 404)
    if sees:
        assert detail.json()["penalties"][0]["id"] == penalty.pk


def test_anonymous_calls_are_refused(world, client, case):
    assert client.get(f"{BASE}/cases").status_code == 401
    assert client.get(f"{BASE}/cases/{case.pk}").status_code == 401
    assert client.post(f"{BASE}/cases", {}, content_type="application/json").status_code == 401


def test_the_list_is_filtered(world, as_, case):
    b = open_case(world, world.ent_b)
    services.draft_penalty(case, by=world.inspector, **PENALTY)
    services.record_interview(b, by=world.inspector, held_on=TODAY, attendees="x", topics="y")
    closed = services.open_case(by=world.leader, enterprise=world.ent_b, title="已结")
    services.close_case(closed, by=world.leader, note="结案")
    api = as_("legal")

    def ids(**params):
        response = api.get("/cases", **params)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    assert ids() == [closed.pk, b.pk, case.pk]
    assert ids(status="open") == [b.pk, case.pk]
    assert ids(status="closed") == [closed.pk]
    assert ids(enterprise="E-B") == [closed.pk, b.pk]
    assert ids(enterprise="NOPE") == []
    assert ids(kind="penalty") == [case.pk]
    assert ids(kind="interview") == [b.pk]
    assert ids(kind="referral") == []
    assert ids(kind="fine") == []
    assert ids(kind="interview", enterprise="E-A") == []
    items = {c["id"]: c for c in api.get("/cases").json()["items"]}
    assert items[case.pk]["acts"] == {"penalties": 1, "letters": 0, "interviews": 0, "referrals": 0}
    assert items[b.pk]["acts"]["interviews"] == 1
    # A town officer's filter cannot reach beyond the town.
    assert as_("town").get("/cases", enterprise="E-B").json()["items"] == []


def test_acts_outside_the_scope_are_not_found(world, as_):
    b = open_case(world, world.ent_b)
    penalty = services.draft_penalty(b, by=world.inspector, **PENALTY)
    for role in ["town", "ent_a"]:
        api = as_(role)
        assert api.get(f"/cases/{b.pk}").status_code == 404
        assert api.get("/enterprises/E-B/repeat").status_code == 404
    assert as_("inspector").get("/cases/999999").status_code == 404
    assert as_("inspector").post(f"/penalties/{penalty.pk + 1000}/notice").status_code == 404
    assert as_("leader").get("/enterprises/NOPE/repeat").status_code == 404


def test_repeat_offenders_are_flagged(world, as_, case):
    api = as_("town")
    body = api.get("/enterprises/E-A/repeat").json()
    assert (body["interviews"], body["repeat"], body["on"]) == (0, False, TODAY.isoformat())
    assert body["enterprise"]["ref"] == "E-A"
    old = services.open_case(
        by=world.leader, enterprise=world.ent_a, title="旧案", opened_on=days(-400)
    )
    services.record_interview(
        old, by=world.leader, held_on=days(-396), attendees="张三", topics="旧隐患"
    )  # about 13 months ago
    services.record_interview(case, by=world.leader, held_on=TODAY, attendees="张三", topics="x")
    assert api.get("/enterprises/E-A/repeat").json() | {"enterprise": None} == {
        "enterprise": None,
        "on": TODAY.isoformat(),
        "interviews": 1,
        "repeat": False,
    }
    services.record_interview(old, by=world.leader, held_on=days(-30), attendees="张三", topics="y")
    body = api.get("/enterprises/E-A/repeat").json()
    assert (body["interviews"], body["repeat"]) == (2, True)


# -- writing: who may --------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_cases_are_opened_by_leaders_inspectors_and_admins(world, as_, role):
    hazard = finding(world)
    before = state()
    response = as_(role).post("/cases", {"enterprise": "E-A", "title": "违法", "hazard": hazard.pk})
    if role in ACTORS:
        assert response.status_code == 201, response.content
        assert response.json()["opened_by"] == world.users[role].username
    else:
        assert response.status_code == 403
        assert state() == before


@pytest.mark.parametrize("role", ROLES)
def test_penalties_are_approved_by_leaders_only(world, as_, case, role):
    penalty = services.draft_penalty(case, by=world.inspector, **PENALTY)
    services.serve_penalty_notice(penalty, by=world.inspector)
    before = state()
    response = as_(role).post(f"/penalties/{penalty.pk}/approve")
    if role == "leader":
        assert response.status_code == 200
        assert response.json()["approved_by"] == "leader"
    else:
        assert response.status_code == 403
        assert state() == before


@pytest.mark.parametrize("role", ROLES)
def test_referrals_are_approved_and_penalties_withdrawn_by_leaders_only(world, as_, case, role):
    referral = services.draft_referral(case, by=world.inspector, authority="市局", reason="移送")
    penalty = services.draft_penalty(case, by=world.inspector, **PENALTY)
    before = state()
    approve = as_(role).post(f"/referrals/{referral.pk}/approve")
    withdraw = as_(role).post(f"/penalties/{penalty.pk}/withdraw", {"reason": "理由成立"})
    if role == "leader":
        assert (approve.status_code, withdraw.status_code) == (200, 200)
        assert withdraw.json()["status"] == "withdrawn"
    else:
        assert (approve.status_code, withdraw.status_code) == (403, 403)
        assert state() == before


def _penalty(world, case, step: str) -> Penalty:
    """A penalty of the case taken up to the given step."""
    penalty = services.draft_penalty(case, by=world.inspector, **PENALTY)
    steps = ["draft", "notified", "hearing requested", "heard", "approved", "decided"]
    for done in steps[1 : steps.index(step) + 1]:
        if done == "notified":
            services.serve_penalty_notice(penalty, by=world.inspector)
        elif done == "hearing requested":
            services.record_statement(
                penalty, by=world.inspector, statement="", hearing_requested=True
            )
        elif done == "heard":
            services.record_hearing(penalty, by=world.inspector, held_on=TODAY, summary="听证")
        elif done == "approved":
            services.approve_penalty(penalty, by=world.leader)
        elif done == "decided":
            services.decide_penalty(penalty, by=world.inspector)
    return penalty


def _referral(world, case, step: str, name="a.pdf") -> Referral:
    referral = services.draft_referral(case, by=world.inspector, authority="市局", reason="移送")
    if step in ("approved", "sent"):
        attach(referral, SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n"), by=world.inspector)
        services.approve_referral(referral, by=world.leader)
    if step == "sent":
        services.send_referral(referral, by=world.inspector)
    return referral


def _act_urls(world, case) -> list[tuple[str, dict]]:
    letter = services.issue_letter(
        case, by=world.inspector, addressee="甲", content="整改", deadline=days(5)
    )
    talk = services.record_interview(
        case, by=world.inspector, held_on=TODAY, attendees="张三", topics="隐患"
    )
    c = f"/cases/{case.pk}"
    p = {
        step: f"/penalties/{_penalty(world, case, step).pk}"
        for step in ["draft", "notified", "hearing requested", "approved", "decided"]
    }
    r = {step: f"/referrals/{_referral(world, case, step).pk}" for step in ["draft", "approved"]}
    r["sent"] = f"/referrals/{_referral(world, case, 'sent', 'b.pdf').pk}"
    return [
        (f"{c}/penalties", PENALTY),
        (f"{p['draft']}/notice", {}),
        (f"{p['notified']}/statement", {"statement": "申辩"}),
        (f"{p['hearing requested']}/hearing", {"held_on": iso(0), "summary": "听证笔录"}),
        (f"{p['approved']}/decide", {}),
        (f"{p['decided']}/payment", {}),
        (f"{c}/letters", {"addressee": "甲", "content": "整改", "deadline": iso(5)}),
        (f"/letters/{letter.pk}/reply", {"reply": "已整改"}),
        (f"{c}/interviews", {"held_on": iso(0), "attendees": "张三", "topics": "隐患"}),
        (f"/interviews/{talk.pk}/follow-up", {"result": "到位"}),
        (f"{c}/referrals", {"authority": "市局", "reason": "移送"}),
        (f"{r['draft']}/withdraw", {"reason": "已另行处理"}),
        (f"{r['approved']}/send", {}),
        (f"{r['sent']}/result", {"result": "已立案"}),
        (f"{c}/close", {"note": "结案"}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_other_act_is_for_leaders_inspectors_and_admins(world, as_, case, role):
    urls = _act_urls(world, case)
    api = as_(role)
    for url, payload in urls:
        before = state()
        response = api.post(url, payload)
        if role not in ACTORS:
            assert response.status_code == 403, url
            assert state() == before, url
        elif url.endswith("/close"):
            assert response.status_code == 422, url  # acts of the case are still open
        else:
            assert response.status_code in (200, 201), (url, response.content)


# -- writing: bad input ------------------------------------------------------------------------
CASE = {"enterprise": "E-A", "title": "违法行为"}
BAD = [
    ("/cases", {**CASE, "enterprise": "NOPE"}, ["enterprise"]),
    ("/cases", {**CASE, "enterprise": "E-B", "hazard": "{hazard}"}, ["enterprise"]),
    ("/cases", {**CASE, "title": "  "}, ["title"]),
    ("/cases", {"enterprise": "E-A"}, ["title"]),
    ("/cases", {**CASE, "hazard": 999999}, ["hazard"]),
    ("/cases", {**CASE, "inspection": 999999}, ["inspection"]),
    ("/cases", {**CASE, "hazard": "{hazard}", "opened_on": iso(-1)}, ["opened_on"]),
    ("/cases", {**CASE, "opened_on": iso(1)}, ["opened_on"]),
    ("/cases", {**CASE, "opened_on": "2025/06/01"}, ["opened_on"]),
    ("/cases", {**CASE, "source": "tip"}, ["source"]),
    ("{case}/penalties", {**PENALTY, "amount": "0"}, ["amount"]),
    ("{case}/penalties", {**PENALTY, "amount": "12.345"}, ["amount"]),
    ("{case}/penalties", {**PENALTY, "amount": 12.5}, ["amount"]),
    ("{case}/penalties", {**PENALTY, "amount": "-3"}, ["amount"]),
    ("{case}/penalties", {**PENALTY, "legal_basis": " "}, ["legal_basis"]),
    ("{case}/penalties", {"facts": "x", "amount": "1"}, ["legal_basis"]),
    ("{case}/penalties", {**PENALTY, "status": "decided"}, ["status"]),
    ("{penalty}/notice", {"served_on": iso(1)}, ["notified_on"]),
    ("{penalty}/notice", {"served_on": iso(-1)}, ["notified_on"]),
    ("{penalty}/notice", {"served_on": "yesterday"}, ["served_on"]),
    ("{penalty}/approve", {}, ["__all__"]),  # no notice yet
    ("{penalty}/decide", {}, ["__all__"]),
    ("{penalty}/statement", {"statement": "x"}, ["__all__"]),
    ("{penalty}/withdraw", {"reason": " "}, ["reason"]),
    ("{case}/letters", {"addressee": "甲", "content": "x", "deadline": iso(-1)}, ["deadline"]),
    ("{case}/letters", {"addressee": " ", "content": "x", "deadline": iso(1)}, ["addressee"]),
    ("{case}/letters", {"addressee": "甲", "content": "x"}, ["deadline"]),
    ("{case}/interviews", {"held_on": iso(1), "attendees": "a", "topics": "b"}, ["held_on"]),
    ("{case}/interviews", {"held_on": iso(0), "topics": "b"}, ["attendees"]),
    ("{case}/referrals", {"authority": " ", "reason": "x"}, ["authority"]),
    ("{referral}/send", {}, ["approved_by", "documents"]),
    ("{referral}/result", {"result": "x"}, ["__all__"]),
    ("{case}/close", {"note": "结案"}, ["status"]),
    ("{case}/close", {"note": " ", "closed_on": iso(1)}, ["closed_on", "closing_note", "status"]),
]


@pytest.mark.parametrize(("url", "payload", "fields"), BAD)
def test_bad_input_gets_a_field_error_and_writes_nothing(world, as_, case, url, payload, fields):
    penalty = services.draft_penalty(case, by=world.inspector, **PENALTY)
    referral = services.draft_referral(case, by=world.inspector, authority="市局", reason="移送")
    ids = {
        "{case}": f"/cases/{case.pk}",
        "{penalty}": f"/penalties/{penalty.pk}",
        "{referral}": f"/referrals/{referral.pk}",
    }
    for placeholder, value in ids.items():
        url = url.replace(placeholder, value)
    if payload.get("hazard") == "{hazard}":  # found at enterprise A today
        payload = {**payload, "hazard": case.hazard_id}
    api = as_("leader")
    before = state()
    response = api.post(url, payload)
    assert response.status_code == 422, response.content
    assert error_fields(response) == fields
    assert state() == before


def test_a_case_cannot_be_opened_from_a_hazard_out_of_reach(world, as_):
    other = finding(world, world.ent_b)
    response = as_("inspector").post("/cases", {**CASE, "hazard": other.pk})
    assert response.status_code == 422 and error_fields(response) == ["enterprise"]


def test_a_requested_hearing_and_the_statement_period_hold_the_decision(world, as_, case):
    api, leader = as_("inspector"), as_("leader")
    heard = _penalty(world, case, "notified")
    url = f"/penalties/{heard.pk}"
    asked = api.post(f"{url}/statement", {"hearing_requested": True})
    assert asked.status_code == 200 and asked.json()["hearing_requested"] is True
    assert leader.post(f"{url}/approve").status_code == 200
    before = state()
    response = api.post(f"{url}/decide")
    assert response.status_code == 422 and error_fields(response) == ["hearing_held_on"]
    assert state() == before
    response = api.post(f"{url}/hearing", {"held_on": iso(1), "summary": "听证"})
    assert response.status_code == 422 and error_fields(response) == ["hearing_held_on"]
    response = api.post(f"{url}/hearing", {"held_on": iso(0), "summary": "当事人到场陈述"})
    assert response.status_code == 200, response.content
    assert (response.json()["hearing_held_on"], response.json()["hearing_summary"]) == (
        iso(0),
        "当事人到场陈述",
    )
    assert api.post(f"{url}/decide").json()["status"] == "decided"
    events = [(e["event"], e["id"]) for e in api.get(f"/cases/{case.pk}").json()["timeline"]]
    assert ("hearing", heard.pk) in events

    silent = _penalty(world, case, "notified")  # no statement: the period must run out
    assert leader.post(f"/penalties/{silent.pk}/approve").status_code == 200
    response = api.post(f"/penalties/{silent.pk}/decide")
    assert response.status_code == 422 and error_fields(response) == ["decided_on"]


def test_money_is_a_string_with_two_decimals(world, as_, case):
    api = as_("inspector")
    for sent, shown in [("5000", "5000.00"), (200, "200.00"), ("0.5", "0.50"), ("1e3", "1000.00")]:
        response = api.post(f"/cases/{case.pk}/penalties", {**PENALTY, "amount": sent})
        assert response.status_code == 201, response.content
        assert response.json()["amount"] == shown
    assert api.post(f"/cases/{case.pk}/penalties", {**PENALTY, "amount": True}).status_code == 422


# -- constant queries --------------------------------------------------------------------------
def _make_cases(world, n):
    for i in range(n):
        enterprise = [world.ent_a, world.ent_b][i % 2]
        case = services.open_case(by=world.inspector, enterprise=enterprise, title=f"案件{i}")
        if i % 3 == 0:
            services.draft_penalty(case, by=world.inspector, **PENALTY)
        if i % 2:
            services.record_interview(
                case, by=world.inspector, held_on=TODAY, attendees="a", topics="b"
            )


def test_the_list_takes_the_same_number_of_queries_for_2_and_30_rows(world, as_):
    api = as_("leader")
    _make_cases(world, 2)
    api.get("/cases")  # warm caches (session, content types)

    def measure(rows, **params):
        with CaptureQueriesContext(connection) as ctx:
            body = api.get("/cases", **params).json()
        assert body["count"] == rows
        return len(ctx.captured_queries)

    two = measure(2, status="open")
    _make_cases(world, 28)
    assert measure(30, status="open") == two
    assert measure(11, kind="penalty") == two


def test_the_detail_takes_the_same_number_of_queries_for_few_and_many_acts(world, as_, case):
    api = as_("leader")

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/cases/{case.pk}").status_code == 200
        return len(ctx.captured_queries)

    def acts(n):
        for _ in range(n):
            services.draft_penalty(case, by=world.inspector, **PENALTY)
            services.issue_letter(
                case, by=world.inspector, addressee="甲", content="x", deadline=days(3)
            )
            services.record_interview(
                case, by=world.inspector, held_on=TODAY, attendees="a", topics="b"
            )
            referral = services.draft_referral(
                case, by=world.inspector, authority="市局", reason="x"
            )
            attach(referral, SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"), by=world.leader)

    acts(1)
    api.get(f"/cases/{case.pk}")
    few = measure()
    acts(5)
    assert measure() == few


def test_the_api_is_published(world, client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert f"{BASE}/cases" in paths and f"{BASE}/enterprises/{{ref}}/repeat" in paths
    assert paths[f"{BASE}/cases"]["get"]["tags"] == ["enforcement"]
