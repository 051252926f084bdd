"""Two-factor login: mandatory for staff on every door (pages, admin, API), offered to
officeholders, with guided setup, backup codes and demo codes."""

import re

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from portal.models import ApiToken, BackupCode, TotpDevice
from portal.services import api_token_create
from portal.two_factor import totp_code
from tests.conftest import verified_login
from tests.factories import UserFactory

PASSWORD = "een-lang-wachtwoord-voor-tests"
LOGIN_URL = "/account/inloggen/"
VERIFY_URL = "/account/tweestapsverificatie/"
SETUP_URL = "/account/tweestapsverificatie/instellen/"
REMOVE_URL = "/account/tweestapsverificatie/uitzetten/"
QUEUE_URL = "/meldpunt/"


def _with_password(user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def _password_login(client, user, next_url=QUEUE_URL):
    return client.post(
        f"{LOGIN_URL}?next={next_url}", {"username": user.username, "password": PASSWORD}
    )


def _device(user):
    return TotpDevice.objects.create(user=user, name="Authenticator-app", confirmed=True)


@pytest.mark.django_db
def test_registrar_without_second_factor_cannot_reach_the_queue(client, registrar):
    """A registrar logged in with only a password is sent to the code step, not the queue."""
    client.force_login(registrar)

    response = client.get(QUEUE_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)


@pytest.mark.django_db
def test_staff_without_device_are_guided_to_setup_and_get_backup_codes_once(client, registrar):
    """First login of a registrar: QR code and secret, confirm with a code, then backup codes;
    afterwards the queue opens."""
    _with_password(registrar)
    response = _password_login(client, registrar)
    assert response["Location"].startswith(VERIFY_URL)
    response = client.get(response["Location"])
    assert response["Location"].startswith(SETUP_URL)

    page = client.get(response["Location"])
    body = page.content.decode()
    assert "<svg" in body
    assert 'id="totp-secret"' in body
    assert "<script" not in body.split("</main>")[0].split("<main")[-1]

    device = TotpDevice.objects.get(user=registrar, confirmed=False)
    confirmed = client.post(SETUP_URL, {"code": totp_code(device), "next": QUEUE_URL})

    assert confirmed.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{8})</code></li>", confirmed.content.decode())
    assert len(codes) == 10
    assert BackupCode.objects.filter(device__user=registrar).count() == 10
    assert client.get(QUEUE_URL).status_code == 200
    assert client.get(SETUP_URL).status_code == 302  # set up once; no second QR code


@pytest.mark.django_db
def test_staff_with_device_must_enter_the_code(client, registrar):
    """A wrong code is refused with a message; the right one opens the queue."""
    _with_password(registrar)
    device = _device(registrar)
    response = _password_login(client, registrar)
    assert response["Location"].startswith(VERIFY_URL)

    wrong = client.post(VERIFY_URL, {"code": "000000", "next": QUEUE_URL})
    assert wrong.status_code == 200
    assert "Deze code klopt niet" in wrong.content.decode()
    assert client.get(QUEUE_URL).status_code == 302

    device.refresh_from_db()
    device.throttle_reset()
    right = client.post(VERIFY_URL, {"code": totp_code(device), "next": QUEUE_URL})
    assert right.status_code == 302
    assert right["Location"] == QUEUE_URL
    assert client.get(QUEUE_URL).status_code == 200


@pytest.mark.django_db
def test_a_backup_code_works_once(client, registrar):
    """A backup code replaces the app's code for one login, and never again."""
    from portal.two_factor import backup_codes_create

    _with_password(registrar)
    _device(registrar)
    code = backup_codes_create(user=registrar)[0]

    _password_login(client, registrar)
    assert client.post(VERIFY_URL, {"code": code, "next": QUEUE_URL})["Location"] == QUEUE_URL

    client.logout()
    _password_login(client, registrar)
    again = client.post(VERIFY_URL, {"code": code, "next": QUEUE_URL})
    assert again.status_code == 200
    assert client.get(QUEUE_URL).status_code == 302


