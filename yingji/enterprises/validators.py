from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yingji.lib import uscc

MESSAGES = {
    "length": _("A unified social credit code has 18 characters."),
    "charset": _(
        "A unified social credit code uses digits and capital letters except I, O, S, V, Z."
    ),
    "authority": _("The first character (registration authority) is not valid."),
    "division": _("Characters 3–8 must be an administrative division code (digits)."),
    "check": _("The check character (last) does not match: this code is mistyped."),
}


def validate_uscc(value: str) -> None:
    """GB 32100-2015 unified social credit code, including its check character."""
    problem = uscc.problem(value)
    if problem:
        raise ValidationError(MESSAGES[problem], code=f"uscc_{problem}")


def validate_phone(value: str) -> None:
    allowed = set("0123456789-+ ()")
    if not value or any(c not in allowed for c in value) or sum(c.isdigit() for c in value) < 7:
        raise ValidationError(_("Enter a phone number (digits, at least 7)."), code="phone")
