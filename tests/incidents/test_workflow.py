"""The incident workflow: exactly the steps of the DESIGN.md table, by exactly its roles."""

import itertools
import threading

import pytest
from django.db import connection, connections, transaction

from incidents.constants import EventKind, Status
from incidents.errors import ReasonRequired, StaleVersion, TransitionNotAllowed
from incidents.models import Escalation
from incidents.services import incident_close, incident_escalate, incident_take, incident_transition
from tests.factories import IncidentFactory, UserFactory

# DESIGN.md, "Status workflows", written out independently of incidents.workflow:
# (from, to): (roles that may take the step, what they must give)
DESIGN_TABLE = {
    ("submitted", "in_triage"): ({"registrar"}, None),
    ("submitted", "escalated"): ({"registrar", "system"}, "reason"),
    ("submitted", "closed"): ({"registrar"}, "outcome"),
    ("submitted", "withdrawn"): ({"owner"}, None),
    ("in_triage", "escalated"): ({"registrar", "system"}, "reason"),
    ("in_triage", "closed"): ({"registrar"}, "outcome"),
    ("escalated", "in_triage"): ({"support"}, "reason"),
    ("escalated", "closed"): ({"support"}, "outcome"),
    ("closed", "in_triage"): ({"registrar"}, "reason"),
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

STATUSES = [s.value for s in Status]
PAIRS = list(itertools.product(STATUSES, STATUSES))


def _allowed(from_status, to_status, actor):
    roles, _needs = DESIGN_TABLE.get((from_status, to_status), (set(), None))
    return actor in roles


def _incident(status):
    # Only the status matters to the workflow; the traits keep each status's fields coherent.
    trait = {"submitted": {}, "in_triage": {"in_triage": True}, "closed": {"closed": True}}
    return IncidentFactory(**trait.get(status, {"status": status}))


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


def _transition(incident, actor, to_status, *, version=None, reason="Reden", outcome="Uitkomst"):
    with transaction.atomic():
        return incident_transition(
            incident=incident,
            actor=actor,
            to_status=to_status,
            version=incident.version if version is None else version,
            reason=reason,
            outcome=outcome,
        )


def test_design_table_and_code_table_agree():
    """The table in code names the same steps as DESIGN.md (the matrix below checks roles)."""
    from incidents.workflow import TRANSITIONS

    assert {(f.value, t.value) for f, t in TRANSITIONS} == set(DESIGN_TABLE)


@pytest.mark.django_db
@pytest.mark.parametrize("actor_name", ACTORS)
@pytest.mark.parametrize(("from_status", "to_status"), PAIRS, ids=[f"{f}->{t}" for f, t in PAIRS])
def test_transition_matrix(from_status, to_status, actor_name):
    """Every (from, to, actor) succeeds exactly when the DESIGN.md table allows it.

    An allowed step changes the status, bumps the version and records who did it; any other
    step raises TransitionNotAllowed and changes nothing.
    """
    incident = _incident(from_status)
    actor = _actor(actor_name, incident)

    if _allowed(from_status, to_status, actor_name):
        changed = _transition(incident, actor, to_status)
        changed.refresh_from_db()
        assert changed.status == to_status
        assert changed.version == 2
        event = changed.events.get()
        assert event.kind == EventKind.STATUS_CHANGED
        assert event.actor == actor
        assert event.actor_role == (actor.role if actor else "system")
        assert event.payload["from"] == from_status
        assert event.payload["to"] == to_status
    else:
        with pytest.raises(TransitionNotAllowed):
            _transition(incident, actor, to_status)
        incident.refresh_from_db()
        assert incident.status == from_status
        assert incident.version == 1
        assert not incident.events.exists()


NEEDS = [(f, t, needs) for (f, t), (_roles, needs) in DESIGN_TABLE.items() if needs]


def _allowed_actor_name(from_status, to_status):
    roles, _needs = DESIGN_TABLE[(from_status, to_status)]
    return sorted(roles - {"system"})[0] if roles - {"system"} else "system"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_status", "to_status", "needs"), NEEDS, ids=[f"{f}->{t}" for f, t, _n in NEEDS]
)
def test_steps_that_need_a_reason_or_outcome_refuse_without_it(from_status, to_status, needs):
    """Where the table asks for a reason or an outcome, an empty or blank one is refused."""
    incident = _incident(from_status)
    actor = _actor(_allowed_actor_name(from_status, to_status), incident)
    blank = {"reason": "Reden", "outcome": "Uitkomst", needs: "   "}
    with pytest.raises(ReasonRequired):
        _transition(incident, actor, to_status, **blank)
    incident.refresh_from_db()
    assert incident.status == from_status

    given = {"reason": "", "outcome": "", needs: "  Zie dossier  "}
    changed = _transition(incident, actor, to_status, **given)
    assert changed.events.get().payload[needs] == "Zie dossier"


