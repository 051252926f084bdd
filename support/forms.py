"""Forms of the support workspace. They check shape only; `support.services` checks the case
table, the role and the version.

Every form on the case page has its own prefix, so field ids stay unique on a page with many
forms and a re-rendered form keeps exactly what the team member typed. Every form that
changes something sends back the case `version` it showed (stale check).
"""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from incidents.constants import OUTCOME_EXPLANATIONS
from incidents.forms import DateInput
from portal.constants import OrganisationType
from portal.forms import FilterForm
from portal.versioned import VersionedForm
from support.constants import (
    CASE_OUTCOME_CATEGORIES,
    ActionStatus,
    CaseStatus,
    SecurityAdviceStep,
    ServiceType,
)
from support.selectors import ME, NOBODY

MEMBER_ERROR = _("Deze persoon kunt u niet kiezen. Kies een lid van het Ondersteuningsteam.")


class CaseVersionedForm(VersionedForm):
    """One action of the case workflow: carries the case version the page showed; its other
    fields are the action's inputs."""

    def inputs(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key != "version"}


class AcknowledgeForm(CaseVersionedForm):
    prefix = "acknowledge"


class StartForm(CaseVersionedForm):
    prefix = "start"


class AssignForm(CaseVersionedForm):
    prefix = "assign"

    handler = forms.ModelChoiceField(
        label=_("Casemanager (contactpersoon van de ambtsdrager)"),
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": MEMBER_ERROR, "required": MEMBER_ERROR},
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = members


class ActionAddForm(CaseVersionedForm):
    prefix = "action"

    service_type = forms.ChoiceField(
        label=_("Soort hulp"),
        choices=[("", _("Kies de soort hulp"))] + ServiceType.choices,
        error_messages={"required": _("Kies de soort hulp.")},
    )
    description = forms.CharField(
        label=_("Wat gaat er gebeuren? (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )
    owner = forms.ModelChoiceField(
        label=_("Eigenaar"),
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": MEMBER_ERROR, "required": MEMBER_ERROR},
    )
    due_on = forms.DateField(
        label=_("Klaar op (mag leeg)"),
        widget=DateInput,
        required=False,
        error_messages={"invalid": _("Vul een geldige datum in.")},
    )
    shared_with_desk = forms.BooleanField(
        label=_("Het meldpunt mag deze actie zien"),
        help_text=_("Zonder vinkje ziet alleen het Ondersteuningsteam deze actie."),
        required=False,
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members


class ActionUpdateForm(CaseVersionedForm):
    """Status, due date and sharing of one action; the prefix names the action. A security
    advice also has its step; an action without an owner (planned by the portal) gets one."""

    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
    step = forms.ChoiceField(
        label=_("Stap van het beveiligingsadvies"),
        help_text=_("De ambtsdrager en het meldpunt zien deze stap."),
        choices=[("", _("Aangevraagd, nog geen contact met het CCV"))] + SecurityAdviceStep.choices,
        required=False,
    )
    owner = forms.ModelChoiceField(
        label=_("Eigenaar"),
        queryset=None,
        required=False,
        empty_label=_("Kies een eigenaar"),
        error_messages={"invalid_choice": MEMBER_ERROR},
    )
    due_on = forms.DateField(
        label=_("Klaar op (mag leeg)"),
        widget=DateInput,
        required=False,
        error_messages={"invalid": _("Vul een geldige datum in.")},
    )
    shared_with_desk = forms.BooleanField(
        label=_("Het meldpunt mag deze actie zien"), required=False
    )

    def __init__(self, *args, members, action=None, **kwargs):
        # `action` None: every field (what the form can show at most).
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members
        if action is not None and action.service_type != ServiceType.SECURITY_ADVICE:
            del self.fields["step"]
        if action is not None and action.owner_id is not None:
            del self.fields["owner"]

    @staticmethod
    def prefix_for(action_pk: int) -> str:
        return f"action-{action_pk}"

    @classmethod
    def for_action(cls, action, *, version: int, members, data=None) -> "ActionUpdateForm":
        return cls(
            data,
            action=action,
            members=members,
            prefix=cls.prefix_for(action.pk),
            initial={
                "version": version,
                "status": action.status,
                "step": action.step,
                "due_on": action.due_on,
                "shared_with_desk": action.shared_with_desk,
            },
        )


class OfficeholderMessageForm(forms.Form):
    prefix = "officeholder_message"

    body = forms.CharField(
        label=_("Bericht aan de ambtsdrager"),
        help_text=_("De ambtsdrager en het meldpunt lezen dit bericht."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Schrijf een bericht.")},
    )


class StaffMessageForm(forms.Form):
    prefix = "staff_message"

    body = forms.CharField(
        label=_("Bericht aan het meldpunt"),
        help_text=_("Alleen het meldpunt leest dit bericht. De ambtsdrager ziet het niet."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Schrijf een bericht.")},
    )


class NoteForm(forms.Form):
    prefix = "note"

    body = forms.CharField(
        label=_("Interne notitie"),
        help_text=_("Het meldpunt en het Ondersteuningsteam lezen dit. De ambtsdrager niet."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Schrijf een notitie.")},
    )


class ReturnForm(CaseVersionedForm):
    prefix = "return"

    reason = forms.CharField(
        label=_("Waarom geeft u de melding terug aan het meldpunt?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Vul een reden in. Zonder reden kunt u niet teruggeven.")},
    )


def _outcome_choice(category) -> tuple[str, str]:
    explanation = OUTCOME_EXPLANATIONS[category]
    return category.value, format_lazy(
        "{}. {} “{}”", category.label, _("De ambtsdrager leest:"), explanation
    )


class CloseForm(CaseVersionedForm):
    """Closing a case: the outcome, its category (what the officeholder reads on their page)
    and, when actions are still open, a confirmation that they go."""

    prefix = "close"

    outcome_category = forms.ChoiceField(
        label=_("Hoe sluit u af?"),
        choices=[_outcome_choice(category) for category in CASE_OUTCOME_CATEGORIES],
        widget=forms.RadioSelect,
        error_messages={"required": _("Kies hoe u afsluit.")},
    )
    outcome = forms.CharField(
        label=_("Uitkomst"),
        help_text=_("De ambtsdrager en het meldpunt lezen de uitkomst."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Vul de uitkomst in. Zonder uitkomst kunt u niet sluiten.")},
    )
    open_actions_confirmed = forms.BooleanField(
        label=_("Toch afsluiten. De open acties vervallen."),
        required=False,
    )

    def __init__(self, *args, open_actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.open_actions = list(open_actions)
        if not self.open_actions:
            del self.fields["open_actions_confirmed"]


# --- The inbox's and the agenda's filters (GET) ---------------------------------------------


def _member_choices(members) -> list[tuple[str, str]]:
    return [(str(member.pk), str(member)) for member in members]


class InboxFilterForm(FilterForm):
    """The inbox's search and filters. The status is the tab (a hidden field here), so that
    searching keeps the tab and a saved view keeps it too."""

    q = forms.CharField(
        label=_("Zoek op kenmerk of naam"),
        help_text=_("Een kenmerk (ook alleen het nummer, zoals 15) of de naam van de ambtsdrager."),
        max_length=100,
        required=False,
    )
    status = forms.ChoiceField(choices=CaseStatus.choices, required=False, widget=forms.HiddenInput)
    handler = forms.ChoiceField(label=_("Casemanager"), required=False)
    organisation_type = forms.ChoiceField(
        label=_("Soort organisatie"),
        choices=[("", _("Alle soorten"))] + OrganisationType.choices,
        required=False,
    )
    overdue = forms.BooleanField(
        label=_("Alleen dossiers die te laat zijn om te bevestigen"), required=False
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].choices = [
            ("", _("Iedereen")),
            (ME, _("Aan mij")),
            (NOBODY, _("Nog niemand")),
        ] + _member_choices(members)


class AgendaFilterForm(FilterForm):
    """Whose actions the agenda shows: the whole team, one's own, or one member's."""

    owner = forms.ChoiceField(label=_("Acties van"), required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("Het hele team")),
            (ME, _("Mijn acties")),
        ] + _member_choices(members)
