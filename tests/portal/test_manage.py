"""Delegated administration: a desk coordinator manages the officeholders of the desk's
organisations and the desk's colleagues, and nobody else (404 outside the desk).

Invitations: a single-use link, valid 7 days, stored only as a hash; an expired or used link
lets the person ask the coordinators for a new one (once a day).
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import selectors, services
from portal.errors import DomainError, NotAllowed
from portal.models import Invitation, Notification, PersonChange, User
from portal.policies import Workspace, user_policy, workspaces_for
from tests.conftest import admin_user_change_data, verified_login
from tests.factories import DeskFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://[^\s]+/account/uitnodiging/([0-9a-f]+)/")


@pytest.fixture
def world():
    desk, other_desk = DeskFactory(), DeskFactory()
    organisation = OrganisationFactory(desk=desk)
    other_organisation = OrganisationFactory(desk=other_desk)
    return {
        "desk": desk,
        "organisation": organisation,
        "other_organisation": other_organisation,
        "coordinator": UserFactory(registrar=True, desk=desk, is_coordinator=True),
        "colleague": UserFactory(registrar=True, desk=desk),
        "officeholder": UserFactory(organisation=organisation),
        "other_officeholder": UserFactory(organisation=other_organisation),
        "other_registrar": UserFactory(registrar=True, desk=other_desk),
        "support": UserFactory(support=True),
    }


def _invite(world, committed, **extra):
    values = {
        "actor": world["coordinator"],
        "first_name": "Lotte",
        "last_name": "Hendriks",
        "email": "L.Hendriks@example.org",
        "organisation": world["organisation"],
        "function": "raadslid",
    }
    values.update(extra)
    with committed():
        return services.person_invite(**values)


def _token_from(mailoutbox, person) -> str:
    [mail] = [m for m in mailoutbox if m.to == [person.email]]
    return LINK.search(mail.body).group(1)


def test_the_coordinator_manages_exactly_the_desk_s_officeholders_and_colleagues(world):
    """The scope: officeholders of the served organisations and colleagues of the own desk,
    not oneself, nobody of another desk, no support member; a plain registrar manages no one."""
    managed = set(user_policy.queryset(world["coordinator"], "manage"))
    assert managed == {world["colleague"], world["officeholder"]}
    assert user_policy.queryset(world["colleague"], "manage").count() == 0
    assert Workspace.MANAGE in workspaces_for(world["coordinator"])
    assert Workspace.MANAGE not in workspaces_for(world["colleague"])


def test_every_person_page_outside_the_desk_answers_404(client, world):
    """Another desk's officeholder or registrar, the team, and oneself: 404 on every URL."""
    verified_login(client, world["coordinator"])
    for name in ("other_officeholder", "other_registrar", "support", "coordinator"):
        pk = world[name].pk
        assert client.get(reverse("manage:person", args=[pk])).status_code == 404, name
        for url in ("manage:person_invitation_resend", "manage:person_deactivate"):
            assert client.post(reverse(url, args=[pk])).status_code == 404, (name, url)
    assert (
        world["other_officeholder"]
        .__class__.objects.get(pk=world["other_officeholder"].pk)
        .is_active
    )
    assert client.get(reverse("manage:person", args=[world["officeholder"].pk])).status_code == 200


def test_a_plain_registrar_has_no_beheer_pages(client, world):
    verified_login(client, world["colleague"])
    assert client.get(reverse("manage:people")).status_code == 404
    assert b"/mensen/" not in client.get(reverse("home")).content


