"""Real-browser tests: Playwright's sync API driving Debian's /usr/bin/chromium against
pytest-django's live_server (never a browser downloaded by Playwright).

Screenshots go to test-artifacts/<test name>/ (gitignored): one per key step, and
FAILED.png + FAILED.html when a test fails.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import PASSWORD, World

CHROMIUM = os.environ.get("YINGJI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so the page fixture knows the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter):
    """One line on the browser tests, so a CI log shows they ran (and where the shots are)."""
    counts = {}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        reports = terminalreporter.stats.get(outcome, [])
        n = len({r.nodeid for r in reports if "browser" in getattr(r, "keywords", {})})
        if n:
            counts[outcome] = n
    if counts:
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        terminalreporter.write_line(f"browser tests: {summary}; screenshots in {ARTIFACTS}/")


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no browser at {CHROMIUM}: run `bash scripts/system-deps.sh`")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread for as long as it is
    # started, and Django refuses ORM calls from a thread with a running loop. The test code
    # (fixtures creating data, asserts reading it) is plain synchronous code, so allow it
    # while the browser lives, and restore the setting afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def bworld(transactional_db) -> World:
    """The shared test district (root conftest), committed so the live server sees it."""
    return World()


@pytest.fixture
def artifacts(request) -> Path:
    """test-artifacts/<test name>/, emptied at the start of the test."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    path = ARTIFACTS / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def viewport() -> dict:
    """The page's size; override with @pytest.mark.parametrize("viewport", [...])."""
    return DESKTOP


@pytest.fixture
def shots():
    """The test's screenshot counter, shared by all its pages so the files sort in step order."""
    return iter(range(1, 100))


def _new_page(browser, live_server, artifacts, viewport, shots, persona=""):
    """A fresh browser context (no cookies) with a Chinese-speaking browser at `viewport`."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        viewport=viewport,
        locale="zh-CN",  # Accept-Language: zh-CN, which Django maps to zh-hans
        timezone_id="Asia/Shanghai",
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    prefix = f"{persona}-" if persona else ""
    page.persona = persona
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.url_for = lambda path: live_server.url + path
    page.shot = lambda name: page.screenshot(
        path=artifacts / f"{next(shots):02d}-{prefix}{name}.png", full_page=True
    )
    return page


def _save_failure(page, artifacts, suffix="") -> None:
    try:
        page.screenshot(path=artifacts / f"FAILED{suffix}.png", full_page=True)
        (artifacts / f"FAILED{suffix}.html").write_text(page.content(), encoding="utf-8")
        print(f"\nbrowser: {page.url}; screenshot in {artifacts / f'FAILED{suffix}.png'}")
    except Exception as exc:  # the page itself may be what broke
        print(f"\nbrowser: could not save a screenshot: {exc}")


def _failed(request) -> bool:
    report = getattr(request.node, "rep_call", None)
    return report is not None and report.failed


@pytest.fixture
def page(request, browser, live_server, artifacts, viewport, shots):
    """A fresh browser context (no cookies) with a Chinese-speaking browser at `viewport`.

    The page gets `.url_for(path)`, `.shot(name)` (numbered screenshot in the test's artifact
    directory) and `.js_errors` (uncaught exceptions in the page; the test fails if any)."""
    page = _new_page(browser, live_server, artifacts, viewport, shots)
    yield page
    failed = _failed(request)
    if failed:
        _save_failure(page, artifacts)
    page.context.close()
    if not failed:
        assert not page.js_errors, f"JavaScript errors on the page: {page.js_errors}"


@pytest.fixture
def open_page(request, browser, live_server, artifacts, shots):
    """open_page(persona, viewport=DESKTOP): another signed-out browser (its own context, so
    its own cookies) for tests where several people take turns; screenshots are named
    NN-<persona>-<step>.png, and a failure saves FAILED-<persona>.png for every open page."""
    pages = []

    def _open(persona: str, viewport: dict = DESKTOP):
        page = _new_page(browser, live_server, artifacts, viewport, shots, persona)
        pages.append(page)
        return page

    yield _open
    failed = _failed(request)
    for p in pages:
        if failed:
            _save_failure(p, artifacts, f"-{p.persona}")
        p.context.close()
    if not failed:
        errors = {p.persona: p.js_errors for p in pages if p.js_errors}
        assert not errors, f"JavaScript errors on the pages: {errors}"


def sign_in(page, username: str, password: str = PASSWORD):
    """Log in through the real login form; returns the page, now on the home page."""
    page.goto(page.url_for("/login/"))
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/login/" not in page.url, f"still on the login page after logging in as {username}"
    # The log-out form in the top bar only shows for a signed-in user.
    assert page.locator("form[action$='/logout/']").count() == 1
    return page


@pytest.fixture
def log_in(page):
    """log_in(username): through the real login form; returns the page, now on the home page."""

    def _log_in(username: str, password: str = PASSWORD):
        return sign_in(page, username, password)

    return _log_in


# -- helpers for the tests' steps ---------------------------------------------------------------
def submit(page, button) -> None:
    """Press a form's button and wait for the post (and its redirect) to land; fail on any
    error the page then shows (a flash error or a field error)."""
    with page.expect_navigation():
        button.click()
    errors = page.locator("ul.messages li.error, ul.errorlist")
    if errors.count():
        pytest.fail(f"{page.url}: {errors.all_inner_texts()}")


def success_message(page) -> None:
    """The page shows exactly one success flash (after a post/redirect/get)."""
    from playwright.sync_api import expect

    expect(page.locator("ul.messages li.success")).to_have_count(1)


def open_action(scope, action: str):
    """One step's form on a staff page (core/_action.html: a hidden input name=action and a
    button data-action=<action>), its <details> unfolded first when it is folded in one.
    `scope` is the page or a part of it (an act's card, when several acts share an action)."""
    from playwright.sync_api import expect

    selector = f"input[name=action][value={action}]"
    form = scope.locator(f"form:has({selector})")
    expect(form).to_have_count(1)
    details = scope.locator(f"details:has({selector})")
    if details.count() and details.get_attribute("open") is None:
        details.locator("summary").first.click()
    expect(form.locator(f"button[data-action={action}]")).to_be_visible()
    return form


def jpeg(path, colour=(200, 120, 30)):
    """A small real JPEG, as a phone camera would send (the server sniffs the type)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle((120, 200, 520, 420), fill=(210, 210, 210))
    draw.ellipse((260, 60, 380, 180), fill=(40, 40, 40))
    img.save(path, "JPEG", quality=80)
    return path
