"""Protection in a real browser (issue 20 part 3): a threatened wethouder asks for a security
advice on a 375 px phone, and the Ondersteuningsteam sees the request in its plan.

The request escalates the incident (the desk had it), the case opens and the security advice
action is planned through the outbox (Celery runs in the test process). Every page visited
is checked with axe (WCAG 2.1 A/AA) at desktop width and at 320 px.
"""

import pytest
from playwright.sync_api import Page, expect

from incidents.constants import IncidentType, Status
from incidents.models import Incident
from portal.models import User
from support.constants import ServiceType
from support.models import SupportAction
from tests.browser.fixtures import assert_accessible, login
from tests.factories import IncidentFactory

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "weerbaar-demo"
PHONE_375 = {"width": 375, "height": 740}


def test_a_wethouder_requests_a_security_advice_and_the_support_team_sees_it(page: Page, demo_data):
    """Wethouder on a phone: the incident page explains the CCV route and offers the request;
    after it the page shows where it stands. The team's case page has the action, asked for
    by the officeholder, with its step."""
    wethouder = User.objects.get(username="wethouder.utrecht")
    incident = IncidentFactory(
        officeholder=wethouder,
        types=[IncidentType.THREAT, IncidentType.DOXING],
        summary="Mijn huisadres staat met een dreigement op een forum.",
    )
    page.set_viewport_size(PHONE_375)
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    page.goto(f"/meldingen/{incident.reference}/")
    section = page.locator("#beveiliging")
    expect(section).to_contain_text("CCV")
    expect(section).to_contain_text("artikel 285d")
    expect(section).to_contain_text("Handelsregister")
    assert_accessible(page)

    section.get_by_role("button", name="Beveiligingsadvies aanvragen").click()
    page.wait_for_load_state()
    expect(page.get_by_role("main")).to_contain_text(
        "Uw aanvraag voor beveiligingsadvies is verstuurd."
    )
    expect(page.locator(".security-advice-status")).to_contain_text("Aangevraagd")
    expect(page.get_by_role("button", name="Beveiligingsadvies aanvragen")).to_have_count(0)
    assert_accessible(page)

    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    action = SupportAction.objects.get(case__incident=incident)
    assert action.service_type == ServiceType.SECURITY_ADVICE
    # The support team works at a desk: log out and in at desktop width.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state()
    login(page, "ondersteuning", DEMO_PASSWORD)
    page.goto(f"/ondersteuning/dossiers/{incident.reference}/")
    card = page.locator(f"#actie-{action.pk}")
    expect(card).to_contain_text("Beveiligingsadvies voor thuis (CCV)")
    expect(card).to_contain_text("De ambtsdrager (ziet de stap op de eigen pagina)")
    expect(card.locator(".security-advice-step")).to_have_text(
        "Aangevraagd, nog geen contact met het CCV"
    )
    expect(page.get_by_role("main")).to_contain_text("Ambtsdrager vraagt beveiligingsadvies")
    assert_accessible(page)
    assert Incident.objects.get(pk=incident.pk).escalations.count() == 1
