"""The portal's answer when a request ends in an error that no view answered itself.

Web pages get the portal's own page (templates/400.html, 403.html, 404.html, 500.html), in
Dutch or the person's language, with the layout and the emergency notice; 500.html stands
alone, since whatever failed (the database?) may fail again while rendering. Paths under
/api/ always get the API's JSON error shape (`portal.api.errors`), also for a request that is
too large and for an unexpected exception: never an HTML page.

Django calls these as handler400/403/404/500 (portal/urls.py) when DEBUG is off, and
`csrf_failure` (CSRF_FAILURE_VIEW) whenever a form arrives without a valid CSRF token.
"""

import logging

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from portal.api.errors import error_body

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, code, message), status=status)


def _page(request, template_name: str, status: int) -> HttpResponse:
    """The page with the full layout; without the request's context if that fails too, so
    that an error page never becomes a second error."""
    try:
        return render(request, template_name, status=status)
    except Exception:
        logger.exception("Error page %s could not use the request; shown without it.", status)
        return HttpResponse(loader.get_template(template_name).render(), status=status)


def bad_request(request, exception):
    """400: e.g. too many files or form fields, or a body over the upload limits."""
    if _is_api(request):
        message = _("Het verzoek is te groot of niet goed opgebouwd.")
        return _api_error(400, "bad_request", message)
    return _page(request, "400.html", 400)


def permission_denied(request, exception):
    if _is_api(request):
        return _api_error(403, "permission_denied", _("U mag dit niet doen."))
    return _page(request, "403.html", 403)


def csrf_failure(request, reason=""):
    """403 for a form without a valid CSRF token: say that nothing was sent and how to send
    it again, instead of Django's page in English. `reason` is logged by Django already."""
    if _is_api(request):
        message = _("Het verzoek mist een geldige beveiligingscode (CSRF). Probeer het opnieuw.")
        return _api_error(403, "csrf_failed", message)
    return _page(request, "403_csrf.html", 403)


def page_not_found(request, exception):
    if _is_api(request):
        return _api_error(404, "not_found", _("Niet gevonden."))
    return _page(request, "404.html", 404)


def server_error(request):
    """500: the exception is already logged by Django (logger django.request)."""
    if _is_api(request):
        message = _("Er ging iets mis aan onze kant. Probeer het over een paar minuten opnieuw.")
        return _api_error(500, "server_error", message)
    return defaults.server_error(request)
