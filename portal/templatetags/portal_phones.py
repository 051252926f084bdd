"""`{{ text|tel_link }}`: the phone number in a text as a `tel:` link in international form."""

from django import template
from django.utils.html import format_html

from portal.phones import phone_display, phone_in_text, phone_international

register = template.Library()


@register.filter
def tel_link(text, caribbean=False):
    """ "070 - 123 45 67 (dag en nacht)" becomes a link to tel:+31701234567 that reads
    "+31 70 123 45 67", with the rest of the text as it was. A text without a number stays
    text (escaped)."""
    found = phone_in_text(str(text or ""))
    if found is None:
        return format_html("{}", text or "")
    before, written, after = found
    number = phone_international(written, caribbean=bool(caribbean))
    return format_html(
        '{}<a href="tel:{}" class="tel-link">{}</a>{}', before, number, phone_display(number), after
    )
