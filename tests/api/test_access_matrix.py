"""Who may call which API endpoint on which object: one table, every endpoint, every role.

Each row is (method, URL name, role, target, expected status): the role calls the endpoint
with its personal token on a real object of the test world (see conftest) with a valid body,
and must get exactly that status. The roles:

- anonymous: no credentials at all (401, the token scheme's challenge).
- owner: the Utrecht officeholder who filed the incidents.
- other_officeholder: an officeholder of Zwolle (another organisation, another desk).
- registrar / other_registrar: of the Utrecht desk / of the Zwolle desk.
- support: a member of the Ondersteuningsteam; admin: the functional administrator.

Out of scope answers 404, exactly like a missing object; in scope but not for this role 403
(notes, adding information); a workflow action that the policy refuses, for this person's role
or for the current status (one answer, from the action table), 409. A separate test fails when
a router URL has no rows for every role, so a new endpoint cannot ship without its access rules
written down here.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from incidents.constants import (
    IncidentType,
    LinkKind,
    MessageAudience,
    OutcomeCategory,
    Status,
    TriageSeverity,
)
from incidents.models import Incident
from portal.api.urls import router
from support.constants import ActionStatus, CaseStatus, ServiceType
from support.models import SupportCase
from tests.api.conftest import ROLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(shared_world):
    """One world for this module, each test in a savepoint of its own: these tests change it
    only through requests (see `module_world` in tests/api/conftest.py)."""
    return shared_world


@dataclass(frozen=True)
class Row:
    method: str
    url_name: str
    role: str
    expected: int
    # Which object the URL names (a key of the world's incidents, cases, evidence, actions or
    # notifications); `variant` picks a body or URL that reaches across a boundary.
    target: str = ""
    variant: str = ""

    def __str__(self):
        target = f"[{self.target}+{self.variant}]" if self.variant else f"[{self.target}]"
        return f"{self.method} {self.url_name}{target} as {self.role} -> {self.expected}"


def every_role(method: str, url_name: str, target: str = "", **expected: int) -> list[Row]:
    """The rows of one endpoint on one target; all roles must be given, so none is forgotten."""
    assert set(expected) == set(ROLES), f"{method} {url_name}: roles {set(ROLES) ^ set(expected)}"
    return [Row(method, url_name, role, expected[role], target) for role in ROLES]


def scoped(method: str, url_name: str, target: str, owner: int, registrar: int, support: int):
    """An endpoint on one of the owner's incidents: anonymous 401; the other officeholder, the
    other desk and the admin 404 (out of scope); owner, registrar and support as given."""
    return every_role(
        method, url_name, target,
        anonymous=401, other_officeholder=404, other_registrar=404, admin=404, analyst=404,
        owner=owner, registrar=registrar, support=support,
    )  # fmt: skip


def team_only(method: str, url_name: str, target: str, support: int):
    """A support case endpoint: anonymous 401, support as given, every other role 404."""
    return every_role(method, url_name, target, **{role: 404 for role in ROLES} | {
        "anonymous": 401, "support": support
    })  # fmt: skip


TABLE: list[Row] = [
    # scoped(method, URL name, target, owner, registrar, support); team_only(..., support)
    # --- incidents: list and create ---------------------------------------------------------
    *every_role(
        "GET", "incident-list",
        anonymous=401, owner=200, other_officeholder=200, registrar=200, other_registrar=200,
        support=200, admin=200, analyst=200,
    ),
    # A registrar files for an officeholder of the desk (`officeholder`: the owner); another
    # desk's registrar names the same real officeholder and is refused as for an unknown one.
    *every_role(
        "POST", "incident-list",
        anonymous=401, owner=201, other_officeholder=201, registrar=201, other_registrar=400,
        support=403, admin=403, analyst=403,
    ),
    # --- one incident: read ---------------------------------------------------------------
    *scoped("GET", "incident-detail", "submitted", 200, 200, 404),
    *scoped("GET", "incident-detail", "escalated", 200, 200, 200),
    *scoped("GET", "incident-timeline", "submitted", 200, 200, 404),
    *scoped("GET", "incident-timeline", "escalated", 200, 200, 200),
    *scoped("GET", "incident-messages", "submitted", 200, 200, 404),
    *scoped("GET", "incident-messages", "escalated", 200, 200, 200),
    *scoped("GET", "incident-notes", "submitted", 403, 200, 404),
    *scoped("GET", "incident-notes", "escalated", 403, 200, 200),
    *scoped("GET", "incident-evidence", "submitted", 200, 200, 404),
    *scoped("GET", "incident-evidence", "escalated", 200, 200, 200),
    *scoped("GET", "incident-evidence-download", "submitted", 200, 200, 404),
    *scoped("GET", "incident-evidence-download", "escalated", 200, 200, 200),
    # --- one incident: add information ------------------------------------------------------
    *scoped("POST", "incident-messages", "submitted", 201, 201, 404),
    *scoped("POST", "incident-messages", "escalated", 201, 201, 201),
    *scoped("POST", "incident-notes", "submitted", 403, 201, 404),
    *scoped("POST", "incident-notes", "escalated", 403, 201, 201),
    *scoped("POST", "incident-follow-ups", "submitted", 201, 201, 404),
    *scoped("POST", "incident-follow-ups", "escalated", 201, 201, 403),
    # A closed incident is the desk's to add to, no longer the officeholder's.
    *scoped("POST", "incident-follow-ups", "closed", 403, 201, 404),
    *scoped("POST", "incident-evidence", "submitted", 201, 201, 404),
    *scoped("POST", "incident-evidence", "escalated", 201, 201, 403),
    *scoped("POST", "incident-evidence", "closed", 403, 201, 404),
    # --- one incident: the desk's work ------------------------------------------------------
    # The owner withdraws, the registrar takes it; on an escalated incident neither step is in
    # the workflow table, and support's steps go through the support case instead.
    *scoped("POST", "incident-action-take", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-take", "escalated", 409, 409, 409),
    *scoped("POST", "incident-action-assign", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-assign", "escalated", 409, 200, 409),
    *scoped("POST", "incident-action-triage", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-triage", "escalated", 409, 409, 409),
    *scoped("POST", "incident-action-escalate", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-escalate", "escalated", 409, 409, 409),
    *scoped("POST", "incident-action-close", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-close", "escalated", 409, 409, 409),
    *scoped("POST", "incident-action-mark_duplicate", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-mark_duplicate", "escalated", 409, 409, 409),
    *scoped("POST", "incident-action-reopen", "closed", 409, 200, 404),
    *scoped("POST", "incident-action-reopen", "submitted", 409, 409, 404),
    *scoped("POST", "incident-action-withdraw", "submitted", 200, 409, 404),
    *scoped("POST", "incident-action-withdraw", "escalated", 409, 409, 409),
    *scoped("POST", "incident-action-link", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-link", "escalated", 409, 200, 409),
    # Follow-up: a callback is the desk's own (staff only), on open incidents.
    *scoped("POST", "incident-action-set_callback", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-set_callback", "escalated", 409, 200, 409),
    *scoped("POST", "incident-action-clear_callback", "submitted", 409, 200, 404),
    *scoped("POST", "incident-action-clear_callback", "closed", 409, 409, 404),
    # Protection: the officeholder (a wethouder) asks for a security advice on an open incident.
    *scoped("POST", "incident-action-request_security_advice", "submitted", 200, 409, 404),
    *scoped("POST", "incident-action-request_security_advice", "closed", 409, 409, 404),
    # The deprecated endpoints of the same actions answer the same.
    *scoped("POST", "incident-transitions", "submitted", 200, 200, 404),
    *scoped("POST", "incident-transitions", "escalated", 409, 409, 409),
    *scoped("POST", "incident-triage", "submitted", 409, 200, 404),
    *scoped("POST", "incident-triage", "escalated", 409, 409, 409),
    *scoped("POST", "incident-assign", "submitted", 409, 200, 404),
    *scoped("POST", "incident-assign", "escalated", 409, 200, 409),
    *scoped("POST", "incident-escalate", "submitted", 409, 200, 404),
    *scoped("POST", "incident-escalate", "escalated", 409, 409, 409),
    *scoped("POST", "incident-links", "submitted", 409, 200, 404),
    *scoped("POST", "incident-links", "escalated", 409, 200, 409),
    *scoped("POST", "incident-duplicate", "submitted", 409, 200, 404),
    *scoped("POST", "incident-duplicate", "escalated", 409, 409, 409),
    # --- support cases: the Ondersteuningsteam only -----------------------------------------
    *every_role(
        "GET", "support-case-list",
        anonymous=401, owner=200, other_officeholder=200, registrar=200, other_registrar=200,
        support=200, admin=200, analyst=200,
    ),
    *team_only("GET", "support-case-detail", "new", 200),
    *team_only("POST", "support-case-action-acknowledge", "new", 200),
    *team_only("POST", "support-case-action-acknowledge", "in_progress", 409),
    # A case is started once acknowledged (the new one is not yet).
    *team_only("POST", "support-case-action-start", "new", 409),
    *team_only("POST", "support-case-action-assign_handler", "new", 200),
    *team_only("POST", "support-case-action-add_action", "in_progress", 201),
    *team_only("POST", "support-case-action-add_action", "new", 409),
    *team_only("POST", "support-case-action-return_to_desk", "new", 200),
    *team_only("POST", "support-case-action-close_case", "in_progress", 200),
    *team_only("POST", "support-case-action-close_case", "new", 409),
    # The deprecated endpoints.
    *team_only("POST", "support-case-transitions", "new", 200),
    # in_progress -> acknowledged is not in the case table.
    *team_only("POST", "support-case-transitions", "in_progress", 409),
    *team_only("POST", "support-case-assign", "new", 200),
    *team_only("GET", "support-case-actions", "in_progress", 200),
    *team_only("POST", "support-case-actions", "in_progress", 201),
    # A case is acknowledged before the team plans actions.
    *team_only("POST", "support-case-actions", "new", 409),
    *team_only("POST", "support-case-update-action", "in_progress", 200),
    # --- notifications: each person's own --------------------------------------------------
    *every_role(
        "GET", "notification-list",
        anonymous=401, owner=200, other_officeholder=200, registrar=200, other_registrar=200,
        support=200, admin=200, analyst=200,
    ),
    # Everybody reads their own notification; the owner's is nobody else's business.
    *every_role(
        "POST", "notification-read", "own",
        anonymous=401, owner=200, other_officeholder=200, registrar=200, other_registrar=200,
        support=200, admin=200, analyst=200,
    ),
    *every_role(
        "POST", "notification-read", "owner",
        anonymous=401, owner=200, other_officeholder=404, registrar=404, other_registrar=404,
        support=404, admin=404, analyst=404,
    ),
    # --- across desks and officeholders, with real ids and references -----------------------
    # Link to, or mark as a duplicate of, a real incident of another desk: as if it did not exist.
    Row("POST", "incident-links", "registrar", 404, "submitted", "other=zwolle"),
    Row("POST", "incident-duplicate", "registrar", 404, "submitted", "original=zwolle"),
    Row("POST", "incident-action-link", "registrar", 404, "submitted", "other=zwolle"),
    Row("POST", "incident-action-mark_duplicate", "registrar", 404, "submitted", "original=zwolle"),
    # Make a registrar of another desk the handler: refused like any wrong colleague.
    Row("POST", "incident-assign", "registrar", 400, "submitted", "assignee=other_registrar"),
    Row(
        "POST", "incident-action-assign", "registrar", 400, "submitted", "assignee=other_registrar"
    ),
    # A team member's case given to someone outside the team.
    Row("POST", "support-case-action-assign_handler", "support", 400, "new", "handler=registrar"),
    # File for a real officeholder of another desk.
    Row("POST", "incident-list", "registrar", 400, "", "officeholder=other_officeholder"),
    # Another incident's file under one's own reference, and one's own file under another's.
    Row("GET", "incident-evidence-download", "owner", 404, "submitted", "file=zwolle"),
    Row("GET", "incident-evidence-download", "other_officeholder", 404, "zwolle", "file=submitted"),
    Row("GET", "incident-evidence-download", "registrar", 404, "submitted", "file=zwolle"),
    # An action of another case (of another desk's incident) under this case's reference.
    Row("POST", "support-case-update-action", "support", 404, "in_progress", "action=zwolle"),
    # The officeholder writing in the desk-support staff channel.
    Row("POST", "incident-messages", "owner", 403, "submitted", "audience=staff"),
]  # fmt: skip


def _reference(world, row: Row) -> str:
    if row.url_name.startswith("support-case"):
        return world.cases[row.target].incident.reference
    return world.incidents[row.target].reference


def _url(world, row: Row) -> str:
    name = f"api:{row.url_name}"
    if row.url_name.endswith("-list"):
        return reverse(name)
    if row.url_name == "notification-read":
        whose = row.role if row.target == "own" else row.target
        notification = world.notifications.get(whose, world.notifications["owner"])
        return reverse(name, kwargs={"pk": notification.pk})
    kwargs = {"reference": _reference(world, row)}
    if row.url_name == "incident-evidence-download":
        file_of = row.variant.removeprefix("file=") if row.variant else row.target
        kwargs["pk"] = world.evidence[file_of].pk
    if row.url_name == "support-case-update-action":
        action_of = row.variant.removeprefix("action=") if row.variant else row.target
        kwargs["action_id"] = world.actions[action_of].pk
    return reverse(name, kwargs=kwargs)


def _version(world, row: Row) -> int:
    if row.url_name.startswith("support-case"):
        return SupportCase.objects.get(pk=world.cases[row.target].pk).version
    return Incident.objects.get(pk=world.incidents[row.target].pk).version


def _body(world, row: Row) -> dict:
    """A valid body for this endpoint and role; the row's variant reaches across a boundary."""
    users, incidents = world.users, world.incidents
    variant = dict([row.variant.split("=")]) if row.variant else {}
    name = row.url_name
    # The actions endpoints take the same bodies as the deprecated endpoint of each action.
    name = {
        "incident-action-assign": "incident-assign",
        "incident-action-triage": "incident-triage",
        "incident-action-escalate": "incident-escalate",
        "incident-action-link": "incident-links",
        "incident-action-mark_duplicate": "incident-duplicate",
        "support-case-action-assign_handler": "support-case-assign",
        "support-case-action-add_action": "support-case-actions",
    }.get(name, name)
    if name.startswith(("incident-action-", "support-case-action-")):
        # take, close, reopen, withdraw; acknowledge, start, return_to_desk, close_case.
        return {
            "version": _version(world, row),
            "callback_at": (timezone.now() + timedelta(hours=3)).isoformat(),
            "reason": "Past beter bij het meldpunt.",
            "outcome": "Klaar.",
            **(
                {"outcome_category": OutcomeCategory.SUPPORT_GIVEN, "open_actions_confirmed": True}
                if name.startswith("support-case-action-")
                else {"outcome_category": OutcomeCategory.REGISTERED}
            ),
        }
    if name == "incident-list":
        body = {
            "quick": True,
            "types": [IncidentType.VERBAL_AGGRESSION],
            "occurred_on": incidents["submitted"].occurred_on.isoformat(),
            "summary": "Uitgescholden op de markt.",
        }
        if row.role in ("registrar", "other_registrar"):
            body["officeholder"] = users[variant.get("officeholder", "owner")].pk
        return body
    if name == "incident-transitions":
        to_status = {
            "owner": Status.WITHDRAWN,
            "other_officeholder": Status.WITHDRAWN,
            "support": Status.CLOSED,
        }.get(row.role, Status.IN_TRIAGE)
        return {
            "version": _version(world, row),
            "to_status": to_status,
            "outcome": "Klaar.",
            **(
                {"outcome_category": OutcomeCategory.SUPPORT_GIVEN, "open_actions_confirmed": True}
                if name.startswith("support-case-action-")
                else {"outcome_category": OutcomeCategory.REGISTERED}
            ),
        }
    if name == "incident-triage":
        return {
            "version": _version(world, row),
            "triage_severity": TriageSeverity.MEDIUM,
            "types": [IncidentType.THREAT],
        }
    if name == "incident-assign":
        assignee = users[variant.get("assignee", "registrar")]
        return {"version": _version(world, row), "assignee": assignee.pk}
    if name == "incident-escalate":
        return {"version": _version(world, row), "reason": "Dreiging neemt toe."}
    if name == "incident-links":
        other = incidents[variant.get("other", "sibling")]
        return {
            "version": _version(world, row),
            "other_reference": other.reference,
            "kind": LinkKind.SERIES,
        }
    if name == "incident-duplicate":
        original = incidents[variant.get("original", "sibling")]
        return {"version": _version(world, row), "original_reference": original.reference}
    if name == "incident-follow-ups":
        return {"text": "Hij stond er vanochtend weer."}
    if name in ("incident-messages", "incident-notes"):
        audience = variant.get("audience", MessageAudience.OFFICEHOLDER_THREAD)
        return {"body": "Graag even bellen.", "audience": audience}
    if name == "incident-evidence":
        return {"file": SimpleUploadedFile("verklaring.txt", b"Verklaring van een getuige.")}
    if name == "support-case-transitions":
        return {"version": _version(world, row), "to_status": CaseStatus.ACKNOWLEDGED}
    if name == "support-case-assign":
        handler = users[variant.get("handler", "support")]
        return {"version": _version(world, row), "handler": handler.pk}
    if name == "support-case-actions":
        return {
            "version": _version(world, row),
            "service_type": ServiceType.LEGAL_HELP,
            "owner": users["support"].pk,
        }
    if name == "support-case-update-action":
        return {
            "version": _version(world, row),
            "status": ActionStatus.DONE,
            "shared_with_desk": True,
        }
    return {}


