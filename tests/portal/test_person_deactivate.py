"""Deactivating a person ends the account and leaves nothing of theirs stuck: a registrar's open
incidents return to the desk unassigned (the desk is told), a team member's open cases return to
the team inbox (the team is told)."""

import pytest
from django.core import mail
from django.urls import reverse

from incidents.constants import EventKind, Status
from portal import services
from portal.models import ApiToken, Notification, PersonChange
from support.constants import CaseStatus
from tests.conftest import verified_login
from tests.factories import EscalationFactory, IncidentFactory, UserFactory, case_act, case_open

pytestmark = pytest.mark.django_db


def _desk_incident(registrar, **kwargs):
    return IncidentFactory(
        officeholder__organisation__desk=registrar.desk, assignee=registrar, **kwargs
    )


def test_deactivating_a_registrar_returns_open_incidents_to_the_desk_and_tells_it():
    """Open incidents lose their handler with an "assigned" event by the portal naming who
    left; the desk's other registrars are notified; a closed incident keeps its handler."""
    admin = UserFactory(admin=True)
    leaving = UserFactory(registrar=True)
    colleague = UserFactory(registrar=True, desk=leaving.desk)
    open_incident = _desk_incident(leaving, status=Status.IN_TRIAGE)
    closed = _desk_incident(leaving, closed=True)
    services.api_token_create(user=leaving, name="koppeling")

    assert services.person_deactivate(actor=admin, person=leaving) is True

    leaving.refresh_from_db()
    assert not leaving.is_active and leaving.security_stamp
    assert not ApiToken.objects.filter(user=leaving, revoked_at__isnull=True).exists()
    open_incident.refresh_from_db()
    closed.refresh_from_db()
    assert open_incident.assignee is None and open_incident.version == 2
    assert closed.assignee == leaving
    event = open_incident.events.get(kind=EventKind.ASSIGNED)
    assert event.actor is None and event.payload["released_from"] == str(leaving)
    assert str(leaving) in event.payload["reason"]
    notice = Notification.objects.get(recipient=colleague)
    assert (notice.kind, notice.reference) == ("incident_released", open_incident.reference)
    assert not Notification.objects.filter(recipient=leaving).exists()
    change = PersonChange.objects.get(person=leaving)
    assert (change.field, change.old_value, change.new_value, change.actor) == (
        "is_active",
        "True",
        "False",
        admin,
    )


def test_a_desk_without_other_staff_hears_it_in_its_confirmed_mailbox(committed):
    """Nobody left at the desk: the desk's confirmed mailbox gets the notice instead."""
    leaving = UserFactory(registrar=True)
    incident = _desk_incident(leaving)
    with committed():
        services.person_deactivate(actor=None, person=leaving)
    assert [m.to for m in mail.outbox] == [[leaving.desk.email]]
    assert incident.reference in mail.outbox[0].subject


def test_deactivating_a_team_member_returns_open_cases_to_the_inbox_and_tells_the_team():
    """The case loses its casemanager through the case workflow (an event, a new version);
    the other team members are notified once."""
    leaving = UserFactory(support=True)
    other = UserFactory(support=True)
    case = case_open(EscalationFactory())
    case = case_act(case, leaving, "acknowledge")
    assert case.handler == leaving

    services.person_deactivate(actor=None, person=leaving)

    case.refresh_from_db()
    assert case.handler is None and case.status == CaseStatus.ACKNOWLEDGED
    event = case.incident.events.filter(kind=EventKind.SUPPORT_CASE_CHANGED).latest("pk")
    assert event.actor is None and event.payload["released_from"] == str(leaving)
    assert Notification.objects.get(recipient=other, kind="case_released").reference == (
        case.incident.reference
    )
    assert PersonChange.objects.get(person=leaving).actor is None


def test_deactivating_twice_changes_nothing_more():
    person = UserFactory(registrar=True)
    assert services.person_deactivate(actor=None, person=person) is True
    assert services.person_deactivate(actor=None, person=person) is False
    assert PersonChange.objects.filter(person=person).count() == 1


def test_the_admin_action_deactivates_through_the_service(client):
    """The admin's "Deactiveren" action: inactive, incidents back to the desk, recorded."""
    admin = UserFactory(admin=True)
    leaving = UserFactory(registrar=True)
    incident = _desk_incident(leaving)
    verified_login(client, admin)
    response = client.post(
        reverse("admin:portal_user_changelist"),
        {"action": "deactivate", "_selected_action": [leaving.pk, admin.pk]},
    )
    assert response.status_code == 302
    leaving.refresh_from_db()
    admin.refresh_from_db()
    incident.refresh_from_db()
    assert not leaving.is_active and admin.is_active
    assert incident.assignee is None
    assert PersonChange.objects.get(person=leaving, field="is_active").actor == admin


def _change_form_data(client, person):
    url = reverse("admin:portal_user_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        {
            "username": person.username,
            "role": person.role,
            "preferred_language": "nl",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
        }
    )
    if person.desk_id:
        data["desk"] = person.desk_id
    data.pop("last_login", None)
    data.pop("is_active", None)
    return url, data


def test_unticking_active_in_the_admin_deactivates_through_the_service(client):
    """Saving the change form without "active" is the same deactivation as the action."""
    admin = UserFactory(admin=True)
    leaving = UserFactory(registrar=True)
    incident = _desk_incident(leaving)
    verified_login(client, admin)
    url, data = _change_form_data(client, leaving)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    leaving.refresh_from_db()
    incident.refresh_from_db()
    assert not leaving.is_active and leaving.security_stamp
    assert incident.assignee is None
    assert PersonChange.objects.get(person=leaving, field="is_active").actor == admin
