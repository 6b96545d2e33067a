"""Video roll-calls (视频点调): the services, the pages, the API and who may do what."""

import datetime
import json
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from yingji.alerts import rollcalls
from yingji.alerts.models import Alert, RollCall, RollCallEntry
from yingji.core import audit
from yingji.core.models import AuditEntry, Region
from yingji.core.services import create_api_token

API = "/api/v1/rollcalls"
READERS = ("leader", "inspector", "duty", "legal", "admin", "town", "village")
MANAGERS = ("leader", "duty", "admin")


def snapshot() -> tuple:
    return (
        list(RollCall.objects.order_by("pk").values()),
        list(RollCallEntry.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def record(world, **kwargs) -> RollCall:
    """T1 and V1 called (the town officer's area), T1 answered, V1 missed."""
    values = {
        "by": world.duty,
        "topic": "汛期值班值守视频点调",
        "targets": [world.town1, world.village1],
        "answered": {world.town1: "刘主任"},
        "remarks": {world.village1: "视频无人应答"},
    }
    if "targets" in kwargs:
        values["remarks"] = {}
    return rollcalls.record_rollcall(**{**values, **kwargs})


def entries(call: RollCall) -> dict[str, tuple]:
    return {
        e.region.ref: (e.answered, e.answered_by, e.remark)
        for e in call.entries.select_related("region")
    }


def issued_alert() -> Alert:
    return Alert.objects.create(
        kind="warning",
        headline="暴雨黄色预警",
        level="yellow",
        status="issued",
        issued_at=timezone.now() - datetime.timedelta(hours=1),
    )


# -- services ------------------------------------------------------------------------------------
def test_a_roll_call_records_who_was_called_and_who_answered(world):
    alert = issued_alert()
    call = record(world, alert=alert, note="重点检查山洪灾害危险区值守")
    assert (call.held_by, call.alert, call.topic) == (world.duty, alert, "汛期值班值守视频点调")
    assert abs((call.held_at - timezone.now()).total_seconds()) < 5
    assert entries(call) == {"T1": (True, "刘主任", ""), "V1": (False, "", "视频无人应答")}
    [entry] = audit.history(call)
    assert (entry.action, entry.actor, entry.after["targets"], entry.after["responded"]) == (
        "create",
        world.duty,
        ["T1", "V1"],
        ["T1"],
    )
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"targets": []}, "targets"),
        ({"targets": "district"}, "targets"),
        ({"answered": "V2"}, "answered"),
        ({"remarks": "V2"}, "remarks"),
        ({"answered": "long name"}, "answered"),
        ({"held_at": "tomorrow"}, "held_at"),
        ({"topic": "x" * 201}, "topic"),
        ({"alert": "draft"}, "alert"),
    ],
)
def test_a_wrong_roll_call_is_refused_field_by_field_and_nothing_is_written(world, changes, field):
    ((key, value),) = changes.items()
    made = {
        "district": lambda: [world.district, world.town1],
        "V2": lambda: {world.village2: "某某"},
        "long name": lambda: {world.town1: "名" * 101},
        "tomorrow": lambda: timezone.now() + datetime.timedelta(days=1),
        "draft": lambda: Alert.objects.create(kind="warning", headline="草稿"),
    }
    if isinstance(value, str) and value in made:
        value = made[value]()
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        record(world, **{key: value})
    assert field in exc.value.message_dict
    assert snapshot() == before


@pytest.mark.parametrize("role", ["inspector", "legal", "town", "village", "ent_a", "expert"])
def test_only_the_duty_office_and_leaders_record_roll_calls(world, role):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        record(world, by=world.users[role])
    call = record(world, by=world.leader)
    with pytest.raises(PermissionDenied):
        rollcalls.update_entries(call, by=world.users[role], answered={})
    with pytest.raises(PermissionDenied):
        rollcalls.follow_up(
            call.entries.get(answered=False), by=world.users[role], note="已电话联系"
        )
    assert snapshot()[0] == [RollCall.objects.values().get()]
    assert len(snapshot()[1]) == len(before[1]) + 2


