"""Protection (issue 20 part 3): a security advice for the officeholders whose function
qualifies, what the others can do instead, and the team and the desk following each step.

The eligibility per function is the administrator's list (`SecurityAdviceEligibility`,
seeded by portal 0022); the incident policy's `request_security_advice` reads it through
`portal.selectors.security_advice_allowed`. A request escalates an incident the team does not
have, once, and the team's consumer puts one security advice action in the case's plan.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from incidents.constants import EventKind, IncidentType, RiskFlag, Status
from incidents.errors import IncidentError, TransitionNotAllowed
from incidents.models import Escalation, Event, FactCount
from portal.constants import OfficeholderFunction
from portal.models import PersonChange, SecurityAdviceEligibility
from portal.selectors import security_advice_allowed
from support.constants import ActionStatus, CaseStatus, SecurityAdviceStep, ServiceType
from support.models import SupportAction, SupportCase
from support.services import security_advice_plan
from tests.conftest import verified_login
from tests.factories import (
    IncidentFactory,
    UserFactory,
    act,
    case_act,
    case_open,
)

pytestmark = pytest.mark.django_db

BUTTON = "Beveiligingsadvies aanvragen</button>"
ALTERNATIVES = "protection-alternatives"


def _count(kind: str, value: str) -> int:
    return sum(FactCount.objects.filter(kind=kind, value=value).values_list("count", flat=True))


def _officeholder(function):
    return UserFactory(function=function)


def _page(client, incident) -> str:
    verified_login(client, incident.officeholder)
    response = client.get(reverse("incidents:detail", args=[incident.reference]))
    assert response.status_code == 200
    return response.content.decode()


def _post_request(client, incident):
    incident.refresh_from_db()
    return client.post(
        reverse("incidents:security_advice", args=[incident.reference]),
        {"version": incident.version},
    )


@pytest.mark.parametrize(
    "function", [OfficeholderFunction.BURGEMEESTER, OfficeholderFunction.WETHOUDER]
)
def test_a_burgemeester_and_a_wethouder_are_offered_the_security_advice(client, function):
    """An executive officeholder sees the request button and no list of alternatives."""
    incident = IncidentFactory(officeholder=_officeholder(function))

    html = _page(client, incident)

    assert BUTTON in html
    assert ALTERNATIVES not in html


def test_a_raadslid_is_shown_what_else_helps_and_cannot_post_a_request(client):
    """A raadslid gets no button but the desk, the police and the team; a POST made by hand
    is refused with a Dutch message and changes nothing."""
    incident = IncidentFactory(officeholder=_officeholder(OfficeholderFunction.RAADSLID))

    html = _page(client, incident)
    assert BUTTON not in html
    assert ALTERNATIVES in html
    for text in ("meldpunt om advies", "0900-8844", "Ondersteuningsteam Weerbaar Bestuur"):
        assert text in html

    response = _post_request(client, incident)
    assert response.status_code == 302
    follow = client.get(response["Location"]).content.decode()
    assert "kan niet voor uw functie" in follow
    assert not Event.objects.filter(
        incident=incident, kind=EventKind.SECURITY_ADVICE_REQUESTED
    ).exists()
    assert not Escalation.objects.filter(incident=incident).exists()
    with pytest.raises(TransitionNotAllowed):
        act(incident, incident.officeholder, "request_security_advice")


def test_the_administrators_change_of_eligibility_takes_effect(client, admin_user):
    """Switching a function on in the admin offers the request on the next page; off again
    removes it (and refuses the service)."""
    incident = IncidentFactory(officeholder=_officeholder(OfficeholderFunction.STATENLID))
    row = SecurityAdviceEligibility.objects.get(function=OfficeholderFunction.STATENLID)
    assert row.may_request is False
    verified_login(client, admin_user)
    response = client.post(
        reverse("admin:portal_securityadviceeligibility_change", args=[row.pk]),
        {"may_request": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert security_advice_allowed(OfficeholderFunction.STATENLID) is True
    client.logout()

    assert BUTTON in _page(client, incident)

    row.refresh_from_db()
    row.may_request = False
    row.save()
    assert BUTTON not in _page(client, incident)
    incident.officeholder.refresh_from_db()  # a new request: nothing remembered
    with pytest.raises(TransitionNotAllowed):
        act(incident, incident.officeholder, "request_security_advice")


def test_a_function_without_a_row_falls_back_to_the_defaults():
    SecurityAdviceEligibility.objects.all().delete()

    assert security_advice_allowed(OfficeholderFunction.WETHOUDER) is True
    assert security_advice_allowed(OfficeholderFunction.DAGELIJKS_BESTUUR_WATERSCHAP) is True
    assert security_advice_allowed(OfficeholderFunction.ALGEMEEN_BESTUUR_WATERSCHAP) is False
    assert security_advice_allowed("") is False


def test_the_request_escalates_an_incident_without_a_case_once_and_plans_one_action(
    client, committed, support_user
):
    """With the desk and never escalated: the request escalates it (rule
    security_advice_requested), the case opens, one security advice action is in the plan
    (shared with the desk, no owner yet); a second request is refused, and delivering the
    request event again plans nothing more."""
    incident = IncidentFactory(
        officeholder=_officeholder(OfficeholderFunction.WETHOUDER), facts_counted=True
    )
    verified_login(client, incident.officeholder)

    with committed():
        response = _post_request(client, incident)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.ESCALATED
    escalation = Escalation.objects.get(incident=incident)
    assert escalation.rules == ["security_advice_requested"]
    case = SupportCase.objects.get(incident=incident)
    action = SupportAction.objects.get(case=case)
    assert action.service_type == ServiceType.SECURITY_ADVICE
    assert (action.step, action.owner, action.shared_with_desk) == ("", None, True)
    assert _count("rule_code", "security_advice_requested") == 1
    assert _count("action_type", "security_advice") == 1

    with committed():
        again = _post_request(client, incident)
    assert "al beveiligingsadvies aangevraagd" in client.get(again["Location"]).content.decode()
    event = Event.objects.get(incident=incident, kind=EventKind.SECURITY_ADVICE_REQUESTED)
    assert security_advice_plan(event=event) == action
    assert Escalation.objects.filter(incident=incident).count() == 1
    assert SupportAction.objects.filter(case__incident=incident).count() == 1
    assert _count("action_type", "security_advice") == 1


def test_a_request_on_an_incident_the_team_has_joins_its_case(committed, support_user):
    """Escalated already, case in progress: no second escalation; the action goes into the
    existing plan with the casemanager as owner."""
    officeholder = _officeholder(OfficeholderFunction.BURGEMEESTER)
    incident = IncidentFactory(officeholder=officeholder, escalated=True)
    case = case_open(incident.escalations.get())
    case_act(case, support_user, "acknowledge")

    with committed():
        act(incident, officeholder, "request_security_advice")

    assert Escalation.objects.filter(incident=incident).count() == 1
    action = SupportAction.objects.get(case=case)
    assert (action.service_type, action.owner) == (ServiceType.SECURITY_ADVICE, support_user)
    with pytest.raises(IncidentError):
        act(incident, officeholder, "request_security_advice")


def test_the_team_moves_the_steps_and_the_officeholder_and_the_desk_see_them(
    client, committed, support_user
):
    """The team sets the step (and an owner); the officeholder's page shows where it stands,
    the desk's page shows the shared action with its step."""
    officeholder = _officeholder(OfficeholderFunction.WETHOUDER)
    incident = IncidentFactory(officeholder=officeholder)
    with committed():
        act(incident, officeholder, "request_security_advice")
    case = SupportCase.objects.get(incident=incident)
    case_act(case, support_user, "acknowledge")
    action = SupportAction.objects.get(case=case)

    case_act(
        case,
        support_user,
        "update_action",
        support_action=action,
        step=SecurityAdviceStep.ADVICE_RECEIVED,
        owner=support_user,
        status=ActionStatus.IN_PROGRESS,
    )
    action.refresh_from_db()
    assert (action.step, action.owner) == (SecurityAdviceStep.ADVICE_RECEIVED, support_user)

    html = _page(client, incident)
    assert "Uw beveiligingsadvies" in html
    assert "Advies ontvangen" in html
    assert BUTTON not in html

    registrar = UserFactory(registrar=True, desk=incident.desk)
    verified_login(client, registrar)
    desk_html = client.get(reverse("desk:detail", args=[incident.reference])).content.decode()
    assert "Beveiligingsadvies voor thuis (CCV)" in desk_html
    assert "Advies ontvangen" in desk_html

    verified_login(client, support_user)
    case_html = client.get(reverse("support:case", args=[incident.reference])).content.decode()
    assert "Advies ontvangen" in case_html
    assert "Ambtsdrager vraagt beveiligingsadvies" in case_html


