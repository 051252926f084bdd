"""Every write of the Ondersteuningsteam's domain: rules, support cases, actions, watchdogs.

Escalating itself is `incidents.services.incident_escalate`; this module decides when, and
organises the team's work on it. Every service is atomic and idempotent where a task calls it.
"""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import services as incident_services
from incidents.constants import SERIOUS_SEVERITIES, EventKind, LinkKind, Status
from incidents.errors import IncidentError, ReasonRequired, StaleVersion, TransitionNotAllowed
from incidents.models import Escalation, Event, Incident
from portal.constants import Role
from portal.models import User
from support import notify, rules, workflow
from support.constants import ACKNOWLEDGE_WITHIN_HOURS, ActionStatus, CaseStatus, RuleCode
from support.models import EscalationRule, EventProcessing, SupportAction, SupportCase

# Events after which the escalation rules run (DESIGN.md: submit, follow-up, triage).
RULE_TRIGGERS = frozenset(
    {
        EventKind.SUBMITTED,
        EventKind.FILED_BY_DESK,
        EventKind.FOLLOW_UP,
        EventKind.COMPLETED,
        EventKind.TRIAGED,
    }
)


def support_case_open(*, escalation: Escalation) -> SupportCase:
    """The one support case of an escalation, created on first call."""
    try:
        with transaction.atomic():
            case, _created = SupportCase.objects.get_or_create(
                escalation=escalation,
                defaults={
                    "incident_id": escalation.incident_id,
                    "created_at": escalation.created_at,
                    "acknowledge_due_at": escalation.created_at
                    + timedelta(hours=ACKNOWLEDGE_WITHIN_HOURS),
                },
            )
    except IntegrityError:
        case = SupportCase.objects.get(escalation=escalation)
    return case


def incident_rules_apply(*, incident: Incident) -> Escalation | None:
    """Evaluate the rules for an open incident; escalate and link when they fire.

    A rule that already caused an earlier (since returned) escalation of this incident does
    not fire again for it, so a case the team gave back is not sent straight back.
    """
    if incident.status not in (Status.SUBMITTED, Status.IN_TRIAGE):
        return None
    fired, linked = rules.rules_evaluate(incident)
    for other in linked:
        incident_services.incident_link(
            incident=incident, other=other, actor=None, kind=LinkKind.SAME_PERPETRATOR
        )
    earlier = {code for e in incident.escalations.all() for code in e.rules}
    fired = [code for code in fired if code not in earlier]
    if not fired:
        return None
    escalation = incident_services.incident_escalate(
        incident=incident, actor=None, rule_names=fired
    )
    if escalation is not None:
        support_case_open(escalation=escalation)
    return escalation


def incident_event_process(*, event_id: int) -> bool:
    """Handle one incident event exactly once: run the rules, open the case, notify people.

    Returns False when the event was processed before (or is gone). The event row is locked
    while processing, so two workers on the same event do the work once.
    """
    with transaction.atomic():
        # Lock the event row only: PostgreSQL refuses FOR UPDATE on the nullable side of the
        # outer join to the assignee, and the incident is locked by the service that changes it.
        event = (
            Event.objects.select_for_update(of=("self",))
            .select_related("incident", "incident__assignee")
            .filter(pk=event_id)
            .first()
        )
        if event is None or EventProcessing.objects.filter(event_id=event_id).exists():
            return False
        if event.kind == EventKind.ANONYMISED:
            support_content_remove(incident=event.incident)
        if event.kind in RULE_TRIGGERS:
            incident_rules_apply(incident=event.incident)
        if event.kind == EventKind.ESCALATED:
            escalation = Escalation.objects.filter(pk=event.payload.get("escalation_id")).first()
            if escalation is not None:
                support_case_open(escalation=escalation)
        event.incident.refresh_from_db()
        notify.event_notify(event)
        EventProcessing.objects.create(event=event, processed_at=timezone.now())
        return True


# --- Support case workflow ----------------------------------------------------------------------


def _case_locked(case: SupportCase) -> SupportCase:
    return SupportCase.objects.select_for_update().select_related("incident").get(pk=case.pk)


def _case_check_version(case: SupportCase, version: int | None) -> None:
    if version is not None and int(version) != case.version:
        raise StaleVersion()


def _case_event(
    *, case: SupportCase, actor: User, payload: dict, kind=EventKind.SUPPORT_CASE_CHANGED
):
    incident_services.event_record(
        incident=case.incident, kind=kind, actor=actor, payload={"case_id": case.pk, **payload}
    )


