"""The desk's queue as a place to work: urgency rank, search, saved views and bulk actions.

The filters, paging and query counts of the queue are in test_desk_views.py and
test_queue_queries.py; this file covers what #18 part 3 added.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.constants import OutcomeCategory, ReporterSeverity, RiskFlag, Status, TriageSeverity
from incidents.models import Incident, IncidentLink, SavedQueueView
from tests.conftest import verified_login
from tests.factories import (
    IncidentFactory,
    OrganisationFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
    act,
)

pytestmark = pytest.mark.django_db

QUEUE = reverse("desk:queue")
BULK = reverse("desk:bulk")


@pytest.fixture
def desk_client(client, registrar):
    verified_login(client, registrar)
    return client


@pytest.fixture
def officeholder_of_desk(registrar):
    return UserFactory(
        organisation=OrganisationFactory(desk=registrar.desk),
        first_name="Anna",
        last_name="Vermeulen",
    )


def _references(response) -> list[str]:
    return [incident.reference for incident in response.context["incidents"]]


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Urgency rank --------------------------------------------------------------------------------


def test_rank_follows_severity_and_risk_flags_when_saved(officeholder_of_desk, registrar):
    """The stored rank is kept by every save: the reporter's severity, the contact wish, the
    desk's severity and the acute-danger flag each move it; lowering them moves it back."""
    incident = IncidentFactory(
        officeholder=officeholder_of_desk, reporter_severity=ReporterSeverity.NOT_SERIOUS
    )
    assert incident.urgency_rank == 3
    incident.unsafe_or_call = True
    incident.save(update_fields=["unsafe_or_call"])
    assert Incident.objects.get(pk=incident.pk).urgency_rank == 2

    incident = act(
        incident,
        registrar,
        "triage",
        triage_severity=TriageSeverity.LOW,
        types=["threat"],
        risk_flags=[RiskFlag.ACUTE_DANGER],
    )
    assert Incident.objects.get(pk=incident.pk).urgency_rank == 1
    incident = act(
        incident, registrar, "triage", triage_severity=TriageSeverity.LOW, types=["threat"]
    )
    assert Incident.objects.get(pk=incident.pk).urgency_rank == 2  # still the contact wish
    incident = act(
        incident, registrar, "triage", triage_severity=TriageSeverity.CRITICAL, types=["threat"]
    )
    assert Incident.objects.get(pk=incident.pk).urgency_rank == 1


def test_queue_order_is_rank_then_deadline(desk_client, officeholder_of_desk):
    """A serious report due in 4 hours sorts above an overdue light one; acute danger and
    critical above both; within a rank the earliest deadline first."""
    now = timezone.now()

    def incident(**fields):
        return IncidentFactory(officeholder=officeholder_of_desk, **fields)

    light_overdue = incident(triage_due_at=now - timedelta(hours=3))
    light_later = incident(triage_due_at=now + timedelta(days=2))
    serious_soon = incident(
        reporter_severity=ReporterSeverity.SERIOUS, triage_due_at=now + timedelta(hours=4)
    )
    serious_first = incident(
        reporter_severity=ReporterSeverity.VERY_SERIOUS, triage_due_at=now + timedelta(hours=1)
    )
    desk_high = incident(
        status=Status.IN_TRIAGE,
        triage_severity=TriageSeverity.HIGH,
        triage_due_at=now + timedelta(hours=2),
    )
    acute = incident(
        status=Status.IN_TRIAGE,
        triage_severity=TriageSeverity.MEDIUM,
        risk_flags=[RiskFlag.ACUTE_DANGER],
        triage_due_at=now + timedelta(days=1),
    )
    critical = incident(
        status=Status.IN_TRIAGE,
        triage_severity=TriageSeverity.CRITICAL,
        triage_due_at=now + timedelta(hours=5),
    )
    assert _references(desk_client.get(QUEUE)) == [
        critical.reference,
        acute.reference,
        serious_first.reference,
        desk_high.reference,
        serious_soon.reference,
        light_overdue.reference,
        light_later.reference,
    ]


def test_queue_rows_read_as_a_registrar_says_them(desk_client, registrar, officeholder_of_desk):
    """One-line summary, function, deadline in words, Dutch dates, names instead of "U"."""
    submitted = timezone.make_aware(timezone.datetime(2026, 12, 2, 9, 30))
    officeholder_of_desk.function = "wethouder"
    officeholder_of_desk.save(update_fields=["function"])
    IncidentFactory(
        officeholder=officeholder_of_desk,
        assignee=registrar,
        summary="Bedreigd bij de markt.",
        submitted_at=submitted,
        triage_due_at=timezone.now() + timedelta(hours=3, minutes=20),
    )
    content = desk_client.get(QUEUE).content.decode()
    assert "Bedreigd bij de markt." in content
    assert "wethouder, " in content
    assert "nog 3 uur" in content
    assert "2 dec. 2026, 09:30" in content
    assert str(registrar) in content
    assert ">U<" not in content


