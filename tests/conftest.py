"""Fixtures shared by all tests: people in each role, and the demo data."""

import os
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

from tests.factories import DeskFactory, OrganisationFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls there
# unless told that this is safe (it is: the test thread is not async code).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The servers the tests start (gunicorn, Celery workers) run on loopback with DEBUG off: an
# http base URL and a local SMTP server are allowed there, never in production
# (portal/checks.py). Subprocesses inherit this.
os.environ.setdefault("LOOPBACK_TEST_STACK", "true")

pytest_plugins = [
    "tests.browser.fixtures",
    "tests.celery_worker",
    "tests.redis_server",
    "tests.oidc_provider",
]


def verified_login(client, user):
    """Log `user` in on a test client with a verified second factor, as after the code step.

    Staff sessions without it are sent to the code step (web) or refused (API); a plain
    `force_login` is for officeholders and for tests of exactly that refusal.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    from portal.middleware import LAST_SEEN_SESSION_KEY
    from portal.models import TotpDevice

    client.force_login(user)
    device = TotpDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TotpDevice.objects.create(user=user, name="Authenticator-app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    # As after a request: the staff idle clock has started, so no request saves the session.
    session[LAST_SEEN_SESSION_KEY] = int(time.time())
    session.save()
    return client


def admin_user_change_data(client, user, **changes) -> dict:
    """The admin's change form of `user` as the browser would post it back, with `changes`.

    `client` is logged in as an administrator; booleans are given as "on" (ticked).
    """
    from django.urls import reverse

    url = reverse("admin:portal_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.pop("last_login", None)
    data.update(
        {
            "username": user.username,
            "is_active": "on",
            "preferred_language": "nl",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
            **changes,
        }
    )
    return data


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
def rate_limits_start_at_zero():
    """Login and API rate limits count in the cache: each test starts from zero, so a long
    run of logins from 127.0.0.1 is not taken for an attack."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


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
        if record.name in ("django.db.backends.base", "django.test") and record.levelname == "ERROR"
    ]
    assert not failures, f"on_commit callbacks failed: {failures}"


@pytest.fixture
def escalation_rules_off(db):
    """Every automatic escalation rule switched off, for tests about something else.

    A rule without a row runs with its defaults, so every rule gets a switched-off row.
    """
    from support.constants import RuleCode
    from support.models import EscalationRule

    for code in RuleCode:
        EscalationRule.objects.update_or_create(code=code, defaults={"enabled": False})


@pytest.fixture(autouse=True)
def deletion_log_in_tmp(settings, tmp_path):
    """The deletion log (portal.deletions) of any test lands in a temporary folder."""
    settings.DELETION_LOG_DIR = tmp_path / "deletion-log"
    return settings.DELETION_LOG_DIR


@pytest.fixture(autouse=True)
def private_storage_in_tmp(settings, tmp_path):
    """Evidence written by any test (the demo data's too) lands in a temporary private root,
    never in var/private."""
    from django.utils.functional import empty

    from incidents.models import private_storage

    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    private_storage._wrapped = empty
    yield tmp_path / "private"
    private_storage._wrapped = empty


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A context manager that runs the on-commit callbacks of its block (nested ones too), as a
    real commit would; a failing callback fails the test (see on_commit_errors_fail_the_test)."""

    @contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return run
