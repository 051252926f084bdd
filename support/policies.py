"""Who may see and do what in the Ondersteuningsteam's domain: the one place in `support` that
looks at roles.

The team sees every support case (each belongs to an incident that was escalated) and nothing
else of support; other roles see no case at all. The desk sees only the support actions of its
own incidents that the team marked "shared with the desk"; the officeholder only the action
that answers their own request for a security advice. The
case workflow's actions (`support.actions`) become rules of the case policy, each limited to
the statuses it starts from. Anything out of scope answers 404.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.actions import OF_DESK
from portal.actions import Action
from portal.constants import Role
from portal.policies import ANY, Condition, Policy, action_rules
from support.actions import CASE_ACTIONS
from support.constants import CaseStatus


class CasePolicy(Policy):
    rules = {
        "view": {Role.SUPPORT: ANY},
        **{name: action_rules(action, CaseStatus.choices) for name, action in CASE_ACTIONS.items()},
    }
    action_labels = {
        "view": _("bekijken"),
        **{name: action.label for name, action in CASE_ACTIONS.items()},
    }

    def base_queryset(self):
        from support.models import SupportCase

        return SupportCase.objects.all()

    def actions_for(self, user, case) -> list[Action]:
        """The case actions this person may take now, in table order."""
        return [action for name, action in CASE_ACTIONS.items() if self.allows(user, name, case)]


def _incident_of_desk_q(user) -> Q:
    return Q(case__incident__desk_id=user.desk_id)


SHARED_WITH_OWN_DESK = Condition(
    q=lambda user: Q(shared_with_desk=True) & _incident_of_desk_q(user),
    test=lambda user, action: action.shared_with_desk and OF_DESK.test(user, action.case.incident),
    labels=(_("gedeeld met het eigen meldpunt"),),
)


def _requested_by_self_q(user) -> Q:
    from incidents.policies import incident_policy

    return Q(
        request_event__isnull=False,
        case__incident__in=incident_policy.queryset(user, "view").values("pk"),
    )


def _requested_by_self(user, action) -> bool:
    from incidents.policies import incident_policy

    return action.request_event_id is not None and incident_policy.allows(
        user, "view", action.case.incident
    )


# The action that answers the officeholder's own request (a security advice): they follow it.
REQUESTED_BY_SELF = Condition(
    q=_requested_by_self_q,
    test=_requested_by_self,
    labels=(_("antwoord op de eigen aanvraag (beveiligingsadvies), bij een eigen melding"),),
)


class SupportActionPolicy(Policy):
    """The team sees every action; the desk the ones shared with it; the officeholder only the
    action that answers their own request (its kind and step, never the description)."""

    rules = {
        "view": {
            Role.SUPPORT: ANY,
            Role.REGISTRAR: SHARED_WITH_OWN_DESK,
            Role.OFFICEHOLDER: REQUESTED_BY_SELF,
        }
    }
    action_labels = {"view": _("bekijken")}

    def base_queryset(self):
        from support.models import SupportAction

        return SupportAction.objects.all()


case_policy = CasePolicy()
support_action_policy = SupportActionPolicy()
