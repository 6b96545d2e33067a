"""The demo's warnings and roll-calls: the report's 2025 figures, stable from day to day, and
records the importer takes."""

import datetime
import json
from collections import Counter

import pytest

import yingji.alerts.interchange  # noqa: F401  (registers `alert` and `rollcall`)
from yingji.alerts.models import Alert, Recipient, RollCall
from yingji.core.interchange import import_file
from yingji.demo import alerts, district

TZ = alerts.TZ
NOW = datetime.datetime(2026, 11, 29, 9, 30, tzinfo=TZ)


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return alerts.records(2025, NOW)


def of_year(records, year: int, type_: str = "alert") -> list[dict]:
    field = "issued_at" if type_ == "alert" else "held_at"
    return [r for r in records if r["type"] == type_ and r[field].startswith(str(year))]


def test_2025_has_the_reports_figures(records):
    kinds = Counter(r["kind"] for r in of_year(records, 2025))
    assert kinds == {"weather_forward": 412, "warning": 300, "bulletin": 23, "station_message": 156}


def test_warnings_reach_every_town_and_village_and_forwards_the_towns(records):
    towns, villages = alerts._regions()
    assert (len(towns), len(villages)) == (8, 61)
    for r in of_year(records, 2025):
        expected = sorted(towns + villages) if r["kind"] in ("warning", "bulletin") else towns
        assert r["recipients"] == expected


def test_the_flood_season_is_the_busiest(records):
    warnings = of_year(records, 2025)
    summer = [r for r in warnings if r["issued_at"][5:7] in ("06", "07", "08", "09")]
    assert len(summer) > 0.45 * len(warnings)


def test_nearly_every_unit_acknowledges_within_minutes(records):
    delays, units = [], 0
    for r in of_year(records, 2025):
        issued = datetime.datetime.fromisoformat(r["issued_at"])
        units += len(r["recipients"])
        for ack in r.get("acks", ()):
            ref, at = ack.rsplit("@", 1)
            assert ref in r["recipients"]
            delays.append((datetime.datetime.fromisoformat(at) - issued).total_seconds() / 60)
    assert 0.997 < len(delays) / units < 1
    assert sum(d <= 6 for d in delays) > 0.85 * len(delays)
    assert any(d > 20 for d in delays)  # a few late ones, called up the ladder


def test_roll_calls_reach_all_towns_and_villages_in_2025(records):
    calls = of_year(records, 2025, "rollcall")
    reached = {ref for r in calls for ref in r["responded"]}
    towns, villages = alerts._regions()
    assert reached == set(towns) | set(villages)
    assert any(set(r["targets"]) - set(r["responded"]) for r in calls)  # some missed
    red = {r["ref"] for r in of_year(records, 2025) if r.get("level") == "red"}
    assert {r["alert"] for r in calls if "alert" in r} == red


def test_a_later_day_only_adds_and_moves_on(records):
    later = {r["ref"]: r for r in alerts.records(2025, NOW + datetime.timedelta(days=20))}
    settled = NOW - datetime.timedelta(days=3)
    for r in records:
        when = datetime.datetime.fromisoformat(r.get("issued_at") or r["held_at"])
        assert r["ref"] in later
        if when < settled:
            assert later[r["ref"]] == r
    assert len(later) > len(records)


def test_nothing_is_issued_today_or_later(records):
    for r in records:
        when = datetime.datetime.fromisoformat(r.get("issued_at") or r["held_at"])
        assert when < NOW
        for ack in r.get("acks", ()):
            assert datetime.datetime.fromisoformat(ack.rsplit("@", 1)[1]) < NOW


def test_the_importer_takes_the_records(db, tmp_path, records):
    """The district's regions and a month of 2025's alerts and roll-calls."""
    july = [r for r in records if (r.get("issued_at") or r["held_at"]).startswith("2025-07")]
    path = tmp_path / "alerts.jsonl"
    lines = [*district.regions(), *july]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), "utf-8")
    result = import_file(path, actor=None)
    assert result.created == len(lines)
    assert Alert.objects.count() == len([r for r in july if r["type"] == "alert"])
    assert RollCall.objects.count() == len([r for r in july if r["type"] == "rollcall"])
    acks = sum(len(r.get("acks", ())) for r in july)
    assert Recipient.objects.filter(ack_method="import").count() == acks
