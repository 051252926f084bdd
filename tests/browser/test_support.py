"""Escalation to the Ondersteuningsteam in a real browser, from report to closed case.

An officeholder reports physical violence; the rules escalate it at once (Celery runs in the
test process); the desk sees the hand-off; the support team acknowledges, plans legal help
shared with the desk, writes to the officeholder and closes with an outcome; the officeholder
reads the message, the outcome and their contact person; the desk sees the result. Every page
visited is checked with axe (WCAG 2.1 A/AA) at desktop width and at 320 px.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from incidents.constants import Status
from incidents.models import Incident
from support.constants import CaseStatus
from support.models import SupportCase
from tests.browser.fixtures import assert_accessible, login

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "weerbaar-demo"
REFERENCE = re.compile(r"MWB-\d{4}-\d{6}")
SUMMARY = "Na de inspraakavond duwde een man mij hard tegen de grond."
ACTION_TEXT = "Advocaat zoeken voor aangifte en een contactverbod."
MESSAGE = "Goedemiddag, ik ben Fatima van het Ondersteuningsteam. Ik bel u vanmiddag."
OUTCOME = "Advocaat geregeld, aangifte gedaan met werkadres. Nazorg loopt via de huisarts."


def _main(page: Page):
    return page.get_by_role("main")


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state()


def _file_physical_violence(page: Page) -> str:
    """The officeholder files a full report with physical violence; returns its reference."""
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    _main(page).get_by_role("link", name="Volledige melding doen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Volledige melding")
    assert_accessible(page)
    page.get_by_label("Fysiek geweld", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill(SUMMARY)
    page.get_by_label("Heel ernstig", exact=True).check()
    page.get_by_label("Ik wil contact met het meld- en steunpunt").check()
    page.get_by_role("button", name="Melding versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    assert_accessible(page)
    reference = REFERENCE.search(_main(page).inner_text()).group(0)
    return reference


def test_escalated_report_is_handled_by_the_support_team_end_to_end(page: Page, demo_data):
    """Report with physical violence → escalated at once → desk sees it → support acknowledges,
    plans legal help, writes to the officeholder and closes → the officeholder reads the
    message, the outcome and the contact person → the desk sees the closed case."""
    # 1. The officeholder reports; the rules escalate before the confirmation is shown.
    reference = _file_physical_violence(page)
    incident = Incident.objects.get(reference=reference)
    assert incident.status == Status.ESCALATED
    case = SupportCase.objects.get(incident=incident)
    assert case.status == CaseStatus.NEW

    page.goto(f"/meldingen/{reference}/")
    notice = page.locator(".support-notice")
    expect(notice).to_contain_text(
        "Uw melding is doorgegeven aan het Ondersteuningsteam Weerbaar Bestuur."
    )
    expect(notice).to_contain_text("Het team neemt binnen 4 uur contact met u op.")
    assert_accessible(page)
    _log_out(page)

    # 2. The desk sees that the incident went to the Ondersteuningsteam.
    login(page, "meldpunt.utrecht", DEMO_PASSWORD)
    page.goto("/meldpunt/")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Doorgegeven aan het Ondersteuningsteam")
    assert_accessible(page)
    row.get_by_role("link", name=reference).click()
    expect(page.locator("#escalation-heading")).to_have_text(
        "Doorgegeven aan het Ondersteuningsteam"
    )
    assert_accessible(page)
    _log_out(page)

    # 3. The support team finds it in the inbox, new and not yet late.
    login(page, "ondersteuning", DEMO_PASSWORD)
    page.get_by_role("link", name="Dossiers", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossiers van het Ondersteuningsteam")
    expect(page.get_by_role("link", name=re.compile(r"^Nieuw"))).to_have_attribute(
        "aria-current", "page"
    )
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Gemeente Utrecht")
    expect(row).to_contain_text("Fysiek geweld of een wapen")
    expect(row).to_contain_text("Nog niemand")
    expect(row).not_to_contain_text("Te laat")
    assert_accessible(page)

    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dossier {reference}")
    expect(_main(page)).to_contain_text(SUMMARY)
    expect(_main(page)).to_contain_text("Automatische regel")
    assert_accessible(page)

    # Acknowledge: the member becomes the officeholder's contact.
    page.get_by_role("button", name="Dossier bevestigen").click()
    expect(page.get_by_role("status")).to_contain_text(
        "U heeft het dossier bevestigd. Casemanager: Fatima El Amrani."
    )
    expect(page.locator(".case-status")).to_have_text("Bevestigd")

    # Plan legal help, shared with the desk.
    page.get_by_label("Soort hulp").select_option(label="Juridische hulp")
    page.get_by_label("Wat gaat er gebeuren? (mag leeg)").fill(ACTION_TEXT)
    page.get_by_label("Het meldpunt mag deze actie zien").check()
    page.get_by_role("button", name="Actie toevoegen").click()
    expect(page.get_by_role("status")).to_contain_text("De actie staat in het ondersteuningsplan.")
    action_card = page.locator(".support-action").filter(has_text="Juridische hulp")
    expect(action_card).to_contain_text(ACTION_TEXT)
    expect(page.locator(".case-status")).to_have_text("In behandeling")
    assert_accessible(page)

    # Write to the officeholder (their thread, not the staff channel).
    page.get_by_label("Bericht aan de ambtsdrager").fill(MESSAGE)
    page.get_by_role("button", name="Versturen aan de ambtsdrager").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Uw bericht aan de ambtsdrager is verstuurd."
    )
    expect(page.locator("#gesprek-ambtsdrager")).to_contain_text(MESSAGE)
    expect(page.locator("#overleg-meldpunt")).not_to_contain_text(MESSAGE)

    # Close with an outcome: the planned action is listed and goes only after a confirmation.
    expect(page.locator("#open-acties")).to_contain_text("Juridische hulp")
    page.get_by_label("Ondersteuning gegeven", exact=False).check()
    page.get_by_label("Uitkomst").fill(OUTCOME)
    page.get_by_label("Toch afsluiten", exact=False).check()
    page.get_by_role("button", name="Dossier afsluiten").click()
    expect(page.get_by_role("status")).to_contain_text("Het dossier en de melding zijn afgesloten.")
    expect(page.locator(".case-status")).to_have_text("Afgesloten")
    expect(_main(page)).to_contain_text("Er zijn geen stappen meer mogelijk.")
    assert_accessible(page)

    page.get_by_role("link", name="Terug naar de dossiers").click()
    expect(page.get_by_role("link", name=re.compile(r"^Afgesloten"))).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("row").filter(has_text=reference)).to_contain_text("Fatima El Amrani")
    assert_accessible(page)
    _log_out(page)

    # 4. The officeholder reads the message, the outcome and who their contact was.
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    page.goto(f"/meldingen/{reference}/")
    expect(page.locator(".status-badge").first).to_have_text("Afgesloten")
    notice = page.locator(".support-notice")
    expect(notice).to_contain_text("heeft uw melding afgerond")
    expect(notice).to_contain_text("Uw contactpersoon was Fatima El Amrani.")
    expect(notice).to_contain_text(OUTCOME)
    expect(page.locator("#berichten")).to_contain_text(MESSAGE)
    expect(_main(page)).not_to_contain_text(ACTION_TEXT)
    assert_accessible(page)
    _log_out(page)

    # 5. The desk sees the closed incident and the history of the hand-off.
    login(page, "meldpunt.utrecht", DEMO_PASSWORD)
    page.goto(f"/meldpunt/meldingen/{reference}/")
    expect(page.locator(".status-badge").first).to_have_text("Afgesloten")
    expect(page.locator("#escalation-heading")).to_have_text(
        "Doorgegeven aan het Ondersteuningsteam"
    )
    expect(_main(page)).to_contain_text("afgerond op")
    expect(_main(page)).to_contain_text(OUTCOME)
    # The action shared with the desk is visible to the desk.
    expect(page.locator(".shared-support-actions")).to_contain_text(ACTION_TEXT)
    assert_accessible(page)


def test_the_team_searches_filters_saves_a_view_and_opens_the_agenda(page: Page, demo_data):
    """A team member searches the inbox by the officeholder's name, filters on cases late to
    acknowledge, saves that as a view, opens it again and then reads the team's agenda."""
    from datetime import timedelta

    from django.utils import timezone

    from portal.models import User
    from support.constants import ServiceType
    from support.models import SupportAction
    from tests.factories import UserFactory
    from tests.support import escalated_case

    member = User.objects.get(username="ondersteuning")
    late = escalated_case(officeholder=UserFactory(first_name="Anna", last_name="de Vries"))
    SupportCase.objects.filter(pk=late.pk).update(
        acknowledge_due_at=timezone.now() - timedelta(hours=1)
    )
    other = escalated_case(officeholder=UserFactory(first_name="Bram", last_name="de Jong"))
    now = timezone.now()
    SupportAction.objects.create(
        case=other,
        owner=member,
        service_type=ServiceType.LEGAL_HELP,
        description="Advocaat bellen over een contactverbod.",
        due_on=timezone.localdate() - timedelta(days=1),
        created_at=now,
        updated_at=now,
    )
    reference = late.incident.reference

    login(page, "ondersteuning", DEMO_PASSWORD)
    page.get_by_role("link", name="Dossiers", exact=True).click()
    page.get_by_label("Zoek op kenmerk of naam").fill("anna vries")
    page.get_by_label("Alleen dossiers die te laat zijn om te bevestigen").check()
    page.get_by_role("button", name="Toon dossiers").click()
    rows = _main(page).locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(reference)
    expect(rows.first).to_contain_text("Anna de Vries")
    expect(rows.first).to_contain_text("Te laat")
    expect(_main(page)).not_to_contain_text(other.incident.reference)
    assert_accessible(page)

    # Save the search as an own view; it opens again from the list of views.
    page.get_by_text("Deze filters opslaan als eigen overzicht").click()
    page.get_by_label("Naam van dit overzicht").fill("Anna, te laat")
    page.get_by_role("button", name="Overzicht opslaan").click()
    expect(page.get_by_role("status").filter(has_text="is opgeslagen")).to_be_visible()
    page.get_by_role("link", name="Filters wissen").click()
    expect(_main(page)).to_contain_text(other.incident.reference)
    page.get_by_role("link", name="Anna, te laat").click()
    expect(_main(page).locator("tbody tr")).to_have_count(1)

    # The agenda: yesterday's action of the other case is late, with a link to its case.
    page.get_by_role("link", name="Agenda", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda van het Ondersteuningsteam")
    page.get_by_label("Acties van").select_option(label="Mijn acties")
    page.get_by_role("button", name="Toon acties").click()
    late_section = page.get_by_role("region", name=re.compile(r"^Te laat"))
    expect(late_section).to_contain_text("Juridische hulp")
    expect(late_section).to_contain_text("Advocaat bellen over een contactverbod.")
    assert_accessible(page)
    late_section.get_by_role("link", name=other.incident.reference).click()
    expect(page).to_have_url(re.compile(rf"/dossiers/{other.incident.reference}/"))


def test_a_member_is_absent_and_a_colleague_covers_the_cases_and_actions(page: Page, demo_data):
    """Cover (issue 19 part 5): a team member marks themselves absent on the absence page and
    names a colleague; the colleague finds the case in "Aan mij" and the action in "Mijn
    acties", each marked as cover for the absent member."""
    from portal.models import User
    from support.constants import ServiceType
    from tests.factories import TEST_PASSWORD, UserFactory, case_act
    from tests.support import escalated_case

    member = User.objects.get(username="ondersteuning")
    UserFactory(support=True, username="kees.bakker", first_name="Kees", last_name="Bakker")
    case = case_act(escalated_case(), member, "acknowledge")
    case_act(
        case,
        member,
        "add_action",
        service_type=ServiceType.LEGAL_HELP,
        owner=member,
        description="Advocaat bellen over een contactverbod.",
    )
    reference = case.incident.reference

    login(page, "ondersteuning", DEMO_PASSWORD)
    page.get_by_role("link", name="Afwezigheid", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw afwezigheid")
    assert_accessible(page)
    page.get_by_label("Wie neemt uw dossiers en acties waar?").select_option(label="Kees Bakker")
    page.get_by_role("button", name="Afwezigheid opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Kees Bakker ziet uw dossiers en acties")
    expect(page.locator(".queue-absence")).to_contain_text(
        "U bent afwezig. Kees Bakker neemt uw dossiers en acties waar."
    )
    _log_out(page)

    login(page, "kees.bakker", TEST_PASSWORD)
    page.get_by_role("link", name="Dossiers", exact=True).click()
    expect(page.locator(".support-covering")).to_contain_text(f"U neemt nu waar voor {member}")
    _main(page).get_by_role("link", name="Aan mij", exact=True).click()
    page.get_by_role("link", name=re.compile(r"^In behandeling")).click()
    row = _main(page).locator("tbody tr").filter(has_text=reference)
    expect(row.locator(".support-cover")).to_have_text(f"Waarneming voor {member}")
    assert_accessible(page)

    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_label("Acties van").select_option(label="Mijn acties")
    page.get_by_role("button", name="Toon acties").click()
    row = _main(page).locator("tbody tr").filter(has_text="Advocaat bellen over een contactverbod.")
    expect(row.locator(".support-cover")).to_have_text(f"Waarneming voor {member}")
    expect(row.get_by_role("link", name=reference)).to_be_visible()
    assert_accessible(page)
