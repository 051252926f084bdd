"""Saved means saved: a broker that hangs never turns a saved report into an error page.

The web request publishes its work after the commit. Against a Redis that is frozen with
SIGSTOP (connections stay open, nothing answers), the publish gives up after the socket
timeouts and the short retry policy in settings, the officeholder gets the normal
confirmation, and the event stays pending in the database for the sweeper. Each test has a
Redis of its own (`private_redis`), so freezing it disturbs no other test.
"""

import re
import signal
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from incidents.constants import IncidentType
from incidents.models import Event, Incident
from portal.celery import app as celery_app
from portal.models import OutboxEntry, OutboxStatus
from tests.celery_worker import _reset_celery_pools

# A generous ceiling, not a timing assertion: without socket timeouts the request hangs until
# gunicorn kills it (30 s); with them it takes about 3 s (first publish) or 1 s (later ones).
CEILING_SECONDS = 10
# Should publishing hang after all (a regression), the test fails here instead of hanging.
HANG_GUARD_SECONDS = 60


@contextmanager
def fails_instead_of_hanging(seconds: int):
    """Interrupt a blocked socket read with SIGALRM and fail the test (pytest.fail raises a
    BaseException, which the robust on_commit does not swallow)."""

    def hung(signum, frame):
        pytest.fail(f"the request still hangs after {seconds} s: publishing is not bounded")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def publishing_to(private_redis):
    """This process publishes to the private Redis with the production transport options (not
    eagerly: the test is marked `real_celery`). Restored, and pools dropped, afterwards."""
    if celery_app.conf.task_always_eager:
        pytest.fail("Mark the test `real_celery`: it must publish to a real broker.")
    previous = {
        "broker_url": celery_app.conf.broker_url,
        "broker_transport_options": celery_app.conf.broker_transport_options,
    }
    celery_app.conf.broker_url = private_redis.url
    celery_app.conf.broker_transport_options = django_settings.BROKER_REDIS_TRANSPORT_OPTIONS
    _reset_celery_pools()
    try:
        yield private_redis
    finally:
        private_redis.resume()
        celery_app.conf.update(previous)
        _reset_celery_pools()


def _quick_report(client, number: int):
    return client.post(
        reverse("incidents:quick"),
        data={
            "types": [IncidentType.THREAT],
            "occurred_on": (date.today() - timedelta(days=1)).isoformat(),
            "summary": f"Bedreigd op de markt ({number}).",
            "submission_token": str(uuid.uuid4()),
        },
    )


@pytest.mark.services
@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_a_report_filed_while_the_broker_hangs_gets_the_normal_confirmation(
    publishing_to, client, officeholder
):
    """With Redis frozen (SIGSTOP) after a first successful publish, so that the pooled
    connection hangs as well as any new one, two quick reports in a row each answer with the
    redirect to their confirmation page, well under the ceiling; both incidents are stored and
    their events wait, pending, for the sweeper."""
    client.force_login(officeholder)
    # A first report while Redis answers: the process now holds a pooled broker connection.
    warm = _quick_report(client, 0)
    assert warm.status_code == 302, warm.content.decode()[:2000]

    publishing_to.pause()
    references = []
    for number in (1, 2):
        started = time.monotonic()
        with fails_instead_of_hanging(HANG_GUARD_SECONDS):
            response = _quick_report(client, number)
        elapsed = time.monotonic() - started

        assert response.status_code == 302, response.content.decode()[:2000]
        match = re.fullmatch(r"/meldingen/(MWB-\d{4}-\d{6})/ontvangen/", response["Location"])
        assert match, response["Location"]
        assert elapsed < CEILING_SECONDS, f"report {number} took {elapsed:.1f} s"
        confirmation = client.get(response["Location"])
        assert confirmation.status_code == 200
        references.append(match.group(1))

    assert Incident.objects.filter(reference__in=references).count() == 2
    events = Event.objects.filter(incident__reference__in=references)
    pending = OutboxEntry.objects.filter(
        object_id__in=events.values("pk"), status=OutboxStatus.PENDING
    )
    assert pending.count() == 4, "each event's work (notify, rules) waits for the sweeper"
