from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from portal.models import ApiToken
from portal.services import api_token_hash, api_token_touch


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` with a personal token made on the profile page."""

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
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=api_token_hash(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Ongeldige of ingetrokken API-sleutel."))
        api_token_touch(token=token)
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
