"""Prometheus metrics for the operator's monitoring, at /metrics (portal.views_ops.metrics).

- `portal_http_request_duration_seconds` (histogram): every request that reached Django,
  labelled with the method, the URL pattern's name (never the path, which may hold a
  reference or a password reset token) and the status code; observed by
  `portal.request_log.RequestLogMiddleware`.
- Gauges read from the database at each scrape (`StateCollector`): the age of the worker
  heartbeat, the oldest unprocessed outbox entry, the notifications not yet e-mailed, and
  whatever other apps register with `gauge_register` (incidents: the oldest untriaged serious
  report). Counts and ages only, never a name or a reference.
- `portal_info{version=...}` 1: the release that answers.

Gunicorn runs several processes: with PROMETHEUS_MULTIPROC_DIR set (docker-compose.yml does),
each process writes its histogram to that folder and a scrape adds them up
(prometheus_client's multiprocess mode; gunicorn.conf.py clears the folder at start and marks
exited processes dead). Without it the histogram is this process's own.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

import portal

# The heartbeat task (portal.tasks.heartbeat, every minute from beat) records this name.
WORKER_HEARTBEAT_NAME = "worker"

REQUEST_DURATION = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request reaching Django until its answer, per URL pattern name.",
    ["method", "view", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


@dataclass(frozen=True)
class Gauge:
    name: str
    documentation: str
    read: Callable[[], float]


_GAUGES: dict[str, Gauge] = {}


def gauge_register(name: str, documentation: str, read: Callable[[], float]) -> None:
    """Add a gauge read at each scrape (an app's `ready()`); `read` returns a number and
    may query the database. Registering the same name again replaces it."""
    _GAUGES[name] = Gauge(name, documentation, read)


def age_seconds(moment) -> float:
    """Seconds since `moment`; 0 when there is nothing (no work waiting is not late)."""
    if moment is None:
        return 0.0
    return max(0.0, (timezone.now() - moment).total_seconds())


def worker_heartbeat_age() -> float:
    """Seconds since a worker last ran the heartbeat task; +Inf when never."""
    from portal.models import WorkerHeartbeat

    seen = (
        WorkerHeartbeat.objects.filter(name=WORKER_HEARTBEAT_NAME)
        .values_list("last_seen_at", flat=True)
        .first()
    )
    return float("inf") if seen is None else age_seconds(seen)


def outbox_oldest_pending_age() -> float:
    from portal.models import OutboxEntry, OutboxStatus

    oldest = (
        OutboxEntry.objects.filter(status=OutboxStatus.PENDING)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return age_seconds(oldest)


def outbox_failed() -> float:
    from portal.models import OutboxEntry, OutboxStatus

    return float(OutboxEntry.objects.filter(status=OutboxStatus.FAILED).count())


def notifications_unsent() -> float:
    from portal.models import Notification

    return float(Notification.objects.filter(emailed_at__isnull=True).count())


def notifications_oldest_unsent_age() -> float:
    from portal.models import Notification

    oldest = (
        Notification.objects.filter(emailed_at__isnull=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return age_seconds(oldest)


gauge_register(
    "portal_worker_heartbeat_age_seconds",
    "Seconds since a Celery worker last ran the heartbeat task that beat queues every minute "
    "(+Inf: never).",
    worker_heartbeat_age,
)
gauge_register(
    "portal_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox entry not yet processed (0: none waiting).",
    outbox_oldest_pending_age,
)
gauge_register(
    "portal_outbox_failed", "Outbox entries marked failed after every attempt.", outbox_failed
)
gauge_register(
    "portal_notifications_unsent", "Notifications not yet e-mailed.", notifications_unsent
)
gauge_register(
    "portal_notifications_oldest_unsent_age_seconds",
    "Age of the oldest notification not yet e-mailed (0: none waiting).",
    notifications_oldest_unsent_age,
)


class StateCollector(Collector):
    """The registered gauges, read now. Without the database only
    `portal_metrics_database_up 0` is reported (and the portal_info line)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        info = GaugeMetricFamily("portal_info", "The portal's release.", labels=["version"])
        info.add_metric([portal.__version__], 1)
        yield info
        values = []
        try:
            for gauge in _GAUGES.values():
                values.append((gauge, float(gauge.read())))
        except DatabaseError:
            values = None
        up = GaugeMetricFamily(
            "portal_metrics_database_up", "1 when the gauges below could be read."
        )
        up.add_metric([], 0 if values is None else 1)
        yield up
        for gauge, value in values or []:
            yield GaugeMetricFamily(gauge.name, gauge.documentation, value=value)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    """The text format Prometheus scrapes."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_DURATION)
    registry.register(StateCollector())
    return generate_latest(registry)
