"""The web pages and the API are two edges on the same services: they give the same result.

- An incident filed through the API is in the desk's web queue, like one filed on the page.
- The queue's filters give the same incidents, in the same order, on the page and in the API.
- The same physical-violence report, filed on the web form and through the API, is escalated
  by the same rule, gets a support case, and shows up in the support team's web inbox.

These tests use the demo accounts (`demo_data`). Work queued after commit (the escalation
rules run in Celery, eagerly in tests) is run by `django_capture_on_commit_callbacks`.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.constants import (
    EventKind,
    IncidentType,
    ReporterSeverity,
    Status,
    SupportWish,
)
from incidents.models import Incident
from portal.constants import OfficeholderFunction
from portal.models import Organisation, User
from portal.services import api_token_create
from support.models import SupportCase
from tests.api.conftest import token_client
from tests.conftest import verified_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

QUEUE_ROW = re.compile(r'data-reference="([^"]+)"')


def _api_client(username: str):
    _token, key = api_token_create(user=User.objects.get(username=username), name="parity")
    return token_client(key)


def _queue_references(client, query: str = "") -> list[str]:
    response = client.get(reverse("desk:queue") + query)
    assert response.status_code == 200
    return QUEUE_ROW.findall(response.content.decode())


def test_an_incident_filed_through_the_api_is_in_the_desks_web_queue(
    demo_data, client, django_capture_on_commit_callbacks
):
    """The Utrecht alderman files via the API; the Utrecht desk's queue page lists it."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _api_client("wethouder.utrecht").post(
            reverse("api:incident-list"),
            {
                "quick": True,
                "types": [IncidentType.VERBAL_AGGRESSION],
                "occurred_on": timezone.localdate().isoformat(),
                "summary": "Uitgescholden bij de ingang van het stadhuis.",
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]

    verified_login(client, User.objects.get(username="meldpunt.utrecht"))
    assert reference in _queue_references(client)
    detail = client.get(reverse("desk:detail", args=[reference]))
    assert detail.status_code == 200

    # The other desk does not see it, on the page or in the API.
    verified_login(client, User.objects.get(username="meldpunt.ijsselland"))
    assert reference not in _queue_references(client, "?status=all")
    other = _api_client("meldpunt.ijsselland")
    assert other.get(reverse("api:incident-detail", args=[reference])).status_code == 404


@pytest.mark.parametrize(
    ("page_query", "api_query"),
    [
        # Without a status the page shows the open incidents; the API says so with `open`.
        ("", "?status=open"),
        ("?sort=oldest", "?status=open&sort=oldest"),
        ("?status=all&sort=reference", "?status=all&sort=reference"),
        ("?status=submitted&sort=oldest", "?status=submitted&sort=oldest"),
        ("?status=escalated", "?status=escalated"),
        ("?status=all&type=threat&sort=newest", "?status=all&type=threat&sort=newest"),
        ("?status=all&q=Yilmaz&sort=reference", "?status=all&q=Yilmaz&sort=reference"),
    ],
)
def test_the_queue_filters_give_the_same_incidents_on_the_page_and_in_the_api(
    demo_data, client, page_query, api_query
):
    """The registrar's queue with the same filters lists the same references, in the same
    order, on the web page and in the API."""
    verified_login(client, User.objects.get(username="meldpunt.utrecht"))
    on_page = _queue_references(client, page_query)
    response = _api_client("meldpunt.utrecht").get(reverse("api:incident-list") + api_query)
    assert response.status_code == 200
    in_api = [row["reference"] for row in response.json()["results"]]
    assert on_page, "the demo queue is not empty for these filters"
    assert in_api == on_page


def _physical_violence(quick: bool) -> dict:
    facts = {
        "types": [IncidentType.PHYSICAL_VIOLENCE],
        "occurred_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "occurred_at": "21:30",
        "summary": "Geduwd en bespuugd na afloop van de inspraakavond.",
    }
    if not quick:
        facts |= {
            "description": "Vier mannen liepen mee naar de uitgang.",
            "location": "Wijkcentrum",
            "reporter_severity": ReporterSeverity.SERIOUS,
            "support_wish": SupportWish.REGISTRATION_ONLY,
        }
    return facts


@pytest.mark.parametrize("quick", [True, False], ids=["quick report", "full report"])
def test_physical_violence_is_escalated_the_same_way_via_the_web_form_and_the_api(
    demo_data, client, django_capture_on_commit_callbacks, quick
):
    """Same facts on the form and through the API: both escalated by the same rule, each
    with a support case, and both in the support team's web inbox."""
    utrecht = Organisation.objects.get(name="Gemeente Utrecht")
    # Two officeholders without earlier incidents, so no other rule (e.g. repeats) can differ.
    on_web, on_api = (
        UserFactory(organisation=utrecht, function=OfficeholderFunction.RAADSLID) for _ in range(2)
    )
    facts = _physical_violence(quick)

    client.force_login(on_web)  # officeholders log in without a second factor
    form_url = reverse("incidents:quick" if quick else "incidents:new")
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(form_url, {**facts, "submission_token": str(uuid.uuid4())})
    assert page.status_code == 302, page.content.decode()[:2000]
    by_web = Incident.objects.get(officeholder=on_web)

    _token, key = api_token_create(user=on_api, name="parity")
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(key).post(
            reverse("api:incident-list"), {"quick": quick, **facts}, format="json"
        )
    assert response.status_code == 201, response.content
    by_api = Incident.objects.get(reference=response.json()["reference"])

    for incident in (by_web, by_api):
        incident.refresh_from_db()
    assert by_web.status == by_api.status == Status.ESCALATED
    assert by_web.is_quick == by_api.is_quick == quick
    web_rules = [e.rules for e in by_web.escalations.all()]
    api_rules = [e.rules for e in by_api.escalations.all()]
    assert web_rules == api_rules == [["physical_violence"]]
    assert SupportCase.objects.filter(incident__in=[by_web, by_api]).count() == 2

    def kinds(incident):
        return sorted(incident.events.values_list("kind", flat=True))

    assert kinds(by_web) == kinds(by_api)
    assert EventKind.ESCALATED in kinds(by_api)

    verified_login(client, User.objects.get(username="ondersteuning"))
    inbox = client.get(reverse("support:inbox")).content.decode()
    assert by_web.reference in inbox
    assert by_api.reference in inbox
