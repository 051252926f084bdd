"""Reads of incidents for pages and the API. Scoping always starts from `incidents.access`."""

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
)
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from incidents import fact_counts
from incidents.aangifte import DEFAULT_STEP_TEXTS, AangifteTrack, stage_of, step_label
from incidents.actions import (
    OPEN,
    is_overdue,
    is_serious,
    may_request_security_advice,
    overdue_q,
    untriaged_q,
)
from incidents.constants import (
    REFERENCE_DIGITS,
    AangifteStep,
    EventKind,
    FactKind,
    IdentifierKind,
    IncidentType,
    MessageAudience,
    RiskFlag,
    SavedViewWorkspace,
    Status,
    SupportWish,
)
from incidents.identifiers import identifier_normalise
from incidents.models import (
    AangifteStepText,
    Escalation,
    Event,
    Evidence,
    Incident,
    IncidentLink,
    Message,
    PerpetratorIdentifier,
    PhoneCall,
    SavedQueueView,
    StandardReply,
    months_after,
)
from incidents.policies import (
    event_policy,
    evidence_policy,
    incident_policy,
    match_policy,
    message_policy,
    phone_call_policy,
    saved_view_policy,
    standard_reply_policy,
)
from portal.constants import Role
from portal.crypto import fact_token_lookup, identifier_hash
from portal.models import Desk, Organisation, TeamReadDay, User
from portal.policies import team_label, user_policy
from portal.reachability import desk_is_reachable, route_for_desk
from portal.selectors import covered_colleagues_for, organisations_served_by


def incident_list_for_officeholder(*, user) -> QuerySet[Incident]:
    """The officeholder's own incidents, newest first (one query, no joins needed)."""
    return (
        incident_policy.queryset(user)
        .order_by("-submitted_at")
        .only(
            "reference", "occurred_on", "types", "status", "updated_at", "submitted_at", "is_quick"
        )
    )


def incident_detail_for(*, user, reference: str) -> Incident:
    """One incident with what its page shows, or 404 when out of scope."""
    queryset = Incident.objects.select_related(
        "organisation", "desk", "officeholder", "assignee", "filed_by", "duplicate_of"
    ).prefetch_related("evidence", "identifiers")
    return incident_policy.get(user, queryset=queryset, reference=reference)


@dataclass(frozen=True)
class NextSteps:
    """What the confirmation promises, only for the answers given.

    `handler_name` is who will really look (`incident_handler_for`: a reachable desk or the
    Ondersteuningsteam); `looks_when` is "vandaag nog", "binnen 4 uur" (a serious report late
    in the evening) or "binnen 2 werkdagen", never a minute; `contact` is "phone", "email" or
    "" (no contact asked); `team` is whether the person asked for the Ondersteuningsteam's
    support (the rules then hand the report to the team).
    """

    handler_name: str
    handler_is_support: bool
    handler_phone: str
    handler_email: str
    looks_when: str
    contact: str
    phone: str
    email: str
    team: bool


def next_steps_for(*, incident: Incident) -> NextSteps:
    """The honest next steps for a submitted incident (no query beyond the handler's desk)."""
    handler = incident_handler_for(incident=incident)
    if is_serious(incident):
        zone = zoneinfo.ZoneInfo(incident.organisation.time_zone)
        same_day = (
            incident.triage_due_at.astimezone(zone).date()
            == incident.submitted_at.astimezone(zone).date()
        )
        looks_when = _("vandaag nog") if same_day else _("binnen 4 uur")
    else:
        looks_when = _("binnen 2 werkdagen")
    wants_contact = incident.support_wish in (
        SupportWish.CONTACT_WITH_DESK,
        SupportWish.SUPPORT_FROM_TEAM,
    )
    phone = incident.contact_phone or incident.officeholder.phone
    contact = ("phone" if phone else "email") if wants_contact else ""
    desk = handler.desk
    return NextSteps(
        handler_name=handler.name,
        handler_is_support=handler.is_support,
        handler_phone=desk.phone if desk else "",
        handler_email=desk.email if desk else "",
        looks_when=str(looks_when),
        contact=contact,
        phone=phone,
        email=incident.officeholder.email,
        team=incident.support_wish == SupportWish.SUPPORT_FROM_TEAM,
    )


# Types for which the next useful step is the aangifte track (issue 20, "guidance").
THREAT_TYPES = frozenset({IncidentType.THREAT, IncidentType.THREAT_TO_FAMILY})


@dataclass(frozen=True)
class AangifteStepRow:
    code: str
    label: str
    reached: bool
    why: str


