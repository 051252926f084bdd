"""The portal's outbox replaces support's EventProcessing rows.

Events that were never processed (no EventProcessing row, e.g. queued during a broker outage
when this version is installed) get outbox entries for today's consumers, so nothing is lost
in the upgrade; processed ones need nothing. Then the old table goes.
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def pending_events_to_outbox(apps, schema_editor):
    # The consumer registry is code, not data: it is filled by the apps' ready() (which has run
    # before any migration), so the entries name exactly the consumers that exist now.
    from portal.outbox import consumers_for

    Event = apps.get_model("incidents", "Event")
    EventProcessing = apps.get_model("support", "EventProcessing")
    OutboxEntry = apps.get_model("portal", "OutboxEntry")
    processed = EventProcessing.objects.values("event_id")
    now = timezone.now()
    entries = []
    for event_id, kind in (
        Event.objects.exclude(pk__in=processed).values_list("pk", "kind").iterator()
    ):
        entries += [
            OutboxEntry(
                topic="incident_event",
                object_id=event_id,
                kind=kind,
                consumer=consumer.name,
                created_at=now,
                next_attempt_at=now - timedelta(seconds=1),
            )
            for consumer in consumers_for("incident_event", kind)
        ]
    OutboxEntry.objects.bulk_create(entries, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0003_encrypt_free_text"),
        ("portal", "0008_outbox"),
        ("incidents", "0007_perpetrator_match"),
    ]

    operations = [
        migrations.RunPython(pending_events_to_outbox, migrations.RunPython.noop),
        migrations.DeleteModel(name="EventProcessing"),
    ]
