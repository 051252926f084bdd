"""Follow-up by the desk (issue 18 part 4): a callback with one notification when it is due,
phone calls in the timeline (staff only), and absence cover in a colleague's queue."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from incidents import selectors, services
from incidents.constants import CallDirection, EventKind
from incidents.errors import IncidentError, TransitionNotAllowed
from incidents.models import Incident, PhoneCall
from incidents.tasks import notify_due_callbacks
from portal.errors import DomainError
from portal.models import Notification
from portal.services import absence_set
from tests.conftest import verified_login
from tests.factories import IncidentFactory, UserFactory, act

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_world():
    incident = IncidentFactory(in_triage=True)
    first = UserFactory(registrar=True, desk=incident.desk, first_name="Sanne", last_name="Bos")
    second = UserFactory(registrar=True, desk=incident.desk, first_name="Ali", last_name="Kaya")
    other_desk = UserFactory(registrar=True)
    return incident, first, second, other_desk


def _callbacks(incident):
    return Notification.objects.filter(kind="callback_due", reference=incident.reference)


# --- Callback ----------------------------------------------------------------------------------


def test_a_registrar_sets_changes_and_clears_a_callback(desk_world):
    incident, registrar, _, _ = desk_world
    moment = timezone.now() + timedelta(hours=2)
    act(incident, registrar, "set_callback", callback_at=moment, callback_note="Politie?")
    incident.refresh_from_db()
    assert (incident.callback_at, incident.callback_note) == (moment, "Politie?")
    later = moment + timedelta(days=1)
    act(incident, registrar, "set_callback", callback_at=later)
    incident.refresh_from_db()
    assert (incident.callback_at, incident.callback_note) == (later, "")
    act(incident, registrar, "clear_callback")
    incident.refresh_from_db()
    assert incident.callback_at is None
    kinds = list(incident.events.values_list("kind", "visible_to_officeholder"))
    assert (EventKind.CALLBACK_SET, False) in kinds
    assert (EventKind.CALLBACK_CLEARED, False) in kinds


def test_a_callback_in_the_past_is_refused(desk_world):
    incident, registrar, _, _ = desk_world
    with pytest.raises(IncidentError):
        act(incident, registrar, "set_callback", callback_at=timezone.now() - timedelta(hours=1))


def test_another_desk_and_the_officeholder_cannot_set_a_callback(desk_world):
    incident, _, _, other_desk = desk_world
    for person in (other_desk, incident.officeholder):
        with pytest.raises(TransitionNotAllowed):
            act(incident, person, "set_callback", callback_at=timezone.now() + timedelta(hours=1))


def test_a_due_callback_notifies_the_handler_once_even_when_the_task_runs_twice(desk_world):
    incident, registrar, colleague, _ = desk_world
    act(incident, registrar, "assign", assignee=colleague)
    act(incident, registrar, "set_callback", callback_at=timezone.now() + timedelta(minutes=1))
    assert services.callbacks_notify_due() == 0  # not yet due
    later = timezone.now() + timedelta(minutes=2)
    assert services.callbacks_notify_due(now=later) == 1
    assert services.callbacks_notify_due(now=later) == 0
    assert notify_due_callbacks() == 0
    assert list(_callbacks(incident).values_list("recipient", flat=True)) == [colleague.pk]
    link = _callbacks(incident).get().link
    assert link == reverse("desk:detail", kwargs={"reference": incident.reference})


def test_without_a_handler_every_registrar_of_the_desk_is_notified(desk_world):
    incident, registrar, colleague, other_desk = desk_world
    Incident.objects.filter(pk=incident.pk).update(assignee=None)
    act(incident, registrar, "set_callback", callback_at=timezone.now() + timedelta(minutes=1))
    services.callbacks_notify_due(now=timezone.now() + timedelta(minutes=2))
    recipients = set(_callbacks(incident).values_list("recipient", flat=True))
    assert recipients == {registrar.pk, colleague.pk}
    assert other_desk.pk not in recipients


def test_a_changed_callback_is_notified_again(desk_world):
    incident, registrar, _, _ = desk_world
    act(incident, registrar, "assign", assignee=registrar)
    act(incident, registrar, "set_callback", callback_at=timezone.now() + timedelta(minutes=1))
    services.callbacks_notify_due(now=timezone.now() + timedelta(minutes=2))
    act(incident, registrar, "set_callback", callback_at=timezone.now() + timedelta(hours=1))
    services.callbacks_notify_due(now=timezone.now() + timedelta(hours=2))
    assert _callbacks(incident).count() == 2


def test_a_closed_incident_gets_no_callback_notification(desk_world):
    incident, registrar, _, _ = desk_world
    act(incident, registrar, "set_callback", callback_at=timezone.now() + timedelta(minutes=1))
    act(incident, registrar, "close", outcome_category="registered")
    assert services.callbacks_notify_due(now=timezone.now() + timedelta(minutes=2)) == 0
    assert not _callbacks(incident).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_notify_once():
    incident = IncidentFactory(in_triage=True)
    registrar = UserFactory(registrar=True, desk=incident.desk)
    act(incident, registrar, "assign", assignee=registrar)
    act(incident, registrar, "set_callback", callback_at=timezone.now() + timedelta(minutes=1))
    later = timezone.now() + timedelta(minutes=2)
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            results.append(services.callbacks_notify_due(now=later))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert _callbacks(incident).count() == 1


def test_the_callback_task_is_scheduled_every_minute(settings):
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["incidents.tasks.notify_due_callbacks"] <= 60


def test_callback_in_words():
    now = timezone.localtime()
    today = now.replace(hour=14, minute=0, second=0, microsecond=0)
    assert selectors.callback_in_words(today, now=now) == "vandaag 14:00"
    assert selectors.callback_in_words(today + timedelta(days=1), now=now) == "morgen 14:00"
    assert selectors.callback_in_words(None) == ""


# --- Phone calls -------------------------------------------------------------------------------


def test_a_phone_call_is_in_the_desk_timeline_and_never_the_officeholders(desk_world):
    incident, registrar, _, other_desk = desk_world
    services.phone_call_add(
        incident=incident,
        actor=registrar,
        direction=CallDirection.DESK_CALLED,
        other_party="de partner",
        summary="GEHEIM-GESPREK: belt morgen terug.",
    )
    call = PhoneCall.objects.get()
    assert call.called_at is not None and call.author == registrar
    desk_entries = selectors.timeline_for(user=registrar, incident=incident)
    entry = next(e for e in desk_entries if e.kind == EventKind.PHONE_CALL)
    assert entry.internal
    assert "GEHEIM-GESPREK" in entry.text and "de partner" in entry.text
    own = selectors.timeline_for(user=incident.officeholder, incident=incident)
    assert all(e.kind != EventKind.PHONE_CALL for e in own)
    assert not any("GEHEIM-GESPREK" in e.text for e in own)
    with pytest.raises(DomainError):
        services.phone_call_add(
            incident=incident,
            actor=other_desk,
            direction=CallDirection.OTHER,
            summary="Mag niet",
        )


def test_the_officeholders_page_and_another_desk_do_not_show_the_call(client, desk_world):
    incident, registrar, _, other_desk = desk_world
    services.phone_call_add(
        incident=incident,
        actor=registrar,
        direction=CallDirection.OFFICEHOLDER_CALLED,
        summary="GEHEIM-GESPREK over de dreiging.",
    )
    client.force_login(incident.officeholder)
    page = client.get(reverse("incidents:detail", kwargs={"reference": incident.reference}))
    assert page.status_code == 200
    assert "GEHEIM-GESPREK" not in page.content.decode()
    verified_login(client, other_desk)
    page = client.get(reverse("desk:detail", kwargs={"reference": incident.reference}))
    assert page.status_code == 404


def test_a_phone_call_needs_a_summary_and_is_not_in_the_future(desk_world):
    incident, registrar, _, _ = desk_world
    with pytest.raises(DomainError):
        services.phone_call_add(
            incident=incident, actor=registrar, direction=CallDirection.OTHER, summary=" "
        )
    with pytest.raises(IncidentError):
        services.phone_call_add(
            incident=incident,
            actor=registrar,
            direction=CallDirection.OTHER,
            summary="Later",
            called_at=timezone.now() + timedelta(hours=1),
        )


def test_the_desk_logs_a_call_and_sets_a_callback_from_the_page(client, desk_world):
    incident, registrar, _, _ = desk_world
    verified_login(client, registrar)
    ref = {"reference": incident.reference}
    response = client.post(
        reverse("desk:phone_call", kwargs=ref),
        {"phone_call-direction": "desk_called", "phone_call-summary": "Teruggebeld."},
    )
    assert response.status_code == 302
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        reverse("desk:set_callback", kwargs=ref),
        {
            "set_callback-version": Incident.objects.get(pk=incident.pk).version,
            "set_callback-callback_day": tomorrow.isoformat(),
            "set_callback-callback_time": "14:00",
            "set_callback-callback_note": "Aangifte?",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("desk:detail", kwargs=ref)).content.decode()
    assert "morgen 14:00" in page and "Teruggebeld." in page
    queue = client.get(reverse("desk:queue")).content.decode()
    assert "terugbellen: morgen 14:00" in queue


# --- Absence cover -----------------------------------------------------------------------------


def test_absence_cover_shows_the_incidents_in_the_colleagues_queue(desk_world):
    incident, absent, colleague, other_desk = desk_world
    act(incident, absent, "assign", assignee=absent)
    mine = {"assigned": "me"}
    assert incident not in selectors.incident_queue_for(user=colleague, filters=mine)
    absence_set(person=absent, cover=colleague)
    assert incident in selectors.incident_queue_for(user=colleague, filters=mine)
    assert selectors.covered_colleagues_for(user=colleague) == {absent.pk: str(absent)}
    assert not selectors.incident_queue_for(user=other_desk, filters=mine).exists()
    # The colleague may act on it as any registrar of the desk.
    act(incident, colleague, "set_callback", callback_at=timezone.now() + timedelta(hours=1))
    absence_set(person=absent, cover=None)
    assert incident not in selectors.incident_queue_for(user=colleague, filters=mine)


def test_absence_with_dates_counts_only_on_those_days(desk_world):
    incident, absent, colleague, _ = desk_world
    act(incident, absent, "assign", assignee=absent)
    today = timezone.localdate()
    absence_set(
        person=absent,
        cover=colleague,
        absent_from=today + timedelta(days=2),
        absent_until=today + timedelta(days=5),
    )
    assert selectors.covered_colleagues_for(user=colleague) == {}
    absence_set(person=absent, cover=colleague, absent_until=today)
    assert selectors.covered_colleagues_for(user=colleague) == {absent.pk: str(absent)}


def test_naming_a_colleague_of_another_desk_or_oneself_is_refused(desk_world):
    _, absent, _, other_desk = desk_world
    for cover in (other_desk, absent):
        with pytest.raises(DomainError):
            absence_set(person=absent, cover=cover)
    absent.refresh_from_db()
    assert absent.cover is None


def test_the_callback_of_an_absent_handler_also_reaches_the_cover(desk_world):
    incident, absent, colleague, _ = desk_world
    act(incident, absent, "assign", assignee=absent)
    absence_set(person=absent, cover=colleague)
    act(incident, absent, "set_callback", callback_at=timezone.now() + timedelta(minutes=1))
    services.callbacks_notify_due(now=timezone.now() + timedelta(minutes=2))
    recipients = set(_callbacks(incident).values_list("recipient", flat=True))
    assert recipients == {absent.pk, colleague.pk}


def test_the_queue_page_sets_absence_and_shows_the_cover_badge(client, desk_world):
    incident, absent, colleague, other_desk = desk_world
    act(incident, absent, "assign", assignee=absent)
    verified_login(client, absent)
    refused = client.post(reverse("desk:absence"), {"absence-cover": other_desk.pk})
    assert refused.status_code == 400
    response = client.post(reverse("desk:absence"), {"absence-cover": colleague.pk})
    assert response.status_code == 302
    absent.refresh_from_db()
    assert absent.cover == colleague
    verified_login(client, colleague)
    page = client.get(reverse("desk:queue") + "?assigned=me").content.decode()
    assert incident.reference in page
    assert f"waarneming voor {absent}" in page
    verified_login(client, absent)
    client.post(reverse("desk:absence"), {"off": "1"})
    absent.refresh_from_db()
    assert absent.cover is None
