"""Reads of incidents for pages and the API. Scoping always starts from `incidents.access`."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from incidents import access
from incidents.constants import EventKind, MessageAudience, Status
from incidents.models import Event, Incident, Message
from portal.constants import Role


def incident_list_for_officeholder(*, user) -> QuerySet[Incident]:
    """The officeholder's own incidents, newest first (one query, no joins needed)."""
    return (
        access.incidents_visible_to(user)
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
    return access.incident_get_for(user, reference=reference, queryset=queryset)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    actor: str
    text: str
    internal: bool
    payload: dict


def _actor_label(event: Event, viewer) -> str:
    actor = event.actor
    if actor is None:
        return str(_("Automatische controle"))
    if viewer.pk == actor.pk:
        return str(_("U"))
    if event.actor_role == Role.REGISTRAR and actor.desk_id:
        return f"{actor} ({actor.desk})"
    if event.actor_role == Role.SUPPORT:
        return f"{actor} ({_('Ondersteuningsteam')})"
    return str(actor)


def _event_label(event: Event) -> str:
    if event.kind == EventKind.STATUS_CHANGED:
        return str(_("Nieuwe status: %(status)s") % {"status": Status(event.payload["to"]).label})
    return event.get_kind_display()


def timeline_for(*, user, incident: Incident) -> list[TimelineEntry]:
    """The incident's history as this user may see it, oldest first (three queries)."""
    events = list(
        access.events_visible_to(user, incident=incident).select_related("actor", "actor__desk")
    )
    messages = {m.pk: m for m in access.messages_visible_to(user, incident=incident)}
    notes = {n.pk: n for n in incident.notes.all()} if user.role != Role.OFFICEHOLDER else {}
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
            text = event.payload.get("outcome") or event.payload.get("reason") or ""
        elif event.kind == EventKind.ESCALATED:
            text = event.payload.get("reason") or ""
        internal = event.kind == EventKind.NOTE or (
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
            )
        )
    return entries


def thread_for(*, user, incident: Incident, audience: str) -> list[Message]:
    if audience not in access.message_audiences_for(user):
        return []
    return list(
        incident.messages.filter(audience=audience).select_related("author", "author__desk")
    )
