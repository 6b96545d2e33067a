"""REST API of public tips (举报): the 12345 hotline's intake and the staff's handling.

Every state change goes through `yingji.tips.services`; this module only parses input,
resolves references and shapes output.

Who may do what (checked on the server for every call):

* `POST /tips/hotline` is for the 12345 hotline's integration: a bearer token (never the
  browser session) of a user with `tip.intake` (a duty officer or an integration account of
  an admin). The same ticket twice is one tip: 201 the first time, 200 with the same tip after.
* Reading follows `Tip.objects.visible_to(user)`: district-wide staff see every tip, town and
  village officers the tips about enterprises of their area; enterprise users and experts get
  403. A tip outside the viewer's scope is 404, as if it did not exist.
* Intake (staff entry of phone, letter and visit tips, assigning, joining duplicates):
  `tip.intake`. Handling (transfer, verification, inspections, questions, rewards, closing):
  `tip.handle`; only a leader approves a reward. A caller without the capability gets 403
  before the tip or the body is looked at.
* The reporter's identity is never part of a tip's JSON. Only `GET /tips/{id}/identity`
  shows it, to roles with `tip.identity` (leaders), and every call is written to the audit log.

Input: dates are YYYY-MM-DD, the hotline's `received_at` is ISO 8601 with an offset; unknown
fields are refused with 422; an unknown reference in the body (enterprise ref, username, tip
or inspection id) is a 422 naming the field. Money is a string in yuan ("500.00"). Filters of
the list follow the other APIs: an unknown value simply matches nothing.
"""

import contextlib
import datetime
from decimal import Decimal
from typing import Annotated

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import AwareDatetime, BeforeValidator

from yingji.api.auth import TokenAuth
from yingji.enterprises.models import Enterprise
from yingji.inspections.api import Day, EnterpriseRef, In, field_error, resolve_enterprise
from yingji.inspections.models import Inspection
from yingji.tips import services
from yingji.tips.models import Channel, Tip, TipMessage

router = Router(tags=["tips"])

STAFF_CHANNELS = (Channel.PHONE, Channel.LETTER, Channel.VISIT)


def _username(user) -> str | None:
    return user.username if user is not None else None


def _money(value) -> str | None:
    return f"{value:.2f}" if value is not None else None


def _amount_in(value):
    """Amounts come as a string ("500.00") or a whole number, never a float."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('Give the amount in yuan as a string, e.g. "500.00".')
    return str(value)


Amount = Annotated[str | None, BeforeValidator(_amount_in)]


# -- output ------------------------------------------------------------------------------------
class TipOut(Schema):
    """A tip as staff see it: never the reporter's name or contact."""

    id: int
    ref: str
    channel: str
    status: str
    received_on: datetime.date
    received_at: datetime.datetime
    hotline_ticket: str | None
    hotline_deadline: datetime.date | None
    enterprise: EnterpriseRef | None
    enterprise_name: str = Field(..., description="the enterprise as the reporter named it")
    location: str
    content: str
    anonymous: bool = Field(..., description="the reporter left no contact to answer")
    assignee: str | None
    deadline: datetime.date | None
    is_overdue: bool
    duplicate_of_id: int | None
    verified: bool
    reward_status: str | None
    closed_on: datetime.date | None

    @staticmethod
    def resolve_assignee(obj: Tip) -> str | None:
        return _username(obj.assignee)

    @staticmethod
    def resolve_reward_status(obj: Tip) -> str | None:
        return obj.reward_status or None


class MessageOut(Schema):
    id: int
    kind: str = Field(..., description="question (to the reporter) or answer (theirs)")
    text: str
    at: datetime.datetime
    by: str | None = Field(..., description="the staff member asking; none for the reporter")

    @staticmethod
    def resolve_by(obj: TipMessage) -> str | None:
        return _username(obj.by)


class VerificationOut(Schema):
    inspection_id: int | None
    verified: bool
    findings: str


class RewardOut(Schema):
    status: str | None
    amount: str | None = Field(..., description="yuan, two decimals")
    approved_by: str | None
    approved_at: datetime.datetime | None
    paid_on: datetime.date | None
    method: str
    claimed_at: datetime.datetime | None


