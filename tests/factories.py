"""factory_boy factories for every model, with traits per role/status."""

from datetime import timedelta

import factory
from django.utils import timezone

from incidents.constants import (
    OFFICEHOLDER_VISIBLE_EVENTS,
    EventKind,
    IdentifierKind,
    IncidentType,
    MessageAudience,
    Status,
)
from incidents.identifiers import identifier_normalise
from incidents.models import Escalation, Event, Incident, Message, Note, PerpetratorIdentifier
from portal.constants import OfficeholderFunction, OrganisationType, Role
from portal.crypto import identifier_hash
from portal.models import Desk, Organisation, User

TEST_PASSWORD = "correct-horse-battery-staple"


class DeskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Desk

    name = factory.Sequence(lambda n: f"Meldpunt {n}")
    email = factory.Sequence(lambda n: f"meldpunt{n}@example.org")
    # A working desk by default: its mailbox confirmed that somebody reads it
    # (portal.reachability). Trait `unread`: nobody confirmed it, so without an active
    # registrar the desk is unreachable.
    mailbox_confirmed_email = factory.SelfAttribute("email")
    mailbox_confirmed_at = factory.LazyFunction(timezone.now)

    class Params:
        unread = factory.Trait(mailbox_confirmed_email="", mailbox_confirmed_at=None)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Gemeente {n}")
    type = OrganisationType.GEMEENTE
    code = factory.Sequence(lambda n: f"GM{n:04d}")
    desk = factory.SubFactory(DeskFactory)

    class Params:
        caribbean = factory.Trait(
            type=OrganisationType.OPENBAAR_LICHAAM,
            time_zone="America/Kralendijk",
            emergency_number="911",
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = Role.OFFICEHOLDER
    function = OfficeholderFunction.RAADSLID
    organisation = factory.SubFactory(OrganisationFactory)
    desk = None
    password = factory.django.Password(TEST_PASSWORD)

    class Params:
        registrar = factory.Trait(
            role=Role.REGISTRAR,
            function="",
            organisation=None,
            desk=factory.SubFactory(DeskFactory),
        )
        support = factory.Trait(role=Role.SUPPORT, function="", organisation=None)
        admin = factory.Trait(role=Role.ADMIN, function="", organisation=None, is_staff=True)
        analyst = factory.Trait(role=Role.ANALYST, function="", organisation=None)


# --- incidents -----------------------------------------------------------------------------


class IncidentFactory(factory.django.DjangoModelFactory):
    """A submitted incident of a fresh officeholder, routed to their organisation's desk.

    References start at MWB-2026-900000 so that they never collide with the ones that
    `incident_submit` hands out (which count up from 1) in the same test.
    """

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"MWB-2026-{900000 + n:06d}")
    status = Status.SUBMITTED
    officeholder = factory.SubFactory(UserFactory)
    organisation = factory.LazyAttribute(lambda o: o.officeholder.organisation)
    desk = factory.LazyAttribute(lambda o: o.organisation.desk)
    filed_by = factory.LazyAttribute(lambda o: o.officeholder)
    types = factory.LazyFunction(lambda: [IncidentType.THREAT])
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=1))
    summary = "Bedreigd na afloop van de raadsvergadering."
    submitted_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("submitted_at")
    triage_due_at = factory.LazyAttribute(lambda o: o.submitted_at + timedelta(days=2))

    class Params:
        in_triage = factory.Trait(status=Status.IN_TRIAGE)
        escalated = factory.Trait(
            status=Status.ESCALATED,
            open_escalation=factory.RelatedFactory(
                "tests.factories.EscalationFactory", factory_related_name="incident"
            ),
        )
        closed = factory.Trait(
            status=Status.CLOSED,
            closed_at=factory.LazyFunction(timezone.now),
            outcome_category="registered",
            outcome="Alleen geregistreerd.",
        )
        withdrawn = factory.Trait(status=Status.WITHDRAWN)


class EscalationFactory(factory.django.DjangoModelFactory):
    """An open escalation by a rule; its incident is escalated (without a second escalation)."""

    class Meta:
        model = Escalation

    incident = factory.SubFactory(IncidentFactory, status=Status.ESCALATED)
    escalated_by = None
    rules = factory.LazyFunction(lambda: ["physical_violence"])
    reason = ""
    created_at = factory.LazyFunction(timezone.now)
    closed_at = None


