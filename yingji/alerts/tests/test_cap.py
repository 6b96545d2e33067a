"""CAP 1.2 out (each issued alert, the Atom feed) and in (the weather service's messages
become drafts): validity against the OASIS schema, the mapping, access, refusals that write
nothing, idempotency, Update and Cancel, and the `cap_import` command."""

import datetime
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from lxml import etree

from yingji.alerts import cap, services
from yingji.alerts.models import Alert, HazardType, Kind, Level
from yingji.core.models import AuditEntry, Notification
from yingji.core.services import create_api_token

DATA = Path(__file__).parent / "data"
# The schema as OASIS published it (shared/standards); the package ships a copy.
SHARED_XSD = Path(__file__).resolve().parents[4] / "shared" / "standards" / "cap12.xsd"
XSD = SHARED_XSD if SHARED_XSD.is_file() else cap.SCHEMA_FILE
C = "{urn:oasis:names:tc:emergency:cap:1.2}"
A = "{http://www.w3.org/2005/Atom}"
CST = datetime.timezone(datetime.timedelta(hours=8))
# The morning the fixtures' messages were sent.
JULY_12 = datetime.datetime(2025, 7, 12, 9, 0, tzinfo=CST)
ROLES = ["leader", "inspector", "duty", "legal", "town", "village", "ent_a", "ent_b", "expert"]
ROLES.append("admin")
INGEST = {"leader", "duty", "admin"}
STAFF = {"leader", "inspector", "duty", "legal", "admin"}
SENDER = "xining-weather@qh.cma.gov.cn"


