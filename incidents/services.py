"""Every write to incidents. Each service is atomic, checks what it must, and records an Event.

Services check the policies themselves (`incidents.policies`: who may do this to this incident
now), the stale `version`, and the facts; the edges ask the same policies to decide what to
offer. Every event is recorded with its outbox entries in the same transaction
(`portal.outbox`), which is how the rest of the portal hears what happened.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import deadlines, fact_counts, notify
from incidents.aangifte import AangifteTrack, track_problems
from incidents.actions import OPEN, SYSTEM, WITH_DESK, Action, action_get, is_serious
from incidents.constants import (
    FACT_FIELDS,
    MAX_EVIDENCE_FILES,
    OFFICEHOLDER_VISIBLE_EVENTS,
    REFERENCE_DIGITS,
    CallDirection,
    EscalationRuleCode,
    EventKind,
    EvidenceProcessing,
    MessageAudience,
    OutcomeCategory,
    SavedViewWorkspace,
    Status,
)
from incidents.errors import (
    EvidenceLimitReached,
    FactsInvalid,
    IdentifierChangesLimited,
    IncidentError,
    ReasonRequired,
    SavedViewsLimited,
    StaleVersion,
    TransitionNotAllowed,
)
from incidents.evidence import InspectedFile
from incidents.evidence_processing import evidence_processing_queue
from incidents.facts import facts_problems, with_contact_wish
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
    PerpetratorMatch,
    PhoneCall,
    ReferenceSequence,
    SavedQueueView,
    StandardReply,
    private_storage,
)
from incidents.policies import incident_policy, message_policy, standard_reply_policy
from portal import services as portal_services
from portal.crypto import fact_tokens, identifier_hash
from portal.deletions import deletion_record
from portal.errors import DomainError
from portal.models import AccessLogEntry, DeletionKind, Desk, Notification, User
from portal.outbox import outbox_record
from portal.policies import user_policy
from portal.reachability import (
    Route,
    desk_is_reachable,
    fallback_desk,
    reachable_q,
    route_for_desk,
    route_for_organisation,
)
from portal.selectors import organisation_current
from portal.services import desk_unreachable_record, desks_reachability_record

Identifiers = Iterable[tuple[str, str]]

# The topic under which incident events reach the outbox's consumers.
INCIDENT_EVENT_TOPIC = "incident_event"


def event_record(
    *,
    incident: Incident,
    kind: EventKind,
    actor: User | None,
    payload: Mapping[str, Any] | None = None,
    visible_to_officeholder: bool | None = None,
    visible_to_desk: bool = True,
) -> Event:
    """Append an event, with the work for every consumer of incident events (the outbox)."""
    if visible_to_officeholder is None:
        visible_to_officeholder = kind in OFFICEHOLDER_VISIBLE_EVENTS
    with transaction.atomic():
        event = Event.objects.create(
            incident=incident,
            kind=kind,
            actor=actor,
            actor_role=actor.role if actor is not None else SYSTEM,
            created_at=timezone.now(),
            payload=dict(payload or {}),
            visible_to_officeholder=visible_to_officeholder,
            visible_to_desk=visible_to_desk,
        )
        outbox_record(topic=INCIDENT_EVENT_TOPIC, object_id=event.pk, kind=kind)
    return event


def _reference_next(*, year: int) -> str:
    ReferenceSequence.objects.get_or_create(year=year)
    # The UPDATE takes a row lock until commit, so two filings never get the same number.
    ReferenceSequence.objects.filter(year=year).update(last_number=F("last_number") + 1)
    number = ReferenceSequence.objects.get(year=year).last_number
    return f"MWB-{year}-{number:0{REFERENCE_DIGITS}d}"


def _triage_due_at(incident: Incident) -> Any:
    return deadlines.triage_due_at(
        submitted_at=incident.submitted_at,
        serious=is_serious(incident),
        time_zone=incident.organisation.time_zone,
    )


def _identifier_keys(identifiers: Identifiers) -> dict[tuple[str, str], str]:
    """{(kind, keyed hash of the normalised value): the value as typed}, once per identifier."""
    keys = {}
    for kind, value in identifiers:
        value = value.strip()
        normalised = identifier_normalise(kind=kind, value=value) if value else ""
        if normalised:
            # Only a keyed hash of the normalised value is stored: it matches the same
            # perpetrator across incidents, but a database dump does not reveal it.
            keys.setdefault((kind, identifier_hash(normalised)), value)
    return keys


def _identifiers_replace(*, incident: Incident, actor: User, identifiers: Identifiers) -> None:
    """Store the perpetrator identifiers; a change is recorded and limited per day.

    The limit keeps anyone from probing, by changing identifiers over and over, whether
    somebody else reported the same perpetrator (the match itself is staff-only anyway).
    """
    wanted = _identifier_keys(identifiers)
    current = set(incident.identifiers.values_list("kind", "normalised"))
    if set(wanted) == current:
        return
    since = timezone.now() - timedelta(days=1)
    changes_today = incident.events.filter(
        kind=EventKind.IDENTIFIERS_CHANGED, created_at__gte=since
    ).count()
    if changes_today >= settings.IDENTIFIER_CHANGES_PER_DAY:
        raise IdentifierChangesLimited()
    incident.identifiers.all().delete()
    PerpetratorIdentifier.objects.bulk_create(
        PerpetratorIdentifier(incident=incident, kind=kind, value=value, normalised=normalised)
        for (kind, normalised), value in wanted.items()
    )
    if current or wanted:
        event_record(
            incident=incident,
            kind=EventKind.IDENTIFIERS_CHANGED,
            actor=actor,
            payload={"added": len(set(wanted) - current), "removed": len(current - set(wanted))},
            visible_to_officeholder=False,
        )


def _evidence_store(
    *, incident: Incident, actor: User, files: Sequence[InspectedFile]
) -> list[Evidence]:
    # Failed files stay listed (with the reason) but do not use up one of the ten places.
    if (
        incident.evidence.exclude(processing=EvidenceProcessing.FAILED).count() + len(files)
        > MAX_EVIDENCE_FILES
    ):
        raise EvidenceLimitReached()
    stored = []
    for inspected in files:
        now = timezone.now()
        evidence = Evidence(
            incident=incident,
            uploaded_by=actor,
            original_name=inspected.name,
            kind=inspected.kind,
            content_type=inspected.content_type,
            size=inspected.size,
            original_sha256=inspected.original_sha256,
            uploaded_at=now,
        )
        # Streamed into the encrypted storage: a 200 MB video never sits in memory.
        if inspected.needs_processing:
            # The worker cleans it (incidents/evidence_processing.py); until then it is only
            # the encrypted upload, which nobody can download.
            evidence.processing = EvidenceProcessing.PENDING
            evidence.processing_queued_at = now
            evidence.upload.save("upload", File(inspected.source), save=False)
        else:
            evidence.sha256 = inspected.original_sha256
            evidence.file.save("evidence", File(inspected.source), save=False)
        evidence.save()
        if inspected.needs_processing:
            _evidence_processing_queue(evidence.pk)
        stored.append(evidence)
    return stored


def _evidence_processing_queue(evidence_id: int) -> None:
    # After commit, and never failing the request: if the broker is down, the evidence
    # sweeper (incidents.tasks.sweep_pending_evidence) queues it later.
    def queue_processing():
        evidence_processing_queue(evidence_id)

    transaction.on_commit(queue_processing, robust=True)


def _check_version(incident: Incident, version: int | None) -> None:
    if version is None or int(version) != incident.version:
        raise StaleVersion()


def _locked(incident: Incident) -> Incident:
    # Lock the incident row only (not its organisation): writes to other incidents of the
    # same organisation must not queue behind this one.
    return (
        Incident.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organisation")
        .get(pk=incident.pk)
    )


def _touch(incident: Incident) -> None:
    incident.updated_at = timezone.now()
    incident.save(update_fields=["updated_at"])


def _facts_check(facts: Mapping[str, Any]) -> None:
    problems = facts_problems(facts)
    if problems:
        raise FactsInvalid(problems)


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

    Guarantees: a reference, a stored triage deadline, a `submitted` event, its facts in the
    fact counts; the same `submission_token` twice (a double click) returns the first incident
    instead of a second.
    `filed_by` is a registrar filing on the officeholder's behalf ("filed by the desk").
    Yes to "Voelt u zich onveilig of wilt u gebeld worden?" (`unsafe_or_call`) makes it a
    serious report (4-hour deadline) and a wish for contact, never a reporter's severity; a
    phone number given with it also goes on the officeholder's profile when that has none.
    """
    filer = filed_by or officeholder
    if not user_policy.allows(filer, "file_for", officeholder):
        raise IncidentError(_("U kunt alleen melden voor ambtsdragers van uw eigen meldpunt."))
    identifiers = list(identifiers)
    facts = with_contact_wish(facts)
    _facts_check(facts)
    if submission_token is not None:
        existing = Incident.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            if existing.officeholder_id != officeholder.pk:
                # Someone else's token: never hand out (or reveal) another person's incident.
                raise IncidentError(_("Deze melding is al verstuurd. Vernieuw de pagina."))
            return existing
    # After a herindeling new incidents go to the organisation that followed the old one;
    # the old incidents keep the organisation they were filed under.
    organisation = organisation_current(organisation=officeholder.organisation)
    if organisation is None:
        raise IncidentError(
            _(
                "Uw organisatie bestaat niet meer. Bel het meldpunt of het Ondersteuningsteam, "
                "dan zetten we uw account goed."
            )
        )
    # Who really looks now (portal.reachability): the own desk, the fallback desk, or, when
    # no desk is read by anybody, the Ondersteuningsteam through an escalation.
    route = route_for_organisation(organisation=organisation)
    desk = route.desk or route.home_desk
    if desk is None:
        raise IncidentError(
            _(
                "Er is nog geen meldpunt ingesteld voor uw organisatie. "
                "Bel het meldpunt of het Ondersteuningsteam."
            )
        )
    by_desk = filer.pk != officeholder.pk
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
                facts_counted=True,
                moved_from_desk=route.home_desk if route.moved and route.desk else None,
                officeholder_function=officeholder.function,
                officeholder_gender=officeholder.gender,
                organisation_type=organisation.type,
                **{field: facts[field] for field in FACT_FIELDS if field in facts},
            )
            incident.triage_due_at = _triage_due_at(incident)
            incident.save()
            fact_counts.add(incident, fact_counts.incident_facts(incident))
            if incident.contact_phone and not by_desk and not officeholder.phone:
                officeholder.phone = incident.contact_phone
                officeholder.save(update_fields=["phone"])
            PerpetratorIdentifier.objects.bulk_create(
                PerpetratorIdentifier(incident=incident, kind=kind, value=value, normalised=key)
                for (kind, key), value in _identifier_keys(identifiers).items()
            )
            _evidence_store(incident=incident, actor=filer, files=files)
            event_record(
                incident=incident,
                kind=EventKind.FILED_BY_DESK if by_desk else EventKind.SUBMITTED,
                actor=filer,
                payload={"quick": quick, "evidence": len(files)},
            )
            if route.moved:
                _route_away(incident=incident, route=route)
                incident.refresh_from_db()
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
    """Complete (or correct) the facts of an open incident; a quick report becomes a full one.

    Changed perpetrator identifiers are recorded as an event of their own, at most
    IDENTIFIER_CHANGES_PER_DAY times per incident per day. The fact counts follow the change.
    """
    identifiers = list(identifiers)
    _facts_check(facts)
    with transaction.atomic():
        locked = _locked(incident)
        _check_version(locked, version)
        incident_policy.require(
            actor,
            "complete",
            locked,
            _("Een afgesloten of ingetrokken melding kunt u niet meer aanvullen."),
        )
        counted = fact_counts.snapshot(locked)
        changed = sorted(f for f in FACT_FIELDS if f in facts and getattr(locked, f) != facts[f])
        for field in FACT_FIELDS:
            if field in facts:
                setattr(locked, field, facts[field])
        was_quick = locked.is_quick
        locked.is_quick = False
        if not locked.triage_severity:
            locked.triage_due_at = _triage_due_at(locked)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        fact_counts.follow(locked, counted)
        _identifiers_replace(incident=locked, actor=actor, identifiers=identifiers)
        event_record(
            incident=locked,
            kind=EventKind.COMPLETED,
            actor=actor,
            payload={"fields": changed, "was_quick": was_quick},
        )
    return locked


