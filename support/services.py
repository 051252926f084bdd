"""Every write of the Ondersteuningsteam's domain: rules, support cases, actions, watchdogs.

Escalating itself is `incidents.services`; this module decides when (the rules, as outbox
consumers of incident events), opens the support case in exactly one place (the consumer of the
escalation event), and runs the case workflow (`support.actions`). Every service is atomic;
the ones a task or consumer calls are idempotent.
"""

from collections import Counter
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import fact_counts
from incidents import services as incident_services
from incidents.actions import overdue_q, serious_q, untriaged_q
from incidents.constants import EventKind, FactKind
from incidents.models import Escalation, Event, Incident
from incidents.notify import desk_registrars, incident_link_for
from portal.actions import Action
from portal.models import User
from portal.policies import user_policy
from portal.services import notifications_create
from support import notify, rules
from support.actions import OPEN, case_action_get
from support.constants import (
    ACKNOWLEDGE_WITHIN_HOURS,
    CASE_OUTCOME_CATEGORIES,
    OPEN_ACTION_STATUSES,
    ActionStatus,
    CaseStatus,
    RuleCode,
    SecurityAdviceStep,
    ServiceType,
)
from support.errors import (
    CaseInputRequired,
    CaseOpenActions,
    CaseStale,
    CaseStepNotAllowed,
    SupportError,
)
from support.models import EscalationRule, SupportAction, SupportCase
from support.policies import case_policy

# Events after which the escalation rules run (submit, follow-up, triage).
RULE_TRIGGERS = frozenset(
    {
        EventKind.SUBMITTED,
        EventKind.FILED_BY_DESK,
        EventKind.FOLLOW_UP,
        EventKind.COMPLETED,
        EventKind.TRIAGED,
    }
)


# --- Outbox consumers of incident events --------------------------------------------------------


def _event(event_id: int) -> Event | None:
    return Event.objects.select_related("incident").filter(pk=event_id).first()


def incident_rules_apply(*, incident: Incident) -> Escalation | None:
    """Evaluate the rules for an incident still with the desk; escalate when they fire.

    A rule that already caused an earlier (since returned) escalation of this incident does
    not fire again for it, so a case the team gave back is not sent straight back. The
    shared-perpetrator rule only records staff-only matches.
    """
    incident.refresh_from_db()
    if incident.anonymised_at is not None:
        return None
    fired, matches = rules.rules_evaluate(incident)
    if matches:
        incident_services.perpetrator_matches_record(
            incident=incident,
            others=list(matches),
            kinds={other.pk: kinds for other, kinds in matches.items()},
        )
    earlier = {code for e in incident.escalations.all() for code in e.rules}
    fired = [code for code in fired if code not in earlier]
    if not fired:
        return None
    return incident_services.incident_escalate(incident=incident, rule_names=fired)


def on_rule_trigger(event_id: int) -> None:
    """Consumer: run the escalation rules after a submit, follow-up, completion or triage."""
    event = _event(event_id)
    if event is not None:
        incident_rules_apply(incident=event.incident)


def support_case_open(*, escalation: Escalation) -> tuple[SupportCase, bool]:
    """The one support case of an escalation, created on first call; (case, created)."""
    try:
        with transaction.atomic():
            case, created = SupportCase.objects.get_or_create(
                escalation=escalation,
                defaults={
                    "incident_id": escalation.incident_id,
                    "created_at": escalation.created_at,
                    "acknowledge_due_at": escalation.created_at
                    + timedelta(hours=ACKNOWLEDGE_WITHIN_HOURS),
                },
            )
    except IntegrityError:
        case, created = SupportCase.objects.get(escalation=escalation), False
    return case, created


def on_escalated(event_id: int) -> None:
    """Consumer: open the support case of the escalation this event records; the team hears
    of it once. The one place where a support case is opened."""
    event = _event(event_id)
    if event is None:
        return
    escalation = Escalation.objects.filter(pk=event.payload.get("escalation_id")).first()
    if escalation is None:
        return
    _case, created = support_case_open(escalation=escalation)
    if created:
        notify.team_remind(
            incident=event.incident, kind="escalation_new", key=f"incident-event:{event.pk}"
        )


