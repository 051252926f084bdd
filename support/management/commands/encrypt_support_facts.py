"""Encrypt the service type of support actions made before it was encrypted, and count them.

Run once after migrating to support 0006 (safe at any time, and again), next to
`manage.py encrypt_incident_facts`. Each batch, in one transaction: the service types are
written encrypted and added to the fact counts (`incidents.FactCount`) under their incident,
and each action's `facts_counted` flag is set: an interrupted run continues where it stopped
and a second run finds nothing to do. New actions are counted by the support services.
"""

import time

from django.core.management.base import BaseCommand

from support.models import SupportAction
from support.services import support_action_facts_convert


def convert_all(*, batch_size: int = 1000) -> int:
    """Convert every support action not counted yet; returns how many were done."""
    done, last_pk = 0, 0
    while actions := support_action_facts_convert(after_pk=last_pk, limit=batch_size):
        done += len(actions)
        last_pk = actions[-1].pk
    return done


class Command(BaseCommand):
    help = "Encrypt support action types stored before encryption, and count them."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size, **options):
        started = time.monotonic()
        done = convert_all(batch_size=batch_size)
        left = SupportAction.objects.filter(facts_counted=False).count()
        elapsed = time.monotonic() - started
        self.stdout.write(f"{done} support actions converted in {elapsed:.1f} s; {left} left")
