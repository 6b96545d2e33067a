"""The tips API: the 12345 hotline's intake, staff handling, scopes, roles, bad input, and
the reporter's identity kept out of every answer but one."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yingji.core.models import AuditEntry, Notification, WebhookDelivery
from yingji.core.services import create_api_token, revoke_api_token
from yingji.inspections.models import Inspection
from yingji.tips import services
from yingji.tips.models import Tip, TipMessage

ROLES = ["leader", "inspector", "duty", "legal", "town", "village", "ent_a", "ent_b", "expert"]
ROLES.append("admin")
STAFF = {"leader", "inspector", "duty", "legal", "admin"}
READERS = STAFF | {"town", "village"}
INTAKE = {"leader", "inspector", "duty", "admin"}
HANDLERS = {"leader", "inspector", "admin"}
TODAY = timezone.localdate()
BASE = "/api/v1/tips"
NAME, PHONE, EMAIL = "王小明", "13800001111", "wxm@example.test"
CONTENT = "某工贸公司粉尘车间夜间违规生产,除尘设备未开启"
SECRETS = (NAME, PHONE, EMAIL)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def iso(n: int) -> str:
    return days(n).isoformat()


def state() -> tuple:
    rows = tuple(list(m.objects.order_by("pk").values()) for m in (Tip, TipMessage))
    counts = (AuditEntry, Notification, WebhookDelivery, Inspection)
    return (*rows, *(m.objects.count() for m in counts))


def error_fields(response) -> list[str]:
    """Field names of a 422: ours ({"errors": {field: …}}) or ninja's schema errors."""
    body = response.json()
    if "errors" in body:
        return sorted(body["errors"])
    return sorted({str(e["loc"][-1]) for e in body["detail"]})


class Api:
    """The test client acting as one user (session login), speaking JSON; it keeps every
    answer it got, to look for the reporter's identity in them."""

    def __init__(self, client, user, seen):
        self.client, self.user, self.seen = client, user, seen

    def _login(self) -> None:
        if getattr(self.client, "acting_as", None) is not self.user:
            self.client.force_login(self.user)
            self.client.acting_as = self.user

    def _keep(self, response):
        self.seen.append(response.content.decode())
        return response

    def get(self, url, **params):
        self._login()
        return self._keep(self.client.get(BASE + url, params))

    def post(self, url, data=None):
        self._login()
        body = data if data is not None else {}
        return self._keep(self.client.post(BASE + url, body, content_type="application/json"))


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def as_(world, client, seen):
    def _as(role):
        return Api(client, world.users[role], seen)

    return _as


def no_identity_in(bodies) -> None:
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body, body
        assert "reporter_name" not in body and "reporter_contact" not in body, body


# -- building blocks ---------------------------------------------------------------------------
def new_tip(world, enterprise="A", **kw) -> Tip:
    kw.setdefault("channel", "phone")
    kw.setdefault("content", CONTENT)
    kw.setdefault("anonymous", False)
    kw.setdefault("name", NAME)
    kw.setdefault("contact", PHONE)
    ent = {"A": world.ent_a, "B": world.ent_b, None: None}[enterprise]
    return services.record_tip(by=world.duty, enterprise=ent, **kw)[0]


def at(world, step: str, **kw) -> Tip:
    """A tip taken up to the given step."""
    if step == "unfounded":
        tip = at(world, "verifying", **kw)
        return services.record_verification(
            tip, by=world.inspector, verified=False, findings="未发现"
        )
    tip = new_tip(world, **kw)
    steps = ["received", "assigned", "verifying", "verified", "proposed", "approved", "closed"]
    for done in steps[1 : steps.index(step) + 1]:
        if done == "assigned":
            tip = services.assign(tip, by=world.duty, assignee=world.inspector)
        elif done == "verifying":
            tip = services.start_verification(tip, by=world.inspector)
        elif done == "verified":
            tip = services.record_verification(
                tip, by=world.inspector, verified=True, findings="属实"
            )
        elif done == "proposed":
            tip = services.propose_reward(tip, by=world.inspector, amount="500")
        elif done == "approved":
            tip = services.approve_reward(tip, by=world.leader)
        elif done == "closed":
            tip = services.close_tip(tip, by=world.inspector, answer="已查处")
    return tip


