"""The desk's pages (meld- en steunpunt) through the test client.

Access, every triage and workflow action, stale versions, linking, the queue's filters,
search, sorting and pages, the CSV export and filing on behalf of an officeholder.
Query counts are in test_queue_queries.py; browser flows in tests/browser/test_desk.py.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.constants import (
    Channel,
    EventKind,
    IdentifierKind,
    IncidentType,
    MessageAudience,
    ReporterSeverity,
    Status,
    SupportWish,
    TriageSeverity,
)
from incidents.models import Escalation, Event, Incident, IncidentLink, Message, Note
from portal.models import User
from tests.conftest import verified_login
from tests.factories import (
    DeskFactory,
    IncidentFactory,
    MessageFactory,
    NoteFactory,
    OrganisationFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STALE_TEXT = "Deze melding is intussen door iemand anders gewijzigd"

# Every desk URL that names an incident, with its method.
INCIDENT_POSTS = [
    "desk:take",
    "desk:assign",
    "desk:triage",
    "desk:close",
    "desk:reopen",
    "desk:escalate",
    "desk:note",
    "desk:message",
    "desk:staff_message",
    "desk:link",
    "desk:duplicate",
]
PLAIN_PAGES = ["desk:queue", "desk:overview", "desk:export", "desk:file"]


def _url(name, incident=None, **query):
    url = reverse(name, kwargs={"reference": incident.reference}) if incident else reverse(name)
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def _facts(**overrides):
    facts = {
        "types": [IncidentType.VERBAL_AGGRESSION],
        "occurred_on": timezone.localdate(),
        "summary": "Uitgescholden na de raadsvergadering.",
        "description": "GEHEIME-BESCHRIJVING van wat er gebeurde.",
        "channel": Channel.IN_PERSON_MEETING,
        "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
        "support_wish": SupportWish.CONTACT_WITH_DESK,
    }
    return {**facts, **overrides}


def _submit(officeholder, **overrides) -> Incident:
    return services.incident_submit(
        officeholder=officeholder, facts=_facts(**overrides), quick=False
    )


def _content(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def colleague(registrar):
    return UserFactory(registrar=True, desk=registrar.desk, first_name="Kees", last_name="Collega")


@pytest.fixture
def incident(officeholder):
    return IncidentFactory(officeholder=officeholder)


@pytest.fixture
def desk_client(client, registrar):
    verified_login(client, registrar)
    return client


# --- Access ----------------------------------------------------------------------------------


@pytest.fixture
def zwolle(demo_data):
    """An incident of burgemeester.zwolle (Meldpunt IJsselland), filed through the service."""
    return _submit(User.objects.get(username="burgemeester.zwolle"))


def test_utrecht_desk_cannot_open_zwolle_incident(client, zwolle):
    """meldpunt.utrecht gets 404 for a Zwolle incident, exactly like a missing one."""
    verified_login(client, User.objects.get(username="meldpunt.utrecht"))
    assert client.get(_url("desk:detail", zwolle)).status_code == 404
    missing = client.get(reverse("desk:detail", kwargs={"reference": "MWB-2000-999999"}))
    assert missing.status_code == 404
    queue = client.get(_url("desk:queue", status="all", q=zwolle.reference))
    assert queue.status_code == 200
    assert list(queue.context["incidents"]) == []
    export = b"".join(client.get(_url("desk:export", status="all")).streaming_content)
    assert zwolle.reference.encode() not in export


def test_utrecht_desk_cannot_act_on_zwolle_incident(client, zwolle):
    """Every action URL answers 404 for another desk's incident and changes nothing, even
    with a complete, well-formed form (one seeding of the demo data for all endpoints)."""
    utrecht = User.objects.get(username="meldpunt.utrecht")
    verified_login(client, utrecht)
    events_before = zwolle.events.count()
    data = {
        f"{prefix}-{field}": value
        for prefix in ("take", "assign", "triage", "close", "reopen", "escalate", "duplicate")
        for field, value in (("version", zwolle.version), ("outcome", "x"), ("reason", "x"))
    }
    data.update(
        {
            "assign-assignee": utrecht.pk,
            "triage-triage_severity": TriageSeverity.LOW,
            "triage-types": IncidentType.THREAT,
            "note-body": "x",
            "message-body": "x",
            "staff-body": "x",
            "link-reference": zwolle.reference,
            "link-kind": "series",
            "duplicate-reference": zwolle.reference,
        }
    )
    for endpoint in INCIDENT_POSTS:
        response = client.post(_url(endpoint, zwolle), data)
        assert response.status_code == 404, endpoint
    zwolle.refresh_from_db()
    assert (zwolle.status, zwolle.version, zwolle.assignee_id) == (Status.SUBMITTED, 1, None)
    assert zwolle.events.count() == events_before
    assert not Note.objects.filter(incident=zwolle).exists()
    assert not Message.objects.filter(incident=zwolle).exists()


def test_utrecht_desk_cannot_link_to_or_mark_duplicate_of_zwolle_incident(client, zwolle):
    """Naming another desk's incident in a link or duplicate form says 'not found'."""
    utrecht = User.objects.get(username="meldpunt.utrecht")
    own = _submit(User.objects.get(username="wethouder.utrecht"))
    verified_login(client, utrecht)
    response = client.post(
        _url("desk:link", own),
        {"link-reference": zwolle.reference, "link-kind": "series", "link-version": own.version},
    )
    assert response.status_code == 200
    assert f"Er is geen melding met kenmerk {zwolle.reference} gevonden" in _content(response)
    response = client.post(
        _url("desk:duplicate", own),
        {"duplicate-reference": zwolle.reference, "duplicate-version": own.version},
    )
    assert "gevonden bij uw meldpunt" in _content(response)
    own.refresh_from_db()
    assert own.status == Status.SUBMITTED
    assert own.duplicate_of is None
    assert not IncidentLink.objects.filter(from_incident__in=[own, zwolle]).exists()


