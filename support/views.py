"""Pages of the Ondersteuningsteam: the inbox per case status (search, filters, saved views),
the agenda of planned actions, the absence page (cover) and the case page.

Only people with the support workspace get here; everyone else gets a 404. Cases are fetched
through the case policy, so an incident that was never escalated answers 404 on every URL. The
page offers exactly the case actions the policy allows; each is a POST that validates one form
and calls the one case action service. On an error (a stale version included) the case page
comes back with the typed text kept, and after a stale version the form carries the new
version, so sending again works.
"""

from typing import Any

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import selectors as incident_selectors
from incidents import services as incident_services
from incidents.case_file import case_file_response
from incidents.constants import MessageAudience, SavedViewWorkspace
from incidents.forms import CaseFileForm
from incidents.forms_desk import SavedViewForm
from incidents.policies import incident_policy
from incidents.views.saved_views import saved_view_delete_post, saved_view_save_post
from portal.error_summary import page_error_summary
from portal.models import AccessAction
from portal.policies import Workspace, workspace_required
from portal.selectors import covered_colleagues_for
from portal.services import access_log_record, notification_mark_read
from portal.versioned import change_post
from portal.views_absence import absence_context, absence_post
from support import selectors, services
from support.constants import CaseStatus
from support.forms import (
    AcknowledgeForm,
    ActionAddForm,
    ActionUpdateForm,
    AgendaFilterForm,
    AssignForm,
    CloseForm,
    InboxFilterForm,
    NoteForm,
    OfficeholderMessageForm,
    ReturnForm,
    StaffMessageForm,
    StartForm,
)
from support.models import SupportAction, SupportCase
from support.policies import case_policy
from support.selectors import CaseDetail

support_required = workspace_required(Workspace.SUPPORT)


# The inbox's ready-made views (links with filters), besides the person's own saved ones.
PRESET_VIEWS = (
    (_lazy("Aan mij"), "handler=me"),
    (_lazy("Bevestiging over tijd"), "status=new&overdue=on"),
)


def _inbox_filter_form(request, data=None) -> InboxFilterForm:
    """The inbox's filters from `data` (a saved view's query), else from the address."""
    return InboxFilterForm(
        data if data is not None else (request.GET or None),
        members=selectors.support_members(user=request.user),
    )


@support_required
@require_GET
def inbox(request):
    """The team's cases in tabs per status (new first), most urgent first, with search,
    filters and saved views."""
    return _inbox_page(request)


def _inbox_page(request, *, saved_view_form=None, status=200):
    form = _inbox_filter_form(request)
    filters = form.filters() if form.is_bound else {}
    inbox = selectors.inbox_for(
        user=request.user,
        status=CaseStatus(filters.get("status") or CaseStatus.NEW),
        filters=filters,
        page_number=request.GET.get("page"),
    )
    filter_query = form.query_string()
    context = {
        "inbox": inbox,
        "form": form,
        "filter_query": filter_query,
        "tab_query": form.query_string(without=("status",)),
        "preset_views": PRESET_VIEWS,
        "saved_views": incident_selectors.saved_views_for(
            user=request.user, workspace=SavedViewWorkspace.SUPPORT
        ),
        "saved_view_form": saved_view_form or SavedViewForm(initial={"query": filter_query}),
        "form_errors": page_error_summary([saved_view_form] if saved_view_form else []),
        # Whom this person covers today: their cases are in "Aan mij" too.
        "covering": sorted(covered_colleagues_for(user=request.user).values()),
    }
    return render(request, "support/inbox.html", context, status=status)


def _inbox_url(query: str) -> str:
    return reverse("support:inbox") + (f"?{query}" if query else "")


@support_required
@require_POST
def saved_view_save(request):
    """Save the inbox's current search and filters as one of the person's own views."""
    return saved_view_save_post(
        request,
        workspace=SavedViewWorkspace.SUPPORT,
        clean_query=lambda query: _inbox_filter_form(request, query).query_string(),
        list_url=_inbox_url,
        page=lambda form: _inbox_page(request, saved_view_form=form, status=400),
    )


@support_required
@require_POST
def saved_view_delete(request, pk):
    """Delete one of the person's own inbox views (another person's answers 404)."""
    return saved_view_delete_post(
        request, pk, workspace=SavedViewWorkspace.SUPPORT, list_url=reverse("support:inbox")
    )


