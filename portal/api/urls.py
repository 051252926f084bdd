"""The REST API under /api/v1/ and its OpenAPI schema and documentation."""

from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from incidents.api.views import IncidentViewSet
from portal.api.views import ApiNotFoundView, NotificationViewSet
from support.api.views import SupportCaseViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("incidents", IncidentViewSet, basename="incident")
router.register("support/cases", SupportCaseViewSet, basename="support-case")
router.register("notifications", NotificationViewSet, basename="notification")

app_name = "api"

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    # Last: an unknown API URL (e.g. a reference with characters no reference has) answers
    # 404 as JSON. Only paths ending in "/", so APPEND_SLASH still redirects the others.
    re_path(r"^.*/$", ApiNotFoundView.as_view(), name="not-found"),
]
