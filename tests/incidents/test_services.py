"""Every write to incidents goes through a service that checks, records and announces."""

import hashlib
import re
import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import deadlines
from incidents.constants import (
    MAX_EVIDENCE_FILES,
    EventKind,
    EvidenceProcessing,
    IdentifierKind,
    IncidentType,
    LinkKind,
    MessageAudience,
    ReporterSeverity,
    RiskFlag,
    Status,
    TriageSeverity,
)
from incidents.errors import (
    EvidenceLimitReached,
    IncidentError,
    ReasonRequired,
    StaleVersion,
    TransitionNotAllowed,
)
from incidents.evidence import evidence_inspect
from incidents.models import Escalation, Event, Evidence, Incident, IncidentLink
from incidents.policies import incident_policy
from incidents.services import (
    INCIDENT_EVENT_TOPIC,
    evidence_add,
    incident_act,
    incident_complete,
    incident_escalate,
    incident_follow_up_add,
    incident_mark_viewed,
    incident_submit,
    message_send,
    note_add,
)
from portal.crypto import identifier_hash
from portal.errors import NotAllowed
from portal.models import OutboxEntry, SiteConfiguration
from portal.outbox import consumers_for
from tests.factories import (
    DeskFactory,
    EscalationFactory,
    IncidentFactory,
    OrganisationFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
    act,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("private_storage_in_tmp"),
]


@pytest.fixture
def published(monkeypatch):
    """The ids of the outbox entries queued for delivery during the test, in order (the
    delivery itself does not run)."""
    queued = []

    def publish(name, *args, **options):
        assert name == "portal.tasks.outbox_deliver"
        queued.extend(args)
        return True

    monkeypatch.setattr("portal.outbox.task_publish", publish)
    return queued


def _outbox_of(events):
    """(event id, kind, consumer) of every outbox entry of `events`, as the registered
    consumers want them: exactly one per consumer of that kind."""
    expected = {
        (event.pk, event.kind, consumer.name)
        for event in events
        for consumer in consumers_for(INCIDENT_EVENT_TOPIC, event.kind)
    }
    found = set(
        OutboxEntry.objects.filter(
            topic=INCIDENT_EVENT_TOPIC, object_id__in=[e.pk for e in events]
        ).values_list("object_id", "kind", "consumer")
    )
    assert found == expected
    return found


def _facts(**overrides):
    facts = {
        "types": [IncidentType.THREAT],
        "occurred_on": timezone.localdate() - timedelta(days=1),
        "summary": "Na de raadsvergadering werd ik bedreigd op de parkeerplaats.",
    }
    facts.update(overrides)
    return facts


def _submit(officeholder, **kwargs):
    kwargs.setdefault("facts", _facts())
    kwargs.setdefault("quick", False)
    return incident_submit(officeholder=officeholder, **kwargs)


def _text_file(name="chat.txt", body=b"Je gaat eraan."):
    return evidence_inspect(name=name, data=body)


def _kinds(incident):
    return list(incident.events.order_by("pk").values_list("kind", flat=True))


# --- incident_submit --------------------------------------------------------------------------


def test_submit_gives_a_reference_of_the_current_year_counting_up(officeholder):
    """References look like MWB-2026-000123 and each new incident gets the next number."""
    first = _submit(officeholder)
    second = _submit(officeholder)
    year = timezone.localdate().year
    assert re.fullmatch(rf"MWB-{year}-\d{{6}}", first.reference)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_submit_routes_to_the_desk_of_the_officeholders_organisation(officeholder, desk):
    """The incident goes to the desk that serves the organisation, and keeps that organisation."""
    incident = _submit(officeholder)
    assert incident.desk == desk
    assert incident.organisation == officeholder.organisation
    assert incident.status == Status.SUBMITTED
    assert incident.version == 1


def test_submit_for_an_organisation_without_desk_goes_to_the_fallback_desk(db):
    """An organisation without a desk is served by the configured fallback desk, never nobody."""
    fallback = DeskFactory(name="Landelijk reservemeldpunt")
    SiteConfiguration.objects.update_or_create(pk=1, defaults={"fallback_desk": fallback})
    officeholder = UserFactory(organisation=OrganisationFactory(desk=None))
    incident = _submit(officeholder)
    assert incident.desk == fallback


