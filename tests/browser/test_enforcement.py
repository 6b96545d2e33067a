"""From a hazard to a closed enforcement case, in real browsers (inspector and leader, desktop):

a major hazard found at enterprise A (set up through the services: inspection, finding,
rectification order) → the inspector opens an enforcement case from the hazard's page →
administrative penalty: draft → notice served → the party's statement → the leader's approval
→ decision (its .docx downloads) → payment; then a referral to the city bureau (案件移送):
draft → a PDF attached → the leader's approval → numbered and sent (its .docx and the case-file
.zip download; the zip holds index.json listing the PDF) → result → the case is closed.

Elements are found by id, name, href and data-status / data-action; no assertion depends on
the wording of the translation catalogue."""

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import open_action, sign_in, submit, success_message

pytestmark = pytest.mark.browser

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HAZARD = "粉碎车间未设置泄爆装置，除尘系统与其他车间共用，存在粉尘爆炸重大隐患"
BASIS = "《中华人民共和国安全生产法》第一百零二条"
FACTS = "经查，该公司粉碎车间存在重大事故隐患，未采取措施消除。"
AMOUNT = "9275.50"
STATEMENT = "企业负责人表示无异议，放弃陈述申辩。"
CITY = "西宁市应急管理局"
REASON = "该案涉及重大事故隐患，依据《安全生产违法行为行政处罚办法》移送市局处理。"
RESULT = "市局已立案查处，责令停产停业整顿。"
CLOSING = "罚款已缴纳，案件已移送市局并收到处理结果，结案。"
PDF = b"%PDF-1.4\n%%EOF\n"


def act_status(card):
    return card.locator(".tag[data-status]").first


