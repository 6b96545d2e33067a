"""Running a service from a view: its ValidationError becomes form errors or messages."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError

FIELD_ALIASES = {"features": "feature_list"}


def perform(request, act: Callable[[], object], *, form=None, success: str = ""):
    """Call `act`; on a refused act report why (field by field) and return None."""
    try:
        result = act()
    except ValidationError as exc:
        pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        for field, errors in pairs:
            field = FIELD_ALIASES.get(field, field)
            for error in errors:
                if form is not None:
                    form.add_error(field if field in form.fields else None, error)
                else:
                    messages.error(request, error)
        return None
    if success:
        messages.success(request, success)
    return result if result is not None else True
