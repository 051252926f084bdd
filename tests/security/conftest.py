"""Fixtures of the security tests: the API tests' world of two desks, and clean storage.

The world (see `tests.api.conftest`) has an officeholder with incidents in several statuses,
an officeholder, a registrar and incidents of another organisation served by another desk, a
member of the Ondersteuningsteam and an admin, with real evidence, support cases and tokens.
"""

import pytest
from django.core.cache import caches
from django.utils.functional import empty

from incidents.models import private_storage
from tests.api.conftest import World, token_client, world_build
from tests.conftest import verified_login


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttles and login protection count in the cache: every test starts from zero."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The world creates many users: a fast hasher keeps the tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_storage_in_tmp(settings, tmp_path):
    """Evidence written by a test lands in a temporary private root, not in var/private."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    private_storage._wrapped = empty
    yield tmp_path / "private"
    private_storage._wrapped = empty


@pytest.fixture
def world(db) -> World:
    return world_build()


@pytest.fixture
def api_client_for(world):
    """`api_client_for(role)`: an API client with that role's personal token (none: anonymous)."""
    return lambda role: token_client(world.tokens.get(role))


def log_in(client, user, *, second_factor: bool = True) -> None:
    """Log `user` in on a web client: the one place the security tests log people in.

    With `second_factor` (the normal case) the session has passed the code step, as staff
    must; without it, it is a password-only session (what staff have before the code step).
    """
    if second_factor:
        verified_login(client, user)
    else:
        client.force_login(user)
