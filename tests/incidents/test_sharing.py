"""The share target: a shared file is checked, kept encrypted for 15 minutes against a one-time
cookie, shown on the quick report after the login, and filed only when the person sends."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from incidents import sharing
from incidents.models import Evidence, Incident, SharedUpload
from tests.factories import TEST_PASSWORD, UserFactory

SHARE_URL = "/meldingen/delen/"
QUICK_URL = "/meldingen/snel/"


def _screenshot() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 120), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _share(client, data: bytes = None, name: str = "Screenshot_bedreiging.png"):
    upload = io.BytesIO(_screenshot() if data is None else data)
    upload.name = name
    return client.post(SHARE_URL, {"bestand": upload, "title": "", "text": "", "url": ""})


def _log_in(client, user, next_url):
    return client.post(
        f"/account/inloggen/?next={next_url}",
        {"username": user.username, "password": TEST_PASSWORD, "next": next_url},
        follow=True,
    )


@pytest.fixture
def csrf_client():
    """Like a phone's share sheet: no session, no CSRF token, CSRF checks on."""
    return Client(enforce_csrf_checks=True)


@pytest.mark.django_db
def test_share_without_session_goes_through_login_to_a_filled_quick_report(
    csrf_client, private_storage_in_tmp
):
    """The POST needs no token; the file is stored encrypted; after the login the quick report
    shows it by name; only pressing send files an incident, with the file as evidence."""
    officeholder = UserFactory()
    response = _share(csrf_client)
    assert response.status_code == 303
    assert response["Location"] == QUICK_URL
    cookie = response.cookies[sharing.SHARE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/meldingen/"
    assert int(cookie["max-age"]) == 15 * 60
    shared = SharedUpload.objects.get()
    assert shared.owner is None
    stored = (private_storage_in_tmp / shared.upload.name).read_bytes()
    assert b"PNG" not in stored[:64]  # encrypted on disk
    assert Incident.objects.count() == 0

    login_page = csrf_client.get(QUICK_URL)
    assert (
        login_page.status_code == 302
        and "/account/inloggen/?next=/meldingen/snel/" in (login_page["Location"])
    )
    csrf_client.get("/account/inloggen/")  # the login form sets the CSRF cookie
    csrf_client.handler.enforce_csrf_checks = False
    page = _log_in(csrf_client, officeholder, QUICK_URL)
    assert page.redirect_chain[-1][0] == QUICK_URL
    assert "Screenshot_bedreiging.png" in page.content.decode()
    assert Incident.objects.count() == 0
    shared.refresh_from_db()
    assert shared.owner == officeholder

    sent = csrf_client.post(
        QUICK_URL,
        {
            "types": ["threat"],
            "occurred_on": timezone.localdate().isoformat(),
            "summary": "Dreigbericht via Instagram.",
            "submission_token": "5b0b2b1e-0c0a-4c1e-9a55-3a0f7a0d2c11",
        },
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    incident = Incident.objects.get()
    evidence = Evidence.objects.get(incident=incident)
    assert evidence.original_name == "Screenshot_bedreiging.png"
    assert not SharedUpload.objects.exists()
    assert sent.cookies[sharing.SHARE_COOKIE].value == ""  # the one-time cookie is gone
    # The cookie cannot be used again.
    assert "Screenshot_bedreiging.png" not in csrf_client.get(QUICK_URL).content.decode()


@pytest.mark.django_db
def test_shared_file_expires_after_15_minutes(
    client, private_storage_in_tmp, django_capture_on_commit_callbacks
):
    """After 15 minutes the quick report no longer shows it, and the cleanup task deletes the
    row and the encrypted file."""
    officeholder = UserFactory()
    _share(client)
    shared = SharedUpload.objects.get()
    path = private_storage_in_tmp / shared.upload.name
    client.force_login(officeholder)
    later = timezone.now() + timedelta(minutes=14)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert "Screenshot_bedreiging.png" in client.get(QUICK_URL).content.decode()
    later = timezone.now() + timedelta(minutes=15, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert "Screenshot_bedreiging.png" not in client.get(QUICK_URL).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            assert sharing.shared_uploads_remove_expired() == 1
    assert not SharedUpload.objects.exists()
    assert not path.exists()


@pytest.mark.django_db
def test_refused_file_is_not_kept(client, private_storage_in_tmp):
    """A shared file goes through the same checks as an upload: an SVG is refused, with the
    reason, and nothing is stored or filed."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = _share(client, data=svg, name="plaatje.png")
    assert response.status_code == 400
    assert "plaatje.png" in response.content.decode()
    assert sharing.SHARE_COOKIE not in response.cookies
    assert not SharedUpload.objects.exists()


@pytest.mark.django_db
def test_shared_file_is_only_for_the_person_who_claimed_it(
    client, private_storage_in_tmp, django_capture_on_commit_callbacks
):
    """Someone else who logs in on the same browser later does not see the file; the owner can
    remove it, which deletes it at once."""
    owner, other = UserFactory(), UserFactory()
    _share(client)
    client.force_login(owner)
    assert "Screenshot_bedreiging.png" in client.get(QUICK_URL).content.decode()
    client.force_login(other)
    assert "Screenshot_bedreiging.png" not in client.get(QUICK_URL).content.decode()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/meldingen/delen/verwijderen/")
    assert response.status_code == 302
    assert not SharedUpload.objects.exists()


@pytest.mark.django_db
def test_share_without_file_goes_to_the_quick_report(client):
    """Sharing only text or a link stores nothing and opens the quick report."""
    response = client.post(SHARE_URL, {"text": "https://example.org/bericht"})
    assert response.status_code == 302 and response["Location"] == QUICK_URL
    assert not SharedUpload.objects.exists()


def test_share_target_refuses_get(client):
    """Only the share sheet's POST is accepted."""
    assert client.get(SHARE_URL).status_code == 405
