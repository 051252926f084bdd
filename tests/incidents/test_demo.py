"""`seed_demo` example content: a living desk queue and a support inbox that is not empty."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from devtools.demo.stories import demo_token, stories
from incidents import selectors
from incidents import services as incident_services
from incidents.actions import overdue_q
from incidents.constants import (
    SERIOUS_SEVERITIES,
    EventKind,
    EvidenceKind,
    IdentifierKind,
    IncidentType,
    MessageAudience,
    Status,
)
from incidents.models import (
    Event,
    Incident,
    IncidentLink,
    Message,
    Note,
    PerpetratorIdentifier,
    PerpetratorMatch,
)
from portal.crypto import identifier_hash
from portal.models import OutboxEntry, OutboxStatus, User
from portal.outbox import outbox_deliver
from support import rules
from support import services as support_services
from support.constants import CaseStatus, ServiceType
from support.models import SupportCase

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_in_tmp")]


@pytest.fixture
def seeded(settings):
    """The whole demo, as `make run` loads it (a fast hasher keeps the accounts quick)."""
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", verbosity=0)


def demo_incidents():
    return Incident.objects.filter(submission_token__in=[demo_token(s.key) for s in stories()])


def snapshot() -> dict:
    """Every row of every model, as plain values, to compare two runs exactly."""
    return {
        model._meta.label: sorted(map(repr, model._default_manager.values_list()))
        for model in apps.get_models()
    }


def test_every_story_is_seeded_once_with_its_token(seeded):
    """Each story has one incident, recognised by the fixed submission token of its key."""
    assert demo_incidents().count() == len(stories())
    assert len({demo_token(story.key) for story in stories()}) == len(stories())


def test_every_status_and_several_organisations(seeded):
    """The queue shows every incident status, from four organisations and three desks."""
    incidents = demo_incidents()
    assert set(incidents.values_list("status", flat=True)) == set(Status.values)
    assert incidents.values("organisation").distinct().count() >= 4
    assert incidents.values("desk").distinct().count() == 3
    assert incidents.filter(filed_by_desk=True).exists()
    assert incidents.filter(is_quick=True).exists()
    assert incidents.filter(duplicate_of__isnull=False).exists()


def test_some_are_overdue_and_each_desk_sees_its_own(seeded):
    """Untriaged reports past their stored deadline are overdue, for the regional desk too."""
    now = timezone.now()
    overdue = demo_incidents().filter(overdue_q(now=now))
    assert overdue.count() >= 2
    assert set(overdue.values_list("status", flat=True)) == {Status.SUBMITTED, Status.IN_TRIAGE}
    ijsselland = User.objects.get(username="meldpunt.ijsselland")
    assert selectors.incident_queue_for(user=ijsselland, filters={"overdue": True}).exists()
    assert {
        i.organisation.name
        for i in selectors.incident_queue_for(user=ijsselland, filters={"status": "all"})
    } == {"Gemeente Zwolle", "Provincie Overijssel"}


def test_every_demo_desk_is_reachable_and_the_saba_report_was_handled(seeded):
    """The demo is true: every desk has somebody (Meldpunt Caribisch Nederland its own demo
    registrar), and the island desk registered and closed the Saba report."""
    from portal.reachability import desks_unreachable

    assert desks_unreachable() == []
    island = User.objects.get(username="meldpunt.caribischnederland")
    saba = demo_incidents().filter(organisation__name="Openbaar lichaam Saba")
    assert {incident.desk_id for incident in saba} == {island.desk_id}
    haven = saba.get(status=Status.CLOSED)
    assert haven.events.filter(actor=island).exists()


def test_times_lie_in_the_past_and_in_story_order(seeded):
    """Every incident was submitted in the past, over weeks; its events follow the submission."""
    now = timezone.now()
    incidents = demo_incidents()
    submitted = sorted(incidents.values_list("submitted_at", flat=True))
    assert submitted[-1] < now
    assert (submitted[-1] - submitted[0]).days > 60
    for incident in incidents:
        times = list(incident.events.values_list("created_at", flat=True))
        assert min(times) == incident.submitted_at, incident.summary
        assert max(times) < now
        assert incident.submitted_at <= incident.updated_at <= max(times), incident.summary
        # The stored deadline was computed from the story's submission time, not from today.
        assert incident.triage_due_at - incident.submitted_at < timedelta(days=5)


def test_messages_notes_and_evidence(seeded):
    """Threads with the officeholder, the staff channel, internal notes, images and text files."""
    incidents = demo_incidents()
    thread = Message.objects.filter(incident__in=incidents)
    assert thread.filter(audience=MessageAudience.OFFICEHOLDER_THREAD, author_role="registrar")
    assert thread.filter(audience=MessageAudience.OFFICEHOLDER_THREAD, author_role="officeholder")
    assert thread.filter(audience=MessageAudience.OFFICEHOLDER_THREAD, author_role="support")
    assert thread.filter(audience=MessageAudience.STAFF).count() >= 3
    assert Note.objects.filter(incident__in=incidents).count() >= 2
    kinds = set()
    for incident in incidents.prefetch_related("evidence"):
        for evidence in incident.evidence.all():
            kinds.add(evidence.kind)
            with evidence.file.open("rb") as stored:
                assert len(stored.read()) == evidence.size
    assert {EvidenceKind.IMAGE, EvidenceKind.TEXT, EvidenceKind.EMAIL} <= kinds


def test_two_officeholders_share_a_perpetrator_handle_and_are_matched(seeded):
    """'@boze_burger_030' and 'https://x.com/Boze_Burger_030' are one handle: the rules recorded
    a staff-only match between the raadslid's report and the wethouder's, and wrote nothing on
    either incident (no link, no escalation by rule 6)."""
    shared = PerpetratorIdentifier.objects.filter(
        kind=IdentifierKind.HANDLE, normalised=identifier_hash("boze_burger_030")
    ).select_related("incident__officeholder")
    assert {i.incident.officeholder.username for i in shared} == {
        "wethouder.utrecht",
        "raadslid.utrecht",
    }
    first, second = sorted((i.incident for i in shared), key=lambda incident: incident.pk)
    match = PerpetratorMatch.objects.get(first=first, second=second)
    assert match.kinds == [IdentifierKind.HANDLE]
    assert not IncidentLink.objects.filter(from_incident=first, to_incident=second).exists()
    for incident in (first, second):
        assert not incident.events.filter(kind=EventKind.LINKED).exists()
        assert not any(
            "shared_perpetrator" in escalation.rules for escalation in incident.escalations.all()
        )


def test_anonymous_accounts_are_unknown_perpetrators_with_their_account(seeded):
    """A report about an anonymous account (demo incident 000011 among them) says "Dader
    onbekend" and keeps the account: knowing a handle is not knowing who it is."""
    wethouder = Incident.objects.get(submission_token=demo_token("utrecht-x-wethouder"))
    assert wethouder.reference.endswith("-000011")
    for key in ("zwolle-facebook", "utrecht-x-wethouder", "utrecht-x-raadslid", "zwolle-doxing"):
        incident = Incident.objects.get(submission_token=demo_token(key))
        assert incident.perpetrator_label() == "Dader onbekend", key
        assert incident.identifiers.filter(kind=IdentifierKind.HANDLE).exists(), key


