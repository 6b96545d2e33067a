"""Statistics at province scale: `figures.compute()` for a year against a floor of one
hand-written SQL query per figure, on SQLite and on PostgreSQL.

Data (× --scale, default 1.0): 200,000 enterprises in 100 towns × 20 villages, 1,000,000
inspections, 300,000 hazards, 20,000 tips, 10,000 alerts with their deliveries (a recipient
row per town or village alerted, most acknowledged), enforcement acts (8,200) and roll-calls
(1,000), dated from 2024-10-01 to 2025-12-31. They are written once as interchange records
(.jsonl) and imported with the import engine (`yingji.core.interchange.import_file`) into a
fresh SQLite database and a fresh PostgreSQL database, then ANALYZEd.

Then, for 2025-01-01…2025-12-31: the median over --runs of `compute()` for the district and
for one town, and the floor: every figure as its own hand-written SQL query (the median of
the sum of their times). Both are printed with their ratio, the time of each of compute()'s
queries, and a check that the floor's values equal compute()'s.

PostgreSQL: DATABASE_URL if set (it must point at an empty scratch database: the benchmark
migrates and imports into it), else a throwaway cluster started by scripts/pg.sh; skipped
with a note when neither is available.

    .venv/bin/python bench/stats_province.py [--scale 0.05] [--runs 5] [--db sqlite,postgres]
"""

import argparse
import datetime
import itertools
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

D = datetime.date
FIRST_DAY, LAST_DAY = D(2024, 10, 1), D(2025, 12, 31)
YEAR = (D(2025, 1, 1), D(2025, 12, 31))
TOWNS, VILLAGES_PER_TOWN = 100, 20
SIZES = {  # at scale 1
    "enterprise": 200_000,
    "inspection": 1_000_000,
    "hazard": 300_000,
    "tip": 20_000,
    "alert": 10_000,
    "penalty": 2_000,
    "supervision_letter": 1_000,
    "interview": 5_000,
    "referral": 200,
    "rollcall": 1_000,
}
AIM_SECONDS, AIM_RATIO = 1.0, 1.5


# -- data ---------------------------------------------------------------------------------------
def town_ref(t: int) -> str:
    return f"P-T{t:03d}"


def village_ref(t: int, v: int) -> str:
    return f"P-T{t:03d}-V{v:02d}"


def regions() -> list[dict]:
    out = [{"type": "region", "ref": "P", "name": "测试区", "level": "district", "code": "630000"}]
    for t in range(1, TOWNS + 1):
        out.append({"type": "region", "ref": town_ref(t), "name": f"第{t}镇", "level": "town",
                    "parent": "P"})  # fmt: skip
        for v in range(1, VILLAGES_PER_TOWN + 1):
            out.append({"type": "region", "ref": village_ref(t, v), "name": f"第{t}镇{v}村",
                        "level": "village", "parent": town_ref(t)})  # fmt: skip
    return out


def day(rng: random.Random, first: D = FIRST_DAY, last: D = LAST_DAY) -> D:
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


def moment(rng: random.Random) -> datetime.datetime:
    local = datetime.timezone(datetime.timedelta(hours=8))
    d = day(rng)
    return datetime.datetime(d.year, d.month, d.day, tzinfo=local) + datetime.timedelta(
        seconds=rng.randrange(86_400)
    )


def enterprises(n: int):
    for i, record in enumerate(c.enterprise_records(n), start=1):
        rng = random.Random(i)
        t = rng.randint(1, TOWNS)
        record["region"] = (
            town_ref(t)
            if rng.random() < 0.05
            else village_ref(t, rng.randint(1, VILLAGES_PER_TOWN))
        )
        yield record


