"""Celery tasks of the incidents domain. Each calls one service and owns only its retries."""

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from incidents import evidence_processing, services, sharing

logger = logging.getLogger(__name__)

# Retention: each incident is anonymised in its own transaction, a batch at a time. A backlog
# (the first run after an upgrade, a long outage) takes more than the global 60 s soft limit,
# so this task has limits of its own and a time budget: after it, no new batch starts and the
# next hourly run continues with the oldest incidents left.
ANONYMISE_BATCH_SIZE = 50
ANONYMISE_TIME_BUDGET_SECONDS = 240
ANONYMISE_SOFT_TIME_LIMIT = 300
ANONYMISE_TIME_LIMIT = 360


@shared_task(
    ignore_result=True,
    acks_late=True,
    soft_time_limit=ANONYMISE_SOFT_TIME_LIMIT,
    time_limit=ANONYMISE_TIME_LIMIT,
)
def anonymise_expired_incidents(
    batch_size: int = ANONYMISE_BATCH_SIZE, budget_seconds: float = ANONYMISE_TIME_BUDGET_SECONDS
) -> int:
    """Anonymise closed incidents past the retention period, oldest first, in batches of
    `batch_size`, until none is left or `budget_seconds` are spent; returns how many.

    Idempotent. Stopped by the time limit, it leaves every incident either anonymised or
    untouched (one transaction each), and the next run continues.
    """
    deadline = time.monotonic() + budget_seconds
    total = 0
    try:
        while True:
            done = services.incidents_anonymise_expired(limit=batch_size)
            total += done
            if done < batch_size:
                return total
            if time.monotonic() >= deadline:
                logger.info("Anonymised %s incidents; the next run continues.", total)
                return total
    except SoftTimeLimitExceeded:
        logger.warning("Anonymisation stopped at its time limit after %s incidents.", total)
        return total


@shared_task(ignore_result=True, acks_late=True)
def process_evidence(evidence_id: int) -> str:
    """Clean one uploaded photo, audio or video file; safe to run twice.

    No automatic retry: a file that cannot be cleaned is marked failed, and work that a
    crash or a lost worker interrupted is picked up by `sweep_pending_evidence`, which
    counts the attempts. The time limits are given when the task is queued
    (`evidence_processing.evidence_processing_queue`).
    """
    return evidence_processing.evidence_process(evidence_id=evidence_id)


@shared_task(ignore_result=True, acks_late=True)
def sweep_pending_evidence() -> int:
    """Queue again the evidence still pending after PENDING_WORK_AGE; give up after the cap."""
    due = evidence_processing.evidence_pending_sweep(older_than=settings.PENDING_WORK_AGE)
    for evidence_id in due:
        evidence_processing.evidence_processing_queue(evidence_id)
    return len(due)


@shared_task(ignore_result=True, acks_late=True)
def watch_desk_reachability() -> dict:
    """Nobody unheard: reports of a desk that nobody reads go to the fallback desk or the
    Ondersteuningsteam, and are offered back when the desk is read again. Idempotent."""
    return services.reachability_watch()


@shared_task(ignore_result=True, acks_late=True)
def remove_expired_shared_uploads() -> int:
    """Remove shared files (share target) whose 15 minutes are over; safe to run twice."""
    return sharing.shared_uploads_remove_expired()


@shared_task(ignore_result=True, acks_late=True)
def end_terms() -> dict:
    """End the accounts whose term is over and send the reminders before (idempotent)."""
    return services.terms_watch()


@shared_task(ignore_result=True, acks_late=True)
def notify_due_callbacks() -> int:
    """Tell the desk that a callback ("bel terug op ...") is due; each one once."""
    return services.callbacks_notify_due()
