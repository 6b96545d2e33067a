from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yingji.alerts import cap
from yingji.core.management.commands._actor import resolve_actor


def _problems(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            message if field in ("cap", "__all__") else f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return error.messages


class Command(BaseCommand):
    help = (
        "Forward CAP 1.2 messages (e.g. the meteorological service's) as draft alerts. All "
        "files are checked first; if any is refused, nothing is written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--user", help="the importing user, holding alert.ingest (actor in the audit log)"
        )

    def handle(self, *args, **opts) -> None:
        actor = resolve_actor(opts["user"])
        if actor is not None and not actor.can("alert.ingest"):
            raise CommandError(f"{actor.username} may not import alerts (needs alert.ingest)")
        paths = [Path(name) for name in opts["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
        messages, errors = [], []
        for path in paths:
            try:
                messages.append((path, cap.parse(path.read_bytes())))
            except ValidationError as exc:
                errors += [f"{path}: {problem}" for problem in _problems(exc)]
        results = []
        if not errors:
            try:
                with transaction.atomic():
                    for path, message in messages:
                        current = path
                        results.append((path, cap.apply(message, by=actor)))
            except ValidationError as exc:
                errors += [f"{current}: {problem}" for problem in _problems(exc)]
            except PermissionDenied:
                errors.append(f"{current}: {actor} may not act on what the message refers to")
        if errors:
            for problem in errors:
                self.stderr.write(problem)
            self.stderr.write(f"{len(errors)} problem(s); nothing was written.")
            raise SystemExit(1)
        for path, result in results:
            alert = result.alert
            line = f"{path}: {result.action} {alert.ref} (id {alert.pk}, {alert.status})"
            if result.unknown_codes:
                line += "; geocodes not ours: " + ", ".join(result.unknown_codes)
            self.stdout.write(line)
