"""Forms of the meld- en steunpunt (desk): queue filters, triage and workflow actions, filing.

They check shape only; `incidents.services` checks the workflow, the role and the version.
Every form on the incident page has its own prefix, so that field ids stay unique on a page
with many forms and a re-rendered form keeps exactly what the registrar typed.
"""

import re
from datetime import date, datetime

from crispy_forms.layout import Fieldset
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.constants import (
    Advice,
    CallDirection,
    Channel,
    IncidentType,
    LinkKind,
    OutcomeCategory,
    ReporterSeverity,
    RiskFlag,
    Status,
    TriageSeverity,
)
from incidents.forms import DateInput, FullReportForm, TimeInput
from incidents.selectors import STATUS_ALL, AssignedFilter, QueueSort
from portal.forms import FilterForm
from portal.versioned import VersionedForm


def _any(label):
    return [("", label)]


# Dates far outside the portal's life (year 1 or 9999) would overflow in time-zone arithmetic.
_DATE_RANGE = [
    MinValueValidator(date(2000, 1, 1), message=_("Kies een datum na 1 januari 2000.")),
    MaxValueValidator(date(2999, 12, 31), message=_("Kies een datum vóór het jaar 3000.")),
]


class QueueFilterForm(FilterForm):
    """The queue's GET filters. Invalid values are reported and ignored, never a 500."""

    q = forms.CharField(
        label=_("Zoek op kenmerk, naam of dader"),
        help_text=_(
            "Een kenmerk (ook alleen het nummer, zoals 15), de naam van de ambtsdrager, of het "
            "account, e-mailadres of telefoonnummer van de dader. Een dader vindt u alleen met "
            "het hele account, adres of nummer."
        ),
        max_length=100,
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=_any(_("Alle open meldingen"))
        + Status.choices
        + [(STATUS_ALL, _("Alle meldingen, ook afgesloten"))],
        required=False,
    )
    triage_severity = forms.ChoiceField(
        label=_("Ernst volgens meldpunt"),
        choices=_any(_("Alle")) + TriageSeverity.choices,
        required=False,
    )
    reporter_severity = forms.ChoiceField(
        label=_("Ernst volgens melder"),
        choices=_any(_("Alle")) + ReporterSeverity.choices,
        required=False,
    )
    type = forms.ChoiceField(
        label=_("Soort incident"), choices=_any(_("Alle")) + IncidentType.choices, required=False
    )
    risk_flag = forms.ChoiceField(
        label=_("Risico"), choices=_any(_("Alle")) + RiskFlag.choices, required=False
    )
    channel = forms.ChoiceField(
        label=_("Hoe het gebeurde"), choices=_any(_("Alle")) + Channel.choices, required=False
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisatie"),
        queryset=None,
        required=False,
        empty_label=_("Alle organisaties"),
        error_messages={"invalid_choice": _("Kies een organisatie van uw meldpunt.")},
    )
    date_from = forms.DateField(
        label=_("Ontvangen vanaf"),
        widget=DateInput,
        required=False,
        validators=_DATE_RANGE,
    )
    date_to = forms.DateField(
        label=_("Ontvangen tot en met"),
        widget=DateInput,
        required=False,
        validators=_DATE_RANGE,
    )
    assigned = forms.ChoiceField(
        label=_("Behandelaar"),
        choices=_any(_("Iedereen")) + AssignedFilter.choices,
        required=False,
    )
    overdue = forms.BooleanField(label=_("Alleen meldingen die te laat zijn"), required=False)
    serious_untriaged = forms.BooleanField(
        label=_("Alleen ernstige meldingen die nog niet zijn beoordeeld"), required=False
    )
    sort = forms.ChoiceField(label=_("Sorteren"), choices=QueueSort.choices, required=False)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("Deze datum ligt vóór de datum 'Ontvangen vanaf'."))
        return data


class SavedViewForm(forms.Form):
    prefix = "saved_view"

    name = forms.CharField(
        label=_("Naam van dit overzicht"),
        max_length=60,
        help_text=_("Bijvoorbeeld: ernstig en aan mij. Alleen u ziet dit overzicht."),
        error_messages={"required": _("Geef het overzicht een naam.")},
    )
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)


# A queue page: the most rows one bulk action takes.
BULK_MAX_ROWS = 50
_ROW = re.compile(r"^(MWB-\d{4}-\d+):(\d{1,9})$")


