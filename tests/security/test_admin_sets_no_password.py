"""The administrator holds nobody's password: no "set password" page, new accounts get an
invitation, a forgotten password a reset e-mail the person uses themselves."""

import pytest
from django.urls import reverse

from portal.constants import Role
from portal.models import Invitation, User
from tests.conftest import verified_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    verified_login(client, UserFactory(admin=True))
    return client


def test_the_set_password_page_does_not_exist_and_the_change_page_links_to_none(admin_client):
    person = UserFactory(registrar=True)
    assert admin_client.get(f"/beheer/portal/user/{person.pk}/password/").status_code == 404
    page = admin_client.get(reverse("admin:portal_user_change", args=[person.pk]))
    assert page.status_code == 200
    assert "password/" not in page.content.decode()
    assert 'name="password' not in page.content.decode()


def test_a_new_account_gets_no_password_but_an_invitation(admin_client, committed, mailoutbox):
    add = reverse("admin:portal_user_add")
    assert 'name="password1"' not in admin_client.get(add).content.decode()
    with committed():
        response = admin_client.post(
            add,
            {
                "username": "nieuw.ondersteuning",
                "email": "nieuw@example.nl",
                "first_name": "Noor",
                "last_name": "Nieuw",
                "role": Role.SUPPORT,
                "preferred_language": "nl",
                "changes-TOTAL_FORMS": "0",
                "changes-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302
    person = User.objects.get(username="nieuw.ondersteuning")
    assert not person.has_usable_password() and not person.is_active
    assert Invitation.objects.filter(person=person, used_at=None).count() == 1
    assert [mail.to for mail in mailoutbox] == [["nieuw@example.nl"]]


def test_the_reset_action_sends_the_person_their_own_link(admin_client, mailoutbox, settings):
    settings.PORTAL_BASE_URL = "https://meldpunt.example.nl"
    person = UserFactory(registrar=True, email="medewerker@example.nl")
    person.set_password("geheim-en-lang-genoeg-123")
    person.save()
    without_password = UserFactory(registrar=True, email="uitgenodigd@example.nl")
    without_password.set_unusable_password()
    without_password.save()

    response = admin_client.post(
        reverse("admin:portal_user_changelist"),
        {
            "action": "password_reset_send",
            "_selected_action": [person.pk, without_password.pk],
        },
    )

    assert response.status_code == 302
    [mail] = mailoutbox
    assert mail.to == ["medewerker@example.nl"]
    assert "https://meldpunt.example.nl/" in mail.body
    person.refresh_from_db()
    assert person.check_password("geheim-en-lang-genoeg-123")