def on_security_advice_requested(event_id: int) -> None:
    """Consumer: put the officeholder's request for a security advice in the team's plan."""
    event = _event(event_id)
    if event is not None:
        security_advice_plan(event=event)


def security_advice_plan(*, event: Event) -> SupportAction | None:
    """The support action that answers one `security_advice_requested` event, made once.

    When nobody at the team has the incident (no open escalation), it is escalated first,
    through the ordinary system escalation (`incident_escalate`, rule
    `security_advice_requested`), as the rules consumer does: one open escalation at most.
    The case of the open escalation is opened here when the case consumer has not done so
    yet (then the team hears of it here, once). The action is planned through the case
    workflow's system row `plan_security_advice`: owner the casemanager (or nobody yet),
    shared with the desk. A second call plans nothing and returns the same action; a request
    on an incident that can no longer be escalated (closed meanwhile) plans nothing (None).
    """
    existing = SupportAction.objects.filter(request_event=event).first()
    if existing is not None:
        return existing
    incident = event.incident
    escalation = incident.escalations.filter(closed_at__isnull=True).order_by("-pk").first()
    if escalation is None:
        escalation = incident_services.incident_escalate(
            incident=incident, rule_names=[RuleCode.SECURITY_ADVICE_REQUESTED]
        )
        if escalation is None:
            return None
    case, created = support_case_open(escalation=escalation)
    if created:
        notify.team_remind(
            incident=event.incident, kind="escalation_new", key=f"incident-event:{event.pk}"
        )
    try:
        planned = support_case_act(
            case=case, actor=None, action="plan_security_advice", version=None, request_event=event
        )
    except CaseStepNotAllowed:
        # Planned by a concurrent run, or the case was closed or returned meanwhile (the desk
        # has the incident again).
        return SupportAction.objects.filter(request_event=event).first()
    return planned.support_action


def on_anonymised(event_id: int) -> None:
    """Consumer: remove the team's free text when retention anonymised the incident."""
    event = _event(event_id)
    if event is not None:
        support_content_remove(incident=event.incident)


def support_content_remove(*, incident: Incident) -> None:
    """Remove the support team's free text of an incident (retention); keeps the structure."""
    with transaction.atomic():
        SupportCase.objects.filter(incident=incident).update(outcome="")
        SupportAction.objects.filter(case__incident=incident).update(description="")


# --- The support case workflow: one service runs every action of support.actions --------------


def _case_locked(case: SupportCase) -> SupportCase:
    return SupportCase.objects.select_for_update().select_related("incident").get(pk=case.pk)


NEEDS_MESSAGES = {
    "reason": _("Vul een reden in."),
    "outcome": _("Vul de uitkomst in."),
    "handler": _("Kies een lid van het Ondersteuningsteam."),
    "owner": _("Kies een lid van het Ondersteuningsteam als eigenaar."),
    "service_type": _("Kies de soort hulp."),
    "outcome_category": _("Kies wat de ambtsdrager als uitkomst leest."),
    "request_event": _("Een actie op verzoek hoort bij een aanvraag van de ambtsdrager."),
}


def _needs_check(step: Action, inputs: dict) -> None:
    for name in step.needs:
        value = inputs.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CaseInputRequired(NEEDS_MESSAGES.get(name))


def _team_member(actor: User, person: User | None, message: str) -> User:
    if person is None or not user_policy.allows(actor, "give_case_to", person):
        raise SupportError(message)
    return person


def _acknowledge(case: SupportCase, actor: User, inputs: dict) -> dict:
    first = case.acknowledged_at is None
    case.acknowledged_at = timezone.now()
    if first:
        # The time to acknowledgement, in its histogram (incidents.fact_counts).
        fact_counts.add(
            case.incident,
            fact_counts.acknowledgement_facts(
                escalated_at=case.escalation.created_at, acknowledged_at=case.acknowledged_at
            ),
        )
    if case.handler_id is None:
        case.handler = actor
    return {}


def _assign_handler(case: SupportCase, actor: User, inputs: dict) -> dict:
    case.handler = _team_member(
        actor, inputs["handler"], _("Kies een lid van het Ondersteuningsteam.")
    )
    return {"handler": str(case.handler)}