@pytest.mark.parametrize("row", TABLE, ids=str)
def test_access_matrix(row, world, client_for):
    """The role gets exactly the expected status; every refusal has the one error shape."""
    client = client_for(row.role)
    url = _url(world, row)
    if row.method == "GET":
        response = client.get(url)
    elif row.url_name == "incident-evidence":
        response = client.post(url, _body(world, row), format="multipart")
    else:
        response = client.post(url, _body(world, row), format="json")
    body = "<file>" if response.streaming else response.content[:500].decode(errors="replace")
    assert response.status_code == row.expected, f"{row}: got {response.status_code} {body}"
    if row.expected >= 400:
        assert response.json()["error"]["status"] == row.expected


def _router_endpoints() -> set[tuple[str, str]]:
    """(METHOD, url name) of every operation the API router serves (HEAD is GET's twin)."""
    endpoints = set()
    for pattern in router.urls:
        for method in getattr(pattern.callback, "actions", {}):
            if method != "head":
                endpoints.add((method.upper(), pattern.name))
    return endpoints


def test_every_router_endpoint_has_a_row_for_every_role():
    """A router URL without a row for each role fails here: write its access rules first."""
    endpoints = _router_endpoints()
    assert len(endpoints) >= 27
    covered = {(row.method, row.url_name, row.role) for row in TABLE}
    missing = sorted(
        f"{method} {name} as {role}"
        for method, name in endpoints
        for role in ROLES
        if (method, name, role) not in covered
    )
    assert not missing, "No access rows for:\n" + "\n".join(missing)
    unknown = {(row.method, row.url_name) for row in TABLE} - endpoints
    assert not unknown, f"Rows for endpoints the router does not serve: {unknown}"
