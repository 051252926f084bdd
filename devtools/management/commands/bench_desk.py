"""`manage.py bench_desk`: the desk and support pages at volume. A benchmark that prints; it
asserts nothing.

It seeds N incidents (default 100,000; `make bench BENCH_INCIDENTS=1000000`) into the
configured database, spread evenly over about 380 organisations (the demo ones plus
benchmark organisations) and 25 desks (the demo desks plus benchmark desks, each with two
registrars), with the rows a real desk accumulates: events, messages, internal notes,
evidence records (all pointing at one small stored file), perpetrator handles (some shared,
so the detail page has link suggestions), escalations and their support cases. By default
90% of the incidents are closed (`--closed-share`). Deadlines come from `incidents.deadlines`
and the queue's urgency rank from `incidents.actions.urgency_rank`, as `Incident.save` sets it.

On PostgreSQL the rows go in with COPY (`RowWriter`), which seeds 1,000,000 incidents in
minutes rather than hours; elsewhere with `bulk_create`. Both take the values through the
model fields (`pre_save`, `get_db_prep_save`), so encrypted fields hold real ciphertext made
with the project's field encryption. Encrypting every value would be most of the work, so
each distinct plaintext is encrypted once and its ciphertext reused (a benchmark does not need
distinct ciphertexts; production does, and gets them from the model). Seeding is skipped when
the volume is already there (`--reset` deletes the benchmark's incidents first).

Then it logs in as the registrars of Meldpunt IJsselland and Meldpunt Utrecht and as the
support team member with Django's test client (a session whose second factor is verified, as
after the code step), so every request runs through the full middleware stack, and prints per
page the server-side p50/p95 wall time, the median CPU time of this process per request and
the number of queries: the queue (first page, filtered, a saved view, and searches by
reference number, officeholder name and perpetrator account), incident pages (a different one
each request), the desk overview, the support inbox and support case pages. The query counts
are also taken after the first chunk of seeding, so the output shows whether they stay the
same as the data grows. Targets (issues 4 and 18): p95 under 50 ms and CPU under 15 ms per
request for queue and incident page at 1,000,000 incidents on a quiet 2-core machine.

The command writes fake incidents and accounts: it only runs with `--throwaway-database`.
`make bench` runs it against a throwaway PostgreSQL.
"""

import hashlib
import io
import json
import logging
import math
import os
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from PIL import Image

from incidents import deadlines
from incidents.actions import urgency_rank
from incidents.constants import (
    SERIOUS_SEVERITIES,
    Channel,
    EventKind,
    EvidenceKind,
    IdentifierKind,
    IncidentType,
    MessageAudience,
    ReporterSeverity,
    Status,
    TriageSeverity,
)
from incidents.models import (
    Escalation,
    Event,
    Evidence,
    Incident,
    Message,
    Note,
    PerpetratorIdentifier,
    ReferenceSequence,
    SavedQueueView,
    private_storage,
)
from portal.constants import OfficeholderFunction, OrganisationType, Role
from portal.crypto import EncryptedTextField, encrypt_text, identifier_hash
from portal.middleware import LAST_SEEN_SESSION_KEY
from portal.models import Desk, Organisation, TotpDevice, User
from portal.two_factor import TOTP_DEVICE_NAME, totp_device_get
from support.constants import CaseStatus
from support.models import SupportCase

BENCH_USERNAME_PREFIX = "bench."
CHUNK = 5_000
MAX_AGE_DAYS = 3 * 365
SHARED_EVIDENCE_NAME = "evidence/bench/shared-screenshot.png"

# Targets of issues 4 and 18 (p95 and CPU per request, milliseconds, PostgreSQL at
# 1,000,000 incidents on a quiet 2-core machine). The overview and support pages have a p95
# target only (issue 4), the support pages the queue's.
TARGET_QUEUE_MS = 50
TARGET_DETAIL_MS = 50
TARGET_OVERVIEW_MS = 150
TARGET_CPU_MS = 15
REGISTRARS = ("meldpunt.ijsselland", "meldpunt.utrecht")
SUPPORT_USERNAME = "ondersteuning"
BENCH_DESK_PREFIX = "Benchmarkmeldpunt "
BENCH_ORGANISATION_PREFIX = "BN"
SAVED_VIEW_NAME = "Benchmark: mijn open meldingen, nieuwste eerst"
SAVED_VIEW_QUERY = "assigned=me&sort=newest"
# Ciphertexts kept per field: the pools of distinct values are smaller than this, except
# payloads that name a row (a message id), which are encrypted one by one.
CIPHERTEXT_CACHE = 50_000

