"""Pages of the meld- en steunpunt (desk): queue, incident triage page, overview, export, filing.

Only registrars get here; every other role gets a 404 (`role_required`). Incidents are fetched
through `incidents.access`, so another desk's incident answers 404 on every URL. Each action
is a POST endpoint that validates one form and calls one service. On an error (a stale version
included) the incident page is rendered again with the typed text still in the form.
"""

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import access, selectors, services
from incidents.constants import MessageAudience, Status
from incidents.errors import IncidentError, StaleVersion
from incidents.forms_desk import (
    AssignForm,
    CloseForm,
    DuplicateForm,
    EscalateForm,
    FileOnBehalfForm,
    LinkForm,
    NoteForm,
    OfficeholderMessageForm,
    QueueFilterForm,
    ReopenForm,
    StaffMessageForm,
    TakeForm,
    TriageForm,
)
from incidents.models import Incident
from portal.access import role_required
from portal.constants import Role
from portal.models import AccessAction
from portal.selectors import desk_colleagues
from portal.services import access_log_record

registrar_required = role_required(Role.REGISTRAR)

QUEUE_PAGE_SIZE = 25
# What a queue row shows. Leaving out the (encrypted) free text keeps the rows that the
# database sorts before paging small.
QUEUE_COLUMNS = (
    "reference",
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
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


# --- Queue, overview, export --------------------------------------------------------------------


def _queue_filter_form(request) -> QueueFilterForm:
    return QueueFilterForm(
        request.GET or None,
        organisations=selectors.desk_organisations(desk=request.user.desk),
    )


@registrar_required
@require_GET
def queue(request):
    """The desk's incidents, most urgent first, with filters, search, sorting and pages."""
    form = _queue_filter_form(request)
    filters = form.filters() if form.is_bound else {}
    incidents = selectors.incident_queue_for(user=request.user, filters=filters).only(
        *QUEUE_COLUMNS
    )
    page = Paginator(incidents, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/desk/queue.html",
        {
            "form": form,
            "page": page,
            "incidents": page.object_list,
            "page_range": page.paginator.get_elided_page_range(page.number, on_ends=1),
            "filter_query": query.urlencode(),
            "filtered": any(value for key, value in filters.items() if key != "sort"),
        },
    )


@registrar_required
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


@registrar_required
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


@registrar_required
@require_http_methods(["GET", "POST"])
def file_incident(request):
    """Register an incident for an officeholder who phoned or came by ("filed by the desk")."""
    officeholders = selectors.desk_officeholders(desk=request.user.desk)
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


def _incident(request, reference) -> Incident:
    """The incident with what its page shows, or 404 when it is not this desk's."""
    return selectors.incident_detail_for(user=request.user, reference=reference)


def _forms_for(request, incident: Incident) -> dict:
    """Fresh forms for the incident page, each carrying the current version."""
    version = {"version": incident.version}
    colleagues = desk_colleagues(desk=request.user.desk)
    return {
        "take_form": TakeForm(initial=version),
        "assign_form": AssignForm(
            initial={**version, "assignee": incident.assignee_id}, colleagues=colleagues
        ),
        "triage_form": TriageForm(initial=TriageForm.initial_from(incident)),
        "close_form": CloseForm(initial=version),
        "reopen_form": ReopenForm(initial=version),
        "escalate_form": EscalateForm(initial=version),
        "duplicate_form": DuplicateForm(initial=version),
        "link_form": LinkForm(),
        "note_form": NoteForm(),
        "message_form": OfficeholderMessageForm(),
        "staff_form": StaffMessageForm(),
    }


def _detail_page(request, incident: Incident, *, bound: dict | None = None):
    """Render the incident page; `bound` replaces fresh forms by the ones just posted."""
    user = request.user
    targets = access.transitions_for(user, incident)
    forms = _forms_for(request, incident)
    forms.update(bound or {})
    errors = []
    for form in (bound or {}).values():
        errors += list(form.non_field_errors())
        for name, field_errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else None
            if name != "__all__":
                errors += [f"{label}: {error}" if label else error for error in field_errors]
    context = {
        "incident": incident,
        "is_overdue": selectors.incident_is_overdue(incident),
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
        "duplicate_of_visible": bool(
            incident.duplicate_of_id and incident.duplicate_of.desk_id == user.desk_id
        ),
        "may_take": incident.status == Status.SUBMITTED and Status.IN_TRIAGE in targets,
        "may_reopen": incident.status == Status.CLOSED and Status.IN_TRIAGE in targets,
        "may_close": Status.CLOSED in targets,
        "may_escalate": Status.ESCALATED in targets,
        "may_triage": access.may_triage(user, incident),
        "may_assign": incident.is_open,
        "may_write_note": access.may_write_note(user, incident),
        "form_errors": errors,
        **forms,
    }
    return render(request, "incidents/desk/detail.html", context)


@registrar_required
@require_GET
def detail(request, reference):
    """The incident as the desk sees it; the first visit is shown to the officeholder."""
    incident = _incident(request, reference)
    services.incident_mark_viewed(incident=incident, actor=request.user)
    access_log_record(
        request=request, action=AccessAction.VIEW_INCIDENT, incident=incident, what="detail page"
    )
    return _detail_page(request, incident)


def _act(request, reference, form_key, form, action, success):
    """Validate `form`, run `action(incident, cleaned_data)`, redirect with `success`.

    On invalid input or a refused change, the page comes back with the typed text kept;
    after a stale version, the form carries the new version so that sending again works.
    """
    incident = _incident(request, reference)
    if form.is_valid():
        try:
            outcome = action(incident, form.cleaned_data)
        except StaleVersion as error:
            form.add_error(None, error.message)
            # Show the incident as it is now; the next send is checked against that version.
            incident = _incident(request, reference)
            if hasattr(form, "refresh_version"):
                form.refresh_version(incident.version)
        except IncidentError as error:
            form.add_error(None, error.message)
            incident = _incident(request, reference)
        else:
            message = success(outcome) if callable(success) else success
            level = messages.INFO if outcome is False else messages.SUCCESS
            messages.add_message(request, level, message)
            return redirect("desk:detail", reference=reference)
    return _detail_page(request, incident, bound={form_key: form})


@registrar_required
@require_POST
def take(request, reference):
    return _act(
        request,
        reference,
        "take_form",
        TakeForm(request.POST),
        lambda incident, data: services.incident_take(
            incident=incident, actor=request.user, version=data["version"]
        ),
        _("U heeft de melding in behandeling genomen."),
    )


@registrar_required
@require_POST
def assign(request, reference):
    form = AssignForm(request.POST, colleagues=desk_colleagues(desk=request.user.desk))

    def action(incident, data):
        return services.incident_assign(
            incident=incident,
            actor=request.user,
            assignee=data["assignee"],
            version=data["version"],
        )

    def success(incident):
        if incident.assignee is None:
            return _("De melding heeft nu geen behandelaar.")
        return _("%(name)s is nu behandelaar van deze melding.") % {"name": incident.assignee}

    return _act(request, reference, "assign_form", form, action, success)


@registrar_required
@require_POST
def triage(request, reference):
    return _act(
        request,
        reference,
        "triage_form",
        TriageForm(request.POST),
        lambda incident, data: services.incident_triage(
            incident=incident,
            actor=request.user,
            version=data["version"],
            triage_severity=data["triage_severity"],
            risk_flags=data["risk_flags"],
            types=data["types"],
            advice_given=data["advice_given"],
            advice_note=data["advice_note"],
        ),
        _("De beoordeling is opgeslagen."),
    )


@registrar_required
@require_POST
def close(request, reference):
    return _act(
        request,
        reference,
        "close_form",
        CloseForm(request.POST),
        lambda incident, data: services.incident_close(
            incident=incident, actor=request.user, outcome=data["outcome"], version=data["version"]
        ),
        _("De melding is afgesloten."),
    )


@registrar_required
@require_POST
def reopen(request, reference):
    return _act(
        request,
        reference,
        "reopen_form",
        ReopenForm(request.POST),
        lambda incident, data: services.incident_reopen(
            incident=incident, actor=request.user, reason=data["reason"], version=data["version"]
        ),
        _("De melding is weer geopend."),
    )


@registrar_required
@require_POST
def escalate(request, reference):
    def action(incident, data):
        escalation = services.incident_escalate(
            incident=incident, actor=request.user, reason=data["reason"], version=data["version"]
        )
        return escalation is not None

    def success(escalated):
        if escalated:
            return _("De melding is doorgegeven aan het Ondersteuningsteam.")
        return _("Deze melding was al doorgegeven aan het Ondersteuningsteam.")

    return _act(request, reference, "escalate_form", EscalateForm(request.POST), action, success)


@registrar_required
@require_POST
def note(request, reference):
    def action(incident, data):
        if not access.may_write_note(request.user, incident):
            raise IncidentError()
        return services.note_add(incident=incident, actor=request.user, body=data["body"])

    return _act(
        request,
        reference,
        "note_form",
        NoteForm(request.POST),
        action,
        _("Uw interne notitie is opgeslagen. De ambtsdrager ziet die niet."),
    )


@registrar_required
@require_POST
def message(request, reference):
    return _act(
        request,
        reference,
        "message_form",
        OfficeholderMessageForm(request.POST),
        lambda incident, data: services.message_send(
            incident=incident,
            actor=request.user,
            audience=MessageAudience.OFFICEHOLDER_THREAD,
            body=data["body"],
        ),
        _("Uw bericht aan de ambtsdrager is verstuurd."),
    )


@registrar_required
@require_POST
def staff_message(request, reference):
    return _act(
        request,
        reference,
        "staff_form",
        StaffMessageForm(request.POST),
        lambda incident, data: services.message_send(
            incident=incident,
            actor=request.user,
            audience=MessageAudience.STAFF,
            body=data["body"],
        ),
        _("Uw bericht aan het Ondersteuningsteam is verstuurd."),
    )


def _other_incident(request, reference: str) -> Incident:
    other = selectors.incident_find_for(user=request.user, reference=reference)
    if other is None:
        raise IncidentError(
            _("Er is geen melding met kenmerk %(reference)s gevonden bij uw meldpunt.")
            % {"reference": reference}
        )
    return other


@registrar_required
@require_POST
def link(request, reference):
    def action(incident, data):
        other = _other_incident(request, data["reference"])
        created = services.incident_link(
            incident=incident,
            other=other,
            actor=request.user,
            kind=data["kind"],
            reason=data["reason"],
        )
        return other.reference if created else False

    def success(linked):
        if linked is False:
            return _("Deze meldingen waren al aan elkaar gekoppeld.")
        return _("De melding is gekoppeld aan %(reference)s.") % {"reference": linked}

    return _act(request, reference, "link_form", LinkForm(request.POST), action, success)


@registrar_required
@require_POST
def duplicate(request, reference):
    def action(incident, data):
        original = _other_incident(request, data["reference"])
        return services.incident_mark_duplicate(
            incident=incident, original=original, actor=request.user, version=data["version"]
        )

    def success(closed):
        return _("De melding is afgesloten als dubbele melding van %(reference)s.") % {
            "reference": closed.duplicate_of.reference
        }

    return _act(request, reference, "duplicate_form", DuplicateForm(request.POST), action, success)
