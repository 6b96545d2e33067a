"""Hazard and inspection lists at district-year scale and at 10×: SQL queries and page time.

For each scale a temporary SQLite database gets 1,500 × scale enterprises (through the import
engine) and the last twelve months of activity from the demo's year generator
(yingji/demo/year.py: ~28,000 inspections and ~8,500 hazards a year per 1,500 enterprises,
with today's open, submitted, reported and overdue hazards), written in bulk with the record
types' own field mapping (or, with --load import, through the import engine). Then each page
is requested as a leader (district-wide) and a town officer (a subtree): the SQL query count
of one request, and the median and p90 time of --requests warm requests (25 rows a page). A
URL that is not wired yet (404) is skipped with a note. Each scale runs in its own process.

    .venv/bin/python bench/hazard_lists.py [--scales 1,10] [--requests 20]
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
from enterprise_list import Grower, setup_django  # noqa: E402

ENTERPRISES = 1_500  # the demo district, per unit of scale
URLS = [
    ("hazard list", "/hazards/"),
    ("hazards open", "/hazards/?status=not_closed"),
    ("hazards p.200", "/hazards/?page=200"),
    ("overdue board", "/hazards/overdue/"),
    ("inspection list", "/inspections/"),
]
ROW_LINK = re.compile(r'href="/(hazards|inspections)/(\d+)/"')


def activity(scale: int, today: datetime.date) -> tuple[list[dict], str]:
    """The last twelve months of the generator's activity for 1,500 × scale enterprises."""
    from yingji.demo import year

    ents = list(c.enterprise_records(ENTERPRISES * scale))
    act = year.generate(ents, years=[today.year - 1, today.year], today=today, scale=scale)
    since = (today - datetime.timedelta(days=365)).isoformat()
    act.inspections = [r for r in act.inspections if r["date"] >= since]
    act.hazards = [r for r in act.hazards if r["found_on"] >= since]
    return list(act.records()), act.summary(today)


def bulk_load(records: list[dict]) -> None:
    """Write the records as the importer would (the record types' own mapping of every field
    and reference) but in bulk and without audit entries: the pages do not read the audit log,
    and at 10× the import would take many minutes (see bench/import_enterprises.py for it)."""
    from django.db import transaction

    from yingji.core.interchange import REGISTRY, Context

    ctx = Context(actor=None)
    with transaction.atomic():
        for type_ in ("inspection", "hazard"):
            rt = REGISTRY[type_]
            rows = [r for r in records if r["type"] == type_]
            for i in range(0, len(rows), 5000):
                chunk = rows[i : i + 5000]
                for f in rt.fields:
                    if f.kind == "ref":
                        ctx.prefetch(f.ref_type, {r[f.name] for r in chunk if r.get(f.name)})
                objs = [
                    rt.model(
                        ref=r["ref"],
                        **rt.model_values(
                            {k: v for k, v in r.items() if k not in ("type", "ref")}, ctx
                        ),
                    )
                    for r in chunk
                ]
                rt.model.objects.bulk_create(objs, batch_size=1000)
                for obj in objs:
                    ctx.remember(type_, obj.ref, obj.pk)


def shown(response) -> int:
    return len(set(ROW_LINK.findall(response.content.decode())))


def run_scale(scale: int, requests: int, load: str) -> None:
    with c.scratch_dir(f"hazards-{scale}x") as work:
        var = work / "var"
        (var / "static").mkdir(parents=True)
        c.migrate(var)
        setup_django(var)

        from django.db import connection, reset_queries
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from yingji.core.interchange import import_file
        from yingji.core.models import Region
        from yingji.core.services import create_user

        today = timezone.localdate()
        n_ent = ENTERPRISES * scale
        seconds = Grower(work).grow(n_ent)
        start = time.perf_counter()
        records, summary = activity(scale, today)
        generated = time.perf_counter() - start
        start = time.perf_counter()
        if load == "import":
            path = work / "activity.jsonl"
            c.write_jsonl(path, records)
            import_file(path, actor=None)
        else:
            bulk_load(records)
        loaded = time.perf_counter() - start
        print(f"\n== scale {scale}×: {n_ent:,} enterprises (imported in {seconds:.0f} s)")
        print(f"   last 12 months: {summary}")
        print(
            f"   {len(records):,} records generated in {generated:.1f} s, "
            f"loaded ({load}) in {loaded:.0f} s ({len(records) / loaded:,.0f}/s)"
        )

        users = {
            "leader": create_user(
                by=None, username="bench-leader", password="bench-pass-1", role="leader"
            ),
            "town": create_user(
                by=None,
                username="bench-town",
                password="bench-pass-1",
                role="town_officer",
                region=Region.objects.get(ref="630103008"),
            ),
        }
        print(
            f"   {'user':<7} {'page':<16} {'queries':>7} {'rows':>5} {'median':>8} {'p90':>8}  url"
        )
        slow = {}
        for who, user in users.items():
            client = Client()
            client.force_login(user)
            for label, url in URLS:
                response = client.get(url)  # warm (and: is the page there?)
                if response.status_code != 200:
                    note = "not wired yet, skipped" if response.status_code == 404 else "skipped"
                    print(f"   {who:<7} {label:<16} GET {url} → {response.status_code}: {note}")
                    continue
                reset_queries()
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(url)
                queries = list(ctx.captured_queries)  # a view of the log, which requests reset
                times = []
                for _ in range(requests):
                    start = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - start) * 1000)
                print(
                    f"   {who:<7} {label:<16} {len(queries):>7} {shown(response):>5} "
                    f"{c.median(times):6.1f}ms {c.percentile(times, 90):6.1f}ms  {url}"
                )
                if who == "leader":
                    slow[label] = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:2]
        print(f"   slowest SQL of one leader request at {scale}×:")
        for label, queries in slow.items():
            for q in queries:
                sql = " ".join(q["sql"].split())
                print(
                    f"     {label:<16} {float(q['time']) * 1000:7.1f} ms  "
                    f"{sql[:130]}{'…' if len(sql) > 130 else ''}"
                )
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="multiples of the district-year")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument(
        "--load",
        choices=["bulk", "import"],
        default="bulk",
        help="write the activity in bulk (default) or through the import engine (slow at 10×)",
    )
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)  # one scale, in a child
    args, _unknown = parser.parse_known_args()  # scripts/bench.sh passes its args to all
    if args.only:
        run_scale(args.only, args.requests, args.load)
        return
    print(
        "pages as a logged-in leader and town officer (总寨镇); queries of one request, "
        f"times over {args.requests} warm requests; rows = records linked on the page"
    )
    status = 0
    for scale in (int(s) for s in args.scales.split(",")):
        cmd = [sys.executable, __file__, "--only", str(scale), "--requests", str(args.requests)]
        cmd += ["--load", args.load]
        status |= subprocess.run(cmd, env=dict(os.environ)).returncode
    sys.exit(status)


if __name__ == "__main__":
    main()
