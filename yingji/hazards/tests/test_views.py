"""The rectification loop through the pages, as inspectors and enterprises use it."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from yingji.hazards.models import Hazard
from yingji.inspections import services as insp_services
from yingji.inspections.models import Inspection


def photo(name="p.jpg") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buf, format="JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def checklist(world):
    return insp_services.save_checklist(
        by=world.leader,
        name="工贸企业通用检查表",
        sector="industrial_trade",
        items=[
            {"code": "1", "text": "安全生产责任制是否建立", "basis": "《安全生产法》第二十二条"},
            {"code": "2", "text": "粉尘清扫制度是否落实", "basis": "《工贸企业粉尘防爆安全规定》"},
        ],
    )


def test_the_whole_loop_through_the_pages(world, checklist, client):
    today = timezone.localdate()
    client.force_login(world.inspector)
    # Plan the visit.
    response = client.post(
        "/inspections/new/",
        {
            "enterprise": world.ent_a.uscc,
            "date": today.isoformat(),
            "mode": "routine",
            "onsite": "on",
            "ledger": "on",
            "inspectors": [world.inspector.pk],
        },
    )
    insp = Inspection.objects.get()
    assert response["Location"] == f"/inspections/{insp.pk}/"
    assert insp.checklist == checklist
    url = f"/inspections/{insp.pk}/"
    client.post(url, {"start": "1"})
    client.post(
        url,
        {
            "answers": "1",
            "item_1": "ok",
            "item_2": "hazard",
            "onsite": "on",
            "summary": "现场检查发现粉尘清扫不及时",
        },
    )
    # A finding with a photo.
    client.post(
        f"/hazards/findings/{insp.pk}/",
        {
            "level": "general",
            "category": "environment",
            "description": "除尘器积尘未及时清理",
            "legal_basis": "《工贸企业粉尘防爆安全规定》第十五条",
            "found_on": today.isoformat(),
            "photos": [photo()],
        },
    )
    hazard = Hazard.objects.get()
    assert hazard.status == "reported" and hazard.inspection == insp
    page = client.get(url).content.decode()
    assert "除尘器积尘未及时清理" in page
    client.post(url, {"complete": "1"})
    insp.refresh_from_db()
    assert insp.status == "completed" and insp.record_no.startswith("城应急检记〔")
    assert client.get(f"/inspections/{insp.pk}/record.docx").status_code == 200
    # The order.
    deadline = today + datetime.timedelta(days=10)
    client.post(
        f"/hazards/orders/{insp.pk}/", {"hazards": [hazard.pk], "deadline": deadline.isoformat()}
    )
    hazard.refresh_from_db()
    assert hazard.status == "open" and hazard.deadline == deadline
    assert client.get(f"/hazards/orders/{hazard.order_id}/document.docx").status_code == 200
    # The enterprise submits evidence with a photo.
    client.force_login(world.ent_user_a)
    response = client.post(
        f"/hazards/{hazard.pk}/",
        {"evidence": "1", "note": "已清理并建立台账", "files": [photo("after.jpg")]},
    )
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == "submitted"
    # The inspector re-inspects and closes it.
    client.force_login(world.inspector)
    client.post(
        f"/hazards/{hazard.pk}/",
        {"reinspect": "1", "passed": "1", "date": today.isoformat(), "opinion": "已整改到位"},
    )
    hazard.refresh_from_db()
    assert (hazard.status, hazard.closed_on) == ("closed", today)
    re = hazard.reinspections.get()
    assert client.get(f"/hazards/reinspections/{re.pk}/document.docx").status_code == 200
    # The enterprise page shows the history.
    page = client.get(f"/enterprises/{world.ent_a.pk}/").content.decode()
    assert 'id="enterprise-inspections"' in page and "除尘器积尘未及时清理" in page


def test_bad_finding_input_is_reported_field_by_field_and_writes_nothing(world, checklist, client):
    insp = insp_services.schedule_inspection(
        by=world.inspector, enterprise=world.ent_a, date=timezone.localdate()
    )
    insp_services.start_inspection(insp, by=world.inspector)
    client.force_login(world.inspector)
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        f"/hazards/findings/{insp.pk}/",
        {"level": "general", "category": "environment", "description": "积尘", "found_on": future},
    )
    assert response.status_code == 400
    assert not Hazard.objects.exists()
    # The service's refusal lands on its field, and what was typed is still there.
    (panel,) = [p for t, p in response.context["panels"] if "finding_form" in p]
    assert list(panel["finding_form"].errors) == ["found_on"]
    assert "积尘" in response.content.decode()
    response = client.post(
        f"/hazards/findings/{insp.pk}/",
        {
            "level": "general",
            "category": "nonsense",
            "description": "",
            "found_on": timezone.localdate().isoformat(),
            "photos": [SimpleUploadedFile("x.jpg", b"not an image")],
        },
    )
    assert response.status_code == 400
    (panel,) = [p for t, p in response.context["panels"] if "finding_form" in p]
    assert set(panel["finding_form"].errors) == {"category", "description"}
    assert not Hazard.objects.exists()


def test_evidence_from_another_enterprise_is_refused(world, client):
    hazard = Hazard.objects.create(
        enterprise=world.ent_a,
        found_on=timezone.localdate(),
        description="x",
        status="open",
        deadline=timezone.localdate(),
    )
    client.force_login(world.ent_user_b)
    response = client.post(f"/hazards/{hazard.pk}/", {"evidence": "1", "note": "假材料"})
    assert response.status_code == 404
    hazard.refresh_from_db()
    assert hazard.status == "open"


def _make_hazards(world, n, today):
    Hazard.objects.bulk_create(
        Hazard(
            ref=f"H{i}",
            enterprise=world.ent_a if i % 2 else world.ent_b,
            found_on=today - datetime.timedelta(days=30),
            description=f"隐患{i}",
            status="open",
            deadline=today - datetime.timedelta(days=1 + i % 5),
        )
        for i in range(n)
    )


@pytest.mark.parametrize(
    "url",
    ["/hazards/", "/hazards/?status=not_closed&overdue=on", "/hazards/overdue/", "/inspections/"],
)
def test_lists_issue_the_same_number_of_queries_for_few_and_many_rows(world, client, url):
    today = timezone.localdate()
    client.force_login(world.leader)
    _make_hazards(world, 3, today)
    Inspection.objects.create(ref="I-first", enterprise=world.ent_b, date=today)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    Hazard.objects.all().delete()
    _make_hazards(world, 120, today)
    Inspection.objects.bulk_create(
        Inspection(ref=f"I{i}", enterprise=world.ent_a, date=today, status="completed")
        for i in range(60)
    )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(few) == len(many)


def test_the_overdue_board_counts_by_town_and_stays_in_scope(world, client):
    today = timezone.localdate()
    _make_hazards(world, 6, today)
    client.force_login(world.leader)
    ctx = client.get("/hazards/overdue/").context
    assert dict(ctx["towns"]) == {"人民街街道": 3, "总寨镇": 3}
    client.force_login(world.town_officer)
    ctx = client.get("/hazards/overdue/").context
    assert dict(ctx["towns"]) == {"人民街街道": 3}
    client.force_login(world.ent_user_a)
    assert client.get("/hazards/overdue/").status_code == 403


def test_the_hazard_ledger_is_a_formatted_sheet(world, client):
    from openpyxl import load_workbook

    _make_hazards(world, 4, timezone.localdate())
    client.force_login(world.town_officer)
    response = client.get("/hazards/ledger.xlsx")
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb.active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 1 + 2  # header + the two hazards of town 1
    assert all(r[1] == world.ent_a.name for r in rows[1:])
