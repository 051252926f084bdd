"""The officeholder's side on a phone (375 px): never a lost word, honest next steps, errors.

Each flow runs once at 375 px and calls the shared axe check (1280 and 320 px).
"""

import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.browser.fixtures import assert_accessible, login
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.browser

PHONE_375 = {"width": 375, "height": 740}
SUMMARY = "Hij schreeuwde dat hij weet waar ik woon"


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE_375)
    return page


def _session_lost(page: Page) -> None:
    """As when the session expires while typing: the browser loses only the session cookie."""
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)


def _log_in_on_this_page(page: Page, username: str) -> None:
    """Log in on the login page the portal sent us to (it carries `next`)."""
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()


def _type_quick_report(page: Page) -> None:
    page.goto("/meldingen/snel/")
    page.get_by_label("Bedreiging", exact=True).check()
    page.get_by_label("Wat gebeurde er, in één zin?").fill(SUMMARY)


def test_expired_session_post_comes_back_filled_in_and_not_for_another_account(
    phone, officeholder, organisation, escalation_rules_off
):
    """Typed after the session ended: the login page says the text is kept; another account
    that logs in gets an empty form; the person who typed it gets it back and can send it."""
    other = UserFactory(organisation=organisation)

    login(phone, officeholder.username, TEST_PASSWORD)
    _type_quick_report(phone)
    _session_lost(phone)
    phone.get_by_role("button", name="Melding versturen").click()
    expect(phone.locator("#kept-form-notice")).to_contain_text("Uw tekst is bewaard")
    assert_accessible(phone)
    _log_in_on_this_page(phone, other.username)
    assert phone.url.endswith("/meldingen/snel/")
    expect(phone.get_by_label("Wat gebeurde er, in één zin?")).to_have_value("")
    expect(phone.get_by_label("Bedreiging", exact=True)).not_to_be_checked()

    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("button", name="Uitloggen").click()
    login(phone, officeholder.username, TEST_PASSWORD)
    _type_quick_report(phone)
    _session_lost(phone)
    phone.get_by_role("button", name="Melding versturen").click()
    _log_in_on_this_page(phone, officeholder.username)

    assert phone.url.endswith("/meldingen/snel/")
    expect(phone.get_by_role("main")).to_contain_text(
        "U was te lang niet actief. Uw tekst is bewaard."
    )
    expect(phone.get_by_label("Wat gebeurde er, in één zin?")).to_have_value(SUMMARY)
    expect(phone.get_by_label("Bedreiging", exact=True)).to_be_checked()
    expect(phone.get_by_label("Wanneer?")).to_have_value(timezone.localdate().isoformat())
    assert_accessible(phone)
    phone.get_by_role("button", name="Melding versturen").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    assert Incident.objects.get(officeholder=officeholder).summary == SUMMARY
    assert not Incident.objects.filter(officeholder=other).exists()


def _tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_quick_report_unsafe_sets_the_four_hour_deadline(phone, officeholder, escalation_rules_off):
    """Yes to "Voelt u zich onveilig of wilt u gebeld worden?" asks for a number (none on the
    profile), gives the 4-hour deadline, and the confirmation promises a call on that number,
    never a clock time."""
    login(phone, officeholder.username, TEST_PASSWORD)
    _type_quick_report(phone)
    number = phone.get_by_label("Op welk nummer kunnen wij u bellen? (mag leeg)")
    expect(number).to_be_hidden()
    phone.get_by_label("Ja", exact=True).check()
    expect(number).to_be_visible()
    number.fill("06 12345678")
    assert_accessible(phone)
    phone.get_by_role("button", name="Melding versturen").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    incident = Incident.objects.get(officeholder=officeholder)
    assert incident.unsafe_or_call is True
    assert incident.reporter_severity == ""
    assert (incident.triage_due_at - incident.submitted_at).total_seconds() == 4 * 3600
    steps = phone.locator(".next-steps")
    expect(steps).to_contain_text(re.compile(r"bekijkt uw melding (vandaag nog|binnen 4 uur)\."))
    expect(steps).not_to_contain_text("uiterlijk")
    expect(steps.get_by_role("link", name="+31 6 12345678")).to_have_attribute(
        "href", "tel:+31612345678"
    )
    assert_accessible(phone)


