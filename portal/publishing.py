"""Queueing Celery work without ever failing the caller.

Work is published by task name, so modules that queue work never import the tasks that call
them back (no import circle between services and tasks). When the broker is down or does not
answer, the publish gives up after a short, bounded retry and logs a warning: the database
still says what has to be done (an outbox entry, an unsent notification), and the sweeper
queues it again later.
"""

import logging
from importlib import import_module

from django.conf import settings
from kombu.exceptions import KombuError, OperationalError

logger = logging.getLogger(__name__)


def task_by_name(name: str):
    """The registered task `name` ("portal.tasks.outbox_deliver"), importing its module on
    first use. (Its apply_async honours task_always_eager, which the tests use; Celery's
    send_task would not.)"""
    from portal.celery import app

    if name not in app.tasks:
        import_module(name.rpartition(".")[0])
    return app.tasks[name]


def task_publish(name: str, *args, **options) -> bool:
    """Queue the task `name` with `args`. Returns False (and logs) when the broker refused."""
    try:
        task_by_name(name).apply_async(
            args=list(args),
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
            **options,
        )
    except (OperationalError, KombuError, OSError) as error:
        logger.warning("Could not queue %s%r: %s", name, tuple(args), type(error).__name__)
        return False
    return True
