"""The officeholder's pages use a fixed number of queries, however much data there is.

Each test renders a page with a small and a large amount of data and compares the counts;
on a difference it prints both query lists, so the N+1 is easy to spot.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.constants import EventKind, EvidenceKind, MessageAudience, Status
from incidents.models import Evidence
from portal.selectors import site_configuration_get
from tests.factories import EventFactory, IncidentFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_configuration(db):
    """The configuration row exists, as on a real site (its first use would add an INSERT)."""
    return site_configuration_get()


def _queries(client, url) -> list[str]:
    """The SQL of one page load (copied at once: the next request clears Django's query log)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def _assert_same_count(small: list[str], large: list[str]) -> None:
    if len(small) != len(large):
        listing = "\n".join(
            f"--- {label} ({len(run)} queries)\n" + "\n".join(run)
            for label, run in (("small", small), ("large", large))
        )
        pytest.fail(f"The query count grows with the data:\n{listing}")


def _incidents_for(officeholder, count: int) -> None:
    statuses = [Status.SUBMITTED, Status.IN_TRIAGE, Status.CLOSED, Status.WITHDRAWN]
    for number in range(count):
        IncidentFactory(officeholder=officeholder, status=statuses[number % len(statuses)])


def test_own_incident_list_uses_the_same_queries_for_2_and_20_incidents(client):
    """The list of own incidents costs the same number of queries for 2 and for 20 rows."""
    runs = []
    for size in (2, 20):
        officeholder = UserFactory()
        _incidents_for(officeholder, size)
        # Someone else's incidents must not show up, nor cost anything.
        _incidents_for(UserFactory(), 3)
        client.force_login(officeholder)
        runs.append(_queries(client, reverse("incidents:list")))
        page = client.get(reverse("incidents:list")).content.decode()
        assert page.count('<th scope="row">') == size
    _assert_same_count(*runs)


def _incident_with_history(size: int):
    """An incident with `size` messages, `size` events by mixed actors and `size` files."""
    incident = IncidentFactory()
    officeholder = incident.officeholder
    registrar = UserFactory(registrar=True, desk=incident.desk)
    support = UserFactory(support=True)
    authors = [officeholder, registrar, support]
    EventFactory(incident=incident, kind=EventKind.SUBMITTED)
    for number in range(size):
        author = authors[number % len(authors)]
        message = MessageFactory(incident=incident, author=author, body=f"Bericht {number}")
        EventFactory(
            incident=incident,
            kind=EventKind.MESSAGE,
            actor=author,
            payload={"message_id": message.pk, "audience": MessageAudience.OFFICEHOLDER_THREAD},
        )
        EventFactory(
            incident=incident,
            kind=EventKind.FOLLOW_UP,
            actor=officeholder,
            payload={"text": f"Aanvulling {number}", "evidence": []},
        )
        EventFactory(incident=incident, kind=EventKind.VIEWED_BY_DESK, actor=registrar)
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
    # Staff-only traffic that the officeholder's page must skip without extra queries.
    MessageFactory(incident=incident, staff=True)
    EventFactory(incident=incident, kind=EventKind.NOTE, actor=registrar)
    return incident


@pytest.mark.parametrize(
    "url_name", ["incidents:detail", "incidents:police_summary", "incidents:confirmation"]
)
def test_incident_pages_use_the_same_queries_for_2_and_20_rows(client, url_name):
    """Detail, police summary and confirmation cost the same for 2 and 20 events/messages/files."""
    runs = []
    for size in (2, 20):
        incident = _incident_with_history(size)
        client.force_login(incident.officeholder)
        url = reverse(url_name, kwargs={"reference": incident.reference})
        runs.append(_queries(client, url))
        page = client.get(url).content.decode()
        if url_name != "incidents:confirmation":
            assert f"foto-{size - 1}.jpg" in page
        if url_name == "incidents:detail":
            assert f"Bericht {size - 1}" in page
    _assert_same_count(*runs)


def test_the_police_summary_pdf_uses_the_same_queries_for_2_and_20_rows(client):
    """The PDF with every part ticked costs the same for 2 and 20 events/messages/files."""
    runs = []
    for size in (2, 20):
        incident = _incident_with_history(size)
        client.force_login(incident.officeholder)
        url = reverse("incidents:police_summary", kwargs={"reference": incident.reference})
        data = {
            **dict.fromkeys(("facts", "timeline", "messages", "views", "impacts"), "on"),
            "evidence": list(incident.evidence.values_list("pk", flat=True)),
        }
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, data)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        runs.append([query["sql"] for query in captured.captured_queries])
    _assert_same_count(*runs)
