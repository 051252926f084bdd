"""Language and numbers: the language chosen before login stays, the banner names 112 and 911,
and phone numbers are stored and linked in international form (profile: how to reach me).

The browser flow (language survives login) is in tests/browser/test_officeholder_side.py.
"""

import pytest
from django.urls import reverse

from portal import services
from portal.errors import DomainError
from portal.models import User
from portal.phones import phone_display, phone_international
from tests.factories import TEST_PASSWORD, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _log_in(client, user):
    return client.post(
        reverse("login"), {"username": user.username, "password": TEST_PASSWORD}, follow=False
    )


def test_language_chosen_before_login_becomes_the_preference(client, officeholder):
    """English chosen on the login page stays after logging in and is saved as preference."""
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    response = _log_in(client, officeholder)
    assert response.status_code == 302
    assert User.objects.get(pk=officeholder.pk).preferred_language == "en"
    assert response.cookies["django_language"].value == "en"
    assert 'lang="en"' in client.get(reverse("home")).content.decode()


def test_without_a_choice_the_saved_preference_wins(client):
    """No language chosen before login: the person's own preference is used, unchanged."""
    person = UserFactory(preferred_language="en")
    response = _log_in(client, person)
    assert User.objects.get(pk=person.pk).preferred_language == "en"
    assert response.cookies["django_language"].value == "en"


def test_a_choice_before_logging_out_is_not_the_next_persons_preference(client):
    """On a shared computer: after logging out, the next person keeps their own language."""
    first = UserFactory(preferred_language="nl")
    second = UserFactory(preferred_language="nl")
    _log_in(client, first)
    client.post(reverse("set_language"), {"language": "en"})
    assert User.objects.get(pk=first.pk).preferred_language == "en"
    client.post(reverse("logout"))
    _log_in(client, second)
    assert User.objects.get(pk=second.pk).preferred_language == "nl"


def test_an_unknown_language_changes_nothing(client, officeholder):
    """A language the portal does not offer is ignored."""
    client.post(reverse("set_language"), {"language": "xx"})
    _log_in(client, officeholder)
    assert User.objects.get(pk=officeholder.pk).preferred_language == "nl"


def test_banner_before_login_names_112_and_911_as_tel_links(client):
    """Before login the portal does not know where someone is: both numbers, tappable."""
    page = client.get(reverse("login")).content.decode()
    assert (
        'Bij acuut gevaar: bel <a href="tel:112">112</a> '
        '(Bonaire, Sint Eustatius en Saba: <a href="tel:911">911</a>)'
    ) in page


def test_banner_after_login_names_the_own_number(client):
    """Logged in on Saba: only 911, as a tel: link."""
    person = UserFactory(organisation=OrganisationFactory(caribbean=True))
    client.force_login(person)
    page = client.get(reverse("home")).content.decode()
    assert 'Bij acuut gevaar: bel <a href="tel:911">911</a>' in page
    assert "tel:112" not in page


@pytest.mark.parametrize(
    ("typed", "caribbean", "stored", "shown"),
    [
        ("06 12345678", False, "+31612345678", "+31 6 12345678"),
        ("070 - 123 45 67", False, "+31701234567", "+31 70 1234567"),
        ("0031 20 1234567", False, "+31201234567", "+31 20 1234567"),
        ("416 1234", True, "+5994161234", "+599 416 1234"),
        ("+599 416 1234", False, "+5994161234", "+599 416 1234"),
    ],
)
def test_phone_numbers_in_international_form(typed, caribbean, stored, shown):
    """What people type becomes E.164 (a local Caribbean number gets +599) and reads in groups."""
    assert phone_international(typed, caribbean=caribbean) == stored
    assert phone_display(stored) == shown


def test_profile_saves_how_to_reach_me_in_international_form(client, officeholder):
    """The profile form stores the number as +31..., with the preferred way and time."""
    client.force_login(officeholder)
    response = client.post(
        reverse("profile_contact"),
        {"phone": "06 12345678", "contact_preference": "Liever bellen, na 17.00 uur"},
    )
    assert response.status_code == 302
    officeholder.refresh_from_db()
    assert officeholder.phone == "+31612345678"
    assert officeholder.contact_preference == "Liever bellen, na 17.00 uur"
    page = client.get(reverse("profile")).content.decode()
    assert 'value="+31612345678"' in page


def test_profile_refuses_a_wrong_number_keeping_the_text(client, officeholder):
    """A number that is not one: a Dutch message, nothing saved, the typed text stays."""
    client.force_login(officeholder)
    response = client.post(
        reverse("profile_contact"), {"phone": "twaalf", "contact_preference": "Alleen mailen"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Dit is geen telefoonnummer." in page
    assert "Alleen mailen" in page
    officeholder.refresh_from_db()
    assert officeholder.phone == ""


def test_contact_update_service_raises_a_domain_error_for_a_wrong_number(officeholder):
    """The service itself refuses what is not a number (the web form and the API use it)."""
    with pytest.raises(DomainError):
        services.user_contact_update(user=officeholder, phone="abc", contact_preference="")
