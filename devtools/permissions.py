"""docs/permissions.md: who may see and do what, written out from the policies themselves.

`manage.py permissions_doc` writes the file; `tests/portal/test_permissions_doc.py` fails when
the committed file differs from what the policies say now, so the administrator and the data
protection officer always read the rules the portal really applies.
"""

from django.utils import translation

from incidents.actions import ACTIONS, OPEN, WITH_DESK
from incidents.constants import Status
from incidents.policies import (
    event_policy,
    evidence_policy,
    incident_policy,
    link_policy,
    match_policy,
    message_policy,
    note_policy,
    phone_call_policy,
    saved_view_policy,
    standard_reply_policy,
)
from portal.constants import Role
from portal.policies import (
    WORKSPACE_ROLES,
    Workspace,
    notification_policy,
    officeholder_import_policy,
    organisation_policy,
    statistics_policy,
    user_policy,
)
from support.actions import CASE_ACTIONS
from support.constants import CaseStatus
from support.policies import case_policy, support_action_policy

POLICIES = (
    ("Meldingen", incident_policy),
    ("Berichten", message_policy),
    ("Tijdlijn (gebeurtenissen)", event_policy),
    ("Interne notities", note_policy),
    ("Telefoongesprekken", phone_call_policy),
    ("Bewijsstukken", evidence_policy),
    ("Koppelingen tussen meldingen", link_policy),
    ("Signalen 'zelfde dader'", match_policy),
    ("Opgeslagen overzichten van de wachtrij", saved_view_policy),
    ("Standaardantwoorden", standard_reply_policy),
    ("Ondersteuningsdossiers", case_policy),
    ("Ondersteuningsacties", support_action_policy),
    ("Mensen", user_policy),
    ("Organisaties", organisation_policy),
    ("Cijfers (per organisatie)", statistics_policy),
    ("Imports van ambtsdragers", officeholder_import_policy),
    ("Notificaties", notification_policy),
)


def _roles(roles) -> str:
    """The roles' labels in the order of `Role` (a set of roles has no order of its own)."""
    labels = dict(Role.choices)
    ordered = sorted(roles, key=lambda role: list(labels).index(role) if role in labels else 99)
    return ", ".join(str(labels.get(role, role)) for role in ordered) or "—"


def _statuses(statuses, choices) -> str:
    return ", ".join(str(label) for value, label in choices if value in statuses) or "—"


def _cell(text) -> str:
    return str(text).replace("|", "/")


def permissions_markdown() -> str:
    """The whole document, in Dutch (the portal's language)."""
    with translation.override("nl"):
        return "\n".join(_lines()) + "\n"


def _lines():
    yield "# Wie mag wat: de regels van het portaal"
    yield ""
    yield (
        "Dit bestand wordt gemaakt uit de code (`python manage.py permissions_doc`). Een test "
        "faalt als het niet meer klopt met de code. Alles wat hier niet staat, mag niemand: "
        "wie iets opvraagt buiten zijn bereik, krijgt 'niet gevonden' (404), net als voor iets "
        "dat niet bestaat."
    )
    yield ""
    yield "## Onderdelen van het portaal"
    yield ""
    yield "| onderdeel | wie |"
    yield "|---|---|"
    for workspace, roles in WORKSPACE_ROLES.items():
        extra = " (met de vlag coördinator)" if workspace == Workspace.MANAGE else ""
        yield f"| {Workspace.LABELS[workspace]} | {_roles(roles)}{extra} |"
    yield ""
    yield "## Groepen van statussen"
    yield ""
    yield f"- Nog bij het meldpunt: {_statuses(WITH_DESK, Status.choices)}"
    yield f"- Open: {_statuses(OPEN, Status.choices)}"
    yield "- Nog niet beoordeeld: nog bij het meldpunt en nog geen ernst volgens het meldpunt"
    yield ""
    yield "## Stappen van een melding"
    yield ""
    yield "| stap | vanuit | naar | wie | nodig | verder |"
    yield "|---|---|---|---|---|---|"
    for action in ACTIONS.values():
        if not action.who:
            who = "het portaal zelf"
        else:
            who = _roles(action.who) + (", automatische regels" if action.system else "")
            if action.internal:
                who += " (alleen via het dossier)"
        to = dict(Status.choices)[action.to_status] if action.to_status else "blijft"
        yield (
            f"| {_cell(action.label)} | {_statuses(action.from_statuses, Status.choices)} | "
            f"{to} | {who} | {', '.join(action.needs) or '—'} | {_cell(action.effect) or '—'} |"
        )
    yield ""
    yield "## Stappen van een ondersteuningsdossier"
    yield ""
    yield "| stap | vanuit | naar | wie | nodig | verder |"
    yield "|---|---|---|---|---|---|"
    for action in CASE_ACTIONS.values():
        to = dict(CaseStatus.choices)[action.to_status] if action.to_status else "blijft"
        yield (
            f"| {_cell(action.label)} | {_statuses(action.from_statuses, CaseStatus.choices)} | "
            f"{to} | {_roles(action.who) if action.who else 'het portaal zelf'} | "
            f"{', '.join(action.needs) or '—'} | "
            f"{_cell(action.effect) or '—'} |"
        )
    for title, policy in POLICIES:
        yield ""
        yield f"## {title}"
        yield ""
        yield "| handeling | rol | voorwaarde |"
        yield "|---|---|---|"
        for action, role, condition in policy.describe():
            label = _cell(policy.action_labels.get(action, action))
            condition = _cell(condition) or "altijd"
            yield f"| {label} (`{action}`) | {_roles([role])} | {condition} |"
