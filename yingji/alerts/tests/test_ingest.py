"""Monitoring platforms' events (POST /api/v1/alerts/ingest): stored once per source and event
id, drafts opened from templates, field errors that write nothing, tokens and capabilities."""

import pytest
from django.test import Client
from django.utils import translation

from yingji.alerts.models import Alert, AlertTemplate, IngestEvent
from yingji.alerts.tests.test_cap import INGEST, ROLES, token_client
from yingji.core.models import AuditEntry, Notification

URL = "/api/v1/alerts/ingest"


def event(**change) -> dict:
    body = {
        "source": "flash-flood-monitoring",
        "event_id": "SH-20250712-0042",
        "hazard_type": "flash_flood",
        "level": "orange",
        "region": "T1",
        "observed_at": "2025-07-12T08:42:00+08:00",
        "message": "人民街街道红沟水位站水位 2.35 米,超警戒 0.35 米",
        "station": "红沟水位站",
        "water_level_m": 2.35,
    }
    body.update(change)
    return {k: v for k, v in body.items() if v is not None}


def post(client, body):
    return client.post(URL, body, content_type="application/json")


def state() -> tuple:
    return (
        list(IngestEvent.objects.order_by("pk").values()),
        list(Alert.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
        Notification.objects.count(),
    )


def error_fields(response) -> list[str]:
    """Field names of a 422: ours ({"errors": {field: …}}) or the schema's."""
    body = response.json()
    if "errors" in body:
        return sorted(body["errors"])
    return sorted({str(e["loc"][-1]) for e in body["detail"]})


@pytest.fixture
def platform(world):
    return token_client(world, "duty")


@pytest.fixture
def template(db):
    return AlertTemplate.objects.create(
        name="山洪灾害橙色预警",
        hazard_type="flash_flood",
        level="orange",
        headline="城中区山洪灾害橙色预警",
        body="受持续强降雨影响,沟道水位快速上涨,发生山洪灾害的可能性大。",
        instructions="沟道两侧群众立即向高处转移。",
        valid_hours=12,
    )


def test_an_event_is_stored_once_and_a_retry_returns_it(world, units, platform):
    first = post(platform, event())
    assert first.status_code == 201, first.content
    body = first.json()
    stored = IngestEvent.objects.get()
    assert body["id"] == stored.pk
    assert (body["source"], body["event_id"], body["region"]) == (
        "flash-flood-monitoring",
        "SH-20250712-0042",
        "T1",
    )
    assert body["observed_at"].startswith("2025-07-12T00:42:00")  # stored in UTC
    assert body["alert"] is None  # no template, no request for a draft
    assert stored.payload["station"] == "红沟水位站"  # what the platform added is kept
    assert stored.payload["water_level_m"] == 2.35
    assert AuditEntry.objects.filter(target_id=str(stored.pk), action="create").exists()
    before = state()
    retry = post(platform, event(message="重发", level="red"))
    assert retry.status_code == 200
    assert retry.json() == body
    assert state() == before


def test_a_matching_template_opens_a_draft_for_the_events_region(world, units, platform, template):
    response = post(platform, event(region="V1"))
    assert response.status_code == 201, response.content
    alert = Alert.objects.get()
    link = response.json()["alert"]
    assert link == {
        "id": alert.pk,
        "ref": alert.ref,
        "status": "draft",
        "url": f"http://127.0.0.1:8000/alerts/{alert.pk}/",
    }
    assert IngestEvent.objects.get().alert == alert
    assert (alert.template, alert.headline, alert.level) == (template, template.headline, "orange")
    assert (alert.source, alert.source_id, alert.sender) == (
        "ingest",
        "flash-flood-monitoring:SH-20250712-0042",
        "flash-flood-monitoring",
    )
    assert list(alert.regions.all()) == [world.village1]
    assert alert.created_by == world.duty
    assert not alert.recipients.exists()  # a person reviews and issues it
    again = post(platform, event(region="V1"))
    assert (again.status_code, again.json()["alert"]) == (200, link)
    assert Alert.objects.count() == 1


def test_a_template_of_another_level_does_not_match(world, units, platform, template):
    response = post(platform, event(level="blue"))
    assert response.json()["alert"] is None
    assert not Alert.objects.exists()


def test_a_template_without_a_level_fits_every_level(world, units, platform, template):
    template.level = ""
    template.kind = "bulletin"
    template.save()
    response = post(platform, event(level="red"))
    alert = Alert.objects.get(pk=response.json()["alert"]["id"])
    assert (alert.template, alert.level, alert.kind) == (template, "red", "bulletin")


def test_an_event_without_a_level_takes_the_templates(world, units, platform, template):
    response = post(platform, event(level=""))
    alert = Alert.objects.get(pk=response.json()["alert"]["id"])
    assert (alert.template, alert.level) == (template, "orange")


def test_a_template_the_services_refuse_keeps_the_event_without_a_draft(
    world, units, platform, template
):
    template.level = ""  # a warning template without a level: no draft can come of it
    template.save()
    with translation.override("en"):
        response = post(platform, event(level=""))
    assert response.status_code == 201, response.content
    assert response.json()["alert"] is None
    assert list(response.json()["draft_errors"]) == ["level"]
    assert IngestEvent.objects.get().alert is None
    assert not Alert.objects.exists()


def test_an_inactive_template_opens_nothing(world, units, platform, template):
    template.active = False
    template.save()
    assert post(platform, event()).json()["alert"] is None


def test_open_draft_asks_for_a_draft_without_a_template(world, units, platform):
    response = post(
        platform, event(open_draft=True, source="fire-camera", hazard_type="forest_fire")
    )
    assert response.status_code == 201, response.content
    alert = Alert.objects.get(pk=response.json()["alert"]["id"])
    assert (alert.kind, alert.hazard_type, alert.level, alert.template) == (
        "warning",
        "forest_fire",
        "orange",
        None,
    )
    assert alert.body == event()["message"]
    assert "fire-camera" in alert.headline and world.town1.name in alert.headline
    assert list(alert.regions.all()) == [world.town1]


def test_open_draft_without_a_level_opens_a_bulletin_to_complete(world, units, platform):
    response = post(platform, event(open_draft=True, level=None))
    alert = Alert.objects.get(pk=response.json()["alert"]["id"])
    assert (alert.kind, alert.level, alert.hazard_type) == ("bulletin", "", "flash_flood")


def test_open_draft_false_opens_nothing_even_with_a_template(world, units, platform, template):
    assert post(platform, event(open_draft=False)).json()["alert"] is None
    assert not Alert.objects.exists()


def test_the_region_may_be_given_by_its_administrative_code(world, units, platform):
    world.town2.code = "630103100"
    world.town2.save()
    response = post(platform, event(region="630103100", event_id=42))
    assert response.status_code == 201, response.content
    assert (response.json()["region"], response.json()["event_id"]) == ("T2", "42")


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"hazard_type": "tsunami"}, ["hazard_type"]),
        ({"level": "purple"}, ["level"]),
        ({"region": "X9"}, ["region"]),
        ({"hazard_type": "volcano", "region": "nowhere"}, ["hazard_type", "region"]),
        ({"source": " "}, ["source"]),
        ({"event_id": "x" * 129}, ["event_id"]),
        ({"observed_at": "2025-07-12T08:42:00"}, ["observed_at"]),  # no offset
        ({"observed_at": "yesterday"}, ["observed_at"]),
        ({"region": None}, ["region"]),
        ({"source": None}, ["source"]),
    ],
)
def test_bad_events_get_field_errors_and_write_nothing(
    world, units, platform, template, change, fields
):
    before = state()
    with translation.override("en"):
        response = post(platform, event(open_draft=True, **change))
    assert response.status_code == 422, response.content
    assert error_fields(response) == fields
    assert state() == before


def test_a_body_that_is_not_json_is_refused(world, platform):
    response = platform.post(URL, "<event/>", content_type="application/xml")
    assert response.status_code in (400, 422)
    assert not IngestEvent.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_posting_events_needs_alert_ingest(world, units, role):
    client = token_client(world, role)
    before = state()
    response = post(client, event(event_id=f"E-{role}"))
    if role in INGEST:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 403
        assert state() == before


def test_events_come_with_a_token_and_nothing_else(world, login):
    before = state()
    assert post(Client(), event()).status_code == 401
    assert post(login(world.duty), event()).status_code == 401  # a browser is not a platform
    assert post(Client(HTTP_AUTHORIZATION="Bearer yj_wrong"), event()).status_code == 401
    assert state() == before
