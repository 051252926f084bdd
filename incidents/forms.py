"""Forms for filing and following up incidents. They check shape; services do the rest."""

import json
import uuid
from functools import partial

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents import aangifte, facts
from incidents.constants import (
    FACT_FIELDS,
    MAX_EVIDENCE_FILES,
    AangifteOutcome,
    AangifteStep,
    AffectedPerson,
    Channel,
    IdentifierKind,
    Impact,
    IncidentType,
    PerpetratorKind,
    PerpetratorKnown,
    PerpetratorRelation,
    ReporterSeverity,
    SupportWish,
)
from incidents.evidence import EvidenceRejected, evidence_inspect, evidence_limits_for_browser
from incidents.police_summary import SummaryChoices
from portal.constants import TIME_ZONE_CARIBBEAN
from portal.versioned import VersionedForm


def _evidence_help(*, one: bool) -> str:
    limits = {
        "file": settings.EVIDENCE_MAX_FILE_BYTES // MB,
        "audio": settings.EVIDENCE_MAX_AUDIO_BYTES // MB,
        "video": settings.EVIDENCE_MAX_VIDEO_BYTES // MB,
    }
    if one:
        return (
            gettext(
                "Eén foto, schermafbeelding, PDF, e-mail (.eml), tekstbestand, geluidsopname "
                "(m4a, mp3, ogg) of video (mp4, mov). Foto's en documenten tot %(file)s MB, "
                "geluid tot %(audio)s MB, video tot %(video)s MB. Wij halen verborgen gegevens "
                "weg, zoals de plaats."
            )
            % limits
        )
    return gettext(
        "Foto's, schermafbeeldingen, PDF, e-mail (.eml), tekst, geluidsopnamen (m4a, mp3, ogg) "
        "en video's (mp4, mov). Ten hoogste %(max)s bestanden: foto's en documenten tot "
        "%(file)s MB, geluid tot %(audio)s MB, video tot %(video)s MB. Wij halen verborgen "
        "gegevens weg, zoals de plaats."
    ) % {**limits, "max": MAX_EVIDENCE_FILES}


# Read when the page is rendered: the limits are settings.
EVIDENCE_HELP = lazy(partial(_evidence_help, one=False), str)()
ONE_FILE_HELP = lazy(partial(_evidence_help, one=True), str)()
MB = 1024 * 1024


class EvidenceFileInput(forms.ClearableFileInput):
    """The file input with what the browser check needs (static/js/evidence-upload.js).

    The limits and messages come from incidents.evidence, the same as the server's checks;
    they are data attributes, so no inline script is needed (CSP).
    """

    def __init__(self, *args, multiple: bool = True, max_files: int = MAX_EVIDENCE_FILES, **kw):
        super().__init__(*args, **kw)
        self.allow_multiple_selected = multiple
        self.max_files = max_files

    def get_context(self, name, value, attrs):
        attrs = {
            **(attrs or {}),
            "accept": EVIDENCE_ACCEPT,
            "data-evidence-limits": json.dumps(
                evidence_limits_for_browser(max_files=self.max_files)
            ),
        }
        return super().get_context(name, value, attrs)


# What phones offer in their file picker: the camera, the recorder, photos and files.
EVIDENCE_ACCEPT = (
    "image/*,video/*,audio/*,.jpg,.jpeg,.png,.gif,.webp,.bmp,.tif,.tiff,.pdf,.eml,.txt,"
    ".mp4,.mov,.m4a,.mp3,.ogg,.opus,application/pdf,message/rfc822,text/plain"
)