def test_submit_without_any_desk_is_refused_and_stores_nothing(db):
    """With no desk and no fallback the officeholder gets a clear error, not a lost incident."""
    officeholder = UserFactory(organisation=OrganisationFactory(desk=None))
    with pytest.raises(IncidentError):
        _submit(officeholder)
    assert not Incident.objects.exists()


def test_submit_stores_the_working_day_deadline(officeholder):
    """A non-serious report is due two working days later in the organisation's time zone."""
    incident = _submit(officeholder)
    assert incident.triage_due_at == deadlines.triage_due_at(
        submitted_at=incident.submitted_at, serious=False, time_zone="Europe/Amsterdam"
    )
    incident.refresh_from_db()
    assert incident.triage_due_at > incident.submitted_at + timedelta(days=1)


def test_submit_of_a_serious_report_stores_a_four_hour_deadline(officeholder):
    """Serious and very serious reports are due four clock hours after submission."""
    incident = _submit(officeholder, facts=_facts(reporter_severity=ReporterSeverity.VERY_SERIOUS))
    assert incident.triage_due_at == incident.submitted_at + timedelta(hours=4)


def test_submit_records_a_submitted_event_visible_to_the_officeholder(officeholder):
    """The timeline starts with `submitted`, by the officeholder, shown to them."""
    incident = _submit(officeholder, quick=True)
    event = incident.events.get()
    assert event.kind == EventKind.SUBMITTED
    assert event.actor == officeholder
    assert event.actor_role == "officeholder"
    assert event.visible_to_officeholder
    assert event.payload == {"quick": True, "evidence": 0}
    assert incident.is_quick
    assert incident.filed_by == officeholder
    assert not incident.filed_by_desk


def test_submit_writes_the_outbox_in_its_transaction_and_queues_it_after_commit(
    officeholder, published, django_capture_on_commit_callbacks
):
    """The `submitted` event's outbox entries (one per consumer that wants it) exist before the
    commit; their delivery is queued only once the transaction commits."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        incident = _submit(officeholder)
        event = Event.objects.get(incident=incident)
        entries = _outbox_of([event])
        assert entries
        assert published == []
    assert len(callbacks) == 1
    assert sorted(published) == sorted(
        OutboxEntry.objects.filter(object_id=event.pk).values_list("pk", flat=True)
    )


def test_submit_that_fails_announces_nothing(
    officeholder, published, django_capture_on_commit_callbacks
):
    """A rolled-back submission (too many files) leaves no outbox entry, queues nothing and
    leaves no incident."""
    files = [_text_file(f"f{i}.txt") for i in range(MAX_EVIDENCE_FILES + 1)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(EvidenceLimitReached):
            _submit(officeholder, files=files)
    assert callbacks == []
    assert published == []
    assert not OutboxEntry.objects.exists()
    assert not Incident.objects.exists()


def test_same_submission_token_twice_creates_one_incident(officeholder):
    """A double click (the same form token twice) returns the first incident, not a second."""
    token = uuid.uuid4()
    first = _submit(officeholder, submission_token=token)
    second = _submit(officeholder, submission_token=token)
    assert first.pk == second.pk
    assert Incident.objects.count() == 1
    assert Event.objects.count() == 1


def test_submit_stores_identifiers_normalised_and_once(officeholder):
    """Identifiers are stored as typed and as a keyed hash of the normalised form; the same one
    twice is kept once."""
    incident = _submit(
        officeholder,
        identifiers=[
            (IdentifierKind.HANDLE, "@Jan_Boos"),
            (IdentifierKind.HANDLE, "https://x.com/jan_boos"),
            (IdentifierKind.PHONE, "06-12345678"),
            (IdentifierKind.EMAIL, "  "),
        ],
    )
    stored = sorted(incident.identifiers.values_list("kind", "value", "normalised"))
    assert stored == [
        ("handle", "@Jan_Boos", identifier_hash("jan_boos")),
        ("phone", "06-12345678", identifier_hash("+31612345678")),
    ]


def test_submitted_identifier_matches_an_earlier_incident_of_another_officeholder(officeholder):
    """The same perpetrator typed differently in two incidents gets one normalised value."""
    earlier = PerpetratorIdentifierFactory(value="https://www.instagram.com/Jan_Boos/")
    incident = _submit(officeholder, identifiers=[(IdentifierKind.HANDLE, "@jan_boos")])
    assert earlier.incident.officeholder != officeholder
    assert (
        incident.identifiers.get().normalised == earlier.normalised == identifier_hash("jan_boos")
    )


def test_submit_with_evidence_stores_the_checked_files(officeholder, private_storage_in_tmp):
    """Files are stored in the private root under a random name, with size and SHA-256."""
    inspected = _text_file("../../chat.txt")
    content = inspected.source.read()
    incident = _submit(officeholder, files=[inspected])
    evidence = incident.evidence.get()
    assert evidence.original_name == "chat.txt"
    # A text file is stored as it was uploaded: ready at once, both fingerprints the same.
    assert evidence.processing == EvidenceProcessing.READY
    assert evidence.sha256 == evidence.original_sha256 == inspected.original_sha256
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.size == len(content)
    assert evidence.uploaded_by == officeholder
    assert "chat" not in evidence.file.name
    # Encrypted at rest; the storage gives the plaintext back.
    assert content not in (private_storage_in_tmp / evidence.file.name).read_bytes()
    with evidence.file.open("rb") as stored:
        assert stored.read() == content
    assert incident.events.get().payload["evidence"] == 1


def test_registrar_filing_on_behalf_marks_filed_by_the_desk(officeholder, registrar):
    """A registrar files for an officeholder who phoned: marked, and in the officeholder's list."""
    incident = _submit(officeholder, filed_by=registrar)
    assert incident.filed_by_desk
    assert incident.filed_by == registrar
    assert incident.officeholder == officeholder
    assert _kinds(incident) == [EventKind.FILED_BY_DESK]
    assert incident.events.get().actor == registrar
    assert list(incident_policy.queryset(officeholder, "view")) == [incident]