def activity(sizes: dict[str, int], seed: int = 2025):
    """Every record after the enterprises, deterministic in the seed."""
    rng = random.Random(seed)
    n_ent = sizes["enterprise"]

    def ent() -> str:
        return f"E-{rng.randint(1, n_ent):06d}"

    for i in range(1, sizes["inspection"] + 1):
        yield {"type": "inspection", "ref": f"I-{i:07d}", "enterprise": ent(), "date": str(day(rng)),
               "mode": "routine", "status": "completed" if rng.random() < 0.96 else "planned"}  # fmt: skip
    for i in range(1, sizes["hazard"] + 1):
        found = day(rng)
        record = {"type": "hazard", "ref": f"H-{i:07d}", "enterprise": ent(),
                  "found_on": str(found), "level": "major" if rng.random() < 0.01 else "general",
                  "description": "隐患", "deadline": str(found + datetime.timedelta(days=rng.randint(7, 60)))}  # fmt: skip
        closing = found + datetime.timedelta(days=rng.randint(0, 90))
        if rng.random() < 0.97 and closing <= D(2026, 3, 31):
            record.update(status="closed", closed_on=str(closing))
        else:
            record["status"] = rng.choice(["open", "submitted", "reported"])
        yield record
    acts = ("penalty", "supervision_letter", "interview", "referral")
    for kind in acts:
        for i in range(1, sizes[kind] + 1):
            record = {"type": "enforcement", "ref": f"{kind[:3].upper()}-{i:06d}",
                      "enterprise": ent(), "kind": kind, "date": str(day(rng)),
                      "basis": "《中华人民共和国安全生产法》"}  # fmt: skip
            if kind == "penalty":
                record["amount"] = f"{rng.randint(10, 500) * 100}.00"
            yield record
    channels = ["hotline_12345"] * 15 + ["platform"] * 55 + ["phone"] * 15 + ["letter", "visit"] * 8
    for i in range(1, sizes["tip"] + 1):
        received = day(rng)
        record = {"type": "tip", "ref": f"T-{i:06d}", "channel": rng.choice(channels),
                  "received_on": str(received), "content": "举报内容"}  # fmt: skip
        if rng.random() < 0.8:
            record["enterprise"] = ent()
        if rng.random() < 0.8:
            closed = received + datetime.timedelta(days=rng.randint(1, 30))
            record.update(status="closed", closed_on=str(closed))
            if rng.random() < 0.5:
                record["verified"] = True
                r = rng.random()
                if r < 0.1:
                    record["reward_status"] = "waived"
                elif r < 0.35:
                    record.update(reward_status="paid", reward_amount=f"{rng.randint(1, 20) * 100}.00",
                                  reward_paid_on=str(closed + datetime.timedelta(days=10)))  # fmt: skip
        else:
            record["status"] = rng.choice(["received", "assigned", "verifying"])
        yield record
    kinds = (
        ["warning"] * 35 + ["weather_forward"] * 45 + ["bulletin"] * 5 + ["station_message"] * 15
    )
    for i in range(1, sizes["alert"] + 1):
        issued = moment(rng)
        t = rng.randint(1, TOWNS)
        villages = rng.sample(range(1, VILLAGES_PER_TOWN + 1), rng.randint(3, 12))
        targets = [town_ref(t)] + [village_ref(t, v) for v in villages]
        if rng.random() < 0.1:  # a wide alert: several towns
            targets += [town_ref(x) for x in rng.sample(range(1, TOWNS + 1), 8) if x != t]
        acks = [f"{ref}@{(issued + datetime.timedelta(seconds=rng.randint(30, 7200))).isoformat()}"
                for ref in targets if rng.random() < 0.85]  # fmt: skip
        record = {"type": "alert", "ref": f"A-{i:06d}", "kind": rng.choice(kinds),
                  "issued_at": issued.isoformat(), "title": "暴雨预警", "recipients": targets}  # fmt: skip
        if acks:
            record["acks"] = acks
        yield record
    for i in range(1, sizes["rollcall"] + 1):
        t = rng.randint(1, TOWNS)
        targets = [town_ref(x) for x in rng.sample(range(1, TOWNS + 1), 5)]
        targets += [village_ref(t, v) for v in rng.sample(range(1, VILLAGES_PER_TOWN + 1), 10)]
        yield {"type": "rollcall", "ref": f"RC-{i:05d}", "held_at": moment(rng).isoformat(),
               "targets": targets, "responded": [r for r in targets if rng.random() < 0.9]}  # fmt: skip