@dataclass(frozen=True)
class AangifteOverview:
    """The aangifte track of one incident for a page: each step, whether it was reached and
    why it matters; the next useful step; and which guidance applies (threat, doxing)."""

    track: AangifteTrack
    rows: list[AangifteStepRow]
    stage_label: str
    next_step: str
    next_label: str
    next_why: str
    threat: bool
    doxing: bool


def aangifte_step_texts() -> dict[str, str]:
    """{step: why it matters} in the active language (one query; editable data). A step
    without its row reads the default text (`aangifte.DEFAULT_STEP_TEXTS`)."""
    language = translation.get_language() or "nl"
    texts = {step.value: str(text) for step, text in DEFAULT_STEP_TEXTS.items()}
    texts.update({text.step: text.text_for(language) for text in AangifteStepText.objects.all()})
    return texts


def aangifte_overview_for(*, incident: Incident) -> AangifteOverview:
    """The track of an incident the caller may already see (one query: the step texts)."""
    texts = aangifte_step_texts()
    track = incident.aangifte_track
    reached = set(track.steps())
    rows = [
        AangifteStepRow(
            code=step.value,
            label=str(step.label),
            reached=(
                bool(track.outcome) if step == AangifteStep.OUTCOME else step.value in reached
            ),
            why=texts.get(step.value, ""),
        )
        for step in AangifteStep
    ]
    stage, upcoming = track.stage(), track.next_step()
    if track.outcome:
        stage = f"outcome_{track.outcome}"
    types = set(incident.types or ())
    return AangifteOverview(
        track=track,
        rows=rows,
        stage_label=step_label(stage) if stage else "",
        next_step=upcoming,
        next_label=step_label(upcoming) if upcoming else "",
        next_why=texts.get(upcoming, "") if upcoming else "",
        threat=bool(types & THREAT_TYPES),
        doxing=IncidentType.DOXING in types,
    )


