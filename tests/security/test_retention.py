"""Retention: closed incidents are anonymised after RETENTION_MONTHS; statistics stay."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from incidents import services
from incidents.constants import EventKind, IncidentType, Status
from incidents.errors import TransitionNotAllowed
from incidents.models import Event, Evidence, Incident, IncidentLink, months_after
from incidents.selectors import incidents_due_for_retention
from incidents.tasks import anonymise_expired_incidents
from portal.models import AccessAction, AccessLogEntry, Notification
from support.constants import ServiceType
from support.models import SupportAction, SupportCase
from tests.factories import (
    EventFactory,
    IncidentFactory,
    MessageFactory,
    NoteFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _closed(months_ago: int, **fields) -> Incident:
    closed_at = months_after(timezone.now(), -months_ago) - timedelta(days=1)
    return IncidentFactory(closed=True, closed_at=closed_at, **fields)


def _with_content(incident: Incident) -> Incident:
    """Free text in every place the retention service must clear."""
    Incident.objects.filter(pk=incident.pk).update(
        description="Wat er gebeurde", location="Thuis", outcome="Afgehandeld"
    )
    PerpetratorIdentifierFactory(incident=incident)
    NoteFactory(incident=incident, body="Notitie")
    MessageFactory(incident=incident, author=incident.officeholder, body="Mijn bericht")
    EventFactory(incident=incident, actor=incident.officeholder, payload={"reason": "Waarom"})
    evidence = Evidence(
        incident=incident,
        original_name="chat.txt",
        kind="text",
        content_type="text/plain",
        size=4,
        sha256="0" * 64,
        uploaded_at=timezone.now(),
    )
    evidence.file.save("evidence", SimpleUploadedFile("x", b"chat"), save=True)
    escalation = incident.escalations.create(
        created_at=timezone.now(), closed_at=timezone.now(), reason="Ernstig"
    )
    case = SupportCase.objects.create(
        escalation=escalation,
        incident=incident,
        created_at=timezone.now(),
        acknowledge_due_at=timezone.now(),
        outcome="Geholpen",
    )
    SupportAction.objects.create(
        case=case,
        service_type=ServiceType.LEGAL_HELP,
        description="Advocaat gebeld",
        owner=incident.assignee or incident.officeholder,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return Incident.objects.get(pk=incident.pk)


def test_only_closed_incidents_past_the_period_are_due(settings):
    """Due: closed longer ago than RETENTION_MONTHS. Not due: recently closed, or open."""
    settings.RETENTION_MONTHS = 24
    old = _closed(25)
    _closed(23)
    IncidentFactory()  # open
    IncidentFactory(in_triage=True, closed_at=months_after(timezone.now(), -30))
    assert list(incidents_due_for_retention(timezone.now())) == [old]
    settings.RETENTION_MONTHS = 12
    assert len(incidents_due_for_retention(timezone.now())) == 2


def test_the_task_anonymises_exactly_the_eligible_incidents_and_keeps_statistics(
    settings, private_storage_in_tmp, django_capture_on_commit_callbacks
):
    """The beat task removes free text, evidence files, identifiers, notes, message texts,
    payloads and the officeholder from eligible incidents only, and keeps the facts."""
    settings.RETENTION_MONTHS = 24
    old = _with_content(_closed(25, types=[IncidentType.THREAT], triage_severity="high"))
    recent = _with_content(_closed(1))
    still_open = _with_content(IncidentFactory())
    organisation, occurred_on, submitted_at = old.organisation, old.occurred_on, old.submitted_at
    assert len([p for p in private_storage_in_tmp.rglob("*") if p.is_file()]) == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert anonymise_expired_incidents() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert anonymise_expired_incidents() == 0  # idempotent

    old = Incident.objects.get(pk=old.pk)
    assert old.anonymised_at is not None
    assert (old.summary, old.description, old.location, old.outcome) == ("", "", "", "")
    assert old.officeholder_id is None and old.filed_by_id is None
    assert not old.identifiers.exists() and not old.notes.exists() and not old.evidence.exists()
    assert {m.body for m in old.messages.all()} == {""}
    assert not old.messages.filter(author__isnull=False, author__role="officeholder").exists()
    assert all(event.payload == {} for event in old.events.exclude(kind=EventKind.ANONYMISED))
    assert old.events.filter(kind=EventKind.ANONYMISED).count() == 1
    assert {e.reason for e in old.escalations.all()} == {""}
    assert SupportCase.objects.get(incident=old).outcome == ""
    assert SupportAction.objects.get(case__incident=old).description == ""
    # The statistics stay.
    assert (old.types, old.organisation, old.occurred_on, old.submitted_at) == (
        [IncidentType.THREAT],
        organisation,
        occurred_on,
        submitted_at,
    )
    assert (old.status, old.triage_severity) == (Status.CLOSED, "high")

    # Only the old incident's file is gone.
    remaining = [p for p in private_storage_in_tmp.rglob("*") if p.is_file()]
    assert len(remaining) == 2
    for untouched in (recent, still_open):
        fresh = Incident.objects.get(pk=untouched.pk)
        assert fresh.anonymised_at is None
        assert fresh.description == "Wat er gebeurde"
        assert fresh.officeholder_id == untouched.officeholder_id
        assert fresh.identifiers.exists() and fresh.notes.exists() and fresh.evidence.exists()
        assert SupportCase.objects.get(incident=fresh).outcome == "Geholpen"


def test_link_reasons_of_an_anonymised_incident_are_removed():
    """A link keeps the connection (a statistic) but loses its free-text reason."""
    old = _closed(30)
    other = IncidentFactory()
    first, second = sorted([old, other], key=lambda i: i.pk)
    IncidentLink.objects.create(
        from_incident=first,
        to_incident=second,
        kind="series",
        reason="Zelfde dader",
        created_at=timezone.now(),
    )
    services.incident_anonymise(incident=old)
    assert IncidentLink.objects.get().reason == ""


def test_the_officeholder_sees_the_retention_date_of_a_closed_incident(client, settings):
    """The detail page of a closed incident says when its content will be removed."""
    settings.RETENTION_MONTHS = 24
    incident = _closed(1)
    client.force_login(incident.officeholder)
    page = client.get(incident.get_absolute_url()).content.decode()
    ends = timezone.localtime(incident.retention_ends_at()).date()
    assert "Bewaard tot" in page
    assert ends.strftime("%Y") in page
    assert incident.retention_ends_at() > timezone.now()


def test_the_retention_task_is_scheduled(settings):
    """The beat schedule runs the retention task."""
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "incidents.tasks.anonymise_expired_incidents" in tasks


def test_anonymised_incident_has_no_event_content_left():
    """Every event left on an anonymised incident has an empty payload and no officeholder."""
    old = _with_content(_closed(26))
    officeholder = old.officeholder
    services.incident_anonymise(incident=old)
    assert not Event.objects.filter(incident=old, actor=officeholder).exists()
    assert {tuple(e.payload) for e in Event.objects.filter(incident=old)} == {()}


def test_the_officeholders_notifications_about_an_anonymised_incident_are_removed(registrar):
    """Their own notifications would still tie the officeholder to the reference: gone.
    Staff notifications (a reference and a link, no person) stay."""
    old = _closed(26)
    officeholder = old.officeholder
    for person in (officeholder, registrar):
        Notification.objects.create(
            recipient=person,
            event_key=f"test:{person.pk}",
            kind="status_changed",
            reference=old.reference,
            link="/",
            created_at=timezone.now(),
        )
    services.incident_anonymise(incident=old)
    assert not Notification.objects.filter(recipient=officeholder).exists()
    assert Notification.objects.filter(recipient=registrar, reference=old.reference).exists()


def test_the_officeholders_access_log_entries_of_an_anonymised_incident_lose_them(registrar):
    """The attack: after anonymisation the access log still said that this officeholder (and
    from which IP) read this reference. Now their entries of it name nobody; the desk's reads
    of it, and the officeholder's entries of other incidents, stay as they were."""
    old = _closed(26)
    officeholder = old.officeholder
    other = IncidentFactory(officeholder=officeholder)

    def entry(actor, incident, ip):
        return AccessLogEntry.objects.create(
            actor=actor,
            role=actor.role,
            at=timezone.now(),
            ip_address=ip,
            action=AccessAction.VIEW_INCIDENT,
            reference=incident.reference,
            organisation=incident.organisation,
            what="detail page",
        )

    own = entry(officeholder, old, "192.0.2.7")
    desk = entry(registrar, old, "198.51.100.1")
    elsewhere = entry(officeholder, other, "192.0.2.7")

    services.incident_anonymise(incident=old)

    own.refresh_from_db()
    desk.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (own.actor, own.ip_address) == (None, None)
    assert own.reference == old.reference, "the read itself stays accounted for"
    assert not AccessLogEntry.objects.filter(actor=officeholder, reference=old.reference).exists()
    assert (desk.actor, desk.ip_address) == (registrar, "198.51.100.1")
    assert elsewhere.actor == officeholder


