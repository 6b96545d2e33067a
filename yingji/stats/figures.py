"""Every figure of the annual report (../shared/design/statistics.md) for any period and area.

One code path serves the CLI (`yingji stats`), the API (`/api/v1/stats`), the dashboard and
the .docx report, so a number means the same thing wherever it is read. docs/statistics.md
states each definition as built.

- `ALL_KEYS`: every key of statistics.md, in its order; `KEYS`: those computed here (the
  keys of `compute()`'s result, same order); `missing()`: the others (domains not built).
- `compute(start, end, region=None)`: the flat object. Counts are ints, money "92750.00",
  rates "99.89" (None when the denominator is 0), the median a decimal string or None.
- `records(key, …)`: the queryset a count figure counts (`records(k).count() ==
  compute()[k]`); KeyError for rates, sums and the median.
- `series(keys, …, by=month|town|sector)`: each bucket computed as its own period/area.
- `scope_region(user, ref)`: the area a user may ask for.

The database does the counting: each source table is read by one aggregate query with
conditional `Count`/`Sum(filter=Q(…))` for all its figures, so the number of queries is fixed
whatever the number of rows.

The period is inclusive, in Asia/Shanghai local dates: a date field counts when the date lies
in [start, end]; a timestamp (an alert's issue, a roll-call) when its local time falls on one
of those days. An area is a region's subtree (materialised `path`): records follow their
enterprise's region, alerts their recipient units, roll-calls their entries. The district
(the root of the tree) is the whole installation, records with no place included.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingji.alerts.models import Alert, Kind, Recipient, RollCallEntry
from yingji.core.models import Region
from yingji.core.roles import REGIONAL
from yingji.enforcement.models import Interview, Penalty, Referral, SupervisionLetter
from yingji.enterprises.models import Enterprise, Sector
from yingji.hazards.models import Hazard
from yingji.inspections.models import Inspection
from yingji.tips.models import Channel, Tip

IT, HC, GAS = Sector.INDUSTRIAL_TRADE, Sector.HAZARDOUS_CHEMICALS, Sector.GAS_STATION


# -- the period ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the end of the period is before its start")

    @property
    def since(self) -> datetime.datetime:
        """The first instant of the period (00:00 local time on the first day)."""
        return _local_midnight(self.start)

    @property
    def until(self) -> datetime.datetime:
        """The first instant after the period (00:00 local time the day after the end)."""
        return _local_midnight(self.end + datetime.timedelta(days=1))


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_default_timezone())


def _in_area(paths: tuple[str, ...], area: Region) -> Q:
    q = Q()
    for path in paths:
        q |= Q(**{f"{path}__startswith": area.path})
    return q


def enterprises_where(**lookups) -> models.QuerySet:
    """Enterprise ids as a subquery: `enterprise IN (…)` lets the database skip the join."""
    return Enterprise.objects.filter(**lookups).values("pk")


def of_sector(sector: str, lookup: str = "enterprise") -> Q:
    return Q(**{f"{lookup}__in": enterprises_where(sector=sector)})


# -- sources: one table each, one aggregate query each -------------------------------------------
class Source:
    """The rows of one table that any of its figures may count in a period."""

    model: type[models.Model]
    # The lookup to the rows' enterprise ("" for rows placed otherwise, see `paths`).
    enterprise: str = "enterprise"
    # Lookups reaching a region's `path`; a row is in an area when one of them lies under it.
    paths: tuple[str, ...] = ("enterprise__region__path",)
    # The lookup of the enterprise's sector, or "" when the rows have none.
    sector: str = "enterprise__sector"
    # A source with a distinct count is aggregated per value of that field first (see _run).
    group: str = ""

    def period(self, p: Period) -> Q:
        raise NotImplementedError

    def in_area(self, area: Region) -> Q:
        if self.enterprise:
            where = enterprises_where(region__path__startswith=area.path)
            return Q(**{f"{self.enterprise}__in": where})
        return _in_area(self.paths, area)

    def rows(self, p: Period, area: Region | None, sector: str = "") -> models.QuerySet:
        qs = self.model._default_manager.filter(self.period(p))
        if area is not None:
            qs = qs.filter(self.in_area(area))
        if sector and not self.sector:
            return qs.none()
        if sector:
            by = of_sector(sector, self.enterprise) if self.enterprise else Q(sector=sector)
            qs = qs.filter(by)
        return qs


class Inspections(Source):
    model = Inspection
    group = "enterprise"

    def period(self, p: Period) -> Q:
        return Q(status=Inspection.Status.COMPLETED, date__gte=p.start, date__lte=p.end)


class Hazards(Source):
    """Hazards found in the period, and older ones still open and overdue at its end."""

    model = Hazard

    def period(self, p: Period) -> Q:
        return Q(found_on__lte=p.end) & (Q(found_on__gte=p.start) | overdue_at_end(p))


def open_at_end(p: Period) -> Q:
    """Not closed by the last day of the period (a later closing does not count)."""
    return Q(closed_on__isnull=True) | Q(closed_on__gt=p.end)


def overdue_at_end(p: Period) -> Q:
    """Open at the end and past the deadline, as the overdue board shows on the last day."""
    return open_at_end(p) & Q(deadline__lt=p.end)


class Enterprises(Source):
    """The registry as it stands (a snapshot: the model keeps no opening or closing date)."""

    model = Enterprise
    enterprise = ""
    paths = ("region__path",)
    sector = "sector"

    def period(self, p: Period) -> Q:
        return Q(status=Enterprise.Status.ACTIVE)


class Penalties(Source):
    model = Penalty
    enterprise = "case__enterprise"
    paths = ("case__enterprise__region__path",)
    sector = "case__enterprise__sector"

    def period(self, p: Period) -> Q:
        decided = (Penalty.Status.DECIDED, Penalty.Status.PAID)
        return Q(status__in=decided, decided_on__gte=p.start, decided_on__lte=p.end)


class Letters(Source):
    model = SupervisionLetter
    enterprise = "case__enterprise"
    paths = ("case__enterprise__region__path",)
    sector = "case__enterprise__sector"

    def period(self, p: Period) -> Q:
        return Q(issued_on__gte=p.start, issued_on__lte=p.end)


class Interviews(Source):
    model = Interview
    enterprise = "case__enterprise"
    paths = ("case__enterprise__region__path",)
    sector = "case__enterprise__sector"
    group = "case__enterprise"

    def period(self, p: Period) -> Q:
        return Q(held_on__gte=p.start, held_on__lte=p.end)


class Referrals(Source):
    model = Referral
    enterprise = "case__enterprise"
    paths = ("case__enterprise__region__path",)
    sector = "case__enterprise__sector"

    def period(self, p: Period) -> Q:
        sent = (Referral.Status.SENT, Referral.Status.RESULT)
        return Q(status__in=sent, sent_on__gte=p.start, sent_on__lte=p.end)


class Tips(Source):
    """Tips received in the period, and tips whose reward was paid in it."""

    model = Tip

    def period(self, p: Period) -> Q:
        return tip_received(p) | reward_paid(p)


def tip_received(p: Period) -> Q:
    return Q(received_on__gte=p.start, received_on__lte=p.end)


def reward_paid(p: Period) -> Q:
    return Q(reward_status=Tip.Reward.PAID, reward_paid_on__gte=p.start, reward_paid_on__lte=p.end)


ISSUED = (Alert.Status.ISSUED, Alert.Status.LIFTED)
UNIT_PATHS = ("unit__region__path", "unit__enterprise__region__path")


class Alerts(Source):
    """Alerts issued in the period; in an area when one of their recipient units is."""

    model = Alert
    enterprise = ""
    paths = ()
    sector = ""

    def period(self, p: Period) -> Q:
        return Q(status__in=ISSUED, issued_at__gte=p.since, issued_at__lt=p.until)

    def rows(self, p: Period, area: Region | None, sector: str = "") -> models.QuerySet:
        qs = super().rows(p, None, sector)
        if area is not None:
            units = Recipient.objects.filter(alert=OuterRef("pk")).filter(
                _in_area(UNIT_PATHS, area)
            )
            qs = qs.filter(Exists(units))
        return qs


class Recipients(Source):
    """Recipient units of the alerts issued in the period (in the area, for an area)."""

    model = Recipient
    enterprise = ""
    paths = UNIT_PATHS
    sector = ""

    def period(self, p: Period) -> Q:
        return Q(
            alert__status__in=ISSUED, alert__issued_at__gte=p.since, alert__issued_at__lt=p.until
        )


class RollCalls(Source):
    """Towns and villages that answered a roll-call held in the period."""

    model = RollCallEntry
    enterprise = ""
    paths = ("region__path",)
    sector = ""
    group = "region"

    def period(self, p: Period) -> Q:
        return Q(answered=True, rollcall__held_at__gte=p.since, rollcall__held_at__lt=p.until)


# -- figures ------------------------------------------------------------------------------------
Cond = Callable[[Period], Q]


def always(p: Period) -> Q:
    return Q()


@dataclass(frozen=True)
class Figure:
    """A count (or, with `distinct`, a count of distinct `target` rows) or a sum of money."""

    key: str
    source: Source
    when: Cond = always
    distinct: str = ""  # field whose distinct values are counted
    target: type[models.Model] | None = None  # the model those values point to (drill-down)
    total: str = ""  # a money field summed instead of counted
    public: bool = True  # False: a part of a rate, not a key of its own
    # A condition on the group alone (e.g. its enterprise's sector): a grouped source tests
    # it once per group rather than once per row.
    of_group: Cond | None = None

    def condition(self, p: Period) -> Q:
        """Everything a counted row meets (what `records` lists)."""
        return self.when(p) & (self.of_group(p) if self.of_group else Q())

    def aggregate(self, p: Period, grouped: bool = False):
        """The aggregate over the source's rows (per group, for a grouped source)."""
        cond = (self.when(p) if grouped else self.condition(p)) or None
        if self.total:
            return Sum(self.total, filter=cond)
        # COUNT(1) reads no column, so an index holding the conditions' columns suffices.
        return Count(Value(1), filter=cond)

    def regroup(self, alias: str, p: Period):
        """The aggregate over the per-group results of `aggregate` (a grouped source)."""
        cond = self.of_group(p) if self.of_group else Q()
        if self.distinct:
            return Count(self.distinct, filter=Q(**{f"{alias}__gt": 0}) & cond)
        return Sum(alias, filter=cond or None)

    def value(self, raw):
        if self.total:
            return money(raw)
        return int(raw or 0)


