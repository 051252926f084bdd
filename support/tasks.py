"""Celery tasks of the support domain. Each calls one service and owns only its retries."""

from celery import shared_task

from support import services


@shared_task(ignore_result=True, acks_late=True)
def watch_triage_deadlines() -> dict[str, int]:
    """Reminders before/after triage deadlines; auto-escalation of serious reports at 4 hours."""
    return services.triage_watch()


@shared_task(ignore_result=True, acks_late=True)
def watch_unacknowledged_escalations() -> int:
    """Remind the support team of escalations not acknowledged within 4 hours."""
    return services.escalation_watch()
