"""Changes from a web page: the form that carries the version it showed, and the one way a
page runs a service and answers.

Every page that changes something (the desk's incident page, the Ondersteuningsteam's case page,
the officeholder's completion form) posts a form with the object's `version`. `change_post`
validates it, runs the service, and then either redirects with a success message, or renders
the page again with the typed text kept and the refusal shown. After a stale version the form
carries the current version, so that sending the same text again works (on purpose: the person
has now seen the new situation).
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from portal.errors import DomainError, StaleVersion

AGAIN = _("Open de pagina opnieuw en probeer het nog eens.")


class VersionedForm(forms.Form):
    """A change to an object: sends back the version the person saw (stale check)."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": AGAIN, "invalid": AGAIN, "min_value": AGAIN},
    )

    def refresh_version(self, version: int) -> None:
        """After a stale save: keep every typed value, but let the next save go through."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = version


def change_post(
    request,
    *,
    form: forms.Form,
    run: Callable[[dict], Any],
    success: str | Callable[[Any], str],
    redirect_to: str,
    page: Callable[[forms.Form], Any],
    current_version: Callable[[], int] | None = None,
):
    """Validate `form`, call `run(cleaned_data)` and redirect to `redirect_to` with `success`.

    On invalid input or a refusal (any DomainError) `page(form)` renders the page again with
    the form as posted; after a stale version the form gets `current_version()` first.
    """
    if form.is_valid():
        try:
            outcome = run(form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
            if (
                isinstance(error, StaleVersion)
                and current_version
                and hasattr(form, "refresh_version")
            ):
                form.refresh_version(current_version())
        else:
            messages.success(request, success(outcome) if callable(success) else success)
            return redirect(redirect_to)
    return page(form)
