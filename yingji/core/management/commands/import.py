from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yingji.core.interchange import REGISTRY, ImportFailed, import_file
from yingji.core.management.commands._actor import resolve_actor


class Command(BaseCommand):
    help = "Import records from a .jsonl or .xlsx file in the interchange format."
    # Bulk loads are often scripted: skip the system checks' half second at start-up.
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?")
        parser.add_argument("--types", action="store_true", help="list the known record types")
        parser.add_argument("--user", help="the importing user (actor in the audit log)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts) -> None:
        if opts["types"]:
            self.stdout.write(" ".join(sorted(REGISTRY)))
            return
        if not opts["file"]:
            raise CommandError("give a FILE to import, or --types")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = resolve_actor(opts["user"])
        quiet = opts["no_progress"] or opts["verbosity"] == 0

        def bar(phase: str, total: int | None):
            label = {"validate": "checking", "write": "writing"}[phase]
            return tqdm(total=total, desc=label, unit=" rec", disable=quiet, file=self.stderr)

        try:
            result = import_file(path, actor=actor, progress_factory=bar)
        except ImportFailed as exc:
            for problem in exc.errors:
                self.stderr.write(str(problem))
            self.stderr.write(f"{len(exc.errors)} error(s); nothing was written.")
            raise SystemExit(1) from None
        self.stdout.write(
            f"imported {result.records} records: {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
