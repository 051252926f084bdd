"""The support team's API: support cases and their actions, on the same services and policies.

Every case action of `support.actions` is `POST /support/cases/{reference}/actions/{name}/`
(beside the plan itself: `actions/` lists and adds support actions, `actions/{id}/` updates one);
the older `transitions/`, `assign/`, `actions/` (POST) and `actions/{id}/` endpoints stay for
existing clients (deprecated) and call the same case action service. Every change sends the
case `version` it saw; an older one answers 409.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from portal.api.actions import action_endpoint
from portal.models import AccessAction
from portal.policies import user_policy
from portal.services import access_log_record
from support import selectors, services
from support.actions import CASE_ACTIONS
from support.api.serializers import (
    CASE_ACTION_SERIALIZERS,
    CaseAssignSerializer,
    CaseTransitionSerializer,
    SupportActionAddSerializer,
    SupportActionSerializer,
    SupportActionUpdateSerializer,
    SupportCaseSerializer,
)
from support.constants import CaseStatus
from support.errors import CaseStale, CaseStepNotAllowed
from support.models import SupportCase
from support.policies import case_policy, support_action_policy

# The deprecated `transitions/` endpoint named the status to go to; each is one case action.
STATUS_ACTIONS = {
    CaseStatus.ACKNOWLEDGED: "acknowledge",
    CaseStatus.IN_PROGRESS: "start",
    CaseStatus.RETURNED: "return_to_desk",
    CaseStatus.CLOSED: "close_case",
}
CASE_RELATED = ("incident", "incident__organisation", "handler", "escalation")


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
        return case_policy.queryset(self.request.user).select_related(*CASE_RELATED)

    def get_object(self) -> SupportCase:
        return selectors.case_get_for(
            self.request.user,
            self.kwargs["reference"],
            queryset=SupportCase.objects.select_related(*CASE_RELATED),
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

    def _team_member(self, request, field: str, pk: int):
        person = user_policy.queryset(request.user, "give_case_to").filter(pk=pk).first()
        if person is None:
            raise ValidationError({field: ["Kies een lid van het Ondersteuningsteam."]})
        return person

    def _inputs(self, request, case, data: dict) -> dict:
        """The case action service's inputs from the API's shape (ids looked up)."""
        inputs = {key: value for key, value in data.items() if key != "version"}
        for field in ("handler", "owner"):
            if field in inputs:
                inputs[field] = self._team_member(request, field, inputs[field])
        if "action_id" in inputs:
            found = (
                support_action_policy.queryset(request.user)
                .filter(case=case, pk=inputs.pop("action_id"))
                .first()
            )
            if found is None:
                # An action of another case: out of scope, as if it did not exist.
                raise NotFound()
            inputs["support_action"] = found
        return inputs

    def _act(self, request, name: str, serializer_class, data=None, extra=None):
        case = self.get_object()
        serializer = serializer_class(data=request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["version"] != case.version:
            raise CaseStale()
        if not case_policy.allows(request.user, name, case):
            raise CaseStepNotAllowed()
        changed = services.support_case_act(
            case=case,
            actor=request.user,
            action=name,
            version=serializer.validated_data["version"],
            **self._inputs(request, case, {**serializer.validated_data, **(extra or {})}),
        )
        if changed.support_action is not None:
            code = status.HTTP_201_CREATED if name == "add_action" else status.HTTP_200_OK
            return Response(SupportActionSerializer(changed.support_action).data, status=code)
        return Response(SupportCaseSerializer(self.get_object()).data)

    for _name, _action in CASE_ACTIONS.items():
        # update_action is per support action (actions/{id}/ below); internal rows are the
        # portal's own.
        if _name != "update_action" and not _action.internal:
            locals()[f"action_{_name}"] = action_endpoint(
                name=_name,
                label=_action.label,
                serializer_class=CASE_ACTION_SERIALIZERS[_name],
                responses=SupportCaseSerializer,
                operation_id=f"support_cases_actions_{_name}",
            )
    del _name, _action

    @extend_schema(
        deprecated=True,
        request=CaseTransitionSerializer,
        responses=SupportCaseSerializer,
        description="Deprecated: use `actions/{name}/`.",
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, reference=None):
        """Acknowledge, start, return to the desk (reason) or close (outcome)."""
        self.get_object()  # out of scope answers 404 before the body is looked at
        serializer = CaseTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        name = STATUS_ACTIONS[CaseStatus(data["to_status"])]
        # The old shape had one `text`: the reason of a return, the outcome of a closing.
        body = {"version": data["version"], "reason": data["text"], "outcome": data["text"]}
        return self._act(request, name, CASE_ACTION_SERIALIZERS[name], body)

    @extend_schema(deprecated=True, request=CaseAssignSerializer, responses=SupportCaseSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, reference=None):
        """Make a member of the team the case handler (deprecated: `actions/assign_handler/`)."""
        return self._act(request, "assign_handler", CaseAssignSerializer)

    @extend_schema(methods=["GET"], responses=SupportActionSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=SupportActionAddSerializer,
        responses={201: SupportActionSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def actions(self, request, reference=None):
        """The support plan: list its actions, or add one (send the case version)."""
        case = self.get_object()
        if request.method == "GET":
            visible = support_action_policy.queryset(request.user).filter(case=case)
            return Response(SupportActionSerializer(visible, many=True).data)
        return self._act(request, "add_action", SupportActionAddSerializer)

    @extend_schema(
        request=SupportActionUpdateSerializer,
        responses=SupportActionSerializer,
        operation_id="support_cases_actions_update",
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<action_id>[0-9]+)")
    def update_action(self, request, reference=None, action_id=None):
        """Change an action's status, due date or sharing; a field left out keeps its value."""
        return self._act(
            request,
            "update_action",
            SupportActionUpdateSerializer,
            extra={"action_id": int(action_id)},
        )
