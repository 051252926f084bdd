"""The support workspace through the test client: inbox, case page, every step, stale forms,
and what the officeholder sees of it on their own page.

Access (404s, shared actions, the admin) is in test_access.py; the whole flow in a real
browser in tests/browser/test_support.py.
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services as incident_services
from incidents.constants import MessageAudience, Status
from incidents.models import Message, Note
from support.constants import ActionStatus, CaseStatus, RuleCode, ServiceType
from support.models import SupportAction, SupportCase
from tests.conftest import verified_login
from tests.factories import (
    EventFactory,
    IncidentFactory,
    MessageFactory,
    UserFactory,
    act,
    case_act,
    case_open,
)
from tests.support import escalated_case

pytestmark = pytest.mark.django_db


def _url(name, case, **kwargs):
    return reverse(f"support:{name}", kwargs={"reference": case.incident.reference, **kwargs})


def _fresh(case) -> SupportCase:
    return SupportCase.objects.select_related("incident", "handler").get(pk=case.pk)


def _acknowledged(case, member) -> SupportCase:
    return case_act(case, member, "acknowledge")


def _action_add(case, member, **inputs) -> SupportAction:
    return case_act(case, member, "add_action", **inputs).support_action


def _escalated_by_hand(incident, registrar, reason) -> SupportCase:
    """The registrar escalates with a reason; the case consumer opens the case."""
    act(incident, registrar, "escalate", reason=reason)
    return case_open(incident.escalations.get(closed_at__isnull=True))


def _text(response) -> str:
    """The page as text, with the non-breaking spaces of "3 uur" made plain."""
    return response.content.decode().replace("\xa0", " ")


def _hidden_version(html: str, prefix: str) -> int:
    match = re.search(rf'name="{prefix}-version" value="(\d+)"', html)
    assert match, f"no hidden version for {prefix}"
    return int(match.group(1))


def _age(case, *, hours: float, due_in_hours: float) -> SupportCase:
    """Pretend the case was escalated `hours` ago with its deadline `due_in_hours` from now."""
    now = timezone.now()
    SupportCase.objects.filter(pk=case.pk).update(
        created_at=now - timedelta(hours=hours),
        acknowledge_due_at=now + timedelta(hours=due_in_hours),
    )
    return _fresh(case)


# --- Inbox ------------------------------------------------------------------------------------


def test_inbox_shows_tabs_with_counts_and_the_new_cases(member_client, member):
    """The inbox opens on "Nieuw" with a count per status tab and one row per new case."""
    new = _age(escalated_case(), hours=3, due_in_hours=1)
    acknowledged = _acknowledged(escalated_case(), member)
    page = _text(member_client.get(reverse("support:inbox")))

    assert page.count("<h1") == 1
    for label, count in (("Nieuw", 1), ("Bevestigd", 1), ("In behandeling", 0), ("Afgesloten", 0)):
        assert re.search(rf"{label}\s*<span class=\"badge[^\"]*\">{count}<", page), label
    assert new.incident.reference in page
    assert acknowledged.incident.reference not in page
    assert new.incident.organisation.name in page
    assert "3 uur geleden" in page
    assert "Fysiek geweld of een wapen" in page
    assert "Automatische regel" in page
    assert "Nog niemand" in page
    assert "Te laat" not in page
    assert '<th scope="col">' in page
    assert f'<th scope="row"><a href="{_url("case", new)}">' in page


def test_inbox_marks_a_case_not_acknowledged_within_4_hours_as_late(member_client):
    """A new case past its acknowledgement deadline gets a "Te laat" badge and a sentence."""
    late = _age(escalated_case(), hours=5, due_in_hours=-1)
    page = _text(member_client.get(reverse("support:inbox")))
    assert late.incident.reference in page
    assert '<span class="badge text-bg-danger">Te laat</span>' in page
    assert "Had bevestigd moeten zijn vóór" in page
    assert "5 uur geleden" in page


def test_inbox_tab_shows_the_cases_of_that_status_with_handler(member_client, member):
    """The "Bevestigd" tab lists acknowledged cases with their handler and no deadline badge."""
    acknowledged = _acknowledged(escalated_case(), member)
    new = escalated_case()
    page = member_client.get(reverse("support:inbox") + "?status=acknowledged").content.decode()
    assert acknowledged.incident.reference in page
    assert new.incident.reference not in page
    assert "Fatima El Amrani" in page
    assert "bevestigd op" in page
    assert 'aria-current="page"' in page


def test_inbox_shows_who_escalated_by_hand_and_why(member_client):
    """A registrar's escalation shows the person, their desk and the reason they typed."""
    incident = IncidentFactory()
    registrar = UserFactory(
        registrar=True, desk=incident.desk, first_name="Sanne", last_name="Visser"
    )
    _escalated_by_hand(incident, registrar, "Dader staat al weken voor de deur.")
    page = member_client.get(reverse("support:inbox")).content.decode()
    assert f"Sanne Visser ({incident.desk.name})" in page
    assert "Dader staat al weken voor de deur." in page


