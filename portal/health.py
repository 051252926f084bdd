"""Probes for the platform: is the process alive (`/healthz`), can it serve (`/readyz`)?

`/healthz` (liveness) checks nothing outside the process: a restart would not mend a database
that is down, so a dead dependency must never make the platform kill healthy web processes.
`/readyz` (readiness) checks the database, the cache and the Celery broker, each bounded by
a short timeout (the database's connect_timeout, the cache's and the broker's socket
timeouts in settings), so a hung dependency makes it 503 within seconds instead of hanging
the probe. The answers name each check and say "ok" or "down", nothing more: no figures, no
personal data. Figures for monitoring (heartbeat age, queues) are in /metrics
(portal/metrics.py).

Both are answered by `portal.middleware.ProbeMiddleware` before any other middleware, so the
https redirect, the host check and the login middleware never refuse a probe.

Each check is a function without arguments that returns a `CheckResult`.
"""

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import caches
from django.db import DatabaseError, connection
from kombu.exceptions import OperationalError

import portal


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
        """What `/readyz` answers: the overall status, the version and "ok"/"down" per check."""
        return {
            "status": "ok" if self.ok else "down",
            "version": portal.__version__,
            "checks": {
                name: "ok" if result.ok else "down" for name, result in self.results.items()
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


def cache_check() -> CheckResult:
    """The cache (the rate-limit counters) stores and returns a value."""
    started = time.monotonic()
    key = f"portal:readyz:{uuid.uuid4().hex}"
    cache = caches["default"]
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as error:  # noqa: BLE001 - any backend error means "down"
        return CheckResult(False, {"error": type(error).__name__})
    return CheckResult(ok, {"ms": _milliseconds_since(started)})


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


READINESS_CHECKS: Mapping[str, Callable[[], CheckResult]] = {
    "database": database_check,
    "cache": cache_check,
    "broker": broker_check,
}


def health_report(
    checks: Mapping[str, Callable[[], CheckResult]] = READINESS_CHECKS,
) -> HealthReport:
    """Run `checks` in order; one that fails with a database error is down."""
    results: dict[str, CheckResult] = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except DatabaseError as error:
            results[name] = CheckResult(False, {"error": type(error).__name__})
    return HealthReport(results)
