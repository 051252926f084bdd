"""Notifications: who hears what, in which language, without incident content, exactly once."""

import threading
from datetime import timedelta

import polib
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from incidents.constants import IncidentType, MessageAudience
from incidents.services import incident_act, incident_submit, message_send
from portal import services as portal_services
from portal.models import Notification
from portal.services import notification_email_send, notifications_create
from portal.tasks import notification_email
from tests.factories import IncidentFactory, UserFactory

BASE_URL = "https://meldpunt.example.nl"
SUMMARY = "Geduwd op de markt door een boze inwoner."
DESCRIPTION = "Hij riep dat hij wist waar mijn kinderen op school zitten."
LOCATION = "Weekmarkt Vredenburg"
THREAD_TIMEOUT = 30


@pytest.fixture(autouse=True)
def portal_base_url(settings):
    """Links in e-mails start with the portal's public address."""
    settings.PORTAL_BASE_URL = BASE_URL


def _facts(types):
    return {
        "types": types,
        "occurred_on": timezone.localdate() - timedelta(days=1),
        "summary": SUMMARY,
        "description": DESCRIPTION,
        "location": LOCATION,
    }


def _mails_to(outbox, user):
    return [mail for mail in outbox if mail.to == [user.email]]


def _assert_reference_and_link_only(mail, *, reference, path, secrets=(SUMMARY,)):
    """The e-mail names the reference and links to the page; it contains no incident text."""
    assert reference in mail.subject
    assert reference in mail.body
    assert f"{BASE_URL}{path}" in mail.body
    for secret in secrets:
        assert secret not in mail.subject
        assert secret not in mail.body


@pytest.mark.django_db
def test_the_desk_hears_of_a_new_incident(officeholder, registrar, committed, mailoutbox):
    """A new incident notifies the registrars of its desk (in the portal and by e-mail) with
    the reference and a link to the desk page, and none of what was reported; the officeholder
    who filed it gets nothing."""
    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_facts([IncidentType.THREAT]), quick=False
        )

    notification = Notification.objects.get(recipient=registrar)
    assert notification.kind == "incident_new"
    assert notification.emailed_at is not None
    [mail] = _mails_to(mailoutbox, registrar)
    assert mail.subject == f"Nieuwe melding {incident.reference}"
    _assert_reference_and_link_only(
        mail,
        reference=incident.reference,
        path=f"/meldpunt/meldingen/{incident.reference}/",
        secrets=(SUMMARY, DESCRIPTION, LOCATION),
    )
    assert not _mails_to(mailoutbox, officeholder)


@pytest.mark.django_db
def test_the_support_team_hears_of_a_new_escalation(
    officeholder, registrar, support_user, committed, mailoutbox
):
    """An escalation notifies every active member of the support team, with a link to the
    support case; an inactive member gets nothing."""
    colleague = UserFactory(support=True)
    gone = UserFactory(support=True, is_active=False)

    with committed():
        incident = incident_submit(
            officeholder=officeholder,
            facts=_facts([IncidentType.PHYSICAL_VIOLENCE]),
            quick=False,
        )

    for member in (support_user, colleague):
        [mail] = _mails_to(mailoutbox, member)
        assert mail.subject == (
            f"Nieuwe doorverwijzing {incident.reference} voor het Ondersteuningsteam"
        )
        _assert_reference_and_link_only(
            mail,
            reference=incident.reference,
            path=f"/ondersteuning/dossiers/{incident.reference}/",
            secrets=(SUMMARY, DESCRIPTION, LOCATION),
        )
    assert not _mails_to(mailoutbox, gone)


