"""Backups and restore: a consistent PostgreSQL dump plus the encrypted evidence store.

A backup is one folder `mwb-<UTC time>` in the backup directory (BACKUP_DIR) with:

- `database.dump`: `pg_dump -Fc` of the database (one consistent snapshot, whatever is
  running meanwhile);
- `evidence.tar`: every evidence file as it is stored, still encrypted (the storage's raw
  bytes; the same for the filesystem and the S3 store);
- `manifest.json`: when, the SHA-256 of both files, the applied migrations, and the
  fingerprints of the encryption keys it needs (never a key itself).

The database is dumped before the files are copied: a file is stored before its row
commits and deleted after its row is gone, so every file a dumped row names is still there
when the copy runs (at most a few extra files, which nothing refers to).

No key goes into a backup. A backup is only readable with the FIELD_ENCRYPTION_KEYS of its
time: keep retired keys (decrypt-only, behind the current one) for as long as a backup made
with them exists (README, "Backups and restore").

Restoring (`backup_restore`) brings the dump back into an empty database (or, with
`replace`, one whose tables it first drops), migrates it to this release, puts the files
back, and then, before returning (the portal stays closed until then: README's runbook),
applies every recorded deletion again (portal.deletions), ends every session, and runs the
retention jobs, so nothing deleted or anonymised since the backup returns.
"""

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from portal.deletions import (
    deletion_log_export,
    deletions_from_database,
    deletions_from_log,
    deletions_reapply,
)

logger = logging.getLogger(__name__)

BACKUP_PREFIX = "mwb-"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
DATABASE_FILE = "database.dump"
EVIDENCE_FILE = "evidence.tar"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1

# What restore runs before it returns: beat's retention jobs, by task name (so that portal
# imports no other app). Each is idempotent; the anonymisation returns how many it did and
# runs until none is left.
RETENTION_TASKS = (
    "incidents.tasks.anonymise_expired_incidents",
    "incidents.tasks.remove_expired_shared_uploads",
    "portal.tasks.clear_expired_sessions",
    "portal.tasks.purge_login_attempts",
    "portal.tasks.purge_access_log",
)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass
class BackupResult:
    path: Path
    database_bytes: int
    evidence_files: int
    removed: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    evidence_files: int
    reapplied: dict[str, int]
    retention: dict[str, int]


def key_fingerprint(key: str) -> str:
    """A short, one-way name of an encryption key, to tell which key a backup needs."""
    return hashlib.sha256(b"mwb-key-fingerprint:" + key.encode()).hexdigest()[:16]


def _evidence_storage():
    from incidents.models import private_storage  # the evidence storage alias, built lazily

    return private_storage


def _libpq_environment() -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the portal's own database connection."""
    params = connection.settings_dict
    if params["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError("Backups need PostgreSQL (DATABASE_URL).")
    environment = dict(os.environ)
    for variable, value in (
        ("PGHOST", params.get("HOST")),
        ("PGPORT", params.get("PORT")),
        ("PGUSER", params.get("USER")),
        ("PGPASSWORD", params.get("PASSWORD")),
        ("PGDATABASE", params.get("NAME")),
        ("PGSSLMODE", params.get("OPTIONS", {}).get("sslmode")),
        ("PGCONNECT_TIMEOUT", params.get("OPTIONS", {}).get("connect_timeout")),
    ):
        if value:
            environment[variable] = str(value)
    return environment


def _run(command: list[str]) -> None:
    executable = shutil.which(command[0], path=_tool_path())
    if executable is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools).")
    result = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        [executable, *command[1:]],
        env=_libpq_environment(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _tool_path() -> str:
    # PG_BIN_DIR: the client tools of the server's major version, if not first on the PATH.
    extra = settings.PG_BIN_DIR
    return os.pathsep.join(filter(None, [extra, os.environ.get("PATH", os.defpath)]))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as opened:
        while block := opened.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _evidence_archive(path: Path) -> int:
    """Copy every stored evidence file, still encrypted, into a tar file; returns how many."""
    storage = _evidence_storage()
    count = 0
    with tarfile.open(path, "w") as archive:
        for name in sorted(storage.raw_names()):
            try:
                size = storage.raw_size(name)
                stored = storage.raw_open(name)
            except FileNotFoundError:
                continue  # deleted since it was listed (after the dump): nothing refers to it
            with stored:
                member = tarfile.TarInfo(name)
                member.size = size
                member.mtime = int(timezone.now().timestamp())
                member.mode = 0o600
                archive.addfile(member, stored)
            count += 1
    return count


def _applied_migrations() -> list[str]:
    applied = MigrationRecorder(connection).applied_migrations()
    return sorted(f"{app}.{name}" for app, name in applied)


def backup_create(*, target: Path, retention_days: int | None = None) -> BackupResult:
    """Make one complete backup in `target`, then delete backups there older than
    `retention_days` (None or 0: keep all).

    Guarantees: a folder named `mwb-<time>` is complete (it is written under a hidden name and
    renamed at the end; a failed backup leaves nothing behind); it holds no plaintext of
    incidents or evidence and no key. Before the dump every deletion record is written to
    the deletion log (portal.deletions), which is kept apart from the backups.
    """
    now = datetime.now(UTC)
    stamp = now.strftime(TIMESTAMP_FORMAT)
    target.mkdir(parents=True, exist_ok=True)
    final = target / f"{BACKUP_PREFIX}{stamp}"
    if final.exists():
        raise BackupError(f"{final} exists already.")
    partial = target / f".{BACKUP_PREFIX}{stamp}.partial"
    partial.mkdir(mode=0o700)
    try:
        deletion_log_export()
        database = partial / DATABASE_FILE
        _run(["pg_dump", "--format=custom", "--no-password", f"--file={database}"])
        evidence = partial / EVIDENCE_FILE
        files = _evidence_archive(evidence)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": now.isoformat(),
            "database": {"file": DATABASE_FILE, "sha256": _sha256(database)},
            "evidence": {"file": EVIDENCE_FILE, "sha256": _sha256(evidence), "files": files},
            "migrations": _applied_migrations(),
            "key_fingerprints": [key_fingerprint(k) for k in settings.FIELD_ENCRYPTION_KEYS],
        }
        (partial / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    removed = backups_prune(target=target, retention_days=retention_days, now=now)
    return BackupResult(final, (final / DATABASE_FILE).stat().st_size, files, removed)


def _backup_time(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name.removeprefix(BACKUP_PREFIX), TIMESTAMP_FORMAT).replace(
            tzinfo=UTC
        )
    except ValueError:
        return None


def backups_prune(*, target: Path, retention_days: int | None, now: datetime) -> list[Path]:
    """Delete the backups in `target` made more than `retention_days` before `now`; returns
    them. Only complete backup folders (`mwb-<time>`) are touched; the newest is always kept."""
    if not retention_days:
        return []
    backups = sorted(
        (made, path)
        for path in target.glob(f"{BACKUP_PREFIX}*")
        if path.is_dir() and (made := _backup_time(path)) is not None
    )
    cutoff = now - timedelta(days=retention_days)
    removed = []
    for made, path in backups[:-1]:
        if made < cutoff:
            shutil.rmtree(path)
            removed.append(path)
    return removed


def backup_manifest(source: Path) -> dict:
    """The manifest of the backup in `source`, after checking both files against it."""
    try:
        manifest = json.loads((source / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} is not a backup (no {MANIFEST_FILE}).") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    for part in ("database", "evidence"):
        path = source / manifest[part]["file"]
        if not path.is_file() or _sha256(path) != manifest[part]["sha256"]:
            raise BackupError(f"{path} is missing or damaged (SHA-256 differs).")
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = set(manifest["migrations"]) - {f"{app}.{name}" for app, name in known}
    if unknown:
        raise BackupError(
            "The backup is from a newer release (unknown migrations: "
            f"{', '.join(sorted(unknown)[:5])}). Restore it with that release."
        )
    # The key that encrypted at the time of the backup must be configured (current or retired).
    current = {key_fingerprint(k) for k in settings.FIELD_ENCRYPTION_KEYS}
    if manifest["key_fingerprints"][0] not in current:
        raise BackupError(
            "FIELD_ENCRYPTION_KEYS lacks the key this backup was made with (fingerprint "
            f"{manifest['key_fingerprints'][0]}): add it behind the current key."
        )
    return manifest


def _database_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def _database_empty(*, replace: bool) -> None:
    tables = _database_tables()
    if not tables:
        return
    if not replace:
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} is not empty "
            f"({len(tables)} tables). Restore into a new database, or pass --replace."
        )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join(quote(t) for t in tables)} CASCADE")


