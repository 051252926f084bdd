"""The one error type of the portal's services.

A service refuses a change by raising a `DomainError`: a stable `code`, the HTTP status an API
answers with, and a translated message that a page shows as is. Each app subclasses it for its
own refusals (`incidents.errors`, `support.errors`); the edges never look at the class, only at
these three attributes (the API's error handler maps them, pages show `message`).
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "invalid"
    http_status = 400
    default_message = _("Deze actie kan niet worden uitgevoerd.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotAllowed(DomainError):
    """The person may not do this to this object now (its status, or who they are)."""

    code = "not_allowed"
    http_status = 409
    default_message = _("Deze stap is nu niet mogelijk.")


class StaleVersion(DomainError):
    """The object changed since the person looked at it: the change is refused as a whole."""

    code = "stale_version"
    http_status = 409
    default_message = _(
        "Dit is intussen door iemand anders gewijzigd. Bekijk de nieuwe situatie en probeer "
        "het opnieuw. Uw tekst staat nog in het formulier."
    )


class InputRequired(DomainError):
    """Something the step needs is missing (a reason, an outcome, a choice)."""

    code = "input_required"
    http_status = 400
    default_message = _("Vul in wat nodig is voor deze stap.")


class LimitReached(DomainError):
    """A limit that protects the portal or other people (too many changes, too many files)."""

    code = "limit_reached"
    http_status = 429
    default_message = _("Dit kan nu niet vaker. Probeer het later opnieuw.")
