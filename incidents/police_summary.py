"""The summary for the police ("samenvatting voor de politie"): a PDF the officeholder controls.

The officeholder ticks what goes in: the facts, each evidence file (with its SHA-256
fingerprints), the timeline; the messages with the desk, the "bekeken door het meldpunt" lines
and the effects on their health and work are left out unless ticked. Where it happened is left
out of an incident at home or whose perpetrator knows the home address (`home_sensitive`)
unless the officeholder ticks it after a warning; the desk may never put it in then (policy
rule "police_summary_home_location"). Nothing of the officeholder's profile (phone, contact
wishes; the profile holds no address) and nothing only staff see (triage, notes, the staff
channel, internal events) is ever in it.

The desk makes the same document for an aangifte by the employer, only while the officeholder
consents (policy rule "police_summary", `Incident.summary_consent_at`): built from what the
officeholder's own page shows, never from the desk's view. `portal.pdf` draws it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpResponse
from django.template.defaultfilters import date as date_filter
from django.utils.translation import gettext as _

from incidents.aangifte import track_lines
from incidents.constants import (
    Channel,
    EventKind,
    IncidentType,
    MessageAudience,
    RiskFlag,
)
from incidents.models import Evidence, Incident
from incidents.policies import incident_policy
from incidents.selectors import _event_label
from portal.pdf import pdf_download, render_pdf
from portal.policies import team_label

TEMPLATE = "incidents/police_summary.html"


def home_sensitive(incident: Incident) -> bool:
    """Whether "where it happened" may give away the home: it happened at home, the desk noted
    that the perpetrator knows the home address, or it is doxing (personal data spread)."""
    return (
        incident.channel == Channel.AT_HOME
        or RiskFlag.HOME_ADDRESS_KNOWN in (incident.risk_flags or ())
        or IncidentType.DOXING in (incident.types or ())
    )


@dataclass(frozen=True)
class SummaryChoices:
    """What goes in. The defaults are the safe ones (`SummaryChoices.defaults_for`)."""

    facts: bool = True
    location: bool = False
    evidence_ids: frozenset[int] = frozenset()
    timeline: bool = True
    messages: bool = False
    views: bool = False
    impacts: bool = False

    @classmethod
    def defaults_for(cls, page: "SummaryPage") -> "SummaryChoices":
        return cls(
            location=page.location_offered and not page.home_sensitive,
            evidence_ids=frozenset(evidence.pk for evidence in page.evidence),
        )


@dataclass(frozen=True)
class SummaryPage:
    """The incident and what the choices page offers to this person."""

    incident: Incident
    # The files that have a fingerprint (a file still being checked has its original's).
    evidence: list[Evidence]
    home_sensitive: bool
    # Whether "where" can be chosen at all: there is a location, and for a home-sensitive
    # incident only the officeholder may choose it.
    location_offered: bool
    by_desk: bool


def police_summary_page_for(*, user, reference: str) -> SummaryPage:
    """The choices page of this incident's police summary, or 404 when the person may not
    make it (out of scope, anonymised, or the desk without the officeholder's consent)."""
    queryset = Incident.objects.select_related("organisation", "officeholder").prefetch_related(
        "evidence", "identifiers"
    )
    incident = incident_policy.get(user, "police_summary", queryset=queryset, reference=reference)
    sensitive = home_sensitive(incident)
    location_offered = bool(incident.location) and (
        not sensitive or incident_policy.allows(user, "police_summary_home_location", incident)
    )
    return SummaryPage(
        incident=incident,
        evidence=[e for e in incident.evidence.all() if e.sha256 or e.original_sha256],
        home_sensitive=sensitive,
        location_offered=location_offered,
        # Anyone else the policy lets in is the desk, with the officeholder's consent.
        by_desk=incident.officeholder_id != user.pk,
    )


# --- What the document holds --------------------------------------------------------------------


def police_lines(incident: Incident) -> list[tuple[str, str]]:
    """Where the aangifte stands (the aangifte track), one line per step reached."""
    return [(_("Aangifte"), line) for line in track_lines(incident.aangifte_track)]


def summary_facts(incident: Incident, *, location: bool, impacts: bool) -> list[tuple[str, str]]:
    """The facts section as (label, value) lines: what happened, who did it, who else was
    hit, and the police so far (`police_lines`). "Waar" only with `location`, the effects on
    the officeholder only with `impacts`. Never the contact details or the desk's triage."""
    when = date_filter(incident.occurred_on, "j F Y")
    if incident.occurred_at:
        when = f"{when} {incident.occurred_at:%H:%M}"
    lines = [
        (_("Soort"), ", ".join(incident.type_labels())),
        (_("Wanneer"), when),
        (_("In één zin"), incident.summary),
    ]
    if incident.description:
        lines.append((_("Wat er gebeurde"), incident.description))
    if location and incident.location:
        lines.append((_("Waar"), incident.location))
    if incident.channel:
        how = incident.get_channel_display()
        lines.append((_("Hoe"), f"{how} ({incident.platform})" if incident.platform else how))
    if incident.links:
        lines.append((_("Links"), incident.links))
    if incident.reporter_severity:
        lines.append(
            (_("Hoe ernstig (volgens de ambtsdrager)"), incident.get_reporter_severity_display())
        )
    if incident.perpetrator_known:
        lines.append((_("Dader"), incident.perpetrator_label()))
    if incident.perpetrator_kind:
        lines.append((_("Soort dader"), incident.get_perpetrator_kind_display()))
    if incident.perpetrator_relation:
        lines.append((_("Relatie"), incident.get_perpetrator_relation_display()))
    if incident.perpetrator_description:
        lines.append((_("Beschrijving dader"), incident.perpetrator_description))
    identifiers = [f"{i.get_kind_display()}: {i.value}" for i in incident.identifiers.all()]
    if identifiers:
        lines.append((_("Kenmerken dader"), "\n".join(identifiers)))
    if incident.affected_people:
        lines.append((_("Ook geraakt"), ", ".join(incident.affected_people_labels())))
    if impacts and incident.impacts:
        lines.append((_("Gevolgen voor de ambtsdrager"), ", ".join(incident.impact_labels())))
    lines.extend(police_lines(incident))
    return lines


@dataclass(frozen=True)
class SummaryLine:
    """One moment of the timeline, or one message, as printed: who is a team, never a name of
    staff ("Meldpunt Utrecht", "ambtsdrager")."""

    at: datetime
    who: str
    label: str
    text: str


def _who(person, role: str) -> str:
    if person is None:
        return _("Automatische controle") if role == "system" else ""
    return team_label(role=role, desk=person.desk if person.desk_id else None)


def summary_timeline(incident: Incident, *, views: bool) -> list[SummaryLine]:
    """What the officeholder's own timeline shows, without the messages (a section of their
    own) and, unless `views`, without the "bekeken door het meldpunt" lines."""
    hidden = {EventKind.MESSAGE} | (set() if views else {EventKind.VIEWED_BY_DESK})
    events = (
        incident.events.filter(visible_to_officeholder=True)
        .exclude(kind__in=sorted(hidden))
        .select_related("actor", "actor__desk")
    )
    lines = []
    for event in events:
        text = ""
        if event.kind == EventKind.FOLLOW_UP:
            text = event.payload.get("text", "")
        elif event.kind == EventKind.STATUS_CHANGED:
            # As on the officeholder's page: the outcome, or the reason they gave themselves.
            text = event.payload.get("outcome") or ""
            if event.actor_id is not None and event.actor_id == incident.officeholder_id:
                text = text or event.payload.get("reason") or ""
        lines.append(
            SummaryLine(
                at=event.created_at,
                who=_who(event.actor, event.actor_role),
                label=_event_label(event),
                text=text,
            )
        )
    return lines


def summary_messages(incident: Incident) -> list[SummaryLine]:
    """The officeholder's thread with the desk (never the staff channel)."""
    messages = incident.messages.filter(
        audience=MessageAudience.OFFICEHOLDER_THREAD
    ).select_related("author", "author__desk")
    return [
        SummaryLine(
            at=message.created_at,
            who=_who(message.author, message.author_role),
            label=_("Bericht"),
            text=message.body,
        )
        for message in messages
    ]


@dataclass(frozen=True)
class PoliceSummary:
    incident: Incident
    title: str
    made_by: str
    made_at: datetime
    by_desk: bool
    consent_since: datetime | None
    # None: not chosen (the section is left out); a list: chosen (maybe empty).
    facts: list[tuple[str, str]] | None
    evidence: list[Evidence] | None
    timeline: list[SummaryLine] | None
    messages: list[SummaryLine] | None


def police_summary_build(
    *, page: SummaryPage, user, choices: SummaryChoices, now: datetime
) -> PoliceSummary:
    """The document with exactly what was chosen. "Where" only when the page offers it (so
    never by the desk for a home-sensitive incident, whatever was sent), files only of this
    incident that the page offers."""
    incident = page.incident
    location = choices.location and page.location_offered
    evidence = [e for e in page.evidence if e.pk in choices.evidence_ids]
    return PoliceSummary(
        incident=incident,
        title=_("Samenvatting voor de politie %(reference)s") % {"reference": incident.reference},
        made_by=(_who(user, user.role) or _("medewerker") if page.by_desk else _("de ambtsdrager")),
        made_at=now,
        by_desk=page.by_desk,
        consent_since=incident.summary_consent_at if page.by_desk else None,
        facts=(
            summary_facts(incident, location=location, impacts=choices.impacts)
            if choices.facts
            else None
        ),
        evidence=evidence if choices.evidence_ids else None,
        timeline=summary_timeline(incident, views=choices.views) if choices.timeline else None,
        messages=summary_messages(incident) if choices.messages else None,
    )


def police_summary_pdf(summary: PoliceSummary) -> bytes:
    return render_pdf(
        TEMPLATE,
        {"summary": summary, "incident": summary.incident},
        title=summary.title,
        stylesheets=("css/case_file.css",),
    )


def police_summary_response(summary: PoliceSummary) -> HttpResponse:
    """The PDF as a download named after the reference ("MWB-2026-000123-politie.pdf")."""
    return pdf_download(police_summary_pdf(summary), f"{summary.incident.reference}-politie.pdf")