@pytest.mark.django_db
def test_officeholders_are_not_forced(client, officeholder):
    """An officeholder without a second factor logs in with the password alone."""
    _with_password(officeholder)

    response = client.post(LOGIN_URL, {"username": officeholder.username, "password": PASSWORD})

    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert "Inloggen met een code instellen" in client.get("/account/profiel/").content.decode()


@pytest.mark.django_db
def test_an_officeholder_who_chose_a_second_factor_needs_it(client, officeholder):
    """Once an officeholder set up the app, their login asks for the code too."""
    _with_password(officeholder)
    device = _device(officeholder)

    response = client.post(LOGIN_URL, {"username": officeholder.username, "password": PASSWORD})

    assert response["Location"].startswith(VERIFY_URL)
    assert client.get("/").status_code == 302
    client.post(VERIFY_URL, {"code": totp_code(device)})
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_an_officeholder_can_switch_the_code_off_with_their_password_and_a_code(
    client, officeholder
):
    """With the right password and a current code the app and backup codes go and the next
    login needs only the password; the password alone, or a wrong code, changes nothing."""
    _with_password(officeholder)
    device = _device(officeholder)
    client.post(LOGIN_URL, {"username": officeholder.username, "password": PASSWORD})
    client.post(VERIFY_URL, {"code": totp_code(device)})

    response = client.post(REMOVE_URL, {"password": "niet-mijn-wachtwoord"}, follow=True)
    assert "Het wachtwoord of de code klopt niet" in response.content.decode()
    assert TotpDevice.objects.filter(user=officeholder).exists()
    # The attack: someone with only the password (in a session that entered a code before).
    response = client.post(REMOVE_URL, {"password": PASSWORD}, follow=True)
    assert "Het wachtwoord of de code klopt niet" in response.content.decode()
    response = client.post(REMOVE_URL, {"password": PASSWORD, "code": "000000"}, follow=True)
    assert "Het wachtwoord of de code klopt niet" in response.content.decode()
    assert TotpDevice.objects.filter(user=officeholder).exists()

    device.refresh_from_db()
    device.throttle_reset()
    code = totp_code(device)
    response = client.post(REMOVE_URL, {"password": PASSWORD, "code": code}, follow=True)
    assert "Inloggen met een code staat uit" in response.content.decode()
    assert not TotpDevice.objects.filter(user=officeholder).exists()
    client.logout()
    response = client.post(LOGIN_URL, {"username": officeholder.username, "password": PASSWORD})
    assert not response["Location"].startswith(VERIFY_URL)
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_staff_cannot_switch_the_code_off(client, registrar):
    """For a registrar the code is mandatory: the page does not exist and the device stays."""
    _with_password(registrar)
    device = _device(registrar)
    client.post(LOGIN_URL, {"username": registrar.username, "password": PASSWORD})
    client.post(VERIFY_URL, {"code": totp_code(device)})

    assert client.post(REMOVE_URL, {"password": PASSWORD}).status_code == 404
    assert TotpDevice.objects.filter(user=registrar).exists()


@pytest.mark.django_db
def test_demo_totp_prints_a_code_that_verifies(demo_data, settings, capsys):
    """`demo_totp USERNAME` prints the current code of the demo account's app (DEBUG on)."""
    settings.DEBUG = True
    call_command("demo_totp", "meldpunt.utrecht")
    code = capsys.readouterr().out.strip()

    device = TotpDevice.objects.get(user__username="meldpunt.utrecht", confirmed=True)
    assert re.fullmatch(r"\d{6}", code)
    assert device.verify_token(code)


