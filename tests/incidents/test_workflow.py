"""The incident workflow: the action table, checked through the one action service.

The matrix below is generated from `incidents.actions`: every action, from every status, by every
kind of actor. Expectations are computed from the table's own rows (the roles and relations it
names), and the status steps are compared with an independent copy of the design's table, so a
change of the table shows up here twice.
"""

import itertools
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from incidents.actions import ACTIONS, SYSTEM, status_steps
from incidents.constants import EventKind, LinkKind, Status, TriageSeverity
from incidents.errors import ReasonRequired, StaleVersion, TransitionNotAllowed
from incidents.models import Escalation
from incidents.services import incident_act, incident_escalate
from portal.constants import OfficeholderFunction, Role
from tests.factories import EscalationFactory, IncidentFactory, UserFactory, act

# The design's status table, written out independently of incidents.actions:
# (from, to): the roles that may take the step.
DESIGN_TABLE = {
    ("submitted", "in_triage"): {"registrar"},
    ("submitted", "escalated"): {"registrar", "system"},
    ("submitted", "closed"): {"registrar"},
    ("submitted", "withdrawn"): {"officeholder"},
    ("in_triage", "escalated"): {"registrar", "system"},
    ("in_triage", "closed"): {"registrar"},
    ("escalated", "in_triage"): {"support"},
    ("escalated", "closed"): {"support"},
    ("closed", "in_triage"): {"registrar"},
}

ACTORS = [
    "owner",  # the officeholder who filed the incident
    "other_officeholder",  # an officeholder of the same organisation
    "registrar",  # a registrar of the incident's desk
    "other_registrar",  # a registrar of another desk
    "support",
    "admin",
    "system",  # the escalation rules engine (actor None)
]
# Which actor has the relation each role's condition in the table asks for.
RELATED = {"owner": Role.OFFICEHOLDER, "registrar": Role.REGISTRAR, "support": Role.SUPPORT}
STATUSES = [s.value for s in Status]


def test_the_table_has_exactly_the_designs_status_steps():
    """The (from, to) pairs of the actions are the design's status table."""
    assert status_steps() == set(DESIGN_TABLE)


def test_each_design_step_is_open_to_exactly_the_designs_roles():
    """For every status step, the roles of the actions that take it are the design's roles."""
    for (from_status, to_status), roles in DESIGN_TABLE.items():
        found = set()
        for action in ACTIONS.values():
            if action.to_status == to_status and from_status in action.from_statuses:
                found |= set(action.who) | ({SYSTEM} if action.system else set())
        assert found == roles, (from_status, to_status)


def _incident(status: str, *, escalated: bool):
    trait = {"in_triage": {"in_triage": True}, "closed": {"closed": True}}
    # A wethouder: a function that may ask for a security advice (request_security_advice).
    incident = IncidentFactory(
        officeholder__function=OfficeholderFunction.WETHOUDER,
        **trait.get(status, {"status": status}),
    )
    if escalated:
        # The support team's relation: the incident was escalated (the open one for "escalated").
        EscalationFactory(
            incident=incident, closed_at=None if status == Status.ESCALATED else incident.updated_at
        )
    return incident


def _actor(name, incident):
    return {
        "owner": lambda: incident.officeholder,
        "other_officeholder": lambda: UserFactory(organisation=incident.organisation),
        "registrar": lambda: UserFactory(registrar=True, desk=incident.desk),
        "other_registrar": lambda: UserFactory(registrar=True),
        "support": lambda: UserFactory(support=True),
        "admin": lambda: UserFactory(admin=True),
        "system": lambda: None,
    }[name]()


def _inputs(action: str, incident, actor) -> dict:
    """Valid inputs for each action (other incidents of the same desk where one is named)."""

    def other():
        return IncidentFactory(officeholder=incident.officeholder)

    return {
        "take": dict,
        "assign": lambda: {"assignee": actor},
        "release": lambda: {"reason": "De behandelaar werkt hier niet meer."},
        "triage": lambda: {"triage_severity": TriageSeverity.LOW, "types": incident.types},
        "escalate": lambda: {"rules": ["physical_violence"]} if actor is None else {"reason": "R"},
        "close": lambda: {"outcome_category": "registered", "outcome": "Alleen registratie"},
        "mark_duplicate": lambda: {"original": other()},
        "reopen": lambda: {"reason": "Nieuwe feiten"},
        "withdraw": lambda: {"reason": ""},
        "link": lambda: {"other": other(), "kind": LinkKind.SERIES},
        "return_to_desk": lambda: {"reason": "Past bij het meldpunt"},
        "close_escalated": lambda: {"outcome": "Hulp geregeld"},
        "set_callback": lambda: {
            "callback_at": timezone.now() + timedelta(hours=2),
            "callback_note": "Vragen of de politie belde",
        },
        "clear_callback": dict,
        "request_security_advice": dict,
    }[action]()


