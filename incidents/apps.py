from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Meldingen")

    def ready(self):
        from incidents import notify
        from incidents.services import (
            INCIDENT_EVENT_TOPIC,
            incident_anonymise_reapply,
            incident_delete_reapply,
            on_person_deactivated,
        )
        from portal.deletions import deletion_reapplier_register
        from portal.models import DeletionKind
        from portal.outbox import consumer_register
        from portal.signals import person_deactivated

        # Who among the officeholder and the desk hears about an event.
        consumer_register(
            topic=INCIDENT_EVENT_TOPIC,
            name="incidents.notify",
            handler=notify.incident_event_notify,
            kinds=notify.NOTIFYING_KINDS,
        )
        # A registrar whose account ends: their open incidents return to the desk.
        person_deactivated.connect(
            on_person_deactivated, dispatch_uid="incidents.on_person_deactivated"
        )
        # What `manage.py restore` does again for each recorded deletion (portal.deletions).
        deletion_reapplier_register(
            kind=DeletionKind.INCIDENT_ANONYMISED, handler=incident_anonymise_reapply
        )
        deletion_reapplier_register(
            kind=DeletionKind.INCIDENT_DELETED, handler=incident_delete_reapply
        )

        # /metrics: the serious report that waits longest for the desk's triage (the
        # escalation chain: reminders, then auto-escalation at 4 hours).
        from portal.metrics import gauge_register

        gauge_register(
            "portal_untriaged_serious_oldest_age_seconds",
            "Age of the oldest serious report not yet triaged by its desk (0: none).",
            oldest_untriaged_serious_age,
        )


def oldest_untriaged_serious_age() -> float:
    from incidents.actions import serious_q, untriaged_q
    from incidents.models import Incident
    from portal.metrics import age_seconds

    oldest = (
        Incident.objects.filter(untriaged_q(), serious_q())
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    return age_seconds(oldest)
