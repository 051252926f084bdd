"""Security headers on every response, `Cache-Control: no-store` on every authenticated one,
secure cookies, a clean `check --deploy` with production settings, and the API documentation
working under the Content-Security-Policy."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from tests.api.conftest import token_client
from tests.security.conftest import log_in

STRONG_SECRET_KEY = "deploy-check-only-aX9#kP2$vL7@qR4!mN8&wZ3^tY6*bH1%cF5-gJ0+dS9=eU2"


def _csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/account/inloggen/", "/privacy/", "/api/schema/"])
def test_security_headers_are_present(client, url):
    """CSP without inline scripts, no framing, a referrer policy and nosniff."""
    response = client.get(url)

    directives = _csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_api_docs_relax_only_styles(client, officeholder):
    """The Swagger page allows inline styles for itself; never inline scripts."""
    client.force_login(officeholder)
    directives = _csp_directives(client.get("/api/docs/"))

    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in directives["style-src"]
    assert "'unsafe-inline'" not in _csp_directives(client.get("/privacy/"))["style-src"]


def _no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and "private" in directives


def test_every_authenticated_answer_says_no_store(world):
    """The attack: a shared computer's browser cache (or a proxy) kept authenticated pages
    and API answers. Now pages, API answers and downloads of a logged-in person or a token all
    send `Cache-Control: no-store, private`; a public page for a visitor does not need to."""
    owner, registrar = world.users["owner"], world.users["registrar"]
    submitted, escalated = world.incidents["submitted"], world.incidents["escalated"]
    web = Client()
    log_in(web, owner)
    desk = Client()
    log_in(desk, registrar)
    api = token_client(world.tokens["owner"])
    session_api = Client()
    log_in(session_api, owner)
    answers = {
        "home": web.get(reverse("home")),
        "incident page": web.get(submitted.get_absolute_url()),
        "profile": web.get(reverse("profile")),
        "notifications": web.get(reverse("notifications")),
        "evidence download": web.get(world.evidence["submitted"].get_absolute_url()),
        "desk queue": desk.get(reverse("desk:queue")),
        "desk incident": desk.get(
            reverse("desk:detail", kwargs={"reference": submitted.reference})
        ),
        "api list": api.get(reverse("api:incident-list")),
        "api detail": api.get(
            reverse("api:incident-detail", kwargs={"reference": escalated.reference})
        ),
        "api download": api.get(
            reverse(
                "api:incident-evidence-download",
                kwargs={"reference": escalated.reference, "pk": world.evidence["escalated"].pk},
            )
        ),
        "api with a session": session_api.get(reverse("api:notification-list")),
        "api 404 with a token": api.get(
            reverse("api:incident-detail", kwargs={"reference": "MWB-2000-000001"})
        ),
    }
    for name, response in answers.items():
        assert response.status_code in (200, 404), (name, response.status_code)
        assert _no_store(response), (name, response.get("Cache-Control"))
    assert not _no_store(Client().get(reverse("privacy")))


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_and_http_only(client, officeholder):
    """With DEBUG off both cookies are Secure and HttpOnly."""
    assert not settings.DEBUG
    officeholder.set_password("een-lang-wachtwoord-voor-tests")
    officeholder.save(update_fields=["password"])
    client.get("/account/inloggen/")
    client.post(
        "/account/inloggen/",
        {"username": officeholder.username, "password": "een-lang-wachtwoord-voor-tests"},
    )

    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        cookie = client.cookies[name]
        assert cookie["secure"], name
        assert cookie["httponly"], name


def test_hsts_is_on_in_production():
    """DEBUG off: a year of HSTS, subdomains included, preload-ready (over https)."""
    assert not settings.DEBUG
    assert settings.SECURE_HSTS_SECONDS >= 31_536_000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.SECURE_HSTS_PRELOAD


def test_check_deploy_reports_nothing_with_production_settings():
    """`manage.py check --deploy --fail-level WARNING` is clean in a fresh process with the
    production environment."""
    env = {
        # The tests' own relaxations (Playwright, the loopback stacks) are no production
        # settings.
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "LOOPBACK_TEST_STACK"}
        },
        "DEBUG": "false",
        "SECRET_KEY": STRONG_SECRET_KEY,
        "SECURE_SSL_REDIRECT": "true",
        "ALLOWED_HOSTS": "meldpunt.example.nl",
        "CSRF_TRUSTED_ORIGINS": "https://meldpunt.example.nl",
        "PORTAL_BASE_URL": "https://meldpunt.example.nl",
        "EMAIL_HOST": "smtp.example.nl",
        "DEFAULT_FROM_EMAIL": "noreply@meldpunt.example.nl",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_work_under_the_content_security_policy(page, log_in):
    """Swagger UI (split view, local assets) renders with no console error, CSP included,
    for a logged-in person (in production the docs need a login).

    Swagger UI sets inline styles, so /api/docs/ alone allows them; scripts stay 'self'."""
    from tests.factories import TEST_PASSWORD, UserFactory

    log_in(page, UserFactory().username, TEST_PASSWORD)
    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Meldpunt Weerbaar Bestuur API"
    )
