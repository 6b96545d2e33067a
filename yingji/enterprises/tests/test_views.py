import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_uscc
from yingji.core.models import AuditEntry
from yingji.enterprises.models import Enterprise


def form_data(ent=None, **overrides):
    data = {
        "name": "青海丙商贸有限公司",
        "uscc": make_uscc(3),
        "sector": "crowded_place",
        "region": "",
        "address": "城中区南大街1号",
        "risk_grade": "yellow",
        "status": "active",
        "contact_name": "王伟",
        "contact_phone": "0971-8123456",
        "feature_list": ["hot_work"],
    }
    if ent is not None:
        data.update(
            name=ent.name,
            uscc=ent.uscc,
            sector=ent.sector,
            region=ent.region_id,
            status=ent.status,
            feature_list=ent.feature_list,
            contact_phone="",
        )
    data.update(overrides)
    return data


def test_staff_register_an_enterprise(world, login):
    client = login(world.inspector)
    response = client.post("/enterprises/new/", form_data(region=world.village1.pk))
    ent = Enterprise.objects.get(name="青海丙商贸有限公司")
    assert response.status_code == 302 and response["Location"] == f"/enterprises/{ent.pk}/"
    assert ent.feature_list == ["hot_work"]
    assert AuditEntry.objects.filter(
        target_id=str(ent.pk), action="create", actor=world.inspector
    ).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uscc", make_uscc(3)[:17] + "X"),  # wrong check character (X is never a check char)
        ("uscc", make_uscc(1)),  # belongs to active enterprise A
        ("uscc", "123"),
        ("sector", "mining"),
        ("contact_phone", "abc"),
        ("region", "999999"),
        ("name", ""),
        ("feature_list", ["flying"]),
    ],
)
def test_bad_input_is_refused_field_by_field_and_writes_nothing(world, login, field, value):
    client = login(world.inspector)
    count, audit_count = Enterprise.objects.count(), AuditEntry.objects.count()
    data = form_data(region=world.village1.pk)
    data[field] = value
    response = client.post("/enterprises/new/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert f'data-field="{field}"' in response.content.decode()
    assert Enterprise.objects.count() == count
    assert AuditEntry.objects.count() == audit_count


def test_edit_records_the_change_in_the_history(world, login):
    client = login(world.inspector)
    new = make_uscc(99)
    response = client.post(
        f"/enterprises/{world.ent_a.pk}/edit/", form_data(world.ent_a, uscc=new.lower())
    )
    assert response.status_code == 302
    world.ent_a.refresh_from_db()
    assert world.ent_a.uscc == new
    page = client.get(f"/enterprises/{world.ent_a.pk}/").content.decode()
    assert make_uscc(1) in page and new in page  # old → new in the history table


def test_a_closed_enterprise_frees_its_credit_code(world, login):
    client = login(world.inspector)
    client.post(f"/enterprises/{world.ent_a.pk}/edit/", form_data(world.ent_a, status="closed"))
    response = client.post(
        "/enterprises/new/", form_data(region=world.village1.pk, uscc=make_uscc(1))
    )
    assert response.status_code == 302


def test_a_town_officer_edits_only_inside_the_town(world, login):
    client = login(world.town_officer)
    ok = client.post(f"/enterprises/{world.ent_a.pk}/edit/", form_data(world.ent_a, address="新址"))
    assert ok.status_code == 302
    assert client.get(f"/enterprises/{world.ent_b.pk}/edit/").status_code == 404
    # Moving an enterprise out of the town is not among the choices.
    moved = client.post(
        f"/enterprises/{world.ent_a.pk}/edit/", form_data(world.ent_a, region=world.village2.pk)
    )
    assert moved.status_code == 200
    assert list(moved.context["form"].errors) == ["region"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["E-B", "E-A"]),  # by name: 青海乙… sorts before 青海甲…
        ("?q=甲工贸", ["E-A"]),
        (f"?q={make_uscc(2)[-6:].lower()}", ["E-B"]),
        ("?sector=hazardous_chemicals", ["E-B"]),
        ("?feature=dust_explosion", ["E-A"]),
        ("?risk_grade=red", ["E-B"]),
        ("?region={town2}", ["E-B"]),
        ("?region={village1}", ["E-A"]),
        ("?status=closed", []),
    ],
)
def test_the_list_filters(world, login, query, expected):
    query = query.format(town2=world.town2.pk, village1=world.village1.pk)
    response = login(world.leader).get("/enterprises/" + query)
    assert [e.ref for e in response.context["page"]] == expected


def test_htmx_requests_get_only_the_table(world, login):
    response = login(world.leader).get("/enterprises/?q=甲", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="enterprise-table"' in body and "<html" not in body


def _list_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_issues_the_same_queries_for_few_and_many_rows(world, login):
    client = login(world.leader)
    urls = [
        "/enterprises/",
        "/enterprises/?sector=industrial_trade&q=青海",
        "/api/v1/enterprises?limit=100",
    ]
    few = [_list_queries(client, u) for u in urls]
    Enterprise.objects.bulk_create(
        Enterprise(
            ref=f"N{i}",
            name=f"青海企业{i}",
            uscc=make_uscc(1000 + i),
            sector="industrial_trade",
            region=world.village1 if i % 2 else world.village2,
        )
        for i in range(300)
    )
    many = [_list_queries(client, u) for u in urls]
    assert few == many
    # Session, user, unread count, regions for the filter, count, page rows.
    assert few[0] <= 8


def test_exports_hold_the_filtered_scope(world, login):
    client = login(world.town_officer)
    response = client.get("/enterprises/export.jsonl?status=all")
    body = b"".join(response.streaming_content).decode()
    assert '"ref": "E-A"' in body and "E-B" not in body
    xlsx = client.get("/enterprises/export.xlsx?sector=industrial_trade")
    assert xlsx["Content-Disposition"].startswith("attachment")
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(b"".join(xlsx.streaming_content)))
    rows = list(wb["enterprise"].iter_rows(values_only=True))
    assert rows[0][:3] == ("ref", "name", "uscc")
    assert [r[0] for r in rows[1:]] == ["E-A"]


def test_the_home_page_counts_enterprises_in_scope(world, login):
    response = login(world.town_officer).get("/")
    panel = dict(response.context["panels"])["enterprises/_home_panel.html"]
    assert panel["total"] == 1
    assert dict((k, n) for k, _label, n in panel["by_sector"])["industrial_trade"] == 1


def test_out_of_scope_pages_answer_with_the_site_404_in_chinese(world, login):
    response = login(world.town_officer).get(f"/enterprises/{world.ent_b.pk}/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
