"""Business acts on the enterprise registry: each one checked, atomic and audited."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yingji.core import audit
from yingji.core.models import Region
from yingji.enterprises.models import Enterprise

EDITABLE = (
    "name",
    "uscc",
    "sector",
    "feature_list",
    "region",
    "address",
    "risk_grade",
    "status",
    "standardized",
    "contact_name",
    "contact_phone",
)


def _check_region(by, region: Region | None) -> None:
    """A town officer may only place enterprises inside their own town."""
    if region is None or by.district_wide:
        return
    if by.region is None or not region.path.startswith(by.region.path):
        raise ValidationError({"region": _("You can only choose a place inside your own area.")})


def _apply(ent: Enterprise, values: dict) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValidationError({k: _("This field cannot be set.") for k in sorted(unknown)})
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "uscc" and isinstance(value, str):
            value = value.upper()
        setattr(ent, name, value)


def create_enterprise(*, by, **values) -> Enterprise:
    """Register an enterprise."""
    if not by.can("enterprise.edit"):
        raise PermissionDenied
    ent = Enterprise()
    _apply(ent, values)
    _check_region(by, ent.region if ent.region_id else None)
    ent.full_clean()
    with transaction.atomic():
        ent.save()
        audit.record("create", ent, actor=by, after=audit.snapshot(ent))
    return ent


def update_enterprise(ent: Enterprise, *, by, **values) -> Enterprise:
    """Change an enterprise's registration details."""
    if not Enterprise.objects.editable_by(by).filter(pk=ent.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        current = Enterprise.objects.select_for_update().get(pk=ent.pk)
        before = audit.snapshot(current)
        _apply(current, values)
        if "region" in values:
            _check_region(by, current.region)
        current.full_clean()
        after = audit.snapshot(current, exclude=("updated_at",))
        if after == {k: v for k, v in before.items() if k != "updated_at"}:
            return current
        current.updated_at = timezone.now()
        current.save()
        audit.record("update", current, actor=by, before=before, after=audit.snapshot(current))
    return current


def link_account(user, ent: Enterprise, *, by):
    """Make a user the enterprise's own account (it then sees that enterprise only)."""
    from yingji.enterprises.models import EnterpriseAccount

    if user.role != "enterprise":
        raise ValidationError({"user": _("Only enterprise users can be linked to an enterprise.")})
    with transaction.atomic():
        account, _created = EnterpriseAccount.objects.update_or_create(
            user=user, defaults={"enterprise": ent}
        )
        audit.record(
            "update", ent, actor=by, after={"account": user.username}, note="account linked"
        )
    return account
