"""Accounts in a real browser: a coordinator invites an officeholder who sets a password
from the e-mail's link and lands on their home; a CSV with a bad row shows the problems and
creates nothing until it is fixed, and a second import updates.
"""

import re
from urllib.parse import urlparse

import pytest
from django.core import mail
from playwright.sync_api import expect

from portal.models import OfficeholderImport, User
from tests.browser.fixtures import assert_accessible, expect_console_error, login
from tests.factories import TEST_PASSWORD, DeskFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "first_name,last_name,email,function,organisation_code,term_start,term_end\n"


@pytest.fixture
def coordinator():
    desk = DeskFactory(name="Meldpunt IJsselland")
    OrganisationFactory(desk=desk, name="Gemeente Zwolle", code="GM0193")
    return UserFactory(registrar=True, desk=desk, is_coordinator=True, username="coordinator.test")


def _log_out(page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state()


def test_a_coordinator_invites_an_officeholder_who_sets_a_password_and_lands_at_home(
    page, coordinator
):
    login(page, coordinator.username, TEST_PASSWORD)
    page.get_by_role("link", name="Beheer", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beheer: mensen van uw meldpunt")
    assert_accessible(page)
    page.get_by_role("link", name="Iemand uitnodigen").click()
    assert_accessible(page)
    page.get_by_role("radio", name="Een ambtsdrager").check()
    page.get_by_label("Voornaam").fill("Lotte")
    page.get_by_label("Achternaam").fill("Hendriks")
    page.get_by_label("E-mailadres").fill("lotte.hendriks@zwolle.example")
    page.get_by_label("Organisatie (voor een ambtsdrager)").select_option(label="Gemeente Zwolle")
    page.get_by_label("Functie (voor een ambtsdrager)").select_option("raadslid")
    page.get_by_role("button", name="Uitnodiging versturen").click()
    expect(page.get_by_role("status").first).to_contain_text("De uitnodiging voor Lotte Hendriks")
    expect(page.get_by_text("uitgenodigd", exact=True)).to_be_visible()
    assert_accessible(page)
    _log_out(page)

    [invitation] = [m for m in mail.outbox if m.to == ["lotte.hendriks@zwolle.example"]]
    link = urlparse(re.search(r"https?://\S+/account/uitnodiging/\S+/", invitation.body)[0]).path
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Lotte Hendriks")
    assert_accessible(page)
    page.get_by_label("Kies een wachtwoord").fill("Zwolle-raad-2026!")
    page.get_by_label("Herhaal het wachtwoord").fill("Zwolle-raad-2026!")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw account is klaar")
    assert_accessible(page)
    page.get_by_role("link", name="Naar mijn startpagina").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Lotte")
    expect(page.locator("#main").get_by_role("link", name="Snel melden")).to_be_visible()
    assert User.objects.get(email="lotte.hendriks@zwolle.example").is_active
    _log_out(page)

    # The link works once: a second visit says so (410 Gone) and offers a new one.
    expect_console_error(page, "410")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze link werkt niet meer")
    assert_accessible(page)


def _upload(page, content: str) -> None:
    page.get_by_label("CSV-bestand met ambtsdragers").set_input_files(
        files=[{"name": "raad.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    page.get_by_role("button", name="Bestand controleren").click()
    page.wait_for_load_state()


def test_a_csv_with_a_bad_row_creates_nothing_until_fixed_and_a_second_import_updates(
    page, coordinator
):
    good = "Lotte,Hendriks,l.hendriks@zwolle.example,raadslid,GM0193,2026-03-30,2030-03-27\n"
    login(page, coordinator.username, TEST_PASSWORD)
    page.goto("/mensen/")
    page.get_by_role("link", name="Ambtsdragers importeren (CSV)").click()
    _upload(page, HEADER + good + "Daan,Mulder,d.mulder@zwolle.example,koning,GM9999,,\n")
    expect(page.get_by_role("alert")).to_contain_text("1 regel klopt niet")
    expect(page.get_by_text("onbekende organisatiecode 'GM9999'")).to_be_visible()
    assert_accessible(page)
    assert not OfficeholderImport.objects.exists()
    assert not User.objects.filter(email__endswith="@zwolle.example").exists()

    fixed = good + "Daan,Mulder,d.mulder@zwolle.example,raadslid,GM0193,,\n"
    _upload(page, HEADER + fixed)
    expect(page.get_by_text("Alle regels kloppen: 2 ambtsdragers.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Import bevestigen en uitnodigingen versturen").click()
    expect(page.locator("#import-progress")).to_contain_text("De import is klaar.")
    expect(page.locator("#import-progress")).to_contain_text("Nieuw: 2")
    assert_accessible(page)

    page.goto("/mensen/importeren/")
    _upload(page, HEADER + fixed.replace("Daan,Mulder", "Daan,Mulder-Visser"))
    expect(page.get_by_role("cell", name="bestaand account bijwerken")).to_have_count(2)
    page.get_by_role("button", name="Import bevestigen en uitnodigingen versturen").click()
    expect(page.locator("#import-progress")).to_contain_text("Bijgewerkt: 1")
    expect(page.locator("#import-progress")).to_contain_text("Ongewijzigd: 1")
    assert User.objects.filter(email__endswith="@zwolle.example").count() == 2
    assert User.objects.get(email="d.mulder@zwolle.example").last_name == "Mulder-Visser"
