"""Pages of the Ondersteuningsteam: the inbox per case status and the case page.

Only the support role gets here; every other role gets a 404 (`role_required`). Cases are
fetched through `support.access`, so an incident that was never escalated answers 404 on
every URL. Each step is a POST endpoint that validates one form and calls one service. On an
error (a stale version included) the case page comes back with the typed text kept, and after
a stale version the form carries the new version, so sending again works.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents import services as incident_services
from incidents.constants import MessageAudience
from incidents.errors import IncidentError, StaleVersion
from portal.access import role_required
from portal.constants import Role
from portal.models import AccessAction
from portal.services import access_log_record
from support import access, selectors, services
from support.constants import CaseStatus
from support.forms import (
    AcknowledgeForm,
    ActionAddForm,
    ActionUpdateForm,
    AssignForm,
    CloseForm,
    NoteForm,
    OfficeholderMessageForm,
    ReturnForm,
    StaffMessageForm,
    StartForm,
)
from support.models import SupportAction, SupportCase
from support.selectors import CaseDetail

support_required = role_required(Role.SUPPORT)


@support_required
@require_GET
def inbox(request):
    """The team's cases in tabs per status (new first), with age and acknowledgement deadline."""
    status = request.GET.get("status", "")
    if status not in CaseStatus.values:
        status = CaseStatus.NEW
    inbox = selectors.inbox_for(
        user=request.user, status=CaseStatus(status), page_number=request.GET.get("page")
    )
    return render(request, "support/inbox.html", {"inbox": inbox})


# --- The case page ------------------------------------------------------------------------------


def _forms_for(request, case: SupportCase) -> dict[str, Any]:
    """Fresh forms for the case page, each carrying the current case version."""
    version = {"version": case.version}
    members = selectors.support_members()
    return {
        "acknowledge_form": AcknowledgeForm(initial=version),
        "start_form": StartForm(initial=version),
        "assign_form": AssignForm(
            initial={**version, "handler": case.handler_id or request.user.pk}, members=members
        ),
        "action_form": ActionAddForm(
            initial={**version, "owner": request.user.pk}, members=members
        ),
        "officeholder_message_form": OfficeholderMessageForm(initial=version),
        "staff_message_form": StaffMessageForm(initial=version),
        "note_form": NoteForm(initial=version),
        "return_form": ReturnForm(initial=version),
        "close_form": CloseForm(initial=version),
    }


def _errors_of(forms) -> list[str]:
    errors = []
    for form in forms:
        errors += [str(error) for error in form.non_field_errors()]
        for name, field_errors in form.errors.items():
            if name != "__all__":
                label = form.fields[name].label if name in form.fields else name
                errors += [f"{label}: {error}" for error in field_errors]
    return errors


def _case_page(request, detail: CaseDetail, *, bound: dict[str, Any] | None = None):
    """Render the case page; `bound` replaces fresh forms by the ones just posted."""
    user, case = request.user, detail.case
    bound = bound or {}
    forms = _forms_for(request, case)
    forms.update(bound)
    action_rows = [
        (
            action,
            bound.get(f"action_update_{action.pk}")
            or ActionUpdateForm.for_action(action, version=case.version),
        )
        for action in detail.actions
    ]
    steps = access.case_steps_for(user, case)
    context = {
        "detail": detail,
        "case": case,
        "incident": detail.incident,
        "timeline": detail.timeline,
        "action_rows": action_rows,
        "may_acknowledge": CaseStatus.ACKNOWLEDGED in steps,
        "may_start": CaseStatus.IN_PROGRESS in steps,
        "may_return": CaseStatus.RETURNED in steps,
        "may_close": CaseStatus.CLOSED in steps,
        "may_plan": access.may_plan(user, case),
        "may_assign": access.may_assign(user, case),
        "form_errors": _errors_of(bound.values()),
        **forms,
    }
    return render(request, "support/case.html", context)


@support_required
@require_GET
def case_detail(request, reference):
    """One escalated incident as the team works on it: facts, history, plan and steps."""
    detail = selectors.case_detail_for(user=request.user, reference=reference)
    access_log_record(
        request=request,
        action=AccessAction.VIEW_INCIDENT,
        incident=detail.incident,
        what="case page",
    )
    return _case_page(request, detail)


def _version_check(case: SupportCase, version: int) -> None:
    """For append-only steps whose service takes no version (actions, messages, notes).

    The page still refuses them against an older case version, so that nobody plans or
    writes on a case that was acknowledged, returned or closed under their eyes.
    """
    if version != case.version:
        raise StaleVersion()


def _act(
    request,
    reference: str,
    *,
    form_key: str,
    form,
    action: Callable[[CaseDetail, dict], Any],
    success: str | Callable[[Any], str],
    anchor: str = "",
):
    """Validate `form`, run `action(detail, cleaned_data)`, redirect with `success`."""
    detail = selectors.case_detail_for(user=request.user, reference=reference)
    if form.is_valid():
        try:
            outcome = action(detail, form.cleaned_data)
        except StaleVersion as error:
            form.add_error(None, error.message)
            # Show the case as it is now; the next send is checked against that version.
            detail = selectors.case_detail_for(user=request.user, reference=reference)
            form.refresh_version(detail.case.version)
        except IncidentError as error:
            form.add_error(None, error.message)
            detail = selectors.case_detail_for(user=request.user, reference=reference)
        else:
            messages.success(request, success(outcome) if callable(success) else success)
            url = reverse("support:case", kwargs={"reference": reference})
            return redirect(f"{url}#{anchor}" if anchor else url)
    return _case_page(request, detail, bound={form_key: form})


