"""`manage.py bench_escalation`: from a committed report to the support inbox (prints only).

With the configured broker (Redis in `make bench`) and a real Celery worker that this command
starts as a subprocess (`celery -A portal worker`, prefork, two processes by default), it files
escalating reports (physical violence) through `incidents.services.incident_submit`, each in
its own committed transaction, at a steady pace: by default one per 0.5 s, 7,200 an hour, orders
of magnitude above the national volume (`--interval` changes it). For each report it notes the
moment of the commit (an on-commit callback registered before the service's own, so it runs
first) and polls the support inbox selector until the case shows up in the "new" tab. It prints
p50/p95/max of that latency next to the target of issue 5 (p95 under 1 second), and checks
that every report got exactly one escalation and one support case. The worker is stopped at the
end, always.

The command writes fake incidents: it only runs with `--throwaway-database`.
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from devtools.gunicorn import postgres_url
from devtools.management.commands.bench_desk import (
    database_description,
    demo_accounts_ensure,
    percentile,
    require_throwaway_database,
)
from incidents.constants import IncidentType
from incidents.models import Incident
from incidents.services import incident_submit
from portal.celery import app as celery_app
from portal.constants import Role
from portal.models import User, WorkerHeartbeat
from portal.tasks import heartbeat
from support.constants import CaseStatus
from support.selectors import inbox_cases_for

TARGET_P95_MS = 1_000
WORKER_STOP_TIMEOUT = 15


def database_url() -> str:
    """The URL of the database this process uses, for the worker subprocess."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(config['NAME']).resolve()}"
    if connection.vendor != "postgresql":
        raise CommandError(f"The worker cannot be pointed at a {connection.vendor} database.")
    return postgres_url(config)


class Worker:
    """A `celery -A portal worker` subprocess with its log in a temporary file."""

    def __init__(self, *, broker_url: str, concurrency: int):
        self.log = Path(tempfile.mkstemp(prefix="bench-worker-", suffix=".log")[1])
        env = {**os.environ, "CELERY_BROKER_URL": broker_url, "DATABASE_URL": database_url()}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 (fixed arguments, our own interpreter)
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--pool=prefork",
                    f"--concurrency={concurrency}",
                    "--queues=celery",
                    "--loglevel=WARNING",
                    f"--hostname=bench-{uuid.uuid4().hex[:8]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise CommandError(
                f"The Celery worker exited with {self.process.returncode}:\n{self.log_text()}"
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-5_000:]

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WORKER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)


