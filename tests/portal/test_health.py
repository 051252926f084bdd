"""/healthz, /readyz and /metrics: the probes of the platform and the operator's monitoring.

/healthz answers 200 whenever the process runs, checking nothing else, also over plain http
with SECURE_SSL_REDIRECT on and with a Host header that ALLOWED_HOSTS does not know (a
container health check, a kubelet). /readyz is 503 with a JSON body naming what is down when
the database, the cache or the broker is; the cache and the broker are real Redis addresses
(a refused port; a Redis frozen with SIGSTOP for the time bound). /metrics needs the token.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

import portal
from incidents.constants import ReporterSeverity
from portal.celery import app as celery_app
from portal.models import Notification, OutboxEntry, WorkerHeartbeat
from portal.services import notifications_create, worker_heartbeat_record
from tests.celery_worker import _reset_celery_pools, redis_url_for_this_process
from tests.conftest import verified_login
from tests.factories import IncidentFactory
from tests.redis_server import free_port

TOKEN = "metrics-token-for-tests-0123456789"
# A generous ceiling for a report while the broker hangs (about 1 s: the socket timeout).
CEILING_SECONDS = 10


@pytest.fixture
def broker_at():
    """`broker_at(url)`: the readiness check (and this process) use that broker, with the
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


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
        }
    }


@pytest.fixture
def healthy(db, broker_at, settings):
    """Everything fine: a reachable broker and cache (the shared test Redis)."""
    broker_at(redis_url_for_this_process())
    settings.CACHES = redis_cache(redis_url_for_this_process())


# --- /healthz ----------------------------------------------------------------------------------


def test_healthz_answers_with_the_version_and_checks_nothing(client, broker_at, settings):
    """No database (no db fixture: a query would fail the test), a broker that refuses."""
    broker_at(f"redis://127.0.0.1:{free_port()}/0")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": portal.__version__}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_over_plain_http_is_not_redirected_nor_refused_for_its_host(client, settings):
    """SECURE_SSL_REDIRECT on: every page of the portal redirects plain http to https, but
    the probe answers, whatever Host header the platform sends (a pod's IP address)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["meldpunt.example.nl"]

    login = client.get("/account/inloggen/", headers={"host": "meldpunt.example.nl"})
    probe = client.get("/healthz", headers={"host": "10.1.2.3:8000"})

    assert login.status_code == 301 and login["Location"].startswith("https://")
    assert probe.status_code == 200, probe.content[:200]
    assert client.head("/healthz", headers={"host": "10.1.2.3:8000"}).status_code == 200
    assert client.post("/healthz").status_code == 405


def test_the_probe_urls_are_the_documented_ones():
    assert (reverse("healthz"), reverse("readyz"), reverse("metrics")) == (
        "/healthz",
        "/readyz",
        "/metrics",
    )


# --- /readyz -----------------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_readyz_is_ok_when_database_cache_and_broker_answer(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/readyz", headers={"host": "10.1.2.3"})

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": portal.__version__,
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_readyz_names_a_broker_that_refuses_connections(client, broker_at, caplog):
    """The 503 is the probe's answer: not logged as an error (nor e-mailed to ADMINS)."""
    broker_at(f"redis://127.0.0.1:{free_port()}/0")

    with caplog.at_level("INFO"):
        response = client.get("/readyz")

    assert not [record for record in caplog.records if record.levelname == "ERROR"]
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "down"}


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_readyz_names_a_cache_that_refuses_connections(client, settings):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "down", "broker": "ok"}


@pytest.mark.services
@pytest.mark.usefixtures("healthy")
def test_readyz_names_a_database_that_fails(client, monkeypatch):
    """The database connection raises (as psycopg2 does when PostgreSQL is gone)."""

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr("portal.health.connection.cursor", refused)
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "down", "cache": "ok", "broker": "ok"}


