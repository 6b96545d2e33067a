"""The figures engine: every key, its period edges, its area, drill-down and series.

The dataset is written as interchange records and imported (as a bureau's ledgers would be),
on top of the test world: 630103 > T1 > V1, T2 > V2; E-A (industry and trade) in V1 and
E-B (hazardous chemicals) in V2. The expected numbers are worked out record by record in
the comments.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

import yingji.alerts.interchange  # noqa: F401  (registers `alert` and `rollcall`)
from conftest import make_uscc
from yingji.alerts.models import Alert
from yingji.core.interchange import import_file
from yingji.enforcement.models import Penalty, Referral
from yingji.stats import figures
from yingji.stats.figures import compute, missing, records, series

D = datetime.date
Y_START, Y_END = D(2025, 1, 1), D(2025, 12, 31)


def ent(ref, n, sector, region, **more):
    return {
        "type": "enterprise",
        "ref": ref,
        "name": f"测试企业{n}",
        "uscc": make_uscc(100 + n),
        "sector": sector,
        "region": region,
        **more,
    }


def insp(ref, enterprise, date, **more):
    return {"type": "inspection", "ref": ref, "enterprise": enterprise, "date": date,
            "mode": "routine", **more}  # fmt: skip


def haz(ref, enterprise, found_on, level="general", status="open", **more):
    return {"type": "hazard", "ref": ref, "enterprise": enterprise, "found_on": found_on,
            "level": level, "status": status, "description": "隐患", **more}  # fmt: skip


def act(ref, enterprise, kind, date, **more):
    record = {"type": "enforcement", "ref": ref, "enterprise": enterprise, "kind": kind,
              "date": date, **more}  # fmt: skip
    record.setdefault("basis", "《安全生产法》第九十九条")
    return record


def tip(ref, channel, received_on, status="received", **more):
    return {"type": "tip", "ref": ref, "channel": channel, "received_on": received_on,
            "content": "举报内容", "status": status, **more}  # fmt: skip


def alert(ref, kind, issued_at, recipients=(), acks=(), **more):
    record = {"type": "alert", "ref": ref, "kind": kind, "issued_at": issued_at,
              "title": f"{kind} {ref}", **more}  # fmt: skip
    if recipients:
        record["recipients"] = list(recipients)
    if acks:
        record["acks"] = list(acks)
    return record


def rollcall(ref, held_at, targets, responded=()):
    record = {"type": "rollcall", "ref": ref, "held_at": held_at, "targets": list(targets)}
    if responded:
        record["responded"] = list(responded)
    return record


RECORDS = [
    # Enterprises besides the world's E-A (IT, V1) and E-B (HC, V2).
    ent("E-C", 1, "industrial_trade", "T1"),  # in the town itself, not a village
    ent("E-G1", 2, "gas_station", "V1", standardized=True),
    ent("E-G2", 3, "gas_station", "V2"),
    ent("E-G3", 4, "gas_station", "V1", standardized=True, status="closed"),
    ent("E-H2", 5, "hazardous_chemicals", "V1"),
    ent("E-H3", 6, "hazardous_chemicals", "V1", status="closed"),
    # Inspections: in 2025 I1 I2 I5 I7 I8 (completed); I6 is only planned.
    insp("I1", "E-A", "2025-01-01"),
    insp("I2", "E-A", "2025-12-31"),
    insp("I3", "E-A", "2026-01-01"),
    insp("I4", "E-A", "2024-12-31"),
    insp("I5", "E-B", "2025-06-01"),
    insp("I6", "E-B", "2025-06-02", status="planned"),
    insp("I7", "E-C", "2025-03-03"),
    insp("I8", "E-H2", "2025-04-04"),
    # Hazards.
    haz("H1", "E-A", "2025-02-01", status="closed", closed_on="2025-02-10"),
    haz("H2", "E-A", "2025-11-01", status="closed", closed_on="2026-01-05", deadline="2025-11-30"),
    haz("H3", "E-B", "2025-12-31", deadline="2026-01-10"),
    haz("H4", "E-B", "2025-05-05", level="major", status="closed", closed_on="2025-06-01"),
    haz("H5", "E-A", "2025-07-07", level="major", deadline="2025-12-31"),
    haz("H6", "E-A", "2024-10-01", deadline="2024-12-01"),
    haz("H7", "E-A", "2024-10-01", status="closed", closed_on="2025-03-01", deadline="2024-12-01"),
    haz("H8", "E-A", "2026-01-01"),
    haz("H9", "E-C", "2025-08-08", status="closed", closed_on="2025-08-20"),
    haz("H10", "E-H2", "2025-09-09", status="submitted", deadline="2025-10-01"),
    haz("H11", "E-H2", "2025-09-10", status="closed", closed_on="2025-12-31"),
    # Enforcement.
    act("P1", "E-A", "penalty", "2025-03-01", amount="50000"),
    act("P2", "E-B", "penalty", "2025-12-31", amount="42750.50"),
    act("P3", "E-A", "penalty", "2026-01-01", amount="1000"),
    act("P4", "E-A", "penalty", "2024-12-31", amount="1000"),
    act("P5", "E-A", "penalty", "2025-05-05", amount="7000"),  # withdrawn below
    act("L1", "E-A", "supervision_letter", "2025-04-01"),
    act("L2", "E-B", "supervision_letter", "2025-01-01"),
    act("L3", "E-B", "supervision_letter", "2026-01-01"),
    act("V1", "E-A", "interview", "2025-02-02"),
    act("V2", "E-A", "interview", "2025-08-08"),
    act("V3", "E-B", "interview", "2025-10-10"),
    act("V4", "E-B", "interview", "2024-10-10"),
    act("R1", "E-B", "referral", "2025-06-06"),
    act("R2", "E-A", "referral", "2025-07-01"),  # withdrawn below
    # Tips.
    tip("T1", "hotline_12345", "2025-01-01", "closed", enterprise="E-A", closed_on="2025-01-10"),
    tip("T2", "hotline_12345", "2025-12-20", "closed", enterprise="E-B", closed_on="2026-01-05"),
    tip("T3", "hotline_12345", "2026-01-01"),
    tip("T4", "platform", "2025-03-01", "verified", enterprise="E-A", verified=True,
        reward_status="waived"),
    tip("T5", "phone", "2025-04-01", "closed", enterprise="E-B", verified=True,
        closed_on="2025-04-20", reward_status="paid", reward_amount="500.00",
        reward_paid_on="2025-05-01"),
    tip("T6", "letter", "2025-05-01", "unfounded"),
    tip("T7", "visit", "2024-12-01", "closed", enterprise="E-A", verified=True,
        closed_on="2024-12-20", reward_status="paid", reward_amount="300.00",
        reward_paid_on="2025-01-15"),
    tip("T8", "platform", "2025-11-01", "verified", enterprise="E-B", verified=True,
        reward_status="paid", reward_amount="200.00", reward_paid_on="2026-01-03"),
    tip("T9", "platform", "2025-06-01", "verified", enterprise="E-B", verified=True,
        reward_status="approved", reward_amount="100.00"),
    # Alerts (times in local time, +08:00).
    alert("A1", "warning", "2025-12-31T23:59:00+08:00", ["T1", "V2"],
          ["T1@2026-01-01T00:09:00+08:00", "V2@2026-01-01T00:29:00+08:00"], level="yellow"),
    alert("A2", "warning", "2026-01-01T00:00:00+08:00", ["T1"], ["T1@2026-01-01T00:01:00+08:00"]),
    alert("A3", "bulletin", "2025-01-01T00:00:00+08:00", ["V1", "T2"],
          ["T2@2025-01-01T00:20:00+08:00"]),
    alert("A4", "weather_forward", "2025-05-05T08:00:00+08:00"),
    alert("A5", "station_message", "2025-06-06T10:00:00+08:00", ["V1"],
          ["V1@2025-06-06T10:05:00+08:00"], lifted_at="2025-06-07T10:00:00+08:00"),
    alert("A6", "warning", "2024-12-31T23:59:00+08:00", ["T1"], ["T1@2025-01-01T00:05:00+08:00"]),
    # 16:30 UTC on 12-31 is 00:30 on 2026-01-01 in Shanghai: the local day decides.
    alert("A7", "warning", "2025-12-31T16:30:00+00:00", ["T2"]),
    # Roll-calls.
    rollcall("RC0", "2024-12-31T23:59:00+08:00", ["T2"], ["T2"]),
    rollcall("RC1", "2025-03-01T10:00:00+08:00", ["T1", "T2", "V1"], ["T1", "V1"]),
    rollcall("RC2", "2025-12-31T23:30:00+08:00", ["V2", "V1"], ["V2", "V1"]),
    rollcall("RC3", "2026-01-01T00:00:00+08:00", ["T2"], ["T2"]),
]  # fmt: skip


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def load(tmp_path, records, name="data.jsonl"):
    return import_file(write_jsonl(tmp_path / name, records), actor=None)


@pytest.fixture
def year(world, tmp_path):
    """The dataset above, imported; plus two acts withdrawn after they were recorded."""
    load(tmp_path, RECORDS)
    Penalty.objects.filter(ref="P5").update(status=Penalty.Status.WITHDRAWN)
    Referral.objects.filter(ref="R2").update(status=Referral.Status.WITHDRAWN)
    # A draft and a cancelled warning: never issued, never counted.
    Alert.objects.create(kind="warning", headline="草稿")
    Alert.objects.create(kind="warning", headline="撤销", status=Alert.Status.CANCELLED)
    return world


# The year 2025 for the whole district, key by key.
DISTRICT_2025 = {
    "inspections.total": 5,  # I1 I2 I5 I7 I8
    "inspections.enterprises": 4,  # E-A E-B E-C E-H2
    "inspections.sector.industrial_trade": 3,  # I1 I2 I7
    "hazards.sector.industrial_trade.found": 4,  # H1 H2 H5 H9
    "enterprises.sector.hazardous_chemicals": 2,  # E-B E-H2 (E-H3 closed)
    "inspections.sector.hazardous_chemicals": 2,  # I5 I8
    "hazards.sector.hazardous_chemicals.found": 4,  # H3 H4 H10 H11
    "enterprises.gas_stations": 2,  # E-G1 E-G2 (E-G3 closed)
    "enterprises.gas_stations.standardized": 1,  # E-G1
    "hazards.found": 8,  # H1 H2 H3 H4 H5 H9 H10 H11
    "hazards.general.found": 6,  # H1 H2 H3 H9 H10 H11
    "hazards.general.rectified": 3,  # H1 H9 H11 (H2 closed after the end)
    "hazards.general.pending": 3,  # H2 H3 H10
    "hazards.general.rectification_rate": "50.00",
    "hazards.major.found": 2,  # H4 H5
    "hazards.major.rectified": 1,  # H4
    "hazards.overdue": 3,  # H2 (closed in 2026), H6 (from 2024), H10; not H5 (due 12-31)
    "enforcement.penalties": 2,  # P1 P2 (P5 withdrawn)
    "enforcement.penalties.amount": "92750.50",
    "enforcement.supervision_letters": 2,  # L1 L2
    "enforcement.interviews": 2,  # E-A (twice) and E-B
    "enforcement.referrals": 1,  # R1 (R2 withdrawn)
    "tips.hotline.received": 2,  # T1 T2
    "tips.hotline.closed": 1,  # T1 (T2 closed in 2026)
    "tips.platform.received": 5,  # T4 T5 T6 T8 T9
    "tips.platform.verified": 4,  # T4 T5 T8 T9
    "tips.rewards.waived": 1,  # T4
    "tips.rewards.paid": 2,  # T5, T7 (received 2024, paid 2025); T8 paid in 2026
    "tips.rewards.amount": "800.00",
    "rollcall.towns": 1,  # T1 (RC1); T2 answered only in 2024 and 2026
    "rollcall.villages": 2,  # V1 V2
    "alerts.bulletins": 1,  # A3
    "alerts.weather_forwarded": 1,  # A4
    "alerts.warnings": 1,  # A1 (A7 is 2026 in local time; A6 is 2024)
    "alerts.station_messages": 1,  # A5 (lifted)
    # Recipients: A1 T1 V2, A3 V1 T2, A5 V1 = 5; acknowledged A1 T1 V2, A3 T2, A5 V1.
    "alerts.acknowledged_rate": "80.00",
    "alerts.median_ack_minutes": "15.00",  # of 10, 30, 20, 5
}

TOWN1_2025 = {
    "inspections.total": 4,  # I1 I2 I7 I8
    "inspections.enterprises": 3,
    "inspections.sector.industrial_trade": 3,
    "hazards.sector.industrial_trade.found": 4,
    "enterprises.sector.hazardous_chemicals": 1,
    "inspections.sector.hazardous_chemicals": 1,
    "hazards.sector.hazardous_chemicals.found": 2,  # H10 H11
    "enterprises.gas_stations": 1,
    "enterprises.gas_stations.standardized": 1,
    "hazards.found": 6,  # H1 H2 H5 H9 H10 H11
    "hazards.general.found": 5,
    "hazards.general.rectified": 3,
    "hazards.general.pending": 2,
    "hazards.general.rectification_rate": "60.00",
    "hazards.major.found": 1,
    "hazards.major.rectified": 0,
    "hazards.overdue": 3,
    "enforcement.penalties": 1,
    "enforcement.penalties.amount": "50000.00",
    "enforcement.supervision_letters": 1,
    "enforcement.interviews": 1,
    "enforcement.referrals": 0,
    "tips.hotline.received": 1,
    "tips.hotline.closed": 1,
    "tips.platform.received": 1,  # T4 (T6 has no enterprise: in no town)
    "tips.platform.verified": 1,
    "tips.rewards.waived": 1,
    "tips.rewards.paid": 1,  # T7
    "tips.rewards.amount": "300.00",
    "rollcall.towns": 1,
    "rollcall.villages": 1,
    "alerts.bulletins": 1,  # A3 to V1
    "alerts.weather_forwarded": 0,
    "alerts.warnings": 1,  # A1 to T1
    "alerts.station_messages": 1,
    "alerts.acknowledged_rate": "66.67",  # A1 T1, A3 V1, A5 V1: 2 of 3
    "alerts.median_ack_minutes": "7.50",  # of 10, 5
}


def test_every_key_for_the_district(year):
    got = compute(Y_START, Y_END)
    assert list(got) == list(figures.KEYS)
    assert got == DISTRICT_2025


def test_the_district_region_is_the_whole_district(year):
    assert compute(Y_START, Y_END, year.district) == DISTRICT_2025


def test_every_key_for_a_town(year):
    assert compute(Y_START, Y_END, year.town1) == TOWN1_2025


def test_a_village_and_the_other_town(year):
    v1 = compute(Y_START, Y_END, year.village1)
    assert v1["inspections.total"] == 3  # E-C is in the town itself, not in V1
    assert v1["inspections.enterprises"] == 2
    t2 = compute(Y_START, Y_END, year.town2)
    assert t2["inspections.total"] == 1
    assert t2["hazards.general.found"] == 1
    assert t2["hazards.general.rectified"] == 0
    assert t2["hazards.general.rectification_rate"] == "0.00"
    assert t2["alerts.warnings"] == 1  # A1 (to V2)
    assert t2["alerts.acknowledged_rate"] == "100.00"  # A1 V2, A3 T2
    assert t2["alerts.median_ack_minutes"] == "25.00"
    assert t2["rollcall.towns"] == 0
    assert t2["rollcall.villages"] == 1
    # Towns and villages add up to the district for additive counts.
    t1 = compute(Y_START, Y_END, year.town1)
    for key in ("inspections.total", "hazards.found", "enforcement.penalties"):
        assert t1[key] + t2[key] == DISTRICT_2025[key]


def test_the_year_before_sees_its_own_state_at_its_end(year):
    got = compute(D(2024, 1, 1), D(2024, 12, 31))
    assert got["inspections.total"] == 1  # I4
    assert got["hazards.found"] == 2  # H6 H7
    assert got["hazards.general.rectified"] == 0  # H7 closed in 2025
    assert got["hazards.general.pending"] == 2
    assert got["hazards.overdue"] == 2  # both due 2024-12-01
    assert got["enforcement.penalties"] == 1
    assert got["enforcement.penalties.amount"] == "1000.00"
    assert got["enforcement.interviews"] == 1
    assert got["tips.platform.received"] == 1  # T7
    assert got["tips.rewards.paid"] == 0  # paid in 2025
    assert got["alerts.warnings"] == 1  # A6 at 23:59 local
    assert got["alerts.median_ack_minutes"] == "6.00"
    assert got["rollcall.towns"] == 1  # RC0 at 23:59


def test_edges_of_a_single_day(year):
    new_year = compute(D(2026, 1, 1), D(2026, 1, 1))
    assert new_year["inspections.total"] == 1  # I3
    assert new_year["enforcement.penalties"] == 1  # P3
    assert new_year["alerts.warnings"] == 2  # A2 at 00:00 local, A7 at 00:30 local
    assert new_year["rollcall.towns"] == 1  # RC3 at 00:00
    assert new_year["tips.hotline.received"] == 1
    last_day = compute(D(2025, 12, 31), D(2025, 12, 31))
    assert last_day["inspections.total"] == 1  # I2
    assert last_day["alerts.warnings"] == 1  # A1 at 23:59 local
    assert last_day["rollcall.villages"] == 2  # RC2 at 23:30


def test_nothing_found_means_no_rate(year):
    got = compute(D(2030, 1, 1), D(2030, 12, 31))
    assert got["hazards.general.found"] == 0
    assert got["hazards.general.rectification_rate"] is None
    assert got["alerts.acknowledged_rate"] is None
    assert got["alerts.median_ack_minutes"] is None
    assert got["enforcement.penalties.amount"] == "0.00"
    assert got["hazards.overdue"] == 4  # H3 H5 H6 H10 are still open (H8 has no deadline)


def test_values_have_the_contract_types(year):
    got = compute(Y_START, Y_END)
    for key, value in got.items():
        if key in figures.MONEY_KEYS:
            assert isinstance(value, str) and Decimal(value).as_tuple().exponent == -2
        elif key in figures.RATE_KEYS or key == figures.MEDIAN:
            assert value is None or (isinstance(value, str) and "." in value)
        else:
            assert type(value) is int, key


def test_rates_round_half_up():
    assert figures.percent(8422, 8431) == "99.89"
    assert figures.percent(1, 32) == "3.13"  # 3.125: half up, not half to even
    assert figures.percent(2, 3) == "66.67"
    assert figures.percent(0, 5) == "0.00"
    assert figures.percent(0, 0) is None
    assert figures.money(Decimal("92750")) == "92750.00"
    assert figures.money(None) == "0.00"


def test_missing_keys_are_absent_and_listed():
    gone = missing()
    assert "study.sessions" in gone and "drills.blind" in gone and "teams.semi_professional" in gone
    assert set(gone).isdisjoint(figures.KEYS)
    assert set(gone) | set(figures.KEYS) == set(figures.ALL_KEYS)
    assert all(not k.startswith(("inspections.", "hazards.", "alerts.")) for k in gone)
    assert set(figures.LABELS) == set(figures.ALL_KEYS)


@pytest.mark.parametrize("region", [None, "town1", "village1", "town2"])
def test_records_are_what_the_counts_count(year, region):
    where = getattr(year, region) if region else None
    got = compute(Y_START, Y_END, where)
    checked = 0
    for key in figures.KEYS:
        if key in figures.MONEY_KEYS | figures.RATE_KEYS | {figures.MEDIAN}:
            with pytest.raises(KeyError):
                records(key, Y_START, Y_END, where)
            continue
        assert records(key, Y_START, Y_END, where).count() == got[key], key
        checked += 1
    assert checked > 30


def test_records_list_the_right_rows(year):
    refs = set(records("hazards.overdue", Y_START, Y_END).values_list("ref", flat=True))
    assert refs == {"H2", "H6", "H10"}
    refs = set(records("hazards.general.pending", Y_START, Y_END).values_list("ref", flat=True))
    assert refs == {"H2", "H3", "H10"}
    refs = records("enforcement.interviews", Y_START, Y_END).values_list("ref", flat=True)
    assert set(refs) == {"E-A", "E-B"}
    refs = records("rollcall.villages", Y_START, Y_END, year.town1).values_list("ref", flat=True)
    assert set(refs) == {"V1"}
    refs = records("alerts.warnings", Y_START, Y_END, year.town2).values_list("ref", flat=True)
    assert set(refs) == {"A1"}
    with pytest.raises(KeyError):
        records("study.sessions", Y_START, Y_END)
    with pytest.raises(KeyError):
        records("no.such.key", Y_START, Y_END)


def test_series_by_month(year):
    got = series(
        ["inspections.total", "hazards.general.rectified", "alerts.warnings"], Y_START, Y_END
    )
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    assert list(got["inspections.total"]) == months
    assert sum(got["inspections.total"].values()) == 5
    assert got["inspections.total"]["2025-01"] == 1
    assert got["inspections.total"]["2025-12"] == 1
    # Each month is its own period: H9 (found and closed in August) counts in August;
    # H11 found in September but closed on 12-31 is pending at the end of September.
    assert got["hazards.general.rectified"]["2025-08"] == 1
    assert got["hazards.general.rectified"]["2025-09"] == 0
    assert got["alerts.warnings"]["2025-12"] == 1


def test_series_of_a_partial_period(db):
    got = series(["inspections.total"], D(2025, 1, 15), D(2025, 3, 2))
    assert list(got["inspections.total"]) == ["2025-01", "2025-02", "2025-03"]


def test_series_by_town_and_sector(year):
    keys = ["inspections.total", "hazards.found", "alerts.warnings", "rollcall.villages",
            "enterprises.gas_stations", "enforcement.interviews", "tips.rewards.amount"]  # fmt: skip
    by_town = series(keys, Y_START, Y_END, by="town")
    assert by_town["inspections.total"] == {"T1": 4, "T2": 1}
    assert by_town["alerts.warnings"] == {"T1": 1, "T2": 1}  # A1 went to both
    assert series(keys, Y_START, Y_END, year.town2, by="town")["hazards.found"] == {"T2": 2}
    assert series(keys, Y_START, Y_END, year.village1, by="town")["inspections.total"] == {"T1": 3}
    by_sector = series(keys, Y_START, Y_END, by="sector")
    for key in ("inspections.total", "hazards.found"):
        for sector, value in by_sector[key].items():
            assert records(key, Y_START, Y_END, sector=sector).count() == value
    assert not records("alerts.warnings", Y_START, Y_END, sector="industrial_trade").exists()
    assert by_sector["inspections.total"]["industrial_trade"] == 3
    assert by_sector["inspections.total"]["hazardous_chemicals"] == 2
    assert by_sector["inspections.total"]["gas_station"] == 0
    assert by_sector["hazards.found"]["hazardous_chemicals"] == 4
    assert by_sector["alerts.warnings"] == {}  # alerts have no sector
    assert by_sector["enterprises.gas_stations"]["gas_station"] == 2
    assert by_sector["enterprises.gas_stations"]["industrial_trade"] == 0
    assert by_sector["enforcement.interviews"] == {
        "industrial_trade": 1, "hazardous_chemicals": 1, "gas_station": 0,
        "crowded_place": 0, "construction": 0, "other": 0,
    }  # fmt: skip
    assert by_sector["tips.rewards.amount"]["hazardous_chemicals"] == "500.00"  # T5 at E-B
    assert by_town["tips.rewards.amount"] == {"T1": "300.00", "T2": "500.00"}
    assert by_town["enterprises.gas_stations"] == {"T1": 1, "T2": 1}
    with pytest.raises(ValueError):
        series(keys, Y_START, Y_END, by="week")
    with pytest.raises(KeyError):
        series(["drills.total"], Y_START, Y_END)


def test_scope_region(year):
    assert figures.scope_region(year.leader, None) is None
    assert figures.scope_region(year.leader, "T2") == year.town2
    assert figures.scope_region(year.duty, "630103") == year.district  # by ref or code
    assert figures.scope_region(year.town_officer, None) == year.town1
    assert figures.scope_region(year.town_officer, "V1") == year.village1
    assert figures.scope_region(year.village_officer, "") == year.village2
    with pytest.raises(Http404):
        figures.scope_region(year.town_officer, "T2")
    with pytest.raises(Http404):
        figures.scope_region(year.village_officer, "T2")  # their own town is above them
    with pytest.raises(Http404):
        figures.scope_region(year.leader, "NOWHERE")
    for user in (year.ent_user_a, year.expert):
        with pytest.raises(PermissionDenied):
            figures.scope_region(user, None)


def test_end_before_start_is_refused():
    with pytest.raises(ValueError):
        compute(D(2025, 2, 1), D(2025, 1, 31))


def more_records(n: int, offset: int) -> list[dict]:
    """n enterprises, each with an inspection, a hazard, a penalty, a tip, an alert and a
    roll-call: every source table grows."""
    out = []
    for i in range(offset, offset + n):
        village = "V1" if i % 2 else "V2"
        out += [
            ent(f"E-X{i}", 1000 + i, "industrial_trade", village),
            insp(f"I-X{i}", f"E-X{i}", "2025-05-01"),
            haz(f"H-X{i}", f"E-X{i}", "2025-05-01", status="closed", closed_on="2025-05-09"),
            act(f"P-X{i}", f"E-X{i}", "penalty", "2025-05-02", amount="100"),
            act(f"V-X{i}", f"E-X{i}", "interview", "2025-05-02"),
            tip(f"T-X{i}", "platform", "2025-05-03", enterprise=f"E-X{i}"),
            alert(f"A-X{i}", "warning", "2025-05-04T09:00:00+08:00", [village],
                  [f"{village}@2025-05-04T09:1{i % 10}:00+08:00"]),
            rollcall(f"RC-X{i}", "2025-05-05T09:00:00+08:00", [village], [village]),
        ]  # fmt: skip
    return out


def queries_of(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_rows(year, tmp_path):
    areas = (None, year.town1)
    load(tmp_path, more_records(3, 0), "small.jsonl")
    small = [queries_of(lambda a=a: compute(Y_START, Y_END, a)) for a in areas]
    before = [compute(Y_START, Y_END, a) for a in areas]
    load(tmp_path, more_records(40, 100), "large.jsonl")
    large = [queries_of(lambda a=a: compute(Y_START, Y_END, a)) for a in areas]
    after = [compute(Y_START, Y_END, a) for a in areas]
    assert small == large
    assert max(small) <= 14  # one aggregate per source table, plus the median's middle rows
    for was, now, grown in zip(before, after, (40, 20), strict=True):
        for key in ("inspections.total", "enforcement.interviews", "rollcall.villages"):
            assert now[key] - was[key] == (grown if key != "rollcall.villages" else 0), key
        assert now["alerts.warnings"] - was["alerts.warnings"] == grown
    small_series = queries_of(lambda: series(figures.KEYS, Y_START, Y_END, by="town"))
    assert small_series <= 1 + 2 * 14  # the towns, then each town's figures