def test_registrar_of_another_desk_cannot_file_on_behalf(officeholder):
    """Only the officeholder's own desk may file for them."""
    outsider = UserFactory(registrar=True)
    with pytest.raises(IncidentError):
        _submit(officeholder, filed_by=outsider)
    assert not Incident.objects.exists()


@pytest.mark.parametrize("who", ["other_officeholder", "support", "admin"])
def test_only_the_officeholder_or_their_desk_can_file(officeholder, who):
    """Nobody else can file an incident in an officeholder's name."""
    filer = {
        "other_officeholder": lambda: UserFactory(organisation=officeholder.organisation),
        "support": lambda: UserFactory(support=True),
        "admin": lambda: UserFactory(admin=True),
    }[who]()
    with pytest.raises(IncidentError):
        _submit(officeholder, filed_by=filer)
    assert not Incident.objects.exists()


def test_incident_is_always_filed_for_an_officeholder(registrar):
    """A registrar cannot be the officeholder of an incident."""
    with pytest.raises(IncidentError):
        _submit(registrar)


# --- incident_complete, follow-up, evidence ---------------------------------------------------


def test_complete_turns_a_quick_report_into_a_full_one(officeholder):
    """Completing records the changed fields, clears `is_quick` and bumps the version."""
    incident = _submit(officeholder, quick=True)
    completed = incident_complete(
        incident=incident,
        actor=officeholder,
        facts=_facts(location="Stadhuisplein", description="Hij schreeuwde en duwde mij."),
        identifiers=[(IdentifierKind.EMAIL, "Boos@Example.nl")],
        version=incident.version,
    )
    completed.refresh_from_db()
    assert not completed.is_quick
    assert completed.version == 2
    assert completed.location == "Stadhuisplein"
    assert list(completed.identifiers.values_list("normalised", flat=True)) == [
        identifier_hash("boos@example.nl")
    ]
    event = completed.events.get(kind=EventKind.COMPLETED)
    assert event.payload == {"fields": ["description", "location"], "was_quick": True}
    assert event.visible_to_officeholder


def test_complete_against_an_old_version_is_refused_and_changes_nothing(officeholder):
    """A form showing version 1 cannot overwrite an incident that is at version 2."""
    incident = _submit(officeholder, quick=True)
    incident_complete(
        incident=incident, actor=officeholder, facts=_facts(location="A"), identifiers=[], version=1
    )
    with pytest.raises(StaleVersion):
        incident_complete(
            incident=incident,
            actor=officeholder,
            facts=_facts(location="B"),
            identifiers=[],
            version=1,
        )
    incident.refresh_from_db()
    assert incident.location == "A"
    assert incident.version == 2