# --- Search --------------------------------------------------------------------------------------


def test_search_by_number_alone_name_and_perpetrator(desk_client, registrar, officeholder_of_desk):
    """The number alone, the officeholder's name, and a perpetrator's account (written in any
    usual way) each find the incident; another desk's incident with the same perpetrator is
    never found."""
    mine = IncidentFactory(officeholder=officeholder_of_desk)
    other = IncidentFactory(officeholder=officeholder_of_desk)
    PerpetratorIdentifierFactory(incident=mine, value="@Jan_Boos")
    elsewhere = IncidentFactory()
    PerpetratorIdentifierFactory(incident=elsewhere, value="@Jan_Boos")

    number = str(int(mine.reference.rsplit("-", 1)[1]))
    assert _references(desk_client.get(QUEUE, {"q": number})) == [mine.reference]
    assert set(_references(desk_client.get(QUEUE, {"q": "vermeulen anna"}))) == {
        mine.reference,
        other.reference,
    }
    for written in ("@jan_boos", "https://x.com/Jan_Boos", "JAN_BOOS"):
        assert _references(desk_client.get(QUEUE, {"q": written})) == [mine.reference], written
    # Part of an account is not enough: the search never guesses at perpetrators.
    assert _references(desk_client.get(QUEUE, {"q": "jan_bo"})) == []


def test_linking_takes_the_number_alone(desk_client, officeholder_of_desk):
    """ "15" is this year's MWB-<year>-000015, in the registrar's own scope only."""
    first = IncidentFactory(officeholder=officeholder_of_desk)
    second = IncidentFactory(officeholder=officeholder_of_desk)
    number = str(int(second.reference.rsplit("-", 1)[1]))
    response = desk_client.post(
        reverse("desk:link", kwargs={"reference": first.reference}),
        {"link-version": first.version, "link-reference": number, "link-kind": "series"},
    )
    assert response.status_code == 302
    assert IncidentLink.objects.filter(from_incident=first, to_incident=second).exists()


# --- Saved views ---------------------------------------------------------------------------------


def test_save_open_and_delete_a_view(desk_client, registrar, officeholder_of_desk):
    """Saving keeps only the valid filters; the view opens with them; deleting removes it."""
    overdue = IncidentFactory(
        officeholder=officeholder_of_desk, triage_due_at=timezone.now() - timedelta(hours=1)
    )
    IncidentFactory(officeholder=officeholder_of_desk)
    response = desk_client.post(
        reverse("desk:saved_view_save"),
        {"saved_view-name": "Te laat bij mij", "saved_view-query": "overdue=on&status=bogus"},
    )
    view = SavedQueueView.objects.get(owner=registrar)
    assert view.query == "overdue=on"
    assert response.status_code == 302 and response["Location"] == f"{QUEUE}?overdue=on"
    page = desk_client.get(QUEUE, {"overdue": "on"})
    assert _references(page) == [overdue.reference]
    assert "Te laat bij mij" in page.content.decode()

    # The same name again replaces the filters instead of adding a second view.
    desk_client.post(
        reverse("desk:saved_view_save"),
        {"saved_view-name": "Te laat bij mij", "saved_view-query": "assigned=me"},
    )
    assert list(SavedQueueView.objects.filter(owner=registrar).values_list("query", flat=True)) == [
        "assigned=me"
    ]
    response = desk_client.post(reverse("desk:saved_view_delete", args=[view.pk]), follow=True)
    assert not SavedQueueView.objects.filter(pk=view.pk).exists()
    assert "Het overzicht 'Te laat bij mij' is verwijderd." in _messages(response)


def test_a_view_without_a_name_keeps_the_page_and_says_why(desk_client):
    response = desk_client.post(
        reverse("desk:saved_view_save"), {"saved_view-name": "  ", "saved_view-query": "q=x"}
    )
    assert response.status_code == 400
    assert "Geef het overzicht een naam." in response.content.decode()
    assert not SavedQueueView.objects.exists()


def test_another_persons_view_is_not_shown_nor_deleted(client, registrar):
    """A colleague's view is not listed and deleting it answers 404."""
    colleague = UserFactory(registrar=True, desk=registrar.desk)
    theirs = SavedQueueView.objects.create(owner=colleague, name="Van Kees", query="overdue=on")
    verified_login(client, registrar)
    assert "Van Kees" not in client.get(QUEUE).content.decode()
    response = client.post(reverse("desk:saved_view_delete", args=[theirs.pk]))
    assert response.status_code == 404
    assert SavedQueueView.objects.filter(pk=theirs.pk).exists()


