"""Every write to incidents. Each service is atomic, checks what it must, and records an Event.

Callers (views, API, tasks) check access first with `incidents.access`; services check the
workflow table, the actor's role, the stale `version`, and the facts themselves.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import deadlines, workflow
from incidents.constants import (
    FACT_FIELDS,
    MAX_EVIDENCE_FILES,
    OFFICEHOLDER_VISIBLE_EVENTS,
    SERIOUS_SEVERITIES,
    EventKind,
    MessageAudience,
    Status,
)
from incidents.errors import (
    EvidenceLimitReached,
    IncidentError,
    ReasonRequired,
    StaleVersion,
    TransitionNotAllowed,
)
from incidents.evidence import InspectedFile
from incidents.identifiers import identifier_normalise
from incidents.models import (
    Escalation,
    Event,
    Evidence,
    Incident,
    IncidentLink,
    Message,
    Note,
    PerpetratorIdentifier,
    ReferenceSequence,
    private_storage,
)
from incidents.signals import incident_event_recorded
from portal.constants import Role
from portal.crypto import identifier_hash
from portal.models import AccessLogEntry, Notification, User
from portal.selectors import desk_for_organisation

Identifiers = Iterable[tuple[str, str]]


def _actor_role(actor: User | None) -> str:
    return actor.role if actor is not None else workflow.SYSTEM


def event_record(
    *,
    incident: Incident,
    kind: EventKind,
    actor: User | None,
    payload: Mapping[str, Any] | None = None,
    visible_to_officeholder: bool | None = None,
    visible_to_desk: bool = True,
) -> Event:
    """Append an event and announce it after commit through `incident_event_recorded`."""
    if visible_to_officeholder is None:
        visible_to_officeholder = kind in OFFICEHOLDER_VISIBLE_EVENTS
    event = Event.objects.create(
        incident=incident,
        kind=kind,
        actor=actor,
        actor_role=_actor_role(actor),
        created_at=timezone.now(),
        payload=dict(payload or {}),
        visible_to_officeholder=visible_to_officeholder,
        visible_to_desk=visible_to_desk,
    )

    def announce():
        # Every receiver hears the event even if another one fails; a failure is then
        # raised so that Django's robust on_commit logs it (the Event row stays the record).
        responses = incident_event_recorded.send_robust(
            sender=Event, event_id=event.pk, incident_id=incident.pk, kind=kind
        )
        errors = [response for _, response in responses if isinstance(response, Exception)]
        if errors:
            raise errors[0]

    # A named function, not a partial: Django logs a failing robust callback by its
    # __qualname__, and a partial has none (that AttributeError would escape the commit).
    transaction.on_commit(announce, robust=True)
    return event


def _reference_next(*, year: int) -> str:
    ReferenceSequence.objects.get_or_create(year=year)
    # The UPDATE takes a row lock until commit, so two filings never get the same number.
    ReferenceSequence.objects.filter(year=year).update(last_number=F("last_number") + 1)
    number = ReferenceSequence.objects.get(year=year).last_number
    return f"MWB-{year}-{number:06d}"


def _triage_due_at(incident: Incident) -> Any:
    return deadlines.triage_due_at(
        submitted_at=incident.submitted_at,
        serious=incident.reporter_severity in SERIOUS_SEVERITIES,
        time_zone=incident.organisation.time_zone,
    )


def _identifiers_replace(*, incident: Incident, identifiers: Identifiers) -> None:
    incident.identifiers.all().delete()
    seen = set()
    for kind, value in identifiers:
        value = value.strip()
        normalised = identifier_normalise(kind=kind, value=value) if value else ""
        if not normalised or (kind, normalised) in seen:
            continue
        seen.add((kind, normalised))
        # Only a keyed hash of the normalised value is stored: it matches the same perpetrator
        # across incidents, but a database dump does not reveal it.
        PerpetratorIdentifier.objects.create(
            incident=incident, kind=kind, value=value, normalised=identifier_hash(normalised)
        )


def _evidence_store(
    *, incident: Incident, actor: User, files: Sequence[InspectedFile]
) -> list[Evidence]:
    if incident.evidence.count() + len(files) > MAX_EVIDENCE_FILES:
        raise EvidenceLimitReached()
    stored = []
    for inspected in files:
        evidence = Evidence(
            incident=incident,
            uploaded_by=actor,
            original_name=inspected.name,
            kind=inspected.kind,
            content_type=inspected.content_type,
            size=len(inspected.content),
            sha256=inspected.sha256,
            uploaded_at=timezone.now(),
        )
        evidence.file.save("evidence", ContentFile(inspected.content), save=False)
        evidence.save()
        stored.append(evidence)
    return stored


def _check_version(incident: Incident, version: int | None) -> None:
    if version is not None and int(version) != incident.version:
        raise StaleVersion()


def _locked(incident: Incident) -> Incident:
    # Lock the incident row only (not its organisation): writes to other incidents of the
    # same organisation must not queue behind this one.
    return (
        Incident.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organisation")
        .get(pk=incident.pk)
    )


def incident_submit(
    *,
    officeholder: User,
    facts: Mapping[str, Any],
    quick: bool,
    identifiers: Identifiers = (),
    files: Sequence[InspectedFile] = (),
    submission_token: UUID | None = None,
    filed_by: User | None = None,
) -> Incident:
    """Register a new incident for `officeholder` and route it to the desk of their organisation.

    Guarantees: a reference, a stored triage deadline, a `submitted` event; the same
    `submission_token` twice (a double click) returns the first incident instead of a second.
    `filed_by` is a registrar filing on the officeholder's behalf ("filed by the desk").
    """
    if officeholder.role != Role.OFFICEHOLDER:
        raise IncidentError(_("Een melding hoort altijd bij een ambtsdrager."))
    if submission_token is not None:
        existing = Incident.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            if existing.officeholder_id != officeholder.pk:
                # Someone else's token: never hand out (or reveal) another person's incident.
                raise IncidentError(_("Deze melding is al verstuurd. Vernieuw de pagina."))
            return existing
    organisation = officeholder.organisation
    desk = desk_for_organisation(organisation=organisation)
    if desk is None:
        raise IncidentError(
            _(
                "Er is nog geen meldpunt ingesteld voor uw organisatie. "
                "Bel het meldpunt of het Ondersteuningsteam."
            )
        )
    filer = filed_by or officeholder
    by_desk = filer.role == Role.REGISTRAR
    if filer.pk != officeholder.pk and not by_desk:
        raise IncidentError(_("Alleen de ambtsdrager zelf of het meldpunt kan deze melding doen."))
    if by_desk and filer.desk_id != desk.pk:
        raise IncidentError(_("U kunt alleen melden voor ambtsdragers van uw eigen meldpunt."))
    try:
        with transaction.atomic():
            now = timezone.now()
            incident = Incident(
                reference=_reference_next(year=timezone.localdate(now).year),
                officeholder=officeholder,
                organisation=organisation,
                desk=desk,
                filed_by=filer,
                filed_by_desk=by_desk,
                is_quick=quick,
                submission_token=submission_token,
                submitted_at=now,
                updated_at=now,
                **{field: facts[field] for field in FACT_FIELDS if field in facts},
            )
            incident.triage_due_at = _triage_due_at(incident)
            incident.save()
            _identifiers_replace(incident=incident, identifiers=identifiers)
            _evidence_store(incident=incident, actor=filer, files=files)
            event_record(
                incident=incident,
                kind=EventKind.FILED_BY_DESK if by_desk else EventKind.SUBMITTED,
                actor=filer,
                payload={"quick": quick, "evidence": len(files)},
            )
    except IntegrityError:
        if submission_token is None:
            raise
        # A concurrent double submit won the race: show that one (if it is theirs).
        existing = Incident.objects.get(submission_token=submission_token)
        if existing.officeholder_id != officeholder.pk:
            raise IncidentError(_("Deze melding is al verstuurd. Vernieuw de pagina.")) from None
        return existing
    return incident


def incident_complete(
    *,
    incident: Incident,
    actor: User,
    facts: Mapping[str, Any],
    identifiers: Identifiers,
    version: int,
) -> Incident:
    """Complete (or correct) the facts of an open incident; a quick report becomes a full one."""
    with transaction.atomic():
        locked = _locked(incident)
        _check_version(locked, version)
        if locked.status not in (Status.SUBMITTED, Status.IN_TRIAGE, Status.ESCALATED):
            raise TransitionNotAllowed(
                _("Een afgesloten of ingetrokken melding kunt u niet meer aanvullen.")
            )
        changed = sorted(f for f in FACT_FIELDS if f in facts and getattr(locked, f) != facts[f])
        for field in FACT_FIELDS:
            if field in facts:
                setattr(locked, field, facts[field])
        was_quick = locked.is_quick
        locked.is_quick = False
        if locked.triaged_at is None:
            locked.triage_due_at = _triage_due_at(locked)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        _identifiers_replace(incident=locked, identifiers=identifiers)
        event_record(
            incident=locked,
            kind=EventKind.COMPLETED,
            actor=actor,
            payload={"fields": changed, "was_quick": was_quick},
        )
    return locked


def incident_follow_up_add(
    *, incident: Incident, actor: User, text: str, files: Sequence[InspectedFile] = ()
) -> Event:
    """Add new information (a new occurrence, new evidence) to an open incident."""
    if not text.strip() and not files:
        raise ReasonRequired(_("Schrijf wat er nieuw is of voeg een bestand toe."))
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status == Status.WITHDRAWN:
            raise TransitionNotAllowed(_("Deze melding is ingetrokken."))
        stored = _evidence_store(incident=locked, actor=actor, files=files)
        locked.updated_at = timezone.now()
        locked.save(update_fields=["updated_at"])
        return event_record(
            incident=locked,
            kind=EventKind.FOLLOW_UP,
            actor=actor,
            payload={"text": text.strip(), "evidence": [e.pk for e in stored]},
        )


def evidence_add(
    *, incident: Incident, actor: User, files: Sequence[InspectedFile]
) -> list[Evidence]:
    """Attach checked files to an incident (at most 10 per incident) and record it."""
    with transaction.atomic():
        locked = _locked(incident)
        stored = _evidence_store(incident=locked, actor=actor, files=files)
        for evidence in stored:
            event_record(
                incident=locked,
                kind=EventKind.EVIDENCE_ADDED,
                actor=actor,
                payload={"evidence_id": evidence.pk, "name": evidence.original_name},
            )
        locked.updated_at = timezone.now()
        locked.save(update_fields=["updated_at"])
    return stored


def message_send(*, incident: Incident, actor: User, audience: str, body: str) -> Message:
    """Post a message in the officeholder's thread or in the staff channel."""
    body = body.strip()
    if not body:
        raise ReasonRequired(_("Schrijf een bericht."))
    if actor.role == Role.OFFICEHOLDER and audience != MessageAudience.OFFICEHOLDER_THREAD:
        raise TransitionNotAllowed()
    with transaction.atomic():
        message = Message.objects.create(
            incident=incident,
            author=actor,
            author_role=actor.role,
            audience=audience,
            body=body,
            created_at=timezone.now(),
        )
        Incident.objects.filter(pk=incident.pk).update(updated_at=message.created_at)
        event_record(
            incident=incident,
            kind=EventKind.MESSAGE,
            actor=actor,
            payload={"message_id": message.pk, "audience": audience},
            visible_to_officeholder=audience == MessageAudience.OFFICEHOLDER_THREAD,
        )
    return message


