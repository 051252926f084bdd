"""The quick report's optional question, the honest confirmation, and an unknown perpetrator.

"Voelt u zich onveilig of wilt u gebeld worden?": yes gives the 4-hour deadline and a contact
wish, is stored apart from the reporter's severity, and asks for a phone number when the
profile has none. The confirmation promises only what will happen for the answers given.
Browser flows are in tests/browser/test_officeholder_side.py.
"""

import uuid
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import deadlines, selectors, services
from incidents.constants import IncidentType, ReporterSeverity, SupportWish
from incidents.models import Incident
from portal.models import User
from tests.conftest import verified_login

pytestmark = pytest.mark.django_db

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


def _quick_data(**overrides) -> dict:
    data = {
        "submission_token": str(uuid.uuid4()),
        "types": [IncidentType.THREAT],
        "occurred_on": timezone.localdate().isoformat(),
        "occurred_at": "",
        "summary": "Hij zei dat hij mij thuis opwacht.",
    }
    data.update(overrides)
    return data


def _quick(officeholder, **facts) -> Incident:
    return services.incident_submit(
        officeholder=officeholder,
        facts={
            "types": [IncidentType.THREAT],
            "occurred_on": timezone.localdate(),
            "summary": "Hij zei dat hij mij thuis opwacht.",
            **facts,
        },
        quick=True,
    )


def _submitted_at(incident: Incident, moment: datetime) -> Incident:
    """Re-date a report (and its deadline) as if it came in at `moment`."""
    Incident.objects.filter(pk=incident.pk).update(
        submitted_at=moment,
        triage_due_at=deadlines.triage_due_at(
            submitted_at=moment,
            serious=incident.unsafe_or_call is True,
            time_zone=incident.organisation.time_zone,
        ),
    )
    return Incident.objects.get(pk=incident.pk)


# --- The service --------------------------------------------------------------------------------


def test_yes_gives_the_four_hour_deadline_and_a_contact_wish_but_no_severity(officeholder):
    """Yes makes the report serious (4 clock hours) and a wish for contact with the desk; the
    reporter's own severity stays empty, so statistics never count it as "serious"."""
    incident = _quick(officeholder, unsafe_or_call=True)
    assert incident.triage_due_at == incident.submitted_at + timedelta(hours=4)
    assert incident.unsafe_or_call is True
    assert incident.support_wish == SupportWish.CONTACT_WITH_DESK
    assert incident.reporter_severity == ""
    assert not Incident.objects.filter(
        reporter_severity__in=[ReporterSeverity.SERIOUS, ReporterSeverity.VERY_SERIOUS]
    ).exists()


def test_no_answer_keeps_two_working_days_and_no_contact_wish(officeholder):
    """Without an answer (or with no) nothing changes: 2 working days, no contact wish."""
    for answer in (None, False):
        incident = _quick(officeholder, unsafe_or_call=answer)
        assert incident.triage_due_at > incident.submitted_at + timedelta(days=1)
        assert incident.support_wish == ""
        assert incident.unsafe_or_call is answer


def test_yes_keeps_a_wish_for_the_teams_support(officeholder):
    """A wish for the Ondersteuningsteam's support is more than contact: it stays."""
    incident = services.incident_submit(
        officeholder=officeholder,
        facts={
            "types": [IncidentType.THREAT],
            "occurred_on": timezone.localdate(),
            "summary": "Bedreigd.",
            "unsafe_or_call": True,
            "support_wish": SupportWish.SUPPORT_FROM_TEAM,
        },
        quick=True,
    )
    assert incident.support_wish == SupportWish.SUPPORT_FROM_TEAM


def test_untriaged_yes_report_gets_the_serious_reminders(officeholder):
    """The reminders and auto-escalation of serious reports find a yes report too."""
    from incidents.actions import serious_q

    serious = _quick(officeholder, unsafe_or_call=True)
    _quick(officeholder)
    assert list(Incident.objects.filter(serious_q()).values_list("pk", flat=True)) == [serious.pk]


# --- The form and the view ----------------------------------------------------------------------


def test_the_phone_number_is_asked_only_when_the_profile_has_none(client, officeholder):
    """No number on the profile: the quick report asks for one. With a number: it does not."""
    client.force_login(officeholder)
    page = client.get(reverse("incidents:quick")).content.decode()
    assert "Voelt u zich onveilig of wilt u gebeld worden?" in page
    assert 'name="contact_phone"' in page
    officeholder.phone = "+31612345678"
    officeholder.save()
    page = client.get(reverse("incidents:quick")).content.decode()
    assert 'name="contact_phone"' not in page


