"""Never lose typed text: a form sent after the session ended comes back after logging in.

Through the test client; the browser flow (the text really back in the fields) is in
tests/browser/test_officeholder_side.py.
"""

import json
import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portal import crypto, services
from portal.kept_forms import ACCOUNT_COOKIE, KEPT_COOKIE
from portal.middleware import LAST_SEEN_SESSION_KEY
from portal.models import KeptForm
from tests.conftest import verified_login
from tests.factories import TEST_PASSWORD, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/account/inloggen/"
SUMMARY = "Man schreeuwde dat hij mij thuis weet te vinden"


def _log_in(client, user, next_url):
    return client.post(
        LOGIN_URL, {"username": user.username, "password": TEST_PASSWORD, "next": next_url}
    )


def _session_lost(client):
    """As when the session expired: the browser keeps its other cookies, not the session."""
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)


def _kept_json(response):
    match = re.search(
        r'<script id="kept-form" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return None if match is None else json.loads(match.group(1))


def _quick_post(client):
    return client.post(
        reverse("incidents:quick"),
        {
            "types": ["threat"],
            "occurred_on": timezone.localdate().isoformat(),
            "summary": SUMMARY,
            "csrfmiddlewaretoken": "old-token",
        },
    )


def test_expired_quick_report_is_kept_and_comes_back_once_after_login(client, officeholder):
    """The POST goes to login (with the form page as next), the login page says the text is
    kept, and after login the form page holds the text once, with the message."""
    _log_in(client, officeholder, "/")
    _session_lost(client)

    response = _quick_post(client)

    quick = reverse("incidents:quick")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next={quick}"
    assert client.cookies[KEPT_COOKIE].value
    login_page = client.get(response["Location"])
    assert "Uw tekst is bewaard" in login_page.content.decode()

    after = _log_in(client, officeholder, quick)
    assert after["Location"] == quick
    page = client.get(quick)
    kept = _kept_json(page)
    assert kept["action"] == quick
    assert kept["fields"]["summary"] == [SUMMARY]
    assert kept["fields"]["types"] == ["threat"]
    assert "csrfmiddlewaretoken" not in kept["fields"]
    assert "U was te lang niet actief. Uw tekst is bewaard." in page.content.decode()
    assert client.cookies[KEPT_COOKIE].value == ""  # removed

    assert _kept_json(client.get(quick)) is None
    assert not KeptForm.objects.exists()


def test_kept_text_is_never_given_to_another_account(client, officeholder, organisation):
    """Someone else logging in on the same browser gets nothing, and the text is removed."""
    _log_in(client, officeholder, "/")
    _session_lost(client)
    _quick_post(client)
    other = UserFactory(organisation=organisation)

    _log_in(client, other, reverse("incidents:quick"))
    page = client.get(reverse("incidents:quick"))

    assert _kept_json(page) is None
    assert SUMMARY not in page.content.decode()
    assert not KeptForm.objects.exists()


def test_kept_text_is_stored_unreadable_without_the_browser(client, officeholder):
    """The row holds neither the text in plain form nor in a form the field keys alone read."""
    _log_in(client, officeholder, "/")
    _session_lost(client)
    _quick_post(client)

    kept = KeptForm.objects.get()
    assert kept.user == officeholder
    assert SUMMARY not in kept.content
    with pytest.raises(crypto.EncryptionKeyError):
        crypto.browser_bound_decrypt("another-browser", kept.content)
    token = client.cookies[KEPT_COOKIE].value
    assert kept.token_hash == crypto.browser_token_hash(token)
    assert SUMMARY in crypto.browser_bound_decrypt(token, kept.content)


def test_expired_kept_form_is_not_given_back_and_is_purged(client, officeholder):
    """After KEPT_FORM_MINUTES the text is gone: not restored, removed by the sweeper."""
    _log_in(client, officeholder, "/")
    _session_lost(client)
    _quick_post(client)
    KeptForm.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    _log_in(client, officeholder, reverse("incidents:quick"))

    assert _kept_json(client.get(reverse("incidents:quick"))) is None
    assert services.kept_forms_purge() == 1


def test_post_only_address_sends_back_to_the_page_with_the_form(client, officeholder):
    """A message sent from the incident page: after login the person is on that page (no 405)."""
    incident = IncidentFactory(officeholder=officeholder)
    detail = incident.get_absolute_url()
    _log_in(client, officeholder, "/")
    _session_lost(client)

    response = client.post(
        reverse("incidents:message", args=[incident.reference]),
        {"body": "Ik wil graag gebeld worden"},
        HTTP_REFERER=f"http://testserver{detail}",
    )

    assert response["Location"] == f"{LOGIN_URL}?next={detail}"
    _log_in(client, officeholder, detail)
    page = client.get(detail)
    assert page.status_code == 200
    kept = _kept_json(page)
    assert kept["action"] == reverse("incidents:message", args=[incident.reference])
    assert kept["fields"]["body"] == ["Ik wil graag gebeld worden"]


def test_referer_of_another_site_is_not_followed(client, officeholder):
    """Only a same-site referring page becomes `next`."""
    _log_in(client, officeholder, "/")
    _session_lost(client)

    response = client.post(
        reverse("incidents:quick"),
        {"summary": SUMMARY},
        HTTP_REFERER="https://elders.example/melden/",
    )

    assert response["Location"] == f"{LOGIN_URL}?next={reverse('incidents:quick')}"


def test_without_a_known_account_nothing_is_kept(client):
    """A browser on which nobody logged in keeps nothing (nobody to give it back to)."""
    response = _quick_post(client)

    assert response.status_code == 302
    assert not KeptForm.objects.exists()
    assert KEPT_COOKIE not in client.cookies


def test_forged_account_cookie_keeps_nothing(client, officeholder):
    """The account cookie is signed: a made-up value names nobody."""
    client.cookies[ACCOUNT_COOKIE] = str(officeholder.pk)

    _quick_post(client)

    assert not KeptForm.objects.exists()


def test_staff_note_after_the_idle_timeout_is_kept(client, registrar, organisation):
    """A registrar's note sent after STAFF_IDLE_TIMEOUT is kept for that registrar; the login
    page says why instead of only "log in"."""
    incident = IncidentFactory(officeholder=UserFactory(organisation=organisation))
    detail = reverse("desk:detail", args=[incident.reference])
    verified_login(client, registrar)
    client.cookies[ACCOUNT_COOKIE] = _account_cookie_value(registrar)
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 31 * 60
    session.save()

    response = client.post(
        reverse("desk:note", args=[incident.reference]),
        {"body": "Gebeld met de burgemeester, volgt morgen"},
        HTTP_REFERER=f"http://testserver{detail}",
    )

    assert response["Location"] == f"{LOGIN_URL}?next={detail}"
    kept = KeptForm.objects.get()
    assert kept.user == registrar
    assert kept.page == detail
    assert "Uw tekst is bewaard" in client.get(response["Location"]).content.decode()


def _account_cookie_value(user):
    from django.http import HttpResponse

    from portal.kept_forms import account_cookie_set

    response = HttpResponse()
    account_cookie_set(response, user=user)
    return response.cookies[ACCOUNT_COOKIE].value


def test_staff_keep_alive_starts_the_idle_time_again(client, registrar):
    """ "Ingelogd blijven" answers JSON for the script and resets the idle clock."""
    verified_login(client, registrar)
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 26 * 60
    session.save()

    response = client.post(reverse("keep_alive"), HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {"idle_timeout_seconds": 30 * 60}
    assert client.session[LAST_SEEN_SESSION_KEY] >= int(time.time()) - 2


def test_staff_pages_carry_the_idle_warning_and_officeholder_pages_do_not(
    client, registrar, officeholder
):
    """The warning with "Ingelogd blijven" is on staff pages only, 5 minutes before 30."""
    verified_login(client, registrar)
    page = client.get(reverse("home")).content.decode()
    assert 'data-timeout="1800"' in page and 'data-warning="300"' in page
    assert "Ingelogd blijven" in page

    client.force_login(officeholder)
    assert "Ingelogd blijven" not in client.get(reverse("home")).content.decode()