class Command(BaseCommand):
    help = (
        "File escalating reports with a real broker and worker and print p50/p95 of the time "
        "from commit to the case in the support inbox. Only for a throwaway database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, default=200)
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="Seconds between two reports (0.5 s is 7,200 an hour, far above real life).",
        )
        parser.add_argument("--warmup", type=int, default=5, help="Reports before measuring.")
        parser.add_argument("--concurrency", type=int, default=2, help="Worker processes.")
        parser.add_argument(
            "--timeout", type=float, default=60, help="Seconds to wait for the last case."
        )
        parser.add_argument("--throwaway-database", action="store_true")

    def handle(self, *args, **options):
        require_throwaway_database(options)
        broker_url = celery_app.conf.broker_url or ""
        if broker_url.startswith("memory://") or celery_app.conf.task_always_eager:
            raise CommandError(
                "This benchmark needs a broker that other processes can reach (Redis: set "
                "CELERY_BROKER_URL), and tasks that are not run eagerly."
            )
        demo_accounts_ensure()
        self.support = User.objects.filter(role=Role.SUPPORT, is_active=True).first()
        self.officeholders = list(
            User.objects.filter(role=Role.OFFICEHOLDER, is_active=True, username__contains=".")
            .exclude(username__startswith="bench.")
            .select_related("organisation")
            .order_by("username")
        )
        self.stdout.write(f"Database: {database_description()}")
        self.stdout.write(
            f"Broker: {broker_url.split('://')[0]}, worker processes: {options['concurrency']}"
        )
        worker = Worker(broker_url=broker_url, concurrency=options["concurrency"])
        try:
            self._wait_until_ready(worker)
            self._run(worker, options["warmup"], options["interval"], options["timeout"])
            latencies, incidents = self._run(
                worker, options["reports"], options["interval"], options["timeout"]
            )
        finally:
            worker.stop()
        self._check_exactly_once(incidents)
        p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
        verdict = "ok" if p95 < TARGET_P95_MS else "SLOWER THAN TARGET"
        self.stdout.write(
            f"Submit (committed) to visible in the support inbox, {len(latencies)} reports, one "
            f"every {options['interval']:.2f} s: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
            f"max {max(latencies):.0f} ms (target p95 < {TARGET_P95_MS} ms: {verdict})"
        )

    def _wait_until_ready(self, worker: Worker) -> None:
        """A worker is ready when it has run a heartbeat task sent after it started."""
        name = f"bench-{uuid.uuid4().hex[:8]}"
        heartbeat.delay(name)
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.filter(name=name).exists():
            worker.check_running()
            if time.monotonic() > deadline:
                raise CommandError(f"The worker did not answer in 60 s:\n{worker.log_text()}")
            time.sleep(0.05)
        WorkerHeartbeat.objects.filter(name=name).delete()

    def _submit(self, number: int) -> tuple[Incident, list[float]]:
        """File one report in its own transaction; returns it and the moment of the commit."""
        committed: list[float] = []
        officeholder = self.officeholders[number % len(self.officeholders)]
        with transaction.atomic():
            # Registered before the service's own callbacks, so it runs first after COMMIT.
            transaction.on_commit(lambda: committed.append(time.perf_counter()))
            incident = incident_submit(
                officeholder=officeholder,
                facts={
                    "types": [IncidentType.PHYSICAL_VIOLENCE],
                    "occurred_on": timezone.localdate(),
                    "summary": "Benchmark: geduwd na afloop van de raadsvergadering.",
                },
                quick=True,
            )
        return incident, committed

    def _run(self, worker: Worker, count: int, interval: float, timeout: float):
        """File `count` reports, one per `interval`, polling the inbox in between."""
        pending: dict[int, list[float]] = {}
        latencies, incidents = [], []
        started = time.perf_counter()
        submitted = 0
        last_submit = started
        while submitted < count or pending:
            now = time.perf_counter()
            if submitted < count and now >= started + submitted * interval:
                incident, committed = self._submit(submitted)
                pending[incident.pk] = committed
                incidents.append(incident.pk)
                submitted += 1
                last_submit = time.perf_counter()
            visible = inbox_cases_for(user=self.support, status=CaseStatus.NEW).filter(
                incident_id__in=list(pending)
            )
            seen_at = time.perf_counter()
            for incident_id in visible.values_list("incident_id", flat=True):
                latencies.append((seen_at - pending.pop(incident_id)[0]) * 1000)
            if submitted == count and time.perf_counter() - last_submit > timeout:
                raise CommandError(
                    f"{len(pending)} escalations did not reach the inbox within {timeout} s.\n"
                    f"Worker log:\n{worker.log_text()}"
                )
            worker.check_running()
            time.sleep(0.01)  # 10 ms resolution; polling harder steals CPU from the worker
        return latencies, incidents

    def _check_exactly_once(self, incident_ids: list[int]) -> None:
        counts = Incident.objects.filter(pk__in=incident_ids).annotate(
            escalations_count=Count("escalations", distinct=True),
            cases=Count("support_cases", distinct=True),
        )
        wrong = [i.reference for i in counts if i.escalations_count != 1 or i.cases != 1]
        if wrong:
            raise CommandError(f"Not exactly one escalation and case for: {', '.join(wrong)}")
        self.stdout.write(
            f"Every one of the {len(incident_ids)} reports has exactly one escalation and one "
            "support case."
        )
