"""The escalation rules (docs/architecture.md, "Facts, scope and escalation").

Each rule reads; none writes.

A rule gets the incident and its configuration row and answers with a RuleResult: whether it
fires (escalates). The shared-perpetrator rule never fires: it answers with the incidents of
other officeholders that share an identifier, which become a staff-only match (nothing speaks
across officeholders).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q

from incidents.constants import Channel, IncidentType, RiskFlag, Status, SupportWish, TriageSeverity
from incidents.models import Incident, PerpetratorIdentifier
from support.constants import RuleCode
from support.models import EscalationRule


@dataclass
class RuleResult:
    fired: bool
    # Other officeholders' incidents with the same perpetrator: {incident: [identifier kinds]}.
    matches: dict[Incident, list[str]] = field(default_factory=dict)


def physical_violence(incident: Incident, rule: EscalationRule) -> RuleResult:
    return RuleResult(
        IncidentType.PHYSICAL_VIOLENCE in incident.types or RiskFlag.WEAPON in incident.risk_flags
    )


def family_home_doxing(incident: Incident, rule: EscalationRule) -> RuleResult:
    return RuleResult(
        IncidentType.THREAT_TO_FAMILY in incident.types
        or RiskFlag.THREAT_TO_FAMILY in incident.risk_flags
        or incident.channel == Channel.AT_HOME
        or IncidentType.DOXING in incident.types
    )


def support_requested(incident: Incident, rule: EscalationRule) -> RuleResult:
    return RuleResult(incident.support_wish == SupportWish.SUPPORT_FROM_TEAM)


def critical(incident: Incident, rule: EscalationRule) -> RuleResult:
    return RuleResult(
        incident.triage_severity == TriageSeverity.CRITICAL
        or RiskFlag.ACUTE_DANGER in incident.risk_flags
    )


def repeat_incidents(incident: Incident, rule: EscalationRule) -> RuleResult:
    """N or more incidents against one officeholder within the window (default 3 in 30 days)."""
    if incident.officeholder_id is None:
        return RuleResult(False)
    threshold, window = rule.threshold or 3, rule.window_days or 30
    since = incident.submitted_at - timedelta(days=window)
    count = (
        Incident.objects.filter(
            officeholder_id=incident.officeholder_id,
            submitted_at__gte=since,
            submitted_at__lte=incident.submitted_at,
        )
        .exclude(status=Status.WITHDRAWN)
        .exclude(duplicate_of__isnull=False)
        .count()
    )
    return RuleResult(count >= threshold)


def shared_perpetrator(incident: Incident, rule: EscalationRule) -> RuleResult:
    """The same perpetrator identifier in incidents of N or more officeholders (default 2).

    Never escalates: it names the matching incidents, for a staff-only signal.
    """
    threshold = rule.threshold or 2
    keys = list(incident.identifiers.values_list("kind", "normalised"))
    if not keys:
        return RuleResult(False)
    same = Q()
    for kind, normalised in keys:
        same |= Q(kind=kind, normalised=normalised)
    kinds_by_incident: dict[int, set[str]] = {}
    for other_id, kind in (
        PerpetratorIdentifier.objects.filter(same)
        .exclude(incident_id=incident.pk)
        .values_list("incident_id", "kind")
    ):
        kinds_by_incident.setdefault(other_id, set()).add(kind)
    others = list(
        Incident.objects.filter(pk__in=list(kinds_by_incident))
        .exclude(status=Status.WITHDRAWN)
        .exclude(officeholder_id=incident.officeholder_id)
        .order_by("pk")
    )
    officeholders = {incident.officeholder_id} | {other.officeholder_id for other in others}
    if len(officeholders) < threshold:
        return RuleResult(False)
    return RuleResult(False, {other: sorted(kinds_by_incident[other.pk]) for other in others})


RULES = {
    RuleCode.PHYSICAL_VIOLENCE: physical_violence,
    RuleCode.FAMILY_HOME_DOXING: family_home_doxing,
    RuleCode.SUPPORT_REQUESTED: support_requested,
    RuleCode.CRITICAL: critical,
    RuleCode.REPEAT_INCIDENTS: repeat_incidents,
    RuleCode.SHARED_PERPETRATOR: shared_perpetrator,
}


def rules_evaluate(incident: Incident) -> tuple[list[str], dict[Incident, list[str]]]:
    """The codes of the enabled rules that fire for `incident`, and its perpetrator matches.

    A rule without a configuration row runs with its defaults (as the triage-deadline
    watchdog does): a missing row never silently switches escalation off; `enabled` does.
    """
    configured = {rule.code: rule for rule in EscalationRule.objects.filter(code__in=list(RULES))}
    fired, matches = [], {}
    for code, check in RULES.items():
        rule = configured.get(code) or EscalationRule(code=code)
        if not rule.enabled:
            continue
        result = check(incident, rule)
        if result.fired:
            fired.append(code.value)
        matches.update(result.matches)
    return fired, matches
