"""Login protection: lockout per username and IP, a rate limit per IP, one message that never
says whether an account exists, the client IP behind a proxy, staff idle expiry and logout
everywhere after a password change."""

import time

import pytest
from django.test import RequestFactory

from portal.login_protection import LOCKOUT_MESSAGE, client_ip
from portal.middleware import LAST_SEEN_SESSION_KEY
from tests.conftest import verified_login

PASSWORD = "een-lang-wachtwoord-voor-tests"
LOGIN_URL = "/account/inloggen/"
WRONG_LOGIN_MESSAGE = "De combinatie van gebruikersnaam en wachtwoord klopt niet"


@pytest.fixture
def mayor(officeholder):
    officeholder.set_password(PASSWORD)
    officeholder.save(update_fields=["password"])
    return officeholder


def _login(client, username, password, ip="192.0.2.10"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_lockout_after_the_failure_limit_for_username_and_ip(client, mayor, settings):
    """After AXES_FAILURE_LIMIT wrong passwords from one IP, even the right password from that
    IP is refused with the lockout message (429)."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, mayor.username, "fout").status_code == 200
    assert _login(client, mayor.username, "fout").status_code == 429

    response = _login(client, mayor.username, PASSWORD)

    assert response.status_code == 429
    assert str(LOCKOUT_MESSAGE) in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_lockout_from_one_ip_does_not_lock_the_mayor_out_elsewhere(client, mayor, settings):
    """Someone failing from their own IP cannot stop the mayor logging in from another IP."""
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        _login(client, mayor.username, "fout", ip="198.51.100.66")

    response = _login(client, mayor.username, PASSWORD, ip="192.0.2.10")

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_one_ip_is_rate_limited_across_usernames(client, mayor, settings):
    """An IP that tries many usernames hits the per-IP limit; other IPs are not affected."""
    settings.LOGIN_IP_RATE_LIMIT = 3
    for number in range(3):
        assert _login(client, f"gok{number}", "fout", ip="203.0.113.5").status_code == 200

    refused = _login(client, mayor.username, PASSWORD, ip="203.0.113.5")
    allowed = _login(client, mayor.username, PASSWORD, ip="192.0.2.10")

    assert refused.status_code == 429
    assert str(LOCKOUT_MESSAGE) in refused.content.decode()
    assert allowed.status_code == 302


@pytest.mark.django_db
def test_same_message_for_an_unknown_user_and_a_wrong_password(client, mayor, settings):
    """Neither the wrong-password message nor the lockout says whether the account exists."""
    unknown = _login(client, "bestaat.niet", "fout").content.decode()
    wrong = _login(client, mayor.username, "fout").content.decode()
    assert WRONG_LOGIN_MESSAGE in unknown
    assert WRONG_LOGIN_MESSAGE in wrong

    for username in ("bestaat.niet", mayor.username):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _login(client, username, "fout")
    locked_unknown = _login(client, "bestaat.niet", "fout")
    locked_known = _login(client, mayor.username, "fout")
    assert locked_unknown.status_code == locked_known.status_code == 429
    assert str(LOCKOUT_MESSAGE) in locked_unknown.content.decode()
    assert str(LOCKOUT_MESSAGE) in locked_known.content.decode()


def test_client_ip_is_remote_addr_without_a_trusted_proxy(settings):
    """By default a forged X-Forwarded-For is ignored: the connection's address counts."""
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )

    assert client_ip(request) == "192.0.2.10"


def test_client_ip_behind_one_trusted_proxy(settings):
    """With TRUSTED_PROXY_COUNT=1 the address our proxy saw is the client's, not a forged one
    further left in X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="10.6.6.6, 198.51.100.7"
    )

    assert client_ip(request) == "198.51.100.7"


def test_client_ip_falls_back_to_remote_addr_when_the_header_is_missing_or_forged(settings):
    """A missing or malformed X-Forwarded-For never yields a made-up address."""
    settings.TRUSTED_PROXY_COUNT = 1
    missing = RequestFactory().get("/", REMOTE_ADDR="172.18.0.2")
    forged = RequestFactory().get(
        "/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="not-an-address"
    )

    assert client_ip(missing) == "172.18.0.2"
    assert client_ip(forged) == "172.18.0.2"


@pytest.mark.django_db
def test_lockout_counts_the_forwarded_client_ip_behind_the_proxy(client, mayor, settings):
    """Behind the proxy, a lockout of one client does not lock out another client that comes
    through the same proxy address."""
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN_URL,
            {"username": mayor.username, "password": "fout"},
            REMOTE_ADDR="172.18.0.2",
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )

    response = client.post(
        LOGIN_URL,
        {"username": mayor.username, "password": PASSWORD},
        REMOTE_ADDR="172.18.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.10",
    )

    assert response.status_code == 302


@pytest.mark.django_db
def test_staff_session_expires_after_30_minutes_idle(client, registrar, settings):
    """A registrar idle for more than 30 minutes is logged out on the next request."""
    assert settings.STAFF_IDLE_TIMEOUT.total_seconds() == 30 * 60
    verified_login(client, registrar)
    assert client.get("/meldpunt/").status_code == 200

    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/meldpunt/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_staff_session_lives_on_when_active_and_is_not_written_every_request(client, registrar):
    """Within the timeout the session stays; the last-seen time is written at most once a
    minute, not on every request."""
    verified_login(client, registrar)
    session = client.session
    recent = int(time.time()) - 29 * 60
    session[LAST_SEEN_SESSION_KEY] = recent
    session.save()

    assert client.get("/meldpunt/").status_code == 200
    refreshed = client.session[LAST_SEEN_SESSION_KEY]
    assert refreshed > recent
    assert client.get("/meldpunt/").status_code == 200
    assert client.session[LAST_SEEN_SESSION_KEY] == refreshed


@pytest.mark.django_db
def test_officeholder_session_is_not_ended_by_the_staff_idle_timeout(client, officeholder):
    """Officeholders keep the normal session age, however long they were idle."""
    client.force_login(officeholder)
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 3 * 60 * 60
    session.save()

    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_password_change_logs_out_every_other_session(client, django_user_model, mayor):
    """Changing the password keeps this session and ends the one on another device."""
    from django.test import Client

    other_device = Client()
    client.force_login(mayor)
    other_device.force_login(mayor)
    assert other_device.get("/").status_code == 200

    page = client.get("/account/wachtwoord-wijzigen/")
    assert page.status_code == 200
    response = client.post(
        "/account/wachtwoord-wijzigen/",
        {
            "old_password": PASSWORD,
            "new_password1": "nieuw-en-lang-wachtwoord-2026",
            "new_password2": "nieuw-en-lang-wachtwoord-2026",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/profiel/"
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302


@pytest.mark.django_db
def test_profile_links_to_password_change(client, officeholder):
    """The profile page offers the password change."""
    client.force_login(officeholder)

    page = client.get("/account/profiel/").content.decode()

    assert 'href="/account/wachtwoord-wijzigen/"' in page