def evidence_get_for(*, user, reference: str, pk: int) -> Evidence:
    """One evidence file of an incident this person may see, or 404 (one query)."""
    return evidence_policy.get(
        user,
        queryset=Evidence.objects.select_related("incident"),
        pk=pk,
        incident__reference=reference,
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    actor: str
    text: str
    internal: bool
    payload: dict
    # For the printed case file: the actor's name with their team ("Sanne de Vries (Meldpunt
    # Utrecht)", never "U"), and the team alone ("Meldpunt Utrecht"); empty for the rules.
    name: str = ""
    team: str = ""


def _actor_team(event: Event) -> str:
    actor = event.actor
    if actor is None:
        return ""
    return team_label(role=event.actor_role, desk=actor.desk if actor.desk_id else None)


def _actor_label(event: Event, viewer) -> str:
    actor = event.actor
    if actor is None:
        return str(_("Automatische controle"))
    if viewer.pk == actor.pk:
        return str(_("U"))
    return author_label(actor, event.actor_role)


def author_label(person, role: str) -> str:
    """Who did or wrote something, with their team: "Sanne de Vries (Meldpunt Utrecht)"."""
    team = team_label(role=role, desk=person.desk if person.desk_id else None)
    return f"{person} ({team})" if team else str(person)


def _event_label(event: Event) -> str:
    status = event.payload.get("to")
    if event.kind == EventKind.STATUS_CHANGED and status in Status.values:
        return str(_("Nieuwe status: %(status)s") % {"status": Status(status).label})
    if event.kind == EventKind.AANGIFTE and event.payload.get("steps") is not None:
        return aangifte_event_label(event.payload)
    # After retention the payload is empty: the kind alone says what happened.
    return event.get_kind_display()


def aangifte_event_label(payload) -> str:
    """ "Aangifte: Aangifte gedaan, VPT-code gevraagd" (the steps newly reached), or what
    the track now stands at when steps were only taken back or details changed."""
    added = [step_label(step) for step in payload.get("added") or ()]
    if added:
        return str(_("Aangifte: %(steps)s") % {"steps": ", ".join(added)})
    stage = stage_of(payload.get("steps") or ())
    if not stage:
        return str(_("Aangifte: nog niets vastgelegd"))
    return str(_("Aangifte bijgewerkt: %(stage)s") % {"stage": step_label(stage)})


DESK_MOVE_KINDS = frozenset({EventKind.MOVED, EventKind.OFFERED_BACK, EventKind.TAKEN_BACK})


def _desk_move_text(event: Event) -> str:
    """Words for a move between desks (portal.reachability); empty after retention."""
    payload = event.payload
    if not payload:
        return ""
    if event.kind == EventKind.OFFERED_BACK:
        return _("%(desk)s is weer bereikbaar en kan deze melding terugnemen.") % {
            "desk": payload.get("to_desk", "")
        }
    text = _("Van %(from)s naar %(to)s.") % {
        "from": payload.get("from_desk", ""),
        "to": payload.get("to_desk", ""),
    }
    reason = payload.get("reason")
    return f"{text} {reason}" if reason else text


# Timeline entries only staff see (marked "intern").
STAFF_ONLY_KINDS = frozenset(
    {EventKind.NOTE, EventKind.PHONE_CALL, EventKind.CALLBACK_SET, EventKind.CALLBACK_CLEARED}
)


def phone_call_text(call: PhoneCall) -> str:
    """ "Het meldpunt belde de ambtsdrager, op 6 december 2026 10:15, met ...: summary"."""
    moment = date_format(timezone.localtime(call.called_at), "j F Y H:i")
    parts = [call.get_direction_display(), _("op %(moment)s") % {"moment": moment}]
    if call.other_party:
        parts.append(_("met %(who)s") % {"who": call.other_party})
    return f"{', '.join(str(part) for part in parts)}.\n{call.summary}"


def _callback_text(event: Event) -> str:
    moment = event.payload.get("callback_at")
    if not moment:
        return ""
    text = str(
        _("Terugbellen op %(moment)s.")
        % {"moment": date_format(timezone.localtime(datetime.fromisoformat(moment)), "j F Y H:i")}
    )
    note = event.payload.get("note")
    return f"{text} {note}" if note else text


def callback_in_words(moment: datetime | None, *, now: datetime | None = None) -> str:
    """When to call back, as the queue says it: "vandaag 14:00", "morgen 09:30",
    "6 december 14:00"; "" without a callback."""
    if moment is None:
        return ""
    local, today = timezone.localtime(moment), timezone.localdate(now or timezone.now())
    clock = date_format(local, "H:i")
    if local.date() == today:
        return str(_("vandaag %(time)s") % {"time": clock})
    if local.date() == today + timedelta(days=1):
        return str(_("morgen %(time)s") % {"time": clock})
    if local.date() == today - timedelta(days=1):
        return str(_("gisteren %(time)s") % {"time": clock})
    return date_format(local, "j F Y H:i")


def timeline_for(*, user, incident: Incident) -> list[TimelineEntry]:
    """The incident's history as this user may see it, oldest first (three queries)."""
    events = list(
        event_policy.queryset(user).filter(incident=incident).select_related("actor", "actor__desk")
    )
    messages = {m.pk: m for m in message_policy.queryset(user).filter(incident=incident)}
    internal_allowed = incident_policy.allows(user, "view_internal", incident)
    notes = {n.pk: n for n in incident.notes.all()} if internal_allowed else {}
    calls = (
        {c.pk: c for c in phone_call_policy.queryset(user).filter(incident=incident)}
        if internal_allowed
        else {}
    )
    entries = []
    for event in events:
        text = ""
        if event.kind == EventKind.MESSAGE:
            message = messages.get(event.payload.get("message_id"))
            if message is None:
                continue
            text = message.body
        elif event.kind == EventKind.NOTE:
            note = notes.get(event.payload.get("note_id"))
            text = note.body if note else ""
        elif event.kind == EventKind.FOLLOW_UP:
            text = event.payload.get("text", "")
        elif event.kind == EventKind.STATUS_CHANGED:
            text = event.payload.get("outcome") or ""
            # Staff reasons (why escalated, returned, reopened) are internal; the officeholder
            # sees the outcome of a closed case and the reason they gave themselves.
            if internal_allowed or event.actor_id == user.pk:
                text = text or event.payload.get("reason") or ""
        elif event.kind == EventKind.ASSIGNED and internal_allowed:
            text = event.payload.get("reason") or ""
        elif event.kind == EventKind.ESCALATED and internal_allowed:
            text = event.payload.get("reason") or ""
        elif event.kind in DESK_MOVE_KINDS:
            text = _desk_move_text(event)
        elif event.kind == EventKind.PHONE_CALL:
            call = calls.get(event.payload.get("phone_call_id"))
            if call is None:
                continue
            text = phone_call_text(call)
        elif event.kind == EventKind.CALLBACK_SET and internal_allowed:
            text = _callback_text(event)
        internal = event.kind in STAFF_ONLY_KINDS or (
            event.kind == EventKind.MESSAGE
            and event.payload.get("audience") == MessageAudience.STAFF
        )
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind=event.kind,
                label=_event_label(event),
                actor=_actor_label(event, user),
                text=text,
                internal=internal,
                payload=event.payload,
                name=author_label(event.actor, event.actor_role) if event.actor else "",
                team=_actor_team(event),
            )
        )
    return entries


