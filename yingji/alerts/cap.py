"""CAP 1.2 (OASIS Common Alerting Protocol) both ways, and the Atom feed of current alerts.

Out: every issued or lifted alert renders as one CAP message (a lifted one as the `Cancel`
of the original); the feed lists the current public ones. In: a message of the
meteorological service (or any CAP sender) becomes a draft of a forwarded weather item for
the duty officer to review and issue; `Update` and `Cancel` act on the draft or alert they
refer to. docs/cap.md describes the mapping; the tables below are it.

Everything is built and read with lxml: parsing never resolves entities, never reads the
network and refuses a DOCTYPE, and every message is validated against the OASIS schema
(`schemas/cap12.xsd`, a copy of the published one) before anything is written.
"""

import dataclasses
import datetime
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from lxml import etree

from yingji.alerts import services
from yingji.alerts.models import Alert, HazardType, Kind, Level
from yingji.core.models import Region
from yingji.lib import times

NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SCHEMA_FILE = Path(__file__).parent / "schemas" / "cap12.xsd"
CONTENT_TYPE = "application/cap+xml; charset=utf-8"
ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
MAX_BYTES = 512 * 1024  # a CAP message is a few kilobytes; this leaves room for long texts
LANGUAGE = "zh-CN"
# The language the rendered texts (event names) are in, matching LANGUAGE.
DJANGO_LANGUAGE = "zh-hans"

# level → CAP severity and urgency (docs/cap.md). An item without a level is Unknown.
SEVERITY = {
    Level.RED: "Extreme",
    Level.ORANGE: "Severe",
    Level.YELLOW: "Moderate",
    Level.BLUE: "Minor",
}
URGENCY = {
    Level.RED: "Immediate",
    Level.ORANGE: "Immediate",
    Level.YELLOW: "Expected",
    Level.BLUE: "Expected",
}
LEVEL_OF_SEVERITY = {severity: level for level, severity in SEVERITY.items()}
# A Chinese warning names its colour in the headline (暴雨橙色预警) even when the sender
# leaves the severity Unknown.
LEVEL_WORDS = {"红色": Level.RED, "橙色": Level.ORANGE, "黄色": Level.YELLOW, "蓝色": Level.BLUE}

# hazard type → CAP category; the weather hazards (flash floods included: CAP's Met is
# "meteorological, including flood") are Met.
CATEGORY = {
    HazardType.GEOLOGICAL: "Geo",
    HazardType.EARTHQUAKE: "Geo",
    HazardType.FOREST_FIRE: "Fire",
    HazardType.OTHER: "Safety",
    "": "Safety",
}
CATEGORY_DEFAULT = "Met"

# Words of an imported event or headline naming our hazard types, most specific first.
HAZARD_WORDS = [
    ("山洪", HazardType.FLASH_FLOOD),
    ("地质灾害", HazardType.GEOLOGICAL),
    ("滑坡", HazardType.GEOLOGICAL),
    ("泥石流", HazardType.GEOLOGICAL),
    ("森林", HazardType.FOREST_FIRE),
    ("草原火", HazardType.FOREST_FIRE),
    ("火险", HazardType.FOREST_FIRE),
    ("暴雨", HazardType.RAINSTORM),
    ("暴雪", HazardType.SNOW),
    ("大风", HazardType.GALE),
    ("雷", HazardType.THUNDER),
    ("冰雹", HazardType.HAIL),
    ("高温", HazardType.HEAT),
    ("寒潮", HazardType.COLD),
    ("霜冻", HazardType.FROST),
    ("雾", HazardType.FOG),
    ("沙尘", HazardType.DUST),
    ("干旱", HazardType.DROUGHT),
    ("地震", HazardType.EARTHQUAKE),
]