def token_client(world, role="duty") -> Client:
    _token, key = create_api_token(world.users[role], "12345 热线", by=world.admin)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def hotline_body(world, **change) -> dict:
    body = {
        "ticket": "12345-20250610-0001",
        "content": CONTENT,
        "received_at": timezone.localtime().replace(microsecond=0).isoformat(),
        "deadline": iso(5),
        "enterprise_name": "青海甲工贸有限公司",
        "enterprise_uscc": world.ent_a.uscc,
        "location": "城南工业园",
        "reporter_name": NAME,
        "reporter_contact": PHONE,
    }
    body.update(change)
    return {k: v for k, v in body.items() if v is not None}


def post_hotline(client, body):
    return client.post(f"{BASE}/hotline", body, content_type="application/json")


# -- the 12345 hotline -------------------------------------------------------------------------
def test_a_hotline_ticket_sent_twice_is_one_tip(world):
    hotline = token_client(world)
    first = post_hotline(hotline, hotline_body(world))
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["ticket"], body["status"], body["enterprise"], body["deadline"]) == (
        "12345-20250610-0001",
        "received",
        "E-A",
        iso(5),
    )
    again = post_hotline(hotline, hotline_body(world, content="热线重复推送"))
    assert again.status_code == 200, again.content
    assert again.json() == body
    assert Tip.objects.count() == 1
    tip = Tip.objects.get()
    assert (tip.channel, tip.content, tip.hotline_deadline, tip.enterprise) == (
        "hotline_12345",
        CONTENT,
        days(5),
        world.ent_a,
    )
    assert (tip.location, tip.anonymous, tip.created_by) == ("城南工业园", False, world.duty)
    no_identity_in([first.content.decode(), again.content.decode()])
    assert services.reveal_identity(tip, by=world.leader) == {"name": NAME, "contact": PHONE}


def test_an_admins_integration_account_may_forward_tips(world):
    response = post_hotline(token_client(world, "admin"), hotline_body(world))
    assert response.status_code == 201
    assert Tip.objects.get().created_by == world.admin


@pytest.mark.parametrize("role", ROLES)
def test_the_hotline_is_for_intake_accounts_only(world, role):
    client = token_client(world, role)
    before = state()
    response = post_hotline(client, hotline_body(world, ticket=f"12345-{role}"))
    if role in INTAKE:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 403
        assert state() == before


def test_the_hotline_takes_a_token_and_nothing_else(world, client):
    body = hotline_body(world)
    assert post_hotline(client, body).status_code == 401
    client.force_login(world.duty)  # a browser session is not the hotline
    assert post_hotline(client, body).status_code == 401
    token, key = create_api_token(world.duty, "12345", by=world.admin)
    revoke_api_token(token.prefix, by=world.admin)
    revoked = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert post_hotline(revoked, body).status_code == 401
    hotline = token_client(world)
    world.duty.is_active = False
    world.duty.save()
    assert post_hotline(hotline, body).status_code == 401
    assert not Tip.objects.exists()


def test_an_unknown_or_closed_enterprise_code_keeps_the_name_as_reported(world):
    hotline = token_client(world)
    lower = post_hotline(
        hotline, hotline_body(world, ticket="1", enterprise_uscc=world.ent_a.uscc.lower())
    )
    assert lower.json()["enterprise"] == "E-A"
    world.ent_b.status = "closed"
    world.ent_b.save()
    for ticket, uscc in [("2", world.ent_b.uscc), ("3", "91630103MA7XXXXX0X")]:
        response = post_hotline(
            hotline,
            hotline_body(world, ticket=ticket, enterprise_name="某化工厂", enterprise_uscc=uscc),
        )
        assert response.status_code == 201 and response.json()["enterprise"] is None
        tip = Tip.objects.get(hotline_ticket=ticket)
        assert (tip.enterprise, tip.enterprise_name) == (None, f"某化工厂 ({uscc})")
    bare = post_hotline(
        hotline, hotline_body(world, ticket="4", enterprise_uscc="", enterprise_name="")
    )
    assert bare.json()["enterprise"] is None
    assert Tip.objects.get(hotline_ticket="4").enterprise_name == ""


