"""GET /api/v1/stats: the figures of the annual report for a period and an area.

The answer is the flat object of `yingji.stats.figures.compute` (docs/statistics.md).
Who may ask (capability `stats.view`): leaders and district staff for the district or any
region; a town or village officer for their own area only (no region given: their region;
a region outside it: 404, as for one that does not exist). Others: 403. Dates are
YYYY-MM-DD local dates, both inclusive; a malformed date or an end before the start: 422.
"""

import datetime
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from yingji.stats import figures

router = Router(tags=["stats"])

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class StatsQuery(Schema):
    start: str = Field(..., description="first day of the period, YYYY-MM-DD (local date)")
    end: str = Field(..., description="last day of the period, YYYY-MM-DD (inclusive)")
    region: str = Field("", description="region ref or administrative code; default the district")


def parse_period(start: str, end: str) -> tuple[datetime.date, datetime.date]:
    """Both dates, or a ValidationError naming each bad field (used by the CLI too)."""
    errors, days = {}, {}
    for name, text in (("start", start), ("end", end)):
        try:
            if not _DAY.fullmatch(text or ""):
                raise ValueError
            days[name] = datetime.date.fromisoformat(text)
        except ValueError:
            errors[name] = [_("Give a date as YYYY-MM-DD.")]
    if not errors and days["end"] < days["start"]:
        errors["end"] = [_("The end of the period cannot be before its start.")]
    if errors:
        raise ValidationError(errors)
    return days["start"], days["end"]


@router.get("", response=dict[str, int | str | None])
def get_stats(request, q: Query[StatsQuery]):
    if not request.auth.can("stats.view"):
        raise PermissionDenied
    start, end = parse_period(q.start, q.end)
    region = figures.scope_region(request.auth, q.region or None)
    return figures.compute(start, end, region)