@dataclass(frozen=True)
class Rate:
    """numerator ÷ denominator × 100 in percent, two places; None when nothing to divide."""

    key: str
    numerator: str
    denominator: str


INSPECTIONS, HAZARDS, ENTERPRISES = Inspections(), Hazards(), Enterprises()
PENALTIES, LETTERS, INTERVIEWS, REFERRALS = Penalties(), Letters(), Interviews(), Referrals()
TIPS, ALERTS, RECIPIENTS, ROLLCALLS = Tips(), Alerts(), Recipients(), RollCalls()


def found(p: Period, **more) -> Q:
    return Q(found_on__gte=p.start, **more)


def hotline(p: Period, **more) -> Q:
    return tip_received(p) & Q(channel=Channel.HOTLINE, **more)


def platform(p: Period, **more) -> Q:
    return tip_received(p) & ~Q(channel=Channel.HOTLINE) & Q(**more)


FIGURES: list[Figure | Rate] = [
    Figure("inspections.total", INSPECTIONS),
    Figure("inspections.enterprises", INSPECTIONS, distinct="enterprise", target=Enterprise),
    Figure("inspections.sector.industrial_trade", INSPECTIONS, of_group=lambda p: of_sector(IT)),
    Figure("hazards.sector.industrial_trade.found", HAZARDS, lambda p: found(p) & of_sector(IT)),
    Figure("enterprises.sector.hazardous_chemicals", ENTERPRISES, lambda p: Q(sector=HC)),
    Figure("inspections.sector.hazardous_chemicals", INSPECTIONS, of_group=lambda p: of_sector(HC)),
    Figure("hazards.sector.hazardous_chemicals.found", HAZARDS, lambda p: found(p) & of_sector(HC)),
    Figure("enterprises.gas_stations", ENTERPRISES, lambda p: Q(sector=GAS)),
    Figure("enterprises.gas_stations.standardized", ENTERPRISES, lambda p: Q(sector=GAS, standardized=True)),
    Figure("hazards.found", HAZARDS, found),
    Figure("hazards.general.found", HAZARDS, lambda p: found(p, level=Hazard.Level.GENERAL)),
    Figure("hazards.general.rectified", HAZARDS, lambda p: found(p, level=Hazard.Level.GENERAL, closed_on__lte=p.end)),
    Figure("hazards.general.pending", HAZARDS, lambda p: found(p, level=Hazard.Level.GENERAL) & open_at_end(p)),
    Rate("hazards.general.rectification_rate", "hazards.general.rectified", "hazards.general.found"),
    Figure("hazards.major.found", HAZARDS, lambda p: found(p, level=Hazard.Level.MAJOR)),
    Figure("hazards.major.rectified", HAZARDS, lambda p: found(p, level=Hazard.Level.MAJOR, closed_on__lte=p.end)),
    Figure("hazards.overdue", HAZARDS, overdue_at_end),
    Figure("enforcement.penalties", PENALTIES),
    Figure("enforcement.penalties.amount", PENALTIES, total="amount"),
    Figure("enforcement.supervision_letters", LETTERS),
    Figure("enforcement.interviews", INTERVIEWS, distinct="case__enterprise", target=Enterprise),
    Figure("enforcement.referrals", REFERRALS),
    Figure("tips.hotline.received", TIPS, hotline),
    Figure("tips.hotline.closed", TIPS, lambda p: hotline(p, status=Tip.Status.CLOSED, closed_on__lte=p.end)),
    Figure("tips.platform.received", TIPS, platform),
    Figure("tips.platform.verified", TIPS, lambda p: platform(p, verified=True)),
    Figure("tips.rewards.waived", TIPS, lambda p: tip_received(p) & Q(verified=True, reward_status=Tip.Reward.WAIVED)),
    Figure("tips.rewards.paid", TIPS, reward_paid),
    Figure("tips.rewards.amount", TIPS, reward_paid, total="reward_amount"),
    Figure("rollcall.towns", ROLLCALLS, lambda p: Q(region__level=Region.Level.TOWN), distinct="region", target=Region),
    Figure("rollcall.villages", ROLLCALLS, lambda p: Q(region__level=Region.Level.VILLAGE), distinct="region", target=Region),
    Figure("alerts.bulletins", ALERTS, lambda p: Q(kind=Kind.BULLETIN)),
    Figure("alerts.weather_forwarded", ALERTS, lambda p: Q(kind=Kind.WEATHER_FORWARD)),
    Figure("alerts.warnings", ALERTS, lambda p: Q(kind=Kind.WARNING)),
    Figure("alerts.station_messages", ALERTS, lambda p: Q(kind=Kind.STATION_MESSAGE)),
    Figure("alerts.recipients", RECIPIENTS, public=False),
    Figure("alerts.acknowledged", RECIPIENTS, lambda p: Q(acknowledged_at__isnull=False), public=False),
    Rate("alerts.acknowledged_rate", "alerts.acknowledged", "alerts.recipients"),
]  # fmt: skip
MEDIAN = "alerts.median_ack_minutes"
# A distinct count is counted over the groups of its source, and only a grouped source
# tests a condition per group (see _run).
assert all(f.source.group == f.distinct for f in FIGURES if isinstance(f, Figure) and f.distinct)
assert all(f.source.group for f in FIGURES if isinstance(f, Figure) and f.of_group)

