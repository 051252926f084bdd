"""`manage.py bench_desk`: the desk pages at volume. A benchmark that prints; it asserts nothing.

It seeds N incidents (default 100,000) over all demo organisations into the configured
database, with the rows a real desk accumulates: events, messages, internal notes, evidence
records (all pointing at one small stored file), perpetrator handles (some shared, so the
detail page has link suggestions) and escalations. Deadlines come from `incidents.deadlines`;
untriaged reports past their deadline are overdue, as in real life. Rows go in with
`bulk_create`, in chunks; seeding is skipped when the volume is already there (`--reset`
deletes the benchmark's incidents first).

Then it logs in as the registrars of Meldpunt IJsselland (three organisations) and Meldpunt
Utrecht with Django's test client (a session whose second factor is verified, as after the
code step), so every request runs through the full middleware stack,
and prints the server-side p50/p95 latency and the number of queries of: the queue's first
page, a filtered queue page, incident detail pages (a different incident each request; the
first visit also records "viewed by the desk") and the desk overview, next to the targets of
issue 4 (p95 under 50 ms for queue and detail, under 150 ms for the overview, on PostgreSQL at
100,000 incidents).

The command writes fake incidents and accounts: it only runs with `--throwaway-database`.
`make bench` runs it against a throwaway PostgreSQL.
"""

import hashlib
import io
import logging
import math
import os
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

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
    private_storage,
)
from portal.constants import OfficeholderFunction, OrganisationType, Role
from portal.crypto import identifier_hash
from portal.middleware import LAST_SEEN_SESSION_KEY
from portal.models import Organisation, TotpDevice, User
from portal.two_factor import TOTP_DEVICE_NAME, totp_device_get

BENCH_USERNAME_PREFIX = "bench."
CHUNK = 5_000
MAX_AGE_DAYS = 3 * 365
SHARED_EVIDENCE_NAME = "evidence/bench/shared-screenshot.png"

# Targets of issue 4 (p95, milliseconds, PostgreSQL at 100,000 incidents on 2 cores).
TARGET_QUEUE_MS = 50
TARGET_DETAIL_MS = 50
TARGET_OVERVIEW_MS = 150
REGISTRARS = ("meldpunt.ijsselland", "meldpunt.utrecht")

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
    OrganisationType.WATERSCHAP: (OfficeholderFunction.WATERSCHAPSBESTUURDER,),
    OrganisationType.OPENBAAR_LICHAAM: (OfficeholderFunction.EILANDSRAADSLID,),
}
# Share of the incidents per organisation code (the demo organisations).
ORGANISATION_WEIGHTS = {"GM0344": 35, "GM0193": 20, "PV23": 25, "WS0664": 10, "OL9003": 10}


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


