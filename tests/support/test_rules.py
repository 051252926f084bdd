"""The six escalation rules: each fires at its threshold and not below it, as configured.

Rule 6 (the same perpetrator at several officeholders) never escalates: it names the matching
incidents, which become a staff-only match.
"""

import importlib
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.constants import (
    Channel,
    EventKind,
    IdentifierKind,
    IncidentType,
    RiskFlag,
    Status,
    SupportWish,
    TriageSeverity,
)
from incidents.models import Escalation, IncidentLink, PerpetratorMatch
from support import rules
from support.constants import RuleCode
from support.models import EscalationRule, SupportCase
from support.services import incident_rules_apply
from tests.factories import (
    IncidentFactory,
    PerpetratorIdentifierFactory,
    UserFactory,
    act,
    case_act,
    case_open,
)

pytestmark = pytest.mark.django_db

DEFAULT_RULES = importlib.import_module("support.migrations.0002_default_rules").DEFAULT_RULES


@pytest.fixture
def default_rules(db):
    """The rule rows exactly as the data migration creates them, by code.

    A transactional test elsewhere in the run flushes tables, migrated rows included, so the
    rows are put back here rather than assumed.
    """
    for code, threshold, window_days in DEFAULT_RULES:
        EscalationRule.objects.update_or_create(
            code=code,
            defaults={"enabled": True, "threshold": threshold, "window_days": window_days},
        )
    return {rule.code: rule for rule in EscalationRule.objects.all()}


def _fires(code: str, incident, default_rules) -> bool:
    return rules.RULES[RuleCode(code)](incident, default_rules[code]).fired


def _matches(incident, default_rules) -> dict:
    """The other officeholders' incidents rule 6 names for `incident`, with the kinds shared."""
    result = rules.shared_perpetrator(incident, default_rules[RuleCode.SHARED_PERPETRATOR])
    assert not result.fired, "rule 6 never escalates by itself"
    return result.matches


# --- Rules 1 to 4: facts of the incident itself ----------------------------------------------

SINGLE_INCIDENT_CASES = [
    # (rule, facts, fires)
    (RuleCode.PHYSICAL_VIOLENCE, {"types": [IncidentType.PHYSICAL_VIOLENCE]}, True),
    (RuleCode.PHYSICAL_VIOLENCE, {"risk_flags": [RiskFlag.WEAPON]}, True),
    (
        RuleCode.PHYSICAL_VIOLENCE,
        {"types": [IncidentType.THREAT, IncidentType.PROPERTY_DAMAGE]},
        False,
    ),
    (RuleCode.FAMILY_HOME_DOXING, {"types": [IncidentType.THREAT_TO_FAMILY]}, True),
    (RuleCode.FAMILY_HOME_DOXING, {"risk_flags": [RiskFlag.THREAT_TO_FAMILY]}, True),
    (RuleCode.FAMILY_HOME_DOXING, {"channel": Channel.AT_HOME}, True),
    (RuleCode.FAMILY_HOME_DOXING, {"types": [IncidentType.DOXING]}, True),
    (
        RuleCode.FAMILY_HOME_DOXING,
        {
            "types": [IncidentType.VERBAL_AGGRESSION],
            "channel": Channel.SOCIAL_MEDIA,
            "risk_flags": [RiskFlag.HOME_ADDRESS_KNOWN],
        },
        False,
    ),
    (RuleCode.SUPPORT_REQUESTED, {"support_wish": SupportWish.SUPPORT_FROM_TEAM}, True),
    (RuleCode.SUPPORT_REQUESTED, {"support_wish": SupportWish.CONTACT_WITH_DESK}, False),
    (RuleCode.SUPPORT_REQUESTED, {"support_wish": ""}, False),
    (RuleCode.CRITICAL, {"triage_severity": TriageSeverity.CRITICAL}, True),
    (RuleCode.CRITICAL, {"risk_flags": [RiskFlag.ACUTE_DANGER]}, True),
    (
        RuleCode.CRITICAL,
        {"triage_severity": TriageSeverity.HIGH, "risk_flags": [RiskFlag.WEAPON]},
        False,
    ),
]


@pytest.mark.parametrize(
    ("code", "facts", "fires"),
    SINGLE_INCIDENT_CASES,
    ids=[f"{code}-{i}" for i, (code, _facts, _fires) in enumerate(SINGLE_INCIDENT_CASES)],
)
def test_single_incident_rules_fire_exactly_on_their_facts(code, facts, fires, default_rules):
    """Rules 1-4 fire on the facts the escalation rules name (physical violence or a weapon; family,
    home or doxing; a request for the team; critical severity or acute danger) and on
    nothing else; `rules_evaluate` agrees with the rule function."""
    incident = IncidentFactory(**{"types": [IncidentType.THREAT], **facts})

    assert _fires(code, incident, default_rules) is fires
    fired, _matches = rules.rules_evaluate(incident)
    assert (code in fired) is fires


# --- Rule 5: three incidents against one officeholder in 30 days ------------------------------


