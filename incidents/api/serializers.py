"""API shapes of incidents. Domain validation is not repeated here: the filing serializers
run the same Django forms as the web pages, and writes go through `incidents.services`."""

from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.constants import (
    FACT_FIELDS,
    Advice,
    AffectedPerson,
    Channel,
    IdentifierKind,
    Impact,
    IncidentType,
    LinkKind,
    MessageAudience,
    PerpetratorKind,
    PerpetratorKnown,
    PerpetratorRelation,
    PoliceStatus,
    ReporterSeverity,
    RiskFlag,
    Status,
    SupportWish,
    TriageSeverity,
)
from incidents.forms import FullReportForm, QuickReportForm
from incidents.models import Escalation, Evidence, Incident, Message, Note


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "21:30",
        "description": "Wall-clock time where it happened, without a UTC offset.",
    }
)
class LocalTimeField(serializers.TimeField):
    """A time of day without offset ("21:30"), as the officeholder experienced it.

    JSON Schema's `format: time` demands an offset, which a time of day does not have, so
    the schema documents the pattern instead; the input formats refuse an offset too.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"])
        super().__init__(**kwargs)


VERSION_HELP = "Send it back with a change; a change against an older version answers 409."


class IdentifierSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)
    value = serializers.CharField(max_length=300)


class EvidenceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    # Declared, not derived: a model field's range depends on the database engine, and the
    # schema must be the same on SQLite and PostgreSQL.
    size = serializers.IntegerField(read_only=True, help_text="Size in bytes.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "name",
            "kind",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "download_url",
        ]

    def get_download_url(self, evidence) -> str:
        return reverse(
            "api:incident-evidence-download",
            kwargs={"reference": evidence.incident.reference, "pk": evidence.pk},
        )


class EscalationSerializer(serializers.ModelSerializer):
    escalated_by = serializers.StringRelatedField(
        allow_null=True, help_text="The registrar who escalated; null when a rule did."
    )

    class Meta:
        model = Escalation
        fields = ["id", "escalated_by", "rules", "reason", "created_at", "closed_at"]


class IncidentListSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(read_only=True, help_text=VERSION_HELP)
    organisation = serializers.CharField(source="organisation.name")
    officeholder = serializers.StringRelatedField()

    class Meta:
        model = Incident
        fields = [
            "reference",
            "status",
            "version",
            "organisation",
            "officeholder",
            "types",
            "occurred_on",
            "reporter_severity",
            "triage_severity",
            "triage_due_at",
            "is_quick",
            "filed_by_desk",
            "submitted_at",
            "updated_at",
        ]


TRIAGE = ["assignee", "triage_severity", "risk_flags", "advice_given", "advice_note", "triaged_at"]


class IncidentDetailSerializer(IncidentListSerializer):
    identifiers = IdentifierSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    escalations = EscalationSerializer(many=True, read_only=True)
    occurred_at = LocalTimeField(allow_null=True, read_only=True)
    assignee = serializers.StringRelatedField(allow_null=True)
    duplicate_of = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields,
            *FACT_FIELDS,
            *TRIAGE,
            "outcome",
            "closed_at",
            "duplicate_of",
            "identifiers",
            "evidence",
            "escalations",
        ]


FULL_ONLY_REQUIRED = "Required in a full report (`quick: false`)."


class IncidentCreateSerializer(serializers.Serializer):
    """A quick report (`quick: true`: types, occurred_on, occurred_at, summary) or a full one."""

    quick = serializers.BooleanField(default=False)
    officeholder = serializers.IntegerField(
        required=False, help_text="Registrars only: the officeholder this is filed for."
    )
    submission_token = serializers.UUIDField(
        required=False, help_text="Send the same token again to get the same incident back."
    )
    types = serializers.ListField(
        child=serializers.ChoiceField(choices=IncidentType.choices), min_length=1
    )
    occurred_on = serializers.DateField(help_text="Today or earlier.")
    occurred_at = LocalTimeField(required=False, allow_null=True)
    summary = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True)
    location = serializers.CharField(required=False, allow_blank=True, max_length=300)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    platform = serializers.CharField(required=False, allow_blank=True, max_length=100)
    links = serializers.ListField(child=serializers.CharField(max_length=500), required=False)
    reporter_severity = serializers.ChoiceField(
        choices=ReporterSeverity.choices, required=False, help_text=FULL_ONLY_REQUIRED
    )
    perpetrator_known = serializers.ChoiceField(
        choices=PerpetratorKnown.choices, required=False, allow_blank=True
    )
    perpetrator_kind = serializers.ChoiceField(
        choices=PerpetratorKind.choices, required=False, allow_blank=True
    )
    perpetrator_relation = serializers.ChoiceField(
        choices=PerpetratorRelation.choices, required=False, allow_blank=True
    )
    perpetrator_description = serializers.CharField(required=False, allow_blank=True)
    identifiers = IdentifierSerializer(many=True, required=False)
    impacts = serializers.ListField(
        child=serializers.ChoiceField(choices=Impact.choices), required=False
    )
    affected_people = serializers.ListField(
        child=serializers.ChoiceField(choices=AffectedPerson.choices), required=False
    )
    police_status = serializers.ChoiceField(
        choices=PoliceStatus.choices, required=False, allow_blank=True
    )
    police_report_number = serializers.CharField(required=False, allow_blank=True, max_length=50)
    police_used_work_address = serializers.BooleanField(required=False, default=False)
    police_vpt_requested = serializers.BooleanField(required=False, default=False)
    police_outcome = serializers.CharField(required=False, allow_blank=True)
    support_wish = serializers.ChoiceField(
        choices=SupportWish.choices, required=False, help_text=FULL_ONLY_REQUIRED
    )

    def validate(self, data):
        """Run the web form of the same kind, so both edges apply exactly the same rules."""
        form_data = {key: value for key, value in data.items() if value is not None}
        form_data["links"] = "\n".join(data.get("links", []))
        by_kind = {kind: [] for kind in IdentifierKind.values}
        for identifier in data.get("identifiers", []):
            by_kind[identifier["kind"]].append(identifier["value"])
        form_data["handles"] = "\n".join(by_kind[IdentifierKind.HANDLE])
        form_data["emails"] = "\n".join(by_kind[IdentifierKind.EMAIL])
        form_data["phones"] = "\n".join(by_kind[IdentifierKind.PHONE])
        form_data["submission_token"] = data.get("submission_token") or ""
        form_class = QuickReportForm if data["quick"] else FullReportForm
        form = form_class(_as_querydict(form_data))
        if "submission_token" not in data:
            form.fields["submission_token"].required = False
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: list(errors) for field, errors in form.errors.items()}
            )
        data["form"] = form
        return data


def _as_querydict(data):
    querydict = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            querydict.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            if value:
                querydict[key] = "on"
        else:
            querydict[key] = str(value)
    return querydict


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version you last saw; 409 when stale.")


class TransitionSerializer(VersionSerializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.CharField(required=False, allow_blank=True, default="")


class TriageSerializer(VersionSerializer):
    triage_severity = serializers.ChoiceField(choices=TriageSeverity.choices)
    risk_flags = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskFlag.choices), required=False, default=list
    )
    types = serializers.ListField(
        child=serializers.ChoiceField(choices=IncidentType.choices), min_length=1
    )
    advice_given = serializers.ListField(
        child=serializers.ChoiceField(choices=Advice.choices), required=False, default=list
    )
    advice_note = serializers.CharField(required=False, allow_blank=True, default="")


class AssignSerializer(VersionSerializer):
    assignee = serializers.IntegerField(allow_null=True)


class EscalateSerializer(VersionSerializer):
    reason = serializers.CharField()


class LinkSerializer(serializers.Serializer):
    other_reference = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=LinkKind.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DuplicateSerializer(VersionSerializer):
    original_reference = serializers.CharField(max_length=20)


class FollowUpSerializer(serializers.Serializer):
    text = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Message
        fields = ["id", "audience", "body", "author", "author_role", "created_at"]
        read_only_fields = ["id", "author", "author_role", "created_at"]
        extra_kwargs = {"audience": {"default": MessageAudience.OFFICEHOLDER_THREAD}}


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "body", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    label = serializers.CharField()
    actor = serializers.CharField()
    text = serializers.CharField()
    internal = serializers.BooleanField()
