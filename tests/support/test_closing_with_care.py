"""Closing a case with care, and the desk hearing of each step of the team (issue 19, parts 4
and 6): what the e-mails say, and that they never hold content."""

import pytest
from django.urls import reverse

from incidents.constants import OUTCOME_EXPLANATIONS, OutcomeCategory, Status
from portal.models import Notification
from support.constants import ActionStatus, CaseStatus, ServiceType
from support.errors import CaseInputRequired, CaseOpenActions
from tests.conftest import verified_login
from tests.factories import DeskFactory, OrganisationFactory, UserFactory, case_act
from tests.support import escalated_case

pytestmark = pytest.mark.django_db

OUTCOME = "Advocaat geregeld. Geheime afspraak met de wethouder."


@pytest.fixture
def people():
    desk = DeskFactory(name="Meldpunt Utrecht")
    registrar = UserFactory(registrar=True, desk=desk, email="meldpunt@example.org")
    officeholder = UserFactory(organisation=OrganisationFactory(desk=desk))
    member = UserFactory(support=True)
    return registrar, officeholder, member


def _subjects(mailoutbox, person) -> list[str]:
    return [mail.subject for mail in mailoutbox if mail.to == [person.email]]


def _plan(case, member, *statuses):
    for status in statuses:
        action = case_act(
            case, member, "add_action", service_type=ServiceType.LEGAL_HELP, owner=member
        ).support_action
        if status != ActionStatus.PLANNED:
            case_act(case, member, "update_action", support_action=action, status=status)


def test_the_desk_and_officeholder_hear_of_each_step_of_the_team(people, committed, mailoutbox):
    registrar, officeholder, member = people
    with committed():
        case = escalated_case(officeholder=officeholder)
    reference = case.incident.reference
    expected = f"Melding {reference} is doorgegeven aan het Ondersteuningsteam Weerbaar Bestuur"
    assert _subjects(mailoutbox, registrar) == [expected]
    assert _subjects(mailoutbox, officeholder) == [expected]

    with committed():
        case_act(case, member, "acknowledge")
    expected = f"Het Ondersteuningsteam heeft melding {reference} opgepakt"
    assert _subjects(mailoutbox, registrar)[-1] == expected
    assert _subjects(mailoutbox, officeholder)[-1] == expected

    with committed():
        case_act(
            case,
            member,
            "close_case",
            outcome=OUTCOME,
            outcome_category=OutcomeCategory.SUPPORT_GIVEN,
        )
    expected = f"Het Ondersteuningsteam heeft het dossier van {reference} afgesloten"
    assert _subjects(mailoutbox, registrar)[-1] == expected
    assert _subjects(mailoutbox, officeholder)[-1] == expected
    for mail in mailoutbox:
        assert "Advocaat" not in mail.body and "Advocaat" not in mail.subject
    desk_links = Notification.objects.filter(recipient=registrar).values_list("link", flat=True)
    assert set(desk_links) == {reverse("desk:detail", kwargs={"reference": reference})}


def test_the_desk_hears_when_the_team_returns_the_incident(people, committed, mailoutbox):
    registrar, officeholder, member = people
    case = escalated_case(officeholder=officeholder)
    with committed():
        case_act(case, member, "return_to_desk", reason="Past beter bij het meldpunt.")
    reference = case.incident.reference
    assert _subjects(mailoutbox, registrar) == [
        f"Melding {reference} is teruggegeven aan het meldpunt"
    ]


def test_status_e_mails_say_what_happened(people, committed, mailoutbox):
    from incidents.services import incident_act
    from tests.factories import IncidentFactory

    registrar, officeholder, _member = people
    incident = IncidentFactory(officeholder=officeholder)
    with committed():
        incident_act(incident=incident, actor=registrar, action="take", version=incident.version)
    incident.refresh_from_db()
    with committed():
        incident_act(
            incident=incident,
            actor=registrar,
            action="close",
            version=incident.version,
            outcome="Klaar.",
            outcome_category=OutcomeCategory.ADVICE_GIVEN,
        )
    assert _subjects(mailoutbox, officeholder) == [
        f"Het meldpunt is bezig met melding {incident.reference}",
        f"Melding {incident.reference} is afgesloten",
    ]