NO_NEEDS = [(f, t) for (f, t), (_roles, needs) in DESIGN_TABLE.items() if not needs]


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), NO_NEEDS)
def test_steps_without_needs_work_without_reason(from_status, to_status):
    """Taking an incident and withdrawing one (the reason is optional) need no text."""
    incident = _incident(from_status)
    actor = _actor(_allowed_actor_name(from_status, to_status), incident)
    changed = _transition(incident, actor, to_status, reason="", outcome="")
    assert changed.status == to_status


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), list(DESIGN_TABLE))
def test_allowed_step_against_an_old_version_is_refused(from_status, to_status):
    """Every step checks the version the actor saw: an older one raises StaleVersion."""
    incident = _incident(from_status)
    incident.version = 3
    incident.save(update_fields=["version"])
    actor = _actor(_allowed_actor_name(from_status, to_status), incident)
    with pytest.raises(StaleVersion):
        _transition(incident, actor, to_status, version=2)
    incident.refresh_from_db()
    assert (incident.status, incident.version) == (from_status, 3)


@pytest.mark.django_db
def test_closing_sets_closed_at_and_reopening_clears_it():
    """Closed incidents carry their closing time and outcome; reopening clears the time."""
    incident = _incident(Status.IN_TRIAGE)
    registrar = _actor("registrar", incident)
    closed = _transition(incident, registrar, Status.CLOSED, outcome="Alleen registratie")
    assert closed.closed_at is not None
    assert closed.outcome == "Alleen registratie"
    reopened = _transition(closed, registrar, Status.IN_TRIAGE, reason="Nieuwe feiten")
    assert reopened.closed_at is None


@pytest.mark.django_db
def test_taking_an_incident_makes_the_registrar_its_handler():
    """A registrar who takes an unassigned incident becomes its handler; others stay."""
    incident = _incident(Status.SUBMITTED)
    registrar = _actor("registrar", incident)
    taken = incident_take(incident=incident, actor=registrar, version=1)
    assert taken.assignee == registrar

    colleague = UserFactory(registrar=True, desk=incident.desk)
    closed = _transition(taken, registrar, Status.CLOSED)
    reopened = _transition(closed, colleague, Status.IN_TRIAGE)
    assert reopened.assignee == registrar


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
    incident = _incident(Status.SUBMITTED)
    first = UserFactory(registrar=True, desk=incident.desk)
    second = UserFactory(registrar=True, desk=incident.desk)

    results = _race(
        lambda: incident_take(incident=incident, actor=first, version=1),
        lambda: incident_close(incident=incident, actor=second, outcome="Registratie", version=1),
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
    incident = _incident(Status.SUBMITTED)

    def escalate():
        return incident_escalate(incident=incident, actor=None, rule_names=["physical_violence"])

    results = _race(escalate, escalate)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(isinstance(r, Escalation) for r in results) == 1
    assert results.count(None) == 1
    assert Escalation.objects.filter(incident=incident).count() == 1
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
