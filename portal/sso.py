"""Single sign-on for staff through their organisation's OpenID Connect provider.

Built on mozilla-django-oidc: its login request, callback, backend and session refresh, made
per provider (`portal.models.IdentityProvider`: one per desk and one for the
Ondersteuningsteam) instead of one provider in the settings. What the portal adds:

- **Nobody is created or matched by e-mail.** A login names a person only through an
  `ExternalIdentity` (issuer, subject) made beforehand: by accepting an invitation through the
  provider, or by the desk's coordinator. The person must be active and the provider must be
  the one that serves them now (`portal.policies.identity_provider_for`).
- **The ID token is checked here** (mozilla-django-oidc 5 does not check the audience): RS256
  with a key from the provider's published keys, issuer, audience (and `azp` when there are
  several), nonce, expiry and issue time.
- **Second factor.** An `acr` or `amr` value that the administrator set for the provider
  counts as the second factor of this session; otherwise the portal's own code step follows.
- **Re-checking.** `SessionRefreshMiddleware` asks the provider again, without showing
  anything (`prompt=none`), once `OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS` have passed (less than
  the staff idle timeout). A person whom the provider no longer knows is logged out.

A failed login never answers with an error page: the person is sent back to the login page
with a message that says what to do (`FAILURE_MESSAGES`), and the reason goes to the log.
"""

import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from portal.access import SECOND_FACTOR_BY_PROVIDER_SESSION_KEY
from portal.errors import DomainError
from portal.models import ExternalIdentity, IdentityProvider, User
from portal.policies import identity_provider_for

logger = logging.getLogger(__name__)

SIGNING_ALGORITHM = "RS256"
# What each login started in this browser session is for, by its `state`: the provider and,
# for an invitation, its token. mozilla-django-oidc removes its own entry for the state before
# the backend runs, so the portal keeps this one next to it.
STARTED_SESSION_KEY = "portal_sso_started"
# The provider this session logged in with (the session refresh asks the same one again).
PROVIDER_SESSION_KEY = "portal_sso_provider"
# Kept after logging out, for the offer to log out at the provider too (the login page).
PROVIDER_LOGOUT_SESSION_KEY = "portal_sso_logout"
# How long a provider's discovery document is used before it is read again.
DISCOVERY_MAX_AGE = 3600

FAILURE_MESSAGES = {
    "unknown_person": gettext_lazy(
        "U bent ingelogd bij uw organisatie, maar dat account is hier niet bekend. Vraag de "
        "coördinator van uw meldpunt om een uitnodiging."
    ),
    "refused": gettext_lazy(
        "Uw organisatie heeft het inloggen niet bevestigd. Probeer het opnieuw. Lukt het niet? "
        "Neem dan contact op met de coördinator van uw meldpunt."
    ),
    "unavailable": gettext_lazy(
        "De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het over een paar "
        "minuten opnieuw, of log in met uw wachtwoord als u dat heeft."
    ),
    "expired": gettext_lazy(
        "Het inloggen duurde te lang of is in een ander tabblad begonnen. Probeer het opnieuw."
    ),
    "session_refused": gettext_lazy(
        "U bent uitgelogd, omdat uw organisatie uw inlog niet meer bevestigt. Log opnieuw in."
    ),
}


