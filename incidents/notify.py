"""Who among the officeholder and the desk hears about an incident event (an outbox consumer).

The Ondersteuningsteam's own notifications are support's consumer (`support.notify`), so
incidents notifies the officeholder and the desk whether or not support is installed.
Notifications carry a reference and a link only (see portal.notifications).
"""

from django.urls import reverse

from incidents.constants import EventKind, MessageAudience, Status
from incidents.models import Event, Incident
from portal.models import User
from portal.policies import Workspace, workspaces_for
from portal.selectors import desk_registrars_active
from portal.services import notifications_create

# Events this consumer may notify about (the outbox writes no work for the others).
NOTIFYING_KINDS = frozenset(
    {
        EventKind.SUBMITTED,
        EventKind.FILED_BY_DESK,
        EventKind.FOLLOW_UP,
        EventKind.COMPLETED,
        EventKind.MESSAGE,
        EventKind.STATUS_CHANGED,
    }
)


def incident_link_for(user: User, incident: Incident) -> str:
    """Where a notification about `incident` takes this person: their own page of it."""
    if Workspace.DESK in workspaces_for(user):
        return reverse("desk:detail", kwargs={"reference": incident.reference})
    return reverse("incidents:detail", kwargs={"reference": incident.reference})


def desk_registrars(incident: Incident) -> list[User]:
    """Who at the desk hears about the incident: its handler, or else everyone at the desk."""
    if incident.assignee_id and incident.assignee.is_active:
        return [incident.assignee]
    return list(desk_registrars_active(desk_id=incident.desk_id))


def _officeholder(incident: Incident) -> list[User]:
    return [incident.officeholder] if incident.officeholder_id else []


def recipients_for_event(event: Event) -> tuple[str, list[User]]:
    """The notification kind and the officeholder/desk recipients of one event."""
    incident, kind = event.incident, event.kind
    by_officeholder = event.actor_id is not None and event.actor_id == incident.officeholder_id
    if kind == EventKind.SUBMITTED:
        return "incident_new", desk_registrars(incident)
    if kind == EventKind.FILED_BY_DESK:
        return "incident_filed_for_you", _officeholder(incident)
    if kind in (EventKind.FOLLOW_UP, EventKind.COMPLETED) and by_officeholder:
        return "incident_updated", desk_registrars(incident)
    if kind == EventKind.MESSAGE:
        if event.payload.get("audience") == MessageAudience.STAFF:
            return "message", desk_registrars(incident)
        return "message", desk_registrars(incident) if by_officeholder else _officeholder(incident)
    if kind == EventKind.STATUS_CHANGED and not by_officeholder:
        payload = event.payload
        if payload.get("from") == Status.ESCALATED and payload.get("to") == Status.IN_TRIAGE:
            return "escalation_returned", _officeholder(incident) + desk_registrars(incident)
        return "status_changed", _officeholder(incident)
    return "", []


def event_notify(event: Event) -> None:
    """Notify the people `recipients_for_event` names, never the one who did it."""
    kind, people = recipients_for_event(event)
    for person in people:
        if person.pk == event.actor_id:
            continue
        notifications_create(
            recipients=[person],
            event_key=f"incident-event:{event.pk}",
            kind=kind,
            reference=event.incident.reference,
            link=incident_link_for(person, event.incident),
        )


def incident_event_notify(event_id: int) -> None:
    """The outbox consumer: notify about one incident event (once; see portal.outbox)."""
    event = (
        Event.objects.select_related("incident", "incident__assignee", "incident__officeholder")
        .filter(pk=event_id)
        .first()
    )
    if event is not None and event.incident.anonymised_at is None:
        event_notify(event)