def test_closing_with_open_actions_needs_a_confirmation_and_cancels_them(people):
    _registrar, officeholder, member = people
    case = escalated_case(officeholder=officeholder)
    case_act(case, member, "acknowledge")
    _plan(case, member, ActionStatus.PLANNED, ActionStatus.IN_PROGRESS, ActionStatus.DONE)
    close = {"outcome": OUTCOME, "outcome_category": OutcomeCategory.SUPPORT_GIVEN}

    with pytest.raises(CaseOpenActions):
        case_act(case, member, "close_case", **close)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS

    case_act(case, member, "close_case", open_actions_confirmed=True, **close)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    statuses = sorted(case.actions.values_list("status", flat=True))
    assert statuses == sorted([ActionStatus.CANCELLED, ActionStatus.CANCELLED, ActionStatus.DONE])
    assert case.incident.status == Status.CLOSED
    assert case.incident.outcome_category == OutcomeCategory.SUPPORT_GIVEN


def test_closing_needs_a_category_of_the_team(people):
    _registrar, officeholder, member = people
    case = escalated_case(officeholder=officeholder)
    case_act(case, member, "acknowledge")
    for category in ("", OutcomeCategory.DUPLICATE):
        with pytest.raises(CaseInputRequired):
            case_act(case, member, "close_case", outcome=OUTCOME, outcome_category=category)


def test_the_case_page_lists_open_actions_and_keeps_what_was_typed(people, client):
    _registrar, officeholder, member = people
    case = escalated_case(officeholder=officeholder)
    case_act(case, member, "acknowledge")
    _plan(case, member, ActionStatus.PLANNED)
    verified_login(client, member)
    url = reverse("support:case", kwargs={"reference": case.incident.reference})
    page = client.get(url).content.decode()
    assert "Er staat nog 1 actie open" in page
    assert "Toch afsluiten" in page
    assert str(OUTCOME_EXPLANATIONS[OutcomeCategory.SUPPORT_GIVEN]) in page

    case.refresh_from_db()
    close_url = reverse("support:close", kwargs={"reference": case.incident.reference})
    data = {
        "close-version": case.version,
        "close-outcome": OUTCOME,
        "close-outcome_category": OutcomeCategory.SUPPORT_GIVEN,
    }
    refused = client.post(close_url, data)
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "Er staan nog acties open in het plan" in text
    assert OUTCOME in text
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS

    closed = client.post(close_url, {**data, "close-open_actions_confirmed": "on"})
    assert closed.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_the_officeholder_reads_what_the_category_says(people, client):
    _registrar, officeholder, member = people
    case = escalated_case(officeholder=officeholder)
    case_act(case, member, "acknowledge")
    case_act(
        case,
        member,
        "close_case",
        outcome="Afgerond.",
        outcome_category=OutcomeCategory.SUPPORT_NOT_NEEDED,
    )
    client.force_login(officeholder)
    page = client.get(reverse("incidents:detail", kwargs={"reference": case.incident.reference}))
    assert str(OUTCOME_EXPLANATIONS[OutcomeCategory.SUPPORT_NOT_NEEDED]) in page.content.decode()


def test_the_case_page_shows_the_desks_triage_and_linked_incidents(people, client):
    from incidents.constants import Advice, RiskFlag, TriageSeverity
    from incidents.models import IncidentLink

    registrar, officeholder, member = people
    case = escalated_case(officeholder=officeholder)
    incident = case.incident
    incident.triage_severity = TriageSeverity.HIGH
    incident.risk_flags = [RiskFlag.values[0]]
    incident.advice_given = [Advice.values[0]]
    incident.advice_note = "Camera bij de voordeur besproken."
    incident.triaged_at = incident.submitted_at
    incident.save()
    other = escalated_case(officeholder=officeholder).incident
    IncidentLink.objects.create(
        from_incident=incident,
        to_incident=other,
        kind="series",
        created_by=registrar,
        created_at=incident.submitted_at,
    )
    verified_login(client, member)

    page = client.get(reverse("support:case", kwargs={"reference": incident.reference}))
    text = page.content.decode()

    assert "Beoordeling door het meldpunt" in text
    assert str(TriageSeverity.HIGH.label) in text
    assert str(RiskFlag(RiskFlag.values[0]).label) in text
    assert "Camera bij de voordeur besproken." in text
    assert f'href="/ondersteuning/dossiers/{other.reference}/"' in text