@pytest.mark.django_db
def test_the_officeholder_hears_of_a_message_from_the_desk(
    officeholder, registrar, committed, mailoutbox
):
    """A message from the desk in the officeholder's thread notifies the officeholder, with a
    link to their own incident page and without the message text."""
    incident = IncidentFactory(officeholder=officeholder, summary=SUMMARY)
    body = "Wij bellen u morgen over de dreigbrief."

    with committed():
        message_send(
            incident=incident,
            actor=registrar,
            audience=MessageAudience.OFFICEHOLDER_THREAD,
            body=body,
        )

    [mail] = _mails_to(mailoutbox, officeholder)
    assert mail.subject == f"Er is een nieuw bericht bij melding {incident.reference}"
    _assert_reference_and_link_only(
        mail,
        reference=incident.reference,
        path=f"/meldingen/{incident.reference}/",
        secrets=(SUMMARY, body),
    )
    assert not _mails_to(mailoutbox, registrar)


@pytest.mark.django_db
def test_a_staff_channel_message_never_reaches_the_officeholder(
    officeholder, registrar, support_user, committed, mailoutbox
):
    """A message between desk and support team notifies the team, not the officeholder."""
    incident = IncidentFactory(officeholder=officeholder, escalated=True)

    with committed():
        message_send(
            incident=incident, actor=registrar, audience=MessageAudience.STAFF, body="Overleg."
        )

    assert len(_mails_to(mailoutbox, support_user)) == 1
    assert not _mails_to(mailoutbox, officeholder)


@pytest.mark.django_db
def test_the_officeholder_hears_of_a_status_change(officeholder, registrar, committed, mailoutbox):
    """When the desk takes the incident into triage, the officeholder is told the status
    changed (reference and link only)."""
    incident = IncidentFactory(officeholder=officeholder, summary=SUMMARY)

    with committed():
        incident_act(action="take", incident=incident, actor=registrar, version=incident.version)

    [mail] = _mails_to(mailoutbox, officeholder)
    assert mail.subject == f"Het meldpunt is bezig met melding {incident.reference}"
    _assert_reference_and_link_only(
        mail, reference=incident.reference, path=f"/meldingen/{incident.reference}/"
    )


# --- Language -------------------------------------------------------------------------------


@pytest.fixture
def english_catalogue(settings, tmp_path):
    """An English catalogue with the new-incident subject, compiled into a temporary locale
    folder. Changing LOCALE_PATHS makes Django drop its cached translations."""
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "en"}
    po.append(
        polib.POEntry(
            msgid="Nieuwe melding %(reference)s",
            msgstr="New report %(reference)s",
            flags=["python-format"],
        )
    )
    folder = tmp_path / "locale" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po.save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale", *settings.LOCALE_PATHS]


@pytest.mark.django_db
@pytest.mark.usefixtures("english_catalogue")
def test_the_email_is_in_the_recipients_language(officeholder, desk, committed, mailoutbox):
    """Two registrars of one desk get the same notification, each in their own language."""
    english = UserFactory(registrar=True, desk=desk, preferred_language="en")
    dutch = UserFactory(registrar=True, desk=desk, preferred_language="nl")

    with committed():
        incident = incident_submit(
            officeholder=officeholder, facts=_facts([IncidentType.THREAT]), quick=True
        )

    [english_mail] = _mails_to(mailoutbox, english)
    [dutch_mail] = _mails_to(mailoutbox, dutch)
    assert english_mail.subject == f"New report {incident.reference}"
    assert f"New report {incident.reference}" in english_mail.body
    assert dutch_mail.subject == f"Nieuwe melding {incident.reference}"


# --- Exactly once ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_a_notification_twice_creates_one_row_and_one_email(
    registrar, committed, mailoutbox
):
    """The outbox row is unique per recipient and event: a retried task adds nothing."""
    for _attempt in range(2):
        with committed():
            notifications_create(
                recipients=[registrar],
                event_key="incident-event:1",
                kind="incident_new",
                reference="MWB-2026-000001",
                link="/meldpunt/meldingen/MWB-2026-000001/",
            )

    assert Notification.objects.filter(recipient=registrar).count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_email_task_running_twice_sends_one_email(registrar, committed, mailoutbox):
    """`notification_email` run again for a sent notification sends no second e-mail."""
    with committed():
        [notification] = notifications_create(
            recipients=[registrar],
            event_key="incident-event:2",
            kind="incident_new",
            reference="MWB-2026-000002",
            link="/meldpunt/meldingen/MWB-2026-000002/",
        )
    assert len(mailoutbox) == 1

    notification_email.delay(notification.pk)
    notification_email.delay(notification.pk)

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def _notification_row(recipient, key="incident-event:3"):
    return Notification.objects.create(
        recipient=recipient,
        event_key=key,
        kind="incident_new",
        reference="MWB-2026-000003",
        link="/meldpunt/meldingen/MWB-2026-000003/",
        created_at=timezone.now(),
    )