SUMMARY_CONSENT_REFUSED = {
    True: _("U heeft hiervoor al toestemming gegeven, of het kan bij deze melding niet meer."),
    False: _("U had hiervoor geen toestemming gegeven."),
}


def summary_consent_set(*, incident: Incident, actor: User, given: bool) -> Incident:
    """Give (`given`) or withdraw the officeholder's consent that the desk makes the police
    summary of this incident for an aangifte by the employer.

    In one transaction with the incident row locked: the incident policy must allow it on the
    row as it is now ("give_summary_consent" / "withdraw_summary_consent", so a second click
    or a race changes nothing and says why: TransitionNotAllowed). Then `summary_consent_at`
    is set or cleared, the version moves on, and an event on the officeholder's timeline (the
    desk sees it too) records who and when. The desk's "police_summary" rule reads the field,
    so a withdrawal closes the desk's summary at once.
    """
    rule = "give_summary_consent" if given else "withdraw_summary_consent"
    with transaction.atomic():
        locked = _locked(incident)
        if not incident_policy.allows(actor, rule, locked):
            raise TransitionNotAllowed(SUMMARY_CONSENT_REFUSED[given])
        now = timezone.now()
        locked.summary_consent_at = now if given else None
        locked.version += 1
        locked.updated_at = now
        locked.save(update_fields=["summary_consent_at", "version", "updated_at"])
        event_record(
            incident=locked,
            kind=EventKind.SUMMARY_CONSENT_GIVEN if given else EventKind.SUMMARY_CONSENT_WITHDRAWN,
            actor=actor,
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
        incident_policy.require(
            actor, "add_information", locked, _("U kunt aan deze melding niets meer toevoegen.")
        )
        stored = _evidence_store(incident=locked, actor=actor, files=files)
        _touch(locked)
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
        incident_policy.require(
            actor, "add_information", locked, _("U kunt aan deze melding niets meer toevoegen.")
        )
        stored = _evidence_store(incident=locked, actor=actor, files=files)
        for evidence in stored:
            event_record(
                incident=locked,
                kind=EventKind.EVIDENCE_ADDED,
                actor=actor,
                payload={"evidence_id": evidence.pk, "name": evidence.original_name},
            )
        _touch(locked)
    return stored


def message_send(*, incident: Incident, actor: User, audience: str, body: str) -> Message:
    """Post a message in the officeholder's thread or in the staff channel (the policy says
    who may write where)."""
    body = body.strip()
    if not body:
        raise ReasonRequired(_("Schrijf een bericht."))
    if audience not in message_policy.audiences_for(actor, incident):
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
    incident_policy.require(actor, "write_note", incident)
    with transaction.atomic():
        note = Note.objects.create(
            incident=incident, author=actor, body=body, created_at=timezone.now()
        )
        event_record(
            incident=incident, kind=EventKind.NOTE, actor=actor, payload={"note_id": note.pk}
        )
    return note


PHONE_SUMMARY_MAX = 1000


def phone_call_add(
    *,
    incident: Incident,
    actor: User,
    direction: str,
    summary: str,
    other_party: str = "",
    called_at=None,
) -> PhoneCall:
    """Log a phone call about the incident (the desk only; never shown to the officeholder):
    who called whom, when (default now; not in the future) and a short summary."""
    summary, now = summary.strip(), timezone.now()
    if not summary:
        raise ReasonRequired(_("Schrijf kort waarover het gesprek ging."))
    if len(summary) > PHONE_SUMMARY_MAX:
        raise IncidentError(_("Houd de samenvatting kort: hoogstens 1000 tekens."))
    if direction not in CallDirection.values:
        raise ReasonRequired(_("Kies wie er belde."))
    called_at = called_at or now
    if called_at > now + timedelta(minutes=5):
        raise IncidentError(_("Een gesprek dat nog moet komen, plant u met 'Terugbellen'."))
    incident_policy.require(actor, "log_phone_call", incident)
    with transaction.atomic():
        call = PhoneCall.objects.create(
            incident=incident,
            author=actor,
            direction=direction,
            other_party=other_party.strip(),
            called_at=called_at,
            summary=summary,
            created_at=now,
        )
        event_record(
            incident=incident,
            kind=EventKind.PHONE_CALL,
            actor=actor,
            payload={"phone_call_id": call.pk},
            visible_to_officeholder=False,
        )
    return call


def aangifte_anonymised(track: AangifteTrack) -> AangifteTrack:
    """The track without its number, dates and names: only the steps reached remain."""
    return replace(
        track,
        police_contacted_on=None,
        filed_on=None,
        report_number="",
        employer="",
        outcome_note="",
    )


def aangifte_update(
    *, incident: Incident, actor: User, track: AangifteTrack, version: int
) -> Incident:
    """Record where the aangifte stands (the officeholder or their desk; policy rule
    `update_aangifte`).

    In one transaction, with the incident locked: refuses an older `version` and a track with
    problems (`incidents.aangifte.track_problems`, as FactsInvalid per field), stores the
    track with what its steps imply (`AangifteTrack.normalised`), records an `aangifte` event
    on the timeline ("Aangifte: ..." with the steps that changed; the officeholder sees it)
    and moves the fact counts (kind `aangifte`, one row per step reached). Saving the same
    track again changes nothing and records nothing.
    """
    track = track.normalised()
    problems = track_problems(track)
    if problems:
        raise FactsInvalid(problems)
    with transaction.atomic():
        locked = _locked(incident)
        _check_version(locked, version)
        incident_policy.require(
            actor,
            "update_aangifte",
            locked,
            _("U kunt de aangifte van deze melding niet meer bijwerken."),
        )
        before = locked.aangifte_track
        changed = track.changes_from(before)
        if not changed:
            return locked
        counted = fact_counts.snapshot(locked)
        locked.aangifte = track.stored()
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        fact_counts.follow(locked, counted)
        event_record(
            incident=locked,
            kind=EventKind.AANGIFTE,
            actor=actor,
            payload={
                "steps": track.steps(),
                "added": [step for step in track.steps() if step not in before.steps()],
                "removed": [step for step in before.steps() if step not in track.steps()],
                "fields": changed,
            },
        )
    return locked


def incident_mark_viewed(*, incident: Incident, actor: User) -> None:
    """Record the first time the desk opened the incident (shown to the officeholder).

    Once, also when two registrars open it at the same moment: the check is repeated with
    the incident locked.
    """
    if not incident_policy.allows(actor, "mark_viewed", incident):
        return
    if incident.events.filter(kind=EventKind.VIEWED_BY_DESK).exists():
        return
    with transaction.atomic():
        locked = _locked(incident)
        if not locked.events.filter(kind=EventKind.VIEWED_BY_DESK).exists():
            event_record(incident=locked, kind=EventKind.VIEWED_BY_DESK, actor=actor)


# --- The workflow: one service runs every action of incidents.actions ------------------------


def _text(inputs: Mapping[str, Any], name: str) -> str:
    return (inputs.get(name) or "").strip()


def _needs_check(action: Action, actor: User | None, inputs: Mapping[str, Any]) -> None:
    for name in action.needs:
        if actor is None and action.system and name == "reason":
            if not inputs.get("rules"):
                raise ReasonRequired(
                    _("Een automatische doorverwijzing noemt de regel die afging.")
                )
            continue
        value = inputs.get(name)
        if value is None or (isinstance(value, str | list | tuple) and not _strip(value)):
            raise ReasonRequired(NEEDS_MESSAGES.get(name))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


NEEDS_MESSAGES = {
    "reason": _("Vul een reden in."),
    "outcome": _("Vul de uitkomst in."),
    "outcome_category": _("Kies de soort uitkomst."),
    "triage_severity": _("Kies hoe ernstig het is."),
    "types": _("Kies minstens één soort incident."),
    "original": _("Vul het kenmerk van de oorspronkelijke melding in."),
    "other": _("Vul het kenmerk van de andere melding in."),
    "kind": _("Kies wat de meldingen met elkaar te maken hebben."),
    "callback_at": _("Kies de dag en de tijd om terug te bellen."),
}


def _escalation_close(*, incident: Incident, actor: User, outcome: str) -> None:
    closed = Escalation.objects.filter(incident=incident, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    if closed:
        event_record(
            incident=incident,
            kind=EventKind.ESCALATION_CLOSED,
            actor=actor,
            payload={"outcome": outcome},
        )


def _assign(incident: Incident, actor: User, inputs: dict) -> None:
    assignee = inputs.get("assignee")
    if assignee is not None and not user_policy.allows(actor, "assign_incident_to", assignee):
        raise IncidentError(_("Kies een collega van het meldpunt van deze melding."))
    incident.assignee = assignee
    event_record(
        incident=incident,
        kind=EventKind.ASSIGNED,
        actor=actor,
        payload={"assignee_id": assignee.pk if assignee else None, "assignee": str(assignee or "")},
    )


def _release(incident: Incident, actor: User | None, inputs: dict) -> None:
    former = incident.assignee
    incident.assignee = None
    event = event_record(
        incident=incident,
        kind=EventKind.ASSIGNED,
        actor=actor,
        payload={
            "assignee_id": None,
            "assignee": "",
            "released_from": str(former or ""),
            "reason": _text(inputs, "reason"),
        },
    )
    notify.incident_released_notify(event)


def _set_callback(incident: Incident, actor: User, inputs: dict) -> None:
    moment, note = inputs["callback_at"], _text(inputs, "callback_note")
    if moment < timezone.now() - timedelta(minutes=5):
        raise IncidentError(_("Dit moment is al voorbij. Kies een moment dat nog moet komen."))
    incident.callback_at, incident.callback_note = moment, note
    # A new moment is a new reminder, also when the old one was sent.
    incident.callback_notified_at = None
    event_record(
        incident=incident,
        kind=EventKind.CALLBACK_SET,
        actor=actor,
        payload={"callback_at": moment.isoformat(), "note": note},
        visible_to_officeholder=False,
    )


def _clear_callback(incident: Incident, actor: User, inputs: dict) -> None:
    incident.callback_at, incident.callback_note, incident.callback_notified_at = None, "", None
    event_record(
        incident=incident,
        kind=EventKind.CALLBACK_CLEARED,
        actor=actor,
        visible_to_officeholder=False,
    )


TRIAGE_FIELDS = ("triage_severity", "risk_flags", "types", "advice_given")


def _triage(incident: Incident, actor: User, inputs: dict) -> None:
    before = {key: getattr(incident, key) for key in TRIAGE_FIELDS}
    incident.triage_severity = inputs["triage_severity"]
    incident.risk_flags = list(inputs.get("risk_flags") or [])
    incident.types = list(inputs["types"])
    incident.advice_given = list(inputs.get("advice_given") or [])
    incident.advice_note = _text(inputs, "advice_note")
    incident.triaged_at = incident.triaged_at or timezone.now()
    after = {key: getattr(incident, key) for key in TRIAGE_FIELDS}
    event_record(
        incident=incident,
        kind=EventKind.TRIAGED,
        actor=actor,
        payload={"before": before, "after": after},
    )


ALREADY_ESCALATED = _("Deze melding was al doorgegeven aan het Ondersteuningsteam.")
ONE_OPEN_ESCALATION = "one_open_escalation_per_incident"


def _violated_constraint(error: IntegrityError) -> str:
    """The name of the constraint PostgreSQL reports for `error` ("" when it names none)."""
    diag = getattr(getattr(error, "__cause__", None), "diag", None)
    name = getattr(diag, "constraint_name", None) if diag is not None else None
    if name:
        return name
    # SQLite names no constraint object; its message names the columns of a unique index.
    return ONE_OPEN_ESCALATION if "incidents_escalation.incident_id" in str(error) else ""


def _escalate(incident: Incident, actor: User | None, inputs: dict) -> Callable:
    rules, reason = list(inputs.get("rules") or []), _text(inputs, "reason")
    if incident.escalations.filter(closed_at__isnull=True).exists():
        raise TransitionNotAllowed(ALREADY_ESCALATED)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                incident=incident,
                escalated_by=actor,
                rules=rules,
                reason=reason,
                created_at=timezone.now(),
            )
            fact_counts.add(incident, fact_counts.rule_facts(rules))
    except IntegrityError as error:
        # Only the one-open-escalation constraint means "already escalated" (a concurrent
        # escalation won); any other integrity error is a real fault and is raised.
        if _violated_constraint(error) == ONE_OPEN_ESCALATION:
            raise TransitionNotAllowed(ALREADY_ESCALATED) from None
        raise
    # After the status change: the support case follows from this event.
    return lambda: event_record(
        incident=incident,
        kind=EventKind.ESCALATED,
        actor=actor,
        payload={"escalation_id": escalation.pk, "rules": rules, "reason": reason},
    )


def _mark_duplicate(incident: Incident, actor: User, inputs: dict) -> Callable:
    # As it is now in the database (someone may have closed it as a duplicate meanwhile).
    original = Incident.objects.get(pk=inputs["original"].pk)
    if original.pk == incident.pk:
        raise IncidentError(_("Een melding kan geen dubbel van zichzelf zijn."))
    if not incident_policy.allows(actor, "view_internal", original):
        raise IncidentError(
            _("Er is geen melding met kenmerk %(reference)s gevonden bij uw meldpunt.")
            % {"reference": original.reference}
        )
    if original.duplicate_of_id is not None:
        # Pointing at the original keeps the chain one step long, and never a circle.
        raise IncidentError(
            _("Melding %(reference)s is zelf een dubbele melding. Kies de oorspronkelijke melding.")
            % {"reference": original.reference}
        )
    incident.duplicate_of = original
    # The outcome the closing step records (and the officeholder reads).
    inputs["outcome"] = _("Dubbele melding van %(reference)s.") % {"reference": original.reference}
    inputs["outcome_category"] = OutcomeCategory.DUPLICATE
    return lambda: event_record(
        incident=incident,
        kind=EventKind.MARKED_DUPLICATE,
        actor=actor,
        payload={"original": original.reference},
    )


def _link(incident: Incident, actor: User, inputs: dict) -> None:
    other, kind, reason = inputs["other"], inputs["kind"], _text(inputs, "reason")
    if other.pk == incident.pk:
        raise IncidentError(_("Een melding kan niet aan zichzelf worden gekoppeld."))
    if not incident_policy.allows(actor, "view_internal", other):
        raise IncidentError(
            _("Er is geen melding met kenmerk %(reference)s gevonden bij uw meldpunt.")
            % {"reference": other.reference}
        )
    low, high = sorted((incident, other), key=lambda i: i.pk)
    _link, created = IncidentLink.objects.get_or_create(
        from_incident=low,
        to_incident=high,
        defaults={
            "kind": kind,
            "created_by": actor,
            "reason": reason,
            "created_at": timezone.now(),
        },
    )
    if not created:
        raise IncidentError(_("Deze meldingen waren al aan elkaar gekoppeld."))
    for this, that in ((incident, other), (other, incident)):
        event_record(
            incident=this,
            kind=EventKind.LINKED,
            actor=actor,
            payload={"other": that.reference, "kind": kind, "reason": reason},
        )


def _close_escalation_after(incident: Incident, actor: User, inputs: dict) -> Callable:
    text = _text(inputs, "reason") or _text(inputs, "outcome")
    return lambda: _escalation_close(incident=incident, actor=actor, outcome=text)


def _close_escalated(incident: Incident, actor: User, inputs: dict) -> Callable:
    # The Ondersteuningsteam closes the case: for the officeholder it was a referral to the team.
    if not inputs.get("outcome_category"):
        inputs["outcome_category"] = OutcomeCategory.REFERRED_SUPPORT
    return _close_escalation_after(incident, actor, inputs)


SECURITY_ADVICE_ONCE = _(
    "U heeft voor deze melding al beveiligingsadvies aangevraagd. Het Ondersteuningsteam "
    "neemt contact met u op."
)


def _request_security_advice(incident: Incident, actor: User, inputs: dict) -> None:
    """Once per incident. The `security_advice_requested` event is what the Ondersteuningsteam
    reacts to (support escalates the incident when nobody at the team has it, and plans the
    action, through the outbox)."""
    if incident.events.filter(kind=EventKind.SECURITY_ADVICE_REQUESTED).exists():
        raise IncidentError(SECURITY_ADVICE_ONCE)
    event_record(incident=incident, kind=EventKind.SECURITY_ADVICE_REQUESTED, actor=actor)


# What each action does besides its status step (incidents.actions names the event it
# records). An effect may return a callable that runs after the status step's own event.
EFFECTS: dict[str, Callable[[Incident, User | None, dict], Callable | None] | None] = {
    "take": None,
    "assign": _assign,
    "release": _release,
    "triage": _triage,
    "escalate": _escalate,
    "close": None,
    "mark_duplicate": _mark_duplicate,
    "reopen": None,
    "withdraw": None,
    "link": _link,
    "set_callback": _set_callback,
    "clear_callback": _clear_callback,
    "request_security_advice": _request_security_advice,
    "return_to_desk": _close_escalation_after,
    "close_escalated": _close_escalated,
}


def _status_change(incident: Incident, actor: User | None, action: Action, inputs: dict) -> None:
    from_status, to_status, now = incident.status, action.to_status, timezone.now()
    reason, outcome = _text(inputs, "reason"), _text(inputs, "outcome")
    incident.status = to_status
    category = inputs.get("outcome_category") or ""
    if to_status == Status.CLOSED:
        if category not in OutcomeCategory.values:
            raise ReasonRequired(NEEDS_MESSAGES["outcome_category"])
        incident.closed_at = now
        incident.outcome_category = category
        incident.outcome = outcome
    elif from_status == Status.CLOSED:
        incident.closed_at = None
    if action.name in ("take", "reopen") and incident.assignee_id is None:
        # Whoever takes (or reopens) an incident without a handler becomes its handler.
        incident.assignee = actor
    event_record(
        incident=incident,
        kind=EventKind.STATUS_CHANGED,
        actor=actor,
        payload={
            "from": from_status,
            "to": to_status,
            "reason": reason or ", ".join(inputs.get("rules") or []),
            "outcome": outcome,
            "outcome_category": category if to_status == Status.CLOSED else "",
        },
    )


def incident_act(
    *, incident: Incident, actor: User | None, action: str, version: int | None, **inputs
) -> Incident:
    """Take one action of the incident workflow (`incidents.actions`) and return the incident.

    In one transaction, with the incident row locked, it refuses: a change against an older
    `version` (StaleVersion; a person must always send the version they saw), an action that
    this actor may not take on the incident in its current status (TransitionNotAllowed,
    from the incident policy), and a missing input the action needs (ReasonRequired). Then it
    makes the change, bumps the version and records the action's events (who, when, why).
    `actor` None is the escalation rules engine: only for actions the table allows it, and
    without a version. Internal actions (run by the support case's workflow, whose own version
    was checked) take no version either. The fact counts follow the change (triage changes
    the facts; withdrawing or closing as a duplicate takes the incident out of the counts).
    """
    step = action_get(action)
    inputs = dict(inputs)
    with transaction.atomic():
        other = inputs.get("original")
        if other is not None and other.pk != incident.pk:
            # Both incidents locked, lowest id first: "A duplicate of B" and "B duplicate of
            # A" at the same moment wait for each other (and see each other's result) instead
            # of both passing the check and forming a circle, or deadlocking.
            list(
                Incident.objects.select_for_update(of=("self",), no_key=True)
                .filter(pk__in=[incident.pk, other.pk])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        locked = _locked(incident)
        if actor is None:
            if not (
                step.system and locked.status in step.from_statuses and not locked.anonymised_at
            ):
                raise TransitionNotAllowed()
        else:
            if not step.internal:
                _check_version(locked, version)
            if not incident_policy.allows(actor, action, locked):
                wrong_status = locked.status not in step.from_statuses
                raise TransitionNotAllowed(step.refused if wrong_status else None)
        _needs_check(step, actor, inputs)
        counted = fact_counts.snapshot(locked)
        effect = EFFECTS[action]
        after = effect(locked, actor, inputs) if effect is not None else None
        if step.to_status is not None:
            _status_change(locked, actor, step, inputs)
        if after is not None:
            after()
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        fact_counts.follow(locked, counted)
    return locked


def callbacks_notify_due(*, now=None, limit: int = 500) -> int:
    """Notify the handler (or, without one, the desk's registrars) of each callback that is
    due; each callback once. Returns how many callbacks were notified.

    Safe when it runs twice or at the same moment in two workers: a callback is claimed by an
    update that only matches while `callback_notified_at` is empty, and only the run whose
    update changed the row creates the notifications (in the same transaction). A handler
    who is absent is covered: their colleague is notified too.
    """
    now = now or timezone.now()
    due = list(
        Incident.objects.filter(
            callback_at__lte=now,
            callback_notified_at__isnull=True,
            status__in=sorted(OPEN),
            anonymised_at__isnull=True,
        )
        .order_by("callback_at")
        .values_list("pk", "callback_at")[:limit]
    )
    notified = 0
    for pk, moment in due:
        with transaction.atomic():
            claimed = Incident.objects.filter(
                pk=pk, callback_at=moment, callback_notified_at__isnull=True
            ).update(callback_notified_at=now)
            if not claimed:
                continue  # another run took it, or the registrar changed the moment
            incident = Incident.objects.select_related("assignee", "assignee__cover").get(pk=pk)
            people = notify.desk_registrars(incident)
            assignee = incident.assignee
            if assignee is not None and assignee.is_absent(timezone.localdate(now)):
                people.append(assignee.cover)
            portal_services.notifications_create(
                recipients=people,
                event_key=f"callback:{pk}:{moment.isoformat()}",
                kind="callback_due",
                reference=incident.reference,
                link=reverse("desk:detail", kwargs={"reference": incident.reference}),
            )
            notified += 1
    return notified


RELEASED_REASON = _("%(person)s werkt niet meer bij het meldpunt.")


def incidents_release(*, person: User) -> list[Incident]:
    """Return the open incidents that `person` handles to their desk, without a handler.

    For a registrar whose account ended (`portal.services.person_deactivate`, through the
    `person_deactivated` signal). Each incident goes through the workflow's `release` action
    (the portal, no person): its version moves on, an "assigned" event names who left, and the
    desk's active staff are notified (a desk without staff through its confirmed mailbox).
    Anonymised incidents have no handler to release. Returns the released incidents.
    """
    reason = RELEASED_REASON % {"person": str(person)}
    released = []
    handled = Incident.objects.filter(
        assignee=person, status__in=sorted(OPEN), anonymised_at__isnull=True
    ).order_by("pk")
    for incident in handled:
        released.append(
            incident_act(
                incident=incident, actor=None, action="release", version=None, reason=reason
            )
        )
    return released


def on_person_deactivated(*, person: User, **kwargs) -> None:
    """Receiver of `portal.signals.person_deactivated`: the person's open incidents go back."""
    incidents_release(person=person)


def terms_watch(*, now=None) -> dict[str, int]:
    """End the accounts whose term is over; run every hour by Celery beat, idempotent.

    1. Reminders 30 and 7 days before (`portal.services.term_reminders_send`, each once).
    2. A person whose term end has passed where they live (from the day after): with an open
       own incident (open includes escalated, so an open support case counts) the account
       stays for that only (`person_term_end` keeps it); without, it is deactivated. A kept
       account is deactivated at the first run after its last open incident closed.
    3. A kept account whose term end was moved ahead again is whole again.
    Incidents stay and follow the retention rules. Every change is recorded (actor None).
    """
    now = now or timezone.now()
    counts = {"reminded": portal_services.term_reminders_send(now=now)}
    counts.update(deactivated=0, kept=0, resumed=0)
    # Anyone whose term may be over in some time zone (the Caribbean is behind Europe).
    latest = timezone.localdate(now) + timedelta(days=1)
    candidates = User.objects.filter(
        is_active=True, term_end__isnull=False, term_end__lt=latest
    ).select_related("organisation", "desk")
    for person in candidates:
        if not portal_services.person_term_is_over(person, now):
            continue
        has_open = Incident.objects.filter(
            officeholder=person, status__in=sorted(OPEN), anonymised_at__isnull=True
        ).exists()
        result = portal_services.person_term_end(person=person, keep_for_open=has_open, now=now)
        if result:
            counts[result] += 1
    kept = User.objects.filter(is_active=True, term_ended_at__isnull=False).select_related(
        "organisation", "desk"
    )
    for person in kept:
        counts["resumed"] += portal_services.person_term_resume(person=person, now=now)
    return counts


def incident_escalate(*, incident: Incident, rule_names: Sequence[str]) -> Escalation | None:
    """The rules engine hands the incident to the Ondersteuningsteam, naming the rules.

    Idempotent: when an open escalation exists already (or the incident is no longer with the
    desk), nothing changes and None is returned; a database constraint keeps it at one open
    escalation per incident even for two workers at once.
    """
    try:
        escalated = incident_act(
            incident=incident, actor=None, action="escalate", version=None, rules=list(rule_names)
        )
    except TransitionNotAllowed:
        return None
    return escalated.escalations.filter(closed_at__isnull=True).first()


def perpetrator_matches_record(
    *, incident: Incident, others: Iterable[Incident], kinds: Mapping[int, list[str]]
) -> list[PerpetratorMatch]:
    """Record staff-only "same perpetrator" signals between `incident` and each of `others`.

    Writes nothing on either incident (no event, no link, no status): a match on someone else's
    report must change nothing that an officeholder can see. Recording a pair twice keeps one.
    """
    created = []
    for other in others:
        first, second = sorted((incident.pk, other.pk))
        match, is_new = PerpetratorMatch.objects.get_or_create(
            first_id=first,
            second_id=second,
            defaults={"kinds": sorted(kinds.get(other.pk, [])), "created_at": timezone.now()},
        )
        if is_new:
            created.append(match)
    return created


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
    "advice_note",
    "outcome",
    "callback_note",
)


def _evidence_file_names(incident: Incident) -> list[str]:
    # The cleaned files and the uploads still waiting for the worker.
    names = incident.evidence.values_list("file", "upload")
    return [name for pair in names for name in pair if name]


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
        # The aangifte's steps stay for statistics; its number, dates and names go.
        locked.aangifte = aangifte_anonymised(locked.aangifte_track).stored()
        locked.officeholder = None
        locked.filed_by = None
        locked.submission_token = None
        locked.anonymised_at = now
        locked.updated_at = now
        locked.version += 1
        locked.save()
        files = _evidence_file_names(locked)
        locked.evidence.all().delete()
        _evidence_files_delete(files)
        locked.identifiers.all().delete()
        locked.notes.all().delete()
        locked.phone_calls.all().delete()
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
        # So that a restored backup is anonymised again (portal.deletions).
        deletion_record(
            kind=DeletionKind.INCIDENT_ANONYMISED, object_id=locked.pk, reference=locked.reference
        )
        return locked


def incident_anonymise_reapply(incident_id: int) -> bool:
    """After a restore: anonymise this incident again if the backup brought it back with its
    content (deletion log). True when it did; an incident that is absent or already
    anonymised is left alone."""
    incident = Incident.objects.filter(pk=incident_id, anonymised_at__isnull=True).first()
    if incident is None:
        return False
    incident_anonymise(incident=incident)
    return True


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
    Recorded (portal.deletions), so a restored backup deletes it again.
    """
    with transaction.atomic():
        locked = _locked(incident)
        if not incident_policy.allows(actor, "delete", locked):
            raise TransitionNotAllowed()
        _incident_delete(locked)


def incident_delete_reapply(incident_id: int) -> bool:
    """After a restore: delete this incident again (deletion log). True when it was there."""
    with transaction.atomic():
        locked = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if locked is None:
            return False
        _incident_delete(locked)
        return True


def _incident_delete(locked: Incident) -> None:
    """Delete a locked incident with its files and counts; inside the caller's transaction."""
    files = _evidence_file_names(locked)
    # Its duplicates stand on their own again from now on.
    duplicates = list(locked.duplicates.select_related("organisation"))
    before = {d.pk: fact_counts.snapshot(d) for d in duplicates}
    counted = fact_counts.snapshot(locked)
    locked.duplicates.update(duplicate_of=None)
    for duplicate in duplicates:
        duplicate.duplicate_of = None
        fact_counts.follow(duplicate, before[duplicate.pk])
    reference = locked.reference
    pk = locked.pk
    locked.delete()
    fact_counts.forget(counted)
    _evidence_files_delete(files)
    # So that a restored backup does not bring it back (portal.deletions).
    deletion_record(kind=DeletionKind.INCIDENT_DELETED, object_id=pk, reference=reference)


# --- Nobody unheard: reports follow the desk that is really read (portal.reachability) --------

DESK_UNREACHABLE_REASON = _("Niemand leest nu de meldingen van %(desk)s.")


def _route_away(*, incident: Incident, route: Route) -> None:
    """Send an incident of an unreachable desk where `route` says, recording why.

    To another desk: the incident moves there (it remembers its own desk, which is offered it
    back later). To nobody: the Ondersteuningsteam gets it through the escalation path, whose
    support case follows from the event. The administrators are alerted either way.
    """
    unreachable = route.home_desk
    desk_unreachable_record(desk=unreachable)
    if route.to_support and fallback_desk() is not None:
        desk_unreachable_record(desk=fallback_desk())
    reason = DESK_UNREACHABLE_REASON % {"desk": unreachable.name}
    if route.desk is not None and route.desk.pk != incident.desk_id:
        from_desk = incident.desk
        incident.moved_from_desk_id = incident.moved_from_desk_id or from_desk.pk
        incident.offered_back_at = None
        incident.desk = route.desk
        incident.assignee = None
        incident.version += 1
        incident.updated_at = timezone.now()
        incident.save(
            update_fields=[
                "desk",
                "moved_from_desk",
                "offered_back_at",
                "assignee",
                "version",
                "updated_at",
            ]
        )
        event_record(
            incident=incident,
            kind=EventKind.MOVED,
            actor=None,
            payload={"from_desk": from_desk.name, "to_desk": route.desk.name, "reason": reason},
        )
    elif route.desk is not None:
        # Filed straight at the fallback desk: the incident is already there.
        event_record(
            incident=incident,
            kind=EventKind.MOVED,
            actor=None,
            payload={
                "from_desk": route.home_desk.name,
                "to_desk": route.desk.name,
                "reason": reason,
                "at_filing": True,
            },
        )
    elif not incident.escalations.filter(closed_at__isnull=True).exists():
        incident_act(
            incident=incident,
            actor=None,
            action="escalate",
            version=None,
            rules=[EscalationRuleCode.DESK_UNREACHABLE],
            reason=reason,
        )


def incidents_reroute(*, now=None, limit: int = 200) -> dict[str, int]:
    """The reachability watchdog's work on incidents; idempotent, run every minute.

    1. Incidents waiting at a desk that nobody reads (submitted or in triage) go where
       `portal.reachability` says: the fallback desk, else the Ondersteuningsteam.
    2. Incidents that were moved away and whose own desk is read again are offered back to
       it, once (an event, a notification): they are never moved back silently; the own
       desk takes them back with `incident_take_back`.
    Each incident changes in its own transaction, with its row locked.
    """
    now = now or timezone.now()
    counts = {"moved": 0, "to_support": 0, "offered_back": 0}
    reachable_desks = Desk.objects.filter(reachable_q(now=now)).values("pk")
    waiting = (
        Incident.objects.filter(status__in=sorted(WITH_DESK), anonymised_at__isnull=True)
        .exclude(desk__in=reachable_desks)
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for incident_id in list(waiting):
        with transaction.atomic():
            locked = _locked(Incident(pk=incident_id))
            if locked.status not in WITH_DESK or desk_is_reachable(locked.desk, now=now):
                continue
            route = route_for_desk(locked.desk, now=now)
            _route_away(incident=locked, route=route)
            counts["to_support" if route.to_support else "moved"] += 1
    offers = (
        Incident.objects.filter(
            status__in=sorted(WITH_DESK),
            anonymised_at__isnull=True,
            moved_from_desk__in=reachable_desks,
            offered_back_at__isnull=True,
        )
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for incident_id in list(offers):
        with transaction.atomic():
            locked = _locked(Incident(pk=incident_id))
            if locked.offered_back_at is not None or locked.moved_from_desk_id is None:
                continue
            locked.offered_back_at = timezone.now()
            locked.save(update_fields=["offered_back_at"])
            event_record(
                incident=locked,
                kind=EventKind.OFFERED_BACK,
                actor=None,
                payload={"to_desk": locked.moved_from_desk.name, "at_desk": locked.desk.name},
            )
            counts["offered_back"] += 1
    return counts


def incident_take_back(*, incident: Incident, actor: User, version: int) -> Incident:
    """The own desk takes back an incident that was offered back to it.

    Refused when the incident is not offered to the actor's desk (any more), no longer with a
    desk, or changed since the actor saw it (StaleVersion). The incident returns to its own
    desk, without a handler, and the event shows both desks on the timeline.
    """
    with transaction.atomic():
        locked = _locked(incident)
        _check_version(locked, version)
        incident_policy.require(
            actor,
            "take_back",
            locked,
            _("Deze melding kunt u niet (meer) terugnemen. Vernieuw de pagina."),
        )
        from_desk = locked.desk
        locked.desk = locked.moved_from_desk
        locked.moved_from_desk = None
        locked.offered_back_at = None
        locked.assignee = None
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        event_record(
            incident=locked,
            kind=EventKind.TAKEN_BACK,
            actor=actor,
            payload={"from_desk": from_desk.name, "to_desk": locked.desk.name},
        )
    return locked


def reachability_watch(*, now=None) -> dict:
    """The watchdog (every minute): mark each desk reachable or not, alerting the
    administrators when one drops out, then move and offer back incidents accordingly."""
    now = now or timezone.now()
    desks = desks_reachability_record(now=now)
    return {
        "desks_unreachable": len(desks["unreachable"]),
        "desks_reachable": len(desks["reachable"]),
        **incidents_reroute(now=now),
    }


# --- Facts at rest: converting rows made before they were encrypted ------------------------------

# The encrypted facts of an incident, written again (encrypted) by the conversion.
ENCRYPTED_FACT_FIELDS = (
    "types",
    "impacts",
    "affected_people",
    "risk_flags",
    "advice_given",
)


def _rows_update(model, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """UPDATE each (pk, *values) row of `model`, values prepared by the fields (encrypted)."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608
    params = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(columns, values, strict=True)
        ]
        + [pk]
        for pk, *values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def incident_facts_convert(
    *,
    after_pk: int = 0,
    limit: int = 1000,
) -> list[Incident]:
    """Encrypt and count one batch of incidents that are not counted yet (pk > `after_pk`,
    lowest first, at most `limit`); returns them (empty when nothing is left).

    In one transaction, with the rows locked: every encrypted fact is written encrypted (a
    plain value from before the migration is read as it was), the keyed tokens are set, the
    rules of its escalations are encrypted, the facts and rule codes are added to the fact
    counts and `facts_counted` is set. (The support team's action types have their own
    conversion, `support.services.support_action_facts_convert`.) An interrupted run
    loses nothing and counts nothing twice: a batch is either done or not, and a done row is
    never picked again.
    """
    with transaction.atomic():
        incidents = list(
            Incident.objects.select_for_update(of=("self",), no_key=True)
            .select_related("organisation")
            .filter(facts_counted=False, pk__gt=after_pk)
            .order_by("pk")
            .only(
                "organisation__time_zone",
                "officeholder_id",
                "officeholder_function",
                "officeholder_gender",
                "organisation_type",
                "channel",
                "reporter_severity",
                "support_wish",
                "outcome_category",
                "triaged_at",
                "triage_due_at",
                "desk_id",
                "moved_from_desk_id",
                "status",
                "duplicate_of_id",
                "submitted_at",
                # Written encrypted from the start; read for the counts.
                "aangifte",
                *ENCRYPTED_FACT_FIELDS,
            )[:limit]
        )
        if not incidents:
            return []
        changes: dict[Any, Any] = {}
        rows = []
        for incident in incidents:
            incident.facts_counted = True
            rows.append(
                [
                    incident.pk,
                    *(getattr(incident, name) for name in ENCRYPTED_FACT_FIELDS),
                    fact_tokens("type", incident.types),
                    fact_tokens("risk_flag", incident.risk_flags),
                    True,
                ]
            )
            key = fact_counts.key_of(incident)
            changes.setdefault(key, Counter()).update(fact_counts.incident_facts(incident))
        by_pk = {incident.pk: incident for incident in incidents}
        escalations = list(
            Escalation.objects.filter(incident_id__in=list(by_pk)).only("incident_id", "rules")
        )
        for escalation in escalations:
            key = fact_counts.key_of(by_pk[escalation.incident_id])
            changes[key].update(fact_counts.rule_facts(escalation.rules))
        # The support team's acknowledgements (the case model lives in `support`, which the
        # incidents app never imports: reached through the escalation's reverse relation).
        acknowledged = Escalation.objects.filter(
            incident_id__in=list(by_pk), support_case__acknowledged_at__isnull=False
        ).values_list("incident_id", "created_at", "support_case__acknowledged_at")
        for incident_id, escalated_at, acknowledged_at in acknowledged:
            changes[fact_counts.key_of(by_pk[incident_id])].update(
                fact_counts.acknowledgement_facts(
                    escalated_at=escalated_at, acknowledged_at=acknowledged_at
                )
            )
        _rows_update(
            Incident,
            (*ENCRYPTED_FACT_FIELDS, "type_tokens", "risk_flag_tokens", "facts_counted"),
            rows,
        )
        _rows_update(Escalation, ("rules",), [(e.pk, e.rules) for e in escalations])
        fact_counts.apply(changes)
    return incidents


# --- The desk's queue: saved views and bulk actions ------------------------------------------

SAVED_VIEWS_PER_PERSON = 20


def saved_view_save(
    *, owner: User, name: str, query: str, workspace: str = SavedViewWorkspace.DESK
) -> SavedQueueView:
    """Save a list's current filters under `name` for `owner` in `workspace` (the desk's
    queue or the support inbox); the same name replaces the filters of that view. At most
    SAVED_VIEWS_PER_PERSON per person and workspace (SavedViewsLimited)."""
    name = name.strip()
    views = SavedQueueView.objects.filter(owner=owner, workspace=workspace)
    existing = views.filter(name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if views.count() >= SAVED_VIEWS_PER_PERSON:
        raise SavedViewsLimited()
    return SavedQueueView.objects.create(owner=owner, workspace=workspace, name=name, query=query)


def saved_view_delete(*, view: SavedQueueView) -> None:
    view.delete()


# What a registrar may do to many incidents at once from the queue.
BULK_ACTIONS = frozenset({"assign", "close"})


@dataclass(frozen=True)
class BulkResult:
    """References by what happened: done, changed by someone else in the meantime (the row's
    version was older; nothing done), or refused (not found in scope, or not possible now)."""

    done: list[str]
    changed: list[str]
    refused: list[str]


def incidents_bulk_act(
    *, actor: User, action: str, rows: Mapping[str, int], **inputs
) -> BulkResult:
    """Take one workflow action on several incidents, each as if on its own page.

    `rows` maps each reference to the version the person saw. Every incident goes through
    `incident_act` in its own transaction, so one refusal never undoes the others: a row
    outside the person's scope (another desk's, unknown) is refused without saying why, a row
    whose version moved on is reported as changed, and the rest is done.
    """
    if action not in BULK_ACTIONS:
        raise ValueError(f"{action!r} is not a bulk action")
    found = {
        incident.reference: incident
        for incident in incident_policy.queryset(actor).filter(reference__in=list(rows))
    }
    done, changed, refused = [], [], []
    for reference, version in rows.items():
        incident = found.get(reference)
        if incident is None:
            refused.append(reference)
            continue
        try:
            incident_act(incident=incident, actor=actor, action=action, version=version, **inputs)
        except StaleVersion:
            changed.append(reference)
        except DomainError:
            refused.append(reference)
        else:
            done.append(reference)
    return BulkResult(done=done, changed=changed, refused=refused)


# --- Standard replies ------------------------------------------------------------------------


def standard_reply_save(
    *,
    actor: User,
    title: str,
    text_nl: str,
    text_en: str,
    active: bool = True,
    reply: StandardReply | None = None,
    desk: Desk | None = None,
) -> StandardReply:
    """Add a standard reply (for `desk`, or a national default without one) or change `reply`.

    The policy decides who keeps which: a coordinator their own desk's, the administrator the
    national defaults (NotAllowed otherwise). A reply never moves to another desk.
    """
    if reply is None:
        reply = StandardReply(desk=desk)
    standard_reply_policy.require(actor, "keep", reply)
    reply.title = title.strip()
    reply.text_nl = text_nl.strip()
    reply.text_en = text_en.strip()
    reply.active = active
    reply.save()
    return reply


def standard_reply_deactivate(*, actor: User, reply: StandardReply) -> bool:
    """Take the reply out of the lists of the incident pages (it is kept, and can be switched
    on again). False when it was already off."""
    standard_reply_policy.require(actor, "keep", reply)
    if not reply.active:
        return False
    reply.active = False
    reply.save(update_fields=["active", "updated_at"])
    return True
