import logging
import os

from celery import Celery
from celery.signals import beat_init, setup_logging, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs):
    """The worker and beat log with settings.LOGGING (one JSON object per line, UTC), not in
    Celery's own format: a receiver of this signal replaces Celery's logging setup."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@worker_init.connect
@beat_init.connect
def refuse_development_secrets(**kwargs):
    """A worker or beat with DEBUG off does not start on a development secret or a bad
    configuration (portal.checks.startup_problems).

    Celery logs and swallows exceptions from signal handlers, so this stops the process.
    """
    from portal.checks import startup_problems

    problems = startup_problems()
    if problems:
        # Celery swallows exceptions from signal handlers: log the reason, then stop.
        logging.getLogger(__name__).critical("ImproperlyConfigured: %s", " ".join(problems))
        raise SystemExit(1)