def note_add(*, incident: Incident, actor: User, body: str) -> Note:
    """Add an internal note (desk and support only; never shown to the officeholder)."""
    body = body.strip()
    if not body:
        raise ReasonRequired(_("Schrijf een notitie."))
    if actor.role not in (Role.REGISTRAR, Role.SUPPORT):
        raise TransitionNotAllowed()
    with transaction.atomic():
        note = Note.objects.create(
            incident=incident, author=actor, body=body, created_at=timezone.now()
        )
        event_record(
            incident=incident, kind=EventKind.NOTE, actor=actor, payload={"note_id": note.pk}
        )
    return note


def incident_mark_viewed(*, incident: Incident, actor: User) -> None:
    """Record the first time the desk opened the incident (shown to the officeholder)."""
    if actor.role != Role.REGISTRAR:
        return
    if incident.events.filter(kind=EventKind.VIEWED_BY_DESK).exists():
        return
    event_record(incident=incident, kind=EventKind.VIEWED_BY_DESK, actor=actor)


# --- Workflow ---------------------------------------------------------------------------------


def incident_transition(
    *,
    incident: Incident,
    actor: User | None,
    to_status: Status,
    version: int | None,
    reason: str = "",
    outcome: str = "",
) -> Incident:
    """Move an incident to `to_status` if the workflow table allows it for this actor.

    Refuses an illegal step (TransitionNotAllowed), a missing reason or outcome
    (ReasonRequired) and a change against an older version (StaleVersion). Records who,
    when and why as a `status_changed` event. Must run inside a transaction.
    """
    role = _actor_role(actor)
    locked = _locked(incident)
    _check_version(locked, version)
    step = workflow.transition_get(locked.status, to_status)
    if step is None or role not in step.roles:
        raise TransitionNotAllowed()
    if locked.anonymised_at is not None:
        # Nothing is left to work on after retention; the record only counts.
        raise TransitionNotAllowed()
    if role == Role.OFFICEHOLDER and locked.officeholder_id != actor.pk:
        raise TransitionNotAllowed()
    if role == Role.REGISTRAR and locked.desk_id != actor.desk_id:
        raise TransitionNotAllowed()
    reason, outcome = reason.strip(), outcome.strip()
    if step.needs == "reason" and not reason:
        raise ReasonRequired(_("Vul een reden in."))
    if step.needs == "outcome" and not outcome:
        raise ReasonRequired(_("Vul de uitkomst in."))
    from_status = locked.status
    now = timezone.now()
    locked.status = to_status
    locked.version += 1
    locked.updated_at = now
    if to_status == Status.CLOSED:
        locked.closed_at = now
        locked.outcome = outcome
    elif from_status == Status.CLOSED:
        locked.closed_at = None
    if to_status == Status.IN_TRIAGE and locked.assignee_id is None and role == Role.REGISTRAR:
        locked.assignee = actor
    locked.save()
    event_record(
        incident=locked,
        kind=EventKind.STATUS_CHANGED,
        actor=actor,
        payload={"from": from_status, "to": to_status, "reason": reason, "outcome": outcome},
    )
    return locked