class LoginFailed(Exception):
    """A login through a provider that did not work; `reason` is a key of FAILURE_MESSAGES."""

    def __init__(self, reason: str, detail: str = "", *, message: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.message = message or FAILURE_MESSAGES[reason]


@dataclass(frozen=True)
class Endpoints:
    """What a provider's discovery document says about where to go."""

    authorization: str
    token: str
    jwks: str
    end_session: str


_discovered: dict[str, tuple[float, Endpoints]] = {}


def provider_endpoints(provider: IdentityProvider) -> Endpoints:
    """The provider's endpoints from its discovery document (read again after an hour)."""
    cached = _discovered.get(provider.issuer)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    endpoints = discover(provider.issuer)
    _discovered[provider.issuer] = (time.monotonic() + DISCOVERY_MAX_AGE, endpoints)
    return endpoints


def discover(issuer: str) -> Endpoints:
    """Read `issuer`'s `/.well-known/openid-configuration`.

    Raises LoginFailed("unavailable") when it cannot be read, or when it names another
    issuer than the one asked for (a mix-up of providers).
    """
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
        if document.get("issuer") != issuer:
            raise LoginFailed("unavailable", f"discovery names issuer {document.get('issuer')!r}")
        return Endpoints(
            authorization=document["authorization_endpoint"],
            token=document["token_endpoint"],
            jwks=document["jwks_uri"],
            end_session=document.get("end_session_endpoint", ""),
        )
    except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError) as error:
        raise LoginFailed("unavailable", f"discovery of {url}: {error}") from None


def issuer_problem(issuer: str) -> str:
    """Why `issuer` cannot be used, for the administrator; "" when its discovery works.

    Only https, except on this machine's loopback for development and the tests.
    """
    from portal.checks import LOOPBACK_HOSTS

    parts = urlsplit(issuer)
    loopback_allowed = settings.DEBUG or settings.LOOPBACK_TEST_STACK
    if parts.scheme != "https" and not (loopback_allowed and parts.hostname in LOOPBACK_HOSTS):
        return _("Het adres van de inlogdienst moet met https:// beginnen.")
    try:
        discover(issuer)
    except LoginFailed as failure:
        logger.info("issuer check of %s: %s", issuer, failure)
        return _(
            "Op dit adres staat geen inlogdienst, of die antwoordt niet: "
            "%(url)s/.well-known/openid-configuration gaf geen geldig antwoord met dit adres "
            "als 'issuer'."
        ) % {"url": issuer.rstrip("/")}
    _discovered.pop(issuer, None)
    return ""


def providers_for_login():
    """The providers offered on the login page."""
    return IdentityProvider.objects.filter(is_active=True).order_by("name")


def provider_asserts_second_factor(provider: IdentityProvider, claims: dict) -> bool:
    """True when the ID token says the person used more than one factor, in a way the
    administrator configured for this provider (`acr` or `amr` values)."""
    acr_values = set(provider.mfa_acr_values.split())
    amr_values = set(provider.mfa_amr_values.split())
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool(claims.get("acr") in acr_values or amr_values.intersection(amr))


def linked_person(provider: IdentityProvider, subject: str) -> User | None:
    """The active person linked to `subject` at `provider`, when this provider serves them."""
    identity = (
        ExternalIdentity.objects.select_related("person")
        .filter(provider=provider, issuer=provider.issuer, subject=subject)
        .filter(person__is_active=True)
        .first()
    )
    if identity is None or identity_provider_for(identity.person) != provider:
        return None
    return identity.person


@dataclass
class StartedLogin:
    """One login on its way back from the provider (set on the request by the callback)."""

    provider: IdentityProvider
    invitation_token: str = ""
    refresh: bool = False
    person: User | None = None
    second_factor: bool = False
    failure: LoginFailed | None = None


class ProviderBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow for the provider of the login on its way back.

    It only acts for the portal's callback (`request.portal_sso`), so password and passkey
    logins never reach a provider.
    """

    def __init__(self, *args, **kwargs):
        # The provider comes with each login, not from the settings.
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        started: StartedLogin | None = getattr(request, "portal_sso", None)
        if started is None:
            return None
        provider = started.provider
        try:
            endpoints = provider_endpoints(provider)
            self.provider = provider
            self.started = started
            self.OIDC_OP_TOKEN_ENDPOINT = endpoints.token
            self.OIDC_OP_JWKS_ENDPOINT = endpoints.jwks
            self.OIDC_OP_USER_ENDPOINT = ""
            self.OIDC_RP_CLIENT_ID = provider.client_id
            self.OIDC_RP_CLIENT_SECRET = provider.client_secret
            self.OIDC_RP_SIGN_ALGO = SIGNING_ALGORITHM
            self.OIDC_RP_IDP_SIGN_KEY = None
            return super().authenticate(request, **kwargs)
        except LoginFailed as failure:
            started.failure = failure
        except requests.RequestException as error:
            started.failure = LoginFailed("unavailable", str(error))
        except (SuspiciousOperation, jwt.PyJWTError, ValueError, KeyError) as error:
            started.failure = LoginFailed("refused", f"{type(error).__name__}: {error}")
        logger.warning("sso login failed at %s: %s", provider.issuer, started.failure)
        return None

    def verify_token(self, token, **kwargs):
        """The ID token's signature and claims, checked by the portal itself."""
        if jwt.get_unverified_header(token).get("alg") != SIGNING_ALGORITHM:
            raise LoginFailed("refused", "the ID token is not signed with RS256")
        key = self.retrieve_matching_jwk(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=[SIGNING_ALGORITHM],
            audience=self.provider.client_id,
            issuer=self.provider.issuer,
            leeway=settings.OIDC_CLOCK_LEEWAY,
            options={"require": ["iss", "aud", "sub", "exp", "iat", "nonce"]},
        )
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise LoginFailed("refused", "the ID token was made for another party (azp)")
        nonce = kwargs.get("nonce") or ""
        if not nonce or not constant_time_compare(str(claims["nonce"]), nonce):
            raise LoginFailed("refused", "the ID token's nonce is not this login's")
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        # The ID token names the person (sub) and how they logged in (acr, amr): enough.
        return payload

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def get_or_create_user(self, access_token, id_token, payload):
        from portal import services

        started = self.started
        subject = str(payload["sub"])
        if started.invitation_token:
            try:
                person = services.invitation_accept_with_identity(
                    token=started.invitation_token, provider=self.provider, subject=subject
                )
            except DomainError as error:
                raise LoginFailed("unknown_person", error.message, message=error.message) from None
        else:
            person = linked_person(self.provider, subject)
            if person is None:
                raise LoginFailed("unknown_person", "no active person is linked to this subject")
        if started.refresh and started.person is not None and started.person != person:
            raise LoginFailed("refused", "the provider answered for another person")
        ExternalIdentity.objects.filter(provider=self.provider, subject=subject).update(
            last_login_at=timezone.now()
        )
        started.second_factor = provider_asserts_second_factor(self.provider, payload)
        return person

    def get_user(self, user_id):
        # As for a password login: a person who was deactivated is logged out at once.
        return ModelBackend.get_user(self, user_id)


class LoginStartView(OIDCAuthenticationRequestView):
    """Send the browser to a provider's login (a link on the login page, so a GET)."""

    provider: IdentityProvider
    invitation_token = ""
    prompt = ""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)

    def get(self, request, pk=None):
        provider = getattr(self, "provider", None) or (providers_for_login().filter(pk=pk).first())
        if provider is None:
            return _failed(request, LoginFailed("unavailable", f"no active provider {pk}"))
        try:
            endpoints = provider_endpoints(provider)
        except LoginFailed as failure:
            logger.warning("sso login could not start at %s: %s", provider.issuer, failure)
            return _failed(request, failure)
        self.OIDC_OP_AUTH_ENDPOINT = endpoints.authorization
        self.OIDC_RP_CLIENT_ID = provider.client_id
        response = super().get(request)
        state = parse_qs(urlsplit(response.url).query)["state"][0]
        started = request.session.get(STARTED_SESSION_KEY, {})
        started[state] = {
            "provider": provider.pk,
            "invitation": self.invitation_token,
            "refresh": bool(self.prompt),
        }
        request.session[STARTED_SESSION_KEY] = started
        return response

    def get_extra_params(self, request):
        return {"prompt": self.prompt} if self.prompt else {}


