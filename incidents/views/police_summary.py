"""The choices page of the summary for the police and its PDF (incidents.police_summary).

One view body for both doors: the officeholder's own page (`incidents:police_summary`) and the
desk's, with the officeholder's consent (`desk:police_summary`). The policy decides who gets
it (404 otherwise); a GET shows the choices, a POST with valid choices answers the PDF as a
download. Each is access-logged: the page as a view of the incident, the PDF on its own.
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from incidents.forms import PoliceSummaryForm
from incidents.police_summary import (
    police_summary_build,
    police_summary_page_for,
    police_summary_response,
)
from portal.models import AccessAction
from portal.services import access_log_record


def police_summary_page(request, reference: str, *, back_url_name: str, who: str):
    page = police_summary_page_for(user=request.user, reference=reference)
    form = PoliceSummaryForm(request.POST if request.method == "POST" else None, page=page)
    if form.is_valid():
        summary = police_summary_build(
            page=page, user=request.user, choices=form.choices(), now=timezone.now()
        )
        access_log_record(
            request=request,
            action=AccessAction.PRINT_POLICE_SUMMARY,
            incident=page.incident,
            what=f"police summary PDF ({who})",
        )
        return police_summary_response(summary)
    access_log_record(
        request=request,
        action=AccessAction.VIEW_INCIDENT,
        incident=page.incident,
        what="police summary choices",
    )
    return render(
        request,
        "incidents/police_summary_choices.html",
        {
            "page": page,
            "incident": page.incident,
            "form": form,
            "back_url": reverse(back_url_name, kwargs={"reference": page.incident.reference}),
        },
    )
