"""REST API of inspections: plans, campaigns, checklists, double-random draws and visits.

Every state change goes through `yingji.inspections.services`; this module only parses
input, resolves references and shapes output.

Who may read what (checked on the server for every call):

* Plans, campaigns and checklists are district documents without a scope of their own.
  Every staff role reads them (leader, inspector, duty officer, legal staff, admin, town and
  village officers); enterprise users and experts get 403. The progress figures of a plan
  are counts over the whole district.
* Draws hold the frozen candidate list of every enterprise in the district, so only the
  district-wide roles read them (leader, inspector, duty officer, legal staff, admin);
  everyone else gets 403.
* Inspections follow `Inspection.objects.visible_to(user)`: an inspection outside the
  viewer's scope is 404, as if it did not exist.
* Writing follows the services: planners (leader, inspector, admin) create plans,
  campaigns, checklists, draws and visits; only a leader publishes a plan; only the
  inspectors of a visit (or a leader/admin) start it, record answers and complete it.
  A caller whose role may never act gets 403 before the request body is looked at.

Input: dates are YYYY-MM-DD; unknown fields are refused with 422; an unknown reference
(enterprise ref, username, region ref, plan/campaign/checklist id) is a 422 naming the field.
Filters of list endpoints follow the enterprise API: an unknown reference in a filter
simply matches nothing.
"""

import datetime
import re
from typing import Annotated

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import BeforeValidator

from yingji.core.models import Region
from yingji.core.roles import DISTRICT_WIDE, Role
from yingji.enterprises.models import Enterprise, Feature, RiskGrade, Sector
from yingji.inspections import services
from yingji.inspections.models import (
    Campaign,
    ChecklistTemplate,
    ChecklistVersion,
    Draw,
    Inspection,
    Plan,
    PlanTarget,
)

router = Router(tags=["inspections"])

# -- access ------------------------------------------------------------------------------------
PLAN_READERS = frozenset(Role.values) - {Role.ENTERPRISE, Role.EXPERT}
DRAW_READERS = DISTRICT_WIDE


def require_role(user, roles) -> None:
    if user.role not in roles:
        raise PermissionDenied


# -- shared input helpers (the hazards API uses them too) -------------------------------------
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value):
    if isinstance(value, datetime.datetime):
        raise ValueError("Give a date as YYYY-MM-DD.")
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("Give a date as YYYY-MM-DD.")
    return value


Day = Annotated[datetime.date, BeforeValidator(_iso_day)]


class In(Schema):
    """Input schemas refuse fields they do not know."""

    model_config = {"extra": "forbid"}


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def resolve_enterprise(user, ref: str, field: str = "enterprise") -> Enterprise:
    ent = Enterprise.objects.visible_to(user).filter(ref=ref).first()
    if ent is None:
        raise field_error(field, _("Unknown enterprise: %(ref)s") % {"ref": ref})
    return ent


def resolve_region(user, ref: str | None, field: str = "region") -> Region | None:
    if not ref:
        return None
    region = Region.objects.visible_to(user).filter(ref=ref).first()
    if region is None:
        raise field_error(field, _("Unknown region."))
    return region


def resolve_users(usernames, field: str, *, role: str | None = None) -> list:
    """Active users by username, in the given order; any unknown name is a field error."""
    qs = get_user_model().objects.filter(username__in=list(usernames), is_active=True)
    if role is not None:
        qs = qs.filter(role=role)
    found = {u.username: u for u in qs}
    missing = ", ".join(name for name in usernames if name not in found)
    if missing and role is not None:
        raise field_error(
            field,
            _("Not an active %(role)s: %(names)s") % {"role": Role(role).label, "names": missing},
        )
    if missing:
        raise field_error(field, _("Unknown user: %(names)s") % {"names": missing})
    return [found[name] for name in dict.fromkeys(usernames)]


