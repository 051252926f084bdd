"""The summary for the police: a PDF that holds exactly what the officeholder ticked.

By default: the facts, every file with its fingerprints and the timeline; never the messages,
the "bekeken door het meldpunt" lines or the effects on health and work unless ticked; never
where it happened for an incident at home (or whose perpetrator knows the home address) unless
ticked after a warning; never the officeholder's phone or contact wishes, never staff names,
nothing only staff see. The desk makes the same document only while the officeholder consents,
which shows on the officeholder's timeline; withdrawing closes it again. Each PDF is logged.
"""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from incidents import services
from incidents.constants import (
    Channel,
    EventKind,
    EvidenceKind,
    Impact,
    IncidentType,
    MessageAudience,
    RiskFlag,
)
from incidents.errors import TransitionNotAllowed
from incidents.models import Event, Evidence
from incidents.police_summary import home_sensitive, summary_facts
from portal.models import AccessAction, AccessLogEntry
from tests.conftest import verified_login
from tests.factories import DeskFactory, IncidentFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

DESCRIPTION = "Hij stond met een knuppel voor mijn voordeur en riep dat hij terugkomt."
LOCATION = "Voor mijn huis aan de Lindelaan 7 in Ede"
PROFILE_PREFERENCE = "Bel na 17 uur, of kom langs op de Dorpsstraat 12"
PROFILE_PHONE = "+31612345678"
INCIDENT_PHONE = "+31687654321"
MESSAGE = "Wij bellen u morgen om de aangifte voor te bereiden."
STAFF_MESSAGE = "Overleg: de wijkagent kent deze man al."
NOTE = "Notitie: ambtsdrager klonk erg geschrokken."
REPORT_NUMBER = "2026-0456789"
FINGERPRINT_A, ORIGINAL_A = "ab" * 32, "cd" * 32
FINGERPRINT_B = "ef" * 32
MENTAL_HEALTH = "psychische klachten"
VIEWED = "Bekeken door het meldpunt"


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def world(db):
    """A threat at the officeholder's home with two files, a message in their thread, a look
    by the desk, and staff-only traffic (a note, the staff channel)."""
    desk = DeskFactory(name="Meldpunt Utrecht")
    organisation = OrganisationFactory(desk=desk)
    officeholder = UserFactory(
        organisation=organisation,
        first_name="Anna",
        last_name="Jansen",
        phone=PROFILE_PHONE,
        contact_preference=PROFILE_PREFERENCE,
    )
    registrar = UserFactory(registrar=True, desk=desk, first_name="Sanne", last_name="Vermeulen")
    other_desk = DeskFactory(name="Meldpunt Noord")
    incident = IncidentFactory(
        officeholder=officeholder,
        status="in_triage",
        types=[IncidentType.THREAT],
        description=DESCRIPTION,
        location=LOCATION,
        channel=Channel.AT_HOME,
        impacts=[Impact.MENTAL_HEALTH, Impact.SICK_LEAVE],
        aangifte={"filed": True, "report_number": REPORT_NUMBER, "vpt_asked": True},
        contact_phone=INCIDENT_PHONE,
        contact_preference="Liefst 's avonds",
    )
    Event.objects.create(
        incident=incident,
        kind=EventKind.SUBMITTED,
        actor=officeholder,
        actor_role=officeholder.role,
        created_at=timezone.now(),
        visible_to_officeholder=True,
    )
    files = [
        Evidence.objects.create(
            incident=incident,
            uploaded_by=officeholder,
            file=f"evidence/{incident.pk}/{number:032x}",
            original_name=name,
            kind=EvidenceKind.IMAGE,
            content_type="image/jpeg",
            size=2048,
            sha256=sha,
            original_sha256=original,
            uploaded_at=timezone.now(),
        )
        for number, name, sha, original in (
            (1, "foto-voordeur.jpg", FINGERPRINT_A, ORIGINAL_A),
            (2, "screenshot-bericht.png", FINGERPRINT_B, FINGERPRINT_B),
        )
    ]
    services.incident_mark_viewed(incident=incident, actor=registrar)
    services.message_send(
        incident=incident,
        actor=registrar,
        audience=MessageAudience.OFFICEHOLDER_THREAD,
        body=MESSAGE,
    )
    services.message_send(
        incident=incident, actor=registrar, audience=MessageAudience.STAFF, body=STAFF_MESSAGE
    )
    services.note_add(incident=incident, actor=registrar, body=NOTE)
    incident.refresh_from_db()
    return {
        "incident": incident,
        "officeholder": officeholder,
        "registrar": registrar,
        "files": files,
        "other_registrar": UserFactory(registrar=True, desk=other_desk),
        "other_officeholder": UserFactory(organisation=OrganisationFactory(desk=other_desk)),
    }


