"""Officeholders report incidents in a real browser: quick, full, with evidence, and follow up.

Every page visited is checked with axe (WCAG 2.1 A/AA) at desktop width and at 320 px.
"""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.functional import empty
from PIL import Image
from playwright.sync_api import Page, expect

from incidents import services
from incidents.constants import EventKind, IncidentType, Status
from incidents.models import Evidence, Incident, private_storage
from portal.models import SiteConfiguration, User
from tests.browser.fixtures import assert_accessible, login

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "weerbaar-demo"
REFERENCE = re.compile(r"MWB-\d{4}-\d{6}")
GPS_IFD = 0x8825
MAKE = 0x010F


@pytest.fixture(autouse=True)
def private_storage_root(settings, tmp_path):
    """The live server stores evidence in a throwaway directory (the storage is built lazily)."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    private_storage._wrapped = empty
    yield settings.PRIVATE_STORAGE_ROOT
    private_storage._wrapped = empty


@pytest.fixture
def no_dialogs(page: Page):
    """Fails the test when any alert/confirm/prompt opens: typed markup must never run."""
    opened: list[str] = []

    def record(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    yield opened
    assert opened == [], f"A dialog opened, so typed script ran: {opened}"


def _jpeg_with_gps(path) -> None:
    """A small photo with a camera make and a GPS position (Utrecht city hall) in its EXIF."""
    exif = Image.Exif()
    exif[MAKE] = "Testcamera"
    exif[GPS_IFD] = {
        1: "N",  # GPSLatitudeRef
        2: (52.0, 5.0, 26.0),  # GPSLatitude
        3: "E",  # GPSLongitudeRef
        4: (5.0, 7.0, 9.0),  # GPSLongitude
    }
    Image.new("RGB", (120, 90), (180, 40, 40)).save(path, format="JPEG", exif=exif)


def _main(page: Page):
    return page.get_by_role("main")


def _submit_quick_report(page: Page, summary: str, type_label: str = "Bedreiging") -> None:
    page.get_by_label(type_label, exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill(summary)
    page.get_by_role("button", name="Melding versturen").click()


def test_quick_report_end_to_end_and_completed_later(page, demo_data, escalation_rules_off):
    """Home → Snel melden → confirmation with reference, 112 and team phone → list → complete."""
    # The demo data gives this account earlier incidents, so "3 in 30 days" would escalate
    # the new one; this test is about filing, so the escalation rules are off.
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    assert_accessible(page)
    _main(page).get_by_role("link", name="Snel melden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Snel melden")
    expect(_main(page)).to_contain_text("Wie leest uw melding? Meldpunt Utrecht")
    assert_accessible(page)

    _submit_quick_report(page, "Man schreeuwde dat hij me zou opwachten.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    reference = page.locator(".reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    support_phone = SiteConfiguration.objects.get().support_team_phone
    assert support_phone
    expect(_main(page)).to_contain_text("Bij acuut gevaar: bel 112.")
    # The team's number is a tap-to-call link in international form (+31...).
    team_line = _main(page).locator("p", has_text="Ondersteuningsteam Weerbaar Bestuur:")
    expect(team_line.locator('a[href^="tel:+31"]')).to_have_count(1)
    expect(team_line).to_contain_text("dag en nacht")
    assert_accessible(page)

    incident = Incident.objects.get(reference=reference)
    assert incident.is_quick is True
    assert incident.officeholder.username == "wethouder.utrecht"
    assert incident.status == Status.SUBMITTED

    page.get_by_role("link", name="Mijn meldingen", exact=True).click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("snelle melding")
    expect(row).to_contain_text("Bedreiging")
    expect(row).to_contain_text("Ontvangen")
    assert_accessible(page)

    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Melding {reference}")
    assert_accessible(page)
    page.get_by_text("Iets toevoegen", exact=True).click()
    _main(page).get_by_role("link", name="Vertel meer over wat er gebeurde").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Melding {reference} aanvullen")
    expect(page.get_by_label("Wat gebeurde er, in één zin?")).to_have_value(
        "Man schreeuwde dat hij me zou opwachten."
    )
    assert_accessible(page)
    page.get_by_label("Vertel wat er gebeurde (mag leeg)").fill("Het was na de raadsvergadering.")
    page.get_by_label("Ernstig", exact=True).check()
    page.get_by_label("Ik wil contact met het meld- en steunpunt").check()
    page.get_by_role("button", name="Aanvulling opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Uw melding is aangevuld.")
    expect(page.locator(".facts")).to_contain_text("Het was na de raadsvergadering.")
    expect(page.locator(".timeline")).to_contain_text("Melding aangevuld")
    assert_accessible(page)
    incident.refresh_from_db()
    assert incident.is_quick is False
    assert incident.description == "Het was na de raadsvergadering."


def test_full_report_with_photo_strips_gps_and_shows_the_fingerprint(page, demo_data, tmp_path):
    """A JPEG with GPS is stored without any EXIF; the page shows the stored file's SHA-256."""
    photo = tmp_path / "foto-met-gps.jpg"
    _jpeg_with_gps(photo)
    source = photo.read_bytes()
    with Image.open(io.BytesIO(source)) as original:
        exif = original.getexif()
        assert exif.get(MAKE) == "Testcamera"
        assert exif.get_ifd(GPS_IFD).get(2) == (52.0, 5.0, 26.0)

    login(page, "raadslid.utrecht", DEMO_PASSWORD)
    _main(page).get_by_role("link", name="Volledige melding doen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Volledige melding")
    assert_accessible(page)
    page.get_by_label("Intimidatie", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill("Foto van mijn huis op Facebook gezet.")
    page.get_by_label("Hoe gebeurde het?").select_option("social_media")
    page.get_by_label("Welk platform? (alleen bij online)").fill("Facebook")
    page.get_by_label("Een beetje ernstig", exact=True).check()
    page.get_by_label("Alleen registreren").check()
    page.get_by_label("Bewijsstukken (mag leeg)").set_input_files(str(photo))
    page.get_by_role("button", name="Melding versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    assert_accessible(page)

    evidence = Evidence.objects.get(incident__officeholder__username="raadslid.utrecht")
    with evidence.file.open("rb") as stored_file:
        stored = stored_file.read()
    assert stored != source
    with Image.open(io.BytesIO(stored)) as cleaned:
        assert cleaned.format == "JPEG"
        assert "exif" not in cleaned.info
        assert len(cleaned.getexif()) == 0
        assert cleaned.getexif().get_ifd(GPS_IFD) == {}
    assert b"Exif" not in stored
    assert b"Testcamera" not in stored
    fingerprint = hashlib.sha256(stored).hexdigest()
    assert evidence.sha256 == fingerprint

    _main(page).get_by_role("link", name="Naar mijn melding").click()
    evidence_list = page.locator(".evidence-list")
    expect(evidence_list).to_contain_text("foto-met-gps.jpg")
    expect(evidence_list.locator("code.fingerprint")).to_be_hidden()
    evidence_list.get_by_text("Technische gegevens").click()
    expect(evidence_list.locator("code.fingerprint")).to_have_text(fingerprint)
    assert_accessible(page)

    page.get_by_role("link", name="Samenvatting voor de politie").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Samenvatting voor de politie")
    expect(page.get_by_role("checkbox", name=re.compile("foto-met-gps.jpg"))).to_be_checked()
    assert_accessible(page)


def test_validation_errors_are_shown_next_to_the_fields_and_keep_the_typed_text(page, demo_data):
    """A future date (with 'unknown perpetrator' and a handle, which is fine): a Dutch error,
    nothing lost."""
    future = (timezone.localdate() + timedelta(days=5)).isoformat()
    before = Incident.objects.count()
    login(page, "burgemeester.zwolle", DEMO_PASSWORD)
    page.goto("/meldingen/nieuw/")
    page.get_by_label("Verbale agressie (schelden, beledigen)").check()
    page.get_by_label("Wanneer?").fill(future)
    page.get_by_label("Wat gebeurde er, in één zin?").fill("Uitgescholden op de weekmarkt.")
    page.get_by_label("Vertel wat er gebeurde (mag leeg)").fill("Drie keer, steeds dezelfde man.")
    page.get_by_label("Nee, ik weet niet wie het is").check()
    page.get_by_label("Accounts op sociale media (mag leeg)").fill("@boze_burger")
    page.get_by_label("Heel ernstig").check()
    page.get_by_label("Alleen registreren").check()
    page.get_by_role("button", name="Melding versturen").click()

    expect(page.get_by_role("alert").first).to_contain_text("Er ging iets mis")
    expect(page.locator("#div_id_occurred_on")).to_contain_text(
        "Deze datum ligt in de toekomst. Kies vandaag of een eerdere dag."
    )
    # Not knowing who it is and naming an account do not contradict each other.
    expect(page.locator("#div_id_perpetrator_known")).not_to_contain_text(
        "maar vulde wel gegevens van de dader in"
    )
    expect(page.get_by_label("Wanneer?")).to_have_value(future)
    expect(page.get_by_label("Wanneer?")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Wat gebeurde er, in één zin?")).to_have_value(
        "Uitgescholden op de weekmarkt."
    )
    expect(page.get_by_label("Vertel wat er gebeurde (mag leeg)")).to_have_value(
        "Drie keer, steeds dezelfde man."
    )
    expect(page.get_by_label("Accounts op sociale media (mag leeg)")).to_have_value("@boze_burger")
    expect(page.get_by_label("Verbale agressie (schelden, beledigen)")).to_be_checked()
    expect(page.get_by_label("Heel ernstig")).to_be_checked()
    assert Incident.objects.count() == before
    assert_accessible(page)


def test_message_appears_in_the_thread_and_the_timeline(page, demo_data):
    """A message sent on the detail page shows in the thread and, with the desk's steps, in the
    timeline."""
    officeholder = User.objects.get(username="raadslid.utrecht")
    registrar = User.objects.get(username="meldpunt.utrecht")
    incident = services.incident_submit(
        officeholder=officeholder,
        facts={
            "types": [IncidentType.STALKING],
            "occurred_on": timezone.localdate(),
            "summary": "Dezelfde auto staat steeds voor mijn deur.",
        },
        quick=True,
    )
    services.incident_mark_viewed(incident=incident, actor=registrar)
    services.incident_act(
        action="take", incident=incident, actor=registrar, version=incident.version
    )

    login(page, "raadslid.utrecht", DEMO_PASSWORD)
    page.goto(incident.get_absolute_url())
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Melding ontvangen")
    expect(timeline).to_contain_text("Bekeken door het meldpunt")
    expect(timeline).to_contain_text("Nieuwe status: In behandeling bij het meldpunt")
    expect(page.get_by_role("heading", name="Melding intrekken")).to_have_count(0)
    assert_accessible(page)

    page.get_by_text("Iets toevoegen", exact=True).click()
    page.get_by_label("Uw bericht").fill("Vanavond stond de auto er weer, kenteken begint met 12.")
    page.get_by_role("button", name="Bericht versturen").click()
    expect(page.get_by_role("status")).to_contain_text("Uw bericht is verstuurd.")
    thread = page.locator("#berichten .message")
    expect(thread).to_have_count(1)
    expect(thread).to_contain_text("Vanavond stond de auto er weer, kenteken begint met 12.")
    # The timeline names the message and links to it, without showing it a second time.
    message_entry = timeline.locator(".timeline-entry").last
    expect(message_entry).to_contain_text("Bericht")
    expect(message_entry).to_contain_text("U")
    expect(message_entry).not_to_contain_text("Vanavond stond de auto er weer")
    message_entry.get_by_role("link", name="Lees het bericht").click()
    expect(thread).to_be_in_viewport()
    assert_accessible(page)
    assert incident.events.filter(kind=EventKind.MESSAGE).count() == 1


def test_double_click_on_submit_files_one_incident(page, demo_data):
    """Double-clicking 'Melding versturen' registers exactly one incident."""
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    page.goto("/meldingen/snel/")
    assert_accessible(page)
    page.get_by_label("Intimidatie", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill("Dubbel geklikt op versturen.")
    page.get_by_role("button", name="Melding versturen").dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    page.wait_for_load_state("networkidle")
    assert_accessible(page)
    filed = [i for i in Incident.objects.all() if i.summary == "Dubbel geklikt op versturen."]
    assert len(filed) == 1
    assert filed[0].events.filter(kind=EventKind.SUBMITTED).count() == 1


def test_markup_in_the_summary_and_a_message_is_shown_as_text(page, demo_data, no_dialogs):
    """HTML and script typed by the officeholder are displayed literally and never run."""
    summary = '<script>alert("xss")</script><img src=x onerror="alert(1)">'
    message = "<b onmouseover=alert(2)>vet</b><svg onload=alert(3)>"
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    page.goto("/meldingen/snel/")
    _submit_quick_report(page, summary, type_label="Iets anders")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    reference = page.locator(".reference").inner_text()
    assert_accessible(page)
    _main(page).get_by_role("link", name="Naar mijn melding").click()
    expect(page.locator(".facts")).to_contain_text(summary)
    page.get_by_text("Iets toevoegen", exact=True).click()
    page.get_by_label("Uw bericht").fill(message)
    page.get_by_role("button", name="Bericht versturen").click()
    expect(page.locator("#berichten .message")).to_contain_text(message)
    assert page.locator("main script, main img, main svg, main b").count() == 0
    assert_accessible(page)
    page.get_by_role("link", name="Samenvatting voor de politie").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Samenvatting voor de politie")
    assert_accessible(page)
    assert Incident.objects.filter(reference=reference).get().summary == summary
