"""Writes about people, organisations and the portal itself."""

from django.utils import timezone

from portal.models import WorkerHeartbeat


def worker_heartbeat_record(*, name: str) -> WorkerHeartbeat:
    """Store that the background worker ran the scheduled task `name` just now."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"last_seen_at": timezone.now()}
    )
    return heartbeat
