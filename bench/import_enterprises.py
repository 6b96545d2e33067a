"""Import throughput and memory: N enterprise records (+ the demo regions), .jsonl and .xlsx.

Each import runs as `yingji import FILE --no-progress` in a subprocess against a fresh SQLite
database in a temporary YINGJI_VAR_DIR; figures are wall time (including the command's own
start-up, printed separately) and the subprocess's peak RSS.

    .venv/bin/python bench/import_enterprises.py [--rows N] [--profile]

--profile also runs the .jsonl import under cProfile (in a subprocess) and prints the top
functions by cumulative and by own time.
"""

import argparse
import itertools
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

AIM_ROWS_PER_S = 5000
AIM_RSS_MB = 300
RESULT_RE = re.compile(r"imported (\d+) records: (\d+) created, (\d+) updated, (\d+) unchanged")


def summary(run: c.Run) -> str:
    m = RESULT_RE.search(run.stdout)
    return m.group(0) if m else run.stdout.strip()[-200:]


def check_counts(run: c.Run, created: int, unchanged: int) -> None:
    m = RESULT_RE.search(run.stdout)
    if not m or (int(m.group(2)), int(m.group(4))) != (created, unchanged):
        print(
            f"  !! unexpected result: {run.stdout.strip()} (wanted {created} created, "
            f"{unchanged} unchanged)"
        )


def line(label: str, run: c.Run, rows: int, startup: float, rate_aim: bool = False) -> None:
    """Print one import's figures; the rate aim is stated for .jsonl, the memory aim for all."""
    rate = rows / run.seconds
    net = rows / max(run.seconds - startup, 1e-9)
    aim = f"  (aim ≥ {AIM_ROWS_PER_S:,}/s)" if rate_aim else ""
    print(
        f"  {label:<22} {run.seconds:7.2f} s  {rate:8,.0f} rows/s{aim}"
        f"  [{net:,.0f}/s without start-up]"
    )
    print(f"  {'':<22} peak RSS {run.max_rss_mb:6.0f} MB  (aim < {AIM_RSS_MB} MB)")
    print(f"  {'':<22} {summary(run)}")


def profile_import(work: Path, jsonl: Path) -> None:
    var = work / "profile"
    var.mkdir()
    c.migrate(var)
    stats = work / "import.prof"
    code = (
        "import cProfile, sys; from yingji.cli import main; "
        f"sys.argv = ['yingji', 'import', {str(jsonl)!r}, '--no-progress']; "
        f"cProfile.run('main()', {str(stats)!r})"
    )
    run = c.run_measured([sys.executable, "-c", code], c.bench_env(var))
    if run.returncode != 0:
        print(f"  profiling failed:\n{run.stderr[-2000:]}")
        return
    print(f"  under cProfile: {run.seconds:.1f} s ({summary(run)})")
    import io
    import pstats

    for key, title in (("cumulative", "cumulative"), ("tottime", "own time")):
        out = io.StringIO()
        pstats.Stats(str(stats), stream=out).sort_stats(key).print_stats(25)
        text = out.getvalue()
        body = text[text.find("   ncalls") :]
        print(f"\n  top 25 by {title}:")
        for row in body.rstrip().splitlines():
            print("  " + row.replace(str(c.ROOT) + "/", "").replace(sys.prefix + "/", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="enterprise records")
    parser.add_argument("--profile", action="store_true", help="also profile the .jsonl import")
    args = parser.parse_known_args()[0]
    n = args.rows

    with c.scratch_dir("import") as work:
        regions = c.region_records()
        total = n + len(regions)
        jsonl = work / f"enterprises-{n}.jsonl"
        xlsx = work / f"enterprises-{n}.xlsx"
        t = time.perf_counter()
        c.write_jsonl(jsonl, itertools.chain(regions, c.enterprise_records(n)))
        t_jsonl = time.perf_counter() - t
        t = time.perf_counter()
        c.write_xlsx(
            xlsx,
            {
                "region": (c.REGION_FIELDS, regions),
                "enterprise": (c.ENTERPRISE_FIELDS, c.enterprise_records(n)),
            },
        )
        t_xlsx = time.perf_counter() - t
        print(f"data: {n:,} enterprises + {len(regions)} regions = {total:,} records")
        print(f"  .jsonl {c.mb(jsonl):6.1f} MB (written in {t_jsonl:.1f} s)")
        print(f"  .xlsx  {c.mb(xlsx):6.1f} MB (written in {t_xlsx:.1f} s)")

        dbs = {}
        for fmt in ("jsonl", "xlsx"):
            dbs[fmt] = work / f"var-{fmt}"
            dbs[fmt].mkdir()
            c.migrate(dbs[fmt])
        # Fixed cost of any `yingji` command (interpreter + Django start-up), for reference.
        startup_runs = [c.yingji(dbs["jsonl"], "import", "--types") for _ in range(3)]
        startup = c.median([r.seconds for r in startup_runs])
        base_rss = max(r.max_rss_mb for r in startup_runs)
        print(f"start-up of a `yingji` command: {startup:.2f} s, {base_rss:.0f} MB RSS")

        print("\nimport into a fresh SQLite database:")
        first = c.yingji(dbs["jsonl"], "import", str(jsonl), "--no-progress")
        line(".jsonl", first, total, startup, rate_aim=True)
        check_counts(first, total, 0)
        again = c.yingji(dbs["jsonl"], "import", str(jsonl), "--no-progress")
        line(".jsonl re-import", again, total, startup)
        check_counts(again, 0, total)
        xl = c.yingji(dbs["xlsx"], "import", str(xlsx), "--no-progress")
        line(".xlsx", xl, total, startup)
        check_counts(xl, total, 0)
        db = dbs["jsonl"] / "yingji.sqlite3"
        wal = db.with_name(db.name + "-wal")
        wal_mb = c.mb(wal) if wal.exists() else 0.0
        print(f"\ndatabase after the .jsonl import: {c.mb(db):.0f} MB (+ WAL {wal_mb:.0f} MB)")

        if args.profile:
            print("\nprofile of the .jsonl import:")
            profile_import(work, jsonl)


if __name__ == "__main__":
    main()
