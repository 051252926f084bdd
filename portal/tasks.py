"""Celery tasks of the portal. Each takes ids, calls one service, and owns only its retries."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from portal import outbox, services


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> None:
    """Record that a worker is alive. Idempotent: it only moves a timestamp forward."""
    services.worker_heartbeat_record(name=name)


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def notification_email(notification_id: int) -> None:
    """E-mail one notification. Running it twice sends one e-mail (the row is marked sent)."""
    services.notification_email_send(notification_id=notification_id)


@shared_task(ignore_result=True, acks_late=True)
def outbox_deliver(entry_id: int) -> bool:
    """Run one outbox entry's consumer, exactly once. Its own attempts are counted in the row
    (with backoff and a cap), so the task itself is never retried by Celery."""
    return outbox.outbox_deliver(entry_id=entry_id)


@shared_task(ignore_result=True, acks_late=True)
def sweep_pending() -> dict[str, int]:
    """Queue again what is still pending: outbox entries whose next attempt is due (at any
    age), and notifications not e-mailed after PENDING_WORK_AGE. Removes expired kept forms."""
    unsent = services.notifications_unsent(older_than=timezone.now() - settings.PENDING_WORK_AGE)
    for notification_id in unsent:
        services.queue_notification_email(notification_id)
    return {
        "outbox": outbox.outbox_sweep(),
        "notifications": len(unsent),
        "kept_forms_removed": services.kept_forms_purge(),
    }
