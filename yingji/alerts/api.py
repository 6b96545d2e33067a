"""REST API of warnings (预警): drafts, issue and approval, the recipients' acknowledgements.

Every state change goes through `yingji.alerts.services`; this module parses input, resolves
references, validates with the same form as the staff pages and shapes output. The CAP feed,
`/alerts/feed`, `/alerts/{id}.cap`, `/alerts/cap` and `/alerts/ingest` are in api_cap.py.

Who may do what (checked on the server for every call):

* Reading follows `Alert.objects.visible_to(user)`: district-wide staff see every alert, a
  town or village officer those addressed to a unit of their area (and, in an alert's
  recipients, only those units); enterprise users and experts get 403. An alert outside
  the viewer's scope is 404, as if it did not exist.
* Writing, issuing, cancelling and lifting: `alert.issue` (duty officer, leader, admin);
  approving or rejecting a warning that needs approval: `alert.approve` (leaders). A caller
  without the capability gets 403 before the alert or the body is looked at.
* Acknowledging for a recipient unit: `method: "app"` is the caller's own acknowledgement
  (a contact of the unit or an officer of its region); `method: "phone"` records one taken
  by phone, for duty officers and leaders. The first acknowledgement wins; a later one
  answers 200 with `acknowledged: false` and changes nothing.

Input: times are ISO 8601 with an offset; the area is a list of region refs; extra units are
unit ids; unknown fields are refused with 422; an unknown reference is a 422 naming the
field; field errors come as {"detail": "invalid", "errors": {field: [message]}}.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import AwareDatetime

from yingji.alerts import services
from yingji.alerts.forms import AlertFilterForm, AlertForm
from yingji.alerts.models import Alert, AlertTemplate, Call, Dispatch, Recipient, Unit
from yingji.core.models import Region
from yingji.inspections.api import In, field_error

router = Router(tags=["alerts"])


def _username(user) -> str | None:
    return user.username if user is not None else None


# -- output ------------------------------------------------------------------------------------
class UnitRef(Schema):
    id: int
    name: str
    kind: str
    region: str | None = Field(..., description="region ref of a town or village unit")

    @staticmethod
    def resolve_region(obj: Unit) -> str | None:
        return obj.region.ref if obj.region_id else None


class DispatchOut(Schema):
    channel: str
    status: str | None = Field(..., description="pending, sent or failed (the outbox row)")
    attempts: int
    last_error: str
    at: datetime.datetime

    @staticmethod
    def resolve_status(obj: Dispatch) -> str | None:
        row = obj.notification or obj.webhook
        return row.status if row else None

    @staticmethod
    def resolve_attempts(obj: Dispatch) -> int:
        row = obj.notification or obj.webhook
        return row.attempts if row else 0

    @staticmethod
    def resolve_last_error(obj: Dispatch) -> str:
        row = obj.notification or obj.webhook
        return row.last_error if row else ""


class CallOut(Schema):
    name: str
    step: int = Field(..., description="0: the unit's first contact; higher: escalations")
    at: datetime.datetime
    dispatches: list[DispatchOut]

    @staticmethod
    def resolve_dispatches(obj: Call) -> list:
        return [d for d in obj.recipient.dispatches.all() if d.call_id == obj.pk]


class RecipientOut(Schema):
    id: int
    unit: UnitRef
    state: str
    step: int
    delivered_at: datetime.datetime | None
    escalated_at: datetime.datetime | None
    next_escalation_at: datetime.datetime | None
    acknowledged_at: datetime.datetime | None
    ack_method: str | None = Field(..., description="app, link, phone or import")
    ack_name: str = Field(..., description="who answered")
    ack_user: str | None
    ack_note: str
    calls: list[CallOut]

    @staticmethod
    def resolve_ack_method(obj: Recipient) -> str | None:
        return obj.ack_method or None

    @staticmethod
    def resolve_ack_name(obj: Recipient) -> str:
        if obj.ack_name:
            return obj.ack_name
        if obj.ack_contact_id:
            return obj.ack_contact.name
        return str(obj.ack_user) if obj.ack_user_id else ""

    @staticmethod
    def resolve_ack_user(obj: Recipient) -> str | None:
        return _username(obj.ack_user)

    @staticmethod
    def resolve_calls(obj: Recipient) -> list:
        return list(obj.calls.all())


class AlertOut(Schema):
    id: int
    ref: str
    kind: str
    hazard_type: str | None
    level: str | None
    status: str
    headline: str
    public: bool
    valid_from: datetime.datetime | None
    valid_until: datetime.datetime | None
    regions: list[str] = Field(..., description="refs of the area as chosen")
    source: str
    created_at: datetime.datetime
    issued_at: datetime.datetime | None
    lifted_at: datetime.datetime | None
    units: int = Field(..., description="recipient units (in the viewer's scope)")
    acknowledged: int

    @staticmethod
    def resolve_hazard_type(obj: Alert) -> str | None:
        return obj.hazard_type or None

    @staticmethod
    def resolve_level(obj: Alert) -> str | None:
        return obj.level or None

    @staticmethod
    def resolve_regions(obj: Alert) -> list[str]:
        return [r.ref for r in obj.regions.all()]

    @staticmethod
    def resolve_units(obj: Alert) -> int:
        return obj.n_units

    @staticmethod
    def resolve_acknowledged(obj: Alert) -> int:
        return obj.n_acked


class AlertDetail(AlertOut):
    body: str
    instructions: str
    extra_units: list[UnitRef]
    sectors: list[str]
    template: int | None
    sender: str
    created_by: str | None
    approved_by: str | None
    approved_at: datetime.datetime | None
    issued_by: str | None
    lifted_by: str | None
    recipients: list[RecipientOut]

    @staticmethod
    def resolve_extra_units(obj: Alert) -> list:
        return list(obj.extra_units.all())

    @staticmethod
    def resolve_sectors(obj: Alert) -> list[str]:
        return [s for s in obj.sectors.split(",") if s]

    @staticmethod
    def resolve_template(obj: Alert) -> int | None:
        return obj.template_id

    @staticmethod
    def resolve_created_by(obj: Alert) -> str | None:
        return _username(obj.created_by)

    @staticmethod
    def resolve_approved_by(obj: Alert) -> str | None:
        return _username(obj.approved_by)

    @staticmethod
    def resolve_issued_by(obj: Alert) -> str | None:
        return _username(obj.issued_by)

    @staticmethod
    def resolve_lifted_by(obj: Alert) -> str | None:
        return _username(obj.lifted_by)

    @staticmethod
    def resolve_recipients(obj: Alert) -> list:
        return obj.visible_recipients


class AckOut(Schema):
    acknowledged: bool = Field(..., description="false: the unit had already acknowledged")
    recipient: RecipientOut


# -- input -------------------------------------------------------------------------------------
class AlertFilters(Schema):
    kind: str = ""
    level: str = ""
    status: str = ""
    hazard_type: str = ""
    start: datetime.date | None = Field(None, description="issued (or written) on or after")
    end: datetime.date | None = Field(None, description="issued (or written) on or before")


class AlertIn(In):
    kind: str = Field("warning", description="warning, weather_forward, bulletin, station_message")
    headline: str = Field(..., max_length=200)
    hazard_type: str = ""
    level: str = Field("", description="blue, yellow, orange, red")
    body: str = ""
    instructions: str = ""
    public: bool = True
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    regions: list[str] = Field([], description="region refs: the district, towns, villages")
    extra_units: list[int] = Field([], description="ids of rescue teams and other units")
    sectors: list[str] = Field([], description="enterprises of these sectors in the area")
    template: int | None = Field(None, description="id of the template it was written from")


class RejectIn(In):
    reason: str = Field(..., max_length=300)


class AckIn(In):
    method: str = Field("app", description="app: your own; phone: taken by phone (duty office)")
    name: str = Field("", max_length=100, description="who answered the phone")
    note: str = Field("", max_length=300)


# -- helpers -----------------------------------------------------------------------------------
def _require(user, capability: str) -> None:
    if not user.can(capability):
        raise PermissionDenied


def _alerts(user):
    _require(user, "alert.view")
    return Alert.objects.visible_to(user)


def _alert(user, alert_id: int) -> Alert:
    alert = _alerts(user).filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    return alert


def _visible_recipients(alert: Alert, user):
    qs = alert.recipients.all()
    if not user.district_wide:
        qs = qs.filter(unit__in=Unit.objects.visible_to(user))
    return qs


def _recipients_qs(alert: Alert, user):
    return (
        _visible_recipients(alert, user)
        .select_related("unit__region", "ack_user", "ack_contact")
        .prefetch_related(
            Prefetch("calls", Call.objects.order_by("step", "pk")),
            Prefetch(
                "dispatches",
                Dispatch.objects.select_related("notification", "webhook").order_by("at", "pk"),
            ),
        )
        .order_by("unit__kind", "unit__name", "pk")
    )


def _detail(user, alert_id: int) -> Alert:
    alert = (
        _alerts(user)
        .select_related("created_by", "approved_by", "issued_by", "lifted_by")
        .prefetch_related("regions", Prefetch("extra_units", Unit.objects.select_related("region")))
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise Http404
    alert.visible_recipients = list(_recipients_qs(alert, user))
    for r in alert.visible_recipients:
        for call in r.calls.all():
            call.recipient = r  # the calls' dispatches are read from the recipient's prefetch
    alert.n_units = len(alert.visible_recipients)
    alert.n_acked = sum(r.acknowledged_at is not None for r in alert.visible_recipients)
    return alert


def _validated(user, payload: AlertIn) -> dict:
    """The payload through the staff form (same rules, same messages), references resolved."""
    refs = list(dict.fromkeys(payload.regions))
    regions = {r.ref: r.pk for r in Region.objects.visible_to(user).filter(ref__in=refs)}
    unknown = [ref for ref in refs if ref not in regions]
    if unknown:
        raise field_error("regions", _("Unknown region: %(refs)s") % {"refs": ", ".join(unknown)})
    if (
        payload.template is not None
        and not AlertTemplate.objects.filter(pk=payload.template, active=True).exists()
    ):
        raise field_error("template", _("Unknown template: %(pk)s") % {"pk": payload.template})
    data = payload.dict()
    data["regions"] = [regions[ref] for ref in refs]
    data["hazard_type"] = data["hazard_type"] or ""
    form = AlertForm(data=data, user=user)
    if not form.is_valid():
        raise ValidationError(
            {
                field: [e["message"] for e in errs]
                for field, errs in form.errors.get_json_data().items()
            }
        )
    return form.service_fields()


# -- reading -----------------------------------------------------------------------------------
@router.get("", response=list[AlertOut])
@paginate(LimitOffsetPagination)
def list_alerts(request, filters: Query[AlertFilters]):
    """Alerts in the viewer's scope, newest first; an unknown filter value matches nothing."""
    qs = _alerts(request.auth)
    given = {k: v for k, v in filters.dict().items() if v not in ("", None)}
    if given:
        form = AlertFilterForm(data=given)
        qs = form.filter(qs)
    return (
        qs.prefetch_related("regions")
        .with_counts(request.auth)
        .order_by("-issued_at", "-created_at", "-pk")
    )


