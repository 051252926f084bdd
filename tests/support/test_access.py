"""Who sees what of the support domain: cases, actions, the workspace and the admin.

Scoping (docs/architecture.md): support sees escalated incidents only; other roles never see the
workspace (404, like a page that does not exist); the desk sees only the support actions
marked as shared; the functional administrator sees no free text of cases.
"""

import pytest
from django.http import Http404
from django.urls import reverse

from portal.panels import panels_render
from support.constants import ServiceType
from support.models import SupportCase
from support.policies import case_policy, support_action_policy
from support.selectors import case_get_for
from tests.conftest import verified_login
from tests.factories import IncidentFactory, UserFactory, case_act
from tests.support import escalated_case

pytestmark = pytest.mark.django_db

SECRET_OUTCOME = "Geheime uitkomst: advocaat ingeschakeld voor de familie."
SECRET_DESCRIPTION = "Afspraak met de advocaat over de buurman op de Dorpsstraat."


def _planned_case(support_user) -> SupportCase:
    """An acknowledged case with one action shared with the desk and one kept in the team."""
    case = escalated_case()
    case = case_act(case, support_user, "acknowledge")
    case_act(
        case,
        support_user,
        "add_action",
        service_type=ServiceType.LEGAL_HELP,
        owner=support_user,
        description="Gedeeld: juridisch advies over aangifte.",
        shared_with_desk=True,
    )
    case_act(
        case,
        support_user,
        "add_action",
        service_type=ServiceType.AFTERCARE_FAMILY,
        owner=support_user,
        description=SECRET_DESCRIPTION,
        shared_with_desk=False,
    )
    return case


# --- support.policies ---------------------------------------------------------------------------


def test_support_sees_every_case_and_other_roles_none(support_user, registrar, officeholder):
    """case_policy.queryset: all cases for support; none for officeholder, registrar or admin."""
    first, second = escalated_case(), escalated_case()
    assert set(case_policy.queryset(support_user, "view")) == {first, second}
    assert case_policy.allows(support_user, "view", first)
    for user in (officeholder, registrar, UserFactory(admin=True)):
        assert not case_policy.queryset(user, "view").exists()
        assert not case_policy.allows(user, "view", first)


def test_case_get_for_finds_the_case_by_incident_reference(support_user):
    """Support fetches the case of an escalated incident by the incident's reference."""
    case = escalated_case()
    assert case_get_for(support_user, case.incident.reference) == case


def test_case_get_for_answers_404_for_a_non_escalated_incident(support_user):
    """An incident that was never escalated does not exist for support (404)."""
    incident = IncidentFactory()
    with pytest.raises(Http404):
        case_get_for(support_user, incident.reference)


def test_case_get_for_answers_404_for_other_roles(registrar, admin_user):
    """Even the officeholder of an escalated incident and its desk get a 404 for the case."""
    case = escalated_case(officeholder=UserFactory(organisation__desk=registrar.desk))
    for user in (case.incident.officeholder, registrar, admin_user):
        with pytest.raises(Http404):
            case_get_for(user, case.incident.reference)


def test_registrar_sees_only_shared_actions_of_own_desk(support_user):
    """support_action_policy: support all, the desk only the shared ones, others nothing."""
    case = _planned_case(support_user)
    incident = case.incident
    own_registrar = UserFactory(registrar=True, desk=incident.desk)
    other_registrar = UserFactory(registrar=True)

    def visible(user):
        return support_action_policy.queryset(user, "view").filter(case__incident=incident)

    assert {a.service_type for a in visible(support_user)} == {
        ServiceType.LEGAL_HELP,
        ServiceType.AFTERCARE_FAMILY,
    }
    shared = list(visible(own_registrar))
    assert [a.service_type for a in shared] == [ServiceType.LEGAL_HELP]
    assert all(a.shared_with_desk for a in shared)
    assert not visible(other_registrar).exists()
    assert not visible(incident.officeholder).exists()
    for action in case.actions.all():
        assert support_action_policy.allows(own_registrar, "view", action) == (
            action.shared_with_desk
        )
        assert not support_action_policy.allows(other_registrar, "view", action)
        assert not support_action_policy.allows(incident.officeholder, "view", action)


def _render_desk_panels(incident, user) -> str:
    return str(panels_render("desk_incident", incident=incident, user=user))


def test_shared_actions_panel_shows_the_desk_only_the_shared_action(support_user):
    """The panel on the desk page lists the shared action and never the team's own one."""
    case = _planned_case(support_user)
    registrar = UserFactory(registrar=True, desk=case.incident.desk)
    html = _render_desk_panels(case.incident, registrar)
    assert "Juridische hulp" in html
    assert "Gedeeld: juridisch advies over aangifte." in html
    assert "Nazorg voor partner en gezin" not in html
    assert SECRET_DESCRIPTION not in html


def test_shared_actions_panel_shows_nothing_to_the_officeholder_or_another_desk(support_user):
    """Neither the officeholder nor a registrar of another desk sees any support action, on the
    desk's panel or on the officeholder's own page."""
    case = _planned_case(support_user)
    for user in (case.incident.officeholder, UserFactory(registrar=True)):
        html = _render_desk_panels(case.incident, user)
        assert "Juridische hulp" not in html
        assert SECRET_DESCRIPTION not in html
        assert "deelt (nog) geen acties" in html
    own_page = str(
        panels_render(
            "officeholder_incident", incident=case.incident, user=case.incident.officeholder
        )
    )
    assert own_page
    assert "Juridische hulp" not in own_page
    assert SECRET_DESCRIPTION not in own_page