@pytest.mark.django_db
def test_demo_staff_have_the_documented_secret(demo_data):
    """seed_demo gives every demo staff account the known secret, idempotently, and none to
    the officeholders."""
    from devtools.demo.people import DEMO_TOTP_KEY_HEX

    for username in ("meldpunt.utrecht", "meldpunt.ijsselland", "ondersteuning", "beheer"):
        devices = TotpDevice.objects.filter(user__username=username)
        assert [device.key for device in devices] == [DEMO_TOTP_KEY_HEX]
    assert not TotpDevice.objects.filter(user__username="burgemeester.zwolle").exists()


@pytest.mark.django_db
def test_demo_totp_refuses_with_debug_off(demo_data, settings):
    """Codes are never printed by a production installation."""
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_totp", "meldpunt.utrecht")


@pytest.mark.django_db
def test_admin_site_requires_the_second_factor(client, admin_user):
    """The Django admin is closed to an administrator's password-only session."""
    client.force_login(admin_user)
    assert client.get("/beheer/").status_code == 302
    assert client.get("/beheer/").headers["Location"].startswith(VERIFY_URL)

    client.logout()
    verified_login(client, admin_user)
    assert client.get("/beheer/").status_code == 200


@pytest.mark.django_db
def test_admin_site_stays_closed_to_other_verified_staff(client, registrar):
    """A verified registrar is no functional administrator: the admin is not there for them."""
    verified_login(client, registrar)
    assert client.get("/beheer/", follow=True).status_code == 404


@pytest.mark.django_db
def test_api_refuses_an_unverified_staff_session_with_json_403(registrar):
    """A registrar's password-only session gets 403 in the API's error shape."""
    client = APIClient()
    client.force_login(registrar)

    response = client.get("/api/v1/incidents/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "otp_required"
    assert response.json()["error"]["status"] == 403


@pytest.mark.django_db
def test_api_accepts_a_verified_staff_session_and_tokens(registrar):
    """A verified session and a personal token both work for staff."""
    session_client = verified_login(APIClient(), registrar)
    assert session_client.get("/api/v1/incidents/").status_code == 200

    _token, key = api_token_create(user=registrar, name="zaaksysteem")
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert token_client.get("/api/v1/incidents/").status_code == 200


@pytest.mark.django_db
def test_staff_create_tokens_only_from_a_verified_session(client, registrar):
    """The profile page makes a token for a verified registrar; an unverified one never gets
    there (and a direct POST is refused)."""
    client.force_login(registrar)
    assert client.post("/account/profiel/", {"name": "x"}).status_code == 302
    assert not ApiToken.objects.filter(user=registrar).exists()

    verified_login(client, registrar)
    response = client.post("/account/profiel/", {"name": "zaaksysteem"})
    assert response.status_code == 200
    assert 'id="new-api-key"' in response.content.decode()


@pytest.mark.django_db
def test_support_member_without_second_factor_is_sent_to_the_code_step(client):
    """The Ondersteuningsteam's pages need the second factor too."""
    member = UserFactory(support=True)
    client.force_login(member)

    response = client.get("/ondersteuning/")

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_first_login_setup_in_the_browser_is_accessible_and_needs_no_script(page):
    """A new registrar sets up the app in Chromium: QR code and secret, a code, then the
    backup codes and the queue; no CSP violation, no accessibility finding."""
    from playwright.sync_api import expect

    from tests.browser.fixtures import assert_accessible

    registrar = _with_password(UserFactory(registrar=True))
    page.goto(LOGIN_URL)
    page.get_by_label("Gebruikersnaam").fill(registrar.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen met een code instellen")
    expect(page.locator(".qr-code svg")).to_be_visible()
    assert_accessible(page)
    device = TotpDevice.objects.get(user=registrar, confirmed=False)
    page.locator("input[name=code]").fill(totp_code(device))
    page.get_by_role("button", name="Code bevestigen").click()

    expect(page.locator("#backup-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("link", name="Ik heb de codes bewaard").click()
    expect(page).to_have_url(re.compile(r"/$"))