def _in_thread(target, results, errors):
    def run():
        try:
            results.append(target())
        except Exception as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_one_notification_at_once_send_one_email(registrar, mailoutbox):
    """Two workers e-mailing the same notification at the same moment send one e-mail: the
    row lock makes the second see it sent."""
    notification = _notification_row(registrar)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def send():
        barrier.wait(timeout=THREAD_TIMEOUT)
        return notification_email_send(notification_id=notification.pk)

    threads = [_in_thread(send, results, errors) for _ in range(2)]
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT)

    assert not errors
    assert sorted(results) == [False, True]
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_slow_mail_server_does_not_lock_the_recipients_account(registrar, monkeypatch):
    """While a worker waits for the mail server, the recipient can still log in (their user
    row is updated), new rows can still point at them, and the notification itself can be
    marked read: no row is locked while sending (the claim was committed before)."""
    notification = _notification_row(registrar)
    sending, release = threading.Event(), threading.Event()

    def slow_send(message, *args, **kwargs):
        sending.set()
        assert release.wait(timeout=THREAD_TIMEOUT)
        return 1

    monkeypatch.setattr(portal_services.EmailMessage, "send", slow_send)
    results, errors = [], []
    thread = _in_thread(
        lambda: notification_email_send(notification_id=notification.pk), results, errors
    )
    try:
        assert sending.wait(timeout=THREAD_TIMEOUT)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            type(registrar).objects.filter(pk=registrar.pk).update(last_login=timezone.now())
            _notification_row(registrar, key="incident-event:4")
            Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())
    finally:
        release.set()
        thread.join(timeout=THREAD_TIMEOUT)

    assert not errors
    assert results == [True]


# --- Each e-mail once: claim before sending, record after, one Message-ID ------------------


def _message_id(mail) -> str:
    return mail.message()["Message-ID"]


