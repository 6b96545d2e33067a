"""Refuse JSON bodies holding NUL characters before any view sees them: PostgreSQL cannot
store NUL in text, so such a value would fail at save time with a 500 instead of a 422."""

import json

from django.http import JsonResponse
from django.utils.translation import gettext as _


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in ("POST", "PUT", "PATCH")
            and request.path.startswith("/api/")
            and request.content_type == "application/json"
            and b"\\u0000" in request.body
        ):
            try:
                data = json.loads(request.body)
            except ValueError:
                data = None  # the API answers malformed JSON itself
            if _has_nul(data):
                message = _("Text may not contain NUL characters (\\u0000).")
                return JsonResponse(
                    {"detail": "invalid", "errors": {"__all__": [message]}}, status=422
                )
        return self.get_response(request)
