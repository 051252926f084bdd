"""/health/ for outside monitoring: up or down for anyone, the figures only for admins/monitors.

Anyone gets 200 "ok" or 503 "down" as plain text and nothing else; an administrator whose
session entered the second factor, or a monitor with HEALTH_TOKEN in X-Health-Token, gets each
check (database, broker, worker heartbeat, mail queue) as JSON, without personal data. The
broker is a real Redis: the shared test Redis when it should be up, a refused port or a Redis
frozen with SIGSTOP when it should be down.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.celery import app as celery_app
from portal.models import Notification, WorkerHeartbeat
from portal.services import notifications_create, worker_heartbeat_record
from tests.celery_worker import _reset_celery_pools, redis_url_for_this_process
from tests.conftest import verified_login
from tests.redis_server import free_port

HEALTH_URL = "/health/"
TOKEN = "health-token-for-tests-0123456789"
# A generous ceiling for a report while the broker hangs (about 1 s: the socket timeout).
CEILING_SECONDS = 10


@pytest.fixture
def broker_at():
    """`broker_at(url)`: the health check (and this process) use that broker, with the
    production transport options; restored afterwards."""
    previous = {
        "broker_url": celery_app.conf.broker_url,
        "broker_transport_options": celery_app.conf.broker_transport_options,
    }

    def point(url: str) -> None:
        celery_app.conf.broker_url = url
        celery_app.conf.broker_transport_options = django_settings.BROKER_REDIS_TRANSPORT_OPTIONS
        _reset_celery_pools()

    yield point
    celery_app.conf.update(previous)
    _reset_celery_pools()


@pytest.fixture
def healthy(db, broker_at):
    """Everything fine: a reachable broker, a fresh heartbeat, no mail waiting."""
    broker_at(redis_url_for_this_process())
    worker_heartbeat_record(name="worker")


def _unsent_notification(user, *, age: timedelta) -> Notification:
    (notification,) = notifications_create(
        recipients=[user],
        event_key=f"test:{user.pk}",
        kind="incident_submitted",
        reference="MWB-2026-000001",
        link="/meldpunt/",
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - age)
    return notification


def _detail(client, **headers):
    response = client.get(HEALTH_URL, headers=headers)
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response, response.json()


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_anyone_gets_ok_and_nothing_more_when_all_is_well(client):
    response = client.get(HEALTH_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_head_answers_too(client):
    """Monitors often send HEAD: same status, no body."""
    assert client.head(HEALTH_URL).status_code == 200


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_anyone_gets_down_without_detail_when_the_worker_is_silent(client, settings):
    """A heartbeat older than HEALTH_WORKER_HEARTBEAT_MAX_AGE: 503 "down", no figures."""
    stale = timezone.now() - settings.HEALTH_WORKER_HEARTBEAT_MAX_AGE - timedelta(seconds=1)
    WorkerHeartbeat.objects.filter(name="worker").update(last_seen_at=stale)

    response = client.get(HEALTH_URL)

    assert response.status_code == 503
    assert response.content == b"down"


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_an_admin_with_the_second_factor_gets_every_check(client, admin_user):
    verified_login(client, admin_user)

    response, body = _detail(client)

    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "worker_heartbeat", "mail_queue"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker_heartbeat"]["age_seconds"] < 60
    assert body["checks"]["mail_queue"] == {"ok": True, "unsent": 0, "oldest_age_seconds": None}


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
@pytest.mark.parametrize("who", ["admin_without_second_factor", "registrar", "officeholder"])
def test_other_people_get_only_up_or_down(who, admin_user, registrar, officeholder):
    """No redirect to the code step either: monitoring is exempt from the login middleware."""
    client = Client()
    if who == "admin_without_second_factor":
        client.force_login(admin_user)
    else:
        verified_login(client, {"registrar": registrar, "officeholder": officeholder}[who])

    response = client.get(HEALTH_URL)

    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_a_monitor_with_the_token_gets_every_check_and_a_wrong_token_does_not(client, settings):
    settings.HEALTH_TOKEN = TOKEN

    response, body = _detail(client, x_health_token=TOKEN)
    wrong = client.get(HEALTH_URL, headers={"x-health-token": TOKEN + "x"})

    assert response.status_code == 200 and body["status"] == "ok"
    assert wrong.content == b"ok"


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_no_token_is_accepted_when_none_is_configured(client, settings):
    settings.HEALTH_TOKEN = ""

    assert client.get(HEALTH_URL, headers={"x-health-token": ""}).content == b"ok"


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_old_unsent_mail_makes_it_down_and_the_detail_names_no_person(client, settings, registrar):
    """The oldest unsent notification beyond HEALTH_MAIL_QUEUE_MAX_AGE: down. The detail has
    counts and ages only: no name, e-mail address, reference or link."""
    settings.HEALTH_TOKEN = TOKEN
    _unsent_notification(registrar, age=settings.HEALTH_MAIL_QUEUE_MAX_AGE + timedelta(minutes=1))

    response, body = _detail(client, x_health_token=TOKEN)

    assert response.status_code == 503
    assert body["status"] == "down"
    mail = body["checks"]["mail_queue"]
    assert mail["ok"] is False and mail["unsent"] == 1
    assert mail["oldest_age_seconds"] >= settings.HEALTH_MAIL_QUEUE_MAX_AGE.total_seconds()
    text = response.content.decode()
    for personal in (registrar.username, registrar.email, "MWB-2026-000001", "/meldpunt/"):
        assert personal not in text


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_recent_unsent_mail_is_fine(client, settings, registrar):
    settings.HEALTH_TOKEN = TOKEN
    _unsent_notification(registrar, age=timedelta(seconds=30))

    response, body = _detail(client, x_health_token=TOKEN)

    assert response.status_code == 200
    assert body["checks"]["mail_queue"]["unsent"] == 1


@pytest.mark.django_db
def test_a_broker_that_refuses_connections_makes_it_down(client, settings, broker_at):
    settings.HEALTH_TOKEN = TOKEN
    worker_heartbeat_record(name="worker")
    broker_at(f"redis://127.0.0.1:{free_port()}/0")

    response, body = _detail(client, x_health_token=TOKEN)

    assert response.status_code == 503
    assert body["checks"]["broker"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.services
@pytest.mark.django_db
def test_a_broker_that_hangs_makes_it_down_within_seconds(
    client, settings, broker_at, private_redis
):
    """A Redis frozen with SIGSTOP: the check gives up after the socket timeout."""
    settings.HEALTH_TOKEN = TOKEN
    worker_heartbeat_record(name="worker")
    broker_at(private_redis.url)
    assert client.get(HEALTH_URL).status_code == 200
    private_redis.pause()

    started = time.monotonic()
    try:
        response, body = _detail(client, x_health_token=TOKEN)
    finally:
        private_redis.resume()
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False
    assert elapsed < CEILING_SECONDS, f"the health check took {elapsed:.1f} s"


def test_the_health_url_is_the_documented_one():
    assert reverse("health") == HEALTH_URL
