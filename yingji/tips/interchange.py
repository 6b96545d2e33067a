"""The `tip` record type."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.core.interchange import Field, RecordType, register
from yingji.tips.models import Channel, Tip


class TipType(RecordType):
    type = "tip"
    model = Tip
    fields = (
        Field("channel", kind="enum", required=True, choices=tuple(Channel.values)),
        Field("received_on", kind="date", required=True),
        Field("enterprise", kind="ref", ref_type="enterprise"),
        Field("content", required=True, max_length=5000),
        Field("anonymous", kind="bool", default=True),
        Field("status", kind="enum", required=True, choices=tuple(Tip.Status.values)),
        Field("verified", kind="bool", default=False),
        Field("closed_on", kind="date"),
        Field("reward_status", kind="enum", choices=tuple(Tip.Reward.values)),
        Field("reward_amount", kind="decimal"),
        Field("reward_paid_on", kind="date"),
    )

    def check(self, data: dict) -> list[tuple[str, str]]:
        problems = []
        if data["status"] == "closed" and not data.get("closed_on"):
            problems.append(("closed_on", _("a closed tip needs its closing date")))
        if data.get("closed_on") and data["closed_on"] < data["received_on"]:
            problems.append(("closed_on", _("the closing date cannot precede the tip")))
        if not data.get("content"):
            problems.append(("content", _("write what was reported")))
        if data["status"] in ("received", "assigned", "verifying", "unfounded") and data.get(
            "verified"
        ):
            problems.append(("verified", _("only a verified (or closed) tip is found true")))
        if data.get("reward_status") and not data.get("verified"):
            problems.append(("reward_status", _("only a tip found true earns a reward")))
        if data.get("reward_status") == "paid" and not data.get("reward_paid_on"):
            problems.append(("reward_paid_on", _("a paid reward needs its payment date")))
        if data.get("reward_amount") and not data.get("reward_status"):
            problems.append(("reward_amount", _("an amount needs a reward status")))
        return problems

    def prepare(self, obj, ctx) -> None:
        # The time of a tip made on the platform is kept; an imported one arrives at 09:00.
        if obj.received_at is None or timezone.localdate(obj.received_at) != obj.received_on:
            obj.received_at = datetime.datetime.combine(
                obj.received_on, datetime.time(9), tzinfo=timezone.get_current_timezone()
            )


register(TipType())
