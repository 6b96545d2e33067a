"""Rendering 1,000 documents: documents per second printed.

One temporary SQLite database gets a few enterprises (through the import engine) and, for
each, the life of a case made through the services only: an inspection with a hazard (and a
photo), the rectification order, a case opened from the hazard, penalties taken through
notice → statement → leader's approval → decision, and a supervision letter. Then --documents
documents are rendered in a round-robin mix of the five kinds (行政处罚告知书, 行政处罚决定书,
督办函, 责令限期整改指令书, 现场检查记录), each from a freshly fetched record as a download
view would (the fetch is not timed; the related records the renderer reads are): documents
per second overall and per kind, the median and p90 time, the median .docx size and the SQL
queries of one render. Last, a referral of one case gets --attachments files and its whole
case file (案件移送材料 .zip, enforcement.package) is built --repeat times: the median.

    .venv/bin/python bench/documents.py [--enterprises 5] [--documents 1000] [--attachments 4]
                                        [--profile]

--profile also renders 20 documents of each kind under cProfile and prints the top functions
by cumulative time.
"""

import argparse
import datetime
import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
from enterprise_list import Grower, setup_django  # noqa: E402

FACTS = "检查发现你单位除尘器灰斗积尘未及时清理，经责令限期整改，逾期未改正。"
BASIS = "《中华人民共和国安全生产法》第九十九条第二项"
HAZARD = "除尘器灰斗积尘未及时清理"
HAZARD_BASIS = "《工贸企业粉尘防爆安全规定》第十二条第一款"
STATEMENT = "我单位已安排专人清扫，请求从轻处罚。"
LETTER_TO = "人民街街道办事处"
LETTER_CONTENT = "请督促该单位落实粉尘清扫制度，并对辖区同类企业开展排查。"
AMOUNTS = ["2000", "15000.50", "92750", "300000"]  # below and above the hearing threshold


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG of noise (does not compress away, like a real photo)."""
    from PIL import Image

    rng = random.Random(seed)
    img = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def pdf(seed: int, kb: int = 300) -> bytes:
    rng = random.Random(seed)
    return b"%PDF-1.4\n" + rng.randbytes(kb * 1024) + b"\n%%EOF\n"


def upload(name: str, data: bytes, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def build(enterprise, *, inspector, leader, penalties: int, seed: int) -> dict:
    """One enterprise's case, through the services: inspection → hazard → order → case →
    penalties (notice → statement → approval → decision) → supervision letter."""
    from django.utils import timezone

    from yingji.enforcement import services
    from yingji.hazards import services as hazard_services
    from yingji.inspections import services as inspection_services

    today = timezone.localdate()  # the services' today (Asia/Shanghai), not the machine's
    insp = inspection_services.schedule_inspection(
        by=inspector, enterprise=enterprise, date=today, inspectors=[inspector]
    )
    inspection_services.start_inspection(insp, by=inspector)
    hazard = hazard_services.report_hazard(
        by=inspector,
        enterprise=enterprise,
        found_on=today,
        description=HAZARD,
        legal_basis=HAZARD_BASIS,
        inspection=insp,
        photos=[upload("灰斗积尘.jpg", photo(seed), "image/jpeg")],
    )
    inspection_services.complete_inspection(insp, by=inspector)
    order = hazard_services.issue_order(
        [hazard], by=inspector, deadline=today + datetime.timedelta(days=7)
    )
    case = services.open_case(by=inspector, enterprise=enterprise, title=HAZARD, hazard=hazard)
    decided = []
    for k in range(penalties):
        p = services.draft_penalty(
            case,
            by=inspector,
            legal_basis=BASIS,
            facts=FACTS,
            amount=AMOUNTS[(seed + k) % len(AMOUNTS)],
        )
        p = services.serve_penalty_notice(p, by=inspector)
        p = services.record_statement(p, by=inspector, statement=STATEMENT)
        p = services.approve_penalty(p, by=leader)
        decided.append(services.decide_penalty(p, by=inspector))
    letter = services.issue_letter(
        case,
        by=inspector,
        addressee=LETTER_TO,
        content=LETTER_CONTENT,
        deadline=today + datetime.timedelta(days=10),
    )
    return {
        "inspection": insp,
        "hazard": hazard,
        "order": order,
        "case": case,
        "penalties": decided,
        "letter": letter,
    }


def kinds():
    """(kind, title, model, renderer) of the documents in the mix."""
    from yingji.enforcement.documents import (
        render_penalty_decision,
        render_penalty_notice,
        render_supervision_letter,
    )
    from yingji.enforcement.models import Penalty, SupervisionLetter
    from yingji.hazards.documents import render_order
    from yingji.hazards.models import RectificationOrder
    from yingji.inspections.documents import render_inspection_record
    from yingji.inspections.models import Inspection

    return [
        ("notice", "行政处罚告知书", Penalty, render_penalty_notice),
        ("decision", "行政处罚决定书", Penalty, render_penalty_decision),
        ("letter", "督办函", SupervisionLetter, render_supervision_letter),
        ("order", "责令限期整改指令书", RectificationOrder, render_order),
        ("inspection", "现场检查记录", Inspection, render_inspection_record),
    ]


def count_queries(fn, obj) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn(obj)
    return len(ctx.captured_queries)


def build_referral(case, *, inspector, leader, attachments: int):
    """Draft, attach `attachments` files (PDFs and photos), approve and send a referral."""
    from yingji.core.attachments import attach
    from yingji.enforcement import services

    referral = services.draft_referral(
        case,
        by=inspector,
        authority="西宁市应急管理局",
        reason="当事人逾期未改正且拒不执行，依法移送。",
    )
    total = 0
    for i in range(attachments):
        if i % 2 == 0:
            data, name, mime = pdf(100 + i), f"询问笔录{i + 1}.pdf", "application/pdf"
        else:
            data, name, mime = photo(100 + i, (1600, 1200)), f"现场照片{i + 1}.jpg", "image/jpeg"
        att = attach(referral, upload(name, data, mime), by=inspector, caption=name)
        total += att.size
    referral = services.approve_referral(referral, by=leader)
    return services.send_referral(referral, by=inspector), total


def profile(mix, pks: dict, per_kind: int = 20) -> None:
    import cProfile
    import pstats

    objs = [
        (render, model.objects.get(pk=pks[kind][i % len(pks[kind])]))
        for kind, _title, model, render in mix
        for i in range(per_kind)
    ]
    prof = cProfile.Profile()
    prof.enable()
    for render, obj in objs:
        render(obj)
    prof.disable()
    print(f"\nprofile of {len(objs)} renders ({per_kind} of each kind), by cumulative time:")
    pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats("cumulative").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=5, help="enterprises, a case each")
    parser.add_argument("--penalties", type=int, default=2, help="decided penalties per case")
    parser.add_argument("--documents", type=int, default=1000, help="documents to render")
    parser.add_argument("--attachments", type=int, default=4, help="files of the referral")
    parser.add_argument("--repeat", type=int, default=5, help="referral package builds")
    parser.add_argument("--profile", action="store_true", help="also profile the rendering")
    args, _unknown = parser.parse_known_args()  # scripts/bench.sh passes its args to all

    with c.scratch_dir("documents") as work:
        var = work / "var"
        (var / "static").mkdir(parents=True)
        c.migrate(var)
        setup_django(var)

        from django.db import connection

        from yingji.core.services import create_user
        from yingji.enforcement.package import build_referral_package
        from yingji.enterprises.models import Enterprise

        Grower(work).grow(args.enterprises)
        leader = create_user(
            by=None, username="bench-leader", password="bench-pass-1", role="leader"
        )
        inspector = create_user(
            by=None,
            username="bench-inspector",
            password="bench-pass-1",
            role="inspector",
            full_name="检查员01",
        )
        start = time.perf_counter()
        cases = [
            build(e, inspector=inspector, leader=leader, penalties=args.penalties, seed=i)
            for i, e in enumerate(Enterprise.objects.filter(status="active").order_by("pk"))
        ]
        seconds = time.perf_counter() - start
        print(
            f"data: {len(cases)} enterprises, a case each with {args.penalties} decided "
            f"penalties, a letter, an order and an inspection record; built through the "
            f"services in {seconds:.1f} s"
        )

        pks = {
            "notice": [p.pk for b in cases for p in b["penalties"]],
            "decision": [p.pk for b in cases for p in b["penalties"]],
            "letter": [b["letter"].pk for b in cases],
            "order": [b["order"].pk for b in cases],
            "inspection": [b["inspection"].pk for b in cases],
        }
        mix = kinds()
        # Warm (imports, templates, fonts) and count the queries of one render of each kind.
        queries = {}
        for kind, _title, model, render in mix:
            queries[kind] = count_queries(render, model.objects.get(pk=pks[kind][0]))

        times: dict[str, list[float]] = {kind: [] for kind, *_ in mix}
        sizes: dict[str, list[int]] = {kind: [] for kind, *_ in mix}
        rendering = cpu = 0.0
        for i in range(args.documents):
            kind, _title, model, render = mix[i % len(mix)]
            objs = pks[kind]
            obj = model.objects.get(pk=objs[(i // len(mix)) % len(objs)])  # fresh, untimed
            t0, p0 = time.perf_counter(), time.process_time()
            data = render(obj)
            dt = time.perf_counter() - t0
            cpu += time.process_time() - p0
            rendering += dt
            times[kind].append(dt)
            sizes[kind].append(len(data))
        all_sizes = [s for v in sizes.values() for s in v]
        print(
            f"\n{args.documents:,} documents rendered in {rendering:.2f} s: "
            f"{args.documents / rendering:,.1f} documents/s (one process, render time only; "
            f"{args.documents / cpu:,.1f}/s per CPU second: a gap is time spent waiting for a CPU); "
            f"median size {c.median(all_sizes) / 1024:.1f} KiB"
        )
        print(
            f"  {'kind':<11} {'n':>5} {'docs/s':>8} {'median':>8} {'p90':>8} {'size':>9} "
            f"{'queries':>8}  title"
        )
        for kind, title, _model, _render in mix:
            t = times[kind]
            if not t:
                continue
            print(
                f"  {kind:<11} {len(t):>5} {len(t) / sum(t):>8,.1f} "
                f"{c.median(t) * 1000:6.1f}ms {c.percentile(t, 90) * 1000:6.1f}ms "
                f"{c.median(sizes[kind]) / 1024:6.1f}KiB {queries[kind]:>8}  {title}"
            )

        if args.profile:
            profile(mix, pks)

        # -- the referral package ------------------------------------------------------------
        case = cases[0]["case"]
        referral, attached = build_referral(
            case, inspector=inspector, leader=leader, attachments=args.attachments
        )
        build_referral_package(referral)  # warm
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            data = build_referral_package(referral)
        builds = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            data = build_referral_package(referral)
            builds.append(time.perf_counter() - t0)
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.namelist()
        documents = sum(1 for n in members if n.startswith("文书/"))
        files = sum(1 for n in members if n.startswith("附件/"))
        print(
            f"\nreferral package of one case ({args.attachments} files attached to the referral, "
            f"{attached / 1e6:.1f} MB; the hazard photo; {args.penalties} penalties): "
            f"{len(members)} members ({documents} documents, {files} attachments), "
            f"{len(data) / 1e6:.2f} MB"
        )
        print(
            f"  build_referral_package, median of {args.repeat}: {c.median(builds) * 1000:.0f} ms "
            f"(min {min(builds) * 1000:.0f}, max {max(builds) * 1000:.0f}); "
            f"{len(ctx.captured_queries)} SQL queries"
        )
        connection.close()


if __name__ == "__main__":
    main()
