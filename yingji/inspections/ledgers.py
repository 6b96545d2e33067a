"""The inspection ledger (检查台账): the inspections page's export and the annual ledger."""

import datetime

from django.utils.translation import gettext_lazy

from yingji.core import ledger
from yingji.inspections.models import Inspection

TITLE = gettext_lazy("Inspection ledger")
HEADERS = [
    (gettext_lazy("Date"), 12, ledger.DATE),
    (gettext_lazy("Enterprise"), 36),
    (gettext_lazy("Credit code"), 22),
    (gettext_lazy("Sector"), 14),
    (gettext_lazy("Town / village"), 24),
    (gettext_lazy("Mode"), 12),
    (gettext_lazy("Methods"), 18),
    (gettext_lazy("Inspectors"), 24),
    (gettext_lazy("Status"), 10),
    (gettext_lazy("Record number"), 24),
]


def rows(qs):
    for i in qs.select_related("enterprise__region").iterator(chunk_size=2000):
        yield (
            i.date,
            i.enterprise.name,
            i.enterprise.uscc,
            i.enterprise.get_sector_display(),
            i.enterprise.region.name,
            i.get_mode_display(),
            i.methods_display(),
            i.inspector_names,
            i.get_status_display(),
            i.record_no,
        )


def sheet(qs) -> ledger.Sheet:
    """The ledger of a list of inspections (already limited to what the viewer may see)."""
    return ledger.Sheet("inspections", TITLE, HEADERS, rows(qs))


def build(
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    user=None,
    region=None,
) -> ledger.Sheet:
    """Every inspection dated in [start, end], whatever its state (the status column says)."""
    qs = ledger.in_scope(Inspection.objects.all(), user=user, region=region)
    qs = ledger.in_period(qs, "date", start, end)
    return sheet(qs.order_by("date", "pk"))