# -- building blocks ---------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def english(settings):
    """Refusals are checked by their English wording (the protocol's terms)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def coded(world):
    """Administrative codes of the test towns and of village 1; village 2 has none."""
    for region, code in [
        (world.town1, "630103001"),
        (world.town2, "630103100"),
        (world.village1, "630103001001"),
    ]:
        region.code = code
        region.save()
    return world


def draft(world, *, kind=Kind.WARNING, level=Level.ORANGE, hazard=HazardType.RAINSTORM, **kw):
    now = timezone.now()
    kw.setdefault("headline", "城中区应急管理局发布暴雨橙色预警")
    kw.setdefault("body", "预计未来6小时内人民街街道将出现50毫米以上强降水。")
    kw.setdefault("instructions", "转移低洼地带群众,暂停户外作业。")
    kw.setdefault("regions", [world.town1])
    kw.setdefault("valid_from", now)
    kw.setdefault("valid_until", now + datetime.timedelta(hours=24))
    return services.create_draft(by=world.duty, kind=kind, level=level, hazard_type=hazard, **kw)


def issued(world, **kw) -> Alert:
    """A draft taken to issued (through the leader's approval where its level needs it)."""
    alert = services.issue(draft(world, **kw), by=world.duty)
    if alert.status == Alert.Status.PENDING_APPROVAL:
        alert = services.approve(alert, by=world.leader)
    assert alert.status == Alert.Status.ISSUED
    return Alert.objects.get(pk=alert.pk)


def validate(xml: bytes):
    """The message parsed (safely) and checked against the OASIS schema."""
    doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    if not schema.validate(doc):
        pytest.fail("\n".join(f"line {e.line}: {e.message}" for e in schema.error_log))
    return doc


def text(doc, path: str) -> str | None:
    return doc.findtext(path.replace("cap:", C))


def get_cap(client, alert):
    return client.get(f"/api/v1/alerts/{alert.pk}.cap")


def token_client(world, role="duty") -> Client:
    _token, key = create_api_token(world.users[role], "气象信息接入", by=world.admin)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post_cap(client, body: bytes):
    return client.post("/api/v1/alerts/cap", body, content_type="application/xml")


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def state() -> tuple:
    """What a refused message must leave as it was."""
    alerts = list(Alert.objects.order_by("pk").values())
    areas = list(Alert.regions.through.objects.order_by("pk").values())
    return alerts, areas, AuditEntry.objects.count(), Notification.objects.count()


@pytest.fixture
def july():
    with time_machine.travel(JULY_12):
        yield


# -- rendering ---------------------------------------------------------------------------------
KINDS_AND_LEVELS = [
    (kind, level)
    for kind in Kind.values
    for level in [*Level.values, ""]
    if not (kind == Kind.WARNING and level == "")  # a warning always has a level
]


@pytest.mark.parametrize(("kind", "level"), KINDS_AND_LEVELS)
def test_every_kind_and_level_renders_a_valid_cap_message(world, units, kind, level):
    alert = issued(world, kind=kind, level=level, hazard="" if level == "" else "rainstorm")
    doc = validate(cap.render(alert))
    severity = {"red": "Extreme", "orange": "Severe", "yellow": "Moderate", "blue": "Minor"}
    urgency = {"red": "Immediate", "orange": "Immediate", "yellow": "Expected", "blue": "Expected"}
    assert text(doc, "cap:msgType") == "Alert"
    assert text(doc, "cap:status") == "Actual"
    assert text(doc, "cap:scope") == "Public"
    assert text(doc, "cap:info/cap:severity") == severity.get(level, "Unknown")
    assert text(doc, "cap:info/cap:urgency") == urgency.get(level, "Unknown")
    assert text(doc, "cap:info/cap:category") == ("Met" if level else "Safety")
    with translation.override("zh-hans"):
        expected_event = str(HazardType.RAINSTORM.label) if level else str(Kind(kind).label)
    assert text(doc, "cap:info/cap:event") == expected_event


def test_the_message_carries_the_alert(world, units, coded):
    alert = issued(world, regions=[world.town1, world.village2], level="red")
    doc = validate(get_cap(Client(), alert).content)
    host = "127.0.0.1"  # of settings.SITE_URL
    assert text(doc, "cap:identifier") == f"yingji-{host}-{alert.ref}"
    assert text(doc, "cap:sender") == host
    sent = text(doc, "cap:sent")
    assert sent.endswith("+08:00")
    assert datetime.datetime.fromisoformat(sent) == alert.issued_at.replace(microsecond=0)
    info = doc.find(f"{C}info")
    assert text(info, "cap:language") == "zh-CN"
    assert text(info, "cap:headline") == alert.headline
    assert text(info, "cap:description") == alert.body
    assert text(info, "cap:instruction") == alert.instructions
    assert text(info, "cap:senderName") == "城中区应急管理局"
    assert text(info, "cap:web") == f"http://127.0.0.1:8000/public/alerts/{alert.pk}/"
    effective = datetime.datetime.fromisoformat(text(info, "cap:effective"))
    expires = datetime.datetime.fromisoformat(text(info, "cap:expires"))
    assert effective == alert.valid_from.replace(microsecond=0)
    assert expires == alert.valid_until.replace(microsecond=0)
    assert text(info, "cap:area/cap:areaDesc") == "人民街街道、谢家寨村"
    geocodes = [(text(g, "cap:valueName"), text(g, "cap:value")) for g in info.iter(f"{C}geocode")]
    # Town 1 by its administrative code; village 2 has none, so by its reference.
    assert geocodes == [("GB/T 10114", "630103001"), ("yingji:region", "V2")]
    assert [(text(e, "cap:valueName"), text(e, "cap:value")) for e in info.iter(f"{C}eventCode")]
    assert text(info, "cap:eventCode/cap:value") == "rainstorm"


@pytest.mark.parametrize("hazard", HazardType.values)
def test_hazard_types_map_to_cap_categories(world, units, hazard):
    alert = issued(world, hazard=hazard, level="blue")
    doc = validate(cap.render(alert))
    expected = {"geological": "Geo", "earthquake": "Geo", "forest_fire": "Fire", "other": "Safety"}
    assert text(doc, "cap:info/cap:category") == expected.get(hazard, "Met")


def test_the_district_is_named_by_its_county_code(world, units):
    alert = issued(world, regions=[world.district], level="blue")
    doc = validate(cap.render(alert))
    assert text(doc, "cap:info/cap:area/cap:geocode/cap:valueName") == "GB/T 2260"
    assert text(doc, "cap:info/cap:area/cap:geocode/cap:value") == "630103"


def test_a_lifted_alert_is_the_cancel_of_its_message(world, units):
    alert = issued(world, level="yellow")
    original = validate(cap.render(alert))
    services.lift(alert, by=world.duty)
    alert.refresh_from_db()
    doc = validate(get_cap(Client(), alert).content)
    assert text(doc, "cap:msgType") == "Cancel"
    assert text(doc, "cap:identifier") != text(original, "cap:identifier")
    assert text(doc, "cap:references") == ",".join(
        [text(original, "cap:sender"), text(original, "cap:identifier"), text(original, "cap:sent")]
    )
    lifted = datetime.datetime.fromisoformat(text(doc, "cap:sent"))
    assert lifted == alert.lifted_at.replace(microsecond=0)
    assert text(doc, "cap:info/cap:urgency") == "Past"
    assert text(doc, "cap:info/cap:responseType") == "AllClear"
    assert datetime.datetime.fromisoformat(text(doc, "cap:info/cap:expires")) == lifted


def test_a_non_public_alert_is_restricted(world, units):
    alert = issued(world, public=False, kind="weather_forward", level="")
    doc = validate(cap.render(alert))
    assert text(doc, "cap:scope") == "Restricted"
    assert text(doc, "cap:restriction")
    assert text(doc, "cap:info/cap:web") == f"http://127.0.0.1:8000/alerts/{alert.pk}/"


def test_control_characters_in_a_text_do_not_break_the_message(world, units):
    alert = issued(world, level="blue", body="第一段\x0b第二段\x1f")
    doc = validate(cap.render(alert))
    assert text(doc, "cap:info/cap:description") == "第一段第二段"


def test_the_packaged_schema_is_the_published_one():
    if not SHARED_XSD.is_file():
        pytest.skip("shared/standards is not next to this checkout")
    assert cap.SCHEMA_FILE.read_bytes() == SHARED_XSD.read_bytes()


# -- who may read a CAP message ------------------------------------------------------------------
def test_a_public_alert_needs_no_login(world, units):
    alert = issued(world, level="blue")
    response = get_cap(Client(), alert)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/cap+xml")
    validate(response.content)


@pytest.mark.parametrize("role", [*ROLES, "anonymous", "token"])
def test_a_non_public_alert_is_for_staff_and_the_area_it_went_to(world, units, role, login):
    alert = issued(world, public=False, regions=[world.town1], level="blue")
    if role == "anonymous":
        client = Client()
    elif role == "token":
        client = token_client(world, "inspector")
    else:
        client = login(world.users[role])
    response = get_cap(client, alert)
    if role in STAFF or role in ("town", "token"):  # town 1's officer: the alert went to T1
        assert response.status_code == 200, response.content
        validate(response.content)
    elif role == "anonymous":
        assert response.status_code == 401
    elif role == "village":  # village 2 is outside the area
        assert response.status_code == 404
    else:
        assert response.status_code == 403


def test_drafts_and_unknown_ids_have_no_cap(world, units, login):
    alert = draft(world)
    assert get_cap(Client(), alert).status_code == 401
    assert get_cap(login(world.duty), alert).status_code == 404
    assert login(world.duty).get("/api/v1/alerts/999999.cap").status_code == 404


# -- the Atom feed -----------------------------------------------------------------------------
def entries(response) -> dict[str, dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}id") and feed.findtext(f"{A}updated")
    found = {}
    for entry in feed.iter(f"{A}entry"):
        links = {link.get("type"): link.get("href") for link in entry.iter(f"{A}link")}
        found[entry.findtext(f"{A}title")] = links
    return found


def test_the_feed_lists_current_public_alerts_only(world, units):
    now = timezone.now()
    shown = issued(world, headline="当前公开预警", level="blue")
    other = issued(world, headline="另一条公开预警", level="yellow", regions=[world.town2])
    issued(world, headline="内部预警", level="blue", public=False)
    draft(world, headline="草稿预警")
    lifted = issued(world, headline="已解除预警", level="blue")
    services.lift(lifted, by=world.duty)
    issued(
        world, headline="即将过期预警", level="blue", valid_until=now + datetime.timedelta(hours=1)
    )
    with time_machine.travel(now + datetime.timedelta(hours=2)):
        found = entries(Client().get("/api/v1/alerts/feed"))
    assert list(found) == [other.headline, shown.headline]  # newest first
    base = "http://127.0.0.1:8000"
    assert found[shown.headline] == {
        "application/cap+xml": f"{base}/api/v1/alerts/{shown.pk}.cap",
        "text/html": f"{base}/public/alerts/{shown.pk}/",
    }
    # Each entry's CAP link answers with the valid message, no login needed.
    validate(Client().get(f"/api/v1/alerts/{shown.pk}.cap").content)


def test_an_empty_feed_is_still_a_feed(world):
    assert entries(Client().get("/api/v1/alerts/feed")) == {}


def test_the_feed_costs_the_same_queries_for_more_alerts(world, units):
    issued(world, level="blue")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert Client().get("/api/v1/alerts/feed").status_code == 200
        return len(queries)

    one = count()
    for n in range(3):
        issued(world, level="blue", headline=f"预警{n}")
    assert count() == one == 1  # the alerts; nothing per entry


# -- importing: the message becomes a draft ----------------------------------------------------
def test_a_weather_service_message_becomes_a_draft_to_forward(world, units, coded, july):
    hub = token_client(world)
    response = post_cap(hub, sample("rainstorm_orange.xml"))
    assert response.status_code == 201, response.content
    body = response.json()
    alert = Alert.objects.get()
    assert body["action"] == "created"
    assert body["alert"] == {
        "id": alert.pk,
        "ref": alert.ref,
        "status": "draft",
        "url": f"http://127.0.0.1:8000/alerts/{alert.pk}/",
    }
    assert body["area"] == ["T1"]
    assert body["unknown_geocodes"] == ["630102"]  # 城东区: not ours
    assert (alert.kind, alert.status, alert.source) == ("weather_forward", "draft", "cap")
    assert (alert.source_id, alert.sender) == ("63010041600000_20250712083000", SENDER)
    assert (alert.level, alert.hazard_type, alert.public) == ("orange", "rainstorm", True)
    assert alert.headline == "西宁市气象台发布暴雨橙色预警信号"
    assert alert.body.startswith("预计未来6小时内")
    assert alert.instructions.startswith("1. 暂停户外作业")
    assert alert.valid_from == datetime.datetime(2025, 7, 12, 8, 30, tzinfo=CST)
    assert alert.valid_until == datetime.datetime(2025, 7, 13, 8, 30, tzinfo=CST)
    assert list(alert.regions.all()) == [world.town1]
    assert alert.created_by == world.duty
    assert AuditEntry.objects.filter(target_id=str(alert.pk), action="create").exists()
    assert not alert.recipients.exists()  # nothing is sent before a person issues it


def test_the_same_message_again_answers_with_its_draft(world, units, coded, july):
    hub = token_client(world)
    first = post_cap(hub, sample("rainstorm_orange.xml"))
    before = state()
    again = post_cap(hub, sample("rainstorm_orange.xml"))
    assert again.status_code == 200
    assert again.json()["alert"] == first.json()["alert"]
    assert again.json()["action"] == "existing"
    assert state() == before


def test_an_area_matching_none_of_ours_is_the_whole_district(world, units, coded, july):
    response = post_cap(token_client(world), sample("gale_citywide.xml"))
    assert response.status_code == 201, response.content
    alert = Alert.objects.get()
    assert response.json()["unknown_geocodes"] == ["630100"]
    assert list(alert.regions.all()) == [world.district]
    # The Chinese info is chosen over the English one printed first; the colour in its
    # headline gives the level its Unknown severity does not.
    assert alert.headline == "青海省气象台发布西宁市大风蓝色预警信号"
    assert (alert.level, alert.hazard_type) == ("blue", "gale")
    assert alert.valid_from == datetime.datetime(2025, 7, 12, 15, 0, tzinfo=CST)  # sent


BAD = [
    ("malformed.xml", ["Line 13", "not well-formed", "headline"]),
    ("invalid_severity.xml", ["Line 14", "severity", "橙色"]),
    ("invalid_order.xml", ["Line 5", "status", "sent"]),
    ("entities.xml", ["DOCTYPE"]),
    ("cap11.xml", ["Line 2", "CAP 1.2", "cap:1.1"]),
    ("exercise.xml", ["Exercise", "Actual"]),
]


@pytest.mark.parametrize(("name", "words"), BAD)
def test_a_malformed_or_invalid_message_is_refused_and_writes_nothing(
    world, units, coded, july, name, words
):
    hub = token_client(world)
    before = state()
    with translation.override("en"):
        response = post_cap(hub, sample(name))
    assert response.status_code == 422, response.content
    problems = " ".join(response.json()["errors"]["cap"])
    for word in words:
        assert word in problems, problems
    assert state() == before


def test_an_empty_or_oversized_body_is_refused(world, units, july):
    hub = token_client(world)
    before = state()
    assert post_cap(hub, b"").status_code == 422
    huge = sample("rainstorm_orange.xml").replace(
        b"<description>", b"<description>" + b"x" * cap.MAX_BYTES
    )
    response = post_cap(hub, huge)
    assert response.status_code == 422
    assert "bytes" in response.json()["errors"]["cap"][0]
    assert state() == before


def test_an_expired_message_is_refused_in_cap_terms(world, units, coded):
    hub = token_client(world)
    before = state()  # today is long after the July messages expired
    response = post_cap(hub, sample("rainstorm_orange.xml"))
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["expires"]
    assert state() == before


def test_another_senders_message_with_the_same_identifier_is_its_own_alert(
    world, units, coded, july
):
    hub = token_client(world)
    post_cap(hub, sample("rainstorm_orange.xml"))
    other = sample("rainstorm_orange.xml").replace(SENDER.encode(), b"other@example.test")
    response = post_cap(hub, other)
    assert response.status_code == 201, response.content
    assert sorted(Alert.objects.values_list("sender", flat=True)) == sorted(
        [SENDER, "other@example.test"]
    )


# -- Update and Cancel -------------------------------------------------------------------------
def test_an_update_changes_the_draft_it_refers_to(world, units, coded, july):
    hub = token_client(world)
    first = post_cap(hub, sample("rainstorm_orange.xml")).json()
    response = post_cap(hub, sample("rainstorm_orange_update.xml"))
    assert response.status_code == 200, response.content
    assert response.json()["action"] == "updated"
    assert response.json()["alert"]["id"] == first["alert"]["id"]
    alert = Alert.objects.get()
    assert (alert.level, alert.headline) == ("red", "西宁市气象台将暴雨橙色预警信号升级为红色")
    assert list(alert.regions.all()) == [world.town1, world.town2]
    assert alert.source_id == "63010041600000_20250712083000"  # still found by its first id
    assert AuditEntry.objects.filter(target_id=str(alert.pk), action="update").exists()


def test_an_update_of_an_issued_alert_is_a_new_draft(world, units, coded, july):
    hub = token_client(world)
    post_cap(hub, sample("rainstorm_orange.xml"))
    original = services.issue(Alert.objects.get(), by=world.duty)  # forwards need no approval
    response = post_cap(hub, sample("rainstorm_orange_update.xml"))
    assert response.status_code == 201, response.content
    update = Alert.objects.get(pk=response.json()["alert"]["id"])
    assert update.pk != original.pk
    assert (update.status, update.level, update.source_id) == (
        "draft",
        "red",
        "63010041600000_20250712113000",
    )
    original.refresh_from_db()
    assert original.status == "issued"  # the duty officer lifts it when issuing the update
    again = post_cap(hub, sample("rainstorm_orange_update.xml"))
    assert (again.status_code, again.json()["alert"]["id"]) == (200, update.pk)


def test_a_cancel_cancels_a_draft_and_lifts_an_issued_alert(world, units, coded, july):
    hub = token_client(world)
    post_cap(hub, sample("rainstorm_orange.xml"))
    response = post_cap(hub, sample("rainstorm_orange_cancel.xml"))
    assert (response.status_code, response.json()["action"]) == (200, "cancelled")
    assert Alert.objects.get().status == "cancelled"
    again = post_cap(hub, sample("rainstorm_orange_cancel.xml"))
    assert (again.status_code, again.json()["action"]) == (200, "unchanged")


def test_a_cancel_lifts_the_forwarded_alert_once_issued(world, units, coded, july):
    hub = token_client(world)
    post_cap(hub, sample("rainstorm_orange.xml"))
    services.issue(Alert.objects.get(), by=world.duty)
    response = post_cap(hub, sample("rainstorm_orange_cancel.xml"))
    assert (response.status_code, response.json()["action"]) == (200, "lifted")
    alert = Alert.objects.get()
    assert (alert.status, alert.lifted_by) == ("lifted", world.duty)


def test_a_cancel_of_an_unknown_message_is_refused(world, units, july):
    hub = token_client(world)
    before = state()
    response = post_cap(hub, sample("rainstorm_orange_cancel.xml"))
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["references"]
    assert state() == before


def test_our_own_message_reads_back_as_the_alert_it_came_from(world, units, coded):
    ours = issued(
        world, level="yellow", hazard="flash_flood", regions=[world.town1, world.village2]
    )
    response = post_cap(token_client(world), cap.render(ours))
    assert response.status_code == 201, response.content
    forwarded = Alert.objects.get(pk=response.json()["alert"]["id"])
    assert (forwarded.level, forwarded.hazard_type) == (ours.level, ours.hazard_type)
    assert (forwarded.headline, forwarded.body, forwarded.instructions) == (
        ours.headline,
        ours.body,
        ours.instructions,
    )
    assert list(forwarded.regions.all()) == [world.town1, world.village2]
    assert forwarded.valid_until == ours.valid_until.replace(microsecond=0)


# -- who may import ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_importing_needs_alert_ingest(world, units, coded, july, role):
    client = token_client(world, role)
    before = state()
    response = post_cap(client, sample("rainstorm_orange.xml"))
    if role in INGEST:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 403
        assert state() == before


def test_importing_needs_credentials(world, units, coded, july, login):
    before = state()
    assert post_cap(Client(), sample("rainstorm_orange.xml")).status_code == 401
    assert post_cap(Client(HTTP_AUTHORIZATION="Bearer yj_nonsense"), b"<x/>").status_code == 401
    assert state() == before
    # The duty officer's browser session may forward a message too.
    assert post_cap(login(world.duty), sample("rainstorm_orange.xml")).status_code == 201


# -- the command ---------------------------------------------------------------------------------
def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("cap_import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_forwards_files_and_is_idempotent(world, units, coded, july):
    files = [str(DATA / "rainstorm_orange.xml"), str(DATA / "gale_citywide.xml")]
    out, _err = run(*files, "--user", "duty")
    assert Alert.objects.filter(status="draft", kind="weather_forward").count() == 2
    assert "rainstorm_orange.xml: created" in out and "630102" in out
    before = state()
    again, _err = run(*files, "--user", "duty")
    assert again.count(": existing ") == 2
    assert state() == before


def test_the_command_writes_nothing_if_any_file_is_refused(world, units, coded, july):
    before = state()
    files = [str(DATA / "rainstorm_orange.xml"), str(DATA / "invalid_severity.xml")]
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("cap_import", *files, "--user", "duty", stderr=err, stdout=io.StringIO())
    assert exit_.value.code == 1
    assert "invalid_severity.xml: Line 14" in err.getvalue()
    assert "nothing was written" in err.getvalue()
    assert state() == before


def test_the_command_refuses_a_cancel_of_nothing_and_writes_nothing(world, units, coded, july):
    before = state()
    files = [str(DATA / "gale_citywide.xml"), str(DATA / "rainstorm_orange_cancel.xml")]
    with pytest.raises(SystemExit):
        call_command("cap_import", *files, stderr=io.StringIO(), stdout=io.StringIO())
    assert state() == before


def test_the_command_needs_an_importer_allowed_to(world, july):
    with pytest.raises(CommandError, match="alert.ingest"):
        run(str(DATA / "rainstorm_orange.xml"), "--user", "legal")
    with pytest.raises(CommandError, match="no such file"):
        run(str(DATA / "missing.xml"))