def _evidence_restore(source: Path, manifest: dict) -> int:
    storage = _evidence_storage()
    count = 0
    with tarfile.open(source / manifest["evidence"]["file"], "r") as archive:
        for member in archive:
            if not member.isfile() or member.name.startswith(("/", "..")) or "/../" in member.name:
                continue
            extracted = archive.extractfile(member)
            with extracted:
                storage.raw_save(member.name, extracted)
            count += 1
    return count


def _outbox_deliver_since(started: datetime) -> int:
    """Run, here and now, the outbox work that the re-applied deletions and the retention
    jobs recorded (the support team's texts of a re-anonymised incident go with it)."""
    from portal.models import OutboxEntry, OutboxStatus
    from portal.outbox import outbox_deliver

    delivered = 0
    pending = OutboxEntry.objects.filter(status=OutboxStatus.PENDING, created_at__gte=started)
    for entry_id in pending.order_by("pk").values_list("pk", flat=True):
        delivered += int(outbox_deliver(entry_id=entry_id))
    return delivered


def _retention_run() -> dict[str, int]:
    """Run each retention job here, synchronously; the anonymisation until none is due."""
    from portal.celery import app
    from portal.services import kept_forms_purge

    app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery is lazy)
    done = {}
    for name in RETENTION_TASKS:
        total = 0
        while count := app.tasks[name]():
            total += count
            if name != "incidents.tasks.anonymise_expired_incidents":
                break
        done[name] = total
    done["kept_forms"] = kept_forms_purge()
    return done


def backup_restore(*, source: Path, replace: bool = False) -> RestoreResult:
    """Bring the backup in `source` back into this database and evidence store.

    Guarantees: refuses a damaged backup, one from a newer release, one whose key is not
    configured, and a database that is not empty (unless `replace`); the dump is restored in
    one transaction (all or nothing) and migrated to this release. Before it returns, every
    deletion recorded since (the deletion log, and the records of the database it replaced)
    is applied again, every session is ended (everyone logs in again) and the retention jobs
    have run. Keep the portal closed until it returns (README, "Restore runbook").
    """
    manifest = backup_manifest(source)
    started = timezone.now()
    # Taken before anything is replaced: the current database may hold the newest records.
    deletions = deletions_from_log() + deletions_from_database()
    _database_empty(replace=replace)
    connections.close_all()
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(source / manifest["database"]["file"]),
        ]
    )
    connections.close_all()
    call_command("migrate", interactive=False, verbosity=0)
    files = _evidence_restore(source, manifest)
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()
    reapplied = deletions_reapply(deletions)
    retention = _retention_run()
    _outbox_deliver_since(started)
    return RestoreResult(files, reapplied, retention)
