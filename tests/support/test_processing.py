"""Processing an incident event through the outbox: each consumer once per event, however
often and however concurrently its entry is delivered.

Celery runs tasks eagerly in these tests (tests/conftest.py); the real-worker variants are in
test_reliability.py.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from incidents.constants import (
    EventKind,
    IdentifierKind,
    IncidentType,
    Status,
    TriageSeverity,
)
from incidents.models import Escalation, Event, IncidentLink, PerpetratorMatch
from incidents.services import INCIDENT_EVENT_TOPIC, incident_complete, incident_submit, note_add
from portal.models import Notification, OutboxEntry, OutboxStatus
from portal.outbox import outbox_deliver
from portal.tasks import outbox_deliver as outbox_deliver_task
from support.constants import RuleCode
from support.models import SupportCase
from tests.factories import (
    EventFactory,
    IncidentFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
    act,
    outbox_deliver_all,
    outbox_pending,
)

THREAD_TIMEOUT = 30


def _escalation_mails(outbox, incident):
    return [
        mail
        for mail in outbox
        if incident.reference in mail.subject and "doorverwijzing" in mail.subject
    ]


def _all_done() -> bool:
    """Every outbox entry written so far was delivered (none pending or failed)."""
    return (
        OutboxEntry.objects.exists()
        and not OutboxEntry.objects.exclude(status=OutboxStatus.DONE).exists()
    )


def _physical_violence_facts():
    return {
        "types": [IncidentType.PHYSICAL_VIOLENCE],
        "occurred_on": timezone.localdate() - timedelta(days=1),
        "summary": "Geduwd op de markt door een boze inwoner.",
    }


@pytest.mark.django_db
def test_submitting_an_escalating_incident_processes_it_through_the_seam(
    officeholder, registrar, support_user, committed, mailoutbox
):
    """Submitting physical violence runs the rules after commit: one escalation, one support
    case, every outbox entry of the chain done, and the team gets one e-mail."""
    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_physical_violence_facts(), quick=True
        )

    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    escalation = Escalation.objects.get(incident=incident)
    assert SupportCase.objects.get().escalation == escalation
    assert _all_done()
    assert set(OutboxEntry.objects.values_list("consumer", flat=True)) >= {
        "support.rules",
        "support.case",
        "incidents.notify",
    }
    assert len(_escalation_mails(mailoutbox, incident)) == 1
    assert [m.to for m in _escalation_mails(mailoutbox, incident)] == [[support_user.email]]


@pytest.mark.django_db
def test_processing_an_event_twice_escalates_once_and_mails_once(
    officeholder, registrar, support_user, committed, mailoutbox
):
    """Running the delivery task again for entries already done changes nothing and sends
    nothing: one escalation, one support case, one e-mail per person."""
    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_physical_violence_facts(), quick=True
        )
    submitted = incident.events.get(kind=EventKind.SUBMITTED)
    entries = list(OutboxEntry.objects.filter(object_id=submitted.pk))
    assert {entry.consumer for entry in entries} == {"incidents.notify", "support.rules"}
    mails_before = len(mailoutbox)

    with committed():
        for entry in entries:
            outbox_deliver_task.delay(entry.pk)
            assert outbox_deliver(entry_id=entry.pk) is False

    assert Escalation.objects.count() == 1
    assert SupportCase.objects.count() == 1
    assert len(mailoutbox) == mails_before
    assert len(_escalation_mails(mailoutbox, incident)) == 1


@pytest.mark.django_db
def test_processing_again_after_the_processed_mark_is_lost_changes_nothing(
    officeholder, registrar, support_user, committed, mailoutbox
):
    """Even when every "done" mark is lost (so every consumer runs every event a second time,
    as after a crash between its work and the commit), the rules, the case and the
    notifications keep it at one of each."""
    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_physical_violence_facts(), quick=True
        )
    notifications_before = Notification.objects.count()
    mails_before = len(mailoutbox)
    entries = list(OutboxEntry.objects.order_by("pk"))
    assert len(entries) >= 3
    OutboxEntry.objects.update(status=OutboxStatus.PENDING, done_at=None)

    with committed():
        assert outbox_deliver_all(entries) == [True] * len(entries)

    assert Escalation.objects.get().incident == incident
    assert SupportCase.objects.count() == 1
    assert Notification.objects.count() == notifications_before
    assert len(mailoutbox) == mails_before


@pytest.mark.django_db
def test_processing_a_missing_event_does_nothing():
    """An entry for an event that does not exist (any more) is marked done without doing
    anything, not retried forever; an entry id that does not exist is skipped."""
    event = EventFactory()
    entries = outbox_pending(event)
    assert entries
    event.delete()

    assert outbox_deliver_all(entries) == [True] * len(entries)
    assert _all_done()
    assert not Escalation.objects.exists()
    assert not Notification.objects.exists()
    assert outbox_deliver(entry_id=987654321) is False


@pytest.mark.django_db
def test_triage_runs_the_rules_again(officeholder, registrar, support_user, committed):
    """Triage is a rule trigger: a threat that the desk rates critical is escalated after the
    triage commits, by the `critical` rule."""
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.THREAT])

    with committed():
        act(
            incident,
            registrar,
            "triage",
            triage_severity=TriageSeverity.CRITICAL,
            risk_flags=[],
            types=[IncidentType.THREAT],
            advice_given=[],
        )

    assert Escalation.objects.get(incident=incident).rules == [RuleCode.CRITICAL]
    assert SupportCase.objects.filter(incident=incident).count() == 1
    assert _all_done()


@pytest.mark.django_db
def test_completing_a_report_with_a_known_handle_records_a_staff_only_match(
    officeholder, support_user, committed
):
    """Completing a quick report is a rule trigger: the perpetrator's handle, already known
    from another officeholder's incident, records one staff-only match between the two. It
    escalates nothing, links nothing and writes nothing on the other incident."""
    other = IncidentFactory(types=[IncidentType.THREAT])
    PerpetratorIdentifierFactory(incident=other, value="@Jan_Boos")
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.THREAT])

    with committed():
        incident_complete(
            incident=incident,
            actor=officeholder,
            facts={"types": [IncidentType.THREAT]},
            identifiers=[(IdentifierKind.HANDLE, "https://x.com/jan_boos")],
            version=incident.version,
        )

    first, second = sorted((other.pk, incident.pk))
    match = PerpetratorMatch.objects.get()
    assert (match.first_id, match.second_id) == (first, second)
    assert match.kinds == [IdentifierKind.HANDLE]
    assert not Escalation.objects.exists()
    assert not IncidentLink.objects.exists()
    assert not other.events.exists()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED
    assert _all_done()


@pytest.mark.django_db
def test_an_event_that_is_no_rule_trigger_does_not_escalate(officeholder, registrar, committed):
    """An internal note writes no work for the rules (nor for anyone: nobody is notified of a
    note), so nothing evaluates them."""
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])

    with committed():
        note_add(incident=incident, actor=registrar, body="Gebeld met de wijkagent.")

    note = incident.events.get(kind=EventKind.NOTE)
    assert not OutboxEntry.objects.filter(topic=INCIDENT_EVENT_TOPIC, object_id=note.pk).exists()
    assert not Escalation.objects.exists()


# --- Two workers at once (PostgreSQL row locks and the partial unique constraint) ---------------


def _run_in_threads(*targets):
    """Run each target in its own thread, started together; re-raise the first error.

    Every thread closes its own database connections when done.
    """
    barrier = threading.Barrier(len(targets))
    results, errors = [None] * len(targets), []

    def run(index, target):
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - reported to the test thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, target)) for i, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (a deadlock?)"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def escalating_incident(transactional_db, officeholder, registrar, support_user):
    """A committed physical-violence incident with its `submitted` event and that event's
    outbox entries, pending (made by factories, so nothing was queued)."""
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])
    outbox_pending(EventFactory(incident=incident, kind=EventKind.SUBMITTED))
    return incident


def _entries_of(event) -> list[OutboxEntry]:
    return list(OutboxEntry.objects.filter(object_id=event.pk).order_by("pk"))


@pytest.mark.django_db(transaction=True)
def test_one_event_processed_by_two_threads_at_once_escalates_once(escalating_incident, mailoutbox):
    """Two workers delivering the same entries at the same moment: the row lock (skip locked)
    lets one do each entry's work; the other skips it or sees it done. One escalation, one
    case, one e-mail to the team."""
    event = escalating_incident.events.get(kind=EventKind.SUBMITTED)
    entries = _entries_of(event)

    results = _run_in_threads(
        lambda: outbox_deliver_all(entries),
        lambda: outbox_deliver_all(entries),
    )

    for index in range(len(entries)):
        assert sorted(result[index] for result in results) == [False, True]
    assert _all_done()
    assert Escalation.objects.filter(incident=escalating_incident).count() == 1
    assert SupportCase.objects.filter(incident=escalating_incident).count() == 1
    assert len(_escalation_mails(mailoutbox, escalating_incident)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_events_of_one_incident_processed_at_once_escalate_once(
    escalating_incident, mailoutbox
):
    """Two different events of one incident (submit and a follow-up) evaluated by two workers
    at once both want to escalate; the incident lock and the one-open-escalation constraint
    keep it at one escalation and one e-mail."""
    submitted = escalating_incident.events.get(kind=EventKind.SUBMITTED)
    follow_up = EventFactory(incident=escalating_incident, kind=EventKind.FOLLOW_UP)
    outbox_pending(follow_up)

    results = _run_in_threads(
        lambda: outbox_deliver_all(_entries_of(submitted)),
        lambda: outbox_deliver_all(_entries_of(follow_up)),
    )

    assert all(all(result) for result in results)
    assert _all_done()
    assert Escalation.objects.filter(incident=escalating_incident).count() == 1
    assert SupportCase.objects.filter(incident=escalating_incident).count() == 1
    assert len(_escalation_mails(mailoutbox, escalating_incident)) == 1


@pytest.mark.django_db(transaction=True)
def test_many_threads_on_many_incidents_do_not_deadlock(transactional_db, support_user):
    """Four workers processing the events of four incidents of one organisation at once all
    finish (no lock waits on shared rows such as the organisation) and escalate each once."""
    officeholder = UserFactory()
    incidents = [
        IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])
        for _ in range(4)
    ]
    events = [EventFactory(incident=incident, kind=EventKind.SUBMITTED) for incident in incidents]
    for event in events:
        outbox_pending(event)

    _run_in_threads(
        *[lambda event=event: outbox_deliver_all(_entries_of(event)) for event in events]
    )

    for incident in incidents:
        assert Escalation.objects.filter(incident=incident).count() == 1
        assert SupportCase.objects.filter(incident=incident).count() == 1
    assert _all_done()


@pytest.mark.django_db(transaction=True)
def test_two_incidents_sharing_a_perpetrator_processed_at_once_record_one_match(
    transactional_db, support_user
):
    """Two officeholders report the same handle at the same moment; two workers evaluate the
    two incidents at once. Both find the other, without a deadlock, and exactly one match is
    recorded for the pair; neither incident is escalated or linked."""
    incidents = [IncidentFactory(types=[IncidentType.THREAT]) for _ in range(2)]
    for incident in incidents:
        PerpetratorIdentifierFactory(incident=incident, value="@Jan_Boos")
    events = [EventFactory(incident=incident, kind=EventKind.SUBMITTED) for incident in incidents]
    for event in events:
        outbox_pending(event)

    results = _run_in_threads(
        *[lambda event=event: outbox_deliver_all(_entries_of(event)) for event in events]
    )

    assert all(all(result) for result in results)
    match = PerpetratorMatch.objects.get()
    assert {match.first_id, match.second_id} == {incident.pk for incident in incidents}
    assert not Escalation.objects.exists()
    assert not IncidentLink.objects.exists()
    assert set(Event.objects.values_list("kind", flat=True)) == {EventKind.SUBMITTED}
