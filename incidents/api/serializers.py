"""API shapes of incidents, per audience: the officeholder gets what their own page shows; the
desk and the Ondersteuningsteam get the staff shapes. Domain rules are not repeated here: the
facts' rules are `incidents.facts`, and writes go through `incidents.services`."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents import facts
from incidents.constants import (
    FACT_FIELDS,
    Advice,
    AffectedPerson,
    EvidenceProcessing,
    IdentifierKind,
    Impact,
    IncidentType,
    LinkKind,
    MessageAudience,
    OutcomeCategory,
    RiskFlag,
    Status,
    TriageSeverity,
)
from incidents.facts import date_check
from incidents.models import Escalation, Evidence, Incident, Message, Note
from portal.crypto import EncryptedBooleanField, EncryptedJSONField


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


# DRF's ModelSerializer, knowing the encrypted fact fields: a list stays a list, a yes/no a
# boolean (the columns are encrypted text, which DRF would otherwise give as a string). A
# comment, not a docstring: the schema would take a docstring as every subclass's description.
class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        EncryptedJSONField: serializers.JSONField,
        EncryptedBooleanField: serializers.BooleanField,
    }


VERSION_HELP = "Send it back with a change; a change against an older version answers 409."


class IdentifierSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)
    value = serializers.CharField(max_length=300)


class EvidenceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    # Declared, not derived: a model field's range depends on the database engine, and the
    # schema must be the same on SQLite and PostgreSQL.
    size = serializers.IntegerField(read_only=True, help_text="Size in bytes.")
    sha256 = serializers.CharField(
        read_only=True,
        help_text="SHA-256 of the stored file; empty while `processing` is `pending`.",
    )
    original_sha256 = serializers.CharField(
        read_only=True, help_text="SHA-256 of the file as it was uploaded."
    )
    processing = serializers.ChoiceField(
        choices=EvidenceProcessing.choices,
        read_only=True,
        help_text=(
            "`pending` while the worker removes the metadata of a photo, audio or video file "
            "(the download answers 409 until then), `ready`, or `failed` (see "
            "`processing_failure`; the file was not kept)."
        ),
    )
    processing_failure = serializers.SerializerMethodField()
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
            "original_sha256",
            "processing",
            "processing_failure",
            "uploaded_at",
            "download_url",
        ]

    def get_processing_failure(self, evidence) -> str:
        """Why processing failed, in the request's language; empty otherwise."""
        return str(evidence.get_processing_failure_display()) if evidence.processing_failure else ""

    def get_download_url(self, evidence) -> str:
        return reverse(
            "api:incident-evidence-download",
            kwargs={"reference": evidence.incident.reference, "pk": evidence.pk},
        )


class EscalationSerializer(ModelSerializer):
    escalated_by = serializers.StringRelatedField(
        allow_null=True, help_text="The registrar who escalated; null when a rule did."
    )

    class Meta:
        model = Escalation
        fields = ["id", "escalated_by", "rules", "reason", "created_at", "closed_at"]


class IncidentListSerializer(ModelSerializer):
    """A row of the list as the officeholder sees it (their own incidents)."""

    version = serializers.IntegerField(read_only=True, help_text=VERSION_HELP)
    organisation = serializers.CharField(source="organisation.name")

    class Meta:
        model = Incident
        fields = [
            "reference",
            "status",
            "version",
            "organisation",
            "types",
            "occurred_on",
            "reporter_severity",
            "is_quick",
            "filed_by_desk",
            "submitted_at",
            "updated_at",
        ]


class StaffIncidentListSerializer(IncidentListSerializer):
    """A row of the list for the desk and the Ondersteuningsteam (with the desk's triage)."""

    officeholder = serializers.StringRelatedField()

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields,
            "officeholder",
            "triage_severity",
            "triage_due_at",
        ]


class AangifteSerializer(serializers.Serializer):
    """The aangifte track (read-only here; the pages update it)."""

    steps = serializers.ListField(
        child=serializers.CharField(),
        help_text="Steps reached: wants_to_report, police_contacted, filed, vpt_asked, "
        "vpt_confirmed, domicilie, employer_filed, outcome_<sepot|prosecution|conviction|other>.",
    )
    police_contacted_on = serializers.DateField(allow_null=True)
    filed_on = serializers.DateField(allow_null=True)
    report_number = serializers.CharField()
    employer = serializers.CharField()
    outcome = serializers.CharField()
    outcome_note = serializers.CharField()


class IncidentDetailSerializer(IncidentListSerializer):
    """One incident as the officeholder's own page shows it, field for field: their facts,
    files and the outcome; never the desk's triage, assignee, rules or reasons."""

    identifiers = IdentifierSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    occurred_at = LocalTimeField(allow_null=True, read_only=True)
    aangifte = AangifteSerializer(source="aangifte_track", read_only=True)

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields,
            *FACT_FIELDS,
            "aangifte",
            "outcome_category",
            "outcome",
            "closed_at",
            "identifiers",
            "evidence",
        ]


TRIAGE = ["assignee", "triage_severity", "risk_flags", "advice_given", "advice_note", "triaged_at"]


class StaffIncidentDetailSerializer(IncidentDetailSerializer):
    """One incident for the desk and the Ondersteuningsteam: also triage and escalations."""

    officeholder = serializers.StringRelatedField()
    escalations = EscalationSerializer(many=True, read_only=True)
    assignee = serializers.StringRelatedField(allow_null=True)
    duplicate_of = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )

    class Meta(IncidentDetailSerializer.Meta):
        fields = [
            *IncidentDetailSerializer.Meta.fields,
            "officeholder",
            "triage_due_at",
            *TRIAGE,
            "duplicate_of",
            "escalations",
        ]


