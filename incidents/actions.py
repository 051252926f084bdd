"""The incident workflow: one table of actions, and the status groups the portal counts with.

Each row says which statuses the action starts from and which status it leads to, who may take
it (a role and that person's relation to the incident), what it needs, and which event records
it. `incidents.policies` turns the "who" into the incident policy; `incidents.services.
incident_act` is the one service that runs any row; `incident_policy.actions_for(user,
incident)` is what pages and the API offer. The design's table of status steps (from, to, who)
is exactly the set of (from, to) pairs below.

`SYSTEM` is the escalation rules engine (no person). Internal rows are taken only as the effect
of the support case's workflow (returning or closing a case) and are never offered by
themselves.
"""

from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.constants import SERIOUS_SEVERITIES, EventKind, RiskFlag, Status, TriageSeverity
from portal.actions import Action, action_table, table_action, table_status_steps
from portal.constants import Role
from portal.policies import Condition

SYSTEM = "system"

# --- Status groups (defined once; everything that counts or filters by them uses these) --------

# Still with the desk: the desk has to look at it, nobody else has it.
WITH_DESK = frozenset({Status.SUBMITTED, Status.IN_TRIAGE})
# Open: someone still works on it (the desk or the Ondersteuningsteam).
OPEN = frozenset({Status.SUBMITTED, Status.IN_TRIAGE, Status.ESCALATED})
# Final for good: nothing more happens.
FINAL = frozenset({Status.WITHDRAWN})


def untriaged_q() -> Q:
    """With the desk and not yet triaged ("triaged" means the desk recorded a severity)."""
    return Q(status__in=sorted(WITH_DESK), triage_severity="")


def serious_q() -> Q:
    """A serious report: the reporter chose serious or very serious, or answered yes to
    "Voelt u zich onveilig of wilt u gebeld worden?" (4-hour deadline, its reminders)."""
    return Q(reporter_severity__in=sorted(SERIOUS_SEVERITIES)) | Q(unsafe_or_call=True)


def is_serious(incident) -> bool:
    """The same rule as `serious_q`, for one loaded incident."""
    return incident.reporter_severity in SERIOUS_SEVERITIES or incident.unsafe_or_call is True


# What the queue's urgency rank is computed from (`Incident.save` keeps it).
URGENCY_SOURCES = frozenset(
    {"triage_severity", "reporter_severity", "unsafe_or_call", "risk_flags"}
)


def urgency_rank(incident) -> int:
    """The queue's order: 1 acute danger (risk flag) or the desk's severity critical, 2 serious
    (the reporter's or the desk's: high), 3 the rest. Within a rank, by triage deadline."""
    if incident.triage_severity == TriageSeverity.CRITICAL or RiskFlag.ACUTE_DANGER in (
        incident.risk_flags or ()
    ):
        return 1
    if incident.triage_severity == TriageSeverity.HIGH or is_serious(incident):
        return 2
    return 3


def is_untriaged(incident) -> bool:
    """The same rule as `untriaged_q`, for one loaded incident."""
    return incident.status in WITH_DESK and not incident.triage_severity


def overdue_q(*, now) -> Q:
    """Not yet triaged while the stored triage deadline has passed."""
    return untriaged_q() & Q(triage_due_at__lt=now)


def is_overdue(incident, *, now) -> bool:
    return is_untriaged(incident) and incident.triage_due_at < now


# --- Relations between a person and an incident -------------------------------------------------


def _was_escalated(user, incident) -> bool:
    # Cached on the instance: a page asks this for several actions of one incident.
    cached = getattr(incident, "_was_escalated", None)
    if cached is None:
        cached = incident._was_escalated = incident.escalations.exists()
    return cached


def _escalated_incident_ids():
    return apps.get_model("incidents", "Escalation").objects.values("incident_id")


def _own_q(user) -> Q:
    own = Q(officeholder_id=user.pk)
    if getattr(user, "term_ended_at", None) is not None:
        # The term is over but an incident is still open: the account stays for that only.
        own &= Q(status__in=sorted(OPEN))
    return own


