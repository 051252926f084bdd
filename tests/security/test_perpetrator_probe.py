"""Nothing speaks across officeholders: the "same perpetrator" probe tells the prober nothing.

An officeholder who files (and completes, again and again) an incident with a phone number that
another officeholder of another desk reported gets exactly what they would get without the
match: the same status, rules, timeline, notifications and API answer; the other incident gets
no event at all. The match is a staff-only signal: the desk sees "ook gemeld bij een ander
meldpunt" (the reference only when the other incident is its own), the support team sees both.
"""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.constants import IdentifierKind, IncidentType, ReporterSeverity
from incidents.models import Incident, PerpetratorMatch
from portal.models import Notification
from portal.services import api_token_create
from tests.api.conftest import token_client
from tests.conftest import verified_login
from tests.factories import (
    DeskFactory,
    IncidentFactory,
    OrganisationFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PHONE = "06 12345678"


def _report(**overrides) -> dict:
    data = {
        "submission_token": str(uuid.uuid4()),
        "types": [IncidentType.INTIMIDATION],
        "occurred_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "summary": "Steeds weer gebeld door hetzelfde nummer.",
        "channel": "phone",
        "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
        "perpetrator_known": "unknown",
        "support_wish": "contact_with_desk",
        "phones": PHONE,
    }
    data.update(overrides)
    return data


@pytest.fixture
def two_desks():
    """The prober of one desk; the other officeholder's earlier report at another desk."""
    desk_a, desk_b = DeskFactory(name="Meldpunt A"), DeskFactory(name="Meldpunt B")
    prober = UserFactory(organisation=OrganisationFactory(desk=desk_a))
    other = IncidentFactory(officeholder__organisation=OrganisationFactory(desk=desk_b))
    PerpetratorIdentifierFactory(incident=other, kind=IdentifierKind.PHONE, value="+31612345678")
    return prober, other, desk_a, desk_b


def _file_and_complete(client, prober, capture, *, phones: str, times: int) -> Incident:
    client.force_login(prober)
    with capture(execute=True):
        response = client.post(reverse("incidents:new"), _report(phones=phones))
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.filter(officeholder=prober).get()
    for number in range(times):
        incident.refresh_from_db()
        complete = _report(phones=phones, summary=f"Weer gebeld ({number}).")
        complete.pop("submission_token")
        complete["version"] = incident.version
        with capture(execute=True):
            response = client.post(
                reverse("incidents:complete", args=[incident.reference]), complete
            )
        assert response.status_code == 302
    incident.refresh_from_db()
    return incident


def _what_the_officeholder_sees(client, incident) -> dict:
    page = client.get(reverse("incidents:detail", args=[incident.reference]))
    key = api_token_create(user=incident.officeholder, name="probe")[1]
    api = token_client(key).get(reverse("api:incident-detail", args=[incident.reference])).json()
    timeline = token_client(key).get(reverse("api:incident-timeline", args=[incident.reference]))
    return {
        "status": incident.status,
        "escalations": incident.escalations.count(),
        "page_has_rule": "shared_perpetrator" in page.content.decode()
        or "Zelfde dader" in page.content.decode(),
        "api_keys": sorted(api),
        "api_status": api["status"],
        "timeline": [(e["kind"], e["label"], e["text"]) for e in timeline.json()],
        "notifications": list(
            Notification.objects.filter(recipient=incident.officeholder).values_list(
                "kind", flat=True
            )
        ),
    }


def test_the_probe_changes_nothing_the_officeholder_can_see(
    client, two_desks, django_capture_on_commit_callbacks
):
    """With and without a matching report elsewhere, the prober sees exactly the same."""
    prober, other, _desk_a, _desk_b = two_desks
    events_before = list(other.events.values_list("pk", flat=True))
    probing = _file_and_complete(
        client, prober, django_capture_on_commit_callbacks, phones=PHONE, times=3
    )
    with_match = _what_the_officeholder_sees(client, probing)

    # The same steps by an officeholder of the same desk, with a number nobody reported.
    control_person = UserFactory(organisation=prober.organisation)
    control = _file_and_complete(
        client, control_person, django_capture_on_commit_callbacks, phones="0201234567", times=3
    )
    without_match = _what_the_officeholder_sees(client, control)

    assert with_match == without_match
    assert with_match["status"] == "submitted"
    assert with_match["escalations"] == 0
    assert not with_match["page_has_rule"]
    # Nothing was written on the other officeholder's incident.
    assert list(other.events.values_list("pk", flat=True)) == events_before
    assert not other.links_out.exists() and not other.links_in.exists()
    other.refresh_from_db()
    assert other.version == 1
    # The staff-only signal exists, once.
    first, second = sorted((probing.pk, other.pk))
    assert PerpetratorMatch.objects.filter(first_id=first, second_id=second).count() == 1


def test_the_desks_see_the_match_without_the_other_desks_reference(
    client, two_desks, django_capture_on_commit_callbacks
):
    """The prober's desk reads "ook gemeld bij een ander meldpunt"; the other desk the same
    about its own incident; neither sees the other's reference."""
    prober, other, desk_a, desk_b = two_desks
    probing = _file_and_complete(
        client, prober, django_capture_on_commit_callbacks, phones=PHONE, times=0
    )
    for desk, own, foreign in ((desk_a, probing, other), (desk_b, other, probing)):
        registrar = UserFactory(registrar=True, desk=desk)
        page = verified_login(client, registrar).get(reverse("desk:detail", args=[own.reference]))
        text = page.content.decode()
        assert "Ook gemeld bij een ander meldpunt" in text
        assert foreign.reference not in text


def test_the_support_team_sees_both_sides_of_the_match(
    client, two_desks, django_capture_on_commit_callbacks
):
    """The team's signal list names both incidents and both desks."""
    prober, other, desk_a, desk_b = two_desks
    probing = _file_and_complete(
        client, prober, django_capture_on_commit_callbacks, phones=PHONE, times=0
    )
    page = verified_login(client, UserFactory(support=True)).get(reverse("support:signals"))
    text = page.content.decode()
    for expected in (probing.reference, other.reference, desk_a.name, desk_b.name):
        assert expected in text


def test_identifier_changes_are_recorded_and_limited_per_day(
    client, two_desks, django_capture_on_commit_callbacks, settings
):
    """Each change of the identifiers is an event; after the daily limit the form says so."""
    settings.IDENTIFIER_CHANGES_PER_DAY = 3
    prober, _other, _a, _b = two_desks
    incident = _file_and_complete(
        client, prober, django_capture_on_commit_callbacks, phones="0611111111", times=0
    )
    for number in range(4):
        incident.refresh_from_db()
        data = _report(phones=f"06222222{number:02d}")
        data.pop("submission_token")
        data["version"] = incident.version
        response = client.post(reverse("incidents:complete", args=[incident.reference]), data)
        if number < 3:
            assert response.status_code == 302
        else:
            assert response.status_code == 200
            assert "vandaag al vaak gewijzigd" in response.content.decode()
    assert incident.events.filter(kind="identifiers_changed").count() == 3
