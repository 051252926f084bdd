"""Pages of the meld- en steunpunt (desk): queue, incident triage page, overview, export, filing.

Only people with the desk workspace get here; everyone else gets a 404. Incidents are fetched
through the incident policy, so another desk's incident answers 404 on every URL. The page
offers exactly the workflow actions the policy allows (`incident_policy.actions_for`); each is
a POST that validates one form and calls the one action service. On an error (a stale version
included) the incident page is rendered again with the typed text still in the form.
"""

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import selectors, services
from incidents.aangifte import stage_from_tokens, step_label
from incidents.case_file import case_file_response
from incidents.case_file import desk_case_file_for as case_file_for
from incidents.constants import MessageAudience, SavedViewWorkspace
from incidents.errors import IncidentError
from incidents.forms import AangifteForm, CaseFileForm
from incidents.forms_desk import (
    BULK_MAX_ROWS,
    AssignForm,
    BulkForm,
    CallbackForm,
    ClearCallbackForm,
    CloseForm,
    DuplicateForm,
    EscalateForm,
    FileOnBehalfForm,
    LinkForm,
    NoteForm,
    OfficeholderMessageForm,
    PhoneCallForm,
    QueueFilterForm,
    ReopenForm,
    SavedViewForm,
    StaffMessageForm,
    StandardReplyInsertForm,
    TakeBackForm,
    TakeForm,
    TriageForm,
)
from incidents.models import Incident
from incidents.policies import incident_policy
from incidents.views.police_summary import police_summary_page
from incidents.views.saved_views import saved_view_delete_post, saved_view_save_post
from portal.error_summary import page_error_summary
from portal.errors import DomainError
from portal.models import AccessAction
from portal.policies import Workspace, workspace_required
from portal.selectors import covered_colleagues_for, organisations_served_by
from portal.services import access_log_record, notification_mark_read
from portal.versioned import change_post
from portal.views_absence import absence_context, absence_post

desk_required = workspace_required(Workspace.DESK)

QUEUE_PAGE_SIZE = BULK_MAX_ROWS
# The queue counts no further: "meer dan 1.000" is enough to say "filter further", and the
# count stays as fast at a million incidents as at a thousand.
QUEUE_COUNT_CAP = 1000
# What a queue row shows. Only one short encrypted text (the one-line summary) is read.
QUEUE_COLUMNS = (
    "reference",
    "version",
    "summary",
    "status",
    "types",
    "submitted_at",
    "triage_due_at",
    "triage_severity",
    "reporter_severity",
    "filed_by_desk",
    "organisation__name",
    "officeholder__username",
    "officeholder__first_name",
    "officeholder__last_name",
    "officeholder__function",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "callback_at",
    # The aangifte stage from its keyed tokens: no row's track is decrypted for the queue.
    "aangifte_tokens",
)


# --- Queue, overview, export --------------------------------------------------------------------


class CappedPaginator(Paginator):
    """A paginator that counts to QUEUE_COUNT_CAP at most; `more` says there were more."""

    @cached_property
    def _capped_count(self) -> int:
        return self.object_list[: QUEUE_COUNT_CAP + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._capped_count, QUEUE_COUNT_CAP)

    @property
    def more(self) -> bool:
        return self._capped_count > QUEUE_COUNT_CAP


# The queue's ready-made views (links with filters), besides the person's own saved ones.
PRESET_VIEWS = (
    (_lazy("Mijn open meldingen"), "assigned=me"),
    (_lazy("Ernstig en nog niet beoordeeld"), "serious_untriaged=on"),
    (_lazy("Te laat"), "overdue=on"),
)


def _queue_filter_form(request, data=None) -> QueueFilterForm:
    """The queue's filters from `data` (a saved view's query), else from the address."""
    return QueueFilterForm(
        data if data is not None else (request.GET or None),
        organisations=organisations_served_by(desk_id=request.user.desk_id),
    )


@desk_required
@require_GET
def queue(request):
    """The desk's incidents, most urgent first, with filters, search, sorting and pages."""
    return _queue_page(request)