def _release_handler(case: SupportCase, actor: User | None, inputs: dict) -> dict:
    former = case.handler
    case.handler = None
    return {"handler": "", "released_from": str(former or ""), "text": inputs.get("reason", "")}


def _add_action(case: SupportCase, actor: User, inputs: dict) -> dict:
    owner = _team_member(
        actor, inputs["owner"], _("Kies een lid van het Ondersteuningsteam als eigenaar.")
    )
    now = timezone.now()
    action = SupportAction.objects.create(
        case=case,
        service_type=inputs["service_type"],
        description=(inputs.get("description") or "").strip(),
        owner=owner,
        due_on=inputs.get("due_on"),
        shared_with_desk=bool(inputs.get("shared_with_desk")),
        created_at=now,
        updated_at=now,
        facts_counted=True,
    )
    # Counted under its incident, in the same transaction (incidents.fact_counts).
    fact_counts.apply(
        {
            fact_counts.key_of(case.incident): Counter(
                {(FactKind.ACTION_TYPE.value, action.service_type): 1}
            )
        }
    )
    inputs["_created"] = action
    return {
        "action_id": action.pk,
        "service_type": action.service_type,
        "_visible_to_desk": action.shared_with_desk,
    }


def _plan_security_advice(case: SupportCase, actor: User | None, inputs: dict) -> dict:
    event = inputs["request_event"]
    now = timezone.now()
    try:
        with transaction.atomic():
            action = SupportAction.objects.create(
                case=case,
                service_type=ServiceType.SECURITY_ADVICE,
                owner=case.handler,
                shared_with_desk=True,
                request_event=event,
                created_at=now,
                updated_at=now,
                facts_counted=True,
            )
    except IntegrityError:
        # A concurrent run planned it (one action per request).
        raise CaseStepNotAllowed() from None
    fact_counts.apply(
        {
            fact_counts.key_of(case.incident): Counter(
                {(FactKind.ACTION_TYPE.value, action.service_type): 1}
            )
        }
    )
    inputs["_created"] = action
    return {
        "action_id": action.pk,
        "service_type": action.service_type,
        "requested": True,
        "_visible_to_desk": True,
    }


# Fields of a support action that an update may change; a field the caller leaves out keeps its
# value (an API request without `due_on` keeps the due date).
ACTION_UPDATE_FIELDS = ("status", "step", "owner", "due_on", "shared_with_desk")


def _update_action(case: SupportCase, actor: User, inputs: dict) -> dict:
    action = (
        SupportAction.objects.select_for_update()
        .filter(pk=inputs["support_action"].pk, case=case)
        .first()
    )
    if action is None:
        raise CaseStepNotAllowed()
    if inputs.get("owner") is not None:
        _team_member(actor, inputs["owner"], NEEDS_MESSAGES["owner"])
    elif "owner" in inputs:
        # Leaving the owner empty keeps the current one.
        inputs.pop("owner")
    if inputs.get("step"):
        if action.service_type != ServiceType.SECURITY_ADVICE:
            raise SupportError(_("Alleen beveiligingsadvies heeft stappen."))
        if inputs["step"] not in SecurityAdviceStep.values:
            raise SupportError(_("Kies een stap van het beveiligingsadvies."))
    for field in ACTION_UPDATE_FIELDS:
        if field in inputs:
            value = inputs[field]
            setattr(action, field, ActionStatus(value) if field == "status" else value)
    action.updated_at = timezone.now()
    action.save()
    inputs["_created"] = action
    return {
        "action_id": action.pk,
        "service_type": action.service_type,
        "status": action.status,
        "step": action.step,
        "_visible_to_desk": action.shared_with_desk,
    }


def _close(case: SupportCase, actor: User, inputs: dict) -> dict:
    text = (inputs.get("reason") or inputs.get("outcome") or "").strip()
    case.closed_at = timezone.now()
    case.outcome = text
    return {"text": text}