def test_regional_desk_sees_incidents_of_all_its_organisations(client, demo_data):
    """meldpunt.ijsselland sees Zwolle's and Overijssel's incidents, not Utrecht's."""
    zwolle = _submit(User.objects.get(username="burgemeester.zwolle"))
    overijssel = _submit(User.objects.get(username="statenlid.overijssel"))
    utrecht = _submit(User.objects.get(username="wethouder.utrecht"))
    verified_login(client, User.objects.get(username="meldpunt.ijsselland"))
    page = _content(client.get(_url("desk:queue", status="all")))
    assert zwolle.reference in page and overijssel.reference in page
    assert utrecht.reference not in page
    assert client.get(_url("desk:detail", zwolle)).status_code == 200
    assert client.get(_url("desk:detail", overijssel)).status_code == 200
    assert client.get(_url("desk:detail", utrecht)).status_code == 404
    # The organisation filter offers exactly the desk's organisations.
    options = client.get(_url("desk:queue")).context["form"].fields["organisation"].queryset
    assert {o.name for o in options} == {
        "Gemeente Zwolle",
        "Provincie Overijssel",
        "Waterschap Drents Overijsselse Delta",
    }


@pytest.mark.parametrize("role", ["officeholder", "support_user", "admin_user"])
def test_other_roles_get_404_on_every_desk_page(client, request, incident, role):
    """Officeholders, the support team and admins get 404 on all of /meldpunt/."""
    verified_login(client, request.getfixturevalue(role))
    for name in PLAIN_PAGES:
        assert client.get(_url(name)).status_code == 404, name
    assert client.post(_url("desk:file"), {}).status_code == 404
    assert client.get(_url("desk:detail", incident)).status_code == 404
    for name in INCIDENT_POSTS:
        assert client.post(_url(name, incident), {}).status_code == 404, name


def test_anonymous_visitor_is_sent_to_login(client, incident):
    """Without logging in, the desk pages send the visitor to the login page."""
    response = client.get(_url("desk:detail", incident))
    assert response.status_code == 302
    assert response["Location"].startswith("/account/inloggen/")


# --- The incident page and its actions -------------------------------------------------------


def test_detail_shows_facts_and_records_first_view_once(desk_client, incident):
    """Opening the incident shows its facts and records 'viewed by the desk' only once."""
    response = desk_client.get(_url("desk:detail", incident))
    assert response.status_code == 200
    assert incident.summary in _content(response)
    desk_client.get(_url("desk:detail", incident))
    assert incident.events.filter(kind=EventKind.VIEWED_BY_DESK).count() == 1


def test_take_puts_incident_in_triage_with_registrar_as_handler(desk_client, registrar, incident):
    """Taking a submitted incident moves it to in_triage and makes the registrar handler."""
    response = desk_client.post(_url("desk:take", incident), {"take-version": incident.version})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.IN_TRIAGE
    assert incident.assignee == registrar
    followed = desk_client.get(response["Location"])
    assert "U heeft de melding in behandeling genomen." in _messages(followed)