@pytest.mark.services
@pytest.mark.django_db
def test_readyz_is_down_within_seconds_when_the_broker_hangs(
    client, settings, broker_at, private_redis
):
    """A Redis frozen with SIGSTOP: the check gives up after the socket timeout."""
    settings.CACHES = redis_cache(redis_url_for_this_process())
    broker_at(private_redis.url)
    assert client.get("/readyz").status_code == 200
    private_redis.pause()

    started = time.monotonic()
    try:
        response = client.get("/readyz")
    finally:
        private_redis.resume()
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "down"
    assert elapsed < CEILING_SECONDS, f"the readiness check took {elapsed:.1f} s"


# --- /metrics ----------------------------------------------------------------------------------


def test_metrics_are_not_there_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_metrics_refuse_a_missing_or_wrong_token(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"authorization": authorization} if authorization else {}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content


def _scrape(client) -> dict[str, float]:
    response = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"].startswith("text/plain")
    values = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


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


@pytest.mark.django_db
def test_metrics_report_the_backlog_and_the_escalation_chain(client, settings, registrar):
    """Heartbeat age, the oldest pending outbox entry, unsent notifications and the oldest
    untriaged serious report: ages and counts, never a reference, name or link."""
    settings.METRICS_TOKEN = TOKEN
    now = timezone.now()
    worker_heartbeat_record(name="worker")
    WorkerHeartbeat.objects.update(last_seen_at=now - timedelta(seconds=400))
    _unsent_notification(registrar, age=timedelta(minutes=20))
    serious = IncidentFactory(
        reporter_severity=ReporterSeverity.SERIOUS, submitted_at=now - timedelta(hours=3)
    )
    IncidentFactory(reporter_severity=ReporterSeverity.NOT_SERIOUS)
    OutboxEntry.objects.create(
        topic="t", object_id=1, consumer="c", next_attempt_at=now, created_at=now - timedelta(600)
    )

    values = _scrape(client)
    text = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"}).content.decode()

    assert 400 <= values["portal_worker_heartbeat_age_seconds"] < 460
    assert values["portal_notifications_unsent"] == 1
    assert values["portal_notifications_oldest_unsent_age_seconds"] >= 20 * 60
    assert values["portal_outbox_oldest_pending_age_seconds"] >= 600 * 86400
    assert 3 * 3600 <= values["portal_untriaged_serious_oldest_age_seconds"] < 3 * 3600 + 60
    assert values["portal_metrics_database_up"] == 1
    assert values[f'portal_info{{version="{portal.__version__}"}}'] == 1
    for personal in (serious.reference, "MWB-2026-000001", registrar.username, "/meldpunt/"):
        assert personal not in text


@pytest.mark.django_db
def test_metrics_say_never_when_no_worker_ever_ran(client, settings):
    settings.METRICS_TOKEN = TOKEN

    values = _scrape(client)

    assert values["portal_worker_heartbeat_age_seconds"] == float("inf")
    assert values["portal_untriaged_serious_oldest_age_seconds"] == 0
    assert values["portal_notifications_unsent"] == 0


@pytest.mark.django_db
def test_request_latency_is_recorded_per_url_name_not_per_path(client, settings, officeholder):
    settings.METRICS_TOKEN = TOKEN
    verified_login(client, officeholder)
    client.get("/account/inloggen/?q=Jansen")

    values = _scrape(client)

    counts = {
        name: value
        for name, value in values.items()
        if name.startswith("portal_http_request_duration_seconds_count")
    }
    assert any('view="login"' in name and 'method="GET"' in name for name in counts), counts
    assert not any("Jansen" in name or "inloggen" in name for name in values)


@pytest.mark.django_db
def test_metrics_without_the_database_say_so_instead_of_failing(client, settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN

    def gone():
        raise OperationalError("connection refused")

    monkeypatch.setattr("portal.metrics._GAUGES", {"g": portal.metrics.Gauge("g", "g", gone)})

    values = _scrape(client)

    assert values["portal_metrics_database_up"] == 0
    assert "g" not in values