@router.get("/{int:alert_id}", response=AlertDetail)
def get_alert(request, alert_id: int):
    """The alert with its recipient units: delivery, escalation, acknowledgement, channels."""
    return _detail(request.auth, alert_id)


# -- writing -----------------------------------------------------------------------------------
@router.post("", response={201: AlertDetail})
def create_alert(request, payload: AlertIn):
    """Write a draft; issue it with /alerts/{id}/issue."""
    user = request.auth
    _require(user, "alert.issue")
    alert = services.create_draft(by=user, **_validated(user, payload))
    return Status(201, _detail(user, alert.pk))


@router.put("/{int:alert_id}", response=AlertDetail)
def update_alert(request, alert_id: int, payload: AlertIn):
    """Rewrite a draft (every field; those left out take their defaults)."""
    user = request.auth
    _require(user, "alert.issue")
    alert = _alert(user, alert_id)
    services.update_draft(alert, by=user, **_validated(user, payload))
    return _detail(user, alert_id)


def _act(request, alert_id: int, capability: str, call) -> Alert:
    user = request.auth
    _require(user, capability)
    call(_alert(user, alert_id), user)
    return _detail(user, alert_id)


@router.post("/{int:alert_id}/issue", response=AlertDetail)
def issue(request, alert_id: int):
    """Issue a draft: at once, or to the leaders for approval (orange and red warnings)."""
    return _act(request, alert_id, "alert.issue", lambda a, u: services.issue(a, by=u))


