"""The life of a tip: received → assigned → verifying → verified | unfounded | transferred →
closed (the reporter answered); rewards proposed → approved → paid, or waived."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.core import attachments, audit
from yingji.core.notify import email_address, notify, queue_webhook
from yingji.core.roles import Role
from yingji.lib.secrets import receipt_code
from yingji.tips import crypto
from yingji.tips.models import Channel, RewardRule, Tip, TipMessage

HANDLERS = {Role.LEADER, Role.INSPECTOR, Role.ADMIN}
INTAKE = HANDLERS | {Role.DUTY_OFFICER}
DEFAULT_DAYS = 15  # handling deadline when none is given


def _require(user, roles=HANDLERS) -> None:
    if user is None or not user.is_active or user.role not in roles:
        raise PermissionDenied


def _today() -> datetime.date:
    return timezone.localdate()


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _lock(tip: Tip) -> Tip:
    return Tip.objects.select_for_update().get(pk=tip.pk)


def _new_code(tip: Tip) -> str:
    """Give the tip a fresh receipt code (returned once; only its hash is kept)."""
    while True:
        code = receipt_code()
        digest = crypto.code_hash(code)
        if not Tip.objects.filter(receipt_hash=digest).exists():
            tip.receipt_hash = digest
            return code


def _create(tip: Tip, *, by, name: str, contact: str, photos=()) -> str:
    photos = attachments.prepare_all(photos)
    for n, photo in enumerate(photos, start=1):
        # A camera's file name carries the time it was taken: keep only the kind of file.
        suffix = photo.name.rsplit(".", 1)[-1].lower() if "." in (photo.name or "") else "bin"
        photo.name = f"{n:02d}.{suffix}"
    if not tip.anonymous:
        tip.reporter_name_enc = crypto.encrypt(name.strip())
        tip.reporter_contact_enc = crypto.encrypt(contact.strip())
    code = _new_code(tip)
    tip.full_clean(exclude=["receipt_hash"])
    tip.save()
    audit.created(tip, actor=by)  # Tip.audit_exclude keeps the identity and code hash out
    for photo in photos:
        attachments.attach(tip, photo, by=by)
    return code


def _check_reporter(anonymous: bool, name: str, contact: str, errors: dict) -> None:
    if not anonymous and not contact.strip():
        errors["contact"] = _("Leave a phone number or email, or choose to stay anonymous.")


@transaction.atomic
def submit_public_tip(
    *,
    content: str,
    location: str = "",
    enterprise=None,
    enterprise_name: str = "",
    anonymous: bool = True,
    name: str = "",
    contact: str = "",
    photos=(),
) -> tuple[Tip, str]:
    """A member of the public reports through the portal; returns the tip and its code."""
    errors: dict = {}
    if len(content.strip()) < 10:
        errors["content"] = _("Describe what you saw in at least ten characters.")
    _check_reporter(anonymous, name, contact, errors)
    _raise(errors)
    now = timezone.now()
    tip = Tip(
        channel=Channel.PLATFORM,
        received_on=timezone.localdate(now),
        received_at=now,
        enterprise=enterprise,
        enterprise_name=enterprise_name.strip(),
        location=location.strip(),
        content=content.strip(),
        anonymous=anonymous,
        deadline=timezone.localdate(now) + datetime.timedelta(days=DEFAULT_DAYS),
    )
    code = _create(tip, by=None, name=name, contact=contact, photos=photos)
    _tell_staff(tip)
    return tip, code


@transaction.atomic
def record_tip(
    *,
    by,
    channel: str,
    content: str,
    received_on: datetime.date | None = None,
    location: str = "",
    enterprise=None,
    enterprise_name: str = "",
    anonymous: bool = True,
    name: str = "",
    contact: str = "",
    photos=(),
) -> tuple[Tip, str]:
    """Staff enter a tip received by phone, letter or visit; returns the code to hand over."""
    _require(by, INTAKE)
    received_on = received_on or _today()
    errors: dict = {}
    if channel not in (Channel.PHONE, Channel.LETTER, Channel.VISIT):
        errors["channel"] = _("Staff enter tips received by phone, letter or visit.")
    if not content.strip():
        errors["content"] = _("Write what was reported.")
    if received_on > _today():
        errors["received_on"] = _("The date received cannot be in the future.")
    _check_reporter(anonymous, name, contact, errors)
    _raise(errors)
    tip = Tip(
        channel=channel,
        received_on=received_on,
        enterprise=enterprise,
        enterprise_name=enterprise_name.strip(),
        location=location.strip(),
        content=content.strip(),
        anonymous=anonymous,
        created_by=by,
        deadline=received_on + datetime.timedelta(days=DEFAULT_DAYS),
    )
    code = _create(tip, by=by, name=name, contact=contact, photos=photos)
    return tip, code


@transaction.atomic
def receive_hotline_tip(
    *,
    by,
    ticket: str,
    content: str,
    received_at: datetime.datetime,
    deadline: datetime.date | None = None,
    enterprise=None,
    enterprise_name: str = "",
    location: str = "",
    name: str = "",
    contact: str = "",
) -> tuple[Tip, bool]:
    """A tip forwarded by the 12345 hotline; the same ticket twice is one tip."""
    _require(by, INTAKE)
    ticket = ticket.strip()
    existing = Tip.objects.filter(hotline_ticket=ticket).first()
    if existing is not None:
        return existing, False
    errors: dict = {}
    if not ticket:
        errors["ticket"] = _("The hotline ticket number is required.")
    if not content.strip():
        errors["content"] = _("Write what was reported.")
    received_on = timezone.localdate(received_at)
    if deadline is not None and deadline < received_on:
        errors["deadline"] = _("The hotline's deadline cannot precede the tip.")
    _raise(errors)
    tip = Tip(
        channel=Channel.HOTLINE,
        hotline_ticket=ticket,
        received_at=received_at,
        received_on=received_on,
        hotline_deadline=deadline,
        enterprise=enterprise,
        enterprise_name=enterprise_name.strip(),
        location=location.strip(),
        content=content.strip(),
        anonymous=not (name or contact),
        created_by=by,
        deadline=deadline or received_on + datetime.timedelta(days=DEFAULT_DAYS),
    )
    _create(tip, by=by, name=name, contact=contact)
    _tell_staff(tip)
    return tip, True


def _tell_staff(tip: Tip) -> None:
    from django.contrib.auth import get_user_model

    duty = get_user_model().objects.filter(
        role__in=[Role.DUTY_OFFICER, Role.LEADER], is_active=True
    )
    notify(
        duty,
        _("New tip: %(c)s") % {"c": tip.get_channel_display()},
        tip.content[:200],
        link=tip.get_absolute_url(),
        channels=["inapp"],
    )


# -- handling ----------------------------------------------------------------------------------
def _step(tip: Tip, *, by, allowed: tuple, fields: dict, note: str = "") -> Tip:
    tip = _lock(tip)
    if tip.status not in allowed:
        raise ValidationError(
            _("This step does not fit the tip's state (%(s)s).") % {"s": tip.get_status_display()}
        )
    with audit.tracking(tip, actor=by, note=note):
        for name, value in fields.items():
            setattr(tip, name, value)
        tip.save(update_fields=list(fields))
    return tip


@transaction.atomic
def assign(tip: Tip, *, by, assignee, deadline: datetime.date | None = None) -> Tip:
    """Give the tip to a handler with a handling deadline."""
    _require(by, INTAKE)
    errors = {}
    if assignee is None or assignee.role not in HANDLERS or not assignee.is_active:
        errors["assignee"] = _("Choose an inspector or a leader.")
    deadline = deadline or tip.deadline or _today() + datetime.timedelta(days=DEFAULT_DAYS)
    if deadline < tip.received_on:
        errors["deadline"] = _("The deadline cannot precede the tip.")
    if tip.hotline_deadline and deadline > tip.hotline_deadline:
        errors["deadline"] = _("The hotline expects an answer by %(d)s.") % {
            "d": tip.hotline_deadline.isoformat()
        }
    _raise(errors)
    tip = _step(
        tip,
        by=by,
        allowed=(Tip.Status.RECEIVED, Tip.Status.ASSIGNED),
        fields={"assignee": assignee, "deadline": deadline, "status": Tip.Status.ASSIGNED},
    )
    notify([assignee], _("Tip assigned to you"), tip.content[:200], link=tip.get_absolute_url())
    return tip


@transaction.atomic
def link_duplicate(tip: Tip, *, by, of: Tip) -> Tip:
    """Join a repeat report to the case it repeats; it is answered with that case."""
    _require(by, INTAKE)
    if of.pk == tip.pk or of.duplicate_of_id == tip.pk:
        raise ValidationError({"duplicate_of": _("A tip cannot duplicate itself.")})
    of = of.duplicate_of or of
    tip = _step(
        tip,
        by=by,
        allowed=(Tip.Status.RECEIVED, Tip.Status.ASSIGNED),
        fields={"duplicate_of": of},
        note="duplicate",
    )
    for dup in tip.duplicates.select_for_update():
        with audit.tracking(dup, actor=by, note="duplicate"):
            dup.duplicate_of = of
            dup.save(update_fields=["duplicate_of"])
    return tip


@transaction.atomic
def transfer(tip: Tip, *, by, to: str, answer: str) -> Tip:
    """Out of the bureau's remit: hand it to the right authority and tell the reporter."""
    _require(by)
    errors = {}
    if not to.strip():
        errors["transferred_to"] = _("Name the authority it goes to.")
    if not answer.strip():
        errors["answer"] = _("Tell the reporter where the tip went.")
    _raise(errors)
    return _step(
        tip,
        by=by,
        allowed=(Tip.Status.RECEIVED, Tip.Status.ASSIGNED, Tip.Status.VERIFYING),
        fields={
            "transferred_to": to.strip(),
            "answer": answer.strip(),
            "status": Tip.Status.TRANSFERRED,
        },
    )


