"""Changes to how a person logs in, and what an attacker with the password can still do.

- Setting up the app: every visit of the setup page makes a new secret for that session only;
  a secret someone else saw (with an initial password, or after a device reset) never turns
  into the person's second factor (finding 1).
- Switching two-factor on or off, changing or resetting the password and an administrator's
  reset end every other session of the person and revoke their API tokens; switching it off
  needs a current code, not only the password (finding 2 and 7).
- Each of those sends a "was u dit?" e-mail without content, with a link to the profile; the
  revoked tokens are announced too.
- The secrets in the database: the app's key is encrypted and backup codes are hashed
  (finding 4); the admin shows neither.
"""

import re
from base64 import b32decode

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils.html import escape
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from portal.constants import SecurityNotice
from portal.models import ApiToken, BackupCode, BackupCodeDevice, Notification, TotpDevice
from portal.services import api_token_create, security_notice_send
from portal.two_factor import backup_codes_create, totp_code
from tests.conftest import verified_login

pytestmark = pytest.mark.django_db

PASSWORD = "een-lang-wachtwoord-voor-tests"
NEW_PASSWORD = "een-ander-lang-wachtwoord-2026"
LOGIN_URL = "/account/inloggen/"
VERIFY_URL = "/account/tweestapsverificatie/"
SETUP_URL = "/account/tweestapsverificatie/instellen/"
REMOVE_URL = "/account/tweestapsverificatie/uitzetten/"
PASSWORD_CHANGE_URL = "/account/wachtwoord-wijzigen/"
PROFILE_URL = "/account/profiel/"
QUEUE_URL = "/meldpunt/"
SECRET_ON_PAGE = re.compile(r'<code class="fingerprint" id="totp-secret">([A-Z2-7 ]+)</code>')


