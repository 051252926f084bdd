"""A request id for every request, one JSON access log line, and the latency for /metrics.

The id is the X-Request-ID that nginx set (deploy/nginx sets its own `$request_id` and
overwrites what a client sent), when it looks like an id (letters, digits, `-`, `_`, `.`, at
most 64 characters); otherwise a new one. It is returned in the X-Request-ID header and
carried by every log line of the request (portal.log_format), and nginx logs the same id.

The access line (logger `portal.access`) has the method, the URL pattern (never the path
with its references, "-" for a path that matched nothing, and never the query string: the
desk's search `?q=` holds names), the
status, the duration, the response size and the client address as TRUSTED_PROXY_COUNT
allows (portal.login_protection.client_ip). Requests for static files are not logged.
"""

import logging
import re
import time
import uuid

from django.conf import settings

from portal.log_format import request_id_var, route_of
from portal.login_protection import client_ip
from portal.metrics import REQUEST_DURATION

logger = logging.getLogger("portal.access")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_for(request) -> str:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.match(sent):
        return sent
    return uuid.uuid4().hex


def view_name_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else "-"


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request)
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            duration = time.monotonic() - started
            response[REQUEST_ID_HEADER] = request_id
            self._record(request, response, duration)
            return response
        finally:
            request_id_var.reset(token)

    def _record(self, request, response, duration: float) -> None:
        static = request.path_info.startswith(settings.STATIC_URL)
        view = "static" if static else view_name_of(request)
        REQUEST_DURATION.labels(request.method, view, str(response.status_code)).observe(duration)
        if static:
            return
        logger.info(
            "request",
            extra={
                "method": request.method,
                "route": route_of(request),
                "view": view,
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 1),
                "bytes": len(response.content) if not response.streaming else None,
                "client_ip": client_ip(request),
            },
        )
