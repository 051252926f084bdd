"""What each kind of notification says. Text only: a reference and a link, never content.

Other apps choose the kind; this module words it, in the recipient's language.
"""

from django.utils.translation import gettext_lazy as _

SUBJECTS = {
    "incident_new": _("Nieuwe melding %(reference)s"),
    "incident_filed_for_you": _("Het meldpunt heeft melding %(reference)s voor u vastgelegd"),
    "incident_updated": _("Nieuwe informatie bij melding %(reference)s"),
    "message": _("Er is een nieuw bericht bij melding %(reference)s"),
    "status_changed": _("De status van melding %(reference)s is gewijzigd"),
    "incident_in_triage": _("Het meldpunt is bezig met melding %(reference)s"),
    "incident_closed": _("Melding %(reference)s is afgesloten"),
    "incident_reopened": _("Melding %(reference)s is weer in behandeling"),
    "escalation_to_support": _(
        "Melding %(reference)s is doorgegeven aan het Ondersteuningsteam Weerbaar Bestuur"
    ),
    "escalation_acknowledged": _("Het Ondersteuningsteam heeft melding %(reference)s opgepakt"),
    "escalation_closed": _("Het Ondersteuningsteam heeft het dossier van %(reference)s afgesloten"),
    "escalation_new": _("Nieuwe doorverwijzing %(reference)s voor het Ondersteuningsteam"),
    "escalation_returned": _("Melding %(reference)s is teruggegeven aan het meldpunt"),
    "triage_due_soon": _("Melding %(reference)s moet binnen 2 uur beoordeeld zijn"),
    "triage_overdue": _("Melding %(reference)s is nog niet beoordeeld en te laat"),
    # Follow-up (incidents.services.callbacks_notify_due): "bel terug op ..." is due.
    "callback_due": _("Tijd om terug te bellen bij melding %(reference)s"),
    "escalation_unacknowledged": _("Doorverwijzing %(reference)s is nog niet bevestigd"),
    # Reachability (portal.reachability): the reference of desk_unreachable is the desk's name.
    "desk_unreachable": _("Niemand leest nu de meldingen van %(reference)s"),
    "incident_moved": _("Melding %(reference)s is naar uw meldpunt doorgestuurd"),
    "incident_offered_back": _("U kunt melding %(reference)s terugnemen"),
    # A handler's account ended (portal.services.person_deactivate): the work is back.
    "incident_released": _("Melding %(reference)s heeft geen behandelaar meer"),
    "case_released": _("Dossier %(reference)s heeft geen casemanager meer"),
    # End of term (portal.services.term_reminders_send): the reference is the date, or for
    # the coordinator the person's name.
    "term_ending": _("Uw account stopt na %(reference)s"),
    "term_ending_coordinator": _("Het account van %(reference)s stopt binnenkort"),
    # Delegated administration: the reference is the person's name.
    "invitation_renewal": _("%(reference)s vraagt om een nieuwe uitnodiging"),
    "staff_joined_desk": _("%(reference)s is nu medewerker van uw meldpunt"),
}

BODY = _(
    "Er is iets nieuws in het Meldpunt Weerbaar Bestuur.\n\n%(subject)s\n\n"
    "Bekijk het in het portaal: %(url)s\n\n"
    "Om uw privacy te beschermen staat de inhoud niet in deze e-mail."
)