def _url(incident, name="incidents:police_summary") -> str:
    return reverse(name, kwargs={"reference": incident.reference})


def _defaults(world) -> dict:
    """What the choices page sends untouched: facts, every file, the timeline."""
    return {"facts": "on", "timeline": "on", "evidence": [f.pk for f in world["files"]]}


def _pdf(client, url, data) -> tuple[str, str]:
    """The PDF answered to a POST of `data`: its text and its text without any space."""
    response = client.post(url, data)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, _flat(text)


def _consent(world) -> None:
    services.summary_consent_set(
        incident=world["incident"], actor=world["officeholder"], given=True
    )


# --- The choices page ------------------------------------------------------------------------


def test_the_choices_page_ticks_only_the_safe_parts_and_warns_about_the_home(client, world):
    """Facts, both files and the timeline are ticked; messages, views, health effects and (at
    home) where it happened are not, with the warning next to "where"."""
    client.force_login(world["officeholder"])
    response = client.get(_url(world["incident"]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["facts"].value() and form["timeline"].value()
    assert sorted(form["evidence"].value()) == sorted(f.pk for f in world["files"])
    for name in ("location", "messages", "views", "impacts"):
        assert not form[name].value(), name
    page = response.content.decode()
    assert 'id="location-warning"' in page
    assert "huisadres" in page
    assert "foto-voordeur.jpg" in page


def test_a_location_elsewhere_is_ticked_by_default(world):
    """Away from home (and no sign that the home address is known), "where" is just a fact."""
    incident = IncidentFactory(location="Het gemeentehuis", channel=Channel.IN_PERSON_PUBLIC)
    assert not home_sensitive(incident)
    for flagged in (
        IncidentFactory(location="X", risk_flags=[RiskFlag.HOME_ADDRESS_KNOWN]),
        IncidentFactory(location="X", types=[IncidentType.DOXING]),
        IncidentFactory(location="X", channel=Channel.AT_HOME),
    ):
        assert home_sensitive(flagged)
    from incidents.forms import PoliceSummaryForm
    from incidents.police_summary import police_summary_page_for

    page = police_summary_page_for(user=incident.officeholder, reference=incident.reference)
    assert PoliceSummaryForm(page=page)["location"].value() is True


# --- Exactly what was ticked -------------------------------------------------------------------


def test_the_default_pdf_holds_facts_files_and_timeline_and_nothing_private(client, world):
    """Untouched choices: the facts with the police so far, both files with their
    fingerprints, the timeline; no messages, no views, no health effects, no location, no
    phone or contact wishes, no staff names, nothing only staff see."""
    client.force_login(world["officeholder"])
    text, flat = _pdf(client, _url(world["incident"]), _defaults(world))
    incident = world["incident"]
    for present in (
        incident.reference,
        DESCRIPTION,
        "Bedreiging",
        REPORT_NUMBER,
        "VPT-code gevraagd",
        "Anna Jansen",
        "foto-voordeur.jpg",
        "screenshot-bericht.png",
        FINGERPRINT_A,
        ORIGINAL_A,
        FINGERPRINT_B,
        "Melding ontvangen",
        "Gemaakt door de ambtsdrager",
    ):
        assert _flat(present) in flat, present
    for absent in (
        MESSAGE,
        VIEWED,
        MENTAL_HEALTH,
        "ziek gemeld",
        LOCATION,
        "Lindelaan",
        PROFILE_PREFERENCE,
        PROFILE_PHONE,
        INCIDENT_PHONE,
        "Liefst",
        STAFF_MESSAGE,
        NOTE,
        "Sanne",
        "Vermeulen",
    ):
        assert _flat(absent) not in flat, absent


@pytest.mark.parametrize(
    ("ticked", "shows"),
    [("messages", MESSAGE), ("views", VIEWED), ("impacts", MENTAL_HEALTH), ("location", LOCATION)],
)
def test_each_tick_adds_its_part_and_only_that(client, world, ticked, shows):
    """Ticking one of the parts that are off by default adds that part, not the others."""
    client.force_login(world["officeholder"])
    text, flat = _pdf(client, _url(world["incident"]), {**_defaults(world), ticked: "on"})
    assert _flat(shows) in flat
    if ticked in ("messages", "views"):
        assert "MeldpuntUtrecht" in flat  # staff by their team, never by name
    others = {"messages": MESSAGE, "views": VIEWED, "impacts": MENTAL_HEALTH, "location": LOCATION}
    for name, value in others.items():
        if name != ticked:
            assert _flat(value) not in flat, name


def test_unticked_sections_and_files_are_left_out(client, world):
    """Only the first file: its fingerprints are there, the other file, the facts and the
    timeline are not."""
    client.force_login(world["officeholder"])
    first = world["files"][0]
    text, flat = _pdf(client, _url(world["incident"]), {"evidence": [first.pk]})
    assert FINGERPRINT_A in flat and "foto-voordeur.jpg" in text
    for absent in (FINGERPRINT_B, "screenshot-bericht.png", DESCRIPTION, REPORT_NUMBER):
        assert _flat(absent) not in flat, absent
    assert "Melding ontvangen" not in text
    assert "Wat er gebeurde" not in text


def test_never_a_home_address_or_contact_details_even_with_everything_ticked(client, world):
    """With every box ticked the profile's contact wishes (which hold an address here) and
    phone numbers, the staff channel and the notes stay out."""
    client.force_login(world["officeholder"])
    everything = {
        **_defaults(world),
        **dict.fromkeys(("messages", "views", "impacts", "location"), "on"),
    }
    text, flat = _pdf(client, _url(world["incident"]), everything)
    assert _flat(MESSAGE) in flat  # really everything
    for absent in (
        "Dorpsstraat",
        PROFILE_PHONE,
        INCIDENT_PHONE,
        STAFF_MESSAGE,
        NOTE,
        "Sanne",
        "Vermeulen",
    ):
        assert _flat(absent) not in flat, absent


def test_a_file_of_another_incident_or_nothing_at_all_is_refused(client, world):
    """The files are this incident's only; choosing nothing says what to do. No PDF."""
    client.force_login(world["officeholder"])
    stranger = Evidence.objects.create(
        incident=IncidentFactory(),
        original_name="van-een-ander.jpg",
        kind=EvidenceKind.IMAGE,
        content_type="image/jpeg",
        size=1,
        sha256="00" * 32,
        uploaded_at=timezone.now(),
    )
    for data in ({"facts": "on", "evidence": [stranger.pk]}, {}):
        response = client.post(_url(world["incident"]), data)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
    assert "Kies ten minste één onderdeel" in response.content.decode()


def test_the_facts_section_is_one_function_that_follows_the_choices(world):
    """`summary_facts` is the one place the facts are put together (its police lines come
    from the aangifte track)."""
    incident = world["incident"]
    lines = summary_facts(incident, location=False, impacts=False)
    plain = dict(lines)
    assert "Waar" not in plain and "Gevolgen voor de ambtsdrager" not in plain
    aangifte = [value for label, value in lines if label == "Aangifte"]
    assert any(REPORT_NUMBER in value for value in aangifte)
    assert "VPT-code gevraagd" in aangifte
    full = dict(summary_facts(incident, location=True, impacts=True))
    assert full["Waar"] == LOCATION
    assert MENTAL_HEALTH in full["Gevolgen voor de ambtsdrager"]


# --- The desk, with consent ----------------------------------------------------------------------


def test_the_desk_gets_nothing_without_consent_and_the_pdf_with_it(client, world):
    """Without consent the desk's address answers 404 and its page says why; with consent
    the same choices give the PDF, named after the reference."""
    incident, registrar = world["incident"], world["registrar"]
    verified_login(client, registrar)
    url = _url(incident, "desk:police_summary")
    assert client.get(url).status_code == 404
    assert client.post(url, _defaults(world)).status_code == 404
    detail = client.get(reverse("desk:detail", args=[incident.reference])).content.decode()
    assert "Die toestemming is er nu niet." in detail
    assert url not in detail

    _consent(world)
    detail = client.get(reverse("desk:detail", args=[incident.reference])).content.decode()
    assert url in detail
    choices = client.get(url)
    assert choices.status_code == 200
    assert "Gevolgen voor de ambtsdrager" in choices.content.decode()  # not "voor u"
    response = client.post(url, _defaults(world))
    assert response["Content-Disposition"] == (
        f'attachment; filename="{incident.reference}-politie.pdf"'
    )
    text, flat = _pdf(client, url, _defaults(world))
    assert _flat(DESCRIPTION) in flat and FINGERPRINT_A in flat
    assert "toestemming" in text
    assert "Het meldpunt koos wat erin staat" in text
    for absent in (MESSAGE, VIEWED, MENTAL_HEALTH, STAFF_MESSAGE, NOTE, "Sanne"):
        assert _flat(absent) not in flat, absent


def test_the_desk_can_never_put_in_where_a_home_incident_happened(client, world):
    """Even when it sends the box, the desk's PDF of an incident at home has no location."""
    _consent(world)
    verified_login(client, world["registrar"])
    url = _url(world["incident"], "desk:police_summary")
    page = client.get(url)
    assert "location" not in page.context["form"].fields
    assert 'id="location-left-out"' in page.content.decode()
    text, flat = _pdf(client, url, {**_defaults(world), "location": "on"})
    assert "Lindelaan" not in flat


def test_consent_shows_on_the_timeline_and_withdrawing_closes_it_again(client, world):
    """Giving and withdrawing are on the officeholder's own page and in their timeline; after
    withdrawing, the desk gets 404 again."""
    incident, officeholder = world["incident"], world["officeholder"]
    client.force_login(officeholder)
    consent_url = _url(incident, "incidents:summary_consent")
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Het meldpunt mag namens mijn werkgever aangifte doen" in page

    response = client.post(consent_url, {"consent": "give"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.summary_consent_at is not None
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Toestemming gegeven: het meldpunt mag een samenvatting voor de politie maken" in page
    assert "Toestemming intrekken" in page

    desk = verified_login(type(client)(), world["registrar"])
    assert desk.get(_url(incident, "desk:police_summary")).status_code == 200

    client.post(consent_url, {"consent": "withdraw"})
    incident.refresh_from_db()
    assert incident.summary_consent_at is None
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Toestemming ingetrokken" in page
    assert desk.get(_url(incident, "desk:police_summary")).status_code == 404
    kinds = list(
        Event.objects.filter(incident=incident, visible_to_officeholder=True)
        .filter(kind__startswith="summary_consent")
        .values_list("kind", "actor")
    )
    assert kinds == [
        (EventKind.SUMMARY_CONSENT_GIVEN, officeholder.pk),
        (EventKind.SUMMARY_CONSENT_WITHDRAWN, officeholder.pk),
    ]


def test_consent_is_the_officeholders_own_and_given_once(world):
    """A second "give" is refused (nothing changes), as is consent by the desk or by another
    officeholder, and withdrawing what was never given."""
    incident = world["incident"]
    for actor, given in (
        (world["registrar"], True),
        (world["other_officeholder"], True),
        (world["officeholder"], False),
    ):
        with pytest.raises(TransitionNotAllowed):
            services.summary_consent_set(incident=incident, actor=actor, given=given)
    _consent(world)
    version = type(incident).objects.get(pk=incident.pk).version
    with pytest.raises(TransitionNotAllowed):
        _consent(world)
    assert type(incident).objects.get(pk=incident.pk).version == version


def test_another_officeholder_or_desk_never_reaches_it(client, world):
    """With consent given: the other desk and the other officeholder get 404 at both doors."""
    _consent(world)
    incident = world["incident"]
    verified_login(client, world["other_registrar"])
    assert client.get(_url(incident, "desk:police_summary")).status_code == 404
    assert client.post(_url(incident, "desk:police_summary"), _defaults(world)).status_code == 404
    client.force_login(world["other_officeholder"])
    assert client.get(_url(incident)).status_code == 404
    assert client.post(_url(incident), _defaults(world)).status_code == 404
    consent = client.post(_url(incident, "incidents:summary_consent"), {"consent": "withdraw"})
    assert consent.status_code == 404
    incident.refresh_from_db()
    assert incident.summary_consent_at is not None


# --- Logged ------------------------------------------------------------------------------------


def test_each_pdf_is_one_access_log_entry(client, world):
    """The officeholder's PDF and the desk's are each logged as a police summary."""
    _consent(world)
    incident = world["incident"]
    client.force_login(world["officeholder"])
    _pdf(client, _url(incident), _defaults(world))
    verified_login(client, world["registrar"])
    _pdf(client, _url(incident, "desk:police_summary"), _defaults(world))
    entries = list(
        AccessLogEntry.objects.filter(action=AccessAction.PRINT_POLICE_SUMMARY)
        .order_by("at", "pk")
        .values_list("actor", "reference", "what")
    )
    assert entries == [
        (world["officeholder"].pk, incident.reference, "police summary PDF (officeholder)"),
        (world["registrar"].pk, incident.reference, "police summary PDF (desk)"),
    ]
