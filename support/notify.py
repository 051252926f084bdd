"""Who in the Ondersteuningsteam hears about an incident event (an outbox consumer).

The officeholder and the desk are notified by incidents' own consumer (`incidents.notify`).
Notifications carry a reference and a link only (see portal.notifications).
"""

from django.urls import reverse

from incidents.constants import EventKind, MessageAudience, Status
from incidents.models import Event, Incident
from portal.models import User
from portal.policies import team_members
from portal.services import notifications_create

# Events this consumer may notify about (the outbox writes no work for the others).
NOTIFYING_KINDS = frozenset(
    {
        EventKind.FOLLOW_UP,
        EventKind.COMPLETED,
        EventKind.MESSAGE,
        # The officeholder asks for a security advice on a case the team has.
        EventKind.SECURITY_ADVICE_REQUESTED,
    }
)


def case_link(incident: Incident) -> str:
    return reverse("support:case", kwargs={"reference": incident.reference})


def team_remind(*, incident: Incident, kind: str, key: str, people: list[User] | None = None):
    """A notification for the team about `incident`, at most once per `key`."""
    for person in people if people is not None else team_members():
        notifications_create(
            recipients=[person],
            event_key=key,
            kind=kind,
            reference=incident.reference,
            link=case_link(incident),
        )


def _team_hears(event: Event) -> bool:
    incident = event.incident
    by_officeholder = event.actor_id is not None and event.actor_id == incident.officeholder_id
    if event.kind == EventKind.MESSAGE and event.payload.get("audience") == MessageAudience.STAFF:
        return True
    # What the officeholder adds while the team has the case.
    return by_officeholder and incident.status == Status.ESCALATED


def team_event_notify(event_id: int) -> None:
    """The outbox consumer: tell the team about messages and news on its cases (once)."""
    event = Event.objects.select_related("incident").filter(pk=event_id).first()
    if event is None or event.incident.anonymised_at is not None or not _team_hears(event):
        return
    kind = "message" if event.kind == EventKind.MESSAGE else "incident_updated"
    people = [person for person in team_members() if person.pk != event.actor_id]
    team_remind(incident=event.incident, kind=kind, key=f"incident-event:{event.pk}", people=people)