def _choice(value: str, choices, field: str) -> str:
    if value and value not in choices:
        raise field_error(field, _("Unknown choice: %(value)s") % {"value": value})
    return value


UNKNOWN = {
    "plan": _lazy("Unknown plan: %(pk)s"),
    "campaign": _lazy("Unknown campaign: %(pk)s"),
    "checklist": _lazy("Unknown checklist version: %(pk)s"),
}


def _by_pk(model, pk: int | None, field: str):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise field_error(field, str(UNKNOWN[field]) % {"pk": pk})
    return obj


# -- shared output schemas ---------------------------------------------------------------------
class EnterpriseRef(Schema):
    id: int
    ref: str
    name: str


class Progress(Schema):
    total: int
    done: int
    percent: int


# -- plans -------------------------------------------------------------------------------------
class PlanOut(Schema):
    id: int
    year: int
    title: str
    status: str
    note: str
    target_count: int
    created_at: datetime.datetime
    published_at: datetime.datetime | None


class TargetOut(Schema):
    id: int
    title: str
    times: int
    sector: str
    feature: str
    region_ref: str | None
    progress: Progress

    @staticmethod
    def resolve_region_ref(obj: PlanTarget) -> str | None:
        return obj.region.ref if obj.region_id else None

    @staticmethod
    def resolve_progress(obj: PlanTarget) -> dict:
        return obj.progress()


class PlanDetail(PlanOut):
    targets: list[TargetOut]

    @staticmethod
    def resolve_targets(obj: Plan) -> list:
        return list(obj.targets.all())


class PlanIn(In):
    year: int
    title: str
    note: str = ""


class TargetIn(In):
    title: str
    times: int = 1
    sector: str = ""
    feature: str = ""
    region: str | None = Field(None, description="region ref (town or village)")


def _plans():
    return Plan.objects.annotate(target_count=Count("targets"))


def _plan(user, pk: int) -> Plan:
    require_role(user, PLAN_READERS)
    plan = (
        _plans()
        .prefetch_related(
            Prefetch("targets", PlanTarget.objects.select_related("plan", "region").order_by("pk"))
        )
        .filter(pk=pk)
        .first()
    )
    if plan is None:
        raise Http404
    return plan


@router.get("/plans", response=list[PlanOut])
@paginate(LimitOffsetPagination)
def list_plans(request, year: int | None = None):
    require_role(request.auth, PLAN_READERS)
    qs = _plans()
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "title", "pk")


@router.get("/plans/{int:pk}", response=PlanDetail)
def get_plan(request, pk: int):
    return _plan(request.auth, pk)


@router.post("/plans", response={201: PlanDetail})
def create_plan(request, payload: PlanIn):
    require_role(request.auth, services.PLANNERS)
    plan = services.create_plan(by=request.auth, **payload.model_dump())
    return Status(201, _plan(request.auth, plan.pk))


@router.post("/plans/{int:pk}/targets", response={201: PlanDetail})
def add_target(request, pk: int, payload: TargetIn):
    plan = _plan(request.auth, pk)
    require_role(request.auth, services.PLANNERS)
    data = payload.model_dump()
    data["region"] = resolve_region(request.auth, data["region"])
    services.add_target(plan, by=request.auth, **data)
    return Status(201, _plan(request.auth, pk))


@router.post("/plans/{int:pk}/publish", response=PlanDetail)
def publish_plan(request, pk: int):
    plan = _plan(request.auth, pk)
    services.publish_plan(plan, by=request.auth)
    return _plan(request.auth, pk)


# -- campaigns ---------------------------------------------------------------------------------
class CampaignOut(Schema):
    id: int
    title: str
    start: datetime.date
    end: datetime.date
    description: str
    sector: str
    feature: str
    region_ref: str | None

    @staticmethod
    def resolve_region_ref(obj: Campaign) -> str | None:
        return obj.region.ref if obj.region_id else None


