from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import services
from portal.access import api_docs_open_to
from portal.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "reference", "subject", "link", "created_at", "read_at"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your own notifications: a reference and a link each, never incident content."""

    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]
    ordering_fields = ["created_at"]
    search_fields = ["reference"]

    queryset = Notification.objects.none()  # for the schema; get_queryset scopes

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = self.get_object()
        services.notification_mark_read(user=request.user, notification_id=notification.pk)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)


@extend_schema(exclude=True)
class ApiNotFoundView(APIView):
    """Any other URL under /api/: 404 in the API's error shape, not the site's HTML page."""

    permission_classes = [AllowAny]

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound()

    def get(self, request, *args, **kwargs):
        raise NotFound()


class ApiDocsPermission(BasePermission):
    """The schema and its documentation: for a logged-in person or token, or public by
    setting (`API_DOCS_PUBLIC`, on by default only with DEBUG)."""

    def has_permission(self, request, view):
        return api_docs_open_to(request.user)


class ApiSchemaView(SpectacularAPIView):
    """The OpenAPI schema; anonymous callers get 401 unless the docs are public."""

    permission_classes = [ApiDocsPermission]

    def handle_exception(self, exc):
        # Errors in the API's JSON shape, not as an OpenAPI document.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI; an anonymous visitor is sent to the login page unless the docs are public."""

    permission_classes = [ApiDocsPermission]

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
