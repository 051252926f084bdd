"""Absence cover for every workspace that has it: the desk (on its queue page) and the
Ondersteuningsteam (on a page of its own). A person marks themselves absent and names a
colleague (policy rules `set_absence` and `name_as_cover`); while they are away, their work
shows in that colleague's own list ("Mijn open meldingen"; "Aan mij" and "Mijn acties").

The workspace's view functions check the workspace and say where the form lives; these
helpers do the rest the same way for both. Only the words differ: what is covered.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.errors import DomainError
from portal.forms import AbsenceForm
from portal.policies import Workspace
from portal.selectors import colleagues_to_cover, covered_colleagues_for
from portal.services import absence_set


@dataclass(frozen=True)
class AbsenceWords:
    """What the absence block says in one workspace (lazy, translated when shown)."""

    url_name: str  # where the absence form is posted
    cover_label: object
    cover_help: object
    cover_required: object
    cover_invalid: object
    open_form: object  # the summary that opens the form
    nobody: object  # when there is no colleague to name
    covering: object  # %(names)s: whom the person covers now
    absent_now: object  # %(name)s: the cover
    absent_planned: object  # %(name)s: the cover
    saved: object  # %(name)s: the cover
    back: object


ABSENCE_WORDS = {
    Workspace.DESK: AbsenceWords(
        url_name="desk:absence",
        cover_label=_("Wie neemt uw meldingen waar?"),
        cover_help=_(
            "Een collega van uw meldpunt. Uw open meldingen staan dan ook bij hem of haar."
        ),
        cover_required=_("Kies een collega die uw meldingen waarneemt."),
        cover_invalid=_("Kies een collega van uw eigen meldpunt als waarnemer."),
        open_form=_("Ik ben afwezig: kies wie mijn meldingen waarneemt"),
        nobody=_("Er is geen collega bij uw meldpunt die uw meldingen kan waarnemen."),
        covering=_(
            "U neemt nu waar voor %(names)s. Hun open meldingen staan bij 'Mijn open meldingen'."
        ),
        absent_now=_("U bent afwezig. %(name)s neemt uw open meldingen waar."),
        absent_planned=_("Uw afwezigheid is gepland. %(name)s neemt dan uw open meldingen waar."),
        saved=_("Uw afwezigheid is opgeslagen. %(name)s ziet uw open meldingen."),
        back=_("U bent weer aanwezig. Uw meldingen staan weer alleen bij u."),
    ),
    Workspace.SUPPORT: AbsenceWords(
        url_name="support:absence",
        cover_label=_("Wie neemt uw dossiers en acties waar?"),
        cover_help=_(
            "Een collega van het Ondersteuningsteam. Uw dossiers staan dan ook bij 'Aan mij' "
            "van die collega. Uw acties staan bij 'Mijn acties' in de agenda."
        ),
        cover_required=_("Kies een collega die uw dossiers en acties waarneemt."),
        cover_invalid=_("Kies een collega van het Ondersteuningsteam als waarnemer."),
        open_form=_("Ik ben afwezig: kies wie mijn dossiers en acties waarneemt"),
        nobody=_("Er is geen andere collega in het Ondersteuningsteam die uw werk kan waarnemen."),
        covering=_(
            "U neemt nu waar voor %(names)s. Hun dossiers staan bij 'Aan mij'. "
            "Hun acties staan bij 'Mijn acties' in de agenda."
        ),
        absent_now=_("U bent afwezig. %(name)s neemt uw dossiers en acties waar."),
        absent_planned=_(
            "Uw afwezigheid is gepland. %(name)s neemt dan uw dossiers en acties waar."
        ),
        saved=_("Uw afwezigheid is opgeslagen. %(name)s ziet uw dossiers en acties."),
        back=_("U bent weer aanwezig. Uw dossiers en acties staan weer alleen bij u."),
    ),
}


def absence_form(request, *, workspace: str, data=None) -> AbsenceForm:
    """The absence form of this workspace: bound to `data`, else filled with the current absence."""
    user, words = request.user, ABSENCE_WORDS[workspace]
    colleagues = colleagues_to_cover(user=user)
    if data is not None:
        return AbsenceForm(data, colleagues=colleagues, words=words)
    initial = {
        "cover": user.cover_id,
        "absent_from": user.absent_from,
        "absent_until": user.absent_until,
    }
    return AbsenceForm(initial=initial, colleagues=colleagues, words=words)


def absence_context(
    request, *, workspace: str, form: AbsenceForm | None = None, covered: dict | None = None
) -> dict:
    """What `portal/partials/absence.html` shows: the person's own absence, the form, and
    whom they cover now (`covered`, when the page has it already)."""
    user, words = request.user, ABSENCE_WORDS[workspace]
    covered = covered_colleagues_for(user=user) if covered is None else covered
    names = sorted(covered.values())
    status = ""
    if user.cover_id is not None:
        wording = words.absent_now if user.is_absent(timezone.localdate()) else words.absent_planned
        status = wording % {"name": user.cover}
    return {
        "absence_form": form or absence_form(request, workspace=workspace),
        "absence_url": reverse(words.url_name),
        "absence_words": words,
        "absence_active": user.cover_id is not None,
        "absence_status": status,
        "covering": names,
        "covering_text": words.covering % {"names": ", ".join(names)} if names else "",
    }


def absence_post(
    request, *, workspace: str, done_url: str, page: Callable[[AbsenceForm], HttpResponse]
) -> HttpResponse:
    """Save the absence posted (or switch it off with `off`); back to `done_url` with a
    message, or the page again (`page`, with status 400) with the form's errors."""
    words = ABSENCE_WORDS[workspace]
    if request.POST.get("off"):
        absence_set(person=request.user, cover=None)
        messages.success(request, words.back)
        return redirect(done_url)
    form = absence_form(request, workspace=workspace, data=request.POST)
    if form.is_valid():
        try:
            absence_set(
                person=request.user,
                cover=form.cleaned_data["cover"],
                absent_from=form.cleaned_data["absent_from"],
                absent_until=form.cleaned_data["absent_until"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, words.saved % {"name": form.cleaned_data["cover"]})
            return redirect(done_url)
    return page(form)
