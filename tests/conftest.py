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

pytest_plugins = ["tests.browser.fixtures", "tests.celery_worker"]


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
def test_settings():
    """Test-wide settings: static files by their plain names, and a fast password hasher.

    The live server serves static files from the finders, by name; production's hashed
    manifest names are checked by `collectstatic` in `make test` instead.
    """
    plain = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The fast hasher: PBKDF2's deliberate slowness costs minutes over the whole suite.
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(STORAGES=plain, PASSWORD_HASHERS=hashers):
        yield


@pytest.fixture(autouse=True)
def celery_runs_in_process(request):
    """Tasks queued by a test run at once, in the test process, and raise their errors.

    Tests with a real worker (`redis_celery_worker`, or marked `real_celery`) publish to the
    broker instead.
    """
    from portal.celery import app

    eager = not (
        "redis_celery_worker" in request.fixturenames
        or request.node.get_closest_marker("real_celery")
    )
    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = eager
    app.conf.task_eager_propagates = eager
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def on_commit_errors_fail_the_test(caplog):
    """`on_commit(..., robust=True)` only logs a failing callback; in tests that is a failure."""
    yield
    failures = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.name == "django.db.backends.base" and record.levelname == "ERROR"
    ]
    assert not failures, f"on_commit callbacks failed: {failures}"
