"""Enforcement acts: each checked, numbered where it is a document, approved where the law
asks a leader to, atomic and audited."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.core import audit
from yingji.core.attachments import for_owner
from yingji.core.numbering import issue_number
from yingji.core.roles import Role
from yingji.enforcement.models import Case, Interview, Penalty, Referral, SupervisionLetter

ACTORS = {Role.LEADER, Role.INSPECTOR, Role.ADMIN}
REPEAT_WINDOW_DAYS = 365
# The party's time to state and defend itself after the notice (行政处罚法 第四十四、四十五条).
STATEMENT_DAYS = 3


def _require(user, roles=ACTORS) -> None:
    if not user.is_active or user.role not in roles:
        raise PermissionDenied


def _today() -> datetime.date:
    return timezone.localdate()


def _check_date(case: Case, value: datetime.date | None, field: str, errors: dict) -> None:
    if value is None:
        errors[field] = _("Give the date.")
    elif value < case.trigger_date():
        errors[field] = _("The date cannot precede the finding that opened the case (%(d)s).") % {
            "d": case.trigger_date().isoformat()
        }
    elif value > _today():
        errors[field] = _("The date cannot be in the future.")


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _open(case: Case) -> None:
    if case.status != Case.Status.OPEN:
        raise ValidationError(_("This case is closed."))


def _created(obj, by):
    obj.full_clean()
    obj.save()
    audit.created(obj, actor=by)
    return obj


# -- cases -------------------------------------------------------------------------------------
@transaction.atomic
def open_case(
    *,
    by,
    enterprise,
    title: str,
    hazard=None,
    inspection=None,
    tip=None,
    opened_on: datetime.date | None = None,
) -> Case:
    """Open a case from a hazard, an inspection, a tip or directly."""
    _require(by)
    opened_on = opened_on or _today()
    if hazard is not None:
        source, inspection = Case.Source.HAZARD, inspection or hazard.inspection
    elif inspection is not None:
        source = Case.Source.INSPECTION
    elif tip is not None:
        source = Case.Source.TIP
    else:
        source = Case.Source.DIRECT
    errors = {}
    for linked in (hazard, inspection):
        if linked is not None and linked.enterprise_id != enterprise.pk:
            errors["enterprise"] = _("The case must be about the enterprise of its finding.")
    case = Case(
        enterprise=enterprise,
        title=title.strip(),
        source=source,
        hazard=hazard,
        inspection=inspection,
        opened_on=opened_on,
        opened_by=by,
    )
    if not errors:
        _check_date(case, opened_on, "opened_on", errors)
    _raise(errors)
    return _created(case, by)


@transaction.atomic
def close_case(case: Case, *, by, note: str, closed_on: datetime.date | None = None) -> Case:
    """Close a case; refused while a penalty is unpaid or unresolved or a referral pending."""
    _require(by)
    case = Case.objects.select_for_update().get(pk=case.pk)
    _open(case)
    closed_on = closed_on or _today()
    errors = {}
    if any(not p.resolved for p in case.penalties.all()):
        errors.setdefault("status", []).append(
            _("A penalty of this case is not yet paid or withdrawn.")
        )
    if case.referrals.exclude(
        status__in=[Referral.Status.RESULT, Referral.Status.WITHDRAWN]
    ).exists():
        errors.setdefault("status", []).append(_("A referral of this case has no result yet."))
    if not note.strip():
        errors["closing_note"] = _("Write how the case ended.")
    _check_date(case, closed_on, "closed_on", errors)
    _raise(errors)
    with audit.tracking(case, actor=by):
        case.status, case.closed_on, case.closing_note = Case.Status.CLOSED, closed_on, note.strip()
        case.save(update_fields=["status", "closed_on", "closing_note"])
    return case


def repeat_interviews(enterprise, on: datetime.date | None = None) -> int:
    """Interviews of the enterprise within the last twelve months (2+ marks a repeat)."""
    on = on or _today()
    since = on - datetime.timedelta(days=REPEAT_WINDOW_DAYS)
    return Interview.objects.filter(
        case__enterprise=enterprise, held_on__gt=since, held_on__lte=on
    ).count()


# -- penalties ---------------------------------------------------------------------------------
def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": _("Enter an amount in yuan.")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")})
    if amount.as_tuple().exponent < -2:
        raise ValidationError({"amount": _("At most two decimals (fen).")})
    return amount


@transaction.atomic
def draft_penalty(case: Case, *, by, legal_basis: str, facts: str, amount) -> Penalty:
    _require(by)
    _open(case)
    errors = {}
    if not legal_basis.strip():
        errors["legal_basis"] = _("A penalty needs its legal basis.")
    if not facts.strip():
        errors["facts"] = _("State the facts.")
    try:
        amount = _amount(amount)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    _raise(errors)
    return _created(
        Penalty(
            case=case,
            legal_basis=legal_basis.strip(),
            facts=facts.strip(),
            amount=amount,
            created_by=by,
        ),
        by,
    )


def _penalty(penalty: Penalty, status) -> Penalty:
    penalty = Penalty.objects.select_for_update().select_related("case").get(pk=penalty.pk)
    _open(penalty.case)
    if penalty.status != status:
        raise ValidationError(
            _("This step does not fit the penalty's state (%(s)s).")
            % {"s": penalty.get_status_display()}
        )
    return penalty


@transaction.atomic
def serve_penalty_notice(
    penalty: Penalty, *, by, served_on: datetime.date | None = None
) -> Penalty:
    """行政处罚告知书: tells the party the facts, basis and amount, and their rights."""
    _require(by)
    penalty = _penalty(penalty, Penalty.Status.DRAFT)
    served_on = served_on or _today()
    errors: dict = {}
    _check_date(penalty.case, served_on, "notified_on", errors)
    _raise(errors)
    with audit.tracking(penalty, actor=by):
        penalty.notice_no = issue_number(
            "penalty_notice", served_on.year, by=by, subject=penalty.case.enterprise.name
        ).text
        penalty.notified_on, penalty.status = served_on, Penalty.Status.NOTIFIED
        penalty.save(update_fields=["notice_no", "notified_on", "status"])
    return penalty


@transaction.atomic
def record_statement(
    penalty: Penalty, *, by, statement: str, hearing_requested: bool = False
) -> Penalty:
    """The party's statement and defence (陈述申辩) or hearing request."""
    _require(by)
    penalty = _penalty(penalty, Penalty.Status.NOTIFIED)
    if penalty.approved:
        raise ValidationError(
            _("The penalty is already approved; the statement must come before the approval.")
        )
    if not statement.strip() and not hearing_requested:
        raise ValidationError({"statement": _("Record the statement or the hearing request.")})
    with audit.tracking(penalty, actor=by):
        penalty.statement, penalty.hearing_requested = statement.strip(), hearing_requested
        penalty.save(update_fields=["statement", "hearing_requested"])
    return penalty