class MessageFactory(factory.django.DjangoModelFactory):
    """A message by the officeholder in their own thread; trait `staff` for the staff channel."""

    class Meta:
        model = Message

    incident = factory.SubFactory(IncidentFactory)
    author = factory.LazyAttribute(lambda o: o.incident.officeholder)
    author_role = factory.LazyAttribute(lambda o: o.author.role if o.author else "")
    audience = MessageAudience.OFFICEHOLDER_THREAD
    body = "Hij stond vanochtend weer voor het gemeentehuis."
    created_at = factory.LazyFunction(timezone.now)

    class Params:
        staff = factory.Trait(
            audience=MessageAudience.STAFF,
            author=factory.SubFactory(
                UserFactory, registrar=True, desk=factory.SelfAttribute("..incident.desk")
            ),
        )


class NoteFactory(factory.django.DjangoModelFactory):
    """An internal note by a registrar of the incident's desk."""

    class Meta:
        model = Note

    incident = factory.SubFactory(IncidentFactory)
    author = factory.SubFactory(
        UserFactory, registrar=True, desk=factory.SelfAttribute("..incident.desk")
    )
    body = "Contact gehad met de wijkagent."
    created_at = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    """An event; visible to the officeholder exactly when its kind is (as `event_record` does)."""

    class Meta:
        model = Event

    incident = factory.SubFactory(IncidentFactory)
    kind = EventKind.SUBMITTED
    actor = factory.LazyAttribute(lambda o: o.incident.officeholder)
    actor_role = factory.LazyAttribute(lambda o: o.actor.role if o.actor else "system")
    created_at = factory.LazyFunction(timezone.now)
    payload = factory.LazyFunction(dict)
    visible_to_officeholder = factory.LazyAttribute(lambda o: o.kind in OFFICEHOLDER_VISIBLE_EVENTS)


class PerpetratorIdentifierFactory(factory.django.DjangoModelFactory):
    """A perpetrator's social-media handle, stored as typed and as a keyed hash."""

    class Meta:
        model = PerpetratorIdentifier

    incident = factory.SubFactory(IncidentFactory)
    kind = IdentifierKind.HANDLE
    value = "@Jan_Boos"
    normalised = factory.LazyAttribute(
        lambda o: identifier_hash(identifier_normalise(kind=o.kind, value=o.value))
    )


# --- Taking workflow actions in tests ----------------------------------------------------------


def act(incident: Incident, actor, action: str, **inputs) -> Incident:
    """Take an incident workflow action through the one action service, as a person who saw the
    incident as it is now (its current version)."""
    from incidents.services import incident_act

    incident.refresh_from_db()
    return incident_act(
        incident=incident, actor=actor, action=action, version=incident.version, **inputs
    )


def case_act(case, actor, action: str, **inputs):
    """Take a support case action through the one case service, with the case's version."""
    from support.services import support_case_act

    case.refresh_from_db()
    return support_case_act(case=case, actor=actor, action=action, version=case.version, **inputs)


def case_open(escalation):
    """The support case of an escalation, as the outbox's case consumer opens it."""
    from support.services import support_case_open

    return support_case_open(escalation=escalation)[0]


def outbox_pending(event) -> list:
    """The outbox entries `event_record` writes for `event` (one per consumer that wants its
    kind), left pending and not queued: for events the factories made, or to replay one."""
    from incidents.services import INCIDENT_EVENT_TOPIC
    from portal.models import OutboxEntry
    from portal.outbox import consumers_for

    now = timezone.now()
    return [
        OutboxEntry.objects.create(
            topic=INCIDENT_EVENT_TOPIC,
            object_id=event.pk,
            kind=event.kind,
            consumer=consumer.name,
            created_at=now,
            next_attempt_at=now,
        )
        for consumer in consumers_for(INCIDENT_EVENT_TOPIC, event.kind)
    ]


def outbox_deliver_all(entries) -> list[bool]:
    """Deliver each entry once, in order, as the worker's task does; True where it did work."""
    from portal.outbox import outbox_deliver

    return [outbox_deliver(entry_id=entry.pk) for entry in entries]
