import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseNotFound
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


class NoStoreForAuthenticatedMiddleware:
    """`Cache-Control: no-store` (Django's never-cache headers) on every authenticated answer.

    Pages, API answers and downloads of a logged-in person (session) or of an API token hold
    personal data: no browser, shared computer or proxy may keep a copy. "Authenticated" is
    decided after the view ran, so a token that the API accepted counts too (DRF sets the
    user on the request), and so does any request that sent credentials.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        if authenticated or "HTTP_AUTHORIZATION" in request.META:
            add_never_cache_headers(response)
        return response


class UserTimezoneMiddleware:
    """Show times in the user's organisation time zone (Caribbean Netherlands or Europe)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


# URL names a person may open before their second factor is entered: logging in and out,
# the code step itself (with a passkey too: portal/urls_passkeys.py; adding a passkey is not
# open), the public pages and the offline page. The probes and /metrics never get here
# (ProbeMiddleware answers them first).
SECOND_FACTOR_OPEN_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "sso_choose",
        "sso_start",
        "sso_callback",
        "two_factor_verify",
        "two_factor_setup",
        "set_language",
        "privacy",
        "accessibility",
        "web_app_manifest",
        "service_worker",
        "offline",
        "credential-authentication-begin",
        "credential-authentication-complete",
        "js-i18n-catalog",
    }
)


class SecondFactorMiddleware:
    """Send a person whose second factor is still missing to the code step (or its setup).

    Every web page and the Django admin. The API answers for itself (403 as JSON, see
    `portal.api.authentication.VerifiedSessionAuthentication`), so that tokens keep working.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from portal.access import second_factor_missing

        match = request.resolver_match
        if match is None or "api" in match.namespaces:
            return None
        if match.url_name in SECOND_FACTOR_OPEN_URL_NAMES:
            return None
        if not second_factor_missing(request):
            return None
        return redirect_to_login(request.get_full_path(), login_url=reverse("two_factor_verify"))


LAST_SEEN_SESSION_KEY = "portal_last_seen"
# Write the last-seen time at most this often, not on every request.
LAST_SEEN_RESOLUTION_SECONDS = 60


class StaffIdleTimeoutMiddleware:
    """End a staff session after `STAFF_IDLE_TIMEOUT` without any request.

    Officeholders keep the normal session age. The session is saved at most once a minute
    for this, so most requests write nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from portal.access import user_must_use_second_factor

        user = getattr(request, "user", None)
        if user is not None and user_must_use_second_factor(user):
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_SESSION_KEY)
            timeout = settings.STAFF_IDLE_TIMEOUT.total_seconds()
            if last_seen is not None and now - last_seen > timeout:
                logout(request)
                minutes = int(timeout // 60)
                if request.method == "POST":
                    # The form is kept and the login page says so (portal.kept_forms).
                    return self.get_response(request)
                messages.info(
                    request,
                    _("U was %(minutes)s minuten niet actief. Log opnieuw in om verder te gaan.")
                    % {"minutes": minutes},
                )
            elif last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
                request.session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)


# Paths answered before any other middleware (portal.views_ops). Exact paths, no slash added.
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")


class ProbeMiddleware:
    """Answer /healthz, /readyz and /metrics before anything else runs.

    First in MIDDLEWARE: the https redirect (SECURE_SSL_REDIRECT), the host check
    (ALLOWED_HOSTS, which CommonMiddleware and CSRF apply), the session and the second factor
    never see these requests, so a platform probe over plain http with any Host header gets
    its answer. The views read no session and no user; they show no personal data (the
    metrics need a token).
    """

    def __init__(self, get_response):
        from portal import views_ops

        self.get_response = get_response
        self.views = dict(
            zip(PROBE_PATHS, (views_ops.healthz, views_ops.readyz, views_ops.metrics), strict=True)
        )

    def __call__(self, request):
        view = self.views.get(request.path_info)
        if view is None:
            return self.get_response(request)
        try:
            response = view(request)
        except Http404:
            response = HttpResponseNotFound(content_type="text/plain; charset=utf-8")
        # A 503 of /readyz is the probe's answer, not an error of the portal: Django would
        # log it at ERROR (and e-mail ADMINS) every few seconds while a dependency is down.
        response._has_been_logged = True
        return response
