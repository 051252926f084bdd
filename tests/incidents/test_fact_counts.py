"""The fact counts (incidents.FactCount) stay exact through every change the services make.

Each test drives incidents through the real services (submit, complete, triage, escalate,
support actions, withdraw, duplicate, delete) and then compares the stored counts with the
counts computed again from every incident's decrypted facts: they must be equal, with no row
left over.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import fact_counts
from incidents.constants import (
    AffectedPerson,
    FactKind,
    Impact,
    IncidentType,
    RiskFlag,
    Status,
)
from incidents.management.commands.encrypt_incident_facts import convert_all
from incidents.models import FactCount, FactPeopleCount, Incident
from incidents.services import (
    incident_complete,
    incident_delete_withdrawn,
    incident_escalate,
    incident_submit,
    incident_take_back,
    reachability_watch,
)
from portal.models import SiteConfiguration
from support.constants import ServiceType
from support.management.commands.encrypt_support_facts import convert_all as support_convert_all
from support.models import SupportAction
from tests.conftest import verified_login
from tests.factories import (
    DeskFactory,
    IncidentFactory,
    OrganisationFactory,
    UserFactory,
    act,
    case_act,
    case_open,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("escalation_rules_off")]


def _facts(**overrides):
    facts = {
        "types": [IncidentType.THREAT, IncidentType.DOXING],
        "occurred_on": timezone.localdate() - timedelta(days=1),
        "summary": "Mijn adres stond online, met een dreigement erbij.",
        "impacts": [Impact.MENTAL_HEALTH],
        "affected_people": [AffectedPerson.CHILDREN],
    }
    facts.update(overrides)
    return facts


def _expected() -> Counter:
    """The counts computed again from every incident's own (decrypted) facts."""
    expected = Counter()
    for incident in Incident.objects.select_related("organisation"):
        key = fact_counts.key_of(incident)
        facts = Counter()
        if incident.facts_counted:
            facts = fact_counts.incident_facts(incident)
            for escalation in incident.escalations.all():
                facts.update(fact_counts.rule_facts(escalation.rules))
                case = getattr(escalation, "support_case", None)
                if case is not None and case.acknowledged_at is not None:
                    facts.update(
                        fact_counts.acknowledgement_facts(
                            escalated_at=escalation.created_at,
                            acknowledged_at=case.acknowledged_at,
                        )
                    )
        for action in SupportAction.objects.filter(case__incident=incident, facts_counted=True):
            facts[(FactKind.ACTION_TYPE.value, action.service_type)] += 1
        for fact, count in facts.items():
            expected[(key[:3], fact)] += count
    return +expected


def _stored() -> Counter:
    """The stored counts; the per-person rollup always adds up to exactly the same."""
    stored = Counter()
    for row in FactCount.objects.all():
        stored[((row.organisation_id, row.desk_id, row.month), (row.kind, row.value))] += row.count
    assert all(count >= 0 for count in stored.values()), stored
    by_people = Counter()
    for row in FactPeopleCount.objects.all():
        key = ((row.organisation_id, row.desk_id, row.month), (row.kind, row.value))
        by_people[key] += row.count
    assert +by_people == +stored
    return +stored


def _count(kind, value="") -> int:
    return sum(FactCount.objects.filter(kind=kind, value=value).values_list("count", flat=True))


def test_submit_counts_the_facts_once_each_in_the_month_filed(officeholder):
    """A new incident adds one to the incidents and to each of its facts, in its month."""
    incident = incident_submit(officeholder=officeholder, facts=_facts(), quick=False)
    assert incident.facts_counted
    assert _count(FactKind.INCIDENT) == 1
    assert _count(FactKind.TYPE, IncidentType.THREAT) == 1
    assert _count(FactKind.TYPE, IncidentType.DOXING) == 1
    assert _count(FactKind.IMPACT, Impact.MENTAL_HEALTH) == 1
    assert _count(FactKind.AFFECTED_PERSON, AffectedPerson.CHILDREN) == 1
    month = FactCount.objects.values_list("month", flat=True).distinct()
    assert list(month) == [fact_counts.month_of(incident)]
    assert month[0].day == 1
    assert _stored() == _expected()


