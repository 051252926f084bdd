"""The functional administrator is no Django superuser: their admin permissions come from one
table (portal/access.py), and groups, permissions, the beat schedule and the operator's
break-glass accounts stay out of their reach."""

import pytest
from django.contrib import admin
from django.urls import reverse

from portal.access import FUNCTIONAL_ADMINISTRATOR_PERMISSIONS
from portal.models import User
from tests.conftest import admin_user_change_data, verified_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Registered in the admin, deliberately left to the operator's superuser account.
OPERATOR_ONLY = {
    "auth.group",
    "django_celery_beat.periodictask",
    "django_celery_beat.clockedschedule",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.solarschedule",
    "django_celery_beat.intervalschedule",
}


@pytest.fixture
def administrator(client):
    person = UserFactory(admin=True)
    verified_login(client, person)
    return person


def test_every_admin_model_is_either_the_administrators_or_the_operators():
    """A newly registered admin model fails here until somebody decides who manages it."""
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered - OPERATOR_ONLY <= set(FUNCTIONAL_ADMINISTRATOR_PERMISSIONS)
    assert not OPERATOR_ONLY & set(FUNCTIONAL_ADMINISTRATOR_PERMISSIONS)


def test_the_administrator_manages_the_portal_but_not_groups_or_the_schedule(client, administrator):
    assert not administrator.is_superuser
    assert client.get(reverse("admin:portal_desk_changelist")).status_code == 200
    assert client.get(reverse("admin:portal_organisation_add")).status_code == 200
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 403
    )
    # Nobody deletes a person: they are deactivated.
    person = UserFactory(registrar=True)
    assert client.get(reverse("admin:portal_user_delete", args=[person.pk])).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "/beheer/auth/" not in index and "django_celery_beat" not in index


def test_a_person_from_another_role_gets_no_admin_permission():
    registrar = UserFactory(registrar=True, is_staff=True)
    assert not registrar.has_perm("portal.change_desk")
    assert not registrar.has_module_perms("portal")


def test_the_administrator_cannot_make_anyone_a_superuser_or_see_the_break_glass_account(
    client, administrator
):
    operator = User.objects.create_superuser("operator", "operator@example.nl", "x" * 20)
    people = client.get(reverse("admin:portal_user_changelist")).content.decode()
    assert "operator@example.nl" not in people
    assert client.get(reverse("admin:portal_user_change", args=[operator.pk])).status_code == 302

    person = UserFactory(registrar=True)
    url = reverse("admin:portal_user_change", args=[person.pk])
    page = client.get(url).content.decode()
    for field in ("is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in page
    data = admin_user_change_data(client, person, is_superuser="on")
    response = client.post(url, data)
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_superuser
