"""The public warning pages (mounted at /public/alerts/): what is in force now, no account.

Only public alerts are shown: the list has the current ones (issued, not lifted, not
expired), a detail page also answers for an alert lifted or expired since (people follow
shared links), saying so. Drafts, pending and non-public alerts are 404.
"""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from yingji.alerts.models import Alert
from yingji.core.models import Region


def _public():
    regions = Prefetch("regions", Region.objects.order_by("path"))
    return Alert.objects.filter(public=True).prefetch_related(regions)


def _with_feed(response: HttpResponse) -> HttpResponse:
    # Feed discovery for clients reading headers (RFC 8288) as well as the page's <link>.
    response["Link"] = (
        f'<{reverse("api:alerts_feed")}>; rel="alternate"; type="application/atom+xml"'
    )
    return response


@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    """The warnings in force, newest first."""
    alerts = _public().current().order_by("-issued_at", "-pk")
    context = {"alerts": alerts, "feed_url": reverse("api:alerts_feed")}
    return _with_feed(render(request, "alerts/public_list.html", context))


@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(_public().issued(), pk=pk)
    now = timezone.now()
    context = {
        "alert": alert,
        "lifted": alert.status == Alert.Status.LIFTED,
        "expired": alert.valid_until is not None and alert.valid_until <= now,
        "forwarded": alert.source == Alert.Source.CAP and alert.sender,
        "feed_url": reverse("api:alerts_feed"),
        "cap_url": reverse("api:alerts_cap", kwargs={"pk": alert.pk}),
    }
    return _with_feed(render(request, "alerts/public_detail.html", context))
