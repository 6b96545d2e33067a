from django.core.management import call_command
from django.core.management.base import BaseCommand

from yingji.core.notify import deliver_outbox

# Tasks that keep themselves scheduled (daily reminders…); apps add theirs in ready().
STARTUP_TASKS: list = []


class Command(BaseCommand):
    help = "Run the background worker (notifications, imports, …) on the database queue."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="process everything due, then exit"
        )
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, **opts) -> None:
        # Rows left pending by a stopped worker (or a lost wake-up) are picked up on start.
        deliver_outbox.enqueue()
        for startup in STARTUP_TASKS:
            startup()
        args = ["--interval", str(opts["interval"]), "--no-startup-delay"]
        if opts["batch"]:
            args.append("--batch")
        call_command("db_worker", *args, verbosity=opts["verbosity"])
