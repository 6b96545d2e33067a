"""The whole inspection loop in real browsers, as the bureau and the enterprise work it:

plan → double-random draw → inspection on a phone (checklist, finding with a photo, record)
→ rectification order → the enterprise's evidence → re-inspection → closed, and the plan's
progress and the closed-hazard list move with it.

Three people take turns, each in their own browser: the leader (desktop), the inspector on a
phone (390×844, touch) and the enterprise's user (desktop). Elements are found by name, id,
href and data-status, so no assertion depends on the wording of the translation catalogue."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CHECKLIST_ITEMS = [
    {
        "code": "FC-1",
        "text": "粉尘清扫制度建立并落实，作业场所无积尘",
        "basis": "《工贸企业粉尘防爆安全规定》第十三条",
    },
    {
        "code": "FC-2",
        "text": "除尘系统按规定设置锁气卸灰装置",
        "basis": "《工贸企业粉尘防爆安全规定》第十四条",
    },
]
FINDING = "除尘器灰斗未设置锁气卸灰装置，卸灰口直接敞开"


def jpeg(path, colour=(180, 40, 40)):
    """A small real JPEG, as a phone camera would send (the server sniffs the type)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle((200, 150, 440, 330), fill=(240, 240, 240))
    draw.line((0, 0, 640, 480), fill=(20, 20, 20), width=8)
    img.save(path, "JPEG", quality=80)
    return path


def submit(page, button) -> None:
    """Press a form's button and wait for the post/redirect/get to land; fail on any error
    the page then shows (a flash error or a field error)."""
    with page.expect_navigation():
        button.click()
    errors = page.locator("ul.messages li.error, ul.errorlist")
    if errors.count():
        pytest.fail(f"{page.url}: {errors.all_inner_texts()}")


def success_message(page) -> None:
    expect(page.locator("ul.messages li.success")).to_have_count(1)


def target_row(page, title):
    return page.locator("#targets tbody tr").filter(has_text=title)


