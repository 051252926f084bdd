"""The policy matrix, generated from the policies and run against the pages and the API.

For every workflow action of both tables (incident and support case), every role and both an
object of the person's own scope and one of someone else's, the policy says allowed or not; the
web page that offers the action and its API endpoint must then do exactly that:

- allowed: the change happens (web: a redirect back to the page; API: 200);
- refused: nothing changes, and the answer never says more than the policy allows (404 when
  the person may not even see the object; otherwise a refusal: 404 for a page of another
  workspace, the page again with the message, or 409 in the API).

Every action must have a page address and an API endpoint: a new action without both fails
`test_every_action_has_a_page_and_an_endpoint`.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from incidents.actions import ACTIONS
from incidents.constants import LinkKind, TriageSeverity
from incidents.models import Incident
from incidents.policies import incident_policy
from portal.constants import OfficeholderFunction
from portal.services import api_token_create
from support.actions import CASE_ACTIONS
from support.constants import ServiceType
from support.models import SupportCase
from support.policies import case_policy
from tests.api.conftest import token_client
from tests.conftest import verified_login
from tests.factories import (
    DeskFactory,
    IncidentFactory,
    OrganisationFactory,
    UserFactory,
    case_act,
    case_open,
)

pytestmark = pytest.mark.django_db

ROLES = ("owner", "other_officeholder", "registrar", "other_registrar", "support", "admin")
# The officeholder's own pages for withdrawing and for asking a security advice are not in
# the desk's URLs (no `action` kwarg).
EXTRA_WEB_URLS = {
    "withdraw": "incidents:withdraw",
    "request_security_advice": "incidents:security_advice",
}


def _web_urls() -> dict[tuple[str, str], str]:
    """(namespace, action) -> URL name, for every URL whose view gets an `action` argument."""
    found = {}

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and "action" in pattern.default_args:
                found[(namespace, pattern.default_args["action"])] = f"{namespace}:{pattern.name}"

    walk(get_resolver().url_patterns)
    return found


WEB = _web_urls()
INCIDENT_ACTIONS = [name for name, action in ACTIONS.items() if not action.internal]


def test_every_action_has_a_page_and_an_endpoint():
    """Each incident action is on the desk's page (or the officeholder's), each case action on
    the team's case page (updating an action has its own address per action), and each has
    its API endpoint."""
    for name in INCIDENT_ACTIONS:
        assert ("desk", name) in WEB or name in EXTRA_WEB_URLS, name
        assert reverse(f"api:incident-action-{name}", args=["X"])
    for name, action in CASE_ACTIONS.items():
        if action.internal:  # the portal's own (a casemanager who left): no page, no endpoint
            continue
        if name == "update_action":
            assert reverse("support:action_update", args=["X", 1])
            assert reverse("api:support-case-update-action", args=["X", 1])
            continue
        assert ("support", name) in WEB, name
        assert reverse(f"api:support-case-action-{name}", args=["X"])


@pytest.fixture
def people():
    desk, other_desk = DeskFactory(), DeskFactory()
    organisation, other_organisation = (
        OrganisationFactory(desk=desk),
        OrganisationFactory(desk=other_desk),
    )
    return {
        # A wethouder: a function that may ask for a security advice.
        "owner": UserFactory(organisation=organisation, function=OfficeholderFunction.WETHOUDER),
        "other_officeholder": UserFactory(organisation=other_organisation),
        "registrar": UserFactory(registrar=True, desk=desk),
        "other_registrar": UserFactory(registrar=True, desk=other_desk),
        "support": UserFactory(support=True),
        "admin": UserFactory(admin=True),
    }


def _incident_for(action: str, officeholder, people) -> Incident:
    """An incident of `officeholder` in the first status the action starts from."""
    status = sorted(ACTIONS[action].from_statuses)[0]
    trait = {"in_triage": {"in_triage": True}, "closed": {"closed": True}}
    return IncidentFactory(officeholder=officeholder, **trait.get(status, {"status": status}))


def _inputs(action: str, incident, person, *, api: bool) -> dict:
    """What the page's form (or the API request) sends for the action, with the version."""
    sibling = IncidentFactory(officeholder=incident.officeholder)
    reference = "original_reference" if action == "mark_duplicate" else "other_reference"
    values = {
        "take": {},
        "assign": {"assignee": person.pk},
        "triage": {"triage_severity": TriageSeverity.LOW, "types": incident.types},
        "escalate": {"reason": "Ernstig"},
        "close": {"outcome_category": "registered", "outcome": "Registratie"},
        "mark_duplicate": {"reference": sibling.reference},
        "reopen": {"reason": "Nieuw feit"},
        "withdraw": {"reason": ""},
        "link": {"reference": sibling.reference, "kind": LinkKind.SERIES},
        "clear_callback": {},
        "set_callback": _callback_inputs(api=api),
        "request_security_advice": {},
    }[action]
    data = {"version": incident.version, **values}
    if api:
        return {(reference if key == "reference" else key): v for key, v in data.items()}
    prefix = PREFIX.get(action, action)
    return {f"{prefix}-{key}" if prefix else key: value for key, value in data.items()}


def _callback_inputs(*, api: bool) -> dict:
    """Tomorrow at 14:00: the page sends a day and a time, the API one moment."""
    moment = timezone.localtime().replace(hour=14, minute=0, second=0, microsecond=0)
    moment += timedelta(days=1)
    if api:
        return {"callback_at": moment.isoformat(), "callback_note": "Politie?"}
    return {
        "callback_day": moment.date().isoformat(),
        "callback_time": "14:00",
        "callback_note": "Politie?",
    }


