"""Fixtures shared by all tests: people in each role, and the demo data."""

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

from tests.factories import DeskFactory, OrganisationFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls there
# unless told that this is safe (it is: the test thread is not async code).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.browser.fixtures"]


@pytest.fixture
def desk(db):
    return DeskFactory()


@pytest.fixture
def organisation(desk):
    return OrganisationFactory(desk=desk)


@pytest.fixture
def officeholder(organisation):
    return UserFactory(organisation=organisation)


@pytest.fixture
def registrar(desk):
    return UserFactory(registrar=True, desk=desk)


@pytest.fixture
def support_user(db):
    return UserFactory(support=True)


@pytest.fixture
def admin_user(db):
    return UserFactory(admin=True)


@pytest.fixture
def demo_data(db, settings):
    """The demo organisations, desks and accounts of `seed_demo` (password: weerbaar-demo)."""
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


@pytest.fixture(autouse=True, scope="session")
def plain_static_files():
    """The live server serves static files from the finders, by their plain names.

    Production's hashed manifest names are checked by `collectstatic` in `make test` instead.
    """
    plain = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain):
        yield