def test_assign_to_a_colleague_of_the_desk(desk_client, colleague, incident):
    """A colleague of the same desk can be made handler; the colleague list is the desk's."""
    page = desk_client.get(_url("desk:detail", incident))
    assert set(page.context["action_forms"]["assign"].fields["assignee"].queryset) == set(
        User.objects.filter(desk=colleague.desk)
    )
    response = desk_client.post(
        _url("desk:assign", incident),
        {"assign-version": incident.version, "assign-assignee": colleague.pk},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == colleague


def test_tampered_assignee_of_another_desk_is_refused(desk_client, incident):
    """Posting another desk's registrar as assignee is refused clearly; nothing changes."""
    stranger = UserFactory(registrar=True)
    response = desk_client.post(
        _url("desk:assign", incident),
        {"assign-version": incident.version, "assign-assignee": stranger.pk},
    )
    assert response.status_code == 200
    assert "Kies een collega van uw eigen meldpunt" in _content(response)
    incident.refresh_from_db()
    assert incident.assignee is None
    assert incident.version == 1
    assert not incident.events.filter(kind=EventKind.ASSIGNED).exists()


def test_triage_records_severity_flags_types_and_advice(desk_client, incident):
    """The triage form stores severity, risk flags, corrected types, advice and a note."""
    response = desk_client.post(
        _url("desk:triage", incident),
        {
            "triage-version": incident.version,
            "triage-triage_severity": TriageSeverity.HIGH,
            "triage-risk_flags": ["repeat_incident", "criminal_offence_suspected"],
            "triage-types": [IncidentType.THREAT, IncidentType.STALKING],
            "triage-advice_given": ["aangifte", "home_security_scan"],
            "triage-advice_note": "Gebeld; aangifte besproken.",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.triage_severity == TriageSeverity.HIGH
    assert incident.risk_flags == ["repeat_incident", "criminal_offence_suspected"]
    assert incident.types == [IncidentType.THREAT, IncidentType.STALKING]
    assert incident.advice_given == ["aangifte", "home_security_scan"]
    assert incident.advice_note == "Gebeld; aangifte besproken."
    assert incident.triaged_at is not None


def test_triage_without_severity_keeps_the_typed_note(desk_client, incident):
    """A triage form without a severity comes back with an error and the typed note."""
    response = desk_client.post(
        _url("desk:triage", incident),
        {
            "triage-version": incident.version,
            "triage-types": [IncidentType.THREAT],
            "triage-advice_note": "Mijn getypte toelichting",
        },
    )
    assert response.status_code == 200
    assert "Kies hoe ernstig het is." in _content(response)
    assert "Mijn getypte toelichting" in _content(response)


def test_stale_version_keeps_typed_text_and_shows_the_message(desk_client, registrar, incident):
    """Two registrars at once: the second gets the clear message, keeps the typed outcome and
    a form with the new version, so that sending again works."""
    old_version = incident.version
    services.incident_act(action="take", incident=incident, actor=registrar, version=old_version)
    response = desk_client.post(
        _url("desk:close", incident),
        {
            "close-version": old_version,
            "close-outcome_category": "advice_given",
            "close-outcome": "Mijn zorgvuldig getypte uitkomst",
        },
    )
    assert response.status_code == 200
    content = _content(response)
    assert STALE_TEXT in content
    assert "Mijn zorgvuldig getypte uitkomst" in content
    incident.refresh_from_db()
    assert incident.status == Status.IN_TRIAGE
    assert f'name="close-version" value="{incident.version}"' in content
    again = desk_client.post(
        _url("desk:close", incident),
        {
            "close-version": incident.version,
            "close-outcome_category": "advice_given",
            "close-outcome": "Mijn zorgvuldig getypte uitkomst",
        },
    )
    assert again.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED


def test_stale_triage_keeps_every_choice(desk_client, registrar, incident):
    """A stale triage keeps the chosen severity, types and note in the form."""
    services.incident_act(
        action="take", incident=incident, actor=registrar, version=incident.version
    )
    response = desk_client.post(
        _url("desk:triage", incident),
        {
            "triage-version": 1,
            "triage-triage_severity": TriageSeverity.MEDIUM,
            "triage-types": [IncidentType.STALKING],
            "triage-advice_note": "Getypt advies",
        },
    )
    content = _content(response)
    assert STALE_TEXT in content
    form = response.context["action_forms"]["triage"]
    assert form["triage_severity"].value() == TriageSeverity.MEDIUM
    assert form["types"].value() == [IncidentType.STALKING]
    assert form["advice_note"].value() == "Getypt advies"
    assert form["version"].value() == 2


def test_form_without_version_is_refused_with_a_clear_message(desk_client, incident):
    """A change without the hidden version (an old or tampered form) changes nothing and
    keeps the typed text."""
    response = desk_client.post(_url("desk:close", incident), {"close-outcome": "Getypte tekst"})
    assert response.status_code == 200
    content = _content(response)
    assert "Open de pagina opnieuw en probeer het nog eens." in content
    assert "Getypte tekst" in content
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_close_requires_an_outcome_category(desk_client, incident):
    """Closing without a category is refused with a clear message; the incident stays open.
    The text is optional."""
    response = desk_client.post(
        _url("desk:close", incident), {"close-version": incident.version, "close-outcome": "  "}
    )
    assert response.status_code == 200
    assert "Kies hoe u de melding afsluit." in _content(response)
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_close_with_outcome_and_reopen_with_reason(desk_client, incident):
    """Closing stores the outcome; reopening needs a reason and brings it back in triage."""
    desk_client.post(
        _url("desk:close", incident),
        {
            "close-version": incident.version,
            "close-outcome_category": "registered",
            "close-outcome": "Alleen geregistreerd.",
        },
    )
    incident.refresh_from_db()
    assert (incident.status, incident.outcome_category, incident.outcome) == (
        Status.CLOSED,
        "registered",
        "Alleen geregistreerd.",
    )

    refused = desk_client.post(
        _url("desk:reopen", incident), {"reopen-version": incident.version, "reopen-reason": ""}
    )
    assert refused.status_code == 200
    assert "Vul een reden in." in _content(refused)
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED

    reopened = desk_client.post(
        _url("desk:reopen", incident),
        {"reopen-version": incident.version, "reopen-reason": "Nieuwe bedreiging ontvangen."},
    )
    assert reopened.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.IN_TRIAGE
    # Payloads are encrypted, so they are compared after reading, not in SQL.
    assert any(
        event.payload.get("reason") == "Nieuwe bedreiging ontvangen."
        for event in incident.events.filter(kind=EventKind.STATUS_CHANGED)
    )


def test_escalate_needs_a_reason_and_shows_who_and_why(desk_client, registrar, incident):
    """Escalating by hand needs a reason; the page then shows who escalated, when and why."""
    refused = desk_client.post(
        _url("desk:escalate", incident),
        {"escalate-version": incident.version, "escalate-reason": ""},
    )
    assert "Vul een reden in voor het Ondersteuningsteam." in _content(refused)
    assert not Escalation.objects.exists()
    desk_client.post(
        _url("desk:escalate", incident),
        {"escalate-version": incident.version, "escalate-reason": "Dreiging richting kinderen."},
    )
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    escalation = incident.escalations.get()
    assert (escalation.escalated_by, escalation.reason) == (
        registrar,
        "Dreiging richting kinderen.",
    )
    page = _content(desk_client.get(_url("desk:detail", incident)))
    assert "Doorgegeven aan het Ondersteuningsteam" in page
    assert f"door {registrar}" in page
    assert "Dreiging richting kinderen." in page


def test_link_by_reference_and_linking_twice_changes_nothing(desk_client, officeholder, incident):
    """A link by reference shows on both pages; linking the same pair again is refused with a
    message and changes nothing."""
    other = IncidentFactory(officeholder=officeholder)
    data = {
        "link-reference": other.reference.lower(),
        "link-kind": "series",
        "link-reason": "Reeks",
        "link-version": incident.version,
    }
    response = desk_client.post(_url("desk:link", incident), data)
    assert response.status_code == 302
    assert IncidentLink.objects.count() == 1
    assert other.reference in _content(desk_client.get(_url("desk:detail", incident)))
    assert incident.reference in _content(desk_client.get(_url("desk:detail", other)))
    incident.refresh_from_db()
    again = desk_client.post(
        _url("desk:link", incident), {**data, "link-version": incident.version}
    )
    assert again.status_code == 200
    assert "Deze meldingen waren al aan elkaar gekoppeld." in _content(again)
    assert IncidentLink.objects.count() == 1
    assert incident.events.filter(kind=EventKind.LINKED).count() == 1


def test_link_to_unknown_reference_says_not_found(desk_client, incident):
    """A reference that does not exist gives a 'not found' message and keeps the input."""
    response = desk_client.post(
        _url("desk:link", incident),
        {
            "link-reference": "MWB-1999-000001",
            "link-kind": "series",
            "link-version": incident.version,
        },
    )
    assert response.status_code == 200
    assert "Er is geen melding met kenmerk MWB-1999-000001 gevonden" in _content(response)
    assert not IncidentLink.objects.exists()


def test_mark_duplicate_closes_with_a_pointer_and_deletes_nothing(
    desk_client, officeholder, incident
):
    """The duplicate is closed and points to the original; both still exist."""
    original = IncidentFactory(officeholder=officeholder)
    response = desk_client.post(
        _url("desk:duplicate", incident),
        {"duplicate-reference": original.reference, "duplicate-version": incident.version},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED
    assert incident.duplicate_of == original
    assert Incident.objects.filter(pk__in=[incident.pk, original.pk]).count() == 2
    assert original.reference in _content(desk_client.get(_url("desk:detail", incident)))
    assert incident.reference in _content(desk_client.get(_url("desk:detail", original)))


def test_shared_perpetrator_is_suggested_across_the_desks_organisations(desk_client, registrar):
    """Incidents with the same normalised handle are suggested, also from another organisation
    of the desk, never from another desk; one click links them."""
    first_org = OrganisationFactory(desk=registrar.desk)
    second_org = OrganisationFactory(desk=registrar.desk)
    incident = IncidentFactory(officeholder=UserFactory(organisation=first_org))
    same = IncidentFactory(officeholder=UserFactory(organisation=second_org))
    elsewhere = IncidentFactory()  # another desk
    unrelated = IncidentFactory(officeholder=UserFactory(organisation=first_org))
    PerpetratorIdentifierFactory(incident=incident, value="@Jan_Boos")
    PerpetratorIdentifierFactory(incident=same, value="https://x.com/jan_boos")
    PerpetratorIdentifierFactory(incident=elsewhere, value="jan_boos")
    PerpetratorIdentifierFactory(incident=unrelated, kind=IdentifierKind.EMAIL, value="a@b.nl")

    page = desk_client.get(_url("desk:detail", incident))
    assert [s.pk for s in page.context["suggestions"]] == [same.pk]
    assert elsewhere.reference not in _content(page)
    assert f"Koppel {same.reference}" in _content(page)

    desk_client.post(
        _url("desk:link", incident),
        {
            "link-reference": same.reference,
            "link-kind": "same_perpetrator",
            "link-version": incident.version,
        },
    )
    assert IncidentLink.objects.filter(kind="same_perpetrator").count() == 1
    page = desk_client.get(_url("desk:detail", incident))
    assert page.context["suggestions"] == []
    assert [item.incident.pk for item in page.context["linked"]] == [same.pk]


def test_notes_and_staff_messages_never_reach_the_officeholder(client, registrar, incident):
    """The registrar writes a note, a staff message and a message to the officeholder; the
    officeholder's own page shows only the message to them."""
    verified_login(client, registrar)
    client.post(_url("desk:note", incident), {"note-body": "INTERNE-NOTITIE-123"})
    client.post(_url("desk:staff_message", incident), {"staff-body": "STAFF-OVERLEG-456"})
    client.post(_url("desk:message", incident), {"message-body": "Bel ons gerust, BERICHT-789"})
    assert Note.objects.filter(incident=incident).count() == 1
    assert Message.objects.filter(incident=incident, audience=MessageAudience.STAFF).count() == 1

    desk_page = _content(client.get(_url("desk:detail", incident)))
    for text in ("INTERNE-NOTITIE-123", "STAFF-OVERLEG-456", "BERICHT-789"):
        assert text in desk_page
    assert "intern" in desk_page

    verified_login(client, incident.officeholder)
    own_page = client.get(reverse("incidents:detail", kwargs={"reference": incident.reference}))
    assert own_page.status_code == 200
    content = _content(own_page)
    assert "BERICHT-789" in content
    assert "INTERNE-NOTITIE-123" not in content
    assert "STAFF-OVERLEG-456" not in content
    assert "Interne notitie" not in content


def test_empty_note_and_message_are_refused(desk_client, incident):
    """An empty note or message gives a clear message and stores nothing."""
    response = desk_client.post(_url("desk:note", incident), {"note-body": " "})
    assert "Schrijf een notitie." in _content(response)
    response = desk_client.post(_url("desk:message", incident), {"message-body": ""})
    assert "Schrijf een bericht." in _content(response)
    assert not Note.objects.exists() and not Message.objects.exists()


def test_detail_timeline_marks_notes_and_staff_messages_internal(desk_client, incident):
    """In the desk's timeline notes and staff messages carry the 'intern' marker."""
    note = NoteFactory(incident=incident)
    staff = MessageFactory(incident=incident, staff=True)
    Event.objects.create(
        incident=incident,
        kind=EventKind.NOTE,
        created_at=timezone.now(),
        payload={"note_id": note.pk},
    )
    Event.objects.create(
        incident=incident,
        kind=EventKind.MESSAGE,
        created_at=timezone.now(),
        payload={"message_id": staff.pk, "audience": MessageAudience.STAFF},
    )
    timeline = desk_client.get(_url("desk:detail", incident)).context["timeline"]
    internal = {entry.kind for entry in timeline if entry.internal}
    assert internal == {EventKind.NOTE, EventKind.MESSAGE}


# --- Queue: filters, search, sorting, pages ---------------------------------------------------


def _references(response) -> list[str]:
    return [incident.reference for incident in response.context["incidents"]]


@pytest.fixture
def queue_data(registrar, colleague):
    """A desk with two organisations and incidents that differ in every filtered field."""
    now = timezone.now()
    north = OrganisationFactory(desk=registrar.desk, name="Gemeente Noord")
    south = OrganisationFactory(desk=registrar.desk, name="Gemeente Zuid")
    anna = UserFactory(organisation=north, first_name="Anna", last_name="Bakker")
    bert = UserFactory(organisation=south, first_name="Bert", last_name="de Groot")
    return {
        "overdue": IncidentFactory(
            officeholder=anna,
            triage_due_at=now - timedelta(hours=1),
            submitted_at=now - timedelta(days=3),
            reporter_severity=ReporterSeverity.NOT_SERIOUS,
            channel=Channel.EMAIL,
        ),
        "serious": IncidentFactory(
            officeholder=bert,
            reporter_severity=ReporterSeverity.VERY_SERIOUS,
            types=[IncidentType.STALKING, IncidentType.THREAT],
            channel=Channel.SOCIAL_MEDIA,
            submitted_at=now - timedelta(days=2),
            triage_due_at=now + timedelta(hours=2),
        ),
        "mine": IncidentFactory(
            officeholder=anna,
            status=Status.IN_TRIAGE,
            assignee=registrar,
            triage_severity=TriageSeverity.LOW,
            submitted_at=now - timedelta(days=1),
        ),
        "colleague": IncidentFactory(
            officeholder=bert,
            status=Status.IN_TRIAGE,
            assignee=colleague,
            triage_severity=TriageSeverity.CRITICAL,
            submitted_at=now - timedelta(hours=5),
        ),
        "newest": IncidentFactory(officeholder=bert, submitted_at=now - timedelta(hours=1)),
        "closed": IncidentFactory(
            officeholder=anna, closed=True, submitted_at=now - timedelta(days=40)
        ),
        "other_desk": IncidentFactory(),
        "north": north,
        "south": south,
    }


def test_queue_default_shows_open_incidents_most_urgent_first(desk_client, queue_data):
    """Without filters: only open incidents of the desk; critical first, then serious (the
    reporter's or the desk's), then the rest; within each, the earliest deadline first."""
    response = desk_client.get(_url("desk:queue"))
    assert response.status_code == 200
    d = queue_data
    assert _references(response) == [
        d["colleague"].reference,  # critical
        d["serious"].reference,  # very serious according to the reporter, due in 2 hours
        d["overdue"].reference,  # light, but its deadline has passed
        d["mine"].reference,
        d["newest"].reference,
    ]
    content = _content(response)
    assert "Te laat" in content
    assert d["closed"].reference not in content
    assert d["other_desk"].reference not in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "closed"}, ["closed"]),
        (
            {"status": "all", "sort": "newest"},
            ["newest", "colleague", "mine", "serious", "overdue", "closed"],
        ),
        ({"status": "in_triage", "sort": "oldest"}, ["mine", "colleague"]),
        ({"triage_severity": "critical"}, ["colleague"]),
        ({"reporter_severity": "very_serious"}, ["serious"]),
        ({"type": "stalking"}, ["serious"]),
        ({"channel": "email"}, ["overdue"]),
        ({"overdue": "on"}, ["overdue"]),
        ({"assigned": "me"}, ["mine"]),
        ({"assigned": "nobody", "sort": "newest"}, ["newest", "serious", "overdue"]),
        ({"q": "bakker", "sort": "newest"}, ["mine", "overdue"]),
        ({"q": "Bert de Groot", "sort": "newest"}, ["newest", "colleague", "serious"]),
        ({"sort": "due"}, ["overdue", "serious", "mine", "colleague", "newest"]),
    ],
)
def test_queue_filters_search_and_sorting(desk_client, queue_data, query, expected):
    """Each filter, the search on officeholder name and each sort order gives exactly the
    expected incidents in the expected order."""
    response = desk_client.get(_url("desk:queue"), query)
    assert response.status_code == 200
    assert _references(response) == [queue_data[key].reference for key in expected]


