"""End of term: reminders 30 and 7 days before (once each), the account ends the day after the
term end where the person lives, and a person with an open incident keeps the account for that
incident only until it closes."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from incidents import services
from incidents.constants import Status
from portal.constants import TIME_ZONE_CARIBBEAN
from portal.models import Notification, PersonChange
from tests.factories import IncidentFactory, UserFactory, act

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TERM_END = date(2026, 6, 30)


def _at(day: date, hour: int = 9, zone=AMSTERDAM) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


@pytest.fixture
def person():
    officeholder = UserFactory(term_end=TERM_END)
    UserFactory(registrar=True, desk=officeholder.organisation.desk, is_coordinator=True)
    return officeholder


def _reminders(person):
    return sorted(
        Notification.objects.filter(event_key__startswith="term-end-").values_list(
            "recipient__is_coordinator", "event_key"
        )
    )


def test_reminders_go_30_and_7_days_before_exactly_once(person):
    """Person and coordinator get one reminder at 30 days and one at 7, however often it runs."""
    for day in (TERM_END - timedelta(days=31), TERM_END - timedelta(days=30)):
        services.terms_watch(now=_at(day))
        services.terms_watch(now=_at(day, 15))
    services.terms_watch(now=_at(TERM_END - timedelta(days=20)))
    assert len(_reminders(person)) == 2
    services.terms_watch(now=_at(TERM_END - timedelta(days=7)))
    services.terms_watch(now=_at(TERM_END - timedelta(days=3)))
    keys = _reminders(person)
    assert sorted(key for _coordinator, key in keys) == sorted(
        2 * [f"term-end-30:{person.pk}:{TERM_END}"] + 2 * [f"term-end-7:{person.pk}:{TERM_END}"]
    )
    assert {coordinator for coordinator, _key in keys} == {True, False}


def test_the_account_ends_the_day_after_the_term_end_where_the_person_lives(person):
    """On the last day nothing ends; at midnight after it the account is deactivated and the
    change is recorded as made by the portal. In the Caribbean that is hours later."""
    island = UserFactory(term_end=TERM_END, organisation__time_zone=TIME_ZONE_CARIBBEAN)
    services.terms_watch(now=_at(TERM_END, 23))
    person.refresh_from_db()
    assert person.is_active

    services.terms_watch(now=_at(TERM_END + timedelta(days=1), 0))
    person.refresh_from_db()
    island.refresh_from_db()
    assert not person.is_active
    assert island.is_active  # still 30 June, 18:00, on Bonaire
    change = PersonChange.objects.get(person=person, field="is_active")
    assert change.actor is None and change.new_value == "False"

    services.terms_watch(now=_at(TERM_END + timedelta(days=1), 0, ZoneInfo(TIME_ZONE_CARIBBEAN)))
    island.refresh_from_db()
    assert not island.is_active


def test_an_open_incident_keeps_the_account_for_that_incident_only(client, person):
    """After the term: the open incident stays visible and usable, a closed one is out of
    reach, no new report can be filed; when the incident closes the account ends."""
    open_incident = IncidentFactory(officeholder=person, status=Status.IN_TRIAGE)
    old = IncidentFactory(officeholder=person, closed=True)
    after = _at(TERM_END + timedelta(days=1))
    services.terms_watch(now=after)
    person.refresh_from_db()
    assert person.is_active and person.term_ended_at is not None
    assert PersonChange.objects.get(person=person, field="term_ended_at").actor is None

    client.force_login(person)
    detail = client.get(reverse("incidents:detail", kwargs={"reference": open_incident.reference}))
    assert detail.status_code == 200
    assert "Uw termijn is voorbij" in detail.content.decode()
    gone = client.get(reverse("incidents:detail", kwargs={"reference": old.reference}))
    assert gone.status_code == 404
    filing = client.get(reverse("incidents:quick"))
    assert filing.status_code == 403
    assert "geen nieuwe melding" in filing.content.decode()
    with pytest.raises(services.IncidentError):
        services.incident_submit(officeholder=person, facts={}, quick=True)

    services.terms_watch(now=after + timedelta(hours=1))
    person.refresh_from_db()
    assert person.is_active  # still open
    registrar = UserFactory(registrar=True, desk=open_incident.desk)
    act(open_incident, registrar, "close", outcome_category="other", outcome="Afgehandeld")
    services.terms_watch(now=after + timedelta(hours=2))
    person.refresh_from_db()
    assert not person.is_active


def test_before_the_end_every_page_says_how_to_download_the_data(client, person):
    """Within 30 days of the end the person's pages show the notice with the download link."""
    person.term_end = date.today() + timedelta(days=10)
    person.save()
    client.force_login(person)
    page = client.get(reverse("incidents:list")).content.decode()
    assert "Uw account stopt na" in page
    assert reverse("incidents:export") in page


def test_an_extended_term_makes_a_kept_account_whole_again(person):
    IncidentFactory(officeholder=person, status=Status.IN_TRIAGE)
    services.terms_watch(now=_at(TERM_END + timedelta(days=1)))
    person.refresh_from_db()
    person.term_end = TERM_END + timedelta(days=365 * 4)
    person.save()
    services.terms_watch(now=_at(TERM_END + timedelta(days=2)))
    person.refresh_from_db()
    assert person.is_active and person.term_ended_at is None


def test_the_end_of_term_task_is_scheduled_and_runs_the_watch(settings):
    """Beat runs the task every hour; the task is the service."""
    from incidents.tasks import end_terms

    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["incidents.tasks.end_terms"] <= 3600
    ended = UserFactory(term_end=date.today() - timedelta(days=2))
    assert end_terms()["deactivated"] == 1
    ended.refresh_from_db()
    assert not ended.is_active
