"""Who may see and do what with incidents and their parts: the one place in `incidents` that
looks at roles.

Scoping: an officeholder sees only their own incidents; a registrar the incidents routed to their
desk; the Ondersteuningsteam the incidents that were ever escalated; nobody else any. Anything out
of scope answers 404, exactly like something that does not exist. The workflow's actions
(`incidents.actions`) become rules of the incident policy here, each limited to the statuses it
starts from; the parts of an incident (messages, notes, evidence, events, links, matches) inherit
the incident's scope.
"""

from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from incidents.actions import (
    ACTIONS,
    NOT_ANONYMISED,
    NOT_FINAL,
    OF_DESK,
    OFFERED_TO_DESK,
    OPEN,
    OWN,
    WAS_ESCALATED,
    WITH_DESK,
    Action,
)
from incidents.constants import MessageAudience, Status
from portal.constants import Role
from portal.policies import ANY, Condition, Policy, action_rules, field_in

IS_OPEN = field_in("status", OPEN, label=_("open"))
IS_WITH_DESK = field_in("status", WITH_DESK, label=_("bij het meldpunt"))
NOT_WITHDRAWN = field_in("status", NOT_FINAL, label=_("niet ingetrokken"))
WITHDRAWN = field_in("status", {Status.WITHDRAWN}, label=_("ingetrokken"))
# The officeholder's consent that the desk makes the police summary (`summary_consent_at`).
SUMMARY_CONSENTED = Condition(
    q=lambda user: Q(summary_consent_at__isnull=False),
    test=lambda user, incident: incident.summary_consent_at is not None,
    labels=(_("de ambtsdrager gaf toestemming voor de samenvatting voor de politie"),),
)
NO_SUMMARY_CONSENT = Condition(
    q=lambda user: Q(summary_consent_at__isnull=True),
    test=lambda user, incident: incident.summary_consent_at is None,
    labels=(_("nog geen toestemming"),),
)

_CONVERSATION = {
    Role.OFFICEHOLDER: OWN & NOT_ANONYMISED,
    Role.REGISTRAR: OF_DESK & NOT_ANONYMISED,
    Role.SUPPORT: WAS_ESCALATED & NOT_ANONYMISED,
}
_STAFF_ONLY = {
    Role.REGISTRAR: OF_DESK & NOT_ANONYMISED,
    Role.SUPPORT: WAS_ESCALATED & NOT_ANONYMISED,
}