def test_queue_filters_by_organisation_and_received_dates(desk_client, queue_data):
    """The organisation filter and the received-date range narrow the queue."""
    d = queue_data
    response = desk_client.get(
        _url("desk:queue"), {"organisation": d["north"].pk, "sort": "newest"}
    )
    assert _references(response) == [d["mine"].reference, d["overdue"].reference]
    today = timezone.localdate()
    response = desk_client.get(
        _url("desk:queue"),
        {
            "status": "all",
            "date_from": (today - timedelta(days=3)).isoformat(),
            "date_to": (today - timedelta(days=2)).isoformat(),
            "sort": "newest",
        },
    )
    assert _references(response) == [d["serious"].reference, d["overdue"].reference]


def test_queue_search_on_reference(desk_client, queue_data):
    """Searching part of a reference finds that incident."""
    reference = queue_data["serious"].reference
    response = desk_client.get(_url("desk:queue"), {"q": reference[-6:]})
    assert _references(response) == [reference]


def test_queue_pages_keep_the_filters(desk_client, registrar):
    """With more than one page, the page links keep the filter and page 2 has the rest."""
    officeholder = UserFactory(organisation=OrganisationFactory(desk=registrar.desk))
    for _ in range(55):
        IncidentFactory(officeholder=officeholder)
    first = desk_client.get(_url("desk:queue"), {"status": "submitted"})
    assert len(first.context["incidents"]) == 50
    assert "status=submitted&amp;page=2" in _content(first)
    second = desk_client.get(_url("desk:queue"), {"status": "submitted", "page": 2})
    assert len(second.context["incidents"]) == 5
    assert not set(_references(first)) & set(_references(second))
    beyond = desk_client.get(_url("desk:queue"), {"page": 999})
    assert beyond.status_code == 200