def test_plan_draw_inspect_order_rectify_close(bworld, open_page, tmp_path):
    from yingji.core.services import create_user
    from yingji.hazards.models import Hazard
    from yingji.inspections.models import Draw, Inspection, Plan
    from yingji.inspections.services import save_checklist

    ent = bworld.ent_a
    today = timezone.localdate()
    deadline = today + datetime.timedelta(days=15)
    year = today.year
    save_checklist(
        by=bworld.leader,
        name="工贸企业综合检查表",
        sector="industrial_trade",
        items=CHECKLIST_ITEMS,
    )
    inspector2 = create_user(
        by=None,
        username="inspector2",
        password=PASSWORD,
        role="inspector",
        full_name="王检查",
        email="inspector2@example.test",
    )
    photo = jpeg(tmp_path / "IMG_20250301_101500.jpg")
    after_photo = jpeg(tmp_path / "整改后.jpg", colour=(40, 140, 60))

    # -- the leader plans the year (desktop) ------------------------------------------------
    leader = sign_in(open_page("leader"), "leader")
    leader.goto(leader.url_for(reverse("inspections-plans")))
    new_plan = leader.locator("details:has(input[name=title])")
    new_plan.locator("summary").click()
    new_plan.locator("input[name=year]").fill(str(year))
    new_plan.locator("input[name=title]").fill(f"{year}年度安全生产监督检查计划")
    new_plan.locator("textarea[name=note]").fill("按分类分级监管要求执行。")
    leader.shot("plans-new")
    submit(leader, new_plan.locator("button[type=submit]"))
    plan = Plan.objects.get(year=year)
    expect(leader).to_have_url(leader.url_for(plan.get_absolute_url()))

    add_target = leader.locator("details:has(button[name=target])")
    add_target.locator("summary").click()
    add_target.locator("input[name=title]").fill("工贸企业每年1次")
    add_target.locator("select[name=sector]").select_option("industrial_trade")
    add_target.locator("input[name=times]").fill("1")
    submit(leader, add_target.locator("button[name=target]"))
    expect(target_row(leader, "工贸企业每年1次")).to_have_count(1)
    expect(target_row(leader, "工贸企业每年1次")).to_contain_text("0 / 1")

    submit(leader, leader.locator("button[name=publish]"))
    success_message(leader)
    expect(leader.locator("button[name=publish]")).to_have_count(0)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PUBLISHED
    leader.shot("plan-published")

    # Nothing closed yet: the closed-hazard list is empty.
    leader.goto(leader.url_for(reverse("hazards-list") + "?status=closed"))
    expect(leader.locator("table.hazard-table a[href^='/hazards/']")).to_have_count(0)

    # -- the leader draws (双随机) ------------------------------------------------------------
    leader.goto(leader.url_for(reverse("inspections-draws")))
    prepare = leader.locator("details:has(input[name=per_enterprise])")
    prepare.locator("summary").click()
    prepare.locator("input[name=title]").fill(f"{year}年工贸行业双随机抽查（第一批）")
    prepare.locator("input[name=year]").fill(str(year))
    prepare.locator("select[name=sector]").select_option("industrial_trade")
    prepare.locator("input[name=n]").fill("1")
    prepare.locator("input[name=per_enterprise]").fill("2")
    for user in (bworld.inspector, inspector2):
        prepare.locator(f"input[name=pool][value='{user.pk}']").check()
    leader.shot("draw-prepare")
    submit(leader, prepare.locator("button[type=submit]"))
    draw = Draw.objects.get()
    expect(leader).to_have_url(leader.url_for(draw.get_absolute_url()))
    expect(leader.locator("#draw-status")).to_have_attribute("data-status", "prepared")

    leader.locator("input[name=seed]").fill("20250301-城中区应急管理局")
    submit(leader, leader.locator("button[name=publish]"))
    expect(leader.locator("#draw-status")).to_have_attribute("data-status", "published")
    submit(leader, leader.locator("button[name=execute]"))
    expect(leader.locator("#draw-status")).to_have_attribute("data-status", "drawn")
    result = leader.locator("#draw-result tbody tr")
    expect(result).to_have_count(1)
    expect(result.first).to_contain_text(ent.ref)
    expect(result.first).to_contain_text("王检查")  # inspector2: the pool is both, 2 each
    expect(leader.locator("#verified")).to_contain_text("✔")
    leader.shot("draw-result")
    insp = Inspection.objects.get(draw=draw)
    assert insp.enterprise == ent and insp.status == Inspection.Status.PLANNED
    assert set(insp.inspectors.all()) == {bworld.inspector, inspector2}
    assert insp.checklist is not None, "the draw did not attach the sector's checklist"

    # -- the inspector on site, on a phone ------------------------------------------------------
    phone = sign_in(open_page("inspector", PHONE), "inspector")
    phone.locator(f'nav a[href="{reverse("inspections-list")}"]').tap()
    phone.wait_for_url(phone.url_for(reverse("inspections-list")))
    row = phone.locator("#inspection-table tbody tr").filter(has_text=ent.name)
    expect(row).to_have_count(1)
    phone.shot("inspections")
    with phone.expect_navigation():
        row.locator("a").first.tap()
    expect(phone).to_have_url(phone.url_for(insp.get_absolute_url()))
    expect(phone.locator("#inspection-status")).to_have_attribute("data-status", "planned")
    phone.shot("inspection-planned")

    submit(phone, phone.locator("button[name=start]"))
    expect(phone.locator("#inspection-status")).to_have_attribute("data-status", "in_progress")
    answers = phone.locator("#answers-form")
    answers.locator("input[name='item_FC-1'][value=ok]").check()
    answers.locator("input[name='item_FC-2'][value=hazard]").check()
    answers.locator("textarea[name=summary]").fill("现场检查粉尘防爆，发现一处隐患。")
    phone.shot("checklist")
    submit(phone, answers.locator("button[name=answers]"))
    success_message(phone)
    insp.refresh_from_db()
    assert insp.answers == {"FC-1": "ok", "FC-2": "hazard"}
    expect(phone.locator("input[name='item_FC-2'][value=hazard]")).to_be_checked()

    finding = phone.locator("details#finding")
    finding.locator("summary").tap()
    expect(finding.locator("textarea[name=description]")).to_be_visible()
    finding.locator("textarea[name=description]").fill(FINDING)
    finding.locator("input[name=legal_basis]").fill("《工贸企业粉尘防爆安全规定》第十四条")
    finding.locator("select[name=level]").select_option("general")
    finding.locator("select[name=category]").select_option("equipment")
    # The date found comes filled in (today): test_date_fields_show_defaults pins that.
    finding.locator("input[name=photos]").set_input_files(str(photo))
    finding.scroll_into_view_if_needed()
    phone.shot("finding-form")
    submit(phone, finding.locator("button[type=submit]"))
    success_message(phone)
    hazard = Hazard.objects.get(inspection=insp)
    assert hazard.description == FINDING and hazard.status == Hazard.Status.REPORTED
    hazard_url = reverse("hazards-detail", args=[hazard.pk])
    expect(phone.locator(f"table.hazard-table a[href='{hazard_url}']")).to_have_count(1)

    submit(phone, phone.locator("button#complete"))
    expect(phone.locator("#inspection-status")).to_have_attribute("data-status", "completed")
    insp.refresh_from_db()
    assert insp.record_no
    expect(phone.locator("#record-no")).to_have_text(insp.record_no)
    phone.shot("inspection-completed")

    order_form = phone.locator("#order")
    expect(order_form.locator(f"input[name=hazards][value='{hazard.pk}']")).to_be_checked()
    expect(order_form.locator("input[name=deadline]")).to_have_value(deadline.isoformat())
    order_form.scroll_into_view_if_needed()
    phone.shot("order-form")
    submit(phone, order_form.locator("button[type=submit]"))
    success_message(phone)
    expect(phone.locator("#order")).to_have_count(0)  # nothing left to order
    hazard.refresh_from_db()
    assert hazard.status == Hazard.Status.OPEN and hazard.order is not None
    assert hazard.deadline == deadline
    number = hazard.order.number

    with phone.expect_navigation():
        phone.locator(f"table.hazard-table a[href='{hazard_url}']").tap()
    expect(phone.locator("#hazard-status")).to_have_attribute("data-status", "open")
    order_docx = reverse("hazards-order-docx", args=[hazard.order.pk])
    expect(phone.locator(f"a[href='{order_docx}']")).to_have_text(number)
    expect(phone.locator("#deadline")).to_have_text(hazard.deadline.isoformat())
    phone.shot("hazard-ordered")

    # -- the enterprise rectifies and uploads its evidence (desktop) ---------------------------
    company = sign_in(open_page("enterprise"), "ent_a")
    company.goto(company.url_for(reverse("hazards-list")))
    with company.expect_navigation():
        company.locator(f"table.hazard-table a[href='{hazard_url}']").click()
    expect(company.locator("#hazard-status")).to_have_attribute("data-status", "open")
    expect(company.locator(f"a[href='{order_docx}']")).to_have_text(number)
    evidence = company.locator("#evidence-form")
    evidence.locator("textarea[name=note]").fill("已加装星型锁气卸灰阀，并完善清扫记录。")
    evidence.locator("input[name=files]").set_input_files(str(after_photo))
    company.shot("evidence-form")
    submit(company, evidence.locator("button[name=evidence]"))
    success_message(company)
    expect(company.locator("#hazard-status")).to_have_attribute("data-status", "submitted")
    expect(company.locator("#evidence-form")).to_have_count(0)
    company.shot("evidence-submitted")

    # -- the inspector re-inspects, from the notice in the inbox (phone) -----------------------
    phone.locator(f'header a[href="{reverse("core-inbox")}"]').tap()
    phone.wait_for_url(phone.url_for(reverse("core-inbox")))
    notice = phone.locator(f"main a[href='{hazard_url}']").first
    expect(notice).to_be_visible()
    phone.shot("inbox")
    with phone.expect_navigation():
        notice.tap()
    expect(phone.locator("#hazard-status")).to_have_attribute("data-status", "submitted")
    # Both photos load: the finding's and the enterprise's.
    photos = phone.locator("main img")
    expect(photos).to_have_count(2)
    for img in photos.all():
        img.scroll_into_view_if_needed()
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), "a photo does not load"
    reinspect = phone.locator("#reinspect-form")
    reinspect.locator("input[name=passed][value='1']").check()
    reinspect.locator("textarea[name=opinion]").fill("经复查，锁气卸灰装置已加装，隐患已整改。")
    reinspect.scroll_into_view_if_needed()
    phone.shot("reinspect-form")
    submit(phone, reinspect.locator("button[name=reinspect]"))
    success_message(phone)
    expect(phone.locator("#hazard-status")).to_have_attribute("data-status", "closed")
    expect(phone.locator("#reinspect-form")).to_have_count(0)
    phone.shot("hazard-closed")
    hazard.refresh_from_db()
    assert hazard.status == Hazard.Status.CLOSED
    assert hazard.closed_on == today

    # -- the figures move: plan progress and the closed-hazard list (leader) -------------------
    leader.goto(leader.url_for(plan.get_absolute_url()))
    expect(target_row(leader, "工贸企业每年1次")).to_contain_text("1 / 1")
    expect(target_row(leader, "工贸企业每年1次")).to_contain_text("100%")
    leader.shot("plan-progress")
    leader.goto(leader.url_for(reverse("hazards-list") + "?status=closed"))
    closed = leader.locator("table.hazard-table tbody tr")
    expect(closed).to_have_count(1)
    expect(closed.locator(f"a[href='{hazard_url}']")).to_have_count(1)
    expect(closed).to_contain_text(ent.name)
    # The count above the table ("共 1 项隐患" / "1 hazard").
    expect(
        leader.locator("main p.muted").filter(has_text=re.compile(r"(^|\D)1(\D|$)"))
    ).to_have_count(1)
    leader.shot("hazards-closed")