def test_complete_recomputes_the_deadline_until_triaged(officeholder, registrar):
    """Marking a report serious moves the deadline to 4 hours; after triage it stays put."""
    incident = _submit(officeholder, quick=True)
    serious = _facts(reporter_severity=ReporterSeverity.SERIOUS)
    completed = incident_complete(
        incident=incident, actor=officeholder, facts=serious, identifiers=[], version=1
    )
    assert completed.triage_due_at == completed.submitted_at + timedelta(hours=4)

    triaged = incident_act(
        action="triage",
        incident=completed,
        actor=registrar,
        version=completed.version,
        triage_severity=TriageSeverity.LOW,
        risk_flags=[],
        types=[IncidentType.THREAT],
        advice_given=[],
    )
    again = incident_complete(
        incident=triaged,
        actor=officeholder,
        facts=_facts(reporter_severity=ReporterSeverity.NOT_SERIOUS),
        identifiers=[],
        version=triaged.version,
    )
    assert again.triage_due_at == completed.triage_due_at


@pytest.mark.parametrize("trait", ["closed", "withdrawn"])
def test_complete_of_a_finished_incident_is_refused(trait):
    """A closed or withdrawn incident cannot be completed any more."""
    incident = IncidentFactory(**{trait: True})
    with pytest.raises(NotAllowed):
        incident_complete(
            incident=incident,
            actor=incident.officeholder,
            facts=_facts(),
            identifiers=[],
            version=incident.version,
        )


def test_follow_up_adds_text_and_evidence_to_the_timeline(officeholder):
    """New information is a `follow_up` event with its text and the new evidence ids."""
    incident = _submit(officeholder)
    event = incident_follow_up_add(
        incident=incident,
        actor=officeholder,
        text="  Vandaag weer een brief.  ",
        files=[_text_file()],
    )
    evidence = incident.evidence.get()
    assert event.kind == EventKind.FOLLOW_UP
    assert event.payload == {"text": "Vandaag weer een brief.", "evidence": [evidence.pk]}
    assert event.visible_to_officeholder


def test_follow_up_needs_text_or_a_file(officeholder):
    """An empty follow-up is refused with a message."""
    incident = _submit(officeholder)
    with pytest.raises(ReasonRequired):
        incident_follow_up_add(incident=incident, actor=officeholder, text="   ")


def test_follow_up_on_a_withdrawn_incident_is_refused():
    """A withdrawn incident takes no new information."""
    incident = IncidentFactory(withdrawn=True)
    with pytest.raises(NotAllowed):
        incident_follow_up_add(incident=incident, actor=incident.officeholder, text="Nog iets")


def test_evidence_is_limited_to_ten_files_per_incident(officeholder):
    """Ten files fit; the eleventh is refused with EvidenceLimitReached and nothing is stored."""
    incident = _submit(officeholder, files=[_text_file(f"{i}.txt") for i in range(9)])
    evidence_add(incident=incident, actor=officeholder, files=[_text_file("9.txt")])
    assert incident.evidence.count() == MAX_EVIDENCE_FILES

    with pytest.raises(EvidenceLimitReached):
        evidence_add(incident=incident, actor=officeholder, files=[_text_file("10.txt")])
    with pytest.raises(EvidenceLimitReached):
        incident_follow_up_add(
            incident=incident, actor=officeholder, text="meer", files=[_text_file("11.txt")]
        )
    assert incident.evidence.count() == MAX_EVIDENCE_FILES
    assert Evidence.objects.count() == MAX_EVIDENCE_FILES


def test_evidence_add_records_one_event_per_file(officeholder):
    """Each added file appears in the timeline with its display name."""
    incident = _submit(officeholder)
    stored = evidence_add(
        incident=incident, actor=officeholder, files=[_text_file("a.txt"), _text_file("b.txt")]
    )
    events = incident.events.filter(kind=EventKind.EVIDENCE_ADDED).order_by("pk")
    assert [e.payload for e in events] == [
        {"evidence_id": stored[0].pk, "name": "a.txt"},
        {"evidence_id": stored[1].pk, "name": "b.txt"},
    ]


# --- messages, notes, viewed --------------------------------------------------------------------


