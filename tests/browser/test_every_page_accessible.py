"""Every page of every role passes axe (WCAG 2.1 A/AA) at desktop width and at 320 px.

The flow tests check the pages they pass through; this test makes sure no page is left out,
with the demo data (so lists, timelines and cases are filled, not empty).
"""

import pytest
from django.db.models import Exists, OuterRef
from playwright.sync_api import Page, expect

from incidents.constants import Status
from incidents.models import Incident
from portal.models import User
from support.models import SupportCase
from tests.browser.fixtures import assert_accessible, login

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "weerbaar-demo"


def _visit_all(page: Page, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response.status}"
        expect(page.locator("h1")).to_have_count(1)
        assert_accessible(page)


def test_public_pages(page, demo_data):
    """Login, password reset, privacy and accessibility statements."""
    _visit_all(
        page,
        ["/account/inloggen/", "/account/wachtwoord-vergeten/", "/privacy/", "/toegankelijkheid/"],
    )


def test_officeholder_pages(page, demo_data):
    """Home, notifications, profile, password change, own list, both report forms, the data
    export, and an incident's page, confirmation, completion and police summary."""
    officeholder = User.objects.get(username="wethouder.utrecht")
    incident = (
        Incident.objects.filter(officeholder=officeholder, status=Status.IN_TRIAGE).first()
        or Incident.objects.filter(officeholder=officeholder).first()
    )
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    ref = incident.reference
    _visit_all(
        page,
        [
            "/",
            "/notificaties/",
            "/account/profiel/",
            "/account/wachtwoord-wijzigen/",
            "/meldingen/",
            "/meldingen/snel/",
            "/meldingen/nieuw/",
            "/meldingen/mijn-gegevens/",
            f"/meldingen/{ref}/",
            f"/meldingen/{ref}/ontvangen/",
            f"/meldingen/{ref}/aanvullen/",
            f"/meldingen/{ref}/politie/",
        ],
    )


def test_registrar_pages(page, demo_data):
    """Home, queue, overview, filing on behalf and a busy incident page of the desk."""
    registrar = User.objects.get(username="meldpunt.utrecht")
    busy = (
        Incident.objects.filter(desk=registrar.desk)
        .annotate(has_case=Exists(SupportCase.objects.filter(incident=OuterRef("pk"))))
        .order_by("-has_case", "-pk")
        .first()
    )
    login(page, "meldpunt.utrecht", DEMO_PASSWORD)
    _visit_all(
        page,
        [
            "/",
            "/notificaties/",
            "/account/profiel/",
            "/meldpunt/",
            "/meldpunt/?status=all&sort=oldest",
            "/meldpunt/overzicht/",
            "/meldpunt/vastleggen/",
            f"/meldpunt/meldingen/{busy.reference}/",
        ],
    )


def test_support_and_admin_pages(page, demo_data):
    """The support team's home, inbox tabs, a case and national figures; the administrator's
    home page; the analyst's home page and figures."""
    case = SupportCase.objects.select_related("incident").order_by("-pk").first()
    login(page, "ondersteuning", DEMO_PASSWORD)
    _visit_all(
        page,
        [
            "/",
            "/notificaties/",
            "/ondersteuning/",
            "/ondersteuning/?status=in_progress",
            "/ondersteuning/?status=closed",
            f"/ondersteuning/dossiers/{case.incident.reference}/",
            "/cijfers/?kind=year&year=2026&province=overijssel",
        ],
    )
    page.get_by_role("button", name="Uitloggen").click()
    login(page, "beheer", DEMO_PASSWORD)
    _visit_all(page, ["/"])
    page.get_by_role("button", name="Uitloggen").click()
    # The analyst: a start page and the national figures, nothing else.
    login(page, "analist.bzk", DEMO_PASSWORD)
    _visit_all(page, ["/", "/cijfers/"])
