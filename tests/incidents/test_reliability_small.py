"""The smaller reliability items of issue 13.

- The desk page, the API timeline and the support case page of an anonymised incident answer
  (retention empties every event payload; nothing may read a payload key blindly).
- A and B cannot end up duplicates of each other, also when both are marked at once.
- Only the one-open-escalation constraint counts as "already escalated".
"""

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from incidents.errors import IncidentError
from incidents.models import Escalation, Incident
from incidents.services import (
    ONE_OPEN_ESCALATION,
    _violated_constraint,
    incident_act,
    incident_anonymise,
    incident_escalate,
)
from portal.services import api_token_create
from tests.api.conftest import token_client
from tests.conftest import verified_login
from tests.factories import IncidentFactory, UserFactory, act, case_act
from tests.support import escalated_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_in_tmp")]


@pytest.fixture
def anonymised(registrar, support_user):
    """An escalated incident with status changes on both sides, then anonymised."""
    case = escalated_case(desk=registrar.desk, organisation__desk=registrar.desk)
    case_act(case, support_user, "acknowledge")
    incident = Incident.objects.get(pk=case.incident_id)
    incident_anonymise(incident=incident)
    incident.refresh_from_db()
    assert all(event.payload == {} for event in incident.events.all())
    return incident


def test_the_desk_page_of_an_anonymised_incident_answers(client, registrar, anonymised):
    """No 500 after retention: the desk's page shows the content-free history."""
    verified_login(client, registrar)
    response = client.get(reverse("desk:detail", args=[anonymised.reference]))
    assert response.status_code == 200


def test_the_api_timeline_of_an_anonymised_incident_answers(registrar, anonymised):
    """The API timeline lists the events by kind only."""
    _token, key = api_token_create(user=registrar, name="test")
    response = token_client(key).get(
        reverse("api:incident-timeline", kwargs={"reference": anonymised.reference})
    )
    assert response.status_code == 200
    assert {entry["kind"] for entry in response.json()} >= {"escalated", "anonymised"}


def test_the_support_case_page_of_an_anonymised_incident_answers(client, support_user, anonymised):
    """The team's case page of an anonymised incident shows, without any content."""
    verified_login(client, support_user)
    response = client.get(reverse("support:case", args=[anonymised.reference]))
    assert response.status_code == 200


def test_b_cannot_become_a_duplicate_of_its_own_duplicate(registrar):
    """A closed as duplicate of B: B cannot be closed as duplicate of A."""
    a = IncidentFactory(desk=registrar.desk, organisation__desk=registrar.desk)
    b = IncidentFactory(desk=registrar.desk, organisation__desk=registrar.desk)
    act(a, registrar, "mark_duplicate", original=b)
    with pytest.raises(IncidentError):
        act(b, registrar, "mark_duplicate", original=a)
    b.refresh_from_db()
    assert b.duplicate_of_id is None


@pytest.mark.django_db(transaction=True)
def test_marking_a_and_b_duplicates_of_each_other_at_once_leaves_no_circle(
    private_storage_in_tmp,
):
    """Two registrars at the same moment: one succeeds, the other is refused (both rows are
    locked in id order, so the second sees the first's result); never a circle."""
    registrar = UserFactory(registrar=True)
    desk = registrar.desk
    a = IncidentFactory(desk=desk, organisation__desk=desk)
    b = IncidentFactory(desk=desk, organisation__desk=desk)
    barrier = threading.Barrier(2)
    outcomes = []

    def mark(this, original):
        try:
            barrier.wait(timeout=10)
            incident_act(
                incident=this,
                actor=registrar,
                action="mark_duplicate",
                version=this.version,
                original=original,
            )
            outcomes.append("done")
        except IncidentError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=mark, args=(a, b)),
        threading.Thread(target=mark, args=(b, a)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["done", "refused"]
    pointers = dict(Incident.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "duplicate_of"))
    assert None in pointers.values()


def test_only_the_one_open_escalation_constraint_means_already_escalated(registrar):
    """The name of the violated constraint decides: another integrity error is raised."""
    incident = IncidentFactory(desk=registrar.desk, organisation__desk=registrar.desk)
    Escalation.objects.create(incident=incident, rules=["x"], created_at=incident.submitted_at)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Escalation.objects.create(incident=incident, rules=["y"], created_at=incident.submitted_at)
    assert _violated_constraint(caught.value) == ONE_OPEN_ESCALATION
    fresh = IncidentFactory(desk=registrar.desk, organisation__desk=registrar.desk)
    with pytest.raises(IntegrityError) as other, transaction.atomic():
        Escalation.objects.create(incident=fresh, rules=[], created_at=None)
    assert _violated_constraint(other.value) != ONE_OPEN_ESCALATION


def test_an_unrelated_integrity_error_while_escalating_is_not_swallowed(registrar, monkeypatch):
    """incident_escalate no longer answers "already escalated" (None) for any other fault."""
    incident = IncidentFactory(desk=registrar.desk, organisation__desk=registrar.desk)

    def broken(*args, **kwargs):
        raise IntegrityError('null value in column "created_at" violates not-null constraint')

    monkeypatch.setattr(Escalation.objects, "create", broken)
    with pytest.raises(IntegrityError):
        incident_escalate(incident=incident, rule_names=["physical_violence"])
