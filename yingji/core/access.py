"""Access helpers: fetch an object inside the viewer's scope or refuse."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404


def capability_required(capability: str) -> Callable:
    """Login plus one capability from roles.CAPABILITIES; 403 otherwise."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.can(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def get_visible(queryset: models.QuerySet, user, **lookup) -> models.Model:
    """One object from `queryset.visible_to(user)`: 404 if absent or outside the scope."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError):
        raise Http404 from None
