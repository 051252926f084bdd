"""Tests of the Ondersteuningsteam's workspace; `escalated_case` builds their starting point."""

from incidents import services as incident_services
from support import services
from support.constants import RuleCode
from support.models import SupportCase
from tests.factories import IncidentFactory


def escalated_case(*, rules=(RuleCode.PHYSICAL_VIOLENCE,), **incident_fields) -> SupportCase:
    """An incident escalated by the rules through the real services, with its support case."""
    incident = IncidentFactory(**incident_fields)
    escalation = incident_services.incident_escalate(
        incident=incident, actor=None, rule_names=list(rules)
    )
    return services.support_case_open(escalation=escalation)