def test_counts_follow_completion_triage_escalation_actions_and_closing(
    officeholder, registrar, support_user
):
    """Completing, triaging, escalating (by rule), support actions, withdrawing, closing as a
    duplicate and deleting a withdrawn incident all keep the counts equal to the facts."""
    first = incident_submit(officeholder=officeholder, facts=_facts(), quick=False)
    second = incident_submit(
        officeholder=officeholder, facts=_facts(types=[IncidentType.THREAT]), quick=True
    )
    third = incident_submit(officeholder=officeholder, facts=_facts(), quick=False)
    assert _stored() == _expected()

    # The officeholder corrects the facts: the old ones go, the new ones come.
    incident_complete(
        incident=second,
        actor=officeholder,
        facts=_facts(
            types=[IncidentType.VERBAL_AGGRESSION],
            impacts=[Impact.SICK_LEAVE, Impact.MENTAL_HEALTH],
            affected_people=[],
        ),
        identifiers=[],
        version=second.version,
    )
    assert _count(FactKind.TYPE, IncidentType.THREAT) == 2
    assert _count(FactKind.TYPE, IncidentType.VERBAL_AGGRESSION) == 1
    assert _count(FactKind.IMPACT, Impact.MENTAL_HEALTH) == 3
    assert _stored() == _expected()

    # The desk triages: other types and risk flags.
    act(first, registrar, "take")
    act(
        first,
        registrar,
        "triage",
        triage_severity="high",
        types=[IncidentType.PHYSICAL_VIOLENCE],
        risk_flags=[RiskFlag.WEAPON, RiskFlag.HOME_ADDRESS_KNOWN],
    )
    assert _count(FactKind.TYPE, IncidentType.PHYSICAL_VIOLENCE) == 1
    assert _count(FactKind.RISK_FLAG, RiskFlag.WEAPON) == 1
    assert _stored() == _expected()

    # The rules engine escalates; the team plans two actions.
    escalation = incident_escalate(incident=first, rule_names=["physical_violence", "critical"])
    assert _count(FactKind.RULE_CODE, "physical_violence") == 1
    case = case_open(escalation)
    case = case_act(case, support_user, "acknowledge")
    for service in (ServiceType.LEGAL_HELP, ServiceType.AFTERCARE_FAMILY):
        case_act(case, support_user, "add_action", service_type=service, owner=support_user)
    assert _count(FactKind.ACTION_TYPE, ServiceType.LEGAL_HELP) == 1
    assert _stored() == _expected()

    # Closing as a duplicate takes the incident's facts out; withdrawing too, and deleting a
    # withdrawn incident changes nothing more.
    act(third, registrar, "mark_duplicate", original=second)
    assert _count(FactKind.INCIDENT) == 2
    assert _stored() == _expected()
    act(second, officeholder, "withdraw", reason="Toch niet.")
    assert Incident.objects.get(pk=second.pk).status == Status.WITHDRAWN
    assert _count(FactKind.INCIDENT) == 1
    assert _stored() == _expected()
    incident_delete_withdrawn(incident=second, actor=officeholder)
    # Its duplicate stands on its own again.
    assert _count(FactKind.INCIDENT) == 2
    assert _stored() == _expected()


def test_an_incident_not_counted_yet_moves_no_counts(registrar):
    """A row made around the services (before the conversion) changes no counts when it is
    triaged; the conversion counts it afterwards, once."""
    officeholder = UserFactory(organisation__desk=registrar.desk)
    incident = IncidentFactory(officeholder=officeholder)
    assert not incident.facts_counted
    act(incident, registrar, "take")
    act(
        incident, registrar, "triage", triage_severity="low", types=[IncidentType.VERBAL_AGGRESSION]
    )
    assert not FactCount.objects.exists()
    assert convert_all() == 1
    assert _count(FactKind.TYPE, IncidentType.VERBAL_AGGRESSION) == 1
    assert _stored() == _expected()


def test_the_desk_overview_shows_this_months_types_from_the_counts(client, registrar):
    """The overview lists this month's incidents per type, read from the fact counts."""
    officeholder = UserFactory(organisation__desk=registrar.desk)
    incident_submit(officeholder=officeholder, facts=_facts(), quick=False)
    incident_submit(
        officeholder=officeholder, facts=_facts(types=[IncidentType.THREAT]), quick=False
    )
    verified_login(client, registrar)
    overview = client.get(reverse("desk:overview")).context["overview"]
    assert [(code, count) for code, _label, count in overview.per_type] == [
        (IncidentType.THREAT, 2),
        (IncidentType.DOXING, 1),
    ]


def test_a_report_moved_to_the_fallback_desk_and_taken_back_stays_counted_at_its_own_desk(
    committed,
):
    """A report filed while its own desk is unread goes to the fallback desk, is offered back
    and taken back: all that time it counts once, under its own desk."""
    island = DeskFactory(name="Meldpunt Caribisch Nederland", unread=True)
    fallback = DeskFactory(name="Meldpunt Utrecht", unread=True)
    UserFactory(registrar=True, desk=fallback)
    SiteConfiguration.objects.update_or_create(pk=1, defaults={"fallback_desk": fallback})
    officeholder = UserFactory(organisation=OrganisationFactory(desk=island, caribbean=True))
    incident = incident_submit(officeholder=officeholder, facts=_facts(), quick=False)
    assert incident.desk == fallback
    assert set(FactCount.objects.values_list("desk_id", flat=True)) == {island.pk}
    assert _stored() == _expected()

    registrar = UserFactory(registrar=True, desk=island)
    with committed():
        assert reachability_watch()["offered_back"] == 1
    incident.refresh_from_db()
    taken = incident_take_back(incident=incident, actor=registrar, version=incident.version)
    assert taken.desk == island
    assert set(FactCount.objects.values_list("desk_id", flat=True)) == {island.pk}
    assert _count(FactKind.INCIDENT) == 1
    assert _stored() == _expected()


def test_support_actions_made_before_are_counted_once_by_their_command(officeholder, support_user):
    """An action from before the counts (`facts_counted` False) is counted by
    `encrypt_support_facts`, once; a new one is counted when it is added."""
    incident = incident_submit(officeholder=officeholder, facts=_facts(), quick=False)
    escalation = incident_escalate(incident=incident, rule_names=["critical"])
    case = case_act(case_open(escalation), support_user, "acknowledge")
    case_act(
        case, support_user, "add_action", service_type=ServiceType.LEGAL_HELP, owner=support_user
    )
    old = SupportAction.objects.create(
        case=case,
        service_type=ServiceType.ADVICE,
        owner=support_user,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    assert not old.facts_counted
    assert _count(FactKind.ACTION_TYPE, ServiceType.LEGAL_HELP) == 1
    assert _count(FactKind.ACTION_TYPE, ServiceType.ADVICE) == 0

    assert support_convert_all() == 1
    assert support_convert_all() == 0
    assert _count(FactKind.ACTION_TYPE, ServiceType.ADVICE) == 1
    assert _count(FactKind.ACTION_TYPE, ServiceType.LEGAL_HELP) == 1
    assert _stored() == _expected()