HOTLINE_BAD = [
    ({"received_at": "2025-06-10T09:00:00"}, ["received_at"]),  # no offset
    ({"received_at": "yesterday"}, ["received_at"]),
    ({"received_at": None}, ["received_at"]),
    ({"ticket": None}, ["ticket"]),
    ({"ticket": "   "}, ["ticket"]),
    ({"ticket": "T" * 65}, ["ticket"]),
    ({"content": " "}, ["content"]),
    ({"content": None}, ["content"]),
    ({"deadline": iso(-1)}, ["deadline"]),
    ({"deadline": "2025/06/30"}, ["deadline"]),
    ({"location": "路" * 301}, ["location"]),
    ({"enterprise_name": "厂" * 201}, ["enterprise_name"]),
    ({"status": "closed"}, ["status"]),
    ({"channel": "platform"}, ["channel"]),
]


@pytest.mark.parametrize(("change", "fields"), HOTLINE_BAD)
def test_a_bad_hotline_tip_gets_a_field_error_and_writes_nothing(world, change, fields):
    hotline = token_client(world)
    before = state()
    response = post_hotline(hotline, hotline_body(world, **change))
    assert response.status_code == 422, response.content
    assert error_fields(response) == fields
    assert state() == before


# -- staff intake ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_staff_intake_gives_the_receipt_code_once(world, as_, role, seen):
    api = as_(role)
    before = state()
    response = api.post(
        "",
        {
            "channel": "letter",
            "content": CONTENT,
            "enterprise": "E-A",
            "location": "城南",
            "reporter_name": NAME,
            "reporter_contact": EMAIL,
        },
    )
    if role not in INTAKE:
        assert response.status_code == 403
        assert state() == before
        return
    assert response.status_code == 201, response.content
    body = response.json()
    code = body["receipt_code"]
    assert code.isdigit() and len(code) >= 16
    assert (body["channel"], body["status"], body["anonymous"], body["created_by"]) == (
        "letter",
        "received",
        False,
        world.users[role].username,
    )
    assert (body["enterprise"]["ref"], body["received_on"]) == ("E-A", TODAY.isoformat())
    tip = services.find_by_code(code)
    assert tip is not None and tip.pk == body["id"]
    assert services.reveal_identity(tip, by=world.leader) == {"name": NAME, "contact": EMAIL}
    detail = api.get(f"/{tip.pk}").json()
    assert "receipt_code" not in detail and code not in str(detail)
    no_identity_in(seen)


def test_without_a_name_or_contact_the_tip_is_anonymous(world, as_):
    response = as_("duty").post("", {"channel": "visit", "content": CONTENT})
    assert response.status_code == 201 and response.json()["anonymous"] is True
    assert response.json()["enterprise"] is None


TIP = {"channel": "phone", "content": CONTENT}
INTAKE_BAD = [
    ({**TIP, "channel": "platform"}, ["channel"]),
    ({**TIP, "channel": "hotline_12345"}, ["channel"]),
    ({**TIP, "channel": "fax"}, ["channel"]),
    ({**TIP, "content": "  "}, ["content"]),
    ({**TIP, "content": "字" * 5001}, ["content"]),
    ({"channel": "phone"}, ["content"]),
    ({**TIP, "received_on": iso(1)}, ["received_on"]),
    ({**TIP, "received_on": "2025/06/01"}, ["received_on"]),
    ({**TIP, "enterprise": "NOPE"}, ["enterprise"]),
    ({**TIP, "anonymous": True, "reporter_name": NAME}, ["reporter_name"]),
    ({**TIP, "anonymous": True, "reporter_contact": PHONE}, ["reporter_contact"]),
    ({**TIP, "anonymous": False, "reporter_name": NAME}, ["reporter_contact"]),
    ({**TIP, "location": "路" * 301}, ["location"]),
    ({**TIP, "status": "closed"}, ["status"]),
    ({**TIP, "receipt_code": "1" * 20}, ["receipt_code"]),
]


