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
        )
        from portal.deletions import deletion_reapplier_register
        from portal.models import DeletionKind
        from portal.outbox import consumer_register

        # Who among the officeholder and the desk hears about an event.
        consumer_register(
            topic=INCIDENT_EVENT_TOPIC,
            name="incidents.notify",
            handler=notify.incident_event_notify,
            kinds=notify.NOTIFYING_KINDS,
        )
        # What `manage.py restore` does again for each recorded deletion (portal.deletions).
        deletion_reapplier_register(
            kind=DeletionKind.INCIDENT_ANONYMISED, handler=incident_anonymise_reapply
        )
        deletion_reapplier_register(
            kind=DeletionKind.INCIDENT_DELETED, handler=incident_delete_reapply
        )