def test_answers_are_corrected_and_each_changed_unit_audited(world):
    call = record(world)
    changed = rollcalls.update_entries(
        call,
        by=world.duty,
        answered={world.village1: "张书记"},
        remarks={world.village1: "网络故障，延迟5分钟接入"},
    )
    assert {e.region.ref for e in changed} == {"T1", "V1"}
    assert entries(call) == {
        "T1": (False, "", ""),
        "V1": (True, "张书记", "网络故障，延迟5分钟接入"),
    }
    v1 = call.entries.get(region=world.village1)
    [update] = audit.history(v1)
    assert (update.action, update.before["answered"], update.after["answered"]) == (
        "update",
        False,
        True,
    )
    # The same answers again change nothing and write nothing.
    count = AuditEntry.objects.count()
    assert (
        rollcalls.update_entries(
            call,
            by=world.duty,
            answered={world.village1: "张书记"},
            remarks={world.village1: "网络故障，延迟5分钟接入"},
        )
        == []
    )
    assert AuditEntry.objects.count() == count
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        rollcalls.update_entries(call, by=world.duty, answered={world.village2: "外人"})
    assert "answered" in exc.value.message_dict
    assert snapshot() == before


def test_a_missed_roll_call_is_followed_up_once(world):
    call = record(world)
    missed = call.entries.get(region=world.village1)
    assert list(rollcalls.missed(world.duty)) == [missed]
    before = snapshot()
    for note, field in (("", "note"), ("x" * 301, "note")):
        with pytest.raises(ValidationError) as exc:
            rollcalls.follow_up(missed, by=world.duty, note=note)
        assert field in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        rollcalls.follow_up(call.entries.get(region=world.town1), by=world.duty, note="?")
    assert "entry" in exc.value.message_dict
    assert snapshot() == before
    done = rollcalls.follow_up(missed, by=world.duty, note="已电话联系村书记，值班人员到岗")
    assert done.followed_up_at is not None
    assert done.follow_up_note == "已电话联系村书记，值班人员到岗"
    assert audit.history(done).get().note == "follow-up"
    assert list(rollcalls.missed(world.duty)) == []
    with pytest.raises(ValidationError) as exc:
        rollcalls.follow_up(missed, by=world.duty, note="again")
    assert "entry" in exc.value.message_dict


def test_officers_see_the_missed_roll_calls_of_their_area_only(world):
    record(world, targets=[world.town1, world.village1, world.town2, world.village2], answered={})

    def refs(user):
        return sorted(e.region.ref for e in rollcalls.missed(user))

    assert refs(world.duty) == ["T1", "T2", "V1", "V2"]
    assert refs(world.town_officer) == ["T1", "V1"]
    assert refs(world.village_officer) == ["V2"]
    assert refs(world.ent_user_a) == refs(world.expert) == []


# -- pages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [*READERS, "ent_a", "expert"])
def test_who_may_read_the_pages(world, login, role):
    call = record(world)  # T1 and V1: in the town officer's area, not the village officer's
    client = login(world.users[role])
    listed = client.get(reverse("alerts-rollcalls"))
    missed = client.get(reverse("alerts-rollcall-missed"))
    detail = client.get(reverse("alerts-rollcall", args=[call.pk]))
    if role in ("ent_a", "expert"):
        assert (listed.status_code, missed.status_code, detail.status_code) == (403, 403, 403)
        return
    assert (listed.status_code, missed.status_code) == (200, 200)
    shown = f'data-rollcall="{call.pk}"' in listed.content.decode()
    if role == "village":
        assert not shown and detail.status_code == 404
    else:
        assert shown and detail.status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    call = record(world)
    for url in (
        reverse("alerts-rollcalls"),
        reverse("alerts-rollcall-new"),
        reverse("alerts-rollcall-missed"),
        reverse("alerts-rollcall", args=[call.pk]),
    ):
        assert client.get(url).status_code == 302


@pytest.mark.parametrize("role", [*READERS, "ent_a", "expert"])
def test_only_managers_open_the_form_and_post(world, login, role):
    call = record(world)
    client = login(world.users[role])
    entry = call.entries.get(answered=False)
    before = snapshot()
    new = client.get(reverse("alerts-rollcall-new"))
    post_new = client.post(reverse("alerts-rollcall-new"), {f"t-{world.town1.pk}": "on"})
    answers = client.post(
        reverse("alerts-rollcall", args=[call.pk]),
        {"action": "answers", f"a-{world.town1.pk}": "on", f"n-{world.town1.pk}": "刘"},
    )
    follow = client.post(reverse("alerts-rollcall-missed"), {"target": entry.pk, "note": "已联系"})
    if role in MANAGERS:
        assert new.status_code == 200
        assert (post_new.status_code, answers.status_code, follow.status_code) == (302, 302, 302)
        return
    assert (new.status_code, post_new.status_code, follow.status_code) == (403, 403, 403)
    # Readers of the roll-call are refused (403); the others do not see it (403 / 404).
    assert answers.status_code in (403, 404)
    assert snapshot() == before


