"""Normalise perpetrator identifiers so that the same person is recognised across incidents.

"@Jan_Boos", "https://x.com/jan_boos?s=20" and "jan_boos" are one handle; "06 12345678" and
"+31 6 1234 5678" are one phone number; e-mail addresses compare without case.
"""

import re
from urllib.parse import parse_qs, urlsplit

from incidents.constants import IdentifierKind

_HANDLE_CHARS = re.compile(r"[^a-z0-9._-]")


def _handle_from_url(value: str) -> str:
    parts = urlsplit(value if "://" in value else f"https://{value}")
    if parts.path.rstrip("/").endswith("profile.php"):
        # facebook.com/profile.php?id=1000123 has no name, only a number.
        ids = parse_qs(parts.query).get("id")
        return ids[0] if ids else ""
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        # A bare site address ("https://x.com/") names nobody; the site name as a "handle"
        # would make unrelated incidents look like the same perpetrator.
        return ""
    first = segments[0]
    if first in {"user", "u", "c", "in"} and len(segments) > 1:  # reddit, linkedin, youtube
        first = segments[1]
    return first


def _looks_like_url(value: str) -> bool:
    return "://" in value or bool(re.match(r"^(www\.)?[a-z0-9-]+(\.[a-z]{2,})+/", value))


def normalise_handle(value: str) -> str:
    value = value.strip().lower()
    if _looks_like_url(value):
        value = _handle_from_url(value)
    value = value.lstrip("@")
    return _HANDLE_CHARS.sub("", value)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str, *, default_country_code: str = "31") -> str:
    """Return the number in international form (+31612345678), digits only after the plus."""
    value = value.strip().replace("(0)", "")
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        return f"+{digits}"
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    if digits.startswith("0"):
        return f"+{default_country_code}{digits[1:]}"
    return f"+{digits}" if len(digits) > 9 else digits


NORMALISERS = {
    IdentifierKind.HANDLE: normalise_handle,
    IdentifierKind.EMAIL: normalise_email,
    IdentifierKind.PHONE: normalise_phone,
}


def identifier_normalise(*, kind: str, value: str) -> str:
    return NORMALISERS[IdentifierKind(kind)](value)