def test_inbox_with_an_unknown_status_falls_back_to_new(member_client):
    """A made-up status in the address shows the new cases instead of an error."""
    case = escalated_case()
    response = member_client.get(reverse("support:inbox") + "?status=<script>")
    assert response.status_code == 200
    assert case.incident.reference in response.content.decode()


def _mixed_cases(count: int, member) -> None:
    """Cases as they come: by rule or by hand, some overdue, some with a handler."""
    for number in range(count):
        if number % 3 == 0:
            incident = IncidentFactory()
            registrar = UserFactory(registrar=True, desk=incident.desk)
            case = _escalated_by_hand(incident, registrar, f"Reden {number}")
        else:
            case = escalated_case(rules=[RuleCode.PHYSICAL_VIOLENCE, RuleCode.CRITICAL])
        if number % 2:
            case_act(case, member, "assign_handler", handler=member)
        _age(case, hours=number, due_in_hours=4 - number)


def _assert_same_count(small: CaptureQueriesContext, large: CaptureQueriesContext) -> None:
    if len(small) != len(large):
        listing = "\n".join(
            f"--- {label} ({len(run)} queries)\n"
            + "\n".join(q["sql"] for q in run.captured_queries)
            for label, run in (("small", small), ("large", large))
        )
        pytest.fail(f"The query count grows with the data:\n{listing}")


def test_inbox_uses_the_same_queries_for_2_and_20_cases(member_client, member):
    """The inbox costs the same number of queries with 2 and with 20 cases in the tab."""
    runs = []
    for total in (2, 20):
        _mixed_cases(total - SupportCase.objects.count(), member)
        with CaptureQueriesContext(connection) as captured:
            response = member_client.get(reverse("support:inbox"))
        assert response.status_code == 200
        assert response.content.decode().count('<th scope="row">') == total
        runs.append(captured)
    _assert_same_count(*runs)


# --- The case page ----------------------------------------------------------------------------


def test_case_page_shows_facts_escalation_history_and_both_threads(member_client, member):
    """Facts, the escalation (which rule, when), the full history with internal entries marked,
    and two separate threads: with the officeholder and with the desk."""
    case = escalated_case(summary="Geduwd en geslagen bij de markt.")
    incident = case.incident
    MessageFactory(incident=incident, body="Ik ben nog steeds bang.")
    MessageFactory(incident=incident, staff=True, body="Wij kennen deze dader al.")
    note = Note.objects.create(
        incident=incident,
        author=member,
        body="Intern: bel eerst de wijkagent.",
        created_at=timezone.now(),
    )
    EventFactory(incident=incident, kind="note", actor=member, payload={"note_id": note.pk})

    page = member_client.get(_url("case", case)).content.decode()

    assert page.count("<h1") == 1
    assert "Geduwd en geslagen bij de markt." in page
    assert "Fysiek geweld of een wapen" in page
    assert "Gesprek met de ambtsdrager" in page
    assert "Overleg met het meldpunt" in page
    officeholder_part, staff_part = (
        page.split('id="overleg-meldpunt"')[0],
        page.split('id="overleg-meldpunt"')[1].split('id="facts-heading"')[0],
    )
    assert "Ik ben nog steeds bang." in officeholder_part.split('id="gesprek-ambtsdrager"')[1]
    assert "Wij kennen deze dader al." in staff_part
    assert "Wij kennen deze dader al." not in officeholder_part.split('id="gesprek-ambtsdrager"')[1]
    assert "Intern: bel eerst de wijkagent." in page
    assert '<span class="badge text-bg-warning">intern</span>' in page
    assert "Doorgegeven aan het Ondersteuningsteam" in page
    assert 'name="acknowledge-version" value="1"' in page


