"""What each kind of notification says. Text only: a reference and a link, never content.

Other apps choose the kind; this module words it, in the recipient's language.
"""

from django.utils.translation import gettext_lazy as _

SUBJECTS = {
    "incident_new": _("Nieuwe melding %(reference)s"),
    "incident_filed_for_you": _("Het meldpunt heeft melding %(reference)s voor u vastgelegd"),
    "incident_updated": _("Nieuwe informatie bij melding %(reference)s"),
    "message": _("Nieuw bericht bij melding %(reference)s"),
    "status_changed": _("De status van melding %(reference)s is gewijzigd"),
    "escalation_new": _("Nieuwe doorverwijzing %(reference)s voor het Ondersteuningsteam"),
    "escalation_returned": _("Melding %(reference)s is teruggegeven aan het meldpunt"),
    "triage_due_soon": _("Melding %(reference)s moet binnen 2 uur beoordeeld zijn"),
    "triage_overdue": _("Melding %(reference)s is nog niet beoordeeld en te laat"),
    "escalation_unacknowledged": _("Doorverwijzing %(reference)s is nog niet bevestigd"),
}

BODY = _(
    "Er is iets nieuws in het Meldpunt Weerbaar Bestuur.\n\n%(subject)s\n\n"
    "Bekijk het in het portaal: %(url)s\n\n"
    "Om uw privacy te beschermen staat de inhoud niet in deze e-mail."
)


def notification_subject(*, kind: str, reference: str) -> str:
    template = SUBJECTS.get(kind, _("Bericht over %(reference)s"))
    return str(template) % {"reference": reference}


def notification_body(*, kind: str, reference: str, url: str) -> str:
    return str(BODY) % {"subject": notification_subject(kind=kind, reference=reference), "url": url}
