"""The alert ledger (预警信息台账): every warning, forwarded weather item, bulletin and
weather-station message issued, with how many units were alerted and how many answered."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from yingji.alerts.models import Alert, Recipient
from yingji.core import ledger
from yingji.core.models import Region

CENT = Decimal("0.01")
TITLE = gettext_lazy("Alert ledger")
HEADERS = [
    (gettext_lazy("Issued at"), 17, ledger.DATETIME),
    (gettext_lazy("Kind"), 16),
    (gettext_lazy("Level"), 8),
    (gettext_lazy("Hazard type"), 12),
    (gettext_lazy("Headline"), 40),
    (gettext_lazy("Target area"), 30),
    (gettext_lazy("Units alerted"), 10),
    (gettext_lazy("Units acknowledged"), 10),
    (gettext_lazy("Acknowledgement rate (%)"), 12, "0.00"),
    (gettext_lazy("Status"), 10),
    (gettext_lazy("Lifted at"), 17, ledger.DATETIME),
    (pgettext_lazy("alert ledger", "Issued by"), 12),
]


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def rows(qs):
    for a in qs.iterator(chunk_size=2000):
        rate = None
        if a.n_units:
            rate = (Decimal(a.n_acked * 100) / a.n_units).quantize(CENT, ROUND_HALF_UP)
        yield (
            a.issued_at,
            a.get_kind_display(),
            a.get_level_display(),
            a.get_hazard_type_display(),
            a.headline,
            "、".join(r.name for r in a.regions.all()),
            a.n_units,
            a.n_acked,
            rate,
            a.get_status_display(),
            a.lifted_at,
            str(a.issued_by) if a.issued_by else "",
        )


def build(
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    user=None,
    region=None,
) -> ledger.Sheet:
    """The alerts issued in [start, end] (Asia/Shanghai dates); inside a region, those sent to
    a unit of it, counting that region's units only."""
    qs = Alert.objects.issued()
    if user is not None:
        qs = qs.visible_to(user)
    units = Q(recipients__isnull=False)  # every unit alerted, or those of the region
    if region is not None:
        units = Q(recipients__unit__region__path__startswith=region.path)
        inside = Recipient.objects.filter(unit__region__path__startswith=region.path)
        qs = qs.filter(pk__in=inside.values("alert_id"))
    if start is not None:
        qs = qs.filter(issued_at__gte=_day_start(start))
    if end is not None:
        qs = qs.filter(issued_at__lt=_day_start(end + datetime.timedelta(days=1)))
    qs = (
        qs.select_related("issued_by")
        .prefetch_related(Prefetch("regions", queryset=Region.objects.order_by("path")))
        .annotate(
            n_units=Count("recipients", filter=units),
            n_acked=Count(
                "recipients", filter=units & Q(recipients__acknowledged_at__isnull=False)
            ),
        )
        .order_by("issued_at", "pk")
    )
    return ledger.Sheet("alerts", TITLE, HEADERS, rows(qs))
