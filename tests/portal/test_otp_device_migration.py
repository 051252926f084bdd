"""Migration portal 0006: django-otp's plaintext devices become portal's encrypted and hashed ones.

A database made before this change holds django-otp's `otp_totp` and `otp_static` tables, with
the TOTP key and each backup code in plain text. The migration copies every device (the key
encrypted, each code as a keyed hash), drops the old tables and their migration records, and
gives existing API tokens an expiry. On a fresh database (no old tables, as every test database
is built) it does nothing but succeed.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_otp.oath import TOTP

from portal.models import ApiToken, BackupCodeDevice, TotpDevice
from tests.factories import UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BEFORE = ("portal", "0005_security_stamp_devices_token_expiry")
# RFC 6238's test key ("12345678901234567890"), hex-encoded as django-otp stores it.
OLD_KEY_HEX = "3132333435363738393031323334353637383930"
OLD_CODES = ["a1b2c3d4", "deadbeef"]

OLD_TABLES = [
    """CREATE TABLE otp_totp_totpdevice (
        id integer PRIMARY KEY, name varchar(64) NOT NULL, confirmed boolean NOT NULL,
        user_id bigint NOT NULL, key varchar(80) NOT NULL, step smallint NOT NULL,
        t0 bigint NOT NULL, digits smallint NOT NULL, tolerance smallint NOT NULL,
        drift smallint NOT NULL, last_t bigint NOT NULL,
        throttling_failure_timestamp timestamp with time zone NULL,
        throttling_failure_count integer NOT NULL,
        created_at timestamp with time zone NULL, last_used_at timestamp with time zone NULL)""",
    """CREATE TABLE otp_static_staticdevice (
        id integer PRIMARY KEY, name varchar(64) NOT NULL, confirmed boolean NOT NULL,
        user_id bigint NOT NULL, throttling_failure_timestamp timestamp with time zone NULL,
        throttling_failure_count integer NOT NULL,
        created_at timestamp with time zone NULL, last_used_at timestamp with time zone NULL)""",
    """CREATE TABLE otp_static_statictoken (
        id integer PRIMARY KEY, device_id integer NOT NULL, token varchar(16) NOT NULL)""",
]


def _migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Whatever a test does, the next test finds the database fully migrated again: a test
    that fails while on 0005's schema would otherwise break every test after it."""
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


def test_existing_devices_are_moved_encrypted_and_hashed_and_the_old_tables_go():
    """With the old tables filled (as django-otp 1.7 left them), migrating forward gives the
    same working devices, no plaintext secret anywhere, and tokens with an expiry."""
    # Made with today's models, before going back: later migrations add columns the
    # factories fill (the desk's reachability fields), which 0005's tables do not have yet.
    user = UserFactory(registrar=True)
    _migrate([BEFORE])
    created = timezone.now() - timedelta(days=100)
    made = timezone.now() - timedelta(days=3)
    with connection.cursor() as cursor:
        for statement in OLD_TABLES:
            cursor.execute(statement)
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES "
            "(7, 'Authenticator-app', %s, %s, %s, 30, 0, 6, 1, 0, -1, NULL, 0, %s, NULL)",
            [True, user.pk, OLD_KEY_HEX, created],
        )
        cursor.execute(
            "INSERT INTO otp_static_staticdevice VALUES (3, 'Reservecodes', %s, %s, NULL, 0, "
            "%s, NULL)",
            [True, user.pk, created],
        )
        for number, code in enumerate(OLD_CODES, start=1):
            cursor.execute("INSERT INTO otp_static_statictoken VALUES (%s, 3, %s)", [number, code])
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('otp_totp', "
            "'0003_add_timestamps', %s), ('otp_static', '0003_add_timestamps', %s)",
            [created, created],
        )
        cursor.execute(
            "INSERT INTO portal_apitoken (user_id, name, prefix, key_hash, created_at) "
            "VALUES (%s, 'oud', 'abcdefgh', %s, %s)",
            [user.pk, "0" * 64, made],
        )

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert not {"otp_totp_totpdevice", "otp_static_staticdevice", "otp_static_statictoken"} & (
        _tables()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app LIKE 'otp_%%'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT key FROM portal_totpdevice")
        (raw_key,) = cursor.fetchone()
        cursor.execute("SELECT code_hash FROM portal_backupcode ORDER BY id")
        raw_codes = [row[0] for row in cursor.fetchall()]
    assert OLD_KEY_HEX not in raw_key and raw_key.startswith("gAAAA")
    assert len(raw_codes) == 2 and not set(OLD_CODES) & set(raw_codes)

    device = TotpDevice.objects.get(user=user)
    assert device.key == OLD_KEY_HEX and device.confirmed
    assert device.created_at == created
    totp = TOTP(device.bin_key)
    assert device.verify_token(f"{totp.token():06d}")
    backup = BackupCodeDevice.objects.get(user=user)
    assert backup.verify_token("deadbeef")
    assert not backup.verify_token("deadbeef"), "a backup code works once"
    assert backup.codes.count() == 1

    token = ApiToken.objects.get(user=user)
    assert token.expires_at == made + timedelta(days=30)


def test_on_a_database_without_the_old_tables_the_migration_does_nothing():
    """A fresh installation never had django-otp's tables: migrating back and forth works."""
    user = UserFactory()
    _migrate([BEFORE])
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert not TotpDevice.objects.filter(user=user).exists()
    assert "portal_totpdevice" in _tables()
