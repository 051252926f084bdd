"""Fixtures of the security tests: the API tests' world of two desks, and clean storage.

The world (see `tests.api.conftest`) has an officeholder with incidents in several statuses,
an officeholder, a registrar and incidents of another organisation served by another desk, a
member of the Ondersteuningsteam and an admin, with real evidence, support cases and tokens.
"""

import pytest

from tests.api.conftest import (  # noqa: F401 (fixtures used by the matrix)
    World,
    module_world,
    shared_world,
    token_client,
    world_build,
)
from tests.conftest import verified_login


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