INCIDENT_RULES = {
    "view": {Role.OFFICEHOLDER: OWN, Role.REGISTRAR: OF_DESK, Role.SUPPORT: WAS_ESCALATED},
    # What only staff see: the desk's triage, the assignee, escalation reasons and rule names,
    # notes, the staff channel and "same perpetrator" matches.
    "view_internal": {Role.REGISTRAR: OF_DESK, Role.SUPPORT: WAS_ESCALATED},
    # New information or files (a follow-up), and completing or correcting the facts.
    "add_information": {
        Role.OFFICEHOLDER: OWN & IS_OPEN & NOT_ANONYMISED,
        Role.REGISTRAR: OF_DESK & NOT_WITHDRAWN & NOT_ANONYMISED,
    },
    "complete": {
        Role.OFFICEHOLDER: OWN & IS_OPEN & NOT_ANONYMISED,
        Role.REGISTRAR: OF_DESK & IS_OPEN & NOT_ANONYMISED,
    },
    "message_officeholder": _CONVERSATION,
    "message_staff": _STAFF_ONLY,
    "write_note": _STAFF_ONLY,
    # A phone call the desk had about the incident (staff only, like a note).
    "log_phone_call": {Role.REGISTRAR: OF_DESK & NOT_ANONYMISED},
    # The officeholder's own page: which teams looked, the summary for the police.
    "view_access_history": {Role.OFFICEHOLDER: OWN},
    # The summary for the police (incidents.police_summary): the officeholder's own, and the
    # desk's for an aangifte by the employer, only while the officeholder consents.
    "police_summary": {
        Role.OFFICEHOLDER: OWN & NOT_ANONYMISED,
        Role.REGISTRAR: OF_DESK & NOT_ANONYMISED & SUMMARY_CONSENTED,
    },
    # Where it happened, in the summary of an incident at home or whose perpetrator knows the
    # home address: only the officeholder may put it in (after a warning), never the desk.
    "police_summary_home_location": {Role.OFFICEHOLDER: OWN & NOT_ANONYMISED},
    "give_summary_consent": {
        Role.OFFICEHOLDER: OWN & NOT_ANONYMISED & NOT_WITHDRAWN & NO_SUMMARY_CONSENT
    },
    "withdraw_summary_consent": {Role.OFFICEHOLDER: OWN & SUMMARY_CONSENTED},
    # The aangifte track: the officeholder and their desk keep it up to date; the
    # Ondersteuningsteam follows it on the cases it holds (it never edits the facts).
    "view_aangifte": {Role.OFFICEHOLDER: OWN, Role.REGISTRAR: OF_DESK, Role.SUPPORT: WAS_ESCALATED},
    "update_aangifte": {
        Role.OFFICEHOLDER: OWN & NOT_WITHDRAWN & NOT_ANONYMISED,
        Role.REGISTRAR: OF_DESK & NOT_WITHDRAWN & NOT_ANONYMISED,
    },
    "delete": {Role.OFFICEHOLDER: OWN & WITHDRAWN},
    "export": {Role.REGISTRAR: OF_DESK},
    # The desk's first look is shown to the officeholder ("bekeken door het meldpunt").
    "mark_viewed": {Role.REGISTRAR: OF_DESK},
    # An incident that went to another desk while the own desk was unreachable is offered
    # back once the own desk is reachable again; its registrars may take it back.
    "take_back": {Role.REGISTRAR: OFFERED_TO_DESK & IS_WITH_DESK & NOT_ANONYMISED},
}


class IncidentPolicy(Policy):
    rules = {
        **INCIDENT_RULES,
        **{
            name: action_rules(action, Status.choices, NOT_ANONYMISED)
            for name, action in ACTIONS.items()
        },
    }
    action_labels = {
        "view": _("bekijken"),
        "view_internal": _("interne gegevens zien (beoordeling, notities, overleg)"),
        "add_information": _("informatie of bestanden toevoegen"),
        "complete": _("de melding aanvullen of verbeteren"),
        "message_officeholder": _("bericht in het gesprek met de ambtsdrager"),
        "message_staff": _("bericht tussen meldpunt en Ondersteuningsteam"),
        "write_note": _("interne notitie schrijven"),
        "log_phone_call": _("telefoongesprek vastleggen"),
        "view_access_history": _("zien welk team de melding las"),
        "police_summary": _("samenvatting voor de politie maken"),
        "police_summary_home_location": _(
            "in de samenvatting voor de politie zetten waar het gebeurde, als dat thuis was "
            "of de dader het huisadres kent"
        ),
        "give_summary_consent": _(
            "het meldpunt toestemming geven de samenvatting voor de politie te maken"
        ),
        "withdraw_summary_consent": _(
            "de toestemming voor de samenvatting voor de politie intrekken"
        ),
        "view_aangifte": _("zien hoe het staat met de aangifte"),
        "update_aangifte": _("de stappen van de aangifte bijwerken"),
        "delete": _("ingetrokken melding verwijderen"),
        "export": _("exporteren (CSV)"),
        "mark_viewed": _("telt als 'bekeken door het meldpunt'"),
        "take_back": _("terugnemen van het meldpunt dat de melding waarnam"),
        **{name: action.label for name, action in ACTIONS.items()},
    }

    def base_queryset(self):
        from incidents.models import Incident

        return Incident.objects.all()

    def actions_for(self, user, incident) -> list[Action]:
        """The workflow actions this person may take on the incident now, in table order."""
        return [
            action
            for name, action in ACTIONS.items()
            if not action.internal and self.allows(user, name, incident)
        ]


