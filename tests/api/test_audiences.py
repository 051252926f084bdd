"""What each audience gets from the API is what its own page shows.

An incident with every field filled (triage with an advice note and flags, an escalation with a
reason, an assignee) is read by its officeholder on the web page and through the API: neither
holds a rule name, the advice note, the assignee, a risk flag, the desk's severity or the
escalation reason, and every value the API gives the officeholder is on their page.
"""

import pytest
from django.urls import reverse

from incidents.api.serializers import IncidentDetailSerializer
from incidents.constants import (
    FACT_FIELDS,
    Advice,
    IdentifierKind,
    IncidentType,
    RiskFlag,
    TriageSeverity,
)
from portal.services import api_token_create
from support.constants import ServiceType
from tests.api.conftest import token_client
from tests.factories import IncidentFactory, UserFactory, act, case_act, case_open

pytestmark = pytest.mark.django_db

ADVICE_NOTE = "Vertrouwelijk-advies-7Q"
ESCALATION_REASON = "Reden-voor-het-team-3K"


@pytest.fixture
def filled(private_storage_in_tmp):
    """One incident with everything filled, escalated by a registrar and planned by support."""
    from incidents.services import perpetrator_matches_record

    incident = IncidentFactory(
        types=[IncidentType.THREAT],
        description="Hij stond voor de deur.",
        location="Markt",
        channel="in_person_public",
        reporter_severity="serious",
        perpetrator_known="known",
        perpetrator_kind="individual",
        perpetrator_relation="citizen",
        perpetrator_description="Man met pet",
        impacts=["mental_health"],
        affected_people=["children"],
        aangifte={"filed": True, "report_number": "2026-123"},
        support_wish="contact_with_desk",
    )
    incident.identifiers.create(kind=IdentifierKind.HANDLE, value="@boos", normalised="x" * 64)
    registrar = UserFactory(registrar=True, desk=incident.desk)
    # The handler: named on the desk's pages, never on the officeholder's.
    handler = UserFactory(registrar=True, desk=incident.desk, first_name="Behandelaar-Naam-9Z")
    act(incident, registrar, "assign", assignee=handler)
    act(
        incident,
        registrar,
        "triage",
        triage_severity=TriageSeverity.CRITICAL,
        types=incident.types,
        risk_flags=[RiskFlag.HOME_ADDRESS_KNOWN],
        advice_given=[Advice.AANGIFTE],
        advice_note=ADVICE_NOTE,
    )
    act(incident, registrar, "escalate", reason=ESCALATION_REASON)
    support = UserFactory(support=True)
    case = case_open(incident.escalations.get())
    case_act(case, support, "acknowledge")
    case_act(case, support, "add_action", service_type=ServiceType.LEGAL_HELP, owner=support)
    other = IncidentFactory()
    perpetrator_matches_record(incident=incident, others=[other], kinds={other.pk: ["handle"]})
    incident.refresh_from_db()
    return incident


# What must never reach the officeholder, by value.
INTERNAL_VALUES = (
    ADVICE_NOTE,
    ESCALATION_REASON,
    "Behandelaar-Naam-9Z",
    "home_address_known",
    "Huisadres is bekend bij dader",
    "critical",
    "Kritiek",
    "physical_violence",
    "shared_perpetrator",
    "Zelfde dader",
)
# And by name, in the API's answer.
INTERNAL_FIELDS = {
    "assignee",
    "triage_severity",
    "risk_flags",
    "advice_given",
    "advice_note",
    "triaged_at",
    "triage_due_at",
    "escalations",
    "rules",
    "duplicate_of",
}


def _officeholder_api(incident):
    key = api_token_create(user=incident.officeholder, name="parity")[1]
    return token_client(key).get(reverse("api:incident-detail", args=[incident.reference]))


def test_the_officeholders_page_and_api_hold_nothing_internal(client, filled):
    """Neither the page nor the API answer of the officeholder holds an internal field."""
    client.force_login(filled.officeholder)
    page = client.get(reverse("incidents:detail", args=[filled.reference])).content.decode()
    api = _officeholder_api(filled)
    assert api.status_code == 200
    body = api.content.decode()
    for value in INTERNAL_VALUES:
        assert value not in page, value
        assert value not in body, value
    assert not INTERNAL_FIELDS & set(api.json())


def test_every_value_the_api_gives_the_officeholder_is_on_their_page(client, filled):
    """Field for field: what the API answers, the page shows (shown as text or as its label)."""
    client.force_login(filled.officeholder)
    page = client.get(reverse("incidents:detail", args=[filled.reference])).content.decode()
    data = _officeholder_api(filled).json()
    assert set(data) == set(IncidentDetailSerializer.Meta.fields)
    labels = {
        "types": filled.type_labels(),
        "impacts": filled.impact_labels(),
        "affected_people": filled.affected_people_labels(),
        # The page says "Dader bekend" / "Dader onbekend" (an account does not make it known).
        "perpetrator_known": [filled.perpetrator_label()],
    }
    for field in FACT_FIELDS:
        value = data[field]
        if field in labels:
            shown = labels[field]
        elif isinstance(value, bool) or value in ("", None, []):
            continue
        elif field in ("occurred_on", "occurred_at"):
            continue  # shown in the viewer's date format
        elif hasattr(filled, f"get_{field}_display"):
            shown = [getattr(filled, f"get_{field}_display")()]
        else:
            shown = [value]
        for text in shown:
            assert str(text) in page, (field, text)
    assert data["reference"] in page
    assert all(identifier["value"] in page for identifier in data["identifiers"])


def test_staff_get_the_staff_shape(filled):
    """The desk reads the triage, the assignee and the escalation through the API."""
    key = api_token_create(user=filled.assignee, name="staff")[1]
    data = token_client(key).get(reverse("api:incident-detail", args=[filled.reference])).json()
    assert data["triage_severity"] == "critical"
    assert data["advice_note"] == ADVICE_NOTE
    assert data["escalations"][0]["reason"] == ESCALATION_REASON


def test_the_officeholders_list_holds_nothing_internal(filled):
    """The list shape of the officeholder has no triage or officeholder columns either."""
    key = api_token_create(user=filled.officeholder, name="list")[1]
    rows = token_client(key).get(reverse("api:incident-list")).json()["results"]
    assert rows and not INTERNAL_FIELDS & set(rows[0])
    assert "officeholder" not in rows[0]
