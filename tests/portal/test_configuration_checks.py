"""With DEBUG off the portal refuses configuration that would fail later (portal.E002).

Each refusal is checked on the check itself (fast, in this process); two run as an operator
would meet them: the WSGI application (what gunicorn loads) does not start, and
`check --deploy --fail-level WARNING` fails while LOOPBACK_TEST_STACK is on.
"""

import pytest
from cryptography.fernet import Fernet
from django.core.checks import Error, Warning

from portal.checks import check_configuration, configuration_problems
from tests.portal.test_deployment import check_deploy, load_settings, readme_production_settings

GOOD = {
    "DEBUG": False,
    "LOOPBACK_TEST_STACK": False,
    "PORTAL_BASE_URL": "https://meldpunt.example.nl",
    "ALLOWED_HOSTS": ["meldpunt.example.nl"],
    "CSRF_TRUSTED_ORIGINS": ["https://meldpunt.example.nl"],
    "FIELD_ENCRYPTION_KEYS": [Fernet.generate_key().decode(), Fernet.generate_key().decode()],
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.nl",
    "DEFAULT_FROM_EMAIL": "Meldpunt Weerbaar Bestuur <noreply@meldpunt.example.nl>",
    "SERVER_EMAIL": "noreply@meldpunt.example.nl",
}


@pytest.fixture
def production(settings):
    for name, value in GOOD.items():
        setattr(settings, name, value)
    return settings


def test_a_complete_production_configuration_passes(production):
    assert configuration_problems() == []
    assert check_configuration(None) == []


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PORTAL_BASE_URL", "http://meldpunt.example.nl", "https"),
        ("PORTAL_BASE_URL", "meldpunt.example.nl", "https"),
        ("PORTAL_BASE_URL", "http://localhost:8000", "https"),
        ("PORTAL_BASE_URL", "https://andere.example.nl", "ALLOWED_HOSTS"),
        ("ALLOWED_HOSTS", ["127.0.0.1"], "ALLOWED_HOSTS"),
        ("CSRF_TRUSTED_ORIGINS", [], "CSRF_TRUSTED_ORIGINS"),
        ("CSRF_TRUSTED_ORIGINS", ["http://meldpunt.example.nl"], "CSRF_TRUSTED_ORIGINS"),
        ("FIELD_ENCRYPTION_KEYS", ["not-a-fernet-key"], "key 1 is not a valid Fernet key"),
        (
            "FIELD_ENCRYPTION_KEYS",
            [Fernet.generate_key().decode(), "dG9vLXNob3J0"],
            "key 2 is not a valid Fernet key",
        ),
        ("EMAIL_HOST", "localhost", "EMAIL_HOST"),
        ("EMAIL_HOST", "127.0.0.1", "EMAIL_HOST"),
        ("DEFAULT_FROM_EMAIL", "Meldpunt <noreply@localhost>", "DEFAULT_FROM_EMAIL"),
        ("SERVER_EMAIL", "root@localhost", "SERVER_EMAIL"),
    ],
)
def test_each_bad_setting_is_refused(production, name, value, says):
    setattr(production, name, value)

    problems = configuration_problems()
    errors = check_configuration(None)

    assert problems and any(says in problem for problem in problems), problems
    assert {(type(error), error.id) for error in errors} == {(Error, "portal.E002")}


def test_the_message_never_shows_a_key(production):
    production.FIELD_ENCRYPTION_KEYS = ["secret-but-not-fernet-0123456789"]

    assert "secret-but-not-fernet" not in " ".join(configuration_problems())


def test_wildcard_origins_and_hosts_count_as_django_reads_them(production):
    production.ALLOWED_HOSTS = [".example.nl"]
    production.CSRF_TRUSTED_ORIGINS = ["https://*.example.nl"]

    assert configuration_problems() == []


def test_a_loopback_mail_server_with_another_backend_is_not_refused(production):
    """EMAIL_HOST only matters to the SMTP backend."""
    production.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    production.EMAIL_HOST = "localhost"

    assert configuration_problems() == []


def test_debug_on_refuses_nothing(production):
    production.DEBUG = True
    production.PORTAL_BASE_URL = "http://localhost:8000"
    production.FIELD_ENCRYPTION_KEYS = ["nope"]

    assert configuration_problems() == []


def test_the_loopback_test_stack_allows_loopback_only_and_is_warned_about(production):
    """LOOPBACK_TEST_STACK (the tests, make faults, make bench): an http base URL on loopback
    and a loopback mail server; a public http address and a bad key are still refused."""
    production.LOOPBACK_TEST_STACK = True
    production.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    production.EMAIL_HOST = "127.0.0.1"

    assert configuration_problems() == []
    assert [(type(error), error.id) for error in check_configuration(None)] == [
        (Warning, "portal.W001")
    ]

    production.PORTAL_BASE_URL = "http://meldpunt.example.nl"
    production.FIELD_ENCRYPTION_KEYS = ["nope"]
    assert len(configuration_problems()) == 2


def test_the_web_application_does_not_start_with_an_http_base_url():
    """What gunicorn loads refuses, with the reason (and without LOOPBACK_TEST_STACK)."""
    result = load_settings(
        DEBUG="false",
        SECRET_KEY="a-real-production-like-secret-key-0123456789abcdefghijklmnop",
        PORTAL_BASE_URL="http://meldpunt.example.nl",
        ALLOWED_HOSTS="meldpunt.example.nl",
        LOOPBACK_TEST_STACK="false",
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PORTAL_BASE_URL (http://meldpunt.example.nl) must be the portal's https" in (
        result.stderr
    )


def test_check_deploy_refuses_a_bad_key_and_warns_about_the_loopback_stack(tmp_path):
    """The README's first deployment step: `check --deploy --fail-level WARNING`."""
    env = readme_production_settings()

    bad_key = check_deploy({**env, "FIELD_ENCRYPTION_KEYS": "no-fernet-key"}, tmp_path)
    loopback = check_deploy({**env, "LOOPBACK_TEST_STACK": "true"}, tmp_path)

    assert bad_key.returncode != 0
    assert "portal.E002" in bad_key.stdout + bad_key.stderr
    assert loopback.returncode != 0
    assert "portal.W001" in loopback.stdout + loopback.stderr