class BulkForm(forms.Form):
    """Several queue rows at once: each ticked row sends "reference:version"."""

    prefix = "bulk"
    BULK_CLOSE_CATEGORIES = (OutcomeCategory.REGISTERED, OutcomeCategory.DUPLICATE)

    # The ticked rows' checkboxes; read as a list, checked in clean_incidents.
    incidents = forms.Field(label=_("Meldingen"), required=False, widget=forms.MultipleHiddenInput)
    action = forms.ChoiceField(
        label=_("Wat wilt u doen met de gekozen meldingen?"),
        choices=[
            ("assign", _("Behandelaar kiezen")),
            ("close", _("Afsluiten")),
        ],
    )
    assignee = forms.ModelChoiceField(
        label=_("Nieuwe behandelaar"),
        queryset=None,
        required=False,
        empty_label=_("Niemand"),
        error_messages={
            "invalid_choice": _(
                "Deze persoon kunt u niet kiezen. Kies een collega van uw eigen meldpunt."
            )
        },
    )
    outcome_category = forms.ChoiceField(
        label=_("Hoe sluit u de meldingen af?"),
        choices=[("", _("Kies bij afsluiten"))]
        + [(c.value, c.label) for c in BULK_CLOSE_CATEGORIES],
        required=False,
        help_text=_("De ambtsdrager ziet deze keuze. Voor andere uitkomsten: sluit per melding."),
    )

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues

    def clean_incidents(self):
        rows = {}
        for value in self.cleaned_data["incidents"] or []:
            match = _ROW.match(value)
            if match is None:
                raise forms.ValidationError(_("Vernieuw de pagina en kies de meldingen opnieuw."))
            rows[match[1]] = int(match[2])
        if not rows:
            raise forms.ValidationError(_("Kies eerst een of meer meldingen in de lijst."))
        if len(rows) > BULK_MAX_ROWS:
            raise forms.ValidationError(
                _("Kies ten hoogste %(count)d meldingen tegelijk.") % {"count": BULK_MAX_ROWS}
            )
        return rows

    def clean(self):
        data = super().clean()
        if data.get("action") == "close" and not data.get("outcome_category"):
            self.add_error("outcome_category", _("Kies hoe u de meldingen afsluit."))
        return data

    def inputs(self) -> dict:
        if self.cleaned_data["action"] == "assign":
            return {"assignee": self.cleaned_data["assignee"]}
        return {"outcome_category": self.cleaned_data["outcome_category"]}


class ActionForm(VersionedForm):
    """One action of the incident workflow; its fields are the action's inputs."""

    def inputs(self) -> dict:
        """What the action service takes from this form (besides the version)."""
        return {key: value for key, value in self.cleaned_data.items() if key != "version"}


class TakeForm(ActionForm):
    prefix = "take"


class TakeBackForm(VersionedForm):
    """Take back an incident offered back to the own desk (only the version it showed)."""

    prefix = "take_back"


class AssignForm(ActionForm):
    prefix = "assign"

    assignee = forms.ModelChoiceField(
        label=_("Behandelaar"),
        queryset=None,
        required=False,
        empty_label=_("Niemand"),
        error_messages={
            "invalid_choice": _(
                "Deze persoon kunt u niet kiezen. Kies een collega van uw eigen meldpunt."
            )
        },
    )

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues


