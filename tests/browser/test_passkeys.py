"""Passkeys in Chromium with a virtual authenticator (the DevTools WebAuthn domain).

The authenticator is a platform authenticator with user verification (a fingerprint that
always matches), like a phone's. The relying party is the host of PORTAL_BASE_URL, here the
live server on `localhost`.
"""

import pytest
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from portal.models import Notification
from tests.browser.fixtures import assert_accessible, expect_console_error, login
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def portal_on_live_server(settings, live_server):
    settings.PORTAL_BASE_URL = live_server.url
    assert "localhost" in live_server.url
    return live_server


def virtual_authenticator(page) -> tuple:
    """Attach a phone-like authenticator (internal, resident keys, verifies the user)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def log_out(page) -> None:
    page.get_by_role("button", name="Uitloggen").first.click()
    page.wait_for_url("**/account/inloggen/")


def test_officeholder_adds_a_passkey_logs_in_with_it_alone_and_removes_it(
    page, portal_on_live_server
):
    """Add on the profile (e-mail "was u dit?"), log out, log in with only the passkey,
    remove it: the person's other sessions end and the passkey no longer logs in."""
    officeholder = UserFactory(username="wethouder.passkey")
    cdp, authenticator = virtual_authenticator(page)
    login(page, officeholder.username, TEST_PASSWORD)
    page.goto("/account/profiel/")
    page.get_by_role("button", name="Passkey toevoegen").click()
    expect(page.get_by_text("De passkey is toegevoegd.")).to_be_visible()
    expect(page.locator("#passkey-list li")).to_have_count(1)
    assert_accessible(page)
    passkey = WebAuthnCredential.objects.get(user=officeholder)
    assert passkey.discoverable is True
    assert Notification.objects.filter(
        recipient=officeholder, kind="security_passkey_added"
    ).exists()
    assert (
        len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"])
        == 1
    )

    log_out(page)
    page.goto("/account/inloggen/?next=/meldingen/")
    page.get_by_role("button", name="Inloggen met een passkey").click()
    page.wait_for_url("**/meldingen/")
    expect(
        page.get_by_role("link", name=f"Ingelogd als {officeholder.get_full_name()}")
    ).to_be_visible()
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    # A second browser that is logged in with the password; removing the passkey ends it.
    other = page.context.browser.new_context(
        base_url=portal_on_live_server.url, locale="nl-NL", service_workers="block"
    )
    other_page = other.new_page()
    login(other_page, officeholder.username, TEST_PASSWORD)
    other_page.goto("/account/profiel/")
    expect(other_page).to_have_url(f"{portal_on_live_server.url}/account/profiel/")

    page.goto("/account/profiel/")
    page.locator("#passkey-list").get_by_role("button", name=passkey.name).click()
    expect(page.get_by_text("De passkey is verwijderd.")).to_be_visible()
    expect(page.locator("#passkey-list")).to_have_count(0)
    assert not WebAuthnCredential.objects.filter(user=officeholder).exists()
    other_page.goto("/account/profiel/")
    assert "/account/inloggen/" in other_page.url
    other.close()

    # The authenticator still holds the key, but the portal no longer knows it.
    expect_console_error(page, "status of 404")
    log_out(page)
    page.get_by_role("button", name="Inloggen met een passkey").click()
    expect(page.locator("#passkey-verification-status-message")).to_contain_text("niet gevonden")
    assert "/account/inloggen/" in page.url
    kinds = set(Notification.objects.filter(recipient=officeholder).values_list("kind", flat=True))
    assert {"security_passkey_added", "security_passkey_removed"} <= kinds


def test_staff_uses_a_passkey_as_second_factor_never_alone(page, portal_on_live_server):
    """A registrar logs in with password and then the passkey instead of the app's code; the
    passkey alone (without the password) is refused with a clear message."""
    registrar = UserFactory(registrar=True, username="meldpunt.passkey")
    virtual_authenticator(page)
    login(page, registrar.username, TEST_PASSWORD)  # password + app code (set up earlier)
    page.goto("/account/profiel/")
    page.get_by_role("button", name="Passkey toevoegen").click()
    expect(page.get_by_text("Na uw wachtwoord kunt u daarmee bevestigen.")).to_be_visible()
    log_out(page)

    # The passkey alone does not open a staff account.
    expect_console_error(page, "status of 403")
    page.get_by_role("button", name="Inloggen met een passkey").click()
    expect(page.locator("#passkey-verification-status-message")).to_contain_text(
        "eerst in met hun wachtwoord"
    )
    page.goto("/meldpunt/")
    assert "/account/inloggen/" in page.url

    # Password first, then the passkey in the second-factor step.
    page.goto("/account/inloggen/?next=/meldpunt/")
    page.get_by_label("Gebruikersnaam").fill(registrar.username)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Inloggen", exact=True).click()
    page.wait_for_url("**/account/tweestapsverificatie/**")
    assert_accessible(page)
    page.get_by_role("button", name="Bevestigen met een passkey").click()
    page.wait_for_url("**/meldpunt/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