def test_queue_counts_no_further_than_the_cap(desk_client, registrar, monkeypatch):
    """Past the cap the heading says "meer dan" and the pages stop at the cap."""
    from incidents.views import desk

    monkeypatch.setattr(desk, "QUEUE_COUNT_CAP", 3)
    monkeypatch.setattr(desk, "QUEUE_PAGE_SIZE", 2)
    officeholder = UserFactory(organisation=OrganisationFactory(desk=registrar.desk))
    for _ in range(5):
        IncidentFactory(officeholder=officeholder)
    response = desk_client.get(_url("desk:queue"))
    assert "Meer dan 1.000 meldingen gevonden" in _content(response)
    assert response.context["page"].paginator.num_pages == 2
    monkeypatch.setattr(desk, "QUEUE_COUNT_CAP", 5)
    assert "5 meldingen gevonden" in _content(desk_client.get(_url("desk:queue")))


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"triage_severity": "x"},
        {"reporter_severity": "<script>"},
        {"type": '"); DROP TABLE'},
        {"channel": "nope"},
        {"organisation": "abc"},
        {"organisation": "999999"},
        {"date_from": "2026-02-31"},
        {"date_to": "gisteren"},
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"organisation": "99999999999999999999999"},
        {"q": "nul\x00teken"},
        {"page": "99999999999999999999"},
        {"date_from": "2026-05-01", "date_to": "2026-01-01"},
        {"assigned": "iedereen"},
        {"overdue": "misschien"},
        {"sort": "-pk"},
        {"page": "-1"},
        {"page": "abc"},
        {"q": "x" * 500},
    ],
)
def test_invalid_filter_params_never_give_a_500(desk_client, queue_data, query):
    """Nonsense in the query string gives the page (and the CSV) with the bad filter ignored."""
    response = desk_client.get(_url("desk:queue"), query)
    assert response.status_code == 200
    export = desk_client.get(_url("desk:export"), query)
    assert export.status_code == 200
    b"".join(export.streaming_content)


