"""Events of the monitoring platforms (flash-flood sensors, forest-fire cameras).

A platform posts each event once or more (it retries on a timeout): the first post stores it,
later ones are answered with what was stored. An event may open a draft warning prefilled from
a template for the duty officer to review and issue; nothing is issued without a person.

When is a draft opened (docs/cap.md):
- ``open_draft`` true: always, from the matching template if there is one, else from the event;
- ``open_draft`` false: never;
- absent: when an active template matches the hazard type (and the level, when given).
"""

import dataclasses
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from yingji.alerts import services
from yingji.alerts.models import Alert, AlertTemplate, HazardType, IngestEvent, Kind, Level
from yingji.core import audit
from yingji.core.models import Region
from yingji.lib import times


@dataclasses.dataclass
class Received:
    event: IngestEvent
    created: bool
    # Why no draft was opened although one was due (a template the services refuse).
    draft_errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def find_region(value: str) -> Region | None:
    """A region by its reference or, failing that, its administrative code."""
    value = value.strip()
    if not value:
        return None
    regions = list(Region.objects.filter(Q(ref=value) | Q(code=value)))
    return next((r for r in regions if r.ref == value), regions[0] if regions else None)


def template_for(hazard_type: str, level: str = "") -> AlertTemplate | None:
    """The active template of the hazard type. An event with a level takes a template of that
    level or of none; one without takes any, the one without a level first."""
    templates = AlertTemplate.objects.filter(active=True, hazard_type=hazard_type)
    if level:
        templates = templates.filter(Q(level=level) | Q(level=""))

    def rank(template):
        return (0 if template.level == level else 1 if not template.level else 2, template.name)

    return min(templates, key=rank, default=None)


def _check(*, source, event_id, hazard_type, level, region, observed_at, message) -> Region:
    errors: dict[str, list[str]] = {}
    field = IngestEvent._meta.get_field
    for name, value in (("source", source), ("event_id", event_id)):
        if not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > field(name).max_length:
            errors[name] = [
                _("At most %(n)d characters.") % {"n": field(name).max_length},
            ]
    if hazard_type not in HazardType.values:
        errors["hazard_type"] = [
            _("Unknown hazard type %(value)r; one of: %(values)s.")
            % {"value": hazard_type, "values": ", ".join(HazardType.values)}
        ]
    if level and level not in Level.values:
        errors["level"] = [
            _("Unknown level %(value)r; one of: %(values)s.")
            % {"value": level, "values": ", ".join(Level.values)}
        ]
    found = find_region(region)
    if found is None:
        errors["region"] = [
            _("No region has the reference or administrative code %(value)r.") % {"value": region}
        ]
    if observed_at is not None and observed_at.tzinfo and not times.usable(observed_at):
        errors["observed_at"] = [_("This is not a usable time.")]
    elif observed_at is None or observed_at.tzinfo is None:
        errors["observed_at"] = [
            _("Give the time with its offset, e.g. 2025-06-10T08:00:00+08:00.")
        ]
    if len(message) > 5000:
        errors["message"] = [_("At most %(n)d characters.") % {"n": 5000}]
    if errors:
        raise ValidationError(errors)
    return found


def receive(
    *,
    by,
    source: str,
    event_id: str,
    hazard_type: str,
    level: str = "",
    region: str,
    observed_at: datetime.datetime | None,
    message: str = "",
    payload: dict | None = None,
    open_draft: bool | None = None,
) -> Received:
    """Store one event (once per source and event id) and open its draft when due."""
    source, event_id = source.strip(), event_id.strip()
    stored = IngestEvent.objects.filter(source=source, event_id=event_id).first()
    if stored is not None:
        return Received(stored, created=False)
    where = _check(
        source=source,
        event_id=event_id,
        hazard_type=hazard_type,
        level=level,
        region=region,
        observed_at=observed_at,
        message=message,
    )
    try:
        with transaction.atomic():
            alert, draft_errors = None, {}
            if open_draft is not False:
                try:
                    with transaction.atomic():
                        alert = _draft(
                            by=by,
                            source=source,
                            event_id=event_id,
                            hazard_type=hazard_type,
                            level=level,
                            region=where,
                            message=message,
                            always=bool(open_draft),
                        )
                except ValidationError as exc:
                    # The event is good; the draft it would open is not (say, a warning
                    # template without a level): keep the event, say why there is no draft.
                    draft_errors = exc.message_dict
            event = IngestEvent.objects.create(
                source=source,
                event_id=event_id,
                hazard_type=hazard_type,
                level=level,
                region=where,
                observed_at=observed_at,
                message=message,
                payload=payload or {},
                alert=alert,
            )
            audit.created(event, actor=by)
    except IntegrityError:
        # The platform's retry overtook its first post: that one stored the event.
        stored = IngestEvent.objects.filter(source=source, event_id=event_id).first()
        if stored is None:
            raise
        return Received(stored, created=False)
    return Received(event, created=True, draft_errors=draft_errors)


def _draft(*, by, source, event_id, hazard_type, level, region, message, always) -> Alert | None:
    template = template_for(hazard_type, level)
    if template is None and not always:
        return None
    origin = {
        "source": Alert.Source.INGEST,
        "source_id": f"{source}:{event_id}",
        "sender": source,
    }
    if template is not None:
        overrides = {"level": level} if level else {}
        return services.from_template(template, by=by, regions=[region], **origin, **overrides)
    # Stored text, so in the bureau's language whatever the platform's Accept-Language.
    with translation.override(settings.LANGUAGE_CODE):
        headline = _("%(region)s: %(hazard)s reported by %(platform)s") % {
            "region": region.name,
            "hazard": HazardType(hazard_type).label,
            "platform": source,
        }
    return services.create_draft(
        by=by,
        # A warning has a level; an event without one opens a bulletin to complete.
        kind=Kind.WARNING if level else Kind.BULLETIN,
        headline=headline[:200],
        hazard_type=hazard_type,
        level=level,
        body=message,
        regions=[region],
        **origin,
    )
