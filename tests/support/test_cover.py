"""Absence cover in the Ondersteuningsteam (issue 19 part 5): a member marks themselves absent
and names another member; while away, their cases show in the colleague's "Aan mij" and their
actions in "Mijn acties", each marked "Waarneming voor ...". The desk's cover (the same rules,
form and helpers) is tested in tests/incidents/test_follow_up.py; access to the page in
tests/security/test_access_matrix.py."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.errors import DomainError
from portal.policies import user_policy
from portal.selectors import colleagues_to_cover, covered_colleagues_for
from portal.services import absence_set
from support import selectors
from support.constants import CaseStatus, ServiceType
from tests.conftest import verified_login
from tests.factories import UserFactory, case_act
from tests.support import escalated_case

pytestmark = pytest.mark.django_db

ABSENCE = reverse("support:absence")


@pytest.fixture
def team(member):
    """The absent member (Fatima) with a case and an action, the colleague who covers, a
    third member, and a registrar."""
    colleague = UserFactory(support=True, first_name="Kees", last_name="Bakker")
    third = UserFactory(support=True, first_name="Sara", last_name="Jansen")
    case = case_act(escalated_case(), member, "acknowledge")
    case = case_act(case, member, "add_action", service_type=ServiceType.LEGAL_HELP, owner=member)
    action = case.actions.get()
    return {"absent": member, "cover": colleague, "third": third, "case": case, "action": action}


def _mine(user, status=CaseStatus.IN_PROGRESS):
    """The rows of "Aan mij" for `user`, by reference, with their cover line."""
    inbox = selectors.inbox_for(user=user, status=status, filters={"handler": "me"})
    return {row.reference: row.covering_for for row in inbox.rows}


def _my_actions(user):
    agenda = selectors.agenda_for(user=user, owner="me", today=timezone.localdate())
    return {row.action.pk: row.covering_for for s in agenda.sections for row in s.rows}


# --- The policy rows ----------------------------------------------------------------------------


def test_a_member_may_name_another_active_member_only(team):
    absent = team["absent"]
    registrar = UserFactory(registrar=True)
    inactive = UserFactory(support=True, is_active=False)
    assert user_policy.allows(absent, "name_as_cover", team["cover"])
    for person in (absent, registrar, inactive):
        assert not user_policy.allows(absent, "name_as_cover", person)
    assert set(colleagues_to_cover(user=absent)) == {team["cover"], team["third"]}


def test_a_registrar_still_names_only_a_colleague_of_the_same_desk(team):
    registrar = UserFactory(registrar=True)
    colleague = UserFactory(registrar=True, desk=registrar.desk)
    other_desk = UserFactory(registrar=True)
    assert user_policy.allows(registrar, "name_as_cover", colleague)
    for person in (registrar, other_desk, team["cover"]):
        assert not user_policy.allows(registrar, "name_as_cover", person)
    assert list(colleagues_to_cover(user=registrar)) == [colleague]


def test_each_sets_only_their_own_absence(team):
    absent, registrar = team["absent"], UserFactory(registrar=True)
    assert user_policy.allows(absent, "set_absence", absent)
    assert not user_policy.allows(absent, "set_absence", team["cover"])
    assert not user_policy.allows(registrar, "set_absence", absent)
    assert not user_policy.allows(UserFactory(), "set_absence", UserFactory())  # officeholder


def test_naming_a_registrar_or_oneself_is_refused_by_the_service(team):
    absent = team["absent"]
    for person in (UserFactory(registrar=True), absent, UserFactory(support=True, is_active=False)):
        with pytest.raises(DomainError):
            absence_set(person=absent, cover=person)
    absent.refresh_from_db()
    assert absent.cover is None
    with pytest.raises(DomainError):  # and a registrar may not name a team member
        absence_set(person=UserFactory(registrar=True), cover=team["cover"])


# --- "Aan mij" and "Mijn acties" ---------------------------------------------------------------


def test_the_covered_work_shows_in_aan_mij_and_mijn_acties_until_the_colleague_is_back(team):
    absent, cover, third = team["absent"], team["cover"], team["third"]
    reference, action = team["case"].incident.reference, team["action"]
    assert _mine(cover) == {} and _my_actions(cover) == {}

    absence_set(person=absent, cover=cover)
    name = str(absent)
    assert _mine(cover) == {reference: name}
    assert _my_actions(cover) == {action.pk: name}
    assert covered_colleagues_for(user=cover) == {absent.pk: name}
    # Nobody else sees it as theirs; the absent member's own lists stay as they were.
    assert _mine(third) == {} and _my_actions(third) == {}
    assert _mine(absent) == {reference: ""}
    assert _my_actions(absent) == {action.pk: ""}
    # The whole team's agenda marks it for the cover too.
    team_agenda = selectors.agenda_for(user=cover, today=timezone.localdate())
    assert [row.covering_for for s in team_agenda.sections for row in s.rows] == [name]

    absence_set(person=absent, cover=None)
    assert _mine(cover) == {} and _my_actions(cover) == {}


def test_covered_work_shows_only_on_the_days_of_the_absence(team):
    absent, cover = team["absent"], team["cover"]
    today = timezone.localdate()
    absence_set(person=absent, cover=cover, absent_from=today + timedelta(days=1))
    assert _mine(cover) == {} and _my_actions(cover) == {}
    absence_set(person=absent, cover=cover, absent_until=today - timedelta(days=1))
    assert _mine(cover) == {} and _my_actions(cover) == {}
    absence_set(person=absent, cover=cover, absent_from=today, absent_until=today)
    assert team["case"].incident.reference in _mine(cover)
    assert team["action"].pk in _my_actions(cover)


def test_a_deactivated_absent_member_is_not_covered(team):
    absent, cover = team["absent"], team["cover"]
    absence_set(person=absent, cover=cover)
    absent.is_active = False
    absent.save(update_fields=["is_active"])
    assert _mine(cover) == {} and _my_actions(cover) == {}


# --- The page -----------------------------------------------------------------------------------


def test_the_absence_page_sets_and_switches_off_the_absence(client, team):
    absent, cover = team["absent"], team["cover"]
    verified_login(client, absent)
    page = client.get(ABSENCE)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<h1") == 1
    assert "Wie neemt uw dossiers en acties waar?" in html
    assert f'action="{ABSENCE}"' in html

    registrar = UserFactory(registrar=True)
    for refused in (registrar.pk, absent.pk, ""):
        response = client.post(ABSENCE, {"absence-cover": refused})
        assert response.status_code == 400
        assert "Er ging iets mis" in response.content.decode()
    absent.refresh_from_db()
    assert absent.cover is None

    response = client.post(ABSENCE, {"absence-cover": cover.pk}, follow=True)
    assert response.redirect_chain == [(ABSENCE, 302)]
    assert "Uw afwezigheid is opgeslagen. Kees Bakker ziet uw dossiers en acties." in [
        str(message) for message in response.context["messages"]
    ]
    assert "U bent afwezig. Kees Bakker neemt uw dossiers en acties waar." in (
        response.content.decode()
    )
    absent.refresh_from_db()
    assert absent.cover == cover

    client.post(ABSENCE, {"off": "1"})
    absent.refresh_from_db()
    assert absent.cover is None


def test_the_inbox_and_agenda_say_whose_work_it_is(client, team):
    absent, cover = team["absent"], team["cover"]
    absence_set(person=absent, cover=cover)
    verified_login(client, cover)
    inbox = client.get(reverse("support:inbox"), {"handler": "me", "status": "in_progress"})
    html = inbox.content.decode()
    assert team["case"].incident.reference in html
    assert f"Waarneming voor {absent}" in html
    assert f"U neemt nu waar voor {absent}." in html
    assert f'href="{ABSENCE}"' in html
    agenda = client.get(reverse("support:agenda"), {"owner": "me"}).content.decode()
    assert f"#actie-{team['action'].pk}" in agenda
    assert f"Waarneming voor {absent}" in agenda
