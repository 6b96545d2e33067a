"""GET /api/v1/stats: roles x areas, and bad input."""

import pytest

from yingji.stats.figures import compute
from yingji.stats.tests import test_figures
from yingji.stats.tests.test_figures import DISTRICT_2025, TOWN1_2025, Y_END, Y_START

year = test_figures.year  # the imported dataset (a fixture)

URL = "/api/v1/stats"
YEAR = {"start": "2025-01-01", "end": "2025-12-31"}


@pytest.mark.parametrize("role", ["leader", "inspector", "duty", "legal", "admin"])
def test_district_staff_get_the_district_or_any_region(year, login, role):
    client = login(year.users[role])
    response = client.get(URL, YEAR)
    assert response.status_code == 200
    assert response.json() == DISTRICT_2025
    response = client.get(URL, {**YEAR, "region": "T1"})
    assert response.json() == TOWN1_2025
    response = client.get(URL, {**YEAR, "region": "V2"})
    assert response.json() == compute(Y_START, Y_END, year.village2)


def test_a_town_officer_gets_their_town_only(year, login):
    client = login(year.town_officer)
    assert client.get(URL, YEAR).json() == TOWN1_2025
    assert client.get(URL, {**YEAR, "region": "T1"}).json() == TOWN1_2025
    inside = client.get(URL, {**YEAR, "region": "V1"})
    assert inside.status_code == 200
    assert inside.json() == compute(Y_START, Y_END, year.village1)
    for other in ("T2", "V2", "630103", "NOWHERE"):
        assert client.get(URL, {**YEAR, "region": other}).status_code == 404, other


def test_a_village_officer_gets_their_village_only(year, login):
    client = login(year.village_officer)
    got = client.get(URL, YEAR).json()
    assert got == compute(Y_START, Y_END, year.village2)
    assert got["inspections.total"] == 1  # I5 at E-B
    assert got != DISTRICT_2025
    for other in ("T2", "T1", "V1"):
        assert client.get(URL, {**YEAR, "region": other}).status_code == 404, other


@pytest.mark.parametrize("role", ["ent_a", "expert"])
def test_others_are_refused(year, login, role):
    client = login(year.users[role])
    assert client.get(URL, YEAR).status_code == 403
    assert client.get(URL, {**YEAR, "region": "T1"}).status_code == 403


def test_anonymous_is_refused(year, client):
    assert client.get(URL, YEAR).status_code == 401


def test_unknown_region_is_404_for_staff(year, login):
    assert login(year.leader).get(URL, {**YEAR, "region": "NOWHERE"}).status_code == 404


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2025-02-30", "end": "2025-12-31"}, "start"),
        ({"start": "2025-01-01", "end": "tomorrow"}, "end"),
        ({"start": "2025-12-31", "end": "2025-01-01"}, "end"),
        ({"start": "2025-01-01T00:00", "end": "2025-12-31"}, "start"),
    ],
)
def test_bad_dates_are_422(year, login, params, field):
    response = login(year.leader).get(URL, params)
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_missing_dates_are_422(year, login):
    assert login(year.leader).get(URL, {"start": "2025-01-01"}).status_code == 422
