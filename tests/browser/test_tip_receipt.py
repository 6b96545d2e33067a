"""A public tip (举报) end to end, followed by the reporter with nothing but the receipt code.

An anonymous visitor on a phone (390×844, touch) reports a danger at enterprise A through
/public/tips/new (arithmetic check question, honeypot left empty, a photo) and gets a
receipt code; the duty officer assigns the tip to the inspector; the inspector starts
verifying and asks the reporter a question; the reporter opens the status page with the code
and answers; the inspector records the tip as verified true and proposes a reward; the leader
approves it; the reporter claims it; the inspector records the payment and closes the tip with
the answer; the reporter, with the code again, reads the answer and sees the reward paid.

Throughout: the staff pages never show who reported (anonymous), and the public pages never
show who handled it. Elements are found by name, id and data-* attributes; the few texts
checked are the test's own inputs, so nothing depends on the translation catalogue."""

import re
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import jpeg, open_action, sign_in, submit, success_message

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CHALLENGE_WAIT_S = 3.5  # the form refuses answers sent sooner than 3 s after it was shown
CONTENT = "车间二楼除尘器旁堆放大量铝粉，夜班工人在附近吸烟，消防通道被货物堵死。"
LOCATION = "城中区南关街88号二号车间"
QUESTION = "请问堆放铝粉的具体位置在车间哪一侧？大约有多少袋？"
ANSWER = "在车间东侧靠窗位置，大约二十袋，用编织袋装着。"
FINDINGS = "经现场核查，二号车间东侧确有铝粉堆放，消防通道堵塞，举报属实。"
CLOSING = "经核查，您反映的问题属实，已责令企业立即整改并依法处理。感谢您的举报。"
ANONYMOUS = re.compile(r"匿名|anonymous", re.IGNORECASE)


def answer_challenge(page) -> None:
    """Read "What is a plus b?" off the page and type the sum."""
    question = page.locator("#row-answer label").inner_text()
    numbers = [int(n) for n in re.findall(r"\d+", question)]
    assert len(numbers) == 2, f"cannot read the check question: {question!r}"
    page.locator("input[name=answer]").fill(str(sum(numbers)))


def assert_reporter_hidden(page) -> None:
    """A staff page of this anonymous tip: the reporter shows as anonymous, nothing to reveal."""
    expect(page.locator("#reporter")).to_have_text(ANONYMOUS)
    expect(page.locator("button[name=action][value=identity]")).to_have_count(0)


def assert_no_handler(page, *names: str) -> None:
    """The public page names no one at the bureau."""
    text = page.locator("main").inner_text()
    for name in names:
        assert name not in text, f"the public status page shows {name!r}"


def look_up(page, code: str) -> None:
    """The reporter types the receipt code on the status page (as it was shown: in groups)."""
    page.goto(page.url_for(reverse("public-tip-status")))
    box = page.locator("main input[name=code]")
    expect(box).to_be_visible()
    box.fill(code)
    with page.expect_navigation():
        page.locator("main form:has(input[name=code]) button[type=submit]").tap()
    expect(page.locator("#refused")).to_have_count(0)
    expect(page).to_have_url(page.url_for(reverse("public-tip-status")))  # no code in the URL
    expect(page.locator("#tip-status")).to_be_visible()