def test_officeholder_cannot_post_in_the_staff_channel(officeholder):
    """The staff channel is for desk and support only."""
    incident = _submit(officeholder)
    with pytest.raises(TransitionNotAllowed):
        message_send(
            incident=incident, actor=officeholder, audience=MessageAudience.STAFF, body="Hallo"
        )
    assert not incident.messages.exists()


def test_message_in_the_officeholder_thread_is_a_visible_event(officeholder, registrar):
    """A desk message to the officeholder shows in their timeline."""
    incident = _submit(officeholder)
    message = message_send(
        incident=incident,
        actor=registrar,
        audience=MessageAudience.OFFICEHOLDER_THREAD,
        body="  Wij bellen u vandaag.  ",
    )
    assert message.body == "Wij bellen u vandaag."
    assert message.author_role == "registrar"
    event = incident.events.get(kind=EventKind.MESSAGE)
    assert event.visible_to_officeholder
    assert event.payload == {"message_id": message.pk, "audience": "officeholder"}


def test_staff_message_is_an_internal_event(officeholder, registrar):
    """A message between desk and support never shows in the officeholder's timeline."""
    incident = _submit(officeholder)
    message_send(
        incident=incident, actor=registrar, audience=MessageAudience.STAFF, body="Overleg?"
    )
    assert not incident.events.get(kind=EventKind.MESSAGE).visible_to_officeholder


def test_empty_message_is_refused(officeholder):
    """A message needs text."""
    incident = _submit(officeholder)
    with pytest.raises(ReasonRequired):
        message_send(
            incident=incident,
            actor=officeholder,
            audience=MessageAudience.OFFICEHOLDER_THREAD,
            body=" \n ",
        )


def test_note_is_internal(officeholder, registrar, support_user):
    """Desk and support (once escalated) write notes; the note event is never shown to the
    officeholder."""
    incident = _submit(officeholder)
    note = note_add(incident=incident, actor=registrar, body="Dader is bekend bij de politie.")
    incident_escalate(incident=incident, rule_names=["physical_violence"])
    note_add(incident=incident, actor=support_user, body="Gezien.")
    assert incident.notes.count() == 2
    events = incident.events.filter(kind=EventKind.NOTE)
    assert [e.payload for e in events.order_by("pk")][0] == {"note_id": note.pk}
    assert not events.filter(visible_to_officeholder=True).exists()


@pytest.mark.parametrize("who", ["officeholder", "admin_user"])
def test_note_by_officeholder_or_admin_is_refused(who, request, officeholder):
    """Only staff who handle incidents write notes."""
    incident = _submit(officeholder)
    with pytest.raises(NotAllowed):
        note_add(incident=incident, actor=request.getfixturevalue(who), body="x")


def test_viewed_by_desk_is_recorded_once_and_only_for_registrars(officeholder, registrar):
    """The officeholder sees when the desk first opened the incident; nothing more."""
    incident = _submit(officeholder)
    incident_mark_viewed(incident=incident, actor=officeholder)
    incident_mark_viewed(incident=incident, actor=registrar)
    incident_mark_viewed(incident=incident, actor=registrar)
    assert _kinds(incident) == [EventKind.SUBMITTED, EventKind.VIEWED_BY_DESK]


# --- assign and triage ------------------------------------------------------------------------


def test_assign_to_a_colleague_of_the_desk(officeholder, registrar, desk):
    """A registrar hands the incident to a colleague; version bumps and an event records it."""
    colleague = UserFactory(registrar=True, desk=desk)
    incident = _submit(officeholder)
    assigned = incident_act(
        action="assign",
        incident=incident,
        actor=registrar,
        assignee=colleague,
        version=incident.version,
    )
    assert assigned.assignee == colleague
    assert assigned.version == 2
    event = assigned.events.get(kind=EventKind.ASSIGNED)
    assert event.payload["assignee_id"] == colleague.pk
    assert not event.visible_to_officeholder

    unassigned = incident_act(
        action="assign", incident=assigned, actor=registrar, assignee=None, version=2
    )
    assert unassigned.assignee is None