def test_invalid_filter_is_reported_and_the_valid_ones_still_apply(desk_client, queue_data):
    """A bad organisation id is shown as an error; the valid status filter still works."""
    response = desk_client.get(_url("desk:queue"), {"organisation": "999999", "status": "closed"})
    assert "Sommige filters kloppen niet" in _content(response)
    assert _references(response) == [queue_data["closed"].reference]


def test_organisation_of_another_desk_is_not_a_valid_filter(desk_client, queue_data):
    """Filtering on another desk's organisation is refused instead of leaking anything."""
    foreign = queue_data["other_desk"].organisation
    response = desk_client.get(_url("desk:queue"), {"organisation": foreign.pk})
    assert "Kies een organisatie van uw meldpunt." in _content(response)
    assert queue_data["other_desk"].reference not in _content(response)


# --- CSV export -----------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_export_follows_the_filter_and_holds_no_free_text(desk_client, queue_data):
    """The CSV has a Dutch header, the filtered rows, structured fields, and no free text."""
    NoteFactory(incident=queue_data["serious"], body="GEHEIME-NOTITIE")
    MessageFactory(incident=queue_data["serious"], body="GEHEIM-BERICHT")
    Incident.objects.filter(pk=queue_data["serious"].pk).update(
        description="GEHEIME-BESCHRIJVING", location="Thuisadres 1", advice_note="GEHEIM-ADVIES"
    )
    response = desk_client.get(_url("desk:export"), {"type": "stalking"})
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Kenmerk", "Ontvangen op", "Datum incident"]
    assert "Te laat" in header and "Behandelaar" in header
    assert [row[0] for row in body] == [queue_data["serious"].reference]
    row = dict(zip(header, body[0], strict=True))
    assert row["Status"] == "Ontvangen"
    assert row["Ernst volgens melder"] == "Heel ernstig"
    assert row["Hoe het gebeurde"] == "Sociale media"
    assert row["Organisatie"] == "Gemeente Zuid"
    assert row["Te laat"] == "nee"
    everything = "".join(";".join(r) for r in rows)
    for secret in (
        "GEHEIME-NOTITIE",
        "GEHEIM-BERICHT",
        "GEHEIME-BESCHRIJVING",
        "Thuisadres",
        "GEHEIM-ADVIES",
        queue_data["serious"].summary,
    ):
        assert secret not in everything


