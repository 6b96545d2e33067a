"""Who may open which alert page and do which act: every role, allowed and denied.

Scopes: district-wide staff see every alert; a town or village officer sees the alerts
addressed to a unit of their area (others are 404); enterprise users and experts have no
alert pages (403); a visitor without a session is sent to log in.
"""

import pytest
from django.test import Client

from yingji.alerts import services
from yingji.alerts.models import Alert
from yingji.alerts.tests.helpers_web import draft, issued, recipient, state

ROLES = ["leader", "inspector", "duty", "legal", "admin", "town", "village"]
ROLES += ["ent_a", "ent_b", "expert", "anon"]
DISTRICT = {"leader", "inspector", "duty", "legal", "admin"}
VIEW = DISTRICT | {"town", "village"}
ISSUE = {"leader", "duty", "admin"}
ACK = {"leader", "duty", "town", "village"}
UNITS = {"leader", "duty", "admin"}


def client_for(world, role) -> Client:
    client = Client()
    if role != "anon":
        client.force_login(world.users[role])
    return client


def expect(role: str, allowed: set, *, hidden: set = frozenset(), ok: int = 200) -> int:
    """The answer a role should get: ok; 404 outside its scope; 403 without the capability;
    a redirect to the login page for a visitor."""
    if role == "anon":
        return 302
    if role in allowed:
        return 404 if role in hidden else ok
    return 403


@pytest.fixture
def town1_alert(world, units) -> Alert:
    """An issued warning to town 1 only (T1 and V1): the village officer of V2 is outside."""
    return issued(world, regions=[world.town1])


@pytest.mark.parametrize("role", ROLES)
def test_pages_follow_the_roles(world, units, town1_alert, role):
    client = client_for(world, role)
    a = town1_alert.pk
    t1, t2, v2 = units["T1"].pk, units["T2"].pk, units["V2"].pk
    pages = [
        ("/alerts/", VIEW, set()),
        ("/alerts/new/", ISSUE, set()),
        (f"/alerts/{a}/", VIEW, {"village"}),
        (f"/alerts/{a}/board/", VIEW, {"village"}),
        ("/alerts/mine/", ACK, set()),
        ("/alerts/units/", VIEW, set()),
        ("/alerts/units/stats/", VIEW, set()),
        (f"/alerts/units/{t1}/", VIEW, {"village"}),
        (f"/alerts/units/{t2}/", VIEW, {"town", "village"}),
        (f"/alerts/units/{v2}/", VIEW, {"town"}),
    ]
    for url, allowed, hidden in pages:
        response = client.get(url)
        assert response.status_code == expect(role, allowed, hidden=hidden), url
        if role == "anon":
            assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ROLES)
def test_the_list_shows_a_town_only_the_alerts_of_its_area(world, units, role):
    to_t1 = issued(world, regions=[world.town1], headline="一号")
    to_v2 = issued(world, regions=[world.village2], headline="二号")
    unsent = draft(world, headline="草稿")
    response = client_for(world, role).get("/alerts/")
    if role not in VIEW:
        return
    listed = {a.pk for a in response.context["page"]}
    expected = {
        "town": {to_t1.pk},
        "village": {to_v2.pk},
    }.get(role, {to_t1.pk, to_v2.pk, unsent.pk})
    assert listed == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_draft_edit_page_is_for_issuers(world, units, role):
    alert = draft(world)
    response = client_for(world, role).get(f"/alerts/{alert.pk}/edit/")
    # A draft is addressed to nobody yet: outside every town's scope.
    assert response.status_code == expect(role, ISSUE)


def _acts(world, units) -> list[tuple[str, dict, set, str]]:
    """(act, post data, roles allowed, the alert's state it needs)."""
    return [
        ("issue", {}, ISSUE, "draft"),
        ("cancel", {}, ISSUE, "draft"),
        ("approve", {}, {"leader"}, "pending"),
        ("reject", {"reason": "不同意"}, {"leader"}, "pending"),
        ("lift", {}, ISSUE, "issued"),
        ("phone", {"name": "T1-duty"}, {"leader", "duty"}, "issued"),
        # In the app only for someone who answers for the unit: T1's officer (leaders and
        # the duty officer may open the act, but are no contact of T1: refused).
        ("ack", {}, {"town"}, "issued"),
    ]