def test_yes_with_a_number_stores_it_on_the_incident_and_the_profile(client, officeholder):
    """The number is stored in international form, on the incident and on the empty profile;
    the confirmation promises a call on that number, as a tel: link."""
    client.force_login(officeholder)
    response = client.post(
        reverse("incidents:quick"), _quick_data(unsafe_or_call="ja", contact_phone="06-12 34 56 78")
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.contact_phone == "+31612345678"
    assert User.objects.get(pk=officeholder.pk).phone == "+31612345678"
    page = client.get(response["Location"]).content.decode()
    assert 'href="tel:+31612345678"' in page
    assert "Daarna belt u iemand op" in page


def test_a_wrong_number_is_refused_in_dutch_keeping_the_text(client, officeholder):
    """A number that is not one: a Dutch message, no incident, and the text stays."""
    client.force_login(officeholder)
    response = client.post(
        reverse("incidents:quick"), _quick_data(unsafe_or_call="ja", contact_phone="bel me")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert Incident.objects.count() == 0
    assert "Dit is geen telefoonnummer." in page
    assert "Hij zei dat hij mij thuis opwacht." in page


def test_confirmation_for_yes_in_the_morning_says_today_and_never_a_minute(client, officeholder):
    """A yes report at 10:00 is looked at "vandaag nog"; no clock time is promised."""
    incident = _quick(officeholder, unsafe_or_call=True)
    _submitted_at(incident, datetime(2026, 12, 2, 10, 0, tzinfo=AMSTERDAM))
    client.force_login(officeholder)
    page = client.get(reverse("incidents:confirmation", args=[incident.reference])).content
    page = page.decode()
    assert f"{officeholder.organisation.desk.name} bekijkt uw melding vandaag nog." in page
    assert "14:00" not in page
    assert "uiterlijk" not in page
    # No number anywhere: contact by e-mail, and how to be called instead.
    assert f"Daarna krijgt u een e-mail op {officeholder.email}." in page
    assert reverse("profile") in page


def test_confirmation_late_in_the_evening_says_within_four_hours(officeholder):
    """At 22:30 the 4 hours end tomorrow: "binnen 4 uur", not "vandaag nog"."""
    incident = _quick(officeholder, unsafe_or_call=True)
    incident = _submitted_at(incident, datetime(2026, 12, 2, 22, 30, tzinfo=AMSTERDAM))
    assert selectors.next_steps_for(incident=incident).looks_when == "binnen 4 uur"


def test_confirmation_without_answers_promises_no_contact(client, officeholder):
    """No contact asked: the page says it is registered, within 2 working days, no call."""
    incident = _quick(officeholder)
    client.force_login(officeholder)
    page = client.get(reverse("incidents:confirmation", args=[incident.reference])).content
    page = page.decode()
    assert "bekijkt uw melding binnen 2 werkdagen." in page
    assert "U vroeg niet om contact." in page
    assert "belt u" not in page
    assert "Ondersteuningsteam Weerbaar Bestuur bekijkt" not in page


def test_the_desk_sees_the_answer_and_the_number_as_a_tel_link(client, officeholder, registrar):
    """The desk's page shows the answer and the number to call, in international form."""
    incident = _quick(officeholder, unsafe_or_call=True, contact_phone="+31612345678")
    verified_login(client, registrar)
    page = client.get(reverse("desk:detail", args=[incident.reference])).content.decode()
    assert "Voelt zich onveilig of wil gebeld worden" in page
    assert 'href="tel:+31612345678"' in page


def test_the_api_quick_report_takes_the_answer(client, officeholder):
    """The API's quick report takes the same answer with the same rules."""
    client.force_login(officeholder)
    response = client.post(
        "/api/v1/incidents/",
        {
            "quick": True,
            "types": [IncidentType.THREAT],
            "occurred_on": timezone.localdate().isoformat(),
            "summary": "Bedreigd via de telefoon.",
            "unsafe_or_call": True,
            "contact_phone": "070 123 4567",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    assert incident.triage_due_at == incident.submitted_at + timedelta(hours=4)
    assert incident.contact_phone == "+31701234567"


# --- Unknown perpetrator with an account ---------------------------------------------------------


def test_unknown_perpetrator_with_an_account_is_accepted_and_shown_as_unknown(
    client, officeholder, registrar
):
    """ "Nee, ik weet niet wie het is" with an account is stored as it was said; the desk sees
    "Dader onbekend" with the account, never "Dader bekend"."""
    client.force_login(officeholder)
    page = client.get(reverse("incidents:new")).content.decode()
    assert "Weet u iets over de dader, zoals een account of nummer?" in page
    response = client.post(
        reverse("incidents:new"),
        {
            "submission_token": str(uuid.uuid4()),
            "types": [IncidentType.THREAT],
            "occurred_on": timezone.localdate().isoformat(),
            "summary": "Bedreigd op X.",
            "channel": "social_media",
            "platform": "X",
            "reporter_severity": ReporterSeverity.SERIOUS,
            "perpetrator_known": "unknown",
            "handles": "@anoniem_boos_2026",
            "support_wish": SupportWish.CONTACT_WITH_DESK,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get()
    assert incident.perpetrator_known == "unknown"
    assert list(incident.identifiers.values_list("value", flat=True)) == ["@anoniem_boos_2026"]
    client.logout()
    verified_login(client, registrar)
    page = client.get(reverse("desk:detail", args=[incident.reference])).content.decode()
    assert "Dader onbekend" in page
    assert "Dader bekend" not in page
    assert "@anoniem_boos_2026" in page
