import pytest

from conftest import make_uscc
from yingji.core.models import AuditEntry
from yingji.core.services import create_api_token, revoke_api_token
from yingji.enterprises.models import Enterprise


@pytest.fixture
def api(world, client):
    _token, key = create_api_token(world.inspector, "integration", by=world.admin)

    class Api:
        def get(self, url, **kw):
            return client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}", **kw)

        def post(self, url, data):
            return client.post(
                url, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
            )

        def patch(self, url, data):
            return client.patch(
                url, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
            )

    api = Api()
    api.key = key
    return api


def test_it_lists_and_filters_like_the_page(api, world):
    body = api.get("/api/v1/enterprises?sector=hazardous_chemicals").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["ref"] == "E-B" and item["region_ref"] == "V2"
    assert api.get("/api/v1/enterprises?feature=dust_explosion").json()["items"][0]["features"] == [
        "dust_explosion"
    ]
    assert api.get("/api/v1/enterprises?region=T2").json()["count"] == 1
    assert api.get("/api/v1/enterprises?region=NOPE").json()["count"] == 0


def test_it_creates_with_the_same_validation_as_the_form(api, world):
    good = {
        "name": "青海丁物流有限公司",
        "uscc": make_uscc(7),
        "sector": "other",
        "region": "V1",
        "features": ["confined_space"],
    }
    response = api.post("/api/v1/enterprises", good)
    assert response.status_code == 201
    ent = Enterprise.objects.get(uscc=make_uscc(7))
    assert ent.feature_list == ["confined_space"]
    assert AuditEntry.objects.filter(target_id=str(ent.pk), actor=world.inspector).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"uscc": make_uscc(8)[:17] + "X"}, "uscc"),
        ({"uscc": make_uscc(1)}, "uscc"),
        ({"region": "NOWHERE"}, "region"),
        ({"region": "630103"}, "region"),
        ({"sector": "mining"}, "sector"),
        ({"features": ["flying"]}, "features"),
        ({"contact_phone": "x"}, "contact_phone"),
    ],
)
def test_bad_input_gets_field_errors_and_writes_nothing(api, world, change, field):
    payload = {"name": "青海戊有限公司", "uscc": make_uscc(8), "sector": "other", "region": "V1"}
    payload.update(change)
    before = (Enterprise.objects.count(), AuditEntry.objects.count())
    response = api.post("/api/v1/enterprises", payload)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert (Enterprise.objects.count(), AuditEntry.objects.count()) == before


def test_unknown_fields_are_refused(api):
    response = api.post("/api/v1/enterprises", {"name": "x", "colour": "red"})
    assert response.status_code == 422
    assert Enterprise.objects.count() == 2


def test_patch_changes_only_the_given_fields(api, world):
    response = api.patch(f"/api/v1/enterprises/{world.ent_a.pk}", {"risk_grade": "orange"})
    assert response.status_code == 200
    world.ent_a.refresh_from_db()
    assert (world.ent_a.risk_grade, world.ent_a.features) == ("orange", ",dust_explosion,")


def test_revoked_tokens_stop_working(api, world):
    assert api.get("/api/v1/me").json()["username"] == "inspector"
    revoke_api_token(api.key[3:11], by=world.admin)
    assert api.get("/api/v1/me").status_code == 401


def test_the_browser_session_needs_csrf_for_writes(world, client):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world.inspector)
    response = csrf_client.post(
        "/api/v1/enterprises", {"name": "x"}, content_type="application/json"
    )
    assert response.status_code in (401, 403)
    assert csrf_client.get("/api/v1/enterprises").status_code == 200


def test_openapi_schema_and_docs_are_published(client, world):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/enterprises" in schema["paths"]
    assert "/api/v1/regions" in schema["paths"]
    client.force_login(world.leader)
    assert client.get("/api/v1/docs").status_code == 200
