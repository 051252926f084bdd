"""Endpoints for the platform and the operator's monitoring, not for people: `/healthz`,
`/readyz` (portal/health.py) and `/metrics` (portal/metrics.py).

They are answered by `portal.middleware.ProbeMiddleware` before the rest of the middleware,
so a probe over plain http from the platform (a container health check, a Kubernetes
kubelet using the pod's address as host) is never redirected to https, refused for its host
name or sent to the login. None of them shows personal data.
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

import portal
from portal import metrics as portal_metrics
from portal.health import health_report


@require_safe
@never_cache
def healthz(request):
    """Liveness: the process answers. Checks no dependency; names the release."""
    return JsonResponse({"status": "ok", "version": portal.__version__})


@require_safe
@never_cache
def readyz(request):
    """Readiness: 200 when the database, the cache and the broker answer, else 503; the JSON
    body says "ok" or "down" for each."""
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)


def metrics_token_valid(request) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time."""
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    token = settings.METRICS_TOKEN
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


@require_safe
@never_cache
def metrics(request):
    """Prometheus metrics. 404 while METRICS_TOKEN is not configured; 401 without the token."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not metrics_token_valid(request):
        response = HttpResponse(status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(portal_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
