import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from yingji.core.models import Region
from yingji.enterprises import services
from yingji.enterprises.models import Enterprise

router = Router(tags=["enterprises"])


class EnterpriseOut(Schema):
    id: int
    ref: str
    name: str
    uscc: str
    sector: str
    features: list[str] = Field(..., alias="feature_list")
    region_ref: str
    region_name: str
    address: str
    risk_grade: str
    status: str
    standardized: bool
    contact_name: str
    contact_phone: str
    updated_at: datetime.datetime

    @staticmethod
    def resolve_region_ref(obj: Enterprise) -> str:
        return obj.region.ref

    @staticmethod
    def resolve_region_name(obj: Enterprise) -> str:
        return obj.region.name


class EnterpriseIn(Schema):
    """Fields of an enterprise; on PATCH every field is optional."""

    name: str | None = None
    uscc: str | None = None
    sector: str | None = None
    features: list[str] | None = None
    region: str | None = Field(None, description="region ref (town or village)")
    address: str | None = None
    risk_grade: str | None = None
    status: str | None = None
    standardized: bool | None = None
    contact_name: str | None = None
    contact_phone: str | None = None

    model_config = {"extra": "forbid"}


class Filters(Schema):
    q: str = ""
    sector: str = ""
    feature: str = ""
    risk_grade: str = ""
    region: str = Field("", description="region ref: the town or village and below")
    status: str = "active"


def _values(payload: EnterpriseIn, user) -> dict:
    data = payload.model_dump(exclude_unset=True)
    if "features" in data:
        data["feature_list"] = data.pop("features") or []
    if "region" in data:
        region = Region.objects.filter(ref=data["region"] or "").first()
        if region is None or not (
            user.district_wide or region.path.startswith(user.region.path if user.region else "-")
        ):
            raise ValidationError({"region": [_("Unknown region.")]})
        data["region"] = region
    for key in ("address", "risk_grade", "contact_name", "contact_phone"):
        if key in data and data[key] is None:
            data[key] = ""
    return data


def _get(user, pk: int) -> Enterprise:
    ent = Enterprise.objects.visible_to(user).select_related("region").filter(pk=pk).first()
    if ent is None:
        raise Http404
    return ent


@router.get("", response=list[EnterpriseOut])
@paginate(LimitOffsetPagination)
def list_enterprises(request, filters: Query[Filters]):
    user = request.auth
    region = None
    if filters.region:
        region = Region.objects.visible_to(user).filter(ref=filters.region).first()
        if region is None:
            return Enterprise.objects.none()
    qs = Enterprise.objects.visible_to(user).search(
        q=filters.q,
        sector=filters.sector,
        feature=filters.feature,
        risk_grade=filters.risk_grade,
        region=region,
        status=filters.status,
    )
    return qs.select_related("region").order_by("name", "pk")


@router.get("/{int:pk}", response=EnterpriseOut)
def get_enterprise(request, pk: int):
    return _get(request.auth, pk)


@router.post("", response={201: EnterpriseOut})
def create_enterprise(request, payload: EnterpriseIn):
    if not request.auth.can("enterprise.edit"):
        raise PermissionDenied
    ent = services.create_enterprise(by=request.auth, **_values(payload, request.auth))
    return Status(201, ent)


@router.patch("/{int:pk}", response=EnterpriseOut)
def update_enterprise(request, pk: int, payload: EnterpriseIn):
    ent = _get(request.auth, pk)
    return services.update_enterprise(ent, by=request.auth, **_values(payload, request.auth))
