"""Beat's health check: the scheduler touches BEAT_TICK_FILE after each tick, and
`manage.py beat_health` (the compose health check of beat) fails when it is old or missing."""

import os
import time

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.schedulers import DatabaseScheduler

from portal.beat import PortalScheduler
from portal.celery import app


@pytest.fixture
def tick_file(tmp_path, settings):
    settings.BEAT_TICK_FILE = tmp_path / "beat" / "tick"
    return settings.BEAT_TICK_FILE


def test_a_fresh_tick_is_healthy(tick_file, capsys):
    tick_file.parent.mkdir()
    tick_file.touch()

    call_command("beat_health")

    assert "beat ticked" in capsys.readouterr().out


def test_an_old_tick_is_unhealthy(tick_file, settings):
    tick_file.parent.mkdir()
    tick_file.touch()
    old = time.time() - settings.BEAT_HEALTH_MAX_AGE.total_seconds() - 5
    os.utime(tick_file, (old, old))

    with pytest.raises(CommandError, match="beat last ticked"):
        call_command("beat_health")


def test_no_tick_yet_is_unhealthy(tick_file):
    with pytest.raises(CommandError, match="not ticked yet"):
        call_command("beat_health")


@pytest.mark.django_db
def test_the_scheduler_touches_the_file_after_each_successful_tick(tick_file, monkeypatch):
    monkeypatch.setattr(DatabaseScheduler, "tick", lambda self, *args, **kwargs: 5.0)
    scheduler = PortalScheduler(app=app, lazy=True)

    assert scheduler.tick() == 5.0
    assert time.time() - tick_file.stat().st_mtime < 5


@pytest.mark.django_db
def test_a_failing_tick_leaves_the_file_alone(tick_file, monkeypatch):
    def fails(self, *args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(DatabaseScheduler, "tick", fails)
    scheduler = PortalScheduler(app=app, lazy=True)

    with pytest.raises(RuntimeError):
        scheduler.tick()
    assert not tick_file.exists()


def test_beat_uses_the_portal_scheduler(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "portal.beat:PortalScheduler"
