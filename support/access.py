"""Who may see and do what in the Ondersteuningsteam's domain. The one place in `support`
that checks roles.

Scoping (DESIGN.md): the support team sees every support case (each belongs to an incident
that was escalated) and nothing else; other roles see no case at all. The desk sees only the
support actions of its own incidents that the team marked "shared with the desk"; the
officeholder sees none. Anything out of scope answers 404, exactly like something missing.
"""

from django.db.models import QuerySet
from django.http import Http404

from incidents.access import incidents_visible_to
from incidents.models import Incident
from portal.access import user_has_role
from portal.constants import Role
from support import workflow
from support.constants import CaseStatus
from support.models import SupportAction, SupportCase

# Cases in which the team still plans and updates actions.
PLANNING_STATUSES = frozenset({CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS})


def cases_visible_to(user) -> QuerySet[SupportCase]:
    """Every support case for the support team; none for anybody else."""
    if user_has_role(user, Role.SUPPORT):
        return SupportCase.objects.all()
    return SupportCase.objects.none()


def case_get_for(user, reference: str, *, queryset: QuerySet[SupportCase] | None = None):
    """Fetch and check in one call: the newest case of the incident with this reference.

    404 when the user may not see support cases, when the incident is out of the user's
    incident scope, or when it was never escalated (or its case is not opened yet).
    """
    scoped = cases_visible_to(user)
    if queryset is not None:
        scoped = queryset & scoped
    case = (
        scoped.filter(
            incident__reference=reference,
            incident__in=incidents_visible_to(user).values("pk"),
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if case is None:
        raise Http404
    return case


def actions_visible_to(user, incident: Incident) -> QuerySet[SupportAction]:
    """The support actions of `incident` that this user may see.

    Support: every action of every case of the incident. A registrar of the incident's desk:
    only the actions shared with the desk. Everybody else (the officeholder included): none.
    """
    actions = SupportAction.objects.filter(case__incident=incident)
    if user_has_role(user, Role.SUPPORT):
        return actions
    if user_has_role(user, Role.REGISTRAR) and user.desk_id == incident.desk_id:
        return actions.filter(shared_with_desk=True)
    return actions.none()


def case_steps_for(user, case: SupportCase) -> list[CaseStatus]:
    """The case statuses this user may move the case to right now (the case table)."""
    if not user_has_role(user, Role.SUPPORT):
        return []
    return workflow.case_allowed_targets(status=case.status, role=user.role)


def may_plan(user, case: SupportCase) -> bool:
    """Add or update support actions: the team, while the case is acknowledged or running."""
    return user_has_role(user, Role.SUPPORT) and case.status in PLANNING_STATUSES


def may_assign(user, case: SupportCase) -> bool:
    """Choose the case handler: the team, while the case is not returned or closed."""
    return user_has_role(user, Role.SUPPORT) and case.status not in (
        CaseStatus.RETURNED,
        CaseStatus.CLOSED,
    )
