"""Every policy answers its two questions from one definition, and they always agree.

For every policy, every action it knows, every role and every object of a small world with two
desks (objects in every status, escalated or not), `allows(user, action, obj)` must be true
exactly for the objects in `queryset(user, action)`. A condition whose filter and test drift
apart shows up here as the object, the person and the action where they disagree.
"""

import pytest
from django.utils import timezone

from incidents.constants import MessageAudience, Status
from incidents.models import (
    Event,
    Evidence,
    Incident,
    IncidentLink,
    Message,
    Note,
    PhoneCall,
    SavedQueueView,
    StandardReply,
)
from incidents.policies import (
    event_policy,
    evidence_policy,
    incident_policy,
    link_policy,
    match_policy,
    message_policy,
    note_policy,
    phone_call_policy,
    saved_view_policy,
    standard_reply_policy,
)
from incidents.services import perpetrator_matches_record
from portal.models import Notification, OfficeholderImport, Organisation, User
from portal.policies import (
    Policy,
    notification_policy,
    officeholder_import_policy,
    organisation_policy,
    statistics_policy,
    user_policy,
)
from support.constants import ServiceType
from support.models import SupportAction, SupportCase
from support.policies import case_policy, support_action_policy
from tests.factories import (
    DeskFactory,
    EventFactory,
    IncidentFactory,
    MessageFactory,
    NoteFactory,
    OrganisationFactory,
    UserFactory,
    act,
    case_act,
    case_open,
)

pytestmark = pytest.mark.django_db

POLICIES: dict[str, Policy] = {
    "incident": incident_policy,
    "message": message_policy,
    "event": event_policy,
    "note": note_policy,
    "phone_call": phone_call_policy,
    "evidence": evidence_policy,
    "link": link_policy,
    "match": match_policy,
    "saved_view": saved_view_policy,
    "standard_reply": standard_reply_policy,
    "case": case_policy,
    "support_action": support_action_policy,
    "user": user_policy,
    "notification": notification_policy,
    "organisation": organisation_policy,
    "officeholder_import": officeholder_import_policy,
    "statistics": statistics_policy,
}


@pytest.fixture
def world(private_storage_in_tmp):
    """Two desks, their officeholders and registrars, the team, an admin, and objects of
    every kind in several states, some escalated (returned, closed) and some not."""
    from incidents.services import evidence_add, incident_escalate
    from tests.api.conftest import text_evidence

    desk_a, desk_b = DeskFactory(), DeskFactory()
    org_a, org_b = OrganisationFactory(desk=desk_a), OrganisationFactory(desk=desk_b)
    people = {
        "officeholder_a": UserFactory(organisation=org_a),
        "officeholder_b": UserFactory(organisation=org_b),
        "registrar_a": UserFactory(registrar=True, desk=desk_a),
        "registrar_b": UserFactory(registrar=True, desk=desk_b),
        "support": UserFactory(support=True),
        "admin": UserFactory(admin=True),
        "analyst": UserFactory(analyst=True),
        "inactive_registrar": UserFactory(registrar=True, desk=desk_a, is_active=False),
        "coordinator_a": UserFactory(registrar=True, desk=desk_a, is_coordinator=True),
    }
    # Delegated administration: an invited (inactive) officeholder, an ended organisation of
    # desk A, and an upload of each desk.
    UserFactory(organisation=org_a, is_active=False)
    OrganisationFactory(desk=desk_a, ended_on=timezone.localdate())
    for desk in (desk_a, desk_b):
        OfficeholderImport.objects.create(
            desk=desk, file_name="raad.csv", rows="[]", created_at=timezone.now()
        )
    incidents = []
    for officeholder in (people["officeholder_a"], people["officeholder_b"]):
        for trait in ({}, {"in_triage": True}, {"closed": True}, {"withdrawn": True}):
            incidents.append(IncidentFactory(officeholder=officeholder, **trait))
    registrar = people["registrar_a"]
    # Escalated and worked on by the team; one returned to the desk, one still open.
    for number in range(2):
        incident = IncidentFactory(officeholder=people["officeholder_a"])
        case = case_open(incident_escalate(incident=incident, rule_names=["physical_violence"]))
        case_act(case, people["support"], "acknowledge")
        case_act(
            case,
            people["support"],
            "add_action",
            service_type=ServiceType.ADVICE,
            owner=people["support"],
            shared_with_desk=number == 0,
        )
        if number == 0:
            case_act(case, people["support"], "return_to_desk", reason="Past bij het meldpunt")
        incidents.append(incident)
    first = incidents[0]
    evidence_add(incident=first, actor=people["officeholder_a"], files=[text_evidence()])
    MessageFactory(incident=first)
    MessageFactory(incident=first, staff=True)
    NoteFactory(incident=first)
    PhoneCall.objects.create(
        incident=first,
        author=registrar,
        direction="desk_called",
        called_at=first.submitted_at,
        summary="Teruggebeld",
        created_at=first.submitted_at,
    )
    EventFactory(incident=first, kind="triaged")
    act(first, registrar, "link", other=incidents[1], kind="series")
    perpetrator_matches_record(incident=first, others=[incidents[4]], kinds={})
    for person in people.values():
        Notification.objects.create(
            recipient=person,
            event_key=f"t:{person.pk}",
            kind="message",
            reference=first.reference,
            link="/",
            created_at=first.submitted_at,
        )
    for who in ("registrar_a", "registrar_b", "coordinator_a"):
        SavedQueueView.objects.create(owner=people[who], name="Te laat", query="overdue=on")
    # Standard replies: national (in use and switched off) and each desk's own.
    for desk, active in (
        (None, True),
        (None, False),
        (desk_a, True),
        (desk_a, False),
        (desk_b, True),
    ):
        StandardReply.objects.create(
            desk=desk, title="Ontvangen", text_nl="Ontvangen.", text_en="Received.", active=active
        )
    return people


