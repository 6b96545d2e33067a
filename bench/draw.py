"""A double-random draw (双随机) at scale: 500 enterprises from 50,000 candidates.

One temporary SQLite database gets N enterprises through the import engine, a leader, a pool
of 20 inspectors and some conflicts (回避). Then each step of a draw runs through the services
and is timed on its own: prepare_draw (freeze candidates, pool and conflicts), publish_draw
(seed and digest), execute_draw (the draw, one planned inspection per drawn enterprise) and
verify_draw (recompute from the published inputs). Repeated --repeat times; the median is
printed with the SQL query count of each step and the size of the frozen inputs.

    .venv/bin/python bench/draw.py [--rows N] [--draw 500] [--pool 20] [--conflicts 400]
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
from enterprise_list import Grower, setup_django  # noqa: E402


def timed(fn, *args, **kwargs):
    """(result, seconds, SQL queries) of one call."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the log keeps 9,000 queries: start each step with an empty one
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds = time.perf_counter() - start
    return result, seconds, len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="enterprises (candidates)")
    parser.add_argument("--draw", type=int, default=500, help="enterprises to draw")
    parser.add_argument("--pool", type=int, default=20, help="inspectors in the pool")
    parser.add_argument("--conflicts", type=int, default=400, help="inspector conflicts")
    parser.add_argument("--repeat", type=int, default=3, help="draws to time")
    args, _unknown = parser.parse_known_args()  # scripts/bench.sh passes its args to all

    with c.scratch_dir("draw") as work:
        var = work / "var"
        (var / "static").mkdir(parents=True)
        c.migrate(var)
        setup_django(var)

        from django.core.exceptions import ValidationError
        from django.db import connection

        from yingji.core.services import create_user
        from yingji.enterprises.models import Enterprise
        from yingji.inspections import services
        from yingji.inspections.models import Draw, Inspection, InspectorConflict

        grower = Grower(work)
        seconds = grower.grow(args.rows)
        active = Enterprise.objects.filter(status="active").count()
        print(
            f"data: {args.rows:,} enterprises ({active:,} active: the candidates), "
            f"imported in {seconds:.1f} s"
        )
        leader = create_user(
            by=None, username="bench-leader", password="bench-pass-1", role="leader"
        )
        pool = [
            create_user(
                by=None,
                username=f"bench-inspector-{i:02d}",
                password="bench-pass-1",
                role="inspector",
                full_name=f"检查员{i:02d}",
            )
            for i in range(1, args.pool + 1)
        ]
        rng = random.Random(2025)
        ids = list(Enterprise.objects.filter(status="active").values_list("pk", flat=True))
        pairs = {(rng.choice(pool).pk, rng.choice(ids)) for _ in range(args.conflicts)}
        InspectorConflict.objects.bulk_create(
            [InspectorConflict(inspector_id=u, enterprise_id=e, reason="亲属") for u, e in pairs]
        )
        print(f"pool: {len(pool)} inspectors, {len(pairs)} conflicts; drawing {args.draw} × 2")

        steps = ("prepare_draw", "publish_draw", "execute_draw", "verify_draw")
        figures: dict[str, list[tuple[float, int]]] = {s: [] for s in steps}
        for k in range(1, args.repeat + 1):
            try:
                draw, s, q = timed(
                    services.prepare_draw,
                    by=leader,
                    title=f"bench draw {k}",
                    year=2026,
                    n=args.draw,
                    pool=pool,
                    per_enterprise=2,
                )
            except Exception as exc:  # a failing service is a finding: say it and go on
                print(f"  !! prepare_draw failed with {len(ids):,} candidates: {exc!r}")
                break
            figures["prepare_draw"].append((s, q))
            draw, s, q = timed(services.publish_draw, draw, by=leader, seed=f"bench-seed-{k}")
            figures["publish_draw"].append((s, q))
            try:
                draw, s, q = timed(services.execute_draw, draw, by=leader)
            except ValidationError as exc:
                print(f"  !! execute_draw failed: {exc.messages}")
                break
            figures["execute_draw"].append((s, q))
            (ok, why), s, q = timed(services.verify_draw, Draw.objects.get(pk=draw.pk))
            figures["verify_draw"].append((s, q))
            if not ok:
                print(f"  !! verify_draw says {why}")
        if not figures["prepare_draw"]:
            connection.close()
            return

        draw = Draw.objects.order_by("-pk").first()
        size = len(json.dumps([draw.candidates, draw.pool, draw.conflicts, draw.result]))
        drawn = Inspection.objects.filter(draw=draw).count()
        print(
            f"one draw: {len(draw.candidates):,} candidates, {sum(map(len, draw.conflicts.values()))}"
            f" conflicts frozen, {drawn} planned inspections; inputs + result {size / 1e6:.2f} MB"
        )
        print(f"\nper step, median of {len(figures['prepare_draw'])} draw(s):")
        print(f"  {'step':<14} {'median':>9} {'min':>9} {'max':>9} {'queries':>8}")
        for step in steps:
            rows = figures[step]
            if not rows:
                print(f"  {step:<14} (not reached)")
                continue
            times = [s * 1000 for s, _q in rows]
            print(
                f"  {step:<14} {c.median(times):7.0f}ms {min(times):7.0f}ms {max(times):7.0f}ms "
                f"{rows[-1][1]:>8}"
            )
        connection.close()


if __name__ == "__main__":
    main()
