from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Ondersteuningsteam Weerbaar Bestuur")

    def ready(self):
        from incidents.constants import EventKind
        from incidents.services import INCIDENT_EVENT_TOPIC
        from portal.outbox import consumer_register
        from portal.signals import person_deactivated
        from support import notify, panels, services

        # support listens to incidents' events through the outbox, and nothing else.
        for name, handler, kinds in (
            ("support.rules", services.on_rule_trigger, services.RULE_TRIGGERS),
            ("support.case", services.on_escalated, {EventKind.ESCALATED}),
            ("support.retention", services.on_anonymised, {EventKind.ANONYMISED}),
            (
                "support.protection",
                services.on_security_advice_requested,
                {EventKind.SECURITY_ADVICE_REQUESTED},
            ),
            ("support.notify", notify.team_event_notify, notify.NOTIFYING_KINDS),
        ):
            consumer_register(topic=INCIDENT_EVENT_TOPIC, name=name, handler=handler, kinds=kinds)
        panels.register()
        # A team member whose account ends: their open cases return to the team inbox.
        person_deactivated.connect(
            services.on_person_deactivated, dispatch_uid="support.on_person_deactivated"
        )