def _objects(name: str):
    model = {
        "incident": Incident,
        "message": Message,
        "event": Event,
        "note": Note,
        "phone_call": PhoneCall,
        "evidence": Evidence,
        "link": IncidentLink,
        "case": SupportCase,
        "support_action": SupportAction,
        "user": User,
        "notification": Notification,
        "organisation": Organisation,
        "statistics": Organisation,
        "officeholder_import": OfficeholderImport,
        "saved_view": SavedQueueView,
        "standard_reply": StandardReply,
    }.get(name)
    if model is None:
        from incidents.models import PerpetratorMatch

        model = PerpetratorMatch
    return list(model.objects.all())


CASES = [(name, action) for name, policy in POLICIES.items() for action in policy.rules]


@pytest.mark.parametrize(("name", "action"), CASES, ids=[f"{n}.{a}" for n, a in CASES])
def test_queryset_and_allows_agree(world, name, action):
    """For every person and object: allowed exactly when the object is in the queryset."""
    policy = POLICIES[name]
    objects = _objects(name)
    assert objects, f"the world has no {name}"
    disagreements = []
    for who, person in world.items():
        in_queryset = set(policy.queryset(person, action).values_list("pk", flat=True))
        for obj in objects:
            if policy.allows(person, action, obj) != (obj.pk in in_queryset):
                disagreements.append((who, obj.pk))
    assert disagreements == []


def test_an_inactive_person_is_allowed_nothing(world):
    """A deactivated account gets an empty queryset and no permission, for every rule."""
    person = world["inactive_registrar"]
    for name, policy in POLICIES.items():
        for action in policy.rules:
            assert not policy.queryset(person, action).exists(), (name, action)


def test_the_world_has_something_allowed_and_something_refused_per_policy(world):
    """Each policy both allows and refuses someone something (the agreement test means more)."""
    for name, policy in POLICIES.items():
        objects = _objects(name)
        answers = {
            policy.allows(person, action, obj)
            for person in world.values()
            for action in policy.rules
            for obj in objects
        }
        assert answers == {True, False}, name


def test_officeholders_never_read_the_staff_channel(world):
    """The policy keeps the officeholder's thread and the staff channel apart."""
    officeholder = world["officeholder_a"]
    audiences = set(message_policy.queryset(officeholder).values_list("audience", flat=True))
    assert audiences == {MessageAudience.OFFICEHOLDER_THREAD}


def test_support_sees_only_incidents_that_were_escalated(world):
    """The team's incident scope is exactly the incidents with an escalation."""
    seen = incident_policy.queryset(world["support"])
    assert seen.count() == 2
    assert all(incident.escalations.exists() for incident in seen)
    # One returned to the desk (in triage again), one still with the team.
    assert {i.status for i in seen} == {Status.IN_TRIAGE, Status.ESCALATED}