def test_language_chosen_before_login_survives_login(phone, officeholder):
    """English chosen on the login page stays after logging in and becomes the preference;
    the banner before login names 112 and 911."""
    phone.goto("/account/inloggen/")
    expect(phone.locator(".emergency-notice")).to_have_text(
        "Bij acuut gevaar: bel 112 (Bonaire, Sint Eustatius en Saba: 911)"
    )
    phone.get_by_role("button", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    phone.locator("input[name=username]").fill(officeholder.username)
    phone.locator("input[name=password]").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_load_state()

    expect(phone.locator("html")).to_have_attribute("lang", "en")
    phone.goto("/meldingen/snel/")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Quick report")
    officeholder.refresh_from_db()
    assert officeholder.preferred_language == "en"
    assert_accessible(phone)


def test_keyboard_only_quick_report(phone, officeholder, escalation_rules_off):
    """The quick report can be filled in and sent with the keyboard alone (Tab, Space, typing,
    Enter), the unsafe question included."""
    login(phone, officeholder.username, TEST_PASSWORD)
    phone.goto("/meldingen/snel/")
    # The menu is folded, so the first question is in the first screen.
    menu = phone.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(phone.get_by_role("link", name="Mijn meldingen")).to_be_hidden()
    first = phone.get_by_label("Bedreiging", exact=True).bounding_box()
    assert first is not None and first["y"] + first["height"] <= PHONE_375["height"]
    phone.locator("body").focus()
    _tab_to(phone, ".menu-toggle")
    phone.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(phone.get_by_role("link", name="Mijn meldingen")).to_be_visible()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("link", name="Mijn meldingen")).to_be_hidden()
    _tab_to(phone, "input[name=types][value=threat]")
    phone.keyboard.press("Space")
    _tab_to(phone, "textarea[name=summary], input[name=summary]")
    phone.keyboard.type(SUMMARY)
    _tab_to(phone, "input[name=unsafe_or_call]")
    # Arrow keys move within a radio group; "Ja" is the first choice.
    phone.keyboard.press("Space")
    _tab_to(phone, "input[name=contact_phone]")
    phone.keyboard.type("+599 416 1234")
    _tab_to(phone, "button[type=submit]")
    assert_accessible(phone)
    phone.keyboard.press("Enter")

    expect(phone.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    incident = Incident.objects.get(officeholder=officeholder)
    assert incident.summary == SUMMARY
    assert incident.types == ["threat"]
    assert incident.unsafe_or_call is True
    assert incident.contact_phone == "+5994161234"


def test_full_report_errors_are_listed_linked_and_focused_and_enter_in_a_list_sends_nothing(
    phone, officeholder
):
    """Enter on a checkbox does not send the half-empty full report. Sent with a gap, the
    page opens with the focus on "Er ging iets mis", which lists each problem as a link; a
    link moves the focus to its question, and the error also stays next to the question."""
    login(phone, officeholder.username, TEST_PASSWORD)
    phone.goto("/meldingen/nieuw/")
    threat = phone.get_by_label("Bedreiging", exact=True)
    threat.focus()
    phone.keyboard.press("Space")
    phone.keyboard.press("Enter")
    expect(phone.locator("[data-error-summary]")).to_have_count(0)
    expect(threat).to_be_checked()
    assert phone.url.endswith("/meldingen/nieuw/")

    phone.get_by_role("button", name="Melding versturen").click()
    summary = phone.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Er ging iets mis")
    link = summary.get_by_role("link", name=re.compile(r"^Wat gebeurde er, in één zin\?"))
    expect(link).to_have_attribute("href", "#id_summary")
    expect(threat).to_be_checked()
    assert_accessible(phone)
    link.click()
    expect(phone.locator("#id_summary")).to_be_focused()
    expect(phone.locator("#div_id_summary .invalid-feedback")).to_be_visible()
    assert not Incident.objects.filter(officeholder=officeholder).exists()


DESK_MESSAGE = (
    "Wij bellen u morgen. Kijkt u alvast naar "
    "https://www.voorbeeld.nl/een/heel/lange/link/die/op/een/klein/scherm/niet/past/als/hij/niet/afbreekt"
)


def test_incident_page_on_a_phone_one_way_to_add_each_message_once_and_fits_320(
    phone, officeholder, registrar, escalation_rules_off
):
    """The incident page at 375 px: one "Iets toevoegen", the desk's message shown once (the
    timeline links to it), fingerprints folded away, the desk listed once for today although it
    looked twice, nothing wider than 320 px, and opening the page clears its notifications.
    Sending an empty message opens the summary on the problem; a real one shows once."""
    from incidents import services
    from incidents.constants import IncidentType, MessageAudience
    from incidents.evidence import evidence_inspect
    from portal.models import Notification
    from portal.services import team_read_record

    incident = services.incident_submit(
        officeholder=officeholder,
        facts={
            "types": [IncidentType.THREAT],
            "occurred_on": timezone.localdate(),
            "summary": SUMMARY,
        },
        quick=True,
    )
    services.incident_follow_up_add(
        incident=incident,
        actor=officeholder,
        text="Het bericht dat hij stuurde.",
        files=[evidence_inspect(name="bericht.txt", data=b"Ik weet waar je woont.")],
    )
    services.message_send(
        incident=incident,
        actor=registrar,
        audience=MessageAudience.OFFICEHOLDER_THREAD,
        body=DESK_MESSAGE,
    )
    for _ in range(2):
        team_read_record(
            reference=incident.reference,
            organisation_id=incident.organisation_id,
            team=f"desk:{registrar.desk_id}",
            role=registrar.role,
            desk_id=registrar.desk_id,
            at=timezone.now(),
        )
    unread = Notification.objects.filter(
        recipient=officeholder, reference=incident.reference, read_at__isnull=True
    )
    assert unread.exists()

    login(phone, officeholder.username, TEST_PASSWORD)
    phone.goto(incident.get_absolute_url())
    main = phone.get_by_role("main")
    add = main.get_by_text("Iets toevoegen", exact=True)
    expect(add).to_have_count(1)
    expect(main.get_by_text(DESK_MESSAGE)).to_have_count(1)
    expect(phone.locator(".timeline").get_by_role("link", name="Lees het bericht")).to_have_count(1)
    expect(phone.locator("code.fingerprint")).to_be_hidden()
    history = phone.locator(".access-history-list li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text(registrar.desk.name)
    assert not unread.exists()
    assert_accessible(phone)

    add.click()
    phone.get_by_role("button", name="Bericht versturen").click()
    summary = phone.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    summary.get_by_role("link").click()
    expect(phone.get_by_label("Uw bericht")).to_be_focused()
    phone.get_by_label("Uw bericht").fill("Dank u, ik ben thuis.")
    phone.get_by_role("button", name="Bericht versturen").click()
    expect(phone.get_by_role("status")).to_contain_text("Uw bericht is verstuurd.")
    expect(main.get_by_text("Dank u, ik ben thuis.")).to_have_count(1)
    expect(main.get_by_text(DESK_MESSAGE)).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_375["width"]
    assert_accessible(phone)