PREFIX = {"mark_duplicate": "duplicate", "withdraw": "", "request_security_advice": ""}
MATRIX = [(a, r, s) for a in INCIDENT_ACTIONS for r in ROLES for s in ("own", "other")]


def _changed(incident) -> bool:
    return Incident.objects.get(pk=incident.pk).version != incident.version


@pytest.mark.parametrize(("action", "role", "scope"), MATRIX, ids=["-".join(m) for m in MATRIX])
def test_incident_action_on_the_page_and_in_the_api(people, action, role, scope):
    """The page and the API do what the incident policy says, for this person and object."""
    person = people[role]
    # "own": the officeholder of the person's own side of the world; "other": the other side.
    own_side = role not in ("other_officeholder", "other_registrar")
    officeholder = people["owner" if (scope == "own") == own_side else "other_officeholder"]

    # The page.
    incident = _incident_for(action, officeholder, people)
    allowed = incident_policy.allows(person, action, incident)
    visible = incident_policy.allows(person, "view", incident)
    client = verified_login(Client(), person)
    url_name = WEB.get(("desk", action)) or EXTRA_WEB_URLS[action]
    response = client.post(
        reverse(url_name, args=[incident.reference]),
        _inputs(action, incident, person, api=False),
    )
    if allowed:
        assert response.status_code == 302, response.content.decode()[:500]
        assert _changed(incident)
    else:
        assert not _changed(incident)
        if not visible:
            assert response.status_code == 404
        else:
            assert response.status_code in (200, 302, 404)

    # The API, on a fresh incident in the same situation.
    incident = _incident_for(action, officeholder, people)
    key = api_token_create(user=person, name="matrix")[1]
    answer = token_client(key).post(
        reverse(f"api:incident-action-{action}", args=[incident.reference]),
        _inputs(action, incident, person, api=True),
        format="json",
    )
    if allowed:
        assert answer.status_code == 200, answer.content
        assert _changed(incident)
    else:
        assert not _changed(incident)
        assert answer.status_code == (409 if visible else 404), answer.content


CASE_MATRIX_ACTIONS = [
    name for name, action in CASE_ACTIONS.items() if name != "update_action" and not action.internal
]


def _case_for(action: str, people) -> SupportCase:
    """A case in the first status the case action starts from."""
    status = sorted(CASE_ACTIONS[action].from_statuses)[0]
    incident = IncidentFactory(officeholder=people["owner"], escalated=True)
    case = case_open(incident.escalations.get())
    if status in ("acknowledged", "in_progress"):
        case = case_act(case, people["support"], "acknowledge")
    if status == "in_progress":
        case = case_act(case, people["support"], "start")
    return SupportCase.objects.get(pk=case.pk)


def _case_inputs(action: str, people, *, prefix: str | None) -> dict:
    support = people["support"]
    values = {
        "acknowledge": {},
        "start": {},
        "assign_handler": {"handler": support.pk},
        "add_action": {"service_type": ServiceType.ADVICE, "owner": support.pk},
        "return_to_desk": {"reason": "Past bij het meldpunt"},
        "close_case": {
            "outcome": "Hulp geregeld",
            "outcome_category": "support_given",
            "open_actions_confirmed": True,
        },
    }[action]
    if prefix is None:
        return values
    return {f"{prefix}-{key}": value for key, value in values.items()}


CASE_PREFIX = {
    "acknowledge": "acknowledge",
    "start": "start",
    "assign_handler": "assign",
    "add_action": "action",
    "return_to_desk": "return",
    "close_case": "close",
}


@pytest.mark.parametrize(("action", "role"), [(a, r) for a in CASE_MATRIX_ACTIONS for r in ROLES])
def test_case_action_on_the_page_and_in_the_api(people, action, role):
    """The case page and the API do what the case policy says (only the team sees cases)."""
    person = people[role]
    for edge in ("web", "api"):
        case = _case_for(action, people)
        allowed = case_policy.allows(person, action, case)
        visible = case_policy.allows(person, "view", case)
        version = {"version": case.version}
        if edge == "web":
            prefix = CASE_PREFIX[action]
            data = {
                f"{prefix}-version": case.version,
                **_case_inputs(action, people, prefix=prefix),
            }
            response = verified_login(Client(), person).post(
                reverse(WEB[("support", action)], args=[case.incident.reference]), data
            )
            expected_refusal = 404
        else:
            key = api_token_create(user=person, name="matrix")[1]
            response = token_client(key).post(
                reverse(f"api:support-case-action-{action}", args=[case.incident.reference]),
                {**version, **_case_inputs(action, people, prefix=None)},
                format="json",
            )
            expected_refusal = 409 if visible else 404
        changed = SupportCase.objects.get(pk=case.pk).version != case.version
        if allowed:
            assert response.status_code in (200, 201, 302), (edge, response.content[:300])
            assert changed
        else:
            assert not changed
            assert response.status_code == expected_refusal, (edge, response.status_code)


def test_the_matrix_has_both_answers_for_every_action(people):
    """Each action is allowed to someone and refused to someone (so the matrix tests both)."""
    for name in INCIDENT_ACTIONS:
        incident = _incident_for(name, people["owner"], people)
        answers = {incident_policy.allows(people[r], name, incident) for r in ROLES}
        assert answers == {True, False}, name
    for name in CASE_MATRIX_ACTIONS:
        case = _case_for(name, people)
        answers = {case_policy.allows(people[r], name, case) for r in ROLES}
        assert answers == {True, False}, name