FIRST_NAMES = (
    "Anne Bas Carla Daan Esther Fleur Gijs Hanneke Ingrid Jeroen Karin Lars Marieke Noor Omar "
    "Priya Quinten Rik Sanne Tom Usha Vincent Wendy Youssef Zeynep"
).split()
LAST_NAMES = (
    "Bakker Boer Bos Brouwer Dekker Dijkstra Hendriks Jansen Koster Meijer Mulder Peters Smit "
    "Visser Vos Wit Yilmaz Zwart"
).split() + ["El Idrissi", "van Dijk", "de Graaf", "de Jong", "van Leeuwen"]
SUMMARIES = (
    "Uitgescholden op de markt over het parkeerbeleid.",
    "Dreigende reactie op Facebook na het raadsdebat.",
    "Bedreigd per e-mail na de raadsvergadering.",
    "Intimiderende demonstranten bij de ingang van het stadhuis.",
    "Auto bekrast op de parkeerplaats van het gemeentehuis.",
    "Woonadres gedeeld op X met de oproep om langs te gaan.",
    "Telefonisch uitgescholden over een besluit van het college.",
    "Dreigbrief ontvangen op het werkadres.",
    "Geduwd na afloop van een inspraakavond.",
    "Steeds uitgescholden in de appgroep van de buurt.",
    "Stickers met mijn foto op lantaarnpalen.",
    "Seksueel getinte berichten via Instagram.",
)
CASE_OUTCOME = "Besproken met de ambtsdrager; geen verdere actie."
DESCRIPTION = (
    "Na afloop van de vergadering sprak iemand mij aan en werd steeds bozer. Er werd gescholden "
    "en gezegd dat ik 'het wel zal merken'. Omstanders keken toe. Ik heb daarna de griffie en "
    "mijn fractievoorzitter ingelicht. Dit is een gegenereerde beschrijving voor de benchmark."
)
MESSAGE_BODIES = (
    "Wij hebben uw melding gelezen en nemen vandaag contact met u op.",
    "Dank u, ik ben vanmiddag telefonisch bereikbaar.",
    "Wij raden u aan aangifte te doen; wilt u dat wij een afspraak maken?",
    "Overleg: graag jullie advies over beveiliging van de woning.",
)
FUNCTIONS = {
    OrganisationType.GEMEENTE: (OfficeholderFunction.RAADSLID, OfficeholderFunction.WETHOUDER),
    OrganisationType.PROVINCIE: (OfficeholderFunction.STATENLID,),
    OrganisationType.WATERSCHAP: (OfficeholderFunction.ALGEMEEN_BESTUUR_WATERSCHAP,),
    OrganisationType.OPENBAAR_LICHAAM: (OfficeholderFunction.EILANDSRAADSLID,),
}
# How the incidents that are not closed divide (recent ones, under two days, stay open).
NOT_CLOSED = (
    (Status.SUBMITTED, 25),
    (Status.IN_TRIAGE, 35),
    (Status.ESCALATED, 10),
    (Status.WITHDRAWN, 30),
)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p95 of 200 values is the 190th smallest)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def require_throwaway_database(options) -> None:
    if not options["throwaway_database"]:
        raise CommandError(
            "This benchmark writes fake incidents and accounts into the configured database. "
            "Run it only against a throwaway database, with --throwaway-database "
            "(make bench starts one)."
        )


def demo_accounts_ensure() -> None:
    """The demo organisations, desks and accounts, with a random password if they are new."""
    if not User.objects.filter(username__in=REGISTRARS).count() == len(REGISTRARS):
        from devtools.demo import people as demo

        demo.seed(password=secrets.token_urlsafe(24))