def test_the_desk_panel_is_empty_before_an_escalation(registrar):
    """An incident that was never escalated shows no support panel at all."""
    incident = IncidentFactory(officeholder__organisation__desk=registrar.desk)
    assert _render_desk_panels(incident, registrar) == ""


# --- The workspace through the client -------------------------------------------------------------


def _case_urls(case) -> list[tuple[str, str]]:
    reference = case.incident.reference
    action = case.actions.first()
    urls = [
        ("get", reverse("support:case", kwargs={"reference": reference})),
        *[
            ("post", reverse(f"support:{name}", kwargs={"reference": reference}))
            for name in (
                "acknowledge",
                "start",
                "assign",
                "action_add",
                "message_officeholder",
                "message_desk",
                "note",
                "return",
                "close",
            )
        ],
    ]
    if action is not None:
        urls.append(
            (
                "post",
                reverse("support:action_update", kwargs={"reference": reference, "pk": action.pk}),
            )
        )
    return urls


def test_support_cannot_open_a_non_escalated_incident(client, support_user):
    """Every workspace URL of an incident that was never escalated answers 404 to support."""
    incident = IncidentFactory()
    verified_login(client, support_user)
    for name in ("case", "acknowledge", "close", "message_officeholder", "note"):
        url = reverse(f"support:{name}", kwargs={"reference": incident.reference})
        method = client.get if name == "case" else client.post
        assert method(url).status_code == 404, url
    assert client.get("/ondersteuning/dossiers/MWB-2026-999999/").status_code == 404


@pytest.mark.parametrize("role", ["officeholder", "registrar", "admin"])
def test_other_roles_cannot_open_the_support_workspace(client, support_user, role):
    """The officeholder (even of the case), the registrar (even of its desk) and the admin get
    404 on the inbox and on every case URL, and nothing changes."""
    case = _planned_case(support_user)
    incident = case.incident
    user = {
        "officeholder": incident.officeholder,
        "registrar": UserFactory(registrar=True, desk=incident.desk),
        "admin": UserFactory(admin=True),
    }[role]
    verified_login(client, user)
    assert client.get(reverse("support:inbox")).status_code == 404
    for method, url in _case_urls(case):
        response = getattr(client, method)(url, {"close-outcome": "x", "close-version": 99})
        assert response.status_code == 404, url
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    """Without logging in, the inbox redirects to the login page."""
    response = client.get(reverse("support:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith("/account/inloggen/")


def test_action_of_another_incident_answers_404(client, support_user):
    """An action id that belongs to another case cannot be changed through this case's URL."""
    mine = _planned_case(support_user)
    other = escalated_case()
    verified_login(client, support_user)
    url = reverse(
        "support:action_update",
        kwargs={"reference": other.incident.reference, "pk": mine.actions.first().pk},
    )
    assert client.post(url).status_code == 404


# --- The Django admin -------------------------------------------------------------------------


def test_admin_sees_no_free_text_of_cases_or_actions(client, support_user, admin_user):
    """The admin lists and change pages of cases and actions hold no outcome or description."""
    case = _planned_case(support_user)
    case.refresh_from_db()
    case_act(
        case,
        support_user,
        "close_case",
        outcome=SECRET_OUTCOME,
        outcome_category="support_given",
        open_actions_confirmed=True,
    )
    case.refresh_from_db()
    assert case.outcome == SECRET_OUTCOME
    # The service type is encrypted: found in Python, not by a query.
    action = next(a for a in case.actions.all() if a.service_type == ServiceType.AFTERCARE_FAMILY)
    verified_login(client, admin_user)
    pages = [
        "/beheer/support/supportcase/",
        f"/beheer/support/supportcase/{case.pk}/change/",
        "/beheer/support/supportaction/",
        f"/beheer/support/supportaction/{action.pk}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert SECRET_OUTCOME not in page, url
        assert SECRET_DESCRIPTION not in page, url
        assert case.incident.reference in page, url


def test_admin_cannot_add_change_or_delete_cases(client, admin_user):
    """Cases are read-only in the admin: no add page, no save, no delete."""
    case = escalated_case()
    verified_login(client, admin_user)
    assert client.get("/beheer/support/supportcase/add/").status_code == 403
    assert client.get(f"/beheer/support/supportcase/{case.pk}/delete/").status_code == 403
    response = client.post(f"/beheer/support/supportcase/{case.pk}/change/", {"status": "closed"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "new"


def test_admin_tunes_escalation_rules_but_adds_or_deletes_none(client, admin_user):
    """Rules: enabled, threshold and period are editable; there is no add or delete."""
    from support.models import EscalationRule

    rule = EscalationRule.objects.get(code="repeat_incidents")
    verified_login(client, admin_user)
    url = f"/beheer/support/escalationrule/{rule.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"enabled": "", "threshold": "4", "window_days": "14"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.enabled, rule.threshold, rule.window_days) == (False, 4, 14)
    assert rule.code == "repeat_incidents"
    assert client.get("/beheer/support/escalationrule/add/").status_code == 403
    assert client.get(f"/beheer/support/escalationrule/{rule.pk}/delete/").status_code == 403


def test_support_role_cannot_use_the_admin(client, support_user):
    """The support team manages cases in the workspace, not in the Django admin."""
    verified_login(client, support_user)
    response = client.get("/beheer/support/supportcase/")
    assert response.status_code == 302
