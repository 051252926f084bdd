"""Standard replies in a real browser: a registrar inserts one (in the officeholder's
language), changes it and sends it; the coordinator's page of replies is accessible."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from incidents.constants import Channel, IncidentType, ReporterSeverity, SupportWish
from incidents.models import Message, StandardReply
from portal.models import Desk, User
from tests.browser.fixtures import assert_accessible, login

DEMO_PASSWORD = "weerbaar-demo"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _incident(officeholder: User):
    return services.incident_submit(
        officeholder=officeholder,
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "occurred_on": timezone.localdate(),
            "summary": "Uitgescholden bij de ingang van het stadhuis.",
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        quick=False,
    )


def test_registrar_inserts_a_standard_reply_changes_it_and_sends(
    page, demo_data, escalation_rules_off
):
    officeholder = User.objects.get(username="wethouder.utrecht")
    officeholder.preferred_language = "en"
    officeholder.save(update_fields=["preferred_language"])
    desk = Desk.objects.get(name="Meldpunt Utrecht")
    StandardReply.objects.all().delete()  # the migration's defaults: this test's own texts
    StandardReply.objects.create(
        title="Ontvangst bevestigd, we bellen u",
        text_nl="Dank u voor uw melding. Wij bellen u zo snel mogelijk.",
        text_en="Thank you for your report. We will call you as soon as possible.",
    )
    StandardReply.objects.create(
        desk=Desk.objects.exclude(pk=desk.pk).first(),
        title="Van een ander meldpunt",
        text_nl="Niet voor Utrecht.",
        text_en="Not for Utrecht.",
    )
    incident = _incident(officeholder)

    login(page, "meldpunt.utrecht", DEMO_PASSWORD)
    page.goto(f"/meldpunt/meldingen/{incident.reference}/")
    choice = page.get_by_label("Standaardantwoord")
    expect(choice.locator("option")).to_have_count(2)  # "Kies een tekst" and the national one
    expect(choice).not_to_contain_text("Van een ander meldpunt")
    box = page.get_by_label("Bericht aan de ambtsdrager")
    box.fill("Dear Ms De Vries,")
    choice.select_option(label="Ontvangst bevestigd, we bellen u")
    page.get_by_role("button", name="Invoegen").click()
    expect(box).to_have_value(
        "Dear Ms De Vries,\n\nThank you for your report. We will call you as soon as possible."
    )
    expect(box).to_be_focused()
    assert not Message.objects.filter(incident=incident).exists()  # nothing sent yet
    assert_accessible(page)

    box.press("End")
    box.type(" Today, before 17:00.")
    page.get_by_role("button", name="Bericht aan ambtsdrager versturen").click()
    expect(page.get_by_role("status")).to_contain_text("Uw bericht aan de ambtsdrager")
    expect(page.locator("#berichten")).to_contain_text("Today, before 17:00.")
    # (A browser sends a textarea's line breaks as CRLF.)
    assert Message.objects.get(incident=incident).body.replace("\r\n", "\n") == (
        "Dear Ms De Vries,\n\nThank you for your report. We will call you as soon as possible."
        " Today, before 17:00."
    )
    assert_accessible(page)


def test_coordinator_adds_a_reply_of_the_own_desk(page, demo_data):
    StandardReply.objects.create(
        title="Landelijk", text_nl="Landelijke tekst.", text_en="National."
    )
    login(page, "coordinator.utrecht", DEMO_PASSWORD)
    page.goto("/mensen/")
    page.get_by_role("link", name="Standaardantwoorden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Standaardantwoorden")
    assert_accessible(page)
    page.get_by_role("link", name="Nieuw standaardantwoord").click()
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("Schrijf de Nederlandse tekst.").first).to_be_visible()
    page.get_by_label("Situatie").fill("Bel ons gerust")
    page.get_by_label("Tekst in het Nederlands").fill("U kunt ons altijd bellen.")
    page.get_by_label("Tekst in het Engels").fill("You can always call us.")
    assert_accessible(page)
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("is opgeslagen")
    expect(page.locator("table")).to_contain_text("Bel ons gerust")
    expect(page.locator("table")).to_contain_text("Landelijk")
    assert StandardReply.objects.get(title="Bel ons gerust").desk.name == "Meldpunt Utrecht"