def test_only_a_security_advice_has_steps(support_user):
    from support.errors import SupportError

    incident = IncidentFactory(escalated=True)
    case = case_open(incident.escalations.get())
    case_act(case, support_user, "acknowledge")
    planned = case_act(
        case, support_user, "add_action", service_type=ServiceType.LEGAL_HELP, owner=support_user
    )
    with pytest.raises(SupportError):
        case_act(
            case,
            support_user,
            "update_action",
            support_action=planned.support_action,
            step=SecurityAdviceStep.CCV_REQUESTED,
        )


@pytest.mark.parametrize(
    ("facts", "explained"),
    [
        ({"types": [IncidentType.DOXING]}, True),
        ({"risk_flags": [RiskFlag.HOME_ADDRESS_KNOWN]}, True),
        ({"types": [IncidentType.THREAT]}, False),
    ],
)
def test_address_shielding_and_the_doxing_article_are_explained_where_they_apply(
    client, facts, explained
):
    incident = IncidentFactory(officeholder=_officeholder(OfficeholderFunction.RAADSLID), **facts)

    html = _page(client, incident)

    assert ("artikel 285d" in html) is explained
    assert ("Handelsregister" in html) is explained


def test_the_officeholder_never_sees_another_action_of_the_plan(client, support_user):
    """The officeholder's page shows the action of their own request only."""
    officeholder = _officeholder(OfficeholderFunction.WETHOUDER)
    incident = IncidentFactory(officeholder=officeholder, escalated=True)
    case = case_open(incident.escalations.get())
    case_act(case, support_user, "acknowledge")
    case_act(
        case, support_user, "add_action", service_type=ServiceType.PROTECTION, owner=support_user
    )

    html = _page(client, incident)

    assert "Uw beveiligingsadvies" not in html
    assert "stelsel bewaken en beveiligen" not in html


