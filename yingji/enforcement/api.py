"""REST API of enforcement: cases and their acts (penalties, supervision letters, warning
interviews, referrals).

Every state change goes through `yingji.enforcement.services`; this module only parses
input, resolves references and shapes output.

Who may do what (checked on the server for every call):

* Reading follows `Case.objects.visible_to(user)` (the enterprise's scope): district-wide
  staff see every case, town and village officers those of enterprises in their area,
  enterprise users their own. Experts read nothing here (403). A case or act outside the
  viewer's scope is 404, as if it did not exist.
* Writing: leaders, inspectors and admins (everyone else gets 403 before the request body
  is looked at). Approving a penalty or a referral and withdrawing a penalty: leaders only.
  The order of a penalty follows the law: notice, the party's statement or hearing (or the
  statement period running out), a leader's approval, decision, payment.

Money is a string in yuan with two decimals ("5000.00"); input amounts are a string (or a
whole number). Dates are YYYY-MM-DD; unknown fields are refused with 422; an unknown
reference in the body (enterprise ref, hazard id, inspection id) is a 422 naming the field.
Filters of the list follow the other APIs: an unknown reference simply matches nothing.
Referral documents are uploaded on the web page; the API lists them.
"""

import datetime
from typing import Annotated

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import BeforeValidator

from yingji.core.models import Attachment
from yingji.core.roles import Role
from yingji.enforcement import services
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter
from yingji.enterprises.models import Enterprise
from yingji.hazards.models import Hazard
from yingji.inspections.api import (
    Day,
    EnterpriseRef,
    In,
    field_error,
    require_role,
    resolve_enterprise,
)
from yingji.inspections.models import Inspection

router = Router(tags=["enforcement"])

READERS = frozenset(Role.values) - {Role.EXPERT}
WRITERS = services.ACTORS
KIND_MODELS = {
    "penalty": Penalty,
    "supervision_letter": SupervisionLetter,
    "interview": Interview,
    "referral": Referral,
}
COUNTS = {"penalties": Penalty, "letters": SupervisionLetter}
COUNTS |= {"interviews": Interview, "referrals": Referral}


def _username(user) -> str | None:
    return user.username if user is not None else None


def _money(value) -> str:
    return f"{value:.2f}"


