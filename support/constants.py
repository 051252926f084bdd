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
    ADVICE = "advice", _("Advies")
    PEER_SUPPORT = "peer_support", _("Steun van een ervaringsdeskundige (peer support)")
    SECURITY_MEASURES = "security_measures", _("Beveiligingsmaatregelen en woningscan")
    LEGAL_HELP = "legal_help", _("Juridische hulp")
    COMMUNICATION_ADVICE = "communication_advice", _("Communicatieadvies")
    AFTERCARE_OFFICEHOLDER = "aftercare_officeholder", _("Nazorg voor de ambtsdrager")
    AFTERCARE_FAMILY = "aftercare_family", _("Nazorg voor partner en gezin")
    VICTIM_SUPPORT_REFERRAL = "victim_support_referral", _("Doorverwijzing naar Slachtofferhulp")
    SURVEILLANCE_PROTECTION = "surveillance_protection", _("Stelsel bewaken en beveiligen")


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
