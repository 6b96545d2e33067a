import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from yingji.core import services as core_services
from yingji.core.models import Department, Region
from yingji.demo import alerts, district, ledgers, year
from yingji.enterprises import services as ent_services
from yingji.enterprises.models import Enterprise


class Command(BaseCommand):
    help = "Build the demo district 城中区 (idempotent), print the logins and serve it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="build only")
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--seed", type=int, default=2025)

    def handle(self, *args, **opts) -> None:
        start = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        self.build(opts["seed"], quiet=opts["verbosity"] == 0)
        self.stdout.write(f"demo built in {time.perf_counter() - start:.1f} s")
        self.print_logins()
        if not opts["no_serve"]:
            call_command("serve", opts["addr"])

    def build(self, seed: int, quiet: bool = False) -> None:
        def bar(phase, total):
            return tqdm(
                total=total, desc=f"demo: {phase}", unit=" rec", disable=quiet, file=self.stderr
            )

        year.import_changes(
            [*district.regions(), *district.enterprises(seed)],
            label="district",
            stdout=self.stdout,
            progress_factory=bar,
        )
        departments = []
        for order, (name, duties) in enumerate(district.DEPARTMENTS):
            dept, _ = Department.objects.get_or_create(
                name=name, defaults={"order": order, "duties": duties}
            )
            departments.append(dept)
        User = get_user_model()
        for username, role, full_name, dept, region_ref in district.USERS:
            if User.objects.filter(username=username).exists():
                continue
            user = core_services.create_user(
                by=None,
                username=username,
                password=district.DEMO_PASSWORD,
                role=role,
                full_name=full_name,
                email=f"{username}@demo.invalid",
                region=Region.objects.get(ref=region_ref) if region_ref else None,
                department=departments[dept] if dept is not None else None,
                is_staff=role == "admin",
            )
            if role == "enterprise":
                ent = Enterprise.objects.filter(sector="industrial_trade").order_by("ref").first()
                ent_services.link_account(user, ent, by=None)
        # A year of inspections and hazards (2025, as in the annual report) and this year up
        # to today, then plans, campaigns, checklists, a draw and today's visits.
        year.build(seed=seed, stdout=self.stdout, progress_factory=bar)
        # Tips and enforcement ledgers of 2025 (as in the report) and this year to date.
        year.import_changes(
            ledgers.records(seed, timezone.localdate()),
            label="ledgers",
            stdout=self.stdout,
            progress_factory=bar,
        )
        # Warnings and roll-calls of 2025 (as in the report) and this year, the recipient
        # units with their contacts, the alert templates and a live warning.
        alerts.build(seed=seed, stdout=self.stdout, progress_factory=bar)

    def print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {district.DEMO_PASSWORD})")
        for username, role, full_name, _dept, region in district.USERS:
            scope = f" — {Region.objects.get(ref=region).name}" if region else ""
            if role == "enterprise":
                acct = Enterprise.objects.filter(accounts__user__username=username).first()
                scope = f" — {acct.name}" if acct else ""
            self.stdout.write(f"  {username:<11} {role:<16} {full_name}{scope}")
        self.stdout.write("")
