"""Beat's clean-up of personal data that is only kept for a while: expired sessions, old login
records (django-axes) and old access-log entries, each through its Celery task."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from portal import tasks
from portal.models import AccessAction, AccessLogEntry

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_runs_the_three_clean_ups():
    """Each clean-up is in beat's schedule, so it runs without anyone remembering it."""
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "portal.tasks.clear_expired_sessions",
        "portal.tasks.purge_login_attempts",
        "portal.tasks.purge_access_log",
    } <= scheduled


def test_expired_sessions_are_removed_and_live_ones_stay():
    """clearsessions: a session past its expiry goes, a current one keeps working."""
    live = SessionStore()
    live["x"] = 1
    live.create()
    expired = SessionStore()
    expired["x"] = 2
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert tasks.clear_expired_sessions.delay().get() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert SessionStore(session_key=live.session_key)["x"] == 1


def _axes_rows(model, *, age: timedelta, ip: str, **extra):
    row = model.objects.create(
        user_agent="Mozilla/5.0",
        ip_address=ip,
        username="wethouder",
        http_accept="*/*",
        path_info="/account/inloggen/",
        **extra,
    )
    model.objects.filter(pk=row.pk).update(attempt_time=timezone.now() - age)
    return row


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        (AccessAttempt, {"get_data": "", "post_data": "", "failures_since_start": 1}),
        (AccessFailureLog, {}),
        (AccessLog, {}),
    ],
)
def test_login_records_older_than_the_retention_are_removed(settings, model, extra):
    """Login records (IP address and browser of every login) older than
    LOGIN_ATTEMPT_RETENTION_DAYS go; younger ones stay."""
    settings.LOGIN_ATTEMPT_RETENTION = timedelta(days=30)
    old = _axes_rows(model, age=timedelta(days=31), ip="192.0.2.7", **extra)
    recent = _axes_rows(model, age=timedelta(days=29), ip="192.0.2.8", **extra)

    assert tasks.purge_login_attempts.delay().get() == 1
    assert list(model.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not model.objects.filter(pk=old.pk).exists()


def test_access_log_entries_older_than_the_retention_are_removed_in_batches(settings, monkeypatch):
    """Access-log entries older than ACCESS_LOG_RETENTION_DAYS go (in several batches when
    there are many); an entry inside the period stays."""
    from portal import services

    monkeypatch.setattr(services, "ACCESS_LOG_PURGE_BATCH", 2)
    settings.ACCESS_LOG_RETENTION = timedelta(days=730)
    now = timezone.now()
    for _ in range(5):
        AccessLogEntry.objects.create(
            at=now - timedelta(days=731), action=AccessAction.VIEW_INCIDENT, reference="MWB-1"
        )
    kept = AccessLogEntry.objects.create(
        at=now - timedelta(days=700), action=AccessAction.VIEW_INCIDENT, reference="MWB-2"
    )

    assert tasks.purge_access_log.delay().get() == 5
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_privacy_statement_names_the_configured_periods(client, settings):
    """The privacy page says how long login records and the access log are kept, with the
    periods that the clean-up really uses."""
    settings.LOGIN_ATTEMPT_RETENTION = timedelta(days=14)
    settings.ACCESS_LOG_RETENTION = timedelta(days=365)
    text = client.get("/privacy/").content.decode()
    assert "uw IP-adres en uw browser 14 dagen" in text
    assert "Dat bewaren wij 365 dagen." in text