def login_start(request, provider, *, invitation_token="", refresh=False):
    """The redirect to `provider` for a login, an invitation's link or a silent re-check."""
    view = LoginStartView(
        provider=provider, invitation_token=invitation_token, prompt="none" if refresh else ""
    )
    view.setup(request)
    return view.get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: mozilla-django-oidc's callback, for the provider that was asked."""

    def get(self, request):
        state = request.GET.get("state", "")
        started = request.session.get(STARTED_SESSION_KEY, {}).pop(state, None)
        request.session.modified = True
        if started is None or state not in request.session.get("oidc_states", {}):
            # Not a login of this browser (an old tab, or a link someone sent): nobody who is
            # logged in is logged out by it.
            return _failed(request, LoginFailed("expired", "unknown state"))
        provider = IdentityProvider.objects.filter(pk=started["provider"], is_active=True).first()
        if provider is None:
            return self._failure(LoginFailed("unavailable", "the provider was switched off"))
        self.started = StartedLogin(
            provider=provider,
            invitation_token=started["invitation"],
            refresh=started["refresh"],
            person=request.user if request.user.is_authenticated else None,
        )
        request.portal_sso = self.started
        if request.GET.get("error"):
            logger.warning("sso provider %s answered %s", provider.issuer, request.GET["error"])
        return super().get(request)

    def login_failure(self):
        started = getattr(self, "started", None)
        failure = started.failure if started else None
        if failure is None:
            failure = LoginFailed("session_refused" if started and started.refresh else "refused")
        return self._failure(failure)

    def _failure(self, failure: LoginFailed):
        # A re-check that fails ends the session (mozilla-django-oidc only does so when the
        # provider answers with an error).
        if self.request.user.is_authenticated:
            auth.logout(self.request)
        return _failed(self.request, failure)

    def login_success(self):
        from portal.views import login_completed

        started = self.started
        refresh = started.refresh and self.request.user == self.user
        response = super().login_success()
        session = self.request.session
        session[PROVIDER_SESSION_KEY] = started.provider.pk
        if not refresh:
            session[SECOND_FACTOR_BY_PROVIDER_SESSION_KEY] = started.second_factor
            response = login_completed(self.request, self.user, response)
        return response


def _failed(request, failure: LoginFailed):
    messages.error(request, failure.message)
    return redirect("login")


# Pages that never send the browser to the provider for a re-check: the callback itself,
# logging out, and what the browser fetches by itself (the service worker, the manifest).
REFRESH_EXEMPT_URL_NAMES = (
    "sso_callback",
    "logout",
    "service_worker",
    "web_app_manifest",
    "offline",
)


class SessionRefreshMiddleware(SessionRefresh):
    """mozilla-django-oidc's session refresh, asking the provider this session logged in with."""

    def __init__(self, get_response):
        MiddlewareMixin.__init__(self, get_response)

    @cached_property
    def exempt_urls(self):
        return {reverse(name) for name in REFRESH_EXEMPT_URL_NAMES}

    @cached_property
    def exempt_url_patterns(self):
        # The API answers JSON: a redirect to a provider's login page helps no script.
        return {re.compile(r"^/api/")}

    def process_request(self, request):
        if not self.is_refreshable_url(request):
            return None
        if request.session.get("oidc_id_token_expiration", 0) > time.time():
            return None
        provider = IdentityProvider.objects.filter(
            pk=request.session.get(PROVIDER_SESSION_KEY), is_active=True
        ).first()
        if provider is None:
            auth.logout(request)
            return _failed(request, LoginFailed("session_refused", "provider switched off"))
        response = login_start(request, provider, refresh=True)
        request.session["oidc_login_next"] = request.get_full_path()
        return response


def provider_logout_offer(request) -> dict | None:
    """Where to log out at the provider this session logged in with: {"name", "url"}, or
    None when the session did not log in through one or it has no end_session_endpoint."""
    provider = IdentityProvider.objects.filter(pk=request.session.get(PROVIDER_SESSION_KEY)).first()
    if provider is None:
        return None
    try:
        end_session = provider_endpoints(provider).end_session
    except LoginFailed:
        return None
    if not end_session:
        return None
    query = {
        "client_id": provider.client_id,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        query["id_token_hint"] = id_token
    return {"name": provider.name, "url": f"{end_session}?{urlencode(query)}"}