def _is_own(user, incident) -> bool:
    if incident.officeholder_id != user.pk:
        return False
    return getattr(user, "term_ended_at", None) is None or incident.status in OPEN


OWN = Condition(
    q=_own_q,
    test=_is_own,
    labels=(_("eigen melding (na het einde van de termijn: alleen open meldingen)"),),
)
OF_DESK = Condition(
    q=lambda user: Q(desk_id=user.desk_id),
    test=lambda user, incident: user.desk_id is not None and incident.desk_id == user.desk_id,
    labels=(_("melding van het eigen meldpunt"),),
)
OFFERED_TO_DESK = Condition(
    q=lambda user: Q(moved_from_desk_id=user.desk_id, offered_back_at__isnull=False),
    test=lambda user, incident: (
        user.desk_id is not None
        and incident.moved_from_desk_id == user.desk_id
        and incident.offered_back_at is not None
    ),
    labels=(_("teruggeboden aan het eigen meldpunt"),),
)
WAS_ESCALATED = Condition(
    q=lambda user: Q(pk__in=_escalated_incident_ids()),
    test=_was_escalated,
    labels=(_("ooit doorgegeven aan het Ondersteuningsteam"),),
)


def may_request_security_advice(user) -> bool:
    """Whether this person's function qualifies for a security advice: the one rule is
    `portal.selectors.security_advice_allowed`; remembered on the person object for the rest
    of the request (a page asks more than once; the next request reads the list again)."""
    cached = getattr(user, "_may_request_security_advice", None)
    if cached is None:
        from portal.selectors import security_advice_allowed

        cached = user._may_request_security_advice = security_advice_allowed(
            getattr(user, "function", "")
        )
    return cached


# The person's function qualifies for a security advice (the administrator's list).
SECURITY_ADVICE_FUNCTION = Condition(
    q=lambda user: Q() if may_request_security_advice(user) else Q(pk__in=[]),
    test=lambda user, incident: may_request_security_advice(user),
    labels=(_("functie mag beveiligingsadvies aanvragen (lijst van de beheerder)"),),
)
NOT_ANONYMISED = Condition(
    q=lambda user: Q(anonymised_at__isnull=True),
    test=lambda user, incident: incident.anonymised_at is None,
)


DESK = {Role.REGISTRAR: OF_DESK}
SUPPORT = {Role.SUPPORT: WAS_ESCALATED}
NOT_FINAL = frozenset(Status) - FINAL