incident_policy = IncidentPolicy()


def _via(action: str, path: str = "incident") -> Condition:
    """The related object's incident (at `path`) allows `action` for the person."""
    return Condition(
        q=lambda user: Q(**{f"{path}__in": incident_policy.queryset(user, action).values("pk")}),
        test=lambda user, obj: incident_policy.allows(user, action, getattr(obj, path)),
        labels=(format_lazy('{} "{}"', _("melding mag"), incident_policy.action_labels[action]),),
    )


def _inherit(action: str, extra: dict | None = None) -> dict:
    """Every role that may take `action` on the incident, each with an optional extra condition."""
    extra = extra or {}
    return {role: _via(action) & extra.get(role, ANY) for role in INCIDENT_RULES[action]}


OFFICEHOLDER_THREAD = field_in(
    "audience", {MessageAudience.OFFICEHOLDER_THREAD}, label=_("gesprek met de ambtsdrager")
)


class MessagePolicy(Policy):
    """Messages: the officeholder's thread for them, both channels for the desk and support."""

    rules = {"view": _inherit("view", {Role.OFFICEHOLDER: OFFICEHOLDER_THREAD})}
    action_labels = {"view": _("lezen")}

    def base_queryset(self):
        from incidents.models import Message

        return Message.objects.all()

    def audiences_for(self, user, incident) -> list[str]:
        """The channels of this incident the person may write in, officeholder's thread first."""
        audiences = []
        if incident_policy.allows(user, "message_officeholder", incident):
            audiences.append(MessageAudience.OFFICEHOLDER_THREAD)
        if incident_policy.allows(user, "message_staff", incident):
            audiences.append(MessageAudience.STAFF)
        return audiences


class EventPolicy(Policy):
    """The timeline: the officeholder sees what is meant for them, the desk what the team shared."""

    rules = {
        "view": _inherit(
            "view",
            {
                Role.OFFICEHOLDER: field_in(
                    "visible_to_officeholder", {True}, label=_("voor de ambtsdrager")
                ),
                Role.REGISTRAR: field_in("visible_to_desk", {True}, label=_("voor het meldpunt")),
            },
        )
    }
    action_labels = {"view": _("in de tijdlijn zien")}

    def base_queryset(self):
        from incidents.models import Event

        return Event.objects.all()


class NotePolicy(Policy):
    rules = {"view": _inherit("view_internal")}
    action_labels = {"view": _("lezen")}

    def base_queryset(self):
        from incidents.models import Note

        return Note.objects.all()


class PhoneCallPolicy(Policy):
    """Phone calls the desk logged: staff only, like notes."""

    rules = {"view": _inherit("view_internal")}
    action_labels = {"view": _("lezen")}

    def base_queryset(self):
        from incidents.models import PhoneCall

        return PhoneCall.objects.all()


class EvidencePolicy(Policy):
    rules = {"view": _inherit("view")}
    action_labels = {"view": _("bekijken en downloaden")}

    def base_queryset(self):
        from incidents.models import Evidence

        return Evidence.objects.all()


def _link_visible() -> dict:
    both = {}
    for role in INCIDENT_RULES["view_internal"]:
        both[role] = _via("view_internal", "from_incident") & _via("view_internal", "to_incident")
    return both


class LinkPolicy(Policy):
    """A link between two incidents is shown only to someone who may see both."""

    rules = {"view": _link_visible()}
    action_labels = {"view": _("zien")}

    def base_queryset(self):
        from incidents.models import IncidentLink

        return IncidentLink.objects.all()


class MatchPolicy(Policy):
    """ "Same perpetrator" signals: staff only. The desk sees those of its own incidents; the
    Ondersteuningsteam sees every signal (it sees both sides and decides)."""

    rules = {
        "view": {
            Role.REGISTRAR: _via("view_internal", "first") | _via("view_internal", "second"),
            Role.SUPPORT: ANY,
        }
    }
    action_labels = {"view": _("zien")}

    def base_queryset(self):
        from incidents.models import PerpetratorMatch

        return PerpetratorMatch.objects.all()