@pytest.mark.parametrize(("payload", "fields"), INTAKE_BAD)
def test_bad_staff_intake_gets_a_field_error_and_writes_nothing(world, as_, payload, fields):
    api = as_("duty")
    before = state()
    response = api.post("", payload)
    assert response.status_code == 422, response.content
    assert error_fields(response) == fields
    assert state() == before


# -- reading -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_reading_follows_the_enterprise_scope(world, as_, role, seen):
    a, b, vague = new_tip(world, "A"), new_tip(world, "B"), new_tip(world, None)
    api = as_(role)
    listed = api.get("")
    details = {t.pk: api.get(f"/{t.pk}").status_code for t in (a, b, vague)}
    if role not in READERS:
        assert listed.status_code == 403
        assert set(details.values()) == {403}
        return
    sees = {
        "town": [a.pk],
        "village": [b.pk],
    }.get(role, [vague.pk, b.pk, a.pk])
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == sees
    assert details == {pk: 200 if pk in sees else 404 for pk in details}
    no_identity_in(seen)


def test_anonymous_calls_are_refused(world, client):
    tip = new_tip(world)
    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/{tip.pk}").status_code == 401
    assert client.get(f"{BASE}/{tip.pk}/identity").status_code == 401
    assert client.post(BASE, {}, content_type="application/json").status_code == 401


def test_the_list_is_filtered(world, as_):
    old = new_tip(world, received_on=days(-20))  # its deadline has passed
    done = at(world, "closed")
    Tip.objects.filter(pk=done.pk).update(deadline=days(-1))  # closed: never overdue
    letter = new_tip(world, channel="letter")
    mine = services.assign(letter, by=world.duty, assignee=world.leader)
    api = as_("legal")

    def ids(**params):
        response = api.get("", **params)
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["items"]]

    assert ids() == [letter.pk, done.pk, old.pk]
    assert ids(status="closed") == [done.pk]
    assert ids(status="received") == [old.pk]
    assert ids(channel="letter") == [letter.pk]
    assert ids(channel="wechat") == []
    assert ids(overdue=True) == [old.pk]
    assert ids(assignee="leader") == [mine.pk]
    assert ids(assignee="inspector") == [done.pk]
    assert ids(assignee="nobody") == []
    assert ids(status="bogus") == []
    items = {t["id"]: t for t in api.get("").json()["items"]}
    assert items[old.pk]["is_overdue"] is True and items[done.pk]["is_overdue"] is False
    assert items[mine.pk]["assignee"] == "leader"


def test_the_detail_shows_the_handling_but_never_the_reporter(world, as_, seen):
    tip = at(world, "approved")
    services.ask_reporter(tip, by=world.inspector, question="请问是几号车间?")
    services.reporter_answers(tip, text="三号车间")
    body = as_("legal").get(f"/{tip.pk}").json()
    assert (body["status"], body["channel"], body["assignee"], body["deadline"]) == (
        "verified",
        "phone",
        "inspector",
        iso(services.DEFAULT_DAYS),
    )
    assert body["enterprise"] == {"id": world.ent_a.pk, "ref": "E-A", "name": world.ent_a.name}
    assert body["verification"] == {"inspection_id": None, "verified": True, "findings": "属实"}
    assert [(m["kind"], m["text"], m["by"]) for m in body["messages"]] == [
        ("question", "请问是几号车间?", "inspector"),
        ("answer", "三号车间", None),
    ]
    reward = body["reward"]
    assert (reward["status"], reward["amount"], reward["approved_by"], reward["paid_on"]) == (
        "approved",
        "500.00",
        "leader",
        None,
    )
    assert not {k for k in body if "reporter" in k or "receipt" in k or k.endswith("_enc")}
    no_identity_in(seen)


