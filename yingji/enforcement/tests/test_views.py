"""Enforcement through the pages: from a hazard to a decided penalty and a sent referral."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yingji.enforcement.models import Case, Penalty, Referral
from yingji.hazards.models import Hazard

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture
def hazard(world):
    return Hazard.objects.create(
        enterprise=world.ent_a,
        found_on=timezone.localdate(),
        description="动火作业未办理审批",
        status="open",
        deadline=timezone.localdate(),
    )


def act(client, case, action, target="", **data):
    return client.post(f"/enforcement/{case.pk}/", {"action": action, "target": target, **data})


def test_from_hazard_to_penalty_and_referral(world, hazard, client):
    today = timezone.localdate().isoformat()
    client.force_login(world.inspector)
    page = client.get(f"/hazards/{hazard.pk}/").content.decode()
    assert f"/enforcement/new/?hazard={hazard.pk}" in page
    response = client.post(
        "/enforcement/new/",
        {
            "hazard": hazard.pk,
            "enterprise": world.ent_a.uscc,
            "title": "未办理动火审批",
            "opened_on": today,
        },
    )
    case = Case.objects.get()
    assert response["Location"] == f"/enforcement/{case.pk}/"
    assert (case.hazard, case.source) == (hazard, "hazard")
    act(
        client,
        case,
        "penalty",
        legal_basis="《安全生产法》第一百零一条",
        facts="未履行动火审批",
        amount="9275.50",
    )
    penalty = Penalty.objects.get()
    act(client, case, "notice", penalty.pk, date=today)
    # Deciding on the day of the notice needs the party's statement first.
    act(client, case, "statement", penalty.pk, statement="对事实无异议")
    # The inspector cannot approve; the decision waits for a leader.
    assert act(client, case, "approve_penalty", penalty.pk).status_code == 403
    penalty.refresh_from_db()
    assert penalty.approved_at is None
    client.force_login(world.leader)
    act(client, case, "approve_penalty", penalty.pk)
    client.force_login(world.inspector)
    act(client, case, "decide", penalty.pk, date=today)
    act(client, case, "payment", penalty.pk, date=today)
    penalty.refresh_from_db()
    assert penalty.status == "paid" and penalty.decision_no.startswith("城应急罚决〔")
    for url in (
        f"/enforcement/penalties/{penalty.pk}/notice.docx",
        f"/enforcement/penalties/{penalty.pk}/decision.docx",
    ):
        assert client.get(url).status_code == 200
    # A referral with a document, approved, sent, packaged.
    act(client, case, "referral", authority="西宁市应急管理局", reason="依法移送")
    referral = Referral.objects.get()
    client.post(
        f"/enforcement/{case.pk}/",
        {
            "action": "documents",
            "target": referral.pk,
            "files": [SimpleUploadedFile("现场照片.pdf", PDF)],
        },
    )
    client.force_login(world.leader)
    act(client, case, "approve_referral", referral.pk)
    act(client, case, "send", referral.pk, date=today)
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.number.startswith("城应急移〔")
    package = client.get(f"/enforcement/referrals/{referral.pk}/package.zip")
    assert package.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    assert any(n.endswith(".docx") for n in names) and any("index" in n for n in names)
    # Closing waits for the referral's result.
    act(client, case, "close", note="已处罚并移送", closed_on=today)
    case.refresh_from_db()
    assert case.status == "open"
    act(client, case, "result", referral.pk, result="已立案", result_on=today)
    act(client, case, "close", note="已处罚并移送", closed_on=today)
    case.refresh_from_db()
    assert case.status == "closed"


def test_bad_penalty_input_is_refused_field_by_field(world, hazard, client):
    client.force_login(world.inspector)
    case = Case.objects.create(
        enterprise=world.ent_a, title="x", opened_on=hazard.found_on, hazard=hazard, source="hazard"
    )
    response = act(client, case, "penalty", legal_basis="", facts="事实", amount="-5")
    assert response.status_code == 200
    errors = response.context["new_forms"]["penalty"].errors
    assert set(errors) == {"legal_basis", "amount"}
    response = act(client, case, "penalty", legal_basis="依据", facts="事实", amount="12.345")
    assert "amount" in response.context["new_forms"]["penalty"].errors
    assert not Penalty.objects.exists()


def test_scopes_of_the_case_pages(world, hazard, client):
    case = Case.objects.create(enterprise=world.ent_a, title="x", opened_on=hazard.found_on)
    expected = {
        "leader": 200,
        "inspector": 200,
        "duty": 200,
        "legal": 200,
        "admin": 200,
        "town": 200,
        "ent_a": 200,
        "village": 404,
        "ent_b": 404,
        "expert": 403,
    }
    for role, status in expected.items():
        client.force_login(world.users[role])
        assert client.get(f"/enforcement/{case.pk}/").status_code == status, role
        assert client.get("/enforcement/").status_code == (403 if role == "expert" else 200)
    # Only actors act: a duty officer who can read the case cannot add to it.
    client.force_login(world.duty)
    assert (
        act(
            client,
            case,
            "interview",
            held_on=hazard.found_on.isoformat(),
            attendees="a",
            topics="b",
        ).status_code
        == 403
    )