def test_export_marks_overdue_and_all_statuses(desk_client, queue_data):
    """With status=all every incident of the desk is exported, overdue ones marked 'ja'."""
    rows = _csv(desk_client.get(_url("desk:export"), {"status": "all"}))
    by_reference = {row[0]: row for row in rows[1:]}
    assert len(by_reference) == 6
    header = rows[0]
    overdue = dict(zip(header, by_reference[queue_data["overdue"].reference], strict=True))
    assert overdue["Te laat"] == "ja"
    assert queue_data["other_desk"].reference not in by_reference


def test_export_guards_against_formula_injection(desk_client, registrar):
    """A cell that starts with = + - or @ is prefixed with a quote, so no spreadsheet runs it."""
    evil = OrganisationFactory(desk=registrar.desk, name='=HYPERLINK("http://kwaad.example")')
    IncidentFactory(officeholder=UserFactory(organisation=evil))
    rows = _csv(desk_client.get(_url("desk:export")))
    organisation = rows[0].index("Organisatie")
    assert rows[1][organisation] == "'" + evil.name
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


# --- Overview -------------------------------------------------------------------------------


def test_overview_counts_status_overdue_and_month_per_organisation(desk_client, queue_data):
    """The overview counts incidents per status, the overdue ones, and this month's incidents
    per organisation of the desk, with links to the filtered queue."""
    response = desk_client.get(_url("desk:overview"))
    assert response.status_code == 200
    overview = response.context["overview"]
    by_status = {code: count for code, _label, count in overview.by_status}
    assert by_status == {
        "submitted": 3,
        "in_triage": 2,
        "escalated": 0,
        "closed": 1,
        "withdrawn": 0,
    }
    assert overview.overdue == 1
    assert overview.open_total == 5
    month_start = timezone.localdate().replace(day=1)
    expected_north = sum(
        1
        for key in ("overdue", "mine", "closed")
        if timezone.localtime(queue_data[key].submitted_at).date() >= month_start
    )
    counts = {row.organisation.name: row.count for row in overview.per_organisation}
    assert counts["Gemeente Noord"] == expected_north
    content = _content(response)
    assert "?overdue=on" in content
    assert "?status=closed" in content
    assert f"organisation={queue_data['north'].pk}" in content


