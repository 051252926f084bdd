"""Who may see and do what with incidents. The one place in `incidents` that checks roles.

Scoping (DESIGN.md): an officeholder sees only their own incidents; a registrar only the
incidents routed to their desk; support only incidents that were ever escalated; the admin
role none. Anything out of scope answers 404, exactly like something that does not exist.
"""

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from incidents.constants import MessageAudience, Status
from incidents.models import Escalation, Event, Evidence, Incident, Message
from incidents.workflow import allowed_targets
from portal.constants import Role


def incidents_visible_to(user) -> QuerySet[Incident]:
    incidents = Incident.objects.all()
    if not (user.is_authenticated and user.is_active):
        return incidents.none()
    if user.role == Role.OFFICEHOLDER:
        return incidents.filter(officeholder=user)
    if user.role == Role.REGISTRAR:
        return incidents.filter(desk_id=user.desk_id)
    if user.role == Role.SUPPORT:
        return incidents.filter(Exists(Escalation.objects.filter(incident=OuterRef("pk"))))
    return incidents.none()


def incident_get_for(
    user, *, reference: str, queryset: QuerySet[Incident] | None = None
) -> Incident:
    """Fetch and check in one call: the incident, or 404 when it is missing or out of scope."""
    scoped = incidents_visible_to(user)
    if queryset is not None:
        scoped = queryset & scoped
    try:
        return scoped.get(reference=reference)
    except Incident.DoesNotExist:
        raise Http404 from None


def evidence_get_for(user, *, reference: str, pk: int) -> Evidence:
    incident = incident_get_for(user, reference=reference)
    try:
        return incident.evidence.get(pk=pk)
    except Evidence.DoesNotExist:
        raise Http404 from None


def message_audiences_for(user) -> tuple[str, ...]:
    """Which message channels this role reads and writes."""
    if user.role == Role.OFFICEHOLDER:
        return (MessageAudience.OFFICEHOLDER_THREAD,)
    if user.role in (Role.REGISTRAR, Role.SUPPORT):
        return (MessageAudience.OFFICEHOLDER_THREAD, MessageAudience.STAFF)
    return ()


def messages_visible_to(user, *, incident: Incident) -> QuerySet[Message]:
    return incident.messages.filter(audience__in=message_audiences_for(user))


def events_visible_to(user, *, incident: Incident) -> QuerySet[Event]:
    events = incident.events.all()
    if user.role == Role.OFFICEHOLDER:
        return events.filter(visible_to_officeholder=True)
    if user.role == Role.REGISTRAR:
        return events.filter(visible_to_desk=True)
    return events


def is_own_incident(user, incident: Incident) -> bool:
    return user.role == Role.OFFICEHOLDER and incident.officeholder_id == user.pk


def may_withdraw(user, incident: Incident) -> bool:
    return is_own_incident(user, incident) and Status.WITHDRAWN in allowed_targets(
        status=incident.status, role=user.role
    )


def may_add_information(user, incident: Incident) -> bool:
    """Follow-up, evidence and completing the facts: the officeholder or their desk."""
    if incident.status in (Status.WITHDRAWN, Status.CLOSED) and user.role == Role.OFFICEHOLDER:
        return False
    return is_own_incident(user, incident) or (
        user.role == Role.REGISTRAR and incident.desk_id == user.desk_id
    )


def may_write_note(user, incident: Incident) -> bool:
    return user.role in (Role.REGISTRAR, Role.SUPPORT)


def may_triage(user, incident: Incident) -> bool:
    return (
        user.role == Role.REGISTRAR
        and incident.desk_id == user.desk_id
        and incident.status in (Status.SUBMITTED, Status.IN_TRIAGE)
    )


def transitions_for(user, incident: Incident) -> list[Status]:
    """The status steps this user may take on this incident right now."""
    if user.role == Role.REGISTRAR and incident.desk_id != user.desk_id:
        return []
    if user.role == Role.OFFICEHOLDER and not is_own_incident(user, incident):
        return []
    return allowed_targets(status=incident.status, role=user.role)
