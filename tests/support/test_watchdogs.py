"""The watchdogs on Celery beat: triage deadlines, unacknowledged escalations, the sweeper."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from incidents.constants import (
    EventKind,
    IncidentType,
    ReporterSeverity,
    Status,
    TriageSeverity,
)
from incidents.models import Escalation
from incidents.services import INCIDENT_EVENT_TOPIC
from portal.celery import app as celery_app
from portal.models import Notification, OutboxEntry, OutboxStatus
from portal.outbox import outbox_record
from portal.tasks import sweep_pending
from support.constants import CaseStatus, RuleCode
from support.models import EscalationRule, SupportCase
from support.services import escalation_watch, triage_watch
from support.tasks import watch_triage_deadlines, watch_unacknowledged_escalations
from tests.factories import (
    EscalationFactory,
    EventFactory,
    IncidentFactory,
    UserFactory,
    case_open,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


def _report(officeholder, *, due_in: timedelta, now, serious=True, **fields):
    """An untriaged report whose triage deadline is `due_in` from `now`."""
    due = now + due_in
    return IncidentFactory(
        officeholder=officeholder,
        reporter_severity=ReporterSeverity.SERIOUS if serious else ReporterSeverity.NOT_SERIOUS,
        submitted_at=due - timedelta(hours=4),
        triage_due_at=due,
        **fields,
    )


def _triaged(now):
    """What triage records: "triaged" means the desk gave a severity (incidents.actions)."""
    return {"triaged_at": now, "triage_severity": TriageSeverity.LOW}


def _reminders(kind, incident=None):
    notifications = Notification.objects.filter(kind=kind)
    if incident is not None:
        notifications = notifications.filter(reference=incident.reference)
    return notifications


def _run_twice(watch, committed, **kwargs):
    with committed():
        first = watch(**kwargs)
    with committed():
        watch(**kwargs)
    return first


# --- Triage deadlines ------------------------------------------------------------------------


def test_due_soon_reminder_two_hours_before_the_deadline_once(
    officeholder, registrar, committed, mailoutbox, now
):
    """A serious report due in under 2 hours reminds the desk once, even when the watchdog runs
    twice: one notification, one e-mail."""
    incident = _report(officeholder, due_in=timedelta(hours=1, minutes=50), now=now)

    counts = _run_twice(triage_watch, committed, now=now)

    assert counts["due_soon"] == 1
    reminder = _reminders("triage_due_soon", incident).get()
    assert reminder.recipient == registrar
    assert [m.subject for m in mailoutbox] == [
        f"Melding {incident.reference} moet binnen 2 uur beoordeeld zijn"
    ]


def test_no_due_soon_reminder_before_the_last_two_hours(officeholder, registrar, now):
    """With more than 2 hours left, the desk is not reminded yet."""
    _report(officeholder, due_in=timedelta(hours=2, minutes=10), now=now)

    assert triage_watch(now=now)["due_soon"] == 0
    assert not Notification.objects.exists()


def test_no_due_soon_reminder_for_triaged_or_non_serious_reports(officeholder, registrar, now):
    """The 2-hour reminder is for serious reports not yet triaged only."""
    _report(officeholder, due_in=timedelta(hours=1), now=now, **_triaged(now))
    _report(officeholder, due_in=timedelta(hours=1), now=now, serious=False)

    assert triage_watch(now=now) == {"due_soon": 0, "overdue": 0, "escalated": 0}
    assert not Notification.objects.exists()


def test_a_serious_untriaged_report_is_escalated_at_the_deadline(
    officeholder, registrar, support_user, committed, mailoutbox, now
):
    """At the 4-hour deadline a serious report not yet triaged is escalated by the rule
    `triage_deadline`, with a support case (opened by the outbox consumer of the escalation)
    and one e-mail to the team, once."""
    incident = _report(officeholder, due_in=timedelta(0), now=now)

    counts = _run_twice(triage_watch, committed, now=now)

    assert counts["escalated"] == 1
    escalation = Escalation.objects.get(incident=incident)
    assert escalation.rules == [RuleCode.TRIAGE_DEADLINE]
    assert escalation.escalated_by is None
    assert SupportCase.objects.get().escalation == escalation
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    team_mails = [m for m in mailoutbox if m.to == [support_user.email]]
    assert len(team_mails) == 1
    assert incident.reference in team_mails[0].subject


def test_a_serious_report_is_not_escalated_before_its_deadline(officeholder, registrar, now):
    """One minute before the deadline nothing is escalated."""
    _report(officeholder, due_in=timedelta(minutes=1), now=now)

    assert triage_watch(now=now)["escalated"] == 0
    assert not Escalation.objects.exists()


def test_triaged_and_non_serious_reports_are_not_escalated_at_the_deadline(
    officeholder, registrar, now
):
    """A serious report that was triaged, and a report that is not serious, stay at the desk
    after the deadline."""
    triaged = _report(officeholder, due_in=-timedelta(hours=1), now=now, **_triaged(now))
    mild = _report(officeholder, due_in=-timedelta(hours=1), now=now, serious=False)

    assert triage_watch(now=now)["escalated"] == 0
    assert not Escalation.objects.exists()
    for incident in (triaged, mild):
        incident.refresh_from_db()
        assert incident.status == Status.SUBMITTED


def test_the_deadline_rule_can_be_switched_off(officeholder, registrar, now):
    """With `triage_deadline` disabled in the admin, overdue serious reports stay at the desk
    (and the desk is still reminded)."""
    EscalationRule.objects.update_or_create(
        code=RuleCode.TRIAGE_DEADLINE, defaults={"enabled": False}
    )
    incident = _report(officeholder, due_in=-timedelta(minutes=5), now=now)

    counts = triage_watch(now=now)

    assert counts["escalated"] == 0
    assert counts["overdue"] == 1
    assert not Escalation.objects.filter(incident=incident).exists()


def test_overdue_reminders_are_sent_once(officeholder, registrar, committed, mailoutbox, now):
    """An untriaged report past its deadline reminds the desk once, however often the
    watchdog runs."""
    incident = _report(officeholder, due_in=-timedelta(hours=3), now=now, serious=False)

    counts = _run_twice(triage_watch, committed, now=now)

    assert counts["overdue"] == 1
    assert _reminders("triage_overdue", incident).get().recipient == registrar
    assert [m.subject for m in mailoutbox] == [
        f"Melding {incident.reference} is nog niet beoordeeld en te laat"
    ]


def test_the_assigned_registrar_alone_is_reminded(officeholder, registrar, desk, now):
    """When a registrar handles the report, the reminder goes to them, not the whole desk."""
    colleague = UserFactory(registrar=True, desk=desk)
    _report(officeholder, due_in=-timedelta(hours=1), now=now, serious=False, assignee=colleague)

    triage_watch(now=now)

    assert [n.recipient for n in _reminders("triage_overdue")] == [colleague]


def test_a_returned_case_is_not_escalated_again_by_the_deadline(
    officeholder, registrar, support_user, now
):
    """The support team returned a serious, still untriaged report to the desk: the deadline
    watchdog does not send it straight back (the desk is reminded instead)."""
    incident = _report(officeholder, due_in=-timedelta(hours=2), now=now, status=Status.IN_TRIAGE)
    EscalationFactory(
        incident=incident,
        rules=[RuleCode.TRIAGE_DEADLINE],
        created_at=now - timedelta(hours=1, minutes=30),
        closed_at=now - timedelta(minutes=10),
    )

    counts = triage_watch(now=now)

    assert counts["escalated"] == 0
    assert Escalation.objects.filter(incident=incident).count() == 1
    incident.refresh_from_db()
    assert incident.status == Status.IN_TRIAGE
    assert _reminders("triage_overdue", incident).exists()


# --- Unacknowledged escalations --------------------------------------------------------------


def _case(*, created_ago: timedelta, now, incident=None, status=CaseStatus.NEW):
    extra = {"incident": incident} if incident is not None else {}
    escalation = EscalationFactory(created_at=now - created_ago, **extra)
    case = case_open(escalation)
    SupportCase.objects.filter(pk=case.pk).update(status=status)
    return case


def test_support_is_reminded_once_of_a_case_not_acknowledged_in_4_hours(
    support_user, committed, mailoutbox, now
):
    """A case still new 4 hours after the escalation reminds every support member once, even
    when the watchdog runs twice."""
    colleague = UserFactory(support=True)
    case = _case(created_ago=timedelta(hours=4, minutes=1), now=now)

    _run_twice(escalation_watch, committed, now=now)

    reminders = _reminders("escalation_unacknowledged", case.incident)
    assert {n.recipient for n in reminders} == {support_user, colleague}
    assert len(mailoutbox) == 2
    assert all(case.incident.reference in mail.subject for mail in mailoutbox)


def test_no_reminder_for_a_young_or_acknowledged_case(support_user, now):
    """A case 3 hours old, and an acknowledged one 5 hours old, remind nobody."""
    _case(created_ago=timedelta(hours=3), now=now)
    _case(created_ago=timedelta(hours=5), now=now, status=CaseStatus.ACKNOWLEDGED)

    assert escalation_watch(now=now) == 0
    assert not Notification.objects.exists()


def test_a_second_escalation_of_the_same_incident_gets_its_own_reminder(support_user, now):
    """The reminder is once per case, not once per incident: after a returned case, the next
    escalation left unacknowledged is reminded again."""
    first = _case(created_ago=timedelta(days=2), now=now)
    escalation_watch(now=now - timedelta(days=1))
    SupportCase.objects.filter(pk=first.pk).update(status=CaseStatus.RETURNED)
    Escalation.objects.filter(pk=first.escalation_id).update(closed_at=now - timedelta(days=1))
    _case(created_ago=timedelta(hours=5), now=now, incident=first.incident)

    escalation_watch(now=now)

    assert _reminders("escalation_unacknowledged", first.incident).count() == 2


# --- Beat schedule -------------------------------------------------------------------------


def test_every_beat_entry_names_a_registered_task():
    """The periodic tasks are defined in code and each names a task the worker knows."""
    celery_app.loader.import_default_modules()  # the task autodiscovery a worker does at start
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}

    assert {
        "portal.tasks.sweep_pending",
        "support.tasks.watch_triage_deadlines",
        "support.tasks.watch_unacknowledged_escalations",
    } <= scheduled
    assert scheduled <= set(celery_app.tasks)


def test_the_beat_tasks_run_the_watchdogs(officeholder, registrar, support_user, committed):
    """The beat tasks call the watchdogs with the current time."""
    incident = _report(officeholder, due_in=-timedelta(minutes=1), now=timezone.now())
    _case(created_ago=timedelta(hours=5), now=timezone.now())

    with committed():
        assert watch_triage_deadlines.delay().get()["escalated"] == 1
        assert watch_unacknowledged_escalations.delay().get() == 1

    assert Escalation.objects.filter(incident=incident).exists()


# --- The sweeper -----------------------------------------------------------------------------


def _outbox_written(event) -> list[OutboxEntry]:
    """The outbox entries of `event` as `event_record` writes them; their queueing after
    commit never happens here (as when the broker was down at that moment)."""
    return outbox_record(topic=INCIDENT_EVENT_TOPIC, object_id=event.pk, kind=event.kind)


def test_the_sweeper_requeues_events_left_unprocessed(
    officeholder, registrar, support_user, committed, mailoutbox, settings
):
    """Outbox entries still pending after PENDING_WORK_AGE (their queueing was lost in a broker
    outage) are queued again and delivered: the incident is escalated once and each person is
    e-mailed once about each thing."""
    settings.PENDING_WORK_AGE = timedelta(seconds=0)
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])
    event = EventFactory(
        incident=incident, kind=EventKind.SUBMITTED, created_at=timezone.now() - timedelta(1)
    )
    entries = _outbox_written(event)
    assert {entry.consumer for entry in entries} == {"incidents.notify", "support.rules"}

    with committed():
        counts = sweep_pending()

    assert counts["outbox"] == len(entries)
    assert set(OutboxEntry.objects.filter(object_id=event.pk).values_list("status", flat=True)) == {
        OutboxStatus.DONE
    }
    assert Escalation.objects.filter(incident=incident).count() == 1
    assert SupportCase.objects.filter(incident=incident).count() == 1
    sent = [(tuple(mail.to), mail.subject) for mail in mailoutbox]
    assert len(sent) == len(set(sent))
    assert (support_user.email,) in {to for to, _subject in sent}


def test_the_sweeper_leaves_young_work_alone(officeholder, registrar, settings):
    """Work younger than PENDING_WORK_AGE may still be in the queue: it is not re-queued."""
    settings.PENDING_WORK_AGE = timedelta(hours=1)
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])
    assert _outbox_written(EventFactory(incident=incident, kind=EventKind.SUBMITTED))
    Notification.objects.create(
        recipient=registrar,
        event_key="incident-event:1",
        kind="incident_new",
        reference=incident.reference,
        link="/",
        created_at=timezone.now(),
    )

    assert sweep_pending() == {"outbox": 0, "notifications": 0, "kept_forms_removed": 0}
    assert not Escalation.objects.exists()
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {OutboxStatus.PENDING}


def test_the_sweeper_sends_notifications_not_yet_emailed(registrar, mailoutbox, settings):
    """A notification whose e-mail was never sent (the queue lost it) is e-mailed by the
    sweeper; one already sent is not sent again."""
    settings.PENDING_WORK_AGE = timedelta(seconds=0)
    created_at = timezone.now() - timedelta(minutes=5)
    unsent = Notification.objects.create(
        recipient=registrar,
        event_key="incident-event:1",
        kind="incident_new",
        reference="MWB-2026-000001",
        link="/meldpunt/meldingen/MWB-2026-000001/",
        created_at=created_at,
    )
    Notification.objects.create(
        recipient=registrar,
        event_key="incident-event:2",
        kind="incident_new",
        reference="MWB-2026-000002",
        link="/meldpunt/meldingen/MWB-2026-000002/",
        created_at=created_at,
        emailed_at=created_at,
    )

    assert sweep_pending() == {"outbox": 0, "notifications": 1, "kept_forms_removed": 0}

    assert [mail.subject for mail in mailoutbox] == ["Nieuwe melding MWB-2026-000001"]
    unsent.refresh_from_db()
    assert unsent.emailed_at is not None
