"""A real Celery worker on Redis against the test database, for tests that need one.

Usage (the test must be transactional, so that the worker sees the rows the test commits)::

    @pytest.mark.django_db(transaction=True)
    def test_something(redis_celery_worker):
        some_task.delay(...)  # the test process publishes to the same Redis
        redis_celery_worker.wait_for(lambda: Thing.objects.exists(), what="the thing")

The worker is a subprocess (`celery -A portal worker`) with DATABASE_URL pointing at the
*test* database (e.g. test_mwb_gw0 under xdist) and CELERY_BROKER_URL at the Redis from
`TEST_REDIS_URL`, which `scripts/with-test-services.sh` starts. Every xdist process gets its own
Redis database number, emptied before use, so parallel test processes never take each other's
tasks. Without TEST_REDIS_URL or PostgreSQL the fixture fails: it never skips.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection

from devtools.gunicorn import postgres_url
from portal.celery import app as celery_app

WORKER_START_TIMEOUT = 30
WORKER_STOP_TIMEOUT = 15


@dataclass
class CeleryWorker:
    """A running worker subprocess and its log file."""

    process: subprocess.Popen
    log_path: Path
    broker_url: str
    database_url: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(
        self, condition: Callable[[], bool], *, what: str, timeout: float = WORKER_START_TIMEOUT
    ) -> None:
        """Poll `condition` until it is true; fail with the worker's log after `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(
                    f"The Celery worker exited with {self.process.returncode} before {what}.\n"
                    f"Worker log:\n{self.log()}"
                )
            time.sleep(0.1)
        pytest.fail(f"No {what} after {timeout} s.\nWorker log:\n{self.log()}")

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if the worker does not stop in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WORKER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_celery_worker(
    *,
    env: dict[str, str],
    log_path: Path,
    pool: str = "solo",
    hostname: str = "test",
    queues: str = "celery",
) -> CeleryWorker:
    """Start `celery -A portal worker` on `queues` (the default queue unless told; the mail
    queue has workers of its own) in the project directory."""
    log_file = log_path.open("wb")
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                f"--queues={queues}",
                "--loglevel=INFO",
                f"--hostname={hostname}@%h",
                # Gossip, mingle and heartbeats talk to other workers: there are none here.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    finally:
        log_file.close()
    return CeleryWorker(
        process=process,
        log_path=log_path,
        broker_url=env["CELERY_BROKER_URL"],
        database_url=env["DATABASE_URL"],
    )


def worker_database_url() -> str:
    """The URL of the PostgreSQL database this test process uses (the test database)."""
    config = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail(
            "A Celery worker in another process needs the PostgreSQL test database, but the "
            f"tests run on {connection.vendor}. Run them through scripts/with-test-services.sh "
            "(make test does)."
        )
    return postgres_url(config)


def redis_url_for_this_process() -> str:
    """TEST_REDIS_URL with a Redis database number of its own per xdist process (gw0 -> 1)."""
    base = os.environ.get("TEST_REDIS_URL")
    if not base:
        pytest.fail(
            "TEST_REDIS_URL is not set: this test needs the throwaway Redis that "
            "scripts/with-test-services.sh starts (make test does). It never skips."
        )
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = 1 + int(worker.removeprefix("gw")) % 15
    return urlunsplit(urlsplit(base)._replace(path=f"/{number}"))


@pytest.fixture
def redis_celery_worker(transactional_db, tmp_path) -> Iterator[CeleryWorker]:
    """A real Celery worker on Redis against the test database; the test process publishes
    to the same Redis while the fixture is active. Stopped (always) at teardown."""
    yield from _redis_worker(tmp_path, queues="celery")


@pytest.fixture
def redis_mail_worker(transactional_db, tmp_path) -> Iterator[CeleryWorker]:
    """Like `redis_celery_worker`, but the worker consumes only the mail queue (as the mail
    worker of docker-compose.yml and `make run` does). Set EMAIL_* in os.environ first."""
    yield from _redis_worker(tmp_path, queues="mail")


def _redis_worker(tmp_path: Path, *, queues: str) -> Iterator[CeleryWorker]:
    broker_url = redis_url_for_this_process()
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=5).flushdb()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {broker_url} does not answer: {error}")

    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": worker_database_url(),
    }
    worker = start_celery_worker(
        env=env, log_path=tmp_path / f"celery-worker-{queues}.log", queues=queues
    )

    # Point the test process's Celery app at the same Redis. The connection and producer pools
    # are built lazily from broker_url, so they are dropped here and after the test.
    previous = {
        "broker_url": celery_app.conf.broker_url,
        "broker_transport_options": celery_app.conf.broker_transport_options,
    }
    celery_app.conf.broker_url = broker_url
    celery_app.conf.broker_transport_options = settings.BROKER_REDIS_TRANSPORT_OPTIONS
    _reset_celery_pools()
    try:
        yield worker
    finally:
        worker.stop()
        celery_app.conf.update(previous)
        _reset_celery_pools()


def _reset_celery_pools() -> None:
    """Forget the pooled broker connections; the next publish connects to broker_url anew."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()
