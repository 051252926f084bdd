"""The desk's pages use a fixed number of queries, however many incidents there are.

Each test renders a page for a desk with 2 and with 20 incidents (and, on the incident page,
2 or 20 messages, notes, events, files, links and suggestions) and compares the counts; on a
difference it prints both query lists, so the N+1 is easy to spot.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.constants import (
    EventKind,
    EvidenceKind,
    LinkKind,
    MessageAudience,
    ReporterSeverity,
    Status,
    TriageSeverity,
)
from incidents.models import Evidence, IncidentLink
from portal.selectors import site_configuration_get
from tests.conftest import verified_login
from tests.factories import (
    EscalationFactory,
    EventFactory,
    IncidentFactory,
    MessageFactory,
    NoteFactory,
    OrganisationFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_configuration(db):
    """The configuration row exists, as on a real site (its first use would add an INSERT)."""
    return site_configuration_get()


def _queries(client, url) -> list[str]:
    """The SQL of one page load (copied at once: the next request clears Django's query log)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def _assert_same_count(small: list[str], large: list[str]) -> None:
    if len(small) != len(large):
        listing = "\n".join(
            f"--- {label} ({len(run)} queries)\n" + "\n".join(run)
            for label, run in (("small", small), ("large", large))
        )
        pytest.fail(f"The query count grows with the data:\n{listing}")


def _desk_with_incidents(size: int):
    """A registrar whose desk serves two organisations with `size` varied incidents."""
    registrar = UserFactory(registrar=True)
    colleague = UserFactory(registrar=True, desk=registrar.desk)
    organisations = [OrganisationFactory(desk=registrar.desk) for _ in range(2)]
    now = timezone.now()
    statuses = [Status.SUBMITTED, Status.IN_TRIAGE, Status.ESCALATED, Status.SUBMITTED]
    for number in range(size):
        # A name with an "a", so that the filtered queue (q=a) always finds something.
        officeholder = UserFactory(organisation=organisations[number % 2], first_name="Hanna")
        IncidentFactory(
            officeholder=officeholder,
            status=statuses[number % len(statuses)],
            assignee=[None, registrar, colleague][number % 3],
            reporter_severity=ReporterSeverity.SERIOUS if number % 2 else "",
            triage_severity=TriageSeverity.HIGH if number % 5 == 0 else "",
            triage_due_at=now + timedelta(hours=number - size // 2),
            filed_by_desk=number % 4 == 0,
        )
    # Another desk's incidents must not show up, nor cost anything.
    for _ in range(3):
        IncidentFactory()
    return registrar


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("desk:queue", ""),
        ("desk:queue", "?status=all&sort=due&q=a&overdue=&assigned=&type=threat"),
        ("desk:overview", ""),
        ("desk:export", "?status=all"),
    ],
)
def test_queue_pages_use_the_same_queries_for_2_and_20_incidents(client, url_name, query):
    """The queue (plain and filtered), the overview and the export cost the same number of
    queries for a desk with 2 and with 20 incidents."""
    runs = []
    for size in (2, 20):
        registrar = _desk_with_incidents(size)
        verified_login(client, registrar)
        url = reverse(url_name) + query
        runs.append(_queries(client, url))
        if url_name == "desk:queue" and not query:
            page = client.get(url)
            assert len(page.context["incidents"]) == size
    _assert_same_count(*runs)


def _incident_with_history(size: int):
    """An incident of a desk with `size` of everything its page shows."""
    registrar = UserFactory(registrar=True)
    organisation = OrganisationFactory(desk=registrar.desk)
    other_organisation = OrganisationFactory(desk=registrar.desk)
    officeholder = UserFactory(organisation=organisation)
    incident = IncidentFactory(officeholder=officeholder, assignee=registrar)
    support = UserFactory(support=True)
    PerpetratorIdentifierFactory(incident=incident, value="@Jan_Boos")
    EventFactory(incident=incident, kind=EventKind.SUBMITTED)
    EscalationFactory(incident=incident, escalated_by=registrar, reason="Met spoed.")
    for number in range(size):
        author = [officeholder, registrar, support][number % 3]
        audience = (
            MessageAudience.STAFF if author == support else MessageAudience.OFFICEHOLDER_THREAD
        )
        message = MessageFactory(
            incident=incident, author=author, audience=audience, body=f"Bericht {number}"
        )
        EventFactory(
            incident=incident,
            kind=EventKind.MESSAGE,
            actor=author,
            payload={"message_id": message.pk, "audience": audience},
        )
        note = NoteFactory(incident=incident, author=registrar, body=f"Notitie {number}")
        EventFactory(
            incident=incident, kind=EventKind.NOTE, actor=registrar, payload={"note_id": note.pk}
        )
        Evidence.objects.create(
            incident=incident,
            uploaded_by=officeholder,
            file=f"evidence/{incident.pk}/{number:032x}",
            original_name=f"foto-{number}.jpg",
            kind=EvidenceKind.IMAGE,
            content_type="image/jpeg",
            size=1000 + number,
            sha256=f"{number:064x}",
            uploaded_at=timezone.now(),
        )
        # Incidents of other officeholders: half linked, half only suggested (same handle).
        other = IncidentFactory(officeholder=UserFactory(organisation=other_organisation))
        PerpetratorIdentifierFactory(incident=other, value=f"https://x.com/jan_boos?n={number}")
        if number % 2:
            low, high = sorted((incident, other), key=lambda i: i.pk)
            IncidentLink.objects.create(
                from_incident=low,
                to_incident=high,
                kind=LinkKind.SAME_PERPETRATOR,
                created_by=registrar,
                created_at=timezone.now(),
            )
        IncidentFactory(officeholder=officeholder, duplicate_of=incident, closed=True)
    return registrar, incident


def test_incident_page_uses_the_same_queries_for_2_and_20_rows(client):
    """The desk's incident page costs the same for 2 and 20 messages, notes, files, links,
    suggestions and duplicates (first visit, which also records 'viewed by the desk')."""
    runs = []
    for size in (2, 20):
        registrar, incident = _incident_with_history(size)
        verified_login(client, registrar)
        url = reverse("desk:detail", kwargs={"reference": incident.reference})
        runs.append(_queries(client, url))
        page = client.get(url)
        content = page.content.decode()
        assert f"foto-{size - 1}.jpg" in content
        assert f"Notitie {size - 1}" in content
        assert len(page.context["suggestions"]) == size // 2
        assert len(page.context["linked"]) == size // 2
        assert len(page.context["duplicates"]) == size
    _assert_same_count(*runs)


def test_incident_page_after_a_refused_change_uses_the_same_queries(client):
    """Re-rendering the page after a stale change costs the same for 2 and 20 rows."""
    runs = []
    for size in (2, 20):
        registrar, incident = _incident_with_history(size)
        verified_login(client, registrar)
        url = reverse("desk:close", kwargs={"reference": incident.reference})
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, {"close-version": 999, "close-outcome": "Uitkomst"})
        assert response.status_code == 200
        assert "Uitkomst" in response.content.decode()
        runs.append([query["sql"] for query in captured.captured_queries])
    _assert_same_count(*runs)
