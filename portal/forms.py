from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
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