def test_the_town_officer_reads_only_their_area_of_a_roll_call(world, login):
    call = record(world, targets=[world.town1, world.village1, world.town2], answered={})
    page = login(world.town_officer).get(reverse("alerts-rollcall", args=[call.pk]))
    html = page.content.decode()
    assert 'data-region="T1"' in html and 'data-region="V1"' in html
    assert 'data-region="T2"' not in html
    assert 'name="a-' not in html  # read-only
    full = login(world.duty).get(reverse("alerts-rollcall", args=[call.pk])).content.decode()
    assert 'data-region="T2"' in full and f'name="a-{world.town2.pk}"' in full


def called_boxes(html: str) -> dict[int, bool]:
    """region id → whether its "called" box is ticked on the roll-call form."""
    boxes = re.findall(r'name="t-(\d+)" class="pick-called" aria-label="[^"]*"( checked)?>', html)
    return {int(pk): bool(checked) for pk, checked in boxes}


def test_the_form_calls_every_town_and_village_by_default(world, login):
    html = login(world.duty).get(reverse("alerts-rollcall-new")).content.decode()
    assert called_boxes(html) == {
        r.pk: True for r in (world.town1, world.town2, world.village1, world.village2)
    }


def test_the_form_after_an_alert_calls_the_units_it_went_to(world, login, units):
    alert = issued_alert()
    alert.recipients.create(unit=units["T2"], delivered_at=alert.issued_at)
    alert.recipients.create(unit=units["V2"], delivered_at=alert.issued_at)
    url = reverse("alerts-rollcall-new") + f"?alert={alert.pk}"
    html = login(world.duty).get(url).content.decode()
    assert called_boxes(html) == {
        world.town1.pk: False,
        world.village1.pk: False,
        world.town2.pk: True,
        world.village2.pk: True,
    }
    assert f'value="{alert.pk}" selected' in html


def test_recording_a_roll_call_on_the_form(world, login):
    client = login(world.duty)
    held = timezone.localtime() - datetime.timedelta(minutes=30)
    response = client.post(
        reverse("alerts-rollcall-new"),
        {
            "held_at": held.strftime("%Y-%m-%dT%H:%M"),
            "topic": "节前安全防范视频点调",
            f"t-{world.town1.pk}": "on",
            f"a-{world.town1.pk}": "on",
            f"n-{world.town1.pk}": "刘主任",
            f"t-{world.village1.pk}": "on",
            f"r-{world.village1.pk}": "无人应答",
            # V2 answered but was not called: not recorded.
            f"a-{world.village2.pk}": "on",
        },
    )
    call = RollCall.objects.get()
    assert response.status_code == 302 and response["Location"] == call.get_absolute_url()
    assert entries(call) == {"T1": (True, "刘主任", ""), "V1": (False, "", "无人应答")}
    assert timezone.localtime(call.held_at).strftime("%H:%M") == held.strftime("%H:%M")
    assert call.held_by == world.duty


