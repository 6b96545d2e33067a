"""The public tip portal: reporting without an account, following a report with its code."""

import datetime
import io
import json
import logging
import re

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext
from PIL import Image

from conftest import make_uscc
from yingji.core.models import Attachment, AuditEntry
from yingji.enterprises.models import Enterprise
from yingji.tips import crypto, forms_public, public, services
from yingji.tips.models import Channel, Tip, TipMessage

NEW, STATUS = "/public/tips/new", "/public/tips/status"
CSRF = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


@pytest.fixture(autouse=True)
def _fast_and_fresh(monkeypatch):
    """No waiting in tests; every test starts with empty counters."""
    monkeypatch.setattr(public, "LOOKUP_MIN_SECONDS", 0)
    monkeypatch.setattr(forms_public, "CHALLENGE_MIN_SECONDS", 0)
    cache.clear()
    yield
    cache.clear()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # camera make
    exif[0x8825] = {1: "N", 2: (36.0, 37.0, 0.0), 3: "E", 4: (101.0, 46.0, 0.0)}
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def report(client, **changes):
    """Show the form, answer its question as a person would, post; None removes a field."""
    form = client.get(NEW).context["form"]
    a, b = (int(n) for n in re.findall(r"\d+", str(form.question)))
    data = {
        "content": "仓库里堆放了大量易燃物，消防通道被堵死。",
        "location": "南关社区 3 号仓库",
        "enterprise": "",
        "anonymous": "on",
        "name": "",
        "contact": "",
        "answer": a + b,
        "challenge": form.initial["challenge"],
        "website": "",
    }
    data.update(changes)
    return client.post(NEW, {k: v for k, v in data.items() if v is not None})


def code_of(response) -> str:
    return response.context["code"].replace(" ", "")


def normalised(response) -> str:
    """The page without its CSRF tokens (masked afresh for every response, by design)."""
    return CSRF.sub(r"\1", response.content.decode())


def open_report(client, code):
    return client.post(STATUS, {"code": code})


def make_tip(**fields) -> tuple[Tip, str]:
    tip, code = services.submit_public_tip(content="配电箱漏电，电线裸露在积水中。", **fields)
    return tip, code


def verified(world, tip) -> Tip:
    services.assign(tip, by=world.duty, assignee=world.inspector)
    services.start_verification(tip, by=world.inspector)
    return services.record_verification(
        tip, by=world.inspector, verified=True, findings="现场属实。"
    )