# Geocodes: administrative division codes (行政区划代码). The district's six digits are
# GB/T 2260; towns' nine and villages' twelve digits extend them by the rules of GB/T 10114.
# A region without a code is named by its reference under our own value name.
GEOCODE_COUNTY = "GB/T 2260"
GEOCODE_LOCAL = "GB/T 10114"
GEOCODE_REF = "yingji:region"
# Our hazard type as an eventCode, so a yingji reading our own CAP needs no guessing.
EVENT_CODE = "yingji:hazard"

# CAP forbids spaces, commas and < & in identifiers and senders.
_FORBIDDEN = re.compile(r"[\s,<&]+")
# Control characters XML 1.0 cannot carry (a pasted text may hold one).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# -- identity --------------------------------------------------------------------------------
def sender() -> str:
    """Who we are in CAP: settings.CAP_SENDER, or the host of SITE_URL."""
    configured = getattr(settings, "CAP_SENDER", "")
    return _FORBIDDEN.sub("-", configured or urlsplit(settings.SITE_URL).hostname or "yingji")


def identifier(alert: Alert, *, cancel: bool = False) -> str:
    """The alert's CAP identifier; its lifting is a message of its own (CAP ids are per message)."""
    ident = f"yingji-{sender()}-{_FORBIDDEN.sub('-', alert.ref)}"
    return f"{ident}-lift" if cancel else ident


def cap_time(value: datetime.datetime) -> str:
    """CAP's dateTime: local time (Asia/Shanghai, +08:00), whole seconds."""
    local = timezone.localtime(value, timezone.get_default_timezone())
    return local.replace(microsecond=0).isoformat()


def public_url(alert: Alert) -> str:
    return settings.SITE_URL + reverse("alerts-public-detail", args=[alert.pk])


def cap_url(alert: Alert) -> str:
    return settings.SITE_URL + reverse("api:alerts_cap", kwargs={"pk": alert.pk})


def feed_url() -> str:
    return settings.SITE_URL + reverse("api:alerts_feed")


def category(alert: Alert) -> str:
    return CATEGORY.get(alert.hazard_type, CATEGORY_DEFAULT)


def geocode(region: Region) -> tuple[str, str]:
    """(valueName, value) naming a region in CAP."""
    if not region.code:
        return GEOCODE_REF, region.ref
    return (GEOCODE_COUNTY if len(region.code) == 6 else GEOCODE_LOCAL), region.code


# -- rendering -------------------------------------------------------------------------------
def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def _sub(parent, tag: str, text: str | None = None, ns: str = NS):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        element.text = _clean(text)
    return element


def _pair(parent, tag: str, name: str, value: str) -> None:
    element = _sub(parent, tag)
    _sub(element, "valueName", name)
    _sub(element, "value", value)


