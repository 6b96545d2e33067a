"""REST API of the hazard rectification loop: report → order → evidence → re-inspection.

Every state change goes through `yingji.hazards.services`; this module only parses input,
resolves references and shapes output.

Who may do what (checked on the server for every call):

* Reading follows `Hazard.objects.visible_to(user)`: district-wide staff see every hazard,
  town and village officers those of their area, enterprise users their own, experts those
  of inspections they joined. A hazard outside the viewer's scope is 404.
* Reporting: an enterprise user self-reports for their own enterprise (no inspection); the
  inspectors of an inspection under way (or a leader/admin) report its findings.
* Orders and re-inspections: leaders, inspectors and admins (others 403).
* Evidence: the enterprise's own users, or leaders, inspectors and admins.
* Sign-off of a major hazard: leaders only.

Evidence is a JSON note only: photos and files are uploaded through the web page (multipart
upload), not through this API.

Input: dates are YYYY-MM-DD; unknown fields are refused with 422; an unknown reference
(enterprise ref, inspection id, hazard id) is a 422 naming the field. Filters of the list
follow the enterprise API: an unknown reference in a filter simply matches nothing.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from yingji.core.models import Region
from yingji.hazards import services
from yingji.hazards.models import Evidence, Hazard, RectificationOrder, Reinspection
from yingji.inspections.api import Day, EnterpriseRef, In, field_error, resolve_enterprise
from yingji.inspections.models import Inspection

router = Router(tags=["hazards"])


def _username(user) -> str | None:
    return user.username if user is not None else None


# -- output ------------------------------------------------------------------------------------
class HazardOut(Schema):
    id: int
    ref: str
    enterprise: EnterpriseRef
    inspection_id: int | None
    found_on: datetime.date
    level: str
    category: str
    description: str
    legal_basis: str
    status: str
    source: str
    deadline: datetime.date | None
    closed_on: datetime.date | None
    order_number: str | None
    is_overdue: bool
    supervised: bool
    signed_off_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_order_number(obj: Hazard) -> str | None:
        return obj.order.number if obj.order_id else None


class OrderOut(Schema):
    id: int
    number: str
    enterprise: EnterpriseRef
    inspection_id: int | None
    issued_on: datetime.date
    deadline: datetime.date
    requirements: str
    issued_by: str | None
    hazards: list[int]

    @staticmethod
    def resolve_issued_by(obj: RectificationOrder) -> str | None:
        return _username(obj.issued_by)

    @staticmethod
    def resolve_hazards(obj: RectificationOrder) -> list[int]:
        return sorted(h.pk for h in obj.hazards.all())


class EvidenceOut(Schema):
    id: int
    hazard_id: int
    note: str
    submitted_by: str | None
    submitted_at: datetime.datetime

    @staticmethod
    def resolve_submitted_by(obj: Evidence) -> str | None:
        return _username(obj.submitted_by)


class ReinspectionOut(Schema):
    id: int
    hazard_id: int
    number: str
    date: datetime.date
    passed: bool
    opinion: str
    new_deadline: datetime.date | None
    by: str | None

    @staticmethod
    def resolve_by(obj: Reinspection) -> str | None:
        return _username(obj.by)


class HazardDetail(HazardOut):
    reported_by: str | None
    responsible: str | None
    signed_off_by: str | None
    order: OrderOut | None
    evidence: list[EvidenceOut]
    reinspections: list[ReinspectionOut]

    @staticmethod
    def resolve_reported_by(obj: Hazard) -> str | None:
        return _username(obj.reported_by)

    @staticmethod
    def resolve_responsible(obj: Hazard) -> str | None:
        return _username(obj.responsible)

    @staticmethod
    def resolve_signed_off_by(obj: Hazard) -> str | None:
        return _username(obj.signed_off_by)

    @staticmethod
    def resolve_evidence(obj: Hazard) -> list:
        return list(obj.evidence.all())

    @staticmethod
    def resolve_reinspections(obj: Hazard) -> list:
        return list(obj.reinspections.all())


# -- input -------------------------------------------------------------------------------------
class HazardFilters(Schema):
    status: str = ""
    level: str = ""
    overdue: bool = Field(False, description="only hazards past their deadline and not closed")
    enterprise: str = Field("", description="enterprise ref")
    found_from: Day | None = None
    found_to: Day | None = None
    town: str = Field("", description="region ref (town or village): hazards in it and below")


class ReportIn(In):
    enterprise: str = Field(..., description="enterprise ref")
    found_on: Day
    level: str = Hazard.Level.GENERAL.value
    category: str = "other"
    description: str
    legal_basis: str = ""
    inspection: int | None = Field(None, description="id of the inspection under way")


class OrderIn(In):
    hazards: list[int] = Field(..., description="ids of newly found hazards of one enterprise")
    deadline: Day
    requirements: str = ""


class EvidenceIn(In):
    note: str = Field(..., description="what was done; upload photos on the web page")


class ReinspectIn(In):
    passed: bool
    opinion: str
    date: Day | None = Field(None, description="default today")
    new_deadline: Day | None = Field(None, description="required when not passed")


# -- helpers -----------------------------------------------------------------------------------
def _hazards(user):
    return Hazard.objects.visible_to(user).select_related("enterprise", "order")


def _hazard(user, pk: int) -> Hazard:
    hazard = (
        _hazards(user)
        .select_related(
            "order__enterprise", "order__issued_by", "reported_by", "responsible", "signed_off_by"
        )
        .prefetch_related(
            "order__hazards",
            Prefetch("evidence", Evidence.objects.select_related("submitted_by")),
            Prefetch("reinspections", Reinspection.objects.select_related("by")),
        )
        .filter(pk=pk)
        .first()
    )
    if hazard is None:
        raise Http404
    return hazard


# -- endpoints ---------------------------------------------------------------------------------
@router.get("", response=list[HazardOut])
@paginate(LimitOffsetPagination)
def list_hazards(request, filters: Query[HazardFilters]):
    user = request.auth
    qs = _hazards(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.overdue:
        qs = qs.overdue()
    if filters.enterprise:
        qs = qs.filter(enterprise__ref=filters.enterprise)
    if filters.found_from:
        qs = qs.filter(found_on__gte=filters.found_from)
    if filters.found_to:
        qs = qs.filter(found_on__lte=filters.found_to)
    if filters.town:
        region = Region.objects.visible_to(user).filter(ref=filters.town).first()
        if region is None:
            return Hazard.objects.none()
        qs = qs.filter(enterprise__region__path__startswith=region.path)
    return qs.order_by("-found_on", "-pk")


@router.get("/{int:pk}", response=HazardDetail)
def get_hazard(request, pk: int):
    return _hazard(request.auth, pk)


@router.post("", response={201: HazardDetail})
def report_hazard(request, payload: ReportIn):
    user = request.auth
    inspection = None
    if payload.inspection is not None:
        inspection = Inspection.objects.visible_to(user).filter(pk=payload.inspection).first()
        if inspection is None:
            raise field_error(
                "inspection", _("Unknown inspection: %(pk)s") % {"pk": payload.inspection}
            )
    hazard = services.report_hazard(
        by=user,
        enterprise=resolve_enterprise(user, payload.enterprise),
        found_on=payload.found_on,
        level=payload.level,
        category=payload.category,
        description=payload.description,
        legal_basis=payload.legal_basis,
        inspection=inspection,
    )
    return Status(201, _hazard(user, hazard.pk))


@router.post("/orders", response={201: OrderOut})
def issue_order(request, payload: OrderIn):
    """Order rectification by a deadline (责令限期整改指令书); the hazards become open."""
    user = request.auth
    if user.role not in services.STAFF_ACTORS:
        raise PermissionDenied
    ids = list(dict.fromkeys(payload.hazards))
    hazards = list(_hazards(user).filter(pk__in=ids))
    missing = sorted(set(ids) - {h.pk for h in hazards})
    if missing:
        raise field_error(
            "hazards", _("Unknown hazard: %(ids)s") % {"ids": ", ".join(map(str, missing))}
        )
    order = services.issue_order(
        hazards, by=user, deadline=payload.deadline, requirements=payload.requirements
    )
    order = (
        RectificationOrder.objects.select_related("enterprise", "issued_by")
        .prefetch_related("hazards")
        .get(pk=order.pk)
    )
    return Status(201, order)


@router.post("/{int:pk}/evidence", response={201: EvidenceOut})
def submit_evidence(request, pk: int, payload: EvidenceIn):
    """Submit a note on the rectification; photos and files go through the web page."""
    evidence = services.submit_evidence(
        _hazard(request.auth, pk), by=request.auth, note=payload.note
    )
    return Status(201, evidence)


@router.post("/{int:pk}/reinspect", response={201: ReinspectionOut})
def reinspect(request, pk: int, payload: ReinspectIn):
    """复查: passed closes the hazard (销号); failed reopens it with the new deadline."""
    done = services.reinspect(_hazard(request.auth, pk), by=request.auth, **payload.model_dump())
    return Status(201, done)


@router.post("/{int:pk}/sign-off", response=HazardDetail)
def sign_off(request, pk: int):
    """A leader signs off a major hazard, which lists it for supervision (挂牌督办)."""
    services.sign_off_major(_hazard(request.auth, pk), by=request.auth)
    return _hazard(request.auth, pk)