FULL_ONLY_REQUIRED = "Required in a full report (`quick: false`)."


class ChoiceListField(serializers.ListField):
    def __init__(self, choices, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=choices), **kwargs)


class IncidentCreateSerializer(ModelSerializer):
    """A quick report (`quick: true`: types, occurred_on, occurred_at, summary, and optionally
    unsafe_or_call, contact_phone, contact_preference) or a full one.

    The fields come from the model; the rules of the facts are `incidents.facts`, the same as
    for the web forms and the services.
    """

    quick = serializers.BooleanField(default=False)
    officeholder = serializers.IntegerField(
        required=False, help_text="Registrars only: the officeholder this is filed for."
    )
    submission_token = serializers.UUIDField(
        required=False, help_text="Send the same token again to get the same incident back."
    )
    types = ChoiceListField(IncidentType.choices, min_length=1)
    occurred_on = serializers.DateField(help_text="Today or earlier.", validators=[date_check])
    occurred_at = LocalTimeField(required=False, allow_null=True)
    links = serializers.ListField(child=serializers.CharField(max_length=500), required=False)
    identifiers = IdentifierSerializer(many=True, required=False)
    impacts = ChoiceListField(Impact.choices, required=False)
    affected_people = ChoiceListField(AffectedPerson.choices, required=False)

    class Meta:
        model = Incident
        fields = [
            "quick",
            "officeholder",
            "submission_token",
            *FACT_FIELDS,
            "identifiers",
        ]
        extra_kwargs = {
            "reporter_severity": {"help_text": FULL_ONLY_REQUIRED},
            "support_wish": {"help_text": FULL_ONLY_REQUIRED},
        }

    QUICK_FIELDS = (
        "types",
        "occurred_on",
        "occurred_at",
        "summary",
        "unsafe_or_call",
        "contact_phone",
        "contact_preference",
    )

    def validate_links(self, links):
        return facts.links_clean(links)

    def validate_contact_phone(self, value):
        try:
            return facts.contact_phone_clean(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def validate(self, data):
        """The facts in the services' shape (`facts`, `identifiers`), checked by the facts rules."""
        if data["quick"]:
            data = {
                key: value
                for key, value in data.items()
                if key not in FACT_FIELDS or key in self.QUICK_FIELDS
            }
            data.pop("identifiers", None)
        else:
            missing = {
                field: [_("Dit veld is verplicht.")]
                for field in facts.FULL_REPORT_REQUIRED
                if not data.get(field)
            }
            if missing:
                raise serializers.ValidationError(missing)
        identifiers = [(i["kind"], i["value"]) for i in data.get("identifiers", [])]
        emails = [value for kind, value in identifiers if kind == IdentifierKind.EMAIL]
        phones = [value for kind, value in identifiers if kind == IdentifierKind.PHONE]
        try:
            facts.emails_check(emails)
            facts.phones_check(phones)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"identifiers": error.messages}) from None
        fact_values = {key: data[key] for key in FACT_FIELDS if key in data}
        problems = facts.facts_problems(fact_values)
        if problems:
            raise serializers.ValidationError({k: [v] for k, v in problems.items()})
        data["facts"], data["identifier_pairs"] = fact_values, identifiers
        return data


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version you last saw; 409 when stale.")


class TransitionSerializer(VersionSerializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.CharField(required=False, allow_blank=True, default="")
    outcome_category = serializers.ChoiceField(
        choices=OutcomeCategory.choices, required=False, allow_blank=True, default=""
    )


class TriageSerializer(VersionSerializer):
    triage_severity = serializers.ChoiceField(choices=TriageSeverity.choices)
    risk_flags = ChoiceListField(RiskFlag.choices, required=False, default=list)
    types = ChoiceListField(IncidentType.choices, min_length=1)
    advice_given = ChoiceListField(Advice.choices, required=False, default=list)
    advice_note = serializers.CharField(required=False, allow_blank=True, default="")


class AssignSerializer(VersionSerializer):
    assignee = serializers.IntegerField(
        allow_null=True, help_text="A colleague of the desk, or null for nobody."
    )


class ReasonSerializer(VersionSerializer):
    reason = serializers.CharField()


class OptionalReasonSerializer(VersionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class OutcomeSerializer(VersionSerializer):
    outcome_category = serializers.ChoiceField(
        choices=OutcomeCategory.choices,
        help_text="How the incident ends; the officeholder reads it in plain words.",
    )
    outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Optional explanation; the officeholder reads it word for word.",
    )


class LinkSerializer(VersionSerializer):
    other_reference = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=LinkKind.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DuplicateSerializer(VersionSerializer):
    original_reference = serializers.CharField(max_length=20)


# The input of each workflow action (incidents.actions) in the API.
class CallbackSerializer(VersionSerializer):
    callback_at = serializers.DateTimeField(help_text="When to call back (ISO 8601).")
    callback_note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


ACTION_SERIALIZERS = {
    "take": VersionSerializer,
    "assign": AssignSerializer,
    "triage": TriageSerializer,
    "escalate": ReasonSerializer,
    "close": OutcomeSerializer,
    "mark_duplicate": DuplicateSerializer,
    "reopen": ReasonSerializer,
    "withdraw": OptionalReasonSerializer,
    "link": LinkSerializer,
    "set_callback": CallbackSerializer,
    "clear_callback": VersionSerializer,
    "request_security_advice": VersionSerializer,
}


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
