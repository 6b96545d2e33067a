"""Building blocks of the alert page and API tests."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yingji.alerts import services
from yingji.alerts.models import Alert, Call, Contact, Recipient, Unit
from yingji.core.models import AuditEntry, Notification, Region, WebhookDelivery


def draft(world, *, level="yellow", regions=None, headline="暴雨黄色预警", **kw) -> Alert:
    regions = [world.town1, world.town2] if regions is None else regions
    return services.create_draft(
        by=world.duty,
        kind="warning",
        hazard_type="rainstorm",
        level=level,
        headline=headline,
        body="预计未来6小时内降雨量将达50毫米以上。",
        instructions="做好山洪地质灾害防范，必要时转移危险区群众。",
        regions=regions,
        **kw,
    )


def issued(world, **kw) -> Alert:
    """A warning out to the units of the area (yellow: no approval needed)."""
    return services.issue(draft(world, **kw), by=world.duty)


def recipient(alert: Alert, unit: Unit) -> Recipient:
    return alert.recipients.get(unit=unit)


def first_call(alert: Alert, unit: Unit) -> Call:
    return (
        Call.objects.filter(recipient__alert=alert, recipient__unit=unit).order_by("step").first()
    )


def later(minutes: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def state() -> tuple:
    """Everything an alert act could change: compared before and after a refused one."""
    rows = tuple(
        list(m.objects.order_by("pk").values()) for m in (Alert, Recipient, Call, Unit, Contact)
    )
    m2m = list(Alert.regions.through.objects.order_by("pk").values_list("alert_id", "region_id"))
    counts = (AuditEntry, Notification, WebhookDelivery)
    return (*rows, m2m, *(m.objects.count() for m in counts))


def more_villages(world, units: dict, n: int, start: int = 10) -> None:
    """n more villages under town 1, each a unit with a two-rung ladder."""
    for i in range(start, start + n):
        village = Region.objects.create(
            ref=f"V{i}", name=f"村{i}", level="village", parent=world.town1
        )
        unit = Unit.objects.create(name=village.name, kind=Unit.Kind.REGION, region=village)
        for position, role in enumerate(("duty", "head"), start=1):
            Contact.objects.create(
                unit=unit,
                position=position,
                role=role,
                name=f"V{i}-{role}",
                phone=f"139{i:04d}{position:04d}",
                email=f"v{i}-{role}@example.test",
            )
        units[village.ref] = unit


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)