def incident_take(*, incident: Incident, actor: User, version: int) -> Incident:
    """A registrar takes a submitted incident into triage (and becomes its handler if none)."""
    with transaction.atomic():
        return incident_transition(
            incident=incident, actor=actor, to_status=Status.IN_TRIAGE, version=version
        )


def incident_close(*, incident: Incident, actor: User, outcome: str, version: int) -> Incident:
    """A registrar closes an incident with an outcome (e.g. registration only)."""
    with transaction.atomic():
        return incident_transition(
            incident=incident,
            actor=actor,
            to_status=Status.CLOSED,
            version=version,
            outcome=outcome,
        )


def incident_reopen(*, incident: Incident, actor: User, reason: str, version: int) -> Incident:
    """A registrar reopens a closed incident, with a reason."""
    with transaction.atomic():
        return incident_transition(
            incident=incident,
            actor=actor,
            to_status=Status.IN_TRIAGE,
            version=version,
            reason=reason,
        )


def incident_withdraw(*, incident: Incident, actor: User, reason: str, version: int) -> Incident:
    """The officeholder withdraws their own incident before the desk started on it. Final."""
    with transaction.atomic():
        return incident_transition(
            incident=incident,
            actor=actor,
            to_status=Status.WITHDRAWN,
            version=version,
            reason=reason,
        )


