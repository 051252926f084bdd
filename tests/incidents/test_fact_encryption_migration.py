"""Migrations incidents 0012 and support 0006, and the commands that convert the rows.

A database made before this change holds the incident facts (types, impacts, affected people,
risk flags, advice and police details), the escalations' rule codes and the support actions'
service types in plain columns. After migrating forward the rows still read as before, and
`encrypt_incident_facts` plus `encrypt_support_facts` encrypt every one of them, set the keyed
tokens the queue filters on and build the fact counts. A second run changes nothing.
"""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from incidents.constants import FactKind, Impact, IncidentType, RiskFlag
from incidents.models import Escalation, FactCount, Incident
from incidents.selectors import incident_queue_for
from portal.crypto import decrypt_text
from support.constants import ServiceType
from support.models import SupportAction, SupportCase
from tests.factories import IncidentFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BEFORE = [
    ("incidents", "0011_incident_unsafe_or_call_and_contact"),
    ("support", "0005_rule_desk_unreachable"),
]
# The fact columns as they were before 0012, written in plain text: (column, SQL value).
PLAIN_FACTS = {
    "types": '["threat", "doxing"]',
    "impacts": '["mental_health"]',
    "affected_people": '["children"]',
    "risk_flags": '["weapon"]',
    "advice_given": "[]",
}
# The police facts as they were until 0019 (which maps them into the aangifte track), written
# in plain text on 0018's schema (where they still are columns).
OLD_POLICE_FACTS = {
    "police_status": "reported",
    "police_used_work_address": "true",
    "police_vpt_requested": "false",
}
BEFORE_TRACK = [("incidents", "0024_monitor_figures_seed")]
FACT_COLUMNS = [*PLAIN_FACTS, "aangifte"]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Whatever a test does, the next test finds the database fully migrated again: a test
    that fails while on 0011's schema would otherwise break every test after it."""
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _raw(table: str, columns: list[str], pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()


def _counts() -> Counter:
    return Counter(
        {(row.kind, row.value): row.count for row in FactCount.objects.all() if row.count}
    )


def test_rows_in_the_old_shape_are_converted_once_and_read_as_before(capsys):
    """Plain rows from before 0012/0006 read the same after migrating; the commands encrypt
    them, set the tokens and count them; running them again changes nothing."""
    registrar = UserFactory(registrar=True)
    support = UserFactory(support=True)
    incident = IncidentFactory(officeholder=UserFactory(organisation__desk=registrar.desk))
    escalation = Escalation.objects.create(
        incident=incident, rules=["critical"], created_at=timezone.now()
    )
    case = SupportCase.objects.create(
        escalation=escalation,
        incident=incident,
        created_at=timezone.now(),
        acknowledge_due_at=timezone.now(),
    )
    action = SupportAction.objects.create(
        case=case,
        service_type=ServiceType.LEGAL_HELP,
        owner=support,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    # The rows as the old code stored them: plain text (cast back to the old column types
    # when migrating back).
    with connection.cursor() as cursor:
        assignments = ", ".join(f"{column} = %s" for column in PLAIN_FACTS)
        cursor.execute(
            f"UPDATE incidents_incident SET {assignments} WHERE id = %s",  # noqa: S608
            [*PLAIN_FACTS.values(), incident.pk],
        )
        cursor.execute(
            "UPDATE incidents_escalation SET rules = %s WHERE id = %s",
            ['["critical"]', escalation.pk],
        )
        cursor.execute(
            "UPDATE support_supportaction SET service_type = %s WHERE id = %s",
            [ServiceType.LEGAL_HELP.value, action.pk],
        )
    _migrate(BEFORE_TRACK)
    with connection.cursor() as cursor:
        columns = ", ".join(f"{column} = %s" for column in OLD_POLICE_FACTS)
        cursor.execute(
            f"UPDATE incidents_incident SET {columns} WHERE id = %s",  # noqa: S608
            [*OLD_POLICE_FACTS.values(), incident.pk],
        )
    _migrate(BEFORE)
    assert "incidents_factcount" not in connection.introspection.table_names()
    assert _raw("incidents_incident", ["police_status"], incident.pk) == ("reported",)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    # Before the conversion: the plain values read as before, nothing is counted yet.
    before = Incident.objects.get(pk=incident.pk)
    assert before.types == [IncidentType.THREAT, IncidentType.DOXING]
    assert before.impacts == [Impact.MENTAL_HEALTH]
    assert before.risk_flags == [RiskFlag.WEAPON]
    # 0019 mapped the plain police facts into the (encrypted) aangifte track.
    steps = ["wants_to_report", "police_contacted", "filed", "domicilie"]
    assert before.aangifte_track.steps() == steps
    assert not before.facts_counted
    assert Escalation.objects.get(pk=escalation.pk).rules == ["critical"]
    assert SupportAction.objects.get(pk=action.pk).service_type == ServiceType.LEGAL_HELP
    assert not FactCount.objects.exists()

    call_command("encrypt_incident_facts", batch_size=1)
    call_command("encrypt_support_facts")
    assert "1 incidents converted" in capsys.readouterr().out

    # Every fact column is ciphertext now; the queue finds the incident by its tokens.
    raw = _raw("incidents_incident", FACT_COLUMNS, incident.pk)
    assert all(value.startswith("gAAAAA") for value in raw), raw
    assert _raw("incidents_escalation", ["rules"], escalation.pk)[0].startswith("gAAAAA")
    assert _raw("support_supportaction", ["service_type"], action.pk)[0].startswith("gAAAAA")
    after = Incident.objects.get(pk=incident.pk)
    assert after.facts_counted
    assert [after.types, after.aangifte] == [before.types, before.aangifte]
    for type_, found in ((IncidentType.DOXING, [incident]), (IncidentType.PHYSICAL_VIOLENCE, [])):
        queue = incident_queue_for(user=registrar, filters={"status": "all", "type": type_})
        assert list(queue) == found
    queue = incident_queue_for(user=registrar, filters={"status": "all", "risk_flag": "weapon"})
    assert list(queue) == [incident]
    counts = _counts()
    assert counts == Counter(
        {
            (FactKind.INCIDENT, ""): 1,
            # The statistics snapshot, filled by incidents 0020 from the person and organisation.
            (FactKind.FUNCTION, "raadslid"): 1,
            (FactKind.ORGANISATION_TYPE, "gemeente"): 1,
            (FactKind.MONITOR_GROUP, "threat"): 1,
            (FactKind.TYPE, IncidentType.THREAT): 1,
            (FactKind.TYPE, IncidentType.DOXING): 1,
            (FactKind.IMPACT, Impact.MENTAL_HEALTH): 1,
            (FactKind.AFFECTED_PERSON, "children"): 1,
            (FactKind.RISK_FLAG, RiskFlag.WEAPON): 1,
            **{(FactKind.AANGIFTE, step): 1 for step in steps},
            (FactKind.RULE_CODE, "critical"): 1,
            (FactKind.ACTION_TYPE, ServiceType.LEGAL_HELP): 1,
        }
    )

    # A second run finds nothing: no row rewritten, no count moved.
    call_command("encrypt_incident_facts")
    call_command("encrypt_support_facts")
    out = capsys.readouterr().out
    assert "0 incidents converted" in out and "0 support actions converted" in out
    assert _raw("incidents_incident", FACT_COLUMNS, incident.pk) == raw
    assert _counts() == counts


def test_0025_moves_counted_police_statuses_to_aangifte_counts_and_back():
    """An incident counted before 0019 (with its police status in the rollup) is counted by
    its track's steps afterwards, in the same rows' key; a withdrawn one stays uncounted;
    migrating back restores the police status and its count."""
    counted = IncidentFactory()
    withdrawn = IncidentFactory(withdrawn=True)
    for incident in (counted, withdrawn):
        incident.facts_counted = True
        incident.save(update_fields=["facts_counted"])
    month = fact_counts_month(counted)
    _migrate(BEFORE_TRACK)
    with connection.cursor() as cursor:
        for incident in (counted, withdrawn):
            cursor.execute(
                "UPDATE incidents_incident SET police_status = %s, police_report_number = %s "
                "WHERE id = %s",
                ["police_notified", "", incident.pk],
            )
        # The rollup as 0018's code kept it: the counted, standing incident's police status.
        cursor.execute(
            "INSERT INTO incidents_factcount (organisation_id, desk_id, month, kind, value, count) "
            "VALUES (%s, %s, %s, 'police_status', 'police_notified', 1)",
            [counted.organisation_id, counted.desk_id, month],
        )
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert Incident.objects.get(pk=counted.pk).aangifte_track.steps() == [
        "wants_to_report",
        "police_contacted",
    ]
    assert Incident.objects.get(pk=withdrawn.pk).aangifte_track.steps() == [
        "wants_to_report",
        "police_contacted",
    ]
    assert _counts() == Counter(
        {(FactKind.AANGIFTE, "wants_to_report"): 1, (FactKind.AANGIFTE, "police_contacted"): 1}
    )
    assert not FactCount.objects.filter(kind=FactKind.POLICE_STATUS).exists()
    row = FactCount.objects.get(kind=FactKind.AANGIFTE, value="police_contacted")
    assert (row.organisation_id, row.desk_id) == (counted.organisation_id, counted.desk_id)

    _migrate(BEFORE_TRACK)
    # Written back encrypted, as 0018's code would write them.
    for incident in (counted, withdrawn):
        (stored,) = _raw("incidents_incident", ["police_status"], incident.pk)
        assert decrypt_text(stored) == "police_notified"
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, value, count FROM incidents_factcount WHERE count <> 0")
        assert cursor.fetchall() == [("police_status", "police_notified", 1)]


def fact_counts_month(incident):
    from incidents.fact_counts import month_of

    return month_of(Incident.objects.select_related("organisation").get(pk=incident.pk))
