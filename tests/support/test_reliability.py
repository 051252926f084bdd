"""Reliability with real processes: a broker outage, duplicate deliveries, the embedded stack.

These tests start servers of their own (a Redis on a free port from tests/redis_server.py,
Celery workers, a web server) in the test's temporary directory, so they run side by side
under `pytest -n 2`. They never skip: without redis-server, PostgreSQL or the project's
Python they fail and say why.
"""

import email
import email.policy
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import kombu.pools
import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from incidents.constants import EventKind, IncidentType, Status
from incidents.models import Escalation, Incident
from portal.celery import app as celery_app
from portal.models import Notification, OutboxEntry, OutboxStatus
from portal.tasks import outbox_deliver, sweep_pending
from support.models import SupportCase
from tests.celery_worker import CeleryWorker, start_celery_worker, worker_database_url
from tests.factories import EventFactory, IncidentFactory, outbox_pending
from tests.redis_server import SERVER_START_TIMEOUT, RedisServer, free_port, wait_until

PROCESSING_TIMEOUT = 45
EMBEDDED_TIMEOUT = 60
SUBPROCESS_TIMEOUT = 120
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def _reset_celery_pools() -> None:
    """Close and forget every pooled broker connection; the next publish (also an eager one,
    which serialises through a producer) connects to broker_url anew.

    kombu keeps its pools in a registry keyed by broker URL: closing the app's pool without
    emptying that registry would hand the closed pool back once broker_url is restored
    ("Acquire on closed pool" in the next test).
    """
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def workers(transactional_db, tmp_path, private_redis):
    """Start real Celery workers on the private Redis against the PostgreSQL test database,
    and make this process publish to that Redis too (Celery is not eager: `real_celery`).

    Call it as `workers("name", EXTRA="env")`; every worker is stopped at teardown.
    """
    if celery_app.conf.task_always_eager:
        pytest.fail("A test with real workers must be marked `real_celery` (Celery is eager).")
    started: list[CeleryWorker] = []
    previous = {
        "broker_url": celery_app.conf.broker_url,
        "broker_transport_options": celery_app.conf.broker_transport_options,
    }
    celery_app.conf.broker_url = private_redis.url
    celery_app.conf.broker_transport_options = django_settings.BROKER_REDIS_TRANSPORT_OPTIONS
    _reset_celery_pools()

    def start(name: str, queues: str = "celery,mail", **extra_env: str) -> CeleryWorker:
        env = {
            **os.environ,
            "CELERY_BROKER_URL": private_redis.url,
            "DATABASE_URL": worker_database_url(),
            **extra_env,
        }
        # Both queues: these tests count the e-mails too (production runs a mail worker).
        worker = start_celery_worker(
            env=env, log_path=tmp_path / f"worker-{name}.log", hostname=name, queues=queues
        )
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
        celery_app.conf.update(previous)
        _reset_celery_pools()


def _logs(*workers: CeleryWorker, redis_server: RedisServer | None = None) -> str:
    parts = [f"--- worker log {w.log_path.name} ---\n{w.log()}" for w in workers]
    if redis_server is not None:
        parts.append(f"--- redis log ---\n{redis_server.log()}")
    return "\n".join(parts)


def _wait_ready(*workers: CeleryWorker) -> None:
    for worker in workers:
        worker.wait_for(lambda w=worker: " ready." in w.log(), what="worker ready")


def _pending_entries():
    return OutboxEntry.objects.filter(status=OutboxStatus.PENDING)


def _all_entries_done() -> bool:
    return (
        OutboxEntry.objects.exists()
        and not OutboxEntry.objects.exclude(status=OutboxStatus.DONE).exists()
    )


def _succeeded(task_name: str, *workers: CeleryWorker) -> int:
    pattern = re.compile(rf"Task {re.escape(task_name)}\[[^\]]+\] succeeded")
    return sum(len(pattern.findall(worker.log())) for worker in workers)


