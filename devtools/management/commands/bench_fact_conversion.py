"""`manage.py bench_fact_conversion`: how fast `encrypt_incident_facts` converts old rows.

Seeds N incidents (default 100,000) in the shape migration incidents 0012 leaves them in: the
fact columns hold plain text (types, impacts, affected people, risk flags and advice as JSON;
the aangifte track, encrypted from the start, is copied as it is), nothing is counted yet, and
every 20th incident has an escalation with plain rule codes. They are copies of one template
report filed through `incident_submit`, made with one `INSERT ... SELECT generate_series`, so
seeding takes seconds. Then it runs the conversion exactly as the command does (batches of
`--batch-size`), prints rows/s and the time this rate gives for 1,000,000 incidents, and checks
that every incident was converted and counted once.

The command writes fake incidents: it only runs with `--throwaway-database`.
"""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from devtools.management.commands.bench_desk import (
    database_description,
    demo_accounts_ensure,
    require_throwaway_database,
)
from incidents.constants import FactKind, IncidentType
from incidents.management.commands.encrypt_incident_facts import convert_all
from incidents.models import FactCount, Incident
from incidents.services import incident_submit
from portal.constants import Role
from portal.models import User

PLAIN_FACTS = {
    "types": '["threat", "doxing"]',
    "impacts": '["mental_health"]',
    "affected_people": '["children"]',
    "risk_flags": '["weapon"]',
    "advice_given": '["aangifte"]',
}
TARGET = 1_000_000


class Command(BaseCommand):
    help = "Seed N incidents in the old (plain) shape and time encrypt_incident_facts on them."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=100_000)
        parser.add_argument("--batch-size", type=int, default=1_000)
        parser.add_argument("--throwaway-database", action="store_true")

    def handle(self, *args, incidents, batch_size, **options):
        require_throwaway_database(options)
        if connection.vendor != "postgresql":
            raise CommandError("This benchmark seeds with PostgreSQL's generate_series.")
        demo_accounts_ensure()
        started = time.monotonic()
        self._seed(incidents)
        seeded = time.monotonic() - started
        remaining = Incident.objects.filter(facts_counted=False).count()
        self.stdout.write(
            f"{database_description()}: {remaining:,} incidents to convert "
            f"(seeded in {seeded:.1f} s)"
        )
        started = time.monotonic()
        done = convert_all(batch_size=batch_size)
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed else 0.0
        left = Incident.objects.filter(facts_counted=False).count()
        counted = (
            FactCount.objects.filter(kind=FactKind.INCIDENT).aggregate(n=Sum("count"))["n"] or 0
        )
        self.stdout.write(
            f"converted {done:,} incidents in {elapsed:.1f} s (batches of {batch_size:,}): "
            f"{rate:,.0f} rows/s; {TARGET:,} incidents would take "
            f"{TARGET / rate / 60 if rate else float('inf'):.1f} min"
        )
        if left or counted != Incident.objects.count():
            raise CommandError(f"{left} incidents left unconverted, {counted} counted")

    def _seed(self, count: int) -> None:
        officeholder = (
            User.objects.filter(role=Role.OFFICEHOLDER, organisation__desk__isnull=False)
            .order_by("pk")
            .first()
        )
        if officeholder is None:
            raise CommandError("No officeholder with a desk in the demo accounts.")
        template = incident_submit(
            officeholder=officeholder,
            facts={
                "types": [IncidentType.THREAT],
                "occurred_on": timezone.localdate() - timedelta(days=1),
                "summary": "Bench: een dreigend bericht.",
            },
            quick=True,
        )
        table = Incident._meta.db_table
        columns = [
            field.column
            for field in Incident._meta.concrete_fields
            if field.column not in ("id", "reference", "submission_token")
        ]
        copied = ", ".join(
            f"%s AS {column}" if column in PLAIN_FACTS else column
            for column in columns
            if column not in ("facts_counted", "type_tokens", "risk_flag_tokens")
        )
        names = [
            c for c in columns if c not in ("facts_counted", "type_tokens", "risk_flag_tokens")
        ]
        params = [PLAIN_FACTS[c] for c in names if c in PLAIN_FACTS]
        reset = ", ".join(f"{c} = %s" for c in PLAIN_FACTS)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (reference, facts_counted, type_tokens, risk_flag_tokens, "  # noqa: S608
                f"{', '.join(names)}) "
                f"SELECT 'BF' || lpad(g::text, 9, '0'), false, '', '', {copied} "
                f"FROM {table}, generate_series(1, %s) AS g WHERE id = %s",
                [*params, count, template.pk],
            )
            cursor.execute(
                "INSERT INTO incidents_escalation (incident_id, rules, reason, created_at) "
                "SELECT id, %s, '', now() FROM incidents_incident "
                "WHERE reference LIKE 'BF%%' AND id %% 20 = 0",
                ['["physical_violence", "critical"]'],
            )
            # The template is converted too, from the same old shape.
            cursor.execute(
                f"UPDATE {table} SET {reset}, facts_counted = false, type_tokens = '', "  # noqa: S608
                "risk_flag_tokens = '' WHERE id = %s",
                [*PLAIN_FACTS.values(), template.pk],
            )
            FactCount.objects.all().delete()
