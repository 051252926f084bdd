"""Production refuses the public development secrets, the console e-mail backend and
configuration that would fail later (portal.E001 and portal.E002).

portal.E002, with DEBUG off: PORTAL_BASE_URL that is not https, or whose host is not in
ALLOWED_HOSTS or whose origin is not in CSRF_TRUSTED_ORIGINS; a FIELD_ENCRYPTION_KEYS entry
that is not a Fernet key (every report would fail with a 500); e-mail to or from localhost
(EMAIL_HOST on loopback with the SMTP backend, DEFAULT_FROM_EMAIL or SERVER_EMAIL
@localhost). LOOPBACK_TEST_STACK=true (the tests, `make faults`, `make bench`: a whole stack
on this machine's loopback) allows a loopback PORTAL_BASE_URL over http and a loopback mail
server; `check --deploy` then warns (portal.W001), so `--fail-level WARNING` refuses it.

The check is not done while the settings load, so that development commands
(`makemigrations --check`, `compile_translations`, `makemessages`) work in a plain checkout.
What serves or processes data refuses instead: the WSGI application (gunicorn, portal/wsgi.py)
and the Celery worker and beat (portal/celery.py). `manage.py check --deploy` reports it too.
"""

import binascii
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http.request import validate_host

CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
SMTP_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def development_secrets_in_use() -> list[str]:
    """What is wrong, one sentence each; empty when DEBUG is on or every setting is real.

    Besides the secrets: the console e-mail backend, which writes every e-mail (password
    reset links included) to the server's log.
    """
    if settings.DEBUG:
        return []
    problems = []
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        problems.append(
            "DEBUG is off but SECRET_KEY is the development key. Set a long random SECRET_KEY."
        )
    if settings.DEVELOPMENT_FIELD_ENCRYPTION_KEY in settings.FIELD_ENCRYPTION_KEYS:
        problems.append(
            "DEBUG is off but FIELD_ENCRYPTION_KEYS holds the development key. Generate one with "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'."
        )
    if settings.IDENTIFIER_HASH_KEY == settings.DEVELOPMENT_IDENTIFIER_HASH_KEY:
        problems.append(
            "DEBUG is off but IDENTIFIER_HASH_KEY is the development key. Set a long random key."
        )
    if settings.EMAIL_BACKEND == CONSOLE_EMAIL_BACKEND:
        problems.append(
            "DEBUG is off but EMAIL_BACKEND is the console backend, which writes password reset "
            "links to the log. Use django.core.mail.backends.smtp.EmailBackend."
        )
    return problems


def _origin_trusted(origin: str, trusted: list[str]) -> bool:
    """`origin` (scheme://host[:port]) is in CSRF_TRUSTED_ORIGINS, wildcards as Django reads
    them ("https://*.example.nl")."""
    scheme, _, netloc = origin.lower().partition("://")
    for entry in trusted:
        entry_scheme, _, entry_netloc = entry.lower().rstrip("/").partition("://")
        if entry_scheme != scheme:
            continue
        if entry_netloc == netloc:
            return True
        if entry_netloc.startswith("*.") and netloc.endswith(entry_netloc[1:]):
            return True
    return False


def _fernet_key_valid(key: str) -> bool:
    try:
        Fernet(key)
    except (ValueError, TypeError, binascii.Error):
        return False
    return True


def _email_domain(address: str) -> str:
    return address.rpartition("@")[2].strip(" >").lower()


def configuration_problems() -> list[str]:
    """What in the configuration would fail later, one sentence each (never a secret's
    value); empty when DEBUG is on."""
    if settings.DEBUG:
        return []
    problems = []
    loopback_stack = settings.LOOPBACK_TEST_STACK
    base_url = urlsplit(settings.PORTAL_BASE_URL)
    host = (base_url.hostname or "").lower()
    if not (loopback_stack and host in LOOPBACK_HOSTS):
        if base_url.scheme != "https" or not host:
            problems.append(
                f"PORTAL_BASE_URL ({settings.PORTAL_BASE_URL}) must be the portal's https "
                "address, e.g. https://meldpunt.example.nl: links in e-mails start with it."
            )
        else:
            if not validate_host(host, settings.ALLOWED_HOSTS):
                problems.append(
                    f"The host of PORTAL_BASE_URL ({host}) is not in ALLOWED_HOSTS: "
                    "the portal would refuse its own address."
                )
            origin = f"{base_url.scheme}://{base_url.netloc}"
            if not _origin_trusted(origin, settings.CSRF_TRUSTED_ORIGINS):
                problems.append(
                    f"The origin of PORTAL_BASE_URL ({origin}) is not in CSRF_TRUSTED_ORIGINS."
                )
    if settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS >= settings.STAFF_IDLE_TIMEOUT.total_seconds():
        problems.append(
            f"SSO_RECHECK_SECONDS ({settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS}) must be less "
            "than the staff idle timeout: someone disabled at their organisation would keep "
            "working here."
        )
    for number, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1):
        if not _fernet_key_valid(key):
            problems.append(
                f"FIELD_ENCRYPTION_KEYS: key {number} is not a valid Fernet key (32 bytes, "
                "url-safe base64). Generate one with python -c 'from cryptography.fernet "
                "import Fernet; print(Fernet.generate_key().decode())'."
            )
    if not loopback_stack:
        if settings.EMAIL_BACKEND == SMTP_EMAIL_BACKEND and (
            settings.EMAIL_HOST.lower() in LOOPBACK_HOSTS
        ):
            problems.append(
                f"EMAIL_HOST is {settings.EMAIL_HOST}: set the mail server that sends the "
                "portal's e-mail."
            )
        for name in ("DEFAULT_FROM_EMAIL", "SERVER_EMAIL"):
            if _email_domain(getattr(settings, name)) in LOOPBACK_HOSTS:
                problems.append(
                    f"{name} is an address @localhost: set an address of the portal's domain."
                )
    return problems


def startup_problems() -> list[str]:
    """Everything that stops the web application, the worker and beat from starting."""
    return development_secrets_in_use() + configuration_problems()


def refuse_development_secrets() -> None:
    """Raise ImproperlyConfigured when production would run with a development setting or a
    configuration that fails later (`startup_problems`)."""
    problems = startup_problems()
    if problems:
        raise ImproperlyConfigured(" ".join(problems))


@checks.register(checks.Tags.security, deploy=True)
def check_development_secrets(app_configs, **kwargs):
    return [checks.Error(problem, id="portal.E001") for problem in development_secrets_in_use()]


@checks.register(checks.Tags.security, deploy=True)
def check_configuration(app_configs, **kwargs):
    errors = [checks.Error(problem, id="portal.E002") for problem in configuration_problems()]
    if settings.LOOPBACK_TEST_STACK and not settings.DEBUG:
        errors.append(
            checks.Warning(
                "LOOPBACK_TEST_STACK is on: a loopback PORTAL_BASE_URL over http and a "
                "loopback mail server are accepted. Only for the tests, never in production.",
                id="portal.W001",
            )
        )
    return errors
