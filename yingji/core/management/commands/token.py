from django.core.management.base import BaseCommand, CommandError

from yingji.core import services
from yingji.core.management.commands._actor import resolve_actor


class Command(BaseCommand):
    help = "API tokens: `yingji token create USER NAME`, `yingji token revoke PREFIX`."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("args", nargs="+")

    def handle(self, *args, **opts) -> None:
        if opts["action"] == "create":
            if len(args) != 2:
                raise CommandError("usage: yingji token create USER NAME")
            user = resolve_actor(args[0])
            _token, key = services.create_api_token(user, args[1], by=None)
            self.stdout.write(key)
        else:
            n = services.revoke_api_token(args[0], by=None)
            self.stdout.write(f"revoked {n} token(s)")
