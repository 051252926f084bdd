"""Choices of the incident domain: the taxonomy (docs/architecture.md, "Facts, scope and
escalation"). Codes in English, labels in Dutch."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentType(models.TextChoices):
    VERBAL_AGGRESSION = "verbal_aggression", _("Verbale agressie (schelden, beledigen)")
    THREAT = "threat", _("Bedreiging")
    THREAT_TO_FAMILY = "threat_to_family", _("Bedreiging van gezin of naasten")
    INTIMIDATION = "intimidation", _("Intimidatie")
    SEXUAL_INTIMIDATION = "sexual_intimidation", _("Seksuele intimidatie")
    DISCRIMINATION = "discrimination", _("Discriminatie")
    STALKING = "stalking", _("Stalking")
    DOXING = "doxing", _("Doxing: persoonsgegevens verspreiden om te intimideren")
    PHYSICAL_VIOLENCE = "physical_violence", _("Fysiek geweld")
    PROPERTY_DAMAGE = "property_damage", _("Vernieling van eigendommen")
    OTHER = "other", _("Iets anders")


class Channel(models.TextChoices):
    IN_PERSON_PUBLIC = "in_person_public", _("Persoonlijk, op straat of in het openbaar")
    IN_PERSON_MEETING = (
        "in_person_meeting",
        _("Persoonlijk, tijdens een vergadering of bijeenkomst"),
    )
    AT_HOME = "at_home", _("Bij mij thuis")
    PHONE = "phone", _("Telefoon")
    LETTER = "letter", _("Brief of kaart")
    EMAIL = "email", _("E-mail")
    SOCIAL_MEDIA = "social_media", _("Sociale media")
    OTHER_ONLINE = "other_online", _("Ander online kanaal (forum, chatgroep)")
    VIA_RELATIVES = "via_relatives", _("Via familie of naasten")
    OTHER = "other", _("Anders")


ONLINE_CHANNELS = frozenset({Channel.SOCIAL_MEDIA, Channel.OTHER_ONLINE})


class ReporterSeverity(models.TextChoices):
    NOT_SERIOUS = "not_serious", _("Niet ernstig")
    SOMEWHAT_SERIOUS = "somewhat_serious", _("Een beetje ernstig")
    SERIOUS = "serious", _("Ernstig")
    VERY_SERIOUS = "very_serious", _("Heel ernstig")


# References read MWB-<year>-<number>, the number with this many digits (MWB-2026-000123).
REFERENCE_DIGITS = 6

SERIOUS_SEVERITIES = frozenset({ReporterSeverity.SERIOUS, ReporterSeverity.VERY_SERIOUS})


class PerpetratorKnown(models.TextChoices):
    KNOWN = "known", _("Ja, ik weet wie het is")
    UNKNOWN = "unknown", _("Nee, ik weet niet wie het is")


class PerpetratorKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Eén persoon")
    GROUP = "group", _("Een groep")
    ORGANISATION = "organisation", _("Namens een organisatie")


class PerpetratorRelation(models.TextChoices):
    CITIZEN = "citizen", _("Inwoner of burger")
    FELLOW_OFFICEHOLDER = "fellow_officeholder", _("Andere ambtsdrager of politicus")
    CIVIL_SERVANT = "civil_servant", _("Ambtenaar")
    BUSINESS = "business", _("Bedrijf of ondernemer")
    OTHER = "other", _("Anders")


class IdentifierKind(models.TextChoices):
    HANDLE = "handle", _("Account op sociale media")
    EMAIL = "email", _("E-mailadres")
    PHONE = "phone", _("Telefoonnummer")


class Impact(models.TextChoices):
    LESS_JOB_SATISFACTION = "less_job_satisfaction", _("Ik heb minder plezier in mijn werk")
    CHANGED_BEHAVIOUR = "changed_behaviour", _("Ik gedraag me anders (bijvoorbeeld voorzichtiger)")
    INFLUENCED_DECISIONS = "influenced_decisions", _("Het heeft invloed op mijn besluiten")
    MENTAL_HEALTH = "mental_health", _("Ik heb psychische klachten (zoals slecht slapen of angst)")
    SICK_LEAVE = "sick_leave", _("Ik heb me ziek gemeld")
    IMPACT_ON_FAMILY = "impact_on_family", _("Het heeft gevolgen voor mijn gezin of naasten")
    NONE = "none", _("Geen gevolgen")


class AffectedPerson(models.TextChoices):
    PARTNER = "partner", _("Partner")
    CHILDREN = "children", _("Kinderen")
    OTHER_FAMILY = "other_family", _("Andere familie of naasten")
    STAFF = "staff", _("Medewerkers of collega's")


class AangifteStep(models.TextChoices):
    """The steps of the aangifte track (`incidents.aangifte`), in the order they are taken.
    The codes are also the values the fact counts use (kind `aangifte`)."""

    WANTS_TO_REPORT = "wants_to_report", _("Wil aangifte doen")
    POLICE_CONTACTED = "police_contacted", _("Contact met de politie")
    FILED = "filed", _("Aangifte gedaan")
    VPT_ASKED = "vpt_asked", _("VPT-code gevraagd")
    VPT_CONFIRMED = "vpt_confirmed", _("VPT-code bevestigd")
    DOMICILIE = "domicilie", _("Werkadres of adres advocaat gebruikt (domicilie)")
    EMPLOYER_FILED = "employer_filed", _("Aangifte gedaan door de werkgever")
    OUTCOME = "outcome", _("Uitkomst bekend")


class AangifteOutcome(models.TextChoices):
    SEPOT = "sepot", _("Geseponeerd (geen vervolging)")
    PROSECUTION = "prosecution", _("Vervolging")
    CONVICTION = "conviction", _("Veroordeling")
    OTHER = "other", _("Andere uitkomst")


class SupportWish(models.TextChoices):
    REGISTRATION_ONLY = "registration_only", _("Alleen registreren")
    CONTACT_WITH_DESK = "contact_with_desk", _("Ik wil contact met het meld- en steunpunt")
    SUPPORT_FROM_TEAM = (
        "support_from_ondersteuningsteam",
        _("Ik wil steun van het Ondersteuningsteam Weerbaar Bestuur"),
    )


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Ontvangen")
    IN_TRIAGE = "in_triage", _("In behandeling bij het meldpunt")
    ESCALATED = "escalated", _("Doorgegeven aan het Ondersteuningsteam")
    CLOSED = "closed", _("Afgesloten")
    WITHDRAWN = "withdrawn", _("Ingetrokken")


class TriageSeverity(models.TextChoices):
    LOW = "low", _("Laag")
    MEDIUM = "medium", _("Middel")
    HIGH = "high", _("Hoog")
    CRITICAL = "critical", _("Kritiek")


class RiskFlag(models.TextChoices):
    ACUTE_DANGER = "acute_danger", _("Acuut gevaar")
    WEAPON = "weapon", _("Wapen gezien of genoemd")
    THREAT_TO_FAMILY = "threat_to_family", _("Bedreiging van gezin")
    HOME_ADDRESS_KNOWN = "home_address_known", _("Huisadres is bekend bij dader")
    REPEAT_INCIDENT = "repeat_incident", _("Herhaald incident")
    CRIMINAL_OFFENCE_SUSPECTED = "criminal_offence_suspected", _("Vermoedelijk strafbaar feit")


class Advice(models.TextChoices):
    AANGIFTE = "aangifte", _("Aangifte doen bij de politie")
    SECURITY_MEASURES = "security_measures", _("Beveiligingsmaatregelen")
    HOME_SECURITY_SCAN = "home_security_scan", _("Woningscan (beveiliging van de woning)")
    CONTACT_SUPPORT_TEAM = "contact_support_team", _("Contact met het Ondersteuningsteam")


class OutcomeCategory(models.TextChoices):
    """How the desk (or the Ondersteuningsteam) closed an incident. The label is what the
    officeholder reads on their own page, so it is written for them."""

    REGISTERED = "registered", _("Alleen vastgelegd")
    ADVICE_GIVEN = "advice_given", _("Advies gegeven")
    REFERRED_POLICE = "referred_police", _("Doorverwezen naar de politie")
    REFERRED_SUPPORT = "referred_support", _("Doorverwezen naar het Ondersteuningsteam")
    DUPLICATE = "duplicate", _("Dubbele melding")
    OTHER = "other", _("Anders")
    # How the Ondersteuningsteam closes a case (support.constants.CASE_OUTCOME_CATEGORIES).
    SUPPORT_GIVEN = "support_given", _("Ondersteuning gegeven")
    SUPPORT_NOT_NEEDED = "support_not_needed", _("Geen ondersteuning meer nodig")


# What the officeholder reads about each category, in plain words.
OUTCOME_EXPLANATIONS = {
    OutcomeCategory.REGISTERED: _(
        "Het meldpunt heeft uw melding vastgelegd. Er is nu niets meer nodig. "
        "De melding telt mee in de cijfers."
    ),
    OutcomeCategory.ADVICE_GIVEN: _("Het meldpunt heeft u advies gegeven."),
    OutcomeCategory.REFERRED_POLICE: _(
        "Het meldpunt raadt u aan naar de politie te gaan, of heeft de politie al ingeschakeld."
    ),
    OutcomeCategory.REFERRED_SUPPORT: _("Het Ondersteuningsteam Weerbaar Bestuur helpt u verder."),
    OutcomeCategory.DUPLICATE: _(
        "Deze melding ging over hetzelfde als een andere melding. Die andere melding loopt door."
    ),
    OutcomeCategory.OTHER: _("Het meldpunt heeft de melding afgesloten."),
    OutcomeCategory.SUPPORT_GIVEN: _(
        "Het Ondersteuningsteam heeft u geholpen. De hulp is afgerond. Heeft u later nog "
        "vragen? Neem dan contact op met uw meldpunt."
    ),
    OutcomeCategory.SUPPORT_NOT_NEEDED: _(
        "U en het Ondersteuningsteam hebben afgesproken dat er nu geen hulp meer nodig is. "
        "Gebeurt er iets nieuws? Doe dan een nieuwe melding."
    ),
}


class LinkKind(models.TextChoices):
    SAME_PERPETRATOR = "same_perpetrator", _("Zelfde dader")
    SERIES = "series", _("Hoort bij dezelfde reeks")


class EscalationRuleCode(models.TextChoices):
    """The rules that can escalate an incident by themselves (configured in `support`)."""

    PHYSICAL_VIOLENCE = "physical_violence", _("Fysiek geweld of een wapen")
    FAMILY_HOME_DOXING = "family_home_doxing", _("Gezin bedreigd, incident thuis, of doxing")
    SUPPORT_REQUESTED = "support_requested", _("Melder vraagt steun van het Ondersteuningsteam")
    CRITICAL = "critical", _("Ernst kritiek of acuut gevaar")
    REPEAT_INCIDENTS = "repeat_incidents", _("Herhaalde incidenten tegen dezelfde ambtsdrager")
    SHARED_PERPETRATOR = "shared_perpetrator", _("Zelfde dader bij meerdere ambtsdragers")
    TRIAGE_DEADLINE = "triage_deadline", _("Ernstige melding niet binnen 4 uur beoordeeld")
    DESK_UNREACHABLE = "desk_unreachable", _("Geen meldpunt bereikbaar voor deze organisatie")
    # Not a rule of the engine: the officeholder asked for a security advice while the
    # Ondersteuningsteam had no case (incidents.services.incident_security_advice_request).
    SECURITY_ADVICE_REQUESTED = (
        "security_advice_requested",
        _("Ambtsdrager vraagt beveiligingsadvies"),
    )


class MessageAudience(models.TextChoices):
    OFFICEHOLDER_THREAD = "officeholder", _("Gesprek met de ambtsdrager")
    STAFF = "staff", _("Overleg meldpunt en Ondersteuningsteam")


class EvidenceKind(models.TextChoices):
    IMAGE = "image", _("Afbeelding")
    PDF = "pdf", _("PDF-document")
    EMAIL = "email", _("E-mailbericht")
    TEXT = "text", _("Tekstbestand")
    AUDIO = "audio", _("Geluidsopname")
    VIDEO = "video", _("Video")


# Photos, audio and video are cleaned by the worker (incidents/evidence_processing.py): until
# then the evidence "wordt verwerkt" and cannot be downloaded. PDF, e-mail and text files are
# checked completely while they are uploaded and are ready at once.
PROCESSED_EVIDENCE_KINDS = frozenset({EvidenceKind.IMAGE, EvidenceKind.AUDIO, EvidenceKind.VIDEO})


class EvidenceProcessing(models.TextChoices):
    PENDING = "pending", _("Wordt verwerkt")
    READY = "ready", _("Klaar")
    FAILED = "failed", _("Niet gelukt")


class EvidenceFailure(models.TextChoices):
    """Why the worker could not clean a file; the label is what people read."""

    UNREADABLE = (
        "unreadable",
        _("Het bestand kon niet worden gelezen. Misschien is het beschadigd."),
    )
    TOO_LARGE = "too_large", _("De foto heeft te veel pixels om veilig te verwerken.")
    TIMEOUT = "timeout", _("Het verwerken duurde te lang.")
    METADATA = (
        "metadata",
        _("De verborgen gegevens in het bestand, zoals de plaats, konden niet worden weggehaald."),
    )
    GAVE_UP = "gave_up", _("Het verwerken is een paar keer mislukt.")


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Melding ontvangen")
    FILED_BY_DESK = "filed_by_desk", _("Melding vastgelegd door het meldpunt")
    COMPLETED = "completed", _("Melding aangevuld")
    FOLLOW_UP = "follow_up", _("Nieuwe informatie toegevoegd")
    EVIDENCE_ADDED = "evidence_added", _("Bewijsstuk toegevoegd")
    VIEWED_BY_DESK = "viewed_by_desk", _("Bekeken door het meldpunt")
    STATUS_CHANGED = "status_changed", _("Status gewijzigd")
    ASSIGNED = "assigned", _("Behandelaar toegewezen")
    TRIAGED = "triaged", _("Beoordeeld door het meldpunt")
    MESSAGE = "message", _("Bericht")
    NOTE = "note", _("Interne notitie")
    LINKED = "linked", _("Gekoppeld aan een andere melding")
    IDENTIFIERS_CHANGED = "identifiers_changed", _("Kenmerken van de dader gewijzigd")
    MARKED_DUPLICATE = "marked_duplicate", _("Dubbele melding")
    ESCALATED = "escalated", _("Doorgegeven aan het Ondersteuningsteam")
    ESCALATION_CLOSED = "escalation_closed", _("Ondersteuning afgerond")
    SUPPORT_ACKNOWLEDGED = "support_acknowledged", _("Opgepakt door het Ondersteuningsteam")
    SUPPORT_CASE_CHANGED = "support_case_changed", _("Ondersteuningsdossier bijgewerkt")
    SUPPORT_ACTION = "support_action", _("Ondersteuningsactie")
    ANONYMISED = "anonymised", _("Geanonimiseerd na de bewaartermijn")
    MOVED = "moved", _("Doorgestuurd naar een ander meldpunt")
    OFFERED_BACK = "offered_back", _("Aangeboden aan het eigen meldpunt")
    TAKEN_BACK = "taken_back", _("Teruggenomen door het eigen meldpunt")
    # Follow-up by the desk (staff only): a callback date, a phone call.
    CALLBACK_SET = "callback_set", _("Terugbellen gepland")
    CALLBACK_CLEARED = "callback_cleared", _("Terugbellen gewist")
    PHONE_CALL = "phone_call", _("Telefoongesprek")
    # The officeholder's consent that the desk makes the police summary for an aangifte by
    # the employer (incidents.services.summary_consent_set), and its withdrawal.
    SUMMARY_CONSENT_GIVEN = (
        "summary_consent_given",
        _("Toestemming gegeven: het meldpunt mag een samenvatting voor de politie maken"),
    )
    SUMMARY_CONSENT_WITHDRAWN = (
        "summary_consent_withdrawn",
        _("Toestemming ingetrokken: het meldpunt maakt geen samenvatting voor de politie meer"),
    )
    # The officeholder asked for a security advice (the Ondersteuningsteam plans it).
    SECURITY_ADVICE_REQUESTED = "security_advice_requested", _("Beveiligingsadvies aangevraagd")
    AANGIFTE = "aangifte", _("Aangifte bijgewerkt")


class CallDirection(models.TextChoices):
    DESK_CALLED = "desk_called", _("Het meldpunt belde de ambtsdrager")
    OFFICEHOLDER_CALLED = "officeholder_called", _("De ambtsdrager belde het meldpunt")
    OTHER = "other", _("Ander gesprek")


# Events the officeholder sees in their own timeline; the rest is for staff only.
OFFICEHOLDER_VISIBLE_EVENTS = frozenset(
    {
        EventKind.SUBMITTED,
        EventKind.FILED_BY_DESK,
        EventKind.COMPLETED,
        EventKind.FOLLOW_UP,
        EventKind.EVIDENCE_ADDED,
        EventKind.VIEWED_BY_DESK,
        EventKind.STATUS_CHANGED,
        EventKind.MESSAGE,
        EventKind.ESCALATED,
        EventKind.SUPPORT_ACKNOWLEDGED,
        EventKind.SUMMARY_CONSENT_GIVEN,
        EventKind.SUMMARY_CONSENT_WITHDRAWN,
        EventKind.SECURITY_ADVICE_REQUESTED,
        EventKind.AANGIFTE,
    }
)

# The size limits per kind are settings (EVIDENCE_MAX_*_BYTES): the proxy in front must match.
MAX_EVIDENCE_FILES = 10

# The facts an officeholder (or the desk on their behalf) files and may later complete.
FACT_FIELDS = (
    "types",
    "occurred_on",
    "occurred_at",
    "summary",
    "description",
    "location",
    "channel",
    "platform",
    "links",
    "reporter_severity",
    "perpetrator_known",
    "perpetrator_kind",
    "perpetrator_relation",
    "perpetrator_description",
    "impacts",
    "affected_people",
    "support_wish",
    "unsafe_or_call",
    "contact_phone",
    "contact_preference",
)


class FactKind(models.TextChoices):
    """What a row of the fact counts (`incidents.FactCount`) counts."""

    INCIDENT = "incident", _("Meldingen")
    TYPE = "type", _("Soort incident")
    IMPACT = "impact", _("Gevolgen")
    AFFECTED_PERSON = "affected_person", _("Ook geraakt")
    RISK_FLAG = "risk_flag", _("Risico's")
    POLICE_STATUS = "police_status", _("Politie")
    AANGIFTE = "aangifte", _("Aangifte")
    RULE_CODE = "rule_code", _("Doorverwijsregel")
    ACTION_TYPE = "action_type", _("Soort hulp")
    MONITOR_GROUP = "monitor_group", _("Soort incident (indeling van de Monitor)")
    # The snapshot of who and where at filing (plain codes on the incident) and plain facts.
    FUNCTION = "function", _("Functie")
    GENDER = "gender", _("Gender")
    ORGANISATION_TYPE = "organisation_type", _("Soort organisatie")
    CHANNEL = "channel", _("Kanaal")
    SEVERITY = "severity", _("Ernst volgens de melder")
    SUPPORT_WISH = "support_wish", _("Wens van de melder")
    OUTCOME = "outcome", _("Soort uitkomst")
    # Histograms (value: a bucket of TIME_BUCKET_HOURS), because medians cannot be added up.
    TRIAGE_TIME = "triage_time", _("Tijd tot beoordeling")
    TRIAGE_ON_TIME = "triage_on_time", _("Op tijd beoordeeld")
    ACK_TIME = "ack_time", _("Tijd tot oppakken door het Ondersteuningsteam")


# The upper bounds (in hours) of the buckets of FactKind.TRIAGE_TIME and ACK_TIME; the last
# bucket ("more") holds everything longer. A median is read as the bucket it falls in.
TIME_BUCKET_HOURS = (1, 2, 4, 8, 24, 48, 72, 120, 168)
TIME_BUCKET_MORE = "more"


class MonitorGroup(models.TextChoices):
    """How the Monitor Integriteit en Veiligheid groups aggression."""

    VERBAL = "verbal", _("Verbale agressie")
    THREAT = "threat", _("Bedreiging en intimidatie")
    PHYSICAL = "physical", _("Fysiek geweld")
    OTHER = "other", _("Overig")


# Each incident type in the Monitor's group. An incident with types in two groups counts in
# both (as it does under "soort incident").
MONITOR_GROUPS = {
    IncidentType.VERBAL_AGGRESSION: MonitorGroup.VERBAL,
    IncidentType.DISCRIMINATION: MonitorGroup.VERBAL,
    IncidentType.THREAT: MonitorGroup.THREAT,
    IncidentType.THREAT_TO_FAMILY: MonitorGroup.THREAT,
    IncidentType.INTIMIDATION: MonitorGroup.THREAT,
    IncidentType.SEXUAL_INTIMIDATION: MonitorGroup.THREAT,
    IncidentType.STALKING: MonitorGroup.THREAT,
    IncidentType.DOXING: MonitorGroup.THREAT,
    IncidentType.PHYSICAL_VIOLENCE: MonitorGroup.PHYSICAL,
    IncidentType.PROPERTY_DAMAGE: MonitorGroup.OTHER,
    IncidentType.OTHER: MonitorGroup.OTHER,
}


class SavedViewWorkspace(models.TextChoices):
    """Which list a saved view belongs to: the desk's queue or the support team's inbox."""

    DESK = "desk", _("Meldingen van het meldpunt")
    SUPPORT = "support", _("Dossiers van het Ondersteuningsteam")


class MonitorMeasure(models.TextChoices):
    """What a figure of the Monitor Integriteit en Veiligheid measures (a survey of
    officeholders); `incidents.monitor` says which portal share it is shown beside."""

    MET_AGGRESSION = "met_aggression", _("Ambtsdragers die agressie meemaakten")
    SOCIAL_MEDIA = "social_media", _("Laatste incident via sociale media")
    PHYSICAL_VIOLENCE = "physical_violence", _("Fysiek geweld")
    FELT_EFFECTS = "felt_effects", _("Merkte gevolgen")
    LESS_PLEASURE = "less_pleasure", _("Minder plezier in het werk")
    CHANGED_BEHAVIOUR = "changed_behaviour", _("Eigen gedrag veranderd")
    MENTAL_HEALTH = "mental_health", _("Psychische klachten")
    AANGIFTE_VERBAL = "aangifte_verbal", _("Aangifte bij verbale agressie")