@router.post("/{int:alert_id}/approve", response=AlertDetail)
def approve(request, alert_id: int):
    """A leader approves a warning awaiting approval; it is issued."""
    return _act(request, alert_id, "alert.approve", lambda a, u: services.approve(a, by=u))


@router.post("/{int:alert_id}/reject", response=AlertDetail)
def reject(request, alert_id: int, payload: RejectIn):
    """A leader sends a warning awaiting approval back, with the reason."""
    return _act(
        request,
        alert_id,
        "alert.approve",
        lambda a, u: services.reject(a, by=u, reason=payload.reason),
    )


@router.post("/{int:alert_id}/cancel", response=AlertDetail)
def cancel(request, alert_id: int):
    """Drop a draft or a warning awaiting approval."""
    return _act(request, alert_id, "alert.issue", lambda a, u: services.cancel(a, by=u))


@router.post("/{int:alert_id}/lift", response=AlertDetail)
def lift(request, alert_id: int):
    """End an issued warning (解除)."""
    return _act(request, alert_id, "alert.issue", lambda a, u: services.lift(a, by=u))


@router.post("/{int:alert_id}/recipients/{int:rid}/ack", response=AckOut)
def acknowledge(request, alert_id: int, rid: int, payload: AckIn | None = None):
    """Acknowledge for one recipient unit: your own (app) or one taken by phone."""
    user = request.auth
    payload = payload or AckIn()
    _require(user, "alert.ack")
    if payload.method == "phone" and not user.district_wide:
        raise PermissionDenied
    if payload.method not in ("app", "phone"):
        raise field_error("method", _("Give app or phone."))
    alert = _alert(user, alert_id)
    recipient = _visible_recipients(alert, user).filter(pk=rid).select_related("unit").first()
    if recipient is None:
        raise Http404
    if payload.method == "phone":
        done = services.record_phone_ack(recipient, by=user, name=payload.name, note=payload.note)
    else:
        done = services.acknowledge_in_app(recipient, by=user)
    fresh = _recipients_qs(alert, user).get(pk=rid)
    for call in fresh.calls.all():
        call.recipient = fresh
    return {"acknowledged": bool(done), "recipient": fresh}