# -- the reporter's identity -------------------------------------------------------------------
def views(tip) -> int:
    return AuditEntry.objects.filter(
        action="view", target_type="tips.tip", target_id=str(tip.pk)
    ).count()


def test_a_leader_sees_who_reported_and_each_look_is_audited(world, as_):
    tip = new_tip(world)
    api = as_("leader")
    for n in (1, 2):
        response = api.get(f"/{tip.pk}/identity")
        assert response.status_code == 200
        assert response.json() == {"anonymous": False, "name": NAME, "contact": PHONE}
        assert "no-store" in response["Cache-Control"]
        assert views(tip) == n
    entry = AuditEntry.objects.filter(action="view").last()
    assert (entry.actor, entry.note) == (world.leader, "reporter identity viewed")
    anonymous = new_tip(world, anonymous=True)
    response = api.get(f"/{anonymous.pk}/identity")
    assert response.json() == {"anonymous": True, "name": "", "contact": ""}
    assert views(anonymous) == 1
    before = AuditEntry.objects.count()
    assert api.get("/999999/identity").status_code == 404
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"leader"}))
def test_nobody_else_sees_who_reported(world, as_, role):
    tip = new_tip(world)
    before = state()
    response = as_(role).get(f"/{tip.pk}/identity")
    assert response.status_code == 403
    no_identity_in([response.content.decode()])
    assert state() == before


def test_a_leaders_token_reads_the_identity_and_is_audited(world):
    tip = new_tip(world)
    response = token_client(world, "leader").get(f"{BASE}/{tip.pk}/identity")
    assert response.status_code == 200 and response.json()["contact"] == PHONE
    assert views(tip) == 1


