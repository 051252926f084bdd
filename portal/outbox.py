"""The one way from "something happened" to every reaction: a transactional outbox.

An app that records something (incidents records an `Event`) calls `outbox_record` in the same
transaction. That writes one `OutboxEntry` per registered consumer of the topic (unique per
event and consumer) and, after commit, queues one Celery task per entry. The task
(`outbox_deliver`) claims its row with `SELECT ... FOR UPDATE SKIP LOCKED`, runs the consumer,
and marks the row done in the same transaction as the consumer's own writes: each consumer
handles each event exactly once, however often the task runs. A failing consumer is retried
with backoff up to OUTBOX_MAX_ATTEMPTS and then marked failed; the administrator sees failed
rows in the admin and on the home page. Nothing is ever dropped because it is old.

Consumers register in their app's `ready()`:

    consumer_register(topic="incident_event", name="support.rules", handler=..., kinds={...})

`handler(object_id)` runs inside the claiming transaction and must be idempotent in its effects
on the outside world (it may run again after a crash between its work and the commit).
OUTBOX_DISABLED_CONSUMERS (a setting) switches consumers off: no rows are written for them.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.models import OutboxEntry, OutboxStatus
from portal.publishing import task_publish

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Consumer:
    topic: str
    name: str
    handler: Callable[[int], object]
    # The kinds of record this consumer wants; None: every kind.
    kinds: frozenset[str] | None = None

    def wants(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


_CONSUMERS: dict[str, dict[str, Consumer]] = {}


def consumer_register(
    *, topic: str, name: str, handler: Callable[[int], object], kinds: Iterable[str] | None = None
) -> Consumer:
    """Register (or replace) the consumer `name` of `topic`."""
    consumer = Consumer(topic, name, handler, frozenset(kinds) if kinds is not None else None)
    _CONSUMERS.setdefault(topic, {})[name] = consumer
    return consumer


def consumers_for(topic: str, kind: str) -> list[Consumer]:
    """The switched-on consumers of `topic` that want records of `kind`."""
    disabled = set(settings.OUTBOX_DISABLED_CONSUMERS)
    return [
        consumer
        for name, consumer in _CONSUMERS.get(topic, {}).items()
        if name not in disabled and consumer.wants(kind)
    ]


def outbox_record(*, topic: str, object_id: int, kind: str) -> list[OutboxEntry]:
    """Write the work for every consumer of `topic`; queue it once the transaction commits.

    Must run inside the transaction that recorded the thing itself (the caller's `atomic`).
    """
    now = timezone.now()
    entries = OutboxEntry.objects.bulk_create(
        [
            OutboxEntry(
                topic=topic,
                object_id=object_id,
                kind=kind,
                consumer=consumer.name,
                created_at=now,
                # Until then the task queued below has it; after that the sweeper may.
                next_attempt_at=now + settings.PENDING_WORK_AGE,
            )
            for consumer in consumers_for(topic, kind)
        ]
    )
    ids = [entry.pk for entry in entries]
    if ids:
        transaction.on_commit(lambda: outbox_queue(ids), robust=True)
    return entries


def outbox_queue(entry_ids: Iterable[int]) -> None:
    """Publish one delivery task per entry; never fails the caller (the sweeper catches up).

    After the first refused publish the rest are left to the sweeper: a broker that hangs
    costs a request one bounded attempt, not one per entry.
    """
    for entry_id in entry_ids:
        if not task_publish("portal.tasks.outbox_deliver", entry_id):
            return


def _retry_delay(attempts: int) -> timedelta:
    base = settings.OUTBOX_RETRY_BASE.total_seconds()
    return timedelta(seconds=min(base * 2 ** (attempts - 1), settings.OUTBOX_RETRY_MAX_DELAY))


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _claim(entry_id: int) -> OutboxEntry | None:
    """The pending entry, locked for this transaction; None when done, failed, or held by
    another worker right now (skipped, not waited for)."""
    return (
        OutboxEntry.objects.select_for_update(skip_locked=True)
        .filter(pk=entry_id, status=OutboxStatus.PENDING)
        .first()
    )


def outbox_deliver(*, entry_id: int) -> bool:
    """Run one entry's consumer, once. Returns True when this call did the work.

    Returns False when the entry is done or failed already, when another worker holds it right
    now (it is skipped, not waited for), or when the consumer failed (the attempt is counted
    and the next one scheduled; at the cap the entry is marked failed).
    """
    try:
        with transaction.atomic():
            entry = _claim(entry_id)
            if entry is None:
                return False
            consumer = _CONSUMERS.get(entry.topic, {}).get(entry.consumer)
            if consumer is None:
                raise LookupError(f"no consumer {entry.consumer!r} for {entry.topic!r}")
            consumer.handler(entry.object_id)
            entry.status = OutboxStatus.DONE
            entry.attempts += 1
            entry.done_at = timezone.now()
            entry.last_error = ""
            entry.save(update_fields=["status", "attempts", "done_at", "last_error"])
            return True
    except Exception as error:
        logger.warning("Outbox entry %s failed: %s", entry_id, type(error).__name__)
        outbox_attempt_failed(entry_id=entry_id, error=error)
        return False


def outbox_attempt_failed(*, entry_id: int, error: BaseException) -> None:
    """Count a failed attempt in a transaction of its own (the consumer's work is rolled back)."""
    with transaction.atomic():
        entry = _claim(entry_id)
        if entry is None:
            return
        now = timezone.now()
        entry.attempts += 1
        entry.last_error = _error_text(error)
        if entry.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            entry.status = OutboxStatus.FAILED
            logger.error(
                "Outbox entry %s (%s) failed %s times; marked failed.",
                entry.pk,
                entry.consumer,
                entry.attempts,
            )
        else:
            entry.next_attempt_at = now + _retry_delay(entry.attempts)
        entry.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


def outbox_sweep(*, now=None, limit: int = 500) -> int:
    """Queue the pending entries whose next attempt is due, oldest first; returns how many.

    Each queued entry's next attempt moves one PENDING_WORK_AGE ahead, so an entry that is
    already waiting in the queue is not queued again every minute.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            OutboxEntry.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        OutboxEntry.objects.filter(pk__in=due).update(
            next_attempt_at=now + settings.PENDING_WORK_AGE
        )
    outbox_queue(due)
    return len(due)


def outbox_retry(*, entry_ids: Iterable[int]) -> int:
    """Give failed entries a new round of attempts (the administrator's "try again")."""
    now = timezone.now()
    ids = list(entry_ids)
    count = OutboxEntry.objects.filter(pk__in=ids, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now
    )
    transaction.on_commit(lambda: outbox_queue(ids), robust=True)
    return count
