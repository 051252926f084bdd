"""Browser-test fixtures shared by every issue: headless Chromium against the live server.

- Every request that does not go to the test server is aborted (no CDN may be needed), and the
  aborted request shows up as a console error, which fails the test. A test that sends the
  browser elsewhere on purpose (the OpenID Connect test provider) allows that origin with
  `allow_origin(page, url)`. Service workers are
  blocked: a request a service worker answers never reaches that guard. Only the service
  worker's own test (tests/browser/test_installable.py) allows them, in a context of its own.
- Any JavaScript error or console error (a CSP violation included) fails the test.
- `assert_accessible(page)` runs axe-core with the WCAG 2.1 A/AA rules at desktop width and at
  320 px, and fails on any violation.
"""

import os
import shutil
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 320, "height": 640}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install chromium (.ci/run does).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Page:
    """A fresh browser tab (own cookies) on the live server, Dutch, desktop size."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="nl-NL",
        viewport=DESKTOP,
        accept_downloads=True,
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    problems: list[str] = []
    allowed_origins = [_origin(live_server.url)]

    def only_allowed_origins(route):
        if _origin(route.request.url) in allowed_origins:
            route.continue_()
        else:
            problems.append(f"blocked request to {route.request.url}")
            route.abort()

    context.route("**/*", only_allowed_origins)
    page = context.new_page()
    page.allowed_origins = allowed_origins
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.expected_console_errors = []
    yield page
    context.close()
    problems = [
        problem
        for problem in problems
        if not any(expected in problem for expected in page.expected_console_errors)
    ]
    if problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(problems))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allow_origin(page: Page, url: str) -> None:
    """Let this tab's requests reach the origin of `url` too (e.g. the test provider's issuer)."""
    page.allowed_origins.append(_origin(url))


def expect_console_error(page: Page, text: str) -> None:
    """Allow a console error containing `text` in this test: a refusal the test provokes on
    purpose (Chromium logs every 4xx answer to a script's request as a console error)."""
    page.expected_console_errors.append(text)


_axe = Axe()


def assert_accessible(page: Page, *, read_imported_css: bool = True) -> None:
    """Fail when axe-core finds WCAG 2.1 A/AA violations, at desktop width and at 320 px.

    axe reads a stylesheet's `@import`s by adding them to the page as inline `<style>`, which
    the CSP refuses (a console error). The Django admin's forms.css imports widgets.css, so the
    admin's test passes `read_imported_css=False`: axe then skips that reading, and with it
    only its check that the page does not lock the phone's orientation."""
    original = page.viewport_size
    # Check the page as it stands: every stylesheet applied (a check right after a click can
    # come before the next page's CSS), and no colour half-way through a button's transition
    # (Bootstrap drops its transitions for people who ask for reduced motion).
    page.wait_for_load_state("load")
    page.emulate_media(reduced_motion="reduce")
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
    if not read_imported_css:
        options["preload"] = False
    try:
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            results = _axe.run(page, options=options)
            assert results.violations_count == 0, (
                f"{page.url} at {size['width']} px:\n{results.generate_report()}"
            )
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= size["width"], (
                f"{page.url} scrolls sideways at {size['width']} px ({scroll_width} px wide)"
            )
    finally:
        page.set_viewport_size(original)


def login(page: Page, username: str, password: str) -> None:
    """Log in through the real login page, and through the code step when it appears.

    Staff without an authenticator app get one first (as if set up earlier); the code is
    computed from the device's secret, as the person's app would.
    """
    from portal.access import user_must_use_second_factor
    from portal.models import TotpDevice, User
    from portal.two_factor import totp_code

    user = User.objects.filter(username=username).first()
    if user is not None and user_must_use_second_factor(user):
        if not TotpDevice.objects.filter(user=user, confirmed=True).exists():
            TotpDevice.objects.create(user=user, name="Authenticator-app", confirmed=True)
    page.goto("/account/inloggen/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen", exact=True).click()
    page.wait_for_load_state()
    if "/account/tweestapsverificatie/" in page.url and user is not None:
        device = TotpDevice.objects.get(user=user, confirmed=True)
        page.locator("input[name=code]").fill(totp_code(device))
        page.get_by_role("button", name="Bevestigen").click()
        page.wait_for_load_state()


@pytest.fixture
def accessible():
    return assert_accessible


@pytest.fixture
def log_in():
    return login