# -- handling: who may -------------------------------------------------------------------------
def _act_urls(world) -> list[tuple[str, dict, set]]:
    original = new_tip(world)
    t = {step: at(world, step) for step in ["received", "verifying", "verified", "proposed"]}
    t |= {"approved": at(world, "approved"), "closing": at(world, "verified")}
    t |= {"assigned": at(world, "assigned"), "asking": at(world, "assigned")}
    t |= {"starting": at(world, "assigned"), "repeat": new_tip(world)}
    return [
        ("", {"channel": "phone", "content": CONTENT, "enterprise": "E-A"}, INTAKE),
        (f"/{t['received'].pk}/assign", {"assignee": "inspector"}, INTAKE),
        (f"/{t['repeat'].pk}/duplicate", {"duplicate_of": original.pk}, INTAKE),
        (f"/{t['assigned'].pk}/transfer", {"to": "区市场监管局", "answer": "已转交"}, HANDLERS),
        (f"/{t['starting'].pk}/verification/start", {}, HANDLERS),
        (f"/{t['verifying'].pk}/verification", {"verified": True, "findings": "属实"}, HANDLERS),
        (f"/{t['asking'].pk}/questions", {"question": "几点?"}, HANDLERS),
        (f"/{t['verified'].pk}/reward/propose", {"amount": "500"}, HANDLERS),
        (f"/{t['proposed'].pk}/reward/approve", {}, {"leader"}),
        (f"/{t['approved'].pk}/reward/payment", {"paid_on": iso(0), "method": "转账"}, HANDLERS),
        (f"/{t['closing'].pk}/close", {"answer": "已查处"}, HANDLERS),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_each_act_is_for_its_roles_only(world, as_, role, seen):
    urls = _act_urls(world)
    api = as_(role)
    for url, payload, allowed in urls:
        before = state()
        response = api.post(url, payload)
        if role in allowed:
            assert response.status_code in (200, 201), (url, response.content)
        else:
            assert response.status_code == 403, url
            assert state() == before, url
    no_identity_in(seen)


@pytest.mark.parametrize("role", ROLES)
def test_an_inspection_is_planned_from_a_tip_by_its_handlers(world, as_, role):
    """The tip's assignee inspects when a leader or an admin plans the visit."""
    tip = at(world, "assigned")
    before = state()
    response = as_(role).post(f"/{tip.pk}/inspect", {"date": iso(1)})
    if role not in HANDLERS:
        assert response.status_code == 403
        assert state() == before
        return
    assert response.status_code == 201, response.content
    body = response.json()
    insp = Inspection.objects.get(pk=body["verification"]["inspection_id"])
    assert (body["status"], insp.enterprise, insp.date) == ("verifying", world.ent_a, days(1))
    assert world.inspector in insp.inspectors.all()


def test_acts_on_a_tip_out_of_reach_are_not_found(world, as_):
    assert as_("inspector").post("/999999/verification/start").status_code == 404
    assert as_("duty").post("/999999/assign", {"assignee": "inspector"}).status_code == 404
    assert as_("leader").get("/999999").status_code == 404
    # The town sees enterprise A's tips but may not act on them: 403, not 404.
    tip = at(world, "assigned")
    assert as_("town").post(f"/{tip.pk}/verification/start").status_code == 403


# -- handling: bad input -----------------------------------------------------------------------
BAD = [
    ("{received}/assign", {"assignee": "nobody"}, ["assignee"]),
    ("{received}/assign", {"assignee": "duty"}, ["assignee"]),
    ("{received}/assign", {"assignee": "inspector", "deadline": iso(-1)}, ["deadline"]),
    ("{received}/assign", {"assignee": "inspector", "deadline": "soon"}, ["deadline"]),
    ("{received}/assign", {}, ["assignee"]),
    ("{verifying}/assign", {"assignee": "inspector"}, ["__all__"]),
    ("{received}/duplicate", {"duplicate_of": 999999}, ["duplicate_of"]),
    ("{received}/duplicate", {"duplicate_of": "{received_id}"}, ["duplicate_of"]),
    ("{verifying}/duplicate", {"duplicate_of": "{received_id}"}, ["__all__"]),
    ("{assigned}/transfer", {"to": " ", "answer": " "}, ["answer", "to"]),
    ("{verified}/transfer", {"to": "区住建局", "answer": "已转交"}, ["__all__"]),
    ("{received}/verification/start", {}, ["__all__"]),
    ("{assigned}/verification/start", {"inspection": 999999}, ["inspection"]),
    ("{assigned}/verification/start", {"inspection": "{other_inspection}"}, ["inspection"]),
    ("{vague}/inspect", {}, ["enterprise"]),
    ("{received}/inspect", {}, ["__all__"]),
    ("{assigned}/inspect", {"date": "tomorrow"}, ["date"]),
    ("{assigned}/verification", {"verified": True, "findings": "x"}, ["__all__"]),
    ("{verifying}/verification", {"verified": True, "findings": " "}, ["findings"]),
    ("{verifying}/verification", {"findings": "x"}, ["verified"]),
    ("{assigned}/questions", {"question": " "}, ["question"]),
    ("{closed}/questions", {"question": "还有吗?"}, ["__all__"]),
    ("{assigned}/reward/propose", {"amount": "500"}, ["__all__"]),
    ("{unfounded}/reward/propose", {}, ["__all__"]),
    ("{verified}/reward/propose", {"amount": "0"}, ["amount"]),
    ("{verified}/reward/propose", {"amount": "1.234"}, ["amount"]),
    ("{verified}/reward/propose", {"amount": "abc"}, ["amount"]),
    ("{verified}/reward/propose", {"amount": "NaN"}, ["amount"]),
    ("{verified}/reward/propose", {"amount": 12.5}, ["amount"]),
    ("{verified}/reward/approve", {}, ["__all__"]),
    ("{proposed}/reward/payment", {"paid_on": iso(0), "method": "转账"}, ["__all__"]),
    ("{approved}/reward/payment", {"paid_on": iso(1), "method": "转账"}, ["paid_on"]),
    ("{approved}/reward/payment", {"paid_on": iso(0), "method": " "}, ["method"]),
    ("{approved}/reward/payment", {"method": "转账"}, ["paid_on"]),
    ("{unfounded}/close", {}, ["answer"]),
    ("{unfounded}/close", {"answer": "不属实", "closed_on": iso(1)}, ["closed_on"]),
    ("{assigned}/close", {"answer": "x"}, ["status"]),
    ("{closed}/close", {"answer": "x"}, ["status"]),
    ("{verified}/close", {"answer": "x", "status": "closed"}, ["status"]),
]


@pytest.mark.parametrize(("url", "payload", "fields"), BAD)
def test_bad_input_gets_a_field_error_and_writes_nothing(world, as_, url, payload, fields):
    from yingji.inspections import services as inspections

    tips = {
        step: at(world, step)
        for step in ["received", "assigned", "verifying", "verified", "unfounded", "proposed"]
    }
    tips |= {"approved": at(world, "approved"), "closed": at(world, "closed")}
    tips["vague"] = at(world, "assigned", enterprise=None)
    other = inspections.schedule_inspection(
        by=world.leader, enterprise=world.ent_b, date=TODAY, inspectors=[world.inspector]
    )
    for name, tip in tips.items():
        url = url.replace(f"{{{name}}}", f"/{tip.pk}")
    values = {"{received_id}": tips["received"].pk, "{other_inspection}": other.pk}
    payload = {k: values.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    before = state()
    # Leaders for all (they may approve); the tip's own inspector plans its visits.
    response = as_("inspector" if url.endswith("/inspect") else "leader").post(url, payload)
    assert response.status_code == 422, response.content
    assert error_fields(response) == fields
    assert state() == before


# -- whole lives -------------------------------------------------------------------------------
def test_a_tip_from_intake_to_the_paid_reward(world, as_, seen):
    duty, inspector, leader = as_("duty"), as_("inspector"), as_("leader")
    created = duty.post(
        "",
        {
            "channel": "phone",
            "content": CONTENT,
            "enterprise": "E-A",
            "reporter_name": NAME,
            "reporter_contact": EMAIL,
        },
    )
    assert created.status_code == 201, created.content
    url = f"/{created.json()['id']}"
    code = created.json()["receipt_code"]
    assigned = duty.post(f"{url}/assign", {"assignee": "inspector", "deadline": iso(7)})
    assert (assigned.json()["status"], assigned.json()["deadline"]) == ("assigned", iso(7))
    inspected = inspector.post(f"{url}/inspect", {})
    assert inspected.status_code == 201, inspected.content
    assert inspected.json()["verification"]["inspection_id"] is not None
    asked = inspector.post(f"{url}/questions", {"question": "请问具体在几号车间?"})
    assert asked.status_code == 201
    assert (asked.json()["kind"], asked.json()["by"]) == ("question", "inspector")
    services.reporter_answers(services.find_by_code(code), text="三号车间")
    checked = inspector.post(f"{url}/verification", {"verified": True, "findings": "除尘器未开启"})
    assert (checked.json()["status"], checked.json()["verified"]) == ("verified", True)
    proposed = inspector.post(f"{url}/reward/propose")  # the rule's figure
    assert proposed.status_code == 200, proposed.content
    assert (proposed.json()["reward"]["status"], proposed.json()["reward"]["amount"]) == (
        "proposed",
        "100.00",
    )
    assert leader.post(f"{url}/reward/approve").json()["reward"]["approved_by"] == "leader"
    paid = inspector.post(f"{url}/reward/payment", {"paid_on": iso(0), "method": "银行转账"})
    assert paid.json()["reward"] | {"approved_at": None} == {
        "status": "paid",
        "amount": "100.00",
        "approved_by": "leader",
        "approved_at": None,
        "paid_on": iso(0),
        "method": "银行转账",
        "claimed_at": None,
    }
    closed = inspector.post(f"{url}/close", {"answer": "已责令整改并立案查处"})
    assert closed.status_code == 200, closed.content
    body = inspector.get(url).json()
    assert (body["status"], body["closed_on"], body["answer"]) == (
        "closed",
        iso(0),
        "已责令整改并立案查处",
    )
    assert [m["kind"] for m in body["messages"]] == ["question", "answer"]
    assert Notification.objects.filter(address=EMAIL, channel="email").exists()
    no_identity_in(seen)


def test_a_hotline_tip_transferred_and_closed_calls_the_hotline_back(world, as_, settings):
    settings.HOTLINE_CALLBACK_URL = "http://12345.example.test/callback"
    created = post_hotline(token_client(world), hotline_body(world))
    url = f"/{created.json()['id']}"
    as_("duty").post(f"{url}/assign", {"assignee": "inspector"})
    api = as_("inspector")
    moved = api.post(f"{url}/transfer", {"to": "区市场监管局", "answer": "已转区市场监管局"})
    assert (moved.json()["status"], moved.json()["transferred_to"]) == (
        "transferred",
        "区市场监管局",
    )
    closed = api.post(f"{url}/close")
    assert (closed.json()["status"], closed.json()["answer"]) == ("closed", "已转区市场监管局")
    hook = WebhookDelivery.objects.get(purpose="hotline")
    assert (hook.payload["ticket"], hook.payload["answer"]) == (
        "12345-20250610-0001",
        "已转区市场监管局",
    )


def test_a_duplicate_is_closed_with_its_original(world, as_):
    original, repeat = at(world, "verified"), new_tip(world, channel="visit")
    api = as_("duty")
    joined = api.post(f"/{repeat.pk}/duplicate", {"duplicate_of": original.pk})
    assert joined.status_code == 200 and joined.json()["duplicate_of_id"] == original.pk
    assert api.get(f"/{original.pk}").json()["duplicates"] == [repeat.pk]
    as_("inspector").post(f"/{original.pk}/close", {"answer": "已查处"})
    body = api.get(f"/{repeat.pk}").json()
    assert (body["status"], body["answer"]) == ("closed", "已查处")


# -- constant queries --------------------------------------------------------------------------
def _make_tips(world, n: int) -> None:
    for i in range(n):
        tip = new_tip(world, ["A", "B", None][i % 3])
        if i % 2:
            services.assign(
                tip, by=world.duty, assignee=[world.inspector, world.leader][i % 4 // 2]
            )


def test_the_list_takes_the_same_number_of_queries_for_2_and_30_rows(world, as_):
    api = as_("leader")
    _make_tips(world, 2)
    api.get("")  # warm caches (session, content types)

    def measure(rows, **params):
        with CaptureQueriesContext(connection) as ctx:
            body = api.get("", **params).json()
        assert body["count"] == rows
        return len(ctx.captured_queries)

    two = measure(2)
    _make_tips(world, 28)
    assert measure(30) == two
    assert measure(15, status="assigned") == two


def test_the_detail_takes_the_same_number_of_queries_for_few_and_many_messages(world, as_):
    tip = at(world, "approved")
    api = as_("leader")

    def grow(n):
        for _ in range(n):
            services.ask_reporter(tip, by=world.inspector, question="?")
            services.reporter_answers(tip, text="!")
            repeat = new_tip(world)
            services.link_duplicate(repeat, by=world.duty, of=tip)

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/{tip.pk}").status_code == 200
        return len(ctx.captured_queries)

    grow(1)
    api.get(f"/{tip.pk}")
    few = measure()
    grow(5)
    assert measure() == few


def test_the_api_is_published(world, client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert f"{BASE}/hotline" in paths and f"{BASE}/{{pk}}/identity" in paths
    assert paths[f"{BASE}/hotline"]["post"]["tags"] == ["tips"]
    assert paths[f"{BASE}/hotline"]["post"]["security"] == [{"TokenAuth": []}]


def test_the_same_ticket_sent_twice_at_once_answers_with_the_one_tip(world, monkeypatch):
    """The loser of a race on the ticket's unique index gets the winner's tip, not a 500."""
    from django.db import IntegrityError

    real = services.receive_hotline_tip

    def racing(**kw):
        real(**kw)  # the other request, committed first
        raise IntegrityError("UNIQUE constraint failed: tips_tip.hotline_ticket")

    monkeypatch.setattr(services, "receive_hotline_tip", racing)
    response = post_hotline(token_client(world), hotline_body(world))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == Tip.objects.get().pk
