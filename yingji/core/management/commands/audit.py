from django.core.management.base import BaseCommand
from tqdm import tqdm

from yingji.core import audit
from yingji.core.models import AuditEntry


class Command(BaseCommand):
    help = "Audit chain tools: `yingji audit verify` recomputes every hash."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **opts) -> None:
        total = AuditEntry.objects.count()
        with tqdm(
            total=total,
            desc="verifying",
            unit=" entries",
            disable=opts["verbosity"] == 0,
            file=self.stderr,
        ) as bar:
            result = audit.verify(progress=bar.update)
        if result.ok:
            self.stdout.write(f"audit chain intact: {result.checked} entries")
            return
        reasons = {
            "altered": "its contents do not match its hash",
            "prev_hash": "it does not point to the entry before it",
            "missing": "the entry is missing",
            "truncated": "entries after it were removed",
        }
        self.stderr.write(
            f"audit chain broken at entry #{result.broken_seq}: {reasons[result.reason]} "
            f"({result.checked} entries before it are intact)"
        )
        raise SystemExit(1)