# "Was u dit?" notices about the person's own account (portal.services.security_notice_send):
# kind "security_<SecurityNotice>", no reference, a link to the profile.
SECURITY_KIND_PREFIX = "security_"
SECURITY_SUBJECTS = {
    "security_password_changed": _("Uw wachtwoord is gewijzigd"),
    "security_two_factor_off": _("Inloggen met een code is uitgezet"),
    "security_device_added": _("Er is een authenticator-app aan uw account toegevoegd"),
    "security_passkey_added": _("Er is een passkey aan uw account toegevoegd"),
    "security_passkey_removed": _("Er is een passkey van uw account verwijderd"),
    "security_second_factor_reset": _("Inloggen met een code is teruggezet door de beheerder"),
    "security_api_tokens_revoked": _("Uw API-sleutels zijn ingetrokken"),
    "security_account_linked": _("U logt nu in met het account van uw organisatie"),
    "security_account_unlinked": _(
        "Uw account is niet meer gekoppeld aan het account van uw organisatie"
    ),
}
SECURITY_BODY = _(
    "Er is iets veranderd aan de beveiliging van uw account bij het Meldpunt Weerbaar "
    "Bestuur.\n\n%(subject)s\n\n"
    "Was u dit? Dan hoeft u niets te doen.\n\n"
    "Was u dit niet? Log dan in, wijzig meteen uw wachtwoord en neem contact op met uw "
    "meldpunt. Andere apparaten zijn al uitgelogd.\n\n"
    "Uw profiel: %(url)s"
)
API_TOKENS_REVOKED_BODY = _(
    "Uw API-sleutels bij het Meldpunt Weerbaar Bestuur zijn ingetrokken, omdat het wachtwoord "
    "of het inloggen met een code van uw account is veranderd. Systemen die een sleutel "
    "gebruikten, krijgen nu geen toegang meer.\n\n"
    "Maak op uw profiel een nieuwe sleutel als u er een nodig hebt: %(url)s"
)

# Adding a passkey ends no session: say what to do instead.
PASSKEY_ADDED_BODY = _(
    "Er is een passkey aan uw account bij het Meldpunt Weerbaar Bestuur toegevoegd. Met een "
    "passkey logt u in met uw vingerafdruk, gezicht of pincode.\n\n"
    "Was u dit? Dan hoeft u niets te doen.\n\n"
    "Was u dit niet? Log dan in, verwijder de passkey op uw profiel, wijzig meteen uw "
    "wachtwoord en neem contact op met uw meldpunt.\n\n"
    "Uw profiel: %(url)s"
)


def notification_subject(*, kind: str, reference: str) -> str:
    if kind.startswith(SECURITY_KIND_PREFIX):
        return str(SECURITY_SUBJECTS.get(kind, _("Bericht over uw account")))
    template = SUBJECTS.get(kind, _("Bericht over %(reference)s"))
    return str(template) % {"reference": reference}


TERM_ENDING_BODY = _(
    "Uw termijn eindigt. Uw account bij het Meldpunt Weerbaar Bestuur stopt na "
    "%(reference)s.\n\n"
    "Wilt u uw meldingen bewaren? Log in en download uw gegevens via Mijn gegevens. "
    "Hebt u dan nog een open melding? Dan kunt u die blijven volgen tot hij klaar is.\n\n"
    "Het portaal: %(url)s"
)
TERM_ENDING_COORDINATOR_BODY = _(
    "Het account van %(reference)s stopt binnenkort, aan het einde van de termijn.\n\n"
    "Is de termijn verlengd? Pas dan het einde van de termijn aan.\n\n"
    "Het portaal: %(url)s"
)


def notification_body(*, kind: str, reference: str, url: str) -> str:
    subject = notification_subject(kind=kind, reference=reference)
    if kind == "term_ending":
        return str(TERM_ENDING_BODY) % {"reference": reference, "url": url}
    if kind == "term_ending_coordinator":
        return str(TERM_ENDING_COORDINATOR_BODY) % {"reference": reference, "url": url}
    if kind == "security_api_tokens_revoked":
        return str(API_TOKENS_REVOKED_BODY) % {"url": url}
    if kind == "security_passkey_added":
        return str(PASSKEY_ADDED_BODY) % {"url": url}
    if kind.startswith(SECURITY_KIND_PREFIX):
        return str(SECURITY_BODY) % {"subject": subject, "url": url}
    return str(BODY) % {"subject": subject, "url": url}
