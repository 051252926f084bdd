"""Single sign-on for staff (portal/sso.py) against the real test provider, without a browser.

The Django test client plays the portal's side and `provider_login` the person at the
provider's own login page. The browser flows are in tests/browser/test_sso.py.
"""

import time
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from portal import services, sso
from portal.access import SECOND_FACTOR_BY_PROVIDER_SESSION_KEY
from portal.checks import configuration_problems
from portal.errors import DomainError, NotAllowed
from portal.models import ExternalIdentity, IdentityProvider, Invitation, PersonChange
from portal.policies import identity_provider_for
from tests.conftest import verified_login
from tests.factories import DeskFactory, UserFactory
from tests.oidc_provider import follow_to_client, provider_login, running_provider

CALLBACK = "http://testserver/account/inloggen/organisatie/terug/"
MFA = "urn:test:mfa"


@pytest.fixture(scope="module")
def oidc(tmp_path_factory):
    """A provider whose clients return to the test client's portal (http://testserver)."""
    with running_provider(
        tmp_path_factory.mktemp("oidc"),
        redirect_uris=[CALLBACK],
        post_logout_redirect_uris=["http://testserver/account/inloggen/"],
    ) as provider:
        yield provider


@pytest.fixture(autouse=True)
def forget_discovery():
    yield
    sso._discovered.clear()


@pytest.fixture
def desk_provider(oidc, desk):
    client_id, secret = oidc.client("meldpunt-utrecht")
    return IdentityProvider.objects.create(
        name="Gemeente Utrecht",
        desk=desk,
        issuer=oidc.issuer,
        client_id=client_id,
        client_secret=secret,
        mfa_acr_values=MFA,
    )


def linked(person, provider, subject):
    person.set_unusable_password()
    person.save()
    return ExternalIdentity.objects.create(
        person=person,
        provider=provider,
        issuer=provider.issuer,
        subject=subject,
        linked_at="2026-12-01T10:00Z",
    )


def sign_in(client, start_url, account, **kwargs):
    """Start at the portal, log in at the provider, come back: the callback's answer."""
    start = client.get(start_url)
    assert start.status_code == 302, start
    back = provider_login(start["Location"], account, back_to=CALLBACK, **kwargs)
    return client.get(f"{urlsplit(CALLBACK).path}?{urlencode(back)}")


def message_texts(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def test_linked_registrar_with_mfa_claim_is_in_with_no_code_step(client, oidc, desk_provider):
    registrar = UserFactory(registrar=True, desk=desk_provider.desk)
    linked(registrar, desk_provider, "reg-1")
    oidc.account_set("reg-1", mfa=True)

    response = sign_in(client, reverse("sso_start", args=[desk_provider.pk]), "reg-1")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert int(client.session[SESSION_KEY]) == registrar.pk
    assert client.session[SECOND_FACTOR_BY_PROVIDER_SESSION_KEY] is True
    assert client.get(reverse("desk:queue")).status_code == 200
    profile = client.get(reverse("profile")).text
    assert "Uw wachtwoord wijzigt u daar" in profile
    assert reverse("password_change") not in profile
    identity = ExternalIdentity.objects.get(subject="reg-1")
    assert identity.last_login_at is not None


def test_without_the_mfa_claim_the_portals_own_code_step_follows(client, oidc, desk_provider):
    registrar = UserFactory(registrar=True, desk=desk_provider.desk)
    linked(registrar, desk_provider, "reg-2")
    oidc.account_set("reg-2", mfa=False)

    response = sign_in(client, reverse("sso_start", args=[desk_provider.pk]), "reg-2")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))
    queue = client.get(reverse("desk:queue"))
    assert queue.status_code == 302 and queue["Location"].startswith(reverse("two_factor_verify"))


def test_amr_values_count_as_mfa_when_configured(client, oidc, desk_provider):
    desk_provider.mfa_acr_values = ""
    desk_provider.mfa_amr_values = "mfa hwk"
    desk_provider.save()
    claims = {"acr": MFA, "amr": ["pwd", "mfa"]}
    assert sso.provider_asserts_second_factor(desk_provider, claims)
    assert not sso.provider_asserts_second_factor(desk_provider, {"acr": MFA, "amr": ["pwd"]})
    assert not sso.provider_asserts_second_factor(desk_provider, {})


def test_unprovisioned_subject_gets_in_nowhere(client, oidc, desk_provider):
    UserFactory(registrar=True, desk=desk_provider.desk, email="same@example.org")
    oidc.account_set("stranger", mfa=True)

    response = sign_in(client, reverse("sso_start", args=[desk_provider.pk]), "stranger")

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    assert "niet bekend" in message_texts(response)[0]


