"""Every change to a person's account is recorded: who, when, before and after."""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from portal import services
from portal.constants import Role
from portal.models import PersonChange, TotpDevice
from tests.conftest import admin_user_change_data, verified_login
from tests.factories import DeskFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_change_records_each_tracked_fact_with_before_and_after():
    registrar = UserFactory(registrar=True)
    coordinator = UserFactory(registrar=True, desk=registrar.desk, is_coordinator=True)
    before = services.person_tracked_values(registrar)
    old_desk = registrar.desk
    registrar.desk = DeskFactory(name="Meldpunt Anders")
    registrar.is_active = False
    registrar.save()

    changes = services.person_changes_record(actor=coordinator, person=registrar, before=before)

    recorded = {(c.field, c.old_value, c.new_value) for c in changes}
    assert recorded == {("desk", old_desk.name, "Meldpunt Anders"), ("is_active", "True", "False")}
    assert all(change.actor == coordinator for change in PersonChange.objects.all())


def test_a_new_account_records_what_is_set_and_nothing_else():
    person = UserFactory(registrar=True)
    changes = services.person_changes_record(actor=None, person=person, before={})
    assert {c.field for c in changes} == {"role", "desk", "is_active"}


def test_only_a_registrar_can_be_coordinator():
    with pytest.raises(IntegrityError):
        UserFactory(role=Role.SUPPORT, function="", organisation=None, is_coordinator=True)


def test_the_admin_records_who_changed_a_person_and_removing_an_app(client):
    admin = UserFactory(admin=True)
    registrar = UserFactory(registrar=True)
    verified_login(client, admin)
    url = reverse("admin:portal_user_change", args=[registrar.pk])
    data = admin_user_change_data(
        client, registrar, role=Role.REGISTRAR, desk=registrar.desk_id, is_coordinator="on"
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    change = PersonChange.objects.get(person=registrar)
    assert (change.field, change.old_value, change.new_value, change.actor) == (
        "is_coordinator",
        "False",
        "True",
        admin,
    )
    assert "Wijzigingen van accounts" in client.get(url).content.decode()

    device = TotpDevice.objects.create(user=registrar, name="App", confirmed=True)
    client.post(reverse("admin:portal_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert PersonChange.objects.filter(person=registrar, field="devices", actor=admin).exists()
