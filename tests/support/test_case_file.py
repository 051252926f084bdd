"""The printable case file ("Dossier als PDF") of the desk's incident page and the team's page.

Each is a real PDF built from that person's own page reads: it holds the reference, the facts,
the timeline, the evidence fingerprints and (the team's) the support plan; staff names only
when asked; never what that person's page does not show; 404 exactly like the page; and one
access log entry per PDF.
"""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from incidents import services as incident_services
from incidents.constants import EvidenceKind
from incidents.models import Evidence
from portal.models import AccessAction, AccessLogEntry
from support.constants import ServiceType
from tests.conftest import verified_login
from tests.factories import (
    DeskFactory,
    IncidentFactory,
    OrganisationFactory,
    UserFactory,
    case_act,
)
from tests.support import escalated_case

pytestmark = pytest.mark.django_db

DESCRIPTION = "Een man schreeuwde en duwde mij tegen de deur van het gemeentehuis."
FINGERPRINT = "ab" * 32
ORIGINAL_FINGERPRINT = "cd" * 32
SHARED_ACTION = "Juridisch advies over de aangifte."
TEAM_ONLY_ACTION = "Afspraak met de advocaat over de buurman op de Dorpsstraat."
NOTE = "Notitie: de ambtsdrager belt liever na 17 uur."


@pytest.fixture
def world(db):
    """An escalated incident with a photo, a note, a registrar with a name and a team member
    with a name who acknowledged the case and planned one shared and one team-only action."""
    desk = DeskFactory(name="Meldpunt Utrecht")
    officeholder = UserFactory(organisation=OrganisationFactory(desk=desk))
    registrar = UserFactory(registrar=True, desk=desk, first_name="Sanne", last_name="de Vries")
    member = UserFactory(support=True, first_name="Fatima", last_name="El Amrani")
    case = escalated_case(officeholder=officeholder, description=DESCRIPTION)
    incident = case.incident
    Evidence.objects.create(
        incident=incident,
        uploaded_by=officeholder,
        file=f"evidence/{incident.pk}/{1:032x}",
        original_name="foto-deur.jpg",
        kind=EvidenceKind.IMAGE,
        content_type="image/jpeg",
        size=2048,
        sha256=FINGERPRINT,
        original_sha256=ORIGINAL_FINGERPRINT,
        uploaded_at=timezone.now(),
    )
    incident_services.note_add(incident=incident, actor=registrar, body=NOTE)
    case = case_act(case, member, "acknowledge")
    for service_type, description, shared in (
        (ServiceType.LEGAL_HELP, SHARED_ACTION, True),
        (ServiceType.AFTERCARE_FAMILY, TEAM_ONLY_ACTION, False),
    ):
        case_act(
            case,
            member,
            "add_action",
            service_type=service_type,
            owner=member,
            description=description,
            shared_with_desk=shared,
        )
    return {"incident": incident, "registrar": registrar, "member": member, "desk": desk}


def _desk_url(incident, **query) -> str:
    url = reverse("desk:case_file", kwargs={"reference": incident.reference})
    return url + ("?names=on" if query.get("names") else "")


def _support_url(incident, **query) -> str:
    url = reverse("support:case_file", kwargs={"reference": incident.reference})
    return url + ("?names=on" if query.get("names") else "")