@pytest.mark.django_db
def test_every_attempt_uses_the_rows_one_message_id(registrar, mailoutbox, monkeypatch, settings):
    """A failed attempt and the retry that succeeds carry the same Message-ID, stored in the
    row; another notification has another one."""
    settings.EMAIL_RETRY_BASE = timedelta(0)
    notification = _notification_row(registrar)
    other = _notification_row(registrar, key="incident-event:9")
    assert notification.message_id != other.message_id
    assert notification.message_id.startswith("<") and notification.message_id.endswith(">")
    sent_ids = []
    real_send = portal_services.EmailMessage.send

    def refuse_once(message, *args, **kwargs):
        sent_ids.append(message.message()["Message-ID"])
        if len(sent_ids) == 1:
            raise ConnectionRefusedError("mail server down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(portal_services.EmailMessage, "send", refuse_once)

    assert notification_email_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.email_attempts == 1
    assert notification.email_claimed_at is None
    assert "ConnectionRefusedError" in notification.email_last_error
    assert notification_email_send(notification_id=notification.pk) is True

    assert sent_ids == [notification.message_id, notification.message_id]
    [mail] = mailoutbox
    assert _message_id(mail) == notification.message_id


@pytest.mark.django_db(transaction=True)
def test_a_lost_commit_after_delivery_does_not_send_again(registrar, mailoutbox, monkeypatch):
    """The mail server said OK but recording it failed (the database went away): the row
    stays claimed, so the task run again (a redelivery, the sweeper) sends nothing."""
    monkeypatch.setattr(portal_services, "EMAIL_RECORD_ATTEMPTS", 1)
    monkeypatch.setattr(portal_services.time, "sleep", lambda seconds: None)
    notification = _notification_row(registrar)

    def database_gone(*args, **kwargs):
        raise portal_services.DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(portal_services, "_notification_email_sent", database_gone)
    with pytest.raises(portal_services.DatabaseError):
        notification_email_send(notification_id=notification.pk)
    assert len(mailoutbox) == 1
    monkeypatch.undo()

    assert notification_email_send(notification_id=notification.pk) is False
    assert notification_email.delay(notification.pk) is not None
    assert portal_services.notifications_sweep() == 0
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.email_claimed_at is not None
    assert notification.emailed_at is None


@pytest.mark.django_db(transaction=True)
def test_recording_survives_a_short_database_outage(registrar, mailoutbox, monkeypatch):
    """When the first try to record the sent e-mail fails (a PostgreSQL restart), the record
    is tried again and succeeds: one e-mail, marked sent."""
    monkeypatch.setattr(portal_services.time, "sleep", lambda seconds: None)
    notification = _notification_row(registrar)
    real_sent = portal_services._notification_email_sent
    calls = []

    def fail_first(*args):
        calls.append(args)
        if len(calls) == 1:
            raise portal_services.DatabaseError("the database system is starting up")
        return real_sent(*args)

    monkeypatch.setattr(portal_services, "_notification_email_sent", fail_first)

    assert notification_email_send(notification_id=notification.pk) is True
    assert len(calls) == 2
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification.email_claimed_at is None


@pytest.mark.django_db
def test_an_expired_claim_is_sent_again_with_the_same_message_id(registrar, mailoutbox, settings):
    """A claim older than EMAIL_CLAIM_TIMEOUT belongs to an attempt that was stopped: the
    e-mail may have left, so it is sent again with the same Message-ID (documented choice),
    and the sweeper queues it."""
    notification = _notification_row(registrar)
    stale = timezone.now() - settings.EMAIL_CLAIM_TIMEOUT - timedelta(seconds=1)
    Notification.objects.filter(pk=notification.pk).update(
        email_claimed_at=stale, email_attempts=1, email_next_attempt_at=stale
    )

    assert portal_services.notifications_sweep() == 1

    [mail] = mailoutbox
    assert _message_id(mail) == notification.message_id
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification.email_attempts == 2


def _recorder(queued):
    """A stand-in for publishing that records the ids and says the broker took them."""

    def publish(notification_id):
        queued.append(notification_id)
        return True

    return publish


def _unsent(recipient, key, *, age, **fields):
    notification = _notification_row(recipient, key=key)
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - age, **fields
    )
    return notification


@pytest.mark.django_db
def test_the_sweep_queues_only_due_unclaimed_rows_oldest_first(
    registrar, settings, django_capture_on_commit_callbacks, monkeypatch
):
    """The sweep queues unsent rows whose next attempt is due, oldest first, and nothing
    that is sent, failed, being sent, waiting for its retry, or too new; what it queued is not
    queued again by the next sweep."""
    now = timezone.now()
    old = timedelta(minutes=10)
    oldest = _unsent(registrar, "a", age=timedelta(hours=2))
    due_retry = _unsent(registrar, "b", age=old, email_next_attempt_at=now, email_attempts=1)
    older = _unsent(registrar, "c", age=timedelta(hours=1))
    _unsent(registrar, "sent", age=old, emailed_at=now)
    _unsent(registrar, "failed", age=old, email_failed_at=now, email_attempts=10)
    _unsent(registrar, "sending", age=old, email_claimed_at=now, email_attempts=1)
    _unsent(registrar, "waiting", age=old, email_attempts=2, email_next_attempt_at=now + old)
    _unsent(registrar, "new", age=timedelta(seconds=1))
    queued = []
    monkeypatch.setattr(portal_services, "queue_notification_email", _recorder(queued))

    assert portal_services.notifications_sweep(now=now) == 3
    assert queued == [oldest.pk, older.pk, due_retry.pk]
    # A minute later the three still wait in the queue: not queued again.
    queued.clear()
    later = now + timedelta(minutes=1)
    portal_services.notifications_sweep(now=later)
    assert not {oldest.pk, older.pk, due_retry.pk} & set(queued)


