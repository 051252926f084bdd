"""The support team's API: support cases and their actions, on the same services."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from incidents.errors import TransitionNotAllowed
from portal.models import AccessAction, User
from portal.services import access_log_record
from support import access, services
from support.api.serializers import (
    CaseAssignSerializer,
    CaseTransitionSerializer,
    SupportActionSerializer,
    SupportActionUpdateSerializer,
    SupportCaseSerializer,
)
from support.constants import CaseStatus
from support.models import SupportCase

CASE_STEPS = {
    CaseStatus.ACKNOWLEDGED: lambda case, actor, version, text: services.support_case_acknowledge(
        case=case, actor=actor, version=version
    ),
    CaseStatus.IN_PROGRESS: lambda case, actor, version, text: services.support_case_start(
        case=case, actor=actor, version=version
    ),
    CaseStatus.RETURNED: lambda case, actor, version, text: services.support_case_return(
        case=case, actor=actor, reason=text, version=version
    ),
    CaseStatus.CLOSED: lambda case, actor, version, text: services.support_case_close(
        case=case, actor=actor, outcome=text, version=version
    ),
}


class SupportCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Support cases (one per escalation), by incident reference. Support role only."""

    serializer_class = SupportCaseSerializer
    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "acknowledge_due_at"]
    ordering = ["-created_at"]
    search_fields = ["incident__reference"]

    def get_queryset(self):
        return access.cases_visible_to(self.request.user).select_related(
            "incident", "incident__organisation", "handler", "escalation"
        )

    def get_object(self) -> SupportCase:
        return access.case_get_for(
            self.request.user,
            reference=self.kwargs["reference"],
            queryset=SupportCase.objects.select_related(
                "incident", "incident__organisation", "handler", "escalation"
            ),
        )

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        access_log_record(
            request=request,
            action=AccessAction.API_READ,
            incident=case.incident,
            what="support case",
        )
        return Response(SupportCaseSerializer(case).data)

    def _case(self, request):
        return Response(SupportCaseSerializer(self.get_object()).data)

    @extend_schema(request=CaseTransitionSerializer, responses=SupportCaseSerializer)
    @action(detail=True, methods=["post"])
    def transitions(self, request, reference=None):
        """Acknowledge, start, return to the desk (reason) or close (outcome)."""
        case = self.get_object()
        serializer = CaseTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        CASE_STEPS[CaseStatus(data["to_status"])](case, request.user, data["version"], data["text"])
        return self._case(request)

    @extend_schema(request=CaseAssignSerializer, responses=SupportCaseSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, reference=None):
        """Make a member of the team the case handler (the officeholder's contact)."""
        case = self.get_object()
        if not access.may_assign(request.user, case):
            message = _("Dit dossier is afgesloten. U kunt geen casemanager kiezen.")
            raise TransitionNotAllowed(message)
        serializer = CaseAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        handler = User.objects.filter(pk=serializer.validated_data["handler"]).first()
        if handler is None:
            raise ValidationError({"handler": ["Onbekende gebruiker."]})
        services.support_case_assign(
            case=case,
            actor=request.user,
            handler=handler,
            version=serializer.validated_data["version"],
        )
        return self._case(request)

    @extend_schema(methods=["GET"], responses=SupportActionSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=SupportActionSerializer, responses={201: SupportActionSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def actions(self, request, reference=None):
        """The support plan: list its actions, or add one."""
        case = self.get_object()
        if request.method == "GET":
            return Response(SupportActionSerializer(case.actions.all(), many=True).data)
        serializer = SupportActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = User.objects.filter(pk=data["owner_id"]).first()
        if owner is None:
            raise ValidationError({"owner": ["Onbekende gebruiker."]})
        created = services.support_action_add(
            case=case,
            actor=request.user,
            service_type=data["service_type"],
            owner=owner,
            description=data.get("description", ""),
            due_on=data.get("due_on"),
            shared_with_desk=data.get("shared_with_desk", False),
        )
        return Response(SupportActionSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SupportActionUpdateSerializer,
        responses=SupportActionSerializer,
        operation_id="support_cases_actions_update",
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<action_id>[0-9]+)")
    def update_action(self, request, reference=None, action_id=None):
        """Change an action's status, due date or whether the desk may see it."""
        case = self.get_object()
        if not access.may_plan(request.user, case):
            # Only the team sees a case at all; for it, this depends on the case's status.
            message = _("Dit dossier is afgesloten. U kunt geen acties meer plannen.")
            raise TransitionNotAllowed(message)
        support_action = get_object_or_404(case.actions, pk=int(action_id))
        serializer = SupportActionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        updated = services.support_action_update(
            action=support_action,
            actor=request.user,
            status=data["status"],
            shared_with_desk=data["shared_with_desk"],
            due_on=data.get("due_on"),
        )
        return Response(SupportActionSerializer(updated).data)
