"""The officeholder's pages through the test client: filing, access, withdraw, uploads, police.

Browser flows are in tests/browser/test_reporting.py; query counts in test_officeholder_queries.
"""

import hashlib
import io
import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import empty
from PIL import Image

from incidents import services
from incidents.constants import (
    EventKind,
    IncidentType,
    MessageAudience,
    ReporterSeverity,
    Status,
    SupportWish,
)
from incidents.evidence import evidence_inspect
from incidents.models import Event, Evidence, Incident, Message, private_storage
from portal.crypto import identifier_hash
from tests.conftest import verified_login
from tests.factories import (
    MessageFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LOGIN_URL = "/account/inloggen/"

# Every officeholder URL that names an incident, with the methods it answers.
INCIDENT_URLS = [
    ("incidents:detail", "get"),
    ("incidents:confirmation", "get"),
    ("incidents:complete", "get"),
    ("incidents:complete", "post"),
    ("incidents:police_summary", "get"),
    ("incidents:follow_up", "post"),
    ("incidents:message", "post"),
    ("incidents:withdraw", "post"),
]
# Pages without an incident in their address.
PLAIN_URLS = [
    ("incidents:list", "get"),
    ("incidents:quick", "get"),
    ("incidents:quick", "post"),
    ("incidents:new", "get"),
    ("incidents:new", "post"),
]


@pytest.fixture(autouse=True)
def private_storage_root(settings, tmp_path):
    """Evidence goes to a throwaway directory, never to var/private of the developer."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    private_storage._wrapped = empty
    yield settings.PRIVATE_STORAGE_ROOT
    private_storage._wrapped = empty


def _jpeg(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="JPEG")
    return out.getvalue()


def _submitted(officeholder, *, summary="Uitgescholden bij de markt.", with_file=True) -> Incident:
    """An incident filed through the real service, with a stored photo and a message."""
    files = [evidence_inspect(name="foto.jpg", data=_jpeg())] if with_file else []
    incident = services.incident_submit(
        officeholder=officeholder,
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "occurred_on": timezone.localdate(),
            "summary": summary,
        },
        quick=True,
        files=files,
    )
    services.message_send(
        incident=incident,
        actor=officeholder,
        audience=MessageAudience.OFFICEHOLDER_THREAD,
        body=f"Geheim bericht bij {incident.reference}",
    )
    return incident


def _url(name, incident) -> str:
    return reverse(name, kwargs={"reference": incident.reference})


def _full_report_data(**overrides) -> dict:
    data = {
        "submission_token": str(uuid.uuid4()),
        "types": [IncidentType.THREAT],
        "occurred_on": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "occurred_at": "",
        "summary": "Bedreigd na de raadsvergadering.",
        "description": "Hij riep dat hij wist waar ik woon.",
        "location": "Stadhuisplein",
        "channel": "in_person_public",
        "platform": "",
        "links": "",
        "reporter_severity": ReporterSeverity.SERIOUS,
        "perpetrator_known": "",
        "perpetrator_kind": "",
        "perpetrator_relation": "",
        "perpetrator_description": "",
        "handles": "",
        "emails": "",
        "phones": "",
        "support_wish": SupportWish.CONTACT_WITH_DESK,
    }
    data.update(overrides)
    return data


def _quick_report_data(**overrides) -> dict:
    data = {
        "submission_token": str(uuid.uuid4()),
        "types": [IncidentType.INTIMIDATION],
        "occurred_on": timezone.localdate().isoformat(),
        "occurred_at": "",
        "summary": "Iemand volgde mij naar mijn auto.",
    }
    data.update(overrides)
    return data


def _text(response) -> str:
    return response.content.decode()


# --- Filing ------------------------------------------------------------------------------------


def test_quick_report_registers_a_quick_incident_and_shows_the_confirmation(client, officeholder):
    """A quick report gets a reference and a triage deadline at once and is marked as quick."""
    client.force_login(officeholder)
    response = client.post(reverse("incidents:quick"), _quick_report_data())
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("incidents:confirmation", incident)
    assert re.fullmatch(r"MWB-\d{4}-\d{6}", incident.reference)
    assert incident.is_quick is True
    assert incident.status == Status.SUBMITTED
    assert incident.organisation == officeholder.organisation
    assert incident.desk == officeholder.organisation.desk
    assert list(incident.events.values_list("kind", flat=True)) == [EventKind.SUBMITTED]


def test_same_submission_token_twice_files_one_incident(client, officeholder):
    """Posting the same form twice (a double click) files one incident; both land on it."""
    client.force_login(officeholder)
    data = _quick_report_data()
    first = client.post(reverse("incidents:quick"), data)
    second = client.post(reverse("incidents:quick"), data)
    assert Incident.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert Event.objects.filter(kind=EventKind.SUBMITTED).count() == 1


def test_full_report_stores_facts_and_normalised_identifiers(client, officeholder):
    """The full report stores every fact and the perpetrator's identifiers in normal form."""
    client.force_login(officeholder)
    data = _full_report_data(
        perpetrator_known="known",
        perpetrator_kind="individual",
        handles="https://x.com/Jan_Boos?s=20",
        phones="06 12345678",
        emails="Boos@Example.NL",
    )
    response = client.post(reverse("incidents:new"), data)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert incident.is_quick is False
    assert incident.description == "Hij riep dat hij wist waar ik woon."
    assert incident.support_wish == SupportWish.CONTACT_WITH_DESK
    assert sorted(incident.identifiers.values_list("kind", "normalised")) == [
        ("email", identifier_hash("boos@example.nl")),
        ("handle", identifier_hash("jan_boos")),
        ("phone", identifier_hash("+31612345678")),
    ]


def test_confirmation_shows_112_and_the_configured_support_phone(client, officeholder):
    """The confirmation names the emergency number and the team's phone text from the admin."""
    from portal.selectors import site_configuration_get

    configuration = site_configuration_get()
    configuration.support_team_phone = "070 - 123 45 67 (dag en nacht)"
    configuration.save()
    incident = _submitted(officeholder)
    client.force_login(officeholder)
    text = _text(client.get(_url("incidents:confirmation", incident)))
    assert incident.reference in text
    assert 'Bij acuut gevaar: bel <a href="tel:112">112</a>.' in text
    assert '<a href="tel:+31701234567" class="tel-link">+31 70 1234567</a> (dag en nacht)' in text


def test_confirmation_shows_911_for_a_caribbean_organisation(client):
    """An officeholder of a BES island sees 911 on the confirmation, not 112."""
    officeholder = UserFactory(organisation=OrganisationFactory(caribbean=True))
    incident = _submitted(officeholder)
    client.force_login(officeholder)
    text = _text(client.get(_url("incidents:confirmation", incident)))
    assert 'Bij acuut gevaar: bel <a href="tel:911">911</a>.' in text
    assert "bel 112" not in text


def test_future_date_and_unknown_perpetrator_with_handle_keep_the_typed_text(client, officeholder):
    """The date error is shown in Dutch and everything typed comes back in the form. An
    unknown perpetrator with a handle is no error: an anonymous account is still an account
    the desk can recognise."""
    client.force_login(officeholder)
    data = _full_report_data(
        occurred_on=(timezone.localdate() + timedelta(days=3)).isoformat(),
        perpetrator_known="unknown",
        handles="@boze_burger",
    )
    response = client.post(reverse("incidents:new"), data)
    text = _text(response)
    assert response.status_code == 200
    assert Incident.objects.count() == 0
    assert "Deze datum ligt in de toekomst." in text
    assert "maar vulde wel gegevens van de dader" not in text
    assert 'value="Bedreigd na de raadsvergadering."' in text
    assert "Hij riep dat hij wist waar ik woon." in text
    assert "@boze_burger" in text


# --- Evidence uploads --------------------------------------------------------------------------


def test_html_named_as_photo_is_rejected_by_name_and_reason_keeping_the_fields(
    client, officeholder
):
    """An HTML file called photo.jpg is refused: the message names it and says why."""
    client.force_login(officeholder)
    fake = SimpleUploadedFile(
        "photo.jpg", b"<!doctype html><script>alert(1)</script>", content_type="image/jpeg"
    )
    response = client.post(reverse("incidents:new"), {**_full_report_data(), "evidence": fake})
    text = _text(response)
    assert response.status_code == 200
    assert Incident.objects.count() == 0
    assert "photo.jpg: Dit bestand is geen leesbare foto of PDF" in text
    assert 'value="Bedreigd na de raadsvergadering."' in text
    assert "Hij riep dat hij wist waar ik woon." in text
    assert 'value="Stadhuisplein"' in text


def test_file_over_10_mb_is_rejected_by_name_and_reason_keeping_the_fields(client, officeholder):
    """A file of 10 MB and one byte is refused with its name; nothing is stored."""
    client.force_login(officeholder)
    too_big = SimpleUploadedFile(
        "opname.txt", b"a" * (10 * 1024 * 1024 + 1), content_type="text/plain"
    )
    response = client.post(
        reverse("incidents:quick"), {**_quick_report_data(), "evidence": too_big}
    )
    text = _text(response)
    assert response.status_code == 200
    assert Incident.objects.count() == 0
    assert Evidence.objects.count() == 0
    assert "opname.txt: Het bestand is groter dan 10 MB." in text
    assert 'value="Iemand volgde mij naar mijn auto."' in text


def test_uploaded_photo_is_stored_with_its_fingerprint_and_downloadable_by_its_owner(
    client, officeholder, committed
):
    """A photo is stored privately, its SHA-256 is shown, and only its owner downloads it
    (once the worker, here run at the commit, has cleaned it)."""
    client.force_login(officeholder)
    photo = SimpleUploadedFile("foto.jpg", _jpeg(), content_type="image/jpeg")
    with committed():
        client.post(reverse("incidents:new"), {**_full_report_data(), "evidence": photo})
    evidence = Evidence.objects.get()
    assert evidence.original_sha256 == hashlib.sha256(_jpeg()).hexdigest()
    assert evidence.original_sha256 in _text(client.get(evidence.incident.get_absolute_url()))
    with evidence.file.open("rb") as stored:
        stored_bytes = stored.read()
    fingerprint = hashlib.sha256(stored_bytes).hexdigest()
    assert evidence.sha256 == fingerprint
    assert evidence.file.path.startswith(str(private_storage.location))
    assert fingerprint in _text(client.get(evidence.incident.get_absolute_url()))
    download = client.get(evidence.get_absolute_url())
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == stored_bytes


# --- Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method"), INCIDENT_URLS)
def test_officeholder_of_another_organisation_gets_404(client, officeholder, name, method):
    """Someone else's incident answers 404 on every page and action, and nothing changes."""
    theirs = _submitted(officeholder)
    intruder = UserFactory(organisation=OrganisationFactory())
    assert intruder.organisation != officeholder.organisation
    client.force_login(intruder)
    data = {
        "body": "Ik lees mee",
        "text": "Ik vul aan",
        "version": theirs.version,
        "reason": "",
        **_full_report_data(),
    }
    response = getattr(client, method)(_url(name, theirs), data if method == "post" else None)
    assert response.status_code == 404
    assert "Uitgescholden bij de markt." not in _text(response)
    theirs.refresh_from_db()
    assert theirs.status == Status.SUBMITTED
    assert theirs.version == 1
    assert theirs.summary == "Uitgescholden bij de markt."
    assert Message.objects.filter(incident=theirs).count() == 1
    assert not theirs.events.filter(actor=intruder).exists()


def test_officeholder_of_another_organisation_cannot_download_evidence(client, officeholder):
    """An evidence file of someone else's incident answers 404, also for a wrong reference."""
    theirs = _submitted(officeholder)
    evidence = theirs.evidence.get()
    intruder = UserFactory(organisation=OrganisationFactory())
    mine = _submitted(intruder)
    client.force_login(intruder)
    assert client.get(evidence.get_absolute_url()).status_code == 404
    # Their file under my own reference: still not found.
    url = reverse(
        "incidents:evidence_download", kwargs={"reference": mine.reference, "pk": evidence.pk}
    )
    assert client.get(url).status_code == 404
    assert client.post(evidence.get_absolute_url()).status_code == 405


def test_officeholder_never_sees_messages_of_another_organisation(client, officeholder):
    """Messages stay in their own incident's thread: the other officeholder sees none of them."""
    theirs = _submitted(officeholder)
    intruder = UserFactory(organisation=OrganisationFactory())
    mine = _submitted(intruder, summary="Mijn eigen melding.")
    client.force_login(intruder)
    own_page = _text(client.get(mine.get_absolute_url()))
    assert f"Geheim bericht bij {mine.reference}" in own_page
    assert f"Geheim bericht bij {theirs.reference}" not in own_page
    for page in ("incidents:list", "home"):
        assert theirs.reference not in _text(client.get(reverse(page)))
    client.force_login(officeholder)
    assert f"Geheim bericht bij {theirs.reference}" in _text(client.get(theirs.get_absolute_url()))


def test_colleague_of_the_same_organisation_gets_404_too(client, officeholder):
    """Only the officeholder who filed an incident sees it, not a colleague of the same council."""
    theirs = _submitted(officeholder)
    colleague = UserFactory(organisation=officeholder.organisation)
    client.force_login(colleague)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(theirs.evidence.get().get_absolute_url()).status_code == 404


def test_staff_messages_are_not_shown_to_the_officeholder(client, officeholder):
    """The staff channel between desk and support never reaches the officeholder's page."""
    incident = _submitted(officeholder)
    MessageFactory(incident=incident, staff=True, body="Alleen voor het meldpunt en team.")
    client.force_login(officeholder)
    assert "Alleen voor het meldpunt en team." not in _text(client.get(incident.get_absolute_url()))


@pytest.mark.parametrize("role", ["registrar", "support", "admin"])
def test_other_roles_get_404_on_officeholder_pages(client, officeholder, role):
    """Registrars (even of the incident's desk), support and admins get 404 on these pages."""
    incident = _submitted(officeholder)
    if role == "registrar":
        user = UserFactory(registrar=True, desk=incident.desk)
    else:
        user = UserFactory(**{role: True})
    verified_login(client, user)
    for name, method in PLAIN_URLS:
        response = getattr(client, method)(reverse(name), {})
        assert response.status_code == 404, (name, method)
    for name, method in INCIDENT_URLS:
        response = getattr(client, method)(_url(name, incident), {})
        assert response.status_code == 404, (name, method)
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


@pytest.mark.parametrize("role", ["support", "admin"])
def test_support_and_admin_cannot_download_evidence_of_a_non_escalated_incident(
    client, officeholder, role
):
    """Evidence is served only to who may see the incident: not support (not escalated), admin."""
    incident = _submitted(officeholder)
    verified_login(client, UserFactory(**{role: True}))
    assert client.get(incident.evidence.get().get_absolute_url()).status_code == 404


def test_anonymous_visitor_is_sent_to_the_login_page(client, officeholder):
    """Every officeholder page and the evidence download redirect an anonymous visitor to login."""
    incident = _submitted(officeholder)
    urls = [(reverse(name), method) for name, method in PLAIN_URLS]
    urls += [(_url(name, incident), method) for name, method in INCIDENT_URLS]
    urls.append((incident.evidence.get().get_absolute_url(), "get"))
    for url, method in urls:
        response = getattr(client, method)(url, {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{LOGIN_URL}?next="), url
    assert Incident.objects.count() == 1


# --- Withdraw ----------------------------------------------------------------------------------


def test_withdraw_is_allowed_while_submitted(client, officeholder):
    """Before the desk started, the officeholder withdraws; the reason is in the timeline."""
    incident = _submitted(officeholder)
    client.force_login(officeholder)
    page = _text(client.get(incident.get_absolute_url()))
    assert "Melding intrekken" in page
    response = client.post(
        _url("incidents:withdraw", incident),
        {"version": incident.version, "reason": "Het is opgelost."},
        follow=True,
    )
    incident.refresh_from_db()
    assert incident.status == Status.WITHDRAWN
    event = incident.events.get(kind=EventKind.STATUS_CHANGED)
    assert event.payload == {
        "from": Status.SUBMITTED,
        "to": Status.WITHDRAWN,
        "reason": "Het is opgelost.",
        "outcome": "",
        "outcome_category": "",
    }
    text = _text(response)
    assert "Uw melding is ingetrokken." in text
    assert "Het is opgelost." in text
    assert "Meer informatie of een bestand" not in text


def test_withdraw_is_refused_once_the_desk_took_the_incident(client, officeholder):
    """After the desk took it into triage, withdrawing is refused with a clear message."""
    incident = _submitted(officeholder)
    version = incident.version
    registrar = UserFactory(registrar=True, desk=incident.desk)
    incident = services.incident_act(
        action="take", incident=incident, actor=registrar, version=version
    )
    client.force_login(officeholder)
    page = _text(client.get(incident.get_absolute_url()))
    assert "Melding intrekken" not in page
    response = client.post(
        _url("incidents:withdraw", incident),
        {"version": incident.version, "reason": "Toch maar niet."},
        follow=True,
    )
    assert response.status_code == 200
    assert "Het meldpunt is al met uw melding begonnen" in _text(response)
    refreshed = Incident.objects.get(pk=incident.pk)
    assert refreshed.status == Status.IN_TRIAGE
    assert refreshed.version == incident.version
    assert not any(event.payload.get("to") == Status.WITHDRAWN for event in refreshed.events.all())


# --- Complete, follow-up, messages -------------------------------------------------------------


def test_quick_report_is_completed_into_a_full_one(client, officeholder):
    """Completing a quick report stores the new facts and it is no longer quick."""
    incident = _submitted(officeholder, with_file=False)
    client.force_login(officeholder)
    form_page = _text(client.get(_url("incidents:complete", incident)))
    assert 'value="Uitgescholden bij de markt."' in form_page
    data = _full_report_data(version=incident.version, summary="Uitgescholden bij de markt.")
    del data["submission_token"]
    response = client.post(_url("incidents:complete", incident), data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.is_quick is False
    assert incident.reporter_severity == ReporterSeverity.SERIOUS
    assert incident.events.filter(kind=EventKind.COMPLETED).count() == 1


def test_completing_against_an_older_version_keeps_the_typed_text(client, officeholder):
    """A change made meanwhile refuses the save with a clear message; the typed text stays."""
    incident = _submitted(officeholder, with_file=False)
    old_version = incident.version
    services.incident_complete(
        incident=incident,
        actor=officeholder,
        facts={"summary": "Ander venster"},
        identifiers=[],
        version=old_version,
    )
    client.force_login(officeholder)
    data = _full_report_data(version=old_version, description="Mijn lange verhaal.")
    del data["submission_token"]
    response = client.post(_url("incidents:complete", incident), data)
    text = _text(response)
    assert response.status_code == 200
    assert "intussen door iemand anders gewijzigd" in text
    assert "Mijn lange verhaal." in text
    incident.refresh_from_db()
    assert incident.description == ""


def test_follow_up_adds_text_and_a_file_to_the_timeline(client, officeholder):
    """New information with a photo is stored and shown in the timeline and the evidence list."""
    incident = _submitted(officeholder, with_file=False)
    client.force_login(officeholder)
    photo = SimpleUploadedFile("nieuw.jpg", _jpeg((0, 90, 0)), content_type="image/jpeg")
    response = client.post(
        _url("incidents:follow_up", incident),
        {"text": "Hij stond er vanavond weer.", "evidence": photo},
        follow=True,
    )
    text = _text(response)
    assert "Uw aanvulling is toegevoegd aan de melding." in text
    assert "Hij stond er vanavond weer." in text
    assert "nieuw.jpg" in text
    assert incident.evidence.count() == 1


def test_empty_message_is_refused_next_to_the_field(client, officeholder):
    """An empty message gives a Dutch error and stores nothing."""
    incident = _submitted(officeholder, with_file=False)
    client.force_login(officeholder)
    response = client.post(_url("incidents:message", incident), {"body": "  "})
    assert response.status_code == 200
    assert "Schrijf een bericht." in _text(response)
    assert incident.messages.count() == 1


def test_html_in_a_message_and_summary_is_escaped(client, officeholder):
    """Markup typed by the officeholder is shown as text on the detail page."""
    incident = _submitted(officeholder, summary="<script>alert('x')</script>", with_file=False)
    client.force_login(officeholder)
    client.post(_url("incidents:message", incident), {"body": "<b onmouseover=alert(1)>hoi</b>"})
    text = _text(client.get(incident.get_absolute_url()))
    assert "<script>alert('x')</script>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "&lt;b onmouseover=alert(1)&gt;hoi&lt;/b&gt;" in text


# --- Police summary ----------------------------------------------------------------------------


def test_police_summary_offers_each_file_and_keeps_the_private_parts_unticked(client, officeholder):
    """The choices page lists each file by name and time; the message thread, the views and
    the health effects start unticked (what the PDF then holds: test_police_summary.py)."""
    incident = _submitted(officeholder)
    evidence = incident.evidence.get()
    client.force_login(officeholder)
    response = client.get(_url("incidents:police_summary", incident))
    assert response.status_code == 200
    text = _text(response)
    assert evidence.original_name in text
    assert f'value="{evidence.pk}"' in text
    form = response.context["form"]
    assert form["evidence"].value() == [evidence.pk]
    assert not any(form[name].value() for name in ("messages", "views", "impacts"))
    assert f"Geheim bericht bij {incident.reference}" not in text


def test_full_report_and_completion_keep_a_number_and_a_contact_wish_for_this_incident(
    client, officeholder, registrar
):
    """The full report asks for a number and how and when to call, for this incident only;
    the desk's page shows them, and "aanvullen" can change them. A bad number is refused
    with the form kept."""
    client.force_login(officeholder)
    refused = client.post(reverse("incidents:new"), _full_report_data(contact_phone="bel mij"))
    assert refused.status_code == 200
    assert not Incident.objects.exists()
    assert 'value="bel mij"' in _text(refused)

    data = _full_report_data(contact_phone="06 87654321", contact_preference="Na 17.00 uur")
    assert client.post(reverse("incidents:new"), data).status_code == 302
    incident = Incident.objects.get()
    assert (incident.contact_phone, incident.contact_preference) == ("+31687654321", "Na 17.00 uur")

    data = _full_report_data(version=incident.version, contact_preference="Liever een sms")
    del data["submission_token"]
    assert client.post(_url("incidents:complete", incident), data).status_code == 302
    incident.refresh_from_db()
    assert incident.contact_preference == "Liever een sms"
    assert incident.contact_phone == ""

    verified_login(client, registrar)
    desk_page = _text(client.get(reverse("desk:detail", args=[incident.reference])))
    assert "Liever een sms" in desk_page
