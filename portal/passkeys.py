"""Passkeys (WebAuthn), through django-otp-webauthn: its credential model is a django-otp device.

- Officeholders add passkeys on their profile and log in with one alone (no password):
  the authenticator checks a fingerprint, face or PIN (user verification is required when
  nobody is logged in yet), so a passkey login counts as a verified second factor.
- Staff may add passkeys too, but only use one as their second factor, after their password
  (`passkey_login_allowed_without_password`): a lost, unlocked phone alone never opens
  a staff account.
- The relying party is the host of `PORTAL_BASE_URL`. WebAuthn refuses an IP address as
  relying party, and a browser refuses a relying party other than the address it shows, so
  passkeys are offered only when that host is a name and the page was opened on it
  (`passkeys_unavailable_reason`).

Writes (a passkey removed by its owner or by the administrator) are in `portal.services`;
the JSON ceremony endpoints are `portal.views_passkeys`.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from portal.access import user_must_use_second_factor


def relying_party_id() -> str:
    """The WebAuthn relying party ID: the host name of PORTAL_BASE_URL, without its port."""
    return (urlsplit(settings.PORTAL_BASE_URL).hostname or "").lower()


def relying_party_id_for_request(request) -> str:
    """OTP_WEBAUTHN_RP_ID_CALLABLE: the same ID for every request."""
    return relying_party_id()


def relying_party_origin() -> str:
    """The one origin a passkey ceremony may come from: PORTAL_BASE_URL's scheme, host, port."""
    parts = urlsplit(settings.PORTAL_BASE_URL)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def passkeys_unavailable_reason(request) -> str:
    """Why passkeys cannot work on this page ("" when they can), in a short sentence."""
    rp_id = relying_party_id()
    if not rp_id or _is_ip_address(rp_id):
        return _(
            "Inloggen met een passkey kan hier niet: het portaal draait op een IP-adres. "
            "Passkeys werken alleen op een adres met een naam."
        )
    if request is not None and _host_and_port(request.get_host()) != _host_and_port(
        urlsplit(settings.PORTAL_BASE_URL).netloc
    ):
        return _("Passkeys werken alleen op het adres %(url)s. Open het portaal via dat adres.") % {
            "url": settings.PORTAL_BASE_URL
        }
    return ""


def _host_and_port(netloc: str) -> str:
    netloc = netloc.lower()
    for default_port in (":80", ":443"):
        netloc = netloc.removesuffix(default_port)
    return netloc


def passkey_login_allowed_without_password(user) -> bool:
    """Officeholders may log in with a passkey alone; staff use it after their password."""
    return bool(user.is_active) and not user_must_use_second_factor(user)


class PortalWebAuthnHelper(WebAuthnHelper):
    """django-otp-webauthn's helper with the relying party taken from PORTAL_BASE_URL."""

    def get_relying_party_domain(self) -> str:
        return relying_party_id()

    def get_relying_party_name(self) -> str:
        return settings.OTP_WEBAUTHN_RP_NAME

    def get_allowed_origins(self) -> list[str]:
        return [relying_party_origin()]

    def create_credential(self, user, response, parsed_credential, original_data):
        device = super().create_credential(user, response, parsed_credential, original_data)
        device.name = passkey_default_name(
            user=user, user_agent=self.request.headers.get("User-Agent", "")
        )
        return device


# The platform named in a new passkey's name, so that its owner recognises it in the list.
_PLATFORMS = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Macintosh", "Mac"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


def passkey_default_name(*, user, user_agent: str) -> str:
    """ "Passkey 2 (Android)": a number and the platform it was added on."""
    number = WebAuthnCredential.objects.filter(user=user).count() + 1
    platform = next((name for marker, name in _PLATFORMS if marker in user_agent), "")
    return f"Passkey {number} ({platform})" if platform else f"Passkey {number}"


@dataclass(frozen=True)
class PasskeyRow:
    """A passkey as its owner sees it on the profile page."""

    pk: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    synced: bool


def passkeys_for(*, user) -> list[PasskeyRow]:
    """The person's passkeys, newest first (one query)."""
    return [
        PasskeyRow(
            pk=row.pk,
            name=row.name,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            synced=row.backup_state,
        )
        for row in WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by(
            "-created_at", "-pk"
        )
    ]


def user_has_passkey(user) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