class CampaignIn(In):
    title: str
    start: Day
    end: Day
    sector: str = ""
    feature: str = ""
    region: str | None = Field(None, description="region ref (town or village)")
    description: str = ""


@router.get("/campaigns", response=list[CampaignOut])
@paginate(LimitOffsetPagination)
def list_campaigns(request):
    require_role(request.auth, PLAN_READERS)
    return Campaign.objects.select_related("region").order_by("-start", "pk")


@router.post("/campaigns", response={201: CampaignOut})
def create_campaign(request, payload: CampaignIn):
    require_role(request.auth, services.PLANNERS)
    data = payload.model_dump()
    data["region"] = resolve_region(request.auth, data["region"])
    return Status(201, services.create_campaign(by=request.auth, **data))


# -- checklists --------------------------------------------------------------------------------
class ChecklistItem(Schema):
    code: str
    text: str
    basis: str = ""


class VersionOut(Schema):
    id: int
    version: int
    items: list[ChecklistItem]
    created_at: datetime.datetime


class ChecklistOut(Schema):
    id: int
    name: str
    sector: str
    feature: str
    current: VersionOut | None

    @staticmethod
    def resolve_current(obj: ChecklistTemplate) -> ChecklistVersion | None:
        versions = obj.prefetched_versions
        return versions[0] if versions else None


class ChecklistItemIn(In):
    code: str | None = Field(None, description="defaults to the item's position")
    text: str = ""
    basis: str = ""


class ChecklistIn(In):
    name: str
    sector: str = ""
    feature: str = ""
    items: list[ChecklistItemIn]


def _checklists():
    versions = ChecklistVersion.objects.order_by("-version")
    return ChecklistTemplate.objects.prefetch_related(
        Prefetch("versions", versions, to_attr="prefetched_versions")
    ).order_by("name", "pk")


@router.get("/checklists", response=list[ChecklistOut])
@paginate(LimitOffsetPagination)
def list_checklists(request):
    require_role(request.auth, PLAN_READERS)
    return _checklists()


@router.post("/checklists", response={201: ChecklistOut})
def create_checklist(request, payload: ChecklistIn):
    require_role(request.auth, services.PLANNERS)
    version = services.save_checklist(
        by=request.auth,
        name=payload.name,
        sector=payload.sector,
        feature=payload.feature,
        items=[item.model_dump(exclude_none=True) for item in payload.items],
    )
    return Status(201, _checklists().get(pk=version.template_id))


# -- double-random draws -----------------------------------------------------------------------
class DrawOut(Schema):
    id: int
    title: str
    year: int
    status: str
    n: int
    per_enterprise: int
    criteria: dict
    inputs_digest: str
    replaces_id: int | None
    reason: str
    created_at: datetime.datetime
    published_at: datetime.datetime | None
    drawn_at: datetime.datetime | None


class DrawDetail(DrawOut):
    seed: str | None = Field(..., description="null until the inputs are published")
    candidates: list[str]
    pool: list[str]
    conflicts: dict[str, list[str]]
    result: list[tuple[str, list[str]]]

    @staticmethod
    def resolve_seed(obj: Draw) -> str | None:
        return None if obj.status == Draw.Status.PREPARED else obj.seed


class DrawIn(In):
    title: str
    year: int
    n: int = Field(..., description="enterprises to draw")
    per_enterprise: int = 2
    pool: list[str] = Field(..., description="usernames of active inspectors")
    sector: str = ""
    feature: str = ""
    region: str | None = Field(None, description="region ref: candidates in it and below")
    risk_grade: str = ""


class PublishIn(In):
    seed: str = Field("", description="blank: a random seed is chosen")


class ExecuteIn(In):
    date: Day | None = Field(None, description="date of the planned visits; default today")


class RedrawIn(In):
    reason: str


class VerifyOut(Schema):
    ok: bool
    reason: str


def _draw(user, pk: int) -> Draw:
    require_role(user, DRAW_READERS)
    draw = Draw.objects.filter(pk=pk).first()
    if draw is None:
        raise Http404
    return draw