def test_an_invitation_makes_an_inactive_account_and_sends_a_single_use_link(
    world, committed, mailoutbox
):
    """The invited person cannot log in until they accept; the link is in the e-mail, only its
    hash is stored; accepting activates the account once, and is recorded."""
    person = _invite(world, committed)
    assert (person.is_active, person.has_usable_password()) == (False, False)
    assert person.email == "l.hendriks@example.org"
    token = _token_from(mailoutbox, person)
    invitation = Invitation.objects.get(person=person)
    assert invitation.token_hash != token and token not in invitation.nonce
    assert invitation.emailed_at is not None
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert set(PersonChange.objects.filter(person=person).values_list("field", flat=True)) >= {
        "role",
        "organisation",
        "function",
    }
    with pytest.raises(DomainError):
        services.invitation_accept(token=token, password="kort")
    accepted = services.invitation_accept(token=token, password="een-lang-wachtwoord-42")
    assert accepted.is_active and accepted.check_password("een-lang-wachtwoord-42")
    assert PersonChange.objects.filter(person=person, field="is_active", actor=person).exists()
    with pytest.raises(DomainError, match="werkt niet meer"):
        services.invitation_accept(token=token, password="nog-een-wachtwoord-42")
    assert services.invitation_for_token(token=token).state == "used"


def test_an_expired_link_is_refused_and_the_coordinators_are_asked_once_a_day(
    client, world, committed, mailoutbox
):
    person = _invite(world, committed)
    token = _token_from(mailoutbox, person)
    Invitation.objects.filter(person=person).update(expires_at=timezone.now())
    page = client.get(reverse("invitation_accept", args=[token]))
    assert page.status_code == 410
    assert "is verlopen" in page.content.decode()
    with pytest.raises(DomainError):
        services.invitation_accept(token=token, password="een-lang-wachtwoord-42")
    with committed():
        asked = client.post(reverse("invitation_renewal_request", args=[token]))
    assert "Uw vraag is doorgegeven" in asked.content.decode()
    [notification] = Notification.objects.filter(kind="invitation_renewal")
    assert notification.recipient == world["coordinator"]
    assert notification.link == reverse("manage:person", args=[person.pk])
    client.post(reverse("invitation_renewal_request", args=[token]))
    assert Notification.objects.filter(kind="invitation_renewal").count() == 1
    assert client.get(reverse("invitation_accept", args=["0" * 40])).status_code == 404


def test_a_resend_replaces_the_old_link(world, committed, mailoutbox):
    person = _invite(world, committed)
    first = _token_from(mailoutbox, person)
    mailoutbox.clear()
    with committed():
        services.invitation_create(actor=world["coordinator"], person=person)
    second = _token_from(mailoutbox, person)
    assert services.invitation_for_token(token=first).state == "used"
    assert services.invitation_for_token(token=second).state == "valid"
    assert Invitation.objects.filter(person=person).count() == 2
    person = services.invitation_accept(token=second, password="een-lang-wachtwoord-42")
    with pytest.raises(DomainError, match="gebruikt het account al"):
        services.invitation_create(actor=world["coordinator"], person=person)


def test_the_coordinator_cannot_invite_into_another_desk_s_organisation_or_an_ended_one(world):
    with pytest.raises(NotAllowed):
        services.person_invite(
            actor=world["coordinator"],
            first_name="A",
            last_name="B",
            email="a@example.org",
            organisation=world["other_organisation"],
            function="raadslid",
        )
    ended = OrganisationFactory(desk=world["desk"], ended_on=timezone.localdate())
    with pytest.raises(NotAllowed):
        services.person_invite(
            actor=world["coordinator"],
            first_name="A",
            last_name="B",
            email="a@example.org",
            organisation=ended,
            function="raadslid",
        )
    with pytest.raises(DomainError, match="al een account"):
        services.person_invite(
            actor=world["coordinator"],
            first_name="A",
            last_name="B",
            email=world["officeholder"].email.upper(),
            organisation=world["organisation"],
            function="raadslid",
        )
    assert not User.objects.filter(email="a@example.org").exists()


def test_a_new_colleague_notifies_the_desk_s_coordinators(world, committed, mailoutbox):
    """A staff account created on a desk: the desk's coordinators get a notification."""
    second = UserFactory(registrar=True, desk=world["desk"], is_coordinator=True)
    person = _invite(world, committed, organisation=None, function="", email="nieuw@example.org")
    assert person.desk == world["desk"]
    recipients = set(
        Notification.objects.filter(kind="staff_joined_desk").values_list("recipient", flat=True)
    )
    assert recipients == {world["coordinator"].pk, second.pk}