BY_KEY: dict[str, Figure | Rate] = {f.key: f for f in FIGURES}

# Every key of statistics.md, in its order.
ALL_KEYS: tuple[str, ...] = (
    "study.sessions",
    "inspections.total",
    "inspections.enterprises",
    "inspections.sector.industrial_trade",
    "hazards.sector.industrial_trade.found",
    "enterprises.sector.hazardous_chemicals",
    "inspections.sector.hazardous_chemicals",
    "hazards.sector.hazardous_chemicals.found",
    "enterprises.gas_stations",
    "enterprises.gas_stations.standardized",
    "tasks.key",
    "hazards.found",
    "hazards.general.found",
    "hazards.general.rectified",
    "hazards.general.pending",
    "hazards.general.rectification_rate",
    "hazards.major.found",
    "hazards.major.rectified",
    "hazards.overdue",
    "enforcement.penalties",
    "enforcement.penalties.amount",
    "enforcement.supervision_letters",
    "enforcement.interviews",
    "enforcement.referrals",
    "tips.hotline.received",
    "tips.hotline.closed",
    "tips.platform.received",
    "tips.platform.verified",
    "tips.rewards.waived",
    "tips.rewards.paid",
    "tips.rewards.amount",
    "plans.published",
    "rollcall.towns",
    "rollcall.villages",
    "alerts.bulletins",
    "alerts.weather_forwarded",
    "alerts.warnings",
    "alerts.station_messages",
    "alerts.acknowledged_rate",
    "alerts.median_ack_minutes",
    "teams.semi_professional",
    "teams.semi_professional.members",
    "teams.professional_social",
    "teams.professional_social.members",
    "drills.total",
    "drills.blind",
    "outreach.events",
    "outreach.people",
    "outreach.materials",
    "outreach.trainings",
    "outreach.training_enterprises",
    "outreach.training_people",
    "outreach.media_posts",
    "outreach.media_views",
    "decisions.major",
    "assistance.enterprises",
)
_COMPUTED = {f.key for f in FIGURES if not isinstance(f, Figure) or f.public} | {MEDIAN}
# The keys compute() returns, in statistics.md order.
KEYS: tuple[str, ...] = tuple(k for k in ALL_KEYS if k in _COMPUTED)
# Money and rates are decimal strings; the rest are ints (the median is a string too).
MONEY_KEYS = frozenset(f.key for f in FIGURES if isinstance(f, Figure) and f.total)
RATE_KEYS = frozenset(f.key for f in FIGURES if isinstance(f, Rate))