@router.get("/draws", response=list[DrawOut])
@paginate(LimitOffsetPagination)
def list_draws(request, status: str = "", year: int | None = None):
    require_role(request.auth, DRAW_READERS)
    qs = Draw.objects.all()
    if status:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-created_at", "-pk")


@router.get("/draws/{int:pk}", response=DrawDetail)
def get_draw(request, pk: int):
    return _draw(request.auth, pk)


@router.post("/draws", response={201: DrawDetail})
def prepare_draw(request, payload: DrawIn):
    user = request.auth
    require_role(user, services.PLANNERS)
    data = payload.model_dump()
    _choice(data["sector"], Sector.values, "sector")
    _choice(data["feature"], Feature.values, "feature")
    _choice(data["risk_grade"], RiskGrade.values, "risk_grade")
    data["region"] = resolve_region(user, data["region"])
    data["pool"] = resolve_users(data["pool"], "pool", role=Role.INSPECTOR)
    return Status(201, services.prepare_draw(by=user, **data))


@router.post("/draws/{int:pk}/publish", response=DrawDetail)
def publish_draw(request, pk: int, payload: PublishIn | None = None):
    draw = _draw(request.auth, pk)
    return services.publish_draw(draw, by=request.auth, seed=payload.seed if payload else "")


@router.post("/draws/{int:pk}/execute", response=DrawDetail)
def execute_draw(request, pk: int, payload: ExecuteIn | None = None):
    draw = _draw(request.auth, pk)
    return services.execute_draw(draw, by=request.auth, date=payload.date if payload else None)


@router.post("/draws/{int:pk}/redraw", response={201: DrawDetail})
def redraw(request, pk: int, payload: RedrawIn):
    """Prepare a new draw with the same criteria and pool that replaces this one."""
    user = request.auth
    old = _draw(user, pk)
    require_role(user, services.PLANNERS)
    criteria = old.criteria or {}
    region = Region.objects.filter(ref=criteria.get("region") or "").first()
    pool = get_user_model().objects.filter(username__in=old.pool)
    new = services.prepare_draw(
        by=user,
        title=old.title,
        year=old.year,
        n=old.n,
        per_enterprise=old.per_enterprise,
        pool=list(pool),
        sector=criteria.get("sector", ""),
        feature=criteria.get("feature", ""),
        risk_grade=criteria.get("risk_grade", ""),
        region=region,
        replaces=old,
        reason=payload.reason,
    )
    return Status(201, new)


@router.get("/draws/{int:pk}/verify", response=VerifyOut)
def verify_draw(request, pk: int):
    ok, reason = services.verify_draw(_draw(request.auth, pk))
    return {"ok": ok, "reason": reason}


# -- inspections -------------------------------------------------------------------------------
class HazardRef(Schema):
    id: int
    ref: str
    level: str
    status: str


class ChecklistVersionOut(Schema):
    id: int
    template_id: int
    name: str
    version: int
    items: list[ChecklistItem]

    @staticmethod
    def resolve_name(obj: ChecklistVersion) -> str:
        return obj.template.name


class InspectionOut(Schema):
    id: int
    ref: str
    enterprise: EnterpriseRef
    date: datetime.date
    mode: str
    status: str
    self_inspection: bool
    onsite: bool
    ledger: bool
    inspectors: list[str]
    inspector_names: str
    experts: list[str]
    plan_id: int | None
    campaign_id: int | None
    draw_id: int | None
    checklist_id: int | None
    record_no: str
    created_at: datetime.datetime
    completed_at: datetime.datetime | None

    @staticmethod
    def resolve_inspectors(obj: Inspection) -> list[str]:
        return sorted(u.username for u in obj.inspectors.all())

    @staticmethod
    def resolve_experts(obj: Inspection) -> list[str]:
        return sorted(u.username for u in obj.experts.all())