def _queue_page(request, *, saved_view_form=None, bulk_form=None, absence_form=None, status=200):
    form = _queue_filter_form(request)
    filters = form.filters() if form.is_bound else {}
    incidents = selectors.incident_queue_for(user=request.user, filters=filters).only(
        *QUEUE_COLUMNS
    )
    page = CappedPaginator(incidents, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    filter_query = form.query_string()
    now = timezone.now()
    covered = covered_colleagues_for(user=request.user)
    for incident in page.object_list:
        incident.deadline_words = selectors.deadline_in_words(incident.triage_due_at, now=now)
        incident.callback_words = selectors.callback_in_words(incident.callback_at, now=now)
        incident.covering_for = covered.get(incident.assignee_id, "")
        stage = stage_from_tokens(incident.aangifte_tokens)
        incident.aangifte_stage = step_label(stage) if stage else ""
    return render(
        request,
        "incidents/desk/queue.html",
        {
            "form": form,
            "page": page,
            "incidents": page.object_list,
            "page_range": page.paginator.get_elided_page_range(page.number, on_ends=1),
            "filter_query": filter_query,
            "filtered": any(value for key, value in filters.items() if key != "sort"),
            "offered": selectors.incidents_offered_to(user=request.user),
            "preset_views": PRESET_VIEWS,
            "saved_views": selectors.saved_views_for(
                user=request.user, workspace=SavedViewWorkspace.DESK
            ),
            "saved_view_form": saved_view_form or SavedViewForm(initial={"query": filter_query}),
            "bulk_form": bulk_form
            or BulkForm(colleagues=selectors.colleagues_to_assign(user=request.user)),
            "form_errors": page_error_summary(
                [f for f in (saved_view_form, bulk_form, absence_form) if f is not None]
            ),
            **absence_context(
                request, workspace=Workspace.DESK, form=absence_form, covered=covered
            ),
        },
        status=status,
    )


@desk_required
@require_POST
def absence(request):
    """Mark oneself absent and name the colleague who covers (or switch it off); the form is
    on the queue page (`portal.views_absence`, shared with the Ondersteuningsteam)."""
    return absence_post(
        request,
        workspace=Workspace.DESK,
        done_url=reverse("desk:queue"),
        page=lambda form: _queue_page(request, absence_form=form, status=400),
    )


@desk_required
@require_POST
def saved_view_save(request):
    """Save the queue's current filters as one of the person's own views."""
    return saved_view_save_post(
        request,
        workspace=SavedViewWorkspace.DESK,
        clean_query=lambda query: _queue_filter_form(request, query).query_string(),
        list_url=lambda query: _queue_url(request, query),
        page=lambda form: _queue_page(request, saved_view_form=form, status=400),
    )


@desk_required
@require_POST
def saved_view_delete(request, pk):
    """Delete one of the person's own saved views (another person's answers 404)."""
    return saved_view_delete_post(
        request, pk, workspace=SavedViewWorkspace.DESK, list_url=reverse("desk:queue")
    )


@desk_required
@require_POST
def bulk(request):
    """Assign or close the ticked queue rows; says what was done and what had changed."""
    form = BulkForm(request.POST, colleagues=selectors.colleagues_to_assign(user=request.user))
    if not form.is_valid():
        return _queue_page(request, bulk_form=form, status=400)
    result = services.incidents_bulk_act(
        actor=request.user,
        action=form.cleaned_data["action"],
        rows=form.cleaned_data["incidents"],
        **form.inputs(),
    )
    if result.done:
        messages.success(
            request,
            ngettext(
                "Gedaan voor %(count)d melding: %(references)s.",
                "Gedaan voor %(count)d meldingen: %(references)s.",
                len(result.done),
            )
            % {"count": len(result.done), "references": ", ".join(result.done)},
        )
    if result.changed:
        messages.warning(
            request,
            _(
                "Niet gedaan, want intussen gewijzigd door iemand anders: %(references)s. "
                "Bekijk deze meldingen en probeer het opnieuw."
            )
            % {"references": ", ".join(result.changed)},
        )
    if result.refused:
        messages.error(
            request,
            _("Niet gedaan, want dit kan nu niet bij deze meldingen: %(references)s.")
            % {"references": ", ".join(result.refused)},
        )
    return redirect(_queue_url(request, request.POST.get("filter_query", "")))


def _queue_url(request, query: str) -> str:
    """The queue with these filters, as far as they are valid filters (nothing else)."""
    query = _queue_filter_form(request, QueryDict(query)).query_string()
    return reverse("desk:queue") + (f"?{query}" if query else "")


@desk_required
@require_POST
def take_back(request, reference):
    """Take back an incident that another desk handled while this desk was unreachable."""
    incident = next(
        (i for i in selectors.incidents_offered_to(user=request.user) if i.reference == reference),
        None,
    )
    if incident is None:
        raise Http404
    form = TakeBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Vernieuw de pagina en probeer het opnieuw."))
        return redirect("desk:queue")
    try:
        services.incident_take_back(
            incident=incident, actor=request.user, version=form.cleaned_data["version"]
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("desk:queue")
    messages.success(
        request,
        _("U hebt melding %(reference)s teruggenomen. De melding staat weer bij uw meldpunt.")
        % {"reference": reference},
    )
    return redirect("desk:detail", reference=reference)


@desk_required
@require_GET
def overview(request):
    """Counts by status, what is overdue and this month's incidents per organisation."""
    return render(
        request,
        "incidents/desk/overview.html",
        {"overview": selectors.desk_overview_for(user=request.user)},
    )


# Characters that make a spreadsheet read a cell as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class _Echo:
    """A file-like object that hands each written CSV line straight back (for streaming)."""

    def write(self, value):
        return value


def _export_rows(incidents):
    yield [
        _("Kenmerk"),
        _("Ontvangen op"),
        _("Datum incident"),
        _("Beoordelen vóór"),
        _("Beoordeeld op"),
        _("Afgesloten op"),
        _("Organisatie"),
        _("Status"),
        _("Soort incident"),
        _("Hoe het gebeurde"),
        _("Ernst volgens melder"),
        _("Ernst volgens meldpunt"),
        _("Te laat"),
        _("Behandelaar"),
        _("Vastgelegd door meldpunt"),
    ]
    for incident in incidents.iterator(chunk_size=1000):
        yield [
            incident.reference,
            _moment(incident.submitted_at),
            incident.occurred_on.isoformat(),
            _moment(incident.triage_due_at),
            _moment(incident.triaged_at),
            _moment(incident.closed_at),
            incident.organisation.name,
            incident.get_status_display(),
            "; ".join(incident.type_labels()),
            incident.get_channel_display(),
            incident.get_reporter_severity_display(),
            incident.get_triage_severity_display(),
            _("ja") if incident.is_overdue else _("nee"),
            str(incident.assignee) if incident.assignee else "",
            _("ja") if incident.filed_by_desk else _("nee"),
        ]


def _export_lines(incidents, *, language: str, time_zone):
    """The CSV lines, streamed. The rows are written after the view has returned, so the
    viewer's language and time zone are set here again instead of relying on the request."""
    writer = csv.writer(_Echo(), delimiter=";")
    with translation.override(language), timezone.override(time_zone):
        # A byte-order mark and semicolons: what Excel with Dutch settings opens correctly.
        yield "\ufeff"
        for row in _export_rows(incidents):
            yield writer.writerow([_csv_safe(cell) for cell in row])


@desk_required
@require_GET
def export(request):
    """The queue's current filter as CSV: structured fields only, never free text."""
    form = _queue_filter_form(request)
    filters = form.filters() if form.is_bound else {}
    incidents = selectors.incident_queue_for(user=request.user, filters=filters)
    access_log_record(request=request, action=AccessAction.EXPORT, what="queue CSV")
    response = StreamingHttpResponse(
        _export_lines(
            incidents,
            language=translation.get_language(),
            time_zone=timezone.get_current_timezone(),
        ),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="meldingen-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Filing on behalf of an officeholder ------------------------------------------------------


@desk_required
@require_http_methods(["GET", "POST"])
def file_incident(request):
    """Register an incident for an officeholder who phoned or came by ("filed by the desk")."""
    officeholders = selectors.officeholders_to_file_for(user=request.user)
    form = FileOnBehalfForm(
        request.POST or None, request.FILES or None, officeholders=officeholders
    )
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_submit(
                officeholder=form.cleaned_data["officeholder"],
                facts=form.facts(),
                identifiers=form.identifiers(),
                files=form.cleaned_data["evidence"],
                quick=False,
                submission_token=form.cleaned_data["submission_token"],
                filed_by=request.user,
            )
        except IncidentError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "De melding %(reference)s is vastgelegd voor %(name)s. "
                    "De ambtsdrager ziet hem in de eigen lijst."
                )
                % {"reference": incident.reference, "name": incident.officeholder},
            )
            return redirect("desk:detail", reference=incident.reference)
    return render(request, "incidents/desk/file.html", {"form": form})


# --- The incident page ------------------------------------------------------------------------

# The form of each workflow action on the page (its fields are the action's inputs).
ACTION_FORMS = {
    "take": TakeForm,
    "assign": AssignForm,
    "triage": TriageForm,
    "escalate": EscalateForm,
    "close": CloseForm,
    "mark_duplicate": DuplicateForm,
    "reopen": ReopenForm,
    "link": LinkForm,
    "set_callback": CallbackForm,
    "clear_callback": ClearCallbackForm,
}

ACTION_SUCCESS = {
    "take": _("U heeft de melding in behandeling genomen."),
    "triage": _("De beoordeling is opgeslagen."),
    "escalate": _("De melding is doorgegeven aan het Ondersteuningsteam."),
    "close": _("De melding is afgesloten."),
    "reopen": _("De melding is weer geopend."),
    "set_callback": _("Het moment om terug te bellen is opgeslagen. De melder ziet dit niet."),
    "clear_callback": _("Het moment om terug te bellen is gewist."),
}


def _incident(request, reference) -> Incident:
    """The incident with what its page shows, or 404 when it is not this desk's."""
    return selectors.incident_detail_for(user=request.user, reference=reference)


def _action_form(name: str, request, incident: Incident, data=None):
    form_class = ACTION_FORMS[name]
    kwargs = {}
    if name == "assign":
        kwargs["colleagues"] = selectors.colleagues_to_assign(user=request.user)
    if data is not None:
        return form_class(data, **kwargs)
    initial = {"version": incident.version}
    if name == "assign":
        initial["assignee"] = incident.assignee_id
    if name == "triage":
        initial = TriageForm.initial_from(incident)
    if name == "set_callback" and incident.callback_at is not None:
        local = timezone.localtime(incident.callback_at)
        initial.update(
            callback_day=local.date(),
            callback_time=local.time().replace(second=0, microsecond=0),
            callback_note=incident.callback_note,
        )
    return form_class(initial=initial, **kwargs)


def _detail_page(request, incident: Incident, *, bound: dict | None = None):
    """Render the incident page; `bound` replaces fresh forms by the ones just posted."""
    user = request.user
    bound = bound or {}
    allowed = [action.name for action in incident_policy.actions_for(user, incident)]
    action_forms = {
        name: bound.get(name) or _action_form(name, request, incident) for name in ACTION_FORMS
    }
    aangifte = selectors.aangifte_overview_for(incident=incident)
    aangifte_form = None
    if incident_policy.allows(user, "update_aangifte", incident):
        aangifte_form = bound.get("aangifte") or AangifteForm(
            initial=AangifteForm.initial_from(incident)
        )
        aangifte_form.apply_texts({row.code: row.why for row in aangifte.rows})
    other_forms = {
        "aangifte_form": aangifte_form,
        "note_form": bound.get("note") or NoteForm(),
        "message_form": bound.get("message") or _message_form(request, incident),
        "staff_form": bound.get("staff_message") or StaffMessageForm(),
        "phone_call_form": bound.get("phone_call") or PhoneCallForm(),
    }
    context = {
        "incident": incident,
        "is_overdue": selectors.incident_is_overdue(incident),
        "deadline_words": selectors.deadline_in_words(incident.triage_due_at),
        "timeline": selectors.timeline_for(user=user, incident=incident),
        "officeholder_thread": selectors.thread_for(
            user=user, incident=incident, audience=MessageAudience.OFFICEHOLDER_THREAD
        ),
        "staff_thread": selectors.thread_for(
            user=user, incident=incident, audience=MessageAudience.STAFF
        ),
        "escalations": selectors.escalations_for(incident=incident),
        "linked": selectors.linked_incidents_for(user=user, incident=incident),
        "duplicates": selectors.duplicates_of_for(user=user, incident=incident),
        "suggestions": selectors.link_suggestions_for(user=user, incident=incident),
        "matches": selectors.matches_for(user=user, incident=incident),
        "duplicate_of_visible": bool(
            incident.duplicate_of_id and incident_policy.allows(user, "view", incident.duplicate_of)
        ),
        "allowed": allowed,
        "may_write_note": incident_policy.allows(user, "write_note", incident),
        "may_message": incident_policy.allows(user, "message_officeholder", incident),
        "may_message_staff": incident_policy.allows(user, "message_staff", incident),
        "may_log_call": incident_policy.allows(user, "log_phone_call", incident),
        "may_police_summary": incident_policy.allows(user, "police_summary", incident),
        "callback_words": selectors.callback_in_words(incident.callback_at),
        "form_errors": page_error_summary(bound.values()),
        "action_forms": action_forms,
        "case_file_form": CaseFileForm(),
        "aangifte": aangifte,
        "aangifte_url": reverse("desk:aangifte", kwargs={"reference": incident.reference}),
        **other_forms,
    }
    return render(request, "incidents/desk/detail.html", context)


@desk_required
@require_GET
def detail(request, reference):
    """The incident as the desk sees it; the first visit is shown to the officeholder."""
    incident = _incident(request, reference)
    services.incident_mark_viewed(incident=incident, actor=request.user)
    access_log_record(
        request=request, action=AccessAction.VIEW_INCIDENT, incident=incident, what="detail page"
    )
    notification_mark_read(user=request.user, reference=incident.reference)
    return _detail_page(request, incident)


@desk_required
@require_GET
def case_file(request, reference):
    """The incident page as a PDF (incidents.case_file): 404 exactly like the page."""
    show_names = CaseFileForm(request.GET).show_names()
    file = case_file_for(
        user=request.user, reference=reference, show_names=show_names, now=timezone.now()
    )
    access_log_record(
        request=request,
        action=AccessAction.PRINT_CASE_FILE,
        incident=file.incident,
        what="case file PDF (desk)",
    )
    return case_file_response(file)


@desk_required
@require_http_methods(["GET", "POST"])
def police_summary(request, reference):
    """The officeholder's police summary, for an aangifte by the employer: only while the
    officeholder consents (policy rule "police_summary"); 404 otherwise."""
    return police_summary_page(request, reference, back_url_name="desk:detail", who="desk")


def _post(request, reference, *, key: str, form, run, success):
    """Run one change from the incident page (see portal.versioned.change_post)."""
    incident = _incident(request, reference)
    return change_post(
        request,
        form=form,
        run=lambda data: run(incident, data),
        success=success,
        redirect_to=reverse("desk:detail", kwargs={"reference": reference}),
        page=lambda posted: _detail_page(
            request, _incident(request, reference), bound={key: posted}
        ),
        current_version=lambda: _incident(request, reference).version,
    )


@desk_required
@require_POST
def aangifte_update(request, reference):
    """The desk records a step of the aangifte (policy rule `update_aangifte`)."""
    form = AangifteForm(request.POST)
    return _post(
        request,
        reference,
        key="aangifte",
        form=form,
        run=lambda incident, data: services.aangifte_update(
            incident=incident, actor=request.user, track=form.track(), version=data["version"]
        ),
        success=_("De aangifte is bijgewerkt. De ambtsdrager ziet dit ook."),
    )


def _other_incident(request, form, field="reference") -> Incident:
    """The incident a link or duplicate form names, in the registrar's scope (else refused)."""
    reference = form.cleaned_data[field]
    other = selectors.incident_find_for(user=request.user, reference=reference)
    if other is None:
        raise IncidentError(
            _("Er is geen melding met kenmerk %(reference)s gevonden bij uw meldpunt.")
            % {"reference": reference}
        )
    return other


def _action_inputs(request, name: str, form) -> dict:
    inputs = form.inputs()
    if name in ("link", "mark_duplicate"):
        inputs.pop("reference")
        inputs["other" if name == "link" else "original"] = _other_incident(request, form)
    return inputs


def _action_success(name: str, incident: Incident) -> str:
    if name == "assign":
        if incident.assignee is None:
            return _("De melding heeft nu geen behandelaar.")
        return _("%(name)s is nu behandelaar van deze melding.") % {"name": incident.assignee}
    if name == "mark_duplicate":
        return _("De melding is afgesloten als dubbele melding van %(reference)s.") % {
            "reference": incident.duplicate_of.reference
        }
    if name == "link":
        return _("De melding is gekoppeld.")
    return ACTION_SUCCESS[name]


@desk_required
@require_POST
def act(request, reference, action):
    """Take one workflow action (incidents.actions) from the incident page."""
    form = _action_form(action, request, _incident(request, reference), data=request.POST)

    def run(incident, data):
        return services.incident_act(
            incident=incident,
            actor=request.user,
            action=action,
            version=data["version"],
            **_action_inputs(request, action, form),
        )

    return _post(
        request,
        reference,
        key=action,
        form=form,
        run=run,
        success=lambda incident: _action_success(action, incident),
    )


@desk_required
@require_POST
def note(request, reference):
    return _post(
        request,
        reference,
        key="note",
        form=NoteForm(request.POST),
        run=lambda incident, data: services.note_add(
            incident=incident, actor=request.user, body=data["body"]
        ),
        success=_("Uw interne notitie is opgeslagen. De ambtsdrager ziet die niet."),
    )


def _message_form(request, incident: Incident, data=None, form_class=OfficeholderMessageForm):
    """The message to the officeholder, with the standard replies this registrar may use, each
    in the officeholder's language."""
    return form_class(
        data,
        replies=selectors.standard_replies_to_use(user=request.user),
        language=selectors.message_language_for(incident),
    )


def _reply_insert(request, reference):
    """ "Invoegen": the page again, with the chosen standard reply in the message box after
    what was typed. Nothing is sent."""
    incident = _incident(request, reference)
    form = _message_form(request, incident, request.POST, form_class=StandardReplyInsertForm)
    if form.is_valid():
        reply = form.cleaned_data["reply"]
        text = selectors.message_with_reply(
            typed=form.cleaned_data["body"],
            reply=reply,
            language=selectors.message_language_for(incident),
        )
        form = _message_form(request, incident)
        form.initial = {"body": text, "reply": reply.pk}
    return _detail_page(request, incident, bound={"message": form})


@desk_required
@require_POST
def message(request, reference):
    if "message-insert" in request.POST:
        return _reply_insert(request, reference)
    return _post(
        request,
        reference,
        key="message",
        form=_message_form(request, _incident(request, reference), request.POST),
        run=lambda incident, data: services.message_send(
            incident=incident,
            actor=request.user,
            audience=MessageAudience.OFFICEHOLDER_THREAD,
            body=data["body"],
        ),
        success=_("Uw bericht aan de ambtsdrager is verstuurd."),
    )


@desk_required
@require_POST
def staff_message(request, reference):
    return _post(
        request,
        reference,
        key="staff_message",
        form=StaffMessageForm(request.POST),
        run=lambda incident, data: services.message_send(
            incident=incident,
            actor=request.user,
            audience=MessageAudience.STAFF,
            body=data["body"],
        ),
        success=_("Uw bericht aan het Ondersteuningsteam is verstuurd."),
    )


@desk_required
@require_POST
def phone_call(request, reference):
    """Log a phone call about the incident (staff only)."""
    form = PhoneCallForm(request.POST)
    return _post(
        request,
        reference,
        key="phone_call",
        form=form,
        run=lambda incident, data: services.phone_call_add(
            incident=incident,
            actor=request.user,
            direction=data["direction"],
            other_party=data["other_party"],
            called_at=form.called_at(),
            summary=data["summary"],
        ),
        success=_("Het telefoongesprek staat in de tijdlijn. De ambtsdrager ziet het niet."),
    )
