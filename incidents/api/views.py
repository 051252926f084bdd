"""The incidents API: another edge on the same services, selectors and policies as the pages.

Every workflow action of `incidents.actions` is `POST /incidents/{reference}/actions/{name}/`,
documented with its own input; the older `transitions/`, `triage/`, `assign/`, `escalate/` and
`duplicate/` endpoints stay for existing clients (deprecated) and call the same action service.
Answers are shaped per audience: the officeholder gets what their own page shows.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from incidents import selectors, services
from incidents.actions import ACTIONS
from incidents.api.filters import IncidentFilter
from incidents.api.serializers import (
    ACTION_SERIALIZERS,
    AssignSerializer,
    DuplicateSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    FollowUpSerializer,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentListSerializer,
    LinkSerializer,
    MessageSerializer,
    NoteSerializer,
    ReasonSerializer,
    StaffIncidentDetailSerializer,
    StaffIncidentListSerializer,
    TimelineEntrySerializer,
    TransitionSerializer,
    TriageSerializer,
)
from incidents.constants import MessageAudience
from incidents.errors import StaleVersion, TransitionNotAllowed
from incidents.evidence import evidence_inspect
from incidents.models import Incident
from incidents.policies import incident_policy, message_policy, note_policy
from incidents.views.evidence import evidence_response
from portal.api.actions import action_endpoint
from portal.models import AccessAction
from portal.policies import user_policy
from portal.services import access_log_record

# The parts of one incident (timeline, messages, notes, evidence) are short plain lists: no
# pagination and none of the queue's filters, in the schema as in the answers.
PLAIN_LIST = {"pagination_class": None, "filter_backends": []}

# What `evidence_inspect` can store; a file is served with its stored type.
EVIDENCE_MEDIA_TYPES = (
    "image/png",
    "image/jpeg",
    "application/pdf",
    "message/rfc822",
    "text/plain",
    "audio/mp4",
    "audio/mpeg",
    "audio/ogg",
    "video/mp4",
    "video/quicktime",
)

DETAIL_RELATED = ("organisation", "officeholder", "assignee", "duplicate_of")


def _sees_internal(user) -> bool:
    """Whether this person's role sees the staff shapes at all (the desk, the team)."""
    return incident_policy.condition(user, "view_internal") is not None


