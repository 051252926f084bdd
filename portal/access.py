"""Who may open which part of the portal. The one place in `portal` that checks roles.

Pages meant for another role answer 404, exactly like a page that does not exist, so that
the portal never tells an outsider what exists.
"""

from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.http import Http404
from django.utils import timezone

from portal.constants import Role
from portal.kept_forms import login_redirect


def user_has_role(user, *roles: Role) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def role_required(*roles: Role):
    """View decorator: anonymous users go to the login page; other roles get a 404."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return login_redirect(request)
            if not user_has_role(request.user, *roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def user_may_use_admin_site(user) -> bool:
    """Only functional administrators manage configuration and people in the Django admin."""
    return user_has_role(user, Role.ADMIN) and user.is_staff


# What the functional administrator may do in the Django admin, per model. They are not a
# Django superuser: groups, permissions, the beat schedule and the operator's break-glass
# accounts (`createsuperuser`) stay out of their reach. A ModelAdmin may narrow this further
# (the logs are read-only there whatever this says); nobody deletes a person or an
# organisation, they are deactivated or ended.
FUNCTIONAL_ADMINISTRATOR_PERMISSIONS = {
    "portal.organisation": ("view", "add", "change"),
    "portal.desk": ("view", "add", "change"),
    "portal.user": ("view", "add", "change"),
    "portal.personchange": ("view",),
    "portal.siteconfiguration": ("view", "change"),
    # Which functions may ask for a security advice (seeded for every function).
    "portal.securityadviceeligibility": ("view", "change"),
    # Single sign-on: the providers, and removing a person's link (portal.sso).
    "portal.identityprovider": ("view", "add", "change"),
    "portal.externalidentity": ("view", "delete"),
    "portal.workerheartbeat": ("view",),
    "portal.accesslogentry": ("view",),
    "portal.outboxentry": ("view",),
    # A lost phone or key: the device is removed, its secret is never shown.
    "portal.totpdevice": ("view", "delete"),
    "django_otp_webauthn.webauthncredential": ("view", "delete"),
    "support.escalationrule": ("view", "change"),
    # The national standard replies (the desks' own are their coordinators').
    "incidents.standardreply": ("view", "add", "change"),
    # The Monitor's reference figures shown beside the statistics.
    "incidents.monitorfigure": ("view", "add", "change", "delete"),
    # Why each step of the aangifte track matters (one row per step, seeded).
    "incidents.aangiftesteptext": ("view", "change"),
    "support.supportcase": ("view",),
    "support.supportaction": ("view",),
    # Unblocking a person after too many failed logins.
    "axes.accessattempt": ("view", "delete"),
    "axes.accesslog": ("view",),
    "axes.accessfailurelog": ("view",),
}


def functional_administrator_permissions(user) -> frozenset[str]:
    """Django permission names ("portal.change_desk") of an active functional administrator."""
    if not user_may_use_admin_site(user):
        return frozenset()
    return frozenset(
        f"{app_label}.{action}_{model}"
        for label, actions in FUNCTIONAL_ADMINISTRATOR_PERMISSIONS.items()
        for app_label, model in [label.split(".")]
        for action in actions
    )


class FunctionalAdministratorBackend(BaseBackend):
    """Gives the functional administrator the admin permissions above (settings'
    AUTHENTICATION_BACKENDS), so that their account needs no superuser flag, no group and
    no permission rows that could drift from this table."""

    def get_user_permissions(self, user_obj, obj=None):
        return set(functional_administrator_permissions(user_obj))

    def has_module_perms(self, user_obj, app_label):
        prefix = f"{app_label}."
        return any(
            permission.startswith(prefix)
            for permission in functional_administrator_permissions(user_obj)
        )


# --- Second factor ----------------------------------------------------------------------------
# Staff see threat data of many officeholders: a password alone never opens a staff page.
SECOND_FACTOR_ROLES = (Role.REGISTRAR, Role.SUPPORT, Role.ADMIN, Role.ANALYST)
# Set at login for an officeholder who chose a second factor: their session needs it too.
SECOND_FACTOR_PENDING_SESSION_KEY = "portal_second_factor_pending"
# Set at a single sign-on whose provider said the person used more than one factor there (a
# configured `acr` or `amr` value, portal.sso): that counts as this session's second factor.
SECOND_FACTOR_BY_PROVIDER_SESSION_KEY = "portal_second_factor_by_provider"


def user_must_use_second_factor(user) -> bool:
    """Registrars, the support team, administrators and analysts must log in with a second
    factor."""
    return user_has_role(user, *SECOND_FACTOR_ROLES)


def session_is_verified(user) -> bool:
    """True when this session's login was confirmed with a code (django-otp's middleware)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def second_factor_missing(request) -> bool:
    """True when the logged-in person still has to enter (or set up) their second factor.

    The one rule behind every door: web pages (SecondFactorMiddleware), the Django admin
    (PortalAdminSite) and the API's session authentication.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or session_is_verified(user):
        return False
    session = getattr(request, "session", None) or {}
    if session.get(SECOND_FACTOR_BY_PROVIDER_SESSION_KEY):
        return False
    if user_must_use_second_factor(user):
        return True
    return bool(session.get(SECOND_FACTOR_PENDING_SESSION_KEY))


def user_may_switch_second_factor_off(user) -> bool:
    """Only people who may log in without a second factor (officeholders) may switch it off."""
    return bool(user.is_authenticated) and not user_must_use_second_factor(user)


# --- Personal API tokens ------------------------------------------------------------------------
OFFICEHOLDER_TOKEN_LIFETIME = timedelta(days=90)
STAFF_TOKEN_LIFETIME = timedelta(days=30)


def api_token_lifetime(user) -> timedelta:
    """How long a new token of this person works: staff 30 days, officeholders 90."""
    if user_must_use_second_factor(user):
        return STAFF_TOKEN_LIFETIME
    return OFFICEHOLDER_TOKEN_LIFETIME


def api_token_idle_timeout(user) -> timedelta | None:
    """How long a token of this person may go unused before it stops working; None: no limit.

    Staff sessions end after STAFF_IDLE_TIMEOUT without a request; a staff token follows the
    same clock, so a token cannot be used to get round it.
    """
    if user_must_use_second_factor(user):
        return settings.STAFF_IDLE_TIMEOUT
    return None


def api_token_works_until(token) -> datetime:
    """When the token stops working if nothing else happens: its expiry, or for staff the end
    of the idle timeout counted from its last use, whichever comes first."""
    idle = api_token_idle_timeout(token.user)
    if idle is None:
        return token.expires_at
    return min(token.expires_at, (token.last_used_at or token.created_at) + idle)


def api_token_is_active(token, *, now: datetime | None = None) -> bool:
    """A token works when it is not revoked and `api_token_works_until` lies ahead."""
    now = now or timezone.now()
    return token.revoked_at is None and now < api_token_works_until(token)


def api_docs_open_to(user) -> bool:
    """The API schema and its documentation: for everyone logged in, or public by setting."""
    return bool(settings.API_DOCS_PUBLIC or (user is not None and user.is_authenticated))