def _escalation_close(*, incident: Incident, actor: User, outcome: str) -> None:
    now = timezone.now()
    closed = Escalation.objects.filter(incident=incident, closed_at__isnull=True).update(
        closed_at=now
    )
    if closed:
        event_record(
            incident=incident,
            kind=EventKind.ESCALATION_CLOSED,
            actor=actor,
            payload={"outcome": outcome},
        )


def incident_return_to_desk(
    *, incident: Incident, actor: User, reason: str, version: int
) -> Incident:
    """The support team gives an escalated incident back to the desk, with a reason."""
    with transaction.atomic():
        returned = incident_transition(
            incident=incident,
            actor=actor,
            to_status=Status.IN_TRIAGE,
            version=version,
            reason=reason,
        )
        _escalation_close(incident=returned, actor=actor, outcome=reason)
        return returned


def incident_close_escalated(
    *, incident: Incident, actor: User, outcome: str, version: int
) -> Incident:
    """The support team closes its case, and with it the incident, with an outcome."""
    with transaction.atomic():
        closed = incident_transition(
            incident=incident,
            actor=actor,
            to_status=Status.CLOSED,
            version=version,
            outcome=outcome,
        )
        _escalation_close(incident=closed, actor=actor, outcome=outcome)
        return closed


def incident_escalate(
    *,
    incident: Incident,
    actor: User | None,
    reason: str = "",
    rule_names: Sequence[str] = (),
    version: int | None = None,
) -> Escalation | None:
    """Hand the incident to the Ondersteuningsteam: an open Escalation and status `escalated`.

    `actor` is a registrar (with a reason) or None for the rules engine (with rule names).
    Idempotent: if an open escalation exists already, nothing changes and None is returned;
    a database constraint keeps it at one open escalation even for two workers at once.
    """
    if actor is None and not rule_names:
        raise ReasonRequired(_("Een automatische doorverwijzing noemt de regel die afging."))
    try:
        with transaction.atomic():
            locked = _locked(incident)
            if locked.escalations.filter(closed_at__isnull=True).exists():
                return None
            why = reason.strip() or ", ".join(rule_names)
            escalation = Escalation.objects.create(
                incident=locked,
                escalated_by=actor,
                rules=list(rule_names),
                reason=reason.strip(),
                created_at=timezone.now(),
            )
            incident_transition(
                incident=locked,
                actor=actor,
                to_status=Status.ESCALATED,
                version=version,
                reason=why,
            )
            event_record(
                incident=locked,
                kind=EventKind.ESCALATED,
                actor=actor,
                payload={
                    "escalation_id": escalation.pk,
                    "rules": list(rule_names),
                    "reason": reason.strip(),
                },
            )
            return escalation
    except IntegrityError:
        return None


