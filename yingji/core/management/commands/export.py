from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yingji.core.interchange import REGISTRY, export_file
from yingji.core.management.commands._actor import resolve_actor


class Command(BaseCommand):
    help = "Export records to a .jsonl or .xlsx file in the interchange format."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--types", help="comma-separated record types (default: all)")
        parser.add_argument("--user", help="export only what this user may see")

    def handle(self, *args, **opts) -> None:
        types = None
        if opts["types"]:
            types = [t.strip() for t in opts["types"].split(",") if t.strip()]
            unknown = [t for t in types if t not in REGISTRY]
            if unknown:
                raise CommandError(f"unknown record type(s): {', '.join(unknown)}")
        if not opts["file"].lower().endswith((".jsonl", ".xlsx")):
            raise CommandError("the file name must end in .jsonl or .xlsx")
        user = resolve_actor(opts["user"])
        with tqdm(
            desc="exporting", unit=" rec", disable=opts["verbosity"] == 0, file=self.stderr
        ) as bar:
            n = export_file(opts["file"], types=types, user=user, progress=bar.update)
        self.stdout.write(f"exported {n} records to {opts['file']}")