@support_required
@require_GET
def agenda(request):
    """The team's planned actions across all cases by due date: late, today, this week,
    later; the whole team's, one's own or one member's."""
    form = AgendaFilterForm(
        request.GET or None, members=selectors.support_members(user=request.user)
    )
    filters = form.filters() if form.is_bound else {}
    agenda = selectors.agenda_for(
        user=request.user, owner=filters.get("owner") or "", today=timezone.localdate()
    )
    return render(request, "support/agenda.html", {"agenda": agenda, "form": form})


def _absence_page(request, *, form=None, status=200):
    context = absence_context(request, workspace=Workspace.SUPPORT, form=form)
    context["form_errors"] = page_error_summary([form] if form is not None else [])
    return render(request, "support/absence.html", context, status=status)


@support_required
@require_http_methods(["GET", "POST"])
def absence(request):
    """Mark oneself absent and name the colleague of the team who covers (or switch it off);
    the same form and rules as the desk's (`portal.views_absence`)."""
    if request.method == "GET":
        return _absence_page(request)
    return absence_post(
        request,
        workspace=Workspace.SUPPORT,
        done_url=reverse("support:absence"),
        page=lambda form: _absence_page(request, form=form, status=400),
    )


@support_required
@require_GET
def signals(request):
    """ "Same perpetrator" signals across desks: the team sees both sides and decides."""
    page, rows = selectors.signals_for(user=request.user, page_number=request.GET.get("page"))
    return render(request, "support/signals.html", {"page": page, "rows": rows})


# --- The case page ------------------------------------------------------------------------------

# The form of each case action on the page (its fields are the action's inputs).
ACTION_FORMS = {
    "acknowledge": AcknowledgeForm,
    "start": StartForm,
    "assign_handler": AssignForm,
    "add_action": ActionAddForm,
    "return_to_desk": ReturnForm,
    "close_case": CloseForm,
}

ACTION_ANCHORS = {"assign_handler": "casemanager", "add_action": "plan"}


def _success(name: str, case: SupportCase) -> str:
    return {
        "acknowledge": _("U heeft het dossier bevestigd. Casemanager: %(name)s.")
        % {"name": case.handler},
        "start": _("Het dossier is nu in behandeling."),
        "assign_handler": _("%(name)s is nu casemanager van dit dossier.") % {"name": case.handler},
        "add_action": _("De actie staat in het ondersteuningsplan."),
        "update_action": _("De actie is bijgewerkt."),
        "return_to_desk": _("De melding is teruggegeven aan het meldpunt."),
        "close_case": _("Het dossier en de melding zijn afgesloten."),
    }[name]


def _form_for(name: str, request, case: SupportCase, data=None):
    form_class = ACTION_FORMS[name]
    kwargs = {}
    if name in ("assign_handler", "add_action"):
        kwargs["members"] = selectors.support_members(user=request.user)
    if name == "close_case":
        kwargs["open_actions"] = selectors.case_open_actions(case=case)
    if data is not None:
        return form_class(data, **kwargs)
    initial = {"version": case.version}
    if name == "assign_handler":
        initial["handler"] = case.handler_id or request.user.pk
    if name == "add_action":
        initial["owner"] = request.user.pk
    return form_class(initial=initial, **kwargs)


