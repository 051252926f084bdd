"""`support` listens to the one seam of `incidents` (incidents.signals)."""

from django.dispatch import receiver

from incidents.signals import incident_event_recorded
from support.tasks import queue_event


@receiver(incident_event_recorded, dispatch_uid="support.queue_incident_event")
def queue_incident_event(sender, event_id, **kwargs):
    queue_event(event_id)