def thread_for(*, user, incident: Incident, audience: str) -> list[Message]:
    """The messages of one channel of the incident that this person may read, oldest first.

    Each carries `author_label` ("U", or the name with their team)."""
    messages = list(
        message_policy.queryset(user)
        .filter(incident=incident, audience=audience)
        .select_related("author", "author__desk")
    )
    for message in messages:
        author = message.author
        if author is None:
            message.author_label = str(_("Verwijderd"))
        elif author.pk == user.pk:
            message.author_label = str(_("U"))
        else:
            message.author_label = author_label(author, message.author_role)
    return messages


# --- Desk (meld- en steunpunt): queue, overview, linking --------------------------------------


class QueueSort(TextChoices):
    URGENT = "urgent", _("Meest urgent eerst")
    NEWEST = "newest", _("Nieuwste eerst")
    OLDEST = "oldest", _("Oudste eerst")
    DUE = "due", _("Deadline beoordeling, eerste eerst")
    REFERENCE = "reference", _("Kenmerk")


class AssignedFilter(TextChoices):
    ME = "me", _("Aan mij")
    NOBODY = "nobody", _("Aan niemand")


# "all" in the status filter: every status; no status at all means the open ones.
STATUS_ALL = "all"


def incident_is_overdue(incident: Incident, *, now: datetime | None = None) -> bool:
    """Not yet triaged while the stored deadline has passed (`incidents.actions.overdue_q`)."""
    return is_overdue(incident, now=now or timezone.now())


