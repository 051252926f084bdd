"""The desk (meld- en steunpunt) in a real browser, with the demo accounts.

A registrar triages, assigns, messages and closes an incident, and the officeholder then sees
the message and the closed status; an overdue incident is marked as such; the overview and
filing on behalf of an officeholder work and are accessible.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from incidents.constants import Channel, IncidentType, ReporterSeverity, Status, SupportWish
from incidents.models import Incident
from portal.models import Desk, User
from tests.browser.fixtures import assert_accessible, login
from tests.factories import UserFactory

DEMO_PASSWORD = "weerbaar-demo"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk_demo(demo_data, escalation_rules_off):
    """The demo accounts, with the automatic escalation rules switched off.

    The rules belong to the support team's issue; here the desk does everything by hand, so an
    incident must not be escalated behind the test's back (e.g. by demo incidents that count
    towards 'three incidents in 30 days').
    """


def _incident(username: str, summary: str) -> Incident:
    """A fresh incident filed by a demo officeholder through the real service."""
    return services.incident_submit(
        officeholder=User.objects.get(username=username),
        facts={
            "types": [IncidentType.VERBAL_AGGRESSION],
            "occurred_on": timezone.localdate(),
            "summary": summary,
            "channel": Channel.IN_PERSON_PUBLIC,
            "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
        quick=False,
    )


def _log_out(page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state()


def test_registrar_triages_assigns_messages_and_closes_then_officeholder_sees_it(page, desk_demo):
    """The whole desk flow in the browser, ending on the officeholder's own page."""
    incident = _incident("wethouder.utrecht", "Uitgescholden op de markt door een voorbijganger.")
    UserFactory(
        registrar=True,
        desk=Desk.objects.get(name="Meldpunt Utrecht"),
        first_name="Lotte",
        last_name="de Boer",
    )

    login(page, "meldpunt.utrecht", DEMO_PASSWORD)
    page.get_by_role("link", name="Meldingen", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meldingen van uw meldpunt")
    assert_accessible(page)
    page.get_by_label("Zoek op kenmerk, naam of dader").fill(incident.reference)
    page.get_by_role("button", name="Toon meldingen").click()
    row = page.locator(f'tr[data-reference="{incident.reference}"]')
    expect(row).to_contain_text("Anouk de Vries")
    expect(row).to_contain_text("Ontvangen")
    row.get_by_role("link", name=incident.reference).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Melding {incident.reference}")
    expect(page.get_by_text("Uitgescholden op de markt door een voorbijganger.")).to_be_visible()
    assert_accessible(page)

    # Take it, then triage.
    page.get_by_role("button", name="In behandeling nemen").click()
    expect(page.get_by_role("status")).to_contain_text("U heeft de melding in behandeling genomen.")
    expect(page.locator(".incident-summary")).to_contain_text("In behandeling bij het meldpunt")
    page.get_by_role("radio", name="Middel").check()
    page.get_by_role("checkbox", name="Herhaald incident").check()
    page.get_by_role("checkbox", name="Aangifte doen bij de politie").check()
    page.get_by_label("Toelichting bij het advies (mag leeg)").fill(
        "Advies gegeven om aangifte te doen; domicilie gekozen."
    )
    page.get_by_role("button", name="Beoordeling opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("De beoordeling is opgeslagen.")
    expect(page.locator(".incident-summary")).to_contain_text("Middel")
    assert_accessible(page)

    # Assign to a colleague of the desk.
    page.get_by_label("Behandelaar", exact=True).select_option(label="Lotte de Boer")
    page.get_by_role("button", name="Behandelaar opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Lotte de Boer is nu behandelaar")

    # An internal note, and a message to the officeholder.
    page.get_by_role("textbox", name="Interne notitie").fill("Intern: wijkagent ingelicht.")
    page.get_by_role("button", name="Notitie opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("interne notitie is opgeslagen")
    page.get_by_label("Bericht aan de ambtsdrager").fill(
        "Wij hebben uw melding bekeken. Bel ons gerust als het opnieuw gebeurt."
    )
    page.get_by_role("button", name="Bericht aan ambtsdrager versturen").click()
    expect(page.get_by_role("status")).to_contain_text("Uw bericht aan de ambtsdrager")
    expect(page.locator("#berichten")).to_contain_text("Bel ons gerust")
    expect(page.locator(".timeline-internal")).to_contain_text("wijkagent ingelicht")

    # Close with an outcome: first without, which is refused.
    page.get_by_role("button", name="Melding afsluiten").click()
    expect(page.get_by_role("alert").first).to_contain_text("Kies hoe u de melding afsluit.")
    page.get_by_role("radio", name="Advies gegeven").check()
    page.get_by_role("textbox", name="Toelichting voor de ambtsdrager (mag leeg)").fill(
        "Advies gegeven, verder alleen geregistreerd."
    )
    page.get_by_role("button", name="Melding afsluiten").click()
    expect(page.get_by_role("status")).to_contain_text("De melding is afgesloten.")
    expect(page.locator(".incident-summary")).to_contain_text("Afgesloten")
    assert_accessible(page)

    incident.refresh_from_db()
    assert incident.status == Status.CLOSED
    assert incident.assignee.first_name == "Lotte"

    # The officeholder sees the message and the closed status, not the internal note.
    _log_out(page)
    login(page, "wethouder.utrecht", DEMO_PASSWORD)
    page.goto(f"/meldingen/{incident.reference}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Melding {incident.reference}")
    expect(page.locator(".status-badge").first).to_have_text("Afgesloten")
    expect(page.locator("#berichten")).to_contain_text("Bel ons gerust als het opnieuw gebeurt.")
    expect(page.get_by_text("wijkagent ingelicht")).to_have_count(0)
    assert_accessible(page)


def test_overdue_incident_is_marked_overdue_in_the_queue(page, desk_demo):
    """An incident past its triage deadline shows 'Te laat' (text and badge) in the queue,
    in the overdue filter and on its page."""
    incident = _incident("burgemeester.zwolle", "Dreigende brief in de bus van het stadhuis.")
    Incident.objects.filter(pk=incident.pk).update(
        triage_due_at=timezone.now() - timedelta(hours=3)
    )
    on_time = _incident("statenlid.overijssel", "Scheldpartij op sociale media.")

    login(page, "meldpunt.ijsselland", DEMO_PASSWORD)
    page.goto("/meldpunt/")
    assert_accessible(page)
    # The demo data fills the queue too: search for each incident by its reference.
    search = page.get_by_label("Zoek op kenmerk, naam of dader")
    search.fill(incident.reference)
    page.get_by_role("button", name="Toon meldingen").click()
    row = page.locator(f'tr[data-reference="{incident.reference}"]')
    expect(row.locator(".badge-overdue")).to_have_text("Te laat")
    search.fill(on_time.reference)
    page.get_by_role("button", name="Toon meldingen").click()
    expect(page.locator(f'tr[data-reference="{on_time.reference}"]')).to_be_visible()
    expect(page.locator(".badge-overdue")).to_have_count(0)

    # The overdue filter keeps the overdue one and drops the one that is on time.
    page.get_by_label("Alleen meldingen die te laat zijn").check()
    page.get_by_role("button", name="Toon meldingen").click()
    expect(page.get_by_text("Geen meldingen gevonden met deze filters.")).to_be_visible()
    search.fill(incident.reference)
    page.get_by_role("button", name="Toon meldingen").click()
    expect(page.get_by_label("Alleen meldingen die te laat zijn")).to_be_checked()
    assert_accessible(page)

    # Keep these filters as an own view; it opens with them.
    page.get_by_text("Deze filters opslaan als eigen overzicht").click()
    page.get_by_label("Naam van dit overzicht").fill("Te laat in Zwolle")
    page.get_by_role("button", name="Overzicht opslaan").click()
    expect(page.get_by_role("link", name="Te laat in Zwolle")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_label("Alleen meldingen die te laat zijn")).to_be_checked()

    # Assign the ticked row in bulk: the result names what was done.
    page.get_by_label(f"Kies melding {incident.reference}").check()
    page.get_by_label("Wat wilt u doen met de gekozen meldingen?").select_option("assign")
    page.get_by_label("Nieuwe behandelaar").select_option(index=1)
    page.get_by_role("button", name="Doen voor de aangevinkte meldingen").click()
    expect(page.get_by_text(f"Gedaan voor 1 melding: {incident.reference}.")).to_be_visible()
    assert Incident.objects.get(pk=incident.pk).assignee is not None

    page.locator(f'tr[data-reference="{incident.reference}"]').get_by_role(
        "link", name=incident.reference
    ).click()
    expect(page.locator(".incident-summary .badge-overdue")).to_have_text("Te laat")
    assert_accessible(page)

    # Close every row of the page at once as a duplicate ("choose all" needs the script).
    page.go_back()
    page.get_by_label("Kies alle meldingen op deze pagina").check()
    expect(page.get_by_label(f"Kies melding {incident.reference}")).to_be_checked()
    page.get_by_label("Wat wilt u doen met de gekozen meldingen?").select_option("close")
    page.get_by_label("Hoe sluit u de meldingen af?").select_option("duplicate")
    page.get_by_role("button", name="Doen voor de aangevinkte meldingen").click()
    expect(page.get_by_text(f"Gedaan voor 1 melding: {incident.reference}.")).to_be_visible()
    closed = Incident.objects.get(pk=incident.pk)
    assert (closed.status, closed.outcome_category) == ("closed", "duplicate")


def test_overview_and_filing_on_behalf_of_an_officeholder(page, desk_demo):
    """The overview shows the counts; a registrar files an incident for an officeholder who
    phoned, and it lands in the desk's queue marked 'filed by the desk'."""
    login(page, "meldpunt.ijsselland", DEMO_PASSWORD)
    page.get_by_role("link", name="Overzicht", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overzicht van Meldpunt IJsselland")
    expect(page.get_by_role("rowheader", name="Gemeente Zwolle")).to_be_visible()
    assert_accessible(page)

    page.goto("/")
    page.get_by_role("link", name="Melding vastleggen").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Melding vastleggen voor een ambtsdrager"
    )
    assert_accessible(page)
    page.get_by_label("Voor welke ambtsdrager legt u de melding vast?").select_option(
        label="Johan Bakker (Statenlid, Provincie Overijssel)"
    )
    page.get_by_role("checkbox", name="Bedreiging", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill(
        "Belde op: bedreigd na de Statenvergadering."
    )
    page.get_by_role("radio", name="Een beetje ernstig").check()
    page.get_by_role("radio", name="Ik wil contact met het meld- en steunpunt").check()
    page.get_by_role("button", name="Melding vastleggen").click()

    expect(page.get_by_role("status")).to_contain_text("is vastgelegd voor Johan Bakker")
    expect(page.locator(".incident-summary")).to_contain_text("vastgelegd door het meldpunt")
    assert_accessible(page)
    (incident,) = [
        i
        for i in Incident.objects.all()
        if i.summary == "Belde op: bedreigd na de Statenvergadering."
    ]
    assert incident.filed_by_desk
    assert incident.officeholder.username == "statenlid.overijssel"


def test_registrar_logs_a_call_sets_a_callback_and_a_colleague_covers(page, desk_demo):
    """Follow-up: a phone call and a callback on the incident page; then the registrar is
    absent and the colleague sees the incident in "Mijn open meldingen", marked as cover."""
    from tests.factories import TEST_PASSWORD

    incident = _incident("wethouder.utrecht", "Dreigende berichten na het debat over de haven.")
    UserFactory(
        registrar=True,
        desk=Desk.objects.get(name="Meldpunt Utrecht"),
        username="lotte.deboer",
        first_name="Lotte",
        last_name="de Boer",
    )
    registrar = User.objects.get(username="meldpunt.utrecht")

    login(page, "meldpunt.utrecht", DEMO_PASSWORD)
    page.goto(f"/meldpunt/meldingen/{incident.reference}/")
    page.get_by_role("button", name="In behandeling nemen").click()
    expect(page.get_by_role("status")).to_contain_text("U heeft de melding in behandeling genomen.")

    # A phone call: the desk called the officeholder.
    page.get_by_role("radio", name="Het meldpunt belde de ambtsdrager").check()
    page.get_by_label("Korte samenvatting").fill("Gebeld: de wethouder doet morgen aangifte.")
    page.get_by_role("button", name="Gesprek opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Het telefoongesprek staat in de tijdlijn")
    expect(page.locator(".timeline-internal")).to_contain_text("doet morgen aangifte")

    # A callback tomorrow at 14:00.
    tomorrow = timezone.localdate() + timedelta(days=1)
    callback = page.locator("#opvolging form").first
    callback.get_by_label("Dag").fill(tomorrow.isoformat())
    callback.get_by_label("Tijd").fill("14:00")
    page.get_by_label("Waarover (mag leeg)").fill("Vragen hoe de aangifte ging")
    page.get_by_role("button", name="Terugbellen opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Het moment om terug te bellen")
    expect(page.locator(".incident-callback")).to_contain_text("morgen 14:00")
    assert_accessible(page)

    # Absent from today: Lotte covers.
    page.goto("/meldpunt/")
    page.get_by_text("Ik ben afwezig: kies wie mijn meldingen waarneemt").click()
    page.get_by_label("Wie neemt uw meldingen waar?").select_option(label="Lotte de Boer")
    page.get_by_role("button", name="Afwezigheid opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Lotte de Boer ziet uw open meldingen")
    assert_accessible(page)
    _log_out(page)

    login(page, "lotte.deboer", TEST_PASSWORD)
    page.goto("/meldpunt/")
    expect(page.locator(".queue-absence")).to_contain_text(f"U neemt nu waar voor {registrar}")
    page.get_by_role("link", name="Mijn open meldingen").click()
    row = page.locator(f'tr[data-reference="{incident.reference}"]')
    expect(row.locator(".queue-cover")).to_have_text(f"waarneming voor {registrar}")
    expect(row.locator(".queue-callback")).to_have_text("terugbellen: morgen 14:00")
    assert_accessible(page)
