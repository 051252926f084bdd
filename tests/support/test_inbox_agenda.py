"""The team's workspace lists: the inbox's search, filters, urgency and saved views, and the
agenda of planned actions. Access to the new URLs is also in tests/security."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.constants import SavedViewWorkspace, TriageSeverity
from incidents.models import SavedQueueView
from incidents.selectors import saved_views_for
from incidents.services import saved_view_save
from portal.constants import OrganisationType
from support import selectors
from support.constants import ActionStatus, CaseStatus, ServiceType
from support.models import SupportAction, SupportCase
from tests.conftest import verified_login
from tests.factories import IncidentFactory, OrganisationFactory, UserFactory, case_act
from tests.support import escalated_case

pytestmark = pytest.mark.django_db

INBOX = reverse("support:inbox")
AGENDA = reverse("support:agenda")


def _officeholder(first_name, last_name, **fields):
    return UserFactory(first_name=first_name, last_name=last_name, **fields)


def _case(**incident_fields) -> SupportCase:
    return escalated_case(**incident_fields)


def _late(case) -> SupportCase:
    SupportCase.objects.filter(pk=case.pk).update(
        acknowledge_due_at=timezone.now() - timedelta(hours=1)
    )
    return case


def _references(response) -> list[str]:
    """The references of the inbox rows, in their order."""
    return [row.reference for row in response.context["inbox"].rows]


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Search -------------------------------------------------------------------------------------


def test_search_finds_a_case_by_reference_and_by_number_alone(member_client):
    wanted, other = _case(), _case()
    assert _references(member_client.get(INBOX, {"q": wanted.incident.reference})) == [
        wanted.incident.reference
    ]
    number = str(int(wanted.incident.reference.rsplit("-", 1)[1]))
    found = _references(member_client.get(INBOX, {"q": number}))
    assert wanted.incident.reference in found
    assert other.incident.reference not in found


def test_search_finds_a_case_by_the_officeholders_name(member_client):
    """Every word must match the first or last name, as in the desk's queue."""
    anna = _case(officeholder=_officeholder("Anna", "de Vries"))
    _case(officeholder=_officeholder("Bram", "de Jong"))
    assert _references(member_client.get(INBOX, {"q": "anna vries"})) == [anna.incident.reference]
    page = member_client.get(INBOX, {"q": "anna vries"}).content.decode()
    assert "Anna de Vries" in page


def test_search_never_shows_an_incident_that_was_not_escalated(member_client):
    """An incident of a matching name that the team may not see never appears."""
    escalated = _case(officeholder=_officeholder("Anna", "de Vries"))
    hidden = IncidentFactory(officeholder=_officeholder("Anna", "de Vries"))
    for status in CaseStatus:
        response = member_client.get(INBOX, {"q": "Vries", "status": status.value})
        assert hidden.reference not in response.content.decode()
    assert _references(member_client.get(INBOX, {"q": "Vries"})) == [escalated.incident.reference]
    # Searched by its own reference it stays out too (the address itself echoes the search
    # only in the language switch, so the rows are what counts).
    response = member_client.get(INBOX, {"q": hidden.reference})
    assert _references(response) == []
    assert f">{hidden.reference}<" not in response.content.decode()


# --- Filters ------------------------------------------------------------------------------------


def test_handler_filter_me_nobody_and_one_member(member_client, member):
    colleague = UserFactory(support=True, first_name="Kees", last_name="Bakker")
    mine = case_act(_case(), member, "acknowledge")
    theirs = case_act(_case(), colleague, "acknowledge")
    nobody = _case()

    def listed(handler):
        response = member_client.get(INBOX, {"handler": handler, "status": "acknowledged"})
        new = member_client.get(INBOX, {"handler": handler, "status": "new"})
        return set(_references(response)) | set(_references(new))

    assert listed("me") == {mine.incident.reference}
    assert listed(str(colleague.pk)) == {theirs.incident.reference}
    assert listed("nobody") == {nobody.incident.reference}
    assert listed("") == {c.incident.reference for c in (mine, theirs, nobody)}


def test_organisation_type_filter(member_client):
    province = _case(
        officeholder=UserFactory(organisation=OrganisationFactory(type=OrganisationType.PROVINCIE))
    )
    municipality = _case()
    assert _references(member_client.get(INBOX, {"organisation_type": "provincie"})) == [
        province.incident.reference
    ]
    assert _references(member_client.get(INBOX, {"organisation_type": "gemeente"})) == [
        municipality.incident.reference
    ]


def test_overdue_filter_shows_only_cases_late_to_acknowledge(member_client):
    late, in_time = _late(_case()), _case()
    response = member_client.get(INBOX, {"overdue": "on"})
    assert _references(response) == [late.incident.reference]
    assert in_time.incident.reference not in response.content.decode()