def _expected(action_name: str, status: str, actor_name: str) -> bool:
    """From the table's row: the status is one it starts from, and the actor is who it names."""
    action = ACTIONS[action_name]
    if status not in action.from_statuses:
        return False
    if actor_name == "system":
        return action.system
    return RELATED.get(actor_name) in action.who


MATRIX = list(itertools.product(ACTIONS, STATUSES, ACTORS))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "status", "actor_name"), MATRIX, ids=["-".join(m) for m in MATRIX]
)
def test_action_matrix(action, status, actor_name):
    """Every action from every status by every actor succeeds exactly when the table says so.

    Allowed: the version goes up and the action's event is recorded with who did it. Refused:
    TransitionNotAllowed, and the incident is as it was.
    """
    escalated = status == Status.ESCALATED or (actor_name == "support" and status != "submitted")
    incident = _incident(status, escalated=escalated)
    actor = _actor(actor_name, incident)
    inputs = _inputs(action, incident, actor)
    version = None if actor is None else incident.version
    kinds_before = set(incident.events.values_list("pk", flat=True))

    if _expected(action, status, actor_name):
        changed = incident_act(
            incident=incident, actor=actor, action=action, version=version, **inputs
        )
        changed.refresh_from_db()
        assert changed.version == incident.version + 1
        expected_status = ACTIONS[action].to_status or status
        assert changed.status == expected_status
        events = changed.events.exclude(pk__in=kinds_before)
        assert ACTIONS[action].event in set(events.values_list("kind", flat=True))
        assert {event.actor_id for event in events} == {actor.pk if actor else None}
    else:
        with pytest.raises(TransitionNotAllowed):
            incident_act(incident=incident, actor=actor, action=action, version=version, **inputs)
        incident.refresh_from_db()
        assert (incident.status, incident.version) == (status, 1)
        assert set(incident.events.values_list("pk", flat=True)) == kinds_before


NEEDS = [(name, need) for name, action in ACTIONS.items() for need in action.needs]
STARTS = {name: sorted(action.from_statuses)[0] for name, action in ACTIONS.items()}
WHO = {Role.OFFICEHOLDER: "owner", Role.REGISTRAR: "registrar", Role.SUPPORT: "support"}


def _allowed_case(action: str):
    status = STARTS[action]
    incident = _incident(status, escalated=status == Status.ESCALATED)
    return incident, _actor(WHO[next(iter(ACTIONS[action].who))], incident)


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "need"), NEEDS, ids=["-".join(n) for n in NEEDS])
def test_what_an_action_needs_is_refused_when_missing(action, need):
    """Every input the table marks as needed is refused when it is empty or blank."""
    incident, actor = _allowed_case(action)
    inputs = _inputs(action, incident, actor)
    inputs[need] = "   " if isinstance(inputs.get(need), str) else None
    with pytest.raises(ReasonRequired):
        act(incident, actor, action, **inputs)
    incident.refresh_from_db()
    assert incident.version == 1


@pytest.mark.django_db
@pytest.mark.parametrize("action", [name for name, a in ACTIONS.items() if not a.internal])
def test_an_action_against_an_old_version_is_refused(action):
    """Every action a person takes checks the version they saw: an older one is StaleVersion,
    and so is sending none."""
    incident, actor = _allowed_case(action)
    incident.version = 3
    incident.save(update_fields=["version"])
    inputs = _inputs(action, incident, actor)
    for version in (2, None):
        with pytest.raises(StaleVersion):
            incident_act(incident=incident, actor=actor, action=action, version=version, **inputs)
    incident.refresh_from_db()
    assert incident.version == 3


