"""The officeholder makes the summary for the police on a phone (375 px): the choices page
ticks only the safe parts, warns about the home address, works by keyboard, and the button
downloads a PDF that holds what was ticked."""

import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from incidents.constants import Channel, EventKind, EvidenceKind, MessageAudience
from incidents.models import Event, Evidence
from tests.browser.fixtures import assert_accessible, login
from tests.factories import TEST_PASSWORD, IncidentFactory, MessageFactory

pytestmark = pytest.mark.browser

PHONE_375 = {"width": 375, "height": 740}
LOCATION = "Voor mijn huis aan de Lindelaan 7"
MESSAGE = "Wij bellen u morgen over de aangifte."
FINGERPRINT = "ab" * 32


def test_the_officeholder_makes_the_police_summary_on_a_phone(page: Page, officeholder):
    incident = IncidentFactory(
        officeholder=officeholder,
        channel=Channel.AT_HOME,
        location=LOCATION,
        description="Hij bonkte op de deur en schreeuwde mijn naam.",
    )
    Event.objects.create(
        incident=incident,
        kind=EventKind.SUBMITTED,
        actor=officeholder,
        actor_role=officeholder.role,
        created_at=timezone.now(),
        visible_to_officeholder=True,
    )
    Evidence.objects.create(
        incident=incident,
        uploaded_by=officeholder,
        file=f"evidence/{incident.pk}/{1:032x}",
        original_name="foto-deur.jpg",
        kind=EvidenceKind.IMAGE,
        content_type="image/jpeg",
        size=2048,
        sha256=FINGERPRINT,
        original_sha256=FINGERPRINT,
        uploaded_at=timezone.now(),
    )
    message = MessageFactory(incident=incident, body=MESSAGE)
    Event.objects.create(
        incident=incident,
        kind=EventKind.MESSAGE,
        actor=officeholder,
        actor_role=officeholder.role,
        created_at=timezone.now(),
        payload={"message_id": message.pk, "audience": MessageAudience.OFFICEHOLDER_THREAD},
        visible_to_officeholder=True,
    )
    page.set_viewport_size(PHONE_375)
    login(page, officeholder.username, TEST_PASSWORD)
    page.goto(f"/meldingen/{incident.reference}/")
    page.get_by_role("link", name="Samenvatting voor de politie").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Samenvatting voor de politie")
    assert_accessible(page)

    expect(page.get_by_role("checkbox", name=re.compile("foto-deur.jpg"))).to_be_checked()
    expect(page.get_by_role("checkbox", name="Berichten met het meldpunt")).not_to_be_checked()
    expect(page.locator("#location-warning")).to_contain_text("Waar het gebeurde laten we weg")
    where = page.get_by_role("checkbox", name="Toch zetten waar het gebeurde")
    expect(where).not_to_be_checked()
    # By keyboard, after the warning: tick "where", then the button.
    where.focus()
    page.keyboard.press("Space")
    expect(where).to_be_checked()
    page.get_by_role("button", name="PDF downloaden").focus()
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == f"{incident.reference}-politie.pdf"
    reader = PdfReader(io.BytesIO(open(download.path(), "rb").read()))
    flat = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert incident.reference in flat
    assert FINGERPRINT in flat
    assert re.sub(r"\s+", "", LOCATION) in flat
    assert re.sub(r"\s+", "", MESSAGE) not in flat
    # The page stays where it was: another summary can be made at once.
    expect(page.get_by_role("button", name="PDF downloaden")).to_be_visible()
