"""Reads of the support workspace: the inbox per case status (searched and filtered), the
agenda of planned actions, and one case with its history.

Scoping always starts from `support.access`; the incident's history comes from
`incidents.selectors`, so the team sees exactly what `incidents.access` allows it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet, TextChoices
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from incidents import selectors as incident_selectors
from incidents.case_file import CaseFile, PlanRow, case_file_timeline, staff_label
from incidents.constants import (
    OFFICEHOLDER_VISIBLE_EVENTS,
    EventKind,
    IdentifierKind,
    MessageAudience,
)
from incidents.models import Escalation, Incident, Message
from incidents.policies import incident_policy, match_policy
from portal.models import User
from portal.policies import user_policy
from portal.selectors import covered_colleagues, covers
from support.constants import (
    OPEN_ACTION_STATUSES,
    ActionStatus,
    CaseStatus,
    RuleCode,
    SecurityAdviceStep,
    ServiceType,
)
from support.models import SupportAction, SupportCase
from support.policies import case_policy, support_action_policy

INBOX_PAGE_SIZE = 50

# The values of the handler / owner filters besides a member's pk.
ME = "me"
NOBODY = "nobody"

# Most urgent first. An open case: acknowledgement deadline passed first, then the incident's
# urgency (`incidents.actions.urgency_rank`: acute danger and critical first), then the
# nearest deadline. A closed or returned one: the most recently closed first.
_INBOX_ORDER = {
    CaseStatus.CLOSED: ("-closed_at", "-pk"),
    CaseStatus.RETURNED: ("-closed_at", "-pk"),
}
_URGENT_ORDER = ("-ack_overdue", "incident__urgency_rank", "acknowledge_due_at", "pk")


def age_label(moment: datetime, *, now: datetime | None = None) -> str:
    """How long ago, in words: "3 uur geleden" (the largest unit only)."""
    now = now or timezone.now()
    if now - moment < timedelta(minutes=1):
        return _("zojuist")
    return _("%(age)s geleden") % {"age": timesince(moment, now, depth=1)}


def escalation_reasons(escalation: Escalation) -> list[str]:
    """Why the incident was escalated: the labels of the rules that fired, or the reason typed."""
    labels = dict(RuleCode.choices)
    reasons = [str(labels.get(code, code)) for code in escalation.rules]
    if escalation.reason:
        reasons.append(escalation.reason)
    return reasons


def escalated_by_label(escalation: Escalation) -> str:
    """Who escalated: a person (with their desk), or the automatic rules."""
    person = escalation.escalated_by
    if person is None:
        return _("Automatische regel")
    if person.desk_id:
        return f"{person} ({person.desk})"
    return str(person)


@dataclass(frozen=True)
class InboxRow:
    case: SupportCase
    reference: str
    officeholder: str
    organisation: str
    age: str
    is_overdue: bool
    escalated_by: str
    reasons: list[str]
    # The absent colleague whose case this is, when the viewer covers them ("" otherwise).
    covering_for: str = ""


@dataclass(frozen=True)
class Inbox:
    status: CaseStatus
    tabs: list[tuple[str, str, int]]  # (status code, label, count)
    page: Page
    rows: list[InboxRow]


def case_is_overdue(case: SupportCase, *, now: datetime | None = None) -> bool:
    """Still new after the acknowledgement deadline (4 hours after the escalation)."""
    return case.status == CaseStatus.NEW and case.acknowledge_due_at < (now or timezone.now())


def _ack_overdue_q(now: datetime) -> Q:
    return Q(status=CaseStatus.NEW, acknowledge_due_at__lt=now)


def _member_filter(field: str, value: str, user, *, day: date) -> Q:
    """The handler / owner filter: "me", "nobody" or a member's pk ("" is everyone).

    "me" ("Aan mij", "Mijn acties") also holds the work of the colleagues this person covers
    on `day` while they are absent (`portal.selectors.covered_colleagues`, as a subquery)."""
    if value == ME:
        covered = covered_colleagues(user=user, day=day).values("pk")
        return Q(**{field: user}) | Q(**{f"{field}__in": covered})
    if value == NOBODY:
        return Q(**{f"{field}__isnull": True})
    if value.isdigit():
        return Q(**{f"{field}_id": int(value)})
    return Q()


def inbox_filtered_for(
    *, user, filters: Mapping[str, Any], now: datetime | None = None
) -> QuerySet[SupportCase]:
    """The cases this person may see, searched and filtered (every status).

    `filters` holds cleaned values of the inbox filter form (missing keys mean "no filter"):
    q (a reference or the officeholder's name, the desk queue's search:
    `incidents.selectors.incident_search_q`), handler ("me", "nobody" or a member's pk),
    organisation_type and overdue (still new after the acknowledgement deadline). Every case
    is annotated with `ack_overdue`.
    """
    now = now or timezone.now()
    cases = case_policy.queryset(user).annotate(
        ack_overdue=ExpressionWrapper(_ack_overdue_q(now), output_field=BooleanField())
    )
    text = (filters.get("q") or "").strip()
    if text:
        # The search runs on the incidents, the scope on the cases: a match outside the
        # team's cases (an incident never escalated) is never shown.
        found = Incident.objects.filter(incident_selectors.incident_search_q(text))
        cases = cases.filter(incident__in=found.values("pk"))
    if filters.get("handler"):
        cases = cases.filter(
            _member_filter("handler", filters["handler"], user, day=timezone.localdate(now))
        )
    if filters.get("organisation_type"):
        cases = cases.filter(incident__organisation__type=filters["organisation_type"])
    if filters.get("overdue"):
        cases = cases.filter(_ack_overdue_q(now))
    return cases


def _covering_for(user, person, today: date) -> str:
    """The name of the absent colleague `user` covers when `person` is them, else ""."""
    return str(person) if covers(user=user, person=person, day=today) else ""


def inbox_counts_for(*, cases: QuerySet[SupportCase]) -> list[tuple[str, str, int]]:
    """The number of these cases per status tab, in one query."""
    counts = cases.aggregate(
        **{status.value: Count("pk", filter=Q(status=status)) for status in CaseStatus}
    )
    return [(status.value, status.label, counts[status.value]) for status in CaseStatus]


def inbox_cases_for(
    *, user, status: CaseStatus, filters: Mapping[str, Any] | None = None, now=None
) -> QuerySet[SupportCase]:
    """The cases of one status tab, searched and filtered, most urgent first, with what an
    inbox row shows."""
    return (
        inbox_filtered_for(user=user, filters=filters or {}, now=now)
        .filter(status=status)
        .select_related(
            "incident",
            "incident__organisation",
            "incident__officeholder",
            "handler",
            "escalation",
            "escalation__escalated_by",
            "escalation__escalated_by__desk",
        )
        .order_by(*_INBOX_ORDER.get(status, _URGENT_ORDER))
    )


def inbox_for(
    *, user, status: CaseStatus, filters: Mapping[str, Any] | None = None, page_number=None
) -> Inbox:
    """One page of one status tab plus the counts of all tabs, both with the search and the
    filters applied; three queries, whatever the size.

    1. the counts per tab, 2. the count for the paginator, 3. the page of cases joined with
    their incident, officeholder, organisation, handler and escalation; nothing per row.
    """
    now = timezone.now()
    today = timezone.localdate(now)
    filters = filters or {}
    tabs = inbox_counts_for(cases=inbox_filtered_for(user=user, filters=filters, now=now))
    listed = inbox_cases_for(user=user, status=status, filters=filters, now=now)
    page = Paginator(listed, INBOX_PAGE_SIZE).get_page(page_number)
    rows = [
        InboxRow(
            case=case,
            reference=case.incident.reference,
            officeholder=str(case.incident.officeholder or ""),
            organisation=case.incident.organisation.name,
            age=age_label(case.created_at, now=now),
            is_overdue=case.ack_overdue,
            escalated_by=escalated_by_label(case.escalation),
            reasons=escalation_reasons(case.escalation),
            covering_for=_covering_for(user, case.handler, today),
        )
        for case in page.object_list
    ]
    return Inbox(status=status, tabs=tabs, page=page, rows=rows)


# --- The agenda: the team's planned actions by due date --------------------------------------


class AgendaGroup(TextChoices):
    LATE = "late", _("Te laat")
    TODAY = "today", _("Vandaag")
    THIS_WEEK = "this_week", _("Deze week")
    LATER = "later", _("Later")
    NO_DATE = "no_date", _("Zonder datum")


def agenda_group(due_on: date | None, *, today: date) -> AgendaGroup:
    """Where an action with this due date goes on the agenda; the week ends on Sunday."""
    if due_on is None:
        return AgendaGroup.NO_DATE
    if due_on < today:
        return AgendaGroup.LATE
    if due_on == today:
        return AgendaGroup.TODAY
    if due_on <= today + timedelta(days=6 - today.weekday()):
        return AgendaGroup.THIS_WEEK
    return AgendaGroup.LATER


@dataclass(frozen=True)
class AgendaRow:
    action: SupportAction
    reference: str
    service: str
    owner: str
    # The absent colleague whose action this is, when the viewer covers them ("" otherwise).
    covering_for: str = ""


@dataclass(frozen=True)
class AgendaSection:
    group: AgendaGroup
    rows: list[AgendaRow]


# The agenda shows at most this many actions (the earliest due); it says when there are more.
AGENDA_LIMIT = 500


@dataclass(frozen=True)
class Agenda:
    sections: list[AgendaSection]  # only the groups with actions, in AgendaGroup order
    total: int
    more: bool


def agenda_for(*, user, owner: str = "", today: date) -> Agenda:
    """The planned and running actions (not done, not cancelled) of the cases this person
    may see, earliest due first, in the groups of `AgendaGroup`; one query.

    `owner` is "" (the whole team), "me" (with the actions of absent colleagues this person
    covers) or a member's pk; `today` is the viewer's local date (`timezone.localdate()` in
    the view, a fixed date in tests).
    """
    actions = (
        support_action_policy.queryset(user)
        .filter(
            case__in=case_policy.queryset(user).values("pk"),
            status__in=OPEN_ACTION_STATUSES,
        )
        .filter(_member_filter("owner", owner, user, day=today))
        .select_related("case__incident", "owner")
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )
    found = list(actions[: AGENDA_LIMIT + 1])
    grouped: dict[AgendaGroup, list[AgendaRow]] = {group: [] for group in AgendaGroup}
    for action in found[:AGENDA_LIMIT]:
        grouped[agenda_group(action.due_on, today=today)].append(
            AgendaRow(
                action=action,
                reference=action.case.incident.reference,
                service=action.get_service_type_display(),
                owner=str(action.owner or _("Nog niemand")),
                covering_for=_covering_for(user, action.owner, today),
            )
        )
    sections = [AgendaSection(group, rows) for group, rows in grouped.items() if rows]
    return Agenda(
        sections=sections, total=min(len(found), AGENDA_LIMIT), more=len(found) > AGENDA_LIMIT
    )


def case_open_actions(*, case: SupportCase) -> list[SupportAction]:
    """The plan's actions that are still to be done (closing the case asks about them)."""
    return list(case.actions.filter(status__in=OPEN_ACTION_STATUSES).order_by("due_on", "pk"))


def support_members(*, user) -> QuerySet[User]:
    """Who this person may give a case or an action to (the active team members)."""
    return user_policy.queryset(user, "give_case_to").order_by(
        "first_name", "last_name", "username"
    )


def case_get_for(user, reference: str, *, queryset: QuerySet[SupportCase] | None = None):
    """The newest case of the incident with this reference, or 404.

    404 when the person may not see support cases, when the incident is outside their incident
    scope, or when it was never escalated (or its case is not opened yet).
    """
    case = (
        case_policy.queryset(user, queryset=queryset)
        .filter(
            incident__reference=reference,
            incident__in=incident_policy.queryset(user).values("pk"),
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if case is None:
        raise Http404
    return case


@dataclass(frozen=True)
class CaseDetail:
    case: SupportCase
    incident: object
    escalation: Escalation
    escalated_by: str
    reasons: list[str]
    is_overdue: bool
    timeline: list
    officeholder_thread: list[Message]
    staff_thread: list[Message]
    actions: list[SupportAction]
    earlier_cases: list[SupportCase]
    matches: list
    linked: list


def _support_event_text(entry) -> str:
    """Words for the team's own events, whose payload holds only codes."""
    payload = entry.payload
    if entry.kind == EventKind.SUPPORT_ACTION:
        labels = dict(ServiceType.choices)
        if "status" in payload:
            text = _("%(service)s: %(status)s") % {
                "service": labels.get(payload.get("service_type"), _("actie")),
                "status": dict(ActionStatus.choices).get(payload["status"], payload["status"]),
            }
            step = dict(SecurityAdviceStep.choices).get(payload.get("step") or "")
            return f"{text} ({step})" if step else text
        if payload.get("requested"):
            return _("%(service)s, gevraagd door de ambtsdrager") % {
                "service": labels.get(payload.get("service_type"), _("actie"))
            }
        return str(labels.get(payload.get("service_type"), ""))
    if "handler" in payload:
        return _("Casemanager: %(name)s") % {"name": payload["handler"]}
    if "to" in payload:
        status = dict(CaseStatus.choices).get(payload["to"], payload["to"])
        text = payload.get("text") or ""
        return _("Dossier: %(status)s") % {"status": status} + (f"\n{text}" if text else "")
    return ""


def support_timeline_for(*, user, incident) -> list:
    """The incident's full history for the team, with what the officeholder does not see
    marked as internal and the team's own events put in words."""
    support_kinds = (EventKind.SUPPORT_ACTION, EventKind.SUPPORT_CASE_CHANGED)
    entries = []
    for entry in incident_selectors.timeline_for(user=user, incident=incident):
        internal = entry.internal or entry.kind not in OFFICEHOLDER_VISIBLE_EVENTS
        text = _support_event_text(entry) if entry.kind in support_kinds else entry.text
        entries.append(replace(entry, internal=internal, text=text))
    return entries


def case_detail_for(*, user, reference: str) -> CaseDetail:
    """The newest case of an escalated incident with everything its page shows, or 404."""
    case = case_get_for(
        user,
        reference,
        queryset=SupportCase.objects.select_related(
            "handler", "escalation", "escalation__escalated_by", "escalation__escalated_by__desk"
        ),
    )
    incident = incident_selectors.incident_detail_for(user=user, reference=reference)
    case.incident = incident
    actions = list(support_action_policy.queryset(user).filter(case=case).select_related("owner"))
    earlier = list(
        case_policy.queryset(user)
        .filter(incident=incident)
        .exclude(pk=case.pk)
        .order_by("-created_at")
    )
    return CaseDetail(
        case=case,
        incident=incident,
        escalation=case.escalation,
        escalated_by=escalated_by_label(case.escalation),
        reasons=escalation_reasons(case.escalation),
        is_overdue=case_is_overdue(case),
        timeline=support_timeline_for(user=user, incident=incident),
        officeholder_thread=incident_selectors.thread_for(
            user=user, incident=incident, audience=MessageAudience.OFFICEHOLDER_THREAD
        ),
        staff_thread=incident_selectors.thread_for(
            user=user, incident=incident, audience=MessageAudience.STAFF
        ),
        actions=actions,
        earlier_cases=earlier,
        matches=incident_selectors.matches_for(user=user, incident=incident),
        linked=incident_selectors.linked_incidents_for(user=user, incident=incident),
    )


@dataclass(frozen=True)
class SignalSide:
    reference: str
    desk: str
    organisation: str
    submitted_at: datetime
    # The team can open the case only of an incident that was escalated.
    has_case: bool


@dataclass(frozen=True)
class SignalRow:
    """A staff-only "same perpetrator" signal: both incidents, as facts about them only."""

    sides: tuple[SignalSide, SignalSide]
    kinds: list[str]
    created_at: datetime


SIGNALS_PAGE_SIZE = 50


def signals_for(*, user, page_number=None) -> tuple[Page, list[SignalRow]]:
    """The "same perpetrator" signals the person may see, newest first; three queries."""
    matches = (
        match_policy.queryset(user)
        .select_related(
            "first__desk", "first__organisation", "second__desk", "second__organisation"
        )
        .order_by("-created_at", "-pk")
    )
    page = Paginator(matches, SIGNALS_PAGE_SIZE).get_page(page_number)
    incidents = [i for m in page.object_list for i in (m.first, m.second)]
    with_case = set(
        incident_policy.queryset(user)
        .filter(pk__in=[i.pk for i in incidents])
        .values_list("pk", flat=True)
    )
    labels = dict(IdentifierKind.choices)

    def side(incident) -> SignalSide:
        return SignalSide(
            reference=incident.reference,
            desk=str(incident.desk),
            organisation=str(incident.organisation),
            submitted_at=incident.submitted_at,
            has_case=incident.pk in with_case,
        )

    rows = [
        SignalRow(
            sides=(side(match.first), side(match.second)),
            kinds=[str(labels.get(kind, kind)) for kind in match.kinds],
            created_at=match.created_at,
        )
        for match in page.object_list
    ]
    return page, rows


def _nameless_support_text(entry) -> str:
    """The team's own event text without a person's name (for a case file without names)."""
    if entry.kind == EventKind.SUPPORT_CASE_CHANGED and "handler" in entry.payload:
        return _("Casemanager gekozen")
    return entry.text


def support_case_file_for(*, user, reference: str, show_names: bool, now: datetime) -> CaseFile:
    """The team's case file: what its case page shows (`case_detail_for`), or 404 like it."""
    detail = case_detail_for(user=user, reference=reference)
    case, incident = detail.case, detail.incident
    escalated_by = (
        detail.escalated_by
        if show_names or detail.escalation.escalated_by is None
        else staff_label(detail.escalation.escalated_by, show_names=False)
    )
    summary = [
        (_("Dossier"), case.get_status_display()),
        (_("Melding"), incident.get_status_display()),
        (_("Meldpunt"), str(incident.desk)),
        (
            _("Doorgegeven op"),
            date_format(timezone.localtime(detail.escalation.created_at), "j F Y H:i"),
        ),
        (_("Door"), escalated_by),
        (_("Waarom"), "\n".join(detail.reasons)),
        (
            _("Casemanager"),
            staff_label(case.handler, show_names=show_names) or _("Nog niemand"),
        ),
    ]
    if case.outcome:
        summary.append((_("Uitkomst"), case.outcome))
    plan = [
        PlanRow(
            title=action.get_service_type_display(),
            status=action.get_status_display(),
            owner=staff_label(action.owner, show_names=show_names),
            due_on=action.due_on,
            description=action.description,
            shared_with_desk=action.shared_with_desk,
        )
        for action in detail.actions
    ]
    return CaseFile(
        incident=incident,
        title=_("Dossier %(reference)s") % {"reference": incident.reference},
        printed_by=staff_label(user, show_names=show_names),
        printed_at=now,
        show_names=show_names,
        summary=summary,
        timeline=case_file_timeline(
            detail.timeline, show_names=show_names, nameless_text=_nameless_support_text
        ),
        plan=plan,
        has_plan=True,
    )
