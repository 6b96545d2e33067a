"""CAP 1.2 and monitoring events in the API, mounted at /api/v1/alerts before the main alerts
router (docs/cap.md).

* `GET /alerts/feed`: the Atom feed of current public alerts; no login.
* `GET /alerts/{id}.cap`: an issued or lifted alert as CAP 1.2. A public one needs no login;
  any other needs a token or session of a user with `alert.view` who can see it. Without
  credentials such an id answers 401, without the capability 403, outside the scope 404.
* `POST /alerts/cap`: a CAP 1.2 message (the XML as the body) to forward; token or session
  of a user with `alert.ingest`. 201 with the new draft, 200 when the message was already
  forwarded (or updated or cancelled what it refers to); 422 naming line and element for a
  malformed or invalid message, and nothing is written.
* `POST /alerts/ingest`: a monitoring platform's event (JSON); a token with `alert.ingest`.
  201 the first time, 200 with the stored event for a retry; 422 with field errors.
"""

import datetime
import json
from typing import Annotated

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.errors import AuthenticationError
from pydantic import AwareDatetime, BeforeValidator

from yingji.alerts import cap, ingest
from yingji.alerts.models import Alert, IngestEvent
from yingji.api.auth import ActiveSessionAuth, TokenAuth

router = Router(tags=["alerts"])


def _anyone(request):
    """The last resort of a public read: let it through; the handler decides."""
    return AnonymousUser()


PUBLIC_READ = [TokenAuth(), ActiveSessionAuth(), _anyone]


def _require(user, capability: str) -> None:
    if not user.can(capability):
        raise PermissionDenied


# -- out -------------------------------------------------------------------------------------
@router.get("/feed", auth=None, url_name="alerts_feed", response={200: None})
def feed(request):
    """Atom feed of the current public alerts (issued, not lifted, not expired)."""
    alerts = Alert.objects.current().filter(public=True).order_by("-issued_at", "-pk")
    response = HttpResponse(cap.feed(alerts), content_type=cap.ATOM_CONTENT_TYPE)
    response["Cache-Control"] = "public, max-age=60"
    return response


@router.get("/{int:pk}.cap", auth=PUBLIC_READ, url_name="alerts_cap", response={200: None})
def alert_cap(request, pk: int):
    """The alert as a CAP 1.2 message (a lifted one as the Cancel of its original)."""
    user = request.auth
    issued = Alert.objects.issued().prefetch_related("regions")
    alert = issued.filter(pk=pk, public=True).first()
    if alert is None:
        if not user.is_authenticated:
            raise AuthenticationError
        _require(user, "alert.view")
        alert = issued.visible_to(user).filter(pk=pk).first()
        if alert is None:
            raise Http404
    response = HttpResponse(cap.render(alert), content_type=cap.CONTENT_TYPE)
    response["Cache-Control"] = "public, max-age=60" if alert.public else "private, no-cache"
    return response


# -- CAP in ----------------------------------------------------------------------------------
class AlertLink(Schema):
    id: int
    ref: str
    status: str
    url: str = Field(..., description="the alert's page for staff")


def _link(alert: Alert | None) -> dict | None:
    if alert is None:
        return None
    url = settings.SITE_URL + alert.get_absolute_url()
    return {"id": alert.pk, "ref": alert.ref, "status": alert.status, "url": url}


class CapImported(Schema):
    action: str = Field(
        ...,
        description="created (a new draft), existing (forwarded before), updated (a draft "
        "by an Update), cancelled or lifted (by a Cancel), unchanged",
    )
    alert: AlertLink
    kind: str
    headline: str
    hazard_type: str
    level: str
    area: list[str] = Field(..., description="region references of the draft's area")
    unknown_geocodes: list[str] = Field(..., description="geocode values naming none of ours")


@router.post(
    "/cap",
    auth=[TokenAuth(), ActiveSessionAuth()],
    response={200: CapImported, 201: CapImported},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string"}}},
        }
    },
)
def import_cap(request):
    """Forward a CAP 1.2 message (the XML is the body) as a draft to review and issue."""
    user = request.auth
    _require(user, "alert.ingest")
    result = cap.import_cap(request.body, by=user)
    alert = result.alert
    body = {
        "action": result.action,
        "alert": _link(alert),
        "kind": alert.kind,
        "headline": alert.headline,
        "hazard_type": alert.hazard_type,
        "level": alert.level,
        "area": [r.ref for r in alert.regions.order_by("path")],
        "unknown_geocodes": result.unknown_codes,
    }
    return Status(201 if result.created else 200, body)


# -- monitoring events -----------------------------------------------------------------------
def _as_text(value):
    """Platforms number their events; an id is kept as text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_as_text)]


class EventIn(Schema):
    """A platform's event; fields beyond these are kept with it as they came."""

    source: Text = Field(..., description="the platform, e.g. flash-flood-monitoring")
    event_id: Text = Field(..., description="the platform's id of the event")
    hazard_type: str = Field(..., description="flash_flood, forest_fire, rainstorm, …")
    level: str = Field("", description="blue, yellow, orange or red; empty for none")
    region: Text = Field(..., description="region reference or administrative code")
    observed_at: AwareDatetime = Field(..., description="ISO 8601 with an offset")
    message: str = ""
    open_draft: bool | None = Field(
        None,
        description="true: open a draft warning even without a matching template; false: "
        "never; absent: when an active template matches",
    )


class EventOut(Schema):
    id: int
    source: str
    event_id: str
    hazard_type: str
    level: str
    region: str | None
    observed_at: datetime.datetime | None
    received_at: datetime.datetime
    message: str
    alert: AlertLink | None = Field(..., description="the draft warning opened from it")
    draft_errors: dict[str, list[str]] = Field(
        {}, description="why the draft due for it could not be opened (the event is kept)"
    )

    @staticmethod
    def resolve_region(obj: IngestEvent) -> str | None:
        return obj.region.ref if obj.region_id else None

    @staticmethod
    def resolve_alert(obj: IngestEvent) -> dict | None:
        return _link(obj.alert)


@router.post("/ingest", auth=TokenAuth(), response={200: EventOut, 201: EventOut})
def ingest_event(request, payload: EventIn):
    """A monitoring platform's event; the same (source, event_id) again returns it (200)."""
    user = request.auth
    _require(user, "alert.ingest")
    received = ingest.receive(
        by=user,
        source=payload.source,
        event_id=payload.event_id,
        hazard_type=payload.hazard_type,
        level=payload.level,
        region=payload.region,
        observed_at=payload.observed_at,
        message=payload.message,
        # Kept as the platform sent it, fields beyond the schema's included.
        payload=json.loads(request.body),
        open_draft=payload.open_draft,
    )
    event = IngestEvent.objects.select_related("region", "alert").get(pk=received.event.pk)
    event.draft_errors = received.draft_errors
    return Status(201 if received.created else 200, event)