def _alert_in(world, status: str) -> Alert:
    if status == "draft":
        return draft(world, regions=[world.town1])
    if status == "pending":
        return services.issue(draft(world, level="red", regions=[world.town1]), by=world.duty)
    return issued(world, regions=[world.town1])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("act", ["issue", "cancel", "approve", "reject", "lift", "phone", "ack"])
def test_each_act_is_for_its_roles_only(world, units, role, act):
    _name, data, allowed, status = next(a for a in _acts(world, units) if a[0] == act)
    alert = _alert_in(world, status)
    data = dict(data)
    if act in ("phone", "ack"):
        data["recipient"] = recipient(alert, units["T1"]).pk
    # The village officer (V2) is outside town 1's alert; so is everyone for a draft.
    hidden = {"village"} | ({"town"} if status != "issued" else set())
    before = state()
    response = client_for(world, role).post(f"/alerts/{alert.pk}/{act}/", data)
    code = expect(role, allowed | (hidden & VIEW), hidden=hidden, ok=302)
    if role in hidden and role not in allowed:
        code = 404  # outside the scope, the capability is not even asked
    assert response.status_code == code, (act, role, response.status_code)
    if code != 302:
        assert state() == before


def test_a_get_on_an_act_is_refused(world, units, login):
    alert = draft(world)
    assert login(world.duty).get(f"/alerts/{alert.pk}/issue/").status_code == 405
    assert login(world.duty).post(f"/alerts/{alert.pk}/explode/").status_code == 404
    alert.refresh_from_db()
    assert alert.status == "draft"


@pytest.mark.parametrize("role", ROLES)
def test_writing_a_warning_is_for_issuers(world, units, role):
    before = state()
    data = {
        "kind": "warning",
        "level": "yellow",
        "headline": "大风蓝色预警",
        "regions": [world.town1.pk],
        "then": "issue",
    }
    response = client_for(world, role).post("/alerts/new/", data)
    if role in ISSUE:
        assert response.status_code == 302
        assert Alert.objects.get().status == "issued"
    else:
        assert response.status_code == (302 if role == "anon" else 403)
        assert state() == before


@pytest.mark.parametrize("role", ROLES)
def test_editing_units_is_for_the_duty_office(world, units, role):
    """Viewers may read their area's units; only leader, duty officer and admin change them."""
    before = state()
    t1 = units["T1"]
    client = client_for(world, role)
    response = client.post(
        f"/alerts/units/{t1.pk}/",
        {"action": "add", "role": "other", "name": "新联系人", "phone": "13900009999"},
    )
    # V2's officer does not see town 1's unit; other viewers see it but may not change it.
    code = {"anon": 302, "village": 404}.get(role, 302 if role in UNITS else 403)
    assert response.status_code == code
    if role in UNITS:
        assert t1.contacts.filter(name="新联系人").exists()
    else:
        assert state() == before
    response = client.post("/alerts/units/", {"name": "救援队", "kind": "team"})
    if role not in UNITS:
        assert response.status_code == expect(role, set())
        assert not t1.__class__.objects.filter(name="救援队").exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_ack_link_needs_no_account_whoever_opens_it(world, units, role):
    alert = issued(world, regions=[world.town1])
    call = alert.recipients.get(unit=units["V1"]).calls.first()
    client = client_for(world, role)
    assert client.get(f"/alerts/a/{call.token}/").status_code == 200
    assert client.post(f"/alerts/a/{call.token}/").status_code == 200
    r = recipient(alert, units["V1"])
    # The link acknowledges in the called person's name, never the browser's user.
    assert (r.ack_method, r.ack_name, r.ack_user) == ("link", "V1-duty", None)
