"""Error pages: the portal's own page for people, the API's JSON shape under /api/.

Too many files or too much form data end on templates/400.html (Dutch, the layout and the
emergency notice), never on Django's bare page; under /api/ every error, an unexpected
exception included, answers in the API's error shape. The error templates also render
without a request, as Django renders 400 and 500 by default.
"""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.template import loader
from django.test import Client, RequestFactory
from django.urls import reverse

from portal import error_pages as errors
from portal.services import api_token_create
from tests.api.conftest import token_client

EMERGENCY_NOTICE = 'Bij acuut gevaar: bel <a href="tel:112">112</a>'
TOO_MUCH_TITLE = "Dit kon niet worden verwerkt"


def _assert_portal_page(response, status: int, text: str) -> str:
    """The response is the portal's own page: status, layout, emergency notice, Dutch."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert text in page
    assert EMERGENCY_NOTICE in page
    assert 'class="site-name' in page, "the portal's layout (header) is missing"
    assert reverse("privacy") in page, "the portal's layout (footer) is missing"
    assert '<html lang="nl">' in page
    return page


def _assert_api_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = json.loads(response.content)["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"]


@pytest.mark.django_db
def test_too_many_files_end_on_the_portals_400_page(client, officeholder, settings):
    """More files than DATA_UPLOAD_MAX_NUMBER_FILES in one quick report: the 400 page in Dutch
    with the layout and the emergency notice, and nothing is filed."""
    client.force_login(officeholder)
    files = [
        SimpleUploadedFile(f"foto-{number}.txt", b"tekst", content_type="text/plain")
        for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]

    response = client.post(
        reverse("incidents:quick"),
        {"types": ["threat"], "summary": "Bedreigd.", "evidence": files},
    )

    _assert_portal_page(response, 400, TOO_MUCH_TITLE)
    assert not officeholder.incidents.exists()


@pytest.mark.django_db
def test_too_many_form_fields_end_on_the_portals_400_page(client, officeholder, settings):
    """More fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: the same 400 page, not a bare one."""
    client.force_login(officeholder)
    data = {f"veld{number}": "x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = client.post(reverse("incidents:quick"), data)

    _assert_portal_page(response, 400, TOO_MUCH_TITLE)


@pytest.mark.django_db
def test_too_much_form_data_answers_400_for_an_anonymous_visitor(client, settings):
    """Form data over DATA_UPLOAD_MAX_MEMORY_SIZE on the login form: the 400 page too."""
    too_long = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client.post(reverse("login"), {"username": too_long, "password": "x"})

    _assert_portal_page(response, 400, TOO_MUCH_TITLE)


@pytest.mark.django_db
def test_too_many_fields_in_the_api_answer_400_as_json(officeholder, settings):
    """The same limit under /api/: the API's error shape, not the HTML page."""
    _token, key = api_token_create(user=officeholder, name="test")
    data = {f"veld{number}": "x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = token_client(key).post("/api/v1/incidents/", data, format="multipart")

    _assert_api_error(response, 400, "bad_request")


@pytest.mark.django_db
def test_an_unexpected_exception_in_the_api_answers_500_as_json(officeholder, monkeypatch):
    """An exception no view expected: 500 in the API's error shape, never Django's HTML."""
    _token, key = api_token_create(user=officeholder, name="test")

    def broken(self):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr("portal.api.views.NotificationViewSet.get_queryset", broken)

    response = token_client(key, raise_request_exception=False).get("/api/v1/notifications/")

    _assert_api_error(response, 500, "server_error")
    assert "simulated failure" not in response.content.decode()


@pytest.mark.django_db
def test_an_unexpected_exception_on_a_page_answers_the_500_page(officeholder, monkeypatch):
    """On a web page the standalone 500 page, with the emergency numbers."""
    client = Client(raise_request_exception=False)
    client.force_login(officeholder)

    def broken(**kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr("portal.views.selectors.notifications_for", broken)

    response = client.get(reverse("notifications"))

    assert response.status_code == 500
    page = response.content.decode()
    assert "Er ging iets mis" in page
    assert "112" in page and "911" in page
    assert "simulated failure" not in page


@pytest.mark.django_db
def test_an_unknown_page_answers_the_portals_404_page(client):
    response = client.get("/bestaat-niet/")

    _assert_portal_page(response, 404, "Pagina niet gevonden")


@pytest.mark.parametrize("template_name", ["400.html", "403.html", "404.html", "500.html"])
def test_error_templates_render_without_a_request(template_name):
    """As Django's default 400 and 500 views do: no request, no context processors."""
    page = loader.get_template(template_name).render()

    assert "112" in page


def _bare_request(path: str):
    """A request as the error handlers get it before any view ran: a user, a session."""
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    request.session = SessionStore()
    return request


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("handler", "exception", "status", "text"),
    [
        (errors.bad_request, None, 400, TOO_MUCH_TITLE),
        (errors.permission_denied, PermissionDenied(), 403, "Geen toegang"),
        (errors.page_not_found, Http404(), 404, "Pagina niet gevonden"),
    ],
)
def test_error_handlers_render_the_portals_page_for_a_web_path(handler, exception, status, text):
    response = handler(_bare_request("/meldingen/"), exception)

    _assert_portal_page(response, status, text)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("handler", "exception", "status", "code"),
    [
        (errors.bad_request, None, 400, "bad_request"),
        (errors.permission_denied, PermissionDenied(), 403, "permission_denied"),
        (errors.page_not_found, Http404(), 404, "not_found"),
    ],
)
def test_error_handlers_answer_json_under_the_api(handler, exception, status, code):
    response = handler(_bare_request("/api/v1/incidents/"), exception)

    _assert_api_error(response, status, code)


def test_the_500_handler_answers_json_under_the_api():
    _assert_api_error(errors.server_error(RequestFactory().get("/api/v1/")), 500, "server_error")


@pytest.mark.django_db
def test_a_form_without_a_valid_csrf_token_gets_the_portals_page(officeholder):
    """A form that arrives without its CSRF token (cookies wiped, a very old tab) answers
    with the portal's own page: nothing was sent, and how to send it again."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(officeholder)

    response = client.post(reverse("incidents:quick"), {"summary": "Bedreigd"})

    page = _assert_portal_page(response, 403, "Dit formulier is verlopen")
    assert "niet verstuurd" in page
    assert "CSRF verification failed" not in page


@pytest.mark.django_db
def test_an_api_call_without_a_valid_csrf_token_answers_in_the_api_shape():
    response = errors.csrf_failure(_bare_request("/api/v1/incidents/"), reason="no token")

    _assert_api_error(response, 403, "csrf_failed")


def test_postgresql_connections_give_up_after_the_connect_timeout():
    """A database that does not answer fails within DATABASE_CONNECT_TIMEOUT seconds."""
    from django.conf import settings

    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5