def test_filters_change_the_counts_of_the_tabs_and_the_tabs_keep_the_filters(member_client):
    late = _late(_case())
    _case()
    response = member_client.get(INBOX, {"overdue": "on"})
    tabs = {code: count for code, _label, count in response.context["inbox"].tabs}
    assert tabs["new"] == 1
    page = response.content.decode()
    assert "?overdue=on&amp;status=acknowledged" in page
    assert late.incident.reference in page


def test_an_invalid_filter_is_ignored_with_a_message(member_client):
    case = _case()
    response = member_client.get(INBOX, {"handler": "iemand", "organisation_type": "<b>"})
    assert response.status_code == 200
    assert _references(response) == [case.incident.reference]
    assert "Sommige filters kloppen niet." in response.content.decode()


def test_urgent_cases_first_late_then_severity_then_deadline(member_client):
    """Late to acknowledge first; then the incident's urgency (critical); then the deadline."""
    calm_soon = _case()
    critical = _case(triage_severity=TriageSeverity.CRITICAL, reporter_severity="")
    late = _late(_case())
    SupportCase.objects.filter(pk=calm_soon.pk).update(
        acknowledge_due_at=timezone.now() + timedelta(minutes=30)
    )
    assert _references(member_client.get(INBOX)) == [
        late.incident.reference,
        critical.incident.reference,
        calm_soon.incident.reference,
    ]


# --- Saved views --------------------------------------------------------------------------------


def test_save_apply_and_delete_an_inbox_view(member_client, member):
    late = _late(_case())
    _case()
    response = member_client.post(
        reverse("support:saved_view_save"),
        {"saved_view-name": "Te laat", "saved_view-query": "overdue=on&handler=bogus"},
    )
    view = SavedQueueView.objects.get(owner=member)
    assert view.workspace == SavedViewWorkspace.SUPPORT
    assert view.query == "overdue=on"
    assert response.status_code == 302 and response["Location"] == f"{INBOX}?overdue=on"

    page = member_client.get(f"{INBOX}?{view.query}")
    assert _references(page) == [late.incident.reference]
    html = page.content.decode()
    assert "Uw eigen overzichten" in html
    assert f'href="{INBOX}?overdue=on" aria-current="page">Te laat</a>' in html

    response = member_client.post(reverse("support:saved_view_delete", args=[view.pk]), follow=True)
    assert not SavedQueueView.objects.filter(pk=view.pk).exists()
    assert "Het overzicht 'Te laat' is verwijderd." in _messages(response)


def test_a_view_without_a_name_keeps_the_inbox_and_says_why(member_client):
    response = member_client.post(
        reverse("support:saved_view_save"), {"saved_view-name": "", "saved_view-query": "q=x"}
    )
    assert response.status_code == 400
    assert "Geef het overzicht een naam." in response.content.decode()
    assert not SavedQueueView.objects.exists()


def test_a_member_sees_and_deletes_only_their_own_views(client, member):
    colleague = UserFactory(support=True)
    theirs = saved_view_save(
        owner=colleague, name="Van Kees", query="overdue=on", workspace=SavedViewWorkspace.SUPPORT
    )
    verified_login(client, member)
    assert "Van Kees" not in client.get(INBOX).content.decode()
    assert client.post(reverse("support:saved_view_delete", args=[theirs.pk])).status_code == 404
    assert SavedQueueView.objects.filter(pk=theirs.pk).exists()


def test_desk_and_inbox_views_stay_apart(member):
    """A view of the desk's queue is not listed in the inbox, and the other way round; the same
    name may exist in both."""
    saved_view_save(owner=member, name="Mijn", query="", workspace=SavedViewWorkspace.SUPPORT)
    saved_view_save(owner=member, name="Mijn", query="assigned=me")
    desk = SavedQueueView.objects.get(workspace=SavedViewWorkspace.DESK)
    support = saved_views_for(user=member, workspace=SavedViewWorkspace.SUPPORT)
    assert [view.query for view in support] == [""]
    assert SavedQueueView.objects.count() == 2
    assert desk.query == "assigned=me"


@pytest.mark.parametrize("who", ["officeholder", "registrar", "admin"])
def test_other_roles_get_404_on_the_inbox_agenda_and_views(client, who):
    person = UserFactory(**({who: True} if who != "officeholder" else {}))
    verified_login(client, person)
    view = SavedQueueView.objects.create(owner=person, name="x", workspace="support")
    assert client.get(INBOX, {"q": "x"}).status_code == 404
    assert client.get(AGENDA).status_code == 404
    save = {"saved_view-name": "Mijn", "saved_view-query": ""}
    assert client.post(reverse("support:saved_view_save"), save).status_code == 404
    assert client.post(reverse("support:saved_view_delete", args=[view.pk])).status_code == 404


