"""Scope of list counts, who may import alerts, what counts as current, and input that once
answered 500: each case found in review and pinned here."""

import json
from pathlib import Path

import pytest
from django.test import Client

from yingji.alerts import services
from yingji.alerts.models import Alert, IngestEvent
from yingji.alerts.tests.helpers_web import issued, recipient
from yingji.core.interchange import ImportFailed, import_file
from yingji.core.services import create_api_token

SAMPLE = (Path(__file__).parent / "data" / "rainstorm_orange.xml").read_bytes()
OLD = {
    "type": "alert",
    "ref": "YJ-2024-0001",
    "kind": "weather_forward",
    "issued_at": "2024-08-02T09:00:00+08:00",
    "title": "转发:2024年天气预报",
    "recipients": ["T1", "T2"],
    "acks": ["T1@2024-08-02T09:04:00+08:00"],
}


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def _token_client(world) -> Client:
    _t, key = create_api_token(world.duty, "hub", by=world.admin)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}", raise_request_exception=False)


# -- a town's list counts its own units only -----------------------------------------------------
def test_the_api_list_counts_only_the_units_in_scope(world, units, login):
    alert = issued(world)  # T1, T2 and their villages: 4 units
    services.acknowledge_in_app(recipient(alert, units["V2"]), by=world.village_officer)
    client = login(world.town_officer)
    row = client.get("/api/v1/alerts").json()["items"][0]
    detail = client.get(f"/api/v1/alerts/{alert.pk}").json()
    assert detail["units"] == 2
    assert (row["units"], row["acknowledged"]) == (2, 0)
    assert login(world.duty).get("/api/v1/alerts").json()["items"][0]["units"] == 4


def test_the_web_list_counts_only_the_units_in_scope(world, units, login):
    alert = issued(world)
    services.acknowledge_in_app(recipient(alert, units["V2"]), by=world.village_officer)
    html = login(world.town_officer).get("/alerts/").content.decode()
    assert "1 / 4" not in html and "0 / 2" in html


# -- imports ---------------------------------------------------------------------------------
def test_an_imported_item_without_an_end_is_history_not_current(world, units, tmp_path):
    import_file(_write(tmp_path / "a.jsonl", [OLD]), actor=world.admin)
    assert Alert.objects.filter(ref=OLD["ref"], status="issued").exists()
    assert not Alert.objects.current().exists()


def test_only_those_who_issue_alerts_may_import_them(world, units, tmp_path):
    assert not world.inspector.can("alert.issue")
    red = {
        "type": "alert",
        "ref": "X-RED",
        "kind": "warning",
        "level": "red",
        "issued_at": "2026-01-01T09:00:00+08:00",
        "title": "红色预警",
        "recipients": ["T1"],
    }
    with pytest.raises(ImportFailed) as failed:
        import_file(_write(tmp_path / "b.jsonl", [red]), actor=world.inspector)
    assert [p.field for p in failed.value.errors] == ["type"]
    assert not Alert.objects.exists()
    import_file(_write(tmp_path / "b.jsonl", [red]), actor=world.duty)
    assert Alert.objects.filter(ref="X-RED").exists()


def test_only_those_who_hold_roll_calls_may_import_them(world, units, tmp_path):
    call = {
        "type": "rollcall",
        "ref": "R-1",
        "held_at": "2025-07-01T09:00:00+08:00",
        "targets": ["T1"],
    }
    with pytest.raises(ImportFailed):
        import_file(_write(tmp_path / "r.jsonl", [call]), actor=world.inspector)


# -- bad input is a 422, not a 500 -----------------------------------------------------------
@pytest.mark.parametrize("effective", ["2025-07-12T24:00:00+08:00", "0001-01-01T00:00:00+08:00"])
def test_cap_times_the_schema_allows_but_nobody_means_are_refused(world, units, effective):
    body = SAMPLE.replace(
        b"<effective>2025-07-12T08:30:00+08:00</effective>",
        f"<effective>{effective}</effective>".encode(),
    ).replace(b"2025-07-13T08:30:00+08:00", b"2099-07-13T08:30:00+08:00")
    response = _token_client(world).post("/api/v1/alerts/cap", body, "application/xml")
    assert response.status_code == 422, response.content
    assert not Alert.objects.exists()


def test_an_ingest_time_out_of_range_is_refused(world, units):
    event = {
        "source": "ff",
        "event_id": "1",
        "hazard_type": "flash_flood",
        "region": "T1",
        "observed_at": "9999-12-31T23:00:00-08:00",
    }
    response = _token_client(world).post("/api/v1/alerts/ingest", event, "application/json")
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == ["observed_at"]
    assert not IngestEvent.objects.exists()


def test_a_validity_out_of_range_is_refused(world, units):
    draft = {
        "headline": "暴雨蓝色预警",
        "kind": "warning",
        "level": "blue",
        "regions": ["T1"],
        "valid_until": "9999-12-31T23:00:00-08:00",
    }
    response = _token_client(world).post("/api/v1/alerts", draft, "application/json")
    assert response.status_code == 422, response.content
    assert not Alert.objects.exists()


def test_text_with_a_nul_character_is_refused(world, units):
    event = {
        "source": "ff",
        "event_id": "2",
        "hazard_type": "flash_flood",
        "region": "T1",
        "observed_at": "2025-07-01T08:00:00+08:00",
        "message": "a\u0000b",
    }
    response = _token_client(world).post("/api/v1/alerts/ingest", event, "application/json")
    assert response.status_code == 422, response.content
    assert not IngestEvent.objects.exists()
