"""factory_boy factories for every model, with traits per role/status."""

import factory

from portal.constants import OfficeholderFunction, OrganisationType, Role
from portal.models import Desk, Organisation, User

TEST_PASSWORD = "correct-horse-battery-staple"


class DeskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Desk

    name = factory.Sequence(lambda n: f"Meldpunt {n}")
    email = factory.Sequence(lambda n: f"meldpunt{n}@example.org")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Gemeente {n}")
    type = OrganisationType.GEMEENTE
    code = factory.Sequence(lambda n: f"GM{n:04d}")
    desk = factory.SubFactory(DeskFactory)

    class Params:
        caribbean = factory.Trait(
            type=OrganisationType.OPENBAAR_LICHAAM,
            time_zone="America/Kralendijk",
            emergency_number="911",
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = Role.OFFICEHOLDER
    function = OfficeholderFunction.RAADSLID
    organisation = factory.SubFactory(OrganisationFactory)
    desk = None
    password = factory.django.Password(TEST_PASSWORD)

    class Params:
        registrar = factory.Trait(
            role=Role.REGISTRAR,
            function="",
            organisation=None,
            desk=factory.SubFactory(DeskFactory),
        )
        support = factory.Trait(role=Role.SUPPORT, function="", organisation=None)
        admin = factory.Trait(
            role=Role.ADMIN, function="", organisation=None, is_staff=True, is_superuser=True
        )