def test_escalated_cases_in_every_support_state(seeded):
    """The support inbox holds new, acknowledged, in-progress, closed and returned cases; every
    escalation has its one support case."""
    cases = SupportCase.objects.filter(incident__in=demo_incidents()).select_related("incident")
    by_status = {}
    for case in cases:
        by_status.setdefault(case.status, []).append(case)
    assert set(by_status) == set(CaseStatus.values)
    (new,) = by_status[CaseStatus.NEW]
    assert new.acknowledge_due_at < timezone.now(), "shows the acknowledgement deadline passed"
    (acknowledged,) = by_status[CaseStatus.ACKNOWLEDGED]
    assert acknowledged.handler.username == "ondersteuning"
    (in_progress,) = by_status[CaseStatus.IN_PROGRESS]
    actions = {a.service_type: a.shared_with_desk for a in in_progress.actions.all()}
    assert actions[ServiceType.LEGAL_HELP] is True
    assert actions[ServiceType.COMMUNICATION_ADVICE] is False
    for closed in by_status[CaseStatus.CLOSED]:
        assert closed.outcome and closed.incident.status == Status.CLOSED
    (returned,) = by_status[CaseStatus.RETURNED]
    assert returned.outcome and returned.incident.status == Status.IN_TRIAGE
    for case in (new, acknowledged, in_progress):
        assert case.incident.status == Status.ESCALATED
    escalations = [e for i in demo_incidents() for e in i.escalations.all()]
    assert len(escalations) == cases.count() == 6
    assert all(hasattr(escalation, "support_case") for escalation in escalations)


