"""REST API of video roll-calls (视频点调), mounted at /api/v1/rollcalls.

* Reading needs `alert.view`: district-wide staff see every roll-call; town and village
  officers those that called a unit of their area, with only their area's entries. Enterprise
  users and experts get 403; a roll-call outside the viewer's scope is 404.
* Recording one needs `rollcall.manage` (duty officers, leaders, administrators): 403 before
  the body is looked at. Regions are given by ref; an unknown one is a 422 naming the field.
  Times are ISO 8601 with an offset.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import AwareDatetime

from yingji.alerts import rollcalls
from yingji.alerts.models import Alert, RollCall
from yingji.core.models import Region
from yingji.inspections.api import Day, In

router = Router(tags=["rollcalls"])


# -- output ------------------------------------------------------------------------------------
class RollCallOut(Schema):
    id: int
    ref: str
    held_at: datetime.datetime
    topic: str
    alert: str | None = Field(..., description="ref of the alert the roll-call followed")
    held_by: str | None = Field(..., description="username")
    called: int = Field(..., description="towns and villages called (in your scope)")
    answered: int
    missed_open: int = Field(..., description="missed and not yet followed up")

    @staticmethod
    def resolve_alert(obj: RollCall) -> str | None:
        return obj.alert.ref if obj.alert_id else None

    @staticmethod
    def resolve_held_by(obj: RollCall) -> str | None:
        return obj.held_by.username if obj.held_by_id else None

    @staticmethod
    def resolve_called(obj: RollCall) -> int:
        return obj.n_called

    @staticmethod
    def resolve_answered(obj: RollCall) -> int:
        return obj.n_answered

    @staticmethod
    def resolve_missed_open(obj: RollCall) -> int:
        return obj.n_open


class EntryOut(Schema):
    region: str = Field(..., description="region ref")
    region_name: str
    level: str = Field(..., description="town or village")
    answered: bool
    answered_by: str
    remark: str
    followed_up_at: datetime.datetime | None
    follow_up_note: str


class RollCallDetail(RollCallOut):
    note: str
    entries: list[EntryOut]

    @staticmethod
    def resolve_entries(obj: RollCall) -> list[dict]:
        return obj.scoped_entries


# -- input -------------------------------------------------------------------------------------
class RollCallFilters(Schema):
    start: Day | None = Field(None, description="held on or after (local date)")
    end: Day | None = Field(None, description="held on or before (local date)")


class RollCallIn(In):
    held_at: AwareDatetime | None = Field(None, description="default now")
    topic: str = Field("", max_length=200)
    note: str = Field("", max_length=5000)
    alert: str | None = Field(None, description="ref of the alert the roll-call follows")
    targets: list[str] | None = Field(
        None, description="region refs of the towns and villages called; default all of them"
    )
    answered: dict[str, str] = Field(
        default_factory=dict, description="region ref → name of who answered"
    )
    remarks: dict[str, str] = Field(default_factory=dict, description="region ref → remark")


# -- helpers -----------------------------------------------------------------------------------
def _calls(user):
    if not user.can("alert.view"):
        raise PermissionDenied
    qs = RollCall.objects.visible_to(user).select_related("alert", "held_by")
    return rollcalls.with_counts(qs, user)


def _detail(user, pk: int) -> RollCall:
    call = _calls(user).filter(pk=pk).first()
    if call is None:
        raise Http404
    entries = (
        rollcalls.entries_visible_to(user)
        .filter(rollcall=call)
        .select_related("region")
        .order_by("region__path")
    )
    call.scoped_entries = [
        {
            "region": e.region.ref,
            "region_name": e.region.name,
            "level": e.region.level,
            "answered": e.answered,
            "answered_by": e.answered_by,
            "remark": e.remark,
            "followed_up_at": e.followed_up_at,
            "follow_up_note": e.follow_up_note,
        }
        for e in entries
    ]
    return call


def _regions(refs: list[str], field: str) -> dict[str, Region]:
    found = {r.ref: r for r in Region.objects.filter(ref__in=refs)}
    unknown = [ref for ref in refs if ref not in found]
    if unknown:
        raise ValidationError(
            {field: [_("Unknown region: %(refs)s") % {"refs": ", ".join(unknown)}]}
        )
    return found


# -- endpoints ---------------------------------------------------------------------------------
@router.get("", response=list[RollCallOut])
@paginate(LimitOffsetPagination)
def list_rollcalls(request, filters: Query[RollCallFilters]):
    qs = rollcalls.held_between(_calls(request.auth), filters.start, filters.end)
    return qs.order_by("-held_at", "-pk")


@router.get("/{int:pk}", response=RollCallDetail)
def get_rollcall(request, pk: int):
    """One roll-call with its entries (a town or village officer sees their area's)."""
    return _detail(request.auth, pk)


@router.post("", response={201: RollCallDetail})
def create_rollcall(request, payload: RollCallIn):
    """Record a roll-call: who was called and who answered."""
    user = request.auth
    if not user.can("rollcall.manage"):
        raise PermissionDenied
    if payload.targets is None:
        targets = list(rollcalls.callable_regions().order_by("path"))
    else:
        found = _regions(payload.targets, "targets")
        targets = [found[ref] for ref in payload.targets]
    answered = _regions(list(payload.answered), "answered")
    remarks = _regions(list(payload.remarks), "remarks")
    alert = None
    if payload.alert:
        alert = Alert.objects.visible_to(user).filter(ref=payload.alert).first()
        if alert is None:
            raise ValidationError({"alert": [_("Unknown alert: %(ref)s") % {"ref": payload.alert}]})
    call = rollcalls.record_rollcall(
        by=user,
        held_at=payload.held_at,
        topic=payload.topic,
        note=payload.note,
        targets=targets,
        answered={answered[ref]: name for ref, name in payload.answered.items()},
        remarks={remarks[ref]: text for ref, text in payload.remarks.items()},
        alert=alert,
    )
    return Status(201, _detail(user, call.pk))
