"""Which desk is reachable (portal.reachability), the weekly mailbox confirmation, and what the
administrator sees.

A desk counts as reachable only with an active registrar, or with a mailbox whose weekly link
was clicked in the last 8 days for its current address.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal import reachability
from portal.errors import DomainError
from portal.models import Desk, Notification, SiteConfiguration
from portal.services import (
    desk_mailbox_confirm,
    desk_mailbox_confirmations_send,
    desk_mailbox_token,
    desks_reachability_record,
)
from portal.tasks import desk_mailbox_confirmations
from tests.conftest import verified_login
from tests.factories import DeskFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _reachable(desk):
    desk.refresh_from_db()
    return reachability.desk_is_reachable(desk)


def test_a_desk_with_only_an_address_is_unreachable():
    """An e-mail address alone is not enough."""
    assert not _reachable(DeskFactory(unread=True, email="meldpunt@example.org"))


def test_an_active_registrar_makes_a_desk_reachable_and_an_inactive_one_does_not():
    desk = DeskFactory(unread=True)
    registrar = UserFactory(registrar=True, desk=desk)
    assert _reachable(desk)
    registrar.is_active = False
    registrar.save()
    assert not _reachable(desk)


def test_a_mailbox_confirmation_counts_for_8_days_and_for_its_own_address():
    """Clicked 7 days ago: reachable; 9 days ago, or for another address: not."""
    desk = DeskFactory(unread=True)
    now = timezone.now()
    for days, address, expected in (
        (7, desk.email, True),
        (9, desk.email, False),
        (1, "vorige@example.org", False),
    ):
        Desk.objects.filter(pk=desk.pk).update(
            mailbox_confirmed_email=address, mailbox_confirmed_at=now - timedelta(days=days)
        )
        assert _reachable(desk) is expected


def test_the_query_and_the_loaded_rule_agree():
    """`reachable_q` (for the watchdog) and `desk_is_reachable` give the same answer."""
    now = timezone.now()
    desks = [
        DeskFactory(unread=True),
        DeskFactory(),
        DeskFactory(unread=True, mailbox_confirmed_at=now - timedelta(days=9)),
    ]
    UserFactory(registrar=True, desk=desks[0])
    UserFactory(registrar=True, desk=DeskFactory(unread=True), is_active=False)
    by_query = set(
        Desk.objects.filter(reachability.reachable_q(now=now)).values_list("pk", flat=True)
    )
    by_rule = {d.pk for d in Desk.objects.all() if reachability.desk_is_reachable(d, now=now)}
    assert by_query == by_rule
    assert desks[0].pk in by_query and desks[1].pk in by_query
    assert desks[2].pk not in by_query


def test_the_route_is_own_desk_then_fallback_then_support():
    """The one routing rule, in order."""
    own, fallback = DeskFactory(unread=True), DeskFactory(unread=True)
    SiteConfiguration.objects.update_or_create(pk=1, defaults={"fallback_desk": fallback})
    organisation = OrganisationFactory(desk=own)
    route = reachability.route_for_organisation(organisation=organisation)
    assert route.to_support and route.moved and route.home_desk == own
    UserFactory(registrar=True, desk=fallback)
    route = reachability.route_for_organisation(organisation=organisation)
    assert route.desk == fallback and route.moved
    UserFactory(registrar=True, desk=own)
    route = reachability.route_for_organisation(organisation=organisation)
    assert route.desk == own and not route.moved


def test_the_weekly_e_mail_carries_a_signed_link_that_records_the_click(client):
    """The mailbox gets a link; opening it changes nothing, the button confirms the mailbox."""
    desk = DeskFactory(unread=True)
    assert desk_mailbox_confirmations() == 1
    assert desk_mailbox_confirmations_send() == 0  # a week has not passed
    message = mail.outbox[-1]
    assert message.to == [desk.email]
    link = next(word for word in message.body.split() if "/meldpunt-postbus/" in word)
    path = link[link.index("/meldpunt-postbus/") :]
    assert client.get(path).status_code == 200
    assert not _reachable(desk)
    response = client.post(path)
    assert response.status_code == 200
    assert "Bevestigd" in response.content.decode()
    assert _reachable(desk)


def test_the_e_mail_goes_again_after_a_week():
    desk = DeskFactory(unread=True)
    desk_mailbox_confirmations_send()
    later = timezone.now() + timedelta(days=7, minutes=1)
    assert desk_mailbox_confirmations_send(now=later) == 1
    desk.refresh_from_db()
    assert desk.mailbox_confirmation_sent_at == later


def test_an_expired_damaged_or_outdated_link_is_refused(client):
    """A link older than 8 days, a changed one, or one for a previous address confirms nothing
    and says why, without a 500."""
    desk = DeskFactory(unread=True)
    token = desk_mailbox_token(desk=desk)
    with pytest.raises(DomainError):
        desk_mailbox_confirm(token=token, now=timezone.now() + timedelta(days=9))
    with pytest.raises(DomainError):
        desk_mailbox_confirm(token=token + "x")
    response = client.post(reverse("desk_mailbox_confirm", args=[token + "x"]))
    assert response.status_code == 400
    Desk.objects.filter(pk=desk.pk).update(email="nieuw@example.org")
    with pytest.raises(DomainError):
        desk_mailbox_confirm(token=token)
    assert not _reachable(desk)


def test_the_administrator_is_alerted_when_a_desk_becomes_unreachable_and_again_later():
    """Once per period: reachable again and then unreachable again alerts a second time."""
    admin = UserFactory(admin=True)
    desk = DeskFactory(unread=True)
    registrar = UserFactory(registrar=True, desk=desk)
    assert desks_reachability_record()["unreachable"] == []
    registrar.is_active = False
    registrar.save()
    assert desks_reachability_record()["unreachable"] == [desk.pk]
    assert desks_reachability_record()["unreachable"] == []
    registrar.is_active = True
    registrar.save()
    assert desks_reachability_record()["reachable"] == [desk.pk]
    registrar.is_active = False
    registrar.save()
    desks_reachability_record()
    assert Notification.objects.filter(recipient=admin, kind="desk_unreachable").count() == 2


def test_the_administrators_home_page_warns_about_unreachable_desks(client):
    """The home page names every desk nobody reads, with a link to it; not the others."""
    admin = UserFactory(admin=True)
    unread = DeskFactory(unread=True, name="Meldpunt Caribisch Nederland")
    staffed = DeskFactory(unread=True, name="Meldpunt Utrecht")
    UserFactory(registrar=True, desk=staffed)
    verified_login(client, admin)
    page = client.get(reverse("home")).content.decode()
    assert "Meldpunten die niemand leest" in page
    assert unread.name in page
    assert reverse("admin:portal_desk_change", args=[unread.pk]) in page
    assert staffed.name not in page


def test_the_home_page_has_no_warning_when_every_desk_is_read(client):
    UserFactory(registrar=True, desk=DeskFactory(unread=True))
    verified_login(client, UserFactory(admin=True))
    assert "Meldpunten die niemand leest" not in client.get(reverse("home")).content.decode()


def test_the_admin_desk_list_shows_the_state_per_desk(client):
    """The administrator sees per desk: active staff, the mailbox state and reachable."""
    admin = UserFactory(admin=True)
    DeskFactory(unread=True, name="Meldpunt Saba")
    verified_login(client, admin)
    page = client.get(reverse("admin:portal_desk_changelist")).content.decode()
    assert "Meldpunt Saba" in page
    assert "niet bevestigd" in page
    assert "actieve medewerkers" in page.lower()


def test_a_new_desk_address_is_asked_for_confirmation_at_once(client, committed):
    """The administrator changes a desk's address: the new address is unconfirmed (so the
    desk is not reachable through it) and gets its own confirmation e-mail right away."""
    desk = DeskFactory(name="Meldpunt Saba")
    verified_login(client, UserFactory(admin=True))
    with committed():
        response = client.post(
            reverse("admin:portal_desk_change", args=[desk.pk]),
            {
                "name": desk.name,
                "email": "nieuw@saba.example",
                "phone": "",
                "time_zone": desk.time_zone,
                "organisations-TOTAL_FORMS": "0",
                "organisations-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not _reachable(desk)
    assert [m.to for m in mail.outbox] == [["nieuw@saba.example"]]