def test_hazard_to_penalty_referral_and_closed_case(bworld, open_page, tmp_path):
    from yingji.enforcement.models import Case, Penalty, Referral
    from yingji.hazards.services import issue_order, report_hazard
    from yingji.inspections.services import (
        complete_inspection,
        schedule_inspection,
        start_inspection,
    )

    ent = bworld.ent_a
    today = timezone.localdate()
    insp = schedule_inspection(
        by=bworld.leader, enterprise=ent, date=today, inspectors=[bworld.inspector]
    )
    start_inspection(insp, by=bworld.inspector)
    hazard = report_hazard(
        by=bworld.inspector,
        enterprise=ent,
        inspection=insp,
        found_on=today,
        description=HAZARD,
        level="major",
        legal_basis="《工贸企业粉尘防爆安全规定》第十六条",
    )
    complete_inspection(insp, by=bworld.inspector)
    issue_order([hazard], by=bworld.inspector, deadline=today + datetime.timedelta(days=15))
    hazard_url = reverse("hazards-detail", args=[hazard.pk])
    pdf = tmp_path / "询问笔录.pdf"
    pdf.write_bytes(PDF)

    # -- the inspector opens a case from the hazard ---------------------------------------------
    inspector = sign_in(open_page("inspector"), "inspector")
    inspector.goto(inspector.url_for(hazard_url))
    expect(inspector.locator("#hazard-status")).to_have_attribute("data-status", "open")
    new_case_url = f"{reverse('enforcement-new')}?hazard={hazard.pk}"
    with inspector.expect_navigation():
        inspector.locator(f"main a[href='{new_case_url}']").click()
    expect(inspector).to_have_url(inspector.url_for(new_case_url))
    form = inspector.locator("main form:has(input[name=hazard])")
    expect(form.locator("input[name=hazard]")).to_have_value(str(hazard.pk))
    # Filled in from the hazard: its enterprise, its description, today.
    expect(form.locator("input[name=enterprise]")).to_have_value(ent.uscc)
    expect(form.locator("input[name=title]")).to_have_value(HAZARD[:80])
    expect(form.locator("input[name=opened_on]")).to_have_value(today.isoformat())
    form.locator("input[name=title]").fill(f"{ent.name}粉尘爆炸重大事故隐患案")
    inspector.shot("case-new")
    submit(inspector, form.locator("button[type=submit]"))
    success_message(inspector)
    case = Case.objects.get()
    assert case.hazard == hazard and case.enterprise == ent and case.source == "hazard"
    case_url = case.get_absolute_url()
    expect(inspector).to_have_url(inspector.url_for(case_url))
    expect(inspector.locator("#case-status")).to_have_attribute("data-status", "open")
    expect(inspector.locator(f"main a[href='{hazard_url}']")).to_have_count(1)

    # -- penalty: draft, notice, statement ------------------------------------------------------
    draft = open_action(inspector, "penalty")
    draft.locator("input[name=legal_basis]").fill(BASIS)
    draft.locator("textarea[name=facts]").fill(FACTS)
    draft.locator("input[name=amount]").fill(AMOUNT)
    inspector.shot("penalty-draft")
    submit(inspector, draft.locator("button[data-action=penalty]"))
    success_message(inspector)
    penalty = Penalty.objects.get(case=case)
    assert str(penalty.amount) == AMOUNT
    card = inspector.locator(f"#penalty-{penalty.pk}")
    expect(act_status(card)).to_have_attribute("data-status", "draft")
    expect(card).to_contain_text(AMOUNT)

    notice = open_action(card, "notice")
    expect(notice.locator("input[name=date]")).to_have_value(today.isoformat())
    submit(inspector, notice.locator("button[data-action=notice]"))
    success_message(inspector)
    expect(act_status(card)).to_have_attribute("data-status", "notified")
    penalty.refresh_from_db()
    notice_docx = reverse("enforcement-penalty-notice", args=[penalty.pk])
    expect(card.locator(f"a[href='{notice_docx}']")).to_have_text(penalty.notice_no)

    statement = open_action(card, "statement")
    statement.locator("textarea[name=statement]").fill(STATEMENT)
    submit(inspector, statement.locator("button[data-action=statement]"))
    success_message(inspector)
    expect(card).to_contain_text(STATEMENT)
    # Only a leader approves; until then the inspector cannot decide.
    expect(card.locator("button[data-action=approve_penalty]")).to_have_count(0)
    expect(card.locator("button[data-action=decide]")).to_have_count(0)
    inspector.shot("penalty-notified")

    # -- the leader approves the penalty ------------------------------------------------------
    leader = sign_in(open_page("leader"), "leader")
    leader.goto(leader.url_for(case_url))
    leader_card = leader.locator(f"#penalty-{penalty.pk}")
    expect(act_status(leader_card)).to_have_attribute("data-status", "notified")
    submit(leader, leader_card.locator("button[data-action=approve_penalty]"))
    success_message(leader)
    expect(leader_card.locator("button[data-action=approve_penalty]")).to_have_count(0)
    expect(leader_card.locator("button[data-action=decide]")).to_be_visible()
    leader.shot("penalty-approved")
    penalty.refresh_from_db()
    assert penalty.approved_by == bworld.leader

    # -- the inspector decides (the statement is on file: the same day is fine) and records
    #    the payment ----------------------------------------------------------------------------
    inspector.reload()
    decide = open_action(card, "decide")
    expect(decide.locator("input[name=date]")).to_have_value(today.isoformat())
    submit(inspector, decide.locator("button[data-action=decide]"))
    success_message(inspector)
    expect(act_status(card)).to_have_attribute("data-status", "decided")
    penalty.refresh_from_db()
    assert penalty.decision_no and penalty.decided_on == today
    decision_docx = reverse("enforcement-penalty-decision", args=[penalty.pk])
    link = card.locator(f"a[href='{decision_docx}']")
    expect(link).to_have_text(penalty.decision_no)
    response = inspector.request.get(inspector.url_for(link.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"] == DOCX
    assert response.body()[:2] == b"PK"  # a .docx is a zip
    inspector.shot("penalty-decided")

    payment = open_action(card, "payment")
    submit(inspector, payment.locator("button[data-action=payment]"))
    success_message(inspector)
    expect(act_status(card)).to_have_attribute("data-status", "paid")
    expect(card.locator("form")).to_have_count(0)  # nothing left to do on the penalty
    penalty.refresh_from_db()
    assert penalty.status == Penalty.Status.PAID and penalty.paid_on == today

    # -- referral to the city bureau: draft, document -------------------------------------------
    draft = open_action(inspector, "referral")
    draft.locator("input[name=authority]").fill(CITY)
    draft.locator("textarea[name=reason]").fill(REASON)
    submit(inspector, draft.locator("button[data-action=referral]"))
    success_message(inspector)
    referral = Referral.objects.get(case=case)
    assert referral.authority == CITY
    ref_card = inspector.locator(f"#referral-{referral.pk}")
    expect(act_status(ref_card)).to_have_attribute("data-status", "draft")
    expect(ref_card).to_contain_text(CITY)

    documents = open_action(ref_card, "documents")
    documents.locator("input[name=files]").set_input_files(str(pdf))
    inspector.shot("referral-documents")
    submit(inspector, documents.locator("button[data-action=documents]"))
    success_message(inspector)
    expect(ref_card.locator("a[href^='/files/']")).to_have_text([pdf.name])
    expect(ref_card.locator("button[data-action=send]")).to_have_count(0)  # not yet approved

    # -- the leader approves the referral -----------------------------------------------------
    leader.reload()
    leader_ref = leader.locator(f"#referral-{referral.pk}")
    expect(act_status(leader_ref)).to_have_attribute("data-status", "draft")
    submit(leader, leader_ref.locator("button[data-action=approve_referral]"))
    success_message(leader)
    expect(leader_ref.locator("button[data-action=approve_referral]")).to_have_count(0)
    leader.shot("referral-approved")

    # -- the inspector numbers and sends it; the letter and the case file download -------------
    inspector.reload()
    send = open_action(ref_card, "send")
    expect(send.locator("input[name=date]")).to_have_value(today.isoformat())
    submit(inspector, send.locator("button[data-action=send]"))
    success_message(inspector)
    expect(act_status(ref_card)).to_have_attribute("data-status", "sent")
    referral.refresh_from_db()
    assert referral.number and referral.sent_on == today
    letter = ref_card.locator(f"a[href='{reverse('enforcement-referral', args=[referral.pk])}']")
    expect(letter).to_have_text(referral.number)
    response = inspector.request.get(inspector.url_for(letter.get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == DOCX

    package_url = reverse("enforcement-referral-package", args=[referral.pk])
    package = ref_card.locator(f"a[href='{package_url}']")
    expect(package).to_have_count(1)
    response = inspector.request.get(inspector.url_for(package.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"] == "application/zip"
    assert ".zip" in response.headers.get("content-disposition", "")
    with zipfile.ZipFile(io.BytesIO(response.body())) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert "index.json" in names, names
        index = json.loads(archive.read("index.json"))
        pdfs = [n for n in names if n.endswith(".pdf")]
        assert len(pdfs) == 1, names  # the referral's document, as uploaded
        assert archive.read(pdfs[0]) == PDF
    # The index lists every other member, with its checksum; the PDF under its own name.
    files = {f["name"]: f for f in index["files"]}
    assert set(files) == set(names) - {"index.json", "目录.txt"}
    assert files[pdfs[0]]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert files[pdfs[0]].get("original_name") == pdf.name
    listed = json.dumps(index, ensure_ascii=False)
    assert referral.number in listed and penalty.decision_no in listed
    inspector.shot("referral-sent")

    # -- the result comes back; the case is closed ---------------------------------------------
    result = open_action(ref_card, "result")
    result.locator("textarea[name=result]").fill(RESULT)
    submit(inspector, result.locator("button[data-action=result]"))
    success_message(inspector)
    expect(act_status(ref_card)).to_have_attribute("data-status", "result")
    expect(ref_card).to_contain_text(RESULT)

    close = open_action(inspector, "close")
    close.locator("textarea[name=note]").fill(CLOSING)
    expect(close.locator("input[name=closed_on]")).to_have_value(today.isoformat())
    submit(inspector, close.locator("button[data-action=close]"))
    success_message(inspector)
    expect(inspector.locator("#case-status")).to_have_attribute("data-status", "closed")
    expect(inspector.locator("main")).to_contain_text(CLOSING)
    expect(inspector.locator("main form:has(input[name=action])")).to_have_count(0)
    inspector.shot("case-closed")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closed_on == today

    # The hazard's page lists the case.
    inspector.goto(inspector.url_for(hazard_url))
    expect(inspector.locator(f"main a[href='{case_url}']")).to_have_count(1)