@pytest.mark.parametrize("who", ["other_desk", "officeholder", "support"])
def test_assign_to_someone_outside_the_desk_is_refused(officeholder, registrar, who):
    """A tampered form cannot make another desk's registrar (or a non-registrar) the handler."""
    assignee = {
        "other_desk": lambda: UserFactory(registrar=True),
        "officeholder": lambda: officeholder,
        "support": lambda: UserFactory(support=True),
    }[who]()
    incident = _submit(officeholder)
    with pytest.raises(IncidentError):
        incident_act(
            action="assign", incident=incident, actor=registrar, assignee=assignee, version=1
        )
    incident.refresh_from_db()
    assert incident.assignee is None


def test_assign_against_an_old_version_is_refused(officeholder, registrar):
    """Two registrars assigning at once: the second, with the old version, is refused."""
    incident = _submit(officeholder)
    incident_act(action="assign", incident=incident, actor=registrar, assignee=registrar, version=1)
    with pytest.raises(StaleVersion):
        incident_act(action="assign", incident=incident, actor=registrar, assignee=None, version=1)


def test_triage_records_the_assessment(officeholder, registrar):
    """Severity, flags, corrected types and advice are stored with a before/after event."""
    incident = _submit(officeholder)
    triaged = incident_act(
        action="triage",
        incident=incident,
        actor=registrar,
        version=1,
        triage_severity=TriageSeverity.HIGH,
        risk_flags=[RiskFlag.HOME_ADDRESS_KNOWN],
        types=[IncidentType.THREAT, IncidentType.DOXING],
        advice_given=["aangifte"],
        advice_note="  Aangifte besproken.  ",
    )
    triaged.refresh_from_db()
    assert triaged.triage_severity == TriageSeverity.HIGH
    assert triaged.risk_flags == ["home_address_known"]
    assert triaged.types == ["threat", "doxing"]
    assert triaged.advice_note == "Aangifte besproken."
    assert triaged.triaged_at is not None
    assert triaged.version == 2
    event = triaged.events.get(kind=EventKind.TRIAGED)
    assert event.payload["before"]["types"] == ["threat"]
    assert event.payload["after"]["triage_severity"] == "high"
    assert not event.visible_to_officeholder


def test_triage_of_a_closed_incident_is_refused(registrar):
    """Only incidents at the desk (submitted, in triage) can be triaged."""
    incident = IncidentFactory(closed=True, officeholder__organisation__desk=registrar.desk)
    with pytest.raises(TransitionNotAllowed):
        incident_act(
            action="triage",
            incident=incident,
            actor=registrar,
            version=incident.version,
            triage_severity=TriageSeverity.LOW,
            risk_flags=[],
            types=[],
            advice_given=[],
        )


# --- linking and duplicates -------------------------------------------------------------------


def test_link_is_stored_once_with_an_event_on_both_incidents(registrar, desk):
    """Linking A to B (or B to A) again is refused and changes nothing; both timelines show
    the link."""
    a = IncidentFactory(officeholder__organisation__desk=desk)
    b = IncidentFactory(officeholder__organisation__desk=desk)
    linked = act(b, registrar, "link", other=a, kind=LinkKind.SAME_PERPETRATOR, reason="Zelfde")
    assert linked.version == 2
    link = IncidentLink.objects.get()
    assert (link.from_incident_id, link.to_incident_id) == (a.pk, b.pk)
    assert link.kind == LinkKind.SAME_PERPETRATOR
    assert link.reason == "Zelfde"
    for this, that in ((a, b), (b, a)):
        with pytest.raises(IncidentError):
            act(this, registrar, "link", other=that, kind=LinkKind.SERIES)
    assert IncidentLink.objects.count() == 1
    assert a.events.get(kind=EventKind.LINKED).payload["other"] == b.reference
    assert b.events.get(kind=EventKind.LINKED).payload["other"] == a.reference


def test_incident_cannot_be_linked_to_itself(registrar):
    """Self-links are refused."""
    incident = IncidentFactory(officeholder__organisation__desk=registrar.desk)
    with pytest.raises(IncidentError):
        act(incident, registrar, "link", other=incident, kind=LinkKind.SERIES)
    assert not IncidentLink.objects.exists()