# -- the floor: one hand-written query per figure ------------------------------------------------
def floor_queries(vendor: str) -> dict[str, tuple[str, str]]:
    """key → (SQL, how to read its row). Params: %(s)s %(e)s dates, %(a)s %(b)s instants."""
    from yingji.alerts.models import Alert, Recipient, RollCall, RollCallEntry
    from yingji.core.models import Region
    from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter
    from yingji.enterprises.models import Enterprise
    from yingji.hazards.models import Hazard
    from yingji.inspections.models import Inspection
    from yingji.tips.models import Tip

    t = {
        "insp": Inspection,
        "ent": Enterprise,
        "haz": Hazard,
        "pen": Penalty,
        "let": SupervisionLetter,
        "itv": Interview,
        "ref": Referral,
        "case": Case,
        "tip": Tip,
        "alert": Alert,
        "rcp": Recipient,
        "rc": RollCall,
        "rce": RollCallEntry,
        "reg": Region,
    }
    t = {k: m._meta.db_table for k, m in t.items()}
    q: dict[str, tuple[str, str]] = {}
    insp = f"FROM {t['insp']} i WHERE i.status = 'completed' AND i.date BETWEEN %(s)s AND %(e)s"
    insp_ent = (
        f"FROM {t['insp']} i JOIN {t['ent']} e ON e.id = i.enterprise_id "
        "WHERE i.status = 'completed' AND i.date BETWEEN %(s)s AND %(e)s"
    )
    q["inspections.total"] = (f"SELECT COUNT(*) {insp}", "int")
    q["inspections.enterprises"] = (f"SELECT COUNT(DISTINCT i.enterprise_id) {insp}", "int")
    haz = f"FROM {t['haz']} h WHERE h.found_on BETWEEN %(s)s AND %(e)s"
    haz_ent = (
        f"FROM {t['haz']} h JOIN {t['ent']} e ON e.id = h.enterprise_id "
        "WHERE h.found_on BETWEEN %(s)s AND %(e)s"
    )
    for sector in ("industrial_trade", "hazardous_chemicals"):
        q[f"inspections.sector.{sector}"] = (
            f"SELECT COUNT(*) {insp_ent} AND e.sector = '{sector}'",
            "int",
        )
        q[f"hazards.sector.{sector}.found"] = (
            f"SELECT COUNT(*) {haz_ent} AND e.sector = '{sector}'",
            "int",
        )
    ent = f"SELECT COUNT(*) FROM {t['ent']} e WHERE e.status = 'active'"
    q["enterprises.sector.hazardous_chemicals"] = (
        f"{ent} AND e.sector = 'hazardous_chemicals'",
        "int",
    )
    q["enterprises.gas_stations"] = (f"{ent} AND e.sector = 'gas_station'", "int")
    q["enterprises.gas_stations.standardized"] = (
        f"{ent} AND e.sector = 'gas_station' AND e.standardized",
        "int",
    )
    closed = "h.closed_on <= %(e)s"
    still_open = "(h.closed_on IS NULL OR h.closed_on > %(e)s)"
    q["hazards.found"] = (f"SELECT COUNT(*) {haz}", "int")
    for level in ("general", "major"):
        q[f"hazards.{level}.found"] = (f"SELECT COUNT(*) {haz} AND h.level = '{level}'", "int")
        q[f"hazards.{level}.rectified"] = (
            f"SELECT COUNT(*) {haz} AND h.level = '{level}' AND {closed}",
            "int",
        )
    q["hazards.general.pending"] = (
        f"SELECT COUNT(*) {haz} AND h.level = 'general' AND {still_open}",
        "int",
    )
    q["hazards.general.rectification_rate"] = (
        f"SELECT SUM(CASE WHEN {closed} THEN 1 ELSE 0 END), COUNT(*) {haz} AND h.level = 'general'",
        "rate",
    )
    q["hazards.overdue"] = (
        f"SELECT COUNT(*) FROM {t['haz']} h WHERE h.found_on <= %(e)s AND {still_open} "
        "AND h.deadline < %(e)s",
        "int",
    )
    pen = f"FROM {t['pen']} p WHERE p.status IN ('decided', 'paid') AND p.decided_on BETWEEN %(s)s AND %(e)s"
    q["enforcement.penalties"] = (f"SELECT COUNT(*) {pen}", "int")
    q["enforcement.penalties.amount"] = (f"SELECT SUM(p.amount) {pen}", "money")
    q["enforcement.supervision_letters"] = (
        f"SELECT COUNT(*) FROM {t['let']} x WHERE x.issued_on BETWEEN %(s)s AND %(e)s",
        "int",
    )
    q["enforcement.interviews"] = (
        f"SELECT COUNT(DISTINCT k.enterprise_id) FROM {t['itv']} x "
        f"JOIN {t['case']} k ON k.id = x.case_id WHERE x.held_on BETWEEN %(s)s AND %(e)s",
        "int",
    )
    q["enforcement.referrals"] = (
        f"SELECT COUNT(*) FROM {t['ref']} x WHERE x.status IN ('sent', 'result') "
        "AND x.sent_on BETWEEN %(s)s AND %(e)s",
        "int",
    )
    tip = f"FROM {t['tip']} x WHERE x.received_on BETWEEN %(s)s AND %(e)s"
    hot, plat = "x.channel = 'hotline_12345'", "x.channel <> 'hotline_12345'"
    q["tips.hotline.received"] = (f"SELECT COUNT(*) {tip} AND {hot}", "int")
    q["tips.hotline.closed"] = (
        f"SELECT COUNT(*) {tip} AND {hot} AND x.status = 'closed' AND x.closed_on <= %(e)s",
        "int",
    )
    q["tips.platform.received"] = (f"SELECT COUNT(*) {tip} AND {plat}", "int")
    q["tips.platform.verified"] = (f"SELECT COUNT(*) {tip} AND {plat} AND x.verified", "int")
    q["tips.rewards.waived"] = (
        f"SELECT COUNT(*) {tip} AND x.verified AND x.reward_status = 'waived'",
        "int",
    )
    paid = (
        f"FROM {t['tip']} x WHERE x.reward_status = 'paid' "
        "AND x.reward_paid_on BETWEEN %(s)s AND %(e)s"
    )
    q["tips.rewards.paid"] = (f"SELECT COUNT(*) {paid}", "int")
    q["tips.rewards.amount"] = (f"SELECT SUM(x.reward_amount) {paid}", "money")
    for level, key in (("town", "towns"), ("village", "villages")):
        q[f"rollcall.{key}"] = (
            f"SELECT COUNT(DISTINCT en.region_id) FROM {t['rce']} en "
            f"JOIN {t['rc']} r ON r.id = en.rollcall_id JOIN {t['reg']} g ON g.id = en.region_id "
            f"WHERE en.answered AND r.held_at >= %(a)s AND r.held_at < %(b)s AND g.level = '{level}'",
            "int",
        )
    issued = "a.status IN ('issued', 'lifted') AND a.issued_at >= %(a)s AND a.issued_at < %(b)s"
    for kind, key in (
        ("bulletin", "bulletins"),
        ("weather_forward", "weather_forwarded"),
        ("warning", "warnings"),
        ("station_message", "station_messages"),
    ):
        q[f"alerts.{key}"] = (
            f"SELECT COUNT(*) FROM {t['alert']} a WHERE {issued} AND a.kind = '{kind}'",
            "int",
        )
    rcp = f"FROM {t['rcp']} r JOIN {t['alert']} a ON a.id = r.alert_id WHERE {issued}"
    q["alerts.acknowledged_rate"] = (
        f"SELECT SUM(CASE WHEN r.acknowledged_at IS NOT NULL THEN 1 ELSE 0 END), COUNT(*) {rcp}",
        "rate",
    )
    acked = f"{rcp} AND r.acknowledged_at IS NOT NULL"
    if vendor == "postgresql":
        q["alerts.median_ack_minutes"] = (
            "SELECT percentile_cont(0.5) WITHIN GROUP "
            f"(ORDER BY EXTRACT(EPOCH FROM r.acknowledged_at - a.issued_at)) / 60 {acked}",
            "minutes",
        )
    else:
        n = f"(SELECT COUNT(*) {acked})"
        q["alerts.median_ack_minutes"] = (
            "SELECT AVG(d) / 60 FROM (SELECT (julianday(r.acknowledged_at) - "
            f"julianday(a.issued_at)) * 86400.0 AS d {acked} ORDER BY d "
            f"LIMIT 2 - {n} %% 2 OFFSET ({n} - 1) / 2) m",
            "minutes",
        )
    return q


