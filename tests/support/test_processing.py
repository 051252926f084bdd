"""Processing an incident event: once, however often and however concurrently it runs.

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
    LinkKind,
    Status,
    TriageSeverity,
)
from incidents.models import Escalation, Event, IncidentLink
from incidents.services import incident_complete, incident_submit, incident_triage, note_add
from portal.models import Notification
from support.constants import RuleCode
from support.models import EventProcessing, SupportCase
from support.services import incident_event_process
from support.tasks import process_incident_event
from tests.factories import (
    EventFactory,
    IncidentFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
)

THREAD_TIMEOUT = 30


def _escalation_mails(outbox, incident):
    return [
        mail
        for mail in outbox
        if incident.reference in mail.subject and "doorverwijzing" in mail.subject
    ]


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
    case, every event of the chain marked processed, and the team gets one e-mail."""
    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_physical_violence_facts(), quick=True
        )

    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    escalation = Escalation.objects.get(incident=incident)
    assert SupportCase.objects.get().escalation == escalation
    assert not Event.objects.filter(processing__isnull=True).exists()
    assert len(_escalation_mails(mailoutbox, incident)) == 1
    assert [m.to for m in _escalation_mails(mailoutbox, incident)] == [[support_user.email]]


@pytest.mark.django_db
def test_processing_an_event_twice_escalates_once_and_mails_once(
    officeholder, registrar, support_user, committed, mailoutbox
):
    """Running the task again for an event already processed changes nothing and sends
    nothing: one escalation, one support case, one e-mail per person."""
    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_physical_violence_facts(), quick=True
        )
    submitted = incident.events.get(kind=EventKind.SUBMITTED)
    mails_before = len(mailoutbox)

    with committed():
        process_incident_event.delay(submitted.pk)
        assert incident_event_process(event_id=submitted.pk) is False

    assert Escalation.objects.count() == 1
    assert SupportCase.objects.count() == 1
    assert len(mailoutbox) == mails_before
    assert len(_escalation_mails(mailoutbox, incident)) == 1


@pytest.mark.django_db
def test_processing_again_after_the_processed_mark_is_lost_changes_nothing(
    officeholder, registrar, support_user, committed, mailoutbox
):
    """Even when every EventProcessing row is lost (so every event runs a second time), the
    rules, the case and the notification outbox keep it at one of each."""
    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_physical_violence_facts(), quick=True
        )
    notifications_before = Notification.objects.count()
    mails_before = len(mailoutbox)
    EventProcessing.objects.all().delete()

    with committed():
        for event in Event.objects.filter(incident=incident).order_by("pk"):
            assert incident_event_process(event_id=event.pk) is True

    assert Escalation.objects.count() == 1
    assert SupportCase.objects.count() == 1
    assert Notification.objects.count() == notifications_before
    assert len(mailoutbox) == mails_before


@pytest.mark.django_db
def test_processing_a_missing_event_does_nothing():
    """An event id that does not exist (any more) is skipped, not retried forever."""
    assert incident_event_process(event_id=987654321) is False


@pytest.mark.django_db
def test_triage_runs_the_rules_again(officeholder, registrar, support_user, committed):
    """Triage is a rule trigger: a threat that the desk rates critical is escalated after the
    triage commits, by the `critical` rule."""
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.THREAT])

    with committed():
        incident_triage(
            incident=incident,
            actor=registrar,
            version=incident.version,
            triage_severity=TriageSeverity.CRITICAL,
            risk_flags=[],
            types=[IncidentType.THREAT],
            advice_given=[],
        )

    assert Escalation.objects.get(incident=incident).rules == [RuleCode.CRITICAL]
    assert not Event.objects.filter(processing__isnull=True).exists()


@pytest.mark.django_db
def test_completing_a_report_with_a_known_handle_escalates_and_links(
    officeholder, support_user, committed
):
    """Completing a quick report is a rule trigger: the perpetrator's handle, already known
    from another officeholder's incident, escalates it and links the two."""
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

    assert Escalation.objects.get(incident=incident).rules == [RuleCode.SHARED_PERPETRATOR]
    assert IncidentLink.objects.filter(kind=LinkKind.SAME_PERPETRATOR).count() == 1
    assert not Event.objects.filter(processing__isnull=True).exists()


@pytest.mark.django_db
def test_an_event_that_is_no_rule_trigger_does_not_escalate(officeholder, registrar, committed):
    """An internal note is processed (marked done) without evaluating the rules."""
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])

    with committed():
        note_add(incident=incident, actor=registrar, body="Gebeld met de wijkagent.")

    assert EventProcessing.objects.filter(event__kind=EventKind.NOTE).exists()
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
    """A committed physical-violence incident with its `submitted` event, not yet processed
    (made by factories, so nothing was queued)."""
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])
    EventFactory(incident=incident, kind=EventKind.SUBMITTED)
    return incident


@pytest.mark.django_db(transaction=True)
def test_one_event_processed_by_two_threads_at_once_escalates_once(escalating_incident, mailoutbox):
    """Two workers taking the same event at the same moment: the event row lock lets one do
    the work; the other sees it done. One escalation, one case, one e-mail to the team."""
    event = escalating_incident.events.get(kind=EventKind.SUBMITTED)

    results = _run_in_threads(
        lambda: incident_event_process(event_id=event.pk),
        lambda: incident_event_process(event_id=event.pk),
    )

    assert sorted(results) == [False, True]
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

    results = _run_in_threads(
        lambda: incident_event_process(event_id=submitted.pk),
        lambda: incident_event_process(event_id=follow_up.pk),
    )

    assert results == [True, True]
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

    _run_in_threads(*[lambda pk=event.pk: incident_event_process(event_id=pk) for event in events])

    for incident in incidents:
        assert Escalation.objects.filter(incident=incident).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_incidents_sharing_a_perpetrator_processed_at_once_both_escalate(
    transactional_db, support_user
):
    """Two officeholders report the same handle at the same moment; two workers evaluate the
    two incidents at once. Both link to each other and escalate, without a deadlock between
    the link rows and the incident locks, and with exactly one link."""
    incidents = [IncidentFactory(types=[IncidentType.THREAT]) for _ in range(2)]
    for incident in incidents:
        PerpetratorIdentifierFactory(incident=incident, value="@Jan_Boos")
    events = [EventFactory(incident=incident, kind=EventKind.SUBMITTED) for incident in incidents]

    _run_in_threads(*[lambda pk=event.pk: incident_event_process(event_id=pk) for event in events])

    for incident in incidents:
        assert Escalation.objects.get(incident=incident).rules == [RuleCode.SHARED_PERPETRATOR]
    assert IncidentLink.objects.count() == 1