ACTIONS: dict[str, Action] = action_table(
    Action(
        "take",
        _("In behandeling nemen"),
        frozenset({Status.SUBMITTED}),
        Status.IN_TRIAGE,
        DESK,
        EventKind.STATUS_CHANGED,
        effect=_("wie het doet, wordt behandelaar als er nog geen is"),
    ),
    Action(
        "assign",
        _("Behandelaar kiezen"),
        OPEN,
        None,
        DESK,
        EventKind.ASSIGNED,
        takes=("assignee",),
    ),
    Action(
        "release",
        _("Teruggeven aan het meldpunt zonder behandelaar"),
        OPEN,
        None,
        {},
        EventKind.ASSIGNED,
        system=True,
        internal=True,
        effect=_(
            "alleen door het portaal, als de behandelaar geen account meer heeft; "
            "het meldpunt krijgt bericht"
        ),
    ),
    Action(
        "triage",
        _("Beoordelen"),
        WITH_DESK,
        None,
        DESK,
        EventKind.TRIAGED,
        needs=("triage_severity", "types"),
        takes=("risk_flags", "advice_given", "advice_note"),
        effect=_("de doorverwijsregels kijken opnieuw"),
    ),
    Action(
        "escalate",
        _("Doorgeven aan het Ondersteuningsteam"),
        WITH_DESK,
        Status.ESCALATED,
        DESK,
        EventKind.ESCALATED,
        needs=("reason",),
        system=True,
        effect=_("een doorverwijzing; het Ondersteuningsteam krijgt een dossier"),
    ),
    Action(
        "close",
        _("Afsluiten"),
        WITH_DESK,
        Status.CLOSED,
        DESK,
        EventKind.STATUS_CHANGED,
        needs=("outcome_category",),
        takes=("outcome",),
        effect=_("de ambtsdrager leest de soort uitkomst en de toelichting"),
    ),
    Action(
        "mark_duplicate",
        _("Afsluiten als dubbele melding"),
        WITH_DESK,
        Status.CLOSED,
        DESK,
        EventKind.MARKED_DUPLICATE,
        needs=("original",),
        effect=_("de melding verwijst naar de oorspronkelijke melding"),
    ),
    Action(
        "reopen",
        _("Opnieuw openen"),
        frozenset({Status.CLOSED}),
        Status.IN_TRIAGE,
        DESK,
        EventKind.STATUS_CHANGED,
        needs=("reason",),
    ),
    Action(
        "withdraw",
        _("Intrekken"),
        frozenset({Status.SUBMITTED}),
        Status.WITHDRAWN,
        {Role.OFFICEHOLDER: OWN},
        EventKind.STATUS_CHANGED,
        takes=("reason",),
        effect=_("definitief; het meldpunt doet er niets meer mee"),
    ),
    Action(
        "link",
        _("Koppelen aan een andere melding"),
        NOT_FINAL,
        None,
        DESK,
        EventKind.LINKED,
        needs=("other", "kind"),
        takes=("reason",),
        effect=_("beide meldingen tonen de koppeling"),
    ),
    Action(
        "set_callback",
        _("Terugbellen plannen"),
        OPEN,
        None,
        DESK,
        EventKind.CALLBACK_SET,
        needs=("callback_at",),
        takes=("callback_note",),
        effect=_(
            "als het tijd is, krijgt de behandelaar (of zonder behandelaar het meldpunt) één "
            "notificatie; de ambtsdrager ziet dit niet"
        ),
    ),
    Action(
        "clear_callback",
        _("Terugbellen wissen"),
        OPEN,
        None,
        DESK,
        EventKind.CALLBACK_CLEARED,
    ),
    Action(
        "request_security_advice",
        _("Beveiligingsadvies aanvragen"),
        OPEN,
        None,
        {Role.OFFICEHOLDER: OWN & SECURITY_ADVICE_FUNCTION},
        EventKind.SECURITY_ADVICE_REQUESTED,
        effect=_(
            "eenmaal per melding; daarna geeft het portaal een melding zonder open "
            "doorverwijzing door aan het Ondersteuningsteam (regel 'ambtsdrager vraagt "
            "beveiligingsadvies') en zet het team de actie beveiligingsadvies in het plan"
        ),
        refused=_("Deze melding is afgesloten. Doe een nieuwe melding of bel uw meldpunt."),
    ),
    Action(
        "return_to_desk",
        _("Teruggeven aan het meldpunt"),
        frozenset({Status.ESCALATED}),
        Status.IN_TRIAGE,
        SUPPORT,
        EventKind.STATUS_CHANGED,
        needs=("reason",),
        internal=True,
        effect=_("de doorverwijzing is afgerond; het dossier is teruggegeven"),
    ),
    Action(
        "close_escalated",
        _("Afsluiten door het Ondersteuningsteam"),
        frozenset({Status.ESCALATED}),
        Status.CLOSED,
        SUPPORT,
        EventKind.STATUS_CHANGED,
        needs=("outcome",),
        internal=True,
        effect=_("de doorverwijzing is afgerond; het dossier is gesloten"),
    ),
)


def action_get(name: str) -> Action:
    return table_action(ACTIONS, name)


def status_steps() -> set[tuple[str, str]]:
    """Every (from, to) status step the table allows (the design's status table)."""
    return table_status_steps(ACTIONS)
