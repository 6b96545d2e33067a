"""The enterprise registry in a real browser (the issue's acceptance test and its variants).

Elements are found by name, id and href, not by their visible text: the interface is
translated, and the tests should not depend on the wording of the catalogue."""

import re
from urllib.parse import quote_plus

import pytest
from django.urls import reverse

from conftest import make_uscc
from yingji.lib import uscc as uscc_lib

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u4e00-\u9fff]")


def mistype(code: str) -> str:
    """The same code with a wrong check character (the commonest typing error)."""
    wrong = next(c for c in uscc_lib.ALPHABET if c != code[-1])
    return code[:-1] + wrong


def search(page, text: str) -> None:
    """Type into the list's search box and wait for htmx to swap the filtered table in."""
    box = page.locator("input[name=q]")
    box.click()
    box.fill("")
    with page.expect_response(
        lambda r: r.request.headers.get("hx-request") == "true" and "q=" + quote_plus(text) in r.url
    ):
        box.press_sequentially(text, delay=20)  # real keyup events, as a user types
    settled(page)


def settled(page) -> None:
    """Wait until htmx has finished its request and swap."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def rows(page):
    return page.locator("#enterprise-table tbody tr")


def detail_link(page, ent):
    return page.locator(
        f'#enterprise-table a[href="{reverse("enterprises-detail", args=[ent.pk])}"]'
    )


def test_inspector_corrects_a_mistyped_credit_code(bworld, page, log_in):
    """Acceptance: search by code, open, a mistyped code is refused with a field error,
    the corrected code is saved and shows in the history."""
    ent = bworld.ent_a
    old, bad, new = ent.uscc, mistype(ent.uscc), make_uscc(777)
    detail_url = reverse("enterprises-detail", args=[ent.pk])
    edit_url = reverse("enterprises-edit", args=[ent.pk])

    log_in("inspector")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.shot("home")

    page.goto(page.url_for(reverse("enterprises-list")))
    assert rows(page).count() == 2  # both enterprises: an inspector sees the whole district
    page.shot("list")

    search(page, old)
    assert rows(page).count() == 1
    assert detail_link(page, ent).count() == 1
    page.wait_for_url(re.compile("q=" + old))  # hx-push-url: the filtered list can be bookmarked
    page.shot("list-searched")

    detail_link(page, ent).click()
    page.wait_for_url(page.url_for(detail_url))
    assert page.locator("#uscc").inner_text().strip() == old
    page.shot("detail")

    page.locator(f'a[href="{edit_url}"]').click()
    page.wait_for_url(page.url_for(edit_url))
    field = page.locator("input[name=uscc]")
    assert field.input_value() == old

    field.fill(bad)
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    errors = page.locator('ul.errorlist[data-field="uscc"]')
    errors.wait_for(state="visible")
    message = errors.inner_text().strip()
    assert message, "the uscc error list is empty"
    # Chinese once the catalogue has it; the English source text until then.
    assert CJK.search(message) or "check character" in message, message
    assert page.url == page.url_for(edit_url)  # the form is shown again, not saved
    assert field.input_value() == bad  # with what the user typed, to correct it
    page.shot("edit-invalid")
    ent.refresh_from_db()
    assert ent.uscc == old

    field.fill(new)
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(page.url_for(detail_url))
    assert page.locator("#uscc").inner_text().strip() == new
    assert page.locator("ul.messages li").count() == 1  # "changes saved"
    page.shot("detail-saved")

    # The history's newest entry is the update, with the code's old and new values.
    update = page.locator("#history tbody tr").first
    change = (
        update.locator("div")
        .filter(has=page.locator("del", has_text=old))
        .filter(has=page.locator("ins", has_text=new))
    )
    assert change.count() == 1, update.inner_text()
    assert change.locator("del").inner_text().strip() == old
    assert change.locator("ins").inner_text().strip() == new
    # The field's label, in Chinese or (while the catalogue lacks it) English.
    assert re.search(r"信用代码|credit code", change.inner_text(), re.IGNORECASE)
    change.scroll_into_view_if_needed()
    page.shot("history")
    ent.refresh_from_db()
    assert ent.uscc == new


@pytest.mark.parametrize("viewport", [PHONE], ids=["390x844"])
def test_phone_login_search_and_detail(bworld, page, log_in):
    """The same path on a phone: log in, find the enterprise (search by submitting the
    form, the phone's "go" key), open it."""
    ent = bworld.ent_a
    detail_url = reverse("enterprises-detail", args=[ent.pk])

    page.goto(page.url_for("/login/"))
    page.shot("login")
    log_in("inspector")
    page.shot("home")

    # On a phone the side menu becomes a row of tabs; the registry is one of them.
    nav_link = page.locator(f'nav a[href="{reverse("enterprises-list")}"]')
    nav_link.tap()
    page.wait_for_url(page.url_for(reverse("enterprises-list")))
    page.shot("list")

    box = page.locator("input[name=q]")
    box.tap()
    box.fill(ent.name)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        box.press("Enter")
    settled(page)
    assert rows(page).count() == 1
    assert detail_link(page, ent).count() == 1
    page.shot("list-searched")

    # Nothing but the table (which scrolls in its own box) is wider than the screen.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a {PHONE['width']}px phone"

    detail_link(page, ent).tap()
    page.wait_for_url(page.url_for(detail_url))
    assert page.locator("#uscc").inner_text().strip() == ent.uscc
    assert page.locator("#history").is_visible()
    page.shot("detail")


def test_town_officer_sees_only_their_town(bworld, page, log_in):
    """人民街街道's officer: enterprise A (in their town) but not B (in 总寨镇), not even by URL."""
    a, b = bworld.ent_a, bworld.ent_b
    log_in("town1")

    page.goto(page.url_for(reverse("enterprises-list")))
    assert detail_link(page, a).count() == 1
    assert detail_link(page, b).count() == 0
    assert rows(page).count() == 1
    page.shot("list")

    # Searching for B's code finds nothing either.
    search(page, b.uscc)
    assert page.locator("#enterprise-table tbody a").count() == 0

    response = page.goto(page.url_for(reverse("enterprises-detail", args=[b.pk])))
    assert response.status == 404
    page.shot("other-town-404")
    response = page.goto(page.url_for(reverse("enterprises-edit", args=[b.pk])))
    assert response.status == 404

    response = page.goto(page.url_for(reverse("enterprises-detail", args=[a.pk])))
    assert response.status == 200
    assert page.locator("#uscc").inner_text().strip() == a.uscc
