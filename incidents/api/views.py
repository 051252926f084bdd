"""The incidents API: another edge on the same services, selectors and access module."""

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from incidents import access, selectors, services
from incidents.api.filters import IncidentFilter
from incidents.api.serializers import (
    AssignSerializer,
    DuplicateSerializer,
    EscalateSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    FollowUpSerializer,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentListSerializer,
    LinkSerializer,
    MessageSerializer,
    NoteSerializer,
    TimelineEntrySerializer,
    TransitionSerializer,
    TriageSerializer,
)
from incidents.constants import MessageAudience, Status
from incidents.errors import IncidentError, TransitionNotAllowed
from incidents.evidence import evidence_inspect
from incidents.models import Incident
from incidents.views.evidence import evidence_response
from portal.constants import Role
from portal.models import AccessAction, User
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
)


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents in the caller's scope: own (officeholder), the desk's (registrar), escalated
    (support). Anything else answers 404."""

    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    filterset_class = IncidentFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        return access.incidents_visible_to(self.request.user).select_related(
            "organisation", "officeholder", "assignee", "duplicate_of"
        )

    def get_serializer_class(self):
        if self.action == "list":
            return IncidentListSerializer
        if self.action == "create":
            return IncidentCreateSerializer
        return IncidentDetailSerializer

    def get_object(self) -> Incident:
        return access.incident_get_for(
            self.request.user,
            reference=self.kwargs["reference"],
            queryset=Incident.objects.select_related(
                "organisation", "officeholder", "assignee", "duplicate_of"
            ).prefetch_related("identifiers", "evidence", "escalations__escalated_by"),
        )

    def retrieve(self, request, *args, **kwargs):
        incident = self.get_object()
        services.incident_mark_viewed(incident=incident, actor=request.user)
        access_log_record(
            request=request, action=AccessAction.API_READ, incident=incident, what="detail"
        )
        return Response(IncidentDetailSerializer(incident, context={"request": request}).data)

    @extend_schema(request=IncidentCreateSerializer, responses={201: IncidentDetailSerializer})
    def create(self, request):
        serializer = IncidentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        form = data["form"]
        officeholder, filed_by = self._filer(request.user, data.get("officeholder"))
        if data["quick"]:
            keys = ("types", "occurred_on", "occurred_at", "summary")
            facts, identifiers = {k: form.cleaned_data[k] for k in keys}, []
        else:
            facts, identifiers = form.facts(), form.identifiers()
        incident = services.incident_submit(
            officeholder=officeholder,
            facts=facts,
            identifiers=identifiers,
            quick=data["quick"],
            submission_token=data.get("submission_token"),
            filed_by=filed_by,
        )
        body = IncidentDetailSerializer(incident, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _filer(self, user, officeholder_id):
        if user.role == Role.OFFICEHOLDER:
            return user, None
        if user.role == Role.REGISTRAR and officeholder_id:
            officeholder = selectors.desk_officeholders(desk=user.desk).filter(pk=officeholder_id)
            officeholder = officeholder.first()
            if officeholder is None:
                raise ValidationError({"officeholder": ["Onbekende ambtsdrager."]})
            return officeholder, user
        raise PermissionDenied()

    def _version_action(self, request, serializer_class):
        incident = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return incident, serializer.validated_data

    def _detail(self, request, incident):
        fresh = self.get_object() if incident is None else incident
        return Response(IncidentDetailSerializer(fresh, context={"request": request}).data)

    @extend_schema(request=TransitionSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def transitions(self, request, reference=None):
        """Move the incident along the workflow (take, close, reopen, withdraw)."""
        incident, data = self._version_action(request, TransitionSerializer)
        role, to = request.user.role, data["to_status"]
        kwargs = {"incident": incident, "actor": request.user, "version": data["version"]}
        if role == Role.REGISTRAR and to == Status.IN_TRIAGE and incident.status == Status.CLOSED:
            services.incident_reopen(**kwargs, reason=data["reason"])
        elif role == Role.REGISTRAR and to == Status.IN_TRIAGE:
            services.incident_take(**kwargs)
        elif role == Role.REGISTRAR and to == Status.CLOSED:
            services.incident_close(**kwargs, outcome=data["outcome"])
        elif role == Role.OFFICEHOLDER and to == Status.WITHDRAWN:
            services.incident_withdraw(**kwargs, reason=data["reason"])
        elif to == Status.ESCALATED and role == Role.REGISTRAR:
            self._escalate(**kwargs, reason=data["reason"])
        else:
            # Support steps belong to the support case (/api/v1/support/cases/...).
            raise TransitionNotAllowed()
        return self._detail(request, None)

    @extend_schema(request=TriageSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request, reference=None):
        """The desk's assessment: severity, risk flags, corrected types, advice given."""
        incident, data = self._version_action(request, TriageSerializer)
        if not access.may_triage(request.user, incident):
            raise PermissionDenied()
        services.incident_triage(incident=incident, actor=request.user, **data)
        return self._detail(request, None)

    @extend_schema(request=AssignSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, reference=None):
        """Make a colleague of the desk (or nobody) the handler."""
        incident, data = self._version_action(request, AssignSerializer)
        if request.user.role != Role.REGISTRAR:
            raise PermissionDenied()
        assignee = None
        if data["assignee"] is not None:
            assignee = User.objects.filter(pk=data["assignee"]).first()
            if assignee is None:
                raise IncidentError()
        services.incident_assign(
            incident=incident, actor=request.user, assignee=assignee, version=data["version"]
        )
        return self._detail(request, None)

    @extend_schema(request=EscalateSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, reference=None):
        """Hand the incident to the Ondersteuningsteam, with a reason (registrars)."""
        incident, data = self._version_action(request, EscalateSerializer)
        if request.user.role != Role.REGISTRAR:
            raise PermissionDenied()
        self._escalate(
            incident=incident, actor=request.user, reason=data["reason"], version=data["version"]
        )
        return self._detail(request, None)

    def _escalate(self, **kwargs) -> None:
        # The service treats "already escalated" as done (for the rules engine); a client that
        # asks for an escalation that already exists is told so, as for any refused step.
        if services.incident_escalate(**kwargs) is None:
            message = _("Deze melding was al doorgegeven aan het Ondersteuningsteam.")
            raise TransitionNotAllowed(message)

    @extend_schema(request=LinkSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def links(self, request, reference=None):
        """Link another incident in your scope (same perpetrator, or a series)."""
        incident = self.get_object()
        serializer = LinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if request.user.role != Role.REGISTRAR:
            raise PermissionDenied()
        other = access.incident_get_for(
            request.user, reference=serializer.validated_data["other_reference"]
        )
        services.incident_link(
            incident=incident,
            other=other,
            actor=request.user,
            kind=serializer.validated_data["kind"],
            reason=serializer.validated_data["reason"],
        )
        return self._detail(request, None)

    @extend_schema(request=DuplicateSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def duplicate(self, request, reference=None):
        """Close this incident as a duplicate of another one in your scope."""
        incident, data = self._version_action(request, DuplicateSerializer)
        if request.user.role != Role.REGISTRAR:
            raise PermissionDenied()
        original = access.incident_get_for(request.user, reference=data["original_reference"])
        services.incident_mark_duplicate(
            incident=incident, original=original, actor=request.user, version=data["version"]
        )
        return self._detail(request, None)

    @extend_schema(request=FollowUpSerializer, responses={201: TimelineEntrySerializer(many=True)})
    @action(detail=True, methods=["post"], url_path="follow-ups", **PLAIN_LIST)
    def follow_ups(self, request, reference=None):
        """Add new information to the incident (the officeholder or the desk)."""
        incident = self.get_object()
        if not access.may_add_information(request.user, incident):
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
            visible = access.messages_visible_to(request.user, incident=incident)
            return Response(MessageSerializer(visible.select_related("author"), many=True).data)
        serializer = MessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        audience = serializer.validated_data.get("audience", MessageAudience.OFFICEHOLDER_THREAD)
        if audience not in access.message_audiences_for(request.user):
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
        if not access.may_write_note(request.user, incident):
            raise PermissionDenied()
        if request.method == "GET":
            access_log_record(
                request=request, action=AccessAction.API_READ, incident=incident, what="notes"
            )
            return Response(NoteSerializer(incident.notes.select_related("author"), many=True).data)
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
        """Evidence files: list, or upload one (checked by content; at most 10 per incident)."""
        incident = self.get_object()
        if request.method == "GET":
            access_log_record(
                request=request,
                action=AccessAction.API_READ,
                incident=incident,
                what="evidence list",
            )
            return Response(EvidenceSerializer(incident.evidence.all(), many=True).data)
        if not access.may_add_information(request.user, incident):
            raise PermissionDenied()
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        uploaded = serializer.validated_data["file"]
        inspected = evidence_inspect(name=uploaded.name, data=uploaded.read())
        stored = services.evidence_add(incident=incident, actor=request.user, files=[inspected])
        return Response(EvidenceSerializer(stored, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, media_type): OpenApiTypes.BINARY for media_type in EVIDENCE_MEDIA_TYPES}
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"evidence/(?P<pk>[0-9]+)/download",
        url_name="evidence-download",
    )
    def evidence_download(self, request, reference=None, pk=None):
        """Download one evidence file (always as an attachment)."""
        evidence = access.evidence_get_for(request.user, reference=reference, pk=int(pk))
        access_log_record(
            request=request,
            action=AccessAction.DOWNLOAD_EVIDENCE,
            incident=evidence.incident,
            what=f"evidence {evidence.pk}",
        )
        return evidence_response(evidence)
