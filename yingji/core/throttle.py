"""Throttle password guessing per username and per client address."""

import datetime

from django.conf import settings
from django.utils import timezone

from yingji.core.models import LoginFailure


def client_ip(request) -> str:
    """The visitor's address; behind our own nginx (TRUSTED_PROXY) the one it passes on."""
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_REAL_IP", "")
        if forwarded:
            return forwarded.strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def _window_start() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def is_locked(username: str, ip: str) -> bool:
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    limit = settings.LOGIN_FAILURE_LIMIT
    return (
        recent.filter(username=username.lower()).count() >= limit
        # An address gets more tries: an office behind one NAT shares it.
        or recent.filter(ip=ip).count() >= limit * 4
    )


def record_failure(username: str, ip: str) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], ip=ip)


def clear(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()