def incident_assign(
    *, incident: Incident, actor: User, assignee: User | None, version: int
) -> Incident:
    """Make `assignee` (a registrar of the incident's desk, or nobody) the handler."""
    if assignee is not None and (
        assignee.role != Role.REGISTRAR or assignee.desk_id != incident.desk_id
    ):
        raise IncidentError(_("Kies een collega van het meldpunt van deze melding."))
    with transaction.atomic():
        locked = _locked(incident)
        _check_version(locked, version)
        locked.assignee = assignee
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        event_record(
            incident=locked,
            kind=EventKind.ASSIGNED,
            actor=actor,
            payload={
                "assignee_id": assignee.pk if assignee else None,
                "assignee": str(assignee or ""),
            },
        )
        return locked


def incident_triage(
    *,
    incident: Incident,
    actor: User,
    version: int,
    triage_severity: str,
    risk_flags: Sequence[str],
    types: Sequence[str],
    advice_given: Sequence[str],
    advice_note: str = "",
) -> Incident:
    """Record the desk's assessment: severity, risk flags, corrected types and advice given."""
    with transaction.atomic():
        locked = _locked(incident)
        _check_version(locked, version)
        if locked.status not in (Status.SUBMITTED, Status.IN_TRIAGE):
            raise TransitionNotAllowed(
                _("Alleen een open melding bij het meldpunt kunt u beoordelen.")
            )
        before = {
            "triage_severity": locked.triage_severity,
            "risk_flags": locked.risk_flags,
            "types": locked.types,
            "advice_given": locked.advice_given,
        }
        locked.triage_severity = triage_severity
        locked.risk_flags = list(risk_flags)
        locked.types = list(types)
        locked.advice_given = list(advice_given)
        locked.advice_note = advice_note.strip()
        locked.triaged_at = locked.triaged_at or timezone.now()
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        after = {key: getattr(locked, key) for key in before}
        event_record(
            incident=locked,
            kind=EventKind.TRIAGED,
            actor=actor,
            payload={"before": before, "after": after},
        )
        return locked


def incident_link(
    *, incident: Incident, other: Incident, actor: User | None, kind: str, reason: str = ""
) -> IncidentLink | None:
    """Link two incidents that belong together. Linking twice changes nothing (returns None)."""
    if incident.pk == other.pk:
        raise IncidentError(_("Een melding kan niet aan zichzelf worden gekoppeld."))
    low, high = sorted((incident, other), key=lambda i: i.pk)
    with transaction.atomic():
        link, created = IncidentLink.objects.get_or_create(
            from_incident=low,
            to_incident=high,
            defaults={
                "kind": kind,
                "created_by": actor,
                "reason": reason.strip(),
                "created_at": timezone.now(),
            },
        )
        if not created:
            return None
        for this, that in ((incident, other), (other, incident)):
            event_record(
                incident=this,
                kind=EventKind.LINKED,
                actor=actor,
                payload={"other": that.reference, "kind": kind, "reason": reason.strip()},
            )
        return link