def support_case_transition(
    *, case: SupportCase, actor: User, to_status: CaseStatus, version: int | None, text: str = ""
) -> SupportCase:
    """Move a case along the case table; also moves the incident when returning or closing."""
    if actor.role != Role.SUPPORT:
        raise TransitionNotAllowed()
    with transaction.atomic():
        locked = _case_locked(case)
        _case_check_version(locked, version)
        step = workflow.case_transition_get(locked.status, to_status)
        if step is None:
            raise TransitionNotAllowed()
        text = text.strip()
        if step.needs == "reason" and not text:
            raise ReasonRequired(_("Vul een reden in."))
        if step.needs == "outcome" and not text:
            raise ReasonRequired(_("Vul de uitkomst in."))
        from_status, now = locked.status, timezone.now()
        if to_status == CaseStatus.RETURNED:
            incident_services.incident_return_to_desk(
                incident=locked.incident, actor=actor, reason=text, version=None
            )
        elif to_status == CaseStatus.CLOSED:
            incident_services.incident_close_escalated(
                incident=locked.incident, actor=actor, outcome=text, version=None
            )
        if to_status == CaseStatus.ACKNOWLEDGED:
            locked.acknowledged_at = now
            if locked.handler_id is None:
                locked.handler = actor
        if to_status in (CaseStatus.RETURNED, CaseStatus.CLOSED):
            locked.closed_at = now
            locked.outcome = text
        locked.status = to_status
        locked.version += 1
        locked.save()
        _case_event(
            case=locked,
            actor=actor,
            payload={"from": from_status, "to": to_status, "text": text},
            kind=EventKind.SUPPORT_ACKNOWLEDGED
            if to_status == CaseStatus.ACKNOWLEDGED
            else EventKind.SUPPORT_CASE_CHANGED,
        )
        return locked


def support_case_acknowledge(*, case: SupportCase, actor: User, version: int) -> SupportCase:
    """Confirm the team has picked the case up; the acting member becomes handler if none."""
    return support_case_transition(
        case=case, actor=actor, to_status=CaseStatus.ACKNOWLEDGED, version=version
    )


def support_case_start(*, case: SupportCase, actor: User, version: int) -> SupportCase:
    return support_case_transition(
        case=case, actor=actor, to_status=CaseStatus.IN_PROGRESS, version=version
    )


def support_case_return(
    *, case: SupportCase, actor: User, reason: str, version: int
) -> SupportCase:
    """Give the case back to the desk (incident back to in_triage), with a reason."""
    return support_case_transition(
        case=case, actor=actor, to_status=CaseStatus.RETURNED, version=version, text=reason
    )


def support_case_close(
    *, case: SupportCase, actor: User, outcome: str, version: int
) -> SupportCase:
    """Close the case and the incident with an outcome."""
    return support_case_transition(
        case=case, actor=actor, to_status=CaseStatus.CLOSED, version=version, text=outcome
    )


def support_case_assign(
    *, case: SupportCase, actor: User, handler: User, version: int
) -> SupportCase:
    """Make a member of the support team the case handler (the officeholder's contact)."""
    if actor.role != Role.SUPPORT or handler.role != Role.SUPPORT or not handler.is_active:
        raise IncidentError(_("Kies een lid van het Ondersteuningsteam."))
    with transaction.atomic():
        locked = _case_locked(case)
        _case_check_version(locked, version)
        locked.handler = handler
        locked.version += 1
        locked.save()
        _case_event(case=locked, actor=actor, payload={"handler": str(handler)})
        return locked


def support_action_add(
    *,
    case: SupportCase,
    actor: User,
    service_type: str,
    owner: User,
    description: str = "",
    due_on: date | None = None,
    shared_with_desk: bool = False,
) -> SupportAction:
    """Add a step to the support plan. A case that was only acknowledged becomes in progress."""
    if actor.role != Role.SUPPORT or owner.role != Role.SUPPORT:
        raise IncidentError(_("Kies een lid van het Ondersteuningsteam als eigenaar."))
    with transaction.atomic():
        locked = _case_locked(case)
        if locked.status not in (CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS):
            raise TransitionNotAllowed(
                _("Bevestig eerst het dossier; daarna kunt u acties plannen.")
            )
        now = timezone.now()
        action = SupportAction.objects.create(
            case=locked,
            service_type=service_type,
            description=description.strip(),
            owner=owner,
            due_on=due_on,
            shared_with_desk=shared_with_desk,
            created_at=now,
            updated_at=now,
        )
        if locked.status == CaseStatus.ACKNOWLEDGED:
            locked.status = CaseStatus.IN_PROGRESS
            locked.version += 1
            locked.save()
        incident_services.event_record(
            incident=locked.incident,
            kind=EventKind.SUPPORT_ACTION,
            actor=actor,
            payload={"case_id": locked.pk, "action_id": action.pk, "service_type": service_type},
            visible_to_desk=shared_with_desk,
        )
        return action