def _case_page(request, detail: CaseDetail, *, bound: dict[str, Any] | None = None):
    """Render the case page; `bound` replaces fresh forms by the ones just posted."""
    user, case = request.user, detail.case
    bound = bound or {}
    forms = {name: bound.get(name) or _form_for(name, request, case) for name in ACTION_FORMS}
    members = selectors.support_members(user=user)
    action_rows = [
        (
            action,
            bound.get(f"update_action_{action.pk}")
            or ActionUpdateForm.for_action(action, version=case.version, members=members),
        )
        for action in detail.actions
    ]
    allowed = {action.name for action in case_policy.actions_for(user, case)}
    incident = detail.incident
    context = {
        "detail": detail,
        "case": case,
        "incident": incident,
        "timeline": detail.timeline,
        "action_rows": action_rows,
        "may_acknowledge": "acknowledge" in allowed,
        "may_start": "start" in allowed,
        "may_return": "return_to_desk" in allowed,
        "may_close": "close_case" in allowed,
        "may_plan": "add_action" in allowed,
        "may_assign": "assign_handler" in allowed,
        "may_message": incident_policy.allows(user, "message_officeholder", incident),
        "may_message_staff": incident_policy.allows(user, "message_staff", incident),
        "may_write_note": incident_policy.allows(user, "write_note", incident),
        "form_errors": page_error_summary(bound.values()),
        "acknowledge_form": forms["acknowledge"],
        "start_form": forms["start"],
        "assign_form": forms["assign_handler"],
        "action_form": forms["add_action"],
        "return_form": forms["return_to_desk"],
        "close_form": forms["close_case"],
        "officeholder_message_form": bound.get("message") or OfficeholderMessageForm(),
        "staff_message_form": bound.get("staff_message") or StaffMessageForm(),
        "note_form": bound.get("note") or NoteForm(),
        "case_file_form": CaseFileForm(),
        # The team follows the aangifte; the officeholder and the desk keep it up to date.
        "aangifte": (
            incident_selectors.aangifte_overview_for(incident=incident)
            if incident_policy.allows(user, "view_aangifte", incident)
            else None
        ),
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
    notification_mark_read(user=request.user, reference=detail.incident.reference)
    return _case_page(request, detail)


@support_required
@require_GET
def case_file(request, reference):
    """The case page as a PDF (incidents.case_file): 404 exactly like the page."""
    show_names = CaseFileForm(request.GET).show_names()
    file = selectors.support_case_file_for(
        user=request.user, reference=reference, show_names=show_names, now=timezone.now()
    )
    access_log_record(
        request=request,
        action=AccessAction.PRINT_CASE_FILE,
        incident=file.incident,
        what="case file PDF (support)",
    )
    return case_file_response(file)


def _post(request, reference, *, key: str, form, run, success, anchor: str = ""):
    """Run one change from the case page (see portal.versioned.change_post)."""
    detail = selectors.case_detail_for(user=request.user, reference=reference)
    url = reverse("support:case", kwargs={"reference": reference})
    return change_post(
        request,
        form=form,
        run=lambda data: run(detail, data),
        success=success,
        redirect_to=f"{url}#{anchor}" if anchor else url,
        page=lambda posted: _case_page(
            request,
            selectors.case_detail_for(user=request.user, reference=reference),
            bound={key: posted},
        ),
        current_version=lambda: (
            selectors.case_detail_for(user=request.user, reference=reference).case.version
        ),
    )


@support_required
@require_POST
def act(request, reference, action):
    """Take one action of the case workflow (support.actions) from the case page."""
    detail = selectors.case_detail_for(user=request.user, reference=reference)
    form = _form_for(action, request, detail.case, data=request.POST)
    return _post(
        request,
        reference,
        key=action,
        form=form,
        run=lambda detail, data: services.support_case_act(
            case=detail.case,
            actor=request.user,
            action=action,
            version=data["version"],
            **form.inputs(),
        ),
        success=lambda case: _success(action, case),
        anchor=ACTION_ANCHORS.get(action, ""),
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
    form = ActionUpdateForm.for_action(
        found,
        version=detail.case.version,
        members=selectors.support_members(user=request.user),
        data=request.POST,
    )
    return _post(
        request,
        reference,
        key=f"update_action_{found.pk}",
        form=form,
        run=lambda detail, data: services.support_case_act(
            case=detail.case,
            actor=request.user,
            action="update_action",
            version=data["version"],
            support_action=_action_for(detail, pk),
            **form.inputs(),
        ),
        success=lambda case: _success("update_action", case),
        anchor=f"actie-{found.pk}",
    )


def _incident_post(request, reference, *, key, form, run, success, anchor):
    return _post(
        request,
        reference,
        key=key,
        form=form,
        run=lambda detail, data: run(detail.incident, data),
        success=success,
        anchor=anchor,
    )


@support_required
@require_POST
def message_officeholder(request, reference):
    return _incident_post(
        request,
        reference,
        key="message",
        form=OfficeholderMessageForm(request.POST),
        run=lambda incident, data: incident_services.message_send(
            incident=incident,
            actor=request.user,
            audience=MessageAudience.OFFICEHOLDER_THREAD,
            body=data["body"],
        ),
        success=_("Uw bericht aan de ambtsdrager is verstuurd."),
        anchor="gesprek-ambtsdrager",
    )


@support_required
@require_POST
def message_desk(request, reference):
    return _incident_post(
        request,
        reference,
        key="staff_message",
        form=StaffMessageForm(request.POST),
        run=lambda incident, data: incident_services.message_send(
            incident=incident,
            actor=request.user,
            audience=MessageAudience.STAFF,
            body=data["body"],
        ),
        success=_("Uw bericht aan het meldpunt is verstuurd."),
        anchor="overleg-meldpunt",
    )


@support_required
@require_POST
def note(request, reference):
    return _incident_post(
        request,
        reference,
        key="note",
        form=NoteForm(request.POST),
        run=lambda incident, data: incident_services.note_add(
            incident=incident, actor=request.user, body=data["body"]
        ),
        success=_("De notitie is opgeslagen."),
        anchor="notitie",
    )
