"""Tests of the Ondersteuningsteam's workspace; `escalated_case` builds their starting point."""

from incidents import services as incident_services
from support.constants import RuleCode
from support.models import SupportCase
from tests.factories import IncidentFactory, case_open


def escalated_case(*, rules=(RuleCode.PHYSICAL_VIOLENCE,), **incident_fields) -> SupportCase:
    """An incident escalated by the rules through the real services, with its support case."""
    incident = IncidentFactory(**incident_fields)
    escalation = incident_services.incident_escalate(incident=incident, rule_names=list(rules))
    return case_open(escalation)
