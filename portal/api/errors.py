"""One JSON error shape for the whole API.

    {"error": {"status": 409, "code": "stale_version", "message": "...", "fields": {...}}}

Messages follow the request's language (Accept-Language), Dutch by default.
"""

import logging

from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from incidents.errors import IncidentError, ReasonRequired, StaleVersion, TransitionNotAllowed
from incidents.evidence import EvidenceRejected

logger = logging.getLogger(__name__)

DOMAIN_ERRORS = {
    TransitionNotAllowed: (status.HTTP_409_CONFLICT, "transition_not_allowed"),
    ReasonRequired: (status.HTTP_400_BAD_REQUEST, "reason_required"),
}


def _body(status_code: int, code: str, message: str, fields=None) -> dict:
    error = {"status": status_code, "code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    return {"error": error}


def exception_handler(exc, context):
    if isinstance(exc, StaleVersion):
        # The web pages keep the typed text; an API client has to fetch the new version.
        message = _("Dit is intussen door iemand anders gewijzigd. Haal de nieuwe versie op.")
        return Response(_body(409, "stale_version", message), status=409)
    if isinstance(exc, IncidentError):
        status_code, code = DOMAIN_ERRORS.get(type(exc), (status.HTTP_400_BAD_REQUEST, "invalid"))
        return Response(_body(status_code, code, exc.message), status=status_code)
    if isinstance(exc, EvidenceRejected):
        return Response(
            _body(
                400,
                "invalid",
                _("Het bestand is geweigerd."),
                {"file": [f"{exc.file_name}: {exc.reason}"]},
            ),
            status=400,
        )
    if isinstance(exc, DataError | OverflowError):
        # A value the database cannot hold (a number out of range) that no validation caught:
        # bad input, so a 400 in the usual shape; logged, since a check should catch it first.
        logger.warning("API input the database refused: %s", exc)
        set_rollback()
        return Response(
            _body(400, "invalid", _("Niet alle gegevens zijn goed ingevuld.")), status=400
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = _body(
            response.status_code, "invalid", _("Niet alle gegevens zijn goed ingevuld."), detail
        )
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = _body(response.status_code, str(code), str(detail))
    return response
