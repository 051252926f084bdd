"""Data migrations are safe to run twice (README, "Upgrades"): running a data migration's
function again on data it already changed leaves that data as it is.

The encryption helpers of incidents 0004 and support 0003 are run twice on real rows; the
others filter on what they still have to do (incidents 0008, portal 0006 and 0010), use
get_or_create (support 0002) or ignore_conflicts on a unique constraint (support 0004), and
are run twice through the migration functions where that needs no old tables.
"""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from portal.crypto import (
    decrypt_text,
    identifier_hash,
    plaintext_columns_decrypt,
    plaintext_columns_encrypt,
    plaintext_columns_hash,
)
from support.models import EscalationRule
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _raw(table: str, column: str, pk: int) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(table)} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()[0]


def test_encrypting_columns_twice_encrypts_once():
    incident = IncidentFactory(summary="Bedreigd bij de auto.")
    stored = _raw("incidents_incident", "summary", incident.pk)

    plaintext_columns_encrypt(connection, "incidents_incident", ["summary"])
    plaintext_columns_encrypt(connection, "incidents_incident", ["summary"])

    assert _raw("incidents_incident", "summary", incident.pk) == stored
    assert decrypt_text(stored) == "Bedreigd bij de auto."


def test_decrypting_twice_decrypts_once():
    incident = IncidentFactory(summary="Bedreigd bij de auto.")

    plaintext_columns_decrypt(connection, "incidents_incident", ["summary"])
    plaintext_columns_decrypt(connection, "incidents_incident", ["summary"])

    assert _raw("incidents_incident", "summary", incident.pk) == "Bedreigd bij de auto."


def test_hashing_identifiers_twice_hashes_once():
    from tests.factories import PerpetratorIdentifierFactory

    identifier = PerpetratorIdentifierFactory()
    table = identifier._meta.db_table
    hashed = _raw(table, "normalised", identifier.pk)

    plaintext_columns_hash(connection, table, ["normalised"])
    plaintext_columns_hash(connection, table, ["normalised"])

    assert _raw(table, "normalised", identifier.pk) == hashed
    assert len(hashed) == 64 and hashed != identifier_hash(hashed)


def _snapshot():
    from incidents.models import Evidence
    from portal.models import Notification

    return (
        sorted(EscalationRule.objects.values_list("pk", flat=True)),
        sorted(Notification.objects.values_list("pk", "message_id")),
        sorted(Evidence.objects.values_list("pk", "original_sha256")),
    )


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("support.migrations.0002_default_rules", "create_default_rules"),
        ("portal.migrations.0010_notification_email_claim", "fill_message_ids"),
        ("incidents.migrations.0008_evidence_processing", "unchanged_files_keep_their_fingerprint"),
    ],
)
def test_the_other_data_migrations_change_nothing_the_second_time(module, function, registrar):
    """(support 0004 needs support's EventProcessing model, which it removed; it writes with
    ignore_conflicts on the outbox's unique constraint, so a second run adds nothing.)"""
    from portal.services import notifications_create

    notifications_create(
        recipients=[registrar], event_key="t:1", kind="incident_submitted", reference="R", link="/"
    )
    run = getattr(importlib.import_module(module), function)

    run(apps, _SchemaEditor())
    once = _snapshot()
    run(apps, _SchemaEditor())

    assert _snapshot() == once


class _SchemaEditor:
    connection = connection
