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
    assert mail.subject == f"Nieuw bericht bij melding {incident.reference}"
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
    assert mail.subject == f"De status van melding {incident.reference} is gewijzigd"
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
    row is updated) and new rows can still point at them: only the notification is locked."""
    notification = _notification_row(registrar)
    sending, release = threading.Event(), threading.Event()

    def slow_send_mail(**kwargs):
        sending.set()
        assert release.wait(timeout=THREAD_TIMEOUT)
        return 1

    monkeypatch.setattr(portal_services, "send_mail", slow_send_mail)
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
    finally:
        release.set()
        thread.join(timeout=THREAD_TIMEOUT)

    assert not errors
    assert results == [True]