def deadline_in_words(due: datetime, *, now: datetime | None = None) -> str:
    """How far off the triage deadline is, as a registrar says it: "nog 3 uur", "nog 2 dagen",
    "1 uur te laat", "2 dagen te laat" (whole hours below two days, else whole days)."""
    seconds = (due - (now or timezone.now())).total_seconds()
    hours = int(abs(seconds) // 3600)
    if hours < 48:
        amount = ngettext("%(n)d uur", "%(n)d uur", hours) % {"n": hours}
    else:
        days = hours // 24
        amount = ngettext("%(n)d dag", "%(n)d dagen", days) % {"n": days}
    if seconds >= 0:
        return _("nog %(amount)s") % {"amount": amount}
    return _("%(amount)s te laat") % {"amount": amount}


def colleagues_to_assign(*, user) -> QuerySet[User]:
    """Who this person may make the handler of an incident (colleagues of the desk)."""
    return user_policy.queryset(user, "assign_incident_to").order_by("first_name", "last_name")


def officeholders_to_file_for(*, user) -> QuerySet[User]:
    """The officeholders this person may file an incident for (the desk: those it serves)."""
    return (
        user_policy.queryset(user, "file_for")
        .select_related("organisation")
        .order_by("last_name", "first_name", "username")
    )


_QUEUE_ORDER = {
    # The stored rank (`incidents.actions.urgency_rank`), then the deadline: the order of the
    # index `incident_desk_queue`, so a page is read without sorting the desk's incidents.
    QueueSort.URGENT: ("urgency_rank", "triage_due_at", "pk"),
    QueueSort.NEWEST: ("-submitted_at", "-pk"),
    QueueSort.OLDEST: ("submitted_at", "pk"),
    QueueSort.DUE: ("triage_due_at", "pk"),
    QueueSort.REFERENCE: ("reference",),
}


def _month_start(today: date) -> datetime:
    """Midnight on the first of this month, in the active (the viewer's) time zone."""
    return timezone.make_aware(datetime.combine(today.replace(day=1), time.min))


def incident_search_q(text: str) -> Q:
    """What the queue's search box finds: a reference (also the number alone, "15" for
    MWB-2026-000015), the officeholder's name (every word must match), or a perpetrator's
    account, e-mail address or phone number, matched exactly through its keyed hash. Nothing
    is decrypted to search."""
    text = text.strip()
    words = Q()
    for term in text.split():
        word = (
            Q(reference__icontains=term)
            | Q(officeholder__first_name__icontains=term)
            | Q(officeholder__last_name__icontains=term)
        )
        if term.isdigit() and len(term) <= REFERENCE_DIGITS:
            word |= Q(reference__endswith=f"-{int(term):0{REFERENCE_DIGITS}d}")
        words &= word
    perpetrator = Q()
    for kind in IdentifierKind:
        normalised = identifier_normalise(kind=kind, value=text)
        if normalised:
            perpetrator |= Q(kind=kind, normalised=identifier_hash(normalised))
    if not perpetrator:
        return words
    identified = PerpetratorIdentifier.objects.filter(perpetrator).values("incident_id")
    return words | Q(pk__in=identified)


def incident_queue_for(*, user, filters: Mapping[str, Any]) -> QuerySet[Incident]:
    """The desk's queue as `user` may see it, filtered and sorted; one query per page.

    `filters` holds cleaned values of the queue filter form (missing keys mean "no filter"):
    status ("" = open, "all", or a status), triage_severity, reporter_severity, type,
    risk_flag, channel,
    organisation, date_from, date_to (received date, viewer's time zone), overdue, assigned
    ("me" / "nobody"), serious_untriaged, q (see `incident_search_q`) and sort (QueueSort).
    Every row is annotated with `is_overdue`.
    """
    now = timezone.now()
    incidents = (
        incident_policy.queryset(user)
        .select_related("organisation", "officeholder", "assignee")
        .annotate(
            is_overdue=ExpressionWrapper(overdue_q(now=now), output_field=BooleanField()),
        )
    )
    status = filters.get("status") or ""
    if status == STATUS_ALL:
        pass
    elif status:
        incidents = incidents.filter(status=status)
    else:
        incidents = incidents.filter(status__in=sorted(OPEN))
    for field in ("triage_severity", "reporter_severity", "channel"):
        if filters.get(field):
            incidents = incidents.filter(**{field: filters[field]})
    if filters.get("type"):
        # `types` is encrypted; its keyed tokens (one per code) are what can be filtered on.
        incidents = incidents.filter(
            type_tokens__contains=fact_token_lookup("type", filters["type"])
        )
    if filters.get("risk_flag"):
        incidents = incidents.filter(
            risk_flag_tokens__contains=fact_token_lookup("risk_flag", filters["risk_flag"])
        )
    if filters.get("organisation"):
        incidents = incidents.filter(organisation=filters["organisation"])
    if filters.get("date_from"):
        start = timezone.make_aware(datetime.combine(filters["date_from"], time.min))
        incidents = incidents.filter(submitted_at__gte=start)
    if filters.get("date_to"):
        end = timezone.make_aware(
            datetime.combine(filters["date_to"] + timedelta(days=1), time.min)
        )
        incidents = incidents.filter(submitted_at__lt=end)
    if filters.get("overdue"):
        incidents = incidents.filter(overdue_q(now=now))
    if filters.get("assigned") == AssignedFilter.ME:
        # Also the incidents of colleagues this person covers while they are absent.
        covered = covered_colleagues_for(user=user)
        incidents = incidents.filter(Q(assignee=user) | Q(assignee_id__in=sorted(covered)))
    elif filters.get("assigned") == AssignedFilter.NOBODY:
        incidents = incidents.filter(assignee__isnull=True)
    if filters.get("serious_untriaged"):
        incidents = incidents.filter(untriaged_q(), urgency_rank__lte=2)
    if (filters.get("q") or "").strip():
        incidents = incidents.filter(incident_search_q(filters["q"]))
    sort = filters.get("sort") or QueueSort.URGENT
    return incidents.order_by(*_QUEUE_ORDER.get(sort, _QUEUE_ORDER[QueueSort.URGENT]))


@dataclass(frozen=True)
class OrganisationCount:
    organisation: Organisation
    count: int


@dataclass(frozen=True)
class DeskOverview:
    by_status: list[tuple[str, str, int]]  # (status code, label, count)
    open_total: int
    overdue: int
    unassigned_open: int
    month_start: date
    per_organisation: list[OrganisationCount]
    # This month's incidents per type (from the fact counts): (code, label, count), most first.
    per_type: list[tuple[str, str, int]]


def desk_overview_for(*, user) -> DeskOverview:
    """Counts for the desk overview in four queries, whatever the number of incidents.

    Facts (the types) are counted from `incidents.FactCount`, never from the incidents'
    encrypted facts; those counts leave out withdrawn incidents and duplicates."""
    now = timezone.now()
    visible = incident_policy.queryset(user)
    counts = visible.aggregate(
        **{f"status_{status.value}": Count("pk", filter=Q(status=status)) for status in Status},
        overdue=Count("pk", filter=overdue_q(now=now)),
        unassigned_open=Count("pk", filter=Q(status__in=sorted(OPEN), assignee__isnull=True)),
    )
    month_start = _month_start(timezone.localdate(now))
    per_organisation = dict(
        visible.filter(submitted_at__gte=month_start)
        .order_by()
        .values_list("organisation_id")
        .annotate(count=Count("pk"))
    )
    organisations = list(organisations_served_by(desk_id=user.desk_id)) if user.desk_id else []
    known = {organisation.pk for organisation in organisations}
    # Incidents routed here earlier, from an organisation this desk no longer serves.
    missing = [pk for pk in per_organisation if pk not in known]
    if missing:
        organisations += list(Organisation.objects.filter(pk__in=missing))
    per_type = (
        fact_counts.counts_for_desk(
            desk_id=user.desk_id, month=month_start.date(), kind=FactKind.TYPE
        )
        if user.desk_id
        else {}
    )
    labels = dict(IncidentType.choices)
    return DeskOverview(
        by_status=[
            (status.value, status.label, counts[f"status_{status.value}"]) for status in Status
        ],
        open_total=sum(counts[f"status_{status.value}"] for status in OPEN),
        overdue=counts["overdue"],
        unassigned_open=counts["unassigned_open"],
        month_start=month_start.date(),
        per_organisation=[
            OrganisationCount(organisation, per_organisation.get(organisation.pk, 0))
            for organisation in organisations
        ],
        per_type=sorted(
            ((code, str(labels.get(code, code)), count) for code, count in per_type.items()),
            key=lambda row: (-row[2], row[1]),
        ),
    )


def saved_views_for(*, user, workspace: str = SavedViewWorkspace.DESK) -> QuerySet[SavedQueueView]:
    """The person's own saved views of one list (the desk's queue by default), by name."""
    return saved_view_policy.queryset(user).filter(workspace=workspace).order_by("name")


def incident_find_for(*, user, reference: str) -> Incident | None:
    """The incident with this reference if `user` may see it, else None (never says why).

    The number alone ("15", "000015") is this year's reference, as registrars say it.
    """
    reference = reference.strip().upper()
    if reference.isdigit() and len(reference) <= REFERENCE_DIGITS:
        year = timezone.localdate().year
        reference = f"MWB-{year}-{int(reference):0{REFERENCE_DIGITS}d}"
    return incident_policy.queryset(user).filter(reference=reference).first()


def link_suggestions_for(*, user, incident: Incident) -> list[Incident]:
    """Incidents `user` may see that share a normalised perpetrator identifier with `incident`
    (also across the organisations of the desk), not yet linked to it; two queries.

    Each suggestion carries `shared_identifiers`: the identifiers it has in common.
    """
    pairs = [(i.kind, i.normalised) for i in incident.identifiers.all()]
    if not pairs:
        return []
    shares = Q()
    for kind, normalised in pairs:
        shares |= Q(kind=kind, normalised=normalised)
    shared = PerpetratorIdentifier.objects.filter(shares)
    linked = IncidentLink.objects.filter(
        Q(from_incident=incident) | Q(to_incident=incident)
    ).values_list("from_incident_id", "to_incident_id")
    return list(
        incident_policy.queryset(user, "view_internal")
        .filter(Exists(shared.filter(incident=OuterRef("pk"))))
        .exclude(pk=incident.pk)
        .exclude(pk__in=Subquery(linked.values("from_incident_id")))
        .exclude(pk__in=Subquery(linked.values("to_incident_id")))
        .select_related("organisation")
        .prefetch_related(Prefetch("identifiers", shared, to_attr="shared_identifiers"))
        .order_by("-submitted_at")[:20]
    )


@dataclass(frozen=True)
class MatchRow:
    """A staff-only "same perpetrator" signal as one person may see it."""

    other_reference: str  # empty when the other incident is outside the viewer's scope
    other_desk: str
    kinds: list[str]
    created_at: datetime


def matches_for(*, user, incident: Incident) -> list[MatchRow]:
    """The "same perpetrator" signals of `incident` that this person may see (two queries).

    The other incident's reference is shown only when that incident is in the person's own
    scope; otherwise the row only says that it was also reported at another desk.
    """
    matches = list(
        match_policy.queryset(user)
        .filter(Q(first=incident) | Q(second=incident))
        .select_related("first__desk", "second__desk")
    )
    others = [m.second if m.first_id == incident.pk else m.first for m in matches]
    visible = set(
        incident_policy.queryset(user, "view_internal")
        .filter(pk__in=[other.pk for other in others])
        .values_list("pk", flat=True)
    )
    labels = dict(IdentifierKind.choices)
    return [
        MatchRow(
            other_reference=other.reference if other.pk in visible else "",
            other_desk=str(other.desk),
            kinds=[str(labels.get(kind, kind)) for kind in match.kinds],
            created_at=match.created_at,
        )
        for match, other in zip(matches, others, strict=True)
    ]


@dataclass(frozen=True)
class LinkedIncident:
    incident: Incident
    kind_label: str
    reason: str
    created_at: datetime


def linked_incidents_for(*, user, incident: Incident) -> list[LinkedIncident]:
    """Incidents linked to `incident` that `user` may see (others are left out); one query."""
    visible = incident_policy.queryset(user, "view_internal").values("pk")
    links = IncidentLink.objects.filter(
        Q(from_incident=incident, to_incident__in=visible)
        | Q(to_incident=incident, from_incident__in=visible)
    ).select_related("from_incident", "to_incident")
    result = []
    for link in links.order_by("created_at", "pk"):
        other = link.to_incident if link.from_incident_id == incident.pk else link.from_incident
        result.append(LinkedIncident(other, link.get_kind_display(), link.reason, link.created_at))
    return result


def duplicates_of_for(*, user, incident: Incident) -> list[Incident]:
    """Incidents that `user` may see and that were closed as a duplicate of `incident`."""
    return list(
        incident_policy.queryset(user, "view_internal")
        .filter(duplicate_of=incident)
        .only("reference", "submitted_at")
        .order_by("submitted_at")
    )


def escalations_for(*, incident: Incident) -> list[Escalation]:
    """Every hand-off to the Ondersteuningsteam, newest first, with who did it."""
    return list(incident.escalations.select_related("escalated_by"))


@dataclass(frozen=True)
class AccessHistoryRow:
    """One team that looked at an incident on one day: a desk or the Ondersteuningsteam, no
    person, and not how often (a reload is not a second look)."""

    team: str
    day: date
    first_at: datetime
    last_at: datetime


def access_history_for(*, incident: Incident) -> list[AccessHistoryRow]:
    """The staff teams that read this incident, one line per team per day, most recent first.

    Read from `portal.TeamReadDay` (kept by `access_log_record`): the desk by its name, the
    Ondersteuningsteam as the team; never the person, never the officeholder's own visits.
    One query.
    """
    rows = (
        TeamReadDay.objects.filter(reference=incident.reference)
        .select_related("desk")
        .order_by("-day", "-last_at")
    )
    return [
        AccessHistoryRow(
            team=row.desk.name if row.desk else str(Role(row.role).label),
            day=row.day,
            first_at=row.first_at,
            last_at=row.last_at,
        )
        for row in rows
    ]


def incidents_due_for_retention(now: datetime):
    """Closed incidents whose closing is more than RETENTION_MONTHS before `now`, not yet
    anonymised; oldest first."""
    cutoff = months_after(now, -settings.RETENTION_MONTHS)
    return Incident.objects.filter(
        status=Status.CLOSED, closed_at__lt=cutoff, anonymised_at__isnull=True
    ).order_by("closed_at", "pk")


def officeholder_data_export(*, user) -> dict[str, Any]:
    """Everything the portal holds about this officeholder, as they may see it (a GDPR export).

    Their profile, and per own incident: the facts, free text, identifiers, evidence (name,
    size, fingerprint), their timeline and their message thread. Never internal notes, the
    staff channel or events hidden from them. Serialisable as JSON as is.
    """
    incidents = (
        incident_policy.queryset(user)
        .filter(officeholder=user)
        .select_related("organisation")
        .prefetch_related(
            "identifiers",
            "evidence",
            Prefetch(
                "messages",
                Message.objects.filter(audience=MessageAudience.OFFICEHOLDER_THREAD).order_by(
                    "created_at", "pk"
                ),
                to_attr="thread",
            ),
            Prefetch(
                "events",
                Event.objects.filter(visible_to_officeholder=True).order_by("created_at", "pk"),
                to_attr="own_timeline",
            ),
        )
        .order_by("submitted_at", "pk")
    )
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "function": user.get_function_display() if user.function else "",
            "organisation": user.organisation.name if user.organisation_id else "",
        },
        "incidents": [_incident_export(incident) for incident in incidents],
    }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _aangifte_export(incident: Incident) -> dict[str, Any]:
    track = incident.aangifte_track
    return {
        "steps": [step_label(step) for step in track.steps()],
        "police_contacted_on": _iso(track.police_contacted_on),
        "filed_on": _iso(track.filed_on),
        "report_number": track.report_number,
        "employer": track.employer,
        "outcome_note": track.outcome_note,
    }


