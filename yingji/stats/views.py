"""The dashboard (统计看板) and its drill-down lists.

The dashboard shows figures.compute() for a period and an area with the change against the
same period a year earlier, charts from figures.series(), and what needs action today. Every
number links to /stats/records/<key>/ with the same period and area, which lists
figures.records(): the very records the number counts, so any figure can be checked by hand.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from yingji.alerts.models import Alert, Recipient
from yingji.core import ledger
from yingji.core.access import capability_required
from yingji.core.models import Region
from yingji.core.roles import DISTRICT_WIDE
from yingji.enterprises.models import Sector
from yingji.hazards.models import Hazard
from yingji.stats import figures
from yingji.tips.models import Tip

PAGE_SIZE = 50
# How many rows each "needs action today" panel lists (the rest are one click away).
ACTION_ROWS = 8

# The key figure cards: (figure, the count whose records the card opens). A rate opens its
# denominator's records, an amount the acts it adds up.
CARDS = [
    ("inspections.total", "inspections.total"),
    ("hazards.general.found", "hazards.general.found"),
    ("hazards.general.rectified", "hazards.general.rectified"),
    ("hazards.general.rectification_rate", "hazards.general.found"),
    ("hazards.major.found", "hazards.major.found"),
    ("hazards.overdue", "hazards.overdue"),
    ("enforcement.penalties", "enforcement.penalties"),
    ("enforcement.penalties.amount", "enforcement.penalties"),
    ("tips.hotline.received", "tips.hotline.received"),
    ("tips.platform.received", "tips.platform.received"),
    ("alerts.warnings", "alerts.warnings"),
    ("alerts.acknowledged_rate", None),
    ("rollcall.towns", "rollcall.towns"),
    ("rollcall.villages", "rollcall.villages"),
]
# Figures with no list of records open a page that explains them instead.
CARD_PAGES = {"alerts.acknowledged_rate": "alerts-unit-stats"}
# A rate card also shows the two counts it divides.
RATE_PARTS = {
    "hazards.general.rectification_rate": ("hazards.general.rectified", "hazards.general.found"),
}
# The charts: (key, drawn as, on the second value axis).
MONTH_SERIES = [
    ("inspections.total", "bar", 0),
    ("hazards.found", "bar", 0),
    ("alerts.warnings", "line", 1),
]
TOWN_SERIES = [("inspections.total", "bar", 0), ("hazards.found", "bar", 0)]
SECTOR_SERIES = [("inspections.total", "pie", 0), ("hazards.found", "pie", 0)]


# -- the period and the area ---------------------------------------------------------------
def _year_earlier(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


class PeriodForm(forms.Form):
    """A year (to date, for the current one) or two dates; the area is checked apart."""

    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int, required=False)
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, *, today: datetime.date) -> None:
        super().__init__(data)
        self.today = today
        self.fields["year"].choices = [("", "—")] + [
            (y, str(y)) for y in range(today.year, today.year - 8, -1)
        ]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None) and not self.errors:
            missing = "end" if end is None else "start"
            self.add_error(missing, _("Give both dates, or neither to see a whole year."))
        elif start and end and start > end:
            self.add_error("end", _("The end date is before the start date."))
        elif start and end and (end - start).days > 366 * 10:
            self.add_error("end", _("Choose a period of at most ten years."))
        return data

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The chosen period; the current year to date when nothing (valid) was chosen."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("start") and data.get("end"):
            return data["start"], data["end"]
        year = data.get("year") or self.today.year
        end = self.today if year == self.today.year else datetime.date(year, 12, 31)
        return datetime.date(year, 1, 1), end


@dataclass
class Selection:
    """What the viewer chose, as the dashboard, the charts and the drill-down links share it."""

    start: datetime.date
    end: datetime.date
    region: Region | None

    def query(self, **overrides) -> str:
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.region is not None:
            params["region"] = self.region.ref
        params.update({k: v for k, v in overrides.items() if v is not None})
        return urlencode(params)

    def records_url(self, key: str | None, **overrides) -> str | None:
        if key is None:
            return None
        return reverse("stats-records", args=[key]) + "?" + self.query(**overrides)

    def earlier(self) -> "Selection":
        return Selection(_year_earlier(self.start), _year_earlier(self.end), self.region)


def _region(user, ref: str | None) -> Region | None:
    """The area asked for, inside the viewer's scope; anything outside it is not there."""
    try:
        return figures.scope_region(user, ref or None)
    except PermissionDenied:
        raise Http404 from None


