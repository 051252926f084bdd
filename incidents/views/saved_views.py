"""Saving and deleting a person's own list views, for every list that has them: the desk's
queue and the support team's inbox (`SavedQueueView.workspace`). The list's view functions
check the workspace; these helpers do the rest the same way for both."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from incidents import services
from incidents.forms_desk import SavedViewForm
from incidents.policies import saved_view_policy
from portal.errors import DomainError


def saved_view_save_post(
    request,
    *,
    workspace: str,
    clean_query: Callable[[QueryDict], str],
    list_url: Callable[[str], str],
    page: Callable[[SavedViewForm], HttpResponse],
) -> HttpResponse:
    """Save the list's current filters (cleaned by the list's own filter form through
    `clean_query`) as one of the person's views; back to the list with that view open, or
    the list again (`page`) with the form's errors."""
    form = SavedViewForm(request.POST)
    if form.is_valid():
        try:
            view = services.saved_view_save(
                owner=request.user,
                workspace=workspace,
                name=form.cleaned_data["name"],
                query=clean_query(QueryDict(form.cleaned_data["query"])),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Het overzicht '%(name)s' is opgeslagen. U vindt het boven de lijst.")
                % {"name": view.name},
            )
            return redirect(list_url(view.query))
    return page(form)


def saved_view_delete_post(request, pk: int, *, workspace: str, list_url: str) -> HttpResponse:
    """Delete one of the person's own views of this list (another person's answers 404)."""
    view = saved_view_policy.get(request.user, "delete", pk=pk, workspace=workspace)
    services.saved_view_delete(view=view)
    messages.success(request, _("Het overzicht '%(name)s' is verwijderd.") % {"name": view.name})
    return redirect(list_url)
