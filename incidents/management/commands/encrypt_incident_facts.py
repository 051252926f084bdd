"""Encrypt the facts of incidents made before they were encrypted, and count them.

Run once after migrating to incidents 0012 (it is safe to run at any time, and again), then
`manage.py encrypt_support_facts` for the support team's action types. Each batch, in one
transaction: the incidents' types, impacts, affected people, risk flags, advice and police
details are written encrypted with their keyed tokens, their escalations' rule codes are
encrypted, and all of it is added to the fact counts (`incidents.FactCount`). The checkpoint
is each incident's own `facts_counted` flag, set in the same transaction: an interrupted run
(Ctrl-C, a crash, a deploy) continues where it stopped, and a second run finds nothing to do.

Until a row is converted, the portal still reads its plain values, but the queue's type and
risk filters do not find it yet and it is not in the counts: run this straight after migrating.
"""

import time

from django.core.management.base import BaseCommand

from incidents.models import Incident
from incidents.services import incident_facts_convert


def convert_all(*, batch_size: int = 1000, max_batches: int | None = None, report=None) -> int:
    """Convert every incident not counted yet, batch by batch; returns how many were done."""
    done, last_pk, batches = 0, 0, 0
    while max_batches is None or batches < max_batches:
        incidents = incident_facts_convert(after_pk=last_pk, limit=batch_size)
        if not incidents:
            break
        done += len(incidents)
        last_pk = incidents[-1].pk
        batches += 1
        if report is not None:
            report(done, last_pk)
    return done


class Command(BaseCommand):
    help = "Encrypt incident facts stored before encryption, and build the fact counts."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--max-batches", type=int, default=None, help="Stop after this many batches."
        )

    def handle(self, *args, batch_size, max_batches, **options):
        remaining = Incident.objects.filter(facts_counted=False).count()
        self.stdout.write(f"{remaining} incidents to convert")
        started = time.monotonic()

        def report(done: int, last_pk: int) -> None:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0.0
            self.stdout.write(f"{done}/{remaining} done (up to id {last_pk}), {rate:,.0f} rows/s")

        done = convert_all(batch_size=batch_size, max_batches=max_batches, report=report)
        elapsed = time.monotonic() - started
        left = Incident.objects.filter(facts_counted=False).count()
        self.stdout.write(f"{done} incidents converted in {elapsed:.1f} s; {left} left")
