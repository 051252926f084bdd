"""Errors that services raise. Each carries a message that can be shown to the user as is."""

from django.utils.translation import gettext_lazy as _


class IncidentError(Exception):
    default_message = _("Deze actie kan niet worden uitgevoerd.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class TransitionNotAllowed(IncidentError):
    default_message = _("Deze stap is niet mogelijk in de huidige status van de melding.")


class StaleVersion(IncidentError):
    default_message = _(
        "Deze melding is intussen door iemand anders gewijzigd. Bekijk de nieuwe situatie "
        "en probeer het opnieuw. Uw tekst staat nog in het formulier."
    )


class ReasonRequired(IncidentError):
    default_message = _("Vul een reden of uitkomst in.")


class EvidenceLimitReached(IncidentError):
    default_message = _("Bij een melding passen ten hoogste 10 bestanden.")
