from django.core.management.base import BaseCommand, CommandError

from yingji.inspections.models import Draw
from yingji.inspections.services import verify_draw
from yingji.lib.draw import DrawError


class Command(BaseCommand):
    help = "Double-random draw tools: `yingji draw verify DRAW_ID` recomputes a draw."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("draw_id", type=int)

    def handle(self, *args, **opts) -> None:
        try:
            draw = Draw.objects.get(pk=opts["draw_id"])
        except Draw.DoesNotExist:
            raise CommandError(f"no draw with id {opts['draw_id']}") from None
        try:
            ok, reason = verify_draw(draw)
        except DrawError as exc:
            # Inputs edited together with their digest can be impossible to draw at all.
            ok, reason = False, f"the published inputs cannot be drawn ({exc})"
        if ok:
            self.stdout.write(
                f"draw {draw.pk} verified: the published inputs "
                f"(sha256 {draw.inputs_digest}) give the recorded result"
            )
            return
        self.stderr.write(f"draw {draw.pk} does not verify: {reason}")
        raise SystemExit(1)