@pytest.mark.parametrize("viewport", [PHONE], ids=["390x844"])
def test_date_fields_show_defaults(bworld, page, log_in):
    """The finding's date, the order's deadline and the re-inspection's date come filled in
    (today, today + 15 days, today), so the inspector on site need not pick them."""
    from yingji.hazards.services import issue_order, report_hazard
    from yingji.inspections.services import schedule_inspection, start_inspection

    today = timezone.localdate()
    insp = schedule_inspection(
        by=bworld.leader, enterprise=bworld.ent_a, date=today, inspectors=[bworld.inspector]
    )
    start_inspection(insp, by=bworld.inspector)
    hazard = report_hazard(
        by=bworld.inspector,
        enterprise=bworld.ent_a,
        inspection=insp,
        found_on=today,
        description=FINDING,
    )

    log_in("inspector")
    page.goto(page.url_for(insp.get_absolute_url()))
    page.locator("details#finding summary").tap()
    page.shot("inspection")
    values = {
        "found_on": page.locator("#finding input[name=found_on]").input_value(),
        "deadline": page.locator("#order input[name=deadline]").input_value(),
    }
    issue_order([hazard], by=bworld.inspector, deadline=today + datetime.timedelta(days=15))
    page.goto(page.url_for(reverse("hazards-detail", args=[hazard.pk])))
    values["date"] = page.locator("#reinspect-form input[name=date]").input_value()
    page.shot("hazard")
    assert values == {
        "found_on": today.isoformat(),
        "deadline": (today + datetime.timedelta(days=15)).isoformat(),
        "date": today.isoformat(),
    }
