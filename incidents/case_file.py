"""The printable case file ("dossier als PDF") of the desk's incident page and the team's page.

A case file never shows more than the page of the person who prints it: it is built from that
page's own reads (`desk_case_file_for` here from the desk's selectors; the Ondersteuningsteam's
from `support.selectors.support_case_file_for`), so the same policies decide. It holds the
facts, the timeline as that page shows it, the support plan (the team's only) and the evidence
with its SHA-256 fingerprints. Staff names are optional: without them a person is shown by
their team ("Meldpunt Utrecht", "Ondersteuningsteam"). `portal.pdf` draws it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import HttpResponse
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import selectors
from incidents.models import Incident
from incidents.selectors import TimelineEntry, author_label
from portal.pdf import pdf_download, render_pdf
from portal.policies import team_label

TEMPLATE = "incidents/case_file.html"


@dataclass(frozen=True)
class CaseFileLine:
    """One moment of the timeline as printed: who is a name or a team."""

    at: datetime
    who: str
    label: str
    text: str
    internal: bool


@dataclass(frozen=True)
class PlanRow:
    """One step of the support plan as printed."""

    title: str
    status: str
    owner: str
    due_on: date | None
    description: str
    shared_with_desk: bool


@dataclass(frozen=True)
class CaseFile:
    incident: Incident
    title: str
    # Who printed it ("Meldpunt Utrecht" or a name) and when.
    printed_by: str
    printed_at: datetime
    show_names: bool
    # (label, value) lines at the top: status, handler, ...
    summary: list[tuple[str, str]]
    timeline: list[CaseFileLine]
    plan: list[PlanRow] = field(default_factory=list)
    has_plan: bool = False


def staff_label(person, *, show_names: bool) -> str:
    """A staff member as printed: "Naam (Meldpunt Utrecht)", or only the team without names."""
    if person is None:
        return ""
    if show_names:
        return author_label(person, person.role)
    return team_label(role=person.role, desk=person.desk if person.desk_id else None) or _(
        "medewerker"
    )


def case_file_timeline(
    timeline: list[TimelineEntry], *, show_names: bool, nameless_text=None
) -> list[CaseFileLine]:
    """The page's timeline as printed. `nameless_text(entry)` replaces a text that holds a
    name (for example "Casemanager: <naam>") when names are not shown."""
    lines = []
    for entry in timeline:
        if show_names:
            who = entry.name or entry.actor
            text = entry.text
        else:
            who = entry.team or entry.actor
            text = nameless_text(entry) if nameless_text else entry.text
        lines.append(
            CaseFileLine(
                at=entry.at, who=who, label=entry.label, text=text, internal=entry.internal
            )
        )
    return lines


def desk_case_file_for(*, user, reference: str, show_names: bool, now: datetime) -> CaseFile:
    """The desk's case file: what the desk's incident page shows, or 404 like that page."""
    incident = selectors.incident_detail_for(user=user, reference=reference)
    timeline = selectors.timeline_for(user=user, incident=incident)
    summary = [
        (_("Status"), incident.get_status_display()),
        (_("Meldpunt"), str(incident.desk)),
        (_("Ontvangen op"), _moment(incident.submitted_at)),
        (_("Ernst volgens melder"), incident.get_reporter_severity_display() or "—"),
        (_("Beoordeling meldpunt"), incident.get_triage_severity_display() or _("Nog niet")),
        (
            _("Behandelaar"),
            staff_label(incident.assignee, show_names=show_names) or _("Niemand"),
        ),
    ]
    return CaseFile(
        incident=incident,
        title=_("Dossier %(reference)s") % {"reference": incident.reference},
        printed_by=staff_label(user, show_names=show_names),
        printed_at=now,
        show_names=show_names,
        summary=summary,
        timeline=case_file_timeline(timeline, show_names=show_names),
    )


def _moment(value: datetime | None) -> str:
    return date_filter(timezone.localtime(value), "j F Y H:i") if value else "—"


def case_file_pdf(case_file: CaseFile) -> bytes:
    return render_pdf(
        TEMPLATE,
        {"file": case_file, "incident": case_file.incident},
        title=case_file.title,
        stylesheets=("css/case_file.css",),
    )


def case_file_response(case_file: CaseFile) -> HttpResponse:
    """The PDF as a download named after the reference ("MWB-2026-000123-dossier.pdf")."""
    return pdf_download(case_file_pdf(case_file), f"{case_file.incident.reference}-dossier.pdf")
