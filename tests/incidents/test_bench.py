"""`make bench`'s two commands on a tiny volume: they run and print their figures.

They are benchmarks, so nothing here asserts a timing; the tests check that the commands seed
what they promise, measure every page, and report in the expected shape.
"""

import io
import re

import pytest
import redis
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from devtools.management.commands.bench_desk import (
    BENCH_USERNAME_PREFIX,
    REGISTRARS,
    SUMMARIES,
)
from incidents.actions import urgency_rank
from incidents.constants import Status
from incidents.identifiers import identifier_normalise
from incidents.models import (
    Event,
    Evidence,
    Incident,
    Message,
    PerpetratorIdentifier,
    ReferenceSequence,
)
from portal.celery import app as celery_app
from portal.crypto import identifier_hash, is_fernet_token
from portal.models import Desk, Organisation
from support.models import SupportCase
from tests.celery_worker import _reset_celery_pools, redis_url_for_this_process

PAGES = (
    "queue, first page",
    "queue, filtered (submitted + overdue)",
    "queue, saved view (mine, newest)",
    "queue, search: reference number",
    "queue, search: officeholder name",
    "queue, search: perpetrator account",
    "incident detail (a different one each)",
    "desk overview",
)
SUPPORT_PAGES = ("support inbox", "support case page (a different one each)")
# p50, p95, cpu, sql, queries now, queries after the first chunk ("-" when not seeded), targets.
FIGURES = re.compile(
    r"\s+(\d+\.\d) +(\d+\.\d) +(\d+\.\d) +\d+\.\d +(\d+) +(\d+|-)  p95 < (50|150) ms: (ok|SLOWER)"
    r"(, cpu < 15 ms: (ok|SLOWER))?$"
)


@pytest.fixture
def quick_accounts(settings):
    """The commands create the demo accounts when missing; a fast hasher keeps that quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bench_desk(*args) -> str:
    out = io.StringIO()
    call_command("bench_desk", "--throwaway-database", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.usefixtures("quick_accounts", "private_storage_in_tmp")
def test_bench_desk_seeds_and_prints_p50_p95_per_page_and_registrar():
    """200 incidents with events, messages, evidence and support cases over 380 organisations
    and 25 desks; both registrars and the support team get every page, each line with p50,
    p95, CPU, the query count now and after the first chunk, and the targets."""
    # Mostly open incidents, so that every queue has rows at 100 already.
    output = bench_desk(
        "--incidents", "200", "--requests", "5", "--chunk", "100", "--closed-share", "0.3"
    )

    assert "Seeded 200 incidents" in output
    assert "Counted the queries of every page at 100." in output
    assert re.search(r"^Database: (postgresql|sqlite) \d", output, re.MULTILINE)
    rows = re.search(
        r"^Rows: incidents ([\d,]+), events ([\d,]+), messages ([\d,]+), "
        r"evidence ([\d,]+)",
        output,
        re.MULTILINE,
    )
    assert rows and rows.group(1) == "200"
    assert Incident.objects.filter(officeholder__username__startswith=BENCH_USERNAME_PREFIX)
    assert Event.objects.count() > 400
    assert Message.objects.exists() and Evidence.objects.exists()
    assert {Status.SUBMITTED, Status.IN_TRIAGE, Status.CLOSED} <= set(
        Incident.objects.values_list("status", flat=True)
    )
    assert Organisation.objects.count() == 380 and Desk.objects.count() == 25
    assert re.search(r"^Organisations 380, desks 25; closed \d+% of the incidents", output, re.M)
    assert SupportCase.objects.exists()
    lines = {}
    for username, pages in [(r, PAGES) for r in REGISTRARS] + [("ondersteuning", SUPPORT_PAGES)]:
        assert f"{username} sees " in output
        for page in pages:
            line = next(
                (ln for ln in output.splitlines() if ln.startswith(page) and username in ln),
                None,
            )
            assert line is not None, f"no figures for {page} as {username}:\n{output}"
            assert FIGURES.search(line), line
            lines[page, username] = FIGURES.search(line)
    # The queue's query count does not grow with the data: the same at 100 and 200.
    for registrar in REGISTRARS:
        figures = lines["queue, first page", registrar]
        assert figures.group(4) == figures.group(5), figures.group(0)
    assert "Targets (issues 4 and 18) apply on PostgreSQL at 1,000,000 incidents" in output
    assert re.search(r"^Load average before measuring: ", output, re.MULTILINE)


@pytest.mark.django_db
@pytest.mark.usefixtures("quick_accounts", "private_storage_in_tmp")
def test_bench_desk_writes_real_ciphertext_urgency_ranks_and_keyed_identifiers():
    """The rows COPY writes read back through the models: encrypted columns hold Fernet
    tokens of the project's key, the urgency rank is the one `Incident.save` would store, and
    perpetrator identifiers carry their keyed hash, so the queue's search finds them."""
    bench_desk("--incidents", "150", "--requests", "1", "--closed-share", "0.5")

    with connection.cursor() as cursor:
        cursor.execute("SELECT summary, description FROM incidents_incident LIMIT 5")
        raw = cursor.fetchall()
    assert raw and all(is_fernet_token(summary) and is_fernet_token(text) for summary, text in raw)
    incidents = list(Incident.objects.all())
    assert all(incident.summary in SUMMARIES for incident in incidents)
    assert all(incident.urgency_rank == urgency_rank(incident) for incident in incidents)
    assert {1, 2, 3} >= {incident.urgency_rank for incident in incidents}
    assert all(incident.triage_due_at for incident in incidents)
    identifier = PerpetratorIdentifier.objects.first()
    assert identifier is not None
    assert identifier.normalised == identifier_hash(
        identifier_normalise(kind=identifier.kind, value=identifier.value)
    )
    closed = sum(incident.status == Status.CLOSED for incident in incidents) / len(incidents)
    assert 0.3 < closed < 0.7


