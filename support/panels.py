"""What the Ondersteuningsteam's domain shows on incidents' pages (portal.panels)."""

from portal.panels import panel_register
from support.constants import SECURITY_ADVICE_STEP_EXPLANATIONS
from support.policies import support_action_policy


def desk_shared_actions(*, incident, user):
    """For the desk: the support actions the team shared, once the incident was escalated."""
    if not incident.escalations.exists():
        return None
    actions = (
        support_action_policy.queryset(user)
        .filter(case__incident=incident)
        .select_related("owner")
        .order_by("due_on", "pk")
    )
    return {"actions": list(actions)}


def officeholder_support_notice(*, incident, user):
    """For the officeholder: that the team has (or had) the case, and who their contact is."""
    case = incident.support_cases.select_related("handler").order_by("-created_at", "-pk").first()
    return {"case": case} if case is not None else None


def officeholder_security_advice(*, incident, user):
    """For the officeholder: where their requested security advice stands (its step)."""
    actions = list(
        support_action_policy.queryset(user)
        .filter(case__incident=incident, request_event__isnull=False)
        .order_by("pk")
    )
    if not actions:
        return None
    return {
        "advices": [
            {
                "action": action,
                "step": action.get_step_display() if action.step else "",
                "explanation": SECURITY_ADVICE_STEP_EXPLANATIONS.get(action.step, ""),
            }
            for action in actions
        ]
    }


def register() -> None:
    panel_register(
        slot="desk_incident",
        template="support/partials/desk_shared_actions.html",
        context=desk_shared_actions,
    )
    panel_register(
        slot="officeholder_incident",
        template="support/partials/officeholder_support_notice.html",
        context=officeholder_support_notice,
    )
    panel_register(
        slot="officeholder_incident",
        template="support/partials/officeholder_security_advice.html",
        context=officeholder_security_advice,
    )
