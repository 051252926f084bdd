"""Pages of the officeholder: file quickly or fully, follow own incidents, talk with the desk."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import selectors, services, sharing
from incidents.constants import MessageAudience, Status
from incidents.errors import IncidentError, TransitionNotAllowed
from incidents.evidence import EvidenceRejected
from incidents.forms import (
    AangifteForm,
    CompleteReportForm,
    FollowUpForm,
    FullReportForm,
    MessageForm,
    QuickReportForm,
    SummaryConsentForm,
    WithdrawForm,
)
from incidents.policies import incident_policy
from incidents.views.police_summary import police_summary_page
from portal.models import AccessAction
from portal.policies import Workspace, user_policy, workspace_required
from portal.reachability import route_for_organisation
from portal.selectors import site_configuration_get
from portal.services import access_log_record, notification_mark_read
from portal.versioned import VersionedForm, change_post

officeholder_required = workspace_required(Workspace.REPORT)


def _filing_context(request, form, template, shared=None):
    # The desk that will really look (portal.reachability); None when only the team can.
    desk = route_for_organisation(organisation=request.user.organisation).desk
    return render(request, template, {"form": form, "desk": desk, "shared_upload": shared})


@officeholder_required
def incident_list(request):
    incidents = selectors.incident_list_for_officeholder(user=request.user)
    return render(request, "incidents/officeholder/list.html", {"incidents": incidents})


def _file(request, form_class, template, *, quick: bool, shared=None):
    """File a report. `shared`: a file shared to the portal (incidents/sharing.py), attached
    only now, when the person sends the report, and checked again like an upload."""
    if not user_policy.allows(request.user, "file_for", request.user):
        # The term is over: the open incidents stay, nothing new is filed.
        return render(request, "incidents/officeholder/filing_closed.html", status=403)
    form = form_class(request.POST or None, request.FILES or None, officeholder=request.user)
    if request.method == "POST" and form.is_valid():
        facts = form.facts()
        identifiers = [] if quick else form.identifiers()
        try:
            with sharing.shared_upload_files(shared) as shared_files:
                incident = services.incident_submit(
                    officeholder=request.user,
                    facts=facts,
                    identifiers=identifiers,
                    files=[*form.cleaned_data["evidence"], *shared_files],
                    quick=quick,
                    submission_token=form.cleaned_data["submission_token"],
                )
        except (IncidentError, EvidenceRejected) as error:
            form.add_error(None, str(getattr(error, "message", error)))
        else:
            response = redirect("incidents:confirmation", reference=incident.reference)
            if shared is not None:
                sharing.shared_upload_remove(shared=shared)
                response.delete_cookie(sharing.SHARE_COOKIE, path=sharing.SHARE_COOKIE_PATH)
            return response
    return _filing_context(request, form, template, shared)


@officeholder_required
@require_http_methods(["GET", "POST"])
def quick_report(request):
    shared = sharing.shared_upload_for(
        token=request.COOKIES.get(sharing.SHARE_COOKIE), user=request.user
    )
    return _file(
        request, QuickReportForm, "incidents/officeholder/quick.html", quick=True, shared=shared
    )


@officeholder_required
@require_http_methods(["GET", "POST"])
def full_report(request):
    return _file(request, FullReportForm, "incidents/officeholder/full.html", quick=False)


@officeholder_required
def confirmation(request, reference):
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    return render(
        request,
        "incidents/officeholder/confirmation.html",
        {
            "incident": incident,
            "steps": selectors.next_steps_for(incident=incident),
            "aangifte": selectors.aangifte_overview_for(incident=incident),
            "configuration": site_configuration_get(),
        },
    )


@officeholder_required
def detail(request, reference):
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    access_log_record(
        request=request, action=AccessAction.VIEW_INCIDENT, incident=incident, what="detail page"
    )
    notification_mark_read(user=request.user, reference=incident.reference)
    return _detail_page(request, incident)


def _aangifte_form(request, incident, aangifte, form=None):
    """The aangifte form for the page, or None when this person may not update the track."""
    if not incident_policy.allows(request.user, "update_aangifte", incident):
        return None
    texts = {row.code: row.why for row in aangifte.rows}
    if form is not None:
        form.apply_texts(texts)
        return form
    return AangifteForm(initial=AangifteForm.initial_from(incident), texts=texts)


def _detail_page(
    request,
    incident,
    *,
    message_form=None,
    follow_up_form=None,
    withdraw_form=None,
    aangifte_form=None,
):
    user = request.user
    aangifte = selectors.aangifte_overview_for(incident=incident)
    return render(
        request,
        "incidents/officeholder/detail.html",
        {
            "incident": incident,
            "timeline": selectors.timeline_for(user=user, incident=incident),
            "thread": selectors.thread_for(
                user=user, incident=incident, audience=MessageAudience.OFFICEHOLDER_THREAD
            ),
            "message_form": message_form or MessageForm(),
            "follow_up_form": follow_up_form or FollowUpForm(),
            "withdraw_form": withdraw_form or WithdrawForm(initial={"version": incident.version}),
            "may_withdraw": incident_policy.allows(user, "withdraw", incident),
            "may_add_information": incident_policy.allows(user, "add_information", incident),
            "may_complete": incident_policy.allows(user, "complete", incident),
            "may_give_summary_consent": incident_policy.allows(
                user, "give_summary_consent", incident
            ),
            "may_withdraw_summary_consent": incident_policy.allows(
                user, "withdraw_summary_consent", incident
            ),
            "protection": selectors.protection_for(user=user, incident=incident),
            "configuration": site_configuration_get(),
            "access_history": selectors.access_history_for(incident=incident),
            "aangifte": aangifte,
            "aangifte_form": _aangifte_form(request, incident, aangifte, aangifte_form),
            "aangifte_url": reverse("incidents:aangifte", kwargs={"reference": incident.reference}),
        },
    )


@officeholder_required
@require_POST
def aangifte_update(request, reference):
    """The officeholder records a step of the aangifte (policy rule `update_aangifte`)."""
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    if not incident_policy.allows(request.user, "update_aangifte", incident):
        messages.error(request, _("U kunt de aangifte van deze melding niet meer bijwerken."))
        return redirect(incident)
    form = AangifteForm(request.POST)
    return change_post(
        request,
        form=form,
        run=lambda data: services.aangifte_update(
            incident=incident, actor=request.user, track=form.track(), version=data["version"]
        ),
        success=_("De aangifte is bijgewerkt. Het meldpunt ziet dit ook."),
        redirect_to=incident.get_absolute_url() + "#aangifte",
        page=lambda posted: _detail_page(
            request,
            selectors.incident_detail_for(user=request.user, reference=reference),
            aangifte_form=posted,
        ),
        current_version=lambda: (
            selectors.incident_detail_for(user=request.user, reference=reference).version
        ),
    )


@officeholder_required
@require_POST
def send_message(request, reference):
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    form = MessageForm(request.POST)
    if form.is_valid():
        services.message_send(
            incident=incident,
            actor=request.user,
            audience=MessageAudience.OFFICEHOLDER_THREAD,
            body=form.cleaned_data["body"],
        )
        messages.success(
            request, _("Uw bericht is verstuurd. Het meldpunt leest het zo snel mogelijk.")
        )
        return redirect(incident.get_absolute_url() + "#berichten")
    return _detail_page(request, incident, message_form=form)


@officeholder_required
@require_POST
def follow_up(request, reference):
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    if not incident_policy.allows(request.user, "add_information", incident):
        messages.error(request, _("U kunt aan deze melding niets meer toevoegen."))
        return redirect(incident)
    form = FollowUpForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.incident_follow_up_add(
                incident=incident,
                actor=request.user,
                text=form.cleaned_data["text"],
                files=form.cleaned_data["evidence"],
            )
        except IncidentError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Uw aanvulling is toegevoegd aan de melding."))
            return redirect(incident)
    return _detail_page(request, incident, follow_up_form=form)


def _withdraw_refused_message(incident) -> str:
    if incident.status == Status.WITHDRAWN:
        return _("Deze melding is al ingetrokken.")
    return _(
        "Het meldpunt is al met uw melding begonnen. Intrekken kan daarom niet meer. "
        "Wilt u iets laten weten? Stuur het meldpunt een bericht."
    )


@officeholder_required
@require_POST
def withdraw(request, reference):
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.incident_act(
                incident=incident,
                actor=request.user,
                action="withdraw",
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except TransitionNotAllowed:
            messages.error(request, _withdraw_refused_message(incident))
        except IncidentError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Uw melding is ingetrokken. Het meldpunt doet er niets meer mee.")
            )
        return redirect(incident)
    return _detail_page(request, incident, withdraw_form=form)


@officeholder_required
@require_POST
def request_security_advice(request, reference):
    """Ask the Ondersteuningsteam for a security advice (only a function that qualifies; the
    incident policy decides, so a direct POST of anyone else is refused like the page)."""
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    form = VersionedForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Er ging iets mis. Laad de pagina opnieuw en probeer het nog eens.")
        )
        return redirect(incident)
    try:
        services.incident_act(
            incident=incident,
            actor=request.user,
            action="request_security_advice",
            version=form.cleaned_data["version"],
        )
    except TransitionNotAllowed as error:
        # A closed incident says so (the row's `refused`); otherwise the function does not
        # qualify: the page shows what else helps.
        refused = error.message != TransitionNotAllowed.default_message
        messages.error(
            request,
            error.message
            if refused
            else _(
                "Beveiligingsadvies aanvragen kan niet voor uw functie. Op de pagina van uw "
                "melding staat wat u wel kunt doen."
            ),
        )
    except IncidentError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Uw aanvraag voor beveiligingsadvies is verstuurd. Het Ondersteuningsteam "
                "neemt contact met u op."
            ),
        )
    return redirect(f"{incident.get_absolute_url()}#beveiliging")


@officeholder_required
@require_http_methods(["GET", "POST"])
def complete(request, reference):
    """Complete a quick report into a full one, or correct the facts of an open incident."""
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    if not incident_policy.allows(request.user, "complete", incident):
        messages.error(request, _("U kunt deze melding niet meer aanvullen."))
        return redirect(incident)

    def page(form):
        return render(
            request, "incidents/officeholder/complete.html", {"form": form, "incident": incident}
        )

    if request.method != "POST":
        initial = {**CompleteReportForm.initial_from(incident), "version": incident.version}
        return page(CompleteReportForm(initial=initial, officeholder=request.user))
    form = CompleteReportForm(request.POST, officeholder=request.user)
    return change_post(
        request,
        form=form,
        run=lambda data: services.incident_complete(
            incident=incident,
            actor=request.user,
            facts=form.facts(),
            identifiers=form.identifiers(),
            version=data["version"],
        ),
        success=_("Uw melding is aangevuld. Dank u wel."),
        redirect_to=incident.get_absolute_url(),
        page=page,
        current_version=lambda: (
            selectors.incident_detail_for(user=request.user, reference=reference).version
        ),
    )


@officeholder_required
@require_http_methods(["GET", "POST"])
def police_summary(request, reference):
    """The summary for the police: tick what goes in, get the PDF (incidents.police_summary)."""
    return police_summary_page(
        request, reference, back_url_name="incidents:detail", who="officeholder"
    )


@officeholder_required
@require_POST
def summary_consent(request, reference):
    """Give or withdraw the consent that the desk makes the police summary for an aangifte by
    the employer (services.summary_consent_set)."""
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    form = SummaryConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Kies of u toestemming geeft of intrekt."))
        return redirect(incident.get_absolute_url() + "#toestemming")
    try:
        services.summary_consent_set(incident=incident, actor=request.user, given=form.given())
    except IncidentError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Uw toestemming is vastgelegd. Het meldpunt kan nu een samenvatting voor de "
                "politie maken. U kunt de toestemming altijd weer intrekken."
            )
            if form.given()
            else _(
                "Uw toestemming is ingetrokken. Het meldpunt kan geen samenvatting voor de "
                "politie meer maken."
            ),
        )
    return redirect(incident.get_absolute_url() + "#toestemming")


# --- The officeholder's own data: export and deleting a withdrawn incident ----------------------


def _export_logged(request, what: str) -> dict:
    data = selectors.officeholder_data_export(user=request.user)
    access_log_record(request=request, action=AccessAction.EXPORT, what=what)
    return data


@officeholder_required
@require_GET
def export_page(request):
    """All the officeholder's data on one printable page (save as PDF from the browser)."""
    data = _export_logged(request, "data export (page)")
    return render(request, "incidents/officeholder/export.html", {"export": data})


@officeholder_required
@require_GET
def export_json(request):
    """All the officeholder's data as a JSON download."""
    data = _export_logged(request, "data export (JSON)")
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = 'attachment; filename="mijn-gegevens.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@officeholder_required
@require_POST
def delete_withdrawn(request, reference):
    """Delete one's own withdrawn incident for good, with its files."""
    incident = selectors.incident_detail_for(user=request.user, reference=reference)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Vink aan dat u de melding definitief wilt verwijderen."))
        return _detail_page(request, incident)
    try:
        services.incident_delete_withdrawn(incident=incident, actor=request.user)
    except IncidentError:
        messages.error(request, _("Alleen een ingetrokken melding kunt u verwijderen."))
        return redirect(incident)
    messages.success(
        request,
        _("Melding %(reference)s is verwijderd, met alle bestanden.")
        % {"reference": incident.reference},
    )
    return redirect("incidents:list")