def read_floor(kind: str, row) -> object:
    from decimal import Decimal

    from yingji.stats.figures import money, percent

    if kind == "int":
        return int(row[0] or 0)
    if kind == "money":
        return money(Decimal(str(row[0] or 0)))
    if kind == "rate":
        return percent(int(row[0] or 0), int(row[1] or 0))
    if row[0] is None:
        return None
    return str(Decimal(str(row[0])).quantize(Decimal("0.01")))


# -- one database: import, then time -------------------------------------------------------------
def child(db: str, data: Path, var: Path, runs: int) -> None:
    os.environ["YINGJI_VAR_DIR"] = str(var)
    os.environ["DJANGO_SETTINGS_MODULE"] = "yingji.settings"
    os.environ.setdefault("YINGJI_FAST_HASHER", "1")
    if db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import yingji.alerts.interchange  # noqa: F401  (registers `alert` and `rollcall`)
    from yingji.core.interchange import import_file
    from yingji.core.models import Region
    from yingji.enterprises.models import Enterprise
    from yingji.stats import figures

    vendor = connection.vendor
    print(f"\n== {vendor} ({connection.settings_dict['NAME']})")
    call_command("migrate", verbosity=0)
    if Enterprise.objects.exists():
        raise SystemExit("the database is not empty: give an empty scratch database")
    start = time.perf_counter()
    result = import_file(data, actor=None)
    seconds = time.perf_counter() - start
    print(
        f"   imported {result.records:,} records in {seconds:,.0f} s "
        f"({result.records / seconds:,.0f}/s)"
    )
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load: statistics for the planner, and the
        # visibility map that lets PostgreSQL answer from an index alone.
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")

    def timed(fn) -> list[float]:
        fn()  # warm
        out = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        return out

    s, e = YEAR
    town = Region.objects.get(ref=town_ref(1))
    got = figures.compute(s, e)
    district = timed(lambda: figures.compute(s, e))
    in_town = timed(lambda: figures.compute(s, e, town))
    with CaptureQueriesContext(connection) as ctx:
        figures.compute(s, e)
    queries = ctx.captured_queries

    floor = floor_queries(vendor)
    period = figures.Period(s, e)
    ops = connection.ops
    params = {
        "s": ops.adapt_datefield_value(s),
        "e": ops.adapt_datefield_value(e),
        "a": ops.adapt_datetimefield_value(period.since),
        "b": ops.adapt_datetimefield_value(period.until),
    }
    per_key: dict[str, list[float]] = {k: [] for k in floor}
    values = {}
    with connection.cursor() as cursor:
        for rnd in range(runs + 1):  # the first round warms
            for key, (sql, kind) in floor.items():
                t0 = time.perf_counter()
                cursor.execute(sql, params)
                row = cursor.fetchone()
                if rnd:
                    per_key[key].append(time.perf_counter() - t0)
                else:
                    values[key] = read_floor(kind, row)
    floor_runs = [sum(per_key[k][i] for k in per_key) for i in range(runs)]

    wrong = [k for k in floor if values[k] != got.get(k)]
    absent = [k for k in figures.KEYS if k not in floor]
    md, mt, mf = c.median(district), c.median(in_town), c.median(floor_runs)
    print(
        f"   compute() 2025, district: {md * 1000:8.1f} ms median of {runs} "
        f"({len(queries)} queries)   aim < {AIM_SECONDS * 1000:.0f} ms"
    )
    print(f"   compute() 2025, one town: {mt * 1000:8.1f} ms")
    print(f"   floor, {len(floor)} queries (one per figure): {mf * 1000:8.1f} ms")
    print(f"   ratio compute / floor: {md / mf:.2f}   aim ≤ {AIM_RATIO}")
    print(
        f"   floor values agree with compute(): {len(floor) - len(wrong)}/{len(floor)}"
        + (f"  DIFFER: {[(k, values[k], got.get(k)) for k in wrong]}" if wrong else "")
        + (f"  (no floor query for {absent})" if absent else "")
    )
    print("   compute()'s queries:")
    needed = figures._needed(figures.KEYS)  # in the order compute() queries them
    sources = [type(src).__name__ for src in dict.fromkeys(f.source for f in needed)]
    for label, qd in itertools.zip_longest(sources + ["median"], queries):
        if qd is not None:
            print(f"     {float(qd['time']) * 1000:8.1f} ms  {label or '?'}")
    slow = sorted(per_key, key=lambda k: c.median(per_key[k]), reverse=True)[:6]
    print("   slowest floor figures: " + ", ".join(
        f"{k} {c.median(per_key[k]) * 1000:.0f} ms" for k in slow
    ))  # fmt: skip
    print(f"   2025 in figures: {', '.join(f'{k}={got[k]}' for k in list(got)[:4])}, …")