def _incident_export(incident: Incident) -> dict[str, Any]:
    return {
        "reference": incident.reference,
        "status": incident.get_status_display(),
        "organisation": incident.organisation.name,
        "submitted_at": _iso(incident.submitted_at),
        "closed_at": _iso(incident.closed_at),
        "retention_ends_at": _iso(incident.retention_ends_at()),
        "types": incident.type_labels(),
        "occurred_on": _iso(incident.occurred_on),
        "occurred_at": _iso(incident.occurred_at),
        "summary": incident.summary,
        "description": incident.description,
        "location": incident.location,
        "channel": incident.get_channel_display(),
        "platform": incident.platform,
        "links": incident.links,
        "reporter_severity": incident.get_reporter_severity_display(),
        "perpetrator_known": incident.perpetrator_label(),
        "perpetrator_kind": incident.get_perpetrator_kind_display(),
        "perpetrator_relation": incident.get_perpetrator_relation_display(),
        "perpetrator_description": incident.perpetrator_description,
        "perpetrator_identifiers": [
            {"kind": i.get_kind_display(), "value": i.value} for i in incident.identifiers.all()
        ],
        "impacts": incident.impact_labels(),
        "affected_people": incident.affected_people_labels(),
        "aangifte": _aangifte_export(incident),
        "support_wish": incident.get_support_wish_display(),
        # Since when the desk may make the police summary for an aangifte by the employer.
        "summary_consent_at": _iso(incident.summary_consent_at),
        "outcome": incident.outcome,
        "evidence": [
            {
                "name": e.original_name,
                "size": e.size,
                "sha256": e.sha256,
                "original_sha256": e.original_sha256,
                "processing": e.get_processing_display(),
                "uploaded_at": _iso(e.uploaded_at),
            }
            for e in incident.evidence.all()
        ],
        "timeline": [
            {"what": event.get_kind_display(), "at": _iso(event.created_at)}
            for event in incident.own_timeline
        ],
        "messages": [
            {"from": message.author_role, "at": _iso(message.created_at), "text": message.body}
            for message in incident.thread
        ],
    }