# --- Filing on behalf of an officeholder ------------------------------------------------------


def _file_data(officeholder_pk, **overrides):
    data = {
        "submission_token": "9c7a3f0e-1b2c-4d5e-8f90-123456789abc",
        "officeholder": officeholder_pk,
        "types": [IncidentType.THREAT],
        "occurred_on": timezone.localdate().isoformat(),
        "summary": "Telefonisch bedreigd, gemeld aan de balie.",
        "reporter_severity": ReporterSeverity.SOMEWHAT_SERIOUS,
        "support_wish": SupportWish.CONTACT_WITH_DESK,
    }
    return {**data, **overrides}


def test_registrar_files_for_an_officeholder_who_then_sees_it(client, registrar, officeholder):
    """Filed by the desk: marked so, in the desk's queue, and in the officeholder's own list."""
    verified_login(client, registrar)
    page = client.get(_url("desk:file"))
    assert page.status_code == 200
    assert list(page.context["form"].fields["officeholder"].queryset) == [officeholder]
    response = client.post(_url("desk:file"), _file_data(officeholder.pk))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.filed_by_desk and incident.filed_by == registrar
    assert incident.officeholder == officeholder
    assert response["Location"] == _url("desk:detail", incident)
    assert incident.events.filter(kind=EventKind.FILED_BY_DESK).exists()

    verified_login(client, officeholder)
    own_list = _content(client.get(reverse("incidents:list")))
    assert incident.reference in own_list


def test_filing_for_an_officeholder_of_another_desk_is_refused(client, registrar):
    """A tampered officeholder id of another desk is refused and nothing is filed."""
    stranger = UserFactory()  # their organisation has its own desk
    verified_login(client, registrar)
    response = client.post(_url("desk:file"), _file_data(stranger.pk))
    assert response.status_code == 200
    assert "Kies een ambtsdrager van een organisatie van uw meldpunt." in _content(response)
    assert not Incident.objects.exists()


def test_filing_without_required_fields_keeps_the_input(client, registrar, officeholder):
    """A filing with a missing summary comes back with the error and what was typed."""
    verified_login(client, registrar)
    response = client.post(
        _url("desk:file"),
        _file_data(officeholder.pk, summary="", description="Wat ik al had getypt"),
    )
    assert response.status_code == 200
    assert "Wat ik al had getypt" in _content(response)
    assert not Incident.objects.exists()


# --- Home and navigation -------------------------------------------------------------------


def test_registrar_home_links_to_queue_overview_and_filing(desk_client):
    """The registrar's start page offers the queue, the overview and filing on behalf."""
    content = _content(desk_client.get("/"))
    for name in ("desk:queue", "desk:overview", "desk:file"):
        assert f'href="{reverse(name)}"' in content
    assert re.search(r'<nav[^>]*>.*href="/meldpunt/"', content, re.S)


def test_desk_without_organisations_shows_an_empty_queue(client):
    """A registrar of a desk that serves nobody yet sees an empty queue, not an error."""
    verified_login(client, UserFactory(registrar=True, desk=DeskFactory()))
    response = client.get(_url("desk:queue"))
    assert response.status_code == 200
    assert "Er zijn geen open meldingen." in _content(response)
    assert client.get(_url("desk:overview")).status_code == 200
