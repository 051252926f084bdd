"""Health checks for outside monitoring: is the portal up, and does its background work flow?

Each check is a function without arguments that returns a `CheckResult`: whether it is fine,
and figures that contain no personal data (ages, counts, timings, an error's class name).
`health_report(CHECKS)` runs the checks it is given and is up only when all are fine;
`/health/` (portal.views.health) runs all of them. Checks that need a server are bounded by
its timeouts (the broker's socket timeouts in settings, the database's own), so a hung
dependency makes the report "down" within seconds instead of hanging the monitor.

To split this into liveness and readiness later, give each its own subset of CHECKS.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from portal.models import Notification, WorkerHeartbeat

# The heartbeat task (portal.tasks.heartbeat, every minute from beat) records this name.
WORKER_HEARTBEAT_NAME = "worker"


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    results: Mapping[str, CheckResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results.values())

    def as_dict(self) -> dict[str, Any]:
        """The detail for administrators and monitors with the token: one entry per check."""
        return {
            "status": "ok" if self.ok else "down",
            "checks": {
                name: {"ok": result.ok, **result.detail} for name, result in self.results.items()
            },
        }


def _milliseconds_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def database_check() -> CheckResult:
    """The database answers a query."""
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return CheckResult(False, {"error": type(error).__name__})
    return CheckResult(True, {"ms": _milliseconds_since(started)})


def broker_check() -> CheckResult:
    """The Celery broker accepts a connection (Redis: it answers a PING), without retries."""
    from portal.celery import app

    started = time.monotonic()
    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=0)
    except (OperationalError, OSError) as error:
        return CheckResult(False, {"error": type(error).__name__})
    return CheckResult(True, {"ms": _milliseconds_since(started)})


def worker_heartbeat_check() -> CheckResult:
    """A worker ran the heartbeat task recently (beat queues it every minute)."""
    heartbeat = WorkerHeartbeat.objects.filter(name=WORKER_HEARTBEAT_NAME).first()
    limit = settings.HEALTH_WORKER_HEARTBEAT_MAX_AGE.total_seconds()
    if heartbeat is None:
        return CheckResult(False, {"age_seconds": None, "max_age_seconds": limit})
    age = (timezone.now() - heartbeat.last_seen_at).total_seconds()
    return CheckResult(age <= limit, {"age_seconds": round(age), "max_age_seconds": limit})


def mail_queue_check() -> CheckResult:
    """The oldest notification not yet e-mailed is not older than the limit."""
    unsent = Notification.objects.filter(emailed_at__isnull=True)
    oldest = unsent.order_by("created_at").values_list("created_at", flat=True).first()
    limit = settings.HEALTH_MAIL_QUEUE_MAX_AGE.total_seconds()
    if oldest is None:
        return CheckResult(True, {"unsent": 0, "oldest_age_seconds": None})
    age = (timezone.now() - oldest).total_seconds()
    return CheckResult(
        age <= limit,
        {"unsent": unsent.count(), "oldest_age_seconds": round(age), "max_age_seconds": limit},
    )


CHECKS: Mapping[str, Callable[[], CheckResult]] = {
    "database": database_check,
    "broker": broker_check,
    "worker_heartbeat": worker_heartbeat_check,
    "mail_queue": mail_queue_check,
}
# Checks that read the database cannot run without it: they are reported down, not run.
NEEDS_DATABASE = frozenset({"worker_heartbeat", "mail_queue"})


def health_report(checks: Mapping[str, Callable[[], CheckResult]] = CHECKS) -> HealthReport:
    """Run `checks` in order; a check that needs the database is skipped (down) without it."""
    results: dict[str, CheckResult] = {}
    for name, check in checks.items():
        database = results.get("database")
        if name in NEEDS_DATABASE and database is not None and not database.ok:
            results[name] = CheckResult(False, {"error": "database unavailable"})
            continue
        try:
            results[name] = check()
        except DatabaseError as error:
            results[name] = CheckResult(False, {"error": type(error).__name__})
    return HealthReport(results)
