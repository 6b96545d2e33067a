"""The alerts API: drafts, issue and approval, acknowledgements; scopes, roles, bad input."""

import pytest
from django.test import Client

from yingji.alerts import services
from yingji.alerts.models import Alert
from yingji.alerts.tests.helpers_web import (
    count_queries,
    draft,
    first_call,
    issued,
    later,
    more_villages,
    recipient,
    state,
)
from yingji.core.models import Notification
from yingji.core.services import create_api_token

BASE = "/api/v1/alerts"
ROLES = ["leader", "inspector", "duty", "legal", "admin", "town", "village"]
ROLES += ["ent_a", "ent_b", "expert"]
DISTRICT = {"leader", "inspector", "duty", "legal", "admin"}
VIEW = DISTRICT | {"town", "village"}
ISSUE = {"leader", "duty", "admin"}


def error_fields(response) -> list[str]:
    body = response.json()
    if "errors" in body:
        return sorted(body["errors"])
    return sorted({str(e["loc"][-1]) for e in body["detail"]})


class Api:
    def __init__(self, client: Client, user) -> None:
        self.client, self.user = client, user
        client.force_login(user)

    def get(self, url="", **params):
        return self.client.get(BASE + url, params)

    def post(self, url="", data=None):
        return self.client.post(BASE + url, data or {}, content_type="application/json")

    def put(self, url, data):
        return self.client.put(BASE + url, data, content_type="application/json")


@pytest.fixture
def as_(world):
    return lambda role: Api(Client(), world.users[role])


def body(**change) -> dict:
    data = {
        "kind": "warning",
        "hazard_type": "flash_flood",
        "level": "orange",
        "headline": "山洪灾害橙色预警",
        "body": "受强降雨影响，山洪发生可能性大。",
        "instructions": "立即转移沟道两侧群众。",
        "regions": ["T2"],
        "valid_from": "2030-07-01T08:00:00+08:00",
        "valid_until": "2030-07-02T08:00:00+08:00",
    }
    data.update(change)
    return data


# -- the whole story ------------------------------------------------------------------------------
def test_a_warning_written_approved_and_acknowledged_through_the_api(world, units, as_):
    duty, leader = as_("duty"), as_("leader")
    response = duty.post("", body())
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["status"], created["regions"], created["recipients"]) == ("draft", ["T2"], [])
    aid = created["id"]
    response = duty.post(f"/{aid}/issue")
    assert response.json()["status"] == "pending_approval"
    assert duty.post(f"/{aid}/approve").status_code == 403
    response = leader.post(f"/{aid}/approve")
    detail = response.json()
    assert detail["status"] == "issued" and detail["approved_by"] == "leader"
    units_ = {r["unit"]["region"]: r for r in detail["recipients"]}
    assert set(units_) == {"T2", "V2"} and (detail["units"], detail["acknowledged"]) == (2, 0)
    first = units_["T2"]["calls"][0]
    assert (first["name"], first["step"]) == ("T2-duty", 0)
    assert {d["channel"] for d in first["dispatches"]} >= {"email"}
    assert all(d["status"] == "pending" for d in first["dispatches"] if d["channel"] == "email")
    # V2's officer answers in the app; T2 answers the duty officer's phone.
    village = as_("village")
    response = village.post(f"/{aid}/recipients/{units_['V2']['id']}/ack", {"method": "app"})
    assert response.status_code == 200 and response.json()["acknowledged"] is True
    assert response.json()["recipient"]["ack_user"] == "village2"
    response = duty.post(
        f"/{aid}/recipients/{units_['T2']['id']}/ack",
        {"method": "phone", "name": "T2-head", "note": "已布置转移"},
    )
    got = response.json()["recipient"]
    assert (got["state"], got["ack_method"], got["ack_name"]) == (
        "acknowledged",
        "phone",
        "T2-head",
    )
    again = duty.post(
        f"/{aid}/recipients/{units_['T2']['id']}/ack", {"method": "phone", "name": "别人"}
    )
    assert again.status_code == 200 and again.json()["acknowledged"] is False
    assert again.json()["recipient"]["ack_name"] == "T2-head"
    response = duty.post(f"/{aid}/lift")
    assert response.json()["status"] == "lifted"
    assert duty.get(f"/{aid}").json()["acknowledged"] == 2


