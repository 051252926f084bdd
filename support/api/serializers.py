from rest_framework import serializers

from incidents.constants import OutcomeCategory
from support.constants import (
    CASE_OUTCOME_CHOICES,
    ActionStatus,
    CaseStatus,
    SecurityAdviceStep,
    ServiceType,
)
from support.models import SupportAction, SupportCase

VERSION_HELP = "The case version you last saw; 409 when stale."


class SupportCaseSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="incident.reference")
    incident_status = serializers.CharField(source="incident.status")
    organisation = serializers.CharField(source="incident.organisation.name")
    # Declared, not derived from the model: the schema must not depend on the database engine.
    version = serializers.IntegerField(
        read_only=True, help_text="Send it back with a step; an older version answers 409."
    )
    handler = serializers.StringRelatedField(allow_null=True)
    rules = serializers.ListField(source="escalation.rules", child=serializers.CharField())
    escalation_reason = serializers.CharField(source="escalation.reason")

    class Meta:
        model = SupportCase
        fields = [
            "id",
            "reference",
            "incident_status",
            "organisation",
            "status",
            "version",
            "handler",
            "rules",
            "escalation_reason",
            "created_at",
            "acknowledge_due_at",
            "acknowledged_at",
            "closed_at",
            "outcome",
        ]


class CaseVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)


class CaseTransitionSerializer(CaseVersionSerializer):
    to_status = serializers.ChoiceField(
        choices=[c for c in CaseStatus.choices if c[0] != CaseStatus.NEW]
    )
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Reason (return) or outcome (close).",
    )


class CaseAssignSerializer(CaseVersionSerializer):
    handler = serializers.IntegerField()


class CaseReasonSerializer(CaseVersionSerializer):
    reason = serializers.CharField()


class CaseOutcomeSerializer(CaseVersionSerializer):
    outcome = serializers.CharField()
    outcome_category = serializers.ChoiceField(
        choices=CASE_OUTCOME_CHOICES,
        default=OutcomeCategory.SUPPORT_GIVEN,
        help_text="What the officeholder reads as the outcome on their page.",
    )
    open_actions_confirmed = serializers.BooleanField(
        default=False,
        help_text="Close although actions of the plan are still open: they are cancelled. "
        "Without it, a case with open actions is refused (code open_actions).",
    )


class SupportActionSerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(
        source="owner_id", allow_null=True, help_text="Empty: planned by the portal, no owner yet."
    )
    step = serializers.ChoiceField(
        choices=SecurityAdviceStep.choices,
        allow_blank=True,
        read_only=True,
        help_text="Only for a security advice: where it stands; empty otherwise.",
    )
    requested_by_officeholder = serializers.SerializerMethodField()

    class Meta:
        model = SupportAction
        fields = [
            "id",
            "service_type",
            "description",
            "owner",
            "due_on",
            "status",
            "step",
            "requested_by_officeholder",
            "shared_with_desk",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_requested_by_officeholder(self, action) -> bool:
        return action.request_event_id is not None


class SupportActionAddSerializer(CaseVersionSerializer):
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    owner = serializers.IntegerField(help_text="A member of the team.")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    shared_with_desk = serializers.BooleanField(required=False, default=False)


class SupportActionUpdateSerializer(CaseVersionSerializer):
    """Only the fields that are sent change; a field left out keeps its value."""

    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    step = serializers.ChoiceField(
        choices=SecurityAdviceStep.choices,
        required=False,
        allow_blank=True,
        help_text="Only for a security advice: where it stands (the officeholder sees it).",
    )
    owner = serializers.IntegerField(required=False, help_text="A member of the team.")
    shared_with_desk = serializers.BooleanField(required=False)
    due_on = serializers.DateField(allow_null=True, required=False)


# The input of each case action (support.actions) in the API.
CASE_ACTION_SERIALIZERS = {
    "acknowledge": CaseVersionSerializer,
    "start": CaseVersionSerializer,
    "assign_handler": CaseAssignSerializer,
    "add_action": SupportActionAddSerializer,
    "update_action": SupportActionUpdateSerializer,
    "return_to_desk": CaseReasonSerializer,
    "close_case": CaseOutcomeSerializer,
}
