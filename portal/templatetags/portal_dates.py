"""Dates as Dutch government sites write them: "2 dec. 2026", "2 dec. 2026, 09:30".

Django's own month abbreviations read "dec" and "Okt" in Dutch; this filter uses the usual
Dutch ones (jan., feb., mrt., ..., mei, ...) and the English ones in English, in the viewer's
time zone.
"""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.translation import pgettext_lazy

register = template.Library()

MONTHS = (
    pgettext_lazy("short month", "jan."),
    pgettext_lazy("short month", "feb."),
    pgettext_lazy("short month", "mrt."),
    pgettext_lazy("short month", "apr."),
    pgettext_lazy("short month", "mei"),
    pgettext_lazy("short month", "jun."),
    pgettext_lazy("short month", "jul."),
    pgettext_lazy("short month", "aug."),
    pgettext_lazy("short month", "sep."),
    pgettext_lazy("short month", "okt."),
    pgettext_lazy("short month", "nov."),
    pgettext_lazy("short month", "dec."),
)


@register.filter
def short_date(value, with_time=False):
    """ "2 dec. 2026"; with `short_date:True` and a datetime, "2 dec. 2026, 09:30"."""
    if not isinstance(value, date):
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    text = f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    if with_time and isinstance(value, datetime):
        text += f", {value:%H:%M}"
    return text