def test_a_form_calling_nobody_is_refused_and_keeps_what_was_typed(world, login):
    client = login(world.duty)
    with translation.override("en"):
        response = client.post(
            reverse("alerts-rollcall-new"),
            {"topic": "点调", f"n-{world.town1.pk}": "刘主任"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 200
    assert RollCall.objects.count() == 0
    html = response.content.decode()
    assert 'class="errorlist"' in html
    assert 'value="刘主任"' in html and 'value="点调"' in html
    assert not any(called_boxes(html).values())


def test_answers_and_follow_ups_on_the_detail_page(world, login):
    call = record(world)
    client = login(world.duty)
    url = reverse("alerts-rollcall", args=[call.pk])
    client.post(
        url,
        {
            "action": "answers",
            f"a-{world.town1.pk}": "on",
            f"n-{world.town1.pk}": "刘主任",
            f"r-{world.village1.pk}": "视频无人应答",
        },
    )
    assert entries(call) == {"T1": (True, "刘主任", ""), "V1": (False, "", "视频无人应答")}
    # Saving the same answers again is fine too.
    same = {
        "action": "answers",
        f"a-{world.town1.pk}": "on",
        f"n-{world.town1.pk}": "刘主任",
        f"r-{world.village1.pk}": "视频无人应答",
    }
    assert client.post(url, same).status_code == 302
    too_long = {**same, f"n-{world.town1.pk}": "名" * 101}
    kept = client.post(url, too_long)
    assert kept.status_code == 200 and "名" * 101 in kept.content.decode()
    assert entries(call)["T1"] == (True, "刘主任", "")
    missed = call.entries.get(region=world.village1)
    refused = client.post(url, {"action": "follow_up", "target": missed.pk, "note": ""})
    assert refused.status_code == 200 and 'data-field="note"' in refused.content.decode()
    ok = client.post(url, {"action": "follow_up", "target": missed.pk, "note": "已电话联系"})
    assert ok.status_code == 302
    missed.refresh_from_db()
    assert missed.follow_up_note == "已电话联系"
    html = client.get(url).content.decode()
    assert "已电话联系" in html and 'id="follow-up-table"' not in html
    other = record(world, targets=[world.town2], answered={})
    stranger = other.entries.get()
    assert (
        client.post(url, {"action": "follow_up", "target": stranger.pk, "note": "x"}).status_code
        == 404
    )
    assert client.post(url, {"action": "nothing"}).status_code == 404


def test_the_missed_page_lists_what_waits_and_follows_it_up(world, login):
    record(world, targets=[world.town1, world.village1, world.town2, world.village2], answered={})
    town = login(world.town_officer).get(reverse("alerts-rollcall-missed")).content.decode()
    assert town.count("data-entry=") == 2 and 'name="note"' not in town
    duty = login(world.duty)
    html = duty.get(reverse("alerts-rollcall-missed")).content.decode()
    assert html.count("data-entry=") == 4 and html.count('name="note"') == 4
    entry = RollCallEntry.objects.get(region=world.village2)
    response = duty.post(
        reverse("alerts-rollcall-missed"), {"target": entry.pk, "note": "已督促整改"}
    )
    assert response.status_code == 302
    html = duty.get(reverse("alerts-rollcall-missed")).content.decode()
    assert html.count("data-entry=") == 3 and f'data-entry="{entry.pk}"' not in html
    # An entry already followed up is no longer offered.
    assert (
        duty.post(reverse("alerts-rollcall-missed"), {"target": entry.pk, "note": "再"}).status_code
        == 404
    )
    assert (
        duty.post(reverse("alerts-rollcall-missed"), {"target": "x", "note": "再"}).status_code
        == 404
    )


def test_the_list_filters_by_date_and_missed(world, login):
    old = record(world, held_at=timezone.now() - datetime.timedelta(days=40))
    full = record(world, answered={world.town1: "刘", world.village1: "张"})
    client = login(world.duty)

    def shown(**params):
        html = client.get(reverse("alerts-rollcalls"), params).content.decode()
        return {c.pk for c in (old, full) if f'data-rollcall="{c.pk}"' in html}

    assert shown() == {old.pk, full.pk}
    assert shown(missed="on") == {old.pk}
    since = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert shown(start=since) == {full.pk}
    assert shown(end=since) == {old.pk}


def _many(world, n: int) -> None:
    for i in range(n):
        record(world, answered={world.town1: f"值班员{i}"} if i % 2 else {})


@pytest.mark.parametrize("name", ["alerts-rollcalls", "alerts-rollcall-missed"])
def test_list_pages_take_the_same_number_of_queries_for_few_and_many_rows(world, login, name):
    client = login(world.duty)
    _many(world, 2)
    client.get(reverse(name))  # warm up the session

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(name)).status_code == 200
        return len(ctx.captured_queries)

    few = measure()
    _many(world, 20)
    assert measure() == few


def test_the_detail_page_takes_the_same_number_of_queries_for_few_and_many_units(world, login):
    client = login(world.duty)
    small = record(world)
    villages = [
        Region.objects.create(ref=f"V1-{i}", name=f"村{i}", level="village", parent=world.town1)
        for i in range(12)
    ]
    big = record(world, targets=[world.town1, world.village1, *villages])

    def measure(call):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("alerts-rollcall", args=[call.pk])).status_code == 200
        return len(ctx.captured_queries)

    measure(small)
    assert measure(big) == measure(small)


