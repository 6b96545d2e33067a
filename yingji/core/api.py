from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from yingji.core.models import Region

router = Router(tags=["regions"])


class RegionOut(Schema):
    id: int
    ref: str
    name: str
    level: str
    code: str
    parent_ref: str | None

    @staticmethod
    def resolve_parent_ref(obj: Region) -> str | None:
        return obj.parent.ref if obj.parent_id else None


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    region_ref: str | None

    @staticmethod
    def resolve_region_ref(obj) -> str | None:
        return obj.region.ref if obj.region_id else None


@router.get("/me", response=MeOut, tags=["session"])
def me(request):
    return request.auth


@router.get("/regions", response=list[RegionOut])
def list_regions(request, level: str | None = None):
    qs = Region.objects.visible_to(request.auth).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    return qs


@router.get("/regions/{ref}", response=RegionOut)
def get_region(request, ref: str):
    return get_object_or_404(
        Region.objects.visible_to(request.auth).select_related("parent"), ref=ref
    )