class Command(BaseCommand):
    help = (
        "Seed N incidents (default 100,000) and print p50/p95 of the desk pages through the "
        "full middleware stack. Only for a throwaway database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per page.")
        parser.add_argument("--reset", action="store_true", help="Delete the bench data first.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed of the data.")
        parser.add_argument("--throwaway-database", action="store_true")

    def handle(self, *args, **options):
        require_throwaway_database(options)
        demo_accounts_ensure()
        self.rng = random.Random(options["seed"])  # noqa: S311 (fake data, not security)
        wanted = options["incidents"]
        if options["reset"]:
            self._reset()
        present = self._bench_incidents().count()
        if present >= wanted:
            self.stdout.write(f"Seeding skipped: {present:,} benchmark incidents are present.")
        else:
            started = time.monotonic()
            self._seed(wanted - present)
            self.stdout.write(
                f"Seeded {wanted - present:,} incidents in {time.monotonic() - started:.1f} s."
            )
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # What autovacuum does after a bulk load: statistics, and the visibility map that
            # index-only scans need.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        self._report_rows()
        self._measure(options["requests"])

    # --- Data ---------------------------------------------------------------------------------

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
        for user in User.objects.filter(username__startswith=BENCH_USERNAME_PREFIX):
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

    def _seed(self, count: int) -> None:
        rng = self.rng
        now = timezone.now()
        organisations = list(
            Organisation.objects.filter(code__in=ORGANISATION_WEIGHTS).select_related("desk")
        )
        if not organisations:
            raise CommandError("The demo organisations are missing.")
        weights = [ORGANISATION_WEIGHTS[o.code] for o in organisations]
        officeholders = self._officeholders(organisations, max(5, count // 2_000))
        registrars = defaultdict(list)
        for user in User.objects.filter(role=Role.REGISTRAR, is_active=True):
            registrars[user.desk_id].append(user)
        handles = [f"boos_account_{number}" for number in range(max(50, count // 30))]
        evidence_file = self._shared_evidence()
        # Oldest first, so that reference numbers rise with the submission time.
        moments = sorted(
            now - timedelta(days=MAX_AGE_DAYS * rng.random() ** 1.6) for _ in range(count)
        )
        numbers = dict(ReferenceSequence.objects.values_list("year", "last_number"))
        for start in range(0, count, CHUNK):
            with transaction.atomic():
                self._seed_chunk(
                    moments[start : start + CHUNK],
                    now=now,
                    organisations=organisations,
                    weights=weights,
                    officeholders=officeholders,
                    registrars=registrars,
                    handles=handles,
                    evidence_file=evidence_file,
                    numbers=numbers,
                )
                for year, last in numbers.items():
                    ReferenceSequence.objects.update_or_create(
                        year=year, defaults={"last_number": last}
                    )
            self.stdout.write(f"  {min(start + CHUNK, count):,} / {count:,}")

    def _status_for(self, age: timedelta) -> Status:
        """Recent reports are mostly open, older ones mostly closed; a few stay open long."""
        rng = self.rng
        if age < timedelta(days=2):
            table = ((Status.SUBMITTED, 55), (Status.IN_TRIAGE, 35), (Status.ESCALATED, 8))
        elif age < timedelta(days=30):
            table = (
                (Status.SUBMITTED, 5),
                (Status.IN_TRIAGE, 25),
                (Status.ESCALATED, 10),
                (Status.CLOSED, 55),
            )
        elif age < timedelta(days=90):
            table = (
                (Status.SUBMITTED, 1),
                (Status.IN_TRIAGE, 4),
                (Status.ESCALATED, 5),
                (Status.CLOSED, 85),
            )
        else:
            table = (
                (Status.SUBMITTED, 0.1),
                (Status.IN_TRIAGE, 0.4),
                (Status.ESCALATED, 0.5),
                (Status.CLOSED, 95),
            )
        rows = (*table, (Status.WITHDRAWN, 100 - sum(weight for _, weight in table)))
        statuses, weights = zip(*rows, strict=True)
        return rng.choices(statuses, weights=weights)[0]

    def _seed_chunk(
        self,
        moments: Sequence[datetime],
        *,
        now,
        organisations,
        weights,
        officeholders,
        registrars,
        handles,
        evidence_file,
        numbers,
    ) -> None:
        rng = self.rng

        def later(moment: datetime, most: timedelta) -> datetime:
            return min(moment + most * rng.random(), now - timedelta(seconds=1))

        incidents, plans = [], []
        for submitted_at in moments:
            organisation = rng.choices(organisations, weights=weights)[0]
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
                organisation=organisation,
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
        Incident.objects.bulk_create(incidents, batch_size=1_000)

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
            model.objects.bulk_create(rows, batch_size=2_000)

        events = []
        for incident, plan in zip(incidents, plans, strict=True):
            events.extend(self._events_for(incident, plan))
        Event.objects.bulk_create(events, batch_size=2_000)

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
        counts = {
            "incidents": Incident.objects.count(),
            "events": Event.objects.count(),
            "messages": Message.objects.count(),
            "evidence": Evidence.objects.count(),
            "notes": Note.objects.count(),
        }
        self.stdout.write("Rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    # --- Measurements -------------------------------------------------------------------------

    def _measure(self, requests: int) -> None:
        # Every forced login is logged by django-axes; that is not what is measured here.
        logging.getLogger("axes").setLevel(logging.WARNING)
        self.stdout.write(f"Load average before measuring: {self._load()}")
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            self.stdout.write(
                f"{'page':<40} {'user':<20} {'p50 ms':>7} {'p95 ms':>7} {'cpu ms':>7} "
                f"{'queries':>7}  target"
            )
            for username in REGISTRARS:
                self._measure_registrar(User.objects.get(username=username), requests)
        self.stdout.write(f"Load average after measuring: {self._load()}")
        self.stdout.write(
            "p50/p95: wall-clock time per request (server side, through every middleware); cpu: "
            "median CPU time of this process per request, which other load on the machine "
            "hardly changes. Targets (issue 4) apply on PostgreSQL at 100,000 incidents on 2 "
            "cores."
        )

    def _load(self) -> str:
        try:
            return ", ".join(f"{value:.1f}" for value in os.getloadavg())
        except OSError:
            return "unknown"

    def _measure_registrar(self, user: User, requests: int) -> None:
        client = verified_client(user)
        visible = Incident.objects.filter(desk_id=user.desk_id)
        self.stdout.write(f"{user.username} sees {visible.count():,} incidents")
        sample = list(visible.order_by("?").values_list("reference", flat=True)[: requests + 5])
        if not sample:
            raise CommandError(f"{user.username} has no incidents to open.")
        queue = reverse("desk:queue")
        pages: list[tuple[str, Callable[[int], str], int]] = [
            ("queue, first page", lambda n: queue, TARGET_QUEUE_MS),
            (
                "queue, filtered (submitted + overdue)",
                lambda n: f"{queue}?status=submitted&overdue=on",
                TARGET_QUEUE_MS,
            ),
            (
                "incident detail (a different one each)",
                lambda n: reverse("desk:detail", kwargs={"reference": sample[n % len(sample)]}),
                TARGET_DETAIL_MS,
            ),
            ("desk overview", lambda n: reverse("desk:overview"), TARGET_OVERVIEW_MS),
        ]
        for label, url_for, target in pages:
            for number in range(3):  # warm up: connection, caches, first compilation
                self._get(client, url_for(requests + number))
            with CaptureQueriesContext(connection) as queries:
                self._get(client, url_for(requests + 3))
            # Counted now: the next request clears the connection's query log.
            query_count = len(queries)
            timings, cpu = [], []
            for number in range(requests):
                url = url_for(number)
                started, started_cpu = time.perf_counter(), time.process_time()
                self._get(client, url)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            p50, p95 = percentile(timings, 0.50), percentile(timings, 0.95)
            verdict = "ok" if p95 < target else "SLOWER THAN TARGET"
            self.stdout.write(
                f"{label:<40} {user.username:<20} {p50:7.1f} {p95:7.1f} "
                f"{percentile(cpu, 0.50):7.1f} {query_count:7d}  p95 < {target} ms: {verdict}"
            )

    def _get(self, client: Client, url: str) -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}.")
