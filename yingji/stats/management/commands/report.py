from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from yingji.core import ledger
from yingji.stats import figures, report


class Command(BaseCommand):
    help = (
        "Write the annual report on law-based government work (--year) or a summary of any "
        "period (--quarter, --month, --start/--end) as a .docx, filled from the figures."
    )

    def add_arguments(self, parser) -> None:
        ledger.add_period_arguments(parser)
        parser.add_argument(
            "--region", help="a town or village (ref or code); default the district"
        )
        parser.add_argument("--out", help="the .docx to write (default: a name for the period)")

    def handle(self, *args, **opts) -> None:
        try:
            period = ledger.period_from(opts)
        except ValidationError as exc:
            raise CommandError(ledger.period_errors(exc)) from None
        region = None
        if opts["region"]:
            region = figures.find_region(opts["region"])
            if region is None:
                raise CommandError(f"no such region: {opts['region']}")
        out = Path(opts["out"] or report.filename(period))
        if out.suffix.lower() != ".docx":
            raise CommandError("the file name must end in .docx")
        out.write_bytes(report.build(period, region=region))
        self.stdout.write(f"wrote {period.label} to {out}")
