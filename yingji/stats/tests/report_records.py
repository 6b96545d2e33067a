"""The dataset of the report and ledger tests, as interchange records (a bureau's ledgers).

On top of the test world (630103 > T1 > V1, T2 > V2; E-A industry and trade in V1, E-B
hazardous chemicals in V2). What falls in 2025 is worked out in the comments.
"""

import json

import yingji.alerts.interchange  # noqa: F401  (registers `alert` and `rollcall`)
from conftest import make_uscc
from yingji.core.interchange import import_file


def _ent(ref, n, sector, region, **more):
    return {"type": "enterprise", "ref": ref, "name": f"测试加油站{n}", "uscc": make_uscc(200 + n),
            "sector": sector, "region": region, **more}  # fmt: skip


def _insp(ref, enterprise, date, **more):
    return {"type": "inspection", "ref": ref, "enterprise": enterprise, "date": date,
            "mode": "routine", **more}  # fmt: skip


def _haz(ref, enterprise, found_on, level="general", status="open", **more):
    return {"type": "hazard", "ref": ref, "enterprise": enterprise, "found_on": found_on,
            "level": level, "status": status, "description": f"隐患{ref}", **more}  # fmt: skip


def _act(ref, enterprise, kind, date, **more):
    return {"type": "enforcement", "ref": ref, "enterprise": enterprise, "kind": kind,
            "date": date, "basis": "《安全生产法》第九十九条", **more}  # fmt: skip


def _tip(ref, channel, received_on, status, **more):
    return {"type": "tip", "ref": ref, "channel": channel, "received_on": received_on,
            "content": f"举报{ref}", "status": status, **more}  # fmt: skip


def _alert(ref, kind, issued_at, recipients, acks=()):
    return {"type": "alert", "ref": ref, "kind": kind, "issued_at": issued_at,
            "title": f"预警{ref}", "recipients": list(recipients), "acks": list(acks)}  # fmt: skip


RECORDS = [
    _ent("E-G1", 1, "gas_station", "V1", standardized=True),
    _ent("E-G2", 2, "gas_station", "V2"),
    # Inspections dated 2025: I1 I2 (E-A, town 1), I3 I4 (E-B, town 2); I4 only planned.
    _insp("I1", "E-A", "2025-03-02"),
    _insp("I2", "E-A", "2025-06-10"),
    _insp("I3", "E-B", "2025-03-15"),
    _insp("I4", "E-B", "2025-07-01", status="planned"),
    _insp("I5", "E-A", "2024-12-30"),
    # Hazards found in 2025: H1 H2 (E-A), H3 H4 (E-B); general H1 H2 H3, rectified H1 H2.
    _haz("H1", "E-A", "2025-03-02", status="closed", closed_on="2025-03-10", deadline="2025-03-20"),
    _haz("H2", "E-A", "2025-06-10", status="closed", closed_on="2025-06-20", deadline="2025-06-30"),
    _haz("H3", "E-B", "2025-03-15", deadline="2025-04-15"),
    _haz("H4", "E-B", "2025-09-01", level="major", deadline="2025-10-01"),
    _haz("H5", "E-A", "2024-11-01", status="closed", closed_on="2024-11-20"),
    # Enforcement in 2025: P1 P2 (50000 + 42750 = 92750 yuan), L1; no interview at all.
    _act("P1", "E-A", "penalty", "2025-03-20", amount="50000"),
    _act("P2", "E-B", "penalty", "2025-11-11", amount="42750"),
    _act("P3", "E-A", "penalty", "2024-12-01", amount="1000"),
    _act("L1", "E-B", "supervision_letter", "2025-04-01", document_no="城应急督〔2025〕1号"),
    # Tips received in 2025: T1 (hotline, E-A) and T2 (platform, E-B, 500 yuan paid).
    _tip("T1", "hotline_12345", "2025-02-01", "closed", enterprise="E-A", closed_on="2025-02-10"),
    _tip("T2", "platform", "2025-05-01", "verified", enterprise="E-B", verified=True,
         reward_status="paid", reward_amount="500.00", reward_paid_on="2025-05-20"),
    _tip("T3", "phone", "2024-12-01", "unfounded"),
    # Alerts issued in 2025: A1 (T1 answered, V2 did not), A2 (a bulletin to V1).
    _alert("A1", "warning", "2025-03-05T09:00:00+08:00", ["T1", "V2"],
           ["T1@2025-03-05T09:10:00+08:00"]),
    _alert("A2", "bulletin", "2025-06-01T08:00:00+08:00", ["V1"]),
    _alert("A3", "warning", "2024-12-31T10:00:00+08:00", ["T1"]),
]  # fmt: skip

# The records of 2025 in each ledger: the whole district, and town 1 (E-A and V1, T1).
LEDGER_ROWS_2025 = {"hazards": 4, "inspections": 4, "enforcement": 3, "tips": 2, "alerts": 2}
LEDGER_ROWS_2025_T1 = {"hazards": 2, "inspections": 2, "enforcement": 1, "tips": 1, "alerts": 2}


def load(tmp_path, records=RECORDS):
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return import_file(path, actor=None)


def more(tmp_path, n: int, start: int = 100):
    """n more 2025 records of each ledger's kind (for the query-count tests)."""
    records = []
    for i in range(start, start + n):
        records += [
            _insp(f"IX{i}", "E-A", "2025-08-01"),
            _haz(f"HX{i}", "E-A", "2025-08-01", deadline="2025-08-30"),
            _act(f"PX{i}", "E-A", "penalty", "2025-08-02", amount="100"),
            _tip(f"TX{i}", "platform", "2025-08-03", "received", enterprise="E-A"),
            _alert(f"AX{i}", "warning", "2025-08-04T09:00:00+08:00", ["T1", "V1"]),
        ]
    return load(tmp_path, records)