class InspectionDetail(InspectionOut):
    answers: dict[str, str]
    summary: str
    checklist: ChecklistVersionOut | None
    hazards: list[HazardRef]

    @staticmethod
    def resolve_hazards(obj: Inspection) -> list:
        return list(obj.hazards.order_by("pk"))


class InspectionFilters(Schema):
    status: str = ""
    mode: str = ""
    enterprise: str = Field("", description="enterprise ref")
    date_from: Day | None = None
    date_to: Day | None = None
    self_inspection: bool | None = None


class ScheduleIn(In):
    enterprise: str = Field(..., description="enterprise ref")
    date: Day
    mode: str = "routine"
    inspectors: list[str] = Field([], description="usernames; default the caller (inspector)")
    experts: list[str] = Field([], description="usernames of experts")
    plan: int | None = Field(None, description="plan id")
    campaign: int | None = Field(None, description="campaign id")
    checklist: int | None = Field(None, description="checklist version id; default the best fit")
    onsite: bool = True
    ledger: bool = False


class AnswersIn(In):
    answers: dict[str, str] = Field({}, description="item code → ok / hazard / na")
    summary: str | None = None
    onsite: bool | None = None
    ledger: bool | None = None


def _inspections(user):
    return Inspection.objects.visible_to(user).select_related("enterprise")


def _inspection(user, pk: int) -> Inspection:
    insp = (
        _inspections(user)
        .select_related("checklist__template")
        .prefetch_related("inspectors", "experts")
        .filter(pk=pk)
        .first()
    )
    if insp is None:
        raise Http404
    return insp


@router.get("/inspections", response=list[InspectionOut])
@paginate(LimitOffsetPagination)
def list_inspections(request, filters: Query[InspectionFilters]):
    qs = _inspections(request.auth).prefetch_related("inspectors", "experts")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.mode:
        qs = qs.filter(mode=filters.mode)
    if filters.enterprise:
        qs = qs.filter(enterprise__ref=filters.enterprise)
    if filters.date_from:
        qs = qs.filter(date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(date__lte=filters.date_to)
    if filters.self_inspection is not None:
        qs = qs.filter(self_inspection=filters.self_inspection)
    return qs.order_by("-date", "-pk")


@router.get("/inspections/{int:pk}", response=InspectionDetail)
def get_inspection(request, pk: int):
    return _inspection(request.auth, pk)


@router.post("/inspections", response={201: InspectionDetail})
def schedule_inspection(request, payload: ScheduleIn):
    user = request.auth
    require_role(user, services.PLANNERS)
    insp = services.schedule_inspection(
        by=user,
        enterprise=resolve_enterprise(user, payload.enterprise),
        date=payload.date,
        mode=payload.mode,
        inspectors=resolve_users(payload.inspectors, "inspectors"),
        experts=resolve_users(payload.experts, "experts"),
        plan=_by_pk(Plan, payload.plan, "plan"),
        campaign=_by_pk(Campaign, payload.campaign, "campaign"),
        checklist=_by_pk(ChecklistVersion, payload.checklist, "checklist"),
        onsite=payload.onsite,
        ledger=payload.ledger,
    )
    return Status(201, _inspection(user, insp.pk))


@router.post("/inspections/{int:pk}/start", response=InspectionDetail)
def start_inspection(request, pk: int):
    services.start_inspection(_inspection(request.auth, pk), by=request.auth)
    return _inspection(request.auth, pk)


@router.post("/inspections/{int:pk}/answers", response=InspectionDetail)
def record_answers(request, pk: int, payload: AnswersIn):
    services.record_answers(_inspection(request.auth, pk), by=request.auth, **payload.model_dump())
    return _inspection(request.auth, pk)


@router.post("/inspections/{int:pk}/complete", response=InspectionDetail)
def complete_inspection(request, pk: int):
    services.complete_inspection(_inspection(request.auth, pk), by=request.auth)
    return _inspection(request.auth, pk)