def test_an_anonymised_incident_cannot_be_reopened(registrar):
    """After retention there is nothing left to work on: reopening is refused."""
    old = _closed(30, officeholder=UserFactory(organisation__desk=registrar.desk))
    services.incident_anonymise(incident=old)
    old = Incident.objects.get(pk=old.pk)
    with pytest.raises(TransitionNotAllowed):
        services.incident_act(
            action="reopen", incident=old, actor=registrar, reason="Toch", version=old.version
        )


# --- The hourly task: its own time limits, bounded batches ----------------------------------


def test_the_retention_task_has_time_limits_of_its_own(settings):
    """Not the global 60 s soft limit: a backlog needs minutes. The time budget leaves the
    last batch time to finish before the soft limit, and the hard limit comes after it."""
    from incidents import tasks

    task = anonymise_expired_incidents
    assert task.soft_time_limit > settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert task.time_limit > task.soft_time_limit
    assert tasks.ANONYMISE_TIME_BUDGET_SECONDS + 30 <= task.soft_time_limit


def _count_batches(monkeypatch) -> list[int]:
    """Record the batch size of every call of the service the task makes."""
    calls = []
    original = services.incidents_anonymise_expired

    def recording(**kwargs):
        calls.append(kwargs["limit"])
        return original(**kwargs)

    monkeypatch.setattr(services, "incidents_anonymise_expired", recording)
    return calls


