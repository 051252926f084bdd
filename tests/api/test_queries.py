"""Every list endpoint costs the same number of queries for 2 rows as for 20.

Each test builds a small and a large data set for a fresh caller, makes one warm-up request
(the token's first use is recorded once) and then counts the queries of the real request.
On a difference the test prints both lists of SQL, so the N+1 is easy to spot.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.constants import Status
from incidents.models import Escalation
from portal.models import Notification
from portal.services import api_token_create
from support.models import SupportCase
from tests.api.conftest import token_client
from tests.factories import (
    DeskFactory,
    IncidentFactory,
    OrganisationFactory,
    UserFactory,
    case_open,
)

pytestmark = pytest.mark.django_db

STATUSES = [Status.SUBMITTED, Status.IN_TRIAGE, Status.CLOSED, Status.WITHDRAWN]


def _queries(user, url: str, expected_rows: int) -> list[str]:
    """The SQL of one API request by `user` (after a warm-up request) that lists that many."""
    _token, key = api_token_create(user=user, name="queries")
    client = token_client(key)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert response.json()["count"] == expected_rows
    return [query["sql"] for query in captured.captured_queries]


def _assert_same_count(small: list[str], large: list[str]) -> None:
    if len(small) != len(large):
        listing = "\n".join(
            f"--- {label} ({len(run)} queries)\n" + "\n".join(run)
            for label, run in (("2 rows", small), ("20 rows", large))
        )
        pytest.fail(f"The query count grows with the data:\n{listing}")


def _owner_with(size: int):
    """An officeholder with `size` incidents in mixed statuses (and a stranger's incidents)."""
    owner = UserFactory()
    for number in range(size):
        IncidentFactory(officeholder=owner, status=STATUSES[number % len(STATUSES)])
    IncidentFactory.create_batch(3)
    return owner


def _registrar_with(size: int):
    """A registrar whose desk has `size` incidents of several officeholders and organisations,
    half of them assigned to a colleague."""
    desk = DeskFactory()
    registrar = UserFactory(registrar=True, desk=desk)
    colleague = UserFactory(registrar=True, desk=desk)
    organisations = [OrganisationFactory(desk=desk) for _ in range(2)]
    for number in range(size):
        IncidentFactory(
            officeholder=UserFactory(organisation=organisations[number % 2]),
            status=STATUSES[number % len(STATUSES)],
            assignee=colleague if number % 2 else None,
        )
    IncidentFactory.create_batch(3)  # another desk's
    return registrar


def _escalated_with_cases(size: int) -> None:
    handler = UserFactory(support=True)
    for number in range(size):
        incident = IncidentFactory(escalated=True)
        case = case_open(incident.escalations.get())
        if number % 2:
            case.handler = handler
            case.save(update_fields=["handler"])


def _support_with(size: int):
    """A support member; `size` escalated incidents (with cases) exist, and others that are not."""
    _escalated_with_cases(size)
    IncidentFactory.create_batch(3)
    return UserFactory(support=True)


@pytest.mark.parametrize(
    "build",
    [_owner_with, _registrar_with, _support_with],
    ids=["officeholder", "registrar", "support"],
)
def test_incident_list_uses_the_same_queries_for_2_and_20_incidents(build):
    """GET /api/v1/incidents/ for each role: as many queries for 20 incidents as for 2."""
    url = reverse("api:incident-list") + "?status=all"
    runs = []
    for size in (2, 20):
        # Support sees every incident ever escalated: drop the first run's, so each lists its own.
        Escalation.objects.all().delete()
        runs.append(_queries(build(size), url, size))
    _assert_same_count(*runs)


def test_incident_list_for_the_admin_is_empty_and_cheap():
    """The admin role sees no incidents through the API, whatever exists."""
    IncidentFactory.create_batch(3)
    queries = _queries(UserFactory(admin=True), reverse("api:incident-list"), 0)
    assert len(queries) <= 4, queries


def test_support_case_list_uses_the_same_queries_for_2_and_20_cases():
    """GET /api/v1/support/cases/: as many queries for 20 cases as for 2."""
    runs = []
    for size in (2, 20):
        _escalated_with_cases(size)
        IncidentFactory.create_batch(3)  # not escalated: no case
        runs.append(_queries(UserFactory(support=True), reverse("api:support-case-list"), size))
        SupportCase.objects.all().delete()
    _assert_same_count(*runs)


def test_notification_list_uses_the_same_queries_for_2_and_20_notifications():
    """GET /api/v1/notifications/: as many queries for 20 notifications as for 2."""
    runs = []
    for size in (2, 20):
        user = UserFactory()
        for number in range(size):
            Notification.objects.create(
                recipient=user,
                event_key=f"test:{number}",
                kind="status_changed",
                reference=f"MWB-2026-{number:06d}",
                link="/",
                created_at=timezone.now(),
            )
        runs.append(_queries(user, reverse("api:notification-list"), size))
    _assert_same_count(*runs)