LABELS: dict[str, object] = {
    "study.sessions": _("Law study sessions"),
    "inspections.total": _("Inspections (enterprise visits)"),
    "inspections.enterprises": _("Enterprises inspected"),
    "inspections.sector.industrial_trade": _("Inspections of industry and trade enterprises"),
    "hazards.sector.industrial_trade.found": _("Hazards found at industry and trade enterprises"),
    "enterprises.sector.hazardous_chemicals": _("Hazardous-chemicals enterprises"),
    "inspections.sector.hazardous_chemicals": _("Inspections of hazardous-chemicals enterprises"),
    "hazards.sector.hazardous_chemicals.found": _(
        "Hazards found at hazardous-chemicals enterprises"
    ),
    "enterprises.gas_stations": _("Gas stations"),
    "enterprises.gas_stations.standardized": _("Gas stations with standardisation completed"),
    "tasks.key": _("Key tasks of the work plan"),
    "hazards.found": _("Hazards found"),
    "hazards.general.found": _("General hazards found"),
    "hazards.general.rectified": _("General hazards rectified"),
    "hazards.general.pending": _("General hazards under rectification"),
    "hazards.general.rectification_rate": _("Rectification rate of general hazards (%)"),
    "hazards.major.found": _("Major hazards found"),
    "hazards.major.rectified": _("Major hazards rectified"),
    "hazards.overdue": _("Hazards overdue for rectification"),
    "enforcement.penalties": _("Administrative penalties"),
    "enforcement.penalties.amount": _("Fines imposed (yuan)"),
    "enforcement.supervision_letters": _("Supervision letters issued"),
    "enforcement.interviews": _("Enterprises given a warning interview"),
    "enforcement.referrals": _("Cases referred"),
    "tips.hotline.received": _("12345 hotline tips received"),
    "tips.hotline.closed": _("12345 hotline tips closed"),
    "tips.platform.received": _("Tips received by the reporting platform"),
    "tips.platform.verified": _("Platform tips verified true"),
    "tips.rewards.waived": _("Tips whose reporter waived the reward"),
    "tips.rewards.paid": _("Tips rewarded"),
    "tips.rewards.amount": _("Rewards paid (yuan)"),
    "plans.published": _("Emergency plans issued or revised"),
    "rollcall.towns": _("Towns reached by video roll-calls"),
    "rollcall.villages": _("Villages reached by video roll-calls"),
    "alerts.bulletins": _("Disaster-prevention bulletins issued"),
    "alerts.weather_forwarded": _("Weather items forwarded"),
    "alerts.warnings": _("Warnings issued"),
    "alerts.station_messages": _("Weather-station messages sent"),
    "alerts.acknowledged_rate": _("Alerts acknowledged by recipient units (%)"),
    "alerts.median_ack_minutes": _("Median minutes to acknowledgement"),
    "teams.semi_professional": _("Semi-professional rescue teams"),
    "teams.semi_professional.members": _("Members of semi-professional rescue teams"),
    "teams.professional_social": _("Professional social rescue teams"),
    "teams.professional_social.members": _("Members of professional social rescue teams"),
    "drills.total": _("Drills held"),
    "drills.blind": _("Blind drills held"),
    "outreach.events": _("Publicity events"),
    "outreach.people": _("People reached offline"),
    "outreach.materials": _("Brochures handed out"),
    "outreach.trainings": _("Trainings held"),
    "outreach.training_enterprises": _("Enterprises trained"),
    "outreach.training_people": _("People trained"),
    "outreach.media_posts": _("New-media posts"),
    "outreach.media_views": _("New-media audience"),
    "decisions.major": _("Major administrative decisions"),
    "assistance.enterprises": _("Enterprises visited for assistance"),
}