OWN_SAVED_VIEW = Condition(
    q=lambda user: Q(owner=user),
    test=lambda user, view: view.owner_id == user.pk,
    labels=(_("eigen opgeslagen overzicht"),),
)


class SavedQueueViewPolicy(Policy):
    """A saved view is its owner's alone; registrars keep them for the desk's queue, the
    Ondersteuningsteam for its inbox (each list shows only the views of its own workspace)."""

    rules = {
        "view": {Role.REGISTRAR: OWN_SAVED_VIEW, Role.SUPPORT: OWN_SAVED_VIEW},
        "delete": {Role.REGISTRAR: OWN_SAVED_VIEW, Role.SUPPORT: OWN_SAVED_VIEW},
    }
    action_labels = {"view": _("zien en openen"), "delete": _("verwijderen")}

    def base_queryset(self):
        from incidents.models import SavedQueueView

        return SavedQueueView.objects.all()


message_policy = MessagePolicy()
event_policy = EventPolicy()
note_policy = NotePolicy()
phone_call_policy = PhoneCallPolicy()
evidence_policy = EvidencePolicy()
link_policy = LinkPolicy()
match_policy = MatchPolicy()
saved_view_policy = SavedQueueViewPolicy()


def _desk_q(desk_id) -> Q:
    # A person without a desk matches no desk's reply (and never the national ones).
    return Q(desk_id=desk_id) if desk_id else Q(pk__in=[])


def _coordinated_desk(user):
    return user.desk_id if user.is_coordinator and user.desk_id else None


NATIONAL_REPLY = Condition(
    q=lambda user: Q(desk__isnull=True),
    test=lambda user, reply: reply.desk_id is None,
    labels=(_("landelijke standaardtekst"),),
)
OWN_DESK_REPLY = Condition(
    q=lambda user: _desk_q(user.desk_id),
    test=lambda user, reply: bool(user.desk_id) and reply.desk_id == user.desk_id,
    labels=(_("tekst van het eigen meldpunt"),),
)
COORDINATED_REPLY = Condition(
    q=lambda user: _desk_q(_coordinated_desk(user)),
    test=lambda user, reply: (
        _coordinated_desk(user) is not None and reply.desk_id == _coordinated_desk(user)
    ),
    labels=(_("coördinator: tekst van het eigen meldpunt"),),
)
COORDINATOR = Condition(
    q=lambda user: Q() if _coordinated_desk(user) else Q(pk__in=[]),
    test=lambda user, reply: _coordinated_desk(user) is not None,
    labels=(_("coördinator"),),
)
REPLY_ACTIVE = field_in("active", {True}, label=_("in gebruik"))


class StandardReplyPolicy(Policy):
    """Standard replies: national defaults (the administrator keeps them) and each desk's own
    (its coordinators keep them). A desk's registrars use the national ones and their own
    desk's, never another desk's; a coordinator reads the national ones but cannot change them.
    """

    rules = {
        # Insert into a message to the officeholder.
        "use": {Role.REGISTRAR: (NATIONAL_REPLY | OWN_DESK_REPLY) & REPLY_ACTIVE},
        # The list of texts on the management page (active or not).
        "view": {
            Role.REGISTRAR: COORDINATOR & (NATIONAL_REPLY | COORDINATED_REPLY),
            Role.ADMIN: NATIONAL_REPLY,
        },
        # Add, change, switch off.
        "keep": {Role.REGISTRAR: COORDINATED_REPLY, Role.ADMIN: NATIONAL_REPLY},
    }
    action_labels = {
        "use": _("invoegen in een bericht aan de ambtsdrager"),
        "view": _("zien in het beheer van standaardantwoorden"),
        "keep": _("toevoegen, wijzigen en uitzetten"),
    }

    def base_queryset(self):
        from incidents.models import StandardReply

        return StandardReply.objects.all()


standard_reply_policy = StandardReplyPolicy()
