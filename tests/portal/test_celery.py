"""Celery round trips through real worker processes.

Once on Redis against the PostgreSQL test database (how production and `make test` run), and
once on the embedded stack of `make run`: SQLite plus kombu's filesystem broker, no servers.
"""

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from django.conf import settings
from django.utils import timezone

from devtools.smtp_sink import SmtpSink
from portal.models import Notification, WorkerHeartbeat
from portal.services import queue_notification_email
from portal.tasks import heartbeat
from tests.celery_worker import start_celery_worker
from tests.factories import UserFactory

SUBPROCESS_TIMEOUT = 120


@pytest.mark.django_db(transaction=True)
def test_task_runs_in_a_real_worker_on_redis(redis_celery_worker):
    """A task published by this process is taken from Redis by a worker process, which
    writes its row into the test database that this process reads."""
    name = f"redis-{uuid4().hex[:12]}"

    heartbeat.apply_async(kwargs={"name": name})

    redis_celery_worker.wait_for(
        lambda: WorkerHeartbeat.objects.filter(name=name).exists(),
        what=f"heartbeat row {name!r} written by the worker",
    )


@pytest.fixture
def smtp_sink(monkeypatch):
    """A real SMTP server on a free loopback port; workers started after this send to it."""
    with SmtpSink() as sink:
        monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
        monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("EMAIL_PORT", str(sink.port))
        yield sink


@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_only_the_mail_queue_sends_the_email_over_smtp(smtp_sink, request):
    """The e-mail task, published as the portal does, goes to the mail queue; a worker that
    consumes only that queue sends it over SMTP with the row's Message-ID and records it."""
    recipient = UserFactory(registrar=True)
    notification = Notification.objects.create(
        recipient=recipient,
        event_key="incident-event:1",
        kind="incident_new",
        reference="MWB-2026-000001",
        link="/meldpunt/meldingen/MWB-2026-000001/",
        created_at=timezone.now(),
    )
    worker = request.getfixturevalue("redis_mail_worker")

    assert queue_notification_email(notification.pk)

    worker.wait_for(
        lambda: Notification.objects.filter(pk=notification.pk, emailed_at__isnull=False).exists(),
        what="the notification recorded as e-mailed by the mail worker",
    )
    [mail] = smtp_sink.mails
    assert mail.message_id == notification.message_id
    assert mail.to == [recipient.email]
    assert mail.subject == "Nieuwe melding MWB-2026-000001"


def test_task_runs_in_a_real_worker_on_the_embedded_make_run_stack(tmp_path):
    """On the `make run` defaults (SQLite file, filesystem:// broker) a task published by one
    process is run by a worker process, and a third process sees the row it wrote."""
    env = embedded_stack_env(tmp_path / "var")
    manage("migrate", "--no-input", env=env)
    name = f"embedded-{uuid4().hex[:12]}"

    worker = start_celery_worker(
        env=env, log_path=tmp_path / "celery-worker.log", pool="prefork", hostname="embedded"
    )
    try:
        manage(
            "shell",
            "--no-imports",
            "-c",
            "from portal.tasks import heartbeat; "
            f"heartbeat.apply_async(kwargs={{'name': {name!r}}})",
            env=env,
        )
        # The filesystem transport polls its folder about once a second.
        worker.wait_for(
            lambda: heartbeat_exists(name, env=env),
            what=f"heartbeat row {name!r} in the SQLite database",
            timeout=40,
        )
    finally:
        worker.stop()


def embedded_stack_env(var_dir: Path) -> dict[str, str]:
    """The environment of `make run`, with all its state in `var_dir` instead of var/."""
    for folder in ("queue", "processed", "control"):
        (var_dir / "broker" / folder).mkdir(parents=True)
    return {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-secret-key-for-the-embedded-stack-0123456789abcdefghij",
    }


def manage(*args: str, env: dict[str, str]) -> str:
    """Run `manage.py` in a subprocess; fail the test with its output when it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def heartbeat_exists(name: str, *, env: dict[str, str]) -> bool:
    """Whether the heartbeat row exists, as seen by a fresh process on the same stack."""
    output = manage(
        "shell",
        "--no-imports",
        "-c",
        "from portal.models import Notification, WorkerHeartbeat; "
        f"print(WorkerHeartbeat.objects.filter(name={name!r}).exists())",
        env=env,
    )
    return output.strip().splitlines()[-1:] == ["True"]
