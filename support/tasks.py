"""Celery tasks of the support domain. Each takes ids, calls one service, owns its retries."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from portal.models import Notification
from portal.services import queue_notification_email
from support import services

logger = logging.getLogger(__name__)

RETRYING = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 120,
    "max_retries": 5,
    "ignore_result": True,
}


@shared_task(**RETRYING)
def process_incident_event(event_id: int) -> None:
    """Evaluate rules, open support cases and notify for one event. Safe to run twice."""
    services.incident_event_process(event_id=event_id)


def queue_event(event_id: int) -> None:
    """Publish without ever failing the caller: if the broker is down, the sweeper catches up."""
    try:
        process_incident_event.apply_async(
            args=[event_id], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except OperationalError:  # the broker is down; the Event row is the durable record
        logger.warning("Could not queue incident event %s; the sweeper will retry.", event_id)


@shared_task(ignore_result=True, acks_late=True)
def sweep_pending() -> dict[str, int]:
    """Re-queue events not processed and notifications not e-mailed after PENDING_WORK_AGE."""
    age = settings.PENDING_WORK_AGE
    events = list(services.pending_events(older_than=age).values_list("pk", flat=True)[:500])
    for event_id in events:
        queue_event(event_id)
    unsent = list(
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__lte=timezone.now() - age
        ).values_list("pk", flat=True)[:500]
    )
    for notification_id in unsent:
        queue_notification_email(notification_id)
    return {"events": len(events), "notifications": len(unsent)}


@shared_task(ignore_result=True, acks_late=True)
def watch_triage_deadlines() -> dict[str, int]:
    """Reminders before/after triage deadlines; auto-escalation of serious reports at 4 hours."""
    return services.triage_watch()


@shared_task(ignore_result=True, acks_late=True)
def watch_unacknowledged_escalations() -> int:
    """Remind the support team of escalations not acknowledged within 4 hours."""
    return services.escalation_watch()
