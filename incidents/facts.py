"""The rules of an incident's facts, in one place for the web forms, the API and the services.

Forms and serializers only shape input (a text box of lines, a JSON list); what counts as a
valid fact, and which facts contradict each other, is decided here. Each check raises Django's
`ValidationError` with a message for the person who typed it, so the forms show it next to the
field and the API lists it under that field's name.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.constants import ONLINE_CHANNELS, SupportWish
from portal.phones import phone_clean

# What a full report must answer (a quick report asks only what happened and when).
FULL_REPORT_REQUIRED = ("reporter_severity", "support_wish")


def date_check(value) -> None:
    """A date of an incident is today or earlier."""
    if value and value > timezone.localdate():
        raise ValidationError(_("Deze datum ligt in de toekomst. Kies vandaag of een eerdere dag."))


def links_clean(links: Iterable[str]) -> str:
    """Web links to the messages, one per line (http or https; a bare domain is allowed)."""
    validate = URLValidator(schemes=["http", "https"])
    cleaned = [link.strip() for link in links if link.strip()]
    for link in cleaned:
        try:
            validate(link if "://" in link else f"https://{link}")
        except ValidationError:
            raise ValidationError(
                _("%(link)s is geen geldige link. Zet één link per regel.") % {"link": link}
            ) from None
    return "\n".join(cleaned)


def emails_check(addresses: Iterable[str]) -> None:
    validate = EmailValidator()
    for address in addresses:
        try:
            validate(address)
        except ValidationError:
            raise ValidationError(
                _("%(value)s is geen geldig e-mailadres.") % {"value": address}
            ) from None


def phones_check(numbers: Iterable[str]) -> None:
    for number in numbers:
        digits = [c for c in number if c.isdigit()]
        if len(digits) < 6 or any(c not in "0123456789+-() ." for c in number):
            raise ValidationError(_("%(value)s is geen geldig telefoonnummer.") % {"value": number})


def contact_phone_clean(value: str, *, caribbean: bool = False) -> str:
    """A phone number to call the officeholder on, in international form (or empty)."""
    return phone_clean(value, caribbean=caribbean)


def with_contact_wish(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Yes to "Voelt u zich onveilig of wilt u gebeld worden?" is a wish for contact: without
    another wish it becomes contact with the desk (a wish for the team's support stays)."""
    facts = dict(facts)
    if facts.get("unsafe_or_call") is True and facts.get("support_wish") in (
        None,
        "",
        SupportWish.REGISTRATION_ONLY,
    ):
        facts["support_wish"] = SupportWish.CONTACT_WITH_DESK
    return facts


def facts_problems(facts: Mapping[str, Any]) -> dict[str, str]:
    """Facts that contradict each other: {field: message}. Empty when the facts agree.

    Not knowing who did it and knowing their account, number or relation do not contradict
    each other: an anonymous account is still an account the desk can recognise.
    """
    problems = {}
    channel = facts.get("channel")
    if channel and channel not in ONLINE_CHANNELS and (facts.get("platform") or facts.get("links")):
        problems["platform"] = _(
            "Platform en links horen bij sociale media of een ander online kanaal."
        )
    return problems