def _close_case(case: SupportCase, actor: User, inputs: dict) -> dict:
    """Closing with care: open actions are listed first and only go (cancelled) once the
    team member confirmed; the outcome's category is what the officeholder reads."""
    if inputs.get("outcome_category") not in CASE_OUTCOME_CATEGORIES:
        raise CaseInputRequired(NEEDS_MESSAGES["outcome_category"])
    open_actions = case.actions.filter(status__in=OPEN_ACTION_STATUSES)
    if open_actions.exists() and not inputs.get("open_actions_confirmed"):
        raise CaseOpenActions()
    cancelled = open_actions.update(status=ActionStatus.CANCELLED, updated_at=timezone.now())
    return {**_close(case, actor, inputs), "cancelled_actions": cancelled}


EFFECTS = {
    "acknowledge": _acknowledge,
    "start": None,
    "assign_handler": _assign_handler,
    "release_handler": _release_handler,
    "add_action": _add_action,
    "plan_security_advice": _plan_security_advice,
    "update_action": _update_action,
    "return_to_desk": _close,
    "close_case": _close_case,
}


def support_case_act(
    *, case: SupportCase, actor: User | None, action: str, version: int | None, **inputs
) -> SupportCase:
    """Take one action of the case workflow (`support.actions`) and return the case.

    In one transaction with the case locked it refuses a change against an older case
    `version` (CaseStale), an action this person may not take on the case in its status
    (CaseStepNotAllowed, from the case policy) and a missing input (CaseInputRequired). Then it
    changes the case (and, for returning or closing, the incident through its own workflow),
    bumps the version and records the event. The created or updated support action is
    available as `case.support_action` for the callers that show it. `actor` None is the
    portal itself: only for the table's system rows, without a version.
    """
    step = case_action_get(action)
    inputs = dict(inputs)
    with transaction.atomic():
        locked = _case_locked(case)
        if actor is None:
            # The portal itself (a handler whose account ended): only rows the table allows it.
            if not (step.system and locked.status in step.from_statuses):
                raise CaseStepNotAllowed()
        else:
            if version is None or int(version) != locked.version:
                raise CaseStale()
            if not case_policy.allows(actor, action, locked):
                wrong_status = locked.status not in step.from_statuses
                raise CaseStepNotAllowed(step.refused if wrong_status else None)
        _needs_check(step, inputs)
        effect = EFFECTS[action]
        payload = effect(locked, actor, inputs) if effect is not None else {}
        if step.follows:
            incident_services.incident_act(
                incident=locked.incident,
                actor=actor,
                action=step.follows,
                version=None,
                reason=inputs.get("reason", ""),
                outcome=inputs.get("outcome", ""),
                outcome_category=inputs.get("outcome_category", ""),
            )
        from_status = locked.status
        if step.to_status is not None and step.to_status != from_status:
            locked.status = step.to_status
            payload = {"from": from_status, "to": step.to_status, **payload}
        locked.version += 1
        locked.save()
        visible_to_desk = payload.pop("_visible_to_desk", True)
        incident_services.event_record(
            incident=locked.incident,
            kind=step.event,
            actor=actor,
            payload={"case_id": locked.pk, **payload},
            visible_to_desk=visible_to_desk,
        )
        locked.support_action = inputs.get("_created")
        return locked


RELEASED_REASON = _("%(person)s werkt niet meer bij het Ondersteuningsteam.")


def support_cases_release(*, person: User) -> list[SupportCase]:
    """Return the open cases that `person` handles to the team inbox, without a casemanager.

    For a member of the Ondersteuningsteam whose account ended (`portal.services.
    person_deactivate`, through the `person_deactivated` signal). Each case goes through the
    case workflow's `release_handler` row (the portal, no person): its version moves on, an
    event names who left, and the active team members are notified once per case. Support
    actions the person owned keep their owner (they are shown on the case). Returns the
    released cases.
    """
    reason = RELEASED_REASON % {"person": str(person)}
    released = []
    handled = SupportCase.objects.filter(handler=person, status__in=sorted(OPEN)).order_by("pk")
    for case in handled:
        locked = support_case_act(
            case=case, actor=None, action="release_handler", version=None, reason=reason
        )
        notify.team_remind(
            incident=locked.incident,
            kind="case_released",
            key=f"case-released:{locked.pk}:{locked.version}",
        )
        released.append(locked)
    return released


