"""Refusals of the incidents domain: `portal.errors.DomainError` with codes of their own.

Each carries a message that a page can show as is; the API maps `code` and `http_status`.
"""

from django.utils.translation import gettext_lazy as _

from portal import errors


class IncidentError(errors.DomainError):
    pass


class TransitionNotAllowed(IncidentError, errors.NotAllowed):
    code = "transition_not_allowed"
    default_message = _("Deze stap is niet mogelijk in de huidige status van de melding.")


class StaleVersion(IncidentError, errors.StaleVersion):
    default_message = _(
        "Deze melding is intussen door iemand anders gewijzigd. Bekijk de nieuwe situatie "
        "en probeer het opnieuw. Uw tekst staat nog in het formulier."
    )


class ReasonRequired(IncidentError, errors.InputRequired):
    code = "reason_required"
    default_message = _("Vul een reden of uitkomst in.")


class FactsInvalid(IncidentError):
    """Facts that contradict each other; `fields` says which and why."""

    default_message = _("Niet alle gegevens zijn goed ingevuld.")

    def __init__(self, fields: dict[str, str]):
        super().__init__()
        self.fields = fields


class EvidenceLimitReached(IncidentError, errors.LimitReached):
    http_status = 400
    default_message = _("Bij een melding passen ten hoogste 10 bestanden.")


class IdentifierChangesLimited(IncidentError, errors.LimitReached):
    default_message = _(
        "De kenmerken van de dader zijn vandaag al vaak gewijzigd. Probeer het morgen opnieuw, "
        "of stuur het meldpunt een bericht."
    )


class EvidenceNotReady(IncidentError, errors.NotAllowed):
    """The file cannot be downloaded (yet): it is being cleaned, or cleaning failed."""

    code = "evidence_not_ready"
    default_message = _(
        "Dit bestand wordt nog verwerkt: wij halen verborgen gegevens weg, zoals de plaats. "
        "Dat duurt meestal een paar minuten. Daarna kunt u het downloaden."
    )
    failed_message = _(
        "Dit bestand kon niet worden verwerkt en is niet bewaard. U kunt het niet downloaden. "
        "Voeg het opnieuw toe, of vraag het meldpunt om hulp."
    )


class SavedViewsLimited(IncidentError, errors.LimitReached):
    default_message = _(
        "U hebt al 20 opgeslagen overzichten. Verwijder er eerst een dat u niet meer gebruikt."
    )
