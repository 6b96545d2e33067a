"""The enterprise list (HTML page and API): queries per request, and response time at scale.

One temporary SQLite database is grown in steps through the import engine (regions + N
enterprises). At each small size the number of SQL queries of every URL is counted for a
logged-in leader (and a town officer, whose scope is a subtree); the counts should not grow
with N. At the large size each URL is requested repeatedly and the median and p90 times are
printed, with the slowest SQL statements of one request.

    .venv/bin/python bench/enterprise_list.py [--rows N] [--requests K] [--sizes 10,10000]
"""

import argparse
import itertools
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

URLS = [
    ("HTML list", "/enterprises/"),
    ("HTML search", "/enterprises/?q=青海&sector=industrial_trade"),
    ("API list", "/api/v1/enterprises?limit=50"),
]


def setup_django(var: Path) -> None:
    os.environ.update(c.bench_env(var))
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "yingji.settings"
    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    assert str(settings.DATABASES["default"]["NAME"]).startswith(str(var))


class Grower:
    """Brings the database to N enterprises (E-000001…E-N) through the import engine."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.count = 0

    def grow(self, n: int) -> float:
        from yingji.core.interchange import import_file

        path = self.work / f"grow-{n}.jsonl"
        first = self.count == 0
        records = c.enterprise_records(n - self.count, start=self.count + 1)
        c.write_jsonl(path, itertools.chain(c.region_records() if first else [], records))
        start = time.perf_counter()
        import_file(path, actor=None)
        seconds = time.perf_counter() - start
        path.unlink()
        self.count = n
        return seconds


def get(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} → {response.status_code}:\n{response.content[:2000]!r}")
    return response


def count_queries(client, url: str) -> tuple[int, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get(client, url)  # warm: first-request costs (session, caches) are not the point
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, url)
    return len(ctx.captured_queries), ctx.captured_queries, items_shown(url, response)


def items_shown(url: str, response) -> int:
    if url.startswith("/api/"):
        return len(response.json()["items"])
    return len(set(re.findall(r'href="/enterprises/(\d+)/"', response.content.decode())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="enterprises for timing")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per URL")
    parser.add_argument("--sizes", default="10,10000", help="sizes at which queries are counted")
    parser.add_argument("--show-queries", action="store_true", help="print every query counted")
    args = parser.parse_known_args()[0]
    sizes = sorted({min(int(s), args.rows) for s in args.sizes.split(",")})

    with c.scratch_dir("list") as work:
        var = work / "var"
        (var / "static").mkdir(parents=True)  # whitenoise warns when STATIC_ROOT is missing
        c.migrate(var)
        setup_django(var)

        from django.test import Client

        from yingji.core.models import Region
        from yingji.core.services import create_user

        grower = Grower(work)
        grower.grow(sizes[0])
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
        clients = {}
        for name, user in users.items():
            clients[name] = Client()
            clients[name].force_login(user)

        # -- queries per request ---------------------------------------------------------
        counts: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for n in sizes:
            if n != grower.count:
                grower.grow(n)
            for who, client in clients.items():
                for label, url in URLS:
                    number, queries, shown = count_queries(client, url)
                    counts.setdefault((who, label), []).append((number, shown))
                    if args.show_queries:
                        print(f"-- {who} {label} at N={n}: {number} queries")
                        for q in queries:
                            print(f"   {q['sql'][:300]}")
        head = "".join(f"{'N=' + format(n, ','):>16}" for n in sizes)
        print("SQL queries per request, (rows shown); the count should not grow with N:")
        print(f"  {'user':<7} {'page':<12}{head}")
        for (who, label), pairs in counts.items():
            numbers = {number for number, _shown in pairs}
            flag = ""
            if len(numbers) > 1:
                empty = any(shown == 0 for _number, shown in pairs)
                flag = "   <-- differs" + (
                    " (a page with no rows skips its row query)" if empty else ""
                )
            url = dict(URLS)[label]
            cells = "".join(f"{f'{number} ({shown} rows)':>16}" for number, shown in pairs)
            print(f"  {who:<7} {label:<12}{cells}   {url}{flag}")

        # -- response times at scale ---------------------------------------------------
        if args.rows > grower.count:
            grown = args.rows - grower.count
            seconds = grower.grow(args.rows)
            print(
                f"\ngrew to {args.rows:,} enterprises (in-process import of {grown:,}: {seconds:.1f} s)"
            )
        print(
            f"\nresponse time at N={grower.count:,}, {args.requests} requests each (leader, warm):"
        )
        print(f"  {'page':<12} {'median':>8} {'p90':>8} {'min':>8} {'max':>8}  shown  url")
        client = clients["leader"]
        # Besides the first pages: the last page of each list (OFFSET pagination walks there).
        from yingji.enterprises.models import Enterprise

        active = Enterprise.objects.filter(status="active").count()
        deep = [
            ("HTML last pg", f"/enterprises/?page={max(1, -(-active // 25))}"),
            ("API last pg", f"/api/v1/enterprises?limit=50&offset={max(0, active - 50)}"),
        ]
        slow = {}
        for label, url in [*URLS, *deep]:
            response = get(client, url)  # warm
            shown = items_shown(url, response)
            times = []
            for _ in range(args.requests):
                start = time.perf_counter()
                get(client, url)
                times.append((time.perf_counter() - start) * 1000)
            print(
                f"  {label:<12} {c.median(times):6.1f}ms {c.percentile(times, 90):6.1f}ms "
                f"{min(times):6.1f}ms {max(times):6.1f}ms  {shown:>5}  {url}"
            )
            _n, queries, _shown = count_queries(client, url)
            slow[label] = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:3]
        print("\nslowest SQL of one request at this size:")
        for label, queries in slow.items():
            print(f"  {label}:")
            for q in queries:
                sql = " ".join(q["sql"].split())
                print(
                    f"    {float(q['time']) * 1000:7.1f} ms  {sql[:160]}{'…' if len(sql) > 160 else ''}"
                )

        from django.db import connection

        connection.close()


if __name__ == "__main__":
    main()