@pytest.mark.django_db
@pytest.mark.usefixtures("quick_accounts", "private_storage_in_tmp")
def test_bench_desk_is_rerunnable_and_keeps_references_unique():
    """A second run finds the volume and seeds nothing; `--reset` replaces it. The reference
    sequence moves past the benchmark's numbers, so a real filing afterwards gets a new one."""
    SMALL = ("--organisations", "10", "--desks", "3")  # so that both registrars get some
    bench_desk(*SMALL, "--incidents", "30", "--requests", "1")

    again = bench_desk(*SMALL, "--incidents", "30", "--requests", "1")
    assert "Seeding skipped: 30 benchmark incidents are present." in again

    reset = bench_desk(*SMALL, "--incidents", "30", "--requests", "1", "--reset")
    assert "Deleted 30 benchmark incidents." in reset
    assert "Seeded 30 incidents" in reset
    assert Incident.objects.count() == 30
    highest = max(
        int(r.rsplit("-", 1)[1]) for r in Incident.objects.values_list("reference", flat=True)
    )
    assert max(ReferenceSequence.objects.values_list("last_number", flat=True)) >= highest


def test_bench_commands_refuse_a_database_that_is_not_declared_throwaway(db):
    """Without --throwaway-database neither command writes anything."""
    for command in ("bench_desk", "bench_escalation"):
        with pytest.raises(CommandError, match="throwaway"):
            call_command(command, stdout=io.StringIO())
    assert not Incident.objects.exists()


@pytest.fixture
def redis_broker(transactional_db):
    """The test process publishes to the throwaway Redis and does not run tasks eagerly; the
    command under test starts its own worker against the same Redis and test database."""
    broker_url = redis_url_for_this_process()
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=5).flushdb()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {broker_url} does not answer: {error}")
    names = ("broker_url", "broker_transport_options", "task_always_eager", "task_eager_propagates")
    previous = {name: celery_app.conf[name] for name in names}
    celery_app.conf.update(
        broker_url=broker_url,
        broker_transport_options=django_settings.BROKER_REDIS_TRANSPORT_OPTIONS,
        task_always_eager=False,
        task_eager_propagates=False,
    )
    _reset_celery_pools()
    yield broker_url
    celery_app.conf.update(previous)
    _reset_celery_pools()


