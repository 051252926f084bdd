"""Settings for running on several hosts: the evidence store and PgBouncer.

Each test loads the settings in a fresh Python with exactly the environment an operator
would set, and prints what Django would use.
"""

import json
import os
import subprocess
import sys

from django.conf import settings

PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS'), "
    "'evidence': s.STORAGES['evidence']}))"
)


def _settings(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "true",
            "DATABASE_URL": "postgres://app:secret@127.0.0.1:6432/meldpunt",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def _loaded(**env) -> dict:
    result = _settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_server_side_cursors_are_switched_off_for_pgbouncer_on_request():
    """DISABLE_SERVER_SIDE_CURSORS=true reaches the database settings; the default keeps them."""
    assert _loaded(DISABLE_SERVER_SIDE_CURSORS="true")["db"] is True
    assert _loaded()["db"] is False


def test_the_evidence_store_is_the_encrypted_filesystem_by_default():
    """Without EVIDENCE_STORAGE the files go to PRIVATE_STORAGE_ROOT, encrypted."""
    assert _loaded()["evidence"] == {"BACKEND": "portal.crypto.EncryptedFileSystemStorage"}


def test_the_s3_evidence_store_takes_its_bucket_endpoint_and_keys_from_the_environment():
    """EVIDENCE_STORAGE=s3 configures the encrypted S3 backend from the EVIDENCE_S3_* variables."""
    evidence = _loaded(
        EVIDENCE_STORAGE="s3",
        EVIDENCE_S3_BUCKET="meldpunt-evidence",
        EVIDENCE_S3_ENDPOINT_URL="https://s3.example.nl",
        EVIDENCE_S3_REGION="nl-ams",
        EVIDENCE_S3_ACCESS_KEY_ID="key-id",
        EVIDENCE_S3_SECRET_ACCESS_KEY="key-secret",
        EVIDENCE_S3_PREFIX="productie",
    )["evidence"]
    assert evidence["BACKEND"] == "portal.object_storage.EncryptedS3Storage"
    assert evidence["OPTIONS"] == {
        "bucket_name": "meldpunt-evidence",
        "endpoint_url": "https://s3.example.nl",
        "region_name": "nl-ams",
        "access_key": "key-id",
        "secret_key": "key-secret",
        "location": "productie",
        "addressing_style": "path",
        "verify": None,
    }


def test_an_s3_store_without_a_bucket_or_an_unknown_store_is_refused():
    """A missing bucket or a misspelled EVIDENCE_STORAGE stops the start with a clear error."""
    no_bucket = _settings(EVIDENCE_STORAGE="s3")
    assert no_bucket.returncode != 0
    assert "EVIDENCE_S3_BUCKET" in no_bucket.stderr
    unknown = _settings(EVIDENCE_STORAGE="minio")
    assert unknown.returncode != 0
    assert "EVIDENCE_STORAGE must be 'filesystem' or 's3'" in unknown.stderr
