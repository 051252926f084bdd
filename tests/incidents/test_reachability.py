"""Nobody unheard: a report always reaches a desk that somebody reads, or the Ondersteuningsteam.

The rule is `portal.reachability` (an active registrar, or a mailbox confirmed in the last 8
days); filing, the watchdog (`incidents.tasks.watch_desk_reachability`) and the confirmation
page all follow it. Moves and offers back are events on the timeline; the own desk takes an
offered incident back itself, it never moves back silently.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from incidents import selectors
from incidents.constants import EventKind, IncidentType, Status
from incidents.errors import StaleVersion
from incidents.models import Escalation, Incident
from incidents.services import incident_submit, incident_take_back, reachability_watch
from incidents.tasks import watch_desk_reachability
from portal.errors import NotAllowed
from portal.models import Desk, Notification, SiteConfiguration
from support.models import SupportCase
from tests.conftest import verified_login
from tests.factories import DeskFactory, IncidentFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_in_tmp")]


def _facts():
    return {
        "types": [IncidentType.VERBAL_AGGRESSION],
        "occurred_on": timezone.localdate() - timedelta(days=1),
        "summary": "Uitgescholden bij de haven.",
    }


def _submit(officeholder):
    return incident_submit(officeholder=officeholder, facts=_facts(), quick=True)


def _kinds(incident):
    return list(incident.events.order_by("pk").values_list("kind", flat=True))


@pytest.fixture
def unstaffed():
    """An island desk that nobody reads: no registrar, its mailbox never confirmed."""
    return DeskFactory(name="Meldpunt Caribisch Nederland", unread=True)


@pytest.fixture
def fallback():
    """The fallback desk of the site configuration, with one registrar."""
    desk = DeskFactory(name="Meldpunt Utrecht", unread=True)
    UserFactory(registrar=True, desk=desk, username="sanne")
    SiteConfiguration.objects.update_or_create(pk=1, defaults={"fallback_desk": desk})
    return desk


@pytest.fixture
def saba(unstaffed):
    return UserFactory(
        organisation=OrganisationFactory(desk=unstaffed, caribbean=True, name="Saba"),
        username="carla",
    )


def test_a_report_for_an_unreachable_desk_goes_to_the_fallback_desk(saba, unstaffed, fallback):
    """Filed at a desk nobody reads, the report is at the fallback desk at once, remembers its
    own desk, and the move is on the timeline."""
    incident = _submit(saba)
    assert incident.desk == fallback
    assert incident.moved_from_desk == unstaffed
    assert incident.status == Status.SUBMITTED
    assert _kinds(incident) == [EventKind.SUBMITTED, EventKind.MOVED]
    moved = incident.events.get(kind=EventKind.MOVED)
    assert moved.payload["from_desk"] == unstaffed.name
    assert moved.payload["to_desk"] == fallback.name
    assert not moved.visible_to_officeholder


def test_with_fallback_unreachable_too_the_report_goes_to_the_support_team(
    saba, unstaffed, support_user, committed
):
    """Neither desk nor fallback is read: the report is escalated to the Ondersteuningsteam
    through the escalation path (rule "desk_unreachable"), and the team's case is opened by
    the outbox consumer."""
    other = DeskFactory(unread=True)
    SiteConfiguration.objects.update_or_create(pk=1, defaults={"fallback_desk": other})
    with committed():
        incident = _submit(saba)
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    assert incident.desk == unstaffed
    escalation = Escalation.objects.get(incident=incident)
    assert escalation.rules == ["desk_unreachable"]
    assert SupportCase.objects.filter(escalation=escalation).exists()
    assert Notification.objects.filter(recipient=support_user, kind="escalation_new").exists()


def test_a_reachable_own_desk_keeps_its_reports(saba, unstaffed, fallback):
    """With a registrar of its own, the island desk gets the report itself; nothing moves."""
    UserFactory(registrar=True, desk=unstaffed)
    incident = _submit(saba)
    assert incident.desk == unstaffed
    assert incident.moved_from_desk is None
    assert _kinds(incident) == [EventKind.SUBMITTED]


def test_a_confirmed_mailbox_makes_a_desk_reachable_and_gets_the_notification(
    saba, unstaffed, fallback, committed
):
    """A desk without registrars but with a mailbox confirmed this week keeps its reports;
    the new report is announced in that mailbox (reference and link only)."""
    Desk.objects.filter(pk=unstaffed.pk).update(
        mailbox_confirmed_email=unstaffed.email, mailbox_confirmed_at=timezone.now()
    )
    saba.organisation.desk.refresh_from_db()
    with committed():
        incident = _submit(saba)
    assert incident.desk == unstaffed
    to_mailbox = [m for m in mail.outbox if m.to == [unstaffed.email]]
    assert len(to_mailbox) == 1
    assert incident.reference in to_mailbox[0].subject
    assert "haven" not in to_mailbox[0].body


def test_an_old_or_other_address_confirmation_does_not_count(saba, unstaffed, fallback):
    """Having an address is not enough: a click 9 days ago, or for a previous address, does
    not make the desk reachable."""
    Desk.objects.filter(pk=unstaffed.pk).update(
        mailbox_confirmed_email=unstaffed.email,
        mailbox_confirmed_at=timezone.now() - timedelta(days=9),
    )
    saba.organisation.desk.refresh_from_db()
    assert _submit(saba).desk == fallback
    Desk.objects.filter(pk=unstaffed.pk).update(
        mailbox_confirmed_email="old@example.org", mailbox_confirmed_at=timezone.now()
    )
    saba.organisation.desk.refresh_from_db()
    assert _submit(saba).desk == fallback


def test_the_administrator_is_alerted_once_when_a_desk_is_unreachable(
    saba, unstaffed, fallback, admin_user
):
    """The first report for an unstaffed desk alerts the administrator at once; the second
    report (and the watchdog) alerts nobody again while the desk stays unreachable."""
    _submit(saba)
    _submit(saba)
    reachability_watch()
    alerts = Notification.objects.filter(recipient=admin_user, kind="desk_unreachable")
    assert alerts.count() == 1
    assert alerts.get().reference == unstaffed.name
    unstaffed.refresh_from_db()
    assert unstaffed.unreachable_since is not None


def test_waiting_reports_move_when_their_desk_becomes_unreachable(unstaffed, fallback):
    """The watchdog moves submitted and in-triage reports of a desk whose last registrar left
    to the fallback desk; closed ones stay."""
    registrar = UserFactory(registrar=True, desk=unstaffed)
    organisation = OrganisationFactory(desk=unstaffed)
    waiting = IncidentFactory(organisation=organisation, desk=unstaffed)
    in_triage = IncidentFactory(organisation=organisation, desk=unstaffed, in_triage=True)
    closed = IncidentFactory(organisation=organisation, desk=unstaffed, closed=True)
    assert reachability_watch()["moved"] == 0
    registrar.is_active = False
    registrar.save()
    counts = watch_desk_reachability()
    assert counts["moved"] == 2
    for incident in (waiting, in_triage):
        incident.refresh_from_db()
        assert incident.desk == fallback
        assert incident.moved_from_desk == unstaffed
        assert EventKind.MOVED in _kinds(incident)
    closed.refresh_from_db()
    assert closed.desk == unstaffed
    assert reachability_watch()["moved"] == 0  # idempotent


def test_waiting_reports_go_to_support_when_the_fallback_is_unreachable_too(unstaffed):
    """No desk is read: the watchdog escalates the waiting report (once)."""
    SiteConfiguration.objects.update_or_create(
        pk=1, defaults={"fallback_desk": DeskFactory(unread=True)}
    )
    incident = IncidentFactory(organisation=OrganisationFactory(desk=unstaffed), desk=unstaffed)
    assert reachability_watch()["to_support"] == 1
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    assert Escalation.objects.get(incident=incident).rules == ["desk_unreachable"]
    assert reachability_watch()["to_support"] == 0


def test_back_at_the_own_desk_only_after_it_takes_the_report_back(
    saba, unstaffed, fallback, committed
):
    """When the own desk is read again, the report is offered to it (an event and a
    notification), not moved; its registrar takes it back, and then it is theirs."""
    incident = _submit(saba)
    island = UserFactory(registrar=True, desk=unstaffed)
    with committed():
        assert reachability_watch()["offered_back"] == 1
    incident.refresh_from_db()
    assert incident.desk == fallback
    assert incident.offered_back_at is not None
    assert EventKind.OFFERED_BACK in _kinds(incident)
    assert Notification.objects.filter(recipient=island, kind="incident_offered_back").exists()
    assert reachability_watch()["offered_back"] == 0  # offered once
    assert selectors.incidents_offered_to(user=island) == [incident]

    taken = incident_take_back(incident=incident, actor=island, version=incident.version)
    assert taken.desk == unstaffed
    assert taken.moved_from_desk is None
    assert _kinds(taken)[-1] == EventKind.TAKEN_BACK
    assert selectors.incidents_offered_to(user=island) == []


def test_taking_back_is_refused_when_not_offered_or_stale(saba, unstaffed, fallback):
    """Nobody takes back what was not offered to their desk, nor with an old version."""
    incident = _submit(saba)
    island = UserFactory(registrar=True, desk=unstaffed)
    with pytest.raises(NotAllowed):
        incident_take_back(incident=incident, actor=island, version=incident.version)
    reachability_watch()
    incident.refresh_from_db()
    stranger = UserFactory(registrar=True, desk=DeskFactory())
    with pytest.raises(NotAllowed):
        incident_take_back(incident=incident, actor=stranger, version=incident.version)
    with pytest.raises(StaleVersion):
        incident_take_back(incident=incident, actor=island, version=incident.version - 1)


def test_the_desk_queue_offers_terugnemen_and_the_button_takes_it_back(
    client, saba, unstaffed, fallback
):
    """The own desk's queue lists the offered report with a "Terugnemen" button; pressing it
    puts the report back at the own desk and opens its page."""
    incident = _submit(saba)
    island = UserFactory(registrar=True, desk=unstaffed)
    reachability_watch()
    incident.refresh_from_db()
    verified_login(client, island)
    queue = client.get(reverse("desk:queue"))
    assert incident.reference in queue.content.decode()
    assert reverse("desk:take_back", args=[incident.reference]) in queue.content.decode()
    response = client.post(
        reverse("desk:take_back", args=[incident.reference]),
        {"take_back-version": incident.version},
    )
    assert response.status_code == 302
    assert response.url == reverse("desk:detail", args=[incident.reference])
    incident.refresh_from_db()
    assert incident.desk == unstaffed
    timeline = client.get(response.url).content.decode()
    assert "Teruggenomen door het eigen meldpunt" in timeline


def test_take_back_of_an_incident_not_offered_answers_404(client, saba, unstaffed, fallback):
    """Another desk cannot even find out that the incident exists."""
    incident = _submit(saba)
    verified_login(client, UserFactory(registrar=True, desk=DeskFactory()))
    response = client.post(
        reverse("desk:take_back", args=[incident.reference]), {"take_back-version": 1}
    )
    assert response.status_code == 404


def test_the_confirmation_names_the_desk_that_really_looks(client, saba, unstaffed, fallback):
    """The officeholder is told which desk will look: the fallback, never the unstaffed one."""
    incident = _submit(saba)
    verified_login(client, saba)
    page = client.get(reverse("incidents:confirmation", args=[incident.reference])).content
    page = page.decode()
    assert f"{fallback.name} bekijkt uw melding" in page
    assert f"{unstaffed.name} bekijkt" not in page


def test_the_confirmation_names_the_support_team_when_no_desk_is_read(client, saba, unstaffed):
    """With no desk read at all, the page says the Ondersteuningsteam looks."""
    incident = _submit(saba)
    verified_login(client, saba)
    page = client.get(reverse("incidents:confirmation", args=[incident.reference])).content
    assert "Het Ondersteuningsteam Weerbaar Bestuur bekijkt uw melding" in page.decode()
    handler = selectors.incident_handler_for(incident=Incident.objects.get(pk=incident.pk))
    assert handler.is_support


def test_an_escalated_report_of_a_staffed_desk_still_names_that_desk(saba, unstaffed):
    """Escalated by the rules, the report is not "unreachable": the desk still follows it."""
    UserFactory(registrar=True, desk=unstaffed)
    incident = IncidentFactory(organisation=saba.organisation, desk=unstaffed, escalated=True)
    handler = selectors.incident_handler_for(incident=incident)
    assert not handler.is_support
    assert handler.name == unstaffed.name


def test_the_watchdog_is_scheduled_every_minute(settings):
    """Registered in beat like the other watchdogs: a Saba report moves within a minute."""
    entry = settings.CELERY_BEAT_SCHEDULE["watch-desk-reachability"]
    assert entry["task"] == "incidents.tasks.watch_desk_reachability"
    assert entry["schedule"] <= 60


# --- The Saba path end to end, with the demo data ------------------------------------------------


def _saba_report(client, django_capture_on_commit_callbacks):
    from portal.models import User

    carla = User.objects.get(username="eilandsraadslid.saba")
    verified_login(client, carla)
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_submit(officeholder=carla, facts=_facts(), quick=True)
    return Incident.objects.get(pk=incident.pk)


def test_saba_report_reaches_the_demo_registrar(
    client, demo_data, django_capture_on_commit_callbacks
):
    """With the demo registrar of Meldpunt Caribisch Nederland, a Saba report is hers: she has
    a notification and an e-mail at once."""
    from portal.models import User

    incident = _saba_report(client, django_capture_on_commit_callbacks)
    island = User.objects.get(username="meldpunt.caribischnederland")
    assert incident.desk == island.desk
    assert Notification.objects.filter(recipient=island, reference=incident.reference).exists()
    assert any(island.email in m.to for m in mail.outbox)


def test_saba_report_with_the_island_desk_unstaffed_reaches_the_fallback_registrar(
    client, demo_data, django_capture_on_commit_callbacks
):
    """Without anybody at Meldpunt Caribisch Nederland, the Saba report is at the fallback
    desk (Meldpunt Utrecht in the demo) the moment it is filed, and its registrar is told."""
    from portal.models import User

    User.objects.filter(username="meldpunt.caribischnederland").update(is_active=False)
    incident = _saba_report(client, django_capture_on_commit_callbacks)
    utrecht = User.objects.get(username="meldpunt.utrecht")
    assert incident.desk == utrecht.desk
    assert Notification.objects.filter(
        recipient=utrecht, reference=incident.reference, kind="incident_new"
    ).exists()
    beheer = User.objects.get(username="beheer")
    assert Notification.objects.filter(recipient=beheer, kind="desk_unreachable").exists()