@pytest.mark.parametrize(
    "change",
    ["deactivated", "moved_to_other_desk", "provider_of_other_desk"],
)
def test_a_link_works_only_for_an_active_person_of_the_providers_desk(
    client, oidc, desk_provider, change
):
    registrar = UserFactory(registrar=True, desk=desk_provider.desk)
    identity = linked(registrar, desk_provider, "reg-3")
    oidc.account_set("reg-3", mfa=True)
    start = reverse("sso_start", args=[desk_provider.pk])
    if change == "deactivated":
        registrar.is_active = False
        registrar.save()
    elif change == "moved_to_other_desk":
        registrar.desk = DeskFactory()
        registrar.save()
    else:
        client_id, secret = oidc.client("ondersteuning")
        other = IdentityProvider.objects.create(
            name="Ander",
            desk=DeskFactory(),
            issuer=oidc.issuer,
            client_id=client_id,
            client_secret=secret,
        )
        identity.provider = other
        identity.save()
        start = reverse("sso_start", args=[other.pk])

    response = sign_in(client, start, "reg-3")

    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session


def test_token_for_another_audience_is_refused(client, oidc, desk_provider):
    registrar = UserFactory(registrar=True, desk=desk_provider.desk)
    linked(registrar, desk_provider, "reg-4")
    oidc.account_set("reg-4", mfa=True, audience="other-app")

    response = sign_in(client, reverse("sso_start", args=[desk_provider.pk]), "reg-4")

    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    assert "niet bevestigd" in message_texts(response)[0]


