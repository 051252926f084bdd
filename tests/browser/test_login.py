"""The login page in a real browser: every demo account lands on its role's home page."""

import pytest
from playwright.sync_api import expect

from tests.browser.fixtures import assert_accessible, login

DEMO_PASSWORD = "weerbaar-demo"

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("username", "heading"),
    [
        ("wethouder.utrecht", "Welkom, Anouk"),
        ("raadslid.utrecht", "Welkom, Mehmet"),
        ("burgemeester.zwolle", "Welkom, Petra"),
        ("statenlid.overijssel", "Welkom, Johan"),
        ("meldpunt.utrecht", "Meldpunt Utrecht"),
        ("meldpunt.ijsselland", "Meldpunt IJsselland"),
        ("ondersteuning", "Ondersteuningsteam Weerbaar Bestuur"),
        ("beheer", "Functioneel beheer"),
    ],
)
def test_demo_account_logs_in_and_lands_on_its_home_page(page, demo_data, username, heading):
    """Each demo account logs in through the real page and sees its role's home page."""
    login(page, username, DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert page.url.endswith("/")
    assert_accessible(page)


def test_wrong_password_keeps_username_and_leaks_nothing(page, demo_data):
    """A wrong password gives one clear message that does not say whether the account exists."""
    page.goto("/account/inloggen/")
    assert_accessible(page)
    messages = []
    for username in ("burgemeester.zwolle", "bestaat.niet"):
        login(page, username, "verkeerd-wachtwoord")
        expect(page.get_by_role("alert")).to_contain_text("klopt niet")
        expect(page.get_by_label("Gebruikersnaam")).to_have_value(username)
        messages.append(page.get_by_role("alert").inner_text())
    assert messages[0] == messages[1]
    assert_accessible(page)


def test_language_switch_turns_the_page_english_and_back(page, demo_data):
    """The switch in the header changes the whole page to English and back to Dutch."""
    page.goto("/account/inloggen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("In an emergency: call 112")).to_be_visible()
    page.get_by_role("button", name="Nederlands").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    expect(page.locator("html")).to_have_attribute("lang", "nl")


def test_caribbean_officeholder_sees_911(page, demo_data):
    """People of a BES organisation see 911 as the emergency number; others 112."""
    page.goto("/account/inloggen/")
    expect(page.get_by_text("Bij acuut gevaar: bel 112")).to_be_visible()
    login(page, "eilandsraadslid.saba", DEMO_PASSWORD)
    expect(page.get_by_text("Bij acuut gevaar: bel 911")).to_be_visible()