def _deprecated(**kwargs):
    return extend_schema(deprecated=True, **kwargs)


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents in the caller's scope: own (officeholder), the desk's (registrar), escalated
    (support). Anything else answers 404."""

    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    filterset_class = IncidentFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        return incident_policy.queryset(self.request.user).select_related(*DETAIL_RELATED)

    def get_serializer_class(self):
        if self.action == "create":
            return IncidentCreateSerializer
        staff = _sees_internal(self.request.user)
        if self.action == "list":
            return StaffIncidentListSerializer if staff else IncidentListSerializer
        return StaffIncidentDetailSerializer if staff else IncidentDetailSerializer

    def get_object(self) -> Incident:
        return incident_policy.get(
            self.request.user,
            queryset=Incident.objects.select_related(*DETAIL_RELATED).prefetch_related(
                "identifiers", "evidence", "escalations__escalated_by"
            ),
            reference=self.kwargs["reference"],
        )

    def _detail(self, request, incident=None, status_code=status.HTTP_200_OK):
        """The incident as this person may see it (fetched again after a change)."""
        incident = incident or self.get_object()
        serializer = (
            StaffIncidentDetailSerializer
            if incident_policy.allows(request.user, "view_internal", incident)
            else IncidentDetailSerializer
        )
        return Response(serializer(incident, context={"request": request}).data, status=status_code)

    def retrieve(self, request, *args, **kwargs):
        incident = self.get_object()
        services.incident_mark_viewed(incident=incident, actor=request.user)
        access_log_record(
            request=request, action=AccessAction.API_READ, incident=incident, what="detail"
        )
        return self._detail(request, incident)

    @extend_schema(request=IncidentCreateSerializer, responses={201: IncidentDetailSerializer})
    def create(self, request):
        serializer = IncidentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        officeholder = request.user
        if data.get("officeholder"):
            found = user_policy.queryset(request.user, "file_for").filter(pk=data["officeholder"])
            officeholder = found.first()
            if officeholder is None:
                raise ValidationError({"officeholder": ["Onbekende ambtsdrager."]})
        elif not user_policy.allows(request.user, "file_for", request.user):
            raise PermissionDenied()
        incident = services.incident_submit(
            officeholder=officeholder,
            facts=data["facts"],
            identifiers=data["identifier_pairs"],
            quick=data["quick"],
            submission_token=data.get("submission_token"),
            filed_by=request.user if officeholder.pk != request.user.pk else None,
        )
        return self._detail(
            request, self.get_queryset().get(pk=incident.pk), status.HTTP_201_CREATED
        )

    # --- The workflow ------------------------------------------------------------------------

    def _inputs(self, request, name: str, data: dict) -> dict:
        """The action service's inputs from the API's shape (references and ids looked up)."""
        inputs = {key: value for key, value in data.items() if key != "version"}
        if "assignee" in inputs:
            assignee_id = inputs.pop("assignee")
            inputs["assignee"] = None
            if assignee_id is not None:
                inputs["assignee"] = (
                    user_policy.queryset(request.user, "assign_incident_to")
                    .filter(pk=assignee_id)
                    .first()
                )
                if inputs["assignee"] is None:
                    raise ValidationError({"assignee": ["Kies een collega van uw meldpunt."]})
        for field, key in (("other_reference", "other"), ("original_reference", "original")):
            if field in inputs:
                reference = inputs.pop(field).strip().upper()
                inputs[key] = incident_policy.get(
                    request.user, "view_internal", reference=reference
                )
        return inputs

    def _act(self, request, name: str, serializer_class, data=None):
        incident = self.get_object()
        serializer = serializer_class(data=request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["version"] != incident.version:
            raise StaleVersion()
        if not incident_policy.allows(request.user, name, incident):
            # Refused before the input is looked up, so the answer says no more than that.
            raise TransitionNotAllowed()
        services.incident_act(
            incident=incident,
            actor=request.user,
            action=name,
            version=serializer.validated_data["version"],
            **self._inputs(request, name, serializer.validated_data),
        )
        return self._detail(request)

    for _name, _action in ACTIONS.items():
        if not _action.internal:
            locals()[f"action_{_name}"] = action_endpoint(
                name=_name,
                label=_action.label,
                serializer_class=ACTION_SERIALIZERS[_name],
                # As `retrieve`: the incident as the caller may see it (an officeholder who
                # withdraws gets their own shape; the desk and the team get the staff fields).
                responses=IncidentDetailSerializer,
                operation_id=f"incidents_actions_{_name}",
            )
    del _name, _action

    @_deprecated(
        request=TransitionSerializer,
        responses=IncidentDetailSerializer,
        description="Deprecated: use `actions/{name}/`. Finds the action that leads to "
        "`to_status` from the current status (take, close, reopen, withdraw, escalate).",
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, reference=None):
        """Move the incident along the workflow (deprecated: use the actions)."""
        # Out of scope answers 404 before the body is looked at.
        incident = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to_status = serializer.validated_data["to_status"]
        steps = incident_policy.actions_for(request.user, incident)
        # Closing as a duplicate also leads to "closed", but needs its own input.
        step = next(
            (s for s in steps if s.to_status == to_status and s.name != "mark_duplicate"), None
        )
        if step is None:
            # Support steps belong to the support case (/api/v1/support/cases/...).
            raise TransitionNotAllowed()
        # The action's serializer takes what it needs (reason or outcome) from the same body.
        return self._act(request, step.name, ACTION_SERIALIZERS[step.name], serializer.data)

    @_deprecated(request=TriageSerializer, responses=StaffIncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request, reference=None):
        """The desk's assessment (deprecated: use `actions/triage/`)."""
        return self._act(request, "triage", TriageSerializer)

    @_deprecated(request=AssignSerializer, responses=StaffIncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, reference=None):
        """Make a colleague of the desk (or nobody) the handler (deprecated: `actions/assign/`)."""
        return self._act(request, "assign", AssignSerializer)

    @_deprecated(request=ReasonSerializer, responses=StaffIncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, reference=None):
        """Hand the incident to the Ondersteuningsteam (deprecated: `actions/escalate/`)."""
        return self._act(request, "escalate", ReasonSerializer)

    @_deprecated(request=DuplicateSerializer, responses=StaffIncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def duplicate(self, request, reference=None):
        """Close as a duplicate of another incident (deprecated: `actions/mark_duplicate/`)."""
        return self._act(request, "mark_duplicate", DuplicateSerializer)

    @_deprecated(request=LinkSerializer, responses=StaffIncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def links(self, request, reference=None):
        """Link another incident in your scope (deprecated: use `actions/link/`)."""
        return self._act(request, "link", LinkSerializer)

    # --- The parts of an incident --------------------------------------------------------------

    @extend_schema(request=FollowUpSerializer, responses={201: TimelineEntrySerializer(many=True)})
    @action(detail=True, methods=["post"], url_path="follow-ups", **PLAIN_LIST)
    def follow_ups(self, request, reference=None):
        """Add new information to the incident (the officeholder or the desk)."""
        incident = self.get_object()
        if not incident_policy.allows(request.user, "add_information", incident):
            raise PermissionDenied()
        serializer = FollowUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.incident_follow_up_add(
            incident=incident, actor=request.user, text=serializer.validated_data["text"]
        )
        return self._timeline(request, incident, status.HTTP_201_CREATED)

    def _timeline(self, request, incident, status_code=status.HTTP_200_OK):
        entries = selectors.timeline_for(user=request.user, incident=incident)
        return Response(TimelineEntrySerializer(entries, many=True).data, status=status_code)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], **PLAIN_LIST)
    def timeline(self, request, reference=None):
        """What happened to the incident, as you may see it."""
        incident = self.get_object()
        access_log_record(
            request=request, action=AccessAction.API_READ, incident=incident, what="timeline"
        )
        return self._timeline(request, incident)

    @extend_schema(methods=["GET"], responses=MessageSerializer(many=True))
    @extend_schema(methods=["POST"], request=MessageSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["get", "post"], **PLAIN_LIST)
    def messages(self, request, reference=None):
        """The officeholder's thread (and, for staff, the desk-support channel)."""
        incident = self.get_object()
        if request.method == "GET":
            access_log_record(
                request=request, action=AccessAction.API_READ, incident=incident, what="messages"
            )
            visible = message_policy.queryset(request.user).filter(incident=incident)
            return Response(MessageSerializer(visible.select_related("author"), many=True).data)
        serializer = MessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        audience = serializer.validated_data.get("audience", MessageAudience.OFFICEHOLDER_THREAD)
        if audience not in message_policy.audiences_for(request.user, incident):
            raise PermissionDenied()
        message = services.message_send(
            incident=incident,
            actor=request.user,
            audience=audience,
            body=serializer.validated_data["body"],
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=NoteSerializer(many=True))
    @extend_schema(methods=["POST"], request=NoteSerializer, responses={201: NoteSerializer})
    @action(detail=True, methods=["get", "post"], **PLAIN_LIST)
    def notes(self, request, reference=None):
        """Internal notes of the desk and the support team (never for officeholders)."""
        incident = self.get_object()
        if not incident_policy.allows(request.user, "view_internal", incident):
            raise PermissionDenied()
        if request.method == "GET":
            access_log_record(
                request=request, action=AccessAction.API_READ, incident=incident, what="notes"
            )
            notes = note_policy.queryset(request.user).filter(incident=incident)
            return Response(NoteSerializer(notes.select_related("author"), many=True).data)
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_add(
            incident=incident, actor=request.user, body=serializer.validated_data["body"]
        )
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=EvidenceSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={201: EvidenceSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"], **PLAIN_LIST)
    def evidence(self, request, reference=None):
        """Evidence files: list, or upload one (checked by content; at most 10 per incident).

        Photos, audio and video are answered at once with `processing: pending`: the worker
        removes their metadata, and only then can they be downloaded."""
        incident = self.get_object()
        if request.method == "GET":
            access_log_record(
                request=request,
                action=AccessAction.API_READ,
                incident=incident,
                what="evidence list",
            )
            return Response(EvidenceSerializer(incident.evidence.all(), many=True).data)
        if not incident_policy.allows(request.user, "add_information", incident):
            raise PermissionDenied()
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        uploaded = serializer.validated_data["file"]
        inspected = evidence_inspect(name=uploaded.name, file=uploaded)
        stored = services.evidence_add(incident=incident, actor=request.user, files=[inspected])
        return Response(EvidenceSerializer(stored, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in EVIDENCE_MEDIA_TYPES},
            409: OpenApiResponse(
                description="The file is still being processed (`evidence_not_ready`), or "
                "processing failed and the file was not kept."
            ),
        }
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"evidence/(?P<pk>[0-9]+)/download",
        url_name="evidence-download",
    )
    def evidence_download(self, request, reference=None, pk=None):
        """Download one evidence file (always as an attachment, named by its stored type)."""
        evidence = selectors.evidence_get_for(user=request.user, reference=reference, pk=int(pk))
        response = evidence_response(evidence)  # 409 while it is processed: nothing was read
        access_log_record(
            request=request,
            action=AccessAction.DOWNLOAD_EVIDENCE,
            incident=evidence.incident,
            what=f"evidence {evidence.pk}",
        )
        return response