def support_action_update(
    *, action: SupportAction, actor: User, status: str, shared_with_desk: bool, due_on: date | None
) -> SupportAction:
    """Change an action's status, due date or whether the desk may see it."""
    if actor.role != Role.SUPPORT:
        raise TransitionNotAllowed()
    with transaction.atomic():
        locked = (
            SupportAction.objects.select_for_update()
            .select_related("case__incident")
            .get(pk=action.pk)
        )
        if locked.case.status not in (CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS):
            raise TransitionNotAllowed(_("Dit dossier is afgesloten."))
        locked.status = ActionStatus(status)
        locked.shared_with_desk = shared_with_desk
        locked.due_on = due_on
        locked.updated_at = timezone.now()
        locked.save()
        incident_services.event_record(
            incident=locked.case.incident,
            kind=EventKind.SUPPORT_ACTION,
            actor=actor,
            payload={"case_id": locked.case_id, "action_id": locked.pk, "status": status},
            visible_to_desk=shared_with_desk,
        )
        return locked


# --- Watchdogs (Celery beat) ------------------------------------------------------------------


def _untriaged_serious() -> QuerySet[Incident]:
    return Incident.objects.filter(
        status__in=(Status.SUBMITTED, Status.IN_TRIAGE),
        triaged_at__isnull=True,
        reporter_severity__in=SERIOUS_SEVERITIES,
    ).select_related("assignee")


def triage_watch(*, now=None) -> dict[str, int]:
    """Remind the desk before and after triage deadlines; auto-escalate serious reports at 4 h.

    Idempotent: each reminder is one notification per incident and kind; escalating twice
    creates one escalation.
    """
    now = now or timezone.now()
    counts = {"due_soon": 0, "overdue": 0, "escalated": 0}
    for incident in _untriaged_serious().filter(
        triage_due_at__gt=now, triage_due_at__lte=now + timedelta(hours=2)
    ):
        notify.incident_remind(
            incident=incident, kind="triage_due_soon", people=notify.desk_registrars(incident)
        )
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
                incident=incident, actor=None, rule_names=[RuleCode.TRIAGE_DEADLINE]
            )
            if escalation is not None:
                support_case_open(escalation=escalation)
                counts["escalated"] += 1
    overdue = Incident.objects.filter(
        status__in=(Status.SUBMITTED, Status.IN_TRIAGE),
        triaged_at__isnull=True,
        triage_due_at__lte=now,
    ).select_related("assignee")
    for incident in overdue:
        notify.incident_remind(
            incident=incident, kind="triage_overdue", people=notify.desk_registrars(incident)
        )
        counts["overdue"] += 1
    return counts


def escalation_watch(*, now=None) -> int:
    """Remind the support team of cases not acknowledged within 4 hours (once per case)."""
    now = now or timezone.now()
    late = SupportCase.objects.filter(
        status=CaseStatus.NEW, acknowledge_due_at__lte=now
    ).select_related("incident")
    team = notify.support_team()
    for case in late:
        notify.incident_remind(
            incident=case.incident,
            kind="escalation_unacknowledged",
            people=team,
            key=f"case-{case.pk}",
        )
    return len(late)


def pending_events(*, older_than: timedelta, now=None, horizon: timedelta = timedelta(days=7)):
    """Events not yet processed that are older than `older_than` (and younger than the horizon)."""
    now = now or timezone.now()
    return (
        Event.objects.filter(created_at__lte=now - older_than, created_at__gte=now - horizon)
        .filter(processing__isnull=True)
        .order_by("created_at")
    )


def support_content_remove(*, incident: Incident) -> None:
    """Remove the support team's free text of an incident (retention); keeps the structure."""
    with transaction.atomic():
        SupportCase.objects.filter(incident=incident).update(outcome="")
        SupportAction.objects.filter(case__incident=incident).update(description="")