@transaction.atomic
def start_verification(tip: Tip, *, by, inspection=None) -> Tip:
    """Begin checking the facts, optionally with an inspection of the enterprise."""
    _require(by)
    if (
        inspection is not None
        and tip.enterprise_id
        and inspection.enterprise_id != tip.enterprise_id
    ):
        raise ValidationError(
            {"inspection": _("The inspection must be of the reported enterprise.")}
        )
    fields = {"status": Tip.Status.VERIFYING}
    if inspection is not None:
        fields["inspection"] = inspection
    return _step(tip, by=by, allowed=(Tip.Status.ASSIGNED, Tip.Status.VERIFYING), fields=fields)


@transaction.atomic
def inspect_from_tip(tip: Tip, *, by, date: datetime.date | None = None):
    """Plan an inspection of the reported enterprise; hazards found there link back."""
    from yingji.inspections.services import schedule_inspection

    _require(by)
    if tip.enterprise is None:
        raise ValidationError({"enterprise": _("Name the enterprise first.")})
    tip = _lock(tip)
    if tip.status not in (Tip.Status.ASSIGNED, Tip.Status.VERIFYING):
        raise ValidationError(_("Assign the tip before planning its inspection."))
    insp = schedule_inspection(
        by=by,
        enterprise=tip.enterprise,
        date=date or _today(),
        inspectors=[tip.assignee] if tip.assignee_id else (),
    )
    start_verification(tip, by=by, inspection=insp)
    return insp


