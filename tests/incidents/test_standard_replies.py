"""Standard replies: who keeps and who uses which (the policy), the coordinator's pages, the
administrator's national defaults, and "Invoegen" on the desk's message form (in the
officeholder's language, nothing sent). The browser flow is in tests/browser/test_desk.py."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from incidents import selectors, services
from incidents.models import Message, StandardReply
from incidents.policies import standard_reply_policy
from portal.errors import NotAllowed
from tests.conftest import verified_login
from tests.factories import DeskFactory, IncidentFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    desk, other_desk = DeskFactory(), DeskFactory()
    organisation = OrganisationFactory(desk=desk)
    StandardReply.objects.all().delete()  # the migration's national defaults
    people = {
        "registrar": UserFactory(registrar=True, desk=desk),
        "coordinator": UserFactory(registrar=True, desk=desk, is_coordinator=True),
        "other_coordinator": UserFactory(registrar=True, desk=other_desk, is_coordinator=True),
        "admin": UserFactory(admin=True),
        "officeholder": UserFactory(organisation=organisation),
    }
    replies = {
        "national": StandardReply.objects.create(
            title="Ontvangen", text_nl="Wij hebben uw melding ontvangen.", text_en="We got it."
        ),
        "national_off": StandardReply.objects.create(
            title="Oud", text_nl="Oude tekst.", text_en="Old text.", active=False
        ),
        "own": StandardReply.objects.create(
            desk=desk, title="Bel ons", text_nl="Bel ons gerust.", text_en="Feel free to call us."
        ),
        "other": StandardReply.objects.create(
            desk=other_desk, title="Elders", text_nl="Van elders.", text_en="From elsewhere."
        ),
    }
    return people, replies


def test_registrars_use_national_and_own_desk_replies_only(world):
    people, replies = world
    usable = set(selectors.standard_replies_to_use(user=people["registrar"]))
    assert usable == {replies["national"], replies["own"]}
    assert not standard_reply_policy.allows(people["registrar"], "use", replies["other"])
    assert not standard_reply_policy.allows(people["registrar"], "use", replies["national_off"])
    # The own desk's texts come first.
    assert list(selectors.standard_replies_to_use(user=people["registrar"]))[0] == replies["own"]


def test_coordinator_keeps_own_desk_replies_and_reads_national_ones(world):
    people, replies = world
    coordinator = people["coordinator"]
    assert set(selectors.standard_replies_kept_for(user=coordinator)) == {
        replies["national"],
        replies["national_off"],
        replies["own"],
    }
    assert standard_reply_policy.allows(coordinator, "keep", replies["own"])
    assert not standard_reply_policy.allows(coordinator, "keep", replies["national"])
    with pytest.raises(NotAllowed):
        services.standard_reply_save(
            actor=coordinator,
            reply=replies["national"],
            title="Gewijzigd",
            text_nl="Gewijzigd.",
            text_en="Changed.",
        )
    with pytest.raises(NotAllowed):
        services.standard_reply_deactivate(actor=coordinator, reply=replies["other"])
    replies["national"].refresh_from_db()
    assert replies["national"].title == "Ontvangen"
    # A registrar who is no coordinator keeps nothing.
    with pytest.raises(NotAllowed):
        services.standard_reply_save(
            actor=people["registrar"],
            desk=people["registrar"].desk,
            title="Nieuw",
            text_nl="Nieuw.",
            text_en="New.",
        )


def test_the_administrator_keeps_the_national_defaults_only(world):
    people, replies = world
    admin = people["admin"]
    assert set(standard_reply_policy.queryset(admin, "keep")) == {
        replies["national"],
        replies["national_off"],
    }
    reply = services.standard_reply_save(
        actor=admin, title="Landelijk", text_nl="Landelijke tekst.", text_en="National text."
    )
    assert reply.desk is None
    with pytest.raises(NotAllowed):
        services.standard_reply_save(
            actor=admin, reply=replies["own"], title="X", text_nl="X.", text_en="X."
        )


def test_coordinator_pages_add_edit_and_switch_off(client, world):
    people, replies = world
    verified_login(client, people["coordinator"])
    page = client.get(reverse("replies:list")).content.decode()
    assert "Bel ons" in page and "Ontvangen" in page and "Elders" not in page
    assert reverse("replies:edit", args=[replies["own"].pk]) in page
    assert reverse("replies:edit", args=[replies["national"].pk]) not in page

    response = client.post(
        reverse("replies:add"),
        {"title": "Advies", "text_nl": "Doe aangifte.", "text_en": "Report it.", "active": "on"},
    )
    assert response.status_code == 302
    added = StandardReply.objects.get(title="Advies")
    assert added.desk == people["coordinator"].desk and added.active

    response = client.post(
        reverse("replies:edit", args=[added.pk]),
        {"title": "Advies: aangifte", "text_nl": "Doe aangifte.", "text_en": "Report it."},
    )
    assert response.status_code == 302
    added.refresh_from_db()
    assert added.title == "Advies: aangifte" and not added.active

    client.post(reverse("replies:deactivate", args=[replies["own"].pk]))
    replies["own"].refresh_from_db()
    assert not replies["own"].active

    # An empty form says what is missing.
    response = client.post(reverse("replies:add"), {})
    assert response.status_code == 200
    assert "Schrijf de Nederlandse tekst." in response.content.decode()


def test_another_desks_reply_and_a_national_one_answer_404_to_the_coordinator(client, world):
    people, replies = world
    verified_login(client, people["coordinator"])
    for reply in (replies["other"], replies["national"]):
        assert client.get(reverse("replies:edit", args=[reply.pk])).status_code == 404
        response = client.post(
            reverse("replies:edit", args=[reply.pk]),
            {"title": "Overgenomen", "text_nl": "X.", "text_en": "X.", "active": "on"},
        )
        assert response.status_code == 404
        assert client.post(reverse("replies:deactivate", args=[reply.pk])).status_code == 404
        reply.refresh_from_db()
        assert reply.title != "Overgenomen"
    assert StandardReply.objects.get(pk=replies["national"].pk).active


def test_a_registrar_without_the_coordinator_flag_gets_404(client, world):
    people, replies = world
    verified_login(client, people["registrar"])
    assert client.get(reverse("replies:list")).status_code == 404
    assert client.get(reverse("replies:edit", args=[replies["own"].pk])).status_code == 404


def _insert(client, incident, reply, typed=""):
    return client.post(
        reverse("desk:message", args=[incident.reference]),
        {"message-reply": reply.pk, "message-body": typed, "message-insert": "1"},
    )


def test_insert_puts_the_english_text_in_the_box_for_an_english_speaking_officeholder(
    client, world
):
    people, replies = world
    officeholder = people["officeholder"]
    officeholder.preferred_language = "en"
    officeholder.save(update_fields=["preferred_language"])
    incident = IncidentFactory(officeholder=officeholder)
    verified_login(client, people["registrar"])
    response = _insert(client, incident, replies["own"], typed="Beste mevrouw,  ")
    assert response.status_code == 200
    form = response.context["message_form"]
    assert form.initial["body"] == "Beste mevrouw,\n\nFeel free to call us."
    assert not Message.objects.filter(incident=incident).exists()


def test_insert_picks_dutch_for_a_dutch_speaking_officeholder(client, world):
    people, replies = world
    incident = IncidentFactory(officeholder=people["officeholder"])
    verified_login(client, people["registrar"])
    response = _insert(client, incident, replies["national"])
    assert response.context["message_form"].initial["body"] == "Wij hebben uw melding ontvangen."
    # The page offers the usable texts, each with its text for the script.
    page = client.get(reverse("desk:detail", args=[incident.reference])).content.decode()
    assert 'data-text="Bel ons gerust."' in page and "Elders" not in page


def test_another_desks_reply_cannot_be_inserted(client, world):
    people, replies = world
    incident = IncidentFactory(officeholder=people["officeholder"])
    verified_login(client, people["registrar"])
    response = _insert(client, incident, replies["other"], typed="Mijn tekst")
    assert response.status_code == 200
    form = response.context["message_form"]
    assert form.errors["reply"]
    assert "Van elders." not in response.content.decode()
    assert "Mijn tekst" in response.content.decode()
    assert not Message.objects.filter(incident=incident).exists()


def test_insert_without_a_choice_says_so_and_keeps_the_text(client, world):
    people, _replies = world
    incident = IncidentFactory(officeholder=people["officeholder"])
    verified_login(client, people["registrar"])
    response = client.post(
        reverse("desk:message", args=[incident.reference]),
        {"message-reply": "", "message-body": "Mijn tekst", "message-insert": "1"},
    )
    page = response.content.decode()
    assert "Kies eerst een standaardantwoord om in te voegen." in page
    assert "Mijn tekst" in page


def test_sending_still_sends_the_edited_text(client, world):
    people, replies = world
    incident = IncidentFactory(officeholder=people["officeholder"])
    verified_login(client, people["registrar"])
    response = client.post(
        reverse("desk:message", args=[incident.reference]),
        {"message-reply": replies["own"].pk, "message-body": "Bel ons gerust, vandaag nog."},
    )
    assert response.status_code == 302
    assert Message.objects.get(incident=incident).body == "Bel ons gerust, vandaag nog."


def test_the_administrator_edits_national_defaults_in_the_admin(client, world):
    people, replies = world
    verified_login(client, people["admin"])
    changelist = client.get(reverse("admin:incidents_standardreply_changelist"))
    assert changelist.status_code == 200
    assert "Ontvangen" in changelist.content.decode()
    assert "Bel ons" not in changelist.content.decode()
    own = client.get(reverse("admin:incidents_standardreply_change", args=[replies["own"].pk]))
    assert own.status_code == 302  # not in the administrator's queryset: "does not exist"
    response = client.post(
        reverse("admin:incidents_standardreply_add"),
        {
            "title": "Nazorg",
            "text_nl": "Hoe gaat het nu?",
            "text_en": "How are you now?",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert StandardReply.objects.get(title="Nazorg").desk is None
    form = client.get(reverse("admin:incidents_standardreply_add")).content.decode()
    assert "tekst in het engels" in form.lower()


def test_the_national_defaults_migration_runs_twice_without_doubles(world):
    migration = importlib.import_module("incidents.migrations.0015_standard_replies")
    StandardReply.objects.all().delete()
    migration.national_defaults_add(apps, None)
    migration.national_defaults_add(apps, None)
    assert StandardReply.objects.filter(desk=None).count() == len(migration.NATIONAL_DEFAULTS)
    assert all(reply.text_en for reply in StandardReply.objects.all())
