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
from portal.services import desk_mailbox_notify, notifications_create

# Events this consumer may notify about (the outbox writes no work for the others).
NOTIFYING_KINDS = frozenset(
    {
        EventKind.SUBMITTED,
        EventKind.FILED_BY_DESK,
        EventKind.FOLLOW_UP,
        EventKind.COMPLETED,
        EventKind.MESSAGE,
        EventKind.STATUS_CHANGED,
        EventKind.MOVED,
        EventKind.OFFERED_BACK,
        EventKind.ESCALATED,
        EventKind.SUPPORT_ACKNOWLEDGED,
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
    if kind == EventKind.MOVED and not event.payload.get("at_filing"):
        # Filed straight at the fallback desk, "incident_new" already told its staff.
        return "incident_moved", desk_registrars(incident)
    if kind == EventKind.OFFERED_BACK and incident.moved_from_desk_id:
        return "incident_offered_back", list(
            desk_registrars_active(desk_id=incident.moved_from_desk_id)
        )
    if kind == EventKind.ESCALATED:
        # Automatic or by a colleague: the desk keeps knowing where its report is.
        return "escalation_to_support", _officeholder(incident) + desk_registrars(incident)
    if kind == EventKind.SUPPORT_ACKNOWLEDGED:
        return "escalation_acknowledged", _officeholder(incident) + desk_registrars(incident)
    if kind == EventKind.STATUS_CHANGED and not by_officeholder:
        if event.payload.get("to") == Status.ESCALATED:
            return "", []  # the escalation's own event tells (above)
        return _status_kind(event.payload), _status_recipients(event.payload, incident)
    return "", []


def _status_kind(payload: dict) -> str:
    """The notification kind of a status change: what happened, in the e-mail's subject."""
    from_status, to_status = payload.get("from"), payload.get("to")
    if from_status == Status.ESCALATED:
        return "escalation_returned" if to_status == Status.IN_TRIAGE else "escalation_closed"
    if to_status == Status.CLOSED:
        return "incident_closed"
    if to_status == Status.IN_TRIAGE and from_status == Status.CLOSED:
        return "incident_reopened"
    if to_status == Status.IN_TRIAGE:
        return "incident_in_triage"
    return "status_changed"


def _status_recipients(payload: dict, incident: Incident) -> list[User]:
    """The officeholder hears of every status change; the desk also of the team's returning
    and closing of an escalated incident."""
    if payload.get("from") == Status.ESCALATED:
        return _officeholder(incident) + desk_registrars(incident)
    return _officeholder(incident)


# Kinds meant for the desk's staff: a desk without active staff hears them in its confirmed
# mailbox instead (portal.reachability), so nothing reaches nobody.
DESK_KINDS = frozenset(
    {
        "incident_new",
        "incident_updated",
        "message",
        "escalation_returned",
        "escalation_to_support",
        "escalation_acknowledged",
        "escalation_closed",
        "incident_moved",
        "incident_offered_back",
    }
)


def _desk_addressed(event: Event, kind: str):
    """The desk an event of this kind is for (the own desk for an offer back), or None."""
    if kind not in DESK_KINDS:
        return None
    if kind == "incident_offered_back":
        return event.incident.moved_from_desk
    if kind == "message" and event.actor_id and event.actor.desk_id:
        return None  # the desk wrote it
    return event.incident.desk


def event_notify(event: Event) -> None:
    """Notify the people `recipients_for_event` names, never the one who did it; a desk
    without active staff through its confirmed mailbox."""
    kind, people = recipients_for_event(event)
    desk = _desk_addressed(event, kind)
    if desk is not None and not desk_registrars_active(desk_id=desk.pk).exists():
        link = (
            reverse("desk:queue")
            if kind == "incident_offered_back"
            else reverse("desk:detail", kwargs={"reference": event.incident.reference})
        )
        desk_mailbox_notify(
            desk=desk,
            event_key=f"incident-event:{event.pk}",
            kind=kind,
            reference=event.incident.reference,
            link=link,
        )
    for person in people:
        if person.pk == event.actor_id:
            continue
        notifications_create(
            recipients=[person],
            event_key=f"incident-event:{event.pk}",
            kind=kind,
            reference=event.incident.reference,
            link=(
                reverse("desk:queue")
                if kind == "incident_offered_back"
                else incident_link_for(person, event.incident)
            ),
        )


def incident_released_notify(event: Event) -> None:
    """Tell the desk that an incident is back in its queue without a handler (the handler's
    account ended): every active registrar of the desk, or else its confirmed mailbox. Once
    per event; called in the release's own transaction (the e-mails go after commit)."""
    incident = event.incident
    link = reverse("desk:detail", kwargs={"reference": incident.reference})
    key = f"incident-event:{event.pk}"
    staff = list(desk_registrars_active(desk_id=incident.desk_id))
    if not staff:
        desk_mailbox_notify(
            desk=incident.desk,
            event_key=key,
            kind="incident_released",
            reference=incident.reference,
            link=link,
        )
        return
    notifications_create(
        recipients=staff,
        event_key=key,
        kind="incident_released",
        reference=incident.reference,
        link=link,
    )


def incident_event_notify(event_id: int) -> None:
    """The outbox consumer: notify about one incident event (once; see portal.outbox)."""
    event = (
        Event.objects.select_related(
            "actor",
            "incident",
            "incident__assignee",
            "incident__officeholder",
            "incident__desk",
            "incident__moved_from_desk",
        )
        .filter(pk=event_id)
        .first()
    )
    if event is not None and event.incident.anonymised_at is None:
        event_notify(event)