# --- Agenda -------------------------------------------------------------------------------------

# A fixed "today", a Wednesday: its week runs to Sunday 15 November.
TODAY = date(2026, 11, 11)


def _action(case, owner, due_on, status=ActionStatus.PLANNED, **fields) -> SupportAction:
    now = timezone.now()
    return SupportAction.objects.create(
        case=case,
        owner=owner,
        due_on=due_on,
        status=status,
        service_type=fields.pop("service_type", ServiceType.LEGAL_HELP),
        created_at=now,
        updated_at=now,
        **fields,
    )


def _grouped(agenda) -> dict[str, list[int]]:
    return {
        section.group.value: [row.action.pk for row in section.rows] for section in agenda.sections
    }


def test_agenda_groups_by_due_date_and_leaves_out_done_and_cancelled(member):
    case = _case()
    late = _action(case, member, TODAY - timedelta(days=1))
    today = _action(case, member, TODAY)
    thursday = _action(case, member, date(2026, 11, 12))
    sunday = _action(case, member, date(2026, 11, 15))
    monday = _action(case, member, date(2026, 11, 16))
    undated = _action(case, member, None, status=ActionStatus.IN_PROGRESS)
    _action(case, member, TODAY, status=ActionStatus.DONE)
    _action(case, member, TODAY, status=ActionStatus.CANCELLED)

    agenda = selectors.agenda_for(user=member, today=TODAY)
    assert _grouped(agenda) == {
        "late": [late.pk],
        "today": [today.pk],
        "this_week": [thursday.pk, sunday.pk],
        "later": [monday.pk],
        "no_date": [undated.pk],
    }
    assert agenda.total == 6


def test_agenda_per_handler_mine_and_whole_team(member):
    colleague = UserFactory(support=True)
    case = _case()
    mine = _action(case, member, TODAY)
    theirs = _action(case, colleague, TODAY)
    assert _grouped(selectors.agenda_for(user=member, owner="me", today=TODAY)) == {
        "today": [mine.pk]
    }
    assert _grouped(selectors.agenda_for(user=member, owner=str(colleague.pk), today=TODAY)) == {
        "today": [theirs.pk]
    }
    assert _grouped(selectors.agenda_for(user=member, today=TODAY)) == {
        "today": [mine.pk, theirs.pk]
    }


def test_agenda_page_lists_rows_linking_to_their_case(member_client, member):
    case = _case()
    action = _action(case, member, timezone.localdate(), description="Advocaat bellen")
    _action(case, member, timezone.localdate(), status=ActionStatus.DONE, description="Klaar al")
    page = member_client.get(AGENDA, {"owner": "me"}).content.decode()
    assert page.count("<h1") == 1
    assert '<label for="id_owner"' in page
    assert "Vandaag" in page
    assert "Advocaat bellen" in page
    assert "Klaar al" not in page
    assert "Juridische hulp" in page
    case_url = reverse("support:case", kwargs={"reference": case.incident.reference})
    assert f'href="{case_url}#actie-{action.pk}"' in page
    assert "Fatima El Amrani" in page


def test_agenda_with_an_unknown_owner_shows_the_whole_team(member_client, member):
    _action(_case(), UserFactory(support=True), timezone.localdate())
    response = member_client.get(AGENDA, {"owner": "<script>"})
    assert response.status_code == 200
    assert response.context["agenda"].total == 1


def test_agenda_shows_only_actions_of_cases_the_team_sees(member):
    """A registrar's agenda would be empty even for actions shared with their desk: the
    agenda reads through the case policy."""
    case = _case()
    _action(case, member, TODAY, shared_with_desk=True)
    registrar = UserFactory(registrar=True, desk=case.incident.desk)
    assert selectors.agenda_for(user=registrar, today=TODAY).sections == []


# --- Bounded queries ----------------------------------------------------------------------------


def _many(count, member):
    colleague = UserFactory(support=True)
    for number in range(count):
        case = _case(officeholder=_officeholder("Anna", f"Vries {number}"))
        if number % 2:
            case_act(case, member, "acknowledge")
        _action(case, member if number % 2 else colleague, TODAY + timedelta(days=number - 2))


@pytest.mark.parametrize("url", [INBOX, f"{INBOX}?q=anna&handler=me&overdue=on", AGENDA])
def test_the_lists_cost_the_same_queries_for_few_and_many(
    member_client, member, url, django_assert_max_num_queries
):
    _many(2, member)
    with CaptureQueriesContext(connection) as few:
        assert member_client.get(url).status_code == 200
    _many(15, member)
    with django_assert_max_num_queries(len(few)):
        assert member_client.get(url).status_code == 200
