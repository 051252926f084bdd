"""Personal API tokens on the profile page (/account/profiel/).

A person creates a named token and sees its key exactly once; the database keeps only a
SHA-256 hash and the first characters (to recognise it in the list). The key works with
`Authorization: Token <key>`, the list shows when it was last used and until when it works,
and revoking it on the same page stops it at once. Nobody can revoke somebody else's token.
A token expires (officeholders 90 days, staff 30 days), and a staff token also stops after
the staff idle timeout without use.
"""

import hashlib
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from rest_framework.test import APIClient

from portal.models import ApiToken
from portal.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KEY_ON_PAGE = re.compile(r'<code class="fingerprint" id="new-api-key">([^<]+)</code>')


@pytest.fixture
def logged_in(client, officeholder):
    client.force_login(officeholder)
    return client


def _create(client, name: str = "Zaaksysteem gemeente") -> tuple[str, str]:
    """Create a token on the profile page; returns (key shown, page HTML)."""
    response = client.post(reverse("profile"), {"name": name})
    assert response.status_code == 200
    page = response.content.decode()
    match = KEY_ON_PAGE.search(page)
    assert match, "the new key is shown on the page"
    return match.group(1), page


def _api(key: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(reverse("api:incident-list"))


def test_the_profile_page_needs_a_login(client):
    """Anonymous visitors are sent to the login page."""
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(logged_in, officeholder):
    """The key appears on the page after creating it; the database holds its hash, not it."""
    key, _page = _create(logged_in)
    token = ApiToken.objects.get(user=officeholder)
    assert token.name == "Zaaksysteem gemeente"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    stored = [str(value) for row in ApiToken.objects.values() for value in row.values()]
    assert not any(key in value for value in stored), "the key itself is never stored"
    assert len(key) >= 40, "the key is long and random"

    again = logged_in.get(reverse("profile")).content.decode()
    assert key not in again, "the key is shown only once"
    assert "Zaaksysteem gemeente" in again
    assert f"{token.prefix}…" in again


def test_two_tokens_have_different_keys(logged_in, officeholder):
    """Every token gets its own random key."""
    first, _ = _create(logged_in, "Eerste")
    second, _ = _create(logged_in, "Tweede")
    assert first != second
    assert ApiToken.objects.filter(user=officeholder).count() == 2


def test_a_token_needs_a_name(logged_in, officeholder):
    """Without a name the form says so and no token is made."""
    response = logged_in.post(reverse("profile"), {"name": ""})
    assert response.status_code == 200
    assert not KEY_ON_PAGE.search(response.content.decode())
    assert not ApiToken.objects.filter(user=officeholder).exists()


def test_the_key_works_in_the_api_and_its_use_shows_on_the_profile(logged_in, officeholder):
    """The shown key authenticates API calls; the list then says when it was last used."""
    key, _page = _create(logged_in)
    assert "nog niet" in logged_in.get(reverse("profile")).content.decode()
    assert _api(key).status_code == 200
    token = ApiToken.objects.get(user=officeholder)
    assert token.last_used_at is not None
    assert "nog niet" not in logged_in.get(reverse("profile")).content.decode()


def test_revoking_on_the_profile_page_stops_the_token(logged_in, officeholder):
    """After revoking, the key gets 401 and the list marks the token as revoked."""
    key, _page = _create(logged_in)
    token = ApiToken.objects.get(user=officeholder)
    response = logged_in.post(reverse("api_token_revoke", args=[token.pk]), follow=True)
    assert response.status_code == 200
    assert "Ingetrokken" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = _api(key)
    assert refused.status_code == 401
    assert refused.json()["error"]["status"] == 401


def test_revoking_needs_a_post(logged_in, officeholder):
    """A link (GET) cannot revoke a token."""
    _create(logged_in)
    token = ApiToken.objects.get(user=officeholder)
    assert logged_in.get(reverse("api_token_revoke", args=[token.pk])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_nobody_can_revoke_somebody_elses_token(logged_in):
    """Revoking another person's token id changes nothing; their key keeps working."""
    other = UserFactory()
    token, key = api_token_create(user=other, name="Van iemand anders")
    logged_in.post(reverse("api_token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is None
    assert _api(key).status_code == 200


def test_the_profile_lists_only_ones_own_tokens(logged_in, officeholder):
    """Somebody else's token names never show on my profile page."""
    api_token_create(user=UserFactory(), name="Geheim systeem van een ander")
    api_token_create(user=officeholder, name="Mijn koppeling")
    page = logged_in.get(reverse("profile")).content.decode()
    assert "Mijn koppeling" in page
    assert "Geheim systeem van een ander" not in page


def test_tokens_expire_after_90_days_for_officeholders_and_30_for_staff(logged_in, officeholder):
    """A token works for a fixed time, shown on the profile page; after it, the key gets 401."""
    key, page = _create(logged_in)
    token = ApiToken.objects.get(user=officeholder)
    assert token.expires_at - token.created_at == timedelta(days=90)
    assert "Een nieuwe sleutel werkt 90 dagen." in page
    assert "Werkt tot" in page
    with translation.override("nl"):
        shown = dateformat.format(
            timezone.localtime(token.expires_at, ZoneInfo("Europe/Amsterdam")), "j M Y H:i"
        )
    assert shown in page

    staff_token, _key = api_token_create(user=UserFactory(registrar=True), name="zaaksysteem")
    assert staff_token.expires_at - staff_token.created_at == timedelta(days=30)

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = _api(key)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert "Verlopen" in logged_in.get(reverse("profile")).content.decode()


def test_a_staff_token_cannot_outlive_the_staff_idle_timeout(settings):
    """The attack: staff sessions end after 30 idle minutes, but a staff token worked on and
    on. Now a staff token that was not used for STAFF_IDLE_TIMEOUT stops working; one that is
    used in time keeps working. An officeholder's token has no idle limit."""
    registrar = UserFactory(registrar=True)
    token, key = api_token_create(user=registrar, name="zaaksysteem")
    assert _api(key).status_code == 200

    almost = timezone.now() - settings.STAFF_IDLE_TIMEOUT + timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=almost)
    assert _api(key).status_code == 200

    idle = timezone.now() - settings.STAFF_IDLE_TIMEOUT - timedelta(seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=idle)
    assert _api(key).status_code == 401

    officeholder_token, officeholder_key = api_token_create(user=UserFactory(), name="app")
    ApiToken.objects.filter(pk=officeholder_token.pk).update(
        last_used_at=timezone.now() - timedelta(days=20)
    )
    assert _api(officeholder_key).status_code == 200


def test_a_staff_profile_says_how_long_tokens_work(client):
    """Staff see the 30 days and the idle limit on their profile page."""
    from tests.conftest import verified_login

    registrar = UserFactory(registrar=True)
    verified_login(client, registrar)
    page = client.get(reverse("profile")).content.decode()
    assert "Een nieuwe sleutel werkt 30 dagen." in page
    assert "Wordt hij 30 minuten niet gebruikt, dan stopt hij eerder." in page
