"""The `tip` record type."""

import datetime

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
        if data.get("reward_status") and not data.get("verified"):
            problems.append(("reward_status", _("only a tip found true earns a reward")))
        if data.get("reward_status") == "paid" and not data.get("reward_paid_on"):
            problems.append(("reward_paid_on", _("a paid reward needs its payment date")))
        if data.get("reward_amount") and not data.get("reward_status"):
            problems.append(("reward_amount", _("an amount needs a reward status")))
        return problems

    def model_values(self, data: dict, ctx) -> dict:
        values = super().model_values(data, ctx)
        received = values["received_on"]
        values["received_at"] = datetime.datetime.combine(
            received, datetime.time(9), tzinfo=datetime.UTC
        )
        return values


register(TipType())