def test_session_refresh_logs_out_a_person_disabled_at_the_provider(
    client, oidc, desk_provider, settings
):
    registrar = UserFactory(registrar=True, desk=desk_provider.desk)
    linked(registrar, desk_provider, "reg-5")
    oidc.account_set("reg-5", mfa=True)
    browser = requests.Session()
    sign_in(client, reverse("sso_start", args=[desk_provider.pk]), "reg-5", session=browser)
    queue = reverse("desk:queue")
    assert client.get(queue).status_code == 200

    def recheck():
        session = client.session
        session["oidc_id_token_expiration"] = time.time() - 1
        session.save()
        response = client.get(queue)
        assert response.status_code == 302
        assert "prompt=none" in response["Location"]
        back = follow_to_client(
            browser, browser.get(response["Location"], allow_redirects=False), CALLBACK
        )
        return client.get(f"{urlsplit(CALLBACK).path}?{urlencode(back)}")

    # Still known at the provider: back where the person was, still logged in.
    again = recheck()
    assert again["Location"] == queue
    assert int(client.session[SESSION_KEY]) == registrar.pk
    assert client.get(queue).status_code == 200

    oidc.account_set("reg-5", disabled=True)
    refused = recheck()
    assert refused["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    assert "uitgelogd" in message_texts(refused)[0]


def test_the_recheck_interval_must_be_shorter_than_the_idle_timeout(settings):
    settings.DEBUG = False
    settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = int(settings.STAFF_IDLE_TIMEOUT.total_seconds())
    assert any("SSO_RECHECK_SECONDS" in problem for problem in configuration_problems())
    settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = 60
    assert not any("SSO_RECHECK_SECONDS" in problem for problem in configuration_problems())


def test_callback_with_an_unknown_state_says_try_again(client, db):
    response = client.get(reverse("sso_callback") + "?code=abc&state=forged")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "Probeer het opnieuw" in message_texts(response)[0]


def test_provider_that_does_not_answer_gives_a_message_not_an_error(client, desk):
    provider = IdentityProvider.objects.create(
        name="Weg", desk=desk, issuer="http://127.0.0.1:9", client_id="x", client_secret="y"
    )
    response = client.get(reverse("sso_start", args=[provider.pk]))
    assert response["Location"] == reverse("login")
    assert "niet bereikbaar" in message_texts(response)[0]


def test_login_page_offers_the_organisation_login_only_when_there_is_one(client, desk):
    assert "Inloggen met uw organisatie" not in client.get(reverse("login")).text
    provider = IdentityProvider.objects.create(
        name="Gemeente Utrecht", desk=desk, issuer="https://id.example", client_id="a"
    )
    login_page = client.get(reverse("login") + "?next=/meldpunt/")
    assert 'href="/account/inloggen/organisatie/?next=/meldpunt/"' in login_page.text
    choose = client.get(reverse("sso_choose") + "?next=/meldpunt/")
    assert f'href="/account/inloggen/organisatie/{provider.pk}/?next=/meldpunt/"' in choose.text
    assert "Inloggen met Gemeente Utrecht" in choose.text
    outside = client.get(reverse("sso_choose") + "?next=https://evil.example/")
    assert f'href="/account/inloggen/organisatie/{provider.pk}/"' in outside.text


def test_logout_offers_the_providers_logout(client, oidc, desk_provider):
    registrar = UserFactory(registrar=True, desk=desk_provider.desk)
    linked(registrar, desk_provider, "reg-6")
    oidc.account_set("reg-6", mfa=True)
    sign_in(client, reverse("sso_start", args=[desk_provider.pk]), "reg-6")

    response = client.post(reverse("logout"), follow=True)

    assert SESSION_KEY not in client.session
    assert "Ook uitloggen bij Gemeente Utrecht" in response.text
    assert f"{oidc.issuer}/session/end?" in response.text
    assert "id_token_hint=" in response.text
    # Offered once.
    assert "Ook uitloggen bij" not in client.get(reverse("login")).text


# --- The ID token check ------------------------------------------------------------------------


@pytest.fixture
def token_check(desk):
    """The backend's token check with a key of the test's own, as if published by the provider."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider = IdentityProvider(
        desk=desk, issuer="https://id.example", client_id="portal", client_secret="s"
    )
    backend = sso.ProviderBackend()
    backend.provider = provider
    backend.retrieve_matching_jwk = lambda token: key.public_key()

    def check(nonce="n-1", algorithm="RS256", signing_key=key, **changes):
        now = int(time.time())
        claims = {
            "iss": "https://id.example",
            "aud": "portal",
            "sub": "s-1",
            "iat": now,
            "exp": now + 300,
            "nonce": "n-1",
            **changes,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        token = jwt.encode(claims, signing_key, algorithm=algorithm)
        return backend.verify_token(token, nonce=nonce)

    return check


def test_a_good_token_passes(token_check):
    assert token_check()["sub"] == "s-1"
    assert token_check(aud=["portal", "other"], azp="portal")["sub"] == "s-1"


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "other-app"},
        {"aud": ["portal", "other"]},  # several audiences and no azp
        {"aud": ["portal", "other"], "azp": "other"},
        {"iss": "https://elsewhere.example"},
        {"exp": int(time.time()) - 3600},
        {"iat": None},
        {"nonce": "n-2"},
        {"nonce": None},
        {"nonce": "n-1", "sub": None},
    ],
)
def test_a_token_that_is_not_for_this_login_is_refused(token_check, changes):
    with pytest.raises((sso.LoginFailed, jwt.PyJWTError)):
        token_check(**changes)


def test_a_token_signed_otherwise_is_refused(token_check):
    with pytest.raises(sso.LoginFailed):
        token_check(algorithm="HS256", signing_key="s" * 32)
    with pytest.raises(sso.LoginFailed):
        token_check(nonce="")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jwt.InvalidSignatureError):
        token_check(signing_key=other_key)


# --- Linking ---------------------------------------------------------------------------------


def test_invitation_links_the_providers_account_and_keeps_no_password(
    client, oidc, desk_provider, registrar
):
    colleague = UserFactory(registrar=True, desk=desk_provider.desk, is_active=False)
    colleague.set_unusable_password()
    colleague.save()
    invitation = services.invitation_create(actor=None, person=colleague)
    token = services.invitation_token(invitation)
    page = client.get(reverse("invitation_accept", args=[token]))
    assert "Inloggen met Gemeente Utrecht" in page.text
    assert 'name="new_password1"' not in page.text
    oidc.account_set("new-colleague", mfa=True)

    response = sign_in(client, reverse("invitation_sso", args=[token]), "new-colleague")

    assert response["Location"] == reverse("home")
    colleague.refresh_from_db()
    assert colleague.is_active and not colleague.has_usable_password()
    assert ExternalIdentity.objects.get(person=colleague).subject == "new-colleague"
    assert Invitation.objects.get(pk=invitation.pk).used_at is not None
    assert PersonChange.objects.filter(person=colleague, field="devices").exists()
    # The link works once.
    assert client.get(reverse("invitation_sso", args=[token])).status_code == 410


def test_invitation_refuses_a_subject_linked_to_somebody_else(client, oidc, desk_provider):
    linked(UserFactory(registrar=True, desk=desk_provider.desk), desk_provider, "taken")
    colleague = UserFactory(registrar=True, desk=desk_provider.desk, is_active=False)
    colleague.set_unusable_password()
    colleague.save()
    token = services.invitation_token(services.invitation_create(actor=None, person=colleague))
    oidc.account_set("taken", mfa=True)

    response = sign_in(client, reverse("invitation_sso", args=[token]), "taken")

    assert response["Location"] == reverse("login")
    assert "al gekoppeld aan een andere persoon" in message_texts(response)[0]
    colleague.refresh_from_db()
    assert not colleague.is_active
    assert SESSION_KEY not in client.session


def test_coordinator_links_and_unlinks_a_colleague(client, desk_provider):
    coordinator = UserFactory(registrar=True, desk=desk_provider.desk, is_coordinator=True)
    colleague = UserFactory(registrar=True, desk=desk_provider.desk)
    verified_login(client, coordinator)
    page_url = reverse("manage:person", args=[colleague.pk])
    assert "Inloggen met Gemeente Utrecht" in client.get(page_url).text

    empty = client.post(reverse("manage:person_identity_link", args=[colleague.pk]), {})
    assert empty.status_code == 200 and "is-invalid" in empty.text

    client.post(
        reverse("manage:person_identity_link", args=[colleague.pk]), {"subject": " obj-42 "}
    )
    colleague.refresh_from_db()
    assert ExternalIdentity.objects.get(person=colleague).subject == "obj-42"
    assert not colleague.has_usable_password()
    assert "Gekoppeld aan het account obj-42" in client.get(page_url).text

    other = UserFactory(registrar=True, desk=desk_provider.desk)
    taken = client.post(
        reverse("manage:person_identity_link", args=[other.pk]), {"subject": "obj-42"}
    )
    assert taken.status_code == 200
    assert "al gekoppeld aan een andere persoon" in taken.text

    client.post(reverse("manage:person_identity_unlink", args=[colleague.pk]))
    assert not ExternalIdentity.objects.filter(person=colleague).exists()
    # Without a password or a link the person needs a new invitation, which can be sent.
    services.invitation_create(actor=coordinator, person=colleague)


def test_only_the_own_desks_coordinator_links_colleagues(desk_provider):
    colleague = UserFactory(registrar=True, desk=desk_provider.desk)
    elsewhere = UserFactory(registrar=True, is_coordinator=True)
    plain = UserFactory(registrar=True, desk=desk_provider.desk)
    officeholder = UserFactory()
    own = UserFactory(registrar=True, desk=desk_provider.desk, is_coordinator=True)
    for actor, person in [(elsewhere, colleague), (plain, colleague), (own, officeholder)]:
        with pytest.raises(NotAllowed):
            services.external_identity_link(actor=actor, person=person, subject="x")
    with pytest.raises(NotAllowed):
        services.external_identity_link(actor=own, person=own, subject="x")


def test_no_link_without_a_provider_for_the_desk(db):
    coordinator = UserFactory(registrar=True, is_coordinator=True)
    colleague = UserFactory(registrar=True, desk=coordinator.desk)
    with pytest.raises(DomainError):
        services.external_identity_link(actor=coordinator, person=colleague, subject="x")


def test_team_provider_serves_the_support_team_only(db):
    team = IdentityProvider.objects.create(name="Ministerie", issuer="https://id.example")
    assert identity_provider_for(UserFactory(support=True)) == team
    assert identity_provider_for(UserFactory(registrar=True)) is None
    assert identity_provider_for(UserFactory()) is None
    assert identity_provider_for(UserFactory(admin=True)) is None


# --- Administration ------------------------------------------------------------------------------


def test_admin_adds_a_provider_checked_against_its_discovery(client, oidc, desk, admin_user):
    verified_login(client, admin_user)
    url = reverse("admin:portal_identityprovider_add")
    data = {
        "name": "Gemeente Utrecht",
        "desk": desk.pk,
        "issuer": oidc.issuer,
        "client_id": "meldpunt-utrecht",
        "client_secret": "secret-1",
        "mfa_acr_values": MFA,
        "mfa_amr_values": "",
        "is_active": "on",
    }
    wrong = client.post(url, {**data, "issuer": "http://127.0.0.1:9"})
    assert "geen inlogdienst" in wrong.text
    plain_http = client.post(url, {**data, "issuer": "http://id.example.nl"})
    assert "https://" in plain_http.text
    assert client.post(url, data).status_code == 302
    provider = IdentityProvider.objects.get()
    assert provider.client_secret == "secret-1"
    change = reverse("admin:portal_identityprovider_change", args=[provider.pk])
    assert "secret-1" not in client.get(change).text
    client.post(change, {**data, "client_secret": "", "name": "Utrecht"})
    provider.refresh_from_db()
    assert (provider.name, provider.client_secret) == ("Utrecht", "secret-1")
