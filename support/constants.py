"""Choices of the Ondersteuningsteam's domain. Codes in English, labels in Dutch."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.constants import EscalationRuleCode, OutcomeCategory

# The rule vocabulary lives with the Escalation record it is written into (incidents).
RuleCode = EscalationRuleCode


class CaseStatus(models.TextChoices):
    NEW = "new", _("Nieuw")
    ACKNOWLEDGED = "acknowledged", _("Bevestigd")
    IN_PROGRESS = "in_progress", _("In behandeling")
    RETURNED = "returned", _("Teruggegeven aan het meldpunt")
    CLOSED = "closed", _("Afgesloten")


OPEN_CASE_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS})


class ServiceType(models.TextChoices):
    """The kinds of help in a support plan.

    December 2026: `security_measures` ("Beveiligingsmaatregelen en woningscan") became
    `security_advice`, the CCV route with its steps, and `surveillance_protection` ("Stelsel
    bewaken en beveiligen") became `protection`; support migration 0007 moved the rows and
    the counts.
    """

    ADVICE = "advice", _("Advies")
    PEER_SUPPORT = "peer_support", _("Steun van een ervaringsdeskundige (peer support)")
    SECURITY_ADVICE = "security_advice", _("Beveiligingsadvies voor thuis (CCV)")
    PROTECTION = "protection", _("Bescherming door politie en OM (stelsel bewaken en beveiligen)")
    AANGIFTE_SUPPORT = "aangifte_support", _("Hulp bij de aangifte")
    LEGAL_HELP = "legal_help", _("Juridische hulp")
    COMMUNICATION_ADVICE = "communication_advice", _("Communicatieadvies")
    AFTERCARE_OFFICEHOLDER = "aftercare_officeholder", _("Nazorg voor de ambtsdrager")
    AFTERCARE_FAMILY = "aftercare_family", _("Nazorg voor partner en gezin")
    VICTIM_SUPPORT_REFERRAL = "victim_support_referral", _("Doorverwijzing naar Slachtofferhulp")


class SecurityAdviceStep(models.TextChoices):
    """Where a security advice stands (only for `ServiceType.SECURITY_ADVICE`; empty: asked for,
    the team has not yet contacted the CCV)."""

    CCV_REQUESTED = "ccv_requested", _("Gesprek met het CCV aangevraagd")
    ADVICE_RECEIVED = "advice_received", _("Advies ontvangen")
    MEASURES_TAKEN = "measures_taken", _("Maatregelen genomen")


# What the officeholder reads about each step of their security advice.
SECURITY_ADVICE_STEP_EXPLANATIONS = {
    "": _(
        "Uw aanvraag is binnen. Het Ondersteuningsteam neemt contact met u op en vraagt een "
        "gesprek aan bij het CCV (Centrum voor Criminaliteitspreventie en Veiligheid)."
    ),
    SecurityAdviceStep.CCV_REQUESTED: _(
        "Het Ondersteuningsteam heeft een gesprek voor u aangevraagd bij het CCV. Het CCV "
        "maakt met u een afspraak."
    ),
    SecurityAdviceStep.ADVICE_RECEIVED: _(
        "Het advies van het CCV is er. Het Ondersteuningsteam bespreekt met u welke "
        "maatregelen er komen."
    ),
    SecurityAdviceStep.MEASURES_TAKEN: _("De maatregelen zijn genomen."),
}


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Gepland")
    IN_PROGRESS = "in_progress", _("Bezig")
    DONE = "done", _("Klaar")
    CANCELLED = "cancelled", _("Vervallen")


# How the team closes a case: what the officeholder then reads on their page
# (incidents.constants.OUTCOME_EXPLANATIONS).
CASE_OUTCOME_CATEGORIES = (
    OutcomeCategory.SUPPORT_GIVEN,
    OutcomeCategory.REFERRED_POLICE,
    OutcomeCategory.SUPPORT_NOT_NEEDED,
)
CASE_OUTCOME_CHOICES = [(category.value, category.label) for category in CASE_OUTCOME_CATEGORIES]
# Actions that are still to be done: closing a case with them needs a confirmation.
OPEN_ACTION_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)

ACKNOWLEDGE_WITHIN_HOURS = 4
