"""`manage.py beat_health`: exit 0 when Celery beat ticked recently, 1 otherwise.

The container health check of beat (docker-compose.yml) and the Kubernetes liveness probe.
Beat's scheduler (portal.beat) touches BEAT_TICK_FILE after each tick (at least every few
seconds); older than BEAT_HEALTH_MAX_AGE_SECONDS means beat hangs or cannot reach its
database, and the 4-hour auto-escalation has stopped.
"""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Exit 0 when Celery beat ticked within BEAT_HEALTH_MAX_AGE_SECONDS, else 1."
    requires_system_checks = []

    def handle(self, *args, **options):
        path = Path(settings.BEAT_TICK_FILE)
        limit = settings.BEAT_HEALTH_MAX_AGE.total_seconds()
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            raise CommandError(f"beat has not ticked yet ({path} does not exist)") from None
        if age > limit:
            raise CommandError(f"beat last ticked {age:.0f} s ago (limit {limit:.0f} s)")
        self.stdout.write(f"beat ticked {age:.0f} s ago")