class EvidenceField(forms.FileField):
    """Zero or more files; each is checked by content and turned into an InspectedFile."""

    def __init__(self, *args, max_files=MAX_EVIDENCE_FILES, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", EvidenceFileInput(multiple=max_files > 1, max_files=max_files))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > self.max_files:
            raise ValidationError(
                _("U kunt ten hoogste %(max)s bestanden toevoegen.") % {"max": self.max_files}
            )
        inspected, errors = [], []
        for uploaded in files:
            try:
                # The upload is read in blocks, never whole: a video is on disk, not in memory.
                inspected.append(evidence_inspect(name=uploaded.name, file=uploaded))
            except EvidenceRejected as rejected:
                errors.append(f"{rejected.file_name}: {rejected.reason}")
        if errors:
            errors.append(_("Kies de goede bestanden opnieuw; de andere velden zijn bewaard."))
            raise ValidationError(errors)
        return inspected


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class SubmissionTokenMixin(forms.Form):
    """A hidden token per form view: submitting twice (a double click) files one incident."""

    submission_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class QuickReportForm(SubmissionTokenMixin):
    types = forms.MultipleChoiceField(
        label=_("Wat gebeurde er?"),
        choices=IncidentType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Kies één of meer."),
        error_messages={"required": _("Kies wat er gebeurde.")},
    )
    occurred_on = forms.DateField(
        label=_("Wanneer?"),
        widget=DateInput,
        initial=timezone.localdate,
        validators=[facts.date_check],
        error_messages={"required": _("Vul de datum in.")},
    )
    occurred_at = forms.TimeField(label=_("Hoe laat? (mag leeg)"), widget=TimeInput, required=False)
    summary = forms.CharField(
        label=_("Wat gebeurde er, in één zin?"),
        max_length=300,
        error_messages={"required": _("Schrijf in één zin wat er gebeurde.")},
    )
    evidence = EvidenceField(label=_("Bestand (mag leeg)"), max_files=1, help_text=ONE_FILE_HELP)
    unsafe_or_call = forms.TypedChoiceField(
        label=_("Voelt u zich onveilig of wilt u gebeld worden? (mag leeg)"),
        choices=[("ja", _("Ja")), ("nee", _("Nee"))],
        coerce=lambda value: value == "ja",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Bij ja kijkt het meldpunt binnen 4 uur naar uw melding en neemt het contact met u op."
        ),
    )
    contact_phone = forms.CharField(
        label=_("Op welk nummer kunnen wij u bellen? (mag leeg)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_(
            "Er staat nog geen telefoonnummer op uw profiel. Wij zetten dit nummer daar ook op."
        ),
    )

    field_order = (
        "types",
        "occurred_on",
        "occurred_at",
        "summary",
        "unsafe_or_call",
        "contact_phone",
        "evidence",
    )
    # The facts this form gives to the service.
    FACTS = ("types", "occurred_on", "occurred_at", "summary", "unsafe_or_call", "contact_phone")

    def __init__(self, *args, officeholder=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.caribbean = bool(officeholder and officeholder.time_zone == TIME_ZONE_CARIBBEAN)
        if officeholder is not None and officeholder.phone:
            # The desk already has a number: no need to ask for one.
            del self.fields["contact_phone"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_contact_phone(self):
        return facts.contact_phone_clean(
            self.cleaned_data["contact_phone"], caribbean=self.caribbean
        )

    def facts(self) -> dict:
        return {key: self.cleaned_data[key] for key in self.FACTS if key in self.cleaned_data}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class FullReportForm(SubmissionTokenMixin):
    """Every fact of the taxonomy (incidents/constants.py), in five sections."""

    # 1. What happened
    types = QuickReportForm.base_fields["types"]
    occurred_on = QuickReportForm.base_fields["occurred_on"]
    occurred_at = QuickReportForm.base_fields["occurred_at"]
    summary = QuickReportForm.base_fields["summary"]
    description = forms.CharField(
        label=_("Vertel wat er gebeurde (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_("Wat werd er gezegd of gedaan? Waren er getuigen?"),
    )
    location = forms.CharField(
        label=_("Waar gebeurde het? (mag leeg)"),
        max_length=300,
        required=False,
        help_text=_("Bijvoorbeeld: raadszaal, markt, online. Uw huisadres hoeft u niet te noemen."),
    )
    channel = forms.ChoiceField(
        label=_("Hoe gebeurde het?"),
        choices=[("", _("Kies een manier"))] + Channel.choices,
        required=False,
    )
    platform = forms.CharField(
        label=_("Welk platform? (alleen bij online)"),
        max_length=100,
        required=False,
        help_text=_("Bijvoorbeeld X, Facebook, Instagram, TikTok of een WhatsApp-groep."),
    )
    links = forms.CharField(
        label=_("Links naar de berichten (alleen bij online, mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Eén link per regel."),
    )
    reporter_severity = forms.ChoiceField(
        label=_("Hoe ernstig vindt u het?"),
        choices=ReporterSeverity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Kies hoe ernstig u het vindt.")},
    )
    # 2. Who did it
    perpetrator_known = forms.ChoiceField(
        label=_("Weet u wie het deed?"),
        choices=PerpetratorKnown.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Weet u het niet? Een account of nummer van de dader helpt ook."),
    )
    perpetrator_kind = forms.ChoiceField(
        label=_("Wie was het?"),
        choices=[("", _("Weet ik niet"))] + PerpetratorKind.choices,
        required=False,
    )
    perpetrator_relation = forms.ChoiceField(
        label=_("Wat is de dader van u?"),
        choices=[("", _("Weet ik niet"))] + PerpetratorRelation.choices,
        required=False,
    )
    perpetrator_description = forms.CharField(
        label=_("Beschrijving van de dader (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    handles = forms.CharField(
        label=_("Accounts op sociale media (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Eén per regel, bijvoorbeeld @naam of een link naar het profiel."),
    )
    emails = forms.CharField(
        label=_("E-mailadressen van de dader (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Eén per regel."),
    )
    phones = forms.CharField(
        label=_("Telefoonnummers van de dader (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Eén per regel."),
    )
    # 3. Consequences
    impacts = forms.MultipleChoiceField(
        label=_("Wat doet dit met u?"),
        choices=Impact.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    affected_people = forms.MultipleChoiceField(
        label=_("Zijn er anderen geraakt?"),
        choices=AffectedPerson.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # 5. Support
    support_wish = forms.ChoiceField(
        label=_("Wat wilt u?"),
        choices=SupportWish.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Kies wat u wilt.")},
    )
    contact_phone = forms.CharField(
        label=_("Op welk nummer kunnen wij u bellen over deze melding? (mag leeg)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("Alleen als het een ander nummer is dan op uw profiel."),
    )
    contact_preference = forms.CharField(
        label=_("Hoe en wanneer kunnen wij u het best bereiken? (mag leeg)"),
        max_length=200,
        required=False,
        help_text=_("Bijvoorbeeld: liever eerst een sms, of bellen na 17.00 uur."),
    )
    evidence = EvidenceField(label=_("Bewijsstukken (mag leeg)"), help_text=EVIDENCE_HELP)

    POLICE_GUIDANCE = _(
        "<p>Aangifte doen helpt. De politie kan dan onderzoek doen. Twee tips:</p>"
        "<ul><li>Geef uw werkadres of het adres van uw advocaat op, niet uw huisadres "
        "(domicilie kiezen).</li><li>Vraag om de VPT-markering (Veilige Publieke Taak). "
        "Dan weet de politie dat het om iemand met een publieke taak gaat en geeft zij "
        "de zaak voorrang.</li></ul>"
        "<p>Na het versturen houdt u op de pagina van uw melding bij hoe het gaat met de "
        "aangifte. Het meldpunt ziet dat ook.</p>"
    )

    def __init__(self, *args, with_evidence=True, officeholder=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.caribbean = bool(officeholder and officeholder.time_zone == TIME_ZONE_CARIBBEAN)
        if not with_evidence:
            del self.fields["evidence"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            "submission_token",
            Fieldset(
                _("1. Wat er gebeurde"),
                "types",
                "occurred_on",
                "occurred_at",
                "summary",
                "description",
                "location",
                "channel",
                "platform",
                "links",
                "reporter_severity",
            ),
            Fieldset(
                _("2. Wie het deed"),
                "perpetrator_known",
                "perpetrator_kind",
                "perpetrator_relation",
                "perpetrator_description",
                # Asked whether or not the person knows who it is: an anonymous account or
                # a number is still something the desk can recognise (incidents.facts).
                Fieldset(
                    _("Weet u iets over de dader, zoals een account of nummer?"),
                    "handles",
                    "emails",
                    "phones",
                    css_class="perpetrator-identifiers",
                ),
            ),
            Fieldset(_("3. Gevolgen"), "impacts", "affected_people"),
            Fieldset(
                _("4. Politie"),
                HTML(f'<div class="alert alert-info">{self.POLICE_GUIDANCE}</div>'),
            ),
            Fieldset(
                _("5. Wat u wilt"),
                "support_wish",
                "contact_phone",
                "contact_preference",
                *(["evidence"] if with_evidence else []),
            ),
        )

    # The rules themselves live in incidents.facts (the API and the services use them too).
    clean_contact_phone = QuickReportForm.clean_contact_phone

    def clean_links(self):
        return facts.links_clean(_lines(self.cleaned_data["links"]))

    def clean_emails(self):
        emails = _lines(self.cleaned_data["emails"])
        facts.emails_check(emails)
        return "\n".join(emails)

    def clean_phones(self):
        phones = _lines(self.cleaned_data["phones"])
        facts.phones_check(phones)
        return "\n".join(phones)

    def clean(self):
        data = super().clean()
        for field, message in facts.facts_problems(data).items():
            self.add_error(field, message)
        return data

    def facts(self) -> dict:
        """The cleaned facts, in the shape the services take."""
        return {key: self.cleaned_data[key] for key in FACT_FIELDS if key in self.cleaned_data}

    def identifiers(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        return (
            [(IdentifierKind.HANDLE, v) for v in _lines(data["handles"])]
            + [(IdentifierKind.EMAIL, v) for v in _lines(data["emails"])]
            + [(IdentifierKind.PHONE, v) for v in _lines(data["phones"])]
        )

    @classmethod
    def initial_from(cls, incident) -> dict:
        """Initial values to complete or correct an existing incident."""
        initial = {field: getattr(incident, field) for field in FACT_FIELDS}
        by_kind = {kind: [] for kind in IdentifierKind.values}
        for identifier in incident.identifiers.all():
            by_kind[identifier.kind].append(identifier.value)
        initial["handles"] = "\n".join(by_kind[IdentifierKind.HANDLE])
        initial["emails"] = "\n".join(by_kind[IdentifierKind.EMAIL])
        initial["phones"] = "\n".join(by_kind[IdentifierKind.PHONE])
        return initial


class FollowUpForm(forms.Form):
    text = forms.CharField(
        label=_("Wat is er nieuw?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Bijvoorbeeld: het gebeurde opnieuw, of u weet nu wie het was."),
    )
    evidence = EvidenceField(label=_("Nieuwe bestanden (mag leeg)"), help_text=EVIDENCE_HELP)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("text", "").strip() and not data.get("evidence"):
            raise ValidationError(_("Schrijf wat er nieuw is of voeg een bestand toe."))
        return data


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Uw bericht"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": _("Schrijf een bericht.")},
    )


class WithdrawForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Waarom trekt u de melding in? (mag leeg)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class CompleteReportForm(VersionedForm, FullReportForm):
    """The full report for an incident that exists: no new files here (use follow-up)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, with_evidence=False, **kwargs)
        self.fields.pop("submission_token")
        self.helper.layout.fields.remove("submission_token")
        self.helper.layout.fields.insert(0, "version")


class CaseFileForm(forms.Form):
    """The GET form of "Dossier als PDF" on the desk's incident page and the team's case page."""

    names = forms.BooleanField(
        label=_("Namen van medewerkers tonen"),
        required=False,
        help_text=_("Zonder vinkje staat alleen het team erin, bijvoorbeeld 'Meldpunt Utrecht'."),
    )

    def show_names(self) -> bool:
        return self.is_valid() and self.cleaned_data["names"]


class PoliceSummaryForm(forms.Form):
    """What goes in the summary for the police (incidents.police_summary): the officeholder's
    choices, and the desk's with consent. Shaped from the page: files of this incident only,
    and "where" only when the page offers it."""

    facts = forms.BooleanField(
        label=_("Wat er gebeurde"),
        required=False,
        help_text=_("Wat, wanneer en hoe het gebeurde, de dader en wat u al deed bij de politie."),
    )
    location = forms.BooleanField(label=_("Waar het gebeurde"), required=False)
    evidence = forms.TypedMultipleChoiceField(
        label=_("Bewijsstukken, met hun vingerafdruk"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Met de vingerafdruk (SHA-256) kan de politie nagaan dat een bestand niet is "
            "veranderd. De bestanden zelf geeft u apart aan de politie."
        ),
    )
    timeline = forms.BooleanField(
        label=_("Wat er met de melding gebeurde (tijdlijn)"),
        required=False,
        help_text=_("Wanneer u meldde, wat u aanvulde en wat het meldpunt deed."),
    )
    messages = forms.BooleanField(
        label=_("Berichten met het meldpunt"),
        required=False,
        help_text=_("Standaard niet: dit is uw gesprek met het meldpunt."),
    )
    views = forms.BooleanField(
        label=_("Wanneer het meldpunt de melding bekeek"),
        required=False,
        help_text=_("Standaard niet: de politie heeft dit meestal niet nodig."),
    )
    impacts = forms.BooleanField(
        label=_("Gevolgen voor u, zoals psychische klachten of ziekmelding"),
        required=False,
        help_text=_("Standaard niet: dit is persoonlijk. Zet het er alleen in als u dat wilt."),
    )

    def __init__(self, *args, page, **kwargs):
        defaults = SummaryChoices.defaults_for(page)
        kwargs.setdefault(
            "initial",
            {
                "facts": defaults.facts,
                "location": defaults.location,
                "evidence": sorted(defaults.evidence_ids),
                "timeline": defaults.timeline,
                "messages": defaults.messages,
                "views": defaults.views,
                "impacts": defaults.impacts,
            },
        )
        super().__init__(*args, **kwargs)
        self.page = page
        if page.by_desk:
            # The same choices, about the officeholder instead of "u".
            fields = self.fields
            fields["facts"].help_text = _(
                "Wat, wanneer en hoe het gebeurde, de dader en de politie."
            )
            fields["messages"].label = _("Berichten tussen de ambtsdrager en het meldpunt")
            fields["messages"].help_text = _("Standaard niet: dit is hun gesprek.")
            fields["impacts"].label = _(
                "Gevolgen voor de ambtsdrager, zoals psychische klachten of ziekmelding"
            )
            fields["impacts"].help_text = _("Standaard niet: dit is persoonlijk.")
        if page.location_offered:
            if page.home_sensitive:
                self.fields["location"].label = _("Toch zetten waar het gebeurde")
                self.fields["location"].help_text = _(
                    "Let op: dit kan uw huisadres zijn. Wie de samenvatting leest, ziet het dan."
                )
        else:
            del self.fields["location"]
        if page.evidence:
            self.fields["evidence"].choices = [
                (evidence.pk, _evidence_choice_label(evidence)) for evidence in page.evidence
            ]
        else:
            del self.fields["evidence"]

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("facts", "evidence", "timeline", "messages")):
            raise ValidationError(
                _("Kies ten minste één onderdeel: wat er gebeurde, een bestand of de tijdlijn.")
            )
        return data

    def choices(self):
        """The cleaned choices (call after is_valid)."""
        data = self.cleaned_data
        return SummaryChoices(
            facts=data["facts"],
            location=data.get("location", False),
            evidence_ids=frozenset(data.get("evidence") or ()),
            timeline=data["timeline"],
            messages=data["messages"],
            views=data["views"],
            impacts=data["impacts"],
        )


def _evidence_choice_label(evidence) -> str:
    moment = timezone.localtime(evidence.uploaded_at)
    return gettext("%(name)s (%(kind)s, toegevoegd op %(moment)s)") % {
        "name": evidence.original_name,
        "kind": evidence.get_kind_display(),
        "moment": date_format(moment, "j F Y H:i"),
    }


class SummaryConsentForm(forms.Form):
    """Give or withdraw the consent that the desk makes the police summary."""

    consent = forms.ChoiceField(choices=[("give", "give"), ("withdraw", "withdraw")])

    def given(self) -> bool:
        return self.cleaned_data["consent"] == "give"


class AangifteForm(VersionedForm):
    """The aangifte track in one short form (officeholder and desk alike); each step shows
    why it matters (`AangifteStepText`, passed in as `texts`)."""

    prefix = "aangifte"

    wants_to_report = forms.BooleanField(label=_("Ik wil aangifte doen"), required=False)
    police_contacted = forms.BooleanField(
        label=_("Ik heb contact gehad met de politie"), required=False
    )
    police_contacted_on = forms.DateField(
        label=_("Wanneer had u contact met de politie? (mag leeg)"),
        widget=DateInput,
        required=False,
    )
    filed = forms.BooleanField(label=_("Aangifte is gedaan"), required=False)
    filed_on = forms.DateField(
        label=_("Datum van de aangifte (mag leeg)"), widget=DateInput, required=False
    )
    report_number = forms.CharField(
        label=_("Registratienummer van de aangifte (mag leeg)"),
        max_length=aangifte.REPORT_NUMBER_MAX,
        required=False,
    )
    vpt_asked = forms.BooleanField(label=_("Om de VPT-code gevraagd"), required=False)
    vpt_confirmed = forms.BooleanField(
        label=_("De politie heeft de VPT-code bevestigd"), required=False
    )
    domicilie = forms.BooleanField(
        label=_("Werkadres of adres van de advocaat opgegeven, niet het huisadres"),
        required=False,
    )
    employer_filed = forms.BooleanField(
        label=_("De werkgever deed de aangifte namens mij"), required=False
    )
    employer = forms.CharField(
        label=_("Wie deed de aangifte namens u? (mag leeg)"),
        max_length=aangifte.EMPLOYER_MAX,
        required=False,
        help_text=_("Bijvoorbeeld: de gemeente, de griffie of de provincie."),
    )
    outcome = forms.ChoiceField(
        label=_("Uitkomst"),
        choices=[("", _("Nog niet bekend"))] + list(AangifteOutcome.choices),
        required=False,
    )
    outcome_note = forms.CharField(
        label=_("Toelichting bij de uitkomst (mag leeg)"),
        max_length=aangifte.OUTCOME_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    # The field of each step whose help text is the step's "why it matters".
    STEP_FIELDS = {
        AangifteStep.WANTS_TO_REPORT: "wants_to_report",
        AangifteStep.POLICE_CONTACTED: "police_contacted",
        AangifteStep.FILED: "filed",
        AangifteStep.VPT_ASKED: "vpt_asked",
        AangifteStep.VPT_CONFIRMED: "vpt_confirmed",
        AangifteStep.DOMICILIE: "domicilie",
        AangifteStep.EMPLOYER_FILED: "employer_filed",
        AangifteStep.OUTCOME: "outcome",
    }

    def __init__(self, *args, texts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.apply_texts(texts or {})

    def apply_texts(self, texts) -> None:
        """Show each step's "why it matters" under its field."""
        for step, name in self.STEP_FIELDS.items():
            if texts.get(step):
                self.fields[name].help_text = texts[step]

    @classmethod
    def initial_from(cls, incident) -> dict:
        track = incident.aangifte_track
        return {
            "version": incident.version,
            **{k: getattr(track, k) for k in cls.base_fields if k != "version"},
        }

    def track(self) -> aangifte.AangifteTrack:
        data = self.cleaned_data
        return aangifte.AangifteTrack(
            **{
                name: data.get(name) or _field_empty(field)
                for name, field in self.fields.items()
                if name != "version"
            }
        )

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            for name, message in aangifte.track_problems(self.track().normalised()).items():
                self.add_error(name, message)
        return cleaned


def _field_empty(field):
    """The track's empty value for a form field: False, None or ""."""
    if isinstance(field, forms.BooleanField):
        return False
    if isinstance(field, forms.DateField):
        return None
    return ""
