"""Who hears about what happened to an incident, and where their link points.

Notifications carry a reference and a link only (see portal.notifications).
"""

from django.urls import reverse

from incidents.constants import EventKind, MessageAudience, Status
from incidents.models import Event, Incident
from portal.constants import Role
from portal.models import User
from portal.services import notifications_create


def incident_link_for(user: User, incident: Incident) -> str:
    if user.role == Role.OFFICEHOLDER:
        return reverse("incidents:detail", kwargs={"reference": incident.reference})
    if user.role == Role.REGISTRAR:
        return reverse("desk:detail", kwargs={"reference": incident.reference})
    return reverse("support:case", kwargs={"reference": incident.reference})


def desk_registrars(incident: Incident) -> list[User]:
    if incident.assignee_id and incident.assignee.is_active:
        return [incident.assignee]
    return list(User.objects.filter(role=Role.REGISTRAR, desk_id=incident.desk_id, is_active=True))


def support_team() -> list[User]:
    return list(User.objects.filter(role=Role.SUPPORT, is_active=True))


def _officeholder(incident: Incident) -> list[User]:
    return [incident.officeholder] if incident.officeholder_id else []


def recipients_for_event(event: Event) -> tuple[str, list[User]]:
    """The notification kind and recipients for one incident event (none for most kinds)."""
    incident, actor_role = event.incident, event.actor_role
    kind = event.kind
    if kind == EventKind.SUBMITTED:
        return "incident_new", desk_registrars(incident)
    if kind == EventKind.FILED_BY_DESK:
        return "incident_filed_for_you", _officeholder(incident)
    if kind in (EventKind.FOLLOW_UP, EventKind.COMPLETED) and actor_role == Role.OFFICEHOLDER:
        people = desk_registrars(incident)
        if incident.status == Status.ESCALATED:
            people += support_team()
        return "incident_updated", people
    if kind == EventKind.MESSAGE:
        audience = event.payload.get("audience")
        if audience == MessageAudience.STAFF:
            people = support_team() if actor_role == Role.REGISTRAR else desk_registrars(incident)
        elif actor_role == Role.OFFICEHOLDER:
            people = desk_registrars(incident)
            if incident.status == Status.ESCALATED:
                people += support_team()
        else:
            people = _officeholder(incident)
        return "message", people
    if kind == EventKind.STATUS_CHANGED and actor_role != Role.OFFICEHOLDER:
        people = _officeholder(incident)
        if (
            event.payload.get("from") == Status.ESCALATED
            and event.payload.get("to") == Status.IN_TRIAGE
        ):
            return "escalation_returned", people + desk_registrars(incident)
        return "status_changed", people
    if kind == EventKind.ESCALATED:
        return "escalation_new", support_team()
    return "", []


def event_notify(event: Event) -> None:
    kind, people = recipients_for_event(event)
    people = [person for person in people if person.pk != event.actor_id]
    for person in people:
        notifications_create(
            recipients=[person],
            event_key=f"incident-event:{event.pk}",
            kind=kind,
            reference=event.incident.reference,
            link=incident_link_for(person, event.incident),
        )


def incident_remind(
    *, incident: Incident, kind: str, people: list[User], key: str | None = None
) -> None:
    """A watchdog reminder about an incident; at most once per kind and `key` (by default
    the incident; a support case reminder passes its case)."""
    for person in people:
        notifications_create(
            recipients=[person],
            event_key=f"{kind}:{key or incident.pk}",
            kind=kind,
            reference=incident.reference,
            link=incident_link_for(person, incident),
        )