class TipDetail(TipOut):
    transferred_to: str
    answer: str
    created_by: str | None
    duplicates: list[int] = Field(..., description="ids of the tips joined to this one")
    messages: list[MessageOut]
    verification: VerificationOut
    reward: RewardOut

    @staticmethod
    def resolve_created_by(obj: Tip) -> str | None:
        return _username(obj.created_by)

    @staticmethod
    def resolve_duplicates(obj: Tip) -> list[int]:
        return sorted(d.pk for d in obj.duplicates.all())

    @staticmethod
    def resolve_messages(obj: Tip) -> list:
        return list(obj.messages.all())

    @staticmethod
    def resolve_verification(obj: Tip) -> dict:
        return {
            "inspection_id": obj.inspection_id,
            "verified": obj.verified,
            "findings": obj.findings,
        }

    @staticmethod
    def resolve_reward(obj: Tip) -> dict:
        return {
            "status": obj.reward_status or None,
            "amount": _money(obj.reward_amount),
            "approved_by": _username(obj.reward_approved_by),
            "approved_at": obj.reward_approved_at,
            "paid_on": obj.reward_paid_on,
            "method": obj.reward_method,
            "claimed_at": obj.reward_claimed_at,
        }


class TipCreated(TipDetail):
    receipt_code: str = Field(
        ..., description="for the reporter to follow the tip; shown this once, never again"
    )


class HotlineOut(Schema):
    id: int
    ref: str
    ticket: str
    status: str
    received_on: datetime.date
    deadline: datetime.date | None
    enterprise: str | None = Field(..., description="enterprise ref, when the code matched")

    @staticmethod
    def resolve_ticket(obj: Tip) -> str:
        return obj.hotline_ticket

    @staticmethod
    def resolve_enterprise(obj: Tip) -> str | None:
        return obj.enterprise.ref if obj.enterprise_id else None


class IdentityOut(Schema):
    anonymous: bool
    name: str
    contact: str


# -- input -------------------------------------------------------------------------------------
class TipFilters(Schema):
    status: str = ""
    channel: str = ""
    overdue: bool = Field(False, description="only tips past their deadline and not closed")
    assignee: str = Field("", description="username of the handler")


class HotlineIn(In):
    ticket: str = Field(..., max_length=64, description="the hotline's ticket number")
    content: str = Field(..., max_length=5000)
    received_at: AwareDatetime = Field(..., description="ISO 8601 with an offset")
    deadline: Day | None = Field(None, description="the answer the hotline expects by")
    enterprise_name: str = Field("", max_length=200)
    enterprise_uscc: str = Field(
        "", max_length=64, description="linked to the enterprise when an active one has it"
    )
    location: str = Field("", max_length=300)
    reporter_name: str = Field("", max_length=100)
    reporter_contact: str = Field("", max_length=200)


class TipIn(In):
    channel: str = Field(..., description="phone, letter or visit")
    content: str = Field(..., max_length=5000)
    received_on: Day | None = Field(None, description="default today")
    enterprise: str | None = Field(None, description="enterprise ref")
    enterprise_name: str = Field("", max_length=200)
    location: str = Field("", max_length=300)
    anonymous: bool | None = Field(
        None, description="default: anonymous unless a name or contact is given"
    )
    reporter_name: str = Field("", max_length=100)
    reporter_contact: str = Field("", max_length=200, description="phone number or email")


class AssignIn(In):
    assignee: str = Field(..., description="username of an inspector or leader")
    deadline: Day | None = Field(None, description="default the tip's deadline")


class DuplicateIn(In):
    duplicate_of: int = Field(..., description="id of the tip this one repeats")


class TransferIn(In):
    to: str = Field(..., description="the authority the tip goes to")
    answer: str = Field(..., description="what the reporter is told")


class StartIn(In):
    inspection: int | None = Field(None, description="id of an inspection of the enterprise")


class InspectIn(In):
    date: Day | None = Field(None, description="default today")


class VerificationIn(In):
    verified: bool = Field(..., description="true: found true (查证属实); false: unfounded")
    findings: str


class QuestionIn(In):
    question: str


class ProposeIn(In):
    amount: Amount = Field(None, description="yuan; default the reward rule's figure")


class RewardPaymentIn(In):
    paid_on: Day
    method: str = Field(..., max_length=100)


class CloseIn(In):
    answer: str = Field("", description="to the reporter; default the answer already given")
    closed_on: Day | None = Field(None, description="default today")


# -- helpers -----------------------------------------------------------------------------------
def _require(user, capability: str) -> None:
    if not user.can(capability):
        raise PermissionDenied


@contextlib.contextmanager
def _named(**names):
    """Give the services' field errors the names of this API's input fields."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): errors for field, errors in exc.error_dict.items()}
        ) from None


def _tips(user):
    _require(user, "tip.view")
    return Tip.objects.visible_to(user).select_related("enterprise", "assignee")


def _tip(user, pk: int) -> Tip:
    """A tip in the viewer's scope (404 otherwise); the services lock and re-read it."""
    tip = _tips(user).filter(pk=pk).first()
    if tip is None:
        raise Http404
    return tip


