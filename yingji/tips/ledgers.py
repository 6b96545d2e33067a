"""The tips ledger (举报台账): no reporter identity in it."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from yingji.core import ledger
from yingji.tips.models import Tip

TITLE = gettext_lazy("Tips ledger")
HEADERS = [
    (gettext_lazy("Received on"), 12, ledger.DATE),
    (gettext_lazy("Channel"), 14),
    (gettext_lazy("Hotline ticket"), 16),
    (gettext_lazy("Enterprise"), 32),
    (gettext_lazy("What was reported"), 50),
    (gettext_lazy("Status"), 10),
    (gettext_lazy("Found true"), 8),
    (gettext_lazy("Handler"), 12),
    (gettext_lazy("Handling deadline"), 12, ledger.DATE),
    (pgettext_lazy("tip", "Closed on"), 12, ledger.DATE),
    (gettext_lazy("Reward"), 10),
    (gettext_lazy("Reward (yuan)"), 12, ledger.MONEY),
]


def rows(qs):
    for t in qs.select_related("enterprise", "assignee").iterator(chunk_size=2000):
        yield (
            t.received_on,
            t.get_channel_display(),
            t.hotline_ticket or "",
            t.enterprise.name if t.enterprise else t.enterprise_name,
            t.content,
            t.get_status_display(),
            _("yes") if t.verified else "",
            str(t.assignee) if t.assignee else "",
            t.deadline,
            t.closed_on,
            t.get_reward_status_display(),
            t.reward_amount,
        )


def sheet(qs) -> ledger.Sheet:
    """The ledger of a list of tips (already limited to what the viewer may see)."""
    return ledger.Sheet("tips", TITLE, HEADERS, rows(qs))


def build(
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    user=None,
    region=None,
) -> ledger.Sheet:
    """The tips received in [start, end]; inside a region, those about its enterprises (the
    scope rule of Tip.objects.visible_to)."""
    qs = ledger.in_scope(Tip.objects.all(), user=user, region=region)
    qs = ledger.in_period(qs, "received_on", start, end)
    return sheet(qs.order_by("received_on", "pk"))