def on_person_deactivated(*, person: User, **kwargs) -> None:
    """Receiver of `portal.signals.person_deactivated`: the person's open cases go back."""
    support_cases_release(person=person)


# --- Watchdogs (Celery beat) ------------------------------------------------------------------


def _untriaged_serious() -> QuerySet[Incident]:
    return Incident.objects.filter(untriaged_q(), serious_q()).select_related("assignee")


def incident_remind(*, incident: Incident, kind: str, people: list[User]) -> None:
    """A watchdog reminder to the desk about an incident; at most once per kind and incident."""
    for person in people:
        notifications_create(
            recipients=[person],
            event_key=f"{kind}:{incident.pk}",
            kind=kind,
            reference=incident.reference,
            link=incident_link_for(person, incident),
        )


def triage_watch(*, now=None) -> dict[str, int]:
    """Remind the desk before and after triage deadlines; auto-escalate serious reports at 4 h.

    Idempotent: each reminder is one notification per incident and kind; escalating twice
    creates one escalation (the support case follows from the escalation event).
    """
    now = now or timezone.now()
    counts = {"due_soon": 0, "overdue": 0, "escalated": 0}
    for incident in _untriaged_serious().filter(
        triage_due_at__gt=now, triage_due_at__lte=now + timedelta(hours=2)
    ):
        incident_remind(incident=incident, kind="triage_due_soon", people=desk_registrars(incident))
        counts["due_soon"] += 1
    deadline_rule = EscalationRule.objects.filter(code=RuleCode.TRIAGE_DEADLINE).first()
    if deadline_rule is None or deadline_rule.enabled:
        # Only reports never escalated: one the team returned to the desk is not sent
        # straight back (the desk gets the overdue reminder instead).
        never_escalated = _untriaged_serious().filter(
            triage_due_at__lte=now, escalations__isnull=True
        )
        for incident in never_escalated:
            escalation = incident_services.incident_escalate(
                incident=incident, rule_names=[RuleCode.TRIAGE_DEADLINE]
            )
            if escalation is not None:
                counts["escalated"] += 1
    overdue = Incident.objects.filter(overdue_q(now=now)).select_related("assignee")
    for incident in overdue:
        incident_remind(incident=incident, kind="triage_overdue", people=desk_registrars(incident))
        counts["overdue"] += 1
    return counts


def escalation_watch(*, now=None) -> int:
    """Remind the support team of cases not acknowledged within 4 hours (once per case)."""
    now = now or timezone.now()
    late = SupportCase.objects.filter(
        status=CaseStatus.NEW, acknowledge_due_at__lte=now
    ).select_related("incident")
    for case in late:
        notify.team_remind(
            incident=case.incident,
            kind="escalation_unacknowledged",
            key=f"escalation_unacknowledged:case-{case.pk}",
        )
    return len(late)


def support_action_facts_convert(*, after_pk: int = 0, limit: int = 1000) -> list[SupportAction]:
    """Encrypt and count one batch of support actions made before their service type was
    encrypted (pk > `after_pk`, lowest first, at most `limit`); returns them (empty when
    nothing is left).

    In one transaction, with the rows locked: the service type is written encrypted, added
    to the fact counts under its incident (`incidents.fact_counts`) and `facts_counted` is
    set. A batch is done or not; a done action is never picked again, so a second run or a
    run after an interruption counts nothing twice.
    """
    with transaction.atomic():
        actions = list(
            SupportAction.objects.select_for_update(of=("self",), no_key=True)
            .filter(facts_counted=False, pk__gt=after_pk)
            .select_related("case__incident__organisation")
            .order_by("pk")[:limit]
        )
        if not actions:
            return []
        changes: dict = {}
        for action in actions:
            key = fact_counts.key_of(action.case.incident)
            changes.setdefault(key, Counter())[
                (FactKind.ACTION_TYPE.value, action.service_type)
            ] += 1
            action.facts_counted = True
        SupportAction.objects.bulk_update(
            actions, ["service_type", "facts_counted"], batch_size=500
        )
        fact_counts.apply(changes)
    return actions