def test_anonymous_tip_followed_with_the_receipt_code(bworld, open_page, tmp_path):
    from django.core.cache import cache

    from yingji.core import attachments
    from yingji.tips.models import Tip, TipMessage

    cache.clear()  # the portal's per-address limits count in the cache; start from none
    ent = bworld.ent_a
    today = timezone.localdate()
    # Give the bureau's people names, to check the public pages never show them.
    bworld.inspector.full_name = "马志刚"
    bworld.inspector.save(update_fields=["full_name"])
    bworld.leader.full_name = "赵局长"
    bworld.leader.save(update_fields=["full_name"])
    staff_names = ("马志刚", "赵局长", bworld.inspector.username, bworld.duty.username)
    photo = jpeg(tmp_path / "IMG_20250301_213000.jpg")

    # -- an anonymous visitor reports, on a phone -----------------------------------------------
    reporter = open_page("reporter", PHONE)
    reporter.goto(reporter.url_for(reverse("public-tip-new")))
    shown_at = time.monotonic()
    form = reporter.locator("main form[enctype='multipart/form-data']")
    expect(form).to_be_visible()
    assert reporter.locator("form[action$='/logout/']").count() == 0  # nobody signed in
    form.locator("textarea[name=content]").fill(CONTENT)
    form.locator("input[name=location]").fill(LOCATION)
    # Typing part of the name offers the registry's names (htmx fills the datalist).
    field = form.locator("input[name=enterprise]")
    field.tap()
    with reporter.expect_response(lambda r: "/public/tips/enterprises" in r.url):
        field.press_sequentially(ent.name[:4], delay=30)
    expect(reporter.locator(f"#enterprise-options option[value='{ent.name}']")).to_have_count(1)
    field.fill(ent.name)
    form.locator("input[name=photos]").set_input_files(str(photo))
    anonymous = form.locator("input[name=anonymous]")
    expect(anonymous).to_be_checked()  # anonymous is the default
    expect(form.locator("input[name=name]")).to_be_hidden()  # no identity asked for
    expect(form.locator("input[name=contact]")).to_be_hidden()
    # The honeypot: off screen, empty, skipped by the keyboard.
    trap = form.locator("input[name=website]")
    expect(trap).to_have_value("")
    assert trap.get_attribute("tabindex") == "-1"
    box = trap.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, f"the honeypot is on screen: {box}"
    answer_challenge(reporter)
    form.locator("input[name=answer]").scroll_into_view_if_needed()
    reporter.shot("report-form")
    overflow = reporter.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the report form is {overflow}px wider than a phone"
    # A person takes longer than 3 seconds; the form refuses a faster answer.
    wait = CHALLENGE_WAIT_S - (time.monotonic() - shown_at)
    if wait > 0:
        reporter.wait_for_timeout(wait * 1000)
    submit(reporter, form.locator("button[type=submit]"))

    receipt = reporter.locator("#receipt-code")
    expect(receipt).to_be_visible()
    code = receipt.inner_text().strip()
    digits = re.sub(r"\D", "", code)
    assert len(digits) == 20, f"receipt code {code!r}"
    assert digits not in reporter.url
    reporter.shot("receipt")

    tip = Tip.objects.get()
    assert tip.channel == "platform" and tip.status == Tip.Status.RECEIVED
    assert tip.anonymous and not tip.reporter_name_enc and not tip.reporter_contact_enc
    assert tip.enterprise == ent and tip.enterprise_name == ""
    assert tip.content == CONTENT and tip.location == LOCATION
    assert attachments.for_owner(tip).count() == 1
    tip_url = reverse("tips-detail", args=[tip.pk])

    # -- the duty officer finds it in the list and assigns it to the inspector -------------------
    duty = sign_in(open_page("duty"), "duty")
    duty.locator(f'nav a[href="{reverse("tips-list")}"]').click()
    duty.wait_for_url(duty.url_for(reverse("tips-list")))
    row = duty.locator("#tip-table tbody tr").filter(has=duty.locator(f"a[href='{tip_url}']"))
    expect(row).to_have_count(1)
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "received")
    expect(row).to_contain_text(ent.name)
    duty.shot("tips-list")
    with duty.expect_navigation():
        row.locator(f"a[href='{tip_url}']").click()
    expect(duty.locator("#tip-status")).to_have_attribute("data-status", "received")
    assert_reporter_hidden(duty)
    assign = open_action(duty, "assign")
    assign.locator("select[name=assignee]").select_option(str(bworld.inspector.pk))
    duty.shot("assign")
    submit(duty, assign.locator("button[data-action=assign]"))
    success_message(duty)
    expect(duty.locator("#tip-status")).to_have_attribute("data-status", "assigned")
    tip.refresh_from_db()
    assert tip.assignee == bworld.inspector

    # -- the inspector starts verifying and asks the reporter a question -------------------------
    inspector = sign_in(open_page("inspector"), "inspector")
    inspector.goto(inspector.url_for(reverse("tips-list")))
    with inspector.expect_navigation():
        inspector.locator(f"#tip-table a[href='{tip_url}']").click()
    expect(inspector.locator("#tip-status")).to_have_attribute("data-status", "assigned")
    assert_reporter_hidden(inspector)
    # The reporter's photo is there and loads.
    photo_link = inspector.locator("main a[href^='/files/']")
    expect(photo_link).to_have_count(1)
    response = inspector.request.get(inspector.url_for(photo_link.get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    submit(inspector, inspector.locator("button[data-action=start]"))
    success_message(inspector)
    expect(inspector.locator("#tip-status")).to_have_attribute("data-status", "verifying")
    ask = open_action(inspector, "question")
    ask.locator("textarea[name=question]").fill(QUESTION)
    submit(inspector, ask.locator("button[data-action=question]"))
    success_message(inspector)
    expect(inspector.locator("main .card").filter(has_text=QUESTION)).to_have_count(1)
    assert_reporter_hidden(inspector)
    inspector.shot("question-asked")

    # -- the reporter opens the report with the code and answers -------------------------------
    look_up(reporter, code)
    expect(reporter.locator("#tip-status")).to_have_attribute("data-status", "verifying")
    question = reporter.locator("main .card[data-kind=question]")
    expect(question).to_have_count(1)
    expect(question).to_contain_text(QUESTION)
    assert_no_handler(reporter, *staff_names)
    answer_form = reporter.locator("#answer-form")
    answer_form.locator("textarea[name=text]").fill(ANSWER)
    answer_form.scroll_into_view_if_needed()
    reporter.shot("status-question")
    with reporter.expect_navigation():
        answer_form.locator("button[type=submit]").tap()
    success_message(reporter)
    expect(reporter.locator("main .card[data-kind=answer]")).to_contain_text(ANSWER)
    reporter.shot("status-answered")
    assert list(tip.messages.values_list("kind", flat=True)) == [
        TipMessage.Kind.QUESTION,
        TipMessage.Kind.ANSWER,
    ]

    # -- the inspector reads the answer, verifies, proposes a reward ---------------------------
    inspector.reload()
    expect(inspector.locator("main .card").filter(has_text=ANSWER)).to_have_count(1)
    verification = open_action(inspector, "verification")
    verification.locator("input[name=verified][value='1']").check()
    verification.locator("textarea[name=findings]").fill(FINDINGS)
    submit(inspector, verification.locator("button[data-action=verification]"))
    success_message(inspector)
    expect(inspector.locator("#tip-status")).to_have_attribute("data-status", "verified")
    propose = open_action(inspector, "propose")
    propose.locator("input[name=amount]").fill("500")
    submit(inspector, propose.locator("button[data-action=propose]"))
    success_message(inspector)
    expect(inspector.locator("#reward-status")).to_have_attribute("data-status", "proposed")
    # Only a leader approves: no approval button for the inspector.
    expect(inspector.locator("button[data-action=approve]")).to_have_count(0)
    assert_reporter_hidden(inspector)
    inspector.shot("reward-proposed")

    # -- the leader approves the reward -------------------------------------------------------
    leader = sign_in(open_page("leader"), "leader")
    leader.goto(leader.url_for(tip_url))
    expect(leader.locator("#reward-status")).to_have_attribute("data-status", "proposed")
    submit(leader, leader.locator("button[data-action=approve]"))
    success_message(leader)
    expect(leader.locator("#reward-status")).to_have_attribute("data-status", "approved")
    leader.shot("reward-approved")

    # -- the reporter sees the approved reward and claims it -----------------------------------
    reporter.reload()
    expect(reporter.locator("#tip-status")).to_have_attribute("data-status", "verified")
    expect(reporter.locator("#reward")).to_have_attribute("data-reward", "approved")
    expect(reporter.locator("#reward")).to_contain_text("500")
    expect(reporter.locator("#waive-form")).to_have_count(1)  # they may still decline it
    with reporter.expect_navigation():
        reporter.locator("#claim").tap()
    success_message(reporter)
    expect(reporter.locator("#claim")).to_have_count(0)
    expect(reporter.locator("#waive-form")).to_have_count(0)  # claimed: no declining now
    assert_no_handler(reporter, *staff_names)
    reporter.shot("reward-claimed")
    tip.refresh_from_db()
    assert tip.reward_claimed_at is not None

    # -- the inspector records the payment and closes the tip with the answer -------------------
    inspector.reload()
    expect(inspector.locator("#reward-status")).to_have_attribute("data-status", "approved")
    payment = open_action(inspector, "payment")
    expect(payment.locator("input[name=paid_on]")).to_have_value(today.isoformat())
    payment.locator("input[name=method]").fill("银行转账")
    submit(inspector, payment.locator("button[data-action=payment]"))
    success_message(inspector)
    expect(inspector.locator("#reward-status")).to_have_attribute("data-status", "paid")
    close = open_action(inspector, "close")
    close.locator("textarea[name=answer]").fill(CLOSING)
    submit(inspector, close.locator("button[data-action=close]"))
    success_message(inspector)
    expect(inspector.locator("#tip-status")).to_have_attribute("data-status", "closed")
    expect(inspector.locator("main form:has(input[name=action])")).to_have_count(0)
    assert_reporter_hidden(inspector)
    inspector.shot("closed")
    tip.refresh_from_db()
    assert tip.status == Tip.Status.CLOSED and tip.closed_on == today
    assert tip.reward_status == Tip.Reward.PAID and tip.reward_method == "银行转账"
    assert tip.answer == CLOSING

    # -- the reporter leaves the report, comes back with the code, reads the answer -------------
    with reporter.expect_navigation():
        reporter.locator("form[action$='/status/leave'] button[type=submit]").tap()
    expect(reporter.locator("main input[name=code]")).to_be_visible()
    expect(reporter.locator("#tip-status")).to_have_count(0)  # the session is gone
    look_up(reporter, code)
    expect(reporter.locator("#tip-status")).to_have_attribute("data-status", "closed")
    expect(reporter.locator("#tip-answer")).to_contain_text(CLOSING)
    expect(reporter.locator("#reward")).to_have_attribute("data-reward", "paid")
    expect(reporter.locator("#reward")).to_contain_text(today.isoformat())
    expect(reporter.locator("#answer-form")).to_have_count(0)  # closed: no more answers
    expect(reporter.locator("#claim, #waive")).to_have_count(0)
    assert_no_handler(reporter, *staff_names)
    overflow = reporter.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the status page is {overflow}px wider than a phone"
    reporter.shot("status-closed")