def test_a_draft_is_rewritten_and_cancelled(world, units, as_):
    duty = as_("duty")
    aid = duty.post("", body(level="blue")).json()["id"]
    response = duty.put(f"/{aid}", body(level="blue", headline="更正", regions=["V1", "V2"]))
    assert response.status_code == 200
    assert (response.json()["headline"], response.json()["regions"]) == ("更正", ["V1", "V2"])
    assert duty.post(f"/{aid}/cancel").json()["status"] == "cancelled"
    assert duty.put(f"/{aid}", body()).status_code == 422  # no longer a draft


def test_the_detail_shows_escalations_and_failed_channels(world, units, as_):
    alert = issued(world)
    Notification.objects.filter(channel="email").update(
        status="failed", attempts=5, last_error="SMTP 550"
    )
    services.escalate_due(later(31))
    detail = as_("duty").get(f"/{alert.pk}").json()
    v1 = next(r for r in detail["recipients"] if r["unit"]["region"] == "V1")
    assert v1["state"] == "escalated" and [c["step"] for c in v1["calls"]] == [0, 1]
    email = next(d for d in v1["calls"][0]["dispatches"] if d["channel"] == "email")
    assert (email["status"], email["attempts"], email["last_error"]) == ("failed", 5, "SMTP 550")


def test_a_token_of_an_integration_account_works_too(world, units):
    _token, key = create_api_token(world.duty, "值班系统", by=world.admin)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post(BASE, body(level="blue"), content_type="application/json")
    assert response.status_code == 201
    assert client.get(BASE).json()["count"] == 1


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"headline": ""}, ["headline"]),
        ({"level": ""}, ["level"]),
        ({"level": "purple"}, ["level"]),
        ({"kind": "rumour"}, ["kind"]),
        ({"regions": []}, ["regions"]),
        ({"regions": ["T2", "NOWHERE"]}, ["regions"]),
        ({"extra_units": [999999]}, ["extra_units"]),
        ({"sectors": ["mining"]}, ["sectors"]),
        ({"template": 999999}, ["template"]),
        ({"valid_until": "2030-06-30T08:00:00+08:00"}, ["valid_until"]),
        ({"valid_from": "2030-07-01T08:00:00"}, ["valid_from"]),  # no offset
        ({"colour": "red"}, ["colour"]),  # unknown field
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(world, units, as_, change, fields):
    duty = as_("duty")
    before = state()
    response = duty.post("", body(**change))
    assert response.status_code == 422, response.json()
    assert error_fields(response) == fields
    assert state() == before


def test_bad_acts_are_refused_and_change_nothing(world, units, as_):
    alert = issued(world)
    pending = services.issue(draft(world, level="red"), by=world.duty)
    duty = as_("duty")
    rid = recipient(alert, units["T1"]).pk
    before = state()
    assert error_fields(duty.post(f"/{alert.pk}/cancel")) == ["status"]
    assert error_fields(duty.post(f"/{alert.pk}/issue")) == ["status"]
    response = duty.post(f"/{alert.pk}/recipients/{rid}/ack", {"method": "phone", "name": ""})
    assert response.status_code == 422 and error_fields(response) == ["name"]
    response = duty.post(f"/{alert.pk}/recipients/{rid}/ack", {"method": "carrier pigeon"})
    assert response.status_code == 422 and error_fields(response) == ["method"]
    assert duty.post(f"/{alert.pk}/recipients/999999/ack", {"method": "phone"}).status_code == 404
    response = as_("leader").post(f"/{pending.pk}/reject", {"reason": ""})
    assert error_fields(response) == ["reason"]
    assert state() == before
    assert Alert.objects.get(pk=pending.pk).status == "pending_approval"


# -- reading and scopes ---------------------------------------------------------------------------
def test_the_list_filters(world, units, as_):
    yellow = issued(world)
    red = draft(world, level="red")
    duty = as_("duty")

    def ids(**params):
        return [a["id"] for a in duty.get("", **params).json()["items"]]

    assert set(ids()) == {yellow.pk, red.pk}
    assert ids(level="red") == [red.pk]
    assert ids(status="issued") == [yellow.pk]
    assert ids(level="purple") == []
    assert ids(end="2001-01-01") == []
    item = next(a for a in duty.get().json()["items"] if a["id"] == yellow.pk)
    assert (item["units"], item["acknowledged"], item["regions"]) == (4, 0, ["T1", "T2"])