# --- a. Broker outage ------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_loses_no_escalation(
    workers, private_redis, client, officeholder, support_user, settings
):
    """With Redis down, officeholders still file escalating reports through the web form and
    promptly get the confirmation page. Nothing is queued then, but the outbox entries are
    committed with the reports; once Redis is back, the sweeper queues them (twice, as beat
    would) and the running worker creates exactly one escalation and one support case per
    incident, and delivers every entry."""
    worker = workers("outage")
    _wait_ready(worker)
    private_redis.stop()
    client.force_login(officeholder)
    # The entries written now are due for the sweeper at once (not only after two minutes).
    settings.PENDING_WORK_AGE = timedelta(seconds=0)

    references = []
    for number in range(3):
        started = time.monotonic()
        response = client.post(
            reverse("incidents:quick"),
            data={
                "types": [IncidentType.PHYSICAL_VIOLENCE],
                "occurred_on": (date.today() - timedelta(days=1)).isoformat(),
                "summary": f"Geduwd bij de ingang van het stadhuis ({number}).",
                "submission_token": str(uuid.uuid4()),
            },
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 302, response.content.decode()[:2000]
        assert elapsed < 10, f"the report took {elapsed:.1f} s with the broker down"
        match = re.fullmatch(r"/meldingen/(MWB-\d{4}-\d{6})/ontvangen/", response["Location"])
        assert match, response["Location"]
        assert client.get(response["Location"]).status_code == 200
        references.append(match.group(1))

    incidents = list(Incident.objects.filter(reference__in=references))
    assert len(incidents) == 3
    assert not Escalation.objects.exists(), "nothing can have been processed during the outage"
    pending = _pending_entries()
    submitted = [i.events.get(kind=EventKind.SUBMITTED).pk for i in incidents]
    assert set(pending.values_list("object_id", flat=True)) == set(submitted)
    assert set(pending.values_list("consumer", flat=True)) >= {"support.rules", "incidents.notify"}
    waiting = pending.count()

    private_redis.start()
    assert sweep_pending()["outbox"] == waiting
    sweep_pending()

    def every_incident_escalated_once() -> bool:
        return all(
            Escalation.objects.filter(incident=incident).exists()
            and SupportCase.objects.filter(incident=incident).exists()
            for incident in incidents
        )

    def logs() -> str:
        return _logs(worker, redis_server=private_redis)

    wait_until(
        every_incident_escalated_once,
        what="escalation and support case for every incident",
        timeout=PROCESSING_TIMEOUT,
        logs=logs,
    )
    # Let the worker finish what the escalations queued (their own events), then count.
    wait_until(
        _all_entries_done,
        what="delivery of every outbox entry",
        timeout=PROCESSING_TIMEOUT,
        logs=logs,
    )
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.status == Status.ESCALATED
        assert Escalation.objects.filter(incident=incident).count() == 1
        assert SupportCase.objects.filter(incident=incident).count() == 1
    assert set(OutboxEntry.objects.values_list("attempts", flat=True)) == {1}
    assert _succeeded("portal.tasks.outbox_deliver", worker) >= OutboxEntry.objects.count()


# --- b. The same event delivered many times at once ------------------------------------------


def _sent_mails(folder: Path) -> list[email.message.EmailMessage]:
    """Every e-mail the file-based backends of the workers wrote (a file may hold several)."""
    mails = []
    for path in sorted(folder.glob("*")):
        for chunk in path.read_bytes().split(MAIL_SEPARATOR):
            if chunk.strip():
                mails.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return mails


def _file_mail_settings(folder: Path, mail_dir: Path) -> dict[str, str]:
    """Environment for a worker that writes its e-mails as files into `mail_dir`.

    The portal's settings read EMAIL_BACKEND but not EMAIL_FILE_PATH from the environment, so
    the worker gets a settings module of its own that adds just that.
    """
    folder.mkdir()
    (folder / "worker_mail_settings.py").write_text(
        "from portal.settings import *  # noqa: F403\n"
        "EMAIL_BACKEND = 'django.core.mail.backends.filebased.EmailBackend'\n"
        f"EMAIL_FILE_PATH = {str(mail_dir)!r}\n"
    )
    python_path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return {"DJANGO_SETTINGS_MODULE": "worker_mail_settings", "PYTHONPATH": python_path}


@pytest.mark.services
@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_one_event_delivered_many_times_at_once_escalates_and_mails_once(
    workers, tmp_path, officeholder, registrar, support_user
):
    """Two workers receive each outbox entry of one event eight times at once (a retry storm,
    or the sweeper and the first delivery together): one escalation, one support case, and
    exactly one e-mail per notification, the team's escalation e-mail included."""
    mail_dir = tmp_path / "mail"
    mail_env = _file_mail_settings(tmp_path / "settings", mail_dir)
    both = (workers("twice-a", **mail_env), workers("twice-b", **mail_env))
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])
    entries = outbox_pending(EventFactory(incident=incident, kind=EventKind.SUBMITTED))
    assert {entry.consumer for entry in entries} == {"support.rules", "incidents.notify"}
    _wait_ready(*both)

    for _delivery in range(8):
        for entry in entries:
            outbox_deliver.apply_async(args=[entry.pk])

    def logs() -> str:
        return _logs(*both)

    # 8 copies of each entry, then the escalation's own entries (status change, escalated).
    deliveries = 8 * len(entries) + 2
    wait_until(
        lambda: _succeeded("portal.tasks.outbox_deliver", *both) >= deliveries,
        what=f"{deliveries} delivery tasks",
        timeout=PROCESSING_TIMEOUT,
        logs=logs,
    )
    wait_until(
        lambda: (
            Notification.objects.exists()
            and not Notification.objects.filter(emailed_at__isnull=True).exists()
            and _all_entries_done()
        ),
        what="every outbox entry done and every notification e-mailed",
        timeout=PROCESSING_TIMEOUT,
        logs=logs,
    )
    assert set(OutboxEntry.objects.values_list("attempts", flat=True)) == {1}

    assert Escalation.objects.filter(incident=incident).count() == 1
    assert SupportCase.objects.filter(incident=incident).count() == 1
    mails = _sent_mails(mail_dir)
    # The desk: new incident, and escalated; the officeholder: escalated; the team: a new case.
    assert len(mails) == Notification.objects.count() == 4, [m["Subject"] for m in mails]
    assert len({(m["To"], m["Subject"]) for m in mails}) == 4
    escalation_mails = [m for m in mails if "doorverwijzing" in m["Subject"]]
    assert len(escalation_mails) == 1
    assert escalation_mails[0]["To"] == support_user.email
    assert incident.reference in escalation_mails[0]["Subject"]


