"""The JSON endpoints of the passkey ceremonies (django-otp-webauthn's views, with portal's rules).

- Adding a passkey needs a logged-in session that passed every door (the second-factor step
  included: these URLs are not open before it) and sends the "was u dit?" e-mail.
- Logging in with a passkey alone is for officeholders (`passkey_login_allowed_without_password`);
  staff use a passkey in the second-factor step, after their password.
- A passkey login does what the password login does afterwards: unfinished authenticator
  setups are removed and the person's language is switched on.
- Nothing is offered where passkeys cannot work (an IP address, another host name).
"""

from django.contrib import messages
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from portal import services, two_factor
from portal.access import SECOND_FACTOR_PENDING_SESSION_KEY
from portal.passkeys import passkey_login_allowed_without_password, passkeys_unavailable_reason


class PasskeysUnavailable(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "passkeys_unavailable"


class PasswordFirst(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "password_first"
    default_detail = _(
        "Medewerkers loggen eerst in met hun wachtwoord. Daarna bevestigen zij met hun passkey."
    )


def _refuse_when_unavailable(request) -> None:
    reason = passkeys_unavailable_reason(request)
    if reason:
        raise PasskeysUnavailable(detail=reason)


class PasskeyRegistrationBeginView(BeginCredentialRegistrationView):
    def check_can_register(self):
        _refuse_when_unavailable(self.request)


class PasskeyRegistrationCompleteView(CompleteCredentialRegistrationView):
    def check_can_register(self):
        _refuse_when_unavailable(self.request)

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        services.passkey_added(user=self.request.user)
        if passkey_login_allowed_without_password(self.request.user):
            text = _("De passkey is toegevoegd. Voortaan logt u daarmee in, zonder wachtwoord.")
        else:
            text = _("De passkey is toegevoegd. Na uw wachtwoord kunt u daarmee bevestigen.")
        messages.success(self.request, text)
        return response


class PasskeyAuthenticationBeginView(BeginCredentialAuthenticationView):
    def check_can_authenticate(self):
        _refuse_when_unavailable(self.request)
        super().check_can_authenticate()


class PasskeyAuthenticationCompleteView(CompleteCredentialAuthenticationView):
    def check_can_authenticate(self):
        _refuse_when_unavailable(self.request)
        super().check_can_authenticate()

    def check_device_usable(self, device):
        super().check_device_usable(device)
        if not self.request.user.is_authenticated and not passkey_login_allowed_without_password(
            device.user
        ):
            raise PasswordFirst()

    def complete_auth(self, device):
        logging_in = not self.request.user.is_authenticated
        super().complete_auth(device)
        self.request.session.pop(SECOND_FACTOR_PENDING_SESSION_KEY, None)
        if logging_in:
            two_factor.unconfirmed_devices_remove(user=device.user)

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        language = self.request.user.preferred_language
        translation.activate(language)
        response.set_cookie(
            "django_language", language, samesite="Lax", secure=self.request.is_secure()
        )
        return response