# -- API -----------------------------------------------------------------------------------------
def api(world, role: str) -> Client:
    _token, key = create_api_token(world.users[role], "点调", by=world.admin)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.parametrize("role", [*READERS, "ent_a", "expert"])
def test_the_api_reads_in_the_viewers_scope(world, role):
    call = record(world)
    client = api(world, role)
    listed = client.get(API)
    detail = client.get(f"{API}/{call.pk}")
    if role in ("ent_a", "expert"):
        assert (listed.status_code, detail.status_code) == (403, 403)
        return
    assert listed.status_code == 200
    items = listed.json()["items"]
    if role == "village":
        assert items == [] and detail.status_code == 404
        return
    [item] = items
    assert (item["ref"], item["called"], item["answered"], item["missed_open"]) == (
        call.ref,
        2,
        1,
        1,
    )
    body = detail.json()
    assert [(e["region"], e["answered"], e["answered_by"]) for e in body["entries"]] == [
        ("T1", True, "刘主任"),
        ("V1", False, ""),
    ]
    assert body["held_by"] == "duty"


def test_the_api_counts_only_the_town_officers_area(world):
    call = record(world, targets=[world.town1, world.town2], answered={world.town2: "王"})
    [item] = api(world, "town").get(API).json()["items"]
    assert (item["called"], item["answered"], item["missed_open"]) == (1, 0, 1)
    body = api(world, "town").get(f"{API}/{call.pk}").json()
    assert [e["region"] for e in body["entries"]] == ["T1"]


@pytest.mark.parametrize("role", [*READERS, "ent_a", "expert"])
def test_only_managers_record_through_the_api(world, role):
    client = api(world, role)
    response = client.post(
        API,
        json.dumps(
            {
                "topic": "防汛视频点调",
                "targets": ["T1", "V1"],
                "answered": {"T1": "刘主任"},
                "remarks": {"V1": "网络中断"},
            }
        ),
        content_type="application/json",
    )
    if role not in MANAGERS:
        assert response.status_code == 403
        assert RollCall.objects.count() == 0
        return
    assert response.status_code == 201
    body = response.json()
    assert [(e["region"], e["answered"], e["remark"]) for e in body["entries"]] == [
        ("T1", True, ""),
        ("V1", False, "网络中断"),
    ]
    assert RollCall.objects.get().held_by == world.users[role]


def test_the_api_calls_every_town_and_village_by_default_and_links_the_alert(world, units):
    alert = issued_alert()
    client = api(world, "duty")
    response = client.post(
        API,
        json.dumps({"alert": alert.ref, "held_at": "2026-01-05T20:00:00+08:00"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [e["region"] for e in body["entries"]] == ["T1", "V1", "T2", "V2"]
    assert body["alert"] == alert.ref
    assert body["held_at"].startswith("2026-01-05T12:00:00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"targets": ["T1", "NOPE"]}, "targets"),
        ({"targets": ["T1"], "answered": {"V9": "某"}}, "answered"),
        ({"targets": ["T1"], "answered": {"V1": "某"}}, "answered"),
        ({"targets": ["T1"], "remarks": {"NOPE": "x"}}, "remarks"),
        ({"targets": ["630103"]}, "targets"),
        ({"targets": []}, "targets"),
        ({"targets": ["T1"], "alert": "A-NOPE"}, "alert"),
        ({"targets": ["T1"], "held_at": "2026-01-05T20:00:00"}, "held_at"),
        ({"targets": ["T1"], "colour": "red"}, "colour"),
    ],
)
def test_bad_api_input_is_a_422_naming_the_field_and_writes_nothing(world, body, field):
    before = snapshot()
    response = api(world, "duty").post(API, json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in json.dumps(response.json())
    assert snapshot()[:2] == before[:2]


def test_the_api_list_filters_by_date_and_takes_constant_queries(world):
    client = api(world, "leader")
    old = record(world, held_at=timezone.now() - datetime.timedelta(days=40))
    since = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert [i["ref"] for i in client.get(API, {"end": since}).json()["items"]] == [old.ref]
    _many(world, 2)

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(API).status_code == 200
        return len(ctx.captured_queries)

    few = measure()
    _many(world, 20)
    assert measure() == few
