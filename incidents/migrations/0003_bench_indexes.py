# The desk overview's counts from one index-only scan (see incidents/management/commands/bench_desk.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_event_visible_to_desk"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                fields=["desk", "status", "triage_severity", "triage_due_at", "assignee", "id"],
                name="incident_desk_counts",
            ),
        ),
    ]