def test_changes_stay_in_scope_and_are_recorded(client, world):
    verified_login(client, world["coordinator"])
    officeholder = world["officeholder"]
    second_organisation = OrganisationFactory(desk=world["desk"])
    url = reverse("manage:person", args=[officeholder.pk])
    response = client.post(
        url,
        {
            "organisation": second_organisation.pk,
            "function": "wethouder",
            "term_start": "2026-03-30",
            "term_end": "2030-03-27",
        },
    )
    assert response.status_code == 302
    officeholder.refresh_from_db()
    assert (officeholder.organisation, officeholder.function) == (second_organisation, "wethouder")
    assert set(
        PersonChange.objects.filter(person=officeholder, actor=world["coordinator"]).values_list(
            "field", flat=True
        )
    ) == {"organisation", "function", "term_start", "term_end"}
    outside = client.post(
        url,
        {"organisation": world["other_organisation"].pk, "function": "wethouder"},
    )
    assert outside.status_code == 200
    officeholder.refresh_from_db()
    assert officeholder.organisation == second_organisation
    client.post(reverse("manage:person_deactivate", args=[officeholder.pk]))
    officeholder.refresh_from_db()
    assert not officeholder.is_active


def test_the_people_list_searches_and_takes_two_queries_whatever_its_size(client, world):
    """The list: served officeholders and colleagues with their state; a fixed query count."""
    coordinator = world["coordinator"]
    selectors.site_configuration_get()  # the configuration row exists in a running portal

    def count():
        with CaptureQueriesContext(connection) as queries:
            rows = selectors.people_managed_by(user=coordinator)
        return len(queries), rows

    small, rows = count()
    assert {row.pk for row in rows} == {world["colleague"].pk, world["officeholder"].pk}
    UserFactory.create_batch(5, organisation=world["organisation"])
    large, rows = count()
    assert len(rows) == 7
    # 1: the site configuration (fallback desk), 2: the people with their latest invitation.
    assert small == large == 2
    found = selectors.people_managed_by(user=coordinator, search=world["officeholder"].last_name)
    assert world["officeholder"].pk in {row.pk for row in found}
    verified_login(client, coordinator)
    page = client.get(reverse("manage:people"), {"q": world["officeholder"].email})
    assert world["officeholder"].email in page.content.decode()
    assert world["other_officeholder"].email not in page.content.decode()


def test_the_admin_moving_a_registrar_to_a_desk_notifies_its_coordinators(client, world):
    """Part of "an administrator without a master key": a staff account moved to a desk by
    the functional administrator is announced to that desk's coordinators."""
    from portal.constants import Role

    admin = UserFactory(admin=True)
    moved = world["other_registrar"]
    verified_login(client, admin)
    url = reverse("admin:portal_user_change", args=[moved.pk])
    data = admin_user_change_data(client, moved, role=Role.REGISTRAR, desk=world["desk"].pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [notification] = Notification.objects.filter(kind="staff_joined_desk")
    assert notification.recipient == world["coordinator"]
    assert notification.link == reverse("manage:person", args=[moved.pk])


def test_an_ended_organisation_gets_no_new_officeholders_but_keeps_its_own(world):
    """Model validation (the admin's forms use it): nobody is added to an ended organisation;
    an officeholder who was there already can still be saved."""
    from django.core.exceptions import ValidationError

    organisation = world["organisation"]
    organisation.ended_on = timezone.localdate()
    organisation.save()
    world["officeholder"].full_clean()
    newcomer = UserFactory.build(organisation=organisation, username="nieuw", email="n@x.org")
    with pytest.raises(ValidationError, match="opgeheven"):
        newcomer.full_clean()
