"""A desk coordinator's "Beheer" pages: the officeholders of the desk's organisations and the
desk's own colleagues. Thin edges: the scope is `user_policy` ("manage") and
`organisation_policy` ("add_officeholder"); a person outside it answers 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import selectors, services
from portal.csv_files import CsvFileError
from portal.errors import DomainError
from portal.forms import (
    IdentityLinkForm,
    OfficeholderImportForm,
    PersonChangeForm,
    PersonInviteForm,
    PersonSearchForm,
)
from portal.models import ImportStatus
from portal.policies import (
    Workspace,
    identity_provider_for,
    officeholder_import_policy,
    user_policy,
    workspace_required,
)

manage_required = workspace_required(Workspace.MANAGE)


@manage_required
@require_http_methods(["GET"])
def people(request):
    """Everyone the coordinator manages, with a search on name or e-mail address."""
    form = PersonSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    return render(
        request,
        "portal/manage/people.html",
        {
            "form": form,
            "search": search,
            "people": selectors.people_managed_by(user=request.user, search=search),
        },
    )


@manage_required
@require_http_methods(["GET", "POST"])
def person_invite(request):
    """Invite one officeholder of the desk's organisations, or one colleague."""
    form = PersonInviteForm(
        request.POST or None, organisations=selectors.organisations_open_to(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        officeholder = data["kind"] == PersonInviteForm.KIND_OFFICEHOLDER
        try:
            person = services.person_invite(
                actor=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                organisation=data["organisation"] if officeholder else None,
                function=data["function"] if officeholder else "",
                term_start=data["term_start"],
                term_end=data["term_end"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("De uitnodiging voor %(name)s is verstuurd naar %(email)s.")
                % {"name": person, "email": person.email},
            )
            return redirect("manage:person", pk=person.pk)
    return render(request, "portal/manage/invite.html", {"form": form})


def _managed(request, pk):
    return user_policy.get(request.user, "manage", queryset=_people_queryset(), pk=pk)


def _people_queryset():
    from portal.models import User

    return User.objects.select_related("organisation", "desk")


@manage_required
@require_http_methods(["GET", "POST"])
def person(request, pk):
    """One person: their details, their invitations, and what the coordinator can change."""
    managed = _managed(request, pk)
    form = _person_change_form(request, managed, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.person_update(
                actor=request.user,
                person=managed,
                function=data.get("function", ""),
                organisation=data.get("organisation"),
                term_start=data["term_start"],
                term_end=data["term_end"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("De wijziging is opgeslagen.") if changed else _("Er is niets veranderd."),
            )
            return redirect("manage:person", pk=managed.pk)
    return _person_page(request, managed, form=form)


def _person_change_form(request, managed, data) -> PersonChangeForm:
    is_officeholder = managed.organisation_id is not None
    organisations = selectors.organisations_open_to(user=request.user)
    if is_officeholder:
        # The current organisation stays selectable, even when it has ended since.
        organisations = organisations | type(managed.organisation).objects.filter(
            pk=managed.organisation_id
        )
    return PersonChangeForm(
        data,
        organisations=organisations.distinct().order_by("name"),
        officeholder=is_officeholder,
        initial={
            "organisation": managed.organisation_id,
            "function": managed.function,
            "term_start": managed.term_start,
            "term_end": managed.term_end,
        },
    )


def _person_page(request, managed, *, form, link_form=None):
    return render(
        request,
        "portal/manage/person.html",
        {
            "person": managed,
            "form": form,
            "state": selectors.person_managed_state(person=managed),
            "invitations": selectors.person_invitations(person=managed),
            **_identity_context(request, managed, link_form=link_form),
        },
    )


def _identity_context(request, managed, *, link_form=None) -> dict:
    """The single sign-on part of a colleague's page: their link, or the form to make one."""
    if not user_policy.allows(request.user, "link_identity", managed):
        return {}
    provider = identity_provider_for(managed)
    if provider is None:
        return {}
    return {
        "identity_provider": provider,
        "identity": managed.external_identities.filter(provider=provider).first(),
        "identity_form": link_form or IdentityLinkForm(),
    }


@manage_required
@require_POST
def person_identity_link(request, pk):
    """Link a colleague to their account at the desk's identity provider."""
    managed = _managed(request, pk)
    form = IdentityLinkForm(request.POST)
    if form.is_valid():
        try:
            services.external_identity_link(
                actor=request.user, person=managed, subject=form.cleaned_data["subject"]
            )
        except DomainError as error:
            form.add_error("subject", error.message)
        else:
            messages.success(
                request,
                _(
                    "%(name)s logt nu in met het account van de organisatie. Het wachtwoord "
                    "in het portaal werkt niet meer."
                )
                % {"name": managed},
            )
            return redirect("manage:person", pk=managed.pk)
    form_for_change = _person_change_form(request, managed, None)
    return _person_page(request, managed, form=form_for_change, link_form=form)


@manage_required
@require_POST
def person_identity_unlink(request, pk):
    """Remove a colleague's link: they need a new invitation to log in again."""
    managed = _managed(request, pk)
    if services.external_identity_unlink(actor=request.user, person=managed):
        messages.success(
            request,
            _(
                "De koppeling is verwijderd. %(name)s kan niet meer inloggen tot u een nieuwe "
                "uitnodiging stuurt."
            )
            % {"name": managed},
        )
    return redirect("manage:person", pk=managed.pk)


@manage_required
@require_POST
def person_invitation_resend(request, pk):
    """Send a new invitation (the earlier link stops working)."""
    managed = _managed(request, pk)
    try:
        services.invitation_create(actor=request.user, person=managed)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Er is een nieuwe uitnodiging verstuurd naar %(email)s. "
                "De oude link werkt niet meer."
            )
            % {"email": managed.email},
        )
    return redirect("manage:person", pk=managed.pk)


@manage_required
@require_POST
def person_deactivate(request, pk):
    """Switch the account off: the person can no longer log in."""
    managed = _managed(request, pk)
    if managed.pk == request.user.pk:
        raise Http404
    if services.person_deactivate(actor=request.user, person=managed):
        messages.success(request, _("Het account van %(name)s staat uit.") % {"name": managed})
    return redirect("manage:person", pk=managed.pk)


@manage_required
@require_http_methods(["GET", "POST"])
def officeholder_import(request):
    """Upload a CSV of officeholders: every row is checked first; nothing is created while
    any row has a problem."""
    form = OfficeholderImportForm(request.POST or None, request.FILES or None)
    checked = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            stored, checked = services.officeholder_import_prepare(
                actor=request.user, data=upload.read(), file_name=upload.name
            )
        except (CsvFileError, DomainError) as error:
            form.add_error("file", getattr(error, "message", str(error)))
        else:
            if stored is not None:
                return redirect("manage:import_detail", pk=stored.pk)
    return render(
        request,
        "portal/manage/import.html",
        {
            "form": form,
            "checked": checked,
            "problem_count": sum(1 for row in checked or [] if row.problems),
        },
    )


@manage_required
@require_http_methods(["GET", "POST"])
def officeholder_import_detail(request, pk):
    """A checked upload: the preview with the confirm button, then its progress (the page
    reloads itself while the background task runs; no script needed)."""
    upload = officeholder_import_policy.get(request.user, "view", pk=pk)
    if request.method == "POST":
        if services.officeholder_import_confirm(actor=request.user, upload=upload):
            messages.success(
                request, _("De import is gestart. De uitnodigingen gaan op de achtergrond weg.")
            )
        return redirect("manage:import_detail", pk=upload.pk)
    return render(
        request,
        "portal/manage/import_detail.html",
        {
            "upload": upload,
            "rows": selectors.officeholder_import_rows(upload=upload),
            "running": upload.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
            "preview": upload.status == ImportStatus.PREVIEW,
        },
    )
