"""The OpenID Connect test provider (tests/oidc_provider) does what the login tests rely on.

Driven with plain HTTP, as the portal and a browser would: discovery, the authorization code
flow with PKCE and a nonce through the provider's own login page, RS256 ID tokens that verify
against its JWKS, acr and amr, a token for another audience, silent re-authentication after
an account is blocked, and RP-initiated logout. No browser, no live server.
"""

import base64
import hashlib
import secrets
from urllib.parse import urlencode, urljoin

import jwt
import pytest
import requests

from tests.oidc_provider import follow_to_client, only_form, running_provider

# Nothing listens there: the flow stops at the redirect to it.
REDIRECT_URI = "http://127.0.0.1:9/cb"
POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:9/logged-out"
CLIENT = "meldpunt-utrecht"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with running_provider(
        tmp_path_factory.mktemp("oidc-provider"),
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[POST_LOGOUT_REDIRECT_URI],
    ) as provider:
        yield provider


@pytest.fixture(scope="module")
def discovery(provider):
    response = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=5)
    response.raise_for_status()
    return response.json()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(session, discovery, client_id, *, nonce, challenge, **extra):
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": secrets.token_urlsafe(16),
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    url = f"{discovery['authorization_endpoint']}?{urlencode(query)}"
    return follow_to_client(
        session, session.get(url, allow_redirects=False, timeout=5), REDIRECT_URI
    )


def submit_login(session, page: requests.Response, account: str):
    form = only_form(page.text)
    response = session.post(
        urljoin(page.url, form["action"]),
        data={"account": account},
        allow_redirects=False,
        timeout=5,
    )
    return follow_to_client(session, response, REDIRECT_URI)


def log_in(session, provider, discovery, account, *, client=CLIENT) -> dict:
    """The whole code flow for `account` with `client`: its ID token, nonce and client_id."""
    client_id, client_secret = provider.client(client)
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(16)
    page = authorize(session, discovery, client_id, nonce=nonce, challenge=challenge)
    assert page.url.startswith(f"{provider.issuer}/interaction/")
    result = submit_login(session, page, account)
    assert "code" in result, result
    response = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": REDIRECT_URI,
            "client_id": client_id,
            "client_secret": client_secret,
            "code_verifier": verifier,
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return {"id_token": response.json()["id_token"], "nonce": nonce, "client_id": client_id}


def log_in_silently(session, discovery, client_id) -> dict:
    """An authorization request with prompt=none: the query of the redirect to the client."""
    return authorize(
        session, discovery, client_id, nonce="n", challenge=pkce_pair()[1], prompt="none"
    )


def verified_claims(discovery, id_token: str, audience: str) -> dict:
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    jwks = requests.get(discovery["jwks_uri"], timeout=5).json()
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    return jwt.decode(
        id_token, key, algorithms=["RS256"], audience=audience, issuer=discovery["issuer"]
    )


def test_discovery_names_what_the_portal_uses(provider, discovery):
    assert discovery["issuer"] == provider.issuer
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ):
        assert discovery[endpoint].startswith(f"{provider.issuer}/")
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert "client_secret_post" in discovery["token_endpoint_auth_methods_supported"]
    assert set(discovery["acr_values_supported"]) == {"urn:test:mfa", "urn:test:pwd"}


def test_the_code_flow_gives_a_signed_id_token_with_nonce_acr_and_amr(provider, discovery):
    provider.account_set("anna", mfa=True)
    provider.account_set("bert")

    anna = log_in(requests.Session(), provider, discovery, "anna")
    claims = verified_claims(discovery, anna["id_token"], anna["client_id"])
    assert (claims["sub"], claims["nonce"]) == ("anna", anna["nonce"])
    assert (claims["acr"], claims["amr"]) == ("urn:test:mfa", ["pwd", "mfa"])

    bert = log_in(requests.Session(), provider, discovery, "bert", client="ondersteuning")
    claims = verified_claims(discovery, bert["id_token"], "ondersteuning")
    assert (claims["acr"], claims["amr"]) == ("urn:test:pwd", ["pwd"])


def test_pkce_is_required(provider, discovery):
    client_id, _ = provider.client(CLIENT)
    url = f"{discovery['authorization_endpoint']}?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "nonce": "n",
        }
    )
    session = requests.Session()
    result = follow_to_client(
        session, session.get(url, allow_redirects=False, timeout=5), REDIRECT_URI
    )
    assert result["error"] == "invalid_request"


def test_unknown_and_blocked_accounts_are_refused_on_the_login_page(provider, discovery):
    provider.account_set("geblokkeerd", disabled=True)
    session = requests.Session()
    client_id, _ = provider.client(CLIENT)
    page = authorize(session, discovery, client_id, nonce="n", challenge=pkce_pair()[1])
    assert '<label for="account">Account</label>' in page.text
    assert ">Inloggen</button>" in page.text
    for account in ("geblokkeerd", "niemand"):
        refused = submit_login(session, page, account)
        assert "Onbekend of geblokkeerd account" in refused.text


def test_an_audience_gives_a_real_token_for_another_client(provider, discovery):
    provider.account_set("carla", audience="other-app")
    carla = log_in(requests.Session(), provider, discovery, "carla")

    claims = verified_claims(discovery, carla["id_token"], "other-app")
    assert (claims["sub"], claims["nonce"], claims["aud"]) == ("carla", carla["nonce"], "other-app")
    assert (claims["acr"], claims["amr"]) == ("urn:test:pwd", ["pwd"])
    with pytest.raises(jwt.InvalidAudienceError):
        verified_claims(discovery, carla["id_token"], carla["client_id"])


def test_silent_login_fails_once_the_account_is_blocked(provider, discovery):
    provider.account_set("dirk")
    session = requests.Session()
    log_in(session, provider, discovery, "dirk")
    client_id, _ = provider.client(CLIENT)

    assert "code" in log_in_silently(session, discovery, client_id)

    provider.account_set("dirk", disabled=True)
    silent = log_in_silently(session, discovery, client_id)
    assert silent["error"] == "login_required", silent


def test_rp_initiated_logout_asks_and_returns_to_the_client(provider, discovery):
    provider.account_set("eva")
    session = requests.Session()
    eva = log_in(session, provider, discovery, "eva")
    query = {
        "id_token_hint": eva["id_token"],
        "post_logout_redirect_uri": POST_LOGOUT_REDIRECT_URI,
        "state": "s",
    }
    page = session.get(f"{discovery['end_session_endpoint']}?{urlencode(query)}", timeout=5)
    assert page.status_code == 200
    assert ">Uitloggen</button>" in page.text
    form = only_form(page.text)
    assert form["fields"]["logout"] == "yes"

    response = session.post(
        urljoin(page.url, form["action"]), data=form["fields"], allow_redirects=False, timeout=5
    )
    assert follow_to_client(session, response, POST_LOGOUT_REDIRECT_URI) == {"state": "s"}

    client_id, _ = provider.client(CLIENT)
    assert log_in_silently(session, discovery, client_id)["error"] == "login_required"