def test_mark_duplicate_closes_with_a_pointer_and_deletes_nothing(registrar, desk):
    """The duplicate is closed, points to the original, and both incidents remain."""
    original = IncidentFactory(officeholder__organisation__desk=desk)
    duplicate = IncidentFactory(officeholder=original.officeholder)
    closed = incident_act(
        action="mark_duplicate",
        incident=duplicate,
        original=original,
        actor=registrar,
        version=duplicate.version,
    )
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED
    assert closed.duplicate_of == original
    assert original.reference in closed.outcome
    assert closed.outcome_category == "duplicate"
    assert closed.closed_at is not None
    assert _kinds(closed) == [EventKind.STATUS_CHANGED, EventKind.MARKED_DUPLICATE]
    assert Incident.objects.filter(pk__in=[original.pk, duplicate.pk]).count() == 2
    original.refresh_from_db()
    assert original.status == Status.SUBMITTED


def test_incident_cannot_be_a_duplicate_of_itself(registrar, desk):
    """Marking an incident as its own duplicate is refused."""
    incident = IncidentFactory(officeholder__organisation__desk=desk)
    with pytest.raises(IncidentError):
        incident_act(
            action="mark_duplicate",
            incident=incident,
            original=incident,
            actor=registrar,
            version=1,
        )


# --- escalation ---------------------------------------------------------------------------------


def test_registrar_escalates_with_a_reason(officeholder, registrar):
    """An open Escalation, status escalated, and both a status and an escalated event."""
    incident = _submit(officeholder)
    incident = incident_act(
        incident=incident,
        actor=registrar,
        action="escalate",
        reason="Dreiging richting kinderen",
        version=1,
    )
    escalation = incident.escalations.get()
    assert incident.status == Status.ESCALATED
    assert escalation.escalated_by == registrar
    assert escalation.reason == "Dreiging richting kinderen"
    assert escalation.closed_at is None
    assert _kinds(incident) == [
        EventKind.SUBMITTED,
        EventKind.STATUS_CHANGED,
        EventKind.ESCALATED,
    ]
    status_event = incident.events.get(kind=EventKind.STATUS_CHANGED)
    assert status_event.payload["reason"] == "Dreiging richting kinderen"


def test_escalate_is_idempotent(officeholder, registrar):
    """A second escalation while one is open returns None and changes nothing."""
    incident = _submit(officeholder)
    act(incident, registrar, "escalate", reason="Ernstig")
    assert incident_escalate(incident=incident, rule_names=["physical_violence"]) is None
    with pytest.raises(TransitionNotAllowed):
        act(incident, registrar, "escalate", reason="Nog eens")
    assert Escalation.objects.filter(incident=incident, closed_at__isnull=True).count() == 1
    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.events.filter(kind=EventKind.ESCALATED).count() == 1


def test_rules_engine_escalation_names_its_rules(officeholder):
    """An escalation without a person records which rules fired, also as the status reason."""
    incident = _submit(officeholder)
    escalation = incident_escalate(incident=incident, rule_names=["physical_violence", "weapon"])
    assert escalation.escalated_by is None
    assert escalation.rules == ["physical_violence", "weapon"]
    event = incident.events.get(kind=EventKind.STATUS_CHANGED)
    assert event.actor is None
    assert event.actor_role == "system"
    assert event.payload["reason"] == "physical_violence, weapon"


def test_rules_engine_escalation_without_rule_names_is_refused(officeholder):
    """The rules engine must say which rule fired."""
    incident = _submit(officeholder)
    with pytest.raises(ReasonRequired):
        incident_escalate(incident=incident, rule_names=[])
    assert not Escalation.objects.exists()


def test_registrar_escalation_without_reason_is_refused(officeholder, registrar):
    """A registrar must say why; no escalation is left behind."""
    incident = _submit(officeholder)
    with pytest.raises(ReasonRequired):
        incident_act(incident=incident, actor=registrar, action="escalate", reason="  ", version=1)
    assert not Escalation.objects.exists()


@pytest.mark.parametrize("trait", ["closed", "withdrawn"])
def test_escalating_a_finished_incident_is_refused_and_leaves_nothing(trait):
    """A closed or withdrawn incident is not escalated by the rules (None); no Escalation
    remains and the incident is unchanged."""
    incident = IncidentFactory(**{trait: True})
    assert incident_escalate(incident=incident, rule_names=["physical_violence"]) is None
    assert not Escalation.objects.exists()
    incident.refresh_from_db()
    assert incident.status == trait
    assert incident.version == 1