@transaction.atomic
def record_verification(tip: Tip, *, by, verified: bool, findings: str) -> Tip:
    """The result of the check: verified true (查证属实) or unfounded, with reasons."""
    _require(by)
    if not findings.strip():
        raise ValidationError({"findings": _("Write what was checked and found.")})
    status = Tip.Status.VERIFIED if verified else Tip.Status.UNFOUNDED
    return _step(
        tip,
        by=by,
        allowed=(Tip.Status.VERIFYING,),
        fields={"verified": verified, "findings": findings.strip(), "status": status},
    )


@transaction.atomic
def ask_reporter(tip: Tip, *, by, question: str) -> TipMessage:
    """Ask the reporter something; they see it on the status page with their code."""
    _require(by)
    if tip.status == Tip.Status.CLOSED:
        raise ValidationError(_("This tip is closed."))
    if not question.strip():
        raise ValidationError({"question": _("Write the question.")})
    msg = TipMessage.objects.create(
        tip=tip, kind=TipMessage.Kind.QUESTION, text=question.strip(), by=by
    )
    audit.created(msg, actor=by)
    return msg


@transaction.atomic
def reporter_answers(tip: Tip, *, text: str, files=()) -> TipMessage:
    """The reporter answers through the status page (anonymously, with the code)."""
    if tip.status == Tip.Status.CLOSED:
        raise ValidationError(_("This tip is closed."))
    if not text.strip() and not files:
        raise ValidationError({"text": _("Write your answer or add a file.")})
    msg = TipMessage.objects.create(tip=tip, kind=TipMessage.Kind.ANSWER, text=text.strip() or "—")
    audit.created(msg, actor=None, note="reporter")
    for f in files:
        attachments.attach(msg, f, by=None)
    if tip.assignee:
        notify(
            [tip.assignee],
            _("The reporter answered"),
            text[:200],
            link=tip.get_absolute_url(),
            channels=["inapp"],
        )
    return msg