def verified_client(user: User) -> Client:
    """A test client logged in as `user` after the second-factor step, as a registrar works."""
    device = totp_device_get(user=user) or TotpDevice.objects.create(
        user=user, name=TOTP_DEVICE_NAME, confirmed=True
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    # As after a first request: the staff idle clock runs, so requests need not save the session.
    session[LAST_SEEN_SESSION_KEY] = int(time.time())
    session.save()
    return client


def database_description() -> str:
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"postgresql {cursor.fetchone()[0]}"
        if vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"sqlite {cursor.fetchone()[0]}"
    return vendor


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date | clock_time):
        return value.isoformat()
    if hasattr(value, "adapted"):  # psycopg2's Json adapter (a plain JSONField)
        value = json.dumps(value.adapted)
    if not isinstance(value, str):
        raise CommandError(f"RowWriter cannot write {type(value).__name__} values.")
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class RowWriter:
    """Inserts model instances: COPY on PostgreSQL, `bulk_create` elsewhere.

    Values go through the fields as in an insert (`pre_save`, `get_db_prep_save`), so keyed
    tokens and encrypted columns are real. Encrypted values are encrypted once per distinct
    plaintext and the ciphertext reused. Primary keys are reserved from the table's sequence
    first, so later rows can point at these.
    """

    def __init__(self):
        self.copy = connection.vendor == "postgresql"
        self._ciphertexts: dict[str, dict[str, str]] = defaultdict(dict)

    def insert(self, model, objects: list) -> None:
        if not objects:
            return
        if not self.copy:
            model.objects.bulk_create(objects, batch_size=1_000)
            return
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields]
        self._reserve_pks(model, objects)
        out = io.StringIO()
        write = out.write
        for obj in objects:
            values = []
            for field in fields:
                values.append(_copy_text(self._prep(field, obj)))
            write("\t".join(values))
            write("\n")
        out.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN", out
            )

    def _prep(self, field, obj):
        value = field.pre_save(obj, True)
        if isinstance(field, EncryptedTextField):
            plain = field._encode(value)
            if plain is None or plain == "":
                return plain
            cache = self._ciphertexts[field.column]
            token = cache.get(plain)
            if token is None:
                token = encrypt_text(plain)
                if len(cache) < CIPHERTEXT_CACHE:
                    cache[plain] = token
            return token
        return field.get_db_prep_save(value, connection)

    def _reserve_pks(self, model, objects: list) -> None:
        pk = model._meta.pk
        new = [obj for obj in objects if obj.pk is None]
        if not new:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, pk.column]
            )
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = cursor.fetchone()[0]
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + len(new) - 1])
        for number, obj in enumerate(new):
            setattr(obj, pk.attname, first + number)
            obj._state.adding = False
            obj._state.db = connection.alias


