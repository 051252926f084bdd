"""Fixtures of the API tests: a small world with every role, and clients that use real tokens.

The world has two desks, each serving one organisation (Utrecht and Zwolle), an officeholder
of each, a registrar of each desk, a member of the Ondersteuningsteam and an admin. The
Utrecht officeholder (`owner`) has incidents in several statuses; the Zwolle officeholder has
one, so that every cross-desk and cross-officeholder attempt uses a real reference.
"""

import shutil
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.utils.functional import empty
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from incidents import services as incident_services
from incidents.constants import IncidentType
from incidents.evidence import evidence_inspect
from incidents.models import Evidence, Incident, private_storage
from portal.constants import OfficeholderFunction
from portal.models import Notification, User
from portal.services import api_token_create
from support.constants import ServiceType
from support.models import SupportAction, SupportCase
from tests.factories import (
    DeskFactory,
    IncidentFactory,
    OrganisationFactory,
    UserFactory,
    case_act,
    case_open,
)

# Every role the access matrix knows, in the order its rows are written.
ROLES = (
    "anonymous",
    "owner",
    "other_officeholder",
    "registrar",
    "other_registrar",
    "support",
    "admin",
    "analyst",
)


@dataclass
class World:
    """The people and objects of one API test; see the module docstring."""

    users: dict[str, User | None]
    incidents: dict[str, Incident]
    cases: dict[str, SupportCase]
    evidence: dict[str, Evidence]
    actions: dict[str, SupportAction]
    notifications: dict[str, Notification] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def throttle_rates(settings, monkeypatch):
    """`throttle_rates(anon=..., user=...)`: other API rates for this test only.

    DRF copies the rates into the throttle class when it is imported, so the class attribute
    is patched along with the setting (both are restored after the test).
    """

    def set_rates(*, anon: str, user: str) -> None:
        rates = {"anon": anon, "user": user}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    return set_rates


def text_evidence(name: str = "verklaring.txt", text: str = "Verklaring van een getuige."):
    """A checked text file, ready for `evidence_add`."""
    return evidence_inspect(name=name, data=text.encode())


def _escalated(officeholder: User, support: User, *, acknowledged: bool) -> SupportCase:
    """An escalated incident of `officeholder` with its support case (new or acknowledged)."""
    incident = IncidentFactory(
        officeholder=officeholder, escalated=True, types=[IncidentType.PHYSICAL_VIOLENCE]
    )
    case = case_open(incident.escalations.get())
    if acknowledged:
        case = case_act(case, support, "acknowledge")
    return case


def world_build() -> World:
    """Create the world described in the module docstring (a few dozen queries)."""
    desk_utrecht, desk_zwolle = (
        DeskFactory(name="Meldpunt Utrecht"),
        DeskFactory(name="Meldpunt IJsselland"),
    )
    utrecht = OrganisationFactory(name="Gemeente Utrecht", desk=desk_utrecht)
    zwolle = OrganisationFactory(name="Gemeente Zwolle", desk=desk_zwolle)
    users: dict[str, User | None] = {
        "anonymous": None,
        "owner": UserFactory(
            username="wethouder.utrecht",
            organisation=utrecht,
            function=OfficeholderFunction.WETHOUDER,
        ),
        "other_officeholder": UserFactory(username="burgemeester.zwolle", organisation=zwolle),
        "registrar": UserFactory(username="meldpunt.utrecht", registrar=True, desk=desk_utrecht),
        "other_registrar": UserFactory(
            username="meldpunt.ijsselland", registrar=True, desk=desk_zwolle
        ),
        "support": UserFactory(username="ondersteuning", support=True),
        "admin": UserFactory(username="beheer", admin=True),
        "analyst": UserFactory(username="analist.bzk", analyst=True),
    }
    owner, support = users["owner"], users["support"]
    new_case = _escalated(owner, support, acknowledged=False)
    running_case = _escalated(owner, support, acknowledged=True)
    zwolle_case = _escalated(users["other_officeholder"], support, acknowledged=True)
    incidents = {
        "submitted": IncidentFactory(officeholder=owner),
        "sibling": IncidentFactory(officeholder=owner),
        "closed": IncidentFactory(officeholder=owner, closed=True),
        "escalated": new_case.incident,
        "in_progress": running_case.incident,
        "zwolle": IncidentFactory(officeholder=users["other_officeholder"]),
    }
    evidence = {
        "submitted": incident_services.evidence_add(
            incident=incidents["submitted"], actor=owner, files=[text_evidence()]
        )[0],
        "escalated": incident_services.evidence_add(
            incident=incidents["escalated"], actor=owner, files=[text_evidence()]
        )[0],
        "zwolle": incident_services.evidence_add(
            incident=incidents["zwolle"],
            actor=users["other_officeholder"],
            files=[text_evidence()],
        )[0],
    }
    actions = {
        name: case_act(
            case, support, "add_action", service_type=ServiceType.ADVICE, owner=support
        ).support_action
        for name, case in (("in_progress", running_case), ("zwolle", zwolle_case))
    }
    world = World(
        users=users,
        incidents=incidents,
        cases={
            # Adding the first action moved these two cases from acknowledged to in_progress.
            "new": new_case,
            "in_progress": SupportCase.objects.get(pk=running_case.pk),
            "zwolle": SupportCase.objects.get(pk=zwolle_case.pk),
        },
        evidence=evidence,
        actions=actions,
    )
    for role, user in users.items():
        if user is None:
            continue
        world.notifications[role] = Notification.objects.create(
            recipient=user,
            event_key=f"test:{role}",
            kind="status_changed",
            reference=incidents["submitted"].reference,
            link="/",
            created_at=incidents["submitted"].submitted_at,
        )
        world.tokens[role] = api_token_create(user=user, name="tests")[1]
    return world


@pytest.fixture
def world(db) -> World:
    return world_build()


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for a whole module, for tests that only read it or change it through
    requests: built once in a transaction that is rolled back after the module's last test.

    Each test (`shared_world`) runs in a savepoint inside it, so what a test changes is gone
    for the next one, exactly as with a world of its own. Its evidence files are written to a
    private root of its own and copied into each test's.
    """
    from django.conf import settings

    root = tmp_path_factory.mktemp("world-private")
    previous_root = settings.PRIVATE_STORAGE_ROOT
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            settings.PRIVATE_STORAGE_ROOT = root
            private_storage._wrapped = empty
            try:
                world = world_build()
            finally:
                settings.PRIVATE_STORAGE_ROOT = previous_root
                private_storage._wrapped = empty
            yield world, root
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def shared_world(module_world, db, private_storage_in_tmp) -> World:
    """The module's world (see `module_world`), with its evidence files in this test's root."""
    world, root = module_world
    shutil.copytree(root, private_storage_in_tmp, dirs_exist_ok=True)
    return world


def token_client(key: str | None, **kwargs) -> APIClient:
    """A client that authenticates like an integration does: `Authorization: Token <key>`."""
    client = APIClient(**kwargs)
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def client_for(world):
    """`client_for(role)`: an API client with that role's personal token (none: anonymous)."""
    return lambda role: token_client(world.tokens.get(role))
