"""The hazard ledger (隐患台账): the hazards page's export and the annual ledger alike."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingji.core import ledger
from yingji.hazards.models import Hazard

TITLE = gettext_lazy("Hazard ledger")
HEADERS = [
    (gettext_lazy("Found on"), 12, ledger.DATE),
    (gettext_lazy("Enterprise"), 36),
    (gettext_lazy("Credit code"), 22),
    (gettext_lazy("Town / village"), 22),
    (gettext_lazy("Level"), 8),
    (gettext_lazy("Category"), 14),
    (gettext_lazy("Description"), 48),
    (gettext_lazy("Legal basis"), 30),
    (gettext_lazy("Order number"), 24),
    (gettext_lazy("Deadline"), 12, ledger.DATE),
    (gettext_lazy("Status"), 12),
    (gettext_lazy("Closed on"), 12, ledger.DATE),
    (gettext_lazy("Overdue"), 8),
    (gettext_lazy("Responsible"), 12),
]


def rows(qs):
    today = timezone.localdate()
    qs = qs.select_related("enterprise__region", "responsible", "order")
    for h in qs.iterator(chunk_size=2000):
        yield (
            h.found_on,
            h.enterprise.name,
            h.enterprise.uscc,
            h.enterprise.region.name,
            h.get_level_display(),
            h.get_category_display(),
            h.description,
            h.legal_basis,
            h.order.number if h.order else "",
            h.deadline,
            h.get_status_display(),
            h.closed_on,
            _("yes") if h.status != "closed" and h.deadline and h.deadline < today else "",
            str(h.responsible) if h.responsible else "",
        )


def sheet(qs) -> ledger.Sheet:
    """The ledger of a list of hazards (already limited to what the viewer may see)."""
    return ledger.Sheet("hazards", TITLE, HEADERS, rows(qs))


def build(
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    user=None,
    region=None,
) -> ledger.Sheet:
    """The hazards found in [start, end]."""
    qs = ledger.in_scope(Hazard.objects.all(), user=user, region=region)
    qs = ledger.in_period(qs, "found_on", start, end)
    return sheet(qs.order_by("found_on", "pk"))