@transaction.atomic
def record_hearing(penalty: Penalty, *, by, held_on: datetime.date, summary: str) -> Penalty:
    """The hearing (听证) the party asked for: held before the penalty can be decided."""
    _require(by)
    penalty = _penalty(penalty, Penalty.Status.NOTIFIED)
    errors = {}
    if not penalty.hearing_requested:
        errors["hearing_held_on"] = _("No hearing was requested.")
    elif held_on is None or held_on < penalty.notified_on or held_on > _today():
        errors["hearing_held_on"] = _("The hearing date must lie between the notice and today.")
    if not summary.strip():
        errors["hearing_summary"] = _("Summarise the hearing.")
    _raise(errors)
    with audit.tracking(penalty, actor=by, note="hearing"):
        penalty.hearing_held_on, penalty.hearing_summary = held_on, summary.strip()
        penalty.save(update_fields=["hearing_held_on", "hearing_summary"])
    return penalty


@transaction.atomic
def approve_penalty(penalty: Penalty, *, by) -> Penalty:
    """A leader approves the penalty before the decision is issued."""
    _require(by, {Role.LEADER})
    penalty = _penalty(penalty, Penalty.Status.NOTIFIED)
    if penalty.approved:
        raise ValidationError(_("Already approved."))
    with audit.tracking(penalty, actor=by, note="approved"):
        penalty.approved_by, penalty.approved_at = by, timezone.now()
        penalty.save(update_fields=["approved_by", "approved_at"])
    return penalty


@transaction.atomic
def decide_penalty(penalty: Penalty, *, by, decided_on: datetime.date | None = None) -> Penalty:
    """行政处罚决定书: issued only after the notice and a leader's approval."""
    _require(by)
    penalty = _penalty(penalty, Penalty.Status.NOTIFIED)
    decided_on = decided_on or _today()
    errors: dict = {}
    if not penalty.approved:
        errors["approved_by"] = _("A leader must approve the penalty before the decision.")
    if penalty.hearing_requested and penalty.hearing_held_on is None:
        errors["hearing_held_on"] = _("The party asked for a hearing: record it first.")
    waiting_ends = penalty.notified_on + datetime.timedelta(days=STATEMENT_DAYS)
    if decided_on < penalty.notified_on:
        errors["decided_on"] = _("The decision cannot precede the notice.")
    elif not penalty.statement and not penalty.hearing_requested and decided_on < waiting_ends:
        errors["decided_on"] = _(
            "The party has until %(d)s to state its case; decide after that or record its "
            "statement first."
        ) % {"d": waiting_ends.isoformat()}
    else:
        _check_date(penalty.case, decided_on, "decided_on", errors)
    _raise(errors)
    with audit.tracking(penalty, actor=by):
        penalty.decision_no = issue_number(
            "penalty_decision", decided_on.year, by=by, subject=penalty.case.enterprise.name
        ).text
        penalty.decided_on, penalty.status = decided_on, Penalty.Status.DECIDED
        penalty.save(update_fields=["decision_no", "decided_on", "status"])
    return penalty