@pytest.mark.django_db
def test_a_reason_is_stored_trimmed_in_the_status_event():
    """The reason of a step is recorded with it, without surrounding blanks."""
    incident, actor = _allowed_case("reopen")
    changed = act(incident, actor, "reopen", reason="  Zie dossier  ")
    event = changed.events.get(kind=EventKind.STATUS_CHANGED)
    assert event.payload["reason"] == "Zie dossier"


@pytest.mark.django_db
def test_closing_sets_closed_at_and_reopening_clears_it():
    """Closed incidents carry their closing time and outcome; reopening clears the time."""
    incident = _incident(Status.IN_TRIAGE, escalated=False)
    registrar = _actor("registrar", incident)
    closed = act(
        incident, registrar, "close", outcome_category="registered", outcome="Alleen registratie"
    )
    assert closed.closed_at is not None
    assert closed.outcome == "Alleen registratie"
    reopened = act(closed, registrar, "reopen", reason="Nieuwe feiten")
    assert reopened.closed_at is None


@pytest.mark.django_db
def test_taking_an_incident_makes_the_registrar_its_handler():
    """A registrar who takes an unassigned incident becomes its handler; others stay."""
    incident = _incident(Status.SUBMITTED, escalated=False)
    registrar = _actor("registrar", incident)
    taken = act(incident, registrar, "take")
    assert taken.assignee == registrar

    colleague = UserFactory(registrar=True, desk=incident.desk)
    closed = act(taken, registrar, "close", outcome_category="registered", outcome="Registratie")
    reopened = act(closed, colleague, "reopen", reason="Nieuw")
    assert reopened.assignee == registrar


@pytest.mark.django_db
def test_a_duplicate_of_a_duplicate_is_refused_so_no_circle_can_form():
    """A can be a duplicate of B, but then B cannot be a duplicate of A (or of anything via A)."""
    first = _incident(Status.SUBMITTED, escalated=False)
    second = IncidentFactory(officeholder=first.officeholder)
    registrar = _actor("registrar", first)
    act(first, registrar, "mark_duplicate", original=second)
    third = IncidentFactory(officeholder=first.officeholder)
    with pytest.raises(Exception) as refused:
        act(third, registrar, "mark_duplicate", original=first)
    assert "zelf een dubbele melding" in str(refused.value)


@pytest.mark.django_db
def test_internal_actions_are_never_offered():
    """Returning and closing by the team belong to the support case: no page offers them."""
    from incidents.policies import incident_policy

    incident = _incident(Status.ESCALATED, escalated=True)
    support = _actor("support", incident)
    assert [a.name for a in incident_policy.actions_for(support, incident)] == []


# --- two registrars at once, on PostgreSQL ----------------------------------------------------


def _race(*calls):
    """Run the calls in threads that start together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # the test inspects what each thread got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_registrars_acting_at_once_one_wins_the_other_is_stale(attempt):
    """Take and close against the same version at the same moment: one wins, one is stale."""
    assert connection.vendor == "postgresql", "run under scripts/with-test-services.sh"
    incident = _incident(Status.SUBMITTED, escalated=False)
    first = UserFactory(registrar=True, desk=incident.desk)
    second = UserFactory(registrar=True, desk=incident.desk)

    results = _race(
        lambda: incident_act(incident=incident, actor=first, action="take", version=1),
        lambda: incident_act(
            incident=incident,
            actor=second,
            action="close",
            version=1,
            outcome_category="registered",
            outcome="Registratie",
        ),
    )

    stale = [r for r in results if isinstance(r, StaleVersion)]
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(stale) == 1 and len(won) == 1, results
    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.status == won[0].status
    assert incident.events.filter(kind=EventKind.STATUS_CHANGED).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_rule_workers_escalating_at_once_open_one_escalation():
    """Two workers escalating the same incident at once: one Escalation, the other gets None."""
    assert connection.vendor == "postgresql", "run under scripts/with-test-services.sh"
    incident = _incident(Status.SUBMITTED, escalated=False)

    def escalate():
        return incident_escalate(incident=incident, rule_names=["physical_violence"])

    results = _race(escalate, escalate)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(isinstance(r, Escalation) for r in results) == 1
    assert results.count(None) == 1
    assert Escalation.objects.filter(incident=incident).count() == 1
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
