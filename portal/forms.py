from datetime import date

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Django's login form with a message that never tells whether an account exists."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "De combinatie van gebruikersnaam en wachtwoord klopt niet. "
            "Controleer ze en probeer het opnieuw."
        ),
        "inactive": _(
            "De combinatie van gebruikersnaam en wachtwoord klopt niet. "
            "Controleer ze en probeer het opnieuw."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Gebruikersnaam")
        self.fields["password"].label = _("Wachtwoord")


class ContactForm(forms.Form):
    """How to reach me: shown to the desk and the Ondersteuningsteam on my incidents."""

    phone = forms.CharField(
        label=_("Telefoonnummer (mag leeg)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("Bijvoorbeeld 06 12345678. Op Bonaire, Sint Eustatius en Saba: +599 416 1234."),
    )
    contact_preference = forms.CharField(
        label=_("Hoe en wanneer wilt u contact? (mag leeg)"),
        max_length=200,
        required=False,
        help_text=_("Bijvoorbeeld: liever bellen, na 17.00 uur; of alleen per e-mail."),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Naam van de sleutel"),
        max_length=100,
        help_text=_("Bijvoorbeeld de naam van het systeem dat de sleutel gebruikt."),
    )


class SecondFactorCodeForm(forms.Form):
    """A six-digit code from the authenticator app, or a backup code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("De 6 cijfers uit uw app, of een van uw reservecodes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().replace(" ", "")


class SecondFactorOffForm(forms.Form):
    """Switching the code off: the password and a current code, so a password alone cannot."""

    password = forms.CharField(
        label=_("Wachtwoord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("De 6 cijfers uit uw app, of een van uw reservecodes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().replace(" ", "")


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form with a Dutch label."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mailadres")


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's password change form with Dutch labels."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Huidig wachtwoord")
        self.fields["new_password1"].label = _("Nieuw wachtwoord")
        self.fields["new_password2"].label = _("Herhaal het nieuwe wachtwoord")


# --- Delegated administration (a coordinator's "Beheer" pages) ---------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _officeholder_functions():
    from portal.constants import OfficeholderFunction

    return [("", _("Kies een functie")), *OfficeholderFunction.choices]


class IdentityLinkForm(forms.Form):
    """A coordinator links a colleague to their account at the desk's identity provider."""

    subject = forms.CharField(
        label=_("Inlog-ID bij de organisatie"),
        max_length=255,
        help_text=_(
            "Het vaste ID van het account van deze persoon bij de inlogdienst (de 'sub'), "
            "bijvoorbeeld de object-ID in Entra ID. Niet het e-mailadres."
        ),
    )


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=_("Zoek op naam of e-mailadres"), max_length=100, required=False)


class PersonInviteForm(forms.Form):
    """Invite one person: an officeholder (with organisation and function) or a colleague."""

    KIND_OFFICEHOLDER = "officeholder"
    KIND_REGISTRAR = "registrar"

    kind = forms.ChoiceField(
        label=_("Wie nodigt u uit?"),
        choices=[
            (KIND_OFFICEHOLDER, _("Een ambtsdrager")),
            (KIND_REGISTRAR, _("Een collega van het meldpunt")),
        ],
        widget=forms.RadioSelect,
        initial=KIND_OFFICEHOLDER,
    )
    first_name = forms.CharField(label=_("Voornaam"), max_length=150)
    last_name = forms.CharField(label=_("Achternaam"), max_length=150)
    email = forms.EmailField(label=_("E-mailadres"), help_text=_("Hier gaat de uitnodiging heen."))
    organisation = forms.ModelChoiceField(
        label=_("Organisatie (voor een ambtsdrager)"), queryset=None, required=False
    )
    function = forms.ChoiceField(
        label=_("Functie (voor een ambtsdrager)"), choices=_officeholder_functions, required=False
    )
    term_start = forms.DateField(
        label=_("Begin termijn (mag leeg)"), required=False, widget=DATE_INPUT
    )
    term_end = forms.DateField(
        label=_("Einde termijn (mag leeg)"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Na deze dag stopt het account."),
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean(self):
        data = super().clean()
        if data.get("kind") == self.KIND_OFFICEHOLDER:
            if not data.get("organisation"):
                self.add_error("organisation", _("Kies de organisatie van de ambtsdrager."))
            if not data.get("function"):
                self.add_error("function", _("Kies de functie van de ambtsdrager."))
        return data


class PersonChangeForm(forms.Form):
    """Change an officeholder's organisation and function, or anyone's term."""

    organisation = forms.ModelChoiceField(label=_("Organisatie"), queryset=None, required=False)
    function = forms.ChoiceField(
        label=_("Functie"), choices=_officeholder_functions, required=False
    )
    term_start = forms.DateField(
        label=_("Begin termijn (mag leeg)"), required=False, widget=DATE_INPUT
    )
    term_end = forms.DateField(
        label=_("Einde termijn (mag leeg)"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Na deze dag stopt het account."),
    )

    def __init__(self, *args, organisations, officeholder: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if officeholder:
            self.fields["organisation"].queryset = organisations
            self.fields["organisation"].required = True
            self.fields["function"].required = True
        else:
            del self.fields["organisation"]
            del self.fields["function"]


class OfficeholderImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV-bestand met ambtsdragers"),
        help_text=_(
            "Eerste regel: first_name,last_name,email,function,organisation_code,term_start,"
            "term_end"
        ),
    )


class InvitationAcceptForm(auth_forms.SetPasswordForm):
    """Choose a password from an invitation: Django's validators, Dutch labels."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Kies een wachtwoord")
        self.fields["new_password2"].label = _("Herhaal het wachtwoord")


class FilterForm(forms.Form):
    """The GET filters of a list (the desk's queue, the support inbox). Invalid values are
    reported and ignored, never a 500."""

    def filters(self) -> dict:
        """The valid filters only: an invalid one is left out (and shown as an error)."""
        self.is_valid()
        return {key: value for key, value in self.cleaned_data.items() if key not in self.errors}

    def query_string(self, *, without: tuple[str, ...] = ()) -> str:
        """The valid, filled-in filters as a query string (what a saved view keeps), leaving
        out the fields named in `without`."""
        if not self.is_bound:
            return ""
        query = QueryDict(mutable=True)
        for key, value in self.filters().items():
            if value not in (None, "", False) and key not in without:
                query[key] = self.data.get(key)
        return query.urlencode()


# Dates far outside the portal's life would overflow in time-zone arithmetic.
_ABSENCE_DATES = [
    MinValueValidator(date(2000, 1, 1), message=_("Kies een datum na 1 januari 2000.")),
    MaxValueValidator(date(2999, 12, 31), message=_("Kies een datum vóór het jaar 3000.")),
]


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AbsenceForm(forms.Form):
    """An absence, for the desk and the Ondersteuningsteam alike: who covers, from and until
    when (both days included). `colleagues` are the people one may name (policy rule
    `name_as_cover`); `words` say what is covered in this workspace
    (`portal.views_absence.ABSENCE_WORDS`)."""

    prefix = "absence"

    cover = forms.ModelChoiceField(queryset=None)
    absent_from = forms.DateField(
        label=_("Afwezig vanaf (leeg: nu)"),
        widget=_DateInput,
        required=False,
        validators=_ABSENCE_DATES,
    )
    absent_until = forms.DateField(
        label=_("Afwezig tot en met (leeg: tot u het uitzet)"),
        widget=_DateInput,
        required=False,
        validators=_ABSENCE_DATES,
    )

    def __init__(self, *args, colleagues, words, **kwargs):
        super().__init__(*args, **kwargs)
        cover = self.fields["cover"]
        cover.queryset = colleagues
        cover.label = words.cover_label
        cover.help_text = words.cover_help
        cover.error_messages = {
            **cover.error_messages,
            "required": words.cover_required,
            "invalid_choice": words.cover_invalid,
        }

    def clean(self):
        data = super().clean()
        start, end = data.get("absent_from"), data.get("absent_until")
        if start and end and end < start:
            self.add_error(
                "absent_until", _("De laatste dag van uw afwezigheid ligt vóór de eerste dag.")
            )
        return data
