"""The officeholder's side on a phone (375 px): never a lost word, honest next steps, errors.

Each flow runs once at 375 px and calls the shared axe check (1280 and 320 px).
"""

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.browser.fixtures import assert_accessible, login
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.browser

PHONE_375 = {"width": 375, "height": 740}
SUMMARY = "Hij schreeuwde dat hij weet waar ik woon"


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE_375)
    return page


def _session_lost(page: Page) -> None:
    """As when the session expires while typing: the browser loses only the session cookie."""
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)


def _log_in_on_this_page(page: Page, username: str) -> None:
    """Log in on the login page the portal sent us to (it carries `next`)."""
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()


def _type_quick_report(page: Page) -> None:
    page.goto("/meldingen/snel/")
    page.get_by_label("Bedreiging", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill(SUMMARY)


def test_expired_session_post_comes_back_filled_in_and_not_for_another_account(
    phone, officeholder, organisation, escalation_rules_off
):
    """Typed after the session ended: the login page says the text is kept; another account
    that logs in gets an empty form; the person who typed it gets it back and can send it."""
    other = UserFactory(organisation=organisation)

    login(phone, officeholder.username, TEST_PASSWORD)
    _type_quick_report(phone)
    _session_lost(phone)
    phone.get_by_role("button", name="Melding versturen").click()
    expect(phone.locator("#kept-form-notice")).to_contain_text("Uw tekst is bewaard")
    assert_accessible(phone)
    _log_in_on_this_page(phone, other.username)
    assert phone.url.endswith("/meldingen/snel/")
    expect(phone.get_by_label("Wat gebeurde er, in één zin?")).to_have_value("")
    expect(phone.get_by_label("Bedreiging", exact=True)).not_to_be_checked()

    phone.get_by_role("button", name="Uitloggen").click()
    login(phone, officeholder.username, TEST_PASSWORD)
    _type_quick_report(phone)
    _session_lost(phone)
    phone.get_by_role("button", name="Melding versturen").click()
    _log_in_on_this_page(phone, officeholder.username)

    assert phone.url.endswith("/meldingen/snel/")
    expect(phone.get_by_role("main")).to_contain_text(
        "U was te lang niet actief. Uw tekst is bewaard."
    )
    expect(phone.get_by_label("Wat gebeurde er, in één zin?")).to_have_value(SUMMARY)
    expect(phone.get_by_label("Bedreiging", exact=True)).to_be_checked()
    expect(phone.get_by_label("Wanneer?")).to_have_value(timezone.localdate().isoformat())
    assert_accessible(phone)
    phone.get_by_role("button", name="Melding versturen").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    assert Incident.objects.get(officeholder=officeholder).summary == SUMMARY
    assert not Incident.objects.filter(officeholder=other).exists()