def _pdf(client, user, url):
    """The PDF at `url` for `user`: the reader, its text, its text without any space, and the
    response."""
    response = verified_login(client, user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text, re.sub(r"\s+", "", text), response


def test_desk_case_file_is_a_pdf_with_the_facts_timeline_and_fingerprints(client, world):
    incident = world["incident"]
    reader, text, flat, response = _pdf(client, world["registrar"], _desk_url(incident))
    assert response["Content-Disposition"] == (
        f'attachment; filename="{incident.reference}-dossier.pdf"'
    )
    assert reader.metadata.title == f"Dossier {incident.reference}"
    assert incident.reference in text
    assert re.sub(r"\s+", "", DESCRIPTION) in flat
    assert re.sub(r"\s+", "", incident.summary) in flat
    assert "foto-deur.jpg" in text
    assert FINGERPRINT in flat
    assert ORIGINAL_FINGERPRINT in flat
    assert "Tijdlijn" in text
    assert re.sub(r"\s+", "", NOTE) in flat  # the desk's page shows its notes


def test_support_case_file_holds_the_plan_and_the_fingerprints(client, world):
    incident = world["incident"]
    reader, text, flat, _ = _pdf(client, world["member"], _support_url(incident))
    assert reader.metadata.title == f"Dossier {incident.reference}"
    assert incident.reference in text
    assert re.sub(r"\s+", "", DESCRIPTION) in flat
    assert "Ondersteuningsplan" in text
    assert "Juridischehulp" in flat
    assert re.sub(r"\s+", "", SHARED_ACTION) in flat
    assert re.sub(r"\s+", "", TEAM_ONLY_ACTION) in flat
    assert FINGERPRINT in flat


def test_staff_names_appear_only_when_asked(client, world):
    incident = world["incident"]
    incident_services.note_add(incident=incident, actor=world["member"], body="Nog een notitie.")
    _, desk_text, desk_flat, _ = _pdf(client, world["registrar"], _desk_url(incident))
    _, support_text, support_flat, _ = _pdf(client, world["member"], _support_url(incident))
    for flat in (desk_flat, support_flat):
        assert "SannedeVries" not in flat
        assert "FatimaElAmrani" not in flat
        assert "MeldpuntUtrecht" in flat
        assert "Ondersteuningsteam" in flat
    assert "Namen van medewerkers staan er niet in" in re.sub(r"\s+", " ", support_text)

    client.logout()
    _, _, desk_flat, _ = _pdf(client, world["registrar"], _desk_url(incident, names=True))
    _, _, support_flat, _ = _pdf(client, world["member"], _support_url(incident, names=True))
    assert "SannedeVries" in desk_flat  # the registrar wrote the note
    assert "FatimaElAmrani" in desk_flat  # the member's note
    assert "FatimaElAmrani" in support_flat  # casemanager and owner of the actions
    assert "SannedeVries" in support_flat


def test_the_desk_case_file_holds_nothing_its_page_does_not_show(client, world):
    """The desk's page has no support plan and no team-only action: neither has its PDF."""
    incident = world["incident"]
    page = verified_login(client, world["registrar"]).get(
        reverse("desk:detail", kwargs={"reference": incident.reference})
    )
    assert TEAM_ONLY_ACTION not in page.content.decode()
    _, text, flat, _ = _pdf(client, world["registrar"], _desk_url(incident, names=True))
    assert "Ondersteuningsplan" not in text
    assert re.sub(r"\s+", "", TEAM_ONLY_ACTION) not in flat
    assert "Nazorgvoorpartnerengezin" not in flat


def test_out_of_scope_answers_404_like_the_page(client, world):
    """Another desk, the officeholder, the administrator and the other workspace: 404 on the
    PDF exactly as on the page, and nothing is logged."""
    incident = world["incident"]
    other_registrar = UserFactory(registrar=True)
    outsiders = {
        "desk": (other_registrar, incident.officeholder, world["member"], UserFactory(admin=True)),
        "support": (world["registrar"], incident.officeholder, UserFactory(admin=True)),
    }
    pages = {
        "desk": (reverse("desk:detail", kwargs={"reference": incident.reference}), _desk_url),
        "support": (
            reverse("support:case", kwargs={"reference": incident.reference}),
            _support_url,
        ),
    }
    for side, users in outsiders.items():
        page_url, pdf_url = pages[side]
        for user in users:
            verified_login(client, user)
            assert client.get(page_url).status_code == 404, (side, user)
            assert client.get(pdf_url(incident)).status_code == 404, (side, user)
            client.logout()
    # An incident that was never escalated has no case page, so no case file for the team.
    never = IncidentFactory()
    verified_login(client, world["member"])
    assert client.get(_support_url(never)).status_code == 404
    assert not AccessLogEntry.objects.filter(action=AccessAction.PRINT_CASE_FILE).exists()


def test_each_case_file_is_logged_like_a_page_view(client, world):
    incident = world["incident"]
    _pdf(client, world["registrar"], _desk_url(incident))
    client.logout()
    _pdf(client, world["member"], _support_url(incident, names=True))
    entries = list(
        AccessLogEntry.objects.filter(action=AccessAction.PRINT_CASE_FILE).order_by("at", "pk")
    )
    assert [(e.actor, e.what, e.reference) for e in entries] == [
        (world["registrar"], "case file PDF (desk)", incident.reference),
        (world["member"], "case file PDF (support)", incident.reference),
    ]
    assert entries[0].desk_id == world["desk"].pk
    assert entries[0].organisation_id == incident.organisation_id


def test_both_pages_offer_the_form_with_a_label(client, world):
    incident = world["incident"]
    for user, page_url, pdf_url in (
        (world["registrar"], reverse("desk:detail", args=[incident.reference]), _desk_url),
        (world["member"], reverse("support:case", args=[incident.reference]), _support_url),
    ):
        html = verified_login(client, user).get(page_url).content.decode()
        assert "Dossier als PDF" in html
        assert f'action="{pdf_url(incident)}"' in html
        assert '<label class="form-check-label" for="case-file-names">' in html
        assert "Namen van medewerkers tonen" in html
        client.logout()