# -- reporting ---------------------------------------------------------------------------------
def test_an_anonymous_report_gets_its_code_once_and_only_the_hash_is_kept(db, client, caplog):
    caplog.set_level(logging.DEBUG)
    response = report(client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    code = code_of(response)
    assert re.fullmatch(r"\d{20}", code)
    # Grouped by four for reading it out and writing it down.
    assert re.search(r"\d{4} \d{4} \d{4} \d{4} \d{4}", response.content.decode())
    tip = Tip.objects.get()
    assert tip.channel == Channel.PLATFORM
    assert tip.anonymous
    assert tip.receipt_hash == crypto.code_hash(code) != code
    assert tip.reporter_name_enc == tip.reporter_contact_enc == ""
    # The code is nowhere: not in the rows, the audit trail, the session, a later page or a log.
    row = json.dumps(list(Tip.objects.values()), default=str)
    audit = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert code not in row and code not in audit
    assert all(code not in str(v) for v in client.session.values())
    assert code not in client.get(NEW).content.decode()
    assert code not in client.get(STATUS).content.decode()
    assert code not in caplog.text


def test_a_typed_name_becomes_the_enterprise_only_when_it_is_an_active_one(world, client):
    report(client, enterprise=f" {world.ent_a.name} ")
    tip = Tip.objects.get()
    assert tip.enterprise == world.ent_a and tip.enterprise_name == ""
    world.ent_b.status = Enterprise.Status.CLOSED
    world.ent_b.save()
    report(client, enterprise=world.ent_b.name)
    report(client, enterprise="不在名录里的小作坊")
    later = Tip.objects.order_by("pk")[1:]
    assert [(t.enterprise, t.enterprise_name) for t in later] == [
        (None, world.ent_b.name),
        (None, "不在名录里的小作坊"),
    ]


def test_a_named_report_keeps_the_identity_encrypted(db, client):
    response = report(client, anonymous=None, name="王五", contact="139 0971 0000")
    assert response.status_code == 200, response.context["form"].errors
    tip = Tip.objects.get()
    assert not tip.anonymous
    assert "139" not in tip.reporter_contact_enc
    assert crypto.decrypt(tip.reporter_contact_enc) == "139 0971 0000"
    assert crypto.decrypt(tip.reporter_name_enc) == "王五"


def test_an_anonymous_report_drops_a_name_typed_before_ticking_the_box(db, client):
    report(client, name="王五", contact="wang@example.test")
    tip = Tip.objects.get()
    assert tip.reporter_name_enc == tip.reporter_contact_enc == ""


def not_a_photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 an executable", "image/jpeg")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "太危险了"}, "content"),
        ({"anonymous": None, "name": "王五", "contact": ""}, "contact"),
        ({"anonymous": None, "contact": "not a phone"}, "contact"),
        ({"answer": 99}, "answer"),
        ({"answer": ""}, "answer"),
        ({"challenge": "forged"}, "answer"),
        ({"website": "http://spam.example"}, "website"),
    ],
    ids=[
        "empty",
        "too-short",
        "no-contact",
        "bad-contact",
        "wrong-answer",
        "no-answer",
        "forged-token",
        "honeypot",
    ],
)
def test_bad_input_gives_a_field_error_and_writes_nothing(db, client, changes, field):
    response = report(client, **changes)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'data-field="{field}"' in response.content.decode()
    assert not Tip.objects.exists()
    assert not AuditEntry.objects.filter(target_type__icontains="tip").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"MZ\x90\x00 an executable"),
        ("page.html", b"<html><script>alert(1)</script>"),
        # JPEG magic bytes, then nothing: it passes the type check and fails when re-encoded.
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
    ],
    ids=["executable", "html", "broken-jpeg"],
)
def test_a_file_that_is_not_a_photo_or_pdf_is_refused(db, client, name, content):
    response = report(client, photos=SimpleUploadedFile(name, content, "image/jpeg"))
    assert response.status_code == 200
    assert "photos" in response.context["form"].errors
    assert not Tip.objects.exists()
    assert not Attachment.objects.exists()


def test_an_unreadable_second_photo_leaves_no_file_behind(db, client, settings):
    good = SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg")
    broken = SimpleUploadedFile("b.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg")
    response = report(client, photos=[good, broken])
    assert "photos" in response.context["form"].errors
    assert not Tip.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_the_form_comes_back_with_a_new_question_and_the_text_kept(db, client):
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg")
    response = report(client, answer=99, photos=photo)
    form = response.context["form"]
    html = response.content.decode()
    assert "仓库里堆放了大量易燃物" in html
    assert form.data["challenge"] != client.get(NEW).context["form"].initial["challenge"]
    assert form.data["answer"] == ""
    assert "photos" in form.errors  # asked to choose the photos again
    assert not Attachment.objects.exists()


def test_a_solved_question_cannot_be_replayed(db, client):
    form = client.get(NEW).context["form"]
    a, b = (int(n) for n in re.findall(r"\d+", str(form.question)))
    data = {
        "content": "仓库里堆放了大量易燃物，消防通道被堵死。",
        "anonymous": "on",
        "answer": a + b,
        "challenge": form.initial["challenge"],
    }
    assert client.post(NEW, data).context["code"]
    again = client.post(NEW, data)
    assert "answer" in again.context["form"].errors
    assert Tip.objects.count() == 1