def _detail(user, pk: int) -> Tip:
    tip = (
        _tips(user)
        .select_related("created_by", "reward_approved_by")
        .prefetch_related(
            Prefetch("messages", TipMessage.objects.select_related("by")),
            Prefetch("duplicates", Tip.objects.only("pk", "duplicate_of")),
        )
        .filter(pk=pk)
        .first()
    )
    if tip is None:
        raise Http404
    return tip


def _resolve(user, model, pk: int | None, field: str):
    if pk is None:
        return None
    obj = model.objects.visible_to(user).filter(pk=pk).first()
    if obj is None:
        raise field_error(field, _("Unknown %(what)s: %(pk)s") % {"what": field, "pk": pk})
    return obj


def _active_user(username: str, field: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise field_error(field, _("Unknown user: %(names)s") % {"names": username})
    return user


# -- the 12345 hotline -------------------------------------------------------------------------
@router.post("/hotline", auth=TokenAuth(), response={200: HotlineOut, 201: HotlineOut})
def hotline(request, payload: HotlineIn):
    """A tip forwarded by the 12345 hotline; sending a ticket again returns its tip (200)."""
    user = request.auth
    _require(user, "tip.intake")
    uscc = payload.enterprise_uscc.strip().upper()
    enterprise = (
        Enterprise.objects.filter(uscc=uscc, status=Enterprise.Status.ACTIVE).first()
        if uscc
        else None
    )
    name = payload.enterprise_name.strip()
    if uscc and enterprise is None:
        # An unknown code is kept with the name as reported, not dropped.
        name = f"{name} ({uscc})".strip()[:200]
    try:
        with _named(hotline_ticket="ticket", hotline_deadline="deadline"):
            tip, created = services.receive_hotline_tip(
                by=user,
                ticket=payload.ticket,
                content=payload.content,
                received_at=payload.received_at,
                deadline=payload.deadline,
                enterprise=enterprise,
                enterprise_name=name,
                location=payload.location,
                name=payload.reporter_name,
                contact=payload.reporter_contact,
            )
    except IntegrityError:
        # The same ticket sent twice at once: the other request created it.
        tip = Tip.objects.filter(hotline_ticket=payload.ticket.strip()).first()
        if tip is None:
            raise
        created = False
    tip = Tip.objects.select_related("enterprise").get(pk=tip.pk)
    return Status(201 if created else 200, tip)


# -- reading -----------------------------------------------------------------------------------
@router.get("", response=list[TipOut])
@paginate(LimitOffsetPagination)
def list_tips(request, filters: Query[TipFilters]):
    qs = _tips(request.auth)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.overdue:
        qs = qs.overdue()
    if filters.assignee:
        qs = qs.filter(assignee__username=filters.assignee)
    return qs.order_by("-received_at", "-pk")


@router.get("/{int:pk}", response=TipDetail)
def get_tip(request, pk: int):
    """The tip with its conversation, verification and reward; never the reporter's identity."""
    return _detail(request.auth, pk)


@router.get("/{int:pk}/identity", response=IdentityOut)
def identity(request, pk: int, response: HttpResponse):
    """Who reported: for leaders only, and each look is written to the audit log."""
    user = request.auth
    _require(user, "tip.identity")
    tip = _tip(user, pk)
    revealed = services.reveal_identity(tip, by=user)
    response["Cache-Control"] = "no-store"
    return {"anonymous": tip.anonymous, **revealed}


# -- intake ------------------------------------------------------------------------------------
@router.post("", response={201: TipCreated})
def record_tip(request, payload: TipIn):
    """Staff enter a tip received by phone, letter or visit; the receipt code is in the
    answer this once, to hand to the reporter."""
    user = request.auth
    _require(user, "tip.intake")
    name, contact = payload.reporter_name.strip(), payload.reporter_contact.strip()
    anonymous = payload.anonymous
    if anonymous is None:
        anonymous = not (name or contact)
    elif anonymous and (name or contact):
        field = "reporter_name" if name else "reporter_contact"
        raise field_error(field, _("An anonymous tip keeps no name or contact."))
    enterprise = resolve_enterprise(user, payload.enterprise) if payload.enterprise else None
    with _named(contact="reporter_contact"):
        tip, code = services.record_tip(
            by=user,
            channel=payload.channel,
            content=payload.content,
            received_on=payload.received_on,
            location=payload.location,
            enterprise=enterprise,
            enterprise_name=payload.enterprise_name,
            anonymous=anonymous,
            name=name,
            contact=contact,
        )
    tip = _detail(user, tip.pk)
    tip.receipt_code = code
    return Status(201, tip)


@router.post("/{int:pk}/assign", response=TipDetail)
def assign(request, pk: int, payload: AssignIn):
    """Give the tip to a handler (an inspector or a leader) with a handling deadline."""
    user = request.auth
    _require(user, "tip.intake")
    tip = _tip(user, pk)
    assignee = _active_user(payload.assignee, "assignee")
    services.assign(tip, by=user, assignee=assignee, deadline=payload.deadline)
    return _detail(user, pk)


@router.post("/{int:pk}/duplicate", response=TipDetail)
def duplicate(request, pk: int, payload: DuplicateIn):
    """Join a repeat report to the tip it repeats; it is closed with that tip."""
    user = request.auth
    _require(user, "tip.intake")
    tip = _tip(user, pk)
    original = _resolve(user, Tip, payload.duplicate_of, "duplicate_of")
    services.link_duplicate(tip, by=user, of=original)
    return _detail(user, pk)


# -- handling ----------------------------------------------------------------------------------
@router.post("/{int:pk}/transfer", response=TipDetail)
def transfer(request, pk: int, payload: TransferIn):
    """Out of the bureau's remit: hand the tip to the right authority and say so."""
    user = request.auth
    _require(user, "tip.handle")
    tip = _tip(user, pk)
    with _named(transferred_to="to"):
        services.transfer(tip, by=user, to=payload.to, answer=payload.answer)
    return _detail(user, pk)


@router.post("/{int:pk}/verification/start", response=TipDetail)
def start_verification(request, pk: int, payload: StartIn | None = None):
    """Begin checking the facts, optionally with an inspection of the reported enterprise."""
    user = request.auth
    _require(user, "tip.handle")
    tip = _tip(user, pk)
    inspection = _resolve(user, Inspection, payload.inspection if payload else None, "inspection")
    services.start_verification(tip, by=user, inspection=inspection)
    return _detail(user, pk)


@router.post("/{int:pk}/inspect", response={201: TipDetail})
def inspect(request, pk: int, payload: InspectIn | None = None):
    """Plan an inspection of the reported enterprise; the tip's verification starts with it."""
    user = request.auth
    _require(user, "tip.handle")
    tip = _tip(user, pk)
    services.inspect_from_tip(tip, by=user, date=payload.date if payload else None)
    return Status(201, _detail(user, pk))


@router.post("/{int:pk}/verification", response=TipDetail)
def record_verification(request, pk: int, payload: VerificationIn):
    """The result of the check: verified true or unfounded, with what was found."""
    user = request.auth
    _require(user, "tip.handle")
    tip = _tip(user, pk)
    services.record_verification(tip, by=user, verified=payload.verified, findings=payload.findings)
    return _detail(user, pk)


@router.post("/{int:pk}/questions", response={201: MessageOut})
def ask(request, pk: int, payload: QuestionIn):
    """Ask the reporter; they read it on the status page with their receipt code."""
    user = request.auth
    _require(user, "tip.handle")
    msg = services.ask_reporter(_tip(user, pk), by=user, question=payload.question)
    return Status(201, TipMessage.objects.select_related("by").get(pk=msg.pk))


@router.post("/{int:pk}/close", response=TipDetail)
def close(request, pk: int, payload: CloseIn | None = None):
    """Close with the answer to the reporter (and to the hotline for its tickets)."""
    user = request.auth
    _require(user, "tip.handle")
    tip = _tip(user, pk)
    services.close_tip(
        tip,
        by=user,
        answer=payload.answer if payload else "",
        closed_on=payload.closed_on if payload else None,
    )
    return _detail(user, pk)


# -- rewards -----------------------------------------------------------------------------------
@router.post("/{int:pk}/reward/propose", response=TipDetail)
def propose_reward(request, pk: int, payload: ProposeIn | None = None):
    """Propose a reward for a tip found true: the reward rule's figure unless given."""
    user = request.auth
    _require(user, "tip.handle")
    tip = _tip(user, pk)
    amount = _decimal(payload.amount) if payload and payload.amount is not None else None
    with _named(reward_amount="amount"):
        services.propose_reward(tip, by=user, amount=amount)
    return _detail(user, pk)


def _decimal(text: str) -> Decimal:
    try:
        amount = Decimal(text.strip())
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite():
        raise field_error("amount", _("Give a positive amount in yuan."))
    return amount


@router.post("/{int:pk}/reward/approve", response=TipDetail)
def approve_reward(request, pk: int):
    """A leader approves the proposed reward."""
    user = request.auth
    _require(user, "tip.handle")
    services.approve_reward(_tip(user, pk), by=user)
    return _detail(user, pk)


@router.post("/{int:pk}/reward/payment", response=TipDetail)
def record_reward_payment(request, pk: int, payload: RewardPaymentIn):
    """Record the payment of the approved reward: how and when."""
    user = request.auth
    _require(user, "tip.handle")
    tip = _tip(user, pk)
    with _named(reward_paid_on="paid_on", reward_method="method"):
        services.record_reward_payment(tip, by=user, paid_on=payload.paid_on, method=payload.method)
    return _detail(user, pk)