def _tostring(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render(alert: Alert) -> bytes:
    """The CAP 1.2 message of an issued or lifted alert, as UTF-8 XML."""
    return _tostring(build(alert))


def build(alert: Alert):
    """The CAP element tree; a lifted alert is the Cancel of its original message."""
    if alert.status not in (Alert.Status.ISSUED, Alert.Status.LIFTED):
        raise ValueError(f"alert {alert.pk} is {alert.status}: only issued alerts have a CAP")
    lifted = alert.status == Alert.Status.LIFTED
    with translation.override(DJANGO_LANGUAGE):
        root = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
        _sub(root, "identifier", identifier(alert, cancel=lifted))
        _sub(root, "sender", sender())
        _sub(root, "sent", cap_time(alert.lifted_at if lifted else alert.issued_at))
        _sub(root, "status", "Actual")
        _sub(root, "msgType", "Cancel" if lifted else "Alert")
        if alert.source == Alert.Source.CAP and alert.sender:
            # A forwarded item: the originator it came from.
            _sub(root, "source", _FORBIDDEN.sub("-", alert.sender))
        if alert.public:
            _sub(root, "scope", "Public")
        else:
            _sub(root, "scope", "Restricted")
            _sub(root, "restriction", _("The bureau, its duty officers and the units addressed"))
        if lifted:
            original = f"{sender()},{identifier(alert)},{cap_time(alert.issued_at)}"
            _sub(root, "references", original)
        _info(root, alert, lifted)
    return root


def _info(root, alert: Alert, lifted: bool) -> None:
    info = _sub(root, "info")
    _sub(info, "language", LANGUAGE)
    _sub(info, "category", category(alert))
    event = alert.get_hazard_type_display() if alert.hazard_type else alert.get_kind_display()
    _sub(info, "event", str(event))
    if lifted:
        _sub(info, "responseType", "AllClear")
    _sub(info, "urgency", "Past" if lifted else URGENCY.get(alert.level, "Unknown"))
    _sub(info, "severity", SEVERITY.get(alert.level, "Unknown"))
    if alert.source == Alert.Source.INGEST:
        certainty = "Observed"  # a sensor or camera saw it
    else:
        certainty = "Likely" if alert.level else "Possible"
    _sub(info, "certainty", certainty)
    if alert.hazard_type:
        _pair(info, "eventCode", EVENT_CODE, alert.hazard_type)
    _sub(info, "effective", cap_time(alert.valid_from or alert.issued_at))
    expires = alert.lifted_at if lifted else alert.valid_until
    if expires:
        _sub(info, "expires", cap_time(expires))
    _sub(info, "senderName", settings.SITE_NAME)
    _sub(info, "headline", alert.headline)
    if alert.body:
        _sub(info, "description", alert.body)
    if alert.instructions:
        _sub(info, "instruction", alert.instructions)
    _sub(
        info,
        "web",
        public_url(alert) if alert.public else settings.SITE_URL + alert.get_absolute_url(),
    )
    regions = sorted(alert.regions.all(), key=lambda r: r.path)
    if regions:
        area = _sub(info, "area")
        _sub(area, "areaDesc", "、".join(r.name for r in regions))
        for region in regions:
            _pair(area, "geocode", *geocode(region))


def feed(alerts: Iterable[Alert], *, now: datetime.datetime | None = None) -> bytes:
    """The Atom feed of the given (current public) alerts: each entry links to its CAP and
    its public page."""
    alerts = list(alerts)
    a = ATOM_NS
    with translation.override(DJANGO_LANGUAGE):
        root = etree.Element(f"{{{a}}}feed", nsmap={None: a})
        root.set("{http://www.w3.org/XML/1998/namespace}lang", LANGUAGE)
        _sub(root, "id", feed_url(), a)
        _sub(root, "title", _("%(site)s: current warnings") % {"site": settings.SITE_NAME}, a)
        latest = max((x.issued_at for x in alerts), default=None) or now or timezone.now()
        _sub(root, "updated", cap_time(latest), a)
        author = _sub(root, "author", None, a)
        _sub(author, "name", settings.SITE_NAME, a)
        _sub(author, "uri", settings.SITE_URL + "/", a)
        _link(root, "self", feed_url(), "application/atom+xml")
        _link(root, "alternate", settings.SITE_URL + reverse("alerts-public-list"), "text/html")
        for alert in alerts:
            entry = _sub(root, "entry", None, a)
            _sub(entry, "id", cap_url(alert), a)
            _sub(entry, "title", alert.headline, a)
            _sub(entry, "published", cap_time(alert.issued_at), a)
            _sub(entry, "updated", cap_time(alert.issued_at), a)
            if alert.hazard_type:
                term = _sub(entry, "category", None, a)
                term.set("term", alert.hazard_type)
                term.set("label", str(alert.get_hazard_type_display()))
            if alert.level:
                term = _sub(entry, "category", None, a)
                term.set("term", alert.level)
                term.set("label", str(alert.get_level_display()))
            _sub(entry, "summary", alert.body or alert.headline, a)
            _link(entry, "alternate", cap_url(alert), "application/cap+xml")
            _link(entry, "alternate", public_url(alert), "text/html")
    return _tostring(root)


def _link(parent, rel: str, href: str, mime: str) -> None:
    link = _sub(parent, "link", None, ATOM_NS)
    link.set("rel", rel)
    link.set("type", mime)
    link.set("href", href)


# -- reading ---------------------------------------------------------------------------------
_local = threading.local()


def schema() -> etree.XMLSchema:
    """The CAP 1.2 schema, loaded once per thread (lxml validators are not shared)."""
    if getattr(_local, "schema", None) is None:
        _local.schema = etree.XMLSchema(etree.parse(str(SCHEMA_FILE), _parser()))
    return _local.schema


def _parser() -> etree.XMLParser:
    # No entity expansion (billion laughs), no fetching (XXE), no unbounded trees.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
    )


