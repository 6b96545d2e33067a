"""The public warning pages (/public/alerts/): no login, only public alerts, the current ones
listed, a constant number of queries, and the feed announced."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yingji.alerts import services
from yingji.alerts.tests.test_cap import draft, issued

LIST = "/public/alerts/"


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'id="alert-(\d+)"', response.content.decode())]


@pytest.fixture
def alerts(world, units):
    """One alert of each visibility: only `current` belongs on the list."""
    now = timezone.now()
    made = {
        "current": issued(world, headline="人民街街道暴雨蓝色预警", level="blue"),
        "internal": issued(world, headline="内部工作提示", level="blue", public=False),
        "draft": draft(world, headline="尚未发布的预警"),
        "lifted": issued(world, headline="已解除的预警", level="yellow"),
        "expiring": issued(
            world,
            headline="一小时后过期",
            level="blue",
            valid_until=now + datetime.timedelta(hours=1),
        ),
    }
    services.lift(made["lifted"], by=world.duty)
    return made


def test_the_list_shows_only_current_public_alerts(world, alerts):
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        shown = listed(Client().get(LIST))
    assert shown == [alerts["current"].pk]


def test_the_list_shows_level_hazard_area_and_time(world, units):
    alert = issued(world, level="red", hazard="flash_flood", regions=[world.town1, world.town2])
    page = Client().get(LIST).content.decode()  # the public reads Chinese
    card = page[page.index(f'id="alert-{alert.pk}"') :]
    assert 'data-level="red"' in page and "level-red" in page
    assert "红色" in card and "山洪" in card
    assert "人民街街道、总寨镇" in card
    issued_at = timezone.localtime(alert.issued_at).strftime("%Y-%m-%d %H:%M")
    assert issued_at in card
    assert f'href="/public/alerts/{alert.pk}/"' in card


def test_an_empty_list_says_so(world):
    page = Client().get(LIST).content.decode()
    assert 'id="no-alerts"' in page


def test_the_detail_page_answers_for_public_issued_alerts_only(world, alerts):
    client = Client()
    current = client.get(f"/public/alerts/{alerts['current'].pk}/")
    assert current.status_code == 200
    page = current.content.decode()
    assert alerts["current"].headline in page and alerts["current"].instructions in page
    assert f'href="/api/v1/alerts/{alerts["current"].pk}.cap"' in page
    assert 'id="status-notice"' not in page
    lifted = client.get(f"/public/alerts/{alerts['lifted'].pk}/")
    assert lifted.status_code == 200  # a shared link still says what it was, and that it ended
    assert 'id="status-notice"' in lifted.content.decode()
    for name in ("internal", "draft"):
        assert client.get(f"/public/alerts/{alerts[name].pk}/").status_code == 404
    assert client.get("/public/alerts/999999/").status_code == 404


def test_an_expired_alert_says_it_has_expired(world, alerts):
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        page = Client().get(f"/public/alerts/{alerts['expiring'].pk}/").content.decode()
    assert 'id="status-notice"' in page


@pytest.mark.parametrize("role", ["leader", "town", "ent_a", "expert"])
def test_logged_in_users_see_the_same_public_pages(world, alerts, login, role):
    client = login(world.users[role])
    assert set(listed(client.get(LIST))) == {alerts["current"].pk, alerts["expiring"].pk}
    assert client.get(f"/public/alerts/{alerts['internal'].pk}/").status_code == 404


def test_the_pages_announce_the_feed(world, alerts):
    for url in (LIST, f"/public/alerts/{alerts['current'].pk}/"):
        response = Client().get(url)
        assert (
            response["Link"]
            == '</api/v1/alerts/feed>; rel="alternate"; type="application/atom+xml"'
        )
        page = response.content.decode()
        head = page[: page.index("</head>")]
        assert '<link rel="alternate" type="application/atom+xml"' in head
        assert 'href="/api/v1/alerts/feed"' in page


def test_the_list_costs_the_same_queries_for_more_alerts(world, units):
    issued(world, level="blue")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(LIST).status_code == 200
        return len(queries)

    one = count()
    for n in range(3):
        issued(world, level="yellow", headline=f"预警{n}", regions=[world.town1, world.village2])
    # The alerts, and their regions in one prefetch.
    assert count() == one == 2


def test_the_tip_portal_links_to_the_warnings(world):
    page = Client().get("/public/tips/new").content.decode()
    assert f'href="{LIST}"' in page