def _selection(request: HttpRequest) -> tuple[PeriodForm, Selection]:
    form = PeriodForm(request.GET or None, today=timezone.localdate())
    start, end = form.period()
    return form, Selection(start, end, _region(request.user, request.GET.get("region")))


def _area_choices(user) -> list[Region]:
    """The areas the picker offers: every town and village to district staff, else their own."""
    if user.role in DISTRICT_WIDE:
        return list(Region.objects.exclude(level=Region.Level.DISTRICT).order_by("path"))
    return [user.region] if user.region_id else []


# -- numbers as people read them -----------------------------------------------------------
def _kind(key: str) -> str:
    if key in figures.MONEY_KEYS:
        return "money"
    if key in figures.RATE_KEYS:
        return "rate"
    if key == figures.MEDIAN:
        return "minutes"
    return "count"


def _decimal(value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _display(key: str, value) -> str:
    if value is None:
        return "—"
    kind = _kind(key)
    if kind == "rate":  # money is shown as it is: its label says yuan
        return f"{value}%"
    if kind == "minutes":
        return _("%(n)s min") % {"n": value}
    return str(value)


def _change(key: str, now, before) -> dict | None:
    """The change against a year earlier: ▲/▼ and percent (points for a rate)."""
    a, b = _decimal(now), _decimal(before)
    if a is None or b is None:
        return None
    if _kind(key) == "rate":
        diff = a - b
        text = _("%(n)s pts") % {"n": f"{abs(diff):.2f}"}
    elif b == 0:
        diff = a
        text = _("from 0") if a else "0%"
    else:
        diff = a - b
        text = f"{abs(diff) * 100 / b:.1f}%"
    direction = "up" if diff > 0 else "down" if diff < 0 else "same"
    return {"direction": direction, "text": text, "before": _display(key, before)}


def _label(key: str) -> str:
    return str(figures.LABELS.get(key, key))


# -- the dashboard -------------------------------------------------------------------------
class _Drill:
    """Which keys have a list of records behind them (asked once per key and request)."""

    def __init__(self, sel: Selection) -> None:
        self.sel, self.known = sel, {}

    def __call__(self, key: str | None) -> bool:
        if key is None:
            return False
        if key not in self.known:
            try:
                figures.records(key, self.sel.start, self.sel.end, self.sel.region)
            except KeyError:
                self.known[key] = False
            else:
                self.known[key] = True
        return self.known[key]


def _cards(sel: Selection, now: dict, before: dict, drill: _Drill) -> list[dict]:
    cards = []
    for key, target in CARDS:
        if key not in now:
            continue
        parts = [
            {"label": _label(p), "value": now.get(p), "url": sel.records_url(p)}
            for p in RATE_PARTS.get(key, ())
            if p in now and drill(p)
        ]
        cards.append(
            {
                "key": key,
                "label": _label(key),
                "value": _display(key, now[key]),
                "raw": now[key],
                "change": _change(key, now[key], before.get(key)),
                "url": sel.records_url(target)
                if drill(target)
                else _url(CARD_PAGES[key])
                if key in CARD_PAGES
                else None,
                "parts": parts,
            }
        )
    return cards


def _chart(sel, drill, spec, by, labels, bucket_query, **options) -> dict:
    """One chart's data: categories, and per series its values and drill-down links.

    `labels(buckets)` names the buckets figures.series() returned (in its order);
    `bucket_query(bucket)` narrows the drill-down link to one bucket."""
    keys = [key for key, _kind, _axis in spec]
    values = figures.series(keys, sel.start, sel.end, sel.region, by=by)
    buckets = list(dict.fromkeys(b for key in keys for b in values.get(key, {})))
    series = []
    for key, kind, axis in spec:
        got = values.get(key)
        if not got:
            continue  # a figure with no buckets here (e.g. no sector)
        data = [got.get(b) or 0 for b in buckets]
        links = [sel.records_url(key, **bucket_query(b)) if drill(key) else None for b in buckets]
        series.append(
            {"name": _label(key), "type": kind, "axis": axis, "data": data, "links": links}
        )
    categories = labels(buckets)
    rows = [
        {"label": label, "cells": [(s["data"][i], s["links"][i]) for s in series]}
        for i, label in enumerate(categories)
    ]
    return {
        # What the script draws (json_script), and the same numbers as a table.
        "spec": {"kind": spec[0][1], "categories": categories, "series": series, **options},
        "names": [s["name"] for s in series],
        "rows": rows,
        "empty": not any(any(s["data"]) for s in series),
    }


def _month_chart(sel: Selection, drill: _Drill) -> dict:
    fmt = "M" if sel.start.year == sel.end.year else "YEAR_MONTH_FORMAT"

    def first_day(bucket: str) -> datetime.date:
        return datetime.date.fromisoformat(bucket + "-01")

    def narrow(bucket):  # the month, cut to the chosen period
        first = first_day(bucket)
        last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        return {"start": max(first, sel.start).isoformat(), "end": min(last, sel.end).isoformat()}

    def labels(buckets):
        return [date_format(first_day(b), fmt) for b in buckets]

    return _chart(sel, drill, MONTH_SERIES, "month", labels, narrow)


def _town_chart(sel: Selection, drill: _Drill) -> dict:
    village = sel.region is not None and sel.region.level == Region.Level.VILLAGE

    def labels(buckets):
        names = dict(Region.objects.filter(ref__in=buckets).values_list("ref", "name"))
        return [names.get(b, b) for b in buckets]

    def narrow(bucket):
        # A village's figures sit in its town's bucket: the village stays the area.
        return {} if village else {"region": bucket}

    return _chart(sel, drill, TOWN_SERIES, "town", labels, narrow, horizontal=True)


def _sector_chart(sel: Selection, drill: _Drill) -> dict:
    names = dict(Sector.choices)
    return _chart(
        sel,
        drill,
        SECTOR_SERIES,
        "sector",
        lambda buckets: [str(names.get(b, b)) for b in buckets],
        lambda bucket: {"sector": bucket},
    )


def _in_area(qs, area: Region | None, *paths: str):
    if area is None:
        return qs
    q = Q()
    for path in paths:
        q |= Q(**{f"{path}__startswith": area.path})
    return qs.filter(q)


def _needs_action(user, region: Region | None, today: datetime.date) -> dict:
    """What cannot wait: overdue hazards, tips past their deadline, unanswered alerts."""
    area = figures.area_of(region)
    hazards = _in_area(
        Hazard.objects.visible_to(user).overdue(today), area, "enterprise__region__path"
    )
    tips = _in_area(Tip.objects.visible_to(user).overdue(today), area, "enterprise__region__path")
    waiting = Q(recipients__acknowledged_at__isnull=True)
    if area is not None:
        waiting &= Q(recipients__unit__region__path__startswith=area.path) | Q(
            recipients__unit__enterprise__region__path__startswith=area.path
        )
    escalated = (Recipient.State.ESCALATED, Recipient.State.UNANSWERED)
    alerts = (
        Alert.objects.visible_to(user)
        .current()
        .annotate(
            waiting=Count("recipients", filter=waiting),
            escalated=Count("recipients", filter=waiting & Q(recipients__state__in=escalated)),
        )
        .filter(waiting__gt=0)
    )
    # Only the panels the viewer may follow up are shown (and queried).
    can = {
        "hazards": user.can("hazard.board"),
        "tips": user.can("tip.view"),
        "alerts": user.can("alert.view"),
    }
    return {
        "can": can,
        "hazards": hazards.select_related("enterprise").order_by("deadline", "pk")[:ACTION_ROWS],
        "hazards_count": hazards.count() if can["hazards"] else 0,
        "tips": tips.select_related("enterprise").order_by("deadline", "pk")[:ACTION_ROWS],
        "tips_count": tips.count() if can["tips"] else 0,
        "alerts": alerts.order_by("-issued_at", "-pk")[:ACTION_ROWS],
        "alerts_count": alerts.count() if can["alerts"] else 0,
        "hazards_board": _url("hazards-overdue"),
        "tips_list": _url("tips-list", query="status=open&overdue=on"),
        "alerts_list": _url("alerts-list"),
    }


def _url(name: str, *args, query: str = "") -> str | None:
    """A link to another area's page, or none while that page is not there."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def _ledgers(user, sel: Selection) -> list[tuple[str, str]]:
    """The ledgers (.xlsx) of the same period and area, to check the figures row by row."""
    if not user.can("stats.ledger"):
        return []
    links = []
    for name in ledger.LEDGERS:
        url = _url("stats-ledger", name, query=sel.query())
        if url:
            links.append((ledger.title(name), url))
    return links


def dashboard_context(user, sel: Selection) -> dict:
    """Everything the dashboard body shows, for the home page and the dashboard alike."""
    now = figures.compute(sel.start, sel.end, sel.region)
    earlier = sel.earlier()
    before = figures.compute(earlier.start, earlier.end, earlier.region)
    drill = _Drill(sel)
    return {
        "sel": sel,
        "earlier": earlier,
        "cards": _cards(sel, now, before, drill),
        "charts": {
            "month": _month_chart(sel, drill),
            "town": _town_chart(sel, drill),
            "sector": _sector_chart(sel, drill),
        },
        "action": _needs_action(user, sel.region, timezone.localdate()),
        "reports_url": _url("stats-reports")
        if user.can("stats.report") or user.can("stats.ledger")
        else None,
        "ledgers": _ledgers(user, sel),
    }


def home_panel(user) -> tuple[str, dict] | None:
    """The dashboard on the home page: this year to date, in the user's own area."""
    if not user.can("stats.view"):
        return None
    today = timezone.localdate()
    try:
        region = _region(user, None)
    except Http404:  # an officer with no area yet
        return None
    sel = Selection(datetime.date(today.year, 1, 1), today, region)
    return "stats/dashboard_panel.html", dashboard_context(user, sel)


# First on the home page (core.views.HOME_PANELS).
home_panel.home_order = 0


@capability_required("stats.view")
def dashboard(request: HttpRequest) -> HttpResponse:
    form, sel = _selection(request)
    ctx = dashboard_context(request.user, sel)
    ctx.update(
        {
            "form": form,
            "areas": _area_choices(request.user),
            "area_locked": request.user.role not in DISTRICT_WIDE,
        }
    )
    return render(request, "stats/dashboard.html", ctx)


# -- the drill-down lists ------------------------------------------------------------------
def _day(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "Y-m-d H:i")
    return date_format(value, "Y-m-d")


def _safe_link(obj) -> str | None:
    try:
        return obj.get_absolute_url()
    except (AttributeError, NoReverseMatch):
        return None


def _case_link(act) -> str | None:
    return _url("enforcement-case", act.case_id)


@dataclass
class Columns:
    """How the drill-down list shows one record type: headings, cells, link, joins."""

    headings: list
    cells: object
    link: object = _safe_link
    related: tuple = ()


def _columns() -> dict[str, Columns]:
    h = gettext_lazy
    return {
        "inspections.inspection": Columns(
            [h("Date"), h("Enterprise"), h("Mode"), h("Status")],
            lambda o: [
                _day(o.date),
                o.enterprise.name,
                o.get_mode_display(),
                o.get_status_display(),
            ],
            related=("enterprise",),
        ),
        "hazards.hazard": Columns(
            [
                h("Found on"),
                h("Enterprise"),
                h("Level"),
                h("Description"),
                h("Deadline"),
                h("Status"),
                h("Closed on"),
            ],
            lambda o: [
                _day(o.found_on),
                o.enterprise.name,
                o.get_level_display(),
                o.description[:80],
                _day(o.deadline),
                o.get_status_display(),
                _day(o.closed_on),
            ],
            related=("enterprise",),
        ),
        "enforcement.penalty": Columns(
            [
                h("Decided on"),
                h("Decision number"),
                h("Enterprise"),
                h("Amount (yuan)"),
                h("Status"),
            ],
            lambda o: [
                _day(o.decided_on),
                o.decision_no,
                o.case.enterprise.name,
                o.amount,
                o.get_status_display(),
            ],
            _case_link,
            ("case__enterprise",),
        ),
        "enforcement.supervisionletter": Columns(
            [
                h("Issued on"),
                h("Document number"),
                h("Enterprise"),
                h("Addressee"),
                h("Reply by"),
                h("Replied on"),
            ],
            lambda o: [
                _day(o.issued_on),
                o.number,
                o.case.enterprise.name,
                o.addressee,
                _day(o.deadline),
                _day(o.replied_on),
            ],
            _case_link,
            ("case__enterprise",),
        ),
        "enforcement.interview": Columns(
            [h("Held on"), h("Enterprise"), h("Topics")],
            lambda o: [_day(o.held_on), o.case.enterprise.name, o.topics[:80]],
            _case_link,
            ("case__enterprise",),
        ),
        "enforcement.referral": Columns(
            [
                h("Sent on"),
                h("Document number"),
                h("Enterprise"),
                h("Receiving authority"),
                h("Status"),
            ],
            lambda o: [
                _day(o.sent_on),
                o.number,
                o.case.enterprise.name,
                o.authority,
                o.get_status_display(),
            ],
            _case_link,
            ("case__enterprise",),
        ),
        "tips.tip": Columns(
            [
                h("Received on"),
                h("Channel"),
                h("Enterprise"),
                h("What was reported"),
                h("Status"),
                h("Closed on"),
            ],
            lambda o: [
                _day(o.received_on),
                o.get_channel_display(),
                o.enterprise.name if o.enterprise else o.enterprise_name,
                o.content[:80],
                o.get_status_display(),
                _day(o.closed_on),
            ],
            related=("enterprise",),
        ),
        "alerts.alert": Columns(
            [h("Issued at"), h("Kind"), h("Level"), h("Headline"), h("Status")],
            lambda o: [
                _day(o.issued_at),
                o.get_kind_display(),
                o.get_level_display(),
                o.headline,
                o.get_status_display(),
            ],
        ),
        "alerts.rollcall": Columns(
            [h("Held at"), h("Topic")], lambda o: [_day(o.held_at), o.topic]
        ),
        "alerts.rollcallentry": Columns(
            [h("Held at"), h("Town or village"), h("Answered")],
            lambda o: [
                _day(o.rollcall.held_at),
                o.region.name,
                _("yes") if o.answered else _("no"),
            ],
            lambda o: _safe_link(o.rollcall),
            ("rollcall", "region"),
        ),
        "enterprises.enterprise": Columns(
            [h("Name"), h("Sector"), h("Area"), h("Status")],
            lambda o: [o.name, o.get_sector_display(), o.region.name, o.get_status_display()],
            related=("region",),
        ),
        "core.region": Columns(
            [h("Name"), h("Level"), h("Parent region")],
            lambda o: [o.name, o.get_level_display(), o.parent.name if o.parent else ""],
            lambda o: None,
            ("parent",),
        ),
    }


COLUMNS = _columns()


def _by_sector(key: str, qs, sector: str):
    """One slice of a by-sector chart: the records of that sector's enterprises, filtered as
    figures.series() filters the bucket."""
    fig = figures.BY_KEY[key]
    if sector not in Sector.values or fig.distinct or not fig.source.sector:
        raise Http404
    return qs.filter(**{fig.source.sector: sector})


@capability_required("stats.view")
def records(request: HttpRequest, key: str) -> HttpResponse:
    """The records a figure counts: the same period, area (and sector) as the figure."""
    form, sel = _selection(request)
    if form.is_bound and not form.is_valid():
        return render(request, "stats/records.html", {"form": form, "key": key}, status=400)
    try:
        qs = figures.records(key, sel.start, sel.end, sel.region)
    except KeyError:
        raise Http404 from None
    sector = request.GET.get("sector") or None
    if sector is not None:
        qs = _by_sector(key, qs, sector)
    fallback = Columns([pgettext_lazy("drill-down", "Record")], lambda o: [o])
    spec = COLUMNS.get(qs.model._meta.label_lower, fallback)
    if spec.related:
        qs = qs.select_related(*spec.related)
    if not qs.ordered:
        qs = qs.order_by("-pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(spec.link(obj), spec.cells(obj)) for obj in page]
    return render(
        request,
        "stats/records.html",
        {
            "key": key,
            "label": _label(key),
            "sel": sel,
            "sector": dict(Sector.choices).get(sector) if sector else None,
            "page": page,
            "rows": rows,
            "headings": spec.headings,
            "query": sel.query(sector=sector),
            "dashboard_query": sel.query(),
        },
    )