def incidents_offered_to(*, user) -> list[Incident]:
    """Incidents of this desk that another desk took while this one was unreachable, now
    offered back to it (the queue lists them with "Terugnemen"), oldest first; one query."""
    return list(
        incident_policy.queryset(user, "take_back")
        .select_related("organisation", "desk")
        .order_by("submitted_at", "pk")
    )


@dataclass(frozen=True)
class Handler:
    """Who will really look at an incident now (for the officeholder's confirmation)."""

    name: str
    is_support: bool
    desk: Desk | None


def incident_handler_for(*, incident: Incident) -> Handler:
    """The desk that will really look at this incident, or the Ondersteuningsteam.

    Never a desk that nobody reads: the incident's desk when it is reachable (also when the
    rules escalated it: the desk still follows it), else where `portal.reachability` would
    send it now (the watchdog moves it within a minute), else the Ondersteuningsteam.
    """
    support = Handler(
        name=str(_("Het Ondersteuningsteam Weerbaar Bestuur")), is_support=True, desk=None
    )
    desk = incident.desk
    if not desk_is_reachable(desk):
        desk = route_for_desk(desk).desk
    if desk is None:
        return support
    return Handler(name=desk.name, is_support=False, desk=desk)


# --- Standard replies ------------------------------------------------------------------------


