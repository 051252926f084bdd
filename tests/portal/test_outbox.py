"""The outbox: one way from "something happened" to every reaction, each exactly once.

- Work for each consumer is written in the transaction of the event itself.
- With the broker down nothing is lost: the sweeper queues it later, at any age, and a real
  worker runs every consumer for every event exactly once.
- A consumer that keeps failing is retried with backoff up to its cap, then marked failed and
  shown to the administrator; nothing is dropped because it is old.
- incidents works and notifies with support's consumers switched off.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from incidents.constants import EventKind, IncidentType, Status
from incidents.models import Event, Incident
from incidents.services import INCIDENT_EVENT_TOPIC, event_record, incident_anonymise
from portal import outbox
from portal.models import Notification, OutboxEntry, OutboxStatus
from support.models import SupportCase
from tests.conftest import verified_login
from tests.factories import IncidentFactory, UserFactory, case_act, case_open

SUPPORT_CONSUMERS = ["support.rules", "support.case", "support.retention", "support.notify"]


@pytest.fixture
def failing_consumer():
    """A consumer of the topic "test" that always fails; removed again afterwards."""
    calls = []

    def handler(object_id):
        calls.append(object_id)
        raise RuntimeError("mail server says no")

    outbox.consumer_register(topic="test", name="tests.failing", handler=handler)
    yield calls
    outbox._CONSUMERS.pop("test", None)


@pytest.mark.django_db
def test_an_event_writes_work_for_each_interested_consumer_in_its_own_transaction(
    officeholder, registrar, django_capture_on_commit_callbacks
):
    """Submitting writes one entry per consumer that wants `submitted`; a rolled-back event
    leaves none; the delivery tasks are queued only after commit."""
    incident = IncidentFactory(officeholder=officeholder)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = event_record(incident=incident, kind=EventKind.SUBMITTED, actor=officeholder)
    consumers = set(
        OutboxEntry.objects.filter(object_id=event.pk).values_list("consumer", flat=True)
    )
    assert consumers == {"incidents.notify", "support.rules"}
    assert len(callbacks) == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back = event_record(incident=incident, kind=EventKind.SUBMITTED, actor=officeholder)
        raise RuntimeError("rollback")
    assert not OutboxEntry.objects.filter(object_id=rolled_back.pk).exists()


@pytest.mark.django_db
@override_settings(OUTBOX_MAX_ATTEMPTS=3)
def test_a_consumer_that_keeps_failing_stops_at_its_cap_and_is_shown_to_the_administrator(
    client, failing_consumer, django_capture_on_commit_callbacks
):
    """Three failed attempts, each scheduled later than the one before, then `failed`: the
    admin's home page warns and the outbox list shows the entry with its error."""
    with django_capture_on_commit_callbacks(execute=False):
        (entry,) = outbox.outbox_record(topic="test", object_id=42, kind="anything")
    due = []
    for _attempt in range(5):
        outbox.outbox_deliver(entry_id=entry.pk)
        entry.refresh_from_db()
        due.append(entry.next_attempt_at)
    assert failing_consumer == [42, 42, 42]
    assert (entry.status, entry.attempts) == (OutboxStatus.FAILED, 3)
    assert entry.last_error == "RuntimeError: mail server says no"
    assert due[0] < due[1]

    admin = verified_login(client, UserFactory(admin=True, is_staff=True))
    assert "Verwerking mislukt" in admin.get(reverse("home")).content.decode()
    listing = admin.get(reverse("admin:portal_outboxentry_changelist") + "?status__exact=failed")
    assert listing.status_code == 200
    assert "tests.failing" in listing.content.decode()

    # The administrator's "try again" gives it a new round.
    assert outbox.outbox_retry(entry_ids=[entry.pk]) == 1
    entry.refresh_from_db()
    assert (entry.status, entry.attempts) == (OutboxStatus.PENDING, 0)


