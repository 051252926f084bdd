"""The support case workflow: one table of actions. Only the Ondersteuningsteam takes them.

Like `incidents.actions`: each row names the statuses it starts from, the status it leads to,
who may take it, what it needs and the event that records it. `support.services.
support_case_act` runs any row; `case_policy.actions_for(user, case)` is what the case page and
the API offer. Returning and closing a case also move the incident (its internal actions
`return_to_desk` and `close_escalated`).
"""

from django.utils.translation import gettext_lazy as _

from incidents.constants import EventKind
from portal.actions import Action, action_table, table_action, table_status_steps
from portal.constants import Role
from portal.policies import ANY
from support.constants import CaseStatus

# Cases in which the team still plans and updates actions.
PLANNING = frozenset({CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS})
# Cases the team still works on.
OPEN = frozenset({CaseStatus.NEW}) | PLANNING

TEAM = {Role.SUPPORT: ANY}


CASE_ACTIONS: dict[str, Action] = action_table(
    Action(
        "acknowledge",
        _("Bevestigen"),
        frozenset({CaseStatus.NEW}),
        CaseStatus.ACKNOWLEDGED,
        TEAM,
        EventKind.SUPPORT_ACKNOWLEDGED,
        effect=_("wie bevestigt, wordt casemanager als er nog geen is"),
    ),
    Action(
        "start",
        _("In behandeling nemen"),
        frozenset({CaseStatus.ACKNOWLEDGED}),
        CaseStatus.IN_PROGRESS,
        TEAM,
        EventKind.SUPPORT_CASE_CHANGED,
    ),
    Action(
        "assign_handler",
        _("Casemanager kiezen"),
        OPEN,
        None,
        TEAM,
        EventKind.SUPPORT_CASE_CHANGED,
        needs=("handler",),
    ),
    Action(
        "release_handler",
        _("Terug naar de inbox van het team"),
        OPEN,
        None,
        {},
        EventKind.SUPPORT_CASE_CHANGED,
        system=True,
        internal=True,
        effect=_(
            "alleen door het portaal, als de casemanager geen account meer heeft; "
            "het team krijgt bericht"
        ),
    ),
    Action(
        "add_action",
        _("Actie plannen"),
        PLANNING,
        CaseStatus.IN_PROGRESS,
        TEAM,
        EventKind.SUPPORT_ACTION,
        needs=("service_type", "owner"),
        takes=("description", "due_on", "shared_with_desk"),
    ),
    Action(
        "plan_security_advice",
        _("Beveiligingsadvies in het plan zetten"),
        OPEN,
        None,
        {},
        EventKind.SUPPORT_ACTION,
        needs=("request_event",),
        system=True,
        internal=True,
        effect=_(
            "alleen door het portaal, als de ambtsdrager beveiligingsadvies aanvraagt: één "
            "actie per aanvraag, zichtbaar voor het meldpunt; eigenaar is de casemanager (of "
            "nog niemand)"
        ),
    ),
    Action(
        "update_action",
        _("Actie bijwerken"),
        PLANNING,
        None,
        TEAM,
        EventKind.SUPPORT_ACTION,
        needs=("support_action",),
        takes=("status", "step", "owner", "due_on", "shared_with_desk"),
        effect=_(
            "alleen wat wordt meegestuurd, verandert; de stap alleen bij beveiligingsadvies "
            "(de ambtsdrager ziet die)"
        ),
    ),
    Action(
        "return_to_desk",
        _("Teruggeven aan het meldpunt"),
        OPEN,
        CaseStatus.RETURNED,
        TEAM,
        EventKind.SUPPORT_CASE_CHANGED,
        needs=("reason",),
        follows="return_to_desk",
        effect=_("de melding gaat terug naar het meldpunt (in behandeling)"),
    ),
    Action(
        "close_case",
        _("Dossier afsluiten"),
        PLANNING,
        CaseStatus.CLOSED,
        TEAM,
        EventKind.SUPPORT_CASE_CHANGED,
        needs=("outcome", "outcome_category"),
        takes=("open_actions_confirmed",),
        follows="close_escalated",
        effect=_(
            "de melding wordt ook afgesloten; open acties vervallen, na een bevestiging; "
            "het meldpunt krijgt bericht"
        ),
    ),
)


def case_action_get(name: str) -> Action:
    return table_action(CASE_ACTIONS, name)


def case_status_steps() -> set[tuple[str, str]]:
    """Every (from, to) status step of the case table."""
    return table_status_steps(CASE_ACTIONS)