def test_case_page_uses_the_same_queries_for_small_and_large_cases(member_client, member):
    """The case page costs the same with 2 and with 20 actions, messages and events."""
    runs = []
    for size in (2, 20):
        case = _acknowledged(escalated_case(), member)
        for number in range(size):
            _action_add(
                case,
                member,
                service_type=ServiceType.ADVICE,
                owner=UserFactory(support=True),
                description=f"Actie {number}",
            )
            incident_services.message_send(
                incident=case.incident,
                actor=member,
                audience=MessageAudience.OFFICEHOLDER_THREAD,
                body=f"Bericht {number}",
            )
            MessageFactory(incident=case.incident, staff=True, body=f"Overleg {number}")
        with CaptureQueriesContext(connection) as captured:
            response = member_client.get(_url("case", case))
        assert response.status_code == 200
        page = response.content.decode()
        assert f"Actie {size - 1}" in page and f"Bericht {size - 1}" in page
        runs.append(captured)
    _assert_same_count(*runs)


# --- Steps ------------------------------------------------------------------------------------


def test_acknowledging_makes_the_member_handler(member_client, member):
    """Acknowledging moves the case to "Bevestigd" and makes the member its handler."""
    case = escalated_case()
    response = member_client.post(
        _url("acknowledge", case), {"acknowledge-version": case.version}, follow=True
    )
    assert "U heeft het dossier bevestigd. Casemanager: Fatima El Amrani." in (
        response.content.decode()
    )
    case = _fresh(case)
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert case.handler == member
    assert case.acknowledged_at is not None


