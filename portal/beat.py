"""Celery beat's scheduler: django-celery-beat's database scheduler that also touches
BEAT_TICK_FILE after every tick, so `manage.py beat_health` (the container health check of
beat) can tell a beat that runs from one that hangs or lost its database."""

from pathlib import Path

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler


def beat_tick_record(path: Path) -> None:
    """Set the file's modification time to now (create it if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


class PortalScheduler(DatabaseScheduler):
    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        # After the tick: a tick that failed (the database gone) leaves the file old.
        beat_tick_record(Path(settings.BEAT_TICK_FILE))
        return interval