def _incident_days_ago(officeholder, days: float, **facts):
    submitted_at = timezone.now() - timedelta(days=days)
    return IncidentFactory(officeholder=officeholder, submitted_at=submitted_at, **facts)


def test_repeat_rule_does_not_fire_for_two_incidents_in_30_days(officeholder, default_rules):
    """Two incidents against the same officeholder within 30 days stay below the threshold."""
    _incident_days_ago(officeholder, 10)
    latest = _incident_days_ago(officeholder, 0)

    assert not _fires(RuleCode.REPEAT_INCIDENTS, latest, default_rules)


def test_repeat_rule_fires_for_the_third_incident_in_30_days(officeholder, default_rules):
    """The third incident against one officeholder within 30 days escalates."""
    _incident_days_ago(officeholder, 29)
    _incident_days_ago(officeholder, 5)
    latest = _incident_days_ago(officeholder, 0)

    assert _fires(RuleCode.REPEAT_INCIDENTS, latest, default_rules)


def test_repeat_rule_ignores_an_incident_31_days_earlier(officeholder, default_rules):
    """An incident on the 31st day before falls outside the window: two count, no escalation."""
    _incident_days_ago(officeholder, 31)
    _incident_days_ago(officeholder, 5)
    latest = _incident_days_ago(officeholder, 0)

    assert not _fires(RuleCode.REPEAT_INCIDENTS, latest, default_rules)


def test_repeat_rule_counts_only_this_officeholder_and_not_withdrawn_ones(
    officeholder, default_rules
):
    """Incidents of another officeholder, and withdrawn ones, do not count."""
    _incident_days_ago(UserFactory(), 3)
    _incident_days_ago(officeholder, 3, status=Status.WITHDRAWN)
    _incident_days_ago(officeholder, 2)
    latest = _incident_days_ago(officeholder, 0)

    assert not _fires(RuleCode.REPEAT_INCIDENTS, latest, default_rules)


def test_a_tuned_threshold_is_respected(officeholder, default_rules):
    """With the threshold tuned to 4 in the admin, three incidents no longer escalate; the
    fourth does."""
    EscalationRule.objects.filter(code=RuleCode.REPEAT_INCIDENTS).update(threshold=4)
    _incident_days_ago(officeholder, 20)
    _incident_days_ago(officeholder, 10)
    third = _incident_days_ago(officeholder, 1)

    assert RuleCode.REPEAT_INCIDENTS not in rules.rules_evaluate(third)[0]

    fourth = _incident_days_ago(officeholder, 0)
    assert RuleCode.REPEAT_INCIDENTS in rules.rules_evaluate(fourth)[0]


def test_a_tuned_window_is_respected(officeholder, default_rules):
    """With the window shortened to 7 days, incidents 10 days earlier no longer count."""
    EscalationRule.objects.filter(code=RuleCode.REPEAT_INCIDENTS).update(window_days=7)
    _incident_days_ago(officeholder, 10)
    _incident_days_ago(officeholder, 9)
    latest = _incident_days_ago(officeholder, 0)

    assert RuleCode.REPEAT_INCIDENTS not in rules.rules_evaluate(latest)[0]


# --- Rule 6: the same perpetrator at two or more officeholders ----------------------------------


def _with_handle(incident, value):
    PerpetratorIdentifierFactory(incident=incident, kind=IdentifierKind.HANDLE, value=value)
    return incident


def test_shared_perpetrator_rule_needs_two_officeholders(officeholder, default_rules):
    """The same handle in two incidents of ONE officeholder is not a shared perpetrator."""
    _with_handle(IncidentFactory(officeholder=officeholder), "@Jan_Boos")
    latest = _with_handle(IncidentFactory(officeholder=officeholder), "@Jan_Boos")

    assert _matches(latest, default_rules) == {}


def test_shared_perpetrator_rule_matches_two_officeholders(officeholder, default_rules):
    """The same handle (written differently, normalised alike) at two officeholders names the
    other officeholder's incident and the kind of identifier they share; it does not fire."""
    earlier = _with_handle(IncidentFactory(), "https://x.com/jan_boos?s=20")
    latest = _with_handle(IncidentFactory(officeholder=officeholder), "@Jan_Boos")

    assert _matches(latest, default_rules) == {earlier: [IdentifierKind.HANDLE]}
    assert not _fires(RuleCode.SHARED_PERPETRATOR, latest, default_rules)


def test_shared_perpetrator_rule_ignores_other_handles_and_withdrawn_incidents(default_rules):
    """A different handle, or the same handle in a withdrawn incident, is no match."""
    _with_handle(IncidentFactory(), "@iemand_anders")
    _with_handle(IncidentFactory(status=Status.WITHDRAWN), "@Jan_Boos")
    latest = _with_handle(IncidentFactory(), "@Jan_Boos")

    assert _matches(latest, default_rules) == {}