@dataclasses.dataclass
class Info:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    event_codes: list[tuple[str, str]]
    effective: datetime.datetime | None
    onset: datetime.datetime | None
    expires: datetime.datetime | None
    sender_name: str
    headline: str
    description: str
    instruction: str
    web: str
    area_descs: list[str]
    geocodes: list[tuple[str, str]]


@dataclasses.dataclass
class Message:
    identifier: str
    sender: str
    sent: datetime.datetime
    status: str
    msg_type: str
    scope: str
    # (sender, identifier) of the messages an Update or Cancel refers to.
    references: list[tuple[str, str]]
    info: Info | None


def refuse(*problems: str) -> ValidationError:
    return ValidationError({"cap": list(problems)})


def _no_ns(message: str) -> str:
    return message.replace(f"{{{NS}}}", "")


def parse(data: bytes) -> Message:
    """Read a CAP 1.2 message: well-formed, valid against the schema, and something we can
    forward. Raises ValidationError({"cap": [problem, ...]}) naming line and element."""
    if not data or not data.strip():
        raise refuse(_("The message is empty: send one CAP 1.2 alert as XML."))
    if len(data) > MAX_BYTES:
        raise refuse(
            _("The message is %(size)d bytes; at most %(max)d are accepted.")
            % {"size": len(data), "max": MAX_BYTES}
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise refuse(
            _("Line %(line)s: the XML is not well-formed: %(error)s")
            % {"line": exc.lineno, "error": exc.msg}
        ) from None
    if root.getroottree().docinfo.doctype:
        raise refuse(_("Line 1: a DOCTYPE is not allowed in a CAP message."))
    if root.tag != f"{{{NS}}}alert":
        raise refuse(
            _("Line %(line)s: the root element is %(tag)s, not a CAP 1.2 alert (%(ns)s).")
            % {"line": root.sourceline, "tag": root.tag, "ns": NS}
        )
    validator = schema()
    if not validator.validate(root):
        raise refuse(
            *(
                _("Line %(line)s: %(error)s") % {"line": e.line, "error": _no_ns(e.message)}
                for e in validator.error_log
            )
        )
    message = _read(root)
    problems = []
    if message.status != "Actual":
        problems.append(
            _("status is %(status)s: only Actual messages are forwarded.")
            % {"status": message.status}
        )
    if message.msg_type not in ("Alert", "Update", "Cancel"):
        problems.append(
            _("msgType is %(type)s: only Alert, Update and Cancel are accepted.")
            % {"type": message.msg_type}
        )
    if message.msg_type in ("Update", "Cancel") and not message.references:
        problems.append(
            _("msgType %(type)s needs references (sender,identifier,sent) to what it changes.")
            % {"type": message.msg_type}
        )
    if message.msg_type in ("Alert", "Update") and message.info is None:
        problems.append(_("The message has no info element: there is nothing to forward."))
    if problems:
        raise refuse(*problems)
    return message


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _text(element, tag: str) -> str:
    return (element.findtext(_q(tag)) or "").strip()


def _time(element, tag: str) -> datetime.datetime | None:
    value = _text(element, tag)
    if not value:
        return None
    # The schema's pattern has fixed the form (seconds and an offset), yet allows 24:00:00
    # and year 0001.
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or not times.usable(moment):
        line = element.find(_q(tag)).sourceline
        raise refuse(
            _("Line %(line)s: %(tag)s %(value)s is not a usable time.")
            % {"line": line, "tag": tag, "value": value}
        )
    return moment


def _pairs(element, tag: str) -> list[tuple[str, str]]:
    return [(_text(pair, "valueName"), _text(pair, "value")) for pair in element.iterfind(_q(tag))]


def _read(root) -> Message:
    infos = root.findall(_q("info"))
    # A message may carry one info per language: ours first, then the first one.
    chosen = next(
        (i for i in infos if _text(i, "language").lower().startswith("zh")),
        infos[0] if infos else None,
    )
    references = []
    for item in _text(root, "references").split():
        parts = item.split(",")
        if len(parts) >= 2:
            references.append((parts[0], parts[1]))
    return Message(
        identifier=_text(root, "identifier"),
        sender=_text(root, "sender"),
        sent=_time(root, "sent"),
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        scope=_text(root, "scope"),
        references=references,
        info=_read_info(chosen) if chosen is not None else None,
    )


def _read_info(info) -> Info:
    areas = info.findall(_q("area"))
    return Info(
        language=_text(info, "language") or "en-US",
        categories=[c.text or "" for c in info.iterfind(_q("category"))],
        event=_text(info, "event"),
        urgency=_text(info, "urgency"),
        severity=_text(info, "severity"),
        certainty=_text(info, "certainty"),
        event_codes=_pairs(info, "eventCode"),
        effective=_time(info, "effective"),
        onset=_time(info, "onset"),
        expires=_time(info, "expires"),
        sender_name=_text(info, "senderName"),
        headline=_text(info, "headline"),
        description=_text(info, "description"),
        instruction=_text(info, "instruction"),
        web=_text(info, "web"),
        area_descs=[_text(area, "areaDesc") for area in areas],
        geocodes=[pair for area in areas for pair in _pairs(area, "geocode") if pair[1]],
    )


def level_of(info: Info) -> str:
    """Our level: from the severity, else from the colour named in the headline."""
    level = LEVEL_OF_SEVERITY.get(info.severity)
    if level:
        return level
    for word, colour in LEVEL_WORDS.items():
        if word in info.headline or word in info.event:
            return colour
    return ""


def hazard_of(info: Info) -> str:
    """Our hazard type: our own eventCode, else the words of the event and headline."""
    for name, value in info.event_codes:
        if name == EVENT_CODE and value in HazardType.values:
            return value
    text = f"{info.event} {info.headline}"
    for word, hazard in HAZARD_WORDS:
        if word in text:
            return hazard
    lowered = text.lower()
    with translation.override("en"):  # a sender writing English: "Rainstorm", "Heat wave"
        for hazard in HazardType:
            if hazard != HazardType.OTHER and str(hazard.label).lower() in lowered:
                return hazard.value
    return HazardType.OTHER


def area_of(geocodes: list[tuple[str, str]]) -> tuple[list[Region], list[str]]:
    """The regions the geocodes name, and the codes naming none of ours. No match at all
    means the whole district."""
    refs = {value for name, value in geocodes if name == GEOCODE_REF}
    codes = {value for name, value in geocodes if name != GEOCODE_REF}
    matched = list(Region.objects.filter(Q(code__in=codes) | Q(ref__in=refs)))
    known = {r.code for r in matched} | {r.ref for r in matched if r.ref in refs}
    unknown = [value for _name, value in geocodes if value not in known]
    if not matched:
        matched = list(Region.objects.filter(level=Region.Level.DISTRICT))
    return sorted(matched, key=lambda r: r.path), list(dict.fromkeys(unknown))


# -- importing -------------------------------------------------------------------------------
@dataclasses.dataclass
class Imported:
    alert: Alert
    created: bool
    # created | existing (sent before) | updated (a draft) | cancelled | lifted | unchanged
    action: str
    unknown_codes: list[str] = dataclasses.field(default_factory=list)


def import_cap(data: bytes, *, by) -> Imported:
    """Forward one CAP message: a new draft, or the one already made from it."""
    return apply(parse(data), by=by)


def known(sender_: str, identifier_: str) -> Alert | None:
    return Alert.objects.filter(
        source=Alert.Source.CAP, sender=sender_, source_id=identifier_
    ).first()


def apply(message: Message, *, by) -> Imported:
    """Act on a parsed message in one transaction; idempotent on (sender, identifier)."""
    existing = known(message.sender, message.identifier)
    if existing is not None:
        return Imported(existing, created=False, action="existing")
    try:
        with transaction.atomic():
            return _apply(message, by=by)
    except ValidationError as exc:
        raise _in_cap_terms(exc) from None
    except IntegrityError:
        # The same message posted twice at once: the other request made the draft.
        existing = known(message.sender, message.identifier)
        if existing is None:
            raise
        return Imported(existing, created=False, action="existing")


# The draft's fields the services name in their refusals, as the CAP elements they came from.
CAP_NAMES = {
    "valid_from": "effective",
    "valid_until": "expires",
    "regions": "area",
    "level": "severity",
    "hazard_type": "event",
    "body": "description",
    "instructions": "instruction",
    "source_id": "identifier",
    "sender": "sender",
}


def _in_cap_terms(error: ValidationError) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError(
        {CAP_NAMES.get(field, field): errors for field, errors in error.error_dict.items()}
    )


def _referenced(message: Message) -> list[Alert]:
    query = Q(pk__in=[])
    for ref_sender, ref_id in message.references:
        query |= Q(sender=ref_sender, source_id=ref_id)
    return list(Alert.objects.filter(query, source=Alert.Source.CAP).order_by("-created_at", "-pk"))


def _apply(message: Message, *, by) -> Imported:
    if message.msg_type == "Cancel":
        return _cancel(message, by=by)
    info = message.info
    regions, unknown = area_of(info.geocodes)
    fields = {
        "headline": (info.headline or info.event)[:200],
        "hazard_type": hazard_of(info),
        "level": level_of(info),
        "body": info.description,
        "instructions": info.instruction,
        "public": message.scope == "Public",
        "valid_from": info.effective or info.onset or message.sent,
        "valid_until": info.expires,
        "regions": regions,
    }
    if message.msg_type == "Update":
        draft = next((a for a in _referenced(message) if a.status == Alert.Status.DRAFT), None)
        if draft is not None:
            alert = services.update_draft(draft, by=by, **fields)
            return Imported(alert, created=False, action="updated", unknown_codes=unknown)
    # An Alert, or an Update of something no longer a draft: a new draft to review.
    alert = services.create_draft(
        by=by,
        kind=Kind.WEATHER_FORWARD,
        source=Alert.Source.CAP,
        source_id=message.identifier,
        sender=message.sender,
        **fields,
    )
    return Imported(alert, created=True, action="created", unknown_codes=unknown)


def _cancel(message: Message, *, by) -> Imported:
    """The sender withdrew its message: cancel our draft, lift our issued alert."""
    targets = _referenced(message)
    if not targets:
        raise ValidationError(
            {"references": _("The cancelled message is not known here; nothing was done.")}
        )
    action = "unchanged"
    for alert in targets:
        if alert.status in (Alert.Status.DRAFT, Alert.Status.PENDING_APPROVAL):
            services.cancel(alert, by=by)
            action = "cancelled"
        elif alert.status == Alert.Status.ISSUED:
            services.lift(alert, by=by)
            action = "lifted"
    first = Alert.objects.get(pk=targets[0].pk)
    return Imported(first, created=False, action=action)
