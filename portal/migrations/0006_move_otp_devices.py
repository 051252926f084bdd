"""Move django-otp's plaintext devices into portal's own: TOTP keys encrypted, backup codes hashed.

Until now the authenticator apps and backup codes lived in django-otp's `otp_totp` and
`otp_static` tables, with the TOTP key and every backup code in plain text. Those plugins are no
longer installed, so this migration reads their tables with plain SQL, and only when they exist
(a fresh database never had them). Each row is written into `portal.TotpDevice` (the key through
the encrypted field) and `portal.BackupCode` (a keyed hash of the code); then the old tables are
dropped, with django-otp's migration records for them, so that no plaintext secret is left.

Existing personal API tokens get the strictest lifetime (30 days after they were made).
Sessions that had passed the code step with an old device must enter a code once more.
"""

from datetime import timedelta

from django.db import migrations

from portal.crypto import backup_code_hash

OLD_TOTP_TABLE = "otp_totp_totpdevice"
OLD_STATIC_DEVICE_TABLE = "otp_static_staticdevice"
OLD_STATIC_TOKEN_TABLE = "otp_static_statictoken"
TOTP_COLUMNS = ["user_id", "name", "confirmed", "key", "step", "t0", "digits", "tolerance",
                "drift", "last_t", "created_at", "last_used_at"]  # fmt: skip
STATIC_COLUMNS = ["id", "user_id", "name", "confirmed", "created_at", "last_used_at"]
EXISTING_TOKEN_LIFETIME = timedelta(days=30)


def _rows(connection, table: str, wanted: list[str]) -> list[dict]:
    """All rows of an old table, as dicts; a column the table lacks (older plugin) is None."""
    with connection.cursor() as cursor:
        present = {c.name for c in connection.introspection.get_table_description(cursor, table)}
        columns = [column for column in wanted if column in present]
        quote = connection.ops.quote_name
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}"  # noqa: S608
        )
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return [{column: row.get(column) for column in wanted} for row in rows]


def _timestamps_keep(model, pk, row) -> None:
    # created_at is auto_now_add: set the original one afterwards.
    model.objects.filter(pk=pk).update(created_at=row["created_at"], last_used_at=row["last_used_at"])


def devices_move(apps, schema_editor):
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    TotpDevice = apps.get_model("portal", "TotpDevice")
    BackupCodeDevice = apps.get_model("portal", "BackupCodeDevice")
    BackupCode = apps.get_model("portal", "BackupCode")

    if OLD_TOTP_TABLE in tables:
        for row in _rows(connection, OLD_TOTP_TABLE, TOTP_COLUMNS):
            device = TotpDevice.objects.create(
                user_id=row["user_id"],
                name=row["name"],
                confirmed=bool(row["confirmed"]),
                key=row["key"],
                step=row["step"],
                t0=row["t0"],
                digits=row["digits"],
                tolerance=row["tolerance"],
                drift=row["drift"],
                last_t=row["last_t"],
            )
            _timestamps_keep(TotpDevice, device.pk, row)

    if OLD_STATIC_DEVICE_TABLE in tables:
        tokens: dict[int, list[str]] = {}
        if OLD_STATIC_TOKEN_TABLE in tables:
            for row in _rows(connection, OLD_STATIC_TOKEN_TABLE, ["device_id", "token"]):
                tokens.setdefault(row["device_id"], []).append(row["token"])
        for row in _rows(connection, OLD_STATIC_DEVICE_TABLE, STATIC_COLUMNS):
            device = BackupCodeDevice.objects.create(
                user_id=row["user_id"], name=row["name"], confirmed=bool(row["confirmed"])
            )
            _timestamps_keep(BackupCodeDevice, device.pk, row)
            BackupCode.objects.bulk_create(
                BackupCode(device=device, code_hash=backup_code_hash(token))
                for token in tokens.get(row["id"], [])
            )

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Tokens first: they point at the static devices.
        for table in (OLD_STATIC_TOKEN_TABLE, OLD_STATIC_DEVICE_TABLE, OLD_TOTP_TABLE):
            if table in tables:
                cursor.execute(f"DROP TABLE {quote(table)}")
        if "django_migrations" in tables:
            cursor.execute(
                "DELETE FROM django_migrations WHERE app IN (%s, %s)", ["otp_totp", "otp_static"]
            )


def token_expiry_set(apps, schema_editor):
    ApiToken = apps.get_model("portal", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        ApiToken.objects.filter(pk=token.pk).update(
            expires_at=token.created_at + EXISTING_TOKEN_LIFETIME
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_security_stamp_devices_token_expiry"),
    ]

    operations = [
        # Backwards there is nothing to restore: the plaintext must not come back.
        migrations.RunPython(devices_move, migrations.RunPython.noop),
        migrations.RunPython(token_expiry_set, migrations.RunPython.noop),
    ]
