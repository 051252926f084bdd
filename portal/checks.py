"""Production refuses the public development secrets and the console e-mail backend.

The check is not done while the settings load, so that development commands
(`makemigrations --check`, `compile_translations`, `makemessages`) work in a plain checkout.
What serves or processes data refuses instead: the WSGI application (gunicorn, portal/wsgi.py)
and the Celery worker and beat (portal/celery.py). `manage.py check --deploy` reports it too.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"


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


def refuse_development_secrets() -> None:
    """Raise ImproperlyConfigured when production would run with a development setting."""
    problems = development_secrets_in_use()
    if problems:
        raise ImproperlyConfigured(" ".join(problems))


@checks.register(checks.Tags.security, deploy=True)
def check_development_secrets(app_configs, **kwargs):
    return [checks.Error(problem, id="portal.E001") for problem in development_secrets_in_use()]
