"""Backup and restore (portal/backups.py): a real pg_dump, a restore into a new database with
pg_restore, and the deletions made in between applied again."""

import json
import os
import subprocess
import sys
import tarfile
import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from incidents import services
from incidents.models import Evidence, Incident, months_after
from portal.backups import MANIFEST_FILE, backups_prune
from portal.models import DeletionKind, DeletionRecord
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.services

# Run in a fresh Python against the restored database: restore, then read every incident and
# every evidence file (decrypting them) and print what was found.
RESTORE_AND_READ = """
import hashlib, json, sys
import django
django.setup()
from django.core.management import call_command
call_command("restore", sys.argv[1])
from incidents.models import Incident
from portal.models import DeletionRecord
found = {}
for incident in Incident.objects.order_by("pk"):
    files = []
    for evidence in incident.evidence.all():
        with evidence.file.open("rb") as opened:
            files.append(opened.read().decode())
    found[incident.reference] = {
        "summary": incident.summary,
        "description": incident.description,
        "anonymised": incident.anonymised_at is not None,
        "files": files,
    }
records = sorted(DeletionRecord.objects.values_list("kind", "reference"))
print(json.dumps({"incidents": found, "records": records}))
"""


def _admin():
    params = connection.settings_dict
    admin = psycopg2.connect(
        host=params["HOST"], port=params["PORT"], user="postgres", dbname="postgres"
    )
    admin.autocommit = True
    return admin


@pytest.fixture
def new_database():
    """An empty database on the throwaway PostgreSQL, owned by the test role."""
    name = f"restored_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" OWNER "{connection.settings_dict["USER"]}"')
    yield name
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def _with_evidence(incident: Incident, content: str) -> Incident:
    evidence = Evidence(
        incident=incident,
        original_name="bericht.txt",
        kind="text",
        content_type="text/plain",
        size=len(content),
        sha256="0" * 64,
        uploaded_at=timezone.now(),
    )
    evidence.file.save("evidence", ContentFile(content.encode()), save=True)
    return incident


@pytest.mark.django_db(transaction=True)
def test_a_restore_into_a_new_database_reads_everything_and_brings_no_deletion_back(
    tmp_path, new_database, deletion_log_in_tmp
):
    """Back up four incidents; then the retention job anonymises one and the officeholder
    deletes a withdrawn one; restore into a new database and an empty evidence store. Every
    remaining incident and file decrypts, the anonymised one is anonymised again and the
    deleted one is gone, though the backup had both (the deletion log is outside it). The
    retention period is set far ahead for the restore, so only the deletion log can do it."""
    marker = uuid.uuid4().hex
    officeholder = UserFactory()
    kept = _with_evidence(
        IncidentFactory(officeholder=officeholder, summary=f"Blijft leesbaar {marker}"),
        f"bewijs {marker}",
    )
    closed_recently = IncidentFactory(
        officeholder=officeholder, closed=True, summary="Net afgesloten"
    )
    closed_at = months_after(timezone.now(), -25) - timedelta(days=1)
    expired = _with_evidence(
        IncidentFactory(
            officeholder=officeholder,
            closed=True,
            closed_at=closed_at,
            summary=f"Verloopt {marker}",
            description="Lang geleden",
        ),
        "oud bewijs",
    )
    withdrawn = IncidentFactory(
        officeholder=officeholder, withdrawn=True, summary=f"Ingetrokken {marker}"
    )

    call_command("backup", target=tmp_path / "backups", retention_days=0, verbosity=0)
    [backup] = (tmp_path / "backups").glob("mwb-*")
    with tarfile.open(backup / "evidence.tar") as archive:
        stored = b"".join(archive.extractfile(m).read() for m in archive if m.isfile())
    assert len([m for m in tarfile.open(backup / "evidence.tar") if m.isfile()]) == 2
    assert marker.encode() not in stored  # the copy of the evidence store is ciphertext
    assert marker.encode() not in (backup / "database.dump").read_bytes()

    assert services.incidents_anonymise_expired() == 1
    services.incident_delete_withdrawn(incident=withdrawn, actor=officeholder)
    assert sorted(DeletionRecord.objects.values_list("kind", flat=True)) == [
        DeletionKind.INCIDENT_ANONYMISED,
        DeletionKind.INCIDENT_DELETED,
    ]

    params = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": (
            f"postgres://{params['USER']}:{params['PASSWORD']}@{params['HOST']}:{params['PORT']}"
            f"/{new_database}"
        ),
        "VAR_DIR": str(tmp_path / "restored-var"),
        "PRIVATE_STORAGE_ROOT": str(tmp_path / "restored-private"),
        "DELETION_LOG_DIR": str(deletion_log_in_tmp),
        "RETENTION_MONTHS": "600",
        "CELERY_BROKER_URL": "memory://",
    }
    result = subprocess.run(
        [sys.executable, "-c", RESTORE_AND_READ, str(backup)],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    restored = json.loads(result.stdout.strip().splitlines()[-1])

    incidents = restored["incidents"]
    assert set(incidents) == {kept.reference, closed_recently.reference, expired.reference}
    assert incidents[kept.reference] == {
        "summary": f"Blijft leesbaar {marker}",
        "description": "",
        "anonymised": False,
        "files": [f"bewijs {marker}"],
    }
    assert incidents[closed_recently.reference]["summary"] == "Net afgesloten"
    assert incidents[expired.reference] == {
        "summary": "",
        "description": "",
        "anonymised": True,
        "files": [],
    }
    assert restored["records"] == sorted(
        [
            [DeletionKind.INCIDENT_ANONYMISED, expired.reference],
            [DeletionKind.INCIDENT_DELETED, withdrawn.reference],
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty_and_a_damaged_backup(tmp_path):
    """Without --replace a database with tables is never overwritten; a backup whose dump
    differs from its manifest is refused before anything is touched."""
    IncidentFactory()
    call_command("backup", target=tmp_path, retention_days=0, verbosity=0)
    [backup] = tmp_path.glob("mwb-*")
    manifest = json.loads((backup / MANIFEST_FILE).read_text())
    assert manifest["evidence"]["files"] == 0
    assert len(manifest["key_fingerprints"]) == len(settings.FIELD_ENCRYPTION_KEYS)
    assert all(key not in json.dumps(manifest) for key in settings.FIELD_ENCRYPTION_KEYS)

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(backup), verbosity=0)
    with open(backup / "database.dump", "ab") as dump:
        dump.write(b"x")
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(backup), "--replace", verbosity=0)
    assert Incident.objects.count() == 1


def test_old_backups_are_pruned_but_the_newest_always_stays(tmp_path):
    """Backups older than the retention go; younger ones, other folders and the newest stay,
    even when all are old."""
    now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    for name in ("mwb-20261001T030000Z", "mwb-20261120T030000Z", "mwb-20261202T030000Z"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes").mkdir()

    removed = backups_prune(target=tmp_path, retention_days=35, now=now)
    assert [path.name for path in removed] == ["mwb-20261001T030000Z"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mwb-20261120T030000Z",
        "mwb-20261202T030000Z",
        "notes",
    ]
    backups_prune(target=tmp_path, retention_days=1, now=now + timedelta(days=400))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mwb-20261202T030000Z", "notes"]