def standard_replies_to_use(*, user) -> QuerySet[StandardReply]:
    """The active replies this registrar may insert: the own desk's first, then the national
    defaults, each by title."""
    return standard_reply_policy.queryset(user, "use").order_by(
        F("desk").asc(nulls_last=True), "title", "pk"
    )


def standard_replies_kept_for(*, user) -> QuerySet[StandardReply]:
    """The replies on the coordinator's management page (the own desk's and, to read, the
    national defaults), active ones first."""
    return standard_reply_policy.queryset(user, "view").order_by(
        "-active", F("desk").asc(nulls_last=True), "title", "pk"
    )


def message_language_for(incident: Incident) -> str:
    """The language to write to the incident's officeholder in: their own preference (Dutch
    when the incident has no officeholder any more)."""
    officeholder = incident.officeholder
    return officeholder.preferred_language if officeholder is not None else "nl"


def message_with_reply(*, typed: str, reply: StandardReply, language: str) -> str:
    """The message box after inserting `reply`: its text in `language`, after what was typed
    (an empty line between them)."""
    typed = (typed or "").rstrip()
    text = reply.text_in(language)
    return f"{typed}\n\n{text}" if typed else text


@dataclass(frozen=True)
class Protection:
    """What the officeholder's page says about security measures for one of their incidents.

    `may_request`: the "Beveiligingsadvies aanvragen" button (the incident policy's
    `request_security_advice`: own, open, a function that qualifies, not asked before).
    `qualifies`: the function qualifies at all (otherwise the page shows what else helps).
    `address_at_risk`: doxing, or the perpetrator knows the home address: the page explains
    the KvK address shielding and art. 285d Sr.
    """

    qualifies: bool
    may_request: bool
    requested_at: datetime | None
    address_at_risk: bool
    function: str


def protection_for(*, user, incident: Incident) -> Protection:
    """The protection section of the officeholder's own incident page (two queries: the
    request, and the function's eligibility once per request)."""
    requested = (
        incident.events.filter(kind=EventKind.SECURITY_ADVICE_REQUESTED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    allowed = incident_policy.allows(user, "request_security_advice", incident)
    return Protection(
        qualifies=may_request_security_advice(user),
        may_request=allowed and requested is None,
        requested_at=requested,
        address_at_risk=(
            IncidentType.DOXING in (incident.types or ())
            or RiskFlag.HOME_ADDRESS_KNOWN in (incident.risk_flags or ())
        ),
        function=user.get_function_display() if getattr(user, "function", "") else "",
    )