@support_required
@require_POST
def acknowledge(request, reference):
    def success(case):
        return _("U heeft het dossier bevestigd. Casemanager: %(name)s.") % {"name": case.handler}

    return _act(
        request,
        reference,
        form_key="acknowledge_form",
        form=AcknowledgeForm(request.POST),
        action=lambda detail, data: services.support_case_acknowledge(
            case=detail.case, actor=request.user, version=data["version"]
        ),
        success=success,
    )


@support_required
@require_POST
def start(request, reference):
    return _act(
        request,
        reference,
        form_key="start_form",
        form=StartForm(request.POST),
        action=lambda detail, data: services.support_case_start(
            case=detail.case, actor=request.user, version=data["version"]
        ),
        success=_("Het dossier is nu in behandeling."),
    )


@support_required
@require_POST
def assign(request, reference):
    def action(detail, data):
        if not access.may_assign(request.user, detail.case):
            raise IncidentError(_("Dit dossier is afgesloten. U kunt geen casemanager kiezen."))
        return services.support_case_assign(
            case=detail.case, actor=request.user, handler=data["handler"], version=data["version"]
        )

    return _act(
        request,
        reference,
        form_key="assign_form",
        form=AssignForm(request.POST, members=selectors.support_members()),
        action=action,
        success=lambda case: (
            _("%(name)s is nu casemanager van dit dossier.") % {"name": case.handler}
        ),
        anchor="casemanager",
    )


def _closed_for_planning(case: SupportCase) -> IncidentError:
    if case.status == CaseStatus.NEW:
        return IncidentError(_("Bevestig eerst het dossier; daarna kunt u acties plannen."))
    return IncidentError(_("Dit dossier is afgesloten. U kunt geen acties meer plannen."))


@support_required
@require_POST
def action_add(request, reference):
    def action(detail, data):
        _version_check(detail.case, data["version"])
        if not access.may_plan(request.user, detail.case):
            raise _closed_for_planning(detail.case)
        return services.support_action_add(
            case=detail.case,
            actor=request.user,
            service_type=data["service_type"],
            owner=data["owner"],
            description=data["description"],
            due_on=data["due_on"],
            shared_with_desk=data["shared_with_desk"],
        )

    return _act(
        request,
        reference,
        form_key="action_form",
        form=ActionAddForm(request.POST, members=selectors.support_members()),
        action=action,
        success=_("De actie staat in het ondersteuningsplan."),
        anchor="plan",
    )


def _action_for(detail: CaseDetail, pk: int) -> SupportAction:
    """An action of this case that the user may see, or 404."""
    for candidate in detail.actions:
        if candidate.pk == pk:
            return candidate
    raise Http404


@support_required
@require_POST
def action_update(request, reference, pk):
    detail = selectors.case_detail_for(user=request.user, reference=reference)
    found = _action_for(detail, pk)
    form = ActionUpdateForm(request.POST, prefix=ActionUpdateForm.prefix_for(found.pk))

    def action(detail, data):
        _version_check(detail.case, data["version"])
        if not access.may_plan(request.user, detail.case):
            raise _closed_for_planning(detail.case)
        return services.support_action_update(
            action=_action_for(detail, pk),
            actor=request.user,
            status=data["status"],
            shared_with_desk=data["shared_with_desk"],
            due_on=data["due_on"],
        )

    return _act(
        request,
        reference,
        form_key=f"action_update_{found.pk}",
        form=form,
        action=action,
        success=_("De actie is bijgewerkt."),
        anchor=f"actie-{found.pk}",
    )


def _send(request, reference, *, form_key, form, audience, success, anchor):
    def action(detail, data):
        _version_check(detail.case, data["version"])
        return incident_services.message_send(
            incident=detail.incident, actor=request.user, audience=audience, body=data["body"]
        )

    return _act(
        request,
        reference,
        form_key=form_key,
        form=form,
        action=action,
        success=success,
        anchor=anchor,
    )


@support_required
@require_POST
def message_officeholder(request, reference):
    return _send(
        request,
        reference,
        form_key="officeholder_message_form",
        form=OfficeholderMessageForm(request.POST),
        audience=MessageAudience.OFFICEHOLDER_THREAD,
        success=_("Uw bericht aan de ambtsdrager is verstuurd."),
        anchor="gesprek-ambtsdrager",
    )


@support_required
@require_POST
def message_desk(request, reference):
    return _send(
        request,
        reference,
        form_key="staff_message_form",
        form=StaffMessageForm(request.POST),
        audience=MessageAudience.STAFF,
        success=_("Uw bericht aan het meldpunt is verstuurd."),
        anchor="overleg-meldpunt",
    )


@support_required
@require_POST
def note(request, reference):
    def action(detail, data):
        _version_check(detail.case, data["version"])
        return incident_services.note_add(
            incident=detail.incident, actor=request.user, body=data["body"]
        )

    return _act(
        request,
        reference,
        form_key="note_form",
        form=NoteForm(request.POST),
        action=action,
        success=_("De notitie is opgeslagen."),
        anchor="notitie",
    )


@support_required
@require_POST
def return_to_desk(request, reference):
    return _act(
        request,
        reference,
        form_key="return_form",
        form=ReturnForm(request.POST),
        action=lambda detail, data: services.support_case_return(
            case=detail.case, actor=request.user, reason=data["reason"], version=data["version"]
        ),
        success=_("De melding is teruggegeven aan het meldpunt."),
    )


@support_required
@require_POST
def close(request, reference):
    return _act(
        request,
        reference,
        form_key="close_form",
        form=CloseForm(request.POST),
        action=lambda detail, data: services.support_case_close(
            case=detail.case, actor=request.user, outcome=data["outcome"], version=data["version"]
        ),
        success=_("Het dossier en de melding zijn afgesloten."),
    )