def missing() -> list[str]:
    """Keys of statistics.md whose records yingji does not keep yet."""
    return [k for k in ALL_KEYS if k not in _COMPUTED]


# -- values -------------------------------------------------------------------------------------
CENT = Decimal("0.01")


def money(value) -> str:
    return str(Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP))


def percent(numerator: int, denominator: int) -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) * 100 / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP))


# -- computing -----------------------------------------------------------------------------------
def area_of(region: Region | None) -> Region | None:
    """The area filter: None for the whole installation (no region, or the district)."""
    if region is None or region.parent_id is None:
        return None
    return region


def _needed(keys: Iterable[str]) -> list[Figure]:
    """The counted figures behind the keys (a rate needs its two parts)."""
    wanted: dict[str, Figure] = {}
    for key in keys:
        if key == MEDIAN:
            key = "alerts.acknowledged"
        fig = BY_KEY.get(key)
        if fig is None:
            raise KeyError(key)
        parts = (
            [fig] if isinstance(fig, Figure) else [BY_KEY[fig.numerator], BY_KEY[fig.denominator]]
        )
        for part in parts:
            wanted[part.key] = part
    return list(wanted.values())


def _compute(keys: Iterable[str], p: Period, area: Region | None, sector: str = "") -> dict:
    keys = list(keys)
    figures = _needed(keys)
    raw: dict[str, object] = {}
    for source in dict.fromkeys(f.source for f in figures):
        mine = [f for f in figures if f.source is source]
        if sector and not source.sector:
            continue  # no sector: the figure has no value in a sector bucket
        row = _run(source, mine, p, area, sector)
        for i, f in enumerate(mine):
            raw[f.key] = f.value(row[f"f{i}"])
    result = {}
    for key in keys:
        fig = BY_KEY.get(key)
        if key == MEDIAN:
            if "alerts.acknowledged" in raw:
                result[key] = _median_minutes(p, area, raw["alerts.acknowledged"])
        elif isinstance(fig, Rate):
            if fig.numerator in raw:
                result[key] = percent(raw[fig.numerator], raw[fig.denominator])
        elif key in raw:
            result[key] = raw[key]
    return result


