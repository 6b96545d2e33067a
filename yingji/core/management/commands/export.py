from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yingji.core import ledger
from yingji.core.interchange import REGISTRY, export_file
from yingji.core.management.commands._actor import resolve_actor
from yingji.core.models import Region


class Command(BaseCommand):
    help = (
        "Export records to a .jsonl or .xlsx file in the interchange format, or with --ledger "
        "one ledger (台账) of a period as a formatted .xlsx."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--types", help="comma-separated record types (default: all)")
        parser.add_argument("--user", help="export only what this user may see")
        parser.add_argument(
            "--ledger", choices=sorted(ledger.LEDGERS), help="write this ledger instead"
        )
        ledger.add_period_arguments(parser)
        parser.add_argument("--region", help="ledger of a town or village only (ref or code)")

    def handle(self, *args, **opts) -> None:
        user = resolve_actor(opts["user"])
        if opts["ledger"]:
            return self.export_ledger(opts, user)
        if any(opts[name] for name in (*ledger.PERIOD_ARGS, "region")):
            raise CommandError("a period and --region apply to --ledger only")
        types = None
        if opts["types"]:
            types = [t.strip() for t in opts["types"].split(",") if t.strip()]
            unknown = [t for t in types if t not in REGISTRY]
            if unknown:
                raise CommandError(f"unknown record type(s): {', '.join(unknown)}")
        if not opts["file"].lower().endswith((".jsonl", ".xlsx")):
            raise CommandError("the file name must end in .jsonl or .xlsx")
        with tqdm(
            desc="exporting", unit=" rec", disable=opts["verbosity"] == 0, file=self.stderr
        ) as bar:
            n = export_file(opts["file"], types=types, user=user, progress=bar.update)
        self.stdout.write(f"exported {n} records to {opts['file']}")

    def export_ledger(self, opts, user) -> None:
        if opts["types"]:
            raise CommandError("--types and --ledger exclude each other")
        if not opts["file"].lower().endswith(".xlsx"):
            raise CommandError("a ledger is an .xlsx file: the file name must end in .xlsx")
        try:
            period = ledger.period_from(opts)
        except ValidationError as exc:
            raise CommandError(ledger.period_errors(exc)) from None
        region = None
        if opts["region"]:
            code = opts["region"]
            region = (
                Region.objects.filter(ref=code).first()
                or Region.objects.filter(code=code).order_by("path").first()
            )
            if region is None:
                raise CommandError(f"no such region: {code}")
        sheet = ledger.build(
            opts["ledger"], start=period.start, end=period.end, user=user, region=region
        )
        with open(opts["file"], "wb") as fh:
            n = ledger.write_sheet(fh, sheet)
        self.stdout.write(f"wrote {n} rows of the {opts['ledger']} ledger to {opts['file']}")
