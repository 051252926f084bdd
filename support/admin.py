"""The functional administrator's view of the support domain.

The administrator tunes the escalation rules (on/off, threshold, period) but manages no
cases: support cases and actions are read-only lists of structured fields only. No free text
(outcome, action description) is shown anywhere here, since that is the officeholder's
personal story and only the Ondersteuningsteam needs it.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from support.models import EscalationRule, SupportAction, SupportCase


class EscalationRuleRowForm(forms.ModelForm):
    """One row of the rule list. A column header is no label for a screen reader, so each
    field names its column and its rule ("drempel: Drie meldingen in 30 dagen")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = f"{field.label}: {self.instance.get_code_display()}"


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "enabled", "threshold", "window_days"]
    list_editable = ["enabled", "threshold", "window_days"]
    fields = ["code", "enabled", "threshold", "window_days"]
    readonly_fields = ["code"]

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=EscalationRuleRowForm, **kwargs)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list to look at: no adding, changing or deleting, and no bulk actions."""

    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupportCase)
class SupportCaseAdmin(ReadOnlyAdmin):
    # Deliberately without `outcome`: free text stays with the Ondersteuningsteam.
    list_display = [
        "reference",
        "status",
        "handler",
        "created_at",
        "acknowledge_due_at",
        "acknowledged_at",
        "closed_at",
    ]
    list_filter = ["status"]
    list_select_related = ["incident", "handler"]
    fields = [
        "reference",
        "status",
        "version",
        "handler",
        "created_at",
        "acknowledge_due_at",
        "acknowledged_at",
        "closed_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("kenmerk"), ordering="incident__reference")
    def reference(self, case):
        return case.incident.reference


@admin.register(SupportAction)
class SupportActionAdmin(ReadOnlyAdmin):
    # Deliberately without `description`: free text stays with the Ondersteuningsteam.
    list_display = [
        "reference",
        "service_type",
        "status",
        "owner",
        "due_on",
        "shared_with_desk",
        "updated_at",
    ]
    # Not by service type: it is encrypted (incidents.FactCount holds the counts per kind).
    list_filter = ["status", "shared_with_desk"]
    list_select_related = ["case__incident", "owner"]
    fields = [
        "reference",
        "service_type",
        "status",
        "owner",
        "due_on",
        "shared_with_desk",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("kenmerk"), ordering="case__incident__reference")
    def reference(self, action):
        return action.case.incident.reference
