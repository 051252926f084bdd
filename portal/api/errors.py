"""One JSON error shape for the whole API.

    {"error": {"status": 409, "code": "stale_version", "message": "...", "fields": {...}}}

A refusal of a service is a `portal.errors.DomainError`: its `http_status`, `code`, `message`
and (when it has them) `fields` are the answer, whatever app raised it. Messages follow the
request's language (Accept-Language), Dutch by default.
"""

import logging

from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(status_code: int, code: str, message: str, fields=None) -> dict:
    """The one error shape; also used by portal.error_pages for errors outside the API's views."""
    error = {"status": status_code, "code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _domain_error(exc: DomainError) -> Response:
    message = exc.message
    if exc.code == "stale_version":
        # The web pages keep the typed text; an API client has to fetch the new version.
        message = _("Dit is intussen door iemand anders gewijzigd. Haal de nieuwe versie op.")
    fields = getattr(exc, "fields", None)
    if fields:
        fields = {
            name: value if isinstance(value, list) else [str(value)]
            for name, value in fields.items()
        }
    return Response(error_body(exc.http_status, exc.code, message, fields), status=exc.http_status)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return _domain_error(exc)
    if isinstance(exc, DataError | OverflowError):
        # A value the database cannot hold (a number out of range) that no validation caught:
        # bad input, so a 400 in the usual shape; logged, since a check should catch it first.
        logger.warning("API input the database refused: %s", exc)
        set_rollback()
        return Response(
            error_body(400, "invalid", _("Niet alle gegevens zijn goed ingevuld.")), status=400
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(
            response.status_code, "invalid", _("Niet alle gegevens zijn goed ingevuld."), detail
        )
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(response.status_code, str(code), str(detail))
    return response
