import logging
import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_development_secrets(**kwargs):
    """A worker or beat with DEBUG off does not start on a development secret.

    Celery logs and swallows exceptions from signal handlers, so this stops the process.
    """
    from portal.checks import development_secrets_in_use

    problems = development_secrets_in_use()
    if problems:
        # Celery swallows exceptions from signal handlers: log the reason, then stop.
        logging.getLogger(__name__).critical("ImproperlyConfigured: %s", " ".join(problems))
        raise SystemExit(1)