def test_shared_perpetrator_threshold_of_three_officeholders(default_rules):
    """Tuned to 3 officeholders, two give no match and three do (naming both others)."""
    EscalationRule.objects.filter(code=RuleCode.SHARED_PERPETRATOR).update(threshold=3)
    first = _with_handle(IncidentFactory(), "@Jan_Boos")
    second = _with_handle(IncidentFactory(), "@Jan_Boos")
    assert rules.rules_evaluate(second) == ([], {})

    third = _with_handle(IncidentFactory(), "@Jan_Boos")
    fired, matches = rules.rules_evaluate(third)
    assert RuleCode.SHARED_PERPETRATOR not in fired
    assert set(matches) == {first, second}


def test_shared_perpetrator_records_a_staff_only_match_and_escalates_nothing(default_rules):
    """Applying the rules records one match between the latest incident and the other
    officeholder's; neither is escalated or linked, and no event is written on either."""
    earlier = _with_handle(IncidentFactory(), "@Jan_Boos")
    latest = _with_handle(IncidentFactory(), "jan_boos")

    assert incident_rules_apply(incident=latest) is None
    assert incident_rules_apply(incident=latest) is None

    match = PerpetratorMatch.objects.get()
    assert (match.first_id, match.second_id) == (earlier.pk, latest.pk)
    assert match.kinds == [IdentifierKind.HANDLE]
    assert not Escalation.objects.exists()
    assert not IncidentLink.objects.exists()
    for incident in (earlier, latest):
        incident.refresh_from_db()
        assert incident.status == Status.SUBMITTED
        assert incident.version == 1
        assert not incident.events.exists()


# --- Configuration and bookkeeping ------------------------------------------------------------


def test_a_disabled_rule_does_not_fire(default_rules):
    """Switched off in the admin, the physical-violence rule no longer escalates."""
    EscalationRule.objects.filter(code=RuleCode.PHYSICAL_VIOLENCE).update(enabled=False)
    incident = IncidentFactory(types=[IncidentType.PHYSICAL_VIOLENCE])

    assert rules.rules_evaluate(incident) == ([], {})
    assert incident_rules_apply(incident=incident) is None
    assert not Escalation.objects.exists()


def test_a_missing_rule_row_falls_back_to_the_default(default_rules):
    """A rule without a configuration row runs with its defaults, as the triage-deadline rule
    does: a flushed or deleted row never silently switches escalation off."""
    EscalationRule.objects.filter(code=RuleCode.PHYSICAL_VIOLENCE).delete()
    incident = IncidentFactory(types=[IncidentType.PHYSICAL_VIOLENCE])

    assert rules.rules_evaluate(incident)[0] == [RuleCode.PHYSICAL_VIOLENCE]


def test_the_escalation_records_every_rule_that_fired(default_rules, committed):
    """An incident that meets three rules at once is escalated once, naming all three, and
    gets one support case (opened by the outbox consumer of the escalation, after commit)."""
    incident = IncidentFactory(
        types=[IncidentType.PHYSICAL_VIOLENCE, IncidentType.DOXING],
        support_wish=SupportWish.SUPPORT_FROM_TEAM,
    )

    with committed():
        escalation = incident_rules_apply(incident=incident)
        assert not SupportCase.objects.exists()

    assert escalation.rules == [
        RuleCode.PHYSICAL_VIOLENCE,
        RuleCode.FAMILY_HOME_DOXING,
        RuleCode.SUPPORT_REQUESTED,
    ]
    assert escalation.escalated_by is None
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    assert SupportCase.objects.get().escalation == escalation


def test_applying_the_rules_to_an_escalated_incident_changes_nothing(default_rules, committed):
    """Evaluating again while the escalation is open creates no second escalation (and no
    second case or event)."""
    incident = IncidentFactory(types=[IncidentType.PHYSICAL_VIOLENCE])
    with committed():
        incident_rules_apply(incident=incident)
    incident.refresh_from_db()
    events = incident.events.count()

    with committed():
        assert incident_rules_apply(incident=incident) is None
    assert Escalation.objects.count() == 1
    assert SupportCase.objects.count() == 1
    assert incident.events.count() == events
    assert incident.events.filter(kind=EventKind.ESCALATED).count() == 1


def test_a_rule_that_caused_a_returned_escalation_does_not_fire_again(
    registrar, support_user, default_rules, officeholder
):
    """After the team returns the case, the rule that escalated it does not send it straight
    back; a rule that had not fired before (critical after triage) still escalates."""
    incident = IncidentFactory(officeholder=officeholder, types=[IncidentType.PHYSICAL_VIOLENCE])
    first = incident_rules_apply(incident=incident)
    case = case_open(first)
    case_act(case, support_user, "return_to_desk", reason="Past beter bij het meldpunt.")
    incident.refresh_from_db()
    assert incident.status == Status.IN_TRIAGE

    assert incident_rules_apply(incident=incident) is None
    assert Escalation.objects.count() == 1

    incident = act(
        incident,
        registrar,
        "triage",
        triage_severity=TriageSeverity.CRITICAL,
        risk_flags=[],
        types=[IncidentType.PHYSICAL_VIOLENCE],
        advice_given=[],
    )
    second = incident_rules_apply(incident=incident)

    assert second is not None
    assert second.rules == [RuleCode.CRITICAL]
    assert Escalation.objects.filter(incident=incident, closed_at__isnull=True).get() == second
