"""Refusals of the Ondersteuningsteam's domain (`portal.errors.DomainError` subclasses)."""

from django.utils.translation import gettext_lazy as _

from portal import errors


class SupportError(errors.DomainError):
    pass


class CaseStepNotAllowed(SupportError, errors.NotAllowed):
    code = "transition_not_allowed"
    default_message = _("Deze stap is niet mogelijk in de huidige status van het dossier.")


class CaseStale(SupportError, errors.StaleVersion):
    default_message = _(
        "Dit dossier is intussen door iemand anders gewijzigd. Bekijk de nieuwe situatie en "
        "probeer het opnieuw. Uw tekst staat nog in het formulier."
    )


class CaseInputRequired(SupportError, errors.InputRequired):
    code = "reason_required"


class CaseOpenActions(SupportError):
    code = "open_actions"
    default_message = _(
        "Er staan nog acties open in het plan. Kijk of ze klaar zijn. Wilt u toch afsluiten? "
        "Zet dan een vinkje bij 'Toch afsluiten'. De open acties vervallen dan."
    )