def _amount_in(value):
    """Amounts come as a string ("5000.00") or a whole number, never a float."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('Give the amount in yuan as a string, e.g. "5000.00".')
    return str(value)


Amount = Annotated[str, BeforeValidator(_amount_in)]


# -- output ------------------------------------------------------------------------------------
class Acts(Schema):
    penalties: int
    letters: int
    interviews: int
    referrals: int


class CaseOut(Schema):
    id: int
    ref: str
    enterprise: EnterpriseRef
    title: str
    source: str
    hazard_id: int | None
    inspection_id: int | None
    opened_on: datetime.date
    status: str
    closed_on: datetime.date | None
    acts: Acts

    @staticmethod
    def resolve_acts(obj: Case) -> dict:
        return {name: getattr(obj, f"n_{name}") for name in COUNTS}


class PenaltyOut(Schema):
    id: int
    ref: str
    case_id: int
    status: str
    legal_basis: str
    facts: str
    amount: str = Field(..., description="yuan, two decimals")
    notice_no: str | None
    notified_on: datetime.date | None
    statement: str
    hearing_requested: bool
    hearing_held_on: datetime.date | None
    hearing_summary: str
    approved: bool
    approved_by: str | None
    approved_at: datetime.datetime | None
    decision_no: str | None
    decided_on: datetime.date | None
    paid_on: datetime.date | None
    created_by: str | None

    @staticmethod
    def resolve_amount(obj: Penalty) -> str:
        return _money(obj.amount)

    @staticmethod
    def resolve_notice_no(obj: Penalty) -> str | None:
        return obj.notice_no or None

    @staticmethod
    def resolve_decision_no(obj: Penalty) -> str | None:
        return obj.decision_no or None

    @staticmethod
    def resolve_approved_by(obj: Penalty) -> str | None:
        return _username(obj.approved_by)

    @staticmethod
    def resolve_created_by(obj: Penalty) -> str | None:
        return _username(obj.created_by)


class LetterOut(Schema):
    id: int
    ref: str
    case_id: int
    number: str
    addressee: str
    content: str
    issued_on: datetime.date
    deadline: datetime.date
    reply: str
    replied_on: datetime.date | None
    created_by: str | None

    @staticmethod
    def resolve_created_by(obj: SupervisionLetter) -> str | None:
        return _username(obj.created_by)


class InterviewOut(Schema):
    id: int
    ref: str
    case_id: int
    held_on: datetime.date
    attendees: str
    topics: str
    commitments: str
    follow_up_on: datetime.date | None
    follow_up_result: str
    created_by: str | None

    @staticmethod
    def resolve_created_by(obj: Interview) -> str | None:
        return _username(obj.created_by)


class DocumentOut(Schema):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str

    @staticmethod
    def resolve_id(obj: Attachment) -> str:
        return str(obj.id)

    @staticmethod
    def resolve_name(obj: Attachment) -> str:
        return obj.original_name


class ReferralOut(Schema):
    id: int
    ref: str
    case_id: int
    status: str
    authority: str
    reason: str
    approved: bool
    approved_by: str | None
    approved_at: datetime.datetime | None
    number: str | None
    sent_on: datetime.date | None
    result: str
    result_on: datetime.date | None
    documents: list[DocumentOut]
    created_by: str | None

    @staticmethod
    def resolve_number(obj: Referral) -> str | None:
        return obj.number or None

    @staticmethod
    def resolve_approved_by(obj: Referral) -> str | None:
        return _username(obj.approved_by)

    @staticmethod
    def resolve_created_by(obj: Referral) -> str | None:
        return _username(obj.created_by)

    @staticmethod
    def resolve_documents(obj: Referral) -> list:
        docs = getattr(obj, "prefetched_documents", None)
        return docs if docs is not None else list(_documents([obj]).get(obj.pk, []))


class Event(Schema):
    """One dated step of the case: what happened to which act, with its document number."""

    date: datetime.date
    kind: str = Field(..., description="case, penalty, supervision_letter, interview, referral")
    id: int
    event: str
    number: str | None
    status: str | None = Field(..., description="the act's current status")


class CaseDetail(CaseOut):
    closing_note: str
    opened_by: str | None
    penalties: list[PenaltyOut]
    letters: list[LetterOut]
    interviews: list[InterviewOut]
    referrals: list[ReferralOut]
    timeline: list[Event] = Field(..., description="every dated step, oldest first")

    @staticmethod
    def resolve_opened_by(obj: Case) -> str | None:
        return _username(obj.opened_by)

    @staticmethod
    def resolve_penalties(obj: Case) -> list:
        return list(obj.penalties.all())

    @staticmethod
    def resolve_letters(obj: Case) -> list:
        return list(obj.letters.all())

    @staticmethod
    def resolve_interviews(obj: Case) -> list:
        return list(obj.interviews.all())

    @staticmethod
    def resolve_referrals(obj: Case) -> list:
        return list(obj.referrals.all())

    @staticmethod
    def resolve_timeline(obj: Case) -> list[dict]:
        return _timeline(obj)


class RepeatOut(Schema):
    enterprise: EnterpriseRef
    on: datetime.date
    interviews: int = Field(..., description="warning interviews in the last twelve months")
    repeat: bool = Field(..., description="two or more: a repeat offender")


# -- input -------------------------------------------------------------------------------------
class CaseFilters(Schema):
    status: str = ""
    enterprise: str = Field("", description="enterprise ref")
    kind: str = Field(
        "", description="only cases with an act of this kind: " + ", ".join(KIND_MODELS)
    )


class CaseIn(In):
    enterprise: str = Field(..., description="enterprise ref")
    title: str
    hazard: int | None = Field(None, description="id of the hazard that opened the case")
    inspection: int | None = Field(None, description="id of the inspection that opened it")
    opened_on: Day | None = Field(None, description="default today")


class CloseIn(In):
    note: str
    closed_on: Day | None = Field(None, description="default today")


class PenaltyIn(In):
    legal_basis: str
    facts: str
    amount: Amount = Field(..., description='yuan, e.g. "5000.00"')


class NoticeIn(In):
    served_on: Day | None = Field(None, description="default today")


class StatementIn(In):
    statement: str = ""
    hearing_requested: bool = False


class HearingIn(In):
    held_on: Day
    summary: str = Field(..., description="the hearing record")


class DecideIn(In):
    decided_on: Day | None = Field(None, description="default today")


class PaymentIn(In):
    paid_on: Day | None = Field(None, description="default today")


class WithdrawIn(In):
    reason: str


class LetterIn(In):
    addressee: str
    content: str
    deadline: Day
    issued_on: Day | None = Field(None, description="default today")


class ReplyIn(In):
    reply: str
    replied_on: Day | None = Field(None, description="default today")


class InterviewIn(In):
    held_on: Day
    attendees: str
    topics: str
    commitments: str = ""
    follow_up_on: Day | None = Field(None, description="planned follow-up check")


class FollowUpIn(In):
    result: str
    checked_on: Day | None = Field(None, description="default today")


class ReferralIn(In):
    authority: str = Field(..., description="receiving authority")
    reason: str = Field(..., description="reason and legal basis")


class SendIn(In):
    sent_on: Day | None = Field(None, description="default today")


class ResultIn(In):
    result: str
    result_on: Day | None = Field(None, description="default today")


# -- helpers -----------------------------------------------------------------------------------
def _count(model):
    rows = (
        model.objects.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _cases(user):
    require_role(user, READERS)
    return (
        Case.objects.visible_to(user)
        .select_related("enterprise")
        .annotate(**{f"n_{name}": _count(model) for name, model in COUNTS.items()})
    )


def _documents(referrals) -> dict[int, list]:
    if not referrals:
        return {}
    ct = ContentType.objects.get_for_model(Referral)
    by_owner: dict[int, list] = {r.pk: [] for r in referrals}
    for att in Attachment.objects.filter(
        owner_type=ct, owner_id__in=[str(pk) for pk in by_owner]
    ).order_by("uploaded_at", "pk"):
        by_owner[int(att.owner_id)].append(att)
    return by_owner


def _case(user, pk: int) -> Case:
    case = (
        _cases(user)
        .select_related("opened_by")
        .prefetch_related(
            Prefetch("penalties", Penalty.objects.select_related("approved_by", "created_by")),
            Prefetch("letters", SupervisionLetter.objects.select_related("created_by")),
            Prefetch("interviews", Interview.objects.select_related("created_by")),
            Prefetch("referrals", Referral.objects.select_related("approved_by", "created_by")),
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    referrals = list(case.referrals.all())
    documents = _documents(referrals)
    for referral in referrals:
        referral.prefetched_documents = documents[referral.pk]
    return case


def _open_case(user, pk: int) -> Case:
    """A case to act on, in the actor's scope (404 otherwise)."""
    case = (
        Case.objects.visible_to(user)
        .select_related("enterprise", "hazard", "inspection")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def _act(user, model, pk: int):
    """An act in the viewer's scope (404 otherwise); the service locks and re-reads it."""
    require_role(user, READERS)
    act = (
        model.objects.visible_to(user)
        .select_related("case__enterprise", "case__hazard", "case__inspection")
        .filter(pk=pk)
        .first()
    )
    if act is None:
        raise Http404
    return act


def _writer(user) -> None:
    """Roles that may never act get 403 before anything else is looked at."""
    require_role(user, WRITERS)


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def _timeline(case: Case) -> list[dict]:
    events: list[tuple] = []

    def add(date, kind, act, event, number=None, status=None):
        if date is not None:
            events.append((date, len(events), kind, act.pk, event, number or None, status))

    add(case.opened_on, "case", case, "opened", None, case.status)
    for p in case.penalties.all():
        add(p.notified_on, "penalty", p, "notice", p.notice_no, p.status)
        add(p.hearing_held_on, "penalty", p, "hearing", None, p.status)
        add(_local_day(p.approved_at), "penalty", p, "approved", None, p.status)
        add(p.decided_on, "penalty", p, "decided", p.decision_no, p.status)
        add(p.paid_on, "penalty", p, "paid", None, p.status)
    for letter in case.letters.all():
        add(letter.issued_on, "supervision_letter", letter, "issued", letter.number)
        add(letter.replied_on, "supervision_letter", letter, "replied", letter.number)
    for interview in case.interviews.all():
        add(interview.held_on, "interview", interview, "held")
        add(interview.follow_up_on, "interview", interview, "follow_up")
    for r in case.referrals.all():
        add(_local_day(r.approved_at), "referral", r, "approved", None, r.status)
        add(r.sent_on, "referral", r, "sent", r.number, r.status)
        add(r.result_on, "referral", r, "result", r.number, r.status)
    add(case.closed_on, "case", case, "closed", None, case.status)
    events.sort(key=lambda e: (e[0], e[1]))
    keys = ("date", "kind", "id", "event", "number", "status")
    return [dict(zip(keys, (e[0], *e[2:]), strict=True)) for e in events]


def _resolve(user, model, pk: int | None, field: str):
    if pk is None:
        return None
    obj = model.objects.visible_to(user).filter(pk=pk).first()
    if obj is None:
        raise field_error(field, _("Unknown %(what)s: %(pk)s") % {"what": field, "pk": pk})
    return obj


# -- cases -------------------------------------------------------------------------------------
@router.get("/cases", response=list[CaseOut])
@paginate(LimitOffsetPagination)
def list_cases(request, filters: Query[CaseFilters]):
    qs = _cases(request.auth)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.enterprise:
        qs = qs.filter(enterprise__ref=filters.enterprise)
    if filters.kind:
        model = KIND_MODELS.get(filters.kind)
        if model is None:
            return Case.objects.none()
        qs = qs.filter(Exists(model.objects.filter(case=OuterRef("pk"))))
    return qs.order_by("-opened_on", "-pk")


@router.get("/cases/{int:pk}", response=CaseDetail)
def get_case(request, pk: int):
    """The case with every act and a timeline of its dated steps."""
    return _case(request.auth, pk)


@router.post("/cases", response={201: CaseDetail})
def open_case(request, payload: CaseIn):
    """Open a case from a hazard, an inspection or directly."""
    user = request.auth
    _writer(user)
    case = services.open_case(
        by=user,
        enterprise=resolve_enterprise(user, payload.enterprise),
        title=payload.title,
        hazard=_resolve(user, Hazard, payload.hazard, "hazard"),
        inspection=_resolve(user, Inspection, payload.inspection, "inspection"),
        opened_on=payload.opened_on,
    )
    return Status(201, _case(user, case.pk))


@router.post("/cases/{int:pk}/close", response=CaseDetail)
def close_case(request, pk: int, payload: CloseIn):
    """Close a case; refused while a penalty is unresolved or a referral has no result."""
    user = request.auth
    _writer(user)
    services.close_case(_open_case(user, pk), by=user, **payload.model_dump())
    return _case(user, pk)


# -- penalties ---------------------------------------------------------------------------------
def _penalty_out(pk: int) -> Penalty:
    return Penalty.objects.select_related("approved_by", "created_by").get(pk=pk)


@router.post("/cases/{int:pk}/penalties", response={201: PenaltyOut})
def draft_penalty(request, pk: int, payload: PenaltyIn):
    """Draft an administrative penalty (行政处罚): legal basis, facts and amount."""
    user = request.auth
    _writer(user)
    penalty = services.draft_penalty(_open_case(user, pk), by=user, **payload.model_dump())
    return Status(201, _penalty_out(penalty.pk))


@router.post("/penalties/{int:pk}/notice", response=PenaltyOut)
def serve_notice(request, pk: int, payload: NoticeIn | None = None):
    """Serve the penalty notice (行政处罚告知书); it takes the next notice number."""
    user = request.auth
    _writer(user)
    services.serve_penalty_notice(
        _act(user, Penalty, pk), by=user, served_on=payload.served_on if payload else None
    )
    return _penalty_out(pk)


@router.post("/penalties/{int:pk}/statement", response=PenaltyOut)
def record_statement(request, pk: int, payload: StatementIn):
    """Record the party's statement and defence (陈述申辩) or hearing request."""
    user = request.auth
    _writer(user)
    services.record_statement(_act(user, Penalty, pk), by=user, **payload.model_dump())
    return _penalty_out(pk)


@router.post("/penalties/{int:pk}/hearing", response=PenaltyOut)
def record_hearing(request, pk: int, payload: HearingIn):
    """Record the hearing (听证) the party asked for; the decision waits for it."""
    user = request.auth
    _writer(user)
    services.record_hearing(_act(user, Penalty, pk), by=user, **payload.model_dump())
    return _penalty_out(pk)


@router.post("/penalties/{int:pk}/approve", response=PenaltyOut)
def approve_penalty(request, pk: int):
    """A leader approves the penalty (after the notice, before the decision)."""
    user = request.auth
    _writer(user)
    services.approve_penalty(_act(user, Penalty, pk), by=user)
    return _penalty_out(pk)


@router.post("/penalties/{int:pk}/decide", response=PenaltyOut)
def decide_penalty(request, pk: int, payload: DecideIn | None = None):
    """Issue the decision (行政处罚决定书); it takes the next decision number."""
    user = request.auth
    _writer(user)
    services.decide_penalty(
        _act(user, Penalty, pk), by=user, decided_on=payload.decided_on if payload else None
    )
    return _penalty_out(pk)


@router.post("/penalties/{int:pk}/payment", response=PenaltyOut)
def record_payment(request, pk: int, payload: PaymentIn | None = None):
    user = request.auth
    _writer(user)
    services.record_payment(
        _act(user, Penalty, pk), by=user, paid_on=payload.paid_on if payload else None
    )
    return _penalty_out(pk)


@router.post("/penalties/{int:pk}/withdraw", response=PenaltyOut)
def withdraw_penalty(request, pk: int, payload: WithdrawIn):
    """A leader withdraws a penalty not yet decided."""
    user = request.auth
    _writer(user)
    services.withdraw_penalty(_act(user, Penalty, pk), by=user, reason=payload.reason)
    return _penalty_out(pk)


# -- supervision letters -----------------------------------------------------------------------
def _letter_out(pk: int) -> SupervisionLetter:
    return SupervisionLetter.objects.select_related("created_by").get(pk=pk)


@router.post("/cases/{int:pk}/letters", response={201: LetterOut})
def issue_letter(request, pk: int, payload: LetterIn):
    """Issue a supervision letter (督办函) with a reply deadline; it takes the next number."""
    user = request.auth
    _writer(user)
    letter = services.issue_letter(_open_case(user, pk), by=user, **payload.model_dump())
    return Status(201, _letter_out(letter.pk))


@router.post("/letters/{int:pk}/reply", response=LetterOut)
def record_reply(request, pk: int, payload: ReplyIn):
    user = request.auth
    _writer(user)
    services.record_reply(_act(user, SupervisionLetter, pk), by=user, **payload.model_dump())
    return _letter_out(pk)


# -- warning interviews ------------------------------------------------------------------------
def _interview_out(pk: int) -> Interview:
    return Interview.objects.select_related("created_by").get(pk=pk)


@router.post("/cases/{int:pk}/interviews", response={201: InterviewOut})
def record_interview(request, pk: int, payload: InterviewIn):
    """Record a warning interview (警示约谈)."""
    user = request.auth
    _writer(user)
    interview = services.record_interview(_open_case(user, pk), by=user, **payload.model_dump())
    return Status(201, _interview_out(interview.pk))


@router.post("/interviews/{int:pk}/follow-up", response=InterviewOut)
def record_follow_up(request, pk: int, payload: FollowUpIn):
    user = request.auth
    _writer(user)
    services.record_follow_up(_act(user, Interview, pk), by=user, **payload.model_dump())
    return _interview_out(pk)


# -- referrals ---------------------------------------------------------------------------------
def _referral_out(pk: int) -> Referral:
    return Referral.objects.select_related("approved_by", "created_by").get(pk=pk)


@router.post("/cases/{int:pk}/referrals", response={201: ReferralOut})
def draft_referral(request, pk: int, payload: ReferralIn):
    """Draft a case referral (案件移送); attach its documents on the web page."""
    user = request.auth
    _writer(user)
    referral = services.draft_referral(_open_case(user, pk), by=user, **payload.model_dump())
    return Status(201, _referral_out(referral.pk))


@router.post("/referrals/{int:pk}/approve", response=ReferralOut)
def approve_referral(request, pk: int):
    """A leader approves the referral before it is sent."""
    user = request.auth
    _writer(user)
    services.approve_referral(_act(user, Referral, pk), by=user)
    return _referral_out(pk)


@router.post("/referrals/{int:pk}/send", response=ReferralOut)
def send_referral(request, pk: int, payload: SendIn | None = None):
    """Send the approved referral with its documents; it takes the next referral number."""
    user = request.auth
    _writer(user)
    services.send_referral(
        _act(user, Referral, pk), by=user, sent_on=payload.sent_on if payload else None
    )
    return _referral_out(pk)


@router.post("/referrals/{int:pk}/withdraw", response=ReferralOut)
def withdraw_referral(request, pk: int, payload: WithdrawIn):
    """Drop a referral not yet sent."""
    user = request.auth
    _writer(user)
    services.withdraw_referral(_act(user, Referral, pk), by=user, reason=payload.reason)
    return _referral_out(pk)


@router.post("/referrals/{int:pk}/result", response=ReferralOut)
def record_referral_result(request, pk: int, payload: ResultIn):
    user = request.auth
    _writer(user)
    services.record_referral_result(_act(user, Referral, pk), by=user, **payload.model_dump())
    return _referral_out(pk)


# -- repeat offenders --------------------------------------------------------------------------
@router.get("/enterprises/{ref}/repeat", response=RepeatOut)
def repeat(request, ref: str):
    """Warning interviews of the enterprise in the last twelve months; two or more: repeat."""
    user = request.auth
    require_role(user, READERS)
    enterprise = Enterprise.objects.visible_to(user).filter(ref=ref).first()
    if enterprise is None:
        raise Http404
    n = services.repeat_interviews(enterprise)
    return {"enterprise": enterprise, "on": timezone.localdate(), "interviews": n, "repeat": n >= 2}
