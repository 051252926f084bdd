"""Who may open which part of the portal. The one place in `portal` that checks roles.

Pages meant for another role answer 404, exactly like a page that does not exist, so that
the portal never tells an outsider what exists.
"""

import hmac
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from portal.constants import Role


def user_has_role(user, *roles: Role) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def role_required(*roles: Role):
    """View decorator: anonymous users go to the login page; other roles get a 404."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, *roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def user_may_use_admin_site(user) -> bool:
    """Only functional administrators manage configuration and people in the Django admin."""
    return user_has_role(user, Role.ADMIN) and user.is_staff


def health_detail_allowed(request) -> bool:
    """Who sees each health check's figures (not only up or down): an administrator whose
    session entered the second factor, or a monitor that sends HEALTH_TOKEN (when one is
    configured) in the X-Health-Token header."""
    token = settings.HEALTH_TOKEN
    sent = request.headers.get("X-Health-Token", "")
    if token and sent and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    return user_has_role(request.user, Role.ADMIN) and session_is_verified(request.user)


# --- Second factor ----------------------------------------------------------------------------
# Staff see threat data of many officeholders: a password alone never opens a staff page.
SECOND_FACTOR_ROLES = (Role.REGISTRAR, Role.SUPPORT, Role.ADMIN)
# Set at login for an officeholder who chose a second factor: their session needs it too.
SECOND_FACTOR_PENDING_SESSION_KEY = "portal_second_factor_pending"


def user_must_use_second_factor(user) -> bool:
    """Registrars, the support team and administrators must log in with a second factor."""
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
    if user_must_use_second_factor(user):
        return True
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(SECOND_FACTOR_PENDING_SESSION_KEY))
