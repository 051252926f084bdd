"""`manage.py seed_demo`: the demo organisations, desks and accounts of the foundation issue."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.constants import (
    TIME_ZONE_CARIBBEAN,
    TIME_ZONE_NETHERLANDS,
    OfficeholderFunction,
    OrganisationType,
    Role,
)
from portal.models import Desk, Organisation, SiteConfiguration, User

DEMO_PASSWORD = "weerbaar-demo"

ORGANISATIONS = {
    # name: (type, desk, time zone, emergency number)
    "Gemeente Utrecht": (
        OrganisationType.GEMEENTE, "Meldpunt Utrecht", TIME_ZONE_NETHERLANDS, "112",
    ),
    "Gemeente Zwolle": (
        OrganisationType.GEMEENTE, "Meldpunt IJsselland", TIME_ZONE_NETHERLANDS, "112",
    ),
    "Provincie Overijssel": (
        OrganisationType.PROVINCIE, "Meldpunt IJsselland", TIME_ZONE_NETHERLANDS, "112",
    ),
    "Waterschap Drents Overijsselse Delta": (
        OrganisationType.WATERSCHAP, "Meldpunt IJsselland", TIME_ZONE_NETHERLANDS, "112",
    ),
    "Openbaar lichaam Saba": (
        OrganisationType.OPENBAAR_LICHAAM,
        "Meldpunt Caribisch Nederland",
        TIME_ZONE_CARIBBEAN,
        "911",
    ),
}  # fmt: skip

ACCOUNTS = {
    # username: (role, function, organisation, desk)
    "wethouder.utrecht": (
        Role.OFFICEHOLDER, OfficeholderFunction.WETHOUDER, "Gemeente Utrecht", None,
    ),
    "raadslid.utrecht": (
        Role.OFFICEHOLDER, OfficeholderFunction.RAADSLID, "Gemeente Utrecht", None,
    ),
    "burgemeester.zwolle": (
        Role.OFFICEHOLDER, OfficeholderFunction.BURGEMEESTER, "Gemeente Zwolle", None,
    ),
    "statenlid.overijssel": (
        Role.OFFICEHOLDER, OfficeholderFunction.STATENLID, "Provincie Overijssel", None,
    ),
    "eilandsraadslid.saba": (
        Role.OFFICEHOLDER, OfficeholderFunction.EILANDSRAADSLID, "Openbaar lichaam Saba", None,
    ),
    "meldpunt.utrecht": (Role.REGISTRAR, "", None, "Meldpunt Utrecht"),
    "meldpunt.ijsselland": (Role.REGISTRAR, "", None, "Meldpunt IJsselland"),
    "meldpunt.caribischnederland": (Role.REGISTRAR, "", None, "Meldpunt Caribisch Nederland"),
    "coordinator.utrecht": (Role.REGISTRAR, "", None, "Meldpunt Utrecht"),
    "coordinator.ijsselland": (Role.REGISTRAR, "", None, "Meldpunt IJsselland"),
    "nieuw.raadslid.zwolle": (
        Role.OFFICEHOLDER, OfficeholderFunction.RAADSLID, "Gemeente Zwolle", None,
    ),
    "nieuw.wethouder.zwolle": (
        Role.OFFICEHOLDER, OfficeholderFunction.WETHOUDER, "Gemeente Zwolle", None,
    ),
    "nieuw.raadslid.utrecht": (
        Role.OFFICEHOLDER, OfficeholderFunction.RAADSLID, "Gemeente Utrecht", None,
    ),
    "ondersteuning": (Role.SUPPORT, "", None, None),
    "beheer": (Role.ADMIN, "", None, None),
    "analist.bzk": (Role.ANALYST, "", None, None),
}  # fmt: skip
# Invited by their desk's coordinator, not active until they choose a password.
INVITED = {"nieuw.raadslid.zwolle", "nieuw.wethouder.zwolle", "nieuw.raadslid.utrecht"}


@pytest.fixture
def debug_on(settings):
    """Demo data only exists with DEBUG on; a fast hasher keeps the nine accounts quick."""
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def row_counts() -> dict[str, int]:
    """The number of rows of every model in the project, so later demo data is covered too."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def password_hashes() -> dict[str, str]:
    return dict(User.objects.values_list("username", "password"))


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(debug_on):
    """Running seed_demo a second time leaves every table and every password hash as it was."""
    call_command("seed_demo", verbosity=0)
    counts, hashes = row_counts(), password_hashes()

    call_command("seed_demo", verbosity=0)

    assert row_counts() == counts
    assert password_hashes() == hashes


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    """Demo accounts with a known password never reach production: DEBUG off is refused."""
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", verbosity=0)

    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_password_option_sets_every_demo_password(debug_on):
    """`--password` sets that password on every demo account, also on a second run."""
    call_command("seed_demo", verbosity=0)

    call_command("seed_demo", "--password", "een-ander-demowachtwoord", verbosity=0)

    for user in User.objects.filter(username__in=ACCOUNTS).exclude(username__in=INVITED):
        assert user.check_password("een-ander-demowachtwoord"), user.username
        assert not user.check_password(DEMO_PASSWORD), user.username


@pytest.mark.django_db
def test_seed_demo_creates_the_organisations_and_their_desks(debug_on):
    """Five organisations of four types, each served by the desk the issue names; Saba has
    the Caribbean time zone and 911, the others Europe/Amsterdam and 112."""
    call_command("seed_demo", verbosity=0)

    organisations = {
        organisation.name: (
            organisation.type,
            organisation.desk.name,
            organisation.time_zone,
            organisation.emergency_number,
        )
        for organisation in Organisation.objects.select_related("desk")
    }
    assert organisations == ORGANISATIONS
    served = {
        desk.name: {organisation.name for organisation in desk.organisations.all()}
        for desk in Desk.objects.prefetch_related("organisations")
    }
    assert served == {
        "Meldpunt Utrecht": {"Gemeente Utrecht"},
        "Meldpunt IJsselland": {
            "Gemeente Zwolle",
            "Provincie Overijssel",
            "Waterschap Drents Overijsselse Delta",
        },
        "Meldpunt Caribisch Nederland": {"Openbaar lichaam Saba"},
    }
    assert Desk.objects.get(name="Meldpunt Caribisch Nederland").time_zone == TIME_ZONE_CARIBBEAN
    assert SiteConfiguration.objects.get().fallback_desk is not None


@pytest.mark.django_db
def test_seed_demo_creates_the_accounts(debug_on):
    """The demo accounts of the issue, each with its role, function, organisation or desk and
    the default password; only `beheer` may use the Django admin."""
    call_command("seed_demo", verbosity=0)

    users = User.objects.select_related("organisation", "desk")
    accounts = {
        user.username: (
            user.role,
            user.function,
            user.organisation.name if user.organisation else None,
            user.desk.name if user.desk else None,
        )
        for user in users
    }
    assert accounts == ACCOUNTS
    for user in users.exclude(username__in=INVITED):
        assert user.is_active, user.username
        assert user.check_password(DEMO_PASSWORD), user.username
    for user in users.filter(username__in=INVITED):
        assert not user.is_active and not user.has_usable_password(), user.username
        [invitation] = user.invitations.all()
        assert invitation.invited_by.is_coordinator, user.username
        assert invitation.invited_by.desk == (user.organisation.desk), user.username
    assert set(users.filter(is_coordinator=True).values_list("username", flat=True)) == {
        "coordinator.utrecht",
        "coordinator.ijsselland",
    }
    assert {user.username for user in users if user.is_staff or user.is_superuser} == {"beheer"}
