"""Recipient units and their contact ladders: the edits the duty office makes.

Each function is one business act: it checks the caller's capability (`alert.units`),
validates the input field by field (ValidationError({field: message}), nothing changed),
writes inside one transaction and appends to the audit log. Town, village and enterprise
units mirror the registry; only rescue teams and other bodies are created here.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from yingji.alerts.models import Contact, Unit
from yingji.core import audit

MOBILE = re.compile(r"1[3-9]\d{9}")
CREATABLE_KINDS = (Unit.Kind.TEAM, Unit.Kind.OTHER)


def _require(by) -> None:
    if by is None or not by.can("alert.units"):
        raise PermissionDenied


def normalise_phone(text: str) -> str:
    """A mainland mobile number as 11 digits: spaces, dashes and +86 dropped."""
    digits = re.sub(r"[\s\-()]", "", text or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def _clean_contact(role: str, name: str, phone: str, email: str, user) -> dict:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    phone = normalise_phone(phone)
    email = (email or "").strip()
    if role not in Contact.Role.values:
        errors["role"] = _("Choose a role.")
    if not name:
        errors["name"] = _("Give the contact's name.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    if phone and not MOBILE.fullmatch(phone):
        errors["phone"] = _("A mobile number has 11 digits and starts with 1, e.g. 13800001234.")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid email address.")
    if not (phone or email or user) and "phone" not in errors and "email" not in errors:
        errors["phone"] = _("Give a mobile number, an email or an account to reach them.")
    if errors:
        raise ValidationError(errors)
    return {"role": role, "name": name, "phone": phone, "email": email, "user": user}


def _clean_robot(kind: str, url: str) -> tuple[str, str]:
    kind, url = (kind or "").strip(), (url or "").strip()
    if kind and kind not in Unit.Robot.values:
        raise ValidationError({"robot_kind": _("Choose WeCom or DingTalk.")})
    if kind and not url:
        raise ValidationError({"robot_url": _("Give the robot's webhook address.")})
    if url and not kind:
        raise ValidationError({"robot_kind": _("Say which kind of group robot this is.")})
    if url:
        try:
            URLValidator(schemes=["https", "http"])(url)
        except ValidationError:
            raise ValidationError(
                {"robot_url": _("Enter the full webhook address, starting with https://.")}
            ) from None
        if len(url) > 500:
            raise ValidationError({"robot_url": _("At most 500 characters.")})
    return kind, url


def _ladder(unit: Unit) -> list[Contact]:
    """The unit's contacts in order, locked against a concurrent edit of the same ladder."""
    return list(Contact.objects.select_for_update().filter(unit=unit).order_by("position", "pk"))


@transaction.atomic
def create_unit(*, by, name: str, kind: str) -> Unit:
    """A rescue team or another body that can be added to an alert's recipients."""
    _require(by)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the unit's name.")})
    if len(name) > 200:
        raise ValidationError({"name": _("At most 200 characters.")})
    if kind not in CREATABLE_KINDS:
        raise ValidationError(
            {"kind": _("Towns, villages and enterprises come from the registry.")}
        )
    unit = Unit.objects.create(name=name, kind=kind)
    audit.created(unit, actor=by)
    return unit


@transaction.atomic
def update_unit(
    unit: Unit,
    *,
    by,
    robot_kind: str = "",
    robot_url: str = "",
    clear_robot: bool = False,
    active: bool | None = None,
) -> Unit:
    """Set the group robot (an empty address keeps the stored one) or the active flag."""
    _require(by)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if clear_robot:
        kind, url = "", ""
    else:
        kind, url = _clean_robot(robot_kind or "", robot_url or unit.robot_url)
    with audit.tracking(unit, actor=by):
        unit.robot_kind, unit.robot_url = kind, url
        if active is not None:
            unit.active = active
        unit.save(update_fields=["robot_kind", "robot_url", "active"])
    return unit


@transaction.atomic
def add_contact(
    unit: Unit, *, by, role: str, name: str, phone: str = "", email: str = "", user=None
) -> Contact:
    """Put a contact at the bottom of the unit's ladder."""
    _require(by)
    fields = _clean_contact(role, name, phone, email, user)
    ladder = _ladder(unit)
    position = (ladder[-1].position + 1) if ladder else 1
    contact = Contact.objects.create(unit=unit, position=position, **fields)
    audit.created(contact, actor=by)
    return contact


@transaction.atomic
def update_contact(
    contact: Contact, *, by, role: str, name: str, phone: str = "", email: str = "", user=None
) -> Contact:
    _require(by)
    fields = _clean_contact(role, name, phone, email, user)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    with audit.tracking(contact, actor=by):
        for key, value in fields.items():
            setattr(contact, key, value)
        contact.save(update_fields=list(fields))
    return contact


def _renumber(ladder: list[Contact], *, by) -> None:
    """Positions 1..n in the given order, auditing each contact that moved."""
    for position, contact in enumerate(ladder, start=1):
        if contact.position != position:
            with audit.tracking(contact, actor=by, note="ladder order"):
                contact.position = position
                contact.save(update_fields=["position"])


@transaction.atomic
def remove_contact(contact: Contact, *, by) -> None:
    """Take a contact off the ladder; those below move up."""
    _require(by)
    ladder = _ladder(contact.unit)
    gone = next((c for c in ladder if c.pk == contact.pk), None)
    if gone is None:
        raise ValidationError(_("This contact was already removed."))
    rest = [c for c in ladder if c is not gone]
    audit.record("delete", gone, actor=by, before=audit.snapshot(gone))
    gone.delete()
    _renumber(rest, by=by)


@transaction.atomic
def move_contact(contact: Contact, *, by, offset: int) -> None:
    """Move a contact up (-1) or down (+1) the ladder: who is called first matters."""
    _require(by)
    if offset not in (-1, 1):
        raise ValidationError({"offset": _("Move by one place up or down.")})
    ladder = _ladder(contact.unit)
    index = next((i for i, c in enumerate(ladder) if c.pk == contact.pk), None)
    if index is None:
        raise ValidationError(_("This contact was already removed."))
    target = index + offset
    if not 0 <= target < len(ladder):
        raise ValidationError(
            _("Already at the top.") if offset < 0 else _("Already at the bottom.")
        )
    ladder[index], ladder[target] = ladder[target], ladder[index]
    _renumber(ladder, by=by)