# -- rewards -----------------------------------------------------------------------------------
def suggested_reward(tip: Tip) -> Decimal:
    """What the active rule proposes for a verified tip."""
    rule = RewardRule.objects.filter(active=True).order_by("-pk").first() or RewardRule()
    if rule.kind == RewardRule.Kind.PERCENT_OF_FINE and tip.enterprise_id:
        from yingji.enforcement.models import Penalty

        fines = Penalty.objects.filter(
            case__enterprise=tip.enterprise, decided_on__gte=tip.received_on
        ).values_list("amount", flat=True)
        amount = sum(fines, Decimal(0)) * rule.percent / 100
        return max(rule.minimum, min(rule.maximum, amount)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    major = False
    if tip.inspection_id:
        major = tip.inspection.hazards.filter(level="major").exists()
    return rule.fixed_major if major else rule.fixed_general


@transaction.atomic
def propose_reward(tip: Tip, *, by, amount=None) -> Tip:
    """Propose a reward for a verified tip (the rule's figure unless given)."""
    _require(by)
    tip = _lock(tip)
    if not tip.verified:
        raise ValidationError(_("Only a tip verified true earns a reward."))
    if tip.reward_status:
        raise ValidationError(
            _("A reward is already %(s)s.") % {"s": tip.get_reward_status_display()}
        )
    try:
        amount = Decimal(str(amount)) if amount not in (None, "") else suggested_reward(tip)
    except ArithmeticError:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        raise ValidationError({"reward_amount": _("Give a positive amount in yuan.")})
    with audit.tracking(tip, actor=by, note="reward proposed"):
        tip.reward_status, tip.reward_amount = Tip.Reward.PROPOSED, amount
        tip.save(update_fields=["reward_status", "reward_amount"])
    return tip


def _reward_step(tip: Tip, *, by, expected: str, fields: dict, note: str) -> Tip:
    tip = _lock(tip)
    if tip.reward_status != expected:
        raise ValidationError(_("This step does not fit the reward's state."))
    with audit.tracking(tip, actor=by, note=note):
        for name, value in fields.items():
            setattr(tip, name, value)
        tip.save(update_fields=list(fields))
    return tip


@transaction.atomic
def approve_reward(tip: Tip, *, by) -> Tip:
    _require(by, {Role.LEADER})
    return _reward_step(
        tip,
        by=by,
        expected=Tip.Reward.PROPOSED,
        note="reward approved",
        fields={
            "reward_status": Tip.Reward.APPROVED,
            "reward_approved_by": by,
            "reward_approved_at": timezone.now(),
        },
    )


@transaction.atomic
def record_reward_payment(tip: Tip, *, by, paid_on: datetime.date, method: str) -> Tip:
    _require(by)
    errors = {}
    if not method.strip():
        errors["reward_method"] = _("Say how it was paid.")
    if paid_on is None or paid_on > _today() or paid_on < tip.received_on:
        errors["reward_paid_on"] = _("The payment date must lie between the tip and today.")
    _raise(errors)
    return _reward_step(
        tip,
        by=by,
        expected=Tip.Reward.APPROVED,
        note="reward paid",
        fields={
            "reward_status": Tip.Reward.PAID,
            "reward_paid_on": paid_on,
            "reward_method": method.strip(),
        },
    )


@transaction.atomic
def reporter_waives_reward(tip: Tip) -> Tip:
    """The reporter declines the reward (their choice, made with the receipt code)."""
    tip = _lock(tip)
    if (
        not tip.verified
        or tip.reward_status in (Tip.Reward.PAID, Tip.Reward.WAIVED)
        or tip.reward_claimed_at is not None
    ):
        raise ValidationError(_("There is no reward to decline."))
    with audit.tracking(tip, actor=None, note="reward waived by the reporter"):
        tip.reward_status = Tip.Reward.WAIVED
        tip.save(update_fields=["reward_status"])
    return tip


@transaction.atomic
def reporter_claims_reward(tip: Tip) -> Tip:
    """The reporter asks for the approved reward with the code, without naming themselves."""
    tip = _lock(tip)
    if tip.reward_status != Tip.Reward.APPROVED:
        raise ValidationError(_("No approved reward is waiting."))
    if tip.reward_claimed_at is not None:
        raise ValidationError(_("The reward is already claimed."))
    with audit.tracking(tip, actor=None, note="reward claimed"):
        tip.reward_claimed_at = timezone.now()
        tip.save(update_fields=["reward_claimed_at"])
    return tip


# -- closing -----------------------------------------------------------------------------------
@transaction.atomic
def close_tip(tip: Tip, *, by, answer: str = "", closed_on: datetime.date | None = None) -> Tip:
    """Close with the answer to the reporter (件件有落实、事事有回音); never without one."""
    _require(by)
    tip = _lock(tip)
    closed_on = closed_on or _today()
    answer = answer.strip() or tip.answer
    errors = {}
    if tip.status not in (Tip.Status.VERIFIED, Tip.Status.UNFOUNDED, Tip.Status.TRANSFERRED):
        errors["status"] = _("Verify, find unfounded or transfer the tip before closing it.")
    if not answer:
        errors["answer"] = _("A tip is closed with an answer to the reporter.")
    if closed_on < tip.received_on or closed_on > _today():
        errors["closed_on"] = _("The closing date must lie between the tip and today.")
    _raise(errors)
    with audit.tracking(tip, actor=by):
        tip.answer, tip.closed_on, tip.status = answer, closed_on, Tip.Status.CLOSED
        tip.save(update_fields=["answer", "closed_on", "status"])
    for dup in tip.duplicates.exclude(status=Tip.Status.CLOSED):
        with audit.tracking(dup, actor=by, note="closed with its original"):
            dup.answer, dup.closed_on, dup.status = answer, closed_on, Tip.Status.CLOSED
            dup.save(update_fields=["answer", "closed_on", "status"])
        _answer_reporter(dup)
    _answer_reporter(tip)
    return tip


def _answer_reporter(tip: Tip) -> None:
    """SMS/email to a reporter who left contact details; the hotline gets its callback."""
    contact = crypto.decrypt(tip.reporter_contact_enc)
    text = _("Your report has been handled: %(a)s") % {"a": tip.answer}
    if contact and "@" in contact:
        email_address(contact, _("Your report"), text)
    elif contact and settings.SMS_GATEWAY_URL:
        queue_webhook(settings.SMS_GATEWAY_URL, {"to": contact, "text": text}, purpose="sms")
    if tip.channel == Channel.HOTLINE and settings.HOTLINE_CALLBACK_URL:
        queue_webhook(
            settings.HOTLINE_CALLBACK_URL,
            {
                "ticket": tip.hotline_ticket,
                "result": tip.get_status_display(),
                "verified": tip.verified,
                "answer": tip.answer,
                "closed_on": tip.closed_on.isoformat(),
            },
            purpose="hotline",
        )


# -- the reporter's identity -------------------------------------------------------------------
def reveal_identity(tip: Tip, *, by) -> dict:
    """Decrypt who reported; only for roles with the right, and every look is audited."""
    if not by.can("tip.identity"):
        raise PermissionDenied
    with transaction.atomic():
        audit.record("view", tip, actor=by, note="reporter identity viewed")
    return {
        "name": crypto.decrypt(tip.reporter_name_enc),
        "contact": crypto.decrypt(tip.reporter_contact_enc),
    }


def find_by_code(code: str) -> Tip | None:
    """The tip of a receipt code; hashes and queries whatever the input, for even timing."""
    digits = "".join(c for c in code if c.isdigit())
    tip = Tip.objects.filter(receipt_hash=crypto.code_hash(digits)).first()
    return tip if len(digits) >= 16 else None