@transaction.atomic
def record_payment(penalty: Penalty, *, by, paid_on: datetime.date | None = None) -> Penalty:
    _require(by)
    penalty = _penalty(penalty, Penalty.Status.DECIDED)
    paid_on = paid_on or _today()
    if paid_on < penalty.decided_on or paid_on > _today():
        raise ValidationError(
            {"paid_on": _("The payment date must lie between the decision and today.")}
        )
    with audit.tracking(penalty, actor=by):
        penalty.paid_on, penalty.status = paid_on, Penalty.Status.PAID
        penalty.save(update_fields=["paid_on", "status"])
    return penalty


@transaction.atomic
def withdraw_penalty(penalty: Penalty, *, by, reason: str) -> Penalty:
    """Withdraw a penalty not yet decided (e.g. the statement was accepted)."""
    _require(by, {Role.LEADER})
    penalty = Penalty.objects.select_for_update().select_related("case").get(pk=penalty.pk)
    _open(penalty.case)
    if penalty.status not in (Penalty.Status.DRAFT, Penalty.Status.NOTIFIED):
        raise ValidationError(_("Only a penalty not yet decided can be withdrawn."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    with audit.tracking(penalty, actor=by, note=reason.strip()[:200]):
        penalty.status = Penalty.Status.WITHDRAWN
        penalty.save(update_fields=["status"])
    return penalty


# -- supervision letters and interviews --------------------------------------------------------
@transaction.atomic
def issue_letter(
    case: Case,
    *,
    by,
    addressee: str,
    content: str,
    deadline: datetime.date,
    issued_on: datetime.date | None = None,
) -> SupervisionLetter:
    """督办函 with a reply deadline."""
    _require(by)
    _open(case)
    issued_on = issued_on or _today()
    errors: dict = {}
    if not addressee.strip():
        errors["addressee"] = _("Name the addressee.")
    if not content.strip():
        errors["content"] = _("Write what is to be done.")
    _check_date(case, issued_on, "issued_on", errors)
    if deadline is None or deadline < issued_on:
        errors["deadline"] = _("The reply deadline cannot precede the letter.")
    _raise(errors)
    number = issue_number(
        "supervision_letter", issued_on.year, by=by, subject=case.enterprise.name
    ).text
    return _created(
        SupervisionLetter(
            case=case,
            addressee=addressee.strip(),
            content=content.strip(),
            issued_on=issued_on,
            deadline=deadline,
            number=number,
            created_by=by,
        ),
        by,
    )


@transaction.atomic
def record_reply(
    letter: SupervisionLetter, *, by, reply: str, replied_on: datetime.date | None = None
) -> SupervisionLetter:
    _require(by)
    letter = SupervisionLetter.objects.select_for_update().select_related("case").get(pk=letter.pk)
    _open(letter.case)
    if letter.replied_on is not None:
        raise ValidationError(_("The reply is already recorded."))
    replied_on = replied_on or _today()
    errors = {}
    if not reply.strip():
        errors["reply"] = _("Record the reply.")
    if replied_on < letter.issued_on or replied_on > _today():
        errors["replied_on"] = _("The reply date must lie between the letter and today.")
    _raise(errors)
    with audit.tracking(letter, actor=by):
        letter.reply, letter.replied_on = reply.strip(), replied_on
        letter.save(update_fields=["reply", "replied_on"])
    return letter


@transaction.atomic
def record_interview(
    case: Case,
    *,
    by,
    held_on: datetime.date,
    attendees: str,
    topics: str,
    commitments: str = "",
    follow_up_on: datetime.date | None = None,
) -> Interview:
    """警示约谈 of the enterprise's responsible people."""
    _require(by)
    _open(case)
    errors: dict = {}
    _check_date(case, held_on, "held_on", errors)
    if not attendees.strip():
        errors["attendees"] = _("List who attended.")
    if not topics.strip():
        errors["topics"] = _("Record what was discussed.")
    if follow_up_on is not None and held_on is not None and follow_up_on < held_on:
        errors["follow_up_on"] = _("The follow-up cannot precede the interview.")
    _raise(errors)
    return _created(
        Interview(
            case=case,
            held_on=held_on,
            attendees=attendees.strip(),
            topics=topics.strip(),
            commitments=commitments.strip(),
            follow_up_on=follow_up_on,
            created_by=by,
        ),
        by,
    )


@transaction.atomic
def record_follow_up(
    interview: Interview, *, by, result: str, checked_on: datetime.date | None = None
) -> Interview:
    _require(by)
    interview = Interview.objects.select_for_update().select_related("case").get(pk=interview.pk)
    _open(interview.case)
    if interview.follow_up_result:
        raise ValidationError(_("The follow-up check is already recorded."))
    checked_on = checked_on or _today()
    errors = {}
    if not result.strip():
        errors["follow_up_result"] = _("Record what the check found.")
    if checked_on < interview.held_on or checked_on > _today():
        errors["follow_up_on"] = _("The check date must lie between the interview and today.")
    _raise(errors)
    with audit.tracking(interview, actor=by):
        interview.follow_up_on, interview.follow_up_result = checked_on, result.strip()
        interview.save(update_fields=["follow_up_on", "follow_up_result"])
    return interview


# -- referrals ---------------------------------------------------------------------------------
@transaction.atomic
def draft_referral(case: Case, *, by, authority: str, reason: str) -> Referral:
    """案件移送 (the district's penalty power moved to the city bureau)."""
    _require(by)
    _open(case)
    errors = {}
    if not authority.strip():
        errors["authority"] = _("Name the receiving authority.")
    if not reason.strip():
        errors["reason"] = _("Give the reason and legal basis.")
    _raise(errors)
    return _created(
        Referral(case=case, authority=authority.strip(), reason=reason.strip(), created_by=by), by
    )


def _referral(referral: Referral, status) -> Referral:
    referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    if referral.status != status:
        raise ValidationError(
            _("This step does not fit the referral's state (%(s)s).")
            % {"s": referral.get_status_display()}
        )
    return referral


@transaction.atomic
def approve_referral(referral: Referral, *, by) -> Referral:
    _require(by, {Role.LEADER})
    referral = _referral(referral, Referral.Status.DRAFT)
    _open(referral.case)
    if referral.approved:
        raise ValidationError(_("Already approved."))
    with audit.tracking(referral, actor=by, note="approved"):
        referral.approved_by, referral.approved_at = by, timezone.now()
        referral.save(update_fields=["approved_by", "approved_at"])
    return referral


@transaction.atomic
def send_referral(referral: Referral, *, by, sent_on: datetime.date | None = None) -> Referral:
    """Number the 案件移送书 and send it, once approved and with at least one document."""
    _require(by)
    referral = _referral(referral, Referral.Status.DRAFT)
    _open(referral.case)
    sent_on = sent_on or _today()
    errors: dict = {}
    if not referral.approved:
        errors["approved_by"] = _("A leader must approve the referral before it is sent.")
    if not for_owner(referral).exists():
        errors["documents"] = _("Attach at least one document to the referral.")
    _check_date(referral.case, sent_on, "sent_on", errors)
    _raise(errors)
    with audit.tracking(referral, actor=by):
        referral.number = issue_number(
            "referral", sent_on.year, by=by, subject=referral.case.enterprise.name
        ).text
        referral.sent_on, referral.status = sent_on, Referral.Status.SENT
        referral.save(update_fields=["number", "sent_on", "status"])
    return referral


@transaction.atomic
def withdraw_referral(referral: Referral, *, by, reason: str) -> Referral:
    """Drop a referral not yet sent (e.g. the case is settled otherwise)."""
    _require(by)
    referral = _referral(referral, Referral.Status.DRAFT)
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    with audit.tracking(referral, actor=by, note=reason.strip()[:200]):
        referral.status = Referral.Status.WITHDRAWN
        referral.save(update_fields=["status"])
    return referral


@transaction.atomic
def record_referral_result(
    referral: Referral, *, by, result: str, result_on: datetime.date | None = None
) -> Referral:
    _require(by)
    referral = _referral(referral, Referral.Status.SENT)
    result_on = result_on or _today()
    errors = {}
    if not result.strip():
        errors["result"] = _("Record the receiving authority's result.")
    if result_on < referral.sent_on or result_on > _today():
        errors["result_on"] = _("The result date must lie between sending and today.")
    _raise(errors)
    with audit.tracking(referral, actor=by):
        referral.result, referral.result_on = result.strip(), result_on
        referral.status = Referral.Status.RESULT
        referral.save(update_fields=["result", "result_on", "status"])
    return referral