@pytest.mark.services
@pytest.mark.usefixtures("quick_accounts", "redis_broker")
def test_bench_escalation_prints_the_latency_and_checks_exactly_once():
    """With Redis and a real worker, each escalating report reaches the support inbox once;
    the command prints p50/p95 against the 1-second target and stops its worker."""
    out = io.StringIO()
    call_command(
        "bench_escalation",
        "--throwaway-database",
        "--reports",
        "5",
        "--warmup",
        "1",
        "--interval",
        "0.1",
        stdout=out,
    )
    output = out.getvalue()

    assert "Broker: redis, worker processes: 2" in output
    assert "Every one of the 5 reports has exactly one escalation and one support case." in output
    assert re.search(
        r"Submit \(committed\) to visible in the support inbox, 5 reports, one every 0\.10 s: "
        r"p50 \d+ ms, p95 \d+ ms, max \d+ ms \(target p95 < 1000 ms: (ok|SLOWER THAN TARGET)\)",
        output,
    ), output
    assert SupportCase.objects.count() == 6  # the warm-up report and the five measured ones


def test_bench_escalation_refuses_to_run_tasks_eagerly(db):
    """Eager tasks would measure nothing across processes: the command says so and stops."""
    assert celery_app.conf.task_always_eager  # the test suite's default
    with pytest.raises(CommandError, match="broker"):
        call_command("bench_escalation", "--throwaway-database", stdout=io.StringIO())


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("quick_accounts")
def test_bench_evidence_prints_time_and_peak_memory_per_upload_kind(
    monkeypatch, private_storage_in_tmp, tmp_path
):
    """A (small) photo and video go through a real gunicorn and the worker's processing; one
    line per kind with the web and worker time and peak memory, and a clean stored file."""
    # The web process publishes the processing task; here to nowhere, the run has done it.
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    out = io.StringIO()
    call_command(
        "bench_evidence",
        "--throwaway-database",
        "--photo-megapixels",
        "2",
        "--video-mb",
        "2",
        stdout=out,
    )
    output = out.getvalue()

    assert re.search(r"^Database: postgresql \d", output, re.MULTILINE), output
    figures = r"\s+[\d.]+\s+[\d.]+\s+\d+ → +\d+\s+(\d+|-)\s+[\d.]+\s+\d+ → +\d+\s+(\d+|-)\s+"
    assert re.search(r"^photo, 2 megapixels JPEG" + figures + r"ready, \S+, no EXIF$", output, re.M)
    assert re.search(r"^video, \d+ MB mp4" + figures + r"ready, no location, ", output, re.M)
    assert Evidence.objects.filter(processing="ready").count() == 2
    assert not any(private_storage_in_tmp.glob("uploads/*/*"))  # the uploads are gone


def test_bench_evidence_refuses_a_database_that_is_not_throwaway(db):
    """It writes a fake officeholder and incidents: only with --throwaway-database."""
    with pytest.raises(CommandError, match="throwaway"):
        call_command("bench_evidence", stdout=io.StringIO())


@pytest.mark.django_db
@pytest.mark.usefixtures("quick_accounts", "private_storage_in_tmp", "escalation_rules_off")
def test_bench_fact_conversion_converts_every_seeded_incident_and_prints_the_rate():
    """The conversion benchmark seeds plain rows, converts and counts all of them, and prints
    rows/s with the time for 1,000,000; without --throwaway-database it refuses."""
    with pytest.raises(CommandError, match="throwaway"):
        call_command("bench_fact_conversion", stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "bench_fact_conversion",
        "--throwaway-database",
        "--incidents",
        "40",
        "--batch-size",
        "7",
        stdout=out,
    )
    output = out.getvalue()
    assert "41 incidents to convert" in output, output
    assert re.search(
        r"converted 41 incidents in [\d.]+ s \(batches of 7\): [\d,]+ rows/s; "
        r"1,000,000 incidents would take [\d.]+ min",
        output,
    ), output
    assert not Incident.objects.filter(facts_counted=False).exists()
    assert all(i.types == ["threat", "doxing"] for i in Incident.objects.all())