class TriageForm(ActionForm):
    prefix = "triage"

    triage_severity = forms.ChoiceField(
        label=_("Hoe ernstig is het volgens het meldpunt?"),
        choices=TriageSeverity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Kies hoe ernstig het is.")},
    )
    risk_flags = forms.MultipleChoiceField(
        label=_("Risico's (mag leeg)"),
        choices=RiskFlag.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    types = forms.MultipleChoiceField(
        label=_("Soort incident (verbeter als dat nodig is)"),
        choices=IncidentType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Kies minstens één soort incident.")},
    )
    advice_given = forms.MultipleChoiceField(
        label=_("Gegeven advies (mag leeg)"),
        choices=Advice.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    advice_note = forms.CharField(
        label=_("Toelichting bij het advies (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )

    @classmethod
    def initial_from(cls, incident) -> dict:
        return {
            "version": incident.version,
            "triage_severity": incident.triage_severity,
            "risk_flags": incident.risk_flags,
            "types": incident.types,
            "advice_given": incident.advice_given,
            "advice_note": incident.advice_note,
        }


class CloseForm(ActionForm):
    prefix = "close"

    outcome_category = forms.ChoiceField(
        label=_("Hoe sluit u de melding af?"),
        choices=OutcomeCategory.choices,
        widget=forms.RadioSelect,
        help_text=_("De ambtsdrager ziet deze keuze, in gewone woorden."),
        error_messages={"required": _("Kies hoe u de melding afsluit.")},
    )
    outcome = forms.CharField(
        label=_("Toelichting voor de ambtsdrager (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        help_text=_(
            "Dit leest de melder precies zoals u het schrijft. Zet hier geen interne informatie in."
        ),
    )


class ReopenForm(ActionForm):
    prefix = "reopen"

    reason = forms.CharField(
        label=_("Waarom opent u de melding opnieuw?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        error_messages={"required": _("Vul een reden in. Zonder reden kunt u niet heropenen.")},
    )


class EscalateForm(ActionForm):
    prefix = "escalate"

    reason = forms.CharField(
        label=_("Waarom geeft u de melding door aan het Ondersteuningsteam?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        error_messages={"required": _("Vul een reden in voor het Ondersteuningsteam.")},
    )


def _reference_field(label):
    return forms.CharField(
        label=label,
        max_length=20,
        help_text=_("Bijvoorbeeld MWB-2026-000123, of alleen 123 voor een melding van dit jaar."),
        error_messages={"required": _("Vul het kenmerk van de andere melding in.")},
    )


class ReferenceCleanMixin:
    """The other incident, by reference; the page looks it up in the registrar's scope."""

    def clean_reference(self):
        return self.cleaned_data["reference"].strip().upper()


class LinkForm(ReferenceCleanMixin, ActionForm):
    prefix = "link"

    reference = _reference_field(_("Kenmerk van de andere melding"))
    kind = forms.ChoiceField(
        label=_("Wat hebben de meldingen met elkaar te maken?"),
        choices=LinkKind.choices,
        initial=LinkKind.SAME_PERPETRATOR,
    )
    reason = forms.CharField(label=_("Toelichting (mag leeg)"), max_length=300, required=False)


class DuplicateForm(ReferenceCleanMixin, ActionForm):
    prefix = "duplicate"

    reference = _reference_field(_("Kenmerk van de oorspronkelijke melding"))


# --- Follow-up: callback, phone call (absence cover: portal.forms.AbsenceForm) ------------------


def _moment(day, clock):
    """A day and a time of day in the viewer's time zone, as an aware moment."""
    return timezone.make_aware(datetime.combine(day, clock))


class CallbackForm(ActionForm):
    """ "Bel terug op ...": a day, a time and a short note (staff only)."""

    prefix = "set_callback"

    callback_day = forms.DateField(
        label=_("Dag"),
        widget=DateInput,
        validators=_DATE_RANGE,
        error_messages={"required": _("Kies de dag om terug te bellen.")},
    )
    callback_time = forms.TimeField(
        label=_("Tijd"),
        widget=TimeInput,
        error_messages={"required": _("Kies de tijd om terug te bellen.")},
    )
    callback_note = forms.CharField(
        label=_("Waarover (mag leeg)"),
        max_length=200,
        required=False,
        help_text=_("Kort, bijvoorbeeld: vragen of de politie al belde. De melder ziet dit niet."),
    )

    def inputs(self) -> dict:
        data = self.cleaned_data
        return {
            "callback_at": _moment(data["callback_day"], data["callback_time"]),
            "callback_note": data.get("callback_note", ""),
        }


class ClearCallbackForm(ActionForm):
    prefix = "clear_callback"


class PhoneCallForm(forms.Form):
    """A phone call about the incident: who called whom, when, what about (staff only)."""

    prefix = "phone_call"

    direction = forms.ChoiceField(
        label=_("Wie belde?"),
        choices=CallDirection.choices,
        widget=forms.RadioSelect,
        initial=CallDirection.DESK_CALLED,
        error_messages={"required": _("Kies wie er belde.")},
    )
    other_party = forms.CharField(
        label=_("Met wie (mag leeg)"),
        max_length=200,
        required=False,
        help_text=_("Leeg: met de ambtsdrager. Of bijvoorbeeld: de partner, de griffier."),
    )
    call_day = forms.DateField(
        label=_("Dag (leeg: vandaag)"), widget=DateInput, required=False, validators=_DATE_RANGE
    )
    call_time = forms.TimeField(label=_("Tijd (leeg: nu)"), widget=TimeInput, required=False)
    summary = forms.CharField(
        label=_("Korte samenvatting"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Alleen voor het meldpunt en het Ondersteuningsteam. De melder ziet dit niet."),
        error_messages={"required": _("Schrijf kort waarover het gesprek ging.")},
    )

    def called_at(self):
        """The moment of the call: the day and time given, else today or now."""
        data, now = self.cleaned_data, timezone.localtime()
        day, clock = data.get("call_day"), data.get("call_time")
        if day is None and clock is None:
            return None
        return _moment(day or now.date(), clock or now.time().replace(second=0, microsecond=0))


class NoteForm(forms.Form):
    prefix = "note"

    body = forms.CharField(
        label=_("Interne notitie"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_(
            "Alleen voor het meldpunt en het Ondersteuningsteam. De ambtsdrager ziet dit niet."
        ),
        error_messages={"required": _("Schrijf een notitie.")},
    )


class StandardReplySelect(forms.Select):
    """The list of standard replies; each option carries its text in the officeholder's
    language (`data-text`), for the page's script that inserts it without a round trip."""

    language = "nl"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-text"] = instance.text_in(self.language)
        return option


class OfficeholderMessageForm(forms.Form):
    """A message to the officeholder; with `replies`, a choice of standard reply that the
    "Invoegen" button puts in the message box (in `language`), to change before sending."""

    prefix = "message"

    reply = forms.ModelChoiceField(
        label=_("Standaardantwoord"),
        queryset=None,
        required=False,
        empty_label=_("Kies een tekst"),
        widget=StandardReplySelect,
        help_text=_(
            "Met 'Invoegen' komt de tekst in het berichtvak, in de taal van de ambtsdrager. "
            "U kunt de tekst daarna nog aanpassen. Er wordt niets verstuurd."
        ),
    )
    body = forms.CharField(
        label=_("Bericht aan de ambtsdrager"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_("De ambtsdrager leest dit bericht op de eigen pagina van de melding."),
        error_messages={"required": _("Schrijf een bericht.")},
    )

    def __init__(self, *args, replies=None, language: str = "nl", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reply"]
        if replies is None:
            del self.fields["reply"]
        else:
            field.queryset = replies
            field.widget.language = language


class StandardReplyInsertForm(OfficeholderMessageForm):
    """The "Invoegen" button of the message form: a reply must be chosen; the typed text may
    be empty. Nothing is sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].required = False
        self.fields["reply"].required = True
        self.fields["reply"].error_messages["required"] = _(
            "Kies eerst een standaardantwoord om in te voegen."
        )


class StaffMessageForm(forms.Form):
    prefix = "staff"

    body = forms.CharField(
        label=_("Bericht aan het Ondersteuningsteam"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_("Overleg tussen meldpunt en Ondersteuningsteam. De ambtsdrager ziet dit niet."),
        error_messages={"required": _("Schrijf een bericht.")},
    )


class FileOnBehalfForm(FullReportForm):
    """The full report, filled in by a registrar for an officeholder who phoned or came by."""

    officeholder = forms.ModelChoiceField(
        label=_("Voor welke ambtsdrager legt u de melding vast?"),
        queryset=None,
        empty_label=_("Kies een ambtsdrager"),
        error_messages={
            "required": _("Kies de ambtsdrager voor wie u de melding vastlegt."),
            "invalid_choice": _("Kies een ambtsdrager van een organisatie van uw meldpunt."),
        },
    )

    def __init__(self, *args, officeholders, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["officeholder"]
        field.queryset = officeholders
        field.label_from_instance = lambda user: (
            f"{user} ({user.get_function_display()}, {user.organisation})"
        )
        self.helper.layout.fields.insert(1, Fieldset(_("Voor wie"), "officeholder"))
        self.fields["contact_phone"].label = _(
            "Op welk nummer kan het meldpunt de ambtsdrager bellen over deze melding? (mag leeg)"
        )
        self.fields["contact_phone"].help_text = _(
            "Alleen als het een ander nummer is dan op het profiel."
        )
        self.fields["contact_preference"].label = _(
            "Hoe en wanneer wil de ambtsdrager bereikt worden? (mag leeg)"
        )


class StandardReplyForm(forms.Form):
    """A standard reply of the coordinator's desk: when to use it, and the text in both
    languages."""

    title = forms.CharField(
        label=_("Situatie"),
        max_length=100,
        help_text=_("Kort: wanneer gebruikt u deze tekst? Bijvoorbeeld: Advies: doe aangifte."),
        error_messages={"required": _("Schrijf kort wanneer u deze tekst gebruikt.")},
    )
    text_nl = forms.CharField(
        label=_("Tekst in het Nederlands"),
        widget=forms.Textarea(attrs={"rows": 5, "lang": "nl"}),
        max_length=5000,
        help_text=_("Voor ambtsdragers die het portaal in het Nederlands gebruiken."),
        error_messages={"required": _("Schrijf de Nederlandse tekst.")},
    )
    text_en = forms.CharField(
        label=_("Tekst in het Engels"),
        widget=forms.Textarea(attrs={"rows": 5, "lang": "en"}),
        max_length=5000,
        help_text=_("Voor ambtsdragers die het portaal in het Engels gebruiken."),
        error_messages={"required": _("Schrijf de Engelse tekst.")},
    )
    active = forms.BooleanField(
        label=_("In gebruik"),
        required=False,
        initial=True,
        help_text=_("Uit: de tekst staat niet meer in de keuzelijst bij een melding."),
    )