def _with_password(user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def _password_login(user) -> Client:
    client = Client()
    response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def _secret(response) -> str:
    assert response.status_code == 200
    match = SECRET_ON_PAGE.search(response.content.decode())
    assert match, "the setup page shows the secret"
    return match.group(1).replace(" ", "")


def _code_for_secret(secret: str) -> str:
    """What an authenticator app with this (base32) secret shows now."""
    return f"{TOTP(b32decode(secret)).token():06d}"


def _token_works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/notifications/").status_code == 200


def _logged_in(client) -> bool:
    """True when the client's session still belongs to someone (the profile page opens)."""
    return client.get(PROFILE_URL).status_code == 200


def _security_mails(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


# --- Finding 1: the setup secret --------------------------------------------------------------


def test_a_secret_noted_with_the_initial_password_never_passes_the_second_factor(
    registrar, committed
):
    """The attack: someone with a new registrar's initial password opens the setup page and
    notes the secret. The registrar logs in later and sets up their own app: they get another
    secret, and the noted one gives no code that passes, then or afterwards."""
    _with_password(registrar)
    attacker = _password_login(registrar)
    noted = _secret(attacker.get(SETUP_URL))

    person = _password_login(registrar)
    own = _secret(person.get(SETUP_URL))
    assert own != noted
    assert TotpDevice.objects.filter(user=registrar).count() == 1, "the login removed the other"
    with committed():
        confirmed = person.post(SETUP_URL, {"code": _code_for_secret(own), "next": QUEUE_URL})
    assert confirmed.status_code == 200
    assert 'id="backup-codes"' in confirmed.content.decode()
    assert person.get(QUEUE_URL).status_code == 200

    # The attacker's session ended when two-factor was switched on; with the password they
    # log in again and try the noted secret's code.
    assert attacker.get(QUEUE_URL)["Location"].startswith(LOGIN_URL)
    again = _password_login(registrar)
    refused = again.post(VERIFY_URL, {"code": _code_for_secret(noted), "next": QUEUE_URL})
    assert refused.status_code == 200
    assert "Deze code klopt niet" in refused.content.decode()
    assert again.get(QUEUE_URL).status_code == 302


def test_two_open_setup_pages_get_different_secrets_and_the_other_goes_at_confirmation(
    registrar,
):
    """With both sessions logged in at once, each sees its own secret; confirming one removes
    the other, so its secret is worth nothing."""
    _with_password(registrar)
    person = _password_login(registrar)
    attacker = _password_login(registrar)
    own = _secret(person.get(SETUP_URL))
    noted = _secret(attacker.get(SETUP_URL))
    assert own != noted

    person.post(SETUP_URL, {"code": _code_for_secret(own)})

    devices = list(TotpDevice.objects.filter(user=registrar))
    assert len(devices) == 1 and devices[0].confirmed
    assert _secret_of(devices[0]) == own
    # The attacker's session ended; their page, posted now, confirms nothing.
    late = attacker.post(SETUP_URL, {"code": _code_for_secret(noted)})
    assert late["Location"].startswith(LOGIN_URL)
    assert TotpDevice.objects.filter(user=registrar, confirmed=True).count() == 1
    assert _secret_of(TotpDevice.objects.get(user=registrar, confirmed=True)) == own


def _secret_of(device) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


def test_every_visit_of_the_setup_page_makes_a_new_secret_and_a_wrong_code_keeps_it(officeholder):
    """Opening the page again gives a new secret (the old one is gone); a wrong code shows
    the same secret again, so that the person need not scan again."""
    _with_password(officeholder)
    client = _password_login(officeholder)
    first = _secret(client.get(SETUP_URL))
    second = _secret(client.get(SETUP_URL))
    assert first != second
    assert TotpDevice.objects.filter(user=officeholder).count() == 1

    wrong = client.post(SETUP_URL, {"code": "000000"})
    assert _secret(wrong) == second
    assert "Deze code klopt niet" in wrong.content.decode()


def test_after_a_device_reset_a_secret_seen_in_between_is_removed_at_login(
    registrar, admin_user, committed
):
    """The device-reset window: after the administrator deletes a lost phone, someone with the
    password opens the setup page first. At the person's next login that secret is removed
    and the person's own setup makes a new one."""
    _with_password(registrar)
    TotpDevice.objects.create(user=registrar, name="Authenticator-app", confirmed=True)
    device = TotpDevice.objects.get(user=registrar)
    admin = verified_login(Client(), admin_user)
    with committed():
        admin.post(f"/beheer/portal/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert not TotpDevice.objects.filter(user=registrar).exists()

    attacker = _password_login(registrar)
    noted = _secret(attacker.get(SETUP_URL))
    person = _password_login(registrar)
    assert not TotpDevice.objects.filter(user=registrar).exists()
    own = _secret(person.get(SETUP_URL))
    assert own != noted


def test_a_password_change_removes_unconfirmed_devices(officeholder):
    """A secret left from an unfinished setup attempt goes when the password changes."""
    _with_password(officeholder)
    client = _password_login(officeholder)
    _secret(client.get(SETUP_URL))
    assert TotpDevice.objects.filter(user=officeholder, confirmed=False).exists()

    client.post(
        PASSWORD_CHANGE_URL,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert not TotpDevice.objects.filter(user=officeholder).exists()


# --- Finding 2 and 7: other sessions and tokens end --------------------------------------------


def test_switching_two_factor_on_ends_other_sessions_revokes_tokens_and_tells_the_person(
    officeholder, committed
):
    """The attack: a session opened with a stolen password survives the owner switching the
    code on. Now it ends, the owner's own session stays, tokens stop working, and two e-mails
    without content go out ("was u dit?" and the revoked tokens)."""
    _with_password(officeholder)
    thief = _password_login(officeholder)
    owner = _password_login(officeholder)
    _token, key = api_token_create(user=officeholder, name="koppeling")
    assert _token_works(key)

    secret = _secret(owner.get(SETUP_URL))
    with committed():
        owner.post(SETUP_URL, {"code": _code_for_secret(secret)})

    assert not _logged_in(thief)
    assert _logged_in(owner)
    assert not _token_works(key)
    subjects = sorted(message.subject for message in _security_mails(officeholder))
    assert subjects == [
        "Er is een authenticator-app aan uw account toegevoegd",
        "Uw API-sleutels zijn ingetrokken",
    ]
    for message in _security_mails(officeholder):
        assert "http://localhost:8000/account/profiel/" in message.body


def test_switching_two_factor_off_ends_other_sessions_and_revokes_tokens(officeholder, committed):
    """Switching the code off (password and code) ends every other session and the tokens."""
    _with_password(officeholder)
    device = TotpDevice.objects.create(user=officeholder, name="Authenticator-app")
    other = verified_login(Client(), officeholder)
    owner = verified_login(Client(), officeholder)
    _token, key = api_token_create(user=officeholder, name="koppeling")

    with committed():
        owner.post(REMOVE_URL, {"password": PASSWORD, "code": totp_code(device)})

    assert not TotpDevice.objects.filter(user=officeholder).exists()
    assert not _logged_in(other)
    assert _logged_in(owner)
    assert not _token_works(key)
    subjects = {message.subject for message in _security_mails(officeholder)}
    assert "Inloggen met een code is uitgezet" in subjects


def test_a_backup_code_also_switches_it_off_but_the_password_alone_does_not(officeholder):
    """A backup code counts as the current code; without any code nothing changes."""
    _with_password(officeholder)
    TotpDevice.objects.create(user=officeholder, name="Authenticator-app")
    code = backup_codes_create(user=officeholder)[0]
    client = verified_login(Client(), officeholder)

    client.post(REMOVE_URL, {"password": PASSWORD, "code": ""})
    assert TotpDevice.objects.filter(user=officeholder).exists()
    client.post(REMOVE_URL, {"password": PASSWORD, "code": code})
    assert not TotpDevice.objects.filter(user=officeholder).exists()
    assert not BackupCodeDevice.objects.filter(user=officeholder).exists()


def test_a_token_stops_working_after_a_password_change_and_other_sessions_end(registrar, committed):
    """The attack of finding 7: a token (or a session) taken earlier kept working after the
    victim changed the password. Now both end; this session stays."""
    _with_password(registrar)
    other = verified_login(Client(), registrar)
    owner = verified_login(Client(), registrar)
    _token, key = api_token_create(user=registrar, name="zaaksysteem")
    assert _token_works(key)

    with committed():
        response = owner.post(
            PASSWORD_CHANGE_URL,
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
    assert response.status_code == 302

    assert not _token_works(key)
    assert ApiToken.objects.get(user=registrar).revoked_at is not None
    assert not _logged_in(other)
    assert owner.get(QUEUE_URL).status_code == 200, "the verified session stays verified"
    subjects = {message.subject for message in _security_mails(registrar)}
    assert subjects == {"Uw wachtwoord is gewijzigd", "Uw API-sleutels zijn ingetrokken"}


def test_the_administrators_reset_ends_every_session_and_token_of_the_person(
    registrar, admin_user, committed
):
    """Deleting a lost phone in the admin removes the app and backup codes, ends all of the
    person's sessions (the thief's phone may be logged in) and revokes their tokens."""
    device = TotpDevice.objects.create(user=registrar, name="Authenticator-app")
    backup_codes_create(user=registrar)
    session = verified_login(Client(), registrar)
    _token, key = api_token_create(user=registrar, name="zaaksysteem")
    admin = verified_login(Client(), admin_user)

    with committed():
        response = admin.post(f"/beheer/portal/totpdevice/{device.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not TotpDevice.objects.filter(user=registrar).exists()
    assert not BackupCode.objects.filter(device__user=registrar).exists()
    assert session.get(QUEUE_URL)["Location"].startswith(LOGIN_URL)
    assert not _token_works(key)
    assert _logged_in(admin)


def test_the_security_notice_says_nothing_but_what_changed_and_links_to_the_profile(
    officeholder, committed
):
    """`security_notice_send` is the one way to say "was u dit?" (passkeys use it too): an
    e-mail in the person's language with a link to the profile, and an entry in the list."""
    officeholder.preferred_language = "en"
    officeholder.save(update_fields=["preferred_language"])
    with committed():
        security_notice_send(user=officeholder, kind=SecurityNotice.PASSKEY_ADDED)

    (message,) = _security_mails(officeholder)
    assert message.subject == "A passkey was added to your account"
    assert "Was this you?" in message.body
    assert message.body.count("http") == 1
    assert "http://localhost:8000/account/profiel/" in message.body
    notification = Notification.objects.get(recipient=officeholder)
    assert notification.link == PROFILE_URL
    client = Client()
    client.force_login(officeholder)
    page = client.get("/notificaties/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "A passkey was added to your account" in page
    assert "To my profile" in page


# --- Finding 4: the secrets in the database and in the admin -----------------------------------


def test_the_app_key_is_encrypted_and_backup_codes_are_hashed_in_the_database(officeholder):
    """Reading the tables directly gives neither the app's secret nor any backup code."""
    device = TotpDevice.objects.create(user=officeholder, name="Authenticator-app")
    codes = backup_codes_create(user=officeholder)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM portal_totpdevice WHERE id = %s", [device.pk])
        (raw_key,) = cursor.fetchone()
        cursor.execute("SELECT code_hash FROM portal_backupcode")
        raw_codes = [row[0] for row in cursor.fetchall()]

    assert device.key not in raw_key
    assert raw_key.startswith("gAAAA"), "a Fernet token"
    assert len(raw_codes) == 10
    assert not any(code in raw for code in codes for raw in raw_codes)
    # And they still work.
    assert TotpDevice.objects.get(pk=device.pk).verify_token(totp_code(device))
    assert BackupCodeDevice.objects.get(user=officeholder).verify_token(codes[3])


def test_the_admin_lists_apps_but_shows_no_secret_and_cannot_change_them(registrar, admin_user):
    """The admin's list and detail page of an authenticator app show who and when, never the
    key (hex or base32) or a backup code; there is no add or change."""
    device = TotpDevice.objects.create(user=registrar, name="Authenticator-app")
    codes = backup_codes_create(user=registrar)
    admin = verified_login(Client(), admin_user)

    pages = [
        admin.get("/beheer/portal/totpdevice/"),
        admin.get(f"/beheer/portal/totpdevice/{device.pk}/change/"),
    ]

    secret = _secret_of(device)
    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        assert escape(str(registrar)) in body
        assert device.key not in body and secret not in body
        assert not any(code in body for code in codes)
        assert 'name="key"' not in body
    assert admin.get("/beheer/portal/totpdevice/add/").status_code == 403
    assert admin.get("/beheer/portal/backupcode/").status_code == 404
