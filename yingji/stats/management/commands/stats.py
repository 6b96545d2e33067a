"""`yingji stats`: the figures of the annual report for a period and an area."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from yingji.stats import figures
from yingji.stats.api import parse_period


def _shown(value) -> str:
    return "—" if value is None else str(value)


class Command(BaseCommand):
    help = (
        "Print the figures of the annual report (docs/statistics.md) for a period, "
        "optionally for one region; --missing lists the keys not computed yet."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--start", help="first day, YYYY-MM-DD (Asia/Shanghai)")
        parser.add_argument("--end", help="last day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--region", help="region ref or administrative code")
        parser.add_argument("--format", choices=("json", "table"), default="table")
        parser.add_argument("--missing", action="store_true", help="list the keys not computed")

    def handle(self, *args, **opts) -> None:
        if opts["missing"]:
            self._print(dict.fromkeys(figures.missing()), opts["format"], values=False)
            return
        if not opts["start"] or not opts["end"]:
            raise CommandError("give --start and --end (YYYY-MM-DD), or --missing", returncode=2)
        try:
            start, end = parse_period(opts["start"], opts["end"])
        except ValidationError as exc:
            problems = "; ".join(
                f"--{name}: {' '.join(map(str, messages))}"
                for name, messages in exc.message_dict.items()
            )
            raise CommandError(problems, returncode=2) from None
        region = None
        if opts["region"]:
            region = figures.find_region(opts["region"])
            if region is None:
                raise CommandError(f"--region: no region {opts['region']!r}", returncode=2)
        self._print(figures.compute(start, end, region), opts["format"])

    def _print(self, data: dict, fmt: str, values: bool = True) -> None:
        if fmt == "json":
            payload = data if values else list(data)
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        width = max((len(k) for k in data), default=0)
        shown = {k: _shown(v) for k, v in data.items()}
        value_width = max((len(v) for v in shown.values()), default=0) if values else 0
        for key, value in shown.items():
            label = str(figures.LABELS.get(key, ""))
            cells = [key.ljust(width)]
            if values:
                cells.append(value.rjust(value_width))
            cells.append(label)
            self.stdout.write("  ".join(cells).rstrip())
