"""Passkeys outside the browser: removing one works like resetting a lost phone, and the
portal offers them only where WebAuthn can work.

The ceremonies themselves (add, log in with one alone, staff second factor) run in Chromium
with a virtual authenticator: tests/browser/test_passkeys.py.
"""

import secrets

import pytest
from django.core import mail
from django.test import Client, RequestFactory, override_settings
from django_otp_webauthn.models import WebAuthnCredential
from rest_framework.test import APIClient

from portal.passkeys import (
    passkey_login_allowed_without_password,
    passkeys_unavailable_reason,
    relying_party_id,
)
from portal.services import api_token_create, passkey_remove
from tests.conftest import verified_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROFILE_URL = "/account/profiel/"


def _passkey(user, name="Telefoon") -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=secrets.token_bytes(32),
        public_key=secrets.token_bytes(64),
        aaguid="00000000-0000-0000-0000-000000000000",
    )


def _token_works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/notifications/").status_code == 200


def test_removing_own_passkey_ends_other_sessions_revokes_tokens_and_tells_the_person(
    officeholder, committed
):
    """The person removes a lost phone's passkey on the profile: the phone's session ends,
    their API tokens stop working, they get a "was u dit?" e-mail, and this session stays."""
    passkey = _passkey(officeholder)
    kept = _passkey(officeholder, name="Laptop")
    lost_phone = verified_login(Client(), officeholder)
    here = verified_login(Client(), officeholder)
    _token, key = api_token_create(user=officeholder, name="koppeling")
    mail.outbox.clear()

    with committed():
        response = here.post(f"/account/profiel/passkeys/{passkey.pk}/verwijderen/")

    assert response.status_code == 302 and response["Location"] == PROFILE_URL
    assert list(WebAuthnCredential.objects.filter(user=officeholder)) == [kept]
    assert lost_phone.get(PROFILE_URL).status_code == 302
    assert here.get(PROFILE_URL).status_code == 200
    assert not _token_works(key)
    assert mail.outbox and {tuple(message.to) for message in mail.outbox} == {(officeholder.email,)}


def test_nobody_removes_another_persons_passkey(officeholder, committed):
    """Another person's passkey id changes nothing: no removal, no session ends, no e-mail."""
    other = UserFactory(organisation=officeholder.organisation)
    theirs = _passkey(other)
    their_session = verified_login(Client(), other)
    client = verified_login(Client(), officeholder)
    mail.outbox.clear()

    with committed():
        client.post(f"/account/profiel/passkeys/{theirs.pk}/verwijderen/")

    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    assert their_session.get(PROFILE_URL).status_code == 200
    assert not mail.outbox
    assert passkey_remove(user=officeholder, passkey_id=theirs.pk) is False


def test_the_administrator_deletes_a_passkey_like_a_lost_phone(registrar, admin_user, committed):
    """Deleting a passkey in the admin ends every session of its owner, revokes their tokens
    and e-mails them; the admin cannot add or change one."""
    passkey = _passkey(registrar)
    session = verified_login(Client(), registrar)
    _token, key = api_token_create(user=registrar, name="zaaksysteem")
    admin = verified_login(Client(), admin_user)
    mail.outbox.clear()

    url = f"/beheer/django_otp_webauthn/webauthncredential/{passkey.pk}/"
    assert admin.get("/beheer/django_otp_webauthn/webauthncredential/add/").status_code == 403
    with committed():
        response = admin.post(url + "delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=registrar).exists()
    assert session.get("/meldpunt/").status_code == 302
    assert not _token_works(key)
    assert mail.outbox and {tuple(message.to) for message in mail.outbox} == {(registrar.email,)}


def test_a_passkey_alone_opens_only_an_officeholders_account(officeholder, registrar):
    """Officeholders may log in with a passkey alone; staff use it after their password."""
    assert passkey_login_allowed_without_password(officeholder)
    assert not passkey_login_allowed_without_password(registrar)
    officeholder.is_active = False
    assert not passkey_login_allowed_without_password(officeholder)


@pytest.mark.parametrize(
    ("base_url", "host", "available"),
    [
        ("http://localhost:8000", "localhost:8000", True),
        ("https://meldpunt.example.nl", "meldpunt.example.nl", True),
        ("https://meldpunt.example.nl", "meldpunt.example.nl:443", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", False),
        ("http://[::1]:8000", "[::1]:8000", False),
        ("https://meldpunt.example.nl", "andere-naam.example.nl", False),
    ],
)
def test_passkeys_are_offered_only_on_the_portals_own_named_address(base_url, host, available):
    """WebAuthn refuses IP addresses and checks the origin: on an IP address, or on another
    address than PORTAL_BASE_URL, the page explains why instead of offering passkeys."""
    request = RequestFactory().get("/account/inloggen/", HTTP_HOST=host)
    with override_settings(PORTAL_BASE_URL=base_url, ALLOWED_HOSTS=["*"]):
        reason = passkeys_unavailable_reason(request)
        assert (reason == "") is available
        if not available:
            assert "passkey" in reason.lower()


def test_the_relying_party_is_the_host_of_the_portal_address_without_port():
    with override_settings(PORTAL_BASE_URL="https://Meldpunt.Example.nl:8443"):
        assert relying_party_id() == "meldpunt.example.nl"


def test_the_login_page_hides_passkeys_on_an_ip_address(client):
    """On an IP address the login page says why there is no passkey button."""
    with override_settings(PORTAL_BASE_URL="http://127.0.0.1:8000"):
        page = client.get("/account/inloggen/").content.decode()
    assert 'id="passkeys-unavailable"' in page and "IP-adres" in page
    assert "passkey-verification-button" not in page
    with override_settings(PORTAL_BASE_URL="http://testserver"):
        page = client.get("/account/inloggen/").content.decode()
    assert "passkey-verification-button" in page