def test_a_view_never_shows_another_desks_incidents(desk_client, registrar):
    """A saved query naming another desk's organisation shows nothing of that desk."""
    elsewhere = IncidentFactory()
    query = f"organisation={elsewhere.organisation_id}&status=all"
    SavedQueueView.objects.create(owner=registrar, name="Elders", query=query)
    page = desk_client.get(f"{QUEUE}?{query}")
    assert elsewhere.reference not in _references(page)
    assert elsewhere.reference not in page.content.decode()


def test_at_most_twenty_views_per_person(registrar):
    for number in range(services.SAVED_VIEWS_PER_PERSON):
        services.saved_view_save(owner=registrar, name=f"Overzicht {number}", query="")
    with pytest.raises(services.SavedViewsLimited):
        services.saved_view_save(owner=registrar, name="Nog een", query="")
    # Replacing an existing view still works at the limit.
    services.saved_view_save(owner=registrar, name="Overzicht 0", query="overdue=on")


# --- Bulk actions --------------------------------------------------------------------------------


def _row(incident, version=None) -> str:
    return f"{incident.reference}:{incident.version if version is None else version}"


def test_bulk_assign_reports_done_changed_and_refused(desk_client, registrar, officeholder_of_desk):
    """Each row sends its version: current rows are assigned, a row changed in the meantime
    is left alone and named, another desk's row is refused without a hint of what it is."""
    colleague = UserFactory(registrar=True, desk=registrar.desk, first_name="Kees")
    first, second, stale = (IncidentFactory(officeholder=officeholder_of_desk) for _ in range(3))
    elsewhere = IncidentFactory()
    response = desk_client.post(
        BULK,
        {
            "bulk-incidents": [
                _row(first),
                _row(second),
                _row(stale, version=stale.version - 1),
                _row(elsewhere),
            ],
            "bulk-action": "assign",
            "bulk-assignee": colleague.pk,
            "filter_query": "overdue=on&evil=1",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{QUEUE}?overdue=on"
    assert {i.reference for i in Incident.objects.filter(assignee=colleague)} == {
        first.reference,
        second.reference,
    }
    messages = _messages(response)
    assert f"Gedaan voor 2 meldingen: {first.reference}, {second.reference}." in messages
    assert any(stale.reference in m and "intussen gewijzigd" in m for m in messages)
    assert any(elsewhere.reference in m and "kan nu niet" in m for m in messages)
    elsewhere.refresh_from_db()
    assert elsewhere.assignee is None


def test_bulk_close_needs_a_category_and_closes(desk_client, officeholder_of_desk):
    first, second = (IncidentFactory(officeholder=officeholder_of_desk) for _ in range(2))
    rows = [_row(first), _row(second)]
    response = desk_client.post(BULK, {"bulk-incidents": rows, "bulk-action": "close"})
    assert response.status_code == 400
    assert "Kies hoe u de meldingen afsluit." in response.content.decode()
    assert not Incident.objects.filter(status=Status.CLOSED).exists()

    desk_client.post(
        BULK,
        {
            "bulk-incidents": rows,
            "bulk-action": "close",
            "bulk-outcome_category": OutcomeCategory.REGISTERED,
        },
    )
    closed = Incident.objects.filter(status=Status.CLOSED)
    assert set(closed.values_list("outcome_category", flat=True)) == {OutcomeCategory.REGISTERED}
    assert closed.count() == 2


@pytest.mark.parametrize(
    "rows",
    [[], ["MWB-2026-000001"], ["<script>:1"], ["MWB-2026-000001:abc"]],
    ids=["none", "no-version", "markup", "bad-version"],
)
def test_bulk_with_bad_rows_changes_nothing_and_says_so(desk_client, officeholder_of_desk, rows):
    IncidentFactory(officeholder=officeholder_of_desk)
    response = desk_client.post(
        BULK, {"bulk-incidents": rows, "bulk-action": "close", "bulk-outcome_category": "other"}
    )
    assert response.status_code == 400
    assert not Incident.objects.filter(status=Status.CLOSED).exists()


def test_bulk_refuses_other_outcome_categories(desk_client, officeholder_of_desk):
    """Only "alleen vastgelegd" and "dubbele melding" close in bulk; the rest needs the page."""
    incident = IncidentFactory(officeholder=officeholder_of_desk)
    response = desk_client.post(
        BULK,
        {
            "bulk-incidents": [_row(incident)],
            "bulk-action": "close",
            "bulk-outcome_category": OutcomeCategory.ADVICE_GIVEN,
        },
    )
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED
