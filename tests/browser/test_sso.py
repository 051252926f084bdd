"""Single sign-on in Chromium against a real OpenID provider on loopback (tests/oidc_provider).

A registrar of Meldpunt Utrecht logs in with their organisation's account and reaches the
queue; an unprovisioned subject, a token for another audience and a person disabled at the
provider get in nowhere.
"""

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from portal.models import ExternalIdentity, IdentityProvider, TotpDevice
from portal.two_factor import totp_code
from tests.browser.fixtures import allow_origin, assert_accessible
from tests.factories import DeskFactory, UserFactory

pytestmark = pytest.mark.browser

QUEUE_HEADING = "Meldingen van uw meldpunt"


@pytest.fixture
def utrecht(oidc_provider):
    """Meldpunt Utrecht with its provider and one registrar, Ineke, linked as "ineke"."""
    client_id, secret = oidc_provider.client("meldpunt-utrecht")
    provider = IdentityProvider.objects.create(
        name="Gemeente Utrecht",
        desk=DeskFactory(name="Meldpunt Utrecht"),
        issuer=oidc_provider.issuer,
        client_id=client_id,
        client_secret=secret,
        mfa_acr_values="urn:test:mfa",
    )
    registrar = UserFactory(registrar=True, desk=provider.desk, first_name="Ineke")
    registrar.set_unusable_password()
    registrar.save()
    ExternalIdentity.objects.create(
        person=registrar,
        provider=provider,
        issuer=provider.issuer,
        subject="ineke",
        linked_at="2026-12-01T09:00Z",
    )
    return registrar


def sign_in_with_organisation(page, oidc_provider, account, *, check_pages=False):
    allow_origin(page, oidc_provider.issuer)
    page.goto("/meldpunt/")
    page.get_by_role("link", name="Inloggen met uw organisatie").click()
    if check_pages:
        assert_accessible(page)
    page.get_by_role("link", name="Inloggen met Gemeente Utrecht").click()
    page.get_by_label("Account").fill(account)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()


def test_registrar_with_mfa_at_the_provider_reaches_the_queue_and_logs_out_there_too(
    page, oidc_provider, utrecht
):
    oidc_provider.account_set("ineke", mfa=True)
    page.goto("/account/inloggen/")
    assert_accessible(page)

    sign_in_with_organisation(page, oidc_provider, "ineke", check_pages=True)

    expect(page.get_by_role("heading", level=1)).to_have_text(QUEUE_HEADING)
    utrecht.refresh_from_db()
    assert not utrecht.has_usable_password()

    page.get_by_role("button", name="Uitloggen").click()
    offer = page.get_by_role("link", name="Ook uitloggen bij Gemeente Utrecht")
    expect(offer).to_be_visible()
    assert_accessible(page)
    offer.click()
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    # Logged out at the provider as well: the next login asks for the account again.
    page.get_by_role("link", name="Inloggen met uw organisatie").click()
    page.get_by_role("link", name="Inloggen met Gemeente Utrecht").click()
    expect(page.get_by_label("Account")).to_be_visible()


def test_without_mfa_at_the_provider_the_portals_code_step_follows(page, oidc_provider, utrecht):
    device = TotpDevice.objects.create(user=utrecht, name="Authenticator-app", confirmed=True)
    oidc_provider.account_set("ineke", mfa=False)

    sign_in_with_organisation(page, oidc_provider, "ineke")

    assert "/account/tweestapsverificatie/" in page.url
    page.locator("input[name=code]").fill(totp_code(device))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(QUEUE_HEADING)


@pytest.mark.parametrize(
    ("account", "audience", "message"),
    [
        ("onbekend", None, "dat account is hier niet bekend"),
        ("ineke", "other-app", "Uw organisatie heeft het inloggen niet bevestigd"),
    ],
    ids=["unprovisioned subject", "token for another audience"],
)
def test_refused_logins_end_on_the_login_page_with_a_message(
    page, oidc_provider, utrecht, account, audience, message
):
    oidc_provider.account_set(account, mfa=True, audience=audience)

    sign_in_with_organisation(page, oidc_provider, account)

    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    expect(page.get_by_text(message)).to_be_visible()
    page.goto("/meldpunt/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")


def test_session_refresh_logs_out_a_person_disabled_at_the_provider(page, oidc_provider, utrecht):
    oidc_provider.account_set("ineke", mfa=True)
    sign_in_with_organisation(page, oidc_provider, "ineke")
    expect(page.get_by_role("heading", level=1)).to_have_text(QUEUE_HEADING)

    def recheck_is_due():
        (cookie,) = [c for c in page.context.cookies() if c["name"] == "sessionid"]
        session = SessionStore(session_key=cookie["value"])
        session["oidc_id_token_expiration"] = time.time() - 1
        session.save()

    # Known at the provider: the re-check passes unseen and the page opens.
    recheck_is_due()
    page.goto("/meldpunt/")
    expect(page.get_by_role("heading", level=1)).to_have_text(QUEUE_HEADING)

    oidc_provider.account_set("ineke", disabled=True)
    recheck_is_due()
    page.goto("/meldpunt/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    expect(page.get_by_text("omdat uw organisatie uw inlog niet meer bevestigt")).to_be_visible()
    assert_accessible(page)
