"""The reports page: the annual report and the monthly and quarterly summaries (.docx), and
the ledgers (.xlsx) of a period.

Reports are the bureau's (stats.report: district staff); ledgers are for everyone with
stats.ledger, a town or village officer's covering their own area only (figures.scope_region
picks the area, the records' visible_to limits the rows).
"""

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from yingji.core import ledger
from yingji.core.access import capability_required
from yingji.core.models import Region
from yingji.core.roles import DISTRICT_WIDE
from yingji.stats import figures, report

YEARS_BACK = 6


def _region(user, ref: str | None) -> Region | None:
    """The area asked for, inside the viewer's scope; anything outside it is not there."""
    try:
        return figures.scope_region(user, ref or None)
    except PermissionDenied:
        raise Http404 from None


def _page(request: HttpRequest, *, errors=None, status: int = 200) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    years = list(range(today.year, today.year - YEARS_BACK, -1))
    quarters = [f"{y}Q{q}" for y in years[:3] for q in (4, 3, 2, 1)]
    areas = []
    if user.role in DISTRICT_WIDE:
        areas = list(Region.objects.exclude(level=Region.Level.DISTRICT).order_by("path"))
    context = {
        "can_report": user.can("stats.report"),
        "can_ledger": user.can("stats.ledger"),
        "years": years,
        "quarters": [q for q in quarters if q <= f"{today.year}Q{(today.month - 1) // 3 + 1}"],
        "this_month": f"{today:%Y-%m}",
        "this_year": today.year,
        "areas": areas,
        "own_area": user.region if user.role not in DISTRICT_WIDE else None,
        "ledgers": [(name, ledger.title(name)) for name in ledger.LEDGERS],
        "errors": errors or {},
    }
    return render(request, "stats/reports.html", context, status=status)


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """The page: whoever may download a report or a ledger."""
    if not (request.user.can("stats.report") or request.user.can("stats.ledger")):
        raise PermissionDenied
    return _page(request)


def _period(request: HttpRequest, *, default_year: bool = False) -> ledger.Period:
    params = request.GET
    if default_year and not any(params.get(name) for name in ledger.PERIOD_ARGS):
        year = timezone.localdate().year
        return ledger.Period("year", datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    return ledger.period_from(params)


@capability_required("stats.report")
def report_download(request: HttpRequest) -> HttpResponse:
    """The annual report (?year=) or the summary of a quarter, a month or two dates."""
    try:
        period = _period(request)
    except ValidationError as exc:
        return _page(request, errors=exc.message_dict, status=400)
    region = _region(request.user, request.GET.get("region"))
    return ledger.docx_response(report.build(period, region=region), report.filename(period))


@capability_required("stats.ledger")
def ledger_download(request: HttpRequest, name: str) -> HttpResponse:
    """One ledger of a period (the current year when none is given) as .xlsx."""
    if name not in ledger.LEDGERS:
        raise Http404
    try:
        period = _period(request, default_year=True)
    except ValidationError as exc:
        return _page(request, errors=exc.message_dict, status=400)
    region = _region(request.user, request.GET.get("region"))
    sheet = ledger.build(name, start=period.start, end=period.end, user=request.user, region=region)
    stem = f"{name}-{period.slug}" + (f"-{region.ref}" if region is not None else "")
    return ledger.sheet_response(sheet, filename=f"{stem}.xlsx")