@pytest.mark.django_db
def test_the_sweep_takes_the_oldest_when_there_is_more_than_its_limit(registrar, monkeypatch):
    """With more unsent e-mails than one sweep takes, the oldest go first."""
    rows = [
        _unsent(registrar, f"k{age}", age=timedelta(minutes=age)) for age in (5, 50, 20, 90, 10)
    ]
    queued = []
    monkeypatch.setattr(portal_services, "queue_notification_email", _recorder(queued))

    assert portal_services.notifications_sweep(limit=2) == 2

    by_age = {row.event_key: row.pk for row in rows}
    assert queued == [by_age["k90"], by_age["k50"]]


@pytest.mark.django_db
def test_failed_attempts_back_off_and_stop_at_the_cap(registrar, settings, monkeypatch):
    """Each failed attempt is counted and the next one waits twice as long (up to the
    maximum); at EMAIL_MAX_ATTEMPTS the e-mail is marked failed and never queued again."""
    settings.EMAIL_MAX_ATTEMPTS = 4
    settings.EMAIL_RETRY_BASE = timedelta(seconds=60)
    settings.EMAIL_RETRY_MAX_DELAY = 150
    notification = _notification_row(registrar)

    def hung(message, *args, **kwargs):
        raise TimeoutError("timed out")

    monkeypatch.setattr(portal_services.EmailMessage, "send", hung)
    delays = []
    for _attempt in range(4):
        before = timezone.now()
        assert notification_email_send(notification_id=notification.pk) is False
        notification.refresh_from_db()
        delays.append(round((notification.email_next_attempt_at - before).total_seconds()))
    assert delays == [60, 120, 150, 150]
    assert notification.email_attempts == 4
    assert notification.email_failed_at is not None
    assert notification_email_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.email_attempts == 4
    assert portal_services.notifications_sweep(now=timezone.now() + timedelta(days=1)) == 0


def test_the_email_task_goes_to_the_mail_queue_with_a_time_limit(settings):
    """Only the e-mail task is routed to the mail queue, which the default worker does not
    consume; its hard time limit is a little above EMAIL_TIMEOUT."""
    from portal.celery import app

    router = app.amqp.router
    assert router.route({}, "portal.tasks.notification_email")["queue"].name == "mail"
    for other in ("portal.tasks.outbox_deliver", "portal.tasks.sweep_pending"):
        assert router.route({}, other)["queue"].name == "celery"
    assert settings.EMAIL_TIMEOUT < notification_email.soft_time_limit
    assert notification_email.time_limit <= settings.EMAIL_TIMEOUT + 15


@pytest.mark.django_db
def test_opening_an_incident_marks_its_notifications_read_and_no_others(client, officeholder):
    """The officeholder opens incident A: A's notifications are read, B's stay unread, and
    nobody else's change."""
    first, second = IncidentFactory(officeholder=officeholder), IncidentFactory()
    second.officeholder = officeholder
    second.save()
    other = UserFactory(organisation=officeholder.organisation)
    for recipient, incident, key in (
        (officeholder, first, "a1"),
        (officeholder, first, "a2"),
        (officeholder, second, "b1"),
        (other, first, "c1"),
    ):
        Notification.objects.create(
            recipient=recipient,
            event_key=key,
            kind="message",
            reference=incident.reference,
            link=incident.get_absolute_url(),
            created_at=timezone.now(),
        )
    client.force_login(officeholder)
    assert client.get(first.get_absolute_url()).status_code == 200
    unread = set(
        Notification.objects.filter(read_at__isnull=True).values_list("event_key", flat=True)
    )
    assert unread == {"b1", "c1"}