def _run(source: Source, mine: list[Figure], p: Period, area, sector: str) -> dict:
    """One query for the figures of one source.

    A distinct count (enterprises inspected) is the number of groups of its field with a row
    in them, so such a source is grouped by that field and its counts summed over the groups:
    the database walks an index in group order instead of sorting for COUNT(DISTINCT …).
    """
    rows = source.rows(p, area, sector)
    if not source.group:
        return rows.aggregate(**{f"f{i}": f.aggregate(p) for i, f in enumerate(mine)})
    # Figures counting every row of a group (only their per-group condition differs) share
    # one per-group count.
    names = ["n" if not (f.total or f.when(p)) else f"n{i}" for i, f in enumerate(mine)]
    per_group = {name: f.aggregate(p, grouped=True) for name, f in zip(names, mine, strict=True)}
    grouped = rows.order_by().values(source.group).annotate(**per_group)
    outer = {f"f{i}": f.regroup(names[i], p) for i, f in enumerate(mine)}
    return grouped.aggregate(**outer)


def _median_minutes(p: Period, area: Region | None, acknowledged: int) -> str | None:
    """The middle one or two issue→acknowledgement delays, fetched in order by the database."""
    if not acknowledged:
        return None
    delay = ExpressionWrapper(
        F("acknowledged_at") - F("alert__issued_at"), output_field=DurationField()
    )
    acked = RECIPIENTS.rows(p, area).filter(acknowledged_at__isnull=False)
    low = (acknowledged - 1) // 2
    middle = acked.annotate(delay=delay).order_by("delay").values_list("delay", flat=True)
    values = list(middle[low : low + 2 - acknowledged % 2])
    micros = sum(v // datetime.timedelta(microseconds=1) for v in values)
    minutes = Decimal(micros) / len(values) / 60_000_000
    return str(minutes.quantize(CENT, rounding=ROUND_HALF_UP))


def compute(
    start: datetime.date, end: datetime.date, region: Region | None = None
) -> dict[str, object]:
    """Every computed figure for [start, end] (local dates) in the region's subtree."""
    return _compute(KEYS, Period(start, end), area_of(region))


def records(
    key: str,
    start: datetime.date,
    end: datetime.date,
    region: Region | None = None,
    sector: str = "",
) -> models.QuerySet:
    """The records a count figure counts (of one sector's enterprises, if given: the bucket
    of `series(by="sector")`); KeyError for rates, sums and the median."""
    fig = BY_KEY.get(key)
    if not isinstance(fig, Figure) or fig.total or not fig.public:
        raise KeyError(key)
    p = Period(start, end)
    rows = fig.source.rows(p, area_of(region), sector).filter(fig.condition(p))
    if fig.distinct:
        return fig.target._default_manager.filter(pk__in=rows.values(fig.distinct))
    return rows


# -- series -------------------------------------------------------------------------------------
def _months(p: Period) -> list[tuple[str, Period]]:
    buckets = []
    first = p.start.replace(day=1)
    while first <= p.end:
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        last = following - datetime.timedelta(days=1)
        buckets.append((f"{first:%Y-%m}", Period(max(first, p.start), min(last, p.end))))
        first = following
    return buckets


def _towns(area: Region | None) -> list[tuple[str, Region]]:
    """The towns inside the area (or the one town holding a village), each as its bucket."""
    if area is not None and area.level == Region.Level.VILLAGE:
        town = area.parent
        return [(town.ref, area)]
    towns = Region.objects.filter(level=Region.Level.TOWN)
    if area is not None:
        towns = towns.filter(path__startswith=area.path)
    return [(t.ref, t) for t in towns.order_by("path")]


def series(
    keys: Iterable[str],
    start: datetime.date,
    end: datetime.date,
    region: Region | None = None,
    by: str = "month",
) -> dict[str, dict[str, object]]:
    """{key: {bucket: value}}: each bucket is the figure computed for that month of the
    period, that town of the area, or that sector (keys with no sector have no buckets)."""
    keys = [k for k in keys]
    for key in keys:
        if key not in _COMPUTED:
            raise KeyError(key)
    p, area = Period(start, end), area_of(region)
    out: dict[str, dict[str, object]] = {k: {} for k in keys}
    if by == "month":
        buckets = [(label, sub, area, "") for label, sub in _months(p)]
    elif by == "town":
        buckets = [(label, p, town, "") for label, town in _towns(area)]
    elif by == "sector":
        buckets = [(s, p, area, s) for s in Sector.values]
    else:
        raise ValueError(f"series by {by!r}: choose month, town or sector")
    for label, sub, where, sector in buckets:
        for key, value in _compute(keys, sub, where, sector).items():
            out[key][label] = value
    return out


# -- scope --------------------------------------------------------------------------------------
def find_region(ref_or_code: str) -> Region | None:
    """A region by its reference or, failing that, its administrative code."""
    ref_or_code = (ref_or_code or "").strip()
    if not ref_or_code:
        return None
    found = Region.objects.filter(ref=ref_or_code).first()
    return found or Region.objects.filter(code=ref_or_code).order_by("path").first()


def scope_region(user, region_ref: str | None) -> Region | None:
    """The area a user asks for, within their scope.

    District-wide staff: any region, None for the whole district. A town or village officer:
    their own region when none is asked for, a region inside it if asked; any other region
    is 404 (as if it did not exist). Without `stats.view`: PermissionDenied.
    """
    if not user.is_authenticated or not user.can("stats.view"):
        raise PermissionDenied
    if user.role in REGIONAL:
        if user.region_id is None:
            raise PermissionDenied
        if not region_ref:
            return user.region
        region = find_region(region_ref)
        if region is None or not region.path.startswith(user.region.path):
            raise Http404
        return region
    if not region_ref:
        return None
    region = find_region(region_ref)
    if region is None:
        raise Http404
    return region