class Command(BaseCommand):
    help = (
        "Seed N incidents (default 100,000) and print p50/p95 of the desk pages through the "
        "full middleware stack. Only for a throwaway database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=100_000)
        parser.add_argument(
            "--organisations", type=int, default=380, help="Organisations in all (about)."
        )
        parser.add_argument("--desks", type=int, default=25, help="Desks in all.")
        parser.add_argument(
            "--closed-share", type=float, default=0.9, help="Share of closed incidents."
        )
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per page.")
        parser.add_argument(
            "--chunk", type=int, default=CHUNK, help="Incidents per transaction while seeding."
        )
        parser.add_argument("--reset", action="store_true", help="Delete the bench data first.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed of the data.")
        parser.add_argument("--throwaway-database", action="store_true")

    def handle(self, *args, **options):
        require_throwaway_database(options)
        demo_accounts_ensure()
        self.verbosity = options["verbosity"]
        self.rng = random.Random(options["seed"])  # noqa: S311 (fake data, not security)
        self.closed_share = options["closed_share"]
        self.chunk = options["chunk"]
        self.rows = RowWriter()
        self.small_volume_queries: dict[tuple[str, str], tuple[str, int]] = {}
        wanted = options["incidents"]
        if options["reset"]:
            self._reset()
        present = self._bench_incidents().count()
        if present >= wanted:
            self.stdout.write(f"Seeding skipped: {present:,} benchmark incidents are present.")
        else:
            started = time.monotonic()
            self._seed(
                wanted - present,
                organisations=options["organisations"],
                desks=options["desks"],
            )
            self.stdout.write(
                f"Seeded {wanted - present:,} incidents in {time.monotonic() - started:.1f} s "
                f"({'COPY' if self.rows.copy else 'bulk_create'})."
            )
        self._vacuum()
        self._report_rows()
        self._measure(max(options["requests"], 1))

    # --- Data ---------------------------------------------------------------------------------

    def _vacuum(self) -> None:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # What autovacuum does after a bulk load: statistics, and the visibility map that
            # index-only scans need.
            started = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            self.stdout.write(f"VACUUM ANALYZE in {time.monotonic() - started:.1f} s.")

    def _bench_incidents(self):
        return Incident.objects.filter(officeholder__username__startswith=BENCH_USERNAME_PREFIX)

    def _reset(self) -> None:
        ids = list(self._bench_incidents().values_list("pk", flat=True))
        for start in range(0, len(ids), 2_000):
            with transaction.atomic():
                Incident.objects.filter(pk__in=ids[start : start + 2_000]).delete()
        self.stdout.write(f"Deleted {len(ids):,} benchmark incidents.")

    def _officeholders(self, organisations, per_organisation: int) -> dict[int, list[User]]:
        """Benchmark officeholders per organisation (unusable passwords), created once."""
        existing = defaultdict(list)
        for user in User.objects.filter(
            username__startswith=BENCH_USERNAME_PREFIX, role=Role.OFFICEHOLDER
        ):
            existing[user.organisation_id].append(user)
        new = []
        for organisation in organisations:
            for number in range(len(existing[organisation.pk]), per_organisation):
                new.append(
                    User(
                        username=f"{BENCH_USERNAME_PREFIX}{organisation.code.lower()}.{number}",
                        first_name=self.rng.choice(FIRST_NAMES),
                        last_name=self.rng.choice(LAST_NAMES),
                        role=Role.OFFICEHOLDER,
                        function=self.rng.choice(FUNCTIONS[organisation.type]),
                        organisation=organisation,
                        password="!bench-unusable",  # noqa: S106 (no password can match it)
                    )
                )
        for user in User.objects.bulk_create(new, batch_size=1_000):
            existing[user.organisation_id].append(user)
        return existing

    def _shared_evidence(self) -> tuple[str, int, str]:
        """One small stored screenshot that every benchmark evidence record points at."""
        out = io.BytesIO()
        Image.new("RGB", (64, 48), (29, 78, 137)).save(out, format="PNG")
        content = out.getvalue()
        if not private_storage.exists(SHARED_EVIDENCE_NAME):
            private_storage.save(SHARED_EVIDENCE_NAME, ContentFile(content))
        return SHARED_EVIDENCE_NAME, len(content), hashlib.sha256(content).hexdigest()

    def _desks_and_organisations(self, *, organisations: int, desks: int) -> list[Organisation]:
        """The demo desks and organisations plus benchmark ones up to `desks` desks (each with
        two registrars) and about `organisations` organisations, dealt out over every desk so
        that each desk serves about as many. Created once."""
        all_desks = list(Desk.objects.order_by("pk"))
        for number in range(len(all_desks) + 1, desks + 1):
            desk, _ = Desk.objects.get_or_create(
                name=f"{BENCH_DESK_PREFIX}{number:02d}",
                defaults={"email": f"meldpunt{number}@bench.example"},
            )
            all_desks.append(desk)
            for registrar in (1, 2):
                User.objects.get_or_create(
                    username=f"{BENCH_USERNAME_PREFIX}registrar.{number:02d}.{registrar}",
                    defaults={
                        "first_name": self.rng.choice(FIRST_NAMES),
                        "last_name": self.rng.choice(LAST_NAMES),
                        "role": Role.REGISTRAR,
                        "desk": desk,
                        "password": "!bench-unusable",  # no password can match it
                    },
                )
        existing = Organisation.objects.count()
        new = [
            Organisation(
                name=f"Benchmarkgemeente {number:03d}",
                type=OrganisationType.GEMEENTE,
                code=f"{BENCH_ORGANISATION_PREFIX}{number:04d}",
                desk=all_desks[number % len(all_desks)],
            )
            for number in range(existing + 1, organisations + 1)
        ]
        Organisation.objects.bulk_create(new, batch_size=1_000)
        return list(
            Organisation.objects.filter(desk__isnull=False, ended_on__isnull=True)
            .select_related("desk")
            .order_by("pk")
        )

    def _seed(self, count: int, *, organisations: int, desks: int) -> None:
        rng = self.rng
        now = timezone.now()
        organisations = self._desks_and_organisations(organisations=organisations, desks=desks)
        if not organisations:
            raise CommandError("The demo organisations are missing.")
        officeholders = self._officeholders(
            organisations, max(3, count // (100 * len(organisations)))
        )
        registrars = defaultdict(list)
        for user in User.objects.filter(role=Role.REGISTRAR, is_active=True):
            registrars[user.desk_id].append(user)
        support = list(User.objects.filter(role=Role.SUPPORT, is_active=True))
        handles = [f"boos_account_{number}" for number in range(max(50, count // 30))]
        evidence_file = self._shared_evidence()
        # Oldest first, so that reference numbers rise with the submission time.
        moments = sorted(
            now - timedelta(days=MAX_AGE_DAYS * rng.random() ** 1.6) for _ in range(count)
        )
        numbers = dict(ReferenceSequence.objects.values_list("year", "last_number"))
        started = time.monotonic()
        chunk = self.chunk
        for start in range(0, count, chunk):
            with transaction.atomic():
                self._seed_chunk(
                    moments[start : start + chunk],
                    now=now,
                    organisations=organisations,
                    officeholders=officeholders,
                    registrars=registrars,
                    support=support,
                    handles=handles,
                    evidence_file=evidence_file,
                    numbers=numbers,
                )
                for year, last in numbers.items():
                    ReferenceSequence.objects.update_or_create(
                        year=year, defaults={"last_number": last}
                    )
            done = min(start + chunk, count)
            if start == 0 and done < count:
                # The query counts at a small volume, to compare with those at the end.
                self._vacuum()
                self.small_volume = done
                self._measure(0)
                started = time.monotonic()
                done_before = done
            elif start == 0:
                done_before = 0
            if done == count or (done // chunk) % 20 == 0:
                rate = (done - done_before) / max(time.monotonic() - started, 0.001)
                self.stdout.write(f"  {done:,} / {count:,} ({rate:,.0f} incidents/s)")

    def _status_for(self, age: timedelta) -> Status:
        """Reports of the last two days are open; of the rest, `closed_share` is closed and
        the others are open (a backlog) or withdrawn (NOT_CLOSED)."""
        rng = self.rng
        if age < timedelta(days=2):
            table = ((Status.SUBMITTED, 55), (Status.IN_TRIAGE, 35), (Status.ESCALATED, 10))
            statuses, weights = zip(*table, strict=True)
            return rng.choices(statuses, weights=weights)[0]
        if rng.random() < self.closed_share:
            return Status.CLOSED
        statuses, weights = zip(*NOT_CLOSED, strict=True)
        return rng.choices(statuses, weights=weights)[0]

    def _seed_chunk(
        self,
        moments: Sequence[datetime],
        *,
        now,
        organisations,
        officeholders,
        registrars,
        support,
        handles,
        evidence_file,
        numbers,
    ) -> None:
        rng = self.rng

        def later(moment: datetime, most: timedelta) -> datetime:
            return min(moment + most * rng.random(), now - timedelta(seconds=1))

        incidents, plans = [], []
        for submitted_at in moments:
            organisation = rng.choice(organisations)
            officeholder = rng.choice(officeholders[organisation.pk])
            status = self._status_for(now - submitted_at)
            severity = rng.choices(list(ReporterSeverity), weights=(30, 35, 25, 10))[0]
            year = timezone.localtime(submitted_at).year
            numbers[year] = numbers.get(year, 0) + 1
            desk_registrars = registrars.get(organisation.desk_id, [])
            handled = status != Status.SUBMITTED and status != Status.WITHDRAWN
            triaged = handled and rng.random() < (0.7 if status == Status.IN_TRIAGE else 0.95)
            taken_at = later(submitted_at, timedelta(hours=20))
            closed_at = later(taken_at, timedelta(days=20)) if status == Status.CLOSED else None
            incident = Incident(
                reference=f"MWB-{year}-{numbers[year]:06d}",
                status=status,
                version=1 + (2 if handled else 0) + (1 if status == Status.CLOSED else 0),
                officeholder=officeholder,
                officeholder_function=officeholder.function,
                officeholder_gender=officeholder.gender,
                organisation=organisation,
                organisation_type=organisation.type,
                desk_id=organisation.desk_id,
                filed_by=officeholder,
                is_quick=rng.random() < 0.15,
                types=rng.sample(list(IncidentType.values), k=rng.choice((1, 1, 2))),
                occurred_on=timezone.localtime(submitted_at).date(),
                summary=rng.choice(SUMMARIES),
                description=DESCRIPTION,
                channel=rng.choice(list(Channel.values)),
                reporter_severity=severity,
                assignee=rng.choice(desk_registrars) if handled and desk_registrars else None,
                triage_severity=rng.choice(list(TriageSeverity.values)) if triaged else "",
                triaged_at=taken_at if triaged else None,
                triage_due_at=deadlines.triage_due_at(
                    submitted_at=submitted_at,
                    serious=severity in SERIOUS_SEVERITIES,
                    time_zone=organisation.time_zone,
                ),
                outcome_category="registered" if closed_at else "",
                outcome="Geregistreerd en besproken met de ambtsdrager." if closed_at else "",
                submitted_at=submitted_at,
                updated_at=closed_at or (taken_at if handled else submitted_at),
                closed_at=closed_at,
            )
            incident.urgency_rank = urgency_rank(incident)
            incidents.append(incident)
            plans.append(
                {
                    "taken_at": taken_at,
                    "messages": rng.choice((0, 0, 0, 1, 2, 3)) if handled else 0,
                    "note": handled and rng.random() < 0.2,
                    "evidence": rng.random() < 0.2,
                    "handle": rng.choice(handles) if rng.random() < 0.1 else None,
                    "escalated": status == Status.ESCALATED
                    or (status == Status.CLOSED and rng.random() < 0.05),
                }
            )
        self.rows.insert(Incident, incidents)

        messages, notes, evidence, identifiers, escalations = [], [], [], [], []
        for incident, plan in zip(incidents, plans, strict=True):
            plan["message_rows"] = []
            for number in range(plan["messages"]):
                from_desk = number % 2 == 0
                author = incident.assignee if from_desk else incident.officeholder
                message = Message(
                    incident=incident,
                    author=author,
                    author_role=Role.REGISTRAR if from_desk and author else Role.OFFICEHOLDER,
                    audience=MessageAudience.OFFICEHOLDER_THREAD,
                    body=rng.choice(MESSAGE_BODIES),
                    created_at=later(plan["taken_at"], timedelta(days=3)),
                )
                messages.append(message)
                plan["message_rows"].append(message)
            if plan["note"]:
                plan["note_row"] = Note(
                    incident=incident,
                    author=incident.assignee,
                    body="Interne notitie: navragen bij de politie.",
                    created_at=later(plan["taken_at"], timedelta(days=1)),
                )
                notes.append(plan["note_row"])
            if plan["evidence"]:
                name, size, sha256 = evidence_file
                evidence.append(
                    Evidence(
                        incident=incident,
                        uploaded_by=incident.officeholder,
                        file=name,
                        original_name="schermafbeelding.png",
                        kind=EvidenceKind.IMAGE,
                        content_type="image/png",
                        size=size,
                        sha256=sha256,
                        uploaded_at=incident.submitted_at,
                    )
                )
            if plan["handle"]:
                identifiers.append(
                    PerpetratorIdentifier(
                        incident=incident,
                        kind=IdentifierKind.HANDLE,
                        value=f"@{plan['handle']}",
                        normalised=identifier_hash(plan["handle"]),
                    )
                )
            if plan["escalated"]:
                plan["escalation_row"] = Escalation(
                    incident=incident,
                    rules=["physical_violence"],
                    created_at=plan["taken_at"],
                    closed_at=incident.closed_at,
                )
                escalations.append(plan["escalation_row"])
        for model, rows in (
            (Message, messages),
            (Note, notes),
            (Evidence, evidence),
            (PerpetratorIdentifier, identifiers),
            (Escalation, escalations),
        ):
            self.rows.insert(model, rows)
        self.rows.insert(
            SupportCase, [self._case_for(escalation, support) for escalation in escalations]
        )

        events = []
        for incident, plan in zip(incidents, plans, strict=True):
            events.extend(self._events_for(incident, plan))
        self.rows.insert(Event, events)

    def _case_for(self, escalation: Escalation, support: list[User]) -> SupportCase:
        """The support team's case of an escalation: open while the incident is escalated."""
        rng = self.rng
        if escalation.closed_at:
            status = CaseStatus.CLOSED
        else:
            status = rng.choices(
                (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS),
                weights=(30, 30, 40),
            )[0]
        acknowledged = status != CaseStatus.NEW
        return SupportCase(
            escalation=escalation,
            incident=escalation.incident,
            status=status,
            handler=rng.choice(support) if acknowledged and support else None,
            created_at=escalation.created_at,
            acknowledge_due_at=escalation.created_at + timedelta(days=1),
            acknowledged_at=escalation.created_at + timedelta(hours=3) if acknowledged else None,
            closed_at=escalation.closed_at,
            outcome="Besproken met de ambtsdrager; geen verdere actie."
            if escalation.closed_at
            else "",
        )

    def _events_for(self, incident: Incident, plan: dict) -> list[Event]:
        """The timeline a real desk leaves, in the shape the services record it."""
        registrar = incident.assignee
        taken_at = plan["taken_at"]

        def event(kind, at, actor, payload=None, officeholder_sees=True):
            return Event(
                incident=incident,
                kind=kind,
                actor=actor,
                actor_role=actor.role if actor else "system",
                created_at=at,
                payload=payload or {},
                visible_to_officeholder=officeholder_sees,
            )

        events = [
            event(
                EventKind.SUBMITTED,
                incident.submitted_at,
                incident.officeholder,
                {"quick": incident.is_quick, "evidence": int(plan["evidence"])},
            )
        ]
        status = incident.status
        if status == Status.WITHDRAWN:
            events.append(
                event(
                    EventKind.STATUS_CHANGED,
                    taken_at,
                    incident.officeholder,
                    {"from": Status.SUBMITTED, "to": Status.WITHDRAWN, "reason": ""},
                )
            )
            return events
        if status == Status.SUBMITTED:
            return events
        events.append(event(EventKind.VIEWED_BY_DESK, taken_at, registrar))
        if plan["escalated"]:
            escalation = plan["escalation_row"]
            events.append(
                event(
                    EventKind.STATUS_CHANGED,
                    taken_at,
                    None,
                    {"from": Status.SUBMITTED, "to": Status.ESCALATED, "reason": ""},
                )
            )
            events.append(
                event(
                    EventKind.ESCALATED,
                    taken_at,
                    None,
                    {"escalation_id": escalation.pk, "rules": escalation.rules, "reason": ""},
                )
            )
        else:
            events.append(
                event(
                    EventKind.STATUS_CHANGED,
                    taken_at,
                    registrar,
                    {"from": Status.SUBMITTED, "to": Status.IN_TRIAGE, "reason": ""},
                )
            )
        if incident.triage_severity:
            events.append(
                event(
                    EventKind.TRIAGED,
                    taken_at,
                    registrar,
                    {"after": {"triage_severity": incident.triage_severity}},
                    officeholder_sees=False,
                )
            )
        for message in plan["message_rows"]:
            events.append(
                event(
                    EventKind.MESSAGE,
                    message.created_at,
                    message.author,
                    {"message_id": message.pk, "audience": message.audience},
                )
            )
        if "note_row" in plan:
            note = plan["note_row"]
            events.append(
                event(
                    EventKind.NOTE,
                    note.created_at,
                    note.author,
                    {"note_id": note.pk},
                    officeholder_sees=False,
                )
            )
        if incident.closed_at:
            events.append(
                event(
                    EventKind.STATUS_CHANGED,
                    incident.closed_at,
                    registrar,
                    {
                        "from": Status.ESCALATED if plan["escalated"] else Status.IN_TRIAGE,
                        "to": Status.CLOSED,
                        "outcome": incident.outcome,
                    },
                )
            )
        return events

    def _report_rows(self) -> None:
        self.stdout.write(f"Database: {database_description()}")
        incidents = Incident.objects.count()
        counts = {
            "incidents": incidents,
            "events": Event.objects.count(),
            "messages": Message.objects.count(),
            "evidence": Evidence.objects.count(),
            "notes": Note.objects.count(),
            "support cases": SupportCase.objects.count(),
        }
        self.stdout.write("Rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        closed = Incident.objects.filter(status=Status.CLOSED).count()
        self.stdout.write(
            f"Organisations {Organisation.objects.count():,}, desks {Desk.objects.count():,}; "
            f"closed {closed / max(incidents, 1):.0%} of the incidents."
        )

    # --- Measurements -------------------------------------------------------------------------

    def _measure(self, requests: int) -> None:
        """Time every page `requests` times; with 0, only count each page's queries once (at
        a small volume, to compare with the counts at the end)."""
        # Every forced login is logged by django-axes, and every request by the access log:
        # that is not what is measured here (it would bury the figures).
        quieted = {name: logging.getLogger(name) for name in ("axes", "portal.access")}
        levels = {name: logger.level for name, logger in quieted.items()}
        for logger in quieted.values():
            logger.setLevel(logging.WARNING)
        try:
            self._measure_quietly(requests)
        finally:
            for name, logger in quieted.items():
                logger.setLevel(levels[name])

    def _measure_quietly(self, requests: int) -> None:
        counting = requests == 0
        if not counting:
            self.stdout.write(f"Load average before measuring: {self._load()}")
            small = getattr(self, "small_volume", None)
            self.stdout.write(
                f"{'page':<44} {'user':<20} {'p50 ms':>7} {'p95 ms':>7} {'cpu ms':>7} "
                f"{'sql ms':>7} {'queries':>7} "
                f"{'at ' + format(small, ',') if small else 'small':>9}  target"
            )
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            for username in REGISTRARS:
                user = User.objects.get(username=username)
                self._measure_pages(user, self._desk_pages(user, requests), requests)
            support = User.objects.get(username=SUPPORT_USERNAME)
            self._measure_pages(support, self._support_pages(requests), requests)
        if counting:
            self.stdout.write(f"Counted the queries of every page at {self.small_volume:,}.")
            return
        self.stdout.write(f"Load average after measuring: {self._load()}")
        self.stdout.write(
            "p50/p95: wall-clock time per request (server side, through every middleware); cpu: "
            "median CPU time of this process per request, which other load on the machine "
            "hardly changes; sql: time in the database of one request (its slowest query with "
            "-v 2); queries: per request now, and after the first chunk of seeding "
            "('-' when nothing was seeded in this run). Targets (issues 4 and 18) apply on "
            "PostgreSQL at 1,000,000 incidents on a quiet 2-core machine."
        )

    def _load(self) -> str:
        try:
            return ", ".join(f"{value:.1f}" for value in os.getloadavg())
        except OSError:
            return "unknown"

    def _desk_pages(self, user: User, requests: int) -> list[tuple[str, Callable, tuple]]:
        visible = Incident.objects.filter(desk_id=user.desk_id)
        if requests:
            self.stdout.write(f"{user.username} sees {visible.count():,} incidents")
        sample = list(
            visible.order_by("?")
            .select_related("officeholder")
            .only("reference", "officeholder__last_name")[: requests + 5]
        )
        if not sample:
            raise CommandError(f"{user.username} has no incidents to open.")
        handles = list(
            PerpetratorIdentifier.objects.filter(incident__desk_id=user.desk_id).values_list(
                "value", flat=True
            )[:50]
        ) or ["@boos_account_0"]
        view, _ = SavedQueueView.objects.get_or_create(
            owner=user, name=SAVED_VIEW_NAME, defaults={"query": SAVED_VIEW_QUERY}
        )
        queue = reverse("desk:queue")

        def one(n):
            return sample[n % len(sample)]

        queue_target = (TARGET_QUEUE_MS, TARGET_CPU_MS)
        return [
            ("queue, first page", lambda n: queue, queue_target),
            (
                "queue, filtered (submitted + overdue)",
                lambda n: f"{queue}?status=submitted&overdue=on",
                queue_target,
            ),
            ("queue, saved view (mine, newest)", lambda n: f"{queue}?{view.query}", queue_target),
            (
                "queue, search: reference number",
                lambda n: f"{queue}?q={int(one(n).reference.rsplit('-', 1)[1])}",
                queue_target,
            ),
            (
                "queue, search: officeholder name",
                lambda n: f"{queue}?q={one(n).officeholder.last_name.split()[-1]}",
                queue_target,
            ),
            (
                "queue, search: perpetrator account",
                lambda n: f"{queue}?q={handles[n % len(handles)]}",
                queue_target,
            ),
            (
                "incident detail (a different one each)",
                lambda n: reverse("desk:detail", kwargs={"reference": one(n).reference}),
                (TARGET_DETAIL_MS, TARGET_CPU_MS),
            ),
            ("desk overview", lambda n: reverse("desk:overview"), (TARGET_OVERVIEW_MS, None)),
        ]

    def _support_pages(self, requests: int) -> list[tuple[str, Callable, tuple]]:
        cases = list(
            SupportCase.objects.order_by("?").values_list("incident__reference", flat=True)[
                : requests + 5
            ]
        )
        if requests:
            self.stdout.write(f"{SUPPORT_USERNAME} sees {SupportCase.objects.count():,} cases")
        pages = [("support inbox", lambda n: reverse("support:inbox"), (TARGET_QUEUE_MS, None))]
        if cases:
            pages.append(
                (
                    "support case page (a different one each)",
                    lambda n: reverse("support:case", args=[cases[n % len(cases)]]),
                    (TARGET_DETAIL_MS, None),
                )
            )
        return pages

    def _measure_pages(self, user: User, pages, requests: int) -> None:
        client = verified_client(user)
        for label, url_for, (target_ms, target_cpu_ms) in pages:
            # The queries are counted on the same address at both volumes (the one counted at
            # the small volume, if there was one), so that the two counts compare; it is
            # visited once before (an incident's first visit by the desk writes an event).
            earlier = self.small_volume_queries.get((label, user.username))
            counted_url = earlier[0] if earlier else url_for(requests + 3)
            warm_up = [counted_url] + [url_for(requests + n) for n in range(requests and 2)]
            for url in warm_up:  # and caches, the first compilation
                self._get(client, url)
            with CaptureQueriesContext(connection) as queries:
                self._get(client, counted_url)
            # Counted now: the next request clears the connection's query log.
            query_count = len(queries)
            # Where the time goes: the database's share, and the slowest query.
            query_times = [float(query["time"]) * 1000 for query in queries.captured_queries]
            slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
            if requests == 0:
                self.small_volume_queries[(label, user.username)] = (counted_url, query_count)
                continue
            timings, cpu = [], []
            for number in range(requests):
                url = url_for(number)
                started, started_cpu = time.perf_counter(), time.process_time()
                self._get(client, url)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            p50, p95 = percentile(timings, 0.50), percentile(timings, 0.95)
            cpu_ms = percentile(cpu, 0.50)
            verdicts = [f"p95 < {target_ms} ms: {'ok' if p95 < target_ms else 'SLOWER'}"]
            if target_cpu_ms:
                verdicts.append(
                    f"cpu < {target_cpu_ms} ms: {'ok' if cpu_ms < target_cpu_ms else 'SLOWER'}"
                )
            self.stdout.write(
                f"{label:<44} {user.username:<20} {p50:7.1f} {p95:7.1f} {cpu_ms:7.1f} "
                f"{sum(query_times):7.1f} {query_count:7d} "
                f"{'-' if earlier is None else earlier[1]:>9}  " + ", ".join(verdicts)
            )
            if self.verbosity > 1 and slowest is not None:
                self.stdout.write(
                    f"    slowest query {float(slowest['time']) * 1000:.1f} ms: "
                    f"{slowest['sql'][:300]}"
                )

    def _get(self, client: Client, url: str) -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}.")