def test_a_question_expires_and_cannot_be_answered_at_once(db, client, monkeypatch):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        form = client.get(NEW).context["form"]
        traveller.shift(datetime.timedelta(seconds=forms_public.CHALLENGE_MAX_AGE + 5))
        a, b = (int(n) for n in re.findall(r"\d+", str(form.question)))
        data = {
            "content": "仓库里堆放了大量易燃物，消防通道被堵死。",
            "anonymous": "on",
            "answer": a + b,
            "challenge": form.initial["challenge"],
        }
        assert "answer" in client.post(NEW, data).context["form"].errors
    monkeypatch.setattr(forms_public, "CHALLENGE_MIN_SECONDS", 3)
    assert "answer" in report(client).context["form"].errors  # posted within a second
    assert not Tip.objects.exists()


def test_photos_are_stored_without_exif(db, client):
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg")
    response = report(client, photos=photo)
    assert response.status_code == 200, response.context["form"].errors
    att = Attachment.objects.get()
    assert att.owner_id == str(Tip.objects.get().pk)
    with att.file.open("rb") as f:
        stored = f.read()
    assert b"SpyCam" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert dict(img.getexif()) == {}
        assert img.getexif().get_ifd(0x8825) == {}


def test_a_pdf_is_kept_as_sent(db, client):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    report(client, photos=SimpleUploadedFile("整改通知.pdf", pdf, "application/pdf"))
    att = Attachment.objects.get()
    assert att.content_type == "application/pdf"
    with att.file.open("rb") as f:
        assert f.read() == pdf


def test_the_sixth_report_within_the_hour_is_refused(db, client):
    for _ in range(public.SUBMIT_LIMIT):
        assert report(client).status_code == 200
    response = report(client)
    assert response.status_code == 429
    assert response.context["form"].non_field_errors()
    assert Tip.objects.count() == public.SUBMIT_LIMIT


def test_the_limit_is_per_address(db, client):
    for _ in range(public.SUBMIT_LIMIT):
        report(client)
    form = client.get(NEW).context["form"]
    a, b = (int(n) for n in re.findall(r"\d+", str(form.question)))
    data = {
        "content": "仓库里堆放了大量易燃物，消防通道被堵死。",
        "anonymous": "on",
        "answer": a + b,
        "challenge": form.initial["challenge"],
    }
    assert client.post(NEW, data, REMOTE_ADDR="10.0.0.9").status_code == 200
    assert Tip.objects.count() == public.SUBMIT_LIMIT + 1


# -- the enterprise search ---------------------------------------------------------------------
def test_the_search_gives_at_most_ten_active_names_and_nothing_else(world, client):
    for n in range(12):
        Enterprise.objects.create(
            ref=f"E-S{n}",
            name=f"青海测试{n:02d}有限公司",
            uscc=make_uscc(100 + n),
            sector="industrial_trade",
            region=world.village1,
            contact_phone="0971-1234567",
        )
    world.ent_a.status = Enterprise.Status.CLOSED
    world.ent_a.save()
    html = client.get("/public/tips/enterprises", {"q": "青海"}).content.decode()
    names = re.findall(r'<option value="([^"]*)">', html)
    assert len(names) == 10
    assert world.ent_a.name not in names
    assert "0971" not in html and make_uscc(100) not in html
    assert (
        client.get("/public/tips/enterprises", {"q": "乙化工"}).content.decode().count("<option")
        == 1
    )
    # One character lists nothing (no walking the registry character by character).
    assert "<option" not in client.get("/public/tips/enterprises", {"q": "青"}).content.decode()


