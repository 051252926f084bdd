"""The officeholder's own data: an export of everything (JSON and a page), and deleting a
withdrawn incident."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.constants import MessageAudience, Status
from incidents.errors import TransitionNotAllowed
from incidents.models import Evidence, Incident
from portal.models import AccessLogEntry
from tests.conftest import verified_login
from tests.factories import IncidentFactory, MessageFactory, NoteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own(officeholder):
    """The officeholder's incident with a thread message, a staff message and a note."""
    incident = IncidentFactory(officeholder=officeholder, summary="Mijn eigen melding")
    MessageFactory(
        incident=incident,
        audience=MessageAudience.OFFICEHOLDER_THREAD,
        body="Bericht in mijn draad",
    )
    MessageFactory(incident=incident, audience=MessageAudience.STAFF, body="Overleg van de staf")
    NoteFactory(incident=incident, body="Interne notitie")
    return incident


@pytest.fixture
def someone_elses(organisation):
    return IncidentFactory(
        officeholder=UserFactory(organisation=organisation), summary="Melding van een ander"
    )


def test_json_export_holds_own_incidents_and_thread_only(client, officeholder, own, someone_elses):
    """The JSON download has the profile, the own incident with its thread; no staff channel,
    no internal notes, nothing of another officeholder."""
    client.force_login(officeholder)
    response = client.get(reverse("incidents:export_json"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["profile"]["username"] == officeholder.username
    assert [i["reference"] for i in data["incidents"]] == [own.reference]
    exported = data["incidents"][0]
    assert exported["summary"] == "Mijn eigen melding"
    assert [m["text"] for m in exported["messages"]] == ["Bericht in mijn draad"]
    raw = response.content.decode()
    for secret in ("Overleg van de staf", "Interne notitie", "Melding van een ander"):
        assert secret not in raw
    assert someone_elses.reference not in raw
    assert AccessLogEntry.objects.filter(actor=officeholder, action="export").exists()


def test_export_page_shows_the_same_data(client, officeholder, own, someone_elses):
    """The printable page lists the own incident and its thread, and links the JSON file."""
    client.force_login(officeholder)
    page = client.get(reverse("incidents:export")).content.decode()
    assert own.reference in page and "Mijn eigen melding" in page
    assert "Bericht in mijn draad" in page
    assert reverse("incidents:export_json") in page
    for secret in ("Overleg van de staf", "Interne notitie", someone_elses.reference):
        assert secret not in page
    assert reverse("incidents:export") in client.get(reverse("incidents:list")).content.decode()


def test_staff_cannot_use_the_officeholder_export(client):
    """The export is the officeholder's own: a support member gets 404."""
    verified_login(client, UserFactory(support=True))
    assert client.get(reverse("incidents:export_json")).status_code == 404


def _withdrawn_with_file(officeholder) -> Incident:
    incident = IncidentFactory(officeholder=officeholder, withdrawn=True)
    evidence = Evidence(
        incident=incident,
        original_name="chat.txt",
        kind="text",
        content_type="text/plain",
        size=4,
        sha256="0" * 64,
        uploaded_at=timezone.now(),
    )
    evidence.file.save("evidence", SimpleUploadedFile("x", b"chat"), save=True)
    return incident


def test_owner_deletes_a_withdrawn_incident_with_its_files(
    client, officeholder, private_storage_in_tmp, django_capture_on_commit_callbacks
):
    """After confirming, the withdrawn incident and its evidence file are gone for good."""
    incident = _withdrawn_with_file(officeholder)
    client.force_login(officeholder)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert reverse("incidents:delete", kwargs={"reference": incident.reference}) in page
    url = reverse("incidents:delete", kwargs={"reference": incident.reference})

    assert client.post(url, {}).status_code == 200  # no confirmation: nothing happens
    assert Incident.objects.filter(pk=incident.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert not Incident.objects.filter(pk=incident.pk).exists()
    assert not [p for p in private_storage_in_tmp.rglob("*") if p.is_file()]


def test_only_a_withdrawn_incident_can_be_deleted(client, officeholder):
    """An incident in any other status stays, with a clear message."""
    incident = IncidentFactory(officeholder=officeholder)
    client.force_login(officeholder)
    url = reverse("incidents:delete", kwargs={"reference": incident.reference})
    response = client.post(url, {"confirm": "yes"}, follow=True)
    assert "Alleen een ingetrokken melding kunt u verwijderen." in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED
    with pytest.raises(TransitionNotAllowed):
        services.incident_delete_withdrawn(incident=incident, actor=officeholder)


def test_only_the_owner_can_delete(client, officeholder, registrar):
    """Another officeholder gets 404; the service refuses anyone but the owner."""
    incident = IncidentFactory(officeholder=officeholder, withdrawn=True)
    stranger = UserFactory(organisation=officeholder.organisation)
    client.force_login(stranger)
    url = reverse("incidents:delete", kwargs={"reference": incident.reference})
    assert client.post(url, {"confirm": "yes"}).status_code == 404
    for actor in (stranger, registrar):
        with pytest.raises(TransitionNotAllowed):
            services.incident_delete_withdrawn(incident=incident, actor=actor)
    assert Incident.objects.filter(pk=incident.pk).exists()