@pytest.mark.django_db
def test_an_anonymisation_pending_for_more_than_a_week_is_still_processed(
    support_user, django_capture_on_commit_callbacks
):
    """Retention's event waited 8 days (a long outage): the sweeper still runs support's
    consumer, so the team's free text is removed."""
    incident = IncidentFactory(escalated=True, types=[IncidentType.PHYSICAL_VIOLENCE])
    case = case_open(incident.escalations.get())
    case_act(case, support_user, "acknowledge")
    case_act(
        case,
        support_user,
        "close_case",
        outcome="Geheime uitkomst",
        outcome_category="support_given",
    )
    with django_capture_on_commit_callbacks(execute=False):  # the broker is "down"
        incident_anonymise(incident=Incident.objects.get(pk=incident.pk))
    event = Event.objects.get(incident=incident, kind=EventKind.ANONYMISED)
    entry = OutboxEntry.objects.get(object_id=event.pk, consumer="support.retention")
    long_ago = timezone.now() - timedelta(days=8)
    OutboxEntry.objects.filter(pk=entry.pk).update(created_at=long_ago, next_attempt_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.outbox_sweep() >= 1
    entry.refresh_from_db()
    assert entry.status == OutboxStatus.DONE
    assert SupportCase.objects.get(pk=case.pk).outcome == ""


@pytest.mark.django_db
def test_the_sweeper_takes_the_oldest_first_and_does_not_queue_one_twice(
    officeholder, django_capture_on_commit_callbacks
):
    """Queued entries move their next attempt ahead: a second sweep right after queues nothing."""
    incident = IncidentFactory(officeholder=officeholder)
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(3):
            event_record(incident=incident, kind=EventKind.FOLLOW_UP, actor=officeholder)
    later = timezone.now() + timedelta(minutes=5)
    queued = []
    with django_capture_on_commit_callbacks(execute=False):
        original = outbox.outbox_queue
        try:
            outbox.outbox_queue = lambda ids: queued.extend(ids)
            first = outbox.outbox_sweep(now=later)
            second = outbox.outbox_sweep(now=later)
        finally:
            outbox.outbox_queue = original
    assert first == len(queued) > 0 and second == 0
    assert queued == sorted(queued)


@pytest.mark.django_db
@override_settings(OUTBOX_DISABLED_CONSUMERS=SUPPORT_CONSUMERS)
def test_incidents_notifies_with_supports_consumers_switched_off(
    officeholder, registrar, django_capture_on_commit_callbacks
):
    """No support work is written at all, and the desk still hears of a new report."""
    from incidents.services import incident_submit

    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_submit(
            officeholder=officeholder,
            facts={
                "types": [IncidentType.PHYSICAL_VIOLENCE],
                "occurred_on": timezone.localdate(),
                "summary": "Geduwd bij de uitgang.",
            },
            quick=True,
        )
    assert not OutboxEntry.objects.filter(consumer__startswith="support.").exists()
    assert Notification.objects.filter(recipient=registrar, kind="incident_new").exists()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED  # no rules ran


# --- through a real worker, with the broker down while the events are committed ---------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_nothing_is_lost_and_each_consumer_runs_each_event_once(
    redis_celery_worker, officeholder, registrar
):
    """20 reports filed while no task can be published; the sweeper queues their work; the
    worker runs it: every entry done after one attempt, one escalation and one case each for
    the physical-violence reports, one desk notification per report."""
    from incidents.services import incident_submit
    from portal.celery import app

    working = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    from tests.celery_worker import _reset_celery_pools

    _reset_celery_pools()
    try:
        for number in range(20):
            # One officeholder each: the repeat rule (3 in 30 days) stays out of it.
            incident_submit(
                officeholder=UserFactory(organisation=officeholder.organisation),
                facts={
                    "types": [
                        IncidentType.PHYSICAL_VIOLENCE if number % 2 else IncidentType.THREAT
                    ],
                    "occurred_on": timezone.localdate(),
                    "summary": f"Melding {number}",
                },
                quick=True,
            )
    finally:
        app.conf.broker_url = working
        _reset_celery_pools()
    entries = OutboxEntry.objects.filter(topic=INCIDENT_EVENT_TOPIC)
    assert entries.count() == 40  # notify + rules, per report
    assert not entries.exclude(status=OutboxStatus.PENDING).exists()

    outbox.outbox_sweep(now=timezone.now() + timedelta(minutes=5))

    def all_done():
        return not OutboxEntry.objects.exclude(status=OutboxStatus.DONE).exists()

    redis_celery_worker.wait_for(all_done, what="every outbox entry done", timeout=90)
    assert set(OutboxEntry.objects.values_list("attempts", flat=True)) == {1}
    escalated = Incident.objects.filter(status=Status.ESCALATED)
    assert escalated.count() == 10
    assert SupportCase.objects.count() == 10
    assert all(incident.escalations.count() == 1 for incident in escalated)
    assert Notification.objects.filter(recipient=registrar, kind="incident_new").count() == 20
