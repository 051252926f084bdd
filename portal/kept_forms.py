"""Never lose typed text: a form that arrives after the session ended (the web side).

A person who types for a long time can find their session gone when they press "Versturen"
(staff after STAFF_IDLE_TIMEOUT, officeholders after SESSION_COOKIE_AGE). Instead of a login
page that forgets everything:

1. `login_redirect` keeps what was typed (`portal.services.kept_form_keep`) for the account
   that last logged in on this browser (a signed cookie set at login says which), puts a
   random value in a cookie of this browser, and sends the person to the login page with the
   page that shows the form as `next` (the page they were on, never an address that only
   accepts POST: nothing after login lands on a 405).
2. The login page says why: "U was te lang niet actief. Uw tekst is bewaard."
3. After logging in (and the code step for staff), `KeptFormMiddleware` gives the text back
   on that page, once, and only to the same account; the page's script fills it into the
   form (`static/js/portal.js`). Another account that logs in on the browser removes it.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

ACCOUNT_COOKIE = "portal_account"
KEPT_COOKIE = "portal_kept_form"
_ACCOUNT_SALT = "portal.kept_forms.account"
# Never kept: the CSRF token belongs to the old session (the page renders a new one).
NOT_KEPT_FIELDS = frozenset({"csrfmiddlewaretoken"})


def _cookie_options() -> dict:
    return {
        "httponly": True,
        "secure": settings.SESSION_COOKIE_SECURE,
        "samesite": "Lax",
    }


def account_cookie_set(response, *, user) -> None:
    """Remember (signed, so it cannot be forged) which account logged in on this browser."""
    response.set_cookie(
        ACCOUNT_COOKIE,
        signing.dumps(user.pk, salt=_ACCOUNT_SALT, compress=True),
        max_age=int(settings.KEPT_FORM_ACCOUNT_AGE.total_seconds()),
        **_cookie_options(),
    )


def _account_from_cookie(request) -> int | None:
    value = request.COOKIES.get(ACCOUNT_COOKIE)
    if not value:
        return None
    try:
        return int(
            signing.loads(
                value,
                salt=_ACCOUNT_SALT,
                max_age=settings.KEPT_FORM_ACCOUNT_AGE.total_seconds(),
            )
        )
    except (signing.BadSignature, TypeError, ValueError):
        return None


def form_page(request) -> str:
    """The page that showed the form that was sent: the same-site referring page, else the
    address it was sent to (most forms here are sent to their own page)."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, {request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.path


def _typed_fields(request) -> dict[str, list[str]]:
    return {name: values for name, values in request.POST.lists() if name not in NOT_KEPT_FIELDS}


def login_redirect(request):
    """To the login page; a form sent without a session is kept first (see the module)."""
    if request.method != "POST":
        return redirect_to_login(request.get_full_path())
    from portal import services

    page = form_page(request)
    response = redirect_to_login(page)
    user_id = _account_from_cookie(request)
    fields = _typed_fields(request)
    if user_id is None or not fields:
        messages.info(request, _("U bent niet meer ingelogd. Log opnieuw in om verder te gaan."))
        return response
    token = services.kept_form_keep(
        user_id=user_id,
        action=request.path,
        page=page,
        fields=fields,
        had_files=bool(request.FILES),
    )
    response.set_cookie(
        KEPT_COOKIE, token, max_age=int(settings.KEPT_FORM_AGE.total_seconds()), **_cookie_options()
    )
    return response


def kept_form_waiting(request) -> bool:
    """Whether this browser has typed text waiting for a login (the login page says so)."""
    from portal import services

    token = request.COOKIES.get(KEPT_COOKIE)
    return bool(token) and services.kept_form_pending(token=token)


class KeptFormMiddleware:
    """Give a kept form back on its page, once, to the account that typed it.

    Costs nothing on requests without the cookie. The cookie is removed once the form is
    given back, or when there is nothing (any more) to give back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request.COOKIES.get(KEPT_COOKIE)
        user = getattr(request, "user", None)
        if not token or request.method != "GET" or user is None or not user.is_authenticated:
            return self.get_response(request)
        from portal import services
        from portal.access import second_factor_missing

        if second_factor_missing(request):
            return self.get_response(request)
        kept = services.kept_form_take(token=token, user=user, page=request.get_full_path())
        if kept is not None:
            request.kept_form = {"action": kept.action, "fields": kept.fields}
            text = _("U was te lang niet actief. Uw tekst is bewaard.")
            if kept.had_files:
                text += " " + _("Bestanden die u had gekozen, moet u opnieuw kiezen.")
            messages.info(request, text)
        response = self.get_response(request)
        if kept is not None or not services.kept_form_pending(token=token):
            response.delete_cookie(KEPT_COOKIE, samesite="Lax")
        return response
