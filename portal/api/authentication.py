from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from portal.access import second_factor_missing
from portal.services import api_token_for_key


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` with a personal token made on the profile page.

    Refused once revoked, expired, or (staff) unused for longer than the staff idle timeout:
    see `portal.services.api_token_is_active`.
    """

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Ongeldige API-sleutel."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Ongeldige API-sleutel.")) from None
        token = api_token_for_key(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("Ongeldige, verlopen of ingetrokken API-sleutel.")
            )
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token header in the OpenAPI schema."""

    target_class = "portal.api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal API token from your profile page: `Token <key>`.",
        }


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The browser session (with CSRF), refused for staff who did not enter their second factor.

    Refused with 403 in the API's JSON error shape; personal tokens are not affected (staff
    can only make them from a verified session, on the profile page).
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and second_factor_missing(request._request):
            raise exceptions.PermissionDenied(
                _("Log eerst in met uw tweede stap (de code uit uw app)."), code="otp_required"
            )
        return result


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    """Documents the session cookie in the OpenAPI schema, as for DRF's session class."""

    target_class = "portal.api.authentication.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
