import pytest

from tests.conftest import verified_login
from tests.factories import UserFactory


@pytest.fixture
def member(db):
    """A member of the Ondersteuningsteam with a name the officeholder will read."""
    return UserFactory(support=True, first_name="Fatima", last_name="El Amrani")


@pytest.fixture
def member_client(client, member):
    verified_login(client, member)
    return client