def incident_mark_duplicate(
    *, incident: Incident, original: Incident, actor: User, version: int
) -> Incident:
    """Close `incident` as a duplicate of `original`; nothing is deleted, it points there."""
    if incident.pk == original.pk:
        raise IncidentError(_("Een melding kan geen dubbel van zichzelf zijn."))
    with transaction.atomic():
        closed = incident_transition(
            incident=incident,
            actor=actor,
            to_status=Status.CLOSED,
            version=version,
            outcome=_("Dubbele melding van %(reference)s.") % {"reference": original.reference},
        )
        closed.duplicate_of = original
        closed.save(update_fields=["duplicate_of"])
        event_record(
            incident=closed,
            kind=EventKind.MARKED_DUPLICATE,
            actor=actor,
            payload={"original": original.reference},
        )
        return closed


# --- Retention and the officeholder's own data --------------------------------------------------

# Free text about what happened: removed by the retention service. Everything else on the
# incident is a structured fact (codes, dates, organisation) and stays for statistics.
INCIDENT_FREE_TEXT_FIELDS = (
    "summary",
    "description",
    "location",
    "platform",
    "links",
    "perpetrator_description",
    "police_report_number",
    "police_outcome",
    "advice_note",
    "outcome",
)


def _evidence_files_delete(names: list[str]) -> None:
    # Files go after commit: a rolled-back transaction must not lose evidence.
    def delete():
        for name in names:
            private_storage.delete(name)

    transaction.on_commit(delete)


def incident_anonymise(*, incident: Incident) -> Incident:
    """Remove all content of an incident after the retention period; keep the statistics.

    Removes the free text, evidence (rows and files), perpetrator identifiers, internal notes,
    message texts, event payloads and the reasons of links and escalations, and unlinks the
    officeholder (also as author or actor, and from their own access-log entries). Keeps the
    types, dates, organisation, desk, channel, severities, flags and impacts. Leaves one
    content-free `anonymised` event: the only exception to "events are append-only". Running
    it twice changes nothing.
    """
    with transaction.atomic():
        locked = _locked(incident)
        if locked.anonymised_at is not None:
            return locked
        now = timezone.now()
        officeholder_id = locked.officeholder_id
        for field in INCIDENT_FREE_TEXT_FIELDS:
            setattr(locked, field, "")
        locked.officeholder = None
        locked.filed_by = None
        locked.submission_token = None
        locked.anonymised_at = now
        locked.updated_at = now
        locked.version += 1
        locked.save()
        files = [name for name in locked.evidence.values_list("file", flat=True) if name]
        locked.evidence.all().delete()
        _evidence_files_delete(files)
        locked.identifiers.all().delete()
        locked.notes.all().delete()
        locked.messages.update(body="")
        if officeholder_id is not None:
            locked.messages.filter(author_id=officeholder_id).update(author=None)
            locked.events.filter(actor_id=officeholder_id).update(actor=None)
            # Their own notifications would still tie them to this reference.
            Notification.objects.filter(
                recipient_id=officeholder_id, reference=locked.reference
            ).delete()
            # So would their own reads of it in the access log: the entries stay (the
            # desk's reads are still accounted for), without the person or their IP.
            AccessLogEntry.objects.filter(
                actor_id=officeholder_id, reference=locked.reference
            ).update(actor=None, ip_address=None)
        locked.events.update(payload={})
        IncidentLink.objects.filter(from_incident=locked).update(reason="")
        IncidentLink.objects.filter(to_incident=locked).update(reason="")
        locked.escalations.update(reason="")
        # Announced like every event: the support domain removes its own free text.
        event_record(
            incident=locked, kind=EventKind.ANONYMISED, actor=None, visible_to_officeholder=False
        )
        return locked


def incidents_anonymise_expired(*, now=None, limit: int = 200) -> int:
    """Anonymise the closed incidents whose retention period is over; returns how many."""
    from incidents.selectors import incidents_due_for_retention

    due = list(incidents_due_for_retention(now or timezone.now())[:limit])
    for incident in due:
        incident_anonymise(incident=incident)
    return len(due)


def incident_delete_withdrawn(*, incident: Incident, actor: User) -> None:
    """The officeholder deletes their own withdrawn incident, with its evidence files.

    A real delete, not an anonymisation: it is the officeholder's right for a report they
    withdrew. Refused (TransitionNotAllowed) for anyone else and for any other status.
    """
    with transaction.atomic():
        locked = _locked(incident)
        if (
            actor.role != Role.OFFICEHOLDER
            or locked.officeholder_id != actor.pk
            or locked.status != Status.WITHDRAWN
        ):
            raise TransitionNotAllowed()
        files = [name for name in locked.evidence.values_list("file", flat=True) if name]
        locked.duplicates.update(duplicate_of=None)
        locked.delete()
        _evidence_files_delete(files)