# --- The migrations ------------------------------------------------------------------------


def _migration(app: str, name: str):
    return importlib.import_module(f"{app}.migrations.{name}")


def test_the_function_split_maps_the_former_code_to_the_algemeen_bestuur():
    migration = _migration("portal", "0023_waterschap_functions_and_security_advice_eligibility")

    assert migration.function_split("waterschapsbestuurder") == "algemeen_bestuur_waterschap"
    assert migration.function_split("wethouder") == "wethouder"
    assert migration.function_merge("dagelijks_bestuur_waterschap") == "waterschapsbestuurder"
    assert migration.function_merge("algemeen_bestuur_waterschap") == "waterschapsbestuurder"
    assert migration.function_merge("raadslid") == "raadslid"


def test_the_function_split_moves_people_once_and_records_it():
    migration = _migration("portal", "0023_waterschap_functions_and_security_advice_eligibility")
    person = UserFactory(function="waterschapsbestuurder")
    other = UserFactory(function=OfficeholderFunction.WETHOUDER)

    migration.functions_split(django_apps, None)
    migration.functions_split(django_apps, None)

    person.refresh_from_db()
    other.refresh_from_db()
    assert person.function == OfficeholderFunction.ALGEMEEN_BESTUUR_WATERSCHAP
    assert other.function == OfficeholderFunction.WETHOUDER
    change = PersonChange.objects.get(person=person, field="function")
    assert (change.actor, change.old_value, change.new_value) == (
        None,
        "waterschapsbestuurder",
        "algemeen_bestuur_waterschap",
    )


def test_the_action_types_move_with_their_counts(support_user):
    """security_measures becomes security_advice and surveillance_protection protection, in
    the actions and in the fact counts; a second run changes nothing."""
    migration = _migration("support", "0007_security_advice_action_types")
    incident = IncidentFactory(escalated=True)
    case = case_open(incident.escalations.get())
    case_act(case, support_user, "acknowledge")
    for service_type in (ServiceType.LEGAL_HELP, ServiceType.ADVICE):
        case_act(case, support_user, "add_action", service_type=service_type, owner=support_user)
    old, kept = SupportAction.objects.order_by("pk")
    SupportAction.objects.filter(pk=old.pk).update(service_type="security_measures")
    FactCount.objects.filter(kind="action_type", value=ServiceType.LEGAL_HELP).update(
        value="security_measures"
    )

    migration.service_types_rename(django_apps, None)
    migration.service_types_rename(django_apps, None)

    old.refresh_from_db()
    kept.refresh_from_db()
    assert (old.service_type, kept.service_type) == ("security_advice", "advice")
    assert not FactCount.objects.filter(value="security_measures").exists()
    assert _count("action_type", "security_advice") == 1


def test_the_case_becomes_new_and_the_action_follows_from_the_request(committed):
    """Nobody of the team acknowledged yet: the case is new and the plan has the action."""
    incident = IncidentFactory(officeholder=_officeholder(OfficeholderFunction.GEDEPUTEERDE))
    with committed():
        act(incident, incident.officeholder, "request_security_advice")

    case = SupportCase.objects.get(incident=incident)
    assert case.status == CaseStatus.NEW
    assert case.actions.get().service_type == ServiceType.SECURITY_ADVICE
