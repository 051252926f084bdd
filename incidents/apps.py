from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Meldingen")

    def ready(self):
        from incidents import notify
        from incidents.services import INCIDENT_EVENT_TOPIC, on_person_deactivated
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
