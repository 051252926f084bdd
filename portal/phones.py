"""Phone numbers in international form, so that they work as `tel:` links from anywhere.

Officeholders on Bonaire, Sint Eustatius and Saba call the desks in the Netherlands, and the
desk calls them: a number written as "06 ..." or "070 ..." does not work from the Caribbean.
Numbers are stored and shown as E.164 ("+31612345678"); a local Caribbean number of seven
digits gets +599.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What people type between the digits.
_SEPARATORS = re.compile(r"[\s\-.()/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# The first phone number in a free text such as "070 - 123 45 67 (dag en nacht)".
_NUMBER_IN_TEXT = re.compile(r"(\+|00|0)[\d][\d\s\-.()/]{5,}\d")

NETHERLANDS = "+31"
CARIBBEAN_NETHERLANDS = "+599"


def phone_international(value: str, *, caribbean: bool = False) -> str | None:
    """`value` as E.164, or None when it is not a phone number."""
    digits = _SEPARATORS.sub("", value or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = NETHERLANDS + digits[1:]
    elif caribbean and re.fullmatch(r"\d{7}", digits):
        digits = CARIBBEAN_NETHERLANDS + digits
    return digits if _E164.match(digits) else None


def phone_clean(value: str, *, caribbean: bool = False) -> str:
    """A number typed by a person, in international form; "" for nothing typed.

    Raises ValidationError (Dutch) when it is not a phone number."""
    if not (value or "").strip():
        return ""
    number = phone_international(value, caribbean=caribbean)
    if number is None:
        raise ValidationError(
            _("Dit is geen telefoonnummer. Schrijf het zo: 06 12345678 of +599 416 1234.")
        )
    return number


def phone_in_text(text: str) -> tuple[str, str, str] | None:
    """(before, number as written, after) for the first phone number in `text`, or None."""
    match = _NUMBER_IN_TEXT.search(text or "")
    if match is None or phone_international(match.group(0)) is None:
        return None
    return text[: match.start()], match.group(0), text[match.end() :]


# Dutch area codes of two digits (after the 0); all others have three.
_TWO_DIGIT_AREAS = frozenset(
    "10 13 15 20 23 24 26 30 33 35 36 38 40 43 45 46 50 53 55 58 70 71 72 73 74 75 76 77 78 79 "
    "85 88".split()
)


def phone_display(number: str) -> str:
    """E.164 in readable groups that still dial: "+31 70 1234567", "+31 6 12345678",
    "+599 416 1234"."""
    if number.startswith(CARIBBEAN_NETHERLANDS):
        rest = number[len(CARIBBEAN_NETHERLANDS) :]
        return f"{CARIBBEAN_NETHERLANDS} {rest[:3]} {rest[3:]}"
    if number.startswith(NETHERLANDS):
        rest = number[len(NETHERLANDS) :]
        area = 1 if rest.startswith("6") else 2 if rest[:2] in _TWO_DIGIT_AREAS else 3
        return f"{NETHERLANDS} {rest[:area]} {rest[area:]}"
    return number