def test_the_desk_sees_only_the_shared_support_action(seeded):
    """The support action that is not shared with the desk is hidden from the desk's timeline."""
    incident = SupportCase.objects.get(status=CaseStatus.IN_PROGRESS).incident
    registrar = User.objects.get(username="meldpunt.utrecht")
    support = User.objects.get(username="ondersteuning")
    action_events = incident.events.filter(kind=EventKind.SUPPORT_ACTION)
    desk_actions = [
        e
        for e in selectors.timeline_for(user=registrar, incident=incident)
        if e.kind == EventKind.SUPPORT_ACTION
    ]
    team_actions = [
        e
        for e in selectors.timeline_for(user=support, incident=incident)
        if e.kind == EventKind.SUPPORT_ACTION
    ]
    assert len(team_actions) == action_events.count() > len(desk_actions) > 0


def test_the_demo_is_stable_under_the_rules_and_the_watchdogs(seeded):
    """Every outbox entry of a demo event is marked done, so the tasks queued after commit do
    nothing; no incident still with the desk would be escalated by a rule it did not fire
    before; and the triage watchdog escalates no demo incident."""
    events = Event.objects.filter(incident__in=demo_incidents())
    entries = OutboxEntry.objects.filter(object_id__in=events.values_list("pk", flat=True))
    filings = events.filter(kind__in=[EventKind.SUBMITTED, EventKind.FILED_BY_DESK])
    assert filings.count() == demo_incidents().count()
    # Every filing had work for its consumers (the rules, the desk's notification).
    assert set(
        entries.filter(kind__in=[EventKind.SUBMITTED, EventKind.FILED_BY_DESK]).values_list(
            "object_id", flat=True
        )
    ) == set(filings.values_list("pk", flat=True))
    assert set(entries.values_list("status", flat=True)) == {OutboxStatus.DONE}
    assert not any(outbox_deliver(entry_id=pk) for pk in entries.values_list("pk", flat=True))
    for incident in demo_incidents().filter(status__in=(Status.SUBMITTED, Status.IN_TRIAGE)):
        fired, _matches = rules.rules_evaluate(incident)
        earlier = {code for escalation in incident.escalations.all() for code in escalation.rules}
        assert set(fired) - earlier == set(), incident.summary
    cases = SupportCase.objects.count()
    assert support_services.triage_watch()["escalated"] == 0
    assert SupportCase.objects.count() == cases
    # What keeps the watchdog quiet: serious reports still with the desk are triaged or young.
    for incident in demo_incidents().filter(
        status__in=(Status.SUBMITTED, Status.IN_TRIAGE), reporter_severity__in=SERIOUS_SEVERITIES
    ):
        assert incident.triaged_at or incident.triage_due_at > timezone.now()


def test_a_report_filed_while_trying_the_demo_is_not_escalated_as_a_repeat(seeded):
    """Each demo officeholder has at most one countable report in the last 30 days, so a new,
    harmless report fires no escalation rule (not "the third in 30 days")."""
    # Invited demo officeholders who have not chosen a password yet cannot report.
    for officeholder in User.objects.filter(role="officeholder", is_active=True):
        incident = incident_services.incident_submit(
            officeholder=officeholder,
            facts={
                "types": [IncidentType.VERBAL_AGGRESSION],
                "occurred_on": timezone.localdate(),
                "summary": "Uitgescholden bij de bakker.",
            },
            quick=True,
        )
        fired, _matches = rules.rules_evaluate(incident)
        assert fired == [], f"{officeholder.username}: {fired}"


def test_seeding_again_changes_no_row(seeded):
    """A second run writes nothing: every row of every table is exactly as before."""
    before = snapshot()

    call_command("seed_demo", verbosity=0)

    assert snapshot() == before


def test_a_demo_incident_someone_worked_on_stays_as_they_left_it(seeded):
    """Seeding again does not reset a demo incident that a user has changed meanwhile."""
    incident = demo_incidents().get(status=Status.WITHDRAWN)
    Incident.objects.filter(pk=incident.pk).update(summary="Door de gebruiker aangepast.")
    events = Event.objects.count()

    call_command("seed_demo", verbosity=0)

    incident.refresh_from_db()
    assert incident.summary == "Door de gebruiker aangepast."
    assert Event.objects.count() == events