def test_the_search_is_rate_limited(db, client, monkeypatch):
    monkeypatch.setattr(public, "SEARCH_LIMIT", 3)
    codes = [client.get("/public/tips/enterprises", {"q": "青海"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# -- following a report ------------------------------------------------------------------------
def test_the_right_code_shows_the_status_and_nothing_else(world, client):
    tip, code = make_tip(enterprise=world.ent_b, location="总寨镇")
    services.assign(tip, by=world.duty, assignee=world.inspector)
    grouped = " ".join(code[i : i + 4] for i in range(0, 20, 4))
    response = open_report(client, grouped)
    assert response.status_code == 302 and response["Location"] == STATUS
    page = client.get(STATUS)
    html = page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert 'data-status="assigned"' in html
    assert str(public.PUBLIC_STATUS[Tip.Status.ASSIGNED]) in html
    assert tip.received_on.isoformat() in html
    for secret in (code, world.inspector.username, str(world.inspector), world.ent_b.name):
        assert secret not in html
    assert "配电箱漏电" not in html  # not even the report's own text
    assert str(tip.pk) not in re.findall(r'action="([^"]+)"', html)


def test_any_wrong_code_gets_the_same_page(world, client):
    make_tip()
    pages = [
        open_report(client, code)
        for code in ("0" * 20, "1234", "abcd-efgh", "", "9" * 64, "12345678901234567890")
    ]
    assert {p.status_code for p in pages} == {200}
    assert len({normalised(p) for p in pages}) == 1
    assert pages[0].context["refused"]


def test_every_lookup_hashes_and_waits_the_same(world, client, monkeypatch):
    tip, code = make_tip()
    hashed, slept = [], []
    real_hash = crypto.code_hash
    monkeypatch.setattr(public.crypto, "code_hash", lambda c: hashed.append(c) or real_hash(c))
    monkeypatch.setattr(public.time, "sleep", slept.append)
    monkeypatch.setattr(public, "LOOKUP_MIN_SECONDS", 0.5)
    for attempt in ("1", "0" * 20, code):
        open_report(client, attempt)
    assert len(hashed) == 3
    assert len(slept) == 3 and all(0.3 < s <= 0.5 for s in slept)


def test_past_the_limit_even_the_right_code_is_refused_the_same_way(world, client):
    tip, code = make_tip()
    wrong = None
    for n in range(public.LOOKUP_LIMIT):
        wrong = open_report(client, f"{n:020d}")
    refused = open_report(client, code)
    assert refused.status_code == wrong.status_code == 200
    assert normalised(refused) == normalised(wrong)
    assert public.SESSION_KEY not in client.session
    # Another address still gets in with the code.
    response = client.post(STATUS, {"code": code}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302


def test_leaving_the_report_forgets_it_on_this_device(world, client):
    tip, code = make_tip()
    open_report(client, code)
    assert "data-status" in client.get(STATUS).content.decode()
    client.post("/public/tips/status/leave")
    assert client.get(STATUS).context["form"]
    assert "data-status" not in client.get(STATUS).content.decode()


def test_the_report_closes_itself_after_a_while(world, client):
    tip, code = make_tip()
    open_report(client, code)
    later = timezone.now() + datetime.timedelta(seconds=public.SESSION_MAX_AGE + 60)
    with time_machine.travel(later):
        assert "data-status" not in client.get(STATUS).content.decode()


def test_a_closed_report_shows_the_answer(world, client):
    tip, code = make_tip()
    services.ask_reporter(tip, by=world.inspector, question="具体在哪个车间？")
    services.transfer(tip, by=world.inspector, to="区住建局", answer="已转区住建局办理。")
    tip.refresh_from_db()
    open_report(client, code)
    html = client.get(STATUS).content.decode()
    assert "已转区住建局办理" not in html and 'id="answer-form"' in html  # not closed yet
    services.close_tip(tip, by=world.inspector)
    html = client.get(STATUS).content.decode()
    assert 'data-status="closed"' in html and "已转区住建局办理" in html
    assert 'id="answer-form"' not in html
    response = client.post("/public/tips/status/answer", {"text": "还有一处。"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [gettext("This tip is closed.")]
    assert not TipMessage.objects.filter(kind=TipMessage.Kind.ANSWER).exists()


# -- questions and answers ---------------------------------------------------------------------
def test_the_reporter_answers_a_question_with_text_and_a_photo(world, client):
    tip, code = make_tip()
    html_before = (open_report(client, code), client.get(STATUS).content.decode())[1]
    assert 'id="answer-form"' not in html_before  # nothing asked yet
    services.ask_reporter(tip, by=world.inspector, question="具体在哪个车间？")
    html = client.get(STATUS).content.decode()
    assert "具体在哪个车间" in html and 'id="answer-form"' in html
    photo = SimpleUploadedFile("IMG_0002.jpg", jpeg_with_gps(), "image/jpeg")
    response = client.post("/public/tips/status/answer", {"text": "二号车间东侧。", "files": photo})
    assert response.status_code == 302
    msg = TipMessage.objects.get(kind=TipMessage.Kind.ANSWER)
    assert msg.tip == tip and msg.text == "二号车间东侧。" and msg.by is None
    att = Attachment.objects.get()
    assert att.owner_type.model_class() is TipMessage and att.owner_id == str(msg.pk)
    with att.file.open("rb") as f:
        assert b"SpyCam" not in f.read()
    assert "二号车间东侧" in client.get(STATUS).content.decode()


def test_an_empty_or_bad_answer_is_refused(world, client):
    tip, code = make_tip()
    services.ask_reporter(tip, by=world.inspector, question="具体在哪个车间？")
    open_report(client, code)
    empty = client.post("/public/tips/status/answer", {"text": "  "})
    assert "text" in empty.context["answer_form"].errors
    bad = client.post("/public/tips/status/answer", {"text": "见附件", "files": not_a_photo()})
    assert "files" in bad.context["answer_form"].errors
    assert not TipMessage.objects.filter(kind=TipMessage.Kind.ANSWER).exists()
    assert not Attachment.objects.exists()


def test_follow_ups_need_the_code_first(world, client):
    tip, code = make_tip()
    services.ask_reporter(tip, by=world.inspector, question="具体在哪个车间？")
    for action in ("answer", "claim", "waive"):
        response = client.post(f"/public/tips/status/{action}", {"text": "x", "confirm": "yes"})
        assert response.status_code == 302 and response["Location"] == STATUS
    assert not TipMessage.objects.filter(kind=TipMessage.Kind.ANSWER).exists()
    assert client.get("/public/tips/status/claim").status_code == 405


# -- rewards -----------------------------------------------------------------------------------
def _buttons(client) -> tuple[bool, bool]:
    html = client.get(STATUS).content.decode()
    return 'id="claim"' in html, 'id="waive"' in html


def test_no_reward_buttons_before_the_tip_is_verified(world, client):
    tip, code = make_tip()
    open_report(client, code)
    assert _buttons(client) == (False, False)
    client.post("/public/tips/status/claim")
    client.post("/public/tips/status/waive", {"confirm": "yes"})
    tip.refresh_from_db()
    assert tip.reward_status == "" and tip.reward_claimed_at is None


def test_a_verified_tip_can_waive_its_reward_after_confirming(world, client):
    tip, code = make_tip()
    verified(world, tip)
    open_report(client, code)
    assert _buttons(client) == (False, True)
    client.post("/public/tips/status/claim")
    client.post("/public/tips/status/waive")  # the box was not ticked
    tip.refresh_from_db()
    assert tip.reward_status == "" and tip.reward_claimed_at is None
    client.post("/public/tips/status/waive", {"confirm": "yes"})
    tip.refresh_from_db()
    assert tip.reward_status == Tip.Reward.WAIVED
    assert _buttons(client) == (False, False)


def test_an_approved_reward_can_be_claimed_once_paid_neither(world, client):
    tip, code = make_tip()
    verified(world, tip)
    services.propose_reward(tip, by=world.inspector, amount="500")
    open_report(client, code)
    assert _buttons(client) == (False, True)
    services.approve_reward(tip, by=world.leader)
    assert _buttons(client) == (True, True)
    assert "500" in client.get(STATUS).content.decode()
    client.post("/public/tips/status/claim")
    tip.refresh_from_db()
    assert tip.reward_claimed_at is not None
    # Once claimed, the reward is neither claimed again nor declined.
    assert _buttons(client) == (False, False)
    services.record_reward_payment(
        tip, by=world.inspector, paid_on=timezone.localdate(), method="银行转账"
    )
    assert _buttons(client) == (False, False)
    client.post("/public/tips/status/waive", {"confirm": "yes"})
    tip.refresh_from_db()
    assert tip.reward_status == Tip.Reward.PAID
