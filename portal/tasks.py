"""Celery tasks of the portal. Each takes ids, calls one service, and owns only its retries."""

from celery import shared_task
from django.conf import settings

from portal import outbox, services

# The desk mailbox's e-mails (on the mail queue, CELERY_TASK_ROUTES): a failed SMTP attempt
# is retried with backoff; each attempt is bounded like a notification's e-mail.
desk_mailbox_task = shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    soft_time_limit=settings.EMAIL_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMAIL_TASK_TIME_LIMIT,
)


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> None:
    """Record that a worker is alive. Idempotent: it only moves a timestamp forward."""
    services.worker_heartbeat_record(name=name)


@shared_task(
    ignore_result=True,
    acks_late=True,
    soft_time_limit=settings.EMAIL_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMAIL_TASK_TIME_LIMIT,
)
def notification_email(notification_id: int) -> bool:
    """E-mail one notification, on the mail queue (CELERY_TASK_ROUTES). Running it twice
    sends one e-mail. Its attempts are counted in the row (with backoff and a cap) and the
    sweeper queues the next one, so the task itself is never retried by Celery."""
    return services.notification_email_send(notification_id=notification_id)


@shared_task(ignore_result=True, acks_late=True)
def outbox_deliver(entry_id: int) -> bool:
    """Run one outbox entry's consumer, exactly once. Its own attempts are counted in the row
    (with backoff and a cap), so the task itself is never retried by Celery."""
    return outbox.outbox_deliver(entry_id=entry_id)


@shared_task(ignore_result=True, acks_late=True)
def sweep_pending() -> dict[str, int]:
    """Queue again what is due: outbox entries whose next attempt is due (at any age), and
    e-mails not sent, not being sent and not waiting for a retry (oldest first). Removes
    expired kept forms."""
    return {
        "outbox": outbox.outbox_sweep(),
        "notifications": services.notifications_sweep(),
        "kept_forms_removed": services.kept_forms_purge(),
    }


@desk_mailbox_task
def desk_mailbox_confirmations() -> int:
    """Send the weekly "is this mailbox read?" e-mail to each desk that is due. A run again
    sends nothing twice (each desk is marked when its e-mail went)."""
    return services.desk_mailbox_confirmations_send()


@desk_mailbox_task
def desk_mailbox_email(desk_id: int, event_key: str, kind: str, reference: str, link: str):
    """E-mail a desk's confirmed mailbox about an event (a desk without active staff)."""
    return services.desk_mailbox_email_send(
        desk_id=desk_id, event_key=event_key, kind=kind, reference=reference, link=link
    )


@shared_task(ignore_result=True, acks_late=True)
def clear_expired_sessions() -> int:
    """Remove expired sessions (Django's `clearsessions`). Idempotent."""
    return services.sessions_clear_expired()


@shared_task(ignore_result=True, acks_late=True)
def purge_login_attempts() -> int:
    """Remove login records older than LOGIN_ATTEMPT_RETENTION_DAYS. Idempotent."""
    return services.login_attempts_purge()


@shared_task(ignore_result=True, acks_late=True)
def purge_access_log() -> int:
    """Remove access-log entries older than ACCESS_LOG_RETENTION_DAYS. Idempotent."""
    return services.access_log_purge()


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    soft_time_limit=settings.EMAIL_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMAIL_TASK_TIME_LIMIT,
)
def invitation_email(invitation_id: int) -> bool:
    """E-mail one invitation's link (mail queue, lowest priority: CELERY_TASK_ROUTES).

    Running it twice sends one e-mail; a failed SMTP attempt is retried with backoff."""
    return services.invitation_email_send(invitation_id=invitation_id)


@shared_task(ignore_result=True, acks_late=True)
def officeholder_import_run(import_id: int) -> int:
    """Apply a confirmed officeholder upload (default queue); each new account's invitation
    goes out on the mail queue. Running it again goes on where it stopped."""
    return services.officeholder_import_run(import_id=import_id)