def test_the_retention_task_works_through_a_backlog_in_bounded_batches(settings, monkeypatch):
    """Five eligible incidents, batches of two: three batches (2, 2, 1), all anonymised."""
    settings.RETENTION_MONTHS = 24
    backlog = [_closed(25 + number) for number in range(5)]
    calls = _count_batches(monkeypatch)

    assert anonymise_expired_incidents(batch_size=2) == 5

    assert calls == [2, 2, 2]
    assert not Incident.objects.filter(
        pk__in=[i.pk for i in backlog], anonymised_at__isnull=True
    ).exists()


def test_the_retention_task_stops_after_its_time_budget_and_the_next_run_continues(settings):
    """With the budget spent after the first batch, the run stops there; the next run takes
    the oldest incidents left."""
    settings.RETENTION_MONTHS = 24
    backlog = [_closed(30 - number) for number in range(5)]  # backlog[0] closed longest ago

    assert anonymise_expired_incidents(batch_size=2, budget_seconds=0) == 2

    done = set(Incident.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True))
    assert done == {backlog[0].pk, backlog[1].pk}
    assert anonymise_expired_incidents(batch_size=2, budget_seconds=0) == 2
    assert anonymise_expired_incidents(batch_size=2, budget_seconds=0) == 1
    assert not incidents_due_for_retention(timezone.now()).exists()


def test_the_retention_task_ends_quietly_at_its_soft_time_limit(settings, monkeypatch):
    """When the soft time limit strikes during the second batch, the task returns what it
    finished (no error, no retry); the incidents of the first batch stay anonymised and the
    rest wait for the next run."""
    from celery.exceptions import SoftTimeLimitExceeded

    settings.RETENTION_MONTHS = 24
    for number in range(4):
        _closed(25 + number)
    original = services.incident_anonymise
    anonymised = []

    def interrupted(*, incident):
        if len(anonymised) == 2:
            raise SoftTimeLimitExceeded()
        anonymised.append(incident.pk)
        return original(incident=incident)

    monkeypatch.setattr(services, "incident_anonymise", interrupted)

    assert anonymise_expired_incidents(batch_size=2) == 2

    assert Incident.objects.filter(anonymised_at__isnull=False).count() == 2
    assert incidents_due_for_retention(timezone.now()).count() == 2