def test_the_list_takes_the_same_queries_for_few_and_many(world, units, as_):
    duty = as_("duty")
    issued(world)
    duty.get()
    few = count_queries(lambda: duty.get())
    for i in range(6):
        issued(world, headline=f"预警{i}")
    # session, user, count, the page's alerts with their counts, their regions
    assert few == count_queries(lambda: duty.get())


def test_the_detail_takes_the_same_queries_for_few_and_many_units(world, units, as_):
    duty = as_("duty")
    small = issued(world, regions=[world.town2])
    more_villages(world, units, 10)
    big = issued(world, regions=[world.town1])
    services.escalate_due(later(31))
    duty.get(f"/{small.pk}")
    assert count_queries(lambda: duty.get(f"/{small.pk}")) == count_queries(
        lambda: duty.get(f"/{big.pk}")
    )


@pytest.mark.parametrize("role", ROLES)
def test_reading_follows_the_scope(world, units, as_, role):
    to_t1 = issued(world, regions=[world.town1])
    to_v2 = issued(world, regions=[world.village2])
    api = as_(role)
    response = api.get()
    if role not in VIEW:
        assert response.status_code == 403
        assert api.get(f"/{to_t1.pk}").status_code == 403
        return
    listed = {a["id"] for a in response.json()["items"]}
    expected = {"town": {to_t1.pk}, "village": {to_v2.pk}}.get(role, {to_t1.pk, to_v2.pk})
    assert listed == expected
    for alert in (to_t1, to_v2):
        response = api.get(f"/{alert.pk}")
        assert response.status_code == (200 if alert.pk in expected else 404)
    if role == "town":
        detail = api.get(f"/{to_t1.pk}").json()
        assert sorted(r["unit"]["region"] for r in detail["recipients"]) == ["T1", "V1"]


def test_a_visitor_without_credentials_is_refused(world, units):
    alert = issued(world)
    assert Client().get(BASE).status_code == 401
    assert Client().get(f"{BASE}/{alert.pk}").status_code == 401
    assert Client().post(f"{BASE}/{alert.pk}/lift").status_code == 401


def _acts() -> list[tuple[str, str, dict, set]]:
    """(act, the alert's state it needs, body, roles allowed)."""
    return [
        ("issue", "draft", {}, ISSUE),
        ("cancel", "draft", {}, ISSUE),
        ("approve", "pending", {}, {"leader"}),
        ("reject", "pending", {"reason": "范围不对"}, {"leader"}),
        ("lift", "issued", {}, ISSUE),
        ("phone", "issued", {"method": "phone", "name": "T1-duty"}, {"leader", "duty"}),
        ("app", "issued", {"method": "app"}, {"town"}),
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("act", [a[0] for a in _acts()])
def test_each_act_is_for_its_roles_only(world, units, as_, role, act):
    _name, status, data, allowed = next(a for a in _acts() if a[0] == act)
    if status == "draft":
        alert = draft(world, regions=[world.town1])
    elif status == "pending":
        alert = services.issue(draft(world, level="red", regions=[world.town1]), by=world.duty)
    else:
        alert = issued(world, regions=[world.town1])
    url = f"/{alert.pk}/{act}"
    if act in ("phone", "app"):
        url = f"/{alert.pk}/recipients/{recipient(alert, units['T1']).pk}/ack"
    before = state()
    response = as_(role).post(url, data)
    if role in allowed:
        assert response.status_code == 200, response.json()
        return
    # Roles that may act but do not see this alert (V2's officer, or a town for a draft)
    # get 404; the rest 403 before the alert is looked at.
    may_act = {
        "issue": ISSUE,
        "cancel": ISSUE,
        "approve": {"leader"},
        "reject": {"leader"},
        "lift": ISSUE,
        "phone": {"leader", "duty"},
        "app": {"leader", "duty", "town", "village"},
    }[act]
    sees = VIEW - {"village"} - ({"town"} if status != "issued" else set())
    expected = 403 if role not in may_act or role in sees else 404
    assert response.status_code == expected, (act, role, response.json())
    assert state() == before


def test_the_link_token_never_shows_in_the_api(world, units, as_):
    alert = issued(world)
    token = first_call(alert, units["T1"]).token
    assert token not in as_("duty").get(f"/{alert.pk}").content.decode()
