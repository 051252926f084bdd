"""The aangifte track in a real browser (issue 20): an officeholder on a phone (375 px) who was
threatened reads the next step on the confirmation, records "aangifte gedaan" with the VPT code
asked for on the incident page, and the desk sees where the incident stands.

One flow, once, at 375 px; `assert_accessible` checks each page at 1280 and 320 px.
"""

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.browser.fixtures import assert_accessible, login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_375 = {"width": 375, "height": 740}


def test_officeholder_records_aangifte_with_vpt_and_the_desk_sees_it(
    page: Page, officeholder, registrar, escalation_rules_off
):
    page.set_viewport_size(PHONE_375)
    login(page, officeholder.username, TEST_PASSWORD)
    page.goto("/meldingen/snel/")
    page.get_by_label("Bedreiging", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill("Hij dreigde mij iets aan te doen.")
    page.get_by_role("button", name="Melding versturen").click()

    # The confirmation names the next step of the aangifte and why it matters.
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    guidance = page.locator(".guidance")
    expect(guidance).to_contain_text("Volgende stap bij de aangifte: Wil aangifte doen.")
    expect(guidance).to_contain_text("Aangifte doen helpt.")
    assert_accessible(page)

    page.get_by_role("link", name="Naar de stappen van de aangifte").click()
    track = page.locator("#aangifte")
    expect(track).to_contain_text("Nog niets vastgelegd over een aangifte.")
    track.get_by_text("Aangifte bijwerken").click()
    page.get_by_label("Aangifte is gedaan", exact=True).check()
    page.get_by_label("Om de VPT-code gevraagd", exact=True).check()
    page.get_by_label("Registratienummer van de aangifte (mag leeg)").fill("2026-PL0900-771")
    # Each step says why it matters, next to its field.
    expect(track).to_contain_text("Vraag zelf om de VPT-code (Veilige Publieke Taak).")
    assert_accessible(page)
    page.get_by_role("button", name="Aangifte opslaan").click()

    expect(page.get_by_role("status")).to_contain_text("De aangifte is bijgewerkt.")
    expect(track).to_contain_text("Stand: Aangifte gedaan.")
    expect(track.locator('[data-step="vpt_asked"]')).to_contain_text("Gedaan")
    expect(track).to_contain_text("registratienummer 2026-PL0900-771")
    # The next useful step is now domicilie, and the timeline says what happened.
    expect(page.locator(".guidance")).to_contain_text("Werkadres of adres advocaat gebruikt")
    expect(page.locator("ol.timeline")).to_contain_text(
        "Aangifte: Wil aangifte doen, Contact met de politie, Aangifte gedaan, VPT-code gevraagd"
    )
    assert_accessible(page)
    incident = Incident.objects.get(officeholder=officeholder)
    assert incident.aangifte_track.steps() == [
        "wants_to_report",
        "police_contacted",
        "filed",
        "vpt_asked",
    ]

    # The desk sees where it stands: in the queue and on its incident page.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, registrar.username, TEST_PASSWORD)
    page.goto("/meldpunt/")
    row = page.locator(f'tr[data-reference="{incident.reference}"]')
    expect(row).to_contain_text("Aangifte: Aangifte gedaan")
    assert_accessible(page)
    row.get_by_role("link", name=incident.reference).click()
    expect(page.locator(".desk-aangifte-stage")).to_contain_text("Aangifte gedaan")
    expect(page.locator("#aangifte")).to_contain_text("registratienummer 2026-PL0900-771")
