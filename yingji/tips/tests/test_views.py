"""Tips through the staff pages: intake, triage, verification, reward, answer."""

import pytest
from django.utils import timezone

from yingji.core.models import AuditEntry
from yingji.tips import services
from yingji.tips.models import Tip


def act(client, tip, action, **data):
    return client.post(f"/tips/{tip.pk}/", {"action": action, **data})


def test_a_phone_tip_from_intake_to_paid_reward_and_answer(world, client):
    today = timezone.localdate().isoformat()
    client.force_login(world.duty)
    response = client.post(
        "/tips/new/",
        {
            "channel": "phone",
            "received_on": today,
            "content": "某加油站夜间违规卸油",
            "enterprise_name": world.ent_a.name,
            "name": "张三",
            "contact": "13900001111",
        },
    )
    tip = Tip.objects.get()
    code = response.context["code"]
    assert len(code) >= 16 and code not in str(tip.__dict__)
    assert tip.enterprise == world.ent_a and not tip.anonymous
    assert "张三" not in tip.reporter_name_enc and "13900001111" not in tip.reporter_contact_enc
    act(client, tip, "assign", assignee=world.inspector.pk)
    client.force_login(world.inspector)
    page = client.get(f"/tips/{tip.pk}/").content.decode()
    assert "张三" not in page and "13900001111" not in page  # handlers work without it
    assert act(client, tip, "identity").status_code == 403
    act(client, tip, "start")
    act(client, tip, "question", question="请问具体时间？")
    services.reporter_answers(Tip.objects.get(), text="晚上十点左右")
    act(client, tip, "verification", verified="1", findings="现场核实属实")
    act(client, tip, "propose", amount="")
    tip.refresh_from_db()
    assert (tip.status, tip.reward_status) == ("verified", "proposed")
    client.force_login(world.leader)
    response = act(client, tip, "identity")
    assert "张三" in response.content.decode()
    assert AuditEntry.objects.filter(action="view", target_id=str(tip.pk)).count() == 1
    act(client, tip, "approve")
    client.force_login(world.inspector)
    act(client, tip, "payment", paid_on=today, method="银行转账")
    response = act(client, tip, "close", answer="", closed_on=today)
    assert response.status_code == 200  # no answer yet: refused, field error shown
    assert "answer" in response.context["forms"]["close"].errors
    act(client, tip, "close", answer="经查属实，已依法处理，感谢您的举报。", closed_on=today)
    tip.refresh_from_db()
    assert (tip.status, tip.reward_status) == ("closed", "paid")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("leader", 200),
        ("inspector", 200),
        ("duty", 200),
        ("legal", 200),
        ("admin", 200),
        ("town", 200),
        ("village", 404),
        ("ent_a", 403),
        ("ent_b", 403),
        ("expert", 403),
    ],
)
def test_tip_pages_follow_the_roles(world, client, role, status):
    tip, _code = services.record_tip(
        by=world.duty, channel="letter", content="来信举报", enterprise=world.ent_a
    )
    client.force_login(world.users[role])
    assert client.get(f"/tips/{tip.pk}/").status_code == status
    expected_list = 403 if role in ("ent_a", "ent_b", "expert") else 200
    assert client.get("/tips/").status_code == expected_list
    assert client.get("/tips/ledger.xlsx").status_code == expected_list
    intake = 200 if role in ("leader", "inspector", "duty", "admin") else 403
    assert client.get("/tips/new/").status_code == intake


def test_the_audit_log_holds_no_identity_ciphertext_or_code_hash(world, client):
    tip, _code = services.record_tip(
        by=world.duty,
        channel="phone",
        content="电话举报",
        anonymous=False,
        name="李四",
        contact="13800000000",
    )
    services.assign(tip, by=world.duty, assignee=world.inspector)
    entries = AuditEntry.objects.filter(target_type="tips.tip", target_id=str(tip.pk))
    assert entries.count() == 2
    for entry in entries:
        for side in (entry.before or {}, entry.after or {}):
            assert not {"reporter_name_enc", "reporter_contact_enc", "receipt_hash"} & set(side)
