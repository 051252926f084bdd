"""The REST API under /api/v1/ and its OpenAPI schema and documentation."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from incidents.api.statistics import StatisticsView
from incidents.api.views import IncidentViewSet
from portal.api.views import ApiDocsView, ApiNotFoundView, ApiSchemaView, NotificationViewSet
from support.api.views import SupportCaseViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("incidents", IncidentViewSet, basename="incident")
router.register("support/cases", SupportCaseViewSet, basename="support-case")
router.register("notifications", NotificationViewSet, basename="notification")

app_name = "api"

urlpatterns = [
    path("v1/statistics/", StatisticsView.as_view(), name="statistics"),
    path("v1/", include(router.urls)),
    # Both need a login (session or token) unless API_DOCS_PUBLIC is on (default: DEBUG).
    path("schema/", ApiSchemaView.as_view(), name="schema"),
    # Swagger UI in its split form: the page loads its script from a URL, none inline, and
    # every asset from drf-spectacular-sidecar under /static/. (drf-spectacular's Redoc page
    # loads fonts from Google and needs inline styles, so the portal does not offer it.)
    # Swagger UI sets inline styles (never inline scripts): only this page allows them.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(ApiDocsView.as_view(url_name="api:schema")),
        name="docs",
    ),
    # Last: an unknown API URL (e.g. a reference with characters no reference has) answers
    # 404 as JSON. Only paths ending in "/", so APPEND_SLASH still redirects the others.
    re_path(r"^.*/$", ApiNotFoundView.as_view(), name="not-found"),
]