# --- c. The embedded `make run` stack --------------------------------------------------------


def _embedded_env(var_dir: Path) -> dict[str, str]:
    """`make run`'s environment (SQLite, filesystem broker, DEBUG on), kept in `var_dir`."""
    for folder in ("queue", "processed", "control"):
        (var_dir / "broker" / folder).mkdir(parents=True)
    return {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "DEBUG": "true",
        "SECRET_KEY": "test-only-secret-key-for-the-embedded-stack-0123456789abcdefghij",
    }


def _manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


class Browser:
    """Just enough of a browser: cookies, CSRF tokens from forms, followed redirects."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base_url + path, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def post_form(self, path: str, fields: dict) -> tuple[str, str]:
        _url, page = self.get(path)
        data = {"csrfmiddlewaretoken": _hidden_value(page, "csrfmiddlewaretoken"), **fields}
        body = urllib.parse.urlencode(data, doseq=True).encode()
        url = self.base_url + path  # always http://127.0.0.1:<port> of this test
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
        with self.opener.open(request, timeout=30) as response:
            return response.geturl(), response.read().decode()


def _incident_state(reference: str, env: dict[str, str]) -> str:
    """Status, escalations and support cases of the incident, as a fresh process sees them."""
    output = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from incidents.models import Incident; "
        f"i = Incident.objects.get(reference={reference!r}); "
        "print(i.status, i.escalations.count(), i.support_cases.count())",
        env=env,
    )
    return output.strip().splitlines()[-1]


@pytest.mark.real_celery
def test_an_escalating_report_filed_over_http_is_escalated_on_the_embedded_stack(tmp_path):
    """On the `make run` stack (SQLite, filesystem:// broker, a real worker, runserver), an
    officeholder logs in and files a quick report of physical violence over HTTP; the worker
    escalates it: status escalated, one escalation, one support case."""
    env = _embedded_env(tmp_path / "var")
    _manage("migrate", "--no-input", env=env)
    # Seeding hashes the demo passwords (seconds): the worker and the web server start meanwhile.
    seeding = subprocess.Popen(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = start_celery_worker(
        env=env, log_path=tmp_path / "worker.log", hostname=f"embedded-{uuid.uuid4().hex[:8]}"
    )
    port = free_port()
    server_log = tmp_path / "runserver.log"
    with server_log.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def logs() -> str:
        return f"{_logs(worker)}\n--- runserver log ---\n{server_log.read_text(errors='replace')}"

    def serving() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/account/inloggen/", timeout=2):
                return True
        except OSError:
            return False

    try:
        seed_output, _ = seeding.communicate(timeout=SUBPROCESS_TIMEOUT)
        assert seeding.returncode == 0, f"seed_demo failed:\n{seed_output}"
        wait_until(serving, what="answer from runserver", timeout=SERVER_START_TIMEOUT, logs=logs)
        browser = Browser(f"http://127.0.0.1:{port}")
        landed, _page = browser.post_form(
            "/account/inloggen/", {"username": "wethouder.utrecht", "password": "weerbaar-demo"}
        )
        assert "/account/inloggen/" not in landed, "login failed"

        confirmation, page = browser.post_form(
            "/meldingen/snel/",
            {
                "types": ["physical_violence"],
                "occurred_on": (date.today() - timedelta(days=1)).isoformat(),
                "summary": "Geduwd en geslagen na de inspraakavond.",
                "submission_token": str(uuid.uuid4()),
            },
        )
        match = re.search(r"/meldingen/(MWB-\d{4}-\d{6})/ontvangen/$", confirmation)
        assert match, f"no confirmation page, but {confirmation}:\n{page[:3000]}"
        reference = match.group(1)

        wait_until(
            lambda: _incident_state(reference, env) == "escalated 1 1",
            what=f"escalation of {reference} by the worker",
            timeout=EMBEDDED_TIMEOUT,
            logs=logs,
        )
    finally:
        if seeding.poll() is None:
            seeding.kill()
            seeding.wait()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        worker.stop()
