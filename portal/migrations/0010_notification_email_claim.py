"""Notification e-mails: a stable Message-ID per row, a claim before sending, attempts."""

from django.db import migrations, models

import portal.models


def fill_message_ids(apps, schema_editor):
    """Give every existing notification a Message-ID of its own."""
    Notification = apps.get_model("portal", "Notification")
    for notification in Notification.objects.filter(message_id="").only("pk").iterator():
        Notification.objects.filter(pk=notification.pk).update(
            message_id=portal.models.notification_message_id()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0009_desk_reachability"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="message_id",
            field=models.CharField(default="", max_length=255),
            preserve_default=False,
        ),
        migrations.RunPython(fill_message_ids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="notification",
            name="message_id",
            field=models.CharField(
                default=portal.models.notification_message_id, max_length=255, unique=True
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_last_error",
            field=models.CharField(blank=True, max_length=500),
        ),
    ]
