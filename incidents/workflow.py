"""The incident status workflow: one explicit table (DESIGN.md, "Status workflows").

Every status change goes through `services.incident_transition`, which checks this table
and the actor's role. `SYSTEM` is the escalation rules engine (no person).
"""

from dataclasses import dataclass

from incidents.constants import Status
from portal.constants import Role

SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    roles: frozenset[str]
    # What the actor must give: "reason" (why), "outcome" (how it ended), or nothing.
    needs: str | None = None


TRANSITIONS: dict[tuple[Status, Status], Transition] = {
    (Status.SUBMITTED, Status.IN_TRIAGE): Transition(frozenset({Role.REGISTRAR})),
    (Status.SUBMITTED, Status.ESCALATED): Transition(frozenset({Role.REGISTRAR, SYSTEM}), "reason"),
    (Status.SUBMITTED, Status.CLOSED): Transition(frozenset({Role.REGISTRAR}), "outcome"),
    (Status.SUBMITTED, Status.WITHDRAWN): Transition(frozenset({Role.OFFICEHOLDER})),
    (Status.IN_TRIAGE, Status.ESCALATED): Transition(frozenset({Role.REGISTRAR, SYSTEM}), "reason"),
    (Status.IN_TRIAGE, Status.CLOSED): Transition(frozenset({Role.REGISTRAR}), "outcome"),
    (Status.ESCALATED, Status.IN_TRIAGE): Transition(frozenset({Role.SUPPORT}), "reason"),
    (Status.ESCALATED, Status.CLOSED): Transition(frozenset({Role.SUPPORT}), "outcome"),
    (Status.CLOSED, Status.IN_TRIAGE): Transition(frozenset({Role.REGISTRAR}), "reason"),
}


def transition_get(from_status: str, to_status: str) -> Transition | None:
    return TRANSITIONS.get((Status(from_status), Status(to_status)))


def allowed_targets(*, status: str, role: str) -> list[Status]:
    """The statuses this role may move an incident to from `status`, in table order."""
    return [to for (frm, to), t in TRANSITIONS.items() if frm == status and role in t.roles]