def test_database_allows_one_open_escalation_per_incident():
    """The constraint holds even if a service were bypassed."""
    incident = IncidentFactory(escalated=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationFactory(incident=incident)


def test_return_to_desk_closes_the_open_escalation(support_user):
    """Support gives the case back with a reason: in triage again, escalation closed."""
    incident = IncidentFactory(escalated=True)
    returned = incident_act(
        action="return_to_desk",
        incident=incident,
        actor=support_user,
        reason="Past beter bij het meldpunt",
        version=1,
    )
    assert returned.status == Status.IN_TRIAGE
    assert not Escalation.objects.filter(incident=incident, closed_at__isnull=True).exists()
    closed_event = returned.events.get(kind=EventKind.ESCALATION_CLOSED)
    assert closed_event.payload == {"outcome": "Past beter bij het meldpunt"}

    # Escalating again after the return opens a new escalation.
    registrar = UserFactory(registrar=True, desk=incident.desk)
    act(returned, registrar, "escalate", reason="Nieuwe dreiging")
    assert Escalation.objects.filter(incident=incident).count() == 2
    assert Escalation.objects.filter(incident=incident, closed_at__isnull=True).count() == 1


def test_close_escalated_closes_incident_and_escalation(support_user):
    """Support closes its case with an outcome; the incident and the escalation close with it."""
    incident = IncidentFactory(escalated=True)
    closed = incident_act(
        action="close_escalated",
        incident=incident,
        actor=support_user,
        outcome="Juridische hulp geregeld",
        version=1,
    )
    assert closed.status == Status.CLOSED
    assert closed.outcome == "Juridische hulp geregeld"
    # For the officeholder a case the team closed was a referral to the team.
    assert closed.outcome_category == "referred_support"
    assert closed.closed_at is not None
    assert incident.escalations.get().closed_at is not None
    assert EventKind.ESCALATION_CLOSED in _kinds(closed)


def test_close_needs_a_known_category_and_takes_an_optional_text(registrar):
    """The desk closes with a category; the text may be empty; an unknown category is
    refused and the incident stays open. The event records the category."""
    incident = IncidentFactory(officeholder__organisation__desk=registrar.desk)
    with pytest.raises(ReasonRequired):
        incident_act(action="close", incident=incident, actor=registrar, version=1, outcome="x")
    with pytest.raises(ReasonRequired):
        incident_act(
            action="close",
            incident=incident,
            actor=registrar,
            version=1,
            outcome_category="nonsense",
        )
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED
    closed = incident_act(
        action="close",
        incident=incident,
        actor=registrar,
        version=1,
        outcome_category="referred_police",
    )
    assert (closed.status, closed.outcome_category, closed.outcome) == (
        Status.CLOSED,
        "referred_police",
        "",
    )
    event = closed.events.filter(kind=EventKind.STATUS_CHANGED).latest("pk")
    assert event.payload["outcome_category"] == "referred_police"
    assert "politie" in closed.outcome_explanation()


def test_close_escalated_by_a_registrar_is_refused_and_keeps_the_escalation(registrar):
    """Only support closes an escalated incident; a refused step changes nothing."""
    incident = IncidentFactory(escalated=True, officeholder__organisation__desk=registrar.desk)
    with pytest.raises(TransitionNotAllowed):
        incident_act(
            action="close_escalated", incident=incident, actor=registrar, outcome="Klaar", version=1
        )
    assert incident.escalations.get().closed_at is None


def test_every_event_of_a_workflow_is_announced_after_commit(
    officeholder, registrar, published, django_capture_on_commit_callbacks
):
    """Each recorded event gets its outbox entries in the action's transaction, once per
    consumer; all of them are queued, once each and in order, only after the commit."""
    incident = _submit(officeholder)
    OutboxEntry.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        taken = incident_act(action="take", incident=incident, actor=registrar, version=1)
        incident_act(
            incident=taken,
            actor=registrar,
            action="escalate",
            reason="Ernstig",
            version=taken.version,
        )
        events = list(incident.events.exclude(kind=EventKind.SUBMITTED).order_by("pk"))
        assert [e.kind for e in events] == ["status_changed", "status_changed", "escalated"]
        _outbox_of(events)
        assert published == []
    entries = OutboxEntry.objects.order_by("pk").values_list("pk", "object_id")
    assert published == [pk for pk, _event_id in entries]
    assert [event_id for _pk, event_id in entries] == sorted(event_id for _pk, event_id in entries)
