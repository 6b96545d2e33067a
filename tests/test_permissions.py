"""The role × page/API/export/file matrix: every role, allowed and denied, on the server."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_uscc
from yingji.core.attachments import attach
from yingji.core.services import create_api_token

ROLES = [
    "leader",
    "inspector",
    "duty",
    "legal",
    "town",
    "village",
    "ent_a",
    "ent_b",
    "expert",
    "admin",
]
STAFF = {"leader", "inspector", "duty", "legal", "admin"}
SEES_A = STAFF | {"town", "ent_a"}  # ent_a lies in town 1 / village 1
SEES_B = STAFF | {"village", "ent_b"}  # ent_b lies in town 2 / village 2
EDITORS = {"leader", "inspector", "admin", "town"}
EXPORTERS = STAFF | {"town", "village"}

# (name, method, url, roles allowed, status for the others)
PAGES = [
    ("home", "get", "/", set(ROLES), None),
    ("list", "get", "/enterprises/", set(ROLES), None),
    ("detail A", "get", "/enterprises/{a}/", SEES_A, 404),
    ("detail B", "get", "/enterprises/{b}/", SEES_B, 404),
    ("create form", "get", "/enterprises/new/", EDITORS, 403),
    ("edit A", "get", "/enterprises/{a}/edit/", EDITORS, {"town": 200, "*": 403}),
    ("edit B", "get", "/enterprises/{b}/edit/", EDITORS - {"town"}, {"town": 404, "*": 403}),
    ("export jsonl", "get", "/enterprises/export.jsonl", EXPORTERS, 403),
    ("export xlsx", "get", "/enterprises/export.xlsx", EXPORTERS, 403),
    ("regions", "get", "/regions/", set(ROLES) - {"ent_a", "ent_b", "expert"}, 403),
    ("audit log", "get", "/audit/", {"leader", "admin", "legal"}, 403),
    ("import page", "get", "/imports/", {"leader", "inspector", "admin"}, 403),
    ("file of A", "get", "/files/{file_a}/", SEES_A, 404),
    ("api list", "get", "/api/v1/enterprises", set(ROLES), None),
    ("api detail A", "get", "/api/v1/enterprises/{a}", SEES_A, 404),
    ("api detail B", "get", "/api/v1/enterprises/{b}", SEES_B, 404),
    ("api regions", "get", "/api/v1/regions", set(ROLES), None),
    ("api me", "get", "/api/v1/me", set(ROLES), None),
]


@pytest.fixture
def ids(world):
    att = attach(world.ent_a, SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"), by=world.leader)
    return {"a": world.ent_a.pk, "b": world.ent_b.pk, "file_a": att.pk}


def _expected_denied(denied, role):
    if isinstance(denied, dict):
        return denied.get(role, denied["*"])
    return denied


@pytest.mark.parametrize("role", ROLES)
def test_pages_and_api_follow_the_role_scopes(world, ids, client, role):
    client.force_login(world.users[role])
    failures = []
    for name, method, url, allowed, denied in PAGES:
        response = getattr(client, method)(url.format(**ids))
        expected = 200 if role in allowed else _expected_denied(denied, role)
        if response.status_code != expected:
            failures.append(f"{name}: {response.status_code} != {expected}")
    assert failures == []


@pytest.mark.parametrize(
    ("name", "url"),
    [(n, u) for n, _m, u, _a, _d in PAGES if not u.startswith("/api/")],
)
def test_anonymous_visitors_are_sent_to_login(world, ids, client, name, url):
    response = client.get(url.format(**ids))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", [u for _n, _m, u, _a, _d in PAGES if u.startswith("/api/")])
def test_anonymous_api_calls_are_refused(world, ids, client, url):
    assert client.get(url.format(**ids)).status_code == 401


VISIBLE = {
    "leader": {"E-A", "E-B"},
    "inspector": {"E-A", "E-B"},
    "duty": {"E-A", "E-B"},
    "legal": {"E-A", "E-B"},
    "admin": {"E-A", "E-B"},
    "town": {"E-A"},
    "village": {"E-B"},
    "ent_a": {"E-A"},
    "ent_b": {"E-B"},
    "expert": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_lists_exports_and_api_hold_only_the_scope(world, client, role):
    client.force_login(world.users[role])
    page = client.get("/enterprises/?status=all")
    assert {e.ref for e in page.context["page"]} == VISIBLE[role]
    api = client.get("/api/v1/enterprises?status=all").json()
    assert {e["ref"] for e in api["items"]} == VISIBLE[role]
    assert api["count"] == len(VISIBLE[role])
    if role in EXPORTERS:
        body = b"".join(client.get("/enterprises/export.jsonl?status=all").streaming_content)
        assert {json.loads(line)["ref"] for line in body.splitlines()} == VISIBLE[role]


@pytest.mark.parametrize("role", ROLES)
def test_only_editors_change_enterprises_through_the_api(world, client, role):
    user = world.users[role]
    _token, key = create_api_token(user, "matrix", by=None)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    payload = {"name": "新企业", "uscc": make_uscc(50), "sector": "other", "region": "V1"}
    created = client.post(
        "/api/v1/enterprises", payload, content_type="application/json", **headers
    )
    patched = client.patch(
        f"/api/v1/enterprises/{world.ent_a.pk}",
        {"address": "新址"},
        content_type="application/json",
        **headers,
    )
    if role in EDITORS:
        assert (created.status_code, patched.status_code) == (201, 200)
    else:
        assert created.status_code == 403
        # Outside the scope the record does not exist at all for the caller.
        assert patched.status_code == (404 if role not in SEES_A else 403)


def test_a_town_officer_cannot_create_outside_the_town_through_the_api(world, client):
    _token, key = create_api_token(world.town_officer, "t", by=None)
    response = client.post(
        "/api/v1/enterprises",
        {"name": "外镇企业", "uscc": make_uscc(51), "sector": "other", "region": "V2"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["region"]
