"""The support case workflow: one explicit table. Only the support team takes these steps."""

from incidents.workflow import Transition
from portal.constants import Role
from support.constants import CaseStatus

SUPPORT = frozenset({Role.SUPPORT})

CASE_TRANSITIONS: dict[tuple[CaseStatus, CaseStatus], Transition] = {
    (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED): Transition(SUPPORT),
    (CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS): Transition(SUPPORT),
    (CaseStatus.NEW, CaseStatus.RETURNED): Transition(SUPPORT, "reason"),
    (CaseStatus.ACKNOWLEDGED, CaseStatus.RETURNED): Transition(SUPPORT, "reason"),
    (CaseStatus.IN_PROGRESS, CaseStatus.RETURNED): Transition(SUPPORT, "reason"),
    (CaseStatus.ACKNOWLEDGED, CaseStatus.CLOSED): Transition(SUPPORT, "outcome"),
    (CaseStatus.IN_PROGRESS, CaseStatus.CLOSED): Transition(SUPPORT, "outcome"),
}


def case_transition_get(from_status: str, to_status: str) -> Transition | None:
    return CASE_TRANSITIONS.get((CaseStatus(from_status), CaseStatus(to_status)))


def case_allowed_targets(*, status: str, role: str) -> list[CaseStatus]:
    return [to for (frm, to), t in CASE_TRANSITIONS.items() if frm == status and role in t.roles]
