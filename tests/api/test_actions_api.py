"""The API's action endpoints: each workflow action by name, one version rule for all.

- Every non-internal incident action has `POST /api/v1/incidents/{reference}/actions/{name}/`,
  and every case action `POST /api/v1/support/cases/{reference}/actions/{name}/`, documented.
- A stale version answers 409 everywhere, the support-action endpoints included; an update that
  leaves a field out keeps it (the due date was cleared before).
- The old endpoints still work and call the same service.
"""

from datetime import date

import pytest
from django.urls import NoReverseMatch, reverse

from incidents.actions import ACTIONS
from incidents.constants import Status
from portal.services import api_token_create
from support.actions import CASE_ACTIONS
from support.constants import ServiceType
from tests.api.conftest import token_client
from tests.factories import IncidentFactory, UserFactory, case_act, case_open

pytestmark = pytest.mark.django_db


def _client(user):
    return token_client(api_token_create(user=user, name="actions")[1])


def test_every_action_has_an_api_endpoint_in_the_schema():
    """A new action without an endpoint (or without documentation) fails here."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    for name, action in ACTIONS.items():
        if action.internal:
            with pytest.raises(NoReverseMatch):
                reverse(f"api:incident-action-{name}", args=["MWB-2026-000001"])
            continue
        assert reverse(f"api:incident-action-{name}", args=["MWB-2026-000001"]).endswith(
            f"/actions/{name}/"
        )
        assert f"incidents_actions_{name}" in operations
    for name, action in CASE_ACTIONS.items():
        # Rows only the portal itself takes (a leaving handler's cases) have no endpoint.
        if name == "update_action" or action.system:
            continue
        assert reverse(f"api:support-case-action-{name}", args=["MWB-2026-000001"])
        assert f"support_cases_actions_{name}" in operations


def test_take_through_the_actions_endpoint_and_a_stale_version_answers_409():
    """Taking works once; the same request with the old version is refused with 409."""
    incident = IncidentFactory()
    registrar = UserFactory(registrar=True, desk=incident.desk)
    url = reverse("api:incident-action-take", args=[incident.reference])
    first = _client(registrar).post(url, {"version": 1}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == Status.IN_TRIAGE
    again = _client(registrar).post(url, {"version": 1}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "stale_version"


def test_an_action_the_policy_does_not_allow_answers_409_and_out_of_scope_404():
    """The officeholder cannot take; another desk does not even see the incident."""
    incident = IncidentFactory()
    url = reverse("api:incident-action-take", args=[incident.reference])
    refused = _client(incident.officeholder).post(url, {"version": 1}, format="json")
    assert refused.status_code == 409
    outsider = _client(UserFactory(registrar=True)).post(url, {"version": 1}, format="json")
    assert outsider.status_code == 404


def _planning_case():
    incident = IncidentFactory(escalated=True)
    support = UserFactory(support=True)
    case = case_open(incident.escalations.get())
    case = case_act(case, support, "acknowledge")
    return case, support


def test_adding_a_support_action_with_a_stale_case_version_answers_409():
    """The plan's add endpoint checks the case version like every other step."""
    case, support = _planning_case()
    url = reverse("api:support-case-actions", args=[case.incident.reference])
    body = {
        "version": case.version - 1,
        "service_type": ServiceType.ADVICE,
        "owner": support.pk,
    }
    stale = _client(support).post(url, body, format="json")
    assert stale.status_code == 409
    assert not case.actions.exists()
    body["version"] = case.version
    created = _client(support).post(url, body, format="json")
    assert created.status_code == 201, created.content


def test_updating_a_support_action_keeps_what_the_request_leaves_out_and_refuses_stale():
    """An update without `due_on` keeps the due date; an old version answers 409."""
    case, support = _planning_case()
    case = case_act(
        case,
        support,
        "add_action",
        service_type=ServiceType.LEGAL_HELP,
        owner=support,
        due_on=date(2026, 12, 24),
    )
    action = case.support_action
    url = reverse("api:support-case-update-action", args=[case.incident.reference, action.pk])
    stale = _client(support).post(url, {"version": 1, "status": "done"}, format="json")
    assert stale.status_code == 409
    case.refresh_from_db()
    kept = _client(support).post(url, {"version": case.version, "status": "done"}, format="json")
    assert kept.status_code == 200, kept.content
    action.refresh_from_db()
    assert action.status == "done"
    assert action.due_on == date(2026, 12, 24)


def test_the_deprecated_transitions_endpoint_runs_the_same_action():
    """`transitions/` with to_status closed is the close action (outcome required)."""
    incident = IncidentFactory(in_triage=True)
    registrar = UserFactory(registrar=True, desk=incident.desk)
    url = reverse("api:incident-transitions", args=[incident.reference])
    missing = _client(registrar).post(url, {"version": 1, "to_status": "closed"}, format="json")
    assert missing.status_code == 400
    closed = _client(registrar).post(
        url,
        {
            "version": 1,
            "to_status": "closed",
            "outcome": "Registratie",
            "outcome_category": "registered",
        },
        format="json",
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == Status.CLOSED