def test_stale_close_keeps_the_typed_outcome_and_refreshes_the_version(client, member):
    """A member closing on an old page gets the clear stale message, the outcome they typed
    stays in the form, and sending again (with the refreshed version) works."""
    case = escalated_case()
    shown_version = case.version
    colleague = UserFactory(support=True)
    _acknowledged(case, colleague)  # meanwhile, on another screen
    verified_login(client, member)
    outcome = "Advocaat geregeld; aangifte gedaan met domicilie."
    response = client.post(
        _url("close", case),
        {
            "close-version": shown_version,
            "close-outcome": outcome,
            "close-outcome_category": "support_given",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "intussen door iemand anders gewijzigd" in page
    assert outcome in page
    new_version = _hidden_version(page, "close")
    assert new_version == _fresh(case).version
    assert _fresh(case).status == CaseStatus.ACKNOWLEDGED

    client.post(
        _url("close", case),
        {
            "close-version": new_version,
            "close-outcome": outcome,
            "close-outcome_category": "support_given",
        },
    )
    case = _fresh(case)
    assert case.status == CaseStatus.CLOSED
    assert case.incident.status == Status.CLOSED


def test_a_message_from_an_older_page_is_still_sent(member_client, member):
    """A message changes nothing of the case, so it carries no version: sent from a page older
    than the case (a colleague acknowledged it meanwhile), it is posted all the same."""
    case = escalated_case()
    page = member_client.get(_url("case", case)).content.decode()
    assert 'name="officeholder_message-version"' not in page
    _acknowledged(case, UserFactory(support=True))
    response = member_client.post(
        _url("message_officeholder", case),
        {"officeholder_message-version": 1, "officeholder_message-body": "Wij bellen u morgen."},
        follow=True,
    )
    assert "Uw bericht aan de ambtsdrager is verstuurd." in response.content.decode()
    [message] = [m for m in Message.objects.all() if m.body == "Wij bellen u morgen."]
    assert message.audience == MessageAudience.OFFICEHOLDER_THREAD
    assert message.author == member


def test_assigning_a_member_makes_them_handler(member_client, member):
    """A member chooses a colleague of the team as case handler."""
    case = escalated_case()
    colleague = UserFactory(support=True, first_name="Joost", last_name="Bakker")
    response = member_client.post(
        _url("assign", case),
        {"assign-version": case.version, "assign-handler": colleague.pk},
        follow=True,
    )
    assert "Joost Bakker is nu casemanager van dit dossier." in response.content.decode()
    assert _fresh(case).handler == colleague


@pytest.mark.parametrize("who", ["registrar", "officeholder", "inactive_member"])
def test_assigning_someone_outside_the_team_is_refused_clearly(member_client, who):
    """A tampered handler id (a registrar, an officeholder, a former member) is refused with a
    clear message, and the case keeps no handler."""
    case = escalated_case()
    person = {
        "registrar": lambda: UserFactory(registrar=True),
        "officeholder": lambda: UserFactory(),
        "inactive_member": lambda: UserFactory(support=True, is_active=False),
    }[who]()
    response = member_client.post(
        _url("assign", case), {"assign-version": case.version, "assign-handler": person.pk}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Kies een lid van het Ondersteuningsteam." in page
    assert _fresh(case).handler is None


def test_adding_a_legal_help_action_starts_the_case(member_client, member):
    """A planned action with owner, due date and desk sharing; the case goes in progress."""
    case = _acknowledged(escalated_case(), member)
    due = timezone.localdate() + timedelta(days=7)
    response = member_client.post(
        _url("action_add", case),
        {
            "action-version": case.version,
            "action-service_type": ServiceType.LEGAL_HELP,
            "action-description": "Advocaat benaderen voor een straatverbod.",
            "action-owner": member.pk,
            "action-due_on": due.isoformat(),
            "action-shared_with_desk": "on",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "De actie staat in het ondersteuningsplan." in page
    action = SupportAction.objects.get(case=case)
    assert (action.service_type, action.owner, action.due_on, action.shared_with_desk) == (
        ServiceType.LEGAL_HELP,
        member,
        due,
        True,
    )
    assert _fresh(case).status == CaseStatus.IN_PROGRESS
    assert "Juridische hulp" in page
    assert "Advocaat benaderen voor een straatverbod." in page


def test_adding_an_action_before_acknowledging_is_refused_clearly(member_client, member):
    """On a new case the plan waits for acknowledgement; the typed description is kept."""
    case = escalated_case()
    response = member_client.post(
        _url("action_add", case),
        {
            "action-version": case.version,
            "action-service_type": ServiceType.ADVICE,
            "action-description": "Eerste gesprek plannen.",
            "action-owner": member.pk,
        },
    )
    page = response.content.decode()
    assert "Bevestig eerst het dossier" in page
    assert "Eerste gesprek plannen." in page
    assert not SupportAction.objects.exists()


def test_action_owner_must_be_a_member(member_client, member):
    """An action owned by a registrar (a tampered id) is refused with a clear message."""
    case = _acknowledged(escalated_case(), member)
    response = member_client.post(
        _url("action_add", case),
        {
            "action-version": case.version,
            "action-service_type": ServiceType.ADVICE,
            "action-owner": UserFactory(registrar=True).pk,
        },
    )
    assert "Kies een lid van het Ondersteuningsteam." in response.content.decode()
    assert not SupportAction.objects.exists()


def test_updating_an_action_changes_status_sharing_and_due_date(member_client, member):
    """An action's status, due date and desk sharing are changed from its own small form."""
    case = _acknowledged(escalated_case(), member)
    action = _action_add(case, member, service_type=ServiceType.PEER_SUPPORT, owner=member)
    version = _fresh(case).version
    due = timezone.localdate() + timedelta(days=3)
    prefix = f"action-{action.pk}"
    response = member_client.post(
        _url("action_update", case, pk=action.pk),
        {
            f"{prefix}-version": version,
            f"{prefix}-status": ActionStatus.DONE,
            f"{prefix}-due_on": due.isoformat(),
            f"{prefix}-shared_with_desk": "on",
        },
        follow=True,
    )
    assert "De actie is bijgewerkt." in response.content.decode()
    action.refresh_from_db()
    assert (action.status, action.due_on, action.shared_with_desk) == (
        ActionStatus.DONE,
        due,
        True,
    )


def test_messages_go_to_the_officeholder_thread_and_the_staff_channel(member_client, member):
    """The two message forms write to two separate channels."""
    case = escalated_case()
    member_client.post(
        _url("message_officeholder", case),
        {"officeholder_message-version": 1, "officeholder_message-body": "Wij bellen u vandaag."},
    )
    member_client.post(
        _url("message_desk", case),
        {"staff_message-version": 1, "staff_message-body": "Wij nemen het over."},
    )
    # Bodies are encrypted, so they are matched after reading, not in SQL.
    by_body = {message.body: message for message in Message.objects.all()}
    to_officeholder = by_body["Wij bellen u vandaag."]
    to_desk = by_body["Wij nemen het over."]
    assert to_officeholder.audience == MessageAudience.OFFICEHOLDER_THREAD
    assert to_desk.audience == MessageAudience.STAFF
    assert to_officeholder.author == member == to_desk.author


def test_an_empty_message_is_refused_with_a_clear_message(member_client):
    """Sending nothing gives a translated error, not a 500."""
    case = escalated_case()
    response = member_client.post(
        _url("message_desk", case), {"staff_message-version": 1, "staff_message-body": "  "}
    )
    assert response.status_code == 200
    assert "Schrijf een bericht." in response.content.decode()
    assert not Message.objects.exists()


def test_an_internal_note_is_stored(member_client, member):
    """The internal note is saved for staff only."""
    case = escalated_case()
    member_client.post(_url("note", case), {"note-version": 1, "note-body": "Let op de buurman."})
    note = Note.objects.get()
    assert (note.body, note.author) == ("Let op de buurman.", member)


def test_returning_to_the_desk_needs_a_reason_and_reopens_triage(member_client, member):
    """Without a reason nothing happens; with one the incident is back in triage."""
    case = _acknowledged(escalated_case(), member)
    response = member_client.post(
        _url("return", case), {"return-version": case.version, "return-reason": ""}
    )
    assert "Vul een reden in." in response.content.decode()
    assert _fresh(case).status == CaseStatus.ACKNOWLEDGED

    member_client.post(
        _url("return", case),
        {"return-version": case.version, "return-reason": "Geen ondersteuning nodig."},
    )
    case = _fresh(case)
    assert case.status == CaseStatus.RETURNED
    assert case.incident.status == Status.IN_TRIAGE
    page = member_client.get(_url("case", case)).content.decode()
    assert "Er zijn geen stappen meer mogelijk." in page


def test_a_new_case_cannot_be_closed_yet(member_client):
    """The case table has no step from new to closed: the close form is not offered, and a
    forged post gets a clear message."""
    case = escalated_case()
    page = member_client.get(_url("case", case)).content.decode()
    assert "Dossier afsluiten" not in page
    response = member_client.post(
        _url("close", case),
        {
            "close-version": case.version,
            "close-outcome": "Klaar.",
            "close-outcome_category": "support_given",
        },
    )
    assert "Deze stap is niet mogelijk" in response.content.decode()
    assert _fresh(case).status == CaseStatus.NEW


# --- What the officeholder sees (issue 5, item 6) -------------------------------------------------


def _officeholder_page(client, case) -> str:
    verified_login(client, case.incident.officeholder)
    return client.get(case.incident.get_absolute_url()).content.decode()


def test_officeholder_reads_that_the_team_will_call_within_4_hours(client):
    """Before anybody picks the case up, the officeholder reads when the team will call."""
    page = _officeholder_page(client, escalated_case())
    assert "Uw melding is doorgegeven aan het Ondersteuningsteam Weerbaar Bestuur." in page
    assert "Het team neemt binnen 4 uur contact met u op." in page


def test_officeholder_reads_who_their_contact_person_is(client, member):
    """After acknowledgement, the officeholder reads the name of their contact person."""
    case = _acknowledged(escalated_case(), member)
    page = _officeholder_page(client, case)
    assert "Uw contactpersoon is Fatima El Amrani." in page
    assert "binnen 4 uur" not in page


def test_officeholder_reads_the_outcome_after_closing_and_no_internal_work(client, member):
    """After closing: the outcome and the contact; never the team's actions or staff talk."""
    case = _acknowledged(escalated_case(), member)
    _action_add(
        case,
        member,
        service_type=ServiceType.AFTERCARE_FAMILY,
        owner=member,
        description="Intern plan voor de kinderen.",
    )
    incident_services.message_send(
        incident=case.incident,
        actor=member,
        audience=MessageAudience.STAFF,
        body="Overleg alleen voor het meldpunt.",
    )
    case_act(
        case,
        member,
        "close_case",
        outcome="Nazorg afgerond.",
        outcome_category="support_given",
        open_actions_confirmed=True,
    )
    page = _officeholder_page(client, case)
    assert "Het Ondersteuningsteam Weerbaar Bestuur heeft uw melding afgerond." in page
    assert "Uw contactpersoon was Fatima El Amrani." in page
    assert "Nazorg afgerond." in page
    assert "Afgesloten" in page
    assert "Intern plan voor de kinderen." not in page
    assert "Overleg alleen voor het meldpunt." not in page


def test_officeholder_without_escalation_sees_no_support_notice(client):
    """An incident that was never escalated says nothing about the team."""
    incident = IncidentFactory()
    verified_login(client, incident.officeholder)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Uw melding is doorgegeven aan het Ondersteuningsteam" not in page
