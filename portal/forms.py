from django import forms
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


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Naam van de sleutel"),
        max_length=100,
        help_text=_("Bijvoorbeeld de naam van het systeem dat de sleutel gebruikt."),
    )