# -- the driver ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiple of the province")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (the median is shown)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args()  # scripts/bench.sh passes its args to all
    if args.child:
        child(args.child, Path(args.data), Path(args.var), args.runs)
        return
    sizes = {k: max(1, round(v * args.scale)) for k, v in SIZES.items()}
    status = 0
    with c.scratch_dir("stats") as work:
        data = work / "province.jsonl"
        t0 = time.perf_counter()
        n = c.write_jsonl(
            data,
            itertools.chain(regions(), enterprises(sizes["enterprise"]), activity(sizes)),
        )
        print(
            f"data (scale {args.scale:g}): {n:,} records, {c.mb(data):.0f} MB, written in "
            f"{time.perf_counter() - t0:.0f} s — "
            + ", ".join(f"{v:,} {k}" for k, v in sizes.items())
            + f"; {TOWNS} towns × {VILLAGES_PER_TOWN} villages"
        )
        for db in args.db.split(","):
            var = work / f"var-{db}"
            (var / "static").mkdir(parents=True)
            cmd = [sys.executable, __file__, "--child", db, "--data", str(data), "--var", str(var)]
            cmd += ["--runs", str(args.runs)]
            env = c.bench_env(var)
            if db == "postgres":
                if os.environ.get("DATABASE_URL"):
                    env["DATABASE_URL"] = os.environ["DATABASE_URL"]
                elif Path("/usr/lib/postgresql/15/bin/initdb").exists():
                    cmd = ["bash", str(c.ROOT / "scripts" / "pg.sh"), *cmd]
                else:
                    print("\n== postgresql: no DATABASE_URL and no local PostgreSQL 15: skipped")
                    continue
            status |= subprocess.run(cmd, env=env, cwd=c.ROOT).returncode
    sys.exit(status)


if __name__ == "__main__":
    main()
